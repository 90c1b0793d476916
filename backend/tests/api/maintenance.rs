//! The background purge: it deletes what no longer counts, keeps everything still valid, and
//! runs on one instance at a time.

use chrono::{Duration, Utc};
use latchkey::{
    auth::maintenance::{self, Retention},
    entity::{activity_event, refresh_token, session, throttle_bucket},
};
use sea_orm::{ConnectionTrait as _, DbBackend, EntityTrait as _, PaginatorTrait as _, Statement};

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn the_purge_deletes_what_ended_and_keeps_what_lives() {
    let app = spawn_app().await;
    app.signed_in("alice").await; // a live session
    let phone = app.browser();
    phone.login("alice", PASSWORD).await;
    phone.post("/logout").await; // a revoked one
    app.browser().login("alice", "a wrong password!").await; // a throttle row and an event
    app.settle().await;
    let db = &app.state.auth.db;
    let retention = Retention {
        activity: std::time::Duration::from_secs(90 * 86_400),
        refresh_token: app.state.config.auth.sessions.refresh_ttl,
    };
    let count = async |db| {
        (
            session::Entity::find().count(db).await.unwrap(),
            refresh_token::Entity::find().count(db).await.unwrap(),
            throttle_bucket::Entity::find().count(db).await.unwrap(),
            activity_event::Entity::find().count(db).await.unwrap(),
        )
    };
    let (sessions, tokens, buckets, events) = count(db).await;
    assert_eq!((sessions, tokens), (2, 2));
    assert!(buckets >= 1 && events >= 3);

    // Two days on: the revoked session (and its token) and the throttle rows are gone; the
    // live session and the activity stay.
    let purged = purge_when_free(db, &retention, Utc::now() + Duration::days(2)).await;
    assert_eq!((purged.sessions, purged.refresh_tokens), (1, 0));
    assert_eq!(purged.throttle_buckets, buckets);
    assert_eq!(count(db).await, (1, 1, 0, events));
    assert_eq!(
        app.profile().await.status(),
        200,
        "the live session still works"
    );

    // A hundred days on, the session expired long ago and old activity is past retention.
    purge_when_free(db, &retention, Utc::now() + Duration::days(100)).await;
    assert_eq!(count(db).await, (0, 0, 0, 0));
}

/// Purges at `now`, waiting out the app's own background purge if it holds the lock.
async fn purge_when_free(
    db: &sea_orm::DatabaseConnection,
    retention: &Retention,
    now: chrono::DateTime<Utc>,
) -> maintenance::Purged {
    for _ in 0..100 {
        if let Some(purged) = maintenance::purge(db, retention, now).await.unwrap() {
            return purged;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the purge lock was never free");
}

#[tokio::test]
async fn only_one_instance_purges_at_a_time_on_postgres() {
    let app = spawn_app().await;
    let db = &app.state.auth.db;
    if db.get_database_backend() != DbBackend::Postgres {
        return; // SQLite serialises each batch's writes; there is no advisory lock to take
    }
    // Another instance holds the purge lock.
    let other = sea_orm::Database::connect(app.database_url())
        .await
        .unwrap();
    let txn = sea_orm::TransactionTrait::begin(&other).await.unwrap();
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [maintenance::PURGE_LOCK.into()],
    ))
    .await
    .unwrap();
    let retention = Retention {
        activity: std::time::Duration::from_secs(86_400),
        refresh_token: std::time::Duration::from_secs(86_400),
    };
    assert_eq!(
        maintenance::purge(db, &retention, Utc::now())
            .await
            .unwrap(),
        None,
        "skipped while another instance purges"
    );
    txn.rollback().await.unwrap();
    // Free again. The app's own purge (its first runs as it starts) may hold the lock for a
    // moment: a purge that finds it taken is retried, as the app's ticker would.
    let mut purged = None;
    for _ in 0..100 {
        purged = maintenance::purge(db, &retention, Utc::now())
            .await
            .unwrap();
        if purged.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(purged.is_some(), "purges once the other instance lets go");
}
