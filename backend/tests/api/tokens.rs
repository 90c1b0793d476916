//! Clients that are not browsers: tokens in the body, on the same sessions and limits.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with};

async fn token(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/token"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_profile_refresh_revoke_without_cookies() {
    let app = spawn_app_with(&[("ACCESS_TOKEN_EXPIRATION", "600")]).await;
    app.register("alice", PASSWORD).await;
    let response = token(&app, "alice", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none(), "no cookies");
    let pair: Value = response.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 600);
    assert!(pair["refresh_expires_in"].as_u64().unwrap() > 600);
    let access = pair["access_token"].as_str().unwrap();
    assert_eq!(app.profile_with_bearer(access).await.status(), 200);

    let session: Value = reqwest::Client::new()
        .get(app.url("/session"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["active"], true);

    let refresh = pair["refresh_token"].as_str().unwrap();
    let renewed = post(&app, "/token/refresh", &json!({ "refresh_token": refresh })).await;
    assert_eq!(renewed.status(), 200);
    let renewed: Value = renewed.json().await.unwrap();
    assert_ne!(renewed["refresh_token"], pair["refresh_token"]);
    let new_access = renewed["access_token"].as_str().unwrap();
    assert_eq!(app.profile_with_bearer(new_access).await.status(), 200);

    let revoked = post(
        &app,
        "/token/revoke",
        &json!({ "refresh_token": renewed["refresh_token"] }),
    )
    .await;
    assert_eq!(revoked.status(), 200);
    assert_error(
        app.profile_with_bearer(new_access).await,
        401,
        "unauthenticated",
    )
    .await;
    let session = reqwest::Client::new()
        .get(app.url("/session"))
        .bearer_auth(new_access)
        .send()
        .await
        .unwrap();
    assert_error(session, 401, "unauthenticated").await;
    // Revoking again, or something unknown, is still fine (RFC 7009).
    let again = post(&app, "/token/revoke", &json!({ "refresh_token": refresh })).await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_spent_refresh_token_ends_the_session_as_with_cookies() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let pair: Value = token(&app, "alice", PASSWORD).await.json().await.unwrap();
    let refresh = |token: Value| {
        let app = &app;
        async move { post(app, "/token/refresh", &json!({ "refresh_token": token })).await }
    };
    let first = pair["refresh_token"].clone();
    let second: Value = refresh(first.clone()).await.json().await.unwrap();
    let third: Value = refresh(second["refresh_token"].clone())
        .await
        .json()
        .await
        .unwrap();
    // Two generations back is a replay, not a retry: the whole session ends.
    assert_error(refresh(first).await, 401, "invalid_refresh_token").await;
    assert_error(
        refresh(third["refresh_token"].clone()).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    let access = third["access_token"].as_str().unwrap();
    assert_error(
        app.profile_with_bearer(access).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn browser_requests_are_refused_so_pages_never_hold_a_refresh_token() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    for origin in ["http://localhost:5173", &app.address] {
        let response = reqwest::Client::new()
            .post(app.url("/token"))
            .header("origin", origin)
            .json(&json!({ "username": "alice", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_error(response, 403, "forbidden_origin").await;
    }
    let response = reqwest::Client::new()
        .post(app.url("/token/refresh"))
        .header("origin", "http://localhost:5173")
        .json(&json!({ "refresh_token": "x".repeat(43) }))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden_origin").await;
}

#[tokio::test]
async fn token_sign_in_has_the_same_limits_and_errors_as_login() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "2")]).await;
    app.register("alice", PASSWORD).await;
    assert_error(
        token(&app, "alice", "wrong password!!").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        token(&app, "alice", "wrong password!!").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(
        token(&app, "alice", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    assert_error(
        post(&app, "/token/refresh", &json!({ "refresh_token": 5 })).await,
        400,
        "malformed_request",
    )
    .await;
    assert_error(
        post(
            &app,
            "/token/refresh",
            &json!({ "refresh_token": "not a token" }),
        )
        .await,
        401,
        "invalid_refresh_token",
    )
    .await;
}
