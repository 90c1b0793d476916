use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, set_cookies, spawn_app};

#[tokio::test]
async fn logout_ends_the_session_and_the_access_token_at_once() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let access = app.cookie("access_token").unwrap();
    let refresh = app.cookie("refresh_token").unwrap();

    let response = app.logout().await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = set_cookies(response.headers());
    for name in ["access_token", "refresh_token"] {
        assert_eq!(cleared[name].value, "");
        assert_eq!(cleared[name].attributes["max-age"], "0");
        assert_eq!(cleared[name].attributes["path"], "/");
        assert_eq!(cleared[name].attributes["samesite"], "Lax");
        assert!(cleared[name].attributes.contains_key("httponly"));
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    assert_error(
        app.profile_with_bearer(&access).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        app.refresh_with(&refresh).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    // A fresh login still works.
    assert_eq!(
        app.login("alice", crate::helpers::PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_with_only_a_bearer_token_ends_that_session() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let access = app.cookie("access_token").unwrap();
    let response = reqwest::Client::new()
        .post(app.url("/logout"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_error(
        app.profile_with_bearer(&access).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn logout_without_a_session_still_succeeds() {
    let app = spawn_app().await;
    assert_eq!(app.logout().await.status(), StatusCode::OK);
    let garbage = reqwest::Client::new()
        .post(app.url("/logout"))
        .header(
            "cookie",
            "refresh_token=garbage; access_token=also.garbage.here",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::OK);
}

#[tokio::test]
async fn logging_out_twice_is_harmless() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    assert_eq!(app.logout().await.status(), StatusCode::OK);
    assert_eq!(app.logout().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_leaves_other_sessions_signed_in() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    // A second device: its own client and cookies.
    let other_device = app.login_from_another_device("alice").await;
    let other_access = other_device["access_token"].value.clone();
    assert_eq!(app.logout().await.status(), StatusCode::OK);
    assert_eq!(
        app.profile_with_bearer(&other_access).await.status(),
        StatusCode::OK
    );
}
