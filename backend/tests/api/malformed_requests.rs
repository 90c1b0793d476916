//! Every malformed request gets a JSON error with the right 4xx status.

use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, assert_error, spawn_app};

async fn send(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url(path))
        .body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn bodies_that_are_not_the_expected_json_are_400() {
    let app = spawn_app().await;
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let cases = [
        "{bad",
        "",
        "null",
        "[]",
        "\"a string\"",
        "42",
        "{}",
        r#"{"username":"alice"}"#,
        r#"{"password":"correct horse battery"}"#,
        r#"{"username":42,"password":"correct horse battery"}"#,
        r#"{"username":"alice","password":true}"#,
        r#"{"username":null,"password":"correct horse battery"}"#,
        r#"{"username":["alice"],"password":"correct horse battery"}"#,
        r#"{"username":{"a":1},"password":"correct horse battery"}"#,
        r#"{"username":"alice","password":"correct horse battery",}"#,
        r#"{'username':'alice'}"#,
        deep.as_str(),
    ];
    for path in ["/register", "/login"] {
        for body in cases {
            let response = send(&app, path, Some("application/json"), body).await;
            let preview: String = body.chars().take(40).collect();
            assert_eq!(
                response.status(),
                StatusCode::BAD_REQUEST,
                "{path} {preview}"
            );
            assert_error(response, 400, "malformed_request").await;
        }
    }
}

#[tokio::test]
async fn a_json_body_with_a_charset_is_accepted() {
    let app = spawn_app().await;
    let body = r#"{"username":"alice","password":"correct horse battery"}"#;
    let response = send(
        &app,
        "/register",
        Some("application/json; charset=utf-8"),
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn non_json_content_types_are_415() {
    let app = spawn_app().await;
    let body = r#"{"username":"alice","password":"correct horse battery"}"#;
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        for path in ["/register", "/login"] {
            assert_error(
                send(&app, path, content_type, body).await,
                415,
                "unsupported_media_type",
            )
            .await;
        }
    }
    // Nothing was created by those requests.
    let created = send(&app, "/register", Some("application/json"), body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn bodies_over_16_kib_are_413() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "x".repeat(17 * 1024)
    );
    for path in ["/register", "/login", "/refresh", "/logout"] {
        assert_error(
            send(&app, path, Some("application/json"), &big).await,
            413,
            "payload_too_large",
        )
        .await;
    }
    // Chunked, without Content-Length, is cut off at the limit too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 1024])).collect();
    let stream = futures::stream::iter(chunks);
    let response = reqwest::Client::new()
        .post(app.url("/register"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let app = spawn_app().await;
    for path in ["/nope", "/login/extra", "/LOGIN", "/login;x"] {
        let response = reqwest::Client::new()
            .get(app.url(path))
            .send()
            .await
            .unwrap();
        assert_error(response, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_methods_are_405_json() {
    let app = spawn_app().await;
    let cases = [
        (Method::GET, "/login"),
        (Method::GET, "/register"),
        (Method::PUT, "/refresh"),
        (Method::DELETE, "/logout"),
        (Method::POST, "/profile"),
        (Method::POST, "/health"),
    ];
    for (method, path) in cases {
        let response = reqwest::Client::new()
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert!(
            response.headers().get("allow").is_some(),
            "{method} {path} has Allow"
        );
        assert_error(response, 405, "method_not_allowed").await;
    }
}
