//! Stopping running statements: CancelRequests from other connections and `statement_timeout`.
//!
//! Every authenticated connection registers its `(pid, secret)` pair here with the sender of a
//! counter. A CancelRequest with a matching pair bumps the counter; a statement that is running
//! watches the counter from the value it started with, so a cancel that arrives between
//! statements affects none. The row-streaming loop races the counter and the statement deadline
//! against the next row, and on either it drops the DataFusion stream, which stops the query.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pgwire::api::cancel::CancelHandler;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use tokio::sync::watch;
use tokio::time::Instant;

/// Running connections by backend pid.
#[derive(Default)]
pub(crate) struct CancelRegistry {
    connections: Mutex<HashMap<i32, (SecretKey, watch::Sender<u64>)>>,
}

impl CancelRegistry {
    /// Registers a connection; it stays registered while the returned guard lives.
    pub(crate) fn register(
        self: &Arc<Self>,
        pid: i32,
        secret: SecretKey,
        cancel: watch::Sender<u64>,
    ) -> Registration {
        self.lock().insert(pid, (secret, cancel));
        Registration {
            registry: Arc::clone(self),
            pid,
        }
    }

    /// Cancels whatever `pid` is running if `secret` is its key; unknown pairs are ignored, as
    /// PostgreSQL does (the requester learns nothing either way).
    pub(crate) fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        let connections = self.lock();
        match connections.get(&pid) {
            Some((key, sender)) if key.eq_value(secret) => {
                sender.send_modify(|generation| *generation = generation.wrapping_add(1));
                true
            }
            _ => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (SecretKey, watch::Sender<u64>)>> {
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl CancelHandler for CancelRegistry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let found = self.cancel(request.pid, &request.secret_key);
        tracing::info!(pid = request.pid, found, "cancel request");
    }
}

/// Removes a connection from the registry when the connection ends.
pub(crate) struct Registration {
    registry: Arc<CancelRegistry>,
    pid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.pid);
    }
}

/// Why a statement was stopped before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// A CancelRequest for this connection arrived.
    Cancelled,
    /// The statement ran past `statement_timeout`.
    TimedOut,
}

impl Interruption {
    /// The message PostgreSQL sends (both are SQLSTATE 57014).
    pub(crate) fn message(self) -> &'static str {
        match self {
            Interruption::Cancelled => "canceling statement due to user request",
            Interruption::TimedOut => "canceling statement due to statement timeout",
        }
    }
}

/// What one statement watches while it runs.
pub(crate) struct Interrupts {
    cancel: watch::Receiver<u64>,
    deadline: Option<Instant>,
}

impl Interrupts {
    /// Starts watching: only cancels from now on count; the deadline is `timeout` from now.
    pub(crate) fn start(cancel: &watch::Sender<u64>, timeout: Option<Duration>) -> Self {
        Interrupts {
            cancel: cancel.subscribe(),
            deadline: timeout.map(|t| Instant::now() + t),
        }
    }

    /// Resolves when the statement must stop.
    pub(crate) async fn wait(&mut self) -> Interruption {
        let deadline = async {
            match self.deadline {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        let cancel = async {
            if self.cancel.changed().await.is_err() {
                // The connection is going away; its own shutdown stops the statement.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = cancel => Interruption::Cancelled,
            () = deadline => Interruption::TimedOut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancel_reaches_only_the_matching_running_statement() {
        let registry = Arc::new(CancelRegistry::default());
        let sender = watch::Sender::new(0);
        let _registration = registry.register(7, SecretKey::I32(42), sender.clone());
        // A cancel while idle does not affect the next statement.
        assert!(registry.cancel(7, &SecretKey::I32(42)));
        let mut interrupts = Interrupts::start(&sender, None);
        assert!(!registry.cancel(7, &SecretKey::I32(41)));
        assert!(!registry.cancel(8, &SecretKey::I32(42)));
        let waiting = tokio::time::timeout(Duration::from_millis(50), interrupts.wait()).await;
        assert!(waiting.is_err(), "nothing matching was cancelled yet");
        assert!(registry.cancel(7, &SecretKey::I32(42)));
        assert_eq!(interrupts.wait().await, Interruption::Cancelled);
    }

    #[tokio::test]
    async fn deadlines_time_out_and_registrations_end_with_their_guard() {
        let registry = Arc::new(CancelRegistry::default());
        let sender = watch::Sender::new(0);
        let mut interrupts = Interrupts::start(&sender, Some(Duration::from_millis(10)));
        assert_eq!(interrupts.wait().await, Interruption::TimedOut);
        let registration = registry.register(9, SecretKey::I32(1), sender);
        drop(registration);
        assert!(!registry.cancel(9, &SecretKey::I32(1)));
    }
}
