//! How a caller presents an access token: `Authorization: Bearer` or the `access_token`
//! cookie. These only extract the token; `auth::sessions::authenticate` decides who it is.

use poem_openapi::{
    SecurityScheme,
    auth::{ApiKey, Bearer},
};

/// `Authorization: Bearer <access token>`, for clients that are not browsers.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", rename = "BearerAuth")]
pub struct BearerAuth(Bearer);

/// The HttpOnly `access_token` cookie set by `/login` and `/refresh`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_in = "cookie",
    key_name = "access_token",
    rename = "CookieAuth"
)]
pub struct CookieAuth(ApiKey);

/// Either credential; a Bearer header, when present, wins over the cookie.
#[derive(SecurityScheme)]
pub enum AccessToken {
    Bearer(BearerAuth),
    Cookie(CookieAuth),
}

impl AccessToken {
    pub fn token(&self) -> &str {
        match self {
            Self::Bearer(b) => &b.0.token,
            Self::Cookie(c) => &c.0.key,
        }
    }
}

/// The same credentials, optional: for operations that work signed in or not.
#[derive(SecurityScheme)]
pub enum OptionalAccessToken {
    Bearer(BearerAuth),
    Cookie(CookieAuth),
    #[oai(fallback)]
    Anonymous,
}

impl OptionalAccessToken {
    pub fn token(&self) -> Option<&str> {
        match self {
            Self::Bearer(b) => Some(&b.0.token),
            Self::Cookie(c) => Some(&c.0.key),
            Self::Anonymous => None,
        }
    }
}
