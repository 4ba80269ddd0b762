//! What every handler can reach: the catalog, the authenticator, metrics, health checks and the
//! node-query service.

use std::sync::Arc;

use flowforge_catalog::CatalogStore;

use crate::auth::Authenticator;
use crate::health::{HealthCheck, ServerInfo};
use crate::metrics::Metrics;
use crate::queries::QueryService;

/// Shared, cheaply cloned state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// The metadata catalog.
    pub catalog: Arc<dyn CatalogStore>,
    /// Credentials → principal.
    pub auth: Arc<Authenticator>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// What the landing page shows.
    pub info: Arc<ServerInfo>,
    /// Components `/health/ready` checks.
    pub checks: Arc<Vec<Box<dyn HealthCheck>>>,
    /// Node queries: previews, widget data, embeds and executions.
    pub queries: Arc<QueryService>,
}
