//! A change to the signing keys, made by another process (the CLI, another instance), reaches
//! every running instance within two seconds: on PostgreSQL by a notification, on SQLite by a
//! change counter each instance reads every second.

use std::time::{Duration, Instant};

use latchkey::{
    auth::keys,
    changes::{self, Topic},
};
use sea_orm::{ConnectionTrait as _, Database, DbBackend, Statement};
use serde_json::{Value, json};

use crate::{
    cli::latchkey,
    helpers::{PASSWORD, ServerProcess, TestApp, spawn_app},
    keys::kid_of,
};

const WITHIN: Duration = Duration::from_secs(2);

fn on_postgres() -> bool {
    std::env::var("LATCHKEY_TEST_DB").as_deref() == Ok("postgres")
}

/// A fresh access token for alice from the instance at `base`.
async fn token_from(base: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/token"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn published_kids(base: &str) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    crate::jwt_attacks::access_keys(&jwks)
        .into_iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn profile_status(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/profile"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits (up to `WITHIN` after `since`) until the instance at `base` signs with another key than
/// `retired`, no longer publishes it, and refuses `token`, which it signed.
async fn assert_retired_on(base: &str, retired: &str, token: &str, since: Instant) {
    loop {
        let signs_with = kid_of(&token_from(base).await);
        let published = published_kids(base).await;
        let old_token = profile_status(base, token).await;
        if signs_with != retired && !published.iter().any(|kid| kid == retired) && old_token == 401
        {
            return;
        }
        assert!(
            since.elapsed() < WITHIN,
            "{base}, {:?} after the retirement: signs with {signs_with}, publishes {published:?}, \
             a token of the retired key gets {old_token}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_retired_key_stops_signing_on_every_instance_within_two_seconds() {
    let app = spawn_app().await;
    let other = ServerProcess::start(app.database_url(), &[]).await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let instances = [app.address.clone(), other.address.clone()];
    let mut tokens = Vec::new();
    for base in &instances {
        tokens.push(token_from(base).await);
        assert_eq!(profile_status(base, tokens.last().unwrap()).await, 200);
    }
    let kid = kid_of(&tokens[0]);
    assert_eq!(kid_of(&tokens[1]), kid, "one key signs everywhere");

    let retire = latchkey(&app, &["keys", "retire", &kid, "--yes"], "").await;
    assert_eq!(retire.code, 0, "{}", retire.stderr);
    let retired_at = Instant::now();
    for (base, token) in instances.iter().zip(&tokens) {
        assert_retired_on(base, &kid, token, retired_at).await;
    }
}

#[tokio::test]
async fn a_key_published_by_the_cli_appears_on_every_instance_within_two_seconds() {
    let app = spawn_app().await;
    let other = ServerProcess::start(app.database_url(), &[]).await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let current = kid_of(&token_from(&app.address).await);

    let rotate = latchkey(&app, &["keys", "rotate"], "").await;
    assert_eq!(rotate.code, 0, "{}", rotate.stderr);
    let published_at = Instant::now();
    let next = rotate
        .stdout
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(';')
        .to_owned();
    assert_ne!(next, current);
    for base in [&app.address, &other.address] {
        while !published_kids(base).await.contains(&next) {
            assert!(
                published_at.elapsed() < WITHIN,
                "{base} does not publish {next}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Published ahead of time; the current key signs until the lead time is over.
        assert_eq!(kid_of(&token_from(base).await), current);
    }
}

#[tokio::test]
async fn only_a_change_to_the_keys_moves_the_change_counter() {
    let app = spawn_app().await;
    let auth = &app.state.auth;
    let policy = auth.keys.policy();
    let count = || changes::counter(&auth.db, Topic::SigningKeys);
    let first = count().await.unwrap();
    assert!(first.is_some(), "creating the first key was a change");
    // A rotation check with nothing due writes nothing, so nobody reloads for it.
    let now = chrono::Utc::now();
    assert_eq!(
        auth.keys
            .rotate_if_due(&auth.db, &auth.secrets, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(count().await.unwrap(), first);
    let (next, _) = keys::rotate(&auth.db, &auth.secrets, policy, now)
        .await
        .unwrap()
        .unwrap();
    let rotated = count().await.unwrap();
    assert!(rotated > first);
    // A second rotation finds the key waiting: no change.
    assert_eq!(
        keys::rotate(&auth.db, &auth.secrets, policy, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(count().await.unwrap(), rotated);
    keys::retire(&auth.db, &auth.secrets, policy, &next, now)
        .await
        .unwrap();
    assert!(count().await.unwrap() > rotated);
}

/// The PostgreSQL backends of this test's listeners.
async fn listeners(app: &TestApp) -> i64 {
    let db = Database::connect(app.database_url()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
            [changes::LISTENER_NAME.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    db.close().await.unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn the_key_listener_reconnects_after_losing_its_connection_and_catches_up() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    let token = token_from(&app.address).await;
    let kid = kid_of(&token);
    let started = Instant::now();
    while listeners(&app).await != 1 {
        assert!(started.elapsed() < WITHIN, "the listener never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Cut the listener's connection, and change the keys while it reconnects: the notification
    // may be lost, the reload after the reconnect must not be.
    let db = Database::connect(app.database_url()).await.unwrap();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
        [changes::LISTENER_NAME.into()],
    ))
    .await
    .unwrap();
    let auth = &app.state.auth;
    keys::retire(
        &db,
        &auth.secrets,
        auth.keys.policy(),
        &kid,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    let retired_at = Instant::now();

    assert_retired_on(&app.address, &kid, &token, retired_at).await;
    while listeners(&app).await != 1 {
        assert!(
            retired_at.elapsed() < WITHIN,
            "the listener did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
