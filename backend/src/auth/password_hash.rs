//! Argon2id password hashing, off the async executor and bounded in concurrency.
//!
//! Each hash takes ~19 MiB and tens of milliseconds of CPU. Running them on tokio's blocking
//! pool behind a semaphore keeps request handling responsive and memory bounded to
//! `HASH_CONCURRENCY` × memory cost, however many logins arrive at once.

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

#[derive(Clone)]
pub struct Hasher {
    params: Params,
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
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        let params = self.params.clone();
        let password = password.clone();
        self.run_blocking(move || {
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
        self.run_blocking(move || {
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

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
    ) -> Result<T, AuthError> {
        // Held until the blocking task has finished, so at most `concurrency` hashes
        // (and their memory) exist at any moment.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AuthError::Internal("hash semaphore closed".into()))?;
        tokio::task::spawn_blocking(move || {
            lower_thread_priority();
            work()
        })
        .await
        .map_err(|e| AuthError::Internal(format!("hashing task failed: {e}")))?
    }
}

/// Hashing is the one CPU-heavy job here. Running it at a lower OS priority (nice 10) lets the
/// executor threads serve cheap requests (`/profile`, `/refresh`) first during a login flood,
/// without costing hashing throughput when the CPU is otherwise idle. Done once per blocking
/// thread; failures only cost the optimisation.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        thread_local!(static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        LOWERED.with(|lowered| {
            if !lowered.replace(true) {
                let thread = rustix::thread::gettid();
                if let Err(e) = rustix::process::setpriority_process(Some(thread), HASHING_NICENESS)
                {
                    tracing::debug!(error = %e, "could not lower the hashing thread's priority");
                }
            }
        });
    }
}

#[cfg(target_os = "linux")]
const HASHING_NICENESS: i32 = 10;

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
