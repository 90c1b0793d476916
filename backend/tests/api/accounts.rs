//! Accounts a person can manage: sessions, sign out everywhere, password, deletion, activity.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with};

const NEW_PASSWORD: &str = "a brand new passphrase, long and odd";

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn sessions_of(browser: &Browser) -> Vec<Value> {
    json_of(browser.get("/sessions").await).await["sessions"]
        .as_array()
        .unwrap()
        .clone()
}

/// Alice signed in on a laptop (the app's own browser) and on a phone.
async fn alice_on_two_devices(app: &TestApp) -> (Browser, Browser) {
    app.signed_in("alice").await;
    let phone = app.browser();
    assert_eq!(phone.login("alice", PASSWORD).await.status(), 200);
    (app.main_browser(), phone)
}

#[tokio::test]
async fn the_list_shows_the_current_session_and_the_others() {
    let app = spawn_app().await;
    let (laptop, _phone) = alice_on_two_devices(&app).await;
    let sessions = sessions_of(&laptop).await;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for session in &sessions {
        assert_eq!(session["ip"], "127.0.0.1");
        assert!(session["device"].as_str().is_some_and(|d| !d.is_empty()));
        for field in ["id", "created_at", "last_used_at", "expires_at"] {
            assert!(session[field].is_string(), "{field}");
        }
    }
    // Someone else's list does not include Alice's sessions.
    let bob = app.browser();
    app.register("bob", PASSWORD).await;
    bob.login("bob", PASSWORD).await;
    assert_eq!(sessions_of(&bob).await.len(), 1);
}

#[tokio::test]
async fn browsers_are_described_by_their_user_agent() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let response = app
        .client
        .post(app.url("/login"))
        .header("user-agent", firefox)
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sessions = sessions_of(&app.main_browser()).await;
    assert_eq!(sessions[0]["device"], "Firefox 128 on Linux");
}

#[tokio::test]
async fn revoking_a_session_ends_its_tokens_at_once_and_spares_the_others() {
    let app = spawn_app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    let phone_access = phone.cookie("access_token").unwrap();
    let phone_refresh = phone.cookie("refresh_token").unwrap();
    let sessions = sessions_of(&laptop).await;
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let path = format!("/sessions/{}", other["id"].as_str().unwrap());
    assert_eq!(json_of(laptop.delete(&path).await).await["status"], "ok");

    assert_error(
        app.profile_with_bearer(&phone_access).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        app.refresh_with(&phone_refresh).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(laptop.get("/profile").await.status(), 200);
    assert_eq!(sessions_of(&laptop).await.len(), 1);
    // Revoking it again: it is no longer a live session.
    assert_error(laptop.delete(&path).await, 404, "not_found").await;
}

#[tokio::test]
async fn another_users_session_id_is_answered_like_a_missing_one() {
    let app = spawn_app().await;
    let (laptop, _) = alice_on_two_devices(&app).await;
    let alices = sessions_of(&laptop).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.register("mallory", PASSWORD).await;
    let mallory = app.browser();
    mallory.login("mallory", PASSWORD).await;
    let theirs = mallory.delete(&format!("/sessions/{alices}")).await;
    let missing = mallory
        .delete(&format!("/sessions/{}", uuid::Uuid::new_v4()))
        .await;
    let a = assert_error(theirs, 404, "not_found").await;
    let b = assert_error(missing, 404, "not_found").await;
    assert_eq!(a, b);
    assert_eq!(
        sessions_of(&laptop).await.len(),
        2,
        "Alice's session lives on"
    );
    assert_error(
        mallory.delete("/sessions/not-a-uuid").await,
        400,
        "malformed_request",
    )
    .await;
    assert_error(
        app.browser().delete(&format!("/sessions/{alices}")).await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_and_clears_the_cookies() {
    let app = spawn_app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    let laptop_access = laptop.cookie("access_token").unwrap();
    let response = laptop.post("/logout-all").await;
    assert_eq!(response.status(), 200);
    let cleared = crate::helpers::set_cookies(response.headers());
    assert_eq!(cleared["access_token"].attributes["max-age"], "0");
    assert_eq!(cleared["refresh_token"].attributes["max-age"], "0");
    assert_error(
        app.profile_with_bearer(&laptop_access).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(phone.get("/profile").await, 401, "unauthenticated").await;
    assert_error(phone.post("/refresh").await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn changing_the_password_keeps_only_this_session_and_retires_the_old_password() {
    let app = spawn_app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    let response = laptop
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(json_of(response).await["status"], "ok");
    assert_eq!(laptop.get("/profile").await.status(), 200);
    assert_eq!(
        laptop.post("/refresh").await.status(),
        200,
        "this session stays"
    );
    assert_error(phone.get("/profile").await, 401, "unauthenticated").await;
    assert_error(phone.post("/refresh").await, 401, "invalid_refresh_token").await;
    assert_error(
        app.browser().login("alice", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.browser().login("alice", NEW_PASSWORD).await.status(),
        200
    );
}

#[tokio::test]
async fn a_wrong_current_password_is_403_and_counts_like_a_failed_login() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "2")]).await;
    app.signed_in("alice").await;
    let laptop = app.main_browser();
    let wrong = json!({ "current_password": "not my password", "new_password": NEW_PASSWORD });
    let attempt = || laptop.post_json("/password", &wrong);
    // The device cookie from the sign-in is the counter here, as at sign-in.
    assert_error(attempt().await, 403, "invalid_credentials").await;
    assert_error(attempt().await, 403, "invalid_credentials").await;
    let refused = attempt().await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "too_many_attempts").await;
    assert_eq!(
        laptop.get("/profile").await.status(),
        200,
        "the session itself is fine"
    );
}

#[tokio::test]
async fn the_new_password_must_pass_the_full_policy() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let laptop = app.main_browser();
    for (weak, reason) in [
        ("short", "12 to 128"),
        ("passwordpassword", "too easy to guess"),
        ("alice-correct-horse", "must not contain your username"),
    ] {
        let response = laptop
            .post_json(
                "/password",
                &json!({ "current_password": PASSWORD, "new_password": weak }),
            )
            .await;
        let body = assert_error(response, 400, "validation_failed").await;
        assert_eq!(body["fields"][0]["field"], "new_password");
        assert!(
            body["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(reason)
        );
    }
    assert_eq!(app.browser().login("alice", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn deleting_the_account_removes_every_row_and_frees_the_name() {
    let app = spawn_app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    let db = &app.state.auth.db;
    let user_id = uuid::Uuid::parse_str(
        json_of(laptop.get("/profile").await).await["id"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_error(
        laptop
            .delete_json("/profile", &json!({ "password": "not my password" }))
            .await,
        403,
        "invalid_credentials",
    )
    .await;
    let response = laptop
        .delete_json("/profile", &json!({ "password": PASSWORD }))
        .await;
    assert_eq!(response.status(), 200);
    let cleared = crate::helpers::set_cookies(response.headers());
    for name in ["access_token", "refresh_token", "device_token"] {
        assert_eq!(cleared[name].attributes["max-age"], "0", "{name}");
    }

    use latchkey::entity::{activity_event, session, throttle_bucket, user};
    assert_eq!(
        user::Entity::find_by_id(user_id).one(db).await.unwrap(),
        None
    );
    let sessions = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .count(db)
        .await
        .unwrap();
    let events = activity_event::Entity::find()
        .filter(activity_event::Column::UserId.eq(user_id))
        .count(db)
        .await
        .unwrap();
    assert_eq!((sessions, events), (0, 0));
    let name_key = latchkey::auth::throttle::Key::username("alice");
    assert_eq!(
        throttle_bucket::Entity::find_by_id(name_key.as_str().to_owned())
            .one(db)
            .await
            .unwrap(),
        None
    );
    let token_rows = latchkey::entity::refresh_token::Entity::find()
        .count(db)
        .await
        .unwrap();
    assert_eq!(token_rows, 0, "token history went with the sessions");
    assert_error(phone.get("/profile").await, 401, "unauthenticated").await;
    assert_eq!(
        app.register("Alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn activity_records_each_event_once_in_order_with_nothing_secret() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let stranger = app.browser();
    assert_eq!(
        stranger.login("alice", "a wrong password!!").await.status(),
        401
    );
    let (laptop, phone) = (app.main_browser(), app.browser());
    laptop.login("alice", PASSWORD).await;
    phone.login("alice", PASSWORD).await;
    let phone_refresh = phone.cookie("refresh_token").unwrap();
    assert_eq!(phone.post("/refresh").await.status(), 200);
    // The spent token comes back after the reuse interval? Within it, it is a retry; use an
    // older generation: refresh again, then replay the first token.
    assert_eq!(phone.post("/refresh").await.status(), 200);
    assert_eq!(app.refresh_with(&phone_refresh).await.status(), 401);
    laptop
        .post_json(
            "/password",
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    let other = laptop.login("alice", NEW_PASSWORD).await;
    assert_eq!(other.status(), 200);
    let sessions = sessions_of(&laptop).await;
    let not_current = sessions.iter().find(|s| s["current"] == false).unwrap();
    laptop
        .delete(&format!(
            "/sessions/{}",
            not_current["id"].as_str().unwrap()
        ))
        .await;
    laptop.post("/logout").await;
    let again = app.browser();
    again.login("alice", NEW_PASSWORD).await;
    again.post("/logout-all").await;
    let again = app.browser();
    again.login("alice", NEW_PASSWORD).await;
    app.settle().await;

    let body = json_of(again.get("/activity").await).await;
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "signed_in",
            "signed_out_everywhere",
            "signed_in",
            "signed_out",
            "session_revoked",
            "signed_in",
            "password_changed",
            "refresh_token_reuse_detected",
            "signed_in",
            "signed_in",
            "sign_in_failed",
        ],
        "newest first"
    );
    let text = body.to_string();
    for secret in [
        PASSWORD,
        NEW_PASSWORD,
        phone_refresh.as_str(),
        "a wrong password!!",
    ] {
        assert!(!text.contains(secret));
    }
    assert!(!text.contains("argon2"));
    let first = &body["events"][10];
    assert_eq!(first["ip"], "127.0.0.1");
    assert!(first["at"].is_string() && first["id"].is_string());
    assert_error(app.browser().get("/activity").await, 401, "unauthenticated").await;
    assert_error(
        again.get("/activity?limit=0").await,
        400,
        "malformed_request",
    )
    .await;
    let one = json_of(again.get("/activity?limit=1").await).await;
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn activity_pages_back_through_a_cursor_and_filters_by_kind() {
    let app = spawn_app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    for _ in 0..3 {
        assert_eq!(
            phone.login("alice", "a wrong password!!").await.status(),
            401
        );
    }
    app.settle().await;
    // Newest first: 3 failures, 2 sign-ins.
    let mut seen = Vec::new();
    let mut path = "/activity?limit=2".to_owned();
    loop {
        let page = json_of(laptop.get(&path).await).await;
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        seen.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_before"].as_str() {
            Some(cursor) => path = format!("/activity?limit=2&before={cursor}"),
            None => break,
        }
    }
    let all = json_of(laptop.get("/activity").await).await;
    let ids: Vec<String> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ids, "paging visits every event once, in order");
    assert_eq!(ids.len(), 5);
    assert!(all["next_before"].is_null());

    let failed = json_of(laptop.get("/activity?kind=sign_in_failed").await).await;
    let kinds: Vec<&str> = failed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["sign_in_failed"; 3]);
    let two_kinds = json_of(
        laptop
            .get("/activity?kind=sign_in_failed&kind=signed_in")
            .await,
    )
    .await;
    assert_eq!(two_kinds["events"].as_array().unwrap().len(), 5);

    assert_error(
        laptop.get("/activity?kind=no_such_kind").await,
        400,
        "malformed_request",
    )
    .await;
    assert_error(
        laptop.get("/activity?before=nope").await,
        400,
        "malformed_request",
    )
    .await;
    // Someone else's event (or a pruned one) is not a cursor.
    let bob = app.browser();
    app.register("bob", PASSWORD).await;
    assert_eq!(bob.login("bob", PASSWORD).await.status(), 200);
    let bobs = json_of(bob.get("/activity").await).await;
    let bobs_event = bobs["events"][0]["id"].as_str().unwrap().to_owned();
    assert_error(
        laptop.get(&format!("/activity?before={bobs_event}")).await,
        404,
        "not_found",
    )
    .await;
}
