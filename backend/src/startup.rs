//! Building and running the application: database, state, routes, listener, shutdown.

use std::{future::Future, io, net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    EndpointExt as _, IntoResponse as _, Route,
    endpoint::make_sync,
    http::{HeaderName, Method, header},
    middleware::{CatchPanic, Cors},
    web::Html,
};
use tokio::net::TcpListener;

use crate::{
    api::{
        self, AppState,
        client::TrustedProxies,
        error::{ApiError, ErrorCode},
        middleware::{self, error_response},
    },
    auth::{
        AuthError, keys,
        maintenance::{self, Purged, Retention},
        secrets::Secrets,
    },
    changes,
    config::Config,
    http_server, mail,
    storage::{self, DatabaseSettings, DatabaseUrl},
    telemetry::{self, Chain},
};

/// How long in-flight requests get to finish after SIGTERM or Ctrl-C.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long the database pool gets to close its connections once everything else has stopped.
const POOL_CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How long startup keeps retrying a database that does not answer yet (e.g. a container
/// that starts at the same time).
const STARTUP_DB_PATIENCE: Duration = Duration::from_secs(30);
const PURGE_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot use the database")]
    Database(#[source] sea_orm::DbErr),
    #[error("cannot start the authentication core")]
    Setup(#[source] AuthError),
    #[error("cannot set up mail: {0}")]
    Mail(String),
    #[error("cannot listen on {addr}")]
    Bind { addr: String, source: io::Error },
}

/// A built application, bound to its port but not yet serving.
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    /// The metrics listener, when `METRICS_ADDR` is set.
    metrics: Option<TcpListener>,
    /// The SMTP client that delivers the outbox, when `SMTP_URL` is set.
    mailer: Option<mail::Mailer>,
}

impl Application {
    /// Connects to the database, applies migrations and binds the listener
    /// (`PORT=0` picks a free port: see `port()`).
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let db = connect_and_migrate(&config.database_url, &config.database).await?;
        let addr = SocketAddr::new(config.host, config.port);
        let bind_error = |source| StartupError::Bind {
            addr: addr.to_string(),
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let metrics =
            match config.metrics_addr {
                Some(addr) => Some(telemetry::metrics::bind(addr).await.map_err(|source| {
                    StartupError::Bind {
                        addr: addr.to_string(),
                        source,
                    }
                })?),
                None => None,
            };
        let mailer = config
            .mail
            .as_ref()
            .map(mail::Mailer::new)
            .transpose()
            .map_err(StartupError::Mail)?;
        let state = AppState::new(db, config)
            .await
            .map_err(StartupError::Setup)?;
        Ok(Self {
            listener,
            port,
            state,
            metrics,
            mailer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `METRICS_ADDR` is set (`:0` picks a free one).
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()?
            .local_addr()
            .ok()
            .map(|addr| addr.port())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = Shutdown> + Send,
    ) -> io::Result<()> {
        let Self {
            listener,
            port,
            state,
            metrics,
            mailer,
        } = self;
        let limits = http_server::Limits {
            header_read_timeout: state.config.header_read_timeout,
        };
        let metrics = match metrics {
            Some(listener) => {
                let handle = telemetry::metrics::install()
                    .map_err(|e| io::Error::other(format!("metrics: {e}")))?;
                tracing::info!("metrics are served on METRICS_ADDR at /metrics");
                let gauges = telemetry::metrics::Gauges {
                    db: state.auth.db.clone(),
                    hash_queue_depth: Box::new(state.auth.hasher.queue_depth_gauge()),
                };
                Some(tokio::spawn(telemetry::metrics::serve(
                    listener, handle, gauges, limits,
                )))
            }
            None => None,
        };
        tracing::info!(port, docs = %format!("http://{}:{port}/docs", state.config.host), "Latchkey is listening");
        let purge = tokio::spawn(purge_periodically(state.clone()));
        let keys = tokio::spawn(keep_keys_current(state.clone()));
        let key_changes = tokio::spawn(follow_key_changes(state.clone()));
        let delivery = match mailer {
            Some(mailer) => {
                let secrets = Secrets::derive(&state.config.auth.jwt_secret)
                    .map_err(|e| io::Error::other(format!("mail: {e}")))?;
                tracing::info!("mail is on: the outbox is delivered over SMTP_URL");
                Some(tokio::spawn(mail::deliver_forever(
                    state.auth.db.clone(),
                    secrets,
                    mailer,
                )))
            }
            None => None,
        };
        let db = state.auth.db.clone();
        let background = state.auth.background.clone();
        let signalled = state.clone();
        let drain = state.config.shutdown_drain;
        let stop = async move {
            if shutdown.await == Shutdown::Terminate && !drain.is_zero() {
                signalled
                    .draining
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(
                    drain_ms = drain.as_millis() as u64,
                    "draining: /ready is 503"
                );
                tokio::time::sleep(drain).await;
            }
            tracing::info!("finishing in-flight requests");
        };
        let endpoint = routes(state, port).map_to_response().boxed();
        let result = http_server::serve(listener, endpoint, limits, stop, SHUTDOWN_GRACE).await;
        purge.abort();
        keys.abort();
        key_changes.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // A message being sent when this stops keeps its lease, and goes out after it lapses.
        if let Some(delivery) = delivery {
            delivery.abort();
        }
        // Failed attempts recorded after their response went out land before the pool closes.
        if tokio::time::timeout(SHUTDOWN_GRACE, background.settled())
            .await
            .is_err()
        {
            tracing::warn!("background writes did not finish in time");
        }
        // Every request and background write has ended: closing the pool only says goodbye to the
        // database. After an outage sqlx was seen keeping two connections checked out for 15 s
        // (tests/resilience/test_db_outage.py), and a restart should not wait for that: PostgreSQL
        // ends the sessions itself when the process exits.
        match tokio::time::timeout(POOL_CLOSE_GRACE, db.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "closing the database pool"),
            Err(_) => tracing::warn!(
                grace_s = POOL_CLOSE_GRACE.as_secs(),
                "the database pool did not close in time; its connections end with the process"
            ),
        }
        // Refusals still waiting for their summary line.
        telemetry::refusals::flush();
        tracing::info!("stopped");
        result
    }
}

/// Every route with its middleware, innermost first: panics become JSON 500s, bodies are
/// capped, slow requests cut off, CORS is enforced (the API's own origins, served on `port`,
/// are same-origin), leftover errors become JSON, headers are set, requests logged and counted
/// (with the client address decided once, for everything after it).
pub fn routes(state: AppState, port: u16) -> impl poem::Endpoint {
    let service = api::service(state.config.public_url.as_deref());
    let documents = api::Documents::new(state.config.public_url.as_deref());
    let allowed = Arc::new(middleware::AllowedMethods::from_spec(&documents.spec));
    let cors = cors(&state.config.cors_origins);
    let cors_origins: Arc<[String]> = state.config.cors_origins.clone().into();
    let db = state.auth.db.clone();
    let own_origins: Arc<[String]> = state.config.own_origins(port).into();
    let https_only = state.config.cookie_secure;
    let proxies = Arc::new(TrustedProxies::new(state.config.trusted_proxies.clone()));
    let record_metrics = state.config.metrics_addr.is_some();
    let request_timeout = state.config.request_timeout;
    let mut route = Route::new();
    if state.config.docs_enabled {
        let api::Documents { spec, docs_html } = documents;
        let docs_html: Arc<str> = docs_html.into();
        let page = move || {
            let html = docs_html.clone();
            make_sync(move |_| Html(html.to_string()))
        };
        route = route.at("/docs", page()).at("/docs/", page()).at(
            "/openapi.json",
            make_sync(move |_| spec.clone().with_content_type("application/json")),
        );
    }
    route
        .nest("/", service)
        .data(state)
        .with(CatchPanic::new().with_handler(|_| {
            tracing::error!("a request handler panicked");
            error_response(ApiError::new(ErrorCode::Internal))
        }))
        .around(middleware::limit_body)
        .around(move |next, req| middleware::deadline(next, req, request_timeout))
        .with(cors)
        .around(move |next, req| {
            middleware::public_client_cors(next, req, db.clone(), cors_origins.clone())
        })
        .around(move |next, req| {
            middleware::same_origin_is_not_cross_origin(next, req, own_origins.clone())
        })
        .around(move |next, req| middleware::json_errors(next, req, allowed.clone()))
        .around(move |next, req| middleware::security_headers(next, req, https_only))
        .around(move |next, req| {
            middleware::log_requests(next, req, proxies.clone(), record_metrics)
        })
}

fn cors(origins: &[String]) -> Cors {
    Cors::new()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(600)
}

/// Connects and migrates, retrying while the database is unreachable (not when it refuses
/// us for another reason, such as a wrong password).
pub async fn connect_and_migrate(
    url: &DatabaseUrl,
    settings: &DatabaseSettings,
) -> Result<sea_orm::DatabaseConnection, StartupError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let attempt = async {
            let db = storage::connect(url.as_str(), settings).await?;
            storage::migrate(&db, url.as_str()).await?;
            Ok::<_, sea_orm::DbErr>(db)
        }
        .await;
        match attempt {
            Ok(db) => return Ok(db),
            Err(e) if storage::is_unavailable(&e) && started.elapsed() < STARTUP_DB_PATIENCE => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(4));
            }
            Err(e) => return Err(StartupError::Database(e)),
        }
    }
}

async fn purge_periodically(state: AppState) {
    let retention = Retention {
        activity: state.config.activity_retention,
        refresh_token: state.config.auth.sessions.refresh_ttl,
    };
    let mut ticker = tokio::time::interval(PURGE_EVERY);
    loop {
        ticker.tick().await;
        match maintenance::purge(&state.auth.db, &retention, chrono::Utc::now()).await {
            Ok(Some(purged)) if purged != Purged::default() => tracing::info!(
                sessions = purged.sessions,
                refresh_tokens = purged.refresh_tokens,
                throttle_buckets = purged.throttle_buckets,
                activity_events = purged.activity_events,
                challenges = purged.challenges,
                trusted_devices = purged.trusted_devices,
                account_tokens = purged.account_tokens,
                mail = purged.mail,
                oauth = purged.oauth,
                "purged expired rows"
            ),
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!("another instance is purging"),
            Err(e) => tracing::warn!(error = %Chain(&e), "purging expired rows failed"),
        }
    }
}

/// Reloads the signing keys whenever another instance or the CLI changed them (see `changes`):
/// a retired key stops signing and verifying here, and leaves the JWKS, within about a second.
async fn follow_key_changes(state: AppState) {
    let db = state.auth.db.clone();
    changes::follow(db, changes::Topic::SigningKeys, move || {
        let state = state.clone();
        async move {
            let auth = &state.auth;
            match auth
                .keys
                .reload(&auth.db, &auth.secrets, chrono::Utc::now())
                .await
            {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %Chain(&e), "reloading the signing keys after a change failed; retrying");
                    false
                }
            }
        }
    })
    .await;
}

/// Every minute, every instance creates the next key when rotation is due (one instance does,
/// under a lock) and re-reads the keys: a key that starts or stops signing on the timeline, or
/// a change this instance did not hear of, shows within a minute.
async fn keep_keys_current(state: AppState) {
    let mut ticker = tokio::time::interval(keys::RELOAD_EVERY);
    ticker.tick().await; // the keys were just loaded at startup
    loop {
        ticker.tick().await;
        let auth = &state.auth;
        let now = chrono::Utc::now();
        let result = async {
            auth.keys
                .rotate_if_due(&auth.db, &auth.secrets, now)
                .await?;
            keys::purge_expired(&auth.db, auth.keys.policy(), now).await?;
            auth.keys.reload(&auth.db, &auth.secrets, now).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %Chain(&e), "refreshing the signing keys failed; keeping the ones loaded");
        }
    }
}

/// Why the server is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGTERM, from an orchestrator: drain first.
    Terminate,
    /// Ctrl-C, from a person: stop now.
    Interrupt,
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() -> Shutdown {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let kind = tokio::select! {
        () = ctrl_c => Shutdown::Interrupt,
        () = terminate => Shutdown::Terminate,
    };
    tracing::info!(signal = ?kind, "shutdown requested");
    kind
}
