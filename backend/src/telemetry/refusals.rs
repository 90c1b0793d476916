//! Refused requests: every one counted in the metrics, the log told in summaries.
//!
//! Refusals come in floods: a guessing run meets the throttle (429), a login storm meets a full
//! hashing queue (503), every request meets a database outage (503). One WARN line per refusal
//! would make the log the bottleneck and bury everything else in it. So the first refusal of a
//! kind is logged at once (with the request's id), and after that at most one line per kind per
//! `SUMMARY_EVERY`, with the number refused since the previous line. The metrics count each one:
//! `latchkey_throttled_total{action}` and `latchkey_unavailable_total{reason}`.

use std::{
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// At most one log line per kind this often.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 429: a brute-force limit, while doing `action` (`login`, `register`, `password_check`,
    /// `second_factor`, `confirm_factor`, `passkey`).
    TooManyAttempts { action: &'static str },
    /// 503: too many requests already wait for a password hash.
    HashQueueFull,
    /// 503: the database did not answer in time (no connection, a lock or statement timeout).
    DatabaseUnavailable,
    /// 503: the request ran past `REQUEST_TIMEOUT_MS`.
    RequestTimeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TooManyAttempts,
    HashQueueFull,
    DatabaseUnavailable,
    RequestTimeout,
}

const KINDS: [Kind; 4] = [
    Kind::TooManyAttempts,
    Kind::HashQueueFull,
    Kind::DatabaseUnavailable,
    Kind::RequestTimeout,
];

impl Kind {
    fn index(self) -> usize {
        self as usize
    }

    /// The `reason` in the log and in `latchkey_unavailable_total`.
    fn reason(self) -> &'static str {
        match self {
            Self::TooManyAttempts => "too_many_attempts",
            Self::HashQueueFull => "hash_queue_full",
            Self::DatabaseUnavailable => "database_unavailable",
            Self::RequestTimeout => "request_timeout",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::TooManyAttempts => "refused: too many attempts",
            Self::HashQueueFull => "refused: the password hashing queue is full",
            Self::DatabaseUnavailable => "refused: the database is unavailable",
            Self::RequestTimeout => "refused: the request timed out",
        }
    }
}

impl Refusal {
    fn kind(self) -> Kind {
        match self {
            Self::TooManyAttempts { .. } => Kind::TooManyAttempts,
            Self::HashQueueFull => Kind::HashQueueFull,
            Self::DatabaseUnavailable => Kind::DatabaseUnavailable,
            Self::RequestTimeout => Kind::RequestTimeout,
        }
    }
}

/// Counts one refusal, and logs it now or adds it to the next summary. `cause` (an error's
/// text, never request data) goes on the line logged at once.
pub fn refused(refusal: Refusal, cause: Option<&str>) {
    let kind = refusal.kind();
    let action = match refusal {
        Refusal::TooManyAttempts { action } => {
            metrics::counter!("latchkey_throttled_total", "action" => action).increment(1);
            Some(action)
        }
        _ => {
            metrics::counter!("latchkey_unavailable_total", "reason" => kind.reason()).increment(1);
            None
        }
    };
    let now = Instant::now();
    let next = window(kind).record(now);
    match next {
        Next::Log { count, since } => log(kind, count, since, action, cause),
        Next::Hold => {}
        Next::Summarize { at } => {
            if !summarize_at(kind, at) {
                // No runtime to wait on: the count rides on the next line instead.
                window(kind).unschedule();
            }
        }
    }
}

/// Writes a summary of every kind with refusals not yet logged (at shutdown).
pub fn flush() {
    for kind in KINDS {
        let unlogged = window(kind).take(Instant::now());
        if let Some((count, since)) = unlogged {
            log(kind, count, since, None, None);
        }
    }
}

static WINDOWS: [Mutex<Window>; 4] = [const { Mutex::new(Window::new()) }; 4];

fn window(kind: Kind) -> std::sync::MutexGuard<'static, Window> {
    // A panic while holding it leaves two numbers behind: still fine to use.
    WINDOWS[kind.index()]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// Spawns the summary for the end of the window; false without a Tokio runtime.
fn summarize_at(kind: Kind, at: Instant) -> bool {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return false;
    };
    runtime.spawn(async move {
        tokio::time::sleep_until(at.into()).await;
        summarize(kind, Instant::now());
    });
    true
}

fn summarize(kind: Kind, now: Instant) {
    let summary = window(kind).summarize(now);
    if let Some((count, since)) = summary {
        log(kind, count, since, None, None);
    }
}

fn log(kind: Kind, count: u64, since: Option<Duration>, action: Option<&str>, cause: Option<&str>) {
    let since_s = since.map(|d| d.as_secs());
    if kind == Kind::TooManyAttempts {
        tracing::warn!(
            event = "throttled",
            security = true,
            reason = kind.reason(),
            count,
            since_s,
            action,
            "{}",
            kind.message()
        );
    } else {
        tracing::warn!(
            event = "unavailable",
            reason = kind.reason(),
            count,
            since_s,
            error = cause,
            "{}",
            kind.message()
        );
    }
}

/// What to do with a refusal.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Log now: `count` refusals (this one included) since the previous line, `since` ago.
    Log { count: u64, since: Option<Duration> },
    /// Counted for the summary already planned.
    Hold,
    /// Counted; plan the summary for `at`.
    Summarize { at: Instant },
}

/// One kind's log budget: when its last line was written and what happened since.
#[derive(Debug)]
struct Window {
    last_line: Option<Instant>,
    unlogged: u64,
    summary_planned: bool,
}

impl Window {
    const fn new() -> Self {
        Self {
            last_line: None,
            unlogged: 0,
            summary_planned: false,
        }
    }

    fn record(&mut self, now: Instant) -> Next {
        self.unlogged += 1;
        match self.last_line {
            Some(at) if now < at + SUMMARY_EVERY => {
                if self.summary_planned {
                    Next::Hold
                } else {
                    self.summary_planned = true;
                    Next::Summarize {
                        at: at + SUMMARY_EVERY,
                    }
                }
            }
            last_line => {
                // A new window: a summary planned for the old one finds nothing to say.
                self.last_line = Some(now);
                self.summary_planned = false;
                Next::Log {
                    count: std::mem::take(&mut self.unlogged),
                    since: last_line.map(|at| now - at),
                }
            }
        }
    }

    fn unschedule(&mut self) {
        self.summary_planned = false;
    }

    /// At the end of a window: the count to log, if any, and how long since the previous line.
    fn summarize(&mut self, now: Instant) -> Option<(u64, Option<Duration>)> {
        if self.last_line.is_some_and(|at| now < at + SUMMARY_EVERY) {
            // Planned for a window that a later line closed; the new window has its own plan.
            return None;
        }
        self.take(now)
    }

    /// Whatever is unlogged, now (at shutdown).
    fn take(&mut self, now: Instant) -> Option<(u64, Option<Duration>)> {
        self.summary_planned = false;
        if self.unlogged == 0 {
            return None;
        }
        let since = self.last_line.map(|at| now - at);
        self.last_line = Some(now);
        Some((std::mem::take(&mut self.unlogged), since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_first_refusal_is_logged_at_once() {
        let t0 = Instant::now();
        let mut window = Window::new();
        assert_eq!(
            window.record(t0),
            Next::Log {
                count: 1,
                since: None
            }
        );
    }

    #[test]
    fn a_flood_makes_one_summary_per_interval_with_the_whole_count() {
        let t0 = Instant::now();
        let mut window = Window::new();
        window.record(t0);
        assert_eq!(
            window.record(t0 + secs(1)),
            Next::Summarize {
                at: t0 + SUMMARY_EVERY
            }
        );
        for i in 2..200 {
            assert_eq!(
                window.record(t0 + Duration::from_millis(i * 10)),
                Next::Hold
            );
        }
        assert_eq!(
            window.summarize(t0 + SUMMARY_EVERY),
            Some((199, Some(SUMMARY_EVERY)))
        );
        // The flood goes on: held for the next summary, a full interval later.
        assert_eq!(
            window.record(t0 + secs(11)),
            Next::Summarize {
                at: t0 + SUMMARY_EVERY * 2
            }
        );
        assert_eq!(
            window.summarize(t0 + SUMMARY_EVERY * 2),
            Some((1, Some(SUMMARY_EVERY)))
        );
    }

    #[test]
    fn after_a_quiet_interval_the_next_refusal_is_logged_at_once() {
        let t0 = Instant::now();
        let mut window = Window::new();
        window.record(t0);
        assert_eq!(window.summarize(t0 + SUMMARY_EVERY), None);
        assert_eq!(
            window.record(t0 + secs(25)),
            Next::Log {
                count: 1,
                since: Some(secs(25))
            }
        );
    }

    #[test]
    fn a_summary_planned_for_a_closed_window_says_nothing() {
        let t0 = Instant::now();
        let mut window = Window::new();
        window.record(t0);
        assert!(matches!(
            window.record(t0 + secs(1)),
            Next::Summarize { .. }
        ));
        // The planned summary is late; a refusal after the window logs everything itself.
        assert_eq!(
            window.record(t0 + secs(11)),
            Next::Log {
                count: 2,
                since: Some(secs(11))
            }
        );
        assert!(matches!(
            window.record(t0 + secs(12)),
            Next::Summarize { .. }
        ));
        assert_eq!(window.summarize(t0 + secs(12)), None, "the late one");
        assert_eq!(
            window.summarize(t0 + secs(21)),
            Some((1, Some(SUMMARY_EVERY)))
        );
    }

    #[test]
    fn shutdown_writes_what_is_left() {
        let t0 = Instant::now();
        let mut window = Window::new();
        window.record(t0);
        window.record(t0 + secs(1));
        assert_eq!(window.take(t0 + secs(2)), Some((1, Some(secs(2)))));
        assert_eq!(window.take(t0 + secs(3)), None);
    }

    #[test]
    fn without_a_planned_summary_the_count_rides_on_the_next_line() {
        let t0 = Instant::now();
        let mut window = Window::new();
        window.record(t0);
        assert!(matches!(
            window.record(t0 + secs(1)),
            Next::Summarize { .. }
        ));
        window.unschedule();
        assert!(matches!(
            window.record(t0 + secs(2)),
            Next::Summarize { .. }
        ));
        window.unschedule();
        assert_eq!(
            window.record(t0 + secs(12)),
            Next::Log {
                count: 3,
                since: Some(secs(12))
            }
        );
    }
}
