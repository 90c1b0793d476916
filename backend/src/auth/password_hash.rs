//! Argon2id password hashing, off the async executor and bounded in concurrency.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of CPU. Hashes run on a pool of
//! `HASH_CONCURRENCY` threads of their own, so memory is bounded to `HASH_CONCURRENCY` × memory
//! cost however many logins arrive at once, and the pool threads run at idle priority so that
//! cheap requests are served first during a login flood (see `run_on_pool`).

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::phc::PasswordHash,
};
use tokio::sync::Semaphore;

use super::AuthError;
use crate::{config::Argon2Settings, domain::Password};

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
    /// Verified against when a username does not exist, so that an unknown user costs the
    /// same time as a wrong password and timing does not reveal which accounts exist.
    dummy_hash: Arc<str>,
}

impl Hasher {
    pub fn new(settings: Argon2Settings, concurrency: usize) -> Result<Self, AuthError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| AuthError::Internal(format!("invalid Argon2 parameters: {e}")))?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| AuthError::Internal(format!("OS randomness: {e}")))?;
        let dummy_hash = argon2(&params)
            .hash_password(&random)
            .map_err(|e| AuthError::Internal(format!("dummy hash: {e}")))?
            .to_string();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(concurrency)
            .thread_name(|i| format!("hasher-{i}"))
            .start_handler(|_| run_at_idle_priority())
            .build()
            .map_err(|e| AuthError::Internal(format!("hashing threads: {e}")))?;
        Ok(Self {
            params,
            pool,
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let params = self.params.clone();
        let password = password.clone();
        self.run_on_pool(move || {
            argon2(&params)
                .hash_password(password.expose().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| AuthError::Internal(format!("hashing failed: {e}")))
        })
        .await
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
        self.run_on_pool(move || {
            let parsed = PasswordHash::new(&phc).map_err(|e| {
                AuthError::Internal(format!("stored hash is not a PHC string: {e}"))
            })?;
            // The parameters come from the stored hash, not from `params`.
            let matches = argon2(&params)
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            Ok(match (is_real, matches) {
                (true, true) => Verdict::Match {
                    needs_rehash: !uses_params(&parsed, &params),
                },
                _ => Verdict::Mismatch,
            })
        })
        .await
    }

    async fn run_on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        // One permit per pool thread, held until the job has run: jobs never pile up inside
        // the pool, and a request that gives up (client gone) before its turn costs no hashing.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Internal("hash semaphore closed".into()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // The request may have gone away meanwhile; nobody to tell then.
            let _ = done.send(work());
            drop(permit);
        });
        result
            .await
            .map_err(|_| AuthError::Internal("hashing thread failed".into()))?
    }
}

/// SCHED_IDLE for the hashing threads: a thread of Latchkey's that wakes up (a `/profile` or
/// `/refresh` to serve) preempts a hash at once, and the hash resumes when the CPU is free.
/// Nice 10, which we used first, still let a hash hold a core for up to a scheduler tick
/// (4 ms here): `/profile`'s p99 under a login flood fell from ~5 to ~4 ms with SCHED_IDLE,
/// at the same login throughput (bench/PERFORMANCE.md). The trade-off: if the server's own cheap requests saturate
/// every core, logins wait until they don't (under cgroups, which containers use, only
/// Latchkey's own threads count: other containers compete with its cgroup as a whole).
/// Failing to set it (a seccomp profile that forbids it) only costs the optimisation.
fn run_at_idle_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            tracing::debug!(error = ?e, "could not lower the hashing thread's priority");
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
        let hasher = Hasher::new(settings(1024), 2).unwrap();
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
        let hasher = Hasher::new(settings(1024), 1).unwrap();
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
        let old = Hasher::new(settings(1024), 1).unwrap();
        let hash = old.hash(&password("correct horse battery")).await.unwrap();
        let new = Hasher::new(settings(2048), 1).unwrap();
        assert_eq!(
            new.verify(&password("correct horse battery"), Some(&hash))
                .await
                .unwrap(),
            Verdict::Match { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn salts_differ_between_two_hashes_of_one_password() {
        let hasher = Hasher::new(settings(1024), 2).unwrap();
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
}
