//! Background clean-up: deletes rows that no longer mean anything, in small batches over
//! indexed columns, by one instance at a time. Each batch commits on its own, so a crash part
//! way loses nothing: what is still valid is never touched, and the next run goes on.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DbBackend,
    EntityTrait as _, QueryFilter as _, QuerySelect as _, Statement, TransactionTrait as _,
};
use uuid::Uuid;

use super::{AuthError, activity, challenges, device, sessions::duration, throttle};
use crate::entity::{refresh_token, session};

/// Rows deleted per statement: small enough never to hold locks for long.
const BATCH: u64 = 500;
/// Ended sessions are kept a day, so "signed out" still shows in the moment after.
const KEEP_ENDED_SESSIONS: Duration = Duration::from_secs(86_400);
/// Distinguishes Latchkey's advisory lock from any other user of the database.
pub const PURGE_LOCK: i64 = 0x6c61_7463_686b_0001;

/// How long things are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub activity: Duration,
    /// The refresh-token lifetime: a spent token older than this would have expired anyway,
    /// so reuse detection no longer needs its hash.
    pub refresh_token: Duration,
}

/// What one run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub throttle_buckets: u64,
    pub activity_events: u64,
    pub challenges: u64,
    pub trusted_devices: u64,
}

/// Runs one purge unless another instance is running one (PostgreSQL advisory lock; on SQLite
/// each batch's write lock is enough). `None` when it was skipped.
pub async fn purge(
    db: &DatabaseConnection,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<Option<Purged>, AuthError> {
    // The lock belongs to this transaction's connection and ends with it, crash included.
    let guard = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        let locked = guard
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [PURGE_LOCK.into()],
            ))
            .await?
            .and_then(|row| row.try_get::<bool>("", "locked").ok())
            .unwrap_or(false);
        if !locked {
            return Ok(None);
        }
    } else {
        // SQLite: nothing to hold; release the transaction's connection at once.
        guard.commit().await?;
        return Ok(Some(purge_all(db, retention, now).await?));
    }
    let purged = purge_all(db, retention, now).await;
    guard.commit().await?;
    purged.map(Some)
}

async fn purge_all(
    db: &DatabaseConnection,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<Purged, AuthError> {
    let sessions_cutoff = now - duration(KEEP_ENDED_SESSIONS);
    let tokens_cutoff = now - duration(retention.refresh_token) - duration(KEEP_ENDED_SESSIONS);
    Ok(Purged {
        sessions: in_batches(|| ended_sessions(db, sessions_cutoff)).await?,
        refresh_tokens: in_batches(|| expired_token_history(db, tokens_cutoff)).await?,
        throttle_buckets: in_batches(|| throttle::purge_expired(db, now, BATCH)).await?,
        activity_events: in_batches(|| {
            activity::prune(db, now - duration(retention.activity), BATCH)
        })
        .await?,
        challenges: in_batches(|| challenges::purge_expired(db, now, BATCH)).await?,
        trusted_devices: in_batches(|| device::purge_expired(db, now, BATCH)).await?,
    })
}

/// Repeats `batch` until it deletes less than a full batch; returns the total.
async fn in_batches<F, Fut>(mut batch: F) -> Result<u64, AuthError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, AuthError>>,
{
    let mut total = 0;
    loop {
        let deleted = batch().await?;
        total += deleted;
        if deleted < BATCH {
            return Ok(total);
        }
    }
}

/// Sessions that expired, hit their absolute end, or were revoked before `cutoff`, with their
/// token history (by foreign key).
async fn ended_sessions(db: &DatabaseConnection, cutoff: DateTime<Utc>) -> Result<u64, AuthError> {
    let ended = Condition::any()
        .add(session::Column::AbsoluteExpiresAt.lt(cutoff))
        .add(session::Column::ExpiresAt.lt(cutoff))
        .add(session::Column::RevokedAt.lt(cutoff));
    let ids: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(ended.clone())
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(session::Entity::delete_many()
        .filter(session::Column::Id.is_in(ids))
        .filter(ended)
        .exec(db)
        .await?
        .rows_affected)
}

/// Spent refresh tokens of live sessions that would have expired by now anyway. The current
/// token of a live session is never this old (it expires `REFRESH_TOKEN_EXPIRATION` after
/// its issue), so only history goes, and a session's history stays bounded.
async fn expired_token_history(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
) -> Result<u64, AuthError> {
    let hashes: Vec<String> = refresh_token::Entity::find()
        .select_only()
        .column(refresh_token::Column::TokenHash)
        .filter(refresh_token::Column::CreatedAt.lt(cutoff))
        .limit(BATCH)
        .into_tuple()
        .all(db)
        .await?;
    if hashes.is_empty() {
        return Ok(0);
    }
    Ok(refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::TokenHash.is_in(hashes))
        .exec(db)
        .await?
        .rows_affected)
}
