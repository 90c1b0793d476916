//! The admin API (`/admin/…`): accounts, roles and the audit log, for holders of the `admin`
//! role. Being an administrator is read from the database on every request, so a demoted one
//! is refused (403 `forbidden`) on their next request whatever their token says. Every change
//! also needs a fresh step-up on the caller's session (`POST /admin/step-up`, valid five
//! minutes), or it is refused with 403 `step_up_required`. Each change calls the same `auth::`
//! function as `latchkey admin …`, and is recorded in the audit log and in the account's own
//! activity.

use chrono::{DateTime, Utc};
use poem::{
    IntoResponse, Request, Response,
    web::{Data, cookie::CookieJar},
};
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::{Json, Payload},
    registry::{MetaSchemaRef, Registry},
    types::{ToJSON as _, Type},
};
use uuid::Uuid;

use super::{
    ApiTags, AppState,
    account::{ActivityEventResponse, SessionInfo, TrustedDeviceInfo},
    client::client_info,
    error::{ApiError, answer, api_response},
    now,
    passkeys::PasskeyInfo,
    security::{AccessToken, authenticate},
    shared::StepUpRequest,
};
use crate::{
    auth::{
        AuthError, accounts,
        admin::{self, NameMatch, UserQuery, UserRow},
        audit::{self, Actor},
        recovery,
        roles::{self, RoleName},
        sessions::Authenticated,
    },
    domain::FieldError,
    entity::audit_entry,
};

const DEFAULT_PAGE: u32 = 50;
const DEFAULT_EXPORT: u32 = 1000;
const DEFAULT_LINK_MINUTES: u32 = 60;

#[derive(Default)]
pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Step up for changes
    ///
    /// Re-enter the password (and a code when 2FA is on) to make changes for the next five
    /// minutes from this session. Reads need no step-up. A wrong password is
    /// `403 invalid_credentials` and counts as a failed sign-in.
    #[oai(
        path = "/admin/step-up",
        method = "post",
        operation_id = "admin_step_up"
    )]
    async fn step_up(
        &self,
        state: Data<&AppState>,
        jar: &CookieJar,
        req: &Request,
        auth: AccessToken,
        body: Json<StepUpRequest>,
    ) -> StepUpWindowResponse {
        answer(async {
            let now = now();
            let caller = administrator(&state, &auth, now).await?;
            let step_up = body.0.into_answer(state.cookies.device_token(jar))?;
            let until =
                admin::step_up(&state.auth, &caller, &step_up, &client_info(req), now).await?;
            Ok(StepUpWindowResponse::Ok(Json(StepUpWindow {
                stepped_up_until: until,
            })))
        })
        .await
    }

    /// Find accounts
    ///
    /// Accounts by name (lowercased), `limit` at a time. Filter by name (`match`: `prefix`,
    /// the default, or `contains`; any letter case; `%` and `_` are plain characters), status
    /// and creation time; page on with `after` set to the previous page's `next_after`.
    #[oai(
        path = "/admin/users",
        method = "get",
        operation_id = "admin_list_users"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_users(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// Text the name starts with (or contains, with `match=contains`).
        #[oai(validator(max_length = 64))]
        name: Query<Option<String>>,
        /// How `name` matches (default `prefix`).
        #[oai(name = "match")]
        name_match: Query<Option<NameMatchParam>>,
        status: Query<Option<AccountStatus>>,
        /// Accounts created at or after this instant.
        created_since: Query<Option<DateTime<Utc>>>,
        /// Accounts created before this instant.
        created_before: Query<Option<DateTime<Utc>>>,
        /// The `next_after` of the previous page.
        #[oai(validator(max_length = 64))]
        after: Query<Option<String>>,
        /// How many accounts (default 50, at most 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> UserListResponse {
        answer(async {
            administrator(&state, &auth, now()).await?;
            let query = UserQuery {
                name: name.0,
                name_match: match name_match.0.unwrap_or(NameMatchParam::Prefix) {
                    NameMatchParam::Prefix => NameMatch::Prefix,
                    NameMatchParam::Contains => NameMatch::Contains,
                },
                disabled: status.0.map(|s| s == AccountStatus::Disabled),
                created_since: created_since.0,
                created_before: created_before.0,
                after: after.0,
                limit: u64::from(limit.0.unwrap_or(DEFAULT_PAGE)),
            };
            let page = admin::search(&state.auth.db, &query).await?;
            Ok(UserListResponse::Ok(Json(UserList {
                users: page.users.into_iter().map(AdminUser::from).collect(),
                next_after: page.next_after,
            })))
        })
        .await
    }

    /// One account
    ///
    /// Everything an administrator needs about one account: status, roles, where it is signed
    /// in, its second factors and trusted devices, its last 20 events, and the sign-in limit on
    /// its name (failures counted, and until when it is locked: "why can't they sign in?").
    #[oai(
        path = "/admin/users/:name",
        method = "get",
        operation_id = "admin_show_user"
    )]
    async fn show_user(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// The username (any letter case).
        name: Path<String>,
    ) -> UserDetailResponse {
        answer(async {
            let now = now();
            let caller = administrator(&state, &auth, now).await?;
            let detail = admin::detail(&state.auth, &name.0, now).await?;
            Ok(UserDetailResponse::Ok(Json(AdminUserDetail {
                sessions: detail
                    .sessions
                    .into_iter()
                    .map(|s| SessionInfo::new(s, caller.session_id))
                    .collect(),
                trusted_devices: detail
                    .factors
                    .trusted_devices
                    .into_iter()
                    .map(|d| TrustedDeviceInfo::new(d, None))
                    .collect(),
                passkeys: detail
                    .factors
                    .passkeys
                    .into_iter()
                    .map(PasskeyInfo::from)
                    .collect(),
                recovery_codes_remaining: detail.factors.recovery_codes_remaining,
                recent_activity: detail
                    .recent_activity
                    .into_iter()
                    .filter_map(ActivityEventResponse::new)
                    .collect(),
                throttle: detail.throttle.map(|t| ThrottleState {
                    failures: t.failures,
                    locked_until: t.locked_until,
                    clears_at: t.clears_at,
                }),
                email: detail.row.user.email.clone(),
                email_verified: detail.row.user.email_verified_at.is_some(),
                user: detail.row.into(),
            })))
        })
        .await
    }

    /// Disable an account
    ///
    /// The account cannot sign in, and every session, pending sign-in and device trust ends at
    /// once. `reason` is required; it is kept in the audit log and shown to the account's owner
    /// in their activity. Refused with 409 `cannot_disable_self` for the caller's own account,
    /// and `last_admin` for the last enabled administrator.
    #[oai(
        path = "/admin/users/:name/disable",
        method = "post",
        operation_id = "admin_disable_user"
    )]
    async fn disable_user(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<AdminChangeRequest>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(&state, &auth, req, &name.0, &body.0, now).await?;
            if actor.reason.is_none() {
                return Err(FieldError::new("reason", "Say why the account is disabled.").into());
            }
            accounts::set_disabled(&state.auth.db, &actor, &account, true, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Enable an account
    ///
    /// A disabled account may sign in again (its old sessions stay ended).
    #[oai(
        path = "/admin/users/:name/enable",
        method = "post",
        operation_id = "admin_enable_user"
    )]
    async fn enable_user(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<AdminChangeRequest>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(&state, &auth, req, &name.0, &body.0, now).await?;
            accounts::set_disabled(&state.auth.db, &actor, &account, false, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// End every session of an account
    ///
    /// Every session and sign-in waiting for a second factor ends; the person signs in again.
    #[oai(
        path = "/admin/users/:name/revoke-sessions",
        method = "post",
        operation_id = "admin_revoke_sessions"
    )]
    async fn revoke_sessions(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<AdminChangeRequest>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(&state, &auth, req, &name.0, &body.0, now).await?;
            accounts::revoke_sessions(&state.auth.db, &actor, &account, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Reset second factors
    ///
    /// Removes the authenticator app, the recovery codes, every passkey and the recovery key
    /// (a lost phone, or a factor someone planted); pending sign-ins and device trust end,
    /// sessions stay. The owner is told by mail when they have a verified address.
    #[oai(
        path = "/admin/users/:name/reset-factors",
        method = "post",
        operation_id = "admin_reset_factors"
    )]
    async fn reset_factors(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<AdminChangeRequest>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(&state, &auth, req, &name.0, &body.0, now).await?;
            accounts::reset_factors(&state.auth.db, state.auth.post(), &actor, &account, now)
                .await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Clear the sign-in limit
    ///
    /// Forgets the failed sign-ins counted against the account's name, so it can sign in at
    /// once (the per-address limit still applies).
    #[oai(
        path = "/admin/users/:name/unlock",
        method = "post",
        operation_id = "admin_unlock_user"
    )]
    async fn unlock_user(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<AdminChangeRequest>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(&state, &auth, req, &name.0, &body.0, now).await?;
            accounts::unlock(&state.auth.db, &actor, &account, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Issue a password reset link
    ///
    /// A single-use link to hand to the account's owner over a channel you trust; it signs no
    /// one in, and dies with any later password change. Shown once: it is not in the audit log.
    #[oai(
        path = "/admin/users/:name/reset-link",
        method = "post",
        operation_id = "admin_reset_link"
    )]
    async fn reset_link(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        body: Json<ResetLinkRequest>,
    ) -> ResetLinkResponse {
        answer(async {
            let now = now();
            let request = AdminChangeRequest {
                reason: body.0.reason.clone(),
            };
            let (actor, account) = change(&state, &auth, req, &name.0, &request, now).await?;
            let minutes = body.0.valid_minutes.unwrap_or(DEFAULT_LINK_MINUTES);
            let lifetime = std::time::Duration::from_secs(u64::from(minutes) * 60)
                .min(recovery::OPERATOR_LINK_MAX);
            let link = recovery::issue_reset_link(
                &state.auth.db,
                &actor,
                &state.config.auth.app_url,
                &account,
                lifetime,
                now,
            )
            .await?;
            Ok(ResetLinkResponse::Ok(Json(ResetLink {
                link,
                expires_at: now + crate::auth::sessions::duration(lifetime),
            })))
        })
        .await
    }

    /// Grant a role
    ///
    /// Idempotent: granting a role the account holds changes nothing. The role shows in the
    /// account's next access token (at its next refresh).
    #[oai(
        path = "/admin/users/:name/roles/:role",
        method = "put",
        operation_id = "admin_grant_role"
    )]
    async fn grant_role(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        role: Path<String>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(
                &state,
                &auth,
                req,
                &name.0,
                &AdminChangeRequest::default(),
                now,
            )
            .await?;
            roles::grant(&state.auth.db, &actor, &account, &role.0, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Revoke a role
    ///
    /// Idempotent. A revoked `admin` is refused by this API on its next request. The last
    /// enabled administrator keeps `admin` (409 `last_admin`): grant it to someone else first.
    #[oai(
        path = "/admin/users/:name/roles/:role",
        method = "delete",
        operation_id = "admin_revoke_role"
    )]
    async fn revoke_role(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        name: Path<String>,
        role: Path<String>,
    ) -> AdminChangeResponse {
        answer(async {
            let now = now();
            let (actor, account) = change(
                &state,
                &auth,
                req,
                &name.0,
                &AdminChangeRequest::default(),
                now,
            )
            .await?;
            roles::revoke(&state.auth.db, &actor, &account, &role.0, now).await?;
            changed(&state, &account.username).await
        })
        .await
    }

    /// Roles
    ///
    /// Every role, by name, with how many people hold it.
    #[oai(
        path = "/admin/roles",
        method = "get",
        operation_id = "admin_list_roles"
    )]
    async fn list_roles(&self, state: Data<&AppState>, auth: AccessToken) -> RolesResponse {
        answer(async {
            administrator(&state, &auth, now()).await?;
            let roles = roles::list(&state.auth.db).await?;
            Ok(RolesResponse::Ok(Json(RoleList {
                roles: roles
                    .into_iter()
                    .map(|r| Role {
                        name: r.role.name,
                        description: r.role.description,
                        built_in: r.role.built_in,
                        created_at: r.role.created_at,
                        holders: r.holders,
                    })
                    .collect(),
            })))
        })
        .await
    }

    /// Create a role
    ///
    /// A name of 1–32 characters of `a–z 0–9 _ - .`, starting with a letter.
    #[oai(
        path = "/admin/roles",
        method = "post",
        operation_id = "admin_create_role"
    )]
    async fn create_role(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        body: Json<CreateRoleRequest>,
    ) -> CreateRoleResponse {
        answer(async {
            let now = now();
            let actor = change_actor(&state, &auth, req, None, now).await?;
            let name = RoleName::parse(&body.0.name)?;
            let role = roles::create(
                &state.auth.db,
                &actor,
                &name,
                body.0.description.as_deref().unwrap_or(""),
                now,
            )
            .await?;
            Ok(CreateRoleResponse::Created(Json(Role {
                name: role.name,
                description: role.description,
                built_in: role.built_in,
                created_at: role.created_at,
                holders: 0,
            })))
        })
        .await
    }

    /// Delete a role
    ///
    /// Everyone who holds it loses it. The built-in `admin` cannot be deleted
    /// (409 `role_built_in`).
    #[oai(
        path = "/admin/roles/:role",
        method = "delete",
        operation_id = "admin_delete_role"
    )]
    async fn delete_role(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: AccessToken,
        role: Path<String>,
    ) -> DeleteRoleResponse {
        answer(async {
            let now = now();
            let actor = change_actor(&state, &auth, req, None, now).await?;
            let holders = roles::delete(&state.auth.db, &actor, &role.0, now).await?;
            Ok(DeleteRoleResponse::Ok(Json(RoleDeleted { holders })))
        })
        .await
    }

    /// Audit log
    ///
    /// Every admin action, newest first: who (an administrator, or `cli` for the command line),
    /// what, to whom, when and from where. Filter by actor, target, action and time; page back
    /// with `before` set to the previous page's `next_before`.
    #[oai(path = "/admin/audit", method = "get", operation_id = "admin_audit")]
    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        /// The actor's username, or `cli` (any letter case).
        #[oai(validator(max_length = 64))]
        actor: Query<Option<String>>,
        /// The target's username (any letter case).
        #[oai(validator(max_length = 64))]
        target: Query<Option<String>>,
        action: Query<Option<AuditAction>>,
        /// Entries at or after this instant.
        since: Query<Option<DateTime<Utc>>>,
        /// Entries older than this one: the `next_before` of the previous page.
        before: Query<Option<Uuid>>,
        /// How many entries (default 50, at most 200).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> AuditResponse {
        answer(async {
            administrator(&state, &auth, now()).await?;
            let filter = audit_filter(
                actor.0,
                target.0,
                action.0,
                since.0,
                before.0,
                limit.0.unwrap_or(DEFAULT_PAGE),
            );
            let page = audit::page(&state.auth.db, &filter).await?;
            Ok(AuditResponse::Ok(Json(AuditPage {
                entries: page
                    .entries
                    .into_iter()
                    .filter_map(AuditEntry::new)
                    .collect(),
                next_before: page.next_before,
            })))
        })
        .await
    }

    /// Export the audit log
    ///
    /// The same entries and filters as `/admin/audit`, as JSON lines (one entry per line,
    /// newest first), up to 10000 at a time; page back with `before` set to the last line's
    /// `id`.
    #[oai(
        path = "/admin/audit.jsonl",
        method = "get",
        operation_id = "admin_audit_export"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn audit_export(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        #[oai(validator(max_length = 64))] actor: Query<Option<String>>,
        #[oai(validator(max_length = 64))] target: Query<Option<String>>,
        action: Query<Option<AuditAction>>,
        since: Query<Option<DateTime<Utc>>>,
        before: Query<Option<Uuid>>,
        /// How many entries (default 1000, at most 10000).
        #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
        limit: Query<Option<u32>>,
    ) -> AuditExportResponse {
        answer(async {
            administrator(&state, &auth, now()).await?;
            let filter = audit_filter(
                actor.0,
                target.0,
                action.0,
                since.0,
                before.0,
                limit.0.unwrap_or(DEFAULT_EXPORT),
            );
            let page = audit::page(&state.auth.db, &filter).await?;
            let mut lines = String::new();
            for entry in page.entries.into_iter().filter_map(AuditEntry::new) {
                if let Some(json) = entry.to_json() {
                    lines.push_str(&json.to_string());
                    lines.push('\n');
                }
            }
            Ok(AuditExportResponse::Ok(JsonLines(lines)))
        })
        .await
    }
}

/// The caller, if they hold `admin` now (read from the database on every request).
async fn administrator(
    state: &AppState,
    auth: &AccessToken,
    now: DateTime<Utc>,
) -> Result<Authenticated, ApiError> {
    let caller = authenticate(state, auth, now).await?;
    admin::authorize(&state.auth.db, &caller).await?;
    Ok(caller)
}

/// The actor of a change: an administrator whose session stepped up within the window.
async fn change_actor(
    state: &AppState,
    auth: &AccessToken,
    req: &Request,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Actor, ApiError> {
    let caller = administrator(state, auth, now).await?;
    admin::require_fresh_step_up(&state.auth.db, &caller, now).await?;
    Ok(Actor::administrator(&caller, &client_info(req)).with_reason(reason))
}

/// A change to the account called `name`: the actor and the account.
async fn change(
    state: &AppState,
    auth: &AccessToken,
    req: &Request,
    name: &str,
    body: &AdminChangeRequest,
    now: DateTime<Utc>,
) -> Result<(Actor, crate::entity::user::Model), ApiError> {
    let actor = change_actor(state, auth, req, body.reason.as_deref(), now).await?;
    let account = accounts::find(&state.auth.db, name).await?;
    Ok((actor, account))
}

/// The account as it is after a change.
async fn changed(state: &AppState, name: &str) -> Result<AdminChangeResponse, ApiError> {
    let page = admin::search(
        &state.auth.db,
        &UserQuery {
            name: Some(name.to_owned()),
            limit: 1,
            ..UserQuery::default()
        },
    )
    .await?;
    let row = page.users.into_iter().next().ok_or(AuthError::NotFound)?;
    Ok(AdminChangeResponse::Ok(Json(AdminUser::from(row))))
}

fn audit_filter(
    actor: Option<String>,
    target: Option<String>,
    action: Option<AuditAction>,
    since: Option<DateTime<Utc>>,
    before: Option<Uuid>,
    limit: u32,
) -> audit::Filter {
    audit::Filter {
        actor: actor.filter(|a| !a.is_empty()),
        target: target.filter(|t| !t.is_empty()),
        action: action.map(AuditAction::into_action),
        since,
        before,
        limit: u64::from(limit),
    }
}

/// How a name filter matches.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename = "NameMatch", rename_all = "snake_case")]
pub enum NameMatchParam {
    Prefix,
    Contains,
}

/// Whether an account may sign in.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Disabled,
}

/// An account as an administrator sees it in a list.
#[derive(Object, Debug, Clone)]
pub struct AdminUser {
    pub id: Uuid,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub status: AccountStatus,
    /// When it was disabled, if it is.
    #[oai(nullable)]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Its last sign-in (within the activity retention), if any.
    #[oai(nullable)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub roles: Vec<String>,
    /// Whether the authenticator app is on.
    pub totp_enabled: bool,
    pub passkeys: u64,
}

impl From<UserRow> for AdminUser {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.user.id,
            username: row.user.username,
            created_at: row.user.created_at,
            status: if row.user.disabled_at.is_some() {
                AccountStatus::Disabled
            } else {
                AccountStatus::Active
            },
            disabled_at: row.user.disabled_at,
            last_sign_in_at: row.last_sign_in_at,
            roles: row.roles,
            totp_enabled: row.totp_enabled,
            passkeys: row.passkeys,
        }
    }
}

/// A page of accounts.
#[derive(Object, Debug, Clone)]
pub struct UserList {
    pub users: Vec<AdminUser>,
    /// Present when there are more: pass it as `after` for the next page.
    #[oai(nullable)]
    pub next_after: Option<String>,
}

/// The sign-in limit on an account's name.
#[derive(Object, Debug, Clone)]
pub struct ThrottleState {
    /// Failed sign-ins still counted against the name.
    pub failures: u32,
    /// Until when every sign-in with the name is refused (429), if it is now. Devices the
    /// account trusts are judged by their own count and can still sign in.
    #[oai(nullable)]
    pub locked_until: Option<DateTime<Utc>>,
    /// When the last counted failure is forgotten.
    pub clears_at: DateTime<Utc>,
}

/// One account in full.
#[derive(Object, Debug, Clone)]
pub struct AdminUserDetail {
    pub user: AdminUser,
    #[oai(nullable)]
    pub email: Option<String>,
    pub email_verified: bool,
    /// Where it is signed in, most recently used first.
    pub sessions: Vec<SessionInfo>,
    pub trusted_devices: Vec<TrustedDeviceInfo>,
    pub passkeys: Vec<PasskeyInfo>,
    pub recovery_codes_remaining: u64,
    /// Its last 20 events, newest first.
    pub recent_activity: Vec<ActivityEventResponse>,
    /// The sign-in limit on its name; absent when it counts nothing.
    #[oai(nullable)]
    pub throttle: Option<ThrottleState>,
}

/// Why, for the audit log (optional, except to disable an account).
#[derive(Object, Debug, Clone, Default)]
pub struct AdminChangeRequest {
    /// Free text kept in the audit log (at most 500 characters), and shown to the account's
    /// owner with the event in their own activity. Never put a secret here.
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
}

/// A reset link's lifetime, and why.
#[derive(Object, Debug, Clone)]
pub struct ResetLinkRequest {
    /// How long the link works, in minutes (default 60, at most 1440).
    #[oai(validator(minimum(value = "1"), maximum(value = "1440")))]
    pub valid_minutes: Option<u32>,
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
}

/// A password reset link, shown once.
#[derive(Object, Debug, Clone)]
pub struct ResetLink {
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// When this session's step-up window closes.
#[derive(Object, Debug, Clone)]
pub struct StepUpWindow {
    pub stepped_up_until: DateTime<Utc>,
}

/// A role.
#[derive(Object, Debug, Clone)]
pub struct Role {
    pub name: String,
    pub description: String,
    /// `admin`: it cannot be deleted.
    pub built_in: bool,
    pub created_at: DateTime<Utc>,
    /// How many accounts hold it.
    pub holders: u64,
}

#[derive(Object, Debug, Clone)]
pub struct RoleList {
    pub roles: Vec<Role>,
}

/// A new role.
#[derive(Object, Debug, Clone)]
pub struct CreateRoleRequest {
    #[oai(validator(max_length = 64))]
    pub name: String,
    /// What holding it means (at most 256 characters).
    #[oai(validator(max_length = 256))]
    pub description: Option<String>,
}

#[derive(Object, Debug, Clone)]
pub struct RoleDeleted {
    /// How many accounts lost it.
    pub holders: u64,
}

/// What an administrator did.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum AuditAction {
    SteppedUp,
    UserDisabled,
    UserEnabled,
    SessionsRevoked,
    FactorsReset,
    ResetLinkIssued,
    PasswordSet,
    Unlocked,
    UserDeleted,
    RoleCreated,
    RoleDeleted,
    RoleGranted,
    RoleRevoked,
}

impl AuditAction {
    fn into_action(self) -> audit::Action {
        use audit::Action as A;
        match self {
            Self::SteppedUp => A::SteppedUp,
            Self::UserDisabled => A::UserDisabled,
            Self::UserEnabled => A::UserEnabled,
            Self::SessionsRevoked => A::SessionsRevoked,
            Self::FactorsReset => A::FactorsReset,
            Self::ResetLinkIssued => A::ResetLinkIssued,
            Self::PasswordSet => A::PasswordSet,
            Self::Unlocked => A::Unlocked,
            Self::UserDeleted => A::UserDeleted,
            Self::RoleCreated => A::RoleCreated,
            Self::RoleDeleted => A::RoleDeleted,
            Self::RoleGranted => A::RoleGranted,
            Self::RoleRevoked => A::RoleRevoked,
        }
    }

    fn from_action(action: audit::Action) -> Self {
        use audit::Action as A;
        match action {
            A::SteppedUp => Self::SteppedUp,
            A::UserDisabled => Self::UserDisabled,
            A::UserEnabled => Self::UserEnabled,
            A::SessionsRevoked => Self::SessionsRevoked,
            A::FactorsReset => Self::FactorsReset,
            A::ResetLinkIssued => Self::ResetLinkIssued,
            A::PasswordSet => Self::PasswordSet,
            A::Unlocked => Self::Unlocked,
            A::UserDeleted => Self::UserDeleted,
            A::RoleCreated => Self::RoleCreated,
            A::RoleDeleted => Self::RoleDeleted,
            A::RoleGranted => Self::RoleGranted,
            A::RoleRevoked => Self::RoleRevoked,
        }
    }
}

/// One admin action.
#[derive(Object, Debug, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The administrator's username, or `cli` for the command line.
    pub actor: String,
    /// The administrator's account id; absent for the command line.
    #[oai(nullable)]
    pub actor_id: Option<Uuid>,
    pub action: AuditAction,
    /// The account acted on (its name then), if the action concerns one.
    #[oai(nullable)]
    pub target: Option<String>,
    #[oai(nullable)]
    pub target_id: Option<Uuid>,
    /// What else there is to say (a `reason`, counts, a role), never a secret.
    pub detail: serde_json::Value,
    /// The administrator's client address; absent for the command line.
    #[oai(nullable)]
    pub ip: Option<String>,
}

impl AuditEntry {
    /// `None` for an action this version does not know (written by a newer one).
    fn new(row: audit_entry::Model) -> Option<Self> {
        let action = audit::Action::parse(&row.action)?;
        Some(Self {
            id: row.id,
            at: row.at,
            actor: row.actor,
            actor_id: row.actor_id,
            action: AuditAction::from_action(action),
            target: row.target,
            target_id: row.target_id,
            detail: serde_json::from_str(&row.detail).unwrap_or(serde_json::Value::Null),
            ip: row.ip,
        })
    }
}

/// A page of the audit log.
#[derive(Object, Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Present when there are older entries: pass it as `before` for the next page.
    #[oai(nullable)]
    pub next_before: Option<Uuid>,
}

/// JSON lines, one `AuditEntry` object per line, served as `text/plain`: `application/jsonl` is not
/// a registered type yet, and generated clients (openapi-python-client) read only `text/*` as text.
pub struct JsonLines(String);

impl Payload for JsonLines {
    const CONTENT_TYPE: &'static str = "text/plain";

    fn schema_ref() -> MetaSchemaRef {
        <String as Type>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        <AuditEntry as Type>::register(registry);
    }
}

impl IntoResponse for JsonLines {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}

api_response! {
    pub enum StepUpWindowResponse {
        /// Changes are allowed from this session until `stepped_up_until`.
        #[oai(status = 200)]
        Ok(Json<StepUpWindow>),
    }
    errors {
        400,
        401,
        403 => "`forbidden` (not an administrator), `invalid_credentials` (wrong password), `second_factor_required`, `invalid_mfa_code` or `forbidden_origin`.",
        413,
        415,
        429,
        503
    }
}

api_response! {
    pub enum UserListResponse {
        /// A page of accounts.
        #[oai(status = 200)]
        Ok(Json<UserList>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`: not an administrator.",
        503
    }
}

api_response! {
    pub enum UserDetailResponse {
        /// The account.
        #[oai(status = 200)]
        Ok(Json<AdminUserDetail>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`: not an administrator.",
        404 => "`not_found`: no account has that name.",
        503
    }
}

api_response! {
    pub enum AdminChangeResponse {
        /// Done; the account as it is now.
        #[oai(status = 200)]
        Ok(Json<AdminUser>),
    }
    errors {
        400,
        401,
        403 => "`forbidden` (not an administrator), `step_up_required` (step up first) or `forbidden_origin`.",
        404 => "`not_found`: no such account (or role).",
        409 => "`last_admin` (the change would leave no enabled administrator) or `cannot_disable_self`.",
        413,
        415,
        503
    }
}

api_response! {
    pub enum ResetLinkResponse {
        /// The link, shown once.
        #[oai(status = 200)]
        Ok(Json<ResetLink>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`, `step_up_required` or `forbidden_origin`.",
        404 => "`not_found`: no such account.",
        413,
        415,
        503
    }
}

api_response! {
    pub enum RolesResponse {
        /// Every role.
        #[oai(status = 200)]
        Ok(Json<RoleList>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`: not an administrator.",
        503
    }
}

api_response! {
    pub enum CreateRoleResponse {
        /// The role.
        #[oai(status = 201)]
        Created(Json<Role>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`, `step_up_required` or `forbidden_origin`.",
        409 => "`role_exists`.",
        413,
        415,
        503
    }
}

api_response! {
    pub enum DeleteRoleResponse {
        /// The role is gone.
        #[oai(status = 200)]
        Ok(Json<RoleDeleted>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`, `step_up_required` or `forbidden_origin`.",
        404 => "`not_found`: no such role.",
        409 => "`role_built_in`: `admin` cannot be deleted.",
        503
    }
}

api_response! {
    pub enum AuditResponse {
        /// A page of the audit log.
        #[oai(status = 200)]
        Ok(Json<AuditPage>),
    }
    errors {
        400,
        401,
        403 => "`forbidden`: not an administrator.",
        404 => "`not_found`: an unknown `before` cursor.",
        503
    }
}

api_response! {
    pub enum AuditExportResponse {
        /// JSON lines, newest first.
        #[oai(status = 200)]
        Ok(JsonLines),
    }
    errors {
        400,
        401,
        403 => "`forbidden`: not an administrator.",
        404 => "`not_found`: an unknown `before` cursor.",
        503
    }
}
