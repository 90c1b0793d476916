//! Account and session operations: register, login, refresh, logout.

use chrono::{SubsecRound as _, Utc};
use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, OpenApi, param, payload::Json};

use super::{
    ApiTags,
    cookies::CookieFactory,
    error::{ApiError, ErrorBody, ErrorCode, error_variants},
    models::{LoginRequest, RegisterRequest, SessionResponse, StatusResponse, UserResponse},
    security::OptionalAccessToken,
};
use crate::{
    auth::{AuthError, ClientInfo, credentials, sessions},
    domain::Password,
    state::AppState,
};

pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Registers a user. This does not sign in: call `/login` next. Usernames are unique
    /// regardless of letter case.
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&AppState>,
        body: Json<RegisterRequest>,
    ) -> RegisterResponse {
        let now = now();
        let Json(RegisterRequest { username, password }) = body;
        let result = async {
            let (username, password) =
                credentials::parse_registration(username.into_inner(), password.into_inner())?;
            credentials::register(&state, username, password, now).await
        }
        .await;
        match result {
            Ok(user) => RegisterResponse::Created(Json(user.into())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Sign in
    ///
    /// Checks the username and password and starts a session: sets the HttpOnly cookies
    /// `access_token` (a short-lived JWT) and `refresh_token` (exchanged at `/refresh`).
    /// A wrong password and an unknown username give the same answer.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> LoginResponse {
        let now = now();
        let Json(LoginRequest { username, password }) = body;
        let password = match Password::parse_for_login(password.into_inner()) {
            Ok(password) => password,
            Err(e) => return ApiError::from(AuthError::Validation(vec![e])).into(),
        };
        match credentials::login(
            &state,
            username.into_inner(),
            password,
            client_info(req),
            now,
        )
        .await
        {
            Ok(issued) => {
                CookieFactory::new(&state.config).set_session(jar, &issued, now);
                LoginResponse::Ok(Json((&issued).into()))
            }
            Err(AuthError::TooManyAttempts { retry_after }) => {
                let body = ApiError::new(ErrorCode::TooManyAttempts).into_json();
                // Round up: retrying after a truncated delay would be refused again.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                LoginResponse::TooManyRequests(body, seconds)
            }
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Renew the session
    ///
    /// Exchanges the `refresh_token` cookie for a new pair of cookies. Each refresh token
    /// works once: repeating the same request within a few seconds (a lost response, two
    /// tabs) returns the same new pair; any later reuse of a spent token ends the session.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        /// Set by `/login` or a previous `/refresh`; the browser sends it automatically.
        #[oai(name = "refresh_token")]
        refresh_token: param::Cookie<Option<String>>,
    ) -> RefreshResponse {
        let now = now();
        let cookies = CookieFactory::new(&state.config);
        let rotated = match refresh_token.0 {
            Some(presented) => sessions::rotate(&state, &presented, now).await,
            None => Err(AuthError::InvalidRefreshToken),
        };
        match rotated {
            Ok(issued) => {
                cookies.set_session(jar, &issued, now);
                RefreshResponse::Ok(Json((&issued).into()))
            }
            Err(e @ AuthError::InvalidRefreshToken) => {
                // The token is worthless: make the browser forget both cookies.
                cookies.clear_session(jar);
                ApiError::from(e).into()
            }
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Sign out
    ///
    /// Ends the session named by the cookies (or a Bearer token) and clears both cookies.
    /// The access token stops working at once. Succeeds even without a session.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        auth: OptionalAccessToken,
        /// The session's refresh token, if the browser still has it.
        #[oai(name = "refresh_token")]
        refresh_token: param::Cookie<Option<String>>,
    ) -> LogoutResponse {
        let now = now();
        let access_session = auth
            .token()
            .and_then(|t| state.keys.verify_access(t, now))
            .map(|claims| claims.sid);
        match sessions::logout(&state, refresh_token.0.as_deref(), access_session, now).await {
            Ok(()) => {
                CookieFactory::new(&state.config).clear_session(jar);
                LogoutResponse::Ok(Json(StatusResponse::ok()))
            }
            Err(e) => ApiError::from(e).into(),
        }
    }
}

/// Times are stored with microsecond precision on both databases.
pub(super) fn now() -> chrono::DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn client_info(req: &Request) -> ClientInfo {
    ClientInfo {
        user_agent: req.header("user-agent").map(str::to_owned),
        // The TCP peer, not X-Forwarded-For: a header any client can forge.
        ip: req
            .remote_addr()
            .as_socket_addr()
            .map(|addr| addr.ip().to_string()),
    }
}

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum RegisterResponse {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<UserResponse>),
    /// `validation_failed` (see `fields`) or `malformed_request`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `username_taken`.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `unsupported_media_type`: send `Content-Type: application/json`.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// `internal`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `service_unavailable`: the database is unreachable; retry.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}
error_variants!(RegisterResponse { 400 => BadRequest, 409 => Conflict, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 500 => Internal, 503 => Unavailable });

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum LoginResponse {
    /// Signed in; both cookies are set.
    #[oai(
        status = 200,
        header(
            name = "Set-Cookie",
            ty = "String",
            description = "`access_token` and `refresh_token`: HttpOnly, Path=/, SameSite and Secure as configured, Max-Age = the token's lifetime."
        )
    )]
    Ok(Json<SessionResponse>),
    /// `validation_failed` (password over 128 characters) or `malformed_request`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `invalid_credentials`.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `unsupported_media_type`: send `Content-Type: application/json`.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// `too_many_attempts`: this username failed to log in too often; wait `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// `internal`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}
error_variants!(LoginResponse { 400 => BadRequest, 401 => Unauthorized, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 500 => Internal, 503 => Unavailable });

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum RefreshResponse {
    /// Both cookies were replaced.
    #[oai(
        status = 200,
        header(
            name = "Set-Cookie",
            ty = "String",
            description = "The new `access_token` and `refresh_token`."
        )
    )]
    Ok(Json<SessionResponse>),
    /// `malformed_request`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `invalid_refresh_token`; both cookies are cleared. Log in again.
    #[oai(
        status = 401,
        header(
            name = "Set-Cookie",
            ty = "String",
            description = "Clears both cookies (Max-Age=0)."
        )
    )]
    Unauthorized(Json<ErrorBody>),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `internal`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}
error_variants!(RefreshResponse { 400 => BadRequest, 401 => Unauthorized, 413 => PayloadTooLarge, 500 => Internal, 503 => Unavailable });

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum LogoutResponse {
    /// Signed out (or was not signed in); both cookies are cleared.
    #[oai(
        status = 200,
        header(
            name = "Set-Cookie",
            ty = "String",
            description = "Clears both cookies (Max-Age=0)."
        )
    )]
    Ok(Json<StatusResponse>),
    /// `malformed_request`.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// `internal`.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// `service_unavailable`: the session could not be ended; retry.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}
error_variants!(LogoutResponse { 400 => BadRequest, 413 => PayloadTooLarge, 500 => Internal, 503 => Unavailable });
