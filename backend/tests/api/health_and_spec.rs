use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    for path in ["/health", "/ready"] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn readiness_is_503_json_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.auth.db.close_by_ref().await.unwrap();
    let response = reqwest::get(app.url("/ready")).await.unwrap();
    crate::helpers::assert_error(response, 503, "service_unavailable").await;
    let login = app.login("alice", crate::helpers::PASSWORD).await;
    crate::helpers::assert_error(login, 503, "service_unavailable").await;
}

#[tokio::test]
async fn swagger_ui_is_served_at_docs() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/docs")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn the_served_spec_is_the_committed_openapi_json() {
    let app = spawn_app().await;
    let served: Value = reqwest::get(app.url("/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json")).unwrap();
    assert_eq!(
        committed.trim_end(),
        latchkey::api::spec_json().trim_end(),
        "openapi.json is stale: run scripts/gen-openapi"
    );
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(served, committed);
}

#[tokio::test]
async fn readiness_is_503_while_draining_for_shutdown() {
    let app = spawn_app().await;
    app.state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let response = reqwest::get(app.url("/ready")).await.unwrap();
    crate::helpers::assert_error(response, 503, "service_unavailable").await;
    // Requests are still served while draining.
    assert_eq!(
        reqwest::get(app.url("/health")).await.unwrap().status(),
        StatusCode::OK
    );
}
