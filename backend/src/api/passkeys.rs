//! Passkeys on one's own account (add, list, rename, remove), and signing in with one.

use chrono::{DateTime, Utc};
use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};
use serde_json::Value;
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{answer, api_response},
    now,
    security::{AccessToken, authenticate},
    shared::{SessionResponse, StatusResponse, StepUpRequest},
    text::{OpaqueToken, PasskeyNameText, Text},
};
use crate::{auth::passkeys, domain::PasskeyName, entity::passkey};

#[derive(Default)]
pub struct PasskeysApi;

#[OpenApi(tag = "ApiTags::SecondFactors")]
impl PasskeysApi {
    /// My passkeys
    #[oai(path = "/passkeys", method = "get", operation_id = "passkeys")]
    async fn passkeys(&self, state: Data<&AppState>, auth: AccessToken) -> PasskeysResponse {
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            let rows = passkeys::passkeys_of(&state.auth.db, caller.user.id).await?;
            Ok(PasskeysResponse::Ok(Json(PasskeyList {
                passkeys: rows.into_iter().map(PasskeyInfo::from).collect(),
            })))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            let registration = passkeys::start_registration(
                &state.auth,
                &caller,
                &step_up,
                &client_info(req),
                now,
            )
            .await?;
            Ok(CeremonyResponse::Ok(Json(PasskeyRegistrationCeremony {
                ceremony: registration.ceremony.token,
                options: registration.ceremony.options,
                suggested_name: registration.suggested_name.as_str().to_owned(),
            })))
        })
        .await
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
        answer(async {
            let now = now();
            let Json(PasskeyRegistrationFinish {
                ceremony,
                name,
                credential,
            }) = body;
            let caller = authenticate(&state, &auth, now).await?;
            let name = name
                .map(|name| PasskeyName::parse(&name.into_inner()))
                .transpose()?;
            let row = passkeys::finish_registration(
                &state.auth,
                &caller,
                &ceremony.into_inner(),
                name,
                credential,
                &client_info(req),
                now,
            )
            .await?;
            Ok(PasskeyAddedResponse::Created(Json(row.into())))
        })
        .await
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
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            let name = PasskeyName::parse(&body.0.name.into_inner())?;
            let row = passkeys::rename(&state.auth.db, &caller, id.0, &name).await?;
            Ok(PasskeyRenamedResponse::Ok(Json(row.into())))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            passkeys::remove(&state.auth, &caller, id.0, &step_up, &client_info(req), now).await?;
            Ok(PasskeyRemovedResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
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
        answer(async {
            let ceremony = passkeys::start_sign_in(&state.auth, &client_info(req), now()).await?;
            Ok(PasskeySignInStartResponse::Ok(Json(WebauthnCeremony {
                ceremony: ceremony.token,
                options: ceremony.options,
            })))
        })
        .await
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
        answer(async {
            let now = now();
            let Json(PasskeySignInFinish {
                ceremony,
                credential,
            }) = body;
            let device = state.cookies.device_token(jar);
            let signed_in = passkeys::finish_sign_in(
                &state.auth,
                &ceremony.into_inner(),
                credential,
                device.as_deref(),
                &client_info(req),
                now,
            )
            .await?;
            state.cookies.set_signed_in(jar, &signed_in, now);
            Ok(PasskeySignInFinishResponse::Ok(Json(
                (&signed_in.session).into(),
            )))
        })
        .await
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

/// A registered passkey.
#[derive(Object, Debug, Clone)]
#[oai(rename = "Passkey")]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The last sign-in with it.
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<passkey::Model> for PasskeyInfo {
    fn from(row: passkey::Model) -> Self {
        Self {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
        }
    }
}

#[derive(Object, Debug, Clone)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyInfo>,
}

/// A passkey registration ceremony (see `WebauthnCeremony`), with a name for the new passkey
/// suggested from this device ("Chrome on macOS"), for the person to keep or change.
#[derive(Object, Debug, Clone)]
pub struct PasskeyRegistrationCeremony {
    pub ceremony: String,
    /// `{publicKey: …}`, binary fields in base64url, for `navigator.credentials.create()`.
    pub options: Value,
    pub suggested_name: String,
}

/// A new name for a passkey.
#[derive(Object)]
pub struct PasskeyRename {
    /// 1–64 characters; no control or invisible formatting characters.
    pub name: Text<PasskeyNameText>,
}

/// A WebAuthn ceremony: pass `options` to `navigator.credentials.create()` or `.get()`
/// (`PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey)` or
/// `parseRequestOptionsFromJSON`), then send the result with `ceremony` to the finish step
/// within five minutes.
#[derive(Object, Debug, Clone)]
pub struct WebauthnCeremony {
    pub ceremony: String,
    /// `{publicKey: …}`, binary fields in base64url.
    pub options: Value,
}

/// The authenticator's answer to a registration.
#[derive(Object)]
pub struct PasskeyRegistrationFinish {
    pub ceremony: Text<OpaqueToken>,
    /// What the user calls this passkey (1–64 characters; no control or invisible formatting
    /// characters). Without it, the name suggested when the ceremony started.
    #[oai(nullable)]
    pub name: Option<Text<PasskeyNameText>>,
    /// `credential.toJSON()` of the new credential.
    pub credential: Value,
}

/// The authenticator's answer to a sign-in.
#[derive(Object)]
pub struct PasskeySignInFinish {
    pub ceremony: Text<OpaqueToken>,
    /// `credential.toJSON()` of the assertion.
    pub credential: Value,
}
