use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_error, spawn_app};

#[tokio::test]
async fn registering_returns_201_with_the_public_user_only() {
    let app = spawn_app().await;
    let response = app.register("Alice_1", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "registering does not sign in"
    );
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["created_at", "id", "username"]);
    assert_eq!(body["username"], "Alice_1");
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn extra_fields_are_ignored() {
    let app = spawn_app().await;
    let body = json!({ "username": "mallory", "password": PASSWORD, "id": "00000000-0000-0000-0000-000000000000", "is_admin": true });
    let response = app.post_json("/register", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let user: Value = response.json().await.unwrap();
    assert_ne!(user["id"], "00000000-0000-0000-0000-000000000000");
    assert!(user.get("is_admin").is_none());
}

#[tokio::test]
async fn invalid_fields_are_all_reported_at_once() {
    let app = spawn_app().await;
    let body = assert_error(app.register("a", "short").await, 400, "validation_failed").await;
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["username", "password"]);
    assert!(!body.to_string().contains("short"), "input is never echoed");
}

#[tokio::test]
async fn usernames_outside_the_rules_are_rejected() {
    let app = spawn_app().await;
    let too_long = "a".repeat(33);
    for name in [
        "ab",
        too_long.as_str(),
        "_alice",
        ".alice",
        "al ice",
        "alïce",
        "ａｌｉｃｅ",
        "bob\u{200b}",
        "admin\u{0}x",
        " alice",
        "",
    ] {
        let body = assert_error(app.register(name, PASSWORD).await, 400, "validation_failed").await;
        assert_eq!(body["fields"][0]["field"], "username", "{name:?}");
    }
}

#[tokio::test]
async fn passwords_are_counted_in_characters_and_capped_at_128() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("emoji", "🔑🐢🌵🎲🧭🪁🦉🍄🛶🎻🧊🪐")
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_error(
        app.register("emoji2", &"🔑".repeat(11)).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.register("longest", &long_password(128)).await.status(),
        StatusCode::CREATED
    );
    assert_error(
        app.register("toolong", &long_password(129)).await,
        400,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_taken_username_is_409_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    for name in ["alice", "Alice", "ALICE"] {
        assert_error(app.register(name, PASSWORD).await, 409, "username_taken").await;
    }
}

#[tokio::test]
async fn the_stored_password_is_an_argon2id_hash() {
    let app = spawn_app().await;
    let response = app.register("hashme", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let user = latchkey::entity::user::Entity::find()
        .filter(latchkey::entity::user::Column::UsernameCanonical.eq("hashme"))
        .one(&app.state.auth.db)
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.starts_with("$argon2id$v=19$"));
    assert!(!user.password_hash.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_registrations_of_one_name_create_one_account() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|i| {
        let client = reqwest::Client::new();
        let url = app.url("/register");
        // Mixed case: the race is decided on the canonical name.
        let name = if i % 2 == 0 { "Racer" } else { "racer" };
        async move {
            client
                .post(url)
                .json(&json!({ "username": name, "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_different_names_all_succeed() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|i| {
        let client = reqwest::Client::new();
        let url = app.url("/register");
        async move {
            client
                .post(url)
                .json(&json!({ "username": format!("user{i}"), "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
}

/// A password of `len` characters that is not guessable (no repeats, no sequences).
fn long_password(len: usize) -> String {
    let alphabet: Vec<char> = "qz7Kp2mX9wRtL4vB8nYc3HdJ6gFs5aE".chars().collect();
    (0..len)
        .map(|i| alphabet[(i * 7 + i * i * 3 + i / 5) % alphabet.len()])
        .collect()
}
