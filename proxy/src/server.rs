//! The listening server: accepts TCP connections and runs pgwire's protocol loop on each, with
//! FlowForge's handlers.
//!
//! Every connection is its own task: a client that misbehaves, disconnects mid-stream or sends
//! garbage ends only its own connection. `max_connections` is enforced at login with
//! PostgreSQL's `53300 sorry, too many clients already`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::PgWireServerHandlers;
use pgwire::tokio::{process_socket, TlsAcceptor};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::auth::{Authenticator, Startup};
use crate::cancel::CancelRegistry;
use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::provider::SessionProvider;
use crate::query::QueryHandler;
use crate::tls;

/// The PostgreSQL wire server, bound and ready to serve.
pub struct ProxyServer {
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    authenticator: Arc<Authenticator>,
    queries: Arc<QueryHandler>,
    registry: Arc<CancelRegistry>,
    max_connections: usize,
}

impl ProxyServer {
    /// Loads the TLS material and binds the listen address; fails early on bad certificates or
    /// a taken port.
    pub async fn bind(
        config: ProxyConfig,
        provider: Arc<dyn SessionProvider>,
    ) -> Result<Self, ProxyError> {
        let loaded = config.tls.as_ref().map(tls::load).transpose()?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProxyError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            addr: config.listen,
            source,
        })?;
        let registry = Arc::new(CancelRegistry::default());
        let authenticator = Arc::new(Authenticator::new(
            provider,
            config.auth,
            loaded.as_ref().map(|l| l.cert_pem.as_slice()),
            Arc::clone(&registry),
            config.statement_timeout,
        ));
        tracing::info!(
            addr = %local_addr,
            tls = loaded.is_some(),
            auth = ?config.auth,
            "pgwire listening"
        );
        Ok(ProxyServer {
            listener,
            local_addr,
            tls: loaded.map(|l| TlsAcceptor::from(l.config)),
            authenticator,
            queries: Arc::new(QueryHandler::new(config.max_result_rows)),
            registry,
            max_connections: config.max_connections,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves connections until `shutdown` completes, then closes the remaining connections.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ProxyError> {
        let active = Arc::new(AtomicUsize::new(0));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        let count = active.fetch_add(1, Ordering::SeqCst) + 1;
                        let slot = ActiveConnection(Arc::clone(&active));
                        let handlers = ConnectionHandlers {
                            startup: Arc::new(Startup::new(
                                Arc::clone(&self.authenticator),
                                count > self.max_connections,
                            )),
                            queries: Arc::clone(&self.queries),
                            cancel: Arc::clone(&self.registry),
                        };
                        let tls = self.tls.clone();
                        connections.spawn(async move {
                            let _slot = slot;
                            let opened = Instant::now();
                            tracing::debug!(%peer, "connection opened");
                            let result = process_socket(socket, tls, handlers).await;
                            let elapsed_ms = opened.elapsed().as_millis() as u64;
                            match result {
                                Ok(()) => tracing::info!(%peer, elapsed_ms, "connection closed"),
                                Err(error) => tracing::info!(%peer, elapsed_ms, %error, "connection closed on error"),
                            }
                        });
                    }
                    Err(error) => {
                        // Out of file descriptors or a connection reset before accept: wait a
                        // little and keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(finished) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(error) = finished {
                        tracing::error!(%error, "connection task failed");
                    }
                }
            }
        }
        tracing::info!(open = connections.len(), "pgwire shutting down");
        connections.shutdown().await;
        Ok(())
    }
}

/// Counts a connection as open until dropped.
struct ActiveConnection(Arc<AtomicUsize>);

impl Drop for ActiveConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The handlers pgwire runs one connection with.
struct ConnectionHandlers {
    startup: Arc<Startup>,
    queries: Arc<QueryHandler>,
    cancel: Arc<CancelRegistry>,
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::clone(&self.queries)
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::clone(&self.startup)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::clone(&self.cancel)
    }
}
