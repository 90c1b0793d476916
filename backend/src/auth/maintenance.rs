//! Background clean-up: deletes rows that no longer mean anything, in small batches over
//! indexed columns, by one instance at a time. Each batch commits on its own, so a crash part
//! way loses nothing: what is still valid is never touched, and the next run goes on.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, DatabaseConnection, DbBackend, EntityTrait,
    Statement, TransactionTrait as _, TryGetableMany, Value,
};
use uuid::Uuid;

use super::{
    AuthError, activity, challenges, device, outbox, recovery, sessions::duration, throttle,
};
use crate::{
    entity::{
        account_token, activity_event, auth_challenge, mail_outbox, oauth_code,
        oauth_logout_request, oauth_request, refresh_token, session, throttle_bucket,
        trusted_device,
    },
    storage,
};

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
    pub account_tokens: u64,
    /// Messages sent or given up a week ago.
    pub mail: u64,
    /// OpenID Connect authorization requests, codes and logout requests past their life.
    pub oauth: u64,
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
    let activity_cutoff = now - duration(retention.activity);
    Ok(Purged {
        sessions: purge_table::<session::Entity, Uuid>(
            db,
            session::Column::Id,
            ended_sessions(sessions_cutoff),
        )
        .await?,
        refresh_tokens: purge_table::<refresh_token::Entity, String>(
            db,
            refresh_token::Column::TokenHash,
            expired_token_history(tokens_cutoff),
        )
        .await?,
        throttle_buckets: purge_table::<throttle_bucket::Entity, String>(
            db,
            throttle_bucket::Column::Key,
            throttle::expired(now),
        )
        .await?,
        activity_events: purge_table::<activity_event::Entity, Uuid>(
            db,
            activity_event::Column::Id,
            activity::older_than(activity_cutoff),
        )
        .await?,
        challenges: purge_table::<auth_challenge::Entity, String>(
            db,
            auth_challenge::Column::Id,
            challenges::expired(now),
        )
        .await?,
        trusted_devices: purge_table::<trusted_device::Entity, Uuid>(
            db,
            trusted_device::Column::Id,
            device::expired(now),
        )
        .await?,
        account_tokens: purge_table::<account_token::Entity, String>(
            db,
            account_token::Column::Id,
            recovery::expired(now),
        )
        .await?,
        mail: purge_table::<mail_outbox::Entity, Uuid>(
            db,
            mail_outbox::Column::Id,
            outbox::done(now),
        )
        .await?,
        oauth: purge_table::<oauth_request::Entity, String>(
            db,
            oauth_request::Column::Id,
            Condition::all().add(oauth_request::Column::ExpiresAt.lt(now)),
        )
        .await?
            + purge_table::<oauth_code::Entity, String>(
                db,
                oauth_code::Column::CodeHash,
                // Kept a day after expiry, so a code that comes back late still ends its grant.
                Condition::all()
                    .add(oauth_code::Column::ExpiresAt.lt(now - chrono::Duration::days(1))),
            )
            .await?
            + purge_table::<oauth_logout_request::Entity, String>(
                db,
                oauth_logout_request::Column::Id,
                Condition::all().add(oauth_logout_request::Column::ExpiresAt.lt(now)),
            )
            .await?,
    })
}

/// Deletes the rows of `E` that match `condition`, `BATCH` at a time, each batch committed on
/// its own, until a batch comes back short; returns how many went.
async fn purge_table<E, K>(
    db: &DatabaseConnection,
    key: E::Column,
    condition: Condition,
) -> Result<u64, AuthError>
where
    E: EntityTrait,
    K: TryGetableMany + Into<Value>,
{
    let mut total = 0;
    loop {
        let deleted = storage::delete_batch::<E, K>(db, key, condition.clone(), BATCH).await?;
        total += deleted;
        if deleted < BATCH {
            return Ok(total);
        }
    }
}

/// Sessions that expired, hit their absolute end, or were revoked before `cutoff`; their token
/// history goes with them (by foreign key).
fn ended_sessions(cutoff: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(session::Column::AbsoluteExpiresAt.lt(cutoff))
        .add(session::Column::ExpiresAt.lt(cutoff))
        .add(session::Column::RevokedAt.lt(cutoff))
}

/// Spent refresh tokens of live sessions that would have expired by now anyway. The current
/// token of a live session is never this old (it expires `REFRESH_TOKEN_EXPIRATION` after
/// its issue), so only history goes, and a session's history stays bounded.
fn expired_token_history(cutoff: DateTime<Utc>) -> Condition {
    Condition::all().add(refresh_token::Column::CreatedAt.lt(cutoff))
}
