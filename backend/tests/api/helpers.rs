//! `spawn_app()`: the real application on a fresh SQLite file or PostgreSQL database.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use latchkey::{api::AppState, config::Config, startup::Application};
use reqwest::{
    Response, StatusCode, Url,
    cookie::{CookieStore as _, Jar},
    header::{HeaderMap, SET_COOKIE},
};
use sea_orm::{ConnectionTrait as _, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub const TEST_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:<port>` of the metrics listener, when `METRICS_ADDR` was set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub state: AppState,
    database: TestDatabase,
}

/// Boots the app with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Boots the app with extra environment variables layered over the test defaults.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        // The log writer must outlive every test in the process.
        std::mem::forget(latchkey::telemetry::init(
            "info",
            latchkey::telemetry::LogFormat::Pretty,
        ));
    }
    let database = TestDatabase::create_migrated().await;
    let mut vars: HashMap<String, String> = test_environment(&database.url).into_iter().collect();
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_vars(&vars).expect("test configuration is valid");
    let app = Application::build(config)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    TestApp {
        address,
        metrics_address,
        client,
        jar,
        state,
        database,
    }
}

/// The environment a test server is configured with, before overrides.
pub fn test_environment(database_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("JWT_SECRET", TEST_SECRET),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        // Cheap hashes keep the suite fast; the tests of rehashing, of the hash queue and of
        // races during a hash raise them.
        ("ARGON2_MEMORY_KIB", "1024"),
        ("ARGON2_ITERATIONS", "1"),
        ("HASH_CONCURRENCY", "4"),
        ("CORS_ORIGINS", "http://localhost:5173"),
        // Tests run many at once: forty requests fighting for one row wait longer than a
        // production server should let them, and that is not what they test (the lock-timeout
        // tests set their own).
        ("DATABASE_LOCK_TIMEOUT_MS", "15000"),
        ("DATABASE_STATEMENT_TIMEOUT_MS", "30000"),
        // Twenty or forty requests at once on a busy machine may wait more than the production
        // 1.5 s for a pooled connection (the tests of an unreachable database set their own).
        // A smaller pool keeps ten PostgreSQL tests at once under the server's 100 connections.
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "15000"),
        ("DATABASE_MAX_CONNECTIONS", "8"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A browser of its own: a client with its own cookie jar, talking to `base`.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Self {
            base: base.to_owned(),
            client,
            jar,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str) -> Response {
        self.client.post(self.url(path)).send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client.delete(self.url(path)).send().await.unwrap()
    }

    pub async fn delete_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .delete(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/login",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    /// The current value of a cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url: Url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// A real `latchkey serve` process on a database shared with others: for tests of several
/// instances. Killed when dropped.
pub struct ServerProcess {
    pub address: String,
    child: std::process::Child,
}

impl ServerProcess {
    pub async fn start(database_url: &str, overrides: &[(&str, &str)]) -> Self {
        Self::start_logging_to(database_url, overrides, None).await
    }

    /// As `start`, with the server's log (its stderr) written to `log`.
    pub async fn start_logging_to(
        database_url: &str,
        overrides: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Self {
        let port = free_port();
        let stderr = match log {
            Some(path) => std::fs::File::create(path).unwrap().into(),
            None => std::process::Stdio::null(),
        };
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .arg("serve")
            .env_clear()
            .envs(test_environment(database_url))
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(stderr);
        for (k, v) in overrides {
            command.env(k, v);
        }
        let child = command.spawn().expect("latchkey starts");
        let server = Self {
            address: format!("http://127.0.0.1:{port}"),
            child,
        };
        let health = format!("{}/health", server.address);
        for _ in 0..200 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("latchkey did not come up on {}", server.address);
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// Ctrl-C, as an operator stops it; returns once the process has exited.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Where this app's fresh database lives, for more servers on it.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// A second browser (its own cookies) on this app.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.address)
    }

    /// This app's own client and jar, as a `Browser`.
    pub fn main_browser(&self) -> Browser {
        Browser {
            base: self.address.clone(),
            client: self.client.clone(),
            jar: self.jar.clone(),
        }
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/register",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/login",
            &json!({ "username": username, "password": password }),
        )
        .await
    }

    /// Registers and logs in `username` with `PASSWORD`; the jar then holds both cookies.
    pub async fn signed_in(&self, username: &str) -> Value {
        assert_eq!(
            self.register(username, PASSWORD).await.status(),
            StatusCode::CREATED
        );
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Logs in with `PASSWORD` from a separate client (its own cookies), leaving the jar alone.
    pub async fn login_from_another_device(&self, username: &str) -> HashMap<String, SetCookie> {
        let response = reqwest::Client::new()
            .post(self.url("/login"))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        set_cookies(response.headers())
    }

    /// Waits until writes that do not hold up a response (failed attempts' activity) landed.
    pub async fn settle(&self) {
        self.state.auth.background.settled().await;
    }

    pub async fn refresh(&self) -> Response {
        self.client.post(self.url("/refresh")).send().await.unwrap()
    }

    pub async fn logout(&self) -> Response {
        self.client.post(self.url("/logout")).send().await.unwrap()
    }

    pub async fn profile(&self) -> Response {
        self.client.get(self.url("/profile")).send().await.unwrap()
    }

    /// `/profile` with exactly this access token as a Bearer header, and no cookies.
    pub async fn profile_with_bearer(&self, token: &str) -> Response {
        reqwest::Client::new()
            .get(self.url("/profile"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `/refresh` with exactly this refresh token, from a client without a jar.
    pub async fn refresh_with(&self, refresh_token: &str) -> Response {
        reqwest::Client::new()
            .post(self.url("/refresh"))
            .header("cookie", format!("refresh_token={refresh_token}"))
            .send()
            .await
            .unwrap()
    }

    /// The current value of a cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url: Url = self.address.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// Asserts the status and the error code together, and that the body has the error shape.
pub async fn assert_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        content_type
            .unwrap_or_default()
            .starts_with("application/json"),
        "errors are JSON"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
    body
}

/// One `Set-Cookie` header, parsed into its value and lower-cased attributes.
#[derive(Debug)]
pub struct SetCookie {
    pub value: String,
    pub attributes: HashMap<String, String>,
}

pub fn set_cookies(headers: &HeaderMap) -> HashMap<String, SetCookie> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let mut parts = v.to_str().unwrap().split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let attributes = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), v.to_owned()),
                    None => (p.to_ascii_lowercase(), String::new()),
                })
                .collect();
            (
                name.to_owned(),
                SetCookie {
                    value: value.to_owned(),
                    attributes,
                },
            )
        })
        .collect()
}

enum Backend {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    url: String,
    backend: Backend,
}

impl TestDatabase {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new database with every migration applied, copied from a template that is migrated
    /// once per set of migrations and shared by every test (and test process): migrating each
    /// test's own database was most of its set-up time. On PostgreSQL the copy also commits
    /// without waiting for the disk (`synchronous_commit = off`): it is thrown away afterwards.
    pub async fn create_migrated() -> Self {
        match std::env::var("LATCHKEY_TEST_DB").as_deref() {
            Ok("postgres") => {
                let admin_url = postgres_admin_url();
                let template = postgres_template(&admin_url).await;
                let name = format!("latchkey_test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("PostgreSQL is reachable");
                admin
                    .execute_unprepared(&format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                    ))
                    .await
                    .unwrap();
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
                    ))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                Self {
                    url: database_url_in(&admin_url, &name),
                    backend: Backend::Postgres { admin_url, name },
                }
            }
            _ => {
                let template = sqlite_template().await;
                let dir =
                    std::env::temp_dir().join(format!("latchkey-test-{}", Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::copy(&template, dir.join("test.db")).unwrap();
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
                Self {
                    url,
                    backend: Backend::Sqlite(dir),
                }
            }
        }
    }

    /// A new, empty database (no migrations applied).
    pub async fn create() -> Self {
        match std::env::var("LATCHKEY_TEST_DB").as_deref() {
            Ok("postgres") => {
                let admin_url = postgres_admin_url();
                let name = format!("latchkey_test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("PostgreSQL is reachable");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                Self {
                    url: database_url_in(&admin_url, &name),
                    backend: Backend::Postgres { admin_url, name },
                }
            }
            _ => {
                let dir =
                    std::env::temp_dir().join(format!("latchkey-test-{}", Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
                Self {
                    url,
                    backend: Backend::Sqlite(dir),
                }
            }
        }
    }
}

/// The local test cluster, without TLS: sqlx's default (`sslmode=prefer`) made every one of a test's
/// ten or so connections do a TLS handshake with Debian's self-signed certificate, through a debug
/// build of rustls, which is not what these tests test (the suite on PostgreSQL: 69 -> 52 s alone).
fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_owned()
    })
}

/// The URL of database `name` on the server `admin_url` points at, with the same options.
fn database_url_in(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.into()
}

/// Names the current set of migrations: a template made for another set is never used.
fn migrations_digest() -> String {
    use migration::MigratorTrait as _;
    use sha2::{Digest as _, Sha256};
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    hex::encode(&Sha256::digest(names.join("\n").as_bytes())[..6])
}

/// The migrated template database on the test server, made by the first test (of any
/// process) that needs it, under an advisory lock, and published by a rename once complete.
async fn postgres_template(admin_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let template = format!("latchkey_tpl_{}", migrations_digest());
            let admin = Database::connect(admin_url)
                .await
                .expect("PostgreSQL is reachable");
            let lock = "SELECT pg_advisory_lock(6642617)";
            admin.execute_unprepared(lock).await.unwrap();
            let exists = admin
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    format!("SELECT 1 FROM pg_database WHERE datname = '{template}'"),
                ))
                .await
                .unwrap()
                .is_some();
            if !exists {
                let building = format!("{template}_building");
                for statement in [
                    format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
                    format!("CREATE DATABASE \"{building}\""),
                ] {
                    admin.execute_unprepared(&statement).await.unwrap();
                }
                let url = database_url_in(admin_url, &building);
                let db = latchkey::storage::connect(&url, &test_database_settings())
                    .await
                    .unwrap();
                latchkey::storage::migrate(&db, &url).await.unwrap();
                db.close().await.unwrap();
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
                    ))
                    .await
                    .unwrap();
            }
            admin
                .execute_unprepared("SELECT pg_advisory_unlock(6642617)")
                .await
                .unwrap();
            admin.close().await.unwrap();
            template
        })
        .await
        .clone()
}

/// The migrated template SQLite file, made by the first test that needs it and published by a
/// rename once complete.
async fn sqlite_template() -> PathBuf {
    static TEMPLATE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let template =
                std::env::temp_dir().join(format!("latchkey-template-{}.db", migrations_digest()));
            if template.exists() {
                return template;
            }
            let dir =
                std::env::temp_dir().join(format!("latchkey-template-{}", Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite://{}/template.db?mode=rwc", dir.display());
            let db = latchkey::storage::connect(&url, &test_database_settings())
                .await
                .unwrap();
            latchkey::storage::migrate(&db, &url).await.unwrap();
            // Closing the last connection folds the write-ahead log into the file.
            db.close().await.unwrap();
            std::fs::rename(dir.join("template.db"), &template).unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            template
        })
        .await
        .clone()
}

fn test_database_settings() -> latchkey::storage::DatabaseSettings {
    latchkey::storage::DatabaseSettings {
        max_connections: 2,
        statement_timeout: std::time::Duration::from_secs(30),
        lock_timeout: std::time::Duration::from_secs(30),
        acquire_timeout: std::time::Duration::from_secs(30),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.backend {
            Backend::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Backend::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
