//! The business of authentication: accounts, password hashes, sessions and tokens.
//!
//! Nothing here knows about HTTP. Every function that depends on the time takes `now`, so
//! expiry and reuse windows are tested with explicit instants instead of sleeps.

pub mod credentials;
pub mod password_hash;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use crate::{domain::FieldError, storage::StorageError};

/// What can go wrong in an authentication flow. The API layer maps each to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("username taken")]
    UsernameTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins for this username; retry after the delay.
    #[error("too many attempts")]
    TooManyAttempts { retry_after: std::time::Duration },
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("unauthenticated")]
    Unauthenticated,
    /// The database did not answer; retrying later can succeed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the cause is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StorageError> for AuthError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable(cause) => Self::Unavailable(cause),
            StorageError::Other(cause) => Self::Internal(cause),
        }
    }
}

impl From<sea_orm::DbErr> for AuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        StorageError::from(e).into()
    }
}

/// A signed-in user as an access token vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: uuid::Uuid,
    pub username: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&crate::entity::user::Model> for Identity {
    fn from(user: &crate::entity::user::Model) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            created_at: user.created_at,
        }
    }
}

/// Who is calling: recorded on the session for the user's own review, never trusted for auth.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}
