//! Health probes and the landing page.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

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

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: String,
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` or `degraded`.
    pub status: String,
    /// Each checked component.
    pub components: Vec<ComponentHealth>,
}

/// One component's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentHealth {
    /// Component name.
    pub name: String,
    /// `ok` or `down`.
    pub status: String,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Liveness probe (also at `/health`).
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process is up", body = Liveness)))]
pub async fn live() -> Json<Liveness> {
    Json(Liveness {
        status: "ok".into(),
    })
}

/// Liveness probe, short path.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The process is up", body = Liveness)))]
pub async fn health() -> Json<Liveness> {
    live().await
}

/// Readiness probe: every dependency answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Every component is usable", body = Readiness),
        (status = 503, description = "A component is down", body = Readiness),
    ))]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let mut components = Vec::with_capacity(state.checks.len());
    for c in state.checks.iter() {
        let result = c.check().await;
        components.push(ComponentHealth {
            name: c.name().to_string(),
            status: if result.is_ok() { "ok" } else { "down" }.into(),
            error: result.err(),
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
            status: if healthy { "ok" } else { "degraded" }.into(),
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

/// The landing page: how to connect.
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "How to connect", content_type = "text/html", body = String)))]
pub async fn index(State(state): State<AppState>) -> Html<String> {
    let info = &state.info;
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>FlowForge</title></head><body>\
         <h1>FlowForge {version}</h1><p>Workflows are SQL views. Connect any PostgreSQL client to \
         <code>{pg}</code>:</p><pre>{psql}</pre><p>Health: <a href=\"/health/ready\">/health/ready</a> \
         &middot; API: <a href=\"/docs\">/docs</a></p></body></html>",
        version = escape(&info.version),
        pg = info.pgwire,
        psql = escape(&info.psql),
    ))
}
