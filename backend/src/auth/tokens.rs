//! Token material: signed JWT access tokens and opaque refresh tokens.
//!
//! - Access token: HS256 JWT with `sub` (user id), `sid` (session id), `iat`, `exp`, `iss`.
//!   Validation pins the algorithm, requires every claim and allows a few seconds of clock skew.
//! - Refresh token: 32 bytes, base64url. Only its SHA-256 is stored. A successor is derived with
//!   HMAC-SHA256 over (session id, generation, previous token), so a retried rotation can hand
//!   back exactly the same successor instead of forking the session.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::Identity;
use crate::config::Secret;

pub const ISSUER: &str = "latchkey";
/// Clock skew tolerated on `exp` and `iat`, in seconds (the crate's default is 60).
const LEEWAY_SECS: i64 = 5;
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
}

/// Keys derived once from `JWT_SECRET`.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
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

impl TokenKeys {
    pub fn new(secret: &Secret) -> Result<Self, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        // Expiry is checked against the caller's `now` in `verify_access`, not the system clock.
        validation.validate_exp = false;
        validation.leeway = 0;
        let key_error = |e: jsonwebtoken::errors::Error| format!("JWT key: {e}");
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()).map_err(key_error)?,
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()).map_err(key_error)?,
            validation,
        })
    }

    /// Signs an access token for `session` of `user`, valid until `expires_at`.
    pub fn issue_access(
        &self,
        user: &Identity,
        session: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, String> {
        let claims = AccessClaims {
            sub: user.id,
            sid: session,
            username: user.username.clone(),
            user_created_at: user.created_at.timestamp_micros(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("signing access token: {e}"))
    }

    /// Checks signature, algorithm, issuer and time; `None` for anything not acceptable.
    pub fn verify_access(&self, token: &str, now: DateTime<Utc>) -> Option<AccessClaims> {
        // 8725bis: anything but the compact form is not a JWT; also bounds work on junk input.
        if token.len() > 4096 || token.split('.').count() != 3 {
            return None;
        }
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let now = now.timestamp();
        let fresh = claims.exp + LEEWAY_SECS > now && claims.iat <= now + LEEWAY_SECS;
        fresh.then_some(claims)
    }
}

/// An opaque refresh token as sent to the client. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl RefreshToken {
    /// A fresh token from the OS random number generator.
    pub fn generate() -> Result<Self, String> {
        let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| format!("OS randomness: {e}"))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
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
    use chrono::Duration;

    use super::*;

    fn someone() -> Identity {
        Identity {
            id: Uuid::new_v4(),
            username: "alice".into(),
            created_at: Utc::now(),
        }
    }

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("k".repeat(32))).unwrap()
    }

    #[test]
    fn an_access_token_round_trips_until_it_expires() {
        let keys = keys();
        let now = Utc::now();
        let (user, session) = (someone(), Uuid::new_v4());
        let token = keys
            .issue_access(&user, session, now, now + Duration::seconds(900))
            .unwrap();
        let claims = keys.verify_access(&token, now).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.iss.as_str()),
            (user.id, session, ISSUER)
        );
        let carried = claims.identity().unwrap();
        assert_eq!(carried.username, "alice");
        assert_eq!(
            carried.created_at.timestamp_micros(),
            user.created_at.timestamp_micros()
        );
        assert!(
            keys.verify_access(&token, now + Duration::seconds(899))
                .is_some()
        );
        assert!(
            keys.verify_access(&token, now + Duration::seconds(900 + LEEWAY_SECS))
                .is_none()
        );
    }

    #[test]
    fn a_token_issued_in_the_future_is_rejected() {
        let keys = keys();
        let now = Utc::now();
        let token = keys
            .issue_access(
                &someone(),
                Uuid::new_v4(),
                now + Duration::hours(1),
                now + Duration::hours(2),
            )
            .unwrap();
        assert!(keys.verify_access(&token, now).is_none());
    }

    #[test]
    fn another_secret_cannot_verify() {
        let now = Utc::now();
        let token = keys()
            .issue_access(&someone(), Uuid::new_v4(), now, now + Duration::seconds(60))
            .unwrap();
        let other = TokenKeys::new(&Secret::new("o".repeat(32))).unwrap();
        assert!(other.verify_access(&token, now).is_none());
    }

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
