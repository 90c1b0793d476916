//! Logging: a `tracing` subscriber writing to stderr, human-readable or JSON.
//!
//! Logs go to stderr so `latchkey openapi > openapi.json` stays clean. What reaches a log line
//! is decided at each call site: passwords, tokens, cookies and `Authorization` headers are never
//! recorded (the request logger in `api::middleware` records method, path, status and latency only).

use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Keeps the background log writer alive; logs still buffered are flushed when it is dropped.
pub type LogGuard = Option<tracing_appender::non_blocking::WorkerGuard>;

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax; SQL statements are kept at
/// `warn` unless the filter asks for them by name.
///
/// Lines are written by a background thread, so a request never waits on stderr. The channel
/// blocks rather than drops when full: security events must not be lost under load.
pub fn init(filter: &str, format: LogFormat) -> LogGuard {
    let filter =
        EnvFilter::try_new(with_quiet_sql(filter)).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so a second call (tests) is harmless.
    let installed = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(writer).with_target(false))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
    };
    installed.ok().map(|()| guard)
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
