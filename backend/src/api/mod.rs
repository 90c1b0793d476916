//! The HTTP API: operations parse input into domain types, call one `auth::` function and map
//! its result to a documented response. Requests stop here: `auth` never sees one, and
//! `startup` only mounts these operations behind the middleware.

mod account;
mod admin;
mod auth;
mod authenticator;
pub mod client;
pub mod cookies;
pub mod error;
mod health;
pub mod middleware;
pub mod oidc;
mod passkeys;
mod profile;
mod recovery;
mod security;
mod shared;
mod state;
mod text;
mod tokens;

use chrono::{DateTime, SubsecRound as _, Utc};
use poem_openapi::{OpenApiService, Tags};

pub use self::state::{AppState, Services};

#[derive(Tags)]
enum ApiTags {
    /// Accounts and sessions.
    Auth,
    /// The signed-in user.
    Account,
    /// Authenticator apps, recovery codes and passkeys.
    SecondFactors,
    /// Getting back in after forgetting a password, and the email address that helps.
    Recovery,
    /// Verifying tokens elsewhere, and clients that are not browsers.
    Tokens,
    /// "Sign in with Latchkey": the OpenID Connect provider, and the app's part of it.
    OpenIdConnect,
    /// Accounts, roles and the audit log, for holders of the `admin` role.
    Admin,
    /// Probes for orchestrators.
    Health,
}

pub type Apis = (
    auth::AuthApi,
    profile::ProfileApi,
    account::AccountApi,
    authenticator::AuthenticatorApi,
    passkeys::PasskeysApi,
    recovery::RecoveryApi,
    tokens::TokensApi,
    oidc::OidcApi,
    admin::AdminApi,
    health::HealthApi,
);

const DESCRIPTION: &str = "\
Username and password authentication with a short-lived JWT access token and a rotating, \
database-backed refresh token, both in HttpOnly cookies; second factors (an authenticator app with \
recovery codes, passkeys); and an account a person can manage.

**Browsers:** call `/login` (and `/login/mfa` when it answers `mfa_required`), then every other \
endpoint with `credentials: 'include'`; on a 401 call `/refresh` once and retry. **Other clients** \
(CLIs, mobile apps, servers) get their tokens in the body from `/token` and send the access token as \
`Authorization: Bearer`. **Your services** verify access tokens with the keys at \
`/.well-known/jwks.json`, and can ask `/session` whether a token's session is still live.

Every error is JSON: `{\"code\": \"…\", \"message\": \"…\"}`. Bodies are limited to 16 KiB and \
must be `application/json`. A `429` or `503` says how long to wait in `Retry-After`.";

/// The OpenAPI service: operations plus the spec that documents them. `public_url` (the
/// `PUBLIC_URL` setting) becomes the spec's server; without it the server is relative, so
/// Swagger UI's "Try it out" calls whatever host served the page.
pub fn service(public_url: Option<&str>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(Apis::default(), "Latchkey", env!("CARGO_PKG_VERSION"))
        .description(DESCRIPTION)
        .license(poem_openapi::LicenseObject::new("MIT"))
        .server(public_url.unwrap_or("/"))
}

/// The spec and the Swagger UI page that embeds it, as served.
pub struct Documents {
    pub spec: String,
    pub docs_html: String,
}

impl Documents {
    pub fn new(public_url: Option<&str>) -> Self {
        let service = service(public_url);
        Self {
            spec: plain_media_types(&service.spec()),
            docs_html: plain_media_types(&service.swagger_ui_html()),
        }
    }
}

/// The spec as committed in `openapi.json` (no `PUBLIC_URL`).
pub fn spec_json() -> String {
    Documents::new(None).spec
}

/// poem-openapi names JSON bodies `application/json; charset=utf-8`; generators for other
/// languages expect the plain media type (JSON is UTF-8 by definition, RFC 8259 §8.1), and
/// the server accepts and sends both.
fn plain_media_types(document: &str) -> String {
    document.replace("application/json; charset=utf-8", "application/json")
}

/// The time an operation acts at. Times are stored with microsecond precision on both
/// databases, so that is all `now` carries.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
