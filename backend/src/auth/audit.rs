//! The audit log: every admin action, whoever took it (an administrator through the API, or an
//! operator's `latchkey admin …` command), written in the transaction of the change itself.
//! An entry says who, what, to whom, when and from where; its detail never holds a password,
//! a token, a link or a hash. Entries name accounts by id and name, without foreign keys, so
//! they outlive the accounts they name.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use serde_json::Value;
use uuid::Uuid;

use super::{AuthError, ClientInfo, sessions::Authenticated};
use crate::entity::{audit_entry, user};

/// What an administrator did. Stored by its snake_case name; the compiler enumerates them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// An administrator re-entered their password (and second factor) to make changes.
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

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}

/// Who acts: an administrator's account (with where they called from), or the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    /// The administrator's username, or `cli`.
    pub name: String,
    pub client: Option<ClientInfo>,
    /// Why, in the actor's words (recorded with every entry of this action). Free text that
    /// an administrator typed: never a secret.
    pub reason: Option<String>,
    /// An administrator's session, whose step-up window each change re-checks in its own
    /// transaction (`admin::begin_change`).
    pub session_id: Option<Uuid>,
}

impl Actor {
    /// An operator's `latchkey admin …` command.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            name: CLI.to_owned(),
            client: None,
            reason: None,
            session_id: None,
        }
    }

    /// A signed-in administrator calling from `client`, in the session `caller` presented.
    pub fn administrator(caller: &Authenticated, client: &ClientInfo) -> Self {
        Self {
            user_id: Some(caller.user.id),
            name: caller.user.username.clone(),
            client: Some(client.clone()),
            reason: None,
            session_id: Some(caller.session_id),
        }
    }

    /// The same actor, giving `reason` (blank is none).
    pub fn with_reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(REASON_MAX).collect());
        self
    }
}

/// The longest reason kept, in characters.
pub const REASON_MAX: usize = 500;

/// The actor name of the command line.
pub const CLI: &str = "cli";

/// Records `action` by `actor` on `target` (if it concerns an account), inside the caller's
/// transaction (begun with `admin::begin_change`, which re-checks the actor), and counts it (`latchkey_admin_actions_total{action}`).
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    action: Action,
    target: Option<&user::Model>,
    mut detail: Value,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if let (Some(reason), Value::Object(fields)) = (&actor.reason, &mut detail) {
        fields.insert("reason".to_owned(), Value::String(reason.clone()));
    }
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(now),
        actor_id: Set(actor.user_id),
        actor: Set(actor.name.clone()),
        action: Set(action.as_str().to_owned()),
        target_id: Set(target.map(|t| t.id)),
        target: Set(target.map(|t| t.username.clone())),
        detail: Set(detail.to_string()),
        ip: Set(actor
            .client
            .as_ref()
            .and_then(|c| c.ip)
            .map(|ip| ip.to_string())),
    })
    .exec_without_returning(conn)
    .await?;
    metrics::counter!("latchkey_admin_actions_total", "action" => action.as_str()).increment(1);
    Ok(())
}

/// Which entries to read: every filter is optional; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The actor's name as recorded (a username, or `cli`), any letter case.
    pub actor: Option<String>,
    /// The target's name as recorded, any letter case.
    pub target: Option<String>,
    pub action: Option<Action>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries older than this one (the last of the previous page).
    pub before: Option<Uuid>,
    pub limit: u64,
}

/// A page of entries, newest first, and the cursor of the next one when there are more.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<audit_entry::Model>,
    pub next_before: Option<Uuid>,
}

/// A page of the log. The cursor is an entry id, ordered (time, id) descending, so entries
/// sharing an instant are neither skipped nor repeated; an unknown cursor is `NotFound`.
pub async fn page(db: &DatabaseConnection, filter: &Filter) -> Result<Page, AuthError> {
    let mut query = audit_entry::Entity::find()
        .order_by_desc(audit_entry::Column::At)
        .order_by_desc(audit_entry::Column::Id)
        .limit(filter.limit.saturating_add(1));
    if let Some(before) = filter.before {
        let cursor = audit_entry::Entity::find_by_id(before)
            .one(db)
            .await?
            .ok_or(AuthError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(audit_entry::Column::At.lt(cursor.at))
                .add(
                    Condition::all()
                        .add(audit_entry::Column::At.eq(cursor.at))
                        .add(audit_entry::Column::Id.lt(cursor.id)),
                ),
        );
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(name_is(audit_entry::Column::Actor, actor));
    }
    if let Some(target) = &filter.target {
        query = query.filter(name_is(audit_entry::Column::Target, target));
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_entry::Column::Action.eq(action.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_entry::Column::At.gte(since));
    }
    let mut entries = query.all(db).await?;
    let more = entries.len() as u64 > filter.limit;
    entries.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
    let next_before = more.then(|| entries.last().map(|e| e.id)).flatten();
    Ok(Page {
        entries,
        next_before,
    })
}

/// A recorded name equal to `name` in any letter case (usernames are unique regardless of case).
fn name_is(column: audit_entry::Column, name: &str) -> Condition {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
    Condition::all().add(Expr::expr(Func::lower(Expr::col(column))).eq(name.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips_through_its_name() {
        use strum::IntoEnumIterator as _;
        for action in Action::iter() {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::ResetLinkIssued.as_str(), "reset_link_issued");
    }
}
