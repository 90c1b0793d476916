//! Signing up, in and out: register, login, refresh, logout, logout-all.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{answer, api_response},
    now,
    security::{AccessToken, OptionalAccessToken, authenticate},
    shared::{SecondFactorMethod, SessionResponse, StatusResponse, UserResponse, second_factor_of},
    text::{
        AnyUsername, LoginPassword, NewPassword, NewUsername, OneTimeCode, RecoveryCodeText, Text,
    },
};
use crate::{
    auth::{
        AuthError, accounts, challenges,
        credentials::{self, LoginAttempt, LoginOutcome},
        keys::Verification,
        second_factor::Code,
        sessions,
    },
    domain::Password,
};

#[derive(Default)]
pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account
    ///
    /// Registers a user. This does not sign in: call `/login` next. Usernames are unique
    /// regardless of letter case. Each client address may register `REGISTER_LIMIT_PER_IP`
    /// times an hour (taken names included).
    #[oai(path = "/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RegisterRequest>,
    ) -> RegisterResponse {
        answer(async {
            let Json(RegisterRequest { username, password }) = body;
            let (username, password) = credentials::parse_registration(
                &state.auth,
                username.into_inner(),
                password.into_inner(),
            )
            .await?;
            let user =
                credentials::register(&state.auth, username, password, &client_info(req), now())
                    .await?;
            Ok(RegisterResponse::Created(Json(user.into())))
        })
        .await
    }

    /// Sign in
    ///
    /// Checks the username and password and starts a session (with 2FA on, it answers
    /// `mfa_required` instead and `/login/mfa` finishes): sets the HttpOnly cookies
    /// `access_token` (a short-lived JWT) and `refresh_token` (exchanged at `/refresh`), plus a
    /// long-lived `device_token` that keeps this browser able to sign in while strangers are
    /// locked out of the username. A wrong password and an unknown username give the same
    /// answer. With `COOKIE_SECURE=true` the cookie names carry the `__Host-` prefix.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> LoginResponse {
        answer(async {
            let now = now();
            let Json(LoginRequest { username, password }) = body;
            let attempt = LoginAttempt {
                username: username.into_inner(),
                password: Password::parse_for_login(password.into_inner())?,
                device_token: state.cookies.device_token(jar),
            };
            let result =
                match credentials::login(&state.auth, attempt, &client_info(req), now).await? {
                    LoginOutcome::SignedIn(signed_in) => {
                        state.cookies.set_signed_in(jar, &signed_in, now);
                        LoginResult::Session((&signed_in.session).into())
                    }
                    LoginOutcome::SecondFactorRequired { challenge } => {
                        state
                            .cookies
                            .set_challenge(jar, &challenge, challenges::LIFETIME);
                        LoginResult::SecondFactor(SecondFactorChallenge::default())
                    }
                };
            Ok(LoginResponse::Ok(Json(result)))
        })
        .await
    }

    /// Finish signing in with a second factor
    ///
    /// After `/login` answered `mfa_required`: a code from the authenticator app (`code`) or
    /// one recovery code (`recovery_code`). Starts the session like `/login`. Wrong codes count
    /// like wrong passwords, and the fifth ends the challenge (`mfa_challenge_expired`: sign in
    /// again).
    #[oai(path = "/login/mfa", method = "post", operation_id = "login_mfa")]
    async fn login_mfa(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        body: Json<SecondFactorRequest>,
    ) -> LoginMfaResponse {
        answer(async {
            let now = now();
            let Json(SecondFactorRequest {
                code,
                recovery_code,
            }) = body;
            // No code at all is just a wrong one: it fails, and counts, like any other.
            let code = second_factor_of(code, recovery_code).unwrap_or(Code::Totp(String::new()));
            let device = state.cookies.device_token(jar);
            let signed_in = match state.cookies.challenge_token(jar) {
                Some(challenge) => {
                    credentials::complete_second_factor(
                        &state.auth,
                        &challenge,
                        code,
                        device.as_deref(),
                        &client_info(req),
                        now,
                    )
                    .await
                }
                None => Err(AuthError::MfaChallengeExpired),
            }
            .inspect_err(|e| {
                // The challenge is over: the browser forgets it.
                if matches!(e, AuthError::MfaChallengeExpired) {
                    state.cookies.clear_challenge(jar);
                }
            })?;
            state.cookies.clear_challenge(jar);
            state.cookies.set_signed_in(jar, &signed_in, now);
            Ok(LoginMfaResponse::Ok(Json((&signed_in.session).into())))
        })
        .await
    }

    /// Renew the session
    ///
    /// Exchanges the refresh-token cookie for a new pair of cookies. Each refresh token
    /// works once: repeating the same request within a few seconds (a lost response, two
    /// tabs) returns the same new pair; any later reuse of a spent token ends the session.
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
    ) -> RefreshResponse {
        answer(async {
            let now = now();
            let issued = match state.cookies.refresh_token(jar) {
                Some(presented) => {
                    sessions::rotate(&state.auth, &presented, &client_info(req), now).await
                }
                None => Err(AuthError::InvalidRefreshToken),
            }
            .inspect_err(|e| {
                // The token is worthless: make the browser forget both cookies.
                if matches!(e, AuthError::InvalidRefreshToken) {
                    state.cookies.clear_session(jar);
                }
            })?;
            state.cookies.set_session(jar, &issued, now);
            Ok(RefreshResponse::Ok(Json((&issued).into())))
        })
        .await
    }

    /// Sign out
    ///
    /// Ends the session named by the cookies (or a Bearer token) and clears both session
    /// cookies. The access token stops working at once. Succeeds even without a session.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: OptionalAccessToken,
    ) -> LogoutResponse {
        answer(async {
            let now = now();
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
            Ok(LogoutResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }

    /// Sign out everywhere
    ///
    /// Ends every session of the signed-in user, this one included, and clears the session
    /// cookies. Access tokens of every session stop working at once.
    #[oai(path = "/logout-all", method = "post", operation_id = "logout_all")]
    async fn logout_all(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
    ) -> LogoutAllResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            accounts::sign_out_everywhere(&state.auth.db, &caller, &client_info(req), now).await?;
            state.cookies.clear_session(jar);
            Ok(LogoutAllResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
    }
}

api_response! {
    pub enum RegisterResponse {
        /// The account was created.
        #[oai(status = 201)]
        Created(Json<UserResponse>),
    }
    errors {
        400 => "`validation_failed` (see `fields`: a password that is too short, too guessable or contains the username) or `malformed_request`.",
        403,
        409 => "`username_taken`.",
        413,
        415 => "`unsupported_media_type`: send `Content-Type: application/json`.",
        429 => "`too_many_attempts`: too many registrations from this address; wait `Retry-After`.",
        503 => "`service_unavailable`: the database is unreachable or the server is busy; retry."
    }
}

api_response! {
    pub enum LoginResponse {
        /// Signed in and the cookies are set; or, when 2FA is on, `mfa_required` and the
        /// `mfa_challenge` cookie for `/login/mfa` (no session yet).
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "`access_token`, `refresh_token` and `device_token` (or `mfa_challenge`), with the `__Host-` prefix when `COOKIE_SECURE=true`: HttpOnly, Path=/, SameSite and Secure as configured, Max-Age = the token's lifetime."
            )
        )]
        Ok(Json<LoginResult>),
    }
    errors {
        400 => "`validation_failed` (password over 128 characters) or `malformed_request`.",
        401 => "`invalid_credentials`.",
        403 => "`account_disabled` (only after the right password) or `forbidden_origin`.",
        413,
        415 => "`unsupported_media_type`: send `Content-Type: application/json`.",
        429 => "`too_many_attempts`: too many failures for this username (or this device), or from this address; wait `Retry-After` seconds. Checked before the password.",
        503 => "`service_unavailable`: the database is unreachable, or too many sign-ins already wait for a password check; retry after `Retry-After` seconds."
    }
}

api_response! {
    pub enum RefreshResponse {
        /// Both session cookies were replaced.
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "The new `access_token` and `refresh_token`."
            )
        )]
        Ok(Json<SessionResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`invalid_refresh_token`: sign in again. Both session cookies are cleared (`Set-Cookie` with `Max-Age=0`).",
        403,
        413,
        503 => "`service_unavailable`: retry; the session is still valid."
    }
}

api_response! {
    pub enum LogoutResponse {
        /// Signed out (or was not signed in); both session cookies are cleared.
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "Clears both session cookies (Max-Age=0)."
            )
        )]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        403,
        413,
        503 => "`service_unavailable`: the session could not be ended; retry."
    }
}

api_response! {
    pub enum LogoutAllResponse {
        /// Every session of the user has ended; this browser's session cookies are cleared.
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "Clears both session cookies (Max-Age=0)."
            )
        )]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        413,
        503 => "`service_unavailable`: nothing was ended; retry."
    }
}

api_response! {
    pub enum LoginMfaResponse {
        /// Signed in; the cookies are set and the challenge cookie cleared.
        #[oai(
            status = 200,
            header(
                name = "Set-Cookie",
                ty = "String",
                description = "`access_token`, `refresh_token`, `device_token`; clears `mfa_challenge`."
            )
        )]
        Ok(Json<SessionResponse>),
    }
    errors {
        400 => "`validation_failed` (no code, or both kinds) or `malformed_request`.",
        401 => "`invalid_mfa_code` (counts toward the limits), or `mfa_challenge_expired`: sign in again.",
        403 => "`account_disabled` or `forbidden_origin`.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: wait `Retry-After` seconds.",
        503 => "`service_unavailable`: retry."
    }
}

/// A new account.
#[derive(Object)]
pub struct RegisterRequest {
    /// 3–32 characters: letters, digits, `_`, `.` and `-`, starting with a letter or digit.
    /// Unique regardless of case; shown back exactly as typed.
    pub username: Text<NewUsername>,
    /// 12–128 characters, any characters, no composition rules; it must not contain the
    /// username nor be easy to guess (zxcvbn score of at least `PASSWORD_MIN_SCORE`, default 3).
    pub password: Text<NewPassword>,
}

/// Credentials for signing in.
#[derive(Object)]
pub struct LoginRequest {
    /// The username, in any letter case.
    pub username: Text<AnyUsername>,
    /// The password exactly as registered.
    pub password: Text<LoginPassword>,
}

/// The password was right and 2FA is on: finish at `/login/mfa` within five minutes (the
/// challenge travels in an HttpOnly cookie).
#[derive(Object, Debug, Clone)]
pub struct SecondFactorChallenge {
    /// Always `true`.
    pub mfa_required: bool,
    pub methods: Vec<SecondFactorMethod>,
}

impl Default for SecondFactorChallenge {
    fn default() -> Self {
        Self {
            mfa_required: true,
            methods: SecondFactorMethod::all(),
        }
    }
}

/// What `/login` answers with a right password: a session, or a second-factor step.
#[derive(poem_openapi::Union, Debug, Clone)]
pub enum LoginResult {
    Session(SessionResponse),
    SecondFactor(SecondFactorChallenge),
}

/// A second factor: one of the two (when both are sent, `code` is used).
#[derive(Object)]
pub struct SecondFactorRequest {
    /// Six digits from the authenticator app.
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
    /// One unused recovery code (`xxxxx-xxxxx`; case and dashes do not matter).
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}
