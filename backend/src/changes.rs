//! Telling every instance, within about a second, that state they all keep in memory changed in
//! the database (today: the signing keys).
//!
//! The writer calls `announce` inside the transaction that makes the change. It bumps the topic's
//! row in `change_counters`, and on PostgreSQL it also queues a `NOTIFY`, which the server
//! delivers at commit and drops on rollback. Every instance runs `follow`, which calls back
//! whenever the topic may have changed:
//! - PostgreSQL: `LISTEN` on a connection of its own (sqlx's `PgListener`), so a busy pool never
//!   delays it and it never takes a request's connection. A notification sent while that
//!   connection is down is lost, so after every (re)connect it calls back once to catch up, and it
//!   reconnects with backoff.
//! - SQLite, which has no notifications: it reads the counter every `POLL_EVERY` (one
//!   primary-key read) and calls back only when the value moved.
//!
//! A callback can run when nothing changed (after a reconnect), so it must be a reload, not a
//! delta. Callers keep a slow periodic reload as well: if the database cannot be reached at all,
//! nothing here can help.

use std::{future::Future, time::Duration};

use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait as _, Statement,
    sea_query::{Expr, ExprTrait as _, OnConflict},
    sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

use crate::entity::change_counter;

/// How often SQLite instances read the counter.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// The listener's connection shows under this name in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "latchkey-change-listener";
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A kind of state every instance caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    SigningKeys,
}

impl Topic {
    /// Its row in `change_counters`.
    fn counter(self) -> &'static str {
        match self {
            Self::SigningKeys => "signing_keys",
        }
    }

    /// Its PostgreSQL notification channel (per database, so two deployments sharing a server
    /// never hear each other).
    fn channel(self) -> &'static str {
        match self {
            Self::SigningKeys => "latchkey_signing_keys",
        }
    }
}

/// Records that `topic` changed, in the transaction that changes it: followers hear of it
/// when, and only if, the transaction commits.
pub async fn announce(txn: &impl ConnectionTrait, topic: Topic) -> Result<(), DbErr> {
    change_counter::Entity::insert(change_counter::ActiveModel {
        name: Set(topic.counter().to_owned()),
        value: Set(1),
    })
    .on_conflict(
        OnConflict::column(change_counter::Column::Name)
            .value(
                change_counter::Column::Value,
                Expr::col((change_counter::Entity, change_counter::Column::Value)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, '')",
            [topic.channel().into()],
        ))
        .await?;
    }
    Ok(())
}

/// The counter's current value (`None` before the first change).
pub async fn counter(db: &impl ConnectionTrait, topic: Topic) -> Result<Option<i64>, DbErr> {
    Ok(
        change_counter::Entity::find_by_id(topic.counter().to_owned())
            .one(db)
            .await?
            .map(|row| row.value),
    )
}

/// Calls `on_change` whenever `topic` may have changed, forever (abort the task to stop). It
/// returns whether it caught up; until it does, it is retried with backoff.
pub async fn follow<F, Fut>(db: DatabaseConnection, topic: Topic, mut on_change: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let options = (*db.get_postgres_connection_pool().connect_options())
                .clone()
                .application_name(LISTENER_NAME);
            listen(options, topic, &mut on_change).await;
        }
        _ => poll(&db, topic, &mut on_change).await,
    }
}

async fn listen<F, Fut>(options: PgConnectOptions, topic: Topic, on_change: &mut F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut retry_in = FIRST_RETRY;
    loop {
        match subscribe(options.clone(), topic).await {
            Ok(mut listener) => {
                retry_in = FIRST_RETRY;
                tracing::debug!(topic = topic.counter(), "listening for changes");
                // Whatever changed while nobody listened.
                catch_up(on_change).await;
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => {
                            // One reload answers every notification already here.
                            while listener.next_buffered().is_some() {}
                            catch_up(on_change).await;
                        }
                        // The connection dropped and sqlx opened a new one and listens again;
                        // anything sent in between was missed.
                        Ok(None) => catch_up(on_change).await,
                        Err(e) => {
                            tracing::warn!(error = %e, topic = topic.counter(), "lost the change notifications; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, topic = topic.counter(), retry_in_ms = retry_in.as_millis() as u64, "cannot listen for changes; retrying");
            }
        }
        tokio::time::sleep(retry_in).await;
        retry_in = (retry_in * 2).min(LAST_RETRY);
    }
}

/// A listener on a pool of one connection of its own, outside the request pool.
async fn subscribe(options: PgConnectOptions, topic: Topic) -> Result<PgListener, DbErr> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(CONNECT_TIMEOUT)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(crate::storage::sqlx_err)?;
    listener
        .listen(topic.channel())
        .await
        .map_err(crate::storage::sqlx_err)?;
    Ok(listener)
}

async fn poll<F, Fut>(db: &DatabaseConnection, topic: Topic, on_change: &mut F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Unknown at first: the first read calls back once, for anything since startup.
    let mut seen: Option<Option<i64>> = None;
    loop {
        ticker.tick().await;
        match counter(db, topic).await {
            Ok(value) if seen != Some(value) => {
                // Read before the callback: a change in between moves the counter again, and
                // the next tick calls back once more.
                if on_change().await {
                    seen = Some(value);
                }
            }
            Ok(_) => {}
            // The request path reports an unreachable database; the next tick retries.
            Err(e) => {
                tracing::debug!(error = %e, topic = topic.counter(), "reading the change counter failed")
            }
        }
    }
}

/// Calls back until it succeeds, waiting longer between failures.
async fn catch_up<F, Fut>(on_change: &mut F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut retry_in = Duration::from_secs(1);
    while !on_change().await {
        tokio::time::sleep(retry_in).await;
        retry_in = (retry_in * 2).min(LAST_RETRY);
    }
}
