use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn the_profile_is_served_from_the_access_cookie() {
    let app = spawn_app().await;
    let session = app.signed_in("Alice").await;
    let response = app.profile().await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    for field in ["id", "username", "created_at"] {
        assert_eq!(body[field], session["user"][field], "{field}");
    }
    // What the account says about itself, beyond the user: nothing yet.
    assert!(body["email"].is_null() && body["recovery_key_created_at"].is_null());
    assert_eq!(body["email_verified"], false);
}

#[tokio::test]
async fn the_profile_is_served_from_a_bearer_token() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let response = app.profile_with_bearer(&token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
}

#[tokio::test]
async fn the_profile_without_a_token_is_401() {
    let app = spawn_app().await;
    assert_error(app.profile().await, 401, "unauthenticated").await;
    let empty_bearer = reqwest::Client::new()
        .get(app.url("/profile"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_error(empty_bearer, 401, "unauthenticated").await;
    let basic = reqwest::Client::new()
        .get(app.url("/profile"))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_deleted_users_token_stops_working() {
    let app = spawn_app().await;
    let session = app.signed_in("alice").await;
    let token = app.cookie("access_token").unwrap();
    let id = session["user"]["id"].as_str().unwrap();
    use sea_orm::EntityTrait as _;
    latchkey::entity::user::Entity::delete_by_id(uuid::Uuid::parse_str(id).unwrap())
        .exec(&app.state.auth.db)
        .await
        .unwrap();
    assert_error(
        app.profile_with_bearer(&token).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(app.refresh().await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn a_bad_bearer_header_is_not_rescued_by_a_good_cookie() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let response = app
        .client
        .get(app.url("/profile"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
}
