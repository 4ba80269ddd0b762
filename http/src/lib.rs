//! FlowForge's HTTP door (axum).
//!
//! Serves the health probes and a landing page that tells people how to connect; the REST API,
//! dashboards and embeds grow here as thin handlers over `engine` and `catalog`.

pub mod preview_cache;
pub mod rate_limit;
#[cfg(test)]
mod test_redis;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

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
    /// The server failed while running.
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// A dependency whose health `/health/ready` reports.
#[async_trait::async_trait]
pub trait HealthCheck: Send + Sync {
    /// Component name, e.g. `catalog` or `embedded`.
    fn name(&self) -> &str;
    /// `Ok` when usable, else a short reason.
    async fn check(&self) -> Result<(), String>;
}

/// What the landing page shows about the running server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// The pgwire listen address.
    pub pgwire: SocketAddr,
    /// A ready-to-paste psql command.
    pub psql: String,
    /// Product version.
    pub version: String,
}

#[derive(Clone)]
struct AppState {
    info: ServerInfo,
    checks: Arc<Vec<Box<dyn HealthCheck>>>,
}

/// A bound HTTP server.
pub struct HttpServer {
    listener: tokio::net::TcpListener,
    router: Router,
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    components: Vec<ComponentHealth>,
}

#[derive(Serialize)]
struct ComponentHealth {
    name: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let mut components = Vec::with_capacity(state.checks.len());
    for c in state.checks.iter() {
        components.push(match c.check().await {
            Ok(()) => ComponentHealth {
                name: c.name().to_string(),
                status: "ok",
                error: None,
            },
            Err(e) => ComponentHealth {
                name: c.name().to_string(),
                status: "down",
                error: Some(e),
            },
        });
    }
    let healthy = components.iter().all(|c| c.status == "ok");
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if healthy { "ok" } else { "degraded" },
            components,
        }),
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(State(state): State<AppState>) -> Html<String> {
    let info = &state.info;
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>FlowForge</title></head><body>\
         <h1>FlowForge {version}</h1><p>Workflows are SQL views. Connect any PostgreSQL client to \
         <code>{pg}</code>:</p><pre>{psql}</pre><p>Health: <a href=\"/health/ready\">/health/ready</a></p></body></html>",
        version = escape(&info.version),
        pg = info.pgwire,
        psql = escape(&info.psql),
    ))
}

impl HttpServer {
    /// Binds the listen address; `checks` feed `/health/ready`.
    pub async fn bind(
        addr: SocketAddr,
        info: ServerInfo,
        checks: Vec<Box<dyn HealthCheck>>,
    ) -> Result<Self, HttpError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| HttpError::Bind { addr, source })?;
        let state = AppState {
            info,
            checks: Arc::new(checks),
        };
        let router = Router::new()
            .route("/", get(index))
            .route("/health", get(live))
            .route("/health/live", get(live))
            .route("/health/ready", get(ready))
            .with_state(state);
        Ok(HttpServer { listener, router })
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
