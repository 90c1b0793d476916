//! A database that makes a request wait too long answers 503 with `Retry-After`, never 500, and
//! the same request succeeds once the database is free again.
//!
//! Row locks are a PostgreSQL matter: SQLite has none (a writer takes the whole database, and a
//! second writer waits for `busy_timeout`, then gets "database is locked", which was already a
//! 503), so these tests return early on SQLite.

use sea_orm::{ConnectionTrait as _, Database, DatabaseTransaction, TransactionTrait as _};

use crate::helpers::{PASSWORD, TestApp, assert_error, spawn_app_with};

fn on_postgres() -> bool {
    std::env::var("LATCHKEY_TEST_DB").as_deref() == Ok("postgres")
}

/// Another client (an operator's psql, a long migration) holds `sql`'s row locks until the
/// returned transaction is dropped or rolled back.
async fn hold_locks(app: &TestApp, sql: &str) -> DatabaseTransaction {
    let other = Database::connect(app.database_url()).await.unwrap();
    let txn = other.begin().await.unwrap();
    txn.execute_unprepared(sql).await.unwrap();
    txn
}

fn retry_after(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_login_that_waits_too_long_for_a_throttle_row_answers_503_with_retry_after() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app_with(&[("DATABASE_LOCK_TIMEOUT_MS", "200")]).await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    // A failure makes the throttle rows for the name and the address exist.
    assert_eq!(
        app.login("alice", "not the password at all").await.status(),
        401
    );
    let locks = hold_locks(&app, "SELECT key FROM throttle_buckets FOR UPDATE").await;

    let waited = app.login("alice", PASSWORD).await;
    assert_eq!(retry_after(&waited).as_deref(), Some("1"));
    assert!(waited.headers().get("set-cookie").is_none());
    assert_error(waited, 503, "service_unavailable").await;

    locks.rollback().await.unwrap();
    assert_eq!(app.login("alice", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn a_refresh_that_waits_too_long_for_its_session_answers_503_and_the_session_lives_on() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app_with(&[("DATABASE_LOCK_TIMEOUT_MS", "200")]).await;
    app.signed_in("alice").await;
    let refresh_token = app.cookie("refresh_token").unwrap();
    let locks = hold_locks(&app, "SELECT id FROM sessions FOR UPDATE").await;

    let waited = app.refresh().await;
    assert_eq!(retry_after(&waited).as_deref(), Some("1"));
    // "Try again", not "signed out": the cookies stay as they are.
    assert!(waited.headers().get("set-cookie").is_none());
    assert_error(waited, 503, "service_unavailable").await;
    assert_eq!(
        app.cookie("refresh_token").as_deref(),
        Some(&*refresh_token)
    );

    locks.rollback().await.unwrap();
    assert_eq!(app.refresh().await.status(), 200);
    assert_eq!(app.profile().await.status(), 200);
}
