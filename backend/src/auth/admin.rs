//! What the admin API adds around the operator functions of `accounts`, `recovery` and
//! `roles` (which the `latchkey admin` commands call too): who may use it, the step-up window
//! its changes need, and the reads an administrator works from (finding accounts, one account
//! in full).
//!
//! Being an administrator is read from the database on every request (holding `admin` in
//! `user_roles`), never from a token, so a demotion takes effect on the next request. A change
//! also needs the caller's session to have stepped up (password, and the second factor when
//! 2FA is on) within `STEP_UP_WINDOW`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _, LikeExpr},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo,
    accounts::{self, Factors},
    activity::{self, Kind},
    audit::{self, Action, Actor},
    roles::{self, ADMIN},
    second_factor::{self, StepUpAnswer},
    sessions::{self, Authenticated},
    throttle::{self, Key},
};
use crate::{
    entity::{activity_event, passkey, session, totp_factor, user},
    storage,
};

/// How long a step-up lets an administrator make changes.
pub const STEP_UP_WINDOW: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Refuses (`Forbidden`) a caller who does not hold `admin` now.
pub async fn authorize(db: &DatabaseConnection, caller: &Authenticated) -> Result<(), AuthError> {
    if roles::holds(db, caller.user.id, ADMIN).await? {
        Ok(())
    } else {
        tracing::warn!(event = "admin_refused", security = true, user_id = %caller.user.id, "admin API refused: no admin role");
        Err(AuthError::Forbidden)
    }
}

/// Refuses (`StepUpRequired`) a change from a session that has not stepped up within
/// `STEP_UP_WINDOW`. A cheap early answer before any work; `begin_change` checks again inside
/// the change's transaction, which is what counts.
pub async fn require_fresh_step_up(
    db: &DatabaseConnection,
    caller: &Authenticated,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if step_up_open(db, caller.session_id, now).await? {
        Ok(())
    } else {
        Err(AuthError::StepUpRequired)
    }
}

/// Whether `session_id` is live and stepped up within `STEP_UP_WINDOW` before `now`.
async fn step_up_open(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let since = now - sessions::duration(STEP_UP_WINDOW);
    Ok(session::Entity::find_by_id(session_id)
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::SteppedUpAt.gt(since))
        .filter(session::Column::SteppedUpAt.lte(now))
        .one(conn)
        .await?
        .is_some())
}

/// Begins the write transaction of an audited change (`action` by `actor`); every change that
/// `audit::record`s begins here.
///
/// It first takes the built-in `admin` role's row (PostgreSQL: `FOR UPDATE`, held to commit;
/// SQLite's IMMEDIATE write transactions are serial already), so audited changes run one at a
/// time: two administrators demoting each other cannot both pass the last-admin guard, and no
/// change commits on an authority a concurrent demotion took away. Every audited transaction
/// takes this row before any account's row, so they cannot deadlock.
///
/// Then, for an administrator (the command line has no account to check), it re-checks in this
/// transaction what the API checked before it, which may be stale by now: they still hold
/// `admin` on an enabled account (`Forbidden`), and, for anything but the step-up itself, their
/// session is live and its step-up window open (`StepUpRequired`). A refusal rolls back
/// everything, since nothing was written yet.
pub async fn begin_change(
    db: &DatabaseConnection,
    actor: &Actor,
    action: Action,
    now: DateTime<Utc>,
) -> Result<DatabaseTransaction, AuthError> {
    let txn = storage::begin_write(db).await?;
    roles::lock_admin(&txn).await?;
    if let Some(user_id) = actor.user_id {
        let enabled = user::Entity::find_by_id(user_id)
            .filter(user::Column::DisabledAt.is_null())
            .one(&txn)
            .await?
            .is_some();
        if !enabled || !roles::holds(&txn, user_id, ADMIN).await? {
            tracing::warn!(event = "admin_refused", security = true, user_id = %user_id, action = action.as_str(), "admin change refused: no longer an administrator");
            return Err(AuthError::Forbidden);
        }
        let window_needed = action != Action::SteppedUp;
        if window_needed {
            let open = match actor.session_id {
                Some(session_id) => step_up_open(&txn, session_id, now).await?,
                None => false,
            };
            if !open {
                return Err(AuthError::StepUpRequired);
            }
        }
    }
    Ok(txn)
}

/// Checks the administrator's password (and second factor when 2FA is on) like every other
/// step-up, and opens the window for changes on their session. Returns when it closes.
pub async fn step_up(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AuthError> {
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let actor = Actor::administrator(caller, client);
    let txn = begin_change(&auth.db, &actor, Action::SteppedUp, now).await?;
    step_up.apply(&txn, now).await?;
    session::Entity::update_many()
        .col_expr(session::Column::SteppedUpAt, Expr::value(Some(now)))
        .filter(session::Column::Id.eq(caller.session_id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &actor,
        Action::SteppedUp,
        None,
        json!({ "second_factor": step_up.proof.is_some() }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(now + sessions::duration(STEP_UP_WINDOW))
}

/// How a name filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameMatch {
    #[default]
    Prefix,
    Contains,
}

/// Which accounts to list: by name (any letter case), `limit` at a time after the cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub name: Option<String>,
    pub name_match: NameMatch,
    /// `Some(true)`: only disabled accounts; `Some(false)`: only enabled ones.
    pub disabled: Option<bool>,
    pub created_since: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Accounts after this (lowercased) name: the `next_after` of the previous page.
    pub after: Option<String>,
    pub limit: u64,
}

/// One account in a list.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: user::Model,
    pub roles: Vec<String>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub totp_enabled: bool,
    pub passkeys: u64,
}

/// A page of accounts by name, and the cursor of the next page when there is one.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub users: Vec<UserRow>,
    pub next_after: Option<String>,
}

/// Accounts matching `query`, by name. Paged by name (keyset), so a page stays right while
/// accounts come and go.
pub async fn search(db: &DatabaseConnection, query: &UserQuery) -> Result<UserPage, AuthError> {
    let mut select = user::Entity::find()
        .order_by_asc(user::Column::UsernameCanonical)
        .limit(query.limit.saturating_add(1));
    if let Some(name) = query.name.as_deref().filter(|n| !n.is_empty()) {
        let escaped = accounts::escape_like(&name.to_lowercase());
        let pattern = match query.name_match {
            NameMatch::Prefix => format!("{escaped}%"),
            NameMatch::Contains => format!("%{escaped}%"),
        };
        select = select.filter(
            Expr::col(user::Column::UsernameCanonical).like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    match query.disabled {
        Some(true) => select = select.filter(user::Column::DisabledAt.is_not_null()),
        Some(false) => select = select.filter(user::Column::DisabledAt.is_null()),
        None => {}
    }
    if let Some(since) = query.created_since {
        select = select.filter(user::Column::CreatedAt.gte(since));
    }
    if let Some(before) = query.created_before {
        select = select.filter(user::Column::CreatedAt.lt(before));
    }
    if let Some(after) = &query.after {
        select = select.filter(user::Column::UsernameCanonical.gt(after.to_lowercase()));
    }
    let mut users = select.all(db).await?;
    let more = users.len() as u64 > query.limit;
    users.truncate(usize::try_from(query.limit).unwrap_or(usize::MAX));
    let next_after = more
        .then(|| users.last().map(|u| u.username_canonical.clone()))
        .flatten();
    let mut rows = Vec::with_capacity(users.len());
    for user in users {
        rows.push(row_of(db, user).await?);
    }
    Ok(UserPage {
        users: rows,
        next_after,
    })
}

async fn row_of(db: &DatabaseConnection, user: user::Model) -> Result<UserRow, AuthError> {
    let last_sign_in_at: Option<DateTime<Utc>> = activity_event::Entity::find()
        .select_only()
        .column(activity_event::Column::At)
        .filter(activity_event::Column::UserId.eq(user.id))
        .filter(
            Condition::any()
                .add(activity_event::Column::Kind.eq(Kind::SignedIn.as_str()))
                .add(activity_event::Column::Kind.eq(Kind::SignedInWithPasskey.as_str())),
        )
        .order_by_desc(activity_event::Column::At)
        .into_tuple()
        .one(db)
        .await?;
    let totp_enabled = totp_factor::Entity::find()
        .filter(totp_factor::Column::UserId.eq(user.id))
        .filter(totp_factor::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?
        > 0;
    let passkeys = passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user.id))
        .count(db)
        .await?;
    Ok(UserRow {
        roles: roles::of_user(db, user.id).await?,
        user,
        last_sign_in_at,
        totp_enabled,
        passkeys,
    })
}

/// One account in full, as an administrator sees it.
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub row: UserRow,
    pub sessions: Vec<session::Model>,
    pub factors: Factors,
    pub recent_activity: Vec<activity_event::Model>,
    /// The sign-in limit on the account's name, when it counts failures.
    pub throttle: Option<throttle::State>,
}

/// The account called `name`, in full; `NotFound` if there is none.
pub async fn detail(auth: &Auth, name: &str, now: DateTime<Utc>) -> Result<UserDetail, AuthError> {
    let db = &auth.db;
    let account = accounts::find(db, name).await?;
    let throttle = throttle::state(
        db,
        &Key::username(&account.username_canonical),
        auth.policy.throttle.username,
        now,
    )
    .await?;
    Ok(UserDetail {
        sessions: sessions::active(db, account.id, now).await?,
        factors: accounts::factors(db, &account, now).await?,
        recent_activity: activity::recent(db, account.id, 20).await?,
        throttle,
        row: row_of(db, account).await?,
    })
}

/// The account with this id, for an administrator who has it from a list.
pub async fn find_by_id(db: &DatabaseConnection, id: Uuid) -> Result<user::Model, AuthError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AuthError::NotFound)
}
