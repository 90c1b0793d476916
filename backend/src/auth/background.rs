//! Writes that need not hold up the response (recording a failed attempt, so that a failure
//! for an existing account answers exactly as fast as one for an unknown name). They run on
//! the runtime and are counted, so shutdown, and tests, can wait until every one has landed.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::sync::Notify;

#[derive(Default)]
struct Pending {
    running: AtomicUsize,
    settled: Notify,
}

#[derive(Default, Clone)]
pub struct Background(Arc<Pending>);

impl Background {
    /// Runs `work` on the runtime, counted until it finishes.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let pending = self.0.clone();
        pending.running.fetch_add(1, Ordering::AcqRel);
        tokio::spawn(async move {
            work.await;
            if pending.running.fetch_sub(1, Ordering::AcqRel) == 1 {
                pending.settled.notify_waiters();
            }
        });
    }

    /// Resolves once nothing spawned here is still running.
    pub async fn settled(&self) {
        loop {
            let notified = self.0.settled.notified();
            if self.0.running.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn settled_waits_for_every_spawned_write() {
        let background = Background::default();
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let done = done.clone();
            background.spawn(async move {
                tokio::task::yield_now().await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        background.settled().await;
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }
}
