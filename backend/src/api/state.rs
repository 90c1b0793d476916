//! Everything an operation needs, built once at startup and shared by reference.

use std::{
    ops::Deref,
    sync::{Arc, atomic::AtomicBool},
};

use sea_orm::DatabaseConnection;

use super::cookies::CookieFactory;
use crate::{
    auth::{Auth, AuthError},
    config::Config,
};

/// Cloned into every request (poem's `.data()`), so a clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    /// The authentication core: database, hasher, keys, policy.
    pub auth: Auth,
    pub config: Config,
    pub cookies: CookieFactory,
    /// Set on SIGTERM: `/ready` answers 503 so load balancers stop sending new requests.
    pub draining: AtomicBool,
}

impl AppState {
    pub async fn new(db: DatabaseConnection, config: Config) -> Result<Self, AuthError> {
        Ok(Self(Arc::new(Services {
            auth: Auth::new(db, &config.auth, chrono::Utc::now()).await?,
            cookies: CookieFactory::new(&config),
            config,
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
