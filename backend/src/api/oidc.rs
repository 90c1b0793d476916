//! "Sign in with Latchkey": the OpenID Connect provider's endpoints. The protocol endpoints
//! (discovery, authorize, token, userinfo, revoke, introspect, logout) speak OAuth; the person's
//! part (sign-in, consent, sign-out) happens in the app, which calls the hand-off operations
//! (`/oauth2/requests/…`, `/oauth2/logout-requests/…`). The API never renders HTML.
//!
//! OIDC needs `PUBLIC_URL`: it is the issuer, byte for byte. Without it every operation here
//! answers `404 oidc_disabled`.
//!
//! The token, revocation and introspection endpoints answer errors in the RFC 6749 §5.2 shape
//! (`{"error", "error_description"}`), as client libraries expect; everything else in the house
//! shape. CORS is not opened for the token endpoint: it is meant to be called server to server
//! (a browser-only public client needs a backend, or a reverse proxy that adds CORS).

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::{Form, Json},
};
use serde::Deserialize;

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{ApiError, ErrorCode, ErrorJson, answer, api_response},
    now,
    security::{AccessToken, OptionalAccessToken, authenticate},
};
use crate::auth::{
    AuthError,
    keys::Verification,
    oidc::{
        OAuthError, Provider, SCOPES,
        authorize::{self, AuthorizeParams, Next},
        clients::{self, Presented},
        grants::{self, CodeExchange, Tokens},
        logout::{self, LogoutParams},
    },
    sessions,
};

#[derive(Default)]
pub struct OidcApi;

/// The provider as configured, or `oidc_disabled` without `PUBLIC_URL`.
fn provider(state: &AppState) -> Result<Provider, ApiError> {
    let issuer = state
        .config
        .public_url
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::OidcDisabled))?;
    Ok(Provider {
        issuer,
        app_url: state.config.auth.app_url.trim_end_matches('/').to_owned(),
    })
}

/// A pending request or logout request that is unknown, expired or used.
fn request_not_found(e: AuthError) -> ApiError {
    match e {
        AuthError::NotFound => ApiError::new(ErrorCode::RequestNotFound),
        other => other.into(),
    }
}

#[OpenApi(tag = "ApiTags::OpenIdConnect")]
impl OidcApi {
    /// OpenID Provider configuration
    ///
    /// The discovery document (OpenID Connect Discovery 1.0). `issuer` is `PUBLIC_URL` exactly,
    /// as in every token's `iss`.
    #[oai(
        path = "/.well-known/openid-configuration",
        method = "get",
        operation_id = "openid_configuration"
    )]
    async fn discovery(&self, state: Data<&AppState>) -> DiscoveryResponse {
        answer(async {
            let provider = provider(&state)?;
            let base = &provider.issuer;
            let max_age = state.config.auth.jwt.jwks_max_age.as_secs();
            Ok(DiscoveryResponse::Ok(
                Json(Box::new(Discovery {
                    issuer: base.clone(),
                    authorization_endpoint: format!("{base}/oauth2/authorize"),
                    token_endpoint: format!("{base}/oauth2/token"),
                    userinfo_endpoint: format!("{base}/oauth2/userinfo"),
                    jwks_uri: format!("{base}/.well-known/jwks.json"),
                    revocation_endpoint: format!("{base}/oauth2/revoke"),
                    introspection_endpoint: format!("{base}/oauth2/introspect"),
                    end_session_endpoint: format!("{base}/oauth2/logout"),
                    scopes_supported: SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                    response_types_supported: vec!["code".to_owned()],
                    response_modes_supported: vec!["query".to_owned()],
                    grant_types_supported: vec![
                        "authorization_code".to_owned(),
                        "refresh_token".to_owned(),
                    ],
                    subject_types_supported: vec!["public".to_owned()],
                    claim_types_supported: vec!["normal".to_owned()],
                    id_token_signing_alg_values_supported: state
                        .auth
                        .keys
                        .id_token_algorithms()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    token_endpoint_auth_methods_supported: auth_methods(),
                    revocation_endpoint_auth_methods_supported: auth_methods(),
                    introspection_endpoint_auth_methods_supported: vec![
                        "client_secret_basic".to_owned(),
                        "client_secret_post".to_owned(),
                    ],
                    code_challenge_methods_supported: vec!["S256".to_owned()],
                    claims_supported: [
                        "sub",
                        "iss",
                        "aud",
                        "exp",
                        "iat",
                        "auth_time",
                        "nonce",
                        "amr",
                        "acr",
                        "sid",
                        "azp",
                        "preferred_username",
                        "email",
                        "email_verified",
                    ]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                    prompt_values_supported: vec![
                        "none".to_owned(),
                        "login".to_owned(),
                        "consent".to_owned(),
                    ],
                    authorization_response_iss_parameter_supported: true,
                    claims_parameter_supported: false,
                    request_parameter_supported: false,
                    request_uri_parameter_supported: false,
                })),
                format!("public, max-age={max_age}"),
            ))
        })
        .await
    }

    /// Authorization endpoint
    ///
    /// Starts the authorization code flow (PKCE with S256 is required of every client). An
    /// unknown client or an unregistered `redirect_uri` (compared exactly) sends the browser to
    /// `APP_URL/authorize?error=invalid_client|invalid_redirect_uri`; other errors go to the
    /// client's redirect URI with `error`, `error_description`, `state` and `iss`. Otherwise the
    /// request is kept for ten minutes and the browser goes to `APP_URL/authorize?request=…`.
    #[oai(
        path = "/oauth2/authorize",
        method = "get",
        operation_id = "oauth_authorize"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn authorize(
        &self,
        state: Data<&AppState>,
        response_type: Query<Option<String>>,
        client_id: Query<Option<String>>,
        redirect_uri: Query<Option<String>>,
        scope: Query<Option<String>>,
        #[oai(name = "state")] state_param: Query<Option<String>>,
        nonce: Query<Option<String>>,
        code_challenge: Query<Option<String>>,
        code_challenge_method: Query<Option<String>>,
        prompt: Query<Option<String>>,
        max_age: Query<Option<String>>,
        request: Query<Option<String>>,
        request_uri: Query<Option<String>>,
    ) -> RedirectResponse {
        answer(async {
            let provider = provider(&state)?;
            let params = AuthorizeParams {
                response_type: response_type.0,
                client_id: client_id.0,
                redirect_uri: redirect_uri.0,
                scope: scope.0,
                state: state_param.0,
                nonce: nonce.0,
                code_challenge: code_challenge.0,
                code_challenge_method: code_challenge_method.0,
                prompt: prompt.0,
                max_age: max_age.0,
                request: request.0,
                request_uri: request_uri.0,
            };
            let location = authorize::begin(&state.auth.db, &provider, params, now()).await?;
            Ok(RedirectResponse::SeeOther(location))
        })
        .await
    }

    /// A pending authorization request
    ///
    /// For the app's authorization page: which application asks for what.
    #[oai(
        path = "/oauth2/requests/:id",
        method = "get",
        operation_id = "oauth_request"
    )]
    async fn show_request(&self, state: Data<&AppState>, id: Path<String>) -> RequestResponse {
        answer(async {
            provider(&state)?;
            let request = authorize::show(&state.auth.db, &id.0, now())
                .await
                .map_err(request_not_found)?;
            Ok(RequestResponse::Ok(Json(AuthorizationRequest {
                client_id: request.client_id,
                client_name: request.client_name,
                scopes: request.scopes,
                prompt: request.prompt,
            })))
        })
        .await
    }

    /// Continue an authorization request
    ///
    /// Sent with the person's cookies (signed in or not). Answers `login` (sign in, then come
    /// back to `/authorize?request=…`), `consent` (ask), or `redirect` with where to send the
    /// browser: the client, with a code, or with an error for `prompt=none`. An access token
    /// that no longer works is `401` (refresh, then ask again); no token at all is `login`.
    #[oai(
        path = "/oauth2/requests/:id/continue",
        method = "post",
        operation_id = "oauth_request_continue"
    )]
    async fn continue_request(
        &self,
        state: Data<&AppState>,
        auth: OptionalAccessToken,
        id: Path<String>,
    ) -> StepResponse {
        answer(async {
            let now = now();
            let provider = provider(&state)?;
            // No token: signed out. A token that no longer works is 401, so the app refreshes
            // and asks again (a failed refresh clears the cookies: then it is "login").
            let caller = match auth.token(&state.cookies) {
                Some(token) => Some(sessions::authenticate(&state.auth, token, now).await?),
                None => None,
            };
            let next = authorize::proceed(&state.auth.db, &provider, &id.0, caller.as_ref(), now)
                .await
                .map_err(request_not_found)?;
            Ok(StepResponse::Ok(Json(next.into())))
        })
        .await
    }

    /// Allow or deny an authorization request
    ///
    /// The person's answer on the consent page (signed in). Allowing remembers the consent for
    /// this application and these scopes and sends the browser back with a code; denying sends
    /// `error=access_denied`. The request is used either way.
    #[oai(
        path = "/oauth2/requests/:id/decision",
        method = "post",
        operation_id = "oauth_request_decision"
    )]
    async fn decide(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        id: Path<String>,
        body: Json<Decision>,
    ) -> DecisionResponse {
        answer(async {
            let now = now();
            let provider = provider(&state)?;
            let caller = authenticate(&state, &auth, now).await?;
            let next = authorize::decide(
                &state.auth.db,
                &provider,
                &id.0,
                &caller,
                body.0.allow,
                &client_info(req),
                now,
            )
            .await
            .map_err(request_not_found)?;
            Ok(DecisionResponse::Ok(Json(next.into())))
        })
        .await
    }

    /// Token endpoint
    ///
    /// `grant_type=authorization_code` (with `code`, `redirect_uri` and `code_verifier`) or
    /// `refresh_token`, as `application/x-www-form-urlencoded`. Clients authenticate with
    /// `client_secret_basic` or `client_secret_post`; public clients send only `client_id`.
    /// Errors are RFC 6749 §5.2 JSON. Wrong secrets and codes count against the client and the
    /// caller's address (`429` with `Retry-After` when a limit is reached).
    #[oai(path = "/oauth2/token", method = "post", operation_id = "oauth_token")]
    async fn token(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Form<TokenForm>,
    ) -> TokenEndpointResponse {
        let result = async {
            let now = now();
            let provider = provider(&state).map_err(Failure::Disabled)?;
            let form = body.0;
            let presented = presented_client(req, form.client_id, form.client_secret)?;
            let grant_type = form.grant_type.unwrap_or_default();
            if grant_type != "authorization_code" && grant_type != "refresh_token" {
                return Err(OAuthError::UnsupportedGrantType.into());
            }
            let caller = client_info(req);
            let client = clients::authenticate(&state.auth, presented, &caller, now).await?;
            let tokens = if grant_type == "authorization_code" {
                let exchange = CodeExchange {
                    code: form.code.unwrap_or_default(),
                    redirect_uri: form.redirect_uri.unwrap_or_default(),
                    code_verifier: form.code_verifier.unwrap_or_default(),
                };
                grants::exchange_code(&state.auth, &provider, client, exchange, &caller, now)
                    .await?
            } else {
                let presented = form.refresh_token.unwrap_or_default();
                grants::refresh(&state.auth, &provider, client, &presented, &caller, now).await?
            };
            Ok(TokenEndpointResponse::Ok(Json(tokens.into())))
        }
        .await;
        result.unwrap_or_else(Failure::into_response)
    }

    /// UserInfo endpoint
    ///
    /// The person's claims for an access token issued to a client (`Authorization: Bearer`):
    /// `sub`, plus `preferred_username` (scope `profile`) and `email`, `email_verified` (scope
    /// `email`, when an address is set). Latchkey's own access tokens are refused, and these
    /// tokens are refused everywhere else.
    #[oai(
        path = "/oauth2/userinfo",
        method = "get",
        operation_id = "oauth_userinfo"
    )]
    async fn userinfo_get(&self, state: Data<&AppState>, req: &Request) -> UserinfoResponse {
        userinfo(&state, req).await
    }

    /// UserInfo endpoint (POST)
    ///
    /// The same as `GET /oauth2/userinfo`.
    #[oai(
        path = "/oauth2/userinfo",
        method = "post",
        operation_id = "oauth_userinfo_post"
    )]
    async fn userinfo_post(&self, state: Data<&AppState>, req: &Request) -> UserinfoResponse {
        userinfo(&state, req).await
    }

    /// Revocation endpoint (RFC 7009)
    ///
    /// Ends the grant a refresh token or access token of this client belongs to. Answers `200`
    /// for unknown tokens too.
    #[oai(
        path = "/oauth2/revoke",
        method = "post",
        operation_id = "oauth_revoke"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Form<TokenForm>,
    ) -> RevokeEndpointResponse {
        let result = async {
            let now = now();
            let provider = provider(&state).map_err(Failure::Disabled)?;
            let form = body.0;
            let presented = presented_client(req, form.client_id, form.client_secret)?;
            let client =
                clients::authenticate(&state.auth, presented, &client_info(req), now).await?;
            grants::revoke(
                &state.auth,
                &provider,
                client,
                &form.token.unwrap_or_default(),
                now,
            )
            .await?;
            Ok(RevokeEndpointResponse::Ok)
        }
        .await;
        result.unwrap_or_else(Failure::into_response)
    }

    /// Introspection endpoint (RFC 7662)
    ///
    /// For confidential clients: whether one of its tokens is active, with its `scope`,
    /// `client_id`, `sub`, `exp` and more. Anything else is `{"active": false}`.
    #[oai(
        path = "/oauth2/introspect",
        method = "post",
        operation_id = "oauth_introspect"
    )]
    async fn introspect(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Form<TokenForm>,
    ) -> IntrospectEndpointResponse {
        let result = async {
            let now = now();
            let provider = provider(&state).map_err(Failure::Disabled)?;
            let form = body.0;
            let presented = presented_client(req, form.client_id, form.client_secret)?;
            let client =
                clients::authenticate(&state.auth, presented, &client_info(req), now).await?;
            let answer = grants::introspect(
                &state.auth,
                &provider,
                client,
                &form.token.unwrap_or_default(),
                now,
            )
            .await?;
            Ok(IntrospectEndpointResponse::Ok(Json(answer)))
        }
        .await;
        result.unwrap_or_else(Failure::into_response)
    }

    /// End-session endpoint (RP-initiated logout)
    ///
    /// Checks `id_token_hint` (signature and issuer; it may have expired), `client_id` and
    /// `post_logout_redirect_uri` (registered for that client), then sends the browser to
    /// `APP_URL/end-session?request=…` (or `?error=invalid_request`).
    #[oai(path = "/oauth2/logout", method = "get", operation_id = "oauth_logout")]
    async fn end_session(
        &self,
        state: Data<&AppState>,
        id_token_hint: Query<Option<String>>,
        post_logout_redirect_uri: Query<Option<String>>,
        #[oai(name = "state")] state_param: Query<Option<String>>,
        client_id: Query<Option<String>>,
    ) -> RedirectResponse {
        answer(async {
            let provider = provider(&state)?;
            let params = LogoutParams {
                id_token_hint: id_token_hint.0,
                post_logout_redirect_uri: post_logout_redirect_uri.0,
                state: state_param.0,
                client_id: client_id.0,
            };
            let location =
                logout::begin(&state.auth.db, &state.auth.keys, &provider, params, now()).await?;
            Ok(RedirectResponse::SeeOther(location))
        })
        .await
    }

    /// A pending logout request
    ///
    /// For the app's sign-out page: which application asked, and whether to ask the person
    /// first (`confirm`: no valid `id_token_hint` came with it).
    #[oai(
        path = "/oauth2/logout-requests/:id",
        method = "get",
        operation_id = "oauth_logout_request"
    )]
    async fn show_logout(&self, state: Data<&AppState>, id: Path<String>) -> LogoutRequestResponse {
        answer(async {
            provider(&state)?;
            let pending = logout::show(&state.auth.db, &id.0, now())
                .await
                .map_err(request_not_found)?;
            Ok(LogoutRequestResponse::Ok(Json(LogoutRequest {
                client_name: pending.client_name,
                confirm: pending.confirm,
            })))
        })
        .await
    }

    /// Complete a logout request
    ///
    /// Ends the Latchkey session of this browser (as `POST /logout`: revoked, cookies cleared)
    /// and answers where to send the person: the application's `post_logout_redirect_uri`
    /// with its `state`, or `null` (show "You are signed out").
    #[oai(
        path = "/oauth2/logout-requests/:id",
        method = "post",
        operation_id = "oauth_logout_request_complete"
    )]
    async fn complete_logout(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: OptionalAccessToken,
        id: Path<String>,
    ) -> LogoutCompleteResponse {
        answer(async {
            let now = now();
            provider(&state)?;
            let redirect_to = logout::complete(&state.auth.db, &id.0, now)
                .await
                .map_err(request_not_found)?;
            let access_session =
                auth.token(&state.cookies)
                    .and_then(|t| match state.auth.keys.verify(t, now) {
                        Verification::Valid(claims) => Some(claims.sid),
                        _ => None,
                    });
            let refresh = state.cookies.refresh_token(jar);
            sessions::logout(
                &state.auth.db,
                refresh.as_deref(),
                access_session,
                &client_info(req),
                now,
            )
            .await?;
            state.cookies.clear_session(jar);
            Ok(LogoutCompleteResponse::Ok(Json(LogoutDone { redirect_to })))
        })
        .await
    }

    /// Connected apps
    ///
    /// The applications the signed-in person allowed to sign them in, most recently allowed
    /// first, with the scopes allowed.
    #[oai(path = "/apps", method = "get", operation_id = "list_apps")]
    async fn list_apps(&self, state: Data<&AppState>, auth: AccessToken) -> AppsResponse {
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            let apps = grants::connected_apps(&state.auth.db, caller.user.id).await?;
            Ok(AppsResponse::Ok(Json(AppList {
                apps: apps
                    .into_iter()
                    .map(|app| ConnectedApp {
                        client_id: app.client_id,
                        name: app.name,
                        scopes: app.scopes,
                        allowed_at: app.allowed_at,
                        last_used_at: app.last_used_at,
                    })
                    .collect(),
            })))
        })
        .await
    }

    /// Revoke a connected app
    ///
    /// Forgets the consent and ends every grant (refresh token, access tokens) the application
    /// holds for this person, at once. The next sign-in with it asks again.
    #[oai(
        path = "/apps/:client_id",
        method = "delete",
        operation_id = "revoke_app"
    )]
    async fn revoke_app(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        client_id: Path<String>,
    ) -> RevokeAppResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            grants::revoke_app(
                &state.auth.db,
                caller.user.id,
                &client_id.0,
                &client_info(req),
                caller.session_id,
                now,
            )
            .await?;
            Ok(RevokeAppResponse::NoContent)
        })
        .await
    }
}

fn auth_methods() -> Vec<String> {
    ["client_secret_basic", "client_secret_post", "none"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// The client's credentials: `Authorization: Basic` (RFC 6749 §2.3.1: each part
/// form-urlencoded) or the form's `client_id` and `client_secret`, never both.
fn presented_client(
    req: &Request,
    form_id: Option<String>,
    form_secret: Option<String>,
) -> Result<Presented, Failure> {
    let Some(header) = req.header("authorization") else {
        return Ok(Presented {
            client_id: form_id,
            client_secret: form_secret,
        });
    };
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
        .ok_or(OAuthError::InvalidClient)?;
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(OAuthError::InvalidClient)?;
    let (id, secret) = decoded.split_once(':').ok_or(OAuthError::InvalidClient)?;
    let unescape = |part: &str| -> String {
        url::form_urlencoded::parse(format!("v={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    if form_secret.is_some() || form_id.is_some_and(|form| form != id) {
        return Err(OAuthError::InvalidRequest("use one client authentication method").into());
    }
    Ok(Presented {
        client_id: Some(id),
        client_secret: Some(secret),
    })
}

async fn userinfo(state: &AppState, req: &Request) -> UserinfoResponse {
    let now = now();
    let provider = match provider(state) {
        Ok(provider) => provider,
        Err(e) => return UserinfoResponse::NotFound(e.into_json()),
    };
    let token = req
        .header("authorization")
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    let invalid = || {
        UserinfoResponse::Unauthorized(
            Json(OAuthErrorBody {
                error: "invalid_token".to_owned(),
                error_description: "the access token is missing, invalid, expired or revoked"
                    .to_owned(),
            }),
            "Bearer error=\"invalid_token\"".to_owned(),
        )
    };
    let Some(token) = token else {
        return invalid();
    };
    match grants::live_access(&state.auth, &provider, token, now).await {
        Ok(Some(access)) => UserinfoResponse::Ok(Json(grants::userinfo(&access))),
        Ok(None) => invalid(),
        Err(e) => UserinfoResponse::from(ApiError::from(e)),
    }
}

/// Why an OAuth endpoint failed: a protocol error, or OIDC is off.
enum Failure {
    OAuth(OAuthError),
    Disabled(ApiError),
}

impl From<OAuthError> for Failure {
    fn from(e: OAuthError) -> Self {
        Self::OAuth(e)
    }
}

/// The parts of an OAuth error response: status, body, `Retry-After`.
struct OAuthFailure {
    status: u16,
    body: OAuthErrorBody,
    retry_after: u64,
}

impl Failure {
    fn into_response<R: From<OAuthFailure> + From<ApiError>>(self) -> R {
        let e = match self {
            Self::Disabled(e) => return R::from(e),
            Self::OAuth(e) => e,
        };
        let error = e.code().to_owned();
        let (status, description, retry_after) = match e {
            OAuthError::InvalidClient => (401, e.to_string(), 0),
            OAuthError::TooManyAttempts { retry_after } => (
                429,
                "too many attempts; retry later".to_owned(),
                retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0),
            ),
            OAuthError::Auth(inner) => {
                // Logged once by the house mapping; only its status matters here.
                let mapped = ApiError::from(inner);
                let status = mapped.status().as_u16();
                let (error, description) = if status == 503 {
                    ("temporarily_unavailable", "the service is busy; retry")
                } else {
                    ("server_error", "internal error")
                };
                return R::from(OAuthFailure {
                    status: if status == 503 { 503 } else { 500 },
                    body: OAuthErrorBody {
                        error: error.to_owned(),
                        error_description: description.to_owned(),
                    },
                    retry_after: 1,
                });
            }
            other => (400, other.to_string(), 0),
        };
        R::from(OAuthFailure {
            status,
            body: OAuthErrorBody {
                error,
                error_description: description,
            },
            retry_after,
        })
    }
}

/// A rejected OAuth request (a body that is not a form, a missing field): `invalid_request`.
fn oauth_rejected<R: From<OAuthFailure>>(_rejection: poem::Error) -> R {
    R::from(OAuthFailure {
        status: 400,
        body: OAuthErrorBody {
            error: "invalid_request".to_owned(),
            error_description: "send the parameters as application/x-www-form-urlencoded"
                .to_owned(),
        },
        retry_after: 0,
    })
}

/// Declares an OAuth endpoint's response: its success variant, then the RFC 6749 error shapes.
macro_rules! oauth_response {
    ($(#[$meta:meta])* $name:ident { $($success:tt)* }) => {
        $(#[$meta])*
        #[derive(ApiResponse)]
        #[oai(bad_request_handler = "oauth_rejected")]
        pub enum $name {
            $($success)*
            /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope` (RFC 6749 §5.2).
            #[oai(status = 400)]
            BadRequest(Json<OAuthErrorBody>),
            /// `invalid_client`: client authentication failed.
            #[oai(status = 401)]
            Unauthorized(Json<OAuthErrorBody>, #[oai(header = "WWW-Authenticate")] String),
            /// `oidc_disabled` (house error shape): `PUBLIC_URL` is not set.
            #[oai(status = 404)]
            NotFound(ErrorJson),
            /// `temporarily_unavailable`: too many failed attempts for this client or from this address.
            #[oai(status = 429)]
            TooManyRequests(Json<OAuthErrorBody>, #[oai(header = "Retry-After")] u64),
            /// `server_error`.
            #[oai(status = 500)]
            Internal(Json<OAuthErrorBody>),
            /// `temporarily_unavailable`: nothing changed; retry.
            #[oai(status = 503)]
            Unavailable(Json<OAuthErrorBody>, #[oai(header = "Retry-After")] u64),
        }

        impl From<OAuthFailure> for $name {
            fn from(f: OAuthFailure) -> Self {
                match f.status {
                    400 => Self::BadRequest(Json(f.body)),
                    401 => Self::Unauthorized(Json(f.body), "Basic realm=\"latchkey\"".to_owned()),
                    429 => Self::TooManyRequests(Json(f.body), f.retry_after),
                    503 => Self::Unavailable(Json(f.body), f.retry_after),
                    _ => Self::Internal(Json(f.body)),
                }
            }
        }

        impl From<ApiError> for $name {
            fn from(e: ApiError) -> Self {
                if e.status().as_u16() == 404 {
                    Self::NotFound(e.into_json())
                } else {
                    Self::Internal(Json(OAuthErrorBody {
                        error: "server_error".to_owned(),
                        error_description: "internal error".to_owned(),
                    }))
                }
            }
        }
    };
}

oauth_response!(TokenEndpointResponse {
    /// The tokens (`Cache-Control: no-store`).
    #[oai(status = 200)]
    Ok(Json<TokenBody>),
});

oauth_response!(RevokeEndpointResponse {
    /// Revoked, or the token was unknown (RFC 7009 §2.2).
    #[oai(status = 200)]
    Ok,
});

oauth_response!(IntrospectEndpointResponse {
    /// `{"active": false}`, or the active token's `scope`, `client_id`, `sub`, `username`,
    /// `exp`, `iat`, `aud`, `iss`, `jti`, `token_type`.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
});

/// The body of a token, revocation or introspection request (`application/x-www-form-urlencoded`).
#[derive(Object, Deserialize, Debug, Clone, Default)]
pub struct TokenForm {
    /// `authorization_code` or `refresh_token` (token endpoint).
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    /// The token to revoke or introspect.
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
    /// Ignored: a refreshed grant keeps its scopes.
    pub scope: Option<String>,
    /// `client_secret_post`, or a public client's id.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// An RFC 6749 §5.2 error.
#[derive(Object, Debug, Clone)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Object, Debug, Clone)]
pub struct TokenBody {
    /// An RFC 9068 JWT (`typ: at+jwt`, `aud` = the client) for `/oauth2/userinfo`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Signed RS256 unless the client was registered for ES256 or EdDSA.
    pub id_token: String,
    /// With the `offline_access` scope: rotates on every use; a spent one revokes the grant.
    #[oai(skip_serializing_if_is_none)]
    pub refresh_token: Option<String>,
    pub scope: String,
}

impl From<Tokens> for TokenBody {
    fn from(tokens: Tokens) -> Self {
        Self {
            access_token: tokens.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: tokens.expires_in,
            id_token: tokens.id_token,
            refresh_token: tokens.refresh_token.map(|t| t.expose().to_owned()),
            scope: tokens.scope,
        }
    }
}

#[derive(ApiResponse)]
pub enum UserinfoResponse {
    /// The claims.
    #[oai(status = 200)]
    Ok(Json<serde_json::Value>),
    /// `invalid_token` (RFC 6750 §3.1).
    #[oai(status = 401)]
    Unauthorized(
        Json<OAuthErrorBody>,
        #[oai(header = "WWW-Authenticate")] String,
    ),
    /// `oidc_disabled`.
    #[oai(status = 404)]
    NotFound(ErrorJson),
    /// `internal`.
    #[oai(status = 500)]
    Internal(ErrorJson),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(ErrorJson),
}

impl From<ApiError> for UserinfoResponse {
    fn from(e: ApiError) -> Self {
        match e.status().as_u16() {
            404 => Self::NotFound(e.into_json()),
            503 => Self::Unavailable(e.into_json()),
            _ => Self::Internal(ApiError::new(ErrorCode::Internal).into_json()),
        }
    }
}

/// The discovery document (the fields Latchkey supports).
#[derive(Object, Debug, Clone)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub end_session_endpoint: String,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub claim_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    pub prompt_values_supported: Vec<String>,
    pub authorization_response_iss_parameter_supported: bool,
    pub claims_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
}

api_response! {
    pub enum DiscoveryResponse {
        /// The provider's configuration.
        #[oai(status = 200)]
        Ok(Json<Box<Discovery>>, #[oai(header = "Cache-Control")] String),
    }
    errors {
        404 => "`oidc_disabled`: `PUBLIC_URL` is not set.",
        503
    }
}

api_response! {
    pub enum RedirectResponse {
        /// Go on at `Location` (the app, or the client's redirect URI).
        #[oai(status = 303)]
        SeeOther(#[oai(header = "Location")] String),
    }
    errors {
        400,
        404 => "`oidc_disabled`: `PUBLIC_URL` is not set.",
        503
    }
}

/// What the app shows on its authorization page.
#[derive(Object, Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// The application's name, as the operator registered it.
    pub client_name: String,
    /// What it asks for: `openid`, and any of `profile`, `email`, `offline_access`.
    pub scopes: Vec<String>,
    /// `none`, `login`, `consent`, or `null`.
    pub prompt: Option<String>,
}

api_response! {
    pub enum RequestResponse {
        #[oai(status = 200)]
        Ok(Json<AuthorizationRequest>),
    }
    errors {
        400,
        404 => "`request_not_found` (unknown, expired or used) or `oidc_disabled`.",
        503
    }
}

/// What the app does next.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum StepAction {
    /// Send the person through sign-in, then back to `/authorize?request=…`.
    Login,
    /// Show the consent page.
    Consent,
    /// `location.assign(redirect_to)`.
    Redirect,
}

#[derive(Object, Debug, Clone)]
pub struct AuthorizationStep {
    pub action: StepAction,
    /// With `redirect`: the client's redirect URI with `code` (or `error`), `state` and `iss`.
    #[oai(skip_serializing_if_is_none)]
    pub redirect_to: Option<String>,
}

impl From<Next> for AuthorizationStep {
    fn from(next: Next) -> Self {
        match next {
            Next::Login => Self {
                action: StepAction::Login,
                redirect_to: None,
            },
            Next::Consent => Self {
                action: StepAction::Consent,
                redirect_to: None,
            },
            Next::Redirect(to) => Self {
                action: StepAction::Redirect,
                redirect_to: Some(to),
            },
        }
    }
}

api_response! {
    pub enum StepResponse {
        #[oai(status = 200)]
        Ok(Json<AuthorizationStep>),
    }
    errors {
        400,
        401,
        403,
        404 => "`request_not_found` (unknown, expired or used) or `oidc_disabled`.",
        503
    }
}

/// The person's answer.
#[derive(Object, Debug, Clone)]
pub struct Decision {
    pub allow: bool,
}

api_response! {
    pub enum DecisionResponse {
        /// Always `redirect`.
        #[oai(status = 200)]
        Ok(Json<AuthorizationStep>),
    }
    errors {
        400,
        401,
        403,
        404 => "`request_not_found` (unknown, expired or used) or `oidc_disabled`.",
        413,
        415,
        503
    }
}

#[derive(Object, Debug, Clone)]
pub struct LogoutRequest {
    /// The application that asked, when known.
    pub client_name: Option<String>,
    /// Ask "Sign out of Latchkey?" first.
    pub confirm: bool,
}

api_response! {
    pub enum LogoutRequestResponse {
        #[oai(status = 200)]
        Ok(Json<LogoutRequest>),
    }
    errors {
        400,
        404 => "`request_not_found` or `oidc_disabled`.",
        503
    }
}

#[derive(Object, Debug, Clone)]
pub struct LogoutDone {
    /// The application's `post_logout_redirect_uri` with its `state`, or `null`.
    pub redirect_to: Option<String>,
}

api_response! {
    pub enum LogoutCompleteResponse {
        /// Signed out; the session cookies are cleared.
        #[oai(status = 200)]
        Ok(Json<LogoutDone>),
    }
    errors {
        400,
        403,
        404 => "`request_not_found` or `oidc_disabled`.",
        503
    }
}

#[derive(Object, Debug, Clone)]
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub allowed_at: DateTime<Utc>,
    /// When it last signed the person in.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Object, Debug, Clone)]
pub struct AppList {
    pub apps: Vec<ConnectedApp>,
}

api_response! {
    pub enum AppsResponse {
        #[oai(status = 200)]
        Ok(Json<AppList>),
    }
    errors {
        401,
        503
    }
}

api_response! {
    pub enum RevokeAppResponse {
        /// Revoked.
        #[oai(status = 204)]
        NoContent,
    }
    errors {
        400,
        401,
        403,
        404 => "`not_found`: no such app allowed.",
        503
    }
}
