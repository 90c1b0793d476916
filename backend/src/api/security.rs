//! How a caller presents an access token: `Authorization: Bearer` or the access-token cookie
//! (`access_token`, or `__Host-access_token` when `COOKIE_SECURE=true`). These only extract
//! the token; `auth::sessions::authenticate` decides who it is.

use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};

use chrono::{DateTime, Utc};

use super::{AppState, cookies::CookieFactory};
use crate::auth::{
    AuthError,
    sessions::{self, Authenticated},
};

/// `Authorization: Bearer <access token>`, for clients that are not browsers.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", rename = "BearerAuth")]
pub struct BearerAuth(Bearer);

/// The HttpOnly `access_token` cookie set by `/login` and `/refresh` (`COOKIE_SECURE=false`).
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_in = "cookie",
    key_name = "access_token",
    rename = "CookieAuth"
)]
pub struct CookieAuth(ApiKey);

/// The same cookie under its `__Host-` name, used when `COOKIE_SECURE=true`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_in = "cookie",
    key_name = "__Host-access_token",
    rename = "HostCookieAuth"
)]
pub struct HostCookieAuth(ApiKey);

/// Any of the credentials; a Bearer header, when present, wins over a cookie.
#[derive(SecurityScheme)]
pub enum AccessToken {
    Bearer(BearerAuth),
    HostCookie(HostCookieAuth),
    Cookie(CookieAuth),
}

impl AccessToken {
    /// The token, if it came the way this configuration accepts: only the cookie name that is
    /// issued is read, so a plain `access_token` planted by a sibling site is ignored when
    /// `__Host-` names are on.
    pub fn token(&self, cookies: &CookieFactory) -> Option<&str> {
        match self {
            Self::Bearer(b) => Some(&b.0.token),
            Self::HostCookie(c) => cookies.host_prefixed().then_some(c.0.key.as_str()),
            Self::Cookie(c) => (!cookies.host_prefixed()).then_some(c.0.key.as_str()),
        }
    }
}

/// The same credentials, optional: for operations that work signed in or not.
#[derive(SecurityScheme)]
pub enum OptionalAccessToken {
    Bearer(BearerAuth),
    HostCookie(HostCookieAuth),
    Cookie(CookieAuth),
    #[oai(fallback)]
    Anonymous,
}

impl OptionalAccessToken {
    pub fn token(&self, cookies: &CookieFactory) -> Option<&str> {
        match self {
            Self::Bearer(b) => Some(&b.0.token),
            Self::HostCookie(c) => cookies.host_prefixed().then_some(c.0.key.as_str()),
            Self::Cookie(c) => (!cookies.host_prefixed()).then_some(c.0.key.as_str()),
            Self::Anonymous => None,
        }
    }
}

/// The caller behind `token`, with a live session.
pub async fn authenticate(
    state: &AppState,
    token: &AccessToken,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthError> {
    let token = token
        .token(&state.cookies)
        .ok_or(AuthError::Unauthenticated)?;
    sessions::authenticate(&state.auth, token, now).await
}
