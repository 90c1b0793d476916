//! Managing one's own account: where am I signed in, end a session, change the password,
//! recent security events.

use chrono::{DateTime, Utc};
use poem::{
    Request,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{Enum, Object, OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    client::client_info,
    error::{answer, api_response},
    now,
    security::{AccessToken, authenticate},
    shared::{StatusResponse, step_up_answer},
    text::{LoginPassword, NewPassword, OneTimeCode, RecoveryCodeText, Text},
};
use crate::{
    auth::{accounts, activity, device, sessions},
    domain::describe_device,
    entity::{activity_event, session, trusted_device},
};

const DEFAULT_ACTIVITY: u32 = 50;
const MAX_ACTIVITY: u32 = 200;

#[derive(Default)]
pub struct AccountApi;

#[OpenApi(tag = "ApiTags::Account")]
impl AccountApi {
    /// Where I am signed in
    ///
    /// The caller's active sessions, most recently used first, with `current: true` on the
    /// one making this request.
    #[oai(path = "/sessions", method = "get", operation_id = "list_sessions")]
    async fn list_sessions(&self, state: Data<&AppState>, auth: AccessToken) -> SessionsResponse {
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let rows = sessions::active(&state.auth.db, caller.user.id, now).await?;
            Ok(SessionsResponse::Ok(Json(SessionList {
                sessions: rows
                    .into_iter()
                    .map(|row| SessionInfo::new(row, caller.session_id))
                    .collect(),
            })))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            sessions::revoke(&state.auth.db, caller.user.id, id.0, &client_info(req), now).await?;
            Ok(RevokeSessionResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
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
        answer(async {
            let now = now();
            let caller = authenticate(&state, &auth, now).await?;
            let rows = device::trusted(&state.auth.db, caller.user.id, now).await?;
            let presented = state.cookies.device_token(jar);
            Ok(DevicesResponse::Ok(Json(TrustedDeviceList {
                devices: rows
                    .into_iter()
                    .map(|row| TrustedDeviceInfo::new(row, presented.as_deref()))
                    .collect(),
            })))
        })
        .await
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
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
            device::forget(&state.auth.db, caller.user.id, id.0).await?;
            Ok(ForgetDeviceResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
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
        answer(async {
            let now = now();
            let Json(PasswordChangeRequest {
                current_password,
                new_password,
                code,
                recovery_code,
            }) = body;
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
            .await?;
            Ok(ChangePasswordResponse::Ok(Json(StatusResponse::ok())))
        })
        .await
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
        answer(async {
            let caller = authenticate(&state, &auth, now()).await?;
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
            Ok(ActivityResponse::Ok(Json(ActivityList {
                events: page
                    .events
                    .into_iter()
                    .filter_map(ActivityEventResponse::new)
                    .collect(),
                next_before: page.next_before,
            })))
        })
        .await
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

/// A password change.
#[derive(Object)]
pub struct PasswordChangeRequest {
    /// The password in use now.
    pub current_password: Text<LoginPassword>,
    /// The new password, under the same rules as at registration.
    pub new_password: Text<NewPassword>,
    /// Required when 2FA is on (or `recovery_code`).
    #[oai(nullable)]
    pub code: Option<Text<OneTimeCode>>,
    #[oai(nullable)]
    pub recovery_code: Option<Text<RecoveryCodeText>>,
}

/// A place where the user is signed in.
#[derive(Object, Debug, Clone)]
#[oai(rename = "SessionInfo")]
pub struct SessionInfo {
    pub id: Uuid,
    /// When this session signed in.
    pub created_at: DateTime<Utc>,
    /// The last sign-in or token renewal (renewals happen about every access-token lifetime
    /// while the app is in use).
    pub last_used_at: DateTime<Utc>,
    /// When it ends unless it is renewed.
    pub expires_at: DateTime<Utc>,
    /// The client address last seen for it.
    #[oai(nullable)]
    pub ip: Option<String>,
    /// Browser and operating system, from the user agent ("Firefox 128 on Linux").
    pub device: String,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionInfo {
    pub fn new(row: session::Model, current_session: Uuid) -> Self {
        Self {
            current: row.id == current_session,
            id: row.id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            ip: row.ip,
            device: describe_device(row.user_agent.as_deref()),
        }
    }
}

/// The caller's active sessions, most recently used first.
#[derive(Object, Debug, Clone)]
pub struct SessionList {
    pub sessions: Vec<SessionInfo>,
}

/// What happened on an account. New kinds may be added in later versions.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ActivityKind {
    /// Signed in with the password.
    SignedIn,
    /// A sign-in with this username and a wrong password.
    SignInFailed,
    /// Signed out.
    SignedOut,
    /// A session was ended from another session.
    SessionRevoked,
    /// Every session was ended.
    SignedOutEverywhere,
    /// The password was changed by the user.
    PasswordChanged,
    /// A stolen or replayed refresh token was presented; the session it belonged to was ended.
    RefreshTokenReuseDetected,
    /// An administrator disabled the account.
    AccountDisabled,
    /// An administrator re-enabled the account.
    AccountEnabled,
    /// The password was reset: by an administrator, or with a reset link, recovery key or
    /// recovery code.
    PasswordReset,
    /// An authenticator app was turned on.
    SecondFactorAdded,
    /// The authenticator app was turned off.
    SecondFactorRemoved,
    /// A sign-in was completed with the authenticator app.
    SecondFactorUsed,
    /// A sign-in or a change was completed with a recovery code.
    RecoveryCodeUsed,
    /// A wrong authenticator or recovery code was entered.
    SecondFactorFailed,
    /// New recovery codes replaced the old ones.
    RecoveryCodesReplaced,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
    /// Signed in with a passkey.
    SignedInWithPasskey,
    /// An administrator removed every second factor (authenticator app, recovery codes,
    /// passkeys).
    FactorsReset,
    /// An email address was added or replaced (not verified yet).
    EmailChanged,
    /// The email address was verified.
    EmailVerified,
    /// The email address was removed.
    EmailRemoved,
    /// A recovery key was made; any earlier one stopped working.
    RecoveryKeyCreated,
    /// The person allowed an application to sign them in ("Sign in with Latchkey").
    AppAllowed,
    /// The person revoked an application's access.
    AppRevoked,
    /// An administrator ended every session of the account.
    AdminSessionsRevoked,
    /// An administrator cleared the failed sign-ins counted against the account's name.
    AdminUnlocked,
    /// An administrator issued a password reset link for the account.
    AdminResetLink,
    /// An administrator granted the account a role.
    RoleGranted,
    /// An administrator revoked a role of the account.
    RoleRevoked,
}

impl From<activity::Kind> for ActivityKind {
    fn from(kind: activity::Kind) -> Self {
        use activity::Kind as K;
        match kind {
            K::SignedIn => Self::SignedIn,
            K::SignInFailed => Self::SignInFailed,
            K::SignedOut => Self::SignedOut,
            K::SessionRevoked => Self::SessionRevoked,
            K::SignedOutEverywhere => Self::SignedOutEverywhere,
            K::PasswordChanged => Self::PasswordChanged,
            K::RefreshTokenReuseDetected => Self::RefreshTokenReuseDetected,
            K::AccountDisabled => Self::AccountDisabled,
            K::AccountEnabled => Self::AccountEnabled,
            K::PasswordReset => Self::PasswordReset,
            K::SecondFactorAdded => Self::SecondFactorAdded,
            K::SecondFactorRemoved => Self::SecondFactorRemoved,
            K::SecondFactorUsed => Self::SecondFactorUsed,
            K::RecoveryCodeUsed => Self::RecoveryCodeUsed,
            K::SecondFactorFailed => Self::SecondFactorFailed,
            K::RecoveryCodesReplaced => Self::RecoveryCodesReplaced,
            K::PasskeyAdded => Self::PasskeyAdded,
            K::PasskeyRemoved => Self::PasskeyRemoved,
            K::SignedInWithPasskey => Self::SignedInWithPasskey,
            K::FactorsReset => Self::FactorsReset,
            K::EmailChanged => Self::EmailChanged,
            K::EmailVerified => Self::EmailVerified,
            K::EmailRemoved => Self::EmailRemoved,
            K::RecoveryKeyCreated => Self::RecoveryKeyCreated,
            K::AppAllowed => Self::AppAllowed,
            K::AppRevoked => Self::AppRevoked,
            K::AdminSessionsRevoked => Self::AdminSessionsRevoked,
            K::AdminUnlocked => Self::AdminUnlocked,
            K::AdminResetLink => Self::AdminResetLink,
            K::RoleGranted => Self::RoleGranted,
            K::RoleRevoked => Self::RoleRevoked,
        }
    }
}

impl From<ActivityKind> for activity::Kind {
    fn from(kind: ActivityKind) -> Self {
        use ActivityKind as A;
        match kind {
            A::SignedIn => Self::SignedIn,
            A::SignInFailed => Self::SignInFailed,
            A::SignedOut => Self::SignedOut,
            A::SessionRevoked => Self::SessionRevoked,
            A::SignedOutEverywhere => Self::SignedOutEverywhere,
            A::PasswordChanged => Self::PasswordChanged,
            A::RefreshTokenReuseDetected => Self::RefreshTokenReuseDetected,
            A::AccountDisabled => Self::AccountDisabled,
            A::AccountEnabled => Self::AccountEnabled,
            A::PasswordReset => Self::PasswordReset,
            A::SecondFactorAdded => Self::SecondFactorAdded,
            A::SecondFactorRemoved => Self::SecondFactorRemoved,
            A::SecondFactorUsed => Self::SecondFactorUsed,
            A::RecoveryCodeUsed => Self::RecoveryCodeUsed,
            A::SecondFactorFailed => Self::SecondFactorFailed,
            A::RecoveryCodesReplaced => Self::RecoveryCodesReplaced,
            A::PasskeyAdded => Self::PasskeyAdded,
            A::PasskeyRemoved => Self::PasskeyRemoved,
            A::SignedInWithPasskey => Self::SignedInWithPasskey,
            A::FactorsReset => Self::FactorsReset,
            A::EmailChanged => Self::EmailChanged,
            A::EmailVerified => Self::EmailVerified,
            A::EmailRemoved => Self::EmailRemoved,
            A::RecoveryKeyCreated => Self::RecoveryKeyCreated,
            A::AppAllowed => Self::AppAllowed,
            A::AppRevoked => Self::AppRevoked,
            A::AdminSessionsRevoked => Self::AdminSessionsRevoked,
            A::AdminUnlocked => Self::AdminUnlocked,
            A::AdminResetLink => Self::AdminResetLink,
            A::RoleGranted => Self::RoleGranted,
            A::RoleRevoked => Self::RoleRevoked,
        }
    }
}

/// One security event.
#[derive(Object, Debug, Clone)]
#[oai(rename = "ActivityEvent")]
pub struct ActivityEventResponse {
    pub id: Uuid,
    pub kind: ActivityKind,
    pub at: DateTime<Utc>,
    /// The client address it came from, when it came from a client.
    #[oai(nullable)]
    pub ip: Option<String>,
    /// Browser and operating system, when it came from a client.
    #[oai(nullable)]
    pub device: Option<String>,
    /// The session it concerns, if any.
    #[oai(nullable)]
    pub session_id: Option<Uuid>,
    /// Why, in an administrator's words, on the events of an administrator's action (e.g.
    /// `account_disabled`: "An administrator disabled your account: <reason>"); absent when
    /// they gave none, and on every other event.
    #[oai(nullable)]
    pub reason: Option<String>,
}

impl ActivityEventResponse {
    /// `None` for a kind this version does not know (written by a newer one).
    pub fn new(row: activity_event::Model) -> Option<Self> {
        let kind = activity::Kind::parse(&row.kind)?;
        Some(Self {
            id: row.id,
            kind: kind.into(),
            at: row.at,
            device: row
                .user_agent
                .as_deref()
                .map(|ua| describe_device(Some(ua))),
            ip: row.ip,
            session_id: row.session_id,
            reason: row.reason,
        })
    }
}

/// The caller's recent security events, newest first.
#[derive(Object, Debug, Clone)]
pub struct ActivityList {
    pub events: Vec<ActivityEventResponse>,
    /// Present when there are older events: pass it as `before` for the next page.
    #[oai(nullable)]
    pub next_before: Option<Uuid>,
}

/// A device this account trusts: it signed in before, and a sign-in from it is judged by its
/// own failure count, so it can sign in while strangers have locked the username.
#[derive(Object, Debug, Clone)]
#[oai(rename = "TrustedDevice")]
pub struct TrustedDeviceInfo {
    pub id: Uuid,
    /// Browser and operating system ("Firefox 128 on Linux"), or the client's product name.
    pub device: String,
    /// The address of its last sign-in.
    #[oai(nullable)]
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Its last sign-in.
    pub last_used_at: DateTime<Utc>,
    /// When trust ends unless it signs in again.
    pub expires_at: DateTime<Utc>,
    /// This is the device making the request.
    pub current: bool,
}

impl TrustedDeviceInfo {
    pub fn new(row: trusted_device::Model, presented: Option<&str>) -> Self {
        Self {
            current: device::is_presented(&row, presented),
            id: row.id,
            device: describe_device(row.user_agent.as_deref()),
            ip: row.ip,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
        }
    }
}

/// The devices the caller's account trusts (at most ten, the most recently used).
#[derive(Object, Debug, Clone)]
pub struct TrustedDeviceList {
    pub devices: Vec<TrustedDeviceInfo>,
}
