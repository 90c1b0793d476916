//! The log sink: lines are appended to a buffer in memory and a background thread writes the
//! buffer to stderr a few milliseconds later, in one system call for many lines.
//!
//! Why not one write per line (tracing-appender's non-blocking worker, which we used first):
//! at one line per request, waking a writer thread and calling write(2) for every line cost
//! about a tenth of `/profile`'s throughput on two cores. Here a request only copies its line
//! into the buffer.
//!
//! What this keeps:
//! - WARN and ERROR lines (security events such as a refresh-token replay, failures) wake the
//!   writer at once instead of waiting for the batch;
//! - nothing is dropped: past `MAX_PENDING` bytes, the thread that logs writes the buffer out
//!   itself (back-pressure), and the guard writes what is left when the process stops;
//! - lines keep their order: whoever writes holds `output` from taking the batch to writing it.
//!
//! A `kill -9` loses at most the last `FLUSH_EVERY` of INFO lines, never an account or session.

use std::{
    io::{self, Write},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::{self, JoinHandle},
    time::Duration,
};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a batch may wait for more lines before it is written.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Past this many buffered bytes, logging threads write the buffer themselves.
const MAX_PENDING: usize = 1 << 20;
const BATCH_CAPACITY: usize = 64 * 1024;

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    urgent: bool,
    closed: bool,
}

struct Shared {
    limit: usize,
    pending: Mutex<Pending>,
    wake: Condvar,
    output: Mutex<()>,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves plain bytes behind: still fine to use.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, line: &[u8], urgent: bool) {
        let write_now = {
            let mut pending = self.pending();
            let was_empty = pending.lines.is_empty();
            pending.lines.extend_from_slice(line);
            pending.urgent |= urgent;
            if was_empty || urgent {
                self.wake.notify_one();
            }
            // Closed: the writer thread is gone (or never started), so write through.
            pending.closed || pending.lines.len() >= self.limit
        };
        if write_now {
            self.write_out();
        }
    }

    /// Takes everything buffered and writes it to stderr.
    fn write_out(&self) {
        let _ordered = self.output.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = {
            let mut pending = self.pending();
            pending.urgent = false;
            std::mem::replace(&mut pending.lines, Vec::with_capacity(BATCH_CAPACITY))
        };
        if !batch.is_empty() {
            // Nowhere to report a failing stderr; the lines are gone either way.
            let _ = io::stderr().lock().write_all(&batch);
        }
    }

    /// The writer thread: sleeps while there is nothing to write, then gives a new batch
    /// `FLUSH_EVERY` to fill up, unless a line is urgent.
    fn run(&self) {
        loop {
            let pending = self
                .wake
                .wait_while(self.pending(), |p| p.lines.is_empty() && !p.closed)
                .unwrap_or_else(PoisonError::into_inner);
            let (pending, _) = self
                .wake
                .wait_timeout_while(pending, FLUSH_EVERY, |p| !p.urgent && !p.closed)
                .unwrap_or_else(PoisonError::into_inner);
            let closed = pending.closed;
            drop(pending);
            self.write_out();
            if closed {
                return;
            }
        }
    }
}

/// The `MakeWriter` given to the `fmt` layer.
pub struct BatchedStderr {
    shared: Arc<Shared>,
}

/// Stops the writer thread and writes what is still buffered when dropped.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread. Without a thread (the system refuses one), every line is written
/// through at once.
pub fn batched_stderr() -> (BatchedStderr, FlushGuard) {
    with_limit(MAX_PENDING)
}

fn with_limit(limit: usize) -> (BatchedStderr, FlushGuard) {
    let shared = Arc::new(Shared {
        limit,
        pending: Mutex::new(Pending::default()),
        wake: Condvar::new(),
        output: Mutex::new(()),
    });
    let worker = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || worker.run())
        .ok();
    if thread.is_none() {
        shared.pending().closed = true;
    }
    let guard = FlushGuard {
        shared: Arc::clone(&shared),
        thread,
    };
    (BatchedStderr { shared }, guard)
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.pending().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.write_out();
    }
}

/// One formatted line: `fmt` writes each event with a single `write_all`.
pub struct LineWriter<'a> {
    shared: &'a Shared,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.shared.append(line, self.urgent);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
            // `Level` orders by verbosity: ERROR < WARN < INFO.
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_verbosity() {
        assert!(Level::ERROR <= Level::WARN);
        assert!(Level::INFO > Level::WARN);
    }

    #[test]
    fn lines_wait_in_the_buffer_until_the_writer_takes_them() {
        let (sink, guard) = batched_stderr();
        let mut writer = sink.make_writer();
        writer.write_all(b"batched_stderr test: first\n").unwrap();
        writer.write_all(b"batched_stderr test: second\n").unwrap();
        // Either still buffered or already taken by the writer thread, never lost or reordered.
        let buffered = sink.shared.pending().lines.clone();
        assert!(buffered.is_empty() || buffered.starts_with(b"batched_stderr test: first\n"));
        drop(guard);
        assert!(sink.shared.pending().lines.is_empty());
    }

    #[test]
    fn past_the_limit_the_logging_thread_writes_the_buffer_itself() {
        let (sink, _guard) = with_limit(8);
        let mut writer = sink.make_writer();
        writer.write_all(b"batched_stderr test line\n").unwrap();
        assert!(sink.shared.pending().lines.is_empty());
    }
}
