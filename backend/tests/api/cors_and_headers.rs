use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, spawn_app};

const FRONTEND: &str = "http://localhost:5173";

#[tokio::test]
async fn the_frontend_origin_may_call_with_credentials() {
    let app = spawn_app().await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/login"))
        .header("origin", FRONTEND)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], FRONTEND);
    assert_eq!(headers["access-control-allow-credentials"], "true");

    let response = reqwest::Client::new()
        .post(app.url("/register"))
        .header("origin", FRONTEND)
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["access-control-allow-origin"], FRONTEND);
}

#[tokio::test]
async fn other_origins_are_refused_before_anything_happens() {
    let app = spawn_app().await;
    for origin in [
        "http://evil.example",
        "null",
        "http://localhost:5174",
        "http://127.0.0.1:5173",
        "https://localhost:5173",
        "http://localhost:5173.evil.example",
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/register"))
            .header("origin", origin)
            .json(&json!({ "username": "victim", "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
        assert_error(response, 403, "forbidden_origin").await;
    }
    // None of those requests created the account.
    assert_eq!(
        app.register("victim", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

async fn register_from(
    app: &crate::helpers::TestApp,
    origin: &str,
    host: Option<&str>,
    username: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url("/register"))
        .header("origin", origin)
        .json(&json!({ "username": username, "password": PASSWORD }));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_apis_own_origin_is_same_origin_for_swagger_ui() {
    let app = spawn_app().await;
    let port = app.address.rsplit(':').next().unwrap();
    for (i, origin) in [
        app.address.clone(),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
    ]
    .iter()
    .enumerate()
    {
        let response = register_from(&app, origin, None, &format!("swagger{i}")).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{origin}");
    }
}

#[tokio::test]
async fn a_dns_rebinding_page_is_not_same_origin_because_its_host_header_agrees() {
    let app = spawn_app().await;
    let port = app.address.rsplit(':').next().unwrap();
    // evil.example resolves to this server: the browser sends its own name as Origin and Host.
    for (origin, host) in [
        ("http://evil.example".to_owned(), "evil.example".to_owned()),
        (
            format!("http://evil.example:{port}"),
            format!("evil.example:{port}"),
        ),
    ] {
        let response = register_from(&app, &origin, Some(&host), "victim").await;
        assert_error(response, 403, "forbidden_origin").await;
    }
    assert_eq!(
        app.register("victim", PASSWORD).await.status(),
        StatusCode::CREATED,
        "nothing was created"
    );
}

#[tokio::test]
async fn behind_a_proxy_the_own_origin_is_the_public_urls() {
    let app = crate::helpers::spawn_app_with(&[("PUBLIC_URL", "https://auth.example.com/")]).await;
    let public = register_from(
        &app,
        "https://auth.example.com",
        Some("auth.example.com"),
        "swagger",
    )
    .await;
    assert_eq!(public.status(), StatusCode::CREATED);
    // The loopback names are a local convenience only.
    let local = register_from(&app, &app.address, None, "other").await;
    assert_error(local, 403, "forbidden_origin").await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let responses = [
        app.register("alice", PASSWORD).await,
        app.profile().await,
        reqwest::Client::new()
            .get(app.url("/nope"))
            .send()
            .await
            .unwrap(),
        app.refresh().await,
    ];
    for response in responses {
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["vary"], "Origin");
        assert!(
            headers.get("strict-transport-security").is_none(),
            "HTTP deployment"
        );
        assert!(headers.get("x-request-id").is_some());
    }
}

async fn request_id_for(app: &crate::helpers::TestApp, sent: &str) -> String {
    let response = reqwest::Client::new()
        .get(app.url("/health"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_client_cannot_choose_its_request_id() {
    let app = spawn_app().await;
    let id = request_id_for(&app, "someone-elses-request").await;
    assert_ne!(id, "someone-elses-request");
    assert!(!id.is_empty());
}

#[tokio::test]
async fn a_trusted_proxy_passes_its_request_id_on() {
    let app = crate::helpers::spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    assert_eq!(
        request_id_for(&app, "proxy-4f2a-0001").await,
        "proxy-4f2a-0001"
    );
    // Even from a proxy, an id that is not a plain token is replaced.
    assert_ne!(request_id_for(&app, "a b\"c").await.as_str(), "a b\"c");
}
