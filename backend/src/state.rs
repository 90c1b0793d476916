//! Everything an operation needs, built once at startup and shared by reference.

use std::sync::{Arc, atomic::AtomicBool};

use sea_orm::DatabaseConnection;

use crate::{
    auth::{AuthError, password_hash::Hasher, throttle::LoginThrottle, tokens::TokenKeys},
    config::Config,
};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub hasher: Hasher,
    pub keys: TokenKeys,
    pub throttle: Arc<LoginThrottle>,
    /// Set on SIGTERM: `/ready` answers 503 so load balancers stop sending new requests.
    pub draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Result<Self, AuthError> {
        let hasher = Hasher::new(config.argon2, config.hash_concurrency)?;
        let keys = TokenKeys::new(&config.jwt_secret).map_err(AuthError::Internal)?;
        let throttle = Arc::new(LoginThrottle::new(config.login_free_failures));
        Ok(Self {
            db,
            config: Arc::new(config),
            hasher,
            keys,
            throttle,
            draining: Arc::new(AtomicBool::new(false)),
        })
    }
}
