//! Prometheus metrics on their own listener.

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn metrics_are_served_on_their_own_port_and_count_what_happened() {
    let app = spawn_app_with(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    app.signed_in("alice").await;
    app.login("alice", "not the password at all").await;
    assert_eq!(app.profile().await.status(), 200);
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "never on the public port");

    let metrics = app.metrics_address.as_ref().unwrap();
    let response = reqwest::get(format!("{metrics}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"latchkey_http_requests_total{operation="profile",method="GET",status="200"}"#,
        r#"latchkey_http_requests_total{operation="login",method="POST",status="401"}"#,
        r#"latchkey_logins_total{outcome="succeeded"}"#,
        r#"latchkey_logins_total{outcome="failed"}"#,
        "latchkey_http_request_duration_seconds_bucket",
        "latchkey_password_hash_seconds_bucket",
        "latchkey_hash_queue_depth",
        r#"latchkey_db_connections{state="in_use"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    // Series are by operation, never by raw path: ids in paths would make one each.
    assert!(!text.contains("/sessions/"));
}

#[tokio::test]
async fn without_metrics_addr_there_is_no_listener() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    assert_eq!(app.register("bob", PASSWORD).await.status(), 201);
}
