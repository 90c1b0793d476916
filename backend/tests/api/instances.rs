//! Several `latchkey serve` processes on one database behave as one service.

use futures::future::join_all;
use sea_orm::{ConnectionTrait as _, Database, Statement};
use serde_json::json;

use crate::helpers::{PASSWORD, ServerProcess, TestDatabase, assert_error, spawn_app};

#[tokio::test]
async fn two_instances_share_every_throttle_counter() {
    let app = spawn_app().await;
    let limits = [
        ("LOGIN_THROTTLE_FAILURES", "3"),
        ("REGISTER_LIMIT_PER_IP", "2"),
    ];
    let (a, b) = (
        ServerProcess::start(app.database_url(), &limits).await,
        ServerProcess::start(app.database_url(), &limits).await,
    );
    let register = |server: &ServerProcess, name: &str| {
        let body = json!({ "username": name, "password": PASSWORD });
        let browser = server.browser();
        async move { browser.post_json("/register", &body).await }
    };
    assert_eq!(register(&a, "alice").await.status(), 201);
    assert_eq!(register(&b, "bob").await.status(), 201);
    assert_error(register(&a, "carol").await, 429, "too_many_attempts").await;

    let wrong = |server: &ServerProcess| {
        let browser = server.browser();
        async move { browser.login("alice", "not the password at all").await }
    };
    assert_eq!(wrong(&a).await.status(), 401);
    assert_eq!(wrong(&b).await.status(), 401);
    assert_eq!(wrong(&a).await.status(), 401);
    assert_error(wrong(&b).await, 429, "too_many_attempts").await;
    assert_error(
        a.browser().login("alice", PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
}

#[tokio::test]
async fn a_session_started_on_one_instance_is_refreshed_and_revoked_on_another() {
    let app = spawn_app().await;
    let (a, b) = (
        ServerProcess::start(app.database_url(), &[]).await,
        ServerProcess::start(app.database_url(), &[]).await,
    );
    assert_eq!(app.register("alice", PASSWORD).await.status(), 201);
    // One browser (cookies are per host, not per port) talking to both instances.
    let browser = a.browser();
    assert_eq!(browser.login("alice", PASSWORD).await.status(), 200);
    let on_b = |path: &str| format!("{}{path}", b.address);
    let refreshed = browser.client.post(on_b("/refresh")).send().await.unwrap();
    assert_eq!(refreshed.status(), 200);
    let access = browser.cookie("access_token").unwrap();
    assert_eq!(
        browser.get("/profile").await.status(),
        200,
        "A accepts B's token"
    );

    let sessions: serde_json::Value = browser
        .client
        .get(on_b("/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    let revoked = browser
        .client
        .delete(on_b(&format!("/sessions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let on_a = reqwest::Client::new()
        .get(format!("{}/profile", a.address))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_error(on_a, 401, "unauthenticated").await;
}

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_all_come_up() {
    let database = TestDatabase::create().await;
    let servers = join_all((0..3).map(|_| ServerProcess::start(database.url(), &[]))).await;
    for server in &servers {
        let ready = server.browser().get("/ready").await;
        assert_eq!(ready.status(), 200);
    }
    // Each migration was applied exactly once.
    let db = Database::connect(database.url()).await.unwrap();
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS applied, COUNT(DISTINCT version) AS distinct_versions \
             FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    let applied: i64 = row.try_get("", "applied").unwrap();
    let distinct: i64 = row.try_get("", "distinct_versions").unwrap();
    assert_eq!(applied, distinct);
    use migration::MigratorTrait as _;
    assert_eq!(applied as usize, migration::Migrator::migrations().len());
    db.close().await.unwrap();
}
