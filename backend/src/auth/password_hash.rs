//! Argon2id password hashing, off the async executor and bounded in concurrency.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of CPU. Hashes run on a pool of
//! `HASH_CONCURRENCY` threads of their own, so memory is bounded to `HASH_CONCURRENCY` × memory
//! cost however many logins arrive at once, and the pool threads are scheduled as batch work
//! (see `run_as_batch_work`): neither logins nor cheap requests can starve the other.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::phc::PasswordHash,
};
use tokio::sync::Semaphore;

use super::{AuthError, secrets::random_bytes};
use crate::domain::Password;

/// Argon2id cost parameters (`ARGON2_*`; OWASP's baseline by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// How long a client is asked to wait when the hash queue is full.
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Match { needs_rehash: bool },
    Mismatch,
}

pub struct Hasher {
    params: Params,
    pool: rayon::ThreadPool,
    /// Waiting requests queue here, in order, rather than in the pool.
    permits: Arc<Semaphore>,
    /// Requests waiting for a permit right now, and how many may wait before new ones are
    /// refused: an unbounded queue would turn a flood into minutes of latency and memory.
    waiting: Arc<AtomicUsize>,
    queue_limit: usize,
    /// Verified against when a username does not exist, so that an unknown user costs the
    /// same time as a wrong password and timing does not reveal which accounts exist.
    dummy_hash: Arc<str>,
    /// A running estimate (nanoseconds) of one hash at the configured cost. A verification
    /// against a hash made with older, cheaper costs is padded to it, so such an account does
    /// not answer measurably faster than an unknown name (which costs the dummy hash).
    current_cost_nanos: AtomicU64,
}

impl Hasher {
    pub fn new(
        settings: Argon2Settings,
        concurrency: usize,
        queue_limit: usize,
    ) -> Result<Self, AuthError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| AuthError::internal("Argon2 parameters", e))?;
        let random = random_bytes::<32>()?;
        let started = Instant::now();
        let dummy_hash = argon2(&params)
            .hash_password(&random)
            .map_err(|e| AuthError::internal("the dummy hash", e))?
            .to_string();
        let first_estimate = nanos(started.elapsed());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(concurrency)
            .thread_name(|i| format!("hasher-{i}"))
            .start_handler(|_| run_as_batch_work())
            .build()
            .map_err(|e| AuthError::internal("starting the hashing threads", e))?;
        Ok(Self {
            params,
            pool,
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::default(),
            queue_limit,
            dummy_hash: dummy_hash.into(),
            current_cost_nanos: AtomicU64::new(first_estimate),
        })
    }

    /// The running estimate of one hash at the configured cost.
    pub fn current_cost(&self) -> Duration {
        Duration::from_nanos(self.current_cost_nanos.load(Ordering::Relaxed))
    }

    /// Requests waiting for a hashing slot right now.
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// `queue_depth`, readable without the hasher (by the metrics listener).
    pub fn queue_depth_gauge(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let waiting = Arc::clone(&self.waiting);
        move || waiting.load(Ordering::Relaxed)
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let params = self.params.clone();
        let password = password.clone();
        let (hash, took) = self
            .run_on_pool(move || {
                argon2(&params)
                    .hash_password(password.expose().as_bytes())
                    .map(|hash| hash.to_string())
                    .map_err(|e| AuthError::internal("hashing a password", e))
            })
            .await?;
        metrics::histogram!("latchkey_password_hash_seconds").record(took.as_secs_f64());
        self.learn_cost(took);
        Ok(hash)
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no account,
    /// which always yields `Mismatch` after the same amount of work.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verdict, AuthError> {
        let is_real = stored.is_some();
        let phc: Arc<str> = stored.map_or_else(|| self.dummy_hash.clone(), Arc::from);
        let params = self.params.clone();
        let password = password.clone();
        let ((verdict, current_cost), took) = self
            .run_on_pool(move || {
                let parsed = PasswordHash::new(&phc)
                    .map_err(|e| AuthError::internal("reading a stored hash (PHC string)", e))?;
                let current_cost = uses_params(&parsed, &params);
                // The parameters come from the stored hash, not from `params`.
                let matches = argon2(&params)
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok();
                let verdict = match (is_real, matches) {
                    (true, true) => Verdict::Match {
                        needs_rehash: !current_cost,
                    },
                    _ => Verdict::Mismatch,
                };
                Ok((verdict, current_cost))
            })
            .await?;
        metrics::histogram!("latchkey_password_hash_seconds").record(took.as_secs_f64());
        if current_cost {
            self.learn_cost(took);
        } else {
            // Padded outside the pool: the wait holds no hashing slot.
            tokio::time::sleep(self.current_cost().saturating_sub(took)).await;
        }
        Ok(verdict)
    }

    /// Runs other CPU-heavy password work (judging a new password's strength) on the hashing
    /// threads, under the same bound: it never blocks the async executor, and a flood of it
    /// queues, or is refused with `Busy`, like hashes are.
    pub async fn off_executor<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (value, _) = self.run_on_pool(move || Ok(work())).await?;
        Ok(value)
    }

    /// Folds one measured hash at the configured cost into the running estimate (EWMA, 1/8).
    fn learn_cost(&self, took: Duration) {
        let sample = nanos(took);
        let _ = self
            .current_cost_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(old - old / 8 + sample / 8)
            });
    }

    /// Runs `work` on a hashing thread; returns its result and how long the work itself took.
    async fn run_on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<(T, Duration), AuthError> {
        let permit = {
            let _waiting =
                QueueSlot::take(&self.waiting, self.queue_limit).ok_or(AuthError::Busy {
                    retry_after: BUSY_RETRY_AFTER,
                })?;
            // One permit per pool thread, held until the job has run: jobs never pile up inside
            // the pool, and a request that gives up (client gone) before its turn costs no
            // hashing.
            Arc::clone(&self.permits)
                .acquire_owned()
                .await
                .map_err(|e| AuthError::internal("waiting for a hashing slot", e))?
        };
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let started = Instant::now();
            let outcome = work().map(|value| (value, started.elapsed()));
            // The request may have gone away meanwhile; nobody to tell then.
            let _ = done.send(outcome);
            drop(permit);
        });
        result
            .await
            .map_err(|e| AuthError::internal("a hashing thread", e))?
    }
}

/// One place in the hash queue, given back when dropped (also when the request goes away).
struct QueueSlot<'a>(&'a AtomicUsize);

impl<'a> QueueSlot<'a> {
    fn take(waiting: &'a AtomicUsize, limit: usize) -> Option<Self> {
        waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(waiting))
    }
}

impl Drop for QueueSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// SCHED_BATCH at the process's own nice level for the hashing threads: CPU-bound work that
/// takes its fair share of the cores but never preempts a request thread when a job arrives, and
/// that the scheduler does not favour at wake-up.
///
/// What we used before, and why not (measured in bench/PERFORMANCE.md, "Fairness"):
/// - SCHED_IDLE kept `/profile` fast during a login flood, but a hash only runs when no other
///   thread wants the CPU: while cheap requests saturate every core, logins fell to ~0 % of the
///   Argon2 capacity with seconds of latency.
/// - Nice 5 to 19 (or one thread at nice 0 and the rest idle) gave logins 5–10 % under a `/profile`
///   flood, and `/profile`'s p99 during a pure login flood was no better than at nice 0.
/// - Raising a thread again once its job has waited ("boosting") needs `CAP_SYS_NICE` or a raised
///   `RLIMIT_NICE`: an unprivileged thread may not leave SCHED_IDLE or lower its nice value, and the
///   production image runs as a non-root user.
///
/// With the cores saturated by requests, the hashes get about a third of the CPU (a quarter to a
/// third of the login capacity) and `/profile`'s p99 about doubles; with spare CPU they use it all. Under
/// cgroups (containers) only Latchkey's own threads share its quota this way. Failing to set it (a
/// seccomp profile that forbids it) leaves the threads as ordinary ones, which schedules almost
/// the same.
fn run_as_batch_work() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        // thread-priority maps 0..=99 onto nice 19..=-20; 48 is nice 0, the default. A process
        // started at a higher nice level keeps it: lowering nice needs a privilege, so only the
        // policy changes then.
        let nice_zero =
            ThreadPriority::Crossplatform(ThreadPriorityValue::try_from(48u8).unwrap_or_default());
        if let Err(e) = set_thread_priority_and_policy(thread_native_id(), nice_zero, batch) {
            tracing::debug!(error = ?e, "could not schedule the hashing thread as batch work");
        }
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// True when `hash` is Argon2id v19 with exactly the configured cost.
fn uses_params(hash: &PasswordHash, params: &Params) -> bool {
    let same_algorithm = hash.algorithm.as_str() == Algorithm::Argon2id.ident().as_str();
    let same_version = hash.version == Some(Version::V0x13.into());
    let same_cost = Params::try_from(hash).is_ok_and(|stored| {
        stored.m_cost() == params.m_cost()
            && stored.t_cost() == params.t_cost()
            && stored.p_cost() == params.p_cost()
    });
    same_algorithm && same_version && same_cost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(memory_kib: u32) -> Argon2Settings {
        Argon2Settings {
            memory_kib,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn password(s: &str) -> Password {
        Password::parse(s.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hasher = Hasher::new(settings(1024), 2, 16).unwrap();
        let hash = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(
            hasher
                .verify(&password("correct horse battery"), Some(&hash))
                .await
                .unwrap(),
            Verdict::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher
                .verify(&password("correct horse batterY"), Some(&hash))
                .await
                .unwrap(),
            Verdict::Mismatch
        );
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches() {
        let hasher = Hasher::new(settings(1024), 1, 16).unwrap();
        assert_eq!(
            hasher
                .verify(&password("whatever password"), None)
                .await
                .unwrap(),
            Verdict::Mismatch
        );
    }

    #[tokio::test]
    async fn a_hash_with_old_parameters_asks_for_a_rehash() {
        let old = Hasher::new(settings(1024), 1, 16).unwrap();
        let hash = old.hash(&password("correct horse battery")).await.unwrap();
        let new = Hasher::new(settings(2048), 1, 16).unwrap();
        assert_eq!(
            new.verify(&password("correct horse battery"), Some(&hash))
                .await
                .unwrap(),
            Verdict::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn salts_differ_between_two_hashes_of_one_password() {
        let hasher = Hasher::new(settings(1024), 2, 16).unwrap();
        let a = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        let b = hasher
            .hash(&password("correct horse battery"))
            .await
            .unwrap();
        assert_ne!(a, b);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_are_scheduled_as_batch_work() {
        use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};
        let hasher = Hasher::new(settings(1024), 2, 16).unwrap();
        let ((policy, name), _) = hasher
            .run_on_pool(|| {
                let policy = thread_priority::thread_schedule_policy()
                    .map_err(|e| AuthError::bug(format!("{e:?}")))?;
                Ok((policy, std::thread::current().name().map(str::to_owned)))
            })
            .await
            .unwrap();
        assert_eq!(
            policy,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch)
        );
        assert!(name.is_some_and(|n| n.starts_with("hasher-")));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_instead_of_waiting() {
        let hasher = Arc::new(Hasher::new(settings(8 * 1024), 1, 2).unwrap());
        let pw = password("correct horse battery");
        let mut running = Vec::new();
        for _ in 0..6 {
            let (hasher, pw) = (hasher.clone(), pw.clone());
            running.push(tokio::spawn(async move { hasher.verify(&pw, None).await }));
        }
        let mut busy = 0;
        for task in running {
            if let Err(AuthError::Busy { retry_after }) = task.await.unwrap() {
                assert_eq!(retry_after, BUSY_RETRY_AFTER);
                busy += 1;
            }
        }
        assert!(busy >= 1, "six requests for one slot and a queue of two");
        assert_eq!(hasher.queue_depth(), 0, "every slot is given back");
    }

    #[tokio::test]
    async fn an_old_cheaper_hash_is_padded_to_the_current_cost() {
        let old = Hasher::new(settings(8), 1, 16).unwrap();
        let hash = old.hash(&password("correct horse battery")).await.unwrap();
        let new = Hasher::new(settings(16 * 1024), 1, 16).unwrap();
        let unknown = Instant::now();
        new.verify(&password("wrong password here"), None)
            .await
            .unwrap();
        let unknown = unknown.elapsed();
        // The estimate follows real hashes at the current cost (loosely: timing is noisy).
        let target = new.current_cost();
        assert!(
            target * 20 >= unknown && target <= unknown * 20,
            "{target:?} vs {unknown:?}"
        );
        // An 8 KiB hash takes microseconds; padded, it answers no sooner than the estimate.
        let known = Instant::now();
        let verdict = new
            .verify(&password("wrong password here"), Some(&hash))
            .await
            .unwrap();
        assert_eq!(verdict, Verdict::Mismatch);
        assert!(
            known.elapsed() >= target,
            "{:?} < {target:?}",
            known.elapsed()
        );
    }
}
