//! Roles: named sets of people, for applications to authorize by (access tokens carry them as
//! `roles`, RFC 9068 §2.2.3.1) and for Latchkey's own admin API (the built-in `admin`).
//! A role is granted and revoked by an administrator or an operator's command; every change is
//! recorded in the audit log and in the person's own activity.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    AuthError,
    activity::{self, Event, Kind},
    audit::{self, Action, Actor},
    standing,
};
use crate::{
    domain::FieldError,
    entity::{role, user, user_role},
};

/// The built-in role the admin API asks for.
pub const ADMIN: &str = "admin";

/// A role name: 1–32 characters of `a–z 0–9 _ - .`, starting with a letter (so it reads the same
/// in every token and URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleName(String);

impl RoleName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=32).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "name",
                "A role name is 1–32 characters of a–z, 0–9, _, - and ., starting with a letter.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role with how many people hold it.
#[derive(Debug, Clone)]
pub struct RoleSummary {
    pub role: role::Model,
    pub holders: u64,
}

/// Every role, by name.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<RoleSummary>, AuthError> {
    let roles = role::Entity::find()
        .order_by_asc(role::Column::Name)
        .all(db)
        .await?;
    let mut summaries = Vec::with_capacity(roles.len());
    for role in roles {
        let holders = user_role::Entity::find()
            .filter(user_role::Column::Role.eq(&role.name))
            .count(db)
            .await?;
        summaries.push(RoleSummary { role, holders });
    }
    Ok(summaries)
}

/// Creates a role; `RoleExists` if the name is taken.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &RoleName,
    description: &str,
    now: DateTime<Utc>,
) -> Result<role::Model, AuthError> {
    let description: String = description.trim().chars().take(256).collect();
    let model = role::Model {
        name: name.as_str().to_owned(),
        description,
        built_in: false,
        created_at: now,
    };
    let txn = super::admin::begin_change(db, actor, Action::RoleCreated, now).await?;
    let inserted = role::Entity::insert(role::ActiveModel {
        name: Set(model.name.clone()),
        description: Set(model.description.clone()),
        built_in: Set(false),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = inserted {
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AuthError::RoleExists,
            _ => e.into(),
        });
    }
    audit::record(
        &txn,
        actor,
        Action::RoleCreated,
        None,
        json!({ "role": model.name }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "role_created", role = %model.name, actor = %actor.name, "role created");
    Ok(model)
}

/// Deletes a role, and with it every grant of it. The built-in `admin` cannot be deleted
/// (`RoleBuiltIn`); an unknown one is `NotFound`.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    now: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::RoleDeleted, now).await?;
    let role = role::Entity::find_by_id(name.to_owned())
        .one(&txn)
        .await?
        .ok_or(AuthError::NotFound)?;
    if role.built_in {
        return Err(AuthError::RoleBuiltIn);
    }
    let holders = user_role::Entity::delete_many()
        .filter(user_role::Column::Role.eq(&role.name))
        .exec(&txn)
        .await?
        .rows_affected;
    role::Entity::delete_by_id(role.name.clone())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Action::RoleDeleted,
        None,
        json!({ "role": role.name, "holders": holders }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "role_deleted", role = %role.name, actor = %actor.name, "role deleted");
    Ok(holders)
}

/// Grants `role` to `account`. `true` if it was granted now, `false` if they held it already
/// (nothing is recorded then). An unknown role is `NotFound`.
pub async fn grant(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    role: &str,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::RoleGranted, now).await?;
    if !standing::hold(&txn, account.id).await? {
        return Err(AuthError::NotFound);
    }
    let known = role::Entity::find_by_id(role.to_owned()).one(&txn).await?;
    let Some(known) = known else {
        return Err(AuthError::NotFound);
    };
    let held = user_role::Entity::find_by_id((account.id, known.name.clone()))
        .one(&txn)
        .await?
        .is_some();
    if held {
        return Ok(false);
    }
    user_role::Entity::insert(user_role::ActiveModel {
        user_id: Set(account.id),
        role: Set(known.name.clone()),
        granted_at: Set(now),
        granted_by: Set(actor.user_id),
    })
    .exec_without_returning(&txn)
    .await?;
    record_both(
        &txn,
        actor,
        account,
        Action::RoleGranted,
        Kind::RoleGranted,
        &known.name,
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "role_granted", user_id = %account.id, role = %known.name, actor = %actor.name, "role granted");
    Ok(true)
}

/// Revokes `role` from `account`. `true` if they held it; an unknown role is `NotFound`. The
/// admin API re-reads roles on every request, so a revoked `admin` is refused at once. The last
/// enabled administrator keeps `admin` (`LastAdmin`), whoever asks, the command line too.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor,
    account: &user::Model,
    role: &str,
    now: DateTime<Utc>,
) -> Result<bool, AuthError> {
    let txn = super::admin::begin_change(db, actor, Action::RoleRevoked, now).await?;
    if !standing::hold(&txn, account.id).await? {
        return Err(AuthError::NotFound);
    }
    if role::Entity::find_by_id(role.to_owned())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(AuthError::NotFound);
    }
    if role == ADMIN {
        keep_an_admin(&txn, account.id).await?;
    }
    let removed = user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(account.id))
        .filter(user_role::Column::Role.eq(role))
        .exec(&txn)
        .await?
        .rows_affected;
    if removed == 0 {
        return Ok(false);
    }
    record_both(
        &txn,
        actor,
        account,
        Action::RoleRevoked,
        Kind::RoleRevoked,
        role,
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(event = "role_revoked", user_id = %account.id, role, actor = %actor.name, "role revoked");
    Ok(true)
}

async fn record_both(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    account: &user::Model,
    action: Action,
    kind: Kind,
    role: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    audit::record(
        txn,
        actor,
        action,
        Some(account),
        json!({ "role": role }),
        now,
    )
    .await?;
    activity::record(
        txn,
        Event {
            user_id: account.id,
            kind,
            client: None,
            session_id: None,
        },
        now,
    )
    .await
}

/// The roles `user_id` holds now, by name.
pub async fn of_user(conn: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<String>, AuthError> {
    Ok(user_role::Entity::find()
        .select_only()
        .column(user_role::Column::Role)
        .filter(user_role::Column::UserId.eq(user_id))
        .order_by_asc(user_role::Column::Role)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Takes the built-in `admin` role's row for the rest of `txn` (PostgreSQL: `FOR UPDATE`;
/// SQLite's IMMEDIATE write transactions are serial already): what every audited change takes
/// first (`admin::begin_change`), so they run one at a time.
pub async fn lock_admin(txn: &impl ConnectionTrait) -> Result<(), AuthError> {
    role::Entity::find_by_id(ADMIN.to_owned())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| AuthError::bug("the built-in admin role is missing"))?;
    Ok(())
}

/// Refuses (`LastAdmin`) a change that would leave no enabled account holding `admin`: one
/// that takes `account` away as an administrator (revoking its `admin`, disabling or deleting
/// it) while it is the only enabled one. Called inside a change begun with
/// `admin::begin_change`, which holds the `admin` role's row: two administrators demoting each
/// other at once run one after the other, and the second finds the first gone.
pub async fn keep_an_admin(txn: &impl ConnectionTrait, account_id: Uuid) -> Result<(), AuthError> {
    let enabled_admins = user_role::Entity::find()
        .inner_join(user::Entity)
        .filter(user_role::Column::Role.eq(ADMIN))
        .filter(user::Column::DisabledAt.is_null());
    let is_one = enabled_admins
        .clone()
        .filter(user_role::Column::UserId.eq(account_id))
        .count(txn)
        .await?
        > 0;
    if is_one
        && enabled_admins
            .filter(user_role::Column::UserId.ne(account_id))
            .count(txn)
            .await?
            == 0
    {
        return Err(AuthError::LastAdmin);
    }
    Ok(())
}

/// Whether `user_id` holds `role` now (read from the database, never from a token).
pub async fn holds(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    role: &str,
) -> Result<bool, AuthError> {
    Ok(user_role::Entity::find_by_id((user_id, role.to_owned()))
        .one(conn)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_plain_lowercase_words() {
        for good in ["admin", "support", "billing-read", "a", "team.ops_2"] {
            assert!(RoleName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Admin", "1st", "-x", "with space", "é", &"a".repeat(33)] {
            assert!(RoleName::parse(bad).is_err(), "{bad}");
        }
    }
}
