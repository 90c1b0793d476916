//! Managing an account once it exists: by its owner (change the password, sign out everywhere,
//! delete it) and by an operator from the admin CLI (list, disable, reset, delete).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _, LikeExpr},
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Auth, AuthError, ClientInfo,
    activity::{self, Event, Kind},
    audit::{self, Action, Actor},
    challenges,
    credentials::{find_by_username, judge_new_password},
    device,
    notices::{self, Notice, Post},
    passkeys,
    password_hash::Hasher,
    roles,
    second_factor::{self, StepUpAnswer},
    sessions::{self, Authenticated},
    standing,
    throttle::{self, Key},
};
use crate::{
    domain::{PasswordPolicy, Username},
    entity::{passkey, recovery_code, session, totp_factor, trusted_device, user},
    storage,
};

/// Replaces the caller's password after a step-up (the current password, and the second
/// factor when 2FA is on). Every other session, pending challenge and trusted device ends (the
/// device the change came from stays trusted); the caller's session stays signed in.
pub async fn change_password(
    auth: &Auth,
    caller: &Authenticated,
    current: &StepUpAnswer,
    new_password: String,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    // Judged before the current password is checked: a refused new password costs no hash.
    let new = judge_new_password(
        &auth.hasher,
        auth.policy.passwords,
        &caller.user.username,
        new_password,
        "new_password",
    )
    .await?;
    let step_up = second_factor::step_up(auth, caller, current, client, now).await?;
    let hash = auth.hasher.hash(&new).await?;
    let txn = storage::begin_write(&auth.db).await?;
    step_up.apply(&txn, now).await?;
    standing::advance(&txn, caller.user.id, step_up.device, now).await?;
    set_password_hash(&txn, caller.user.id, hash, now).await?;
    let ended = sessions::revoke_all(&txn, caller.user.id, Some(caller.session_id), now).await?;
    activity::record(
        &txn,
        Event {
            user_id: caller.user.id,
            kind: Kind::PasswordChanged,
            client: Some(client),
            session_id: Some(caller.session_id),
        },
        now,
    )
    .await?;
    notices::tell_owner(
        auth.post(),
        &txn,
        caller.user.id,
        Notice::PasswordChanged,
        Some(client),
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::count_revoked("password_changed", ended);
    tracing::info!(event = "password_changed", user_id = %caller.user.id, other_sessions_ended = ended, "password changed");
    Ok(())
}

/// Ends every session of the caller, their own included, and every sign-in still waiting for
/// its second factor. Trusted devices stay trusted: they grant no access, only their own
/// sign-in limit, and the owner's own device is what keeps signing in possible while a
/// stranger has locked the name.
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    caller: &Authenticated,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let txn = storage::begin_write(db).await?;
    standing::hold(&txn, caller.user.id).await?;
    let ended = sessions::revoke_all(&txn, caller.user.id, None, now).await?;
    challenges::end_all_of(&txn, caller.user.id).await?;
    activity::record(
        &txn,
        Event {
            user_id: caller.user.id,
            kind: Kind::SignedOutEverywhere,
            client: Some(client),
            session_id: Some(caller.session_id),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::count_revoked("logout_all", ended);
    tracing::info!(event = "logout_all", user_id = %caller.user.id, sessions_ended = ended, "signed out everywhere");
    Ok(ended)
}

/// Deletes the caller's account after a step-up: the user row and, by foreign key, every
/// session, refresh token, activity event and second factor; and the name's throttle state.
/// The username is free again at once.
pub async fn delete_own_account(
    auth: &Auth,
    caller: &Authenticated,
    answer: &StepUpAnswer,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let step_up = second_factor::step_up(auth, caller, answer, client, now).await?;
    let account = user::Entity::find_by_id(caller.user.id)
        .one(&auth.db)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let txn = storage::begin_write(&auth.db).await?;
    // The last enabled administrator leaving would leave nobody to run the console. The admin
    // role's row is taken before any other row, as every admin change takes it first
    // (`admin::begin_change`), so this cannot race a demotion or deadlock with an admin change.
    roles::lock_admin(&txn).await?;
    step_up.apply(&txn, now).await?;
    roles::keep_an_admin(&txn, account.id).await?;
    delete_in(&txn, &account).await?;
    txn.commit().await?;
    tracing::info!(event = "account_deleted", user_id = %account.id, "account deleted by its owner");
    Ok(())
}

async fn delete_in(txn: &impl ConnectionTrait, account: &user::Model) -> Result<(), AuthError> {
    user::Entity::delete_by_id(account.id).exec(txn).await?;
    throttle::clear(txn, &[Key::username(&account.username_canonical)]).await?;
    Ok(())
}

async fn set_password_hash(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    hash: String,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

// ---- Operators (the admin CLI) ----------------------------------------------------------

/// One account as an operator sees it.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub user: user::Model,
    pub active_sessions: u64,
}

/// Accounts whose name contains `filter` literally (case-insensitive; `%` and `_` are plain
/// characters, not patterns), by name, `per_page` at a time.
pub async fn list(
    db: &DatabaseConnection,
    filter: Option<&str>,
    page: u64,
    per_page: u64,
    now: DateTime<Utc>,
) -> Result<Vec<AccountSummary>, AuthError> {
    let mut query = user::Entity::find().order_by_asc(user::Column::UsernameCanonical);
    if let Some(filter) = filter.filter(|f| !f.is_empty()) {
        let pattern = format!("%{}%", escape_like(&filter.to_lowercase()));
        query = query.filter(
            Expr::col(user::Column::UsernameCanonical).like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    let users = query
        .offset(page.saturating_sub(1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let mut summaries = Vec::with_capacity(users.len());
    for user in users {
        let active_sessions = live_sessions(user.id, now).count(db).await?;
        summaries.push(AccountSummary {
            user,
            active_sessions,
        });
    }
    Ok(summaries)
}

fn live_sessions(user_id: Uuid, now: DateTime<Utc>) -> sea_orm::Select<session::Entity> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .filter(session::Column::ExpiresAt.gt(now))
        .filter(session::Column::AbsoluteExpiresAt.gt(now))
}

/// The account called `name` (any letter case), or `NotFound`.
pub async fn find(db: &DatabaseConnection, name: &str) -> Result<user::Model, AuthError> {
    let username = Username::parse(name.to_owned()).map_err(|_| AuthError::NotFound)?;
    find_by_username(db, &username)
        .await?
        .ok_or(AuthError::NotFound)
}

/// `%`, `_` and the escape character itself, made literal in a LIKE pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Ends every session of the account, and every sign-in waiting for its second factor;
/// returns how many sessions.
pub async fn revoke_sessions(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::SessionsRevoked, now).await?;
    standing::hold(&txn, account.id).await?;
    let ended = sessions::revoke_all(&txn, account.id, None, now).await?;
    challenges::end_all_of(&txn, account.id).await?;
    activity::record_with_reason(
        &txn,
        operator_event(account, Kind::AdminSessionsRevoked),
        actor.reason.as_deref(),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        Action::SessionsRevoked,
        Some(account),
        json!({ "sessions_ended": ended }),
        now,
    )
    .await?;
    txn.commit().await?;
    sessions::count_revoked("revoked_by_admin", ended);
    tracing::info!(event = "admin_revoke_sessions", user_id = %account.id, actor = %actor.name, sessions_ended = ended, "sessions revoked by an operator");
    Ok(ended)
}

/// Forgets the failed sign-ins counted against the account's name.
pub async fn unlock(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::Unlocked, now).await?;
    let cleared = throttle::clear(&txn, &[Key::username(&account.username_canonical)]).await?;
    activity::record_with_reason(
        &txn,
        operator_event(account, Kind::AdminUnlocked),
        actor.reason.as_deref(),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        Action::Unlocked,
        Some(account),
        json!({ "buckets_cleared": cleared }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "admin_unlock", user_id = %account.id, actor = %actor.name, "sign-in throttle cleared by an operator");
    Ok(cleared)
}

/// Disables (`true`) or re-enables the account. Disabling ends at once everything granted:
/// sessions, pending challenges and device trust; a sign-in in flight cannot finish.
pub async fn set_disabled(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let action = if disabled {
        Action::UserDisabled
    } else {
        Action::UserEnabled
    };
    let txn = super::admin::begin_change(db, actor, action, now).await?;
    if disabled {
        // An administrator locking themselves out is a slip, never a need.
        if actor.user_id == Some(account.id) {
            return Err(AuthError::CannotDisableSelf);
        }
        roles::keep_an_admin(&txn, account.id).await?;
        standing::advance(&txn, account.id, None, now).await?;
    }
    user::Entity::update_many()
        .col_expr(
            user::Column::DisabledAt,
            Expr::value(disabled.then_some(now)),
        )
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    let ended = if disabled {
        sessions::revoke_all(&txn, account.id, None, now).await?
    } else {
        0
    };
    let kind = if disabled {
        Kind::AccountDisabled
    } else {
        Kind::AccountEnabled
    };
    activity::record_with_reason(
        &txn,
        operator_event(account, kind),
        actor.reason.as_deref(),
        now,
    )
    .await?;
    audit::record(
        &txn,
        actor,
        action,
        Some(account),
        json!({ "sessions_ended": ended }),
        now,
    )
    .await?;
    txn.commit().await?;
    if disabled {
        sessions::count_revoked("account_disabled", ended);
    }
    tracing::info!(event = "admin_set_disabled", user_id = %account.id, actor = %actor.name, disabled, sessions_ended = ended, "account status changed by an operator");
    Ok(ended)
}

/// Sets a new password chosen by an operator (policy-checked); every session, pending
/// challenge and trusted device ends, and the owner is told. Takes only what it uses, so the
/// admin CLI needs no server or signing keys.
#[allow(clippy::too_many_arguments)]
pub async fn reset_password(
    db: &DatabaseConnection,
    post: Post<'_>,
    hasher: &Hasher,
    policy: PasswordPolicy,
    actor: &Actor,
    account: &user::Model,
    new_password: String,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let new =
        judge_new_password(hasher, policy, &account.username, new_password, "password").await?;
    let hash = hasher.hash(&new).await?;
    let txn = super::admin::begin_change(db, actor, Action::PasswordSet, now).await?;
    standing::advance(&txn, account.id, None, now).await?;
    set_password_hash(&txn, account.id, hash, now).await?;
    let ended = sessions::revoke_all(&txn, account.id, None, now).await?;
    activity::record_with_reason(
        &txn,
        operator_event(account, Kind::PasswordReset),
        actor.reason.as_deref(),
        now,
    )
    .await?;
    notices::tell_owner(post, &txn, account.id, Notice::PasswordReset, None, now).await?;
    audit::record(
        &txn,
        actor,
        Action::PasswordSet,
        Some(account),
        json!({ "sessions_ended": ended }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "admin_set_password", user_id = %account.id, sessions_ended = ended, "password set by an operator");
    Ok(ended)
}

/// Deletes the account and everything that belongs to it.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::UserDeleted, now).await?;
    roles::keep_an_admin(&txn, account.id).await?;
    delete_in(&txn, account).await?;
    audit::record(
        &txn,
        actor,
        Action::UserDeleted,
        Some(account),
        json!({}),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "admin_delete", user_id = %account.id, "account deleted by an operator");
    Ok(())
}

/// An account's second factors and trusted devices, as an operator sees them.
#[derive(Debug, Clone)]
pub struct Factors {
    pub totp_enabled: bool,
    pub recovery_codes_remaining: u64,
    pub passkeys: Vec<passkey::Model>,
    pub trusted_devices: Vec<trusted_device::Model>,
}

pub async fn factors(
    db: &DatabaseConnection,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<Factors, AuthError> {
    let status = second_factor::status(db, account.id).await?;
    Ok(Factors {
        totp_enabled: status.totp_enabled,
        recovery_codes_remaining: status.recovery_codes_remaining,
        passkeys: passkeys::passkeys_of(db, account.id).await?,
        trusted_devices: device::trusted(db, account.id, now).await?,
    })
}

/// What a factor reset removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactorsRemoved {
    pub totp: bool,
    pub recovery_codes: u64,
    pub passkeys: u64,
}

/// Removes every second factor of the account (authenticator app, recovery codes, passkeys)
/// and ends its pending challenges and device trust: for an owner who lost their
/// authenticator, or an account whose factors cannot be trusted. Sessions stay (an operator
/// ends them with `revoke_sessions`).
pub async fn reset_factors(
    db: &DatabaseConnection,
    post: Post<'_>,
    actor: &Actor,
    account: &user::Model,
    now: DateTime<Utc>,
) -> Result<FactorsRemoved, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::FactorsReset, now).await?;
    standing::advance(&txn, account.id, None, now).await?;
    let totp = totp_factor::Entity::delete_many()
        .filter(totp_factor::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?
        .rows_affected;
    let recovery_codes = recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(account.id))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    let passkeys = passkey::Entity::delete_many()
        .filter(passkey::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?
        .rows_affected;
    activity::record_with_reason(
        &txn,
        operator_event(account, Kind::FactorsReset),
        actor.reason.as_deref(),
        now,
    )
    .await?;
    notices::tell_owner(post, &txn, account.id, Notice::FactorsReset, None, now).await?;
    audit::record(
        &txn,
        actor,
        Action::FactorsReset,
        Some(account),
        json!({ "authenticator_app": totp > 0, "recovery_codes": recovery_codes, "passkeys": passkeys }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "admin_reset_factors", user_id = %account.id, passkeys, "second factors reset by an operator");
    Ok(FactorsRemoved {
        totp: totp > 0,
        recovery_codes,
        passkeys,
    })
}

fn operator_event(account: &user::Model, kind: Kind) -> Event<'static> {
    Event {
        user_id: account.id,
        kind,
        client: None,
        session_id: None,
    }
}
