//! Logging: a `tracing` subscriber writing to stderr, human-readable or JSON; and metrics.
//!
//! Logs go to stderr so `latchkey openapi > openapi.json` stays clean. What reaches a log line
//! is decided at each call site: passwords, tokens, cookies and `Authorization` headers are never
//! recorded (the request logger in `api::middleware` records method, path, status, latency, the
//! client address and the request id, nothing else).

mod batched_stderr;
pub mod metrics;
pub mod refusals;

use std::{error::Error, future::Future, io::IsTerminal as _};

use tracing::{Event, Subscriber};
use tracing_subscriber::{
    EnvFilter, fmt,
    fmt::{FmtContext, FormatEvent, FormatFields, format::Writer},
    layer::SubscriberExt,
    registry::LookupSpan,
    util::SubscriberInitExt,
};

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: one readable line per event.
    Pretty,
    /// For log shippers: one JSON object per line.
    Json,
}

/// An error with its causes, for a log line or a terminal: `what failed: why: why`. Our errors
/// say only their own part and keep the cause as their source, so the chain is written here.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            // Some errors (sea-orm's, sqlx's) already print their source: say it once.
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&line)
    }
}

/// Keeps the background log writer alive; logs still buffered are written when it is dropped.
pub type LogGuard = Option<batched_stderr::FlushGuard>;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `request` with `id` attached to every event it logs (`"request_id"` in JSON, a
/// `[id]` prefix in the pretty format).
///
/// A task-local rather than a `tracing` span: a span per request cost more than the request's
/// own log line (creating, entering and leaving it on every poll, closing it), about 5% of
/// `/profile`'s throughput, and we had no other use for spans.
pub async fn with_request_id<F: Future>(id: String, request: F) -> F::Output {
    REQUEST_ID.scope(id, request).await
}

fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax; SQL statements are kept at
/// `warn` unless the filter asks for them by name.
///
/// Lines are batched in memory and written by a background thread (see `batched_stderr`), so a
/// request never waits on stderr; WARN and ERROR lines go out at once, and nothing is dropped.
pub fn init(filter: &str, format: LogFormat) -> LogGuard {
    let filter =
        EnvFilter::try_new(with_quiet_sql(filter)).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = batched_stderr::batched_stderr();
    let registry = tracing_subscriber::registry().with(filter);
    // `try_init` so a second call (tests) is harmless.
    let installed = match format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .event_format(PrefixRequestId(
                        fmt::format()
                            .with_target(false)
                            .with_ansi(std::io::stderr().is_terminal()),
                    ))
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Json => {
            // json-subscriber rather than tracing-subscriber's own JSON format: same output,
            // written without re-parsing and re-serialising fields, measurably cheaper per line.
            let mut json = json_subscriber::fmt::layer()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(writer);
            json.inner_layer_mut()
                .add_dynamic_field("request_id", |_, _| current_request_id());
            registry.with(json).try_init()
        }
    };
    installed.ok().map(|()| guard)
}

/// The pretty format, with the request id in front of events logged during a request.
struct PrefixRequestId<F>(F);

impl<S, N, F> FormatEvent<S, N> for PrefixRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        if let Some(id) = current_request_id() {
            write!(writer, "[{id}] ")?;
        }
        self.0.format_event(ctx, writer, event)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("starting")]
        Ours(#[source] Inner),
        #[error("theirs: {0}")]
        Theirs(#[source] Inner),
    }

    #[derive(Debug, thiserror::Error)]
    #[error("the disk is full")]
    struct Inner;

    #[test]
    fn a_chain_names_every_cause_once() {
        assert_eq!(
            Chain(&Outer::Ours(Inner)).to_string(),
            "starting: the disk is full"
        );
        assert_eq!(
            Chain(&Outer::Theirs(Inner)).to_string(),
            "theirs: the disk is full"
        );
    }
}
