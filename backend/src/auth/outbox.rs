//! The mail outbox: messages are written here in the transaction of the change they tell about
//! (so a message exists exactly when its change committed, and never blocks the request), and
//! delivered by `mail::deliver_forever` on every instance.
//!
//! A message is leased to one sender at a time (`locked_until`, `lease_id`: on PostgreSQL the
//! claim skips rows another instance holds), so two instances never send it together; a sender
//! that dies lets its lease run out, and the message is sent by the next. The message itself
//! (recipient, subject, bodies: links with tokens in them) is sealed at rest and cleared once
//! it is sent or given up.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait as _, FromQueryResult as _, QueryFilter as _, Statement, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AuthError, secrets::Secrets, sessions::duration};
use crate::{entity::mail_outbox, storage};

/// After this many tries (about a day with the growing delay) a message is given up.
pub const MAX_ATTEMPTS: i32 = 24;
/// The longest wait between two tries.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// Sent and given-up messages are kept this long (their content is already gone), then purged.
const KEEP_DONE: Duration = Duration::from_secs(7 * 86_400);

/// One message: to whom, and what it says in plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Writes `message` to the outbox, inside the caller's transaction.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    secrets: &Secrets,
    kind: &'static str,
    message: &Message,
    now: DateTime<Utc>,
) -> Result<Uuid, AuthError> {
    let id = Uuid::new_v4();
    let json = serde_json::to_vec(message)
        .map_err(|e| AuthError::internal("encoding an outbox message", e))?;
    let payload = secrets.seal(&json, id.as_bytes())?;
    mail_outbox::Entity::insert(mail_outbox::ActiveModel {
        id: Set(id),
        payload: Set(Some(payload)),
        kind: Set(kind.to_owned()),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        locked_until: Set(None),
        lease_id: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(id)
}

/// A message a sender holds until its lease ends.
#[derive(Debug)]
pub struct Claimed {
    pub id: Uuid,
    pub lease_id: Uuid,
    pub kind: String,
    /// Tries so far, this one included.
    pub attempts: i32,
    pub message: Message,
}

/// Claims up to `batch` messages that are due and not held by another sender, for `lease`.
/// A message whose sealed content cannot be opened (`JWT_SECRET` changed) is given up.
pub async fn claim_due(
    db: &DatabaseConnection,
    secrets: &Secrets,
    lease: Duration,
    batch: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Claimed>, AuthError> {
    let lease_id = Uuid::new_v4();
    let locked_until = now + duration(lease);
    let backend = db.get_database_backend();
    let sql = match backend {
        // SKIP LOCKED: instances claiming at once take different messages instead of waiting.
        DbBackend::Postgres => {
            "UPDATE mail_outbox SET locked_until = $1, lease_id = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL \
             AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until < $3) \
             ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING *"
        }
        // SQLite: the IMMEDIATE transaction is the only writer.
        _ => {
            "UPDATE mail_outbox SET locked_until = ?, lease_id = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL \
             AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?) \
             ORDER BY next_attempt_at LIMIT ?) RETURNING *"
        }
    };
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let values: Vec<sea_orm::Value> = match backend {
        DbBackend::Postgres => vec![
            locked_until.into(),
            lease_id.into(),
            now.into(),
            limit.into(),
        ],
        _ => vec![
            locked_until.into(),
            lease_id.into(),
            now.into(),
            now.into(),
            limit.into(),
        ],
    };
    let txn = storage::begin_write(db).await?;
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    txn.commit().await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let row = mail_outbox::Model::from_query_result(&row, "")?;
        let opened = row
            .payload
            .as_deref()
            .and_then(|sealed| secrets.open(sealed, row.id.as_bytes()))
            .and_then(|json| serde_json::from_slice::<Message>(&json).ok());
        let Some(message) = opened else {
            let unreadable = Claimed {
                id: row.id,
                lease_id,
                kind: row.kind,
                attempts: row.attempts,
                message: Message {
                    to: String::new(),
                    subject: String::new(),
                    text: String::new(),
                    html: String::new(),
                },
            };
            give_up(db, &unreadable, "its content cannot be opened", now).await?;
            continue;
        };
        claimed.push(Claimed {
            id: row.id,
            lease_id,
            kind: row.kind,
            attempts: row.attempts,
            message,
        });
    }
    Ok(claimed)
}

/// The message went out: its content is cleared.
pub async fn delivered(
    db: &DatabaseConnection,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    finish(claimed)
        .col_expr(mail_outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(mail_outbox::Column::Payload, Expr::value(None::<String>))
        .col_expr(mail_outbox::Column::LastError, Expr::value(None::<String>))
        .exec(db)
        .await?;
    Ok(())
}

/// The message did not go out this time: due again after a delay that doubles with each try
/// (1 s, 2 s, 4 s … an hour), or given up after `MAX_ATTEMPTS`.
pub async fn retry_later(
    db: &DatabaseConnection,
    claimed: &Claimed,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    if claimed.attempts >= MAX_ATTEMPTS {
        return give_up(db, claimed, reason, now).await;
    }
    finish(claimed)
        .col_expr(
            mail_outbox::Column::NextAttemptAt,
            Expr::value(now + duration(retry_delay(claimed.attempts))),
        )
        .col_expr(
            mail_outbox::Column::LastError,
            Expr::value(Some(short(reason))),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// The message will never go out (refused for good, or too many tries): its content is cleared.
pub async fn give_up(
    db: &DatabaseConnection,
    claimed: &Claimed,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    finish(claimed)
        .col_expr(mail_outbox::Column::FailedAt, Expr::value(Some(now)))
        .col_expr(mail_outbox::Column::Payload, Expr::value(None::<String>))
        .col_expr(
            mail_outbox::Column::LastError,
            Expr::value(Some(short(reason))),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// An update of the claimed row that only its lease holder may make, releasing the lease.
fn finish(claimed: &Claimed) -> sea_orm::UpdateMany<mail_outbox::Entity> {
    mail_outbox::Entity::update_many()
        .col_expr(
            mail_outbox::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(mail_outbox::Column::LeaseId, Expr::value(None::<Uuid>))
        .filter(mail_outbox::Column::Id.eq(claimed.id))
        .filter(mail_outbox::Column::LeaseId.eq(claimed.lease_id))
}

/// The wait after the `attempts`-th failed try.
pub fn retry_delay(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
}

fn short(reason: &str) -> String {
    reason.chars().take(200).collect()
}

/// What the outbox holds now, for metrics and the operator.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Waiting to be sent (due or not).
    pub pending: u64,
    pub failed: u64,
}

pub async fn backlog(db: &DatabaseConnection) -> Result<Backlog, AuthError> {
    use sea_orm::PaginatorTrait as _;
    let pending = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::SentAt.is_null())
        .filter(mail_outbox::Column::FailedAt.is_null())
        .count(db)
        .await?;
    let failed = mail_outbox::Entity::find()
        .filter(mail_outbox::Column::FailedAt.is_not_null())
        .count(db)
        .await?;
    Ok(Backlog { pending, failed })
}

/// Messages sent or given up more than a week ago (their content is already gone).
pub fn done(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(mail_outbox::Column::CreatedAt.lt(now - duration(KEEP_DONE)))
        .add(
            sea_orm::Condition::any()
                .add(mail_outbox::Column::SentAt.is_not_null())
                .add(mail_outbox::Column::FailedAt.is_not_null()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_a_second_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(5), Duration::from_secs(16));
        assert_eq!(retry_delay(13), MAX_DELAY);
        assert_eq!(retry_delay(MAX_ATTEMPTS), MAX_DELAY);
        assert_eq!(retry_delay(0), Duration::from_secs(1));
    }
}
