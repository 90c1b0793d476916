//! Logging: a `tracing` subscriber writing to stderr, human-readable or JSON.
//!
//! Logs go to stderr so `latchkey openapi > openapi.json` stays clean. What reaches a log line
//! is decided at each call site: passwords, tokens, cookies and `Authorization` headers are never
//! recorded (the request logger in `api::middleware` records method, path, status and latency only).

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax; SQL statements are kept at
/// `warn` unless the filter asks for them by name.
pub fn init(filter: &str, format: LogFormat) {
    let filter =
        EnvFilter::try_new(with_quiet_sql(filter)).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so a second call (tests) is harmless.
    let _ = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(std::io::stderr).with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
}

/// SeaORM logs every statement (with its bound values, which include password hashes and
/// token hashes) at INFO; keep that out unless explicitly requested.
fn with_quiet_sql(filter: &str) -> String {
    let mut directives = String::from(filter);
    for target in ["sqlx", "sea_orm"] {
        if !filter.contains(target) {
            directives.push_str(&format!(",{target}=warn"));
        }
    }
    directives
}
