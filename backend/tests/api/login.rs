use reqwest::StatusCode;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::Value;

use crate::helpers::{PASSWORD, assert_error, set_cookies, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_returns_the_session_and_sets_both_cookies() {
    let app = spawn_app().await;
    app.register("Alice", PASSWORD).await;
    let response = app.login("alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["username"], "Alice");
    for field in ["access_token_expires_at", "refresh_token_expires_at"] {
        assert!(chrono::DateTime::parse_from_rfc3339(body[field].as_str().unwrap()).is_ok());
    }

    let access = &cookies["access_token"];
    let refresh = &cookies["refresh_token"];
    for cookie in [access, refresh] {
        assert!(cookie.attributes.contains_key("httponly"));
        assert_eq!(cookie.attributes["path"], "/");
        assert_eq!(cookie.attributes["samesite"], "Lax");
        assert!(!cookie.attributes.contains_key("secure"));
        assert!(!cookie.attributes.contains_key("domain"));
    }
    assert_eq!(access.attributes["max-age"], "900");
    assert_eq!(refresh.attributes["max-age"], "604800");
    assert_eq!(
        access.value.split('.').count(),
        3,
        "the access token is a JWT"
    );
    assert_eq!(refresh.value.len(), 43, "32 random bytes, base64url");
    let raw = body.to_string();
    assert!(
        !raw.contains(&access.value) && !raw.contains(&refresh.value),
        "tokens travel only in cookies"
    );
}

#[tokio::test]
async fn cookie_flags_follow_the_configuration() {
    let app = spawn_app_with(&[
        ("COOKIE_SECURE", "true"),
        ("COOKIE_SAMESITE", "strict"),
        ("ACCESS_TOKEN_EXPIRATION", "60"),
    ])
    .await;
    app.register("alice", PASSWORD).await;
    let cookies = set_cookies(app.login("alice", PASSWORD).await.headers());
    // Secure cookies carry the __Host- prefix: HTTPS only, this host only, Path=/.
    for name in [
        "__Host-access_token",
        "__Host-refresh_token",
        "__Host-device_token",
    ] {
        assert!(cookies[name].attributes.contains_key("secure"), "{name}");
        assert_eq!(cookies[name].attributes["samesite"], "Strict");
        assert_eq!(cookies[name].attributes["path"], "/");
        assert!(!cookies[name].attributes.contains_key("domain"));
    }
    assert!(!cookies.contains_key("access_token"));
    assert_eq!(cookies["__Host-access_token"].attributes["max-age"], "60");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let wrong_password = app.login("alice", "not the password at all").await;
    let unknown_user = app.login("nobody", PASSWORD).await;
    let invalid_name = app.login("no such user!", PASSWORD).await;
    for response in [&wrong_password, &unknown_user, &invalid_name] {
        assert!(response.headers().get("set-cookie").is_none());
    }
    let a = assert_error(wrong_password, 401, "invalid_credentials").await;
    let b = assert_error(unknown_user, 401, "invalid_credentials").await;
    let c = assert_error(invalid_name, 401, "invalid_credentials").await;
    assert_eq!(a, b);
    assert_eq!(b, c);
}

#[tokio::test]
async fn the_password_must_match_exactly() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let upper = PASSWORD.to_uppercase();
    let longer = format!("{PASSWORD} ");
    for attempt in [
        upper.as_str(),
        &PASSWORD[..PASSWORD.len() - 1],
        longer.as_str(),
    ] {
        assert_error(
            app.login("alice", attempt).await,
            401,
            "invalid_credentials",
        )
        .await;
    }
}

#[tokio::test]
async fn an_oversized_password_is_rejected_before_hashing() {
    let app = spawn_app().await;
    let body = assert_error(
        app.login("alice", &"x".repeat(129)).await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"][0]["field"], "password");
}

#[tokio::test]
async fn each_login_starts_a_distinct_session() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let first = set_cookies(app.login("alice", PASSWORD).await.headers());
    let second = set_cookies(app.login("alice", PASSWORD).await.headers());
    assert_ne!(first["refresh_token"].value, second["refresh_token"].value);
    assert_ne!(first["access_token"].value, second["access_token"].value);
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_upgraded_at_the_next_login() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    // Simulate a stronger configuration: the same database, served with higher costs.
    let mut settings = app.state.config.auth.clone();
    settings.argon2 = latchkey::auth::password_hash::Argon2Settings {
        memory_kib: 2048,
        iterations: 2,
        parallelism: 1,
    };
    // The auth core runs without a server: the same call the API makes.
    let auth = latchkey::auth::Auth::new(app.state.auth.db.clone(), &settings, chrono::Utc::now())
        .await
        .unwrap();
    let attempt = latchkey::auth::credentials::LoginAttempt {
        username: "alice".into(),
        password: latchkey::domain::Password::parse(PASSWORD.into()).unwrap(),
        device_token: None,
    };
    let outcome = latchkey::auth::credentials::login(
        &auth,
        attempt,
        &latchkey::auth::ClientInfo::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let latchkey::auth::credentials::LoginOutcome::SignedIn(signed_in) = outcome else {
        panic!("no second factor is set up");
    };
    let user = latchkey::entity::user::Entity::find()
        .filter(latchkey::entity::user::Column::Id.eq(signed_in.session.user.id))
        .one(&app.state.auth.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash.contains("m=2048,t=2,p=1"),
        "{}",
        user.password_hash
    );
    // And the upgraded hash still verifies through the API.
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_throttle_that_username_with_retry_after() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "3")]).await;
    app.register("alice", PASSWORD).await;
    for _ in 0..3 {
        assert_error(
            app.login("alice", "wrong password!!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Locked now: even the right password is refused, without cookies.
    let throttled = app.login("ALICE", PASSWORD).await;
    assert!(throttled.headers().get("set-cookie").is_none());
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_error(throttled, 429, "too_many_attempts").await;
    // Unknown names behave the same, so the throttle reveals nothing.
    for _ in 0..3 {
        assert_error(
            app.login("nobody", "wrong password!!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(
        app.login("nobody", "wrong password!!").await,
        429,
        "too_many_attempts",
    )
    .await;
    // Other users are unaffected, and the lock lifts after the delay.
    app.register("bob", PASSWORD).await;
    assert_eq!(app.login("bob", PASSWORD).await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_logins_each_get_their_own_session() {
    // In-flight attempts count against the name (they cannot be told from guesses before the
    // hash): give this one user a budget above twenty.
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "25")]).await;
    app.register("alice", PASSWORD).await;
    let attempts = (0..20).map(|_| {
        let client = reqwest::Client::new();
        let url = app.url("/login");
        async move {
            let response = client
                .post(url)
                .json(&serde_json::json!({ "username": "alice", "password": PASSWORD }))
                .send()
                .await
                .unwrap();
            (
                response.status(),
                set_cookies(response.headers())
                    .get("refresh_token")
                    .map(|c| c.value.clone()),
            )
        }
    });
    let results = futures::future::join_all(attempts).await;
    assert!(
        results.iter().all(|(status, _)| *status == StatusCode::OK),
        "{results:?}"
    );
    let tokens: std::collections::HashSet<_> =
        results.into_iter().filter_map(|(_, token)| token).collect();
    assert_eq!(tokens.len(), 20);
}
