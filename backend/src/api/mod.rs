//! The HTTP API: the only module that knows about poem. Operations parse input into domain
//! types, call one `auth::` function and map its result to a documented response.

mod auth;
pub mod cookies;
pub mod error;
mod health;
pub mod middleware;
pub mod models;
mod profile;
mod security;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
enum ApiTags {
    /// Accounts and sessions.
    Auth,
    /// The signed-in user.
    Account,
    /// Probes for orchestrators.
    Health,
}

pub type Apis = (auth::AuthApi, profile::ProfileApi, health::HealthApi);

const DESCRIPTION: &str = "\
Username and password authentication with a short-lived JWT access token and a rotating, \
database-backed refresh token, both in HttpOnly cookies.

**Browsers:** call `/login`, then every other endpoint with `credentials: 'include'`; on a \
401 call `/refresh` once and retry. **Other clients** may send the access token as \
`Authorization: Bearer` (it is the `access_token` cookie's value).

Every error is JSON: `{\"code\": \"…\", \"message\": \"…\"}`. Bodies are limited to 16 KiB and \
must be `application/json`.";

/// The OpenAPI service: operations plus the spec that documents them.
pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (auth::AuthApi, profile::ProfileApi, health::HealthApi),
        "Latchkey",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION)
    .license(poem_openapi::LicenseObject::new("MIT"))
    // Relative: Swagger UI's "Try it out" calls whatever host served the page.
    .server("/")
}

/// The spec as committed in `openapi.json`.
pub fn spec_json() -> String {
    service().spec()
}
