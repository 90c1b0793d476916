//! Second factors on one's own account: the authenticator app (TOTP) and its recovery codes,
//! and the overview of every factor.

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
    security::{AccessToken, authenticate},
    shared::{StatusResponse, StepUpRequest},
    text::{LoginPassword, OneTimeCode, Text},
};
use crate::{auth::second_factor, domain::Password};

#[derive(Default)]
pub struct AuthenticatorApi;

#[OpenApi(tag = "ApiTags::SecondFactors")]
impl AuthenticatorApi {
    /// My second factors
    ///
    /// Whether the authenticator app is on, how many recovery codes are left, and how many
    /// passkeys are registered.
    #[oai(path = "/mfa", method = "get", operation_id = "mfa_status")]
    async fn status(&self, state: Data<&AppState>, auth: AccessToken) -> MfaStatusResponse {
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            let status = second_factor::status(&state.auth.db, caller.user.id).await?;
            Ok(MfaStatusResponse::Ok(Json(MfaStatus {
                totp_enabled: status.totp_enabled,
                recovery_codes_remaining: status.recovery_codes_remaining,
                passkeys: status.passkeys,
            })))
        })
        .await
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
        body: Json<PasswordOnly>,
    ) -> TotpStartResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let password = Password::parse_for_login(body.0.password.into_inner())?;
            let device = state.cookies.device_token(jar);
            let enrolment = second_factor::start_totp(
                &state.auth,
                &caller,
                &password,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await?;
            Ok(TotpStartResponse::Ok(Json(TotpEnrolment {
                secret: enrolment.secret,
                otpauth_uri: enrolment.otpauth_uri,
            })))
        })
        .await
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
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<TotpConfirmation>,
    ) -> RecoveryCodesResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let device = state.cookies.device_token(jar);
            let codes = second_factor::confirm_totp(
                &state.auth,
                &caller,
                &body.0.code.into_inner(),
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await?;
            Ok(RecoveryCodesResponse::Ok(Json(RecoveryCodes {
                recovery_codes: codes,
            })))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            second_factor::disable_totp(&state.auth, &caller, &step_up, &client_info(req), now)
                .await?;
            Ok(StepUpResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            let codes = second_factor::replace_recovery_codes(
                &state.auth,
                &caller,
                &step_up,
                &client_info(req),
                now,
            )
            .await?;
            Ok(RecoveryCodesResponse::Ok(Json(RecoveryCodes {
                recovery_codes: codes,
            })))
        })
        .await
    }
}

api_response! {
    pub enum MfaStatusResponse {
        /// The caller's second factors.
        #[oai(status = 200)]
        Ok(Json<MfaStatus>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`forbidden_origin`.",
        503 => "`service_unavailable`: retry."
    }
}

api_response! {
    pub enum TotpStartResponse {
        /// The pending enrolment: the secret and its `otpauth://` URI.
        #[oai(status = 200)]
        Ok(Json<TotpEnrolment>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine) or `forbidden_origin`.",
        409 => "`mfa_already_enabled`: turn it off first.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum RecoveryCodesResponse {
        /// Ten recovery codes, shown this once.
        #[oai(status = 200)]
        Ok(Json<RecoveryCodes>),
    }
    errors {
        400 => "`validation_failed`, `malformed_request`, or `invalid_mfa_code` (a wrong first code when confirming).",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        409 => "`mfa_not_enabled`: there is no authenticator app (to confirm or to replace codes for).",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum StepUpResponse {
        /// Done.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        409 => "`mfa_not_enabled`: there is no authenticator app to turn off.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

/// The caller's second factors.
#[derive(Object, Debug, Clone)]
pub struct MfaStatus {
    /// An authenticator app is on: signing in with the password needs a code.
    pub totp_enabled: bool,
    /// Unused recovery codes.
    pub recovery_codes_remaining: u64,
    /// Registered passkeys.
    pub passkeys: u64,
}

/// A pending authenticator-app enrolment: scan the URI (or type the secret), then confirm
/// with a code. The secret is shown this once.
#[derive(Object, Debug, Clone)]
pub struct TotpEnrolment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

/// The first code from the app, to prove the enrolment worked.
#[derive(Object)]
pub struct TotpConfirmation {
    pub code: Text<OneTimeCode>,
}

/// Ten recovery codes, each good once. Shown this once: keep them somewhere safe.
#[derive(Object, Debug, Clone)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// The account's password, asked again.
#[derive(Object)]
pub struct PasswordOnly {
    pub password: Text<LoginPassword>,
}
