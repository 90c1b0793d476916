use reqwest::StatusCode;
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use serde_json::Value;

use crate::helpers::{TestApp, assert_error, set_cookies, spawn_app, spawn_app_with};

async fn session_id_of(app: &TestApp) -> uuid::Uuid {
    let token = app.cookie("access_token").unwrap();
    match app.state.auth.keys.verify(&token, chrono::Utc::now()) {
        latchkey::auth::keys::Verification::Valid(claims) => claims.sid,
        other => panic!("the app's own token: {other:?}"),
    }
}

#[tokio::test]
async fn refresh_rotates_both_cookies() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let (old_access, old_refresh) = (
        app.cookie("access_token").unwrap(),
        app.cookie("refresh_token").unwrap(),
    );
    let response = app.refresh().await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "alice");
    assert_ne!(cookies["refresh_token"].value, old_refresh);
    assert_ne!(cookies["access_token"].value, old_access);
    assert_eq!(app.profile().await.status(), StatusCode::OK);
    // And again with the successor.
    assert_eq!(app.refresh().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_without_a_valid_cookie_is_401_and_clears_cookies() {
    let app = spawn_app().await;
    let no_cookie = app.refresh().await;
    let cleared = set_cookies(no_cookie.headers());
    assert_eq!(cleared["refresh_token"].attributes["max-age"], "0");
    assert_eq!(cleared["access_token"].attributes["max-age"], "0");
    assert_eq!(cleared["refresh_token"].attributes["path"], "/");
    assert!(cleared["refresh_token"].attributes.contains_key("httponly"));
    assert_error(no_cookie, 401, "invalid_refresh_token").await;
    let well_formed_but_unknown = "A".repeat(43);
    let long = "x".repeat(10_000);
    for junk in [
        "",
        "garbage",
        well_formed_but_unknown.as_str(),
        long.as_str(),
        "%C3%A9",
    ] {
        assert_error(app.refresh_with(junk).await, 401, "invalid_refresh_token").await;
    }
}

#[tokio::test]
async fn the_stored_hash_of_a_token_is_not_a_token() {
    use sha2::{Digest as _, Sha256};
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("refresh_token").unwrap();
    let session = session_id_of(&app).await;
    let stored: Vec<String> = latchkey::entity::refresh_token::Entity::find()
        .filter(latchkey::entity::refresh_token::Column::SessionId.eq(session))
        .all(&app.state.auth.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.token_hash)
        .collect();
    // What the database holds for the token is its SHA-256, not the token.
    assert_eq!(stored, [hex::encode(Sha256::digest(token.as_bytes()))]);
    assert!(!stored[0].contains(&token));
    // Whoever reads it from a dump cannot present it.
    assert_error(
        app.refresh_with(&stored[0]).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(app.refresh().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_replay_within_the_reuse_interval_returns_the_same_successor() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let original = app.cookie("refresh_token").unwrap();
    let first = set_cookies(app.refresh_with(&original).await.headers());
    let again = app.refresh_with(&original).await;
    assert_eq!(again.status(), StatusCode::OK);
    let second = set_cookies(again.headers());
    assert_eq!(
        first["refresh_token"].value, second["refresh_token"].value,
        "no fork"
    );
    // The successor keeps working: the session was not revoked.
    assert_eq!(
        app.refresh_with(&first["refresh_token"].value)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_replay_after_the_interval_revokes_the_whole_session() {
    let app = spawn_app_with(&[("REFRESH_REUSE_INTERVAL", "0")]).await;
    app.signed_in("alice").await;
    let original = app.cookie("refresh_token").unwrap();
    let rotated = app.refresh().await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let successor = app.cookie("refresh_token").unwrap();
    let access = app.cookie("access_token").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let replay = app.refresh_with(&original).await;
    assert_eq!(
        set_cookies(replay.headers())["refresh_token"].attributes["max-age"],
        "0"
    );
    assert_error(replay, 401, "invalid_refresh_token").await;
    // Everything of that session is dead: the successor and the access token.
    assert_error(
        app.refresh_with(&successor).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.profile_with_bearer(&access).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn a_replay_of_an_older_generation_revokes_the_session() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let generation0 = app.cookie("refresh_token").unwrap();
    assert_eq!(app.refresh().await.status(), StatusCode::OK);
    assert_eq!(app.refresh().await.status(), StatusCode::OK);
    let current = app.cookie("refresh_token").unwrap();
    assert_error(
        app.refresh_with(&generation0).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.refresh_with(&current).await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

#[tokio::test]
async fn revoking_one_session_leaves_the_users_other_sessions_alone() {
    let app = spawn_app_with(&[("REFRESH_REUSE_INTERVAL", "0")]).await;
    app.signed_in("alice").await;
    let other_device = app.login_from_another_device("alice").await;
    let other_refresh = other_device["refresh_token"].value.clone();
    let original = app.cookie("refresh_token").unwrap();
    app.refresh().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_error(
        app.refresh_with(&original).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(
        app.refresh_with(&other_refresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_refreshes_with_one_token_yield_one_successor() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("refresh_token").unwrap();
    let session = session_id_of(&app).await;
    let attempts = (0..20).map(|_| app.refresh_with(&token));
    let responses = futures::future::join_all(attempts).await;
    let mut successors = std::collections::HashSet::new();
    for response in &responses {
        assert_eq!(response.status(), StatusCode::OK);
        successors.insert(
            set_cookies(response.headers())["refresh_token"]
                .value
                .clone(),
        );
    }
    assert_eq!(successors.len(), 1, "every request got the same successor");
    let issued = latchkey::entity::refresh_token::Entity::find()
        .filter(latchkey::entity::refresh_token::Column::SessionId.eq(session))
        .count(&app.state.auth.db)
        .await
        .unwrap();
    assert_eq!(
        issued, 2,
        "one rotation happened: the first token and one successor"
    );
    let successor = successors.into_iter().next().unwrap();
    assert_eq!(app.refresh_with(&successor).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idle_expired_refresh_token_is_rejected() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let session = session_id_of(&app).await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    set_session_time(&app, session, "expires_at", &past).await;
    assert_error(app.refresh().await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_cannot_be_refreshed() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let session = session_id_of(&app).await;
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    set_session_time(&app, session, "absolute_expires_at", &past).await;
    assert_error(app.refresh().await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn cookie_lifetimes_never_outlast_the_session() {
    let app = spawn_app_with(&[
        ("SESSION_MAX_LIFETIME", "100"),
        ("REFRESH_TOKEN_EXPIRATION", "100"),
        ("ACCESS_TOKEN_EXPIRATION", "900"),
    ])
    .await;
    app.register("alice", crate::helpers::PASSWORD).await;
    let cookies = set_cookies(app.login("alice", crate::helpers::PASSWORD).await.headers());
    let max_age = |name: &str| cookies[name].attributes["max-age"].parse::<u64>().unwrap();
    assert!(max_age("refresh_token") <= 100);
    assert!(
        max_age("access_token") <= 100,
        "the access token ends with the session"
    );
}

async fn set_session_time(app: &TestApp, session: uuid::Uuid, column: &str, value: &str) {
    use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, IntoActiveModel as _};
    let row = latchkey::entity::session::Entity::find_by_id(session)
        .one(&app.state.auth.db)
        .await
        .unwrap()
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(value)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut active = row.into_active_model();
    match column {
        "expires_at" => active.expires_at = Set(at),
        "absolute_expires_at" => active.absolute_expires_at = Set(at),
        other => panic!("unknown column {other}"),
    }
    active.update(&app.state.auth.db).await.unwrap();
}
