//! Token material: signed JWT access tokens (their keys are in `keys`) and opaque refresh
//! tokens.
//!
//! - Access token (RFC 9068 `at+jwt`): `sub` (user id), `sid` (session id), `aud`, `iss`,
//!   `iat`, `exp`, `jti`, `client_id`, plus the immutable `username` and `user_created_at`, and
//!   the `roles` held when it was signed (RFC 9068 §2.2.3.1).
//! - Refresh token: 32 bytes, base64url. Only its SHA-256 is stored. A successor is derived with
//!   HMAC-SHA256 over (session id, generation, previous token), so a retried rotation can hand
//!   back exactly the same successor instead of forking the session.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{
    AuthError, Identity,
    keys::{CLIENT_ID, ISSUER, KeyRing},
    secrets::random_bytes,
};

const REFRESH_TOKEN_BYTES: usize = 32;
/// Length of a refresh token in base64url without padding.
const REFRESH_TOKEN_LEN: usize = 43;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub sid: Uuid,
    /// The username as registered. Usernames never change, so the token may carry it.
    pub username: String,
    /// When the account was created, in microseconds since the epoch (also immutable).
    pub user_created_at: i64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: Uuid,
    pub client_id: String,
    /// The roles the person held when the token was signed (RFC 9068 §2.2.3.1). For other
    /// services to authorize by; Latchkey's own admin API reads roles from the database.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl AccessClaims {
    /// The user this token was issued to, as it was when the token was signed.
    pub fn identity(&self) -> Option<Identity> {
        Some(Identity {
            id: self.sub,
            username: self.username.clone(),
            created_at: DateTime::from_timestamp_micros(self.user_created_at)?,
        })
    }
}

impl KeyRing {
    /// Signs an access token for `session` of `user`, valid until `expires_at`.
    pub fn issue_access(
        &self,
        user: &Identity,
        roles: &[String],
        session: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        self.sign(&AccessClaims {
            sub: user.id,
            sid: session,
            username: user.username.clone(),
            user_created_at: user.created_at.timestamp_micros(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.to_owned(),
            aud: self.policy().audience.clone(),
            jti: Uuid::new_v4(),
            client_id: CLIENT_ID.to_owned(),
            roles: roles.to_vec(),
        })
    }
}

/// An opaque refresh token as sent to the client. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A fresh token from the OS random number generator.
    pub fn generate() -> Result<Self, AuthError> {
        Ok(Self(
            URL_SAFE_NO_PAD.encode(random_bytes::<REFRESH_TOKEN_BYTES>()?),
        ))
    }

    /// Accepts only strings shaped like a token we issued; everything else is rejected
    /// without touching the database.
    pub fn parse(raw: &str) -> Option<Self> {
        let well_formed = raw.len() == REFRESH_TOKEN_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| Self(raw.to_owned()))
    }

    /// The token that follows `previous` as generation `generation` of `session`:
    /// HMAC-SHA256 over all three, so a retried rotation can hand back the same successor.
    pub fn successor(
        mut mac: Hmac<Sha256>,
        session: Uuid,
        generation: i64,
        previous: &RefreshToken,
    ) -> RefreshToken {
        mac.update(session.as_bytes());
        mac.update(&generation.to_be_bytes());
        mac.update(previous.0.as_bytes());
        RefreshToken(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The value stored in the database: SHA-256, hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::secrets::Secret;

    #[test]
    fn successors_are_deterministic_and_distinct_per_generation() {
        let secrets = crate::auth::secrets::Secrets::derive(&Secret::new("k".repeat(32))).unwrap();
        let successor = |session, generation, previous: &RefreshToken| {
            RefreshToken::successor(secrets.successor_mac(), session, generation, previous)
        };
        let session = Uuid::new_v4();
        let first = RefreshToken::generate().unwrap();
        let a = successor(session, 1, &first);
        assert_eq!(a, successor(session, 1, &first));
        assert_ne!(a, successor(session, 2, &first));
        assert_ne!(a, successor(Uuid::new_v4(), 1, &first));
        assert!(RefreshToken::parse(a.expose()).is_some());
    }

    #[test]
    fn only_well_formed_refresh_tokens_parse() {
        let token = RefreshToken::generate().unwrap();
        assert_eq!(token.expose().len(), REFRESH_TOKEN_LEN);
        assert!(RefreshToken::parse(token.expose()).is_some());
        assert!(RefreshToken::parse("").is_none());
        assert!(RefreshToken::parse(&"a".repeat(44)).is_none());
        assert!(RefreshToken::parse(&format!("{}=", &token.expose()[..42])).is_none());
        assert_eq!(token.hash().len(), 64);
    }
}
