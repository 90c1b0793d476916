//! Latchkey as an OpenID Connect provider: registered clients (`clients`), the authorization
//! code flow with PKCE and its hand-off to the app (`authorize`), the token endpoint, userinfo,
//! revocation and introspection (`grants`), and RP-initiated logout (`logout`).
//!
//! A client's grant is a `sessions` row with `client_id` set: its refresh tokens rotate with the
//! sessions' reuse detection, and everything that ends a person's sessions (a password change,
//! disabling, signing out everywhere) ends the grants too. The OAuth protocol errors (RFC 6749
//! §4.1.2.1, §5.2) are `OAuthError`.

pub mod authorize;
pub mod clients;
pub mod grants;
pub mod logout;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use super::{AuthError, secrets::random_bytes};

/// Where the provider lives: the issuer (`PUBLIC_URL`, byte for byte) and the app that does the
/// person's part (`APP_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub issuer: String,
    pub app_url: String,
}

/// How long an authorization request waits for its person.
pub const REQUEST_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// How long an authorization code can be exchanged.
pub const CODE_TTL: chrono::Duration = chrono::Duration::seconds(60);
/// How long a logout request waits for the app.
pub const LOGOUT_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// The scopes Latchkey knows.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// An OAuth protocol error: the `error` code of RFC 6749 and a description for developers.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// Client authentication failed (unknown client, wrong or missing secret).
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("the client may not use this grant")]
    UnauthorizedClient,
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(&'static str),
    /// A limit was reached (guessed secrets or codes).
    #[error("too many attempts")]
    TooManyAttempts { retry_after: std::time::Duration },
    /// Anything else (the database): the house error, mapped once by the API.
    #[error(transparent)]
    Auth(AuthError),
}

impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::TooManyAttempts { retry_after } => Self::TooManyAttempts { retry_after },
            other => Self::Auth(other),
        }
    }
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Auth(e.into())
    }
}

impl OAuthError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::TooManyAttempts { .. } => "temporarily_unavailable",
            Self::Auth(_) => "server_error",
        }
    }
}

/// A fresh random token (32 bytes, base64url) for codes, request ids and secrets.
pub fn random_token() -> Result<String, AuthError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// SHA-256, hex: how codes, request ids and client secrets are stored (they are high-entropy,
/// so a fast hash is enough).
pub fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two equal-length hex digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Scopes as a sorted, deduplicated list.
pub fn scope_list(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// `url` with `params` added to its query (RFC 6749 §3.1.2: the registered query is kept).
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let query = query.finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_appended_and_encoded() {
        assert_eq!(
            with_query(
                "https://rp.example/cb",
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://rp.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://rp.example/cb?k=1", &[("error", "access_denied")]),
            "https://rp.example/cb?k=1&error=access_denied"
        );
    }

    #[test]
    fn digests_compare_in_full() {
        assert!(digests_match(&digest("a"), &digest("a")));
        assert!(!digests_match(&digest("a"), &digest("b")));
        assert!(!digests_match("ab", "abc"));
    }
}
