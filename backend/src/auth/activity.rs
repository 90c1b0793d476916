//! Security events of an account, kept for the user's own review (`GET /activity`) and pruned
//! after `ACTIVITY_RETENTION_DAYS`. An event says what happened, when and from where; it never
//! holds a password, a token or a hash.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use super::{AuthError, ClientInfo};
use crate::entity::activity_event;

/// What happened. Stored by its snake_case name, so variants can be added without a
/// migration; the compiler enumerates them (`Kind::iter`), so a new one cannot be forgotten.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    SignedIn,
    SignInFailed,
    SignedOut,
    SessionRevoked,
    SignedOutEverywhere,
    PasswordChanged,
    /// A spent refresh token came back; the session it belonged to was ended.
    RefreshTokenReuseDetected,
    /// An operator disabled or re-enabled the account.
    AccountDisabled,
    AccountEnabled,
    /// The password was reset: by an operator, or with a reset link, recovery key or recovery
    /// code (the event's client tells which: an operator's has none).
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
    RecoveryCodesReplaced,
    PasskeyAdded,
    PasskeyRemoved,
    /// Signed in with a passkey (no password).
    SignedInWithPasskey,
    /// An operator removed every second factor (authenticator, recovery codes, passkeys).
    FactorsReset,
    /// An email address was added or replaced (not yet verified).
    EmailChanged,
    /// The email address was verified.
    EmailVerified,
    EmailRemoved,
    /// A recovery key was made (any earlier one stopped working).
    RecoveryKeyCreated,
    /// The person allowed an application (OpenID Connect client) to sign them in.
    AppAllowed,
    /// The person revoked an application's access.
    AppRevoked,
    /// An administrator ended every session of the account.
    AdminSessionsRevoked,
    /// An administrator cleared the failed sign-ins counted against the account's name.
    AdminUnlocked,
    /// An administrator issued a password reset link for the account.
    AdminResetLink,
    /// An administrator or operator granted the account a role.
    RoleGranted,
    /// An administrator or operator revoked a role of the account.
    RoleRevoked,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<Self> {
        name.parse().ok()
    }
}

/// One event about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub user_id: Uuid,
    pub kind: Kind,
    /// Who caused it; `None` for the server itself or an operator's command.
    pub client: Option<&'a ClientInfo>,
    /// The session it concerns, if any.
    pub session_id: Option<Uuid>,
}

/// Records `event`, usually inside the transaction that made it happen.
pub async fn record(
    conn: &impl ConnectionTrait,
    event: Event<'_>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    record_with_reason(conn, event, None, now).await
}

/// Records `event` with the reason an administrator gave for it (shown to the person).
pub async fn record_with_reason(
    conn: &impl ConnectionTrait,
    event: Event<'_>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    activity_event::Entity::insert(activity_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(event.user_id),
        kind: Set(event.kind.as_str().to_owned()),
        at: Set(now),
        ip: Set(event.client.and_then(|c| c.ip).map(|ip| ip.to_string())),
        user_agent: Set(event.client.and_then(|c| c.user_agent.clone())),
        session_id: Set(event.session_id),
        reason: Set(reason.map(str::to_owned)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The user's most recent events, newest first.
pub async fn recent(
    db: &DatabaseConnection,
    user_id: Uuid,
    limit: u64,
) -> Result<Vec<activity_event::Model>, AuthError> {
    Ok(page(db, user_id, &PageRequest::first(limit)).await?.events)
}

/// Which page of a user's events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Events older than this one (the last event of the previous page); `None` for the newest.
    pub before: Option<Uuid>,
    /// Only these kinds; empty for all.
    pub kinds: Vec<Kind>,
    pub limit: u64,
}

impl PageRequest {
    pub fn first(limit: u64) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }
}

/// One page of events, newest first, and the cursor of the next one when there are more.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<activity_event::Model>,
    pub next_before: Option<Uuid>,
}

/// A page of the user's events. The cursor is an event id rather than a time, so events that
/// share an instant are neither skipped nor repeated: the order is (time, id), both descending.
/// A cursor that is not one of the user's events (pruned, or someone else's) is `NotFound`.
pub async fn page(
    db: &DatabaseConnection,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page, AuthError> {
    let mut query = activity_event::Entity::find()
        .filter(activity_event::Column::UserId.eq(user_id))
        .order_by_desc(activity_event::Column::At)
        .order_by_desc(activity_event::Column::Id)
        .limit(request.limit.saturating_add(1));
    if let Some(before) = request.before {
        let cursor = activity_event::Entity::find_by_id(before)
            .filter(activity_event::Column::UserId.eq(user_id))
            .one(db)
            .await?
            .ok_or(AuthError::NotFound)?;
        query = query.filter(
            Condition::any()
                .add(activity_event::Column::At.lt(cursor.at))
                .add(
                    Condition::all()
                        .add(activity_event::Column::At.eq(cursor.at))
                        .add(activity_event::Column::Id.lt(cursor.id)),
                ),
        );
    }
    if !request.kinds.is_empty() {
        query = query.filter(
            activity_event::Column::Kind.is_in(request.kinds.iter().map(|kind| kind.as_str())),
        );
    }
    let mut events = query.all(db).await?;
    let more = events.len() as u64 > request.limit;
    events.truncate(usize::try_from(request.limit).unwrap_or(usize::MAX));
    let next_before = more.then(|| events.last().map(|event| event.id)).flatten();
    Ok(Page {
        events,
        next_before,
    })
}

/// Events older than `before` (past their retention).
pub fn older_than(before: DateTime<Utc>) -> Condition {
    Condition::all().add(activity_event::Column::At.lt(before))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        use strum::IntoEnumIterator as _;
        for kind in Kind::iter() {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("nonsense"), None);
        assert_eq!(Kind::SignedInWithPasskey.as_str(), "signed_in_with_passkey");
        assert_eq!(
            Kind::RefreshTokenReuseDetected.as_str(),
            "refresh_token_reuse_detected"
        );
    }
}
