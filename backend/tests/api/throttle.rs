//! Brute-force protection: limits counted before any hash, per name, per device, per address.

use std::time::Instant;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, spawn_app, spawn_app_with};

/// Sends `count` logins at once and returns their statuses.
async fn parallel_logins(base: &str, names: &[String], password: &str) -> Vec<u16> {
    let attempts = names.iter().map(|name| {
        let client = reqwest::Client::new();
        let url = format!("{base}/login");
        let body = json!({ "username": name, "password": password });
        async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    join_all(attempts).await
}

#[tokio::test]
async fn forty_parallel_wrong_guesses_get_at_most_the_configured_checks() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "5")]).await;
    app.register("alice", PASSWORD).await;
    let names = vec!["alice".to_owned(); 40];
    let started = Instant::now();
    let statuses = parallel_logins(&app.address, &names, "not the password at all").await;
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 40, "{statuses:?}");
    // Five free failures, then locks of 1 s, 2 s, 4 s…: a burst that took t seconds (a loaded
    // machine spreads forty requests out) may have met log2(t + 1) locks that ran out. On an
    // idle machine the burst takes well under a second and exactly five are checked.
    let lapsed_locks = (started.elapsed().as_secs_f64() + 1.0).log2().floor() as usize;
    assert!(
        checked <= 5 + lapsed_locks,
        "{checked} real checks in {:?}: {statuses:?}",
        started.elapsed()
    );
    assert!(checked >= 5, "{statuses:?}");
}

#[tokio::test]
async fn a_refusal_says_how_long_to_wait_and_exposes_it_to_the_frontend() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "2")]).await;
    app.register("alice", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(app.login("alice", "wrong password!").await.status(), 401);
    }
    let response = app
        .client
        .post(app.url("/login"))
        .header("origin", "http://localhost:5173")
        .json(&json!({ "username": "ALICE", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after));
    assert_error(response, 429, "too_many_attempts").await;
}

#[tokio::test]
async fn the_owner_signs_in_from_a_known_device_while_strangers_are_locked_out() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "2")]).await;
    app.register("alice", PASSWORD).await;
    // Alice's laptop signed in before and signed out: it keeps its device cookie.
    let laptop = app.browser();
    assert_eq!(laptop.login("alice", PASSWORD).await.status(), 200);
    assert!(laptop.cookie("device_token").is_some());
    assert_eq!(laptop.post("/logout").await.status(), 200);
    assert!(laptop.cookie("device_token").is_some(), "survives logout");

    // A stranger locks the name.
    let stranger = app.browser();
    for _ in 0..2 {
        assert_eq!(
            stranger.login("alice", "guess guess guess").await.status(),
            401
        );
    }
    assert_error(
        stranger.login("alice", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    // A new device of Alice's is refused like the stranger...
    let new_phone = app.browser();
    assert_error(
        new_phone.login("alice", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    // ...but her laptop is judged by its own, clean record.
    assert_eq!(laptop.login("alice", PASSWORD).await.status(), 200);
    assert_eq!(laptop.get("/profile").await.status(), 200);
}

#[tokio::test]
async fn a_device_cookie_only_counts_for_its_own_account() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_FAILURES", "2")]).await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let laptop = app.browser();
    assert_eq!(laptop.login("alice", PASSWORD).await.status(), 200);
    // Alice's device cookie does not lift Bob's lock: it was issued for Alice.
    for _ in 0..2 {
        assert_eq!(
            app.browser()
                .login("bob", "guess guess guess")
                .await
                .status(),
            401
        );
    }
    assert_error(
        laptop.login("bob", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
}

#[tokio::test]
async fn a_spray_across_usernames_from_one_address_is_cut_down() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_IP_FAILURES", "10")]).await;
    let names: Vec<String> = (0..15).map(|i| format!("victim{i}")).collect();
    let mut statuses = Vec::new();
    for name in &names {
        statuses.push(app.login(name, "Summer2026!Summer").await.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 401).count(),
        10,
        "{statuses:?}"
    );
    assert!(statuses[10..].iter().all(|&s| s == 429), "{statuses:?}");
}

async fn login_via(app: &crate::helpers::TestApp, forwarded_for: &str, name: &str) -> u16 {
    app.client
        .post(app.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "username": name, "password": "not the password at all" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_limited() {
    let app = spawn_app_with(&[
        ("LOGIN_THROTTLE_IP_FAILURES", "3"),
        ("TRUSTED_PROXIES", "127.0.0.0/8, ::1"),
    ])
    .await;
    for i in 0..3 {
        assert_eq!(login_via(&app, "198.51.100.7", &format!("u{i}")).await, 401);
    }
    assert_eq!(login_via(&app, "198.51.100.7", "u9").await, 429);
    // Another client behind the same proxy is not affected.
    assert_eq!(login_via(&app, "203.0.113.5", "u9").await, 401);
}

#[tokio::test]
async fn without_trusted_proxies_a_spoofed_header_changes_nothing() {
    let app = spawn_app_with(&[("LOGIN_THROTTLE_IP_FAILURES", "3")]).await;
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        assert_eq!(login_via(&app, &spoofed, &format!("u{i}")).await, 401);
    }
    assert_eq!(login_via(&app, "203.0.113.99", "u9").await, 429);
}

#[tokio::test]
async fn registrations_per_address_are_limited_taken_names_included() {
    let app = spawn_app_with(&[("REGISTER_LIMIT_PER_IP", "3")]).await;
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.register("bob", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let refused = app.register("carol", PASSWORD).await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "too_many_attempts").await;
}

#[tokio::test]
async fn guessable_passwords_are_refused_with_the_reason() {
    let app = spawn_app().await;
    for weak in ["123456789012", "passwordpassword", "qwertyuiopasdfgh"] {
        let body = assert_error(app.register("alice", weak).await, 400, "validation_failed").await;
        assert_eq!(body["fields"][0]["field"], "password");
        let message = body["fields"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("This password is too easy to guess."),
            "{message}"
        );
        assert!(!message.contains(weak), "never echoes the password");
    }
    let body = assert_error(
        app.register("alice", "Alice-in-wonderland-2026").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["fields"][0]["message"],
        "Password must not contain your username."
    );
}

#[tokio::test]
async fn a_full_hash_queue_answers_503_at_once_with_retry_after() {
    let app = spawn_app_with(&[
        ("HASH_CONCURRENCY", "1"),
        ("HASH_QUEUE_LIMIT", "1"),
        // Slow hashes: a refusal that waited for the queue would stand out.
        ("ARGON2_MEMORY_KIB", "32768"),
        ("ARGON2_ITERATIONS", "16"),
        ("LOGIN_THROTTLE_IP_FAILURES", "0"),
    ])
    .await;
    let answers = join_all((0..12).map(|i| {
        let request = reqwest::Client::new().post(app.url("/login")).json(
            &json!({ "username": format!("someone{i}"), "password": "not the password at all" }),
        );
        async move {
            let sent = Instant::now();
            let response = request.send().await.unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status().as_u16(), retry_after, sent.elapsed())
        }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|(status, ..)| *status).collect();
    assert!(statuses.contains(&503), "{answers:?}");
    assert!(
        statuses.iter().all(|&s| s == 401 || s == 503),
        "{answers:?}"
    );
    // Each refusal says when to come back, and comes at once: before the checks it was refused
    // a place behind have finished (the last of them waited for the one before).
    let last_check = answers
        .iter()
        .filter(|(status, ..)| *status == 401)
        .map(|(.., took)| *took)
        .max()
        .unwrap();
    for (status, retry_after, took) in &answers {
        if *status == 503 {
            assert_eq!(retry_after.as_deref(), Some("1"), "{answers:?}");
            assert!(*took < last_check, "{answers:?}");
        }
    }
    // A refused attempt was never checked, so it is not held against the name.
    let response = app.login("someone0", "not the password at all").await;
    assert_ne!(response.status(), 429);
}

#[tokio::test]
async fn secure_deployments_get_hsts_and_docs_can_be_switched_off() {
    let app = spawn_app_with(&[("COOKIE_SECURE", "true"), ("DOCS_ENABLED", "false")]).await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    for path in ["/docs", "/openapi.json"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
    }
}

#[tokio::test]
async fn the_docs_page_has_its_own_content_security_policy() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src"),
        "{csp}"
    );
}
