//! For services and clients that are not browsers: the keys that verify access tokens, a
//! session check, and tokens in the body instead of cookies.
//!
//! `/token*` refuse any request that carries an `Origin` header: browser code must keep using
//! the HttpOnly cookies (`/login`, `/refresh`), so that no refresh token ever sits where page
//! scripts can read it. A CLI, a mobile app or a server has no `Origin` and holds its tokens
//! itself.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{ApiError, ErrorCode, answer, api_response},
    middleware::SentOrigin,
    now,
    security::{AccessToken, authenticate},
    shared::{SecondFactorMethod, StatusResponse, second_factor_of},
    text::{
        AnyUsername, DeviceTokenText, LoginPassword, OneTimeCode, OpaqueToken, RecoveryCodeText,
        RefreshTokenText, Text,
    },
};
use crate::{
    auth::{
        credentials::{self, LoginAttempt, LoginOutcome, SignedIn},
        keys::PublishedKey,
        second_factor::Code,
        sessions::{self, IssuedSession},
    },
    domain::Password,
};

#[derive(Default)]
pub struct TokensApi;

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Signing keys (JWKS)
    ///
    /// The public keys that verify Latchkey's access tokens (RFC 7517): every key that signed a
    /// token that is still valid, and the next key before it starts signing. Match a token's
    /// `kid` header; on an unknown `kid`, fetch this again (keys rotate). Cache it for the
    /// `max-age` given.
    #[oai(path = "/.well-known/jwks.json", method = "get", operation_id = "jwks")]
    async fn jwks(&self, state: Data<&AppState>) -> JwksResponse {
        let max_age = state.config.auth.jwt.jwks_max_age.as_secs();
        JwksResponse::Ok(
            Json(state.auth.keys.published().into()),
            format!("public, max-age={max_age}"),
        )
    }

    /// Is this session live?
    ///
    /// A cheap check for services that verify access tokens themselves but need immediate
    /// revocation: 200 while the token's session is live, 401 once it was signed out, revoked
    /// or expired (a token keeps verifying elsewhere until its `exp`).
    #[oai(path = "/session", method = "get", operation_id = "session")]
    async fn session(&self, state: Data<&AppState>, auth: AccessToken) -> SessionCheckResponse {
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            Ok(SessionCheckResponse::Ok(Json(SessionStatus {
                active: true,
                user_id: caller.user.id,
                session_id: caller.session_id,
                expires_at: caller.token_expires_at,
            })))
        })
        .await
    }

    /// Sign in (tokens in the body)
    ///
    /// For clients that are not browsers: checks the username and password, starts a session
    /// and returns its tokens in the body. Same limits as `/login`. Refused with `403
    /// forbidden_origin` when the request has an `Origin` header (browsers use `/login`).
    #[oai(path = "/token", method = "post", operation_id = "token")]
    async fn token(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<TokenRequest>,
    ) -> TokenIssueResponse {
        answer(async {
            let now = now();
            not_from_a_browser(req)?;
            let Json(TokenRequest {
                username,
                password,
                device_token,
            }) = body;
            let attempt = LoginAttempt {
                username: username.into_inner(),
                password: Password::parse_for_login(password.into_inner())?,
                device_token: device_token.map(Text::into_inner),
            };
            let result =
                match credentials::login(&state.auth, attempt, &client_info(req), now).await? {
                    LoginOutcome::SignedIn(signed_in) => {
                        TokenResult::Tokens(TokenResponse::signed_in(&signed_in, now))
                    }
                    LoginOutcome::SecondFactorRequired { challenge } => {
                        TokenResult::SecondFactor(TokenSecondFactor {
                            mfa_required: true,
                            methods: SecondFactorMethod::all(),
                            mfa_token: challenge,
                        })
                    }
                };
            Ok(TokenIssueResponse::Ok(Json(result)))
        })
        .await
    }

    /// Finish signing in with a second factor (body)
    ///
    /// After `/token` answered `mfa_required`: the `mfa_token` with a code from the
    /// authenticator app (`code`) or one recovery code (`recovery_code`). Wrong codes count
    /// like wrong passwords; the fifth ends the challenge.
    #[oai(path = "/token/mfa", method = "post", operation_id = "token_mfa")]
    async fn token_mfa(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<TokenSecondFactorRequest>,
    ) -> TokenMfaResponse {
        answer(async {
            let now = now();
            not_from_a_browser(req)?;
            let Json(TokenSecondFactorRequest {
                mfa_token,
                code,
                recovery_code,
                device_token,
            }) = body;
            // No code at all is just a wrong one: it fails, and counts, like any other.
            let code = second_factor_of(code, recovery_code).unwrap_or(Code::Totp(String::new()));
            let device_token = device_token.map(Text::into_inner);
            let signed_in = credentials::complete_second_factor(
                &state.auth,
                &mfa_token.into_inner(),
                code,
                device_token.as_deref(),
                &client_info(req),
                now,
            )
            .await?;
            Ok(TokenMfaResponse::Ok(Json(TokenResponse::signed_in(
                &signed_in, now,
            ))))
        })
        .await
    }

    /// Renew tokens (body)
    ///
    /// Exchanges a refresh token for a new pair, with the same rotation and reuse detection as
    /// `/refresh`: each refresh token works once; presenting a spent one ends the session.
    #[oai(
        path = "/token/refresh",
        method = "post",
        operation_id = "token_refresh"
    )]
    async fn token_refresh(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RefreshTokenRequest>,
    ) -> TokenRefreshResponse {
        answer(async {
            let now = now();
            not_from_a_browser(req)?;
            let presented = body.0.refresh_token.into_inner();
            let issued = sessions::rotate(&state.auth, &presented, &client_info(req), now).await?;
            Ok(TokenRefreshResponse::Ok(Json(TokenResponse::new(
                &issued, now,
            ))))
        })
        .await
    }

    /// Sign out (body)
    ///
    /// Ends the session a refresh token belongs to; its access tokens stop working at once.
    /// Succeeds for an unknown or already revoked token too (RFC 7009 §2.2).
    #[oai(path = "/token/revoke", method = "post", operation_id = "token_revoke")]
    async fn token_revoke(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RefreshTokenRequest>,
    ) -> TokenRevokeResponse {
        answer(async {
            not_from_a_browser(req)?;
            let presented = body.0.refresh_token.into_inner();
            sessions::logout(
                &state.auth.db,
                Some(&presented),
                None,
                &client_info(req),
                now(),
            )
            .await?;
            Ok(TokenRevokeResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }
}

/// Refuses a request from a browser page (one that carried `Origin`, same-origin included).
fn not_from_a_browser(req: &Request) -> Result<(), ApiError> {
    match req.extensions().get::<SentOrigin>() {
        Some(SentOrigin) => Err(ApiError::new(ErrorCode::ForbiddenOrigin)),
        None => Ok(()),
    }
}

#[derive(ApiResponse)]
pub enum JwksResponse {
    /// The key set.
    #[oai(status = 200)]
    Ok(
        Json<JwkSet>,
        /// `public, max-age=JWKS_MAX_AGE` (300 s by default).
        #[oai(header = "Cache-Control")]
        String,
    ),
}

api_response! {
    pub enum SessionCheckResponse {
        /// The session is live.
        #[oai(status = 200)]
        Ok(Json<SessionStatus>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: the token is invalid or expired, or its session has ended.",
        403,
        503 => "`service_unavailable`: the answer is unknown; retry."
    }
}

api_response! {
    pub enum TokenIssueResponse {
        /// Signed in: the tokens; or, when 2FA is on, `mfa_required` and an `mfa_token` for
        /// `/token/mfa`.
        #[oai(status = 200)]
        Ok(Json<TokenResult>),
    }
    errors {
        400 => "`validation_failed` (password over 128 characters) or `malformed_request`.",
        401 => "`invalid_credentials`.",
        403 => "`forbidden_origin` (a browser request: use `/login`) or `account_disabled`.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: wait `Retry-After` seconds.",
        503 => "`service_unavailable`: retry after `Retry-After` seconds when given."
    }
}

api_response! {
    pub enum TokenRefreshResponse {
        /// The new pair; the presented refresh token is spent.
        #[oai(status = 200)]
        Ok(Json<TokenResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`invalid_refresh_token`: sign in again.",
        403 => "`forbidden_origin`: a browser request; use `/refresh`.",
        413,
        415 => "`unsupported_media_type`.",
        503 => "`service_unavailable`: retry; the refresh token is still valid."
    }
}

api_response! {
    pub enum TokenRevokeResponse {
        /// The session is over (or there was none).
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        403 => "`forbidden_origin`: a browser request; use `/logout`.",
        413,
        415 => "`unsupported_media_type`.",
        503 => "`service_unavailable`: nothing was ended; retry."
    }
}

api_response! {
    pub enum TokenMfaResponse {
        /// Signed in: the tokens.
        #[oai(status = 200)]
        Ok(Json<TokenResponse>),
    }
    errors {
        400 => "`validation_failed` (no code, or both kinds) or `malformed_request`.",
        401 => "`invalid_mfa_code` (counts toward the limits), or `mfa_challenge_expired`: start again at `/token`.",
        403 => "`forbidden_origin` (a browser request) or `account_disabled`.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: wait `Retry-After` seconds.",
        503 => "`service_unavailable`: retry."
    }
}

/// Credentials for a client that is not a browser.
#[derive(Object)]
pub struct TokenRequest {
    /// The username, in any letter case.
    pub username: Text<AnyUsername>,
    /// The password exactly as registered.
    pub password: Text<LoginPassword>,
    /// The `device_token` an earlier sign-in of this client returned: the client is then
    /// judged by its own failure count, so strangers who lock the username out do not lock
    /// it out. Keep it, like a browser keeps its device cookie.
    #[oai(nullable)]
    pub device_token: Option<Text<DeviceTokenText>>,
}

/// A refresh token held by a client that is not a browser.
#[derive(Object)]
pub struct RefreshTokenRequest {
    /// The `refresh_token` from `/token` or the last `/token/refresh`.
    pub refresh_token: Text<RefreshTokenText>,
}

/// Tokens for a client that is not a browser (RFC 6749 §5.1 field names).
#[derive(Object, Debug, Clone)]
pub struct TokenResponse {
    /// The access token (a JWT): send it as `Authorization: Bearer`.
    pub access_token: String,
    /// Exchange it at `/token/refresh` for a new pair; it works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires unless it is used.
    pub refresh_expires_in: u64,
    /// After a sign-in: this client's device token (the same one it sent, or a new one).
    /// Send it as `device_token` with later sign-ins.
    #[oai(skip_serializing_if_is_none)]
    pub device_token: Option<String>,
    /// Seconds this client stays trusted unless it signs in again.
    #[oai(skip_serializing_if_is_none)]
    pub device_token_expires_in: Option<u64>,
}

fn seconds_from(now: DateTime<Utc>, at: DateTime<Utc>) -> u64 {
    u64::try_from((at - now).num_seconds()).unwrap_or(0)
}

impl TokenResponse {
    pub fn new(issued: &IssuedSession, now: DateTime<Utc>) -> Self {
        Self {
            access_token: issued.access_token.clone(),
            refresh_token: issued.refresh_token.expose().to_owned(),
            token_type: "Bearer".to_owned(),
            expires_in: seconds_from(now, issued.access_expires_at),
            refresh_expires_in: seconds_from(now, issued.refresh_expires_at),
            device_token: None,
            device_token_expires_in: None,
        }
    }

    /// The tokens of a sign-in, with its device token.
    pub fn signed_in(signed_in: &SignedIn, now: DateTime<Utc>) -> Self {
        Self {
            device_token: signed_in.device.as_ref().map(|d| d.token.clone()),
            device_token_expires_in: signed_in
                .device
                .as_ref()
                .map(|d| seconds_from(now, d.expires_at)),
            ..Self::new(&signed_in.session, now)
        }
    }
}

/// The password was right and 2FA is on: finish at `/token/mfa` within five minutes.
#[derive(Object, Debug, Clone)]
pub struct TokenSecondFactor {
    /// Always `true`.
    pub mfa_required: bool,
    pub methods: Vec<SecondFactorMethod>,
    /// Send it back to `/token/mfa` with the code; it works once.
    pub mfa_token: String,
}

/// What `/token` answers with a right password: tokens, or a second-factor step.
#[derive(poem_openapi::Union, Debug, Clone)]
pub enum TokenResult {
    Tokens(TokenResponse),
    SecondFactor(TokenSecondFactor),
}

/// The second step of `/token` when 2FA is on.
#[derive(Object)]
pub struct TokenSecondFactorRequest {
    pub mfa_token: Text<OpaqueToken>,
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
    /// This client's `device_token`, as for `/token`.
    #[oai(nullable)]
    pub device_token: Option<Text<DeviceTokenText>>,
}

/// A public key that verifies access tokens or ID tokens (RFC 7517).
#[derive(Object, Debug, Clone)]
pub struct Jwk {
    /// `OKP` (Ed25519), `EC` (P-256) or `RSA` (ID tokens, RS256).
    pub kty: String,
    /// `Ed25519` or `P-256`; absent for `RSA`.
    #[oai(skip_serializing_if_is_none)]
    pub crv: Option<String>,
    /// Absent for `RSA`.
    #[oai(skip_serializing_if_is_none)]
    pub x: Option<String>,
    /// Present for `EC` keys.
    #[oai(skip_serializing_if_is_none)]
    pub y: Option<String>,
    /// The RSA modulus (base64url), for `RSA` keys.
    #[oai(skip_serializing_if_is_none)]
    pub n: Option<String>,
    /// The RSA public exponent (base64url), for `RSA` keys.
    #[oai(skip_serializing_if_is_none)]
    pub e: Option<String>,
    /// The `kid` in the header of the tokens this key signed.
    pub kid: String,
    /// `EdDSA`, `ES256` or `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[oai(rename = "use")]
    pub use_: String,
}

/// Every key that may verify a token that is still valid, and the next key before it signs.
#[derive(Object, Debug, Clone)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl From<Vec<PublishedKey>> for JwkSet {
    fn from(keys: Vec<PublishedKey>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|key| Jwk {
                    kty: key.jwk.kty,
                    crv: key.jwk.crv,
                    x: key.jwk.x,
                    y: key.jwk.y,
                    n: key.jwk.n,
                    e: key.jwk.e,
                    kid: key.kid,
                    alg: key.alg.to_owned(),
                    use_: "sig".to_owned(),
                })
                .collect(),
        }
    }
}

/// The state of the session behind an access token.
#[derive(Object, Debug, Clone)]
pub struct SessionStatus {
    /// Always `true`: an inactive session answers 401.
    pub active: bool,
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// When this access token expires.
    pub expires_at: DateTime<Utc>,
}
