//! The database connection: pool settings per backend, migrations at startup, write
//! transactions that cannot deadlock on SQLite, and error classification.

use std::{fmt, time::Duration};

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, QueryFilter as _, QuerySelect as _, SqliteTransactionMode,
    TransactionOptions, TransactionTrait as _, TryGetableMany, Value, sqlx,
};

/// A database failure, split by what the client should hear: "try again" or "our fault". The
/// database's own error stays attached as the source, for the log.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("a database operation failed")]
    Other(#[source] DbErr),
}

impl From<DbErr> for StorageError {
    fn from(e: DbErr) -> Self {
        if is_unavailable(&e) {
            Self::Unavailable(e)
        } else {
            Self::Other(e)
        }
    }
}

/// Pool and session settings (`DATABASE_MAX_CONNECTIONS`, `DATABASE_*_TIMEOUT_MS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    /// PostgreSQL `statement_timeout` for every pooled session.
    pub statement_timeout: Duration,
    /// PostgreSQL `lock_timeout` for every pooled session.
    pub lock_timeout: Duration,
    /// How long a request waits for a pooled connection (or to open one) before it answers 503:
    /// a database outage must turn into a quick, clear error, not a hung request.
    pub acquire_timeout: Duration,
}

/// A database URL (`DATABASE_URL`). It may hold a password, so `Debug` shows it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&redact_url(&self.0))
            .finish()
    }
}

/// Drops the password from `scheme://user:password@host/db` and from a `password=` query
/// parameter, so the URL can be logged.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &base[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &base[..scheme_end], user, &base[at + 1..])
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&params.join("&"));
    }
    redacted
}

/// Opens the pool for `url` (SQLite file or PostgreSQL) with settings that suit each backend.
pub async fn connect(url: &str, settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .acquire_timeout(settings.acquire_timeout)
        .connect_timeout(settings.acquire_timeout)
        // Statements carry password and token hashes as bound values: never log them.
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        create_sqlite_parent_dir(url);
        options
            // Readers run in parallel with one writer under WAL; writers queue on the
            // busy timeout instead of failing with "database is locked".
            .max_connections(settings.max_connections.min(8))
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        let statement_timeout = settings.statement_timeout.as_millis().to_string();
        let lock_timeout = settings.lock_timeout.as_millis().to_string();
        options
            .max_connections(settings.max_connections)
            .min_connections(2.min(settings.max_connections))
            .test_before_acquire(false)
            // Set for every pooled session at connect: a statement that runs too long or
            // waits too long for a lock is cancelled by the server and answers 503.
            .map_sqlx_postgres_opts(move |o| {
                o.options([
                    ("statement_timeout", statement_timeout.as_str()),
                    ("lock_timeout", lock_timeout.as_str()),
                ])
            });
    }
    tracing::info!(database = %redact_url(url), "connecting to the database");
    Database::connect(options).await
}

/// Applies pending migrations (idempotent), one instance at a time: several instances that
/// start together on an empty database apply each migration exactly once, and the others
/// wait, then find nothing left to do.
pub async fn migrate(db: &DatabaseConnection, url: &str) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            // A session-level advisory lock on a connection of its own, held while the
            // migrator works on others. It ends with the connection, crash included.
            let mut lock = db
                .get_postgres_connection_pool()
                .acquire()
                .await
                .map_err(sqlx_err)?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *lock)
                .await
                .map_err(sqlx_err)?;
            let migrated = Migrator::up(db, None).await;
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *lock)
                .await;
            migrated?;
            unlocked.map_err(sqlx_err)?;
            Ok(())
        }
        _ => {
            // SQLite instances share a file: lock a file beside it.
            let lock_file = sqlite_path(url).map(|path| format!("{path}.migrate-lock"));
            let _lock = match lock_file {
                Some(path) => Some(lock_exclusively(&path).await?),
                None => None,
            };
            Migrator::up(db, None).await
        }
    }
}

/// Distinguishes Latchkey's migration lock from any other user of the database.
const MIGRATION_LOCK: i64 = 0x6c61_7463_686b_0002;

pub(crate) fn sqlx_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))
}

/// Waits for an exclusive lock on `path` (created if missing); released when dropped.
async fn lock_exclusively(path: &str) -> Result<std::fs::File, DbErr> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))?
    .map_err(|e| DbErr::Custom(format!("migration lock: {e}")))
}

/// Begins a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail with
/// `database is locked` when another writer got there first, and no busy timeout helps.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Deletes up to `batch` rows of `E` that match `condition`; returns how many went. The rows are
/// chosen first, by their `key` (a short read over an index), then deleted by key with the
/// condition checked again, so a row that changed meanwhile (a bucket that counted something
/// new) stays. Background purges call it until it deletes less than a batch.
pub async fn delete_batch<E, K>(
    db: &DatabaseConnection,
    key: E::Column,
    condition: Condition,
    batch: u64,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    K: TryGetableMany + Into<Value>,
{
    let keys: Vec<K> = E::find()
        .select_only()
        .column(key)
        .filter(condition.clone())
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    if keys.is_empty() {
        return Ok(0);
    }
    Ok(E::delete_many()
        .filter(key.is_in(keys))
        .filter(condition)
        .exec(db)
        .await?
        .rows_affected)
}

/// The file a SQLite URL names, or `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(':')).then_some(path)
}

/// A SQLite URL names a file; create its folder so the embedded default works on a fresh clone.
fn create_sqlite_parent_dir(url: &str) {
    let Some(path) = sqlite_path(url) else {
        return;
    };
    let parent = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        tracing::warn!(error = %e, folder = %parent.display(), "could not create the database folder");
    }
}

/// True for failures where retrying later can succeed: the database could not be reached, is
/// busy, or gave up waiting (a lock, a statement, a conflicting transaction), as opposed to a
/// query that is wrong. These become 503 responses with `Retry-After`.
pub fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(inner))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(inner)) => sqlx_is_unavailable(inner),
        _ => false,
    }
}

fn sqlx_is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => is_retryable_code(&db.code().unwrap_or_default()),
        _ => false,
    }
}

/// The SQLSTATE (PostgreSQL) or result code (SQLite) of an error that is about load, not about
/// the statement: the same statement can succeed a moment later.
fn is_retryable_code(code: &str) -> bool {
    // PostgreSQL:
    // - class 08: connection exceptions;
    // - 57P01–57P03: the server is shutting down or not ready yet;
    // - 53300: too many connections;
    // - 55P03: lock_timeout (DATABASE_LOCK_TIMEOUT_MS) expired waiting for a row lock;
    // - 57014: statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS) or a cancel request;
    // - 40P01: chosen as a deadlock victim; 40001: serialization failure. The transaction was
    //   rolled back whole, so nothing half-happened.
    // SQLite: 5 busy, 6 locked, 517 busy snapshot.
    code.starts_with("08")
        || code.starts_with("57P")
        || matches!(
            code,
            "53300" | "55P03" | "57014" | "40P01" | "40001" | "5" | "6" | "517"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_deadlocks_and_lost_connections_are_worth_a_retry() {
        for code in [
            "08006", "57P01", "53300", "55P03", "57014", "40P01", "40001", "5", "517",
        ] {
            assert!(is_retryable_code(code), "{code}");
        }
    }

    #[test]
    fn a_wrong_statement_is_not_worth_a_retry() {
        // Unique violation, foreign key, syntax error, undefined table, SQLite constraint.
        for code in ["23505", "23503", "42601", "42P01", "2067", ""] {
            assert!(!is_retryable_code(code), "{code}");
        }
    }

    #[test]
    fn a_pool_that_has_no_connection_in_time_is_unavailable() {
        let timed_out = DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        assert!(is_unavailable(&timed_out));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
    }

    #[test]
    fn a_password_in_a_url_query_is_redacted_too() {
        assert_eq!(
            redact_url("postgres://db/latchkey?user=app&password=hunter2&sslmode=require"),
            "postgres://db/latchkey?user=app&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("sqlite://data/latchkey.db?mode=rwc"),
            "sqlite://data/latchkey.db?mode=rwc"
        );
    }
}
