//! FlowForge's HTTP door (axum): the `/api/v1` REST API, `/metrics`, health probes, the
//! OpenAPI document and its interactive docs, and the landing page.
//!
//! Handlers are thin: they authenticate the caller ([`auth`]), call `catalog` and `engine`,
//! record changes in the audit log and answer JSON, or an RFC 9457 problem ([`problem`]).
//! Tenant isolation is the catalog's: every lookup is scoped to the caller's tenant, so
//! another tenant's ids answer 404.

pub mod audit;
pub mod auth;
pub mod definition;
pub mod embed_token;
pub mod executions;
pub mod extract;
pub mod health;
pub mod lenient;
pub mod metrics;
pub mod node_source;
pub mod openapi;
pub mod pagination;
pub mod preview_cache;
pub mod problem;
pub mod queries;
pub mod rate_limit;
pub mod routes;
pub mod state;
#[cfg(test)]
mod test_redis;
pub mod widget_data;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use flowforge_catalog::CatalogStore;
use utoipa_scalar::{Scalar, Servable};

pub use auth::{AuthSettings, Authenticator};
pub use health::{HealthCheck, ServerInfo};
pub use problem::ApiError;
pub use queries::{QueryService, QuerySettings};
pub use state::AppState;

/// Errors starting the HTTP server.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address requested.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The authentication settings are unusable.
    #[error("authentication settings: {0}")]
    Auth(#[from] auth::AuthSetupError),
    /// The server failed while running.
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Everything the HTTP server needs to know.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// What the landing page shows.
    pub info: ServerInfo,
    /// How callers authenticate.
    pub auth: AuthSettings,
    /// What node queries (previews, widgets, embeds) run over.
    pub queries: QuerySettings,
}

/// A bound HTTP server.
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    router: Router,
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute(uri.path().to_string())
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    tracing::debug!(%method, path = uri.path(), "method not allowed");
    ApiError::MethodNotAllowed
}

/// The application: every route, the docs, fallbacks and the metrics layer, over `state`.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = routes::router().split_for_parts();
    let openapi = openapi::finish(openapi);
    let document = Arc::new(openapi.clone());
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move { Json(document.as_ref().clone()) }
            }),
        )
        .merge(Scalar::with_url("/docs", openapi))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

impl HttpServer {
    /// Binds the listen address; `checks` feed `/health/ready`.
    pub async fn bind(
        config: HttpConfig,
        catalog: Arc<dyn CatalogStore>,
        checks: Vec<Box<dyn HealthCheck>>,
    ) -> Result<Self, HttpError> {
        let queries = QueryService::new(config.queries, &config.auth.session_secret);
        let state = AppState {
            catalog,
            queries: Arc::new(queries),
            auth: Arc::new(Authenticator::new(config.auth)?),
            metrics: Arc::new(metrics::Metrics::new()),
            info: Arc::new(config.info),
            checks: Arc::new(checks),
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| HttpError::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(HttpServer {
            listener,
            router: app(state),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), HttpError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(HttpError::Serve)
    }
}
