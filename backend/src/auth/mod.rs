//! The business of authentication: accounts, password hashes, sessions, tokens and limits.
//!
//! Nothing here knows about HTTP, and nothing here reads the clock: every function that
//! depends on the time takes `now`, so expiry and throttling are tested with explicit instants.
//! Functions take what they use: a flow that checks passwords and issues sessions takes the
//! `Auth` bundle; one that only reads or revokes rows takes the connection. The server, the
//! admin CLI and the tests all call them the same way.

pub mod accounts;
pub mod activity;
pub mod admin;
pub mod attempt;
pub mod audit;
pub mod background;
pub mod challenges;
pub mod credentials;
pub mod device;
pub mod email;
pub mod keys;
pub mod maintenance;
pub mod notices;
pub mod oidc;
pub mod outbox;
pub mod passkeys;
pub mod password_hash;
pub mod recovery;
pub mod roles;
pub mod second_factor;
pub mod secrets;
pub mod sessions;
pub mod standing;
pub mod throttle;
pub mod tokens;

use std::{borrow::Cow, net::IpAddr, time::Duration};

use sea_orm::DatabaseConnection;

use self::{
    keys::{JwtSettings, KeyPolicy, KeyRing},
    passkeys::WebauthnSettings,
    password_hash::{Argon2Settings, Hasher},
    secrets::{Secret, Secrets},
    throttle::{ThrottlePolicy, ThrottleSettings},
};
use crate::{
    domain::{FieldError, PasswordPolicy},
    storage::StorageError,
};

/// Everything the authentication flows need, and nothing about serving HTTP.
pub struct Auth {
    pub db: DatabaseConnection,
    pub hasher: Hasher,
    /// Access-token signing keys, shared through the database.
    pub keys: KeyRing,
    pub secrets: Secrets,
    pub policy: Policy,
    /// The WebAuthn relying party (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGIN`).
    pub webauthn: webauthn_rs::Webauthn,
    /// Writes that do not hold up a response (see `background`).
    pub background: background::Background,
    /// Where mailed links point and what the service calls itself; `None` when no mail is
    /// sent (`SMTP_URL` unset): nothing is written to the outbox then.
    pub mail: Option<notices::MailPolicy>,
}

impl Auth {
    /// Builds the bundle; loads the signing keys (creating the first one on a new database).
    pub async fn new(
        db: DatabaseConnection,
        settings: &Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Self, AuthError> {
        let secrets = Secrets::derive(&settings.jwt_secret)?;
        let keys = KeyRing::load(&db, &secrets, KeyPolicy::from_settings(settings), now).await?;
        Ok(Self {
            hasher: Hasher::new(
                settings.argon2,
                settings.hash_concurrency,
                settings.hash_queue_limit,
            )?,
            db,
            keys,
            secrets,
            policy: Policy::from_settings(settings),
            webauthn: passkeys::relying_party(&settings.webauthn)?,
            background: background::Background::default(),
            mail: settings.mail.clone(),
        })
    }
}

/// What the core is configured with. `config` reads it from the environment; nothing here
/// reads the environment itself.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `JWT_SECRET`, from which every key of the core is derived (see `secrets`).
    pub jwt_secret: Secret,
    pub sessions: SessionPolicy,
    pub argon2: Argon2Settings,
    /// Password hashes allowed to run at once (`HASH_CONCURRENCY`).
    pub hash_concurrency: usize,
    /// Requests allowed to wait for a hashing slot before new ones get 503
    /// (`HASH_QUEUE_LIMIT`).
    pub hash_queue_limit: usize,
    pub throttle: ThrottleSettings,
    /// What a new password must be (`PASSWORD_MIN_SCORE`).
    pub passwords: PasswordPolicy,
    pub jwt: JwtSettings,
    /// The issuer an authenticator app shows (`MFA_ISSUER`).
    pub mfa_issuer: String,
    pub webauthn: WebauthnSettings,
    /// The app's base URL, for the links Latchkey mails or prints (`APP_URL`).
    pub app_url: String,
    /// Where mailed links point and what the service calls itself, when mail is on
    /// (`SMTP_URL` set); `None`: nothing is written to the outbox.
    pub mail: Option<notices::MailPolicy>,
    /// Whether this instance is an OpenID provider (`PUBLIC_URL` set), and so keeps an RSA key
    /// for ID tokens. Without it no RSA key is made: one takes a noticeable moment of CPU.
    pub id_tokens: bool,
}

/// The rules in force, read once from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    pub passwords: PasswordPolicy,
    /// The issuer an authenticator app shows (`MFA_ISSUER`).
    pub mfa_issuer: String,
    /// The WebAuthn relying party id (`WEBAUTHN_RP_ID`).
    pub webauthn_rp_id: String,
}

impl Policy {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            sessions: settings.sessions,
            throttle: ThrottlePolicy::from_settings(&settings.throttle),
            passwords: settings.passwords,
            mfa_issuer: settings.mfa_issuer.clone(),
            webauthn_rp_id: settings.webauthn.rp_id.clone(),
        }
    }
}

/// How long tokens and sessions live (`ACCESS_TOKEN_EXPIRATION`, `REFRESH_TOKEN_EXPIRATION`,
/// `SESSION_MAX_LIFETIME`, `REFRESH_REUSE_INTERVAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub access_ttl: Duration,
    /// A refresh token's life from its issue (the session's idle timeout).
    pub refresh_ttl: Duration,
    /// A session's absolute life, however often it is refreshed.
    pub max_lifetime: Duration,
    /// How long the token that was just rotated may be replayed for the same successor.
    pub reuse_interval: Duration,
}

/// What can go wrong in an authentication flow. The API layer maps each to one status and code.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("username taken")]
    UsernameTaken,
    /// Signing in failed: unknown user or wrong password (the same answer for both).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A signed-in user's re-entered password is wrong. Their session itself is fine.
    #[error("wrong password")]
    WrongPassword,
    /// An operator disabled the account (said only after the right password).
    #[error("account disabled")]
    AccountDisabled,
    /// The authenticator or recovery code at sign-in is wrong (or already used).
    #[error("invalid second factor")]
    InvalidMfaCode,
    /// The first code from a new authenticator app is wrong: the enrolment form is at fault,
    /// not a sign-in.
    #[error("wrong first code of a new authenticator")]
    WrongEnrolmentCode,
    /// The sign-in challenge is missing, expired, used, or died of wrong codes.
    #[error("second-factor challenge expired")]
    MfaChallengeExpired,
    /// A sensitive change needs the second factor too, and none was given.
    #[error("second factor required")]
    SecondFactorRequired,
    /// A sensitive change's second factor is wrong.
    #[error("wrong second factor")]
    WrongSecondFactor,
    #[error("second factor already enabled")]
    MfaAlreadyEnabled,
    #[error("second factor not enabled")]
    MfaNotEnabled,
    /// A WebAuthn sign-in ceremony failed (wrong, expired or replayed).
    #[error("invalid passkey")]
    InvalidPasskey,
    /// A passkey registration failed: the authenticator's answer did not verify, or its
    /// ceremony expired or was used. The client's answer is at fault, not a sign-in.
    #[error("passkey registration not verified")]
    InvalidPasskeyRegistration,
    #[error("passkey already registered")]
    PasskeyAlreadyRegistered,
    /// A limit was reached; retry after the delay.
    #[error("too many attempts")]
    TooManyAttempts { retry_after: Duration },
    /// Too many requests already wait for a password hash; retry after the delay.
    #[error("busy")]
    Busy { retry_after: Duration },
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A reset or verification token, recovery key or recovery code is wrong, used or expired.
    #[error("invalid token")]
    InvalidToken,
    /// The server sends no mail (`SMTP_URL` is not set).
    #[error("mail is not configured")]
    MailDisabled,
    #[error("unauthenticated")]
    Unauthenticated,
    /// The caller is signed in but does not hold the role this needs.
    #[error("forbidden")]
    Forbidden,
    /// An admin change needs a fresh step-up (password and second factor, recently).
    #[error("step-up required")]
    StepUpRequired,
    /// A role of that name exists already.
    #[error("role exists")]
    RoleExists,
    /// The built-in role cannot be deleted.
    #[error("built-in role")]
    RoleBuiltIn,
    /// The change would leave no enabled account holding `admin`.
    #[error("last administrator")]
    LastAdmin,
    /// An administrator tried to disable their own account.
    #[error("cannot disable oneself")]
    CannotDisableSelf,
    /// The thing named does not exist or is not the caller's (the same answer for both).
    #[error("not found")]
    NotFound,
    /// The database failed: unavailable (retrying later can succeed), or otherwise.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A bug or an unexpected failure: `context` says what was being done, `source` (when there
    /// is one) what failed. Logged, never returned.
    #[error("{context}")]
    Internal {
        context: Cow<'static, str>,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl AuthError {
    /// `source` failed while doing `context`.
    pub fn internal(
        context: impl Into<Cow<'static, str>>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }

    /// Something that cannot happen did: `context` says what.
    pub fn bug(context: impl Into<Cow<'static, str>>) -> Self {
        Self::Internal {
            context: context.into(),
            source: None,
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

/// Who is calling: the address throttles are keyed by (the socket peer, or the client a trusted
/// proxy names) and the user agent, both recorded for the user's own review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
}

impl ClientInfo {
    /// Keeps stored values within their columns.
    pub fn new(user_agent: Option<&str>, ip: Option<IpAddr>) -> Self {
        Self {
            user_agent: user_agent.map(|ua| ua.chars().take(256).collect()),
            ip,
        }
    }
}
