//! Second factors on one's own account: the authenticator app (TOTP), recovery codes and
//! passkeys, and signing in with a passkey.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags,
    auth::{now, signed_in_with_cookies},
    client::client_info,
    error::{ApiError, ErrorJson, error_variants},
    models::{
        MfaStatus, PasskeyInfo, PasskeyList, PasskeyRegistrationFinish, PasskeySignInFinish,
        PasskeySignInStart, RecoveryCodes, SessionResponse, StatusResponse, StepUpRequest,
        TotpConfirmation, TotpEnrolment, WebauthnCeremony, second_factor_of,
    },
    security::{AccessToken, authenticate},
};
use crate::{
    auth::{AuthError, passkeys, second_factor},
    domain::Password,
    state::AppState,
};

pub struct MfaApi;

/// The password and optional second factor of a step-up request, parsed.
fn step_up_input(
    body: StepUpRequest,
) -> Result<(Password, Option<second_factor::Code>), AuthError> {
    let password = Password::parse_for_login(body.password.into_inner())
        .map_err(|e| AuthError::Validation(vec![e]))?;
    Ok((password, second_factor_of(body.code, body.recovery_code)))
}

#[OpenApi(tag = "ApiTags::SecondFactors")]
impl MfaApi {
    /// My second factors
    ///
    /// Whether the authenticator app is on, how many recovery codes are left, and how many
    /// passkeys are registered.
    #[oai(path = "/mfa", method = "get", operation_id = "mfa_status")]
    async fn status(&self, state: Data<&AppState>, auth: AccessToken) -> MfaStatusResponse {
        let result = async {
            let caller = authenticate(&state, &auth, now()).await?;
            second_factor::status(&state.auth.db, caller.user.id).await
        }
        .await;
        match result {
            Ok(status) => MfaStatusResponse::Ok(Json(MfaStatus {
                totp_enabled: status.totp_enabled,
                recovery_codes_remaining: status.recovery_codes_remaining,
                passkeys: status.passkeys,
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Set up an authenticator app
    ///
    /// Checks the password and starts (or restarts) an enrolment: returns the secret and an
    /// `otpauth://` URI for a QR code, shown this once. Nothing changes for sign-in until
    /// `/mfa/totp/confirm` succeeds.
    #[oai(path = "/mfa/totp", method = "post", operation_id = "totp_start")]
    async fn totp_start(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<super::models::PasswordOnly>,
    ) -> TotpStartResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let password = Password::parse_for_login(body.0.password.into_inner())
                .map_err(|e| AuthError::Validation(vec![e]))?;
            let device = state.cookies.device_token(jar);
            second_factor::start_totp(
                &state.auth,
                &caller,
                &password,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(enrolment) => TotpStartResponse::Ok(Json(TotpEnrolment {
                secret: enrolment.secret,
                otpauth_uri: enrolment.otpauth_uri,
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Turn the authenticator app on
    ///
    /// Confirms the enrolment with a first code from the app. From now on, signing in with the
    /// password needs a code. Returns ten recovery codes, each good once, shown this once.
    #[oai(
        path = "/mfa/totp/confirm",
        method = "post",
        operation_id = "totp_confirm"
    )]
    async fn totp_confirm(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        body: Json<TotpConfirmation>,
    ) -> RecoveryCodesResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            second_factor::confirm_totp(
                &state.auth,
                &caller,
                &body.0.code.into_inner(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(codes) => RecoveryCodesResponse::Ok(Json(RecoveryCodes {
                recovery_codes: codes,
            })),
            // A wrong first code is a form error, not a failed sign-in.
            Err(AuthError::InvalidMfaCode) => {
                ApiError::new(super::error::ErrorCode::InvalidMfaCode)
                    .with_status(poem::http::StatusCode::BAD_REQUEST)
                    .into()
            }
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Turn the authenticator app off
    ///
    /// Needs the password and a current code (or a recovery code). The recovery codes go too.
    #[oai(path = "/mfa/totp", method = "delete", operation_id = "totp_disable")]
    async fn totp_disable(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> StepUpResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let (password, code) = step_up_input(body.0)?;
            let device = state.cookies.device_token(jar);
            second_factor::disable_totp(
                &state.auth,
                &caller,
                &password,
                code,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(()) => StepUpResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Replace the recovery codes
    ///
    /// Needs the password and a current code (or a recovery code). Every old code stops
    /// working; ten new ones are returned, shown this once.
    #[oai(
        path = "/mfa/recovery-codes",
        method = "post",
        operation_id = "recovery_codes_replace"
    )]
    async fn recovery_codes(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> RecoveryCodesResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let (password, code) = step_up_input(body.0)?;
            let device = state.cookies.device_token(jar);
            second_factor::replace_recovery_codes(
                &state.auth,
                &caller,
                &password,
                code,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(codes) => RecoveryCodesResponse::Ok(Json(RecoveryCodes {
                recovery_codes: codes,
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// My passkeys
    #[oai(path = "/passkeys", method = "get", operation_id = "passkeys")]
    async fn passkeys(&self, state: Data<&AppState>, auth: AccessToken) -> PasskeysResponse {
        let result = async {
            let caller = authenticate(&state, &auth, now()).await?;
            passkeys::passkeys_of(&state.auth.db, caller.user.id).await
        }
        .await;
        match result {
            Ok(rows) => PasskeysResponse::Ok(Json(PasskeyList {
                passkeys: rows.into_iter().map(PasskeyInfo::from).collect(),
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Add a passkey: start
    ///
    /// Needs the password (and a code when 2FA is on). Returns the options for
    /// `navigator.credentials.create()` and the ceremony to finish within five minutes.
    #[oai(
        path = "/passkeys/register/start",
        method = "post",
        operation_id = "passkey_register_start"
    )]
    async fn register_start(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> CeremonyResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let (password, code) = step_up_input(body.0)?;
            let device = state.cookies.device_token(jar);
            passkeys::start_registration(
                &state.auth,
                &caller,
                &password,
                code,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(ceremony) => CeremonyResponse::Ok(Json(WebauthnCeremony {
                ceremony: ceremony.token,
                options: ceremony.options,
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Add a passkey: finish
    ///
    /// The authenticator's answer (`credential.toJSON()`) and a name for the passkey.
    #[oai(
        path = "/passkeys/register/finish",
        method = "post",
        operation_id = "passkey_register_finish"
    )]
    async fn register_finish(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        body: Json<PasskeyRegistrationFinish>,
    ) -> PasskeyAddedResponse {
        let now = now();
        let Json(PasskeyRegistrationFinish {
            ceremony,
            name,
            credential,
        }) = body;
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let name = name.into_inner();
            let name = name.trim();
            if name.is_empty() {
                return Err(AuthError::Validation(vec![crate::domain::FieldError::new(
                    "name",
                    "Give the passkey a name.",
                )]));
            }
            passkeys::finish_registration(
                &state.auth,
                &caller,
                &ceremony.into_inner(),
                name,
                credential,
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(row) => PasskeyAddedResponse::Created(Json(row.into())),
            // A failed registration is a bad answer from this client, not a failed sign-in.
            Err(AuthError::InvalidPasskey) => {
                ApiError::new(super::error::ErrorCode::InvalidPasskey)
                    .with_status(poem::http::StatusCode::BAD_REQUEST)
                    .into()
            }
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Remove a passkey
    ///
    /// Needs the password (and a code when 2FA is on). Another user's id answers like a
    /// missing one.
    #[oai(
        path = "/passkeys/:id",
        method = "delete",
        operation_id = "passkey_remove"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        /// The passkey's `id` from `GET /passkeys`.
        id: Path<Uuid>,
        body: Json<StepUpRequest>,
    ) -> PasskeyRemovedResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let (password, code) = step_up_input(body.0)?;
            let device = state.cookies.device_token(jar);
            passkeys::remove(
                &state.auth,
                &caller,
                id.0,
                &password,
                code,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(()) => PasskeyRemovedResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Sign in with a passkey: start
    ///
    /// Returns the options for `navigator.credentials.get()` and the ceremony to finish within
    /// five minutes. Every name gets options of the same shape, so the answer does not tell
    /// which accounts exist.
    #[oai(
        path = "/login/passkey/start",
        method = "post",
        operation_id = "passkey_login_start",
        tag = "ApiTags::Auth"
    )]
    async fn sign_in_start(
        &self,
        state: Data<&AppState>,
        body: Json<PasskeySignInStart>,
    ) -> PasskeySignInStartResponse {
        match passkeys::start_sign_in(&state.auth, &body.0.username.into_inner(), now()).await {
            Ok(ceremony) => PasskeySignInStartResponse::Ok(Json(WebauthnCeremony {
                ceremony: ceremony.token,
                options: ceremony.options,
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Sign in with a passkey: finish
    ///
    /// The authenticator's answer (`credential.toJSON()`). Starts the session like `/login`;
    /// a passkey with user verification is two factors, so no code is asked.
    #[oai(
        path = "/login/passkey/finish",
        method = "post",
        operation_id = "passkey_login_finish",
        tag = "ApiTags::Auth"
    )]
    async fn sign_in_finish(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        body: Json<PasskeySignInFinish>,
    ) -> PasskeySignInFinishResponse {
        let now = now();
        let Json(PasskeySignInFinish {
            ceremony,
            credential,
        }) = body;
        match passkeys::finish_sign_in(
            &state.auth,
            &ceremony.into_inner(),
            credential,
            &client_info(req),
            now,
        )
        .await
        {
            Ok(signed_in) => PasskeySignInFinishResponse::Ok(Json(signed_in_with_cookies(
                &state, jar, &signed_in, now,
            ))),
            Err(e) => ApiError::from(e).into(),
        }
    }
}

/// Declares a response enum for a signed-in operation: its 200 (or 201) body, then the usual
/// errors with the descriptions given.
macro_rules! account_response {
    ($name:ident, $status:literal, $variant:ident, $body:ty, $ok:literal, $forbidden:literal $(, $extra_status:literal => $extra:ident $extra_doc:literal)*) => {
        #[derive(ApiResponse)]
        #[oai(bad_request_handler = "super::error::rejected")]
        pub enum $name {
            #[doc = $ok]
            #[oai(status = $status)]
            $variant(Json<$body>),
            /// `validation_failed` or `malformed_request`.
            #[oai(status = 400)]
            BadRequest(ErrorJson),
            /// `unauthenticated`: try `/refresh`.
            #[oai(status = 401)]
            Unauthorized(ErrorJson),
            #[doc = $forbidden]
            #[oai(status = 403)]
            Forbidden(ErrorJson),
            $(
                #[doc = $extra_doc]
                #[oai(status = $extra_status)]
                $extra(ErrorJson),
            )*
            /// `payload_too_large`.
            #[oai(status = 413)]
            PayloadTooLarge(ErrorJson),
            /// `unsupported_media_type`.
            #[oai(status = 415)]
            UnsupportedMediaType(ErrorJson),
            /// `too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.
            #[oai(
                status = 429,
                header(name = "Retry-After", ty = "u64", description = "Seconds to wait.")
            )]
            TooManyRequests(ErrorJson),
            /// `internal`.
            #[oai(status = 500)]
            Internal(ErrorJson),
            /// `service_unavailable`: nothing changed; retry.
            #[oai(
                status = 503,
                header(name = "Retry-After", ty = "Option<u64>", description = "Seconds to wait, when known.")
            )]
            Unavailable(ErrorJson),
        }
        error_variants!($name { 400 => BadRequest, 401 => Unauthorized, 403 => Forbidden $(, $extra_status => $extra)*, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 429 => TooManyRequests, 500 => Internal, 503 => Unavailable });
    };
}

account_response!(
    MfaStatusResponse,
    200,
    Ok,
    MfaStatus,
    "The caller's second factors.",
    "`forbidden_origin`."
);
account_response!(
    TotpStartResponse, 200, Ok, TotpEnrolment,
    "The pending enrolment: the secret and its `otpauth://` URI.",
    "`invalid_credentials` (wrong password; the session is fine) or `forbidden_origin`.",
    409 => Conflict "`mfa_already_enabled`: turn it off first."
);
account_response!(
    RecoveryCodesResponse, 200, Ok, RecoveryCodes,
    "Ten recovery codes, shown this once.",
    "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
    409 => Conflict "`mfa_not_enabled`: there is no authenticator app (to confirm or to replace codes for)."
);
account_response!(
    StepUpResponse, 200, Ok, StatusResponse,
    "Done.",
    "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
    409 => Conflict "`mfa_not_enabled`: there is no authenticator app to turn off."
);
account_response!(
    PasskeysResponse,
    200,
    Ok,
    PasskeyList,
    "The caller's passkeys, newest first.",
    "`forbidden_origin`."
);
account_response!(
    CeremonyResponse,
    200,
    Ok,
    WebauthnCeremony,
    "The creation options and the ceremony.",
    "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`."
);
account_response!(
    PasskeyAddedResponse, 201, Created, PasskeyInfo,
    "The passkey is registered.",
    "`forbidden_origin`.",
    409 => Conflict "`passkey_already_registered`."
);
account_response!(
    PasskeyRemovedResponse, 200, Ok, StatusResponse,
    "The passkey is gone.",
    "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
    404 => NotFound "`not_found`: no such passkey of the caller's."
);

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum PasskeySignInStartResponse {
    /// The request options and the ceremony.
    #[oai(status = 200)]
    Ok(Json<WebauthnCeremony>),
    /// `malformed_request`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `forbidden_origin`.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(ErrorJson),
    /// `unsupported_media_type`.
    #[oai(status = 415)]
    UnsupportedMediaType(ErrorJson),
    /// `internal`.
    #[oai(status = 500)]
    Internal(ErrorJson),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(ErrorJson),
}
error_variants!(PasskeySignInStartResponse { 400 => BadRequest, 403 => Forbidden, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 500 => Internal, 503 => Unavailable });

#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::error::rejected")]
pub enum PasskeySignInFinishResponse {
    /// Signed in; the cookies are set.
    #[oai(
        status = 200,
        header(
            name = "Set-Cookie",
            ty = "String",
            description = "`access_token` and `refresh_token`."
        )
    )]
    Ok(Json<SessionResponse>),
    /// `malformed_request`.
    #[oai(status = 400)]
    BadRequest(ErrorJson),
    /// `invalid_passkey`: the answer did not verify, or the ceremony expired or was used.
    #[oai(status = 401)]
    Unauthorized(ErrorJson),
    /// `account_disabled` or `forbidden_origin`.
    #[oai(status = 403)]
    Forbidden(ErrorJson),
    /// `payload_too_large`.
    #[oai(status = 413)]
    PayloadTooLarge(ErrorJson),
    /// `unsupported_media_type`.
    #[oai(status = 415)]
    UnsupportedMediaType(ErrorJson),
    /// `too_many_attempts`: too many failures from this address; wait `Retry-After`.
    #[oai(
        status = 429,
        header(name = "Retry-After", ty = "u64", description = "Seconds to wait.")
    )]
    TooManyRequests(ErrorJson),
    /// `internal`.
    #[oai(status = 500)]
    Internal(ErrorJson),
    /// `service_unavailable`.
    #[oai(status = 503)]
    Unavailable(ErrorJson),
}
error_variants!(PasskeySignInFinishResponse { 400 => BadRequest, 401 => Unauthorized, 403 => Forbidden, 413 => PayloadTooLarge, 415 => UnsupportedMediaType, 429 => TooManyRequests, 500 => Internal, 503 => Unavailable });
