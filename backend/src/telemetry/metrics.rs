//! Prometheus metrics, served on their own listener (`METRICS_ADDR`, off by default) so they
//! are never on the public port. Recorded with the `metrics` facade: with no listener
//! configured no recorder is installed, and the request path skips recording altogether.
//!
//! What is recorded, and where:
//! - `latchkey_http_requests_total{operation,method,status}` and
//!   `latchkey_http_request_duration_seconds{operation,method}` (histogram): every request, in
//!   the request-logging middleware, by OpenAPI operation id (never the raw path).
//! - `latchkey_logins_total{outcome}`, `latchkey_refreshes_total{outcome}`,
//!   `latchkey_refresh_token_reuse_total`, `latchkey_sessions_revoked_total{reason}`,
//!   `latchkey_throttled_total{action}` (through `refusals`): in `auth/`, where they happen.
//! - `latchkey_unavailable_total{reason}`: every 503, by `refusals`.
//! - `latchkey_password_hash_seconds` (histogram): each Argon2 run.
//! - `latchkey_hash_queue_depth`, `latchkey_db_connections{state}`: sampled at each scrape.

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::{EndpointExt as _, IntoResponse as _, Route, endpoint::make_sync};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::net::TcpListener;

use crate::http_server;

const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls reuse it).
pub fn install() -> Result<&'static PrometheusHandle, String> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
        .map_err(|e| format!("metrics buckets: {e}"))?
        .build_recorder();
    let handle = recorder.handle();
    // Losing a race with another caller is fine: theirs is installed and theirs is kept.
    if metrics::set_global_recorder(recorder).is_err() {
        return HANDLE
            .get()
            .ok_or_else(|| "a metrics recorder is already installed".to_owned());
    }
    Ok(HANDLE.get_or_init(|| handle))
}

/// Binds the metrics listener (so a taken port stops startup, like the API's own).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// What the gauges read at each scrape.
pub struct Gauges {
    /// The pool whose connections are counted.
    pub db: DatabaseConnection,
    /// How many requests wait for a password hash right now.
    pub hash_queue_depth: Box<dyn Fn() -> usize + Send + Sync>,
}

/// Serves `GET /metrics` until the process ends (with the API's connection limits).
pub async fn serve(
    listener: TcpListener,
    handle: &'static PrometheusHandle,
    gauges: Gauges,
    limits: http_server::Limits,
) {
    let route = Route::new().at(
        "/metrics",
        make_sync(move |_| {
            gauges.sample();
            handle.run_upkeep();
            handle
                .render()
                .with_content_type("text/plain; version=0.0.4; charset=utf-8")
        }),
    );
    let endpoint = route.map_to_response().boxed();
    let forever = std::future::pending();
    if let Err(e) = http_server::serve(listener, endpoint, limits, forever, Duration::ZERO).await {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}

impl Gauges {
    /// Sets the gauges from what they read now: the hash queue and the database pool.
    fn sample(&self) {
        metrics::gauge!("latchkey_hash_queue_depth").set((self.hash_queue_depth)() as f64);
        let (size, idle) = pool_usage(&self.db);
        metrics::gauge!("latchkey_db_connections", "state" => "in_use")
            .set(f64::from(size.saturating_sub(idle)));
        metrics::gauge!("latchkey_db_connections", "state" => "idle").set(f64::from(idle));
    }
}

fn pool_usage(db: &DatabaseConnection) -> (u32, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            )
        }
    }
}
