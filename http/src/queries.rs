//! Running workflow nodes for API callers: one tenant session per caller's tenant and
//! entitlements (cached briefly), the interactive limits, the preview cache, the embed rate
//! limiter and background executions, and how node-query failures read as problems.
//!
//! Every route that shows rows goes through [`QueryService::run`], which calls the engine's
//! single node-query path (`flowforge_engine::node_query`).

use std::sync::Arc;
use std::time::Duration;

use flowforge_catalog::Role as CatalogRole;
use flowforge_engine::node_query::{
    run_node_query, NodeFilter, NodeQuery, NodeQueryError, NodeResult, QueryLimits,
};
use flowforge_engine::remote::redis::RedisStore;
use flowforge_engine::result_cache::ResultCache;
use flowforge_engine::session::{Role, Tenant, TenantSession};
use flowforge_engine::tables::ServingData;
use flowforge_engine::workflow::Workflow;
use moka::future::Cache;

use crate::auth::Principal;
use crate::embed_token::{EmbedTokens, EMBED_TOKEN_TTL};
use crate::executions::Executions;
use crate::preview_cache::PreviewCache;
use crate::problem::ApiError;
use crate::rate_limit::RateLimiter;

/// How long an idle tenant session is kept for the next request.
const SESSION_TTL: Duration = Duration::from_secs(60);

/// What the query routes need from the server.
#[derive(Clone)]
pub struct QuerySettings {
    /// The serving tables (embedded Parquet or backends).
    pub data: Arc<dyn ServingData>,
    /// Backend results shared with the pgwire sessions.
    pub result_cache: Option<Arc<ResultCache>>,
    /// Redis, for the shared preview tier and shared rate-limit windows.
    pub redis: Option<Arc<RedisStore>>,
    /// Embed requests allowed per API key per window.
    pub embed_rate_limit: u64,
    /// The embed rate-limit window.
    pub embed_rate_window: Duration,
}

impl std::fmt::Debug for QuerySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuerySettings")
            .field("data", &self.data.name())
            .field(
                "redis",
                &self.redis.as_ref().map(|r| r.server().to_string()),
            )
            .field("embed_rate_limit", &self.embed_rate_limit)
            .field("embed_rate_window", &self.embed_rate_window)
            .finish_non_exhaustive()
    }
}

/// Node queries for the HTTP door.
pub struct QueryService {
    data: Arc<dyn ServingData>,
    result_cache: Option<Arc<ResultCache>>,
    sessions: Cache<String, Arc<TenantSession>>,
    /// Bounds on every interactive query.
    pub limits: QueryLimits,
    /// Previews by content address.
    pub previews: PreviewCache,
    /// Embed requests per API key.
    pub embed_limiter: RateLimiter,
    /// Background subgraph runs.
    pub executions: Executions,
    /// Embed token issuer and verifier.
    pub embed_tokens: EmbedTokens,
}

impl std::fmt::Debug for QueryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryService")
            .field("data", &self.data.name())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl QueryService {
    /// The service for these settings, with the interactive limits (1000 rows, 3 s, 100 MB);
    /// embed tokens are signed with `secret` (the session secret).
    pub fn new(settings: QuerySettings, secret: &[u8]) -> Self {
        QueryService {
            data: settings.data,
            result_cache: settings.result_cache,
            sessions: Cache::builder()
                .time_to_idle(SESSION_TTL)
                .max_capacity(1_000)
                .build(),
            limits: QueryLimits::default(),
            previews: PreviewCache::new(settings.redis.clone()),
            embed_limiter: RateLimiter::new(
                settings.embed_rate_limit,
                settings.embed_rate_window,
                settings.redis,
            ),
            executions: Executions::new(),
            embed_tokens: EmbedTokens::new(secret, EMBED_TOKEN_TTL),
        }
    }

    /// A session seeing exactly what `principal`'s tenant is entitled to. Sessions are shared
    /// by callers with the same tenant, role and entitlements, so a change of entitlements
    /// gets a new session at once.
    pub async fn session(&self, principal: &Principal) -> Result<Arc<TenantSession>, ApiError> {
        let role = match principal.role {
            CatalogRole::Admin => Role::Admin,
            CatalogRole::Analyst => Role::Analyst,
            CatalogRole::Viewer => Role::Viewer,
        };
        let key = format!(
            "{}\n{:?}\n{}",
            principal.tenant_id,
            role,
            principal.entitlements.join(",")
        );
        let tenant = Tenant {
            id: principal.tenant_id.clone(),
            slug: principal.tenant_slug.clone(),
            role,
            user: principal.email.clone(),
            entitlements: principal.entitlements.clone(),
        };
        let data = Arc::clone(&self.data);
        let cache = self.result_cache.clone();
        self.sessions
            .try_get_with(key, async move {
                let mut session = TenantSession::new(tenant, &|table: &str| data.provider(table))?;
                if let Some(cache) = cache {
                    session = session.with_result_cache(cache);
                }
                Ok::<_, flowforge_engine::EngineError>(Arc::new(session))
            })
            .await
            .map_err(|e| ApiError::Internal(format!("cannot open a tenant session: {e}")))
    }

    /// Runs one node for `principal` within the interactive limits.
    pub async fn run(
        &self,
        principal: &Principal,
        workflow: &Workflow,
        node_id: &str,
        filters: Vec<NodeFilter>,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<NodeResult, ApiError> {
        let session = self.session(principal).await?;
        let query = NodeQuery {
            workflow,
            node_id,
            filters,
            offset,
            limit,
        };
        Ok(run_node_query(&session, &query, &self.limits).await?)
    }
}

impl From<NodeQueryError> for ApiError {
    fn from(error: NodeQueryError) -> Self {
        match error {
            NodeQueryError::Engine(engine) => engine.into(),
            NodeQueryError::UnknownFilterColumn { .. } => {
                ApiError::bad_request("unknown_filter_column", error.to_string())
            }
            NodeQueryError::InvalidFilter { .. } => {
                ApiError::bad_request("invalid_filter", error.to_string())
            }
            NodeQueryError::TooManyRows { .. } => ApiError::RowLimitExceeded(error.to_string()),
            NodeQueryError::Timeout(_) => ApiError::QueryTimeout(error.to_string()),
            NodeQueryError::TooLarge { .. } => ApiError::ResultTooLarge(error.to_string()),
        }
    }
}
