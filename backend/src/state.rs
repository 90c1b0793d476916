//! Everything an operation needs, built once at startup and shared by reference.

use std::{
    ops::Deref,
    sync::{Arc, atomic::AtomicBool},
};

use sea_orm::DatabaseConnection;

use crate::{
    auth::{AuthError, password_hash::Hasher, throttle::LoginThrottle, tokens::TokenKeys},
    config::Config,
};

/// Cloned into every request (poem's `.data()`), so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub db: DatabaseConnection,
    pub config: Config,
    pub hasher: Hasher,
    pub keys: TokenKeys,
    pub throttle: LoginThrottle,
    /// Set on SIGTERM: `/ready` answers 503 so load balancers stop sending new requests.
    pub draining: AtomicBool,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Result<Self, AuthError> {
        let hasher = Hasher::new(config.argon2, config.hash_concurrency)?;
        let keys = TokenKeys::new(&config.jwt_secret).map_err(AuthError::Internal)?;
        let throttle = LoginThrottle::new(config.login_free_failures);
        Ok(Self(Arc::new(Services {
            db,
            config,
            hasher,
            keys,
            throttle,
            draining: AtomicBool::new(false),
        })))
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}
