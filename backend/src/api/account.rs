//! Managing one's own account: where am I signed in, end a session, change the password,
//! recent security events.

use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    auth::now,
    client::client_info,
    error::{ApiError, api_response},
    models::{
        ActivityEventResponse, ActivityKind, ActivityList, PasswordChangeRequest, SessionInfo,
        SessionList, StatusResponse, TrustedDeviceInfo, TrustedDeviceList, step_up_answer,
    },
    security::{AccessToken, authenticate},
};
use crate::auth::{AuthError, accounts, activity, device, sessions};

const DEFAULT_ACTIVITY: u32 = 50;
const MAX_ACTIVITY: u32 = 200;

pub struct AccountApi;

#[OpenApi(tag = "ApiTags::Account")]
impl AccountApi {
    /// Where I am signed in
    ///
    /// The caller's active sessions, most recently used first, with `current: true` on the
    /// one making this request.
    #[oai(path = "/sessions", method = "get", operation_id = "list_sessions")]
    async fn list_sessions(&self, state: Data<&AppState>, auth: AccessToken) -> SessionsResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let rows = sessions::active(&state.auth.db, caller.user.id, now).await?;
            Ok::<_, AuthError>(SessionList {
                sessions: rows
                    .into_iter()
                    .map(|row| SessionInfo::new(row, caller.session_id))
                    .collect(),
            })
        }
        .await;
        match result {
            Ok(list) => SessionsResponse::Ok(Json(list)),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// End one session
    ///
    /// Revokes one of the caller's sessions: its refresh token and its access tokens stop
    /// working at once. An id that is not one of the caller's sessions is `404`, whether or
    /// not it exists. Revoking the current session signs this client out.
    #[oai(
        path = "/sessions/:id",
        method = "delete",
        operation_id = "revoke_session"
    )]
    async fn revoke_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        /// The session's `id` from `GET /sessions`.
        id: Path<Uuid>,
    ) -> RevokeSessionResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            sessions::revoke(&state.auth.db, caller.user.id, id.0, &client_info(req), now).await
        }
        .await;
        match result {
            Ok(()) => RevokeSessionResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Devices I trust
    ///
    /// The browsers and clients that signed in to this account (at most ten, the most recently
    /// used), with `current: true` on the one making this request. A sign-in from one of them
    /// is judged by its own failure count, so it keeps working while strangers have locked the
    /// username. Changing or resetting the password ends this trust (except for the device
    /// that made the change), and so does a factor reset or disabling the account.
    #[oai(path = "/devices", method = "get", operation_id = "list_devices")]
    async fn list_devices(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        auth: AccessToken,
    ) -> DevicesResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            device::trusted(&state.auth.db, caller.user.id, now).await
        }
        .await;
        let presented = state.cookies.device_token(jar);
        match result {
            Ok(rows) => DevicesResponse::Ok(Json(TrustedDeviceList {
                devices: rows
                    .into_iter()
                    .map(|row| TrustedDeviceInfo::new(row, presented.as_deref()))
                    .collect(),
            })),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Stop trusting a device
    ///
    /// The device's next sign-in counts against the username's limit like a stranger's. Its
    /// sessions are not ended (see `DELETE /sessions/{id}`). An id that is not one of the
    /// caller's devices is `404`.
    #[oai(
        path = "/devices/:id",
        method = "delete",
        operation_id = "forget_device"
    )]
    async fn forget_device(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// The device's `id` from `GET /devices`.
        id: Path<Uuid>,
    ) -> ForgetDeviceResponse {
        let result = async {
            let caller = authenticate(&state, &auth, now()).await?;
            device::forget(&state.auth.db, caller.user.id, id.0).await
        }
        .await;
        match result {
            Ok(()) => ForgetDeviceResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Change my password
    ///
    /// Checks the current password (and, when 2FA is on, a code or recovery code), applies the
    /// new one (same rules as at registration) and ends every other session; this one stays
    /// signed in. A wrong current password is `403 invalid_credentials` (not 401: the session
    /// is fine) and counts as a failed sign-in.
    #[oai(path = "/password", method = "post", operation_id = "change_password")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<PasswordChangeRequest>,
    ) -> ChangePasswordResponse {
        let now = now();
        let Json(PasswordChangeRequest {
            current_password,
            new_password,
            code,
            recovery_code,
        }) = body;
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let current = step_up_answer(
                current_password,
                "current_password",
                code,
                recovery_code,
                state.cookies.device_token(jar),
            )?;
            accounts::change_password(
                &state.auth,
                &caller,
                &current,
                new_password.into_inner(),
                &client_info(req),
                now,
            )
            .await
        }
        .await;
        match result {
            Ok(()) => ChangePasswordResponse::Ok(Json(StatusResponse::ok())),
            Err(e) => ApiError::from(e).into(),
        }
    }

    /// Recent activity
    ///
    /// The caller's security events, newest first: sign-ins (and failed ones), sign-outs,
    /// sessions ended, password changes, second factors, reuse of a stolen refresh token. Kept
    /// for `ACTIVITY_RETENTION_DAYS` (90 by default). Page further back with `before` set to the
    /// `next_before` of the previous page; filter with one or more `kind`.
    #[oai(path = "/activity", method = "get", operation_id = "activity")]
    async fn activity(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// How many events, newest first (default 50, at most 200).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
        /// Events older than this one: the `next_before` of the previous page.
        before: Query<Option<Uuid>>,
        /// Only events of these kinds (repeat the parameter for several).
        kind: Query<Option<Vec<ActivityKind>>>,
    ) -> ActivityResponse {
        let now = now();
        let result = async {
            let caller = authenticate(&state, &auth, now).await?;
            let request = activity::PageRequest {
                before: before.0,
                kinds: kind
                    .0
                    .unwrap_or_default()
                    .into_iter()
                    .map(activity::Kind::from)
                    .collect(),
                limit: u64::from(limit.0.unwrap_or(DEFAULT_ACTIVITY).min(MAX_ACTIVITY)),
            };
            let page = activity::page(&state.auth.db, caller.user.id, &request).await?;
            Ok::<_, AuthError>(ActivityList {
                events: page
                    .events
                    .into_iter()
                    .filter_map(ActivityEventResponse::new)
                    .collect(),
                next_before: page.next_before,
            })
        }
        .await;
        match result {
            Ok(list) => ActivityResponse::Ok(Json(list)),
            Err(e) => ApiError::from(e).into(),
        }
    }
}

api_response! {
    pub enum SessionsResponse {
        /// The caller's active sessions.
        #[oai(status = 200)]
        Ok(Json<SessionList>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        503 => "`service_unavailable`."
    }
}

api_response! {
    pub enum DevicesResponse {
        /// The devices the caller's account trusts.
        #[oai(status = 200)]
        Ok(Json<TrustedDeviceList>),
    }
    errors {
        400 => "`malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        503 => "`service_unavailable`."
    }
}

api_response! {
    pub enum ForgetDeviceResponse {
        /// The device is no longer trusted.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`: the id is not a UUID.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        404 => "`not_found`: no such device of the caller's.",
        413,
        503 => "`service_unavailable`: nothing changed; retry."
    }
}

api_response! {
    pub enum RevokeSessionResponse {
        /// The session has ended.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`malformed_request`: the id is not a UUID.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        404 => "`not_found`: no such session of the caller's (or it has already ended).",
        413,
        503 => "`service_unavailable`: nothing was ended; retry."
    }
}

api_response! {
    pub enum ChangePasswordResponse {
        /// The password is changed; every other session has ended.
        #[oai(status = 200)]
        Ok(Json<StatusResponse>),
    }
    errors {
        400 => "`validation_failed` (see `fields`: `new_password` too short, too guessable or containing the username) or `malformed_request`.",
        401 => "`unauthenticated`: try `/refresh`.",
        403 => "`invalid_credentials` (the current password is wrong; the session is fine), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        413,
        415 => "`unsupported_media_type`.",
        429 => "`too_many_attempts`: too many wrong passwords or codes; wait `Retry-After` seconds.",
        503 => "`service_unavailable`: nothing was changed; retry."
    }
}

api_response! {
    pub enum ActivityResponse {
        /// The caller's recent events.
        #[oai(status = 200)]
        Ok(Json<ActivityList>),
    }
    errors {
        400 => "`malformed_request`: `limit` is not a number from 1 to 200, `before` is not a UUID, or `kind` is not a known kind.",
        401 => "`unauthenticated`: try `/refresh`.",
        403,
        404 => "`not_found`: `before` names no event of the caller's (it may have been pruned): start again from the newest.",
        503 => "`service_unavailable`."
    }
}
