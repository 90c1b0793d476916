//! Second factors on one's own account: the authenticator app (TOTP), recovery codes and
//! passkeys, and signing in with a passkey.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    auth::{now, signed_in_with_cookies},
    client::client_info,
    error::{ApiError, api_response},
    models::{
        MfaStatus, PasskeyInfo, PasskeyList, PasskeyRegistrationCeremony,
        PasskeyRegistrationFinish, PasskeyRename, PasskeySignInFinish, RecoveryCodes,
        SessionResponse, StatusResponse, StepUpRequest, TotpConfirmation, TotpEnrolment,
        WebauthnCeremony,
    },
    security::{AccessToken, authenticate},
};
use crate::{
    auth::{AuthError, passkeys, second_factor},
    domain::{PasskeyName, Password},
};

pub struct MfaApi;

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
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<TotpConfirmation>,
    ) -> RecoveryCodesResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let device = state.cookies.device_token(jar);
            second_factor::confirm_totp(
                &state.auth,
                &caller,
                &body.0.code.into_inner(),
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
            let answer = body.0.into_answer(state.cookies.device_token(jar))?;
            second_factor::disable_totp(&state.auth, &caller, &answer, &client_info(req), now).await
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
            let answer = body.0.into_answer(state.cookies.device_token(jar))?;
            second_factor::replace_recovery_codes(
                &state.auth,
                &caller,
                &answer,
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
            let answer = body.0.into_answer(state.cookies.device_token(jar))?;
            passkeys::start_registration(&state.auth, &caller, &answer, &client_info(req), now)
                .await
        }
        .await;
        match result {
            Ok(registration) => CeremonyResponse::Ok(Json(PasskeyRegistrationCeremony {
                ceremony: registration.ceremony.token,
                options: registration.ceremony.options,
                suggested_name: registration.suggested_name.as_str().to_owned(),
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Add a passkey: finish
    ///
    /// The authenticator's answer (`credential.toJSON()`) and a name for the passkey (without
    /// one, the name suggested by the start step).
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
            let name = name
                .map(|name| PasskeyName::parse(&name.into_inner()))
                .transpose()
                .map_err(|e| AuthError::Validation(vec![e]))?;
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
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Rename a passkey
    ///
    /// Another user's id answers like a missing one.
    #[oai(
        path = "/passkeys/:id",
        method = "patch",
        operation_id = "passkey_rename"
    )]
    async fn rename(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// The passkey's `id` from `GET /passkeys`.
        id: Path<Uuid>,
        body: Json<PasskeyRename>,
    ) -> PasskeyRenamedResponse {
        let result = async {
            let caller = authenticate(&state, &auth, now()).await?;
            let name = PasskeyName::parse(&body.0.name.into_inner())
                .map_err(|e| AuthError::Validation(vec![e]))?;
            passkeys::rename(&state.auth.db, &caller, id.0, &name).await
        }
        .await;
        match result {
            Ok(row) => PasskeyRenamedResponse::Ok(Json(row.into())),
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
            let answer = body.0.into_answer(state.cookies.device_token(jar))?;
            passkeys::remove(&state.auth, &caller, id.0, &answer, &client_info(req), now).await
        }
        .await;
        match result {
            Ok(()) => PasskeyRemovedResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Sign in with a passkey: start
    ///
    /// Needs no username: returns the options for `navigator.credentials.get()` (no
    /// `allowCredentials`: the authenticator offers the passkeys it holds for this site, through
    /// the browser's autofill with `mediation: "conditional"`, or its own prompt) and the
    /// ceremony to finish within five minutes. The same for every caller, so it tells nothing
    /// about accounts. Each address may start `PASSKEY_START_LIMIT_PER_IP` ceremonies per 15
    /// minutes. A body, if sent, is ignored.
    #[oai(
        path = "/login/passkey/start",
        method = "post",
        operation_id = "passkey_login_start",
        tag = "ApiTags::Auth"
    )]
    async fn sign_in_start(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> PasskeySignInStartResponse {
        match passkeys::start_sign_in(&state.auth, &client_info(req), now()).await {
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
        let device = state.cookies.device_token(jar);
        match passkeys::finish_sign_in(
            &state.auth,
            &ceremony.into_inner(),
            credential,
            device.as_deref(),
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

api_response! {
    pub enum PasskeysResponse {
        /// The caller's passkeys, newest first.
        #[oai(status = 200)]
        Ok(Json<PasskeyList>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`forbidden_origin`.",
        503 => "`service_unavailable`: retry."
    }
}

api_response! {
    pub enum CeremonyResponse {
        /// The creation options, the ceremony, and a suggested name.
        #[oai(status = 200)]
        Ok(Json<PasskeyRegistrationCeremony>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum PasskeyAddedResponse {
        /// The passkey is registered.
        #[oai(status = 201)]
        Created(Json<PasskeyInfo>),
    }
    errors {
        400 => "`invalid_passkey` (the authenticator's answer did not verify, or the ceremony expired or was used), `validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`forbidden_origin`.",
        409 => "`passkey_already_registered`.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum PasskeyRemovedResponse {
        /// The passkey is gone.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (wrong password; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        404 => "`not_found`: no such passkey of the caller's.",
        413,
        415,
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After`.",
        503
    }
}

api_response! {
    pub enum PasskeySignInStartResponse {
        /// The request options and the ceremony.
        #[oai(status = 200)]
        Ok(Json<WebauthnCeremony>),
    }
    errors {
        400 => "`malformed_request`.",
        403,
        413,
        429 => "`too_many_attempts`: too many passkey sign-ins started from this address; wait `Retry-After` seconds.",
        503 => "`service_unavailable`."
    }
}

api_response! {
    pub enum PasskeyRenamedResponse {
        /// The passkey with its new name.
        #[oai(status = 200)]
        Ok(Json<PasskeyInfo>),
    }
    errors {
        400 => "`validation_failed` (see `fields`: an empty or overlong name, or control or invisible characters) or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        404 => "`not_found`: no such passkey of the caller's.",
        413,
        415,
        503
    }
}

api_response! {
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
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`invalid_passkey`: the answer did not verify, or the ceremony expired or was used.",
        403 => "`account_disabled` or `forbidden_origin`.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: too many failures from this address; wait `Retry-After`.",
        503 => "`service_unavailable`."
    }
}
