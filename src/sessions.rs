//! Wiring the catalog to the engine for the doors: who a login is, and the tenant session it
//! gets (the tenant's published workflows registered as views over ACL-filtered tables).

use std::sync::Arc;

use async_trait::async_trait;
use flowforge_catalog::{CatalogStore, Identity, Role as CatalogRole, ScramVerifier};
use flowforge_engine::embedded::EmbeddedData;
use flowforge_engine::result_cache::ResultCache;
use flowforge_engine::session::{Role, Tenant, TenantSession};
use flowforge_engine::tables::ServingData;
use flowforge_engine::views::workflow_views;
use flowforge_engine::workflow::Workflow;
use flowforge_engine::EngineError;
use flowforge_proxy::SessionProvider;

/// Sessions backed by the catalog and the serving data (embedded or a backend).
pub struct CatalogSessions {
    catalog: Arc<dyn CatalogStore>,
    data: Arc<dyn ServingData>,
    cache: Option<Arc<ResultCache>>,
}

impl CatalogSessions {
    /// Sessions over this catalog and data, sharing `cache` for backend results.
    pub fn new(
        catalog: Arc<dyn CatalogStore>,
        data: Arc<dyn ServingData>,
        cache: Option<Arc<ResultCache>>,
    ) -> Self {
        CatalogSessions {
            catalog,
            data,
            cache,
        }
    }
}

fn tenant_of(identity: &Identity) -> Tenant {
    Tenant {
        id: identity.tenant_id.clone(),
        slug: identity.tenant_slug.clone(),
        role: match identity.role {
            CatalogRole::Admin => Role::Admin,
            CatalogRole::Analyst => Role::Analyst,
            CatalogRole::Viewer => Role::Viewer,
        },
        user: identity.email_or_key_name.clone(),
        entitlements: identity.entitlements.clone(),
    }
}

#[async_trait]
impl SessionProvider for CatalogSessions {
    async fn lookup_login(&self, login: &str) -> Option<(Identity, ScramVerifier)> {
        match flowforge_catalog::identity_for_login(self.catalog.as_ref(), login).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "catalog lookup failed during login");
                None
            }
        }
    }

    async fn verify_password(&self, login: &str, password: &str) -> Option<Identity> {
        if password.starts_with("sk_live_") {
            // A key logs in under its own public id, so a leaked secret cannot be paired with
            // an arbitrary user name.
            let key = self
                .catalog
                .active_api_key_by_secret(password)
                .await
                .ok()
                .flatten()?;
            if key.public_id != login {
                return None;
            }
            return flowforge_catalog::identity_for_api_key_secret(self.catalog.as_ref(), password)
                .await
                .ok()
                .flatten();
        }
        flowforge_catalog::authenticate_password(self.catalog.as_ref(), login, password)
            .await
            .ok()
    }

    async fn open_session(&self, identity: &Identity) -> Result<Arc<TenantSession>, EngineError> {
        let data = Arc::clone(&self.data);
        let mut session =
            TenantSession::new(tenant_of(identity), &|table: &str| data.provider(table))?;
        if let Some(cache) = &self.cache {
            session = session.with_result_cache(Arc::clone(cache));
        }
        let workflows = self
            .catalog
            .list_published_workflows(&identity.tenant_id)
            .await
            .map_err(|e| EngineError::Plan(format!("cannot read workflows: {e}")))?;
        let resolver = session.table_resolver();
        for stored in workflows {
            let views = Workflow::from_value(stored.definition.clone()).and_then(|workflow| {
                workflow_views(
                    &workflow,
                    &stored.view_name,
                    Some(&stored.description),
                    resolver.as_ref(),
                )
            });
            match views {
                Ok(views) => {
                    for view in views {
                        session.register_view(view)?;
                    }
                }
                // A broken workflow must not take the tenant's other views down with it.
                Err(e) => {
                    tracing::warn!(workflow = %stored.view_name, error = %e, "published workflow does not compile; view skipped")
                }
            }
        }
        Ok(Arc::new(session))
    }
}

/// `/health/ready` check of the catalog.
pub struct CatalogHealth(pub Arc<dyn CatalogStore>);

#[async_trait]
impl flowforge_http::HealthCheck for CatalogHealth {
    fn name(&self) -> &str {
        "catalog"
    }

    async fn check(&self) -> Result<(), String> {
        self.0
            .list_serving_tables()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// `/health/ready` check of the embedded data.
pub struct DataHealth(pub Arc<EmbeddedData>);

#[async_trait]
impl flowforge_http::HealthCheck for DataHealth {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn check(&self) -> Result<(), String> {
        if self.0.tables().is_empty() {
            Err("no serving tables loaded".into())
        } else {
            Ok(())
        }
    }
}

/// `/health/ready` check of the ClickHouse backend.
pub struct ClickHouseHealth(pub Arc<flowforge_engine::remote::clickhouse::ClickHouseBackend>);

#[async_trait]
impl flowforge_http::HealthCheck for ClickHouseHealth {
    fn name(&self) -> &str {
        "clickhouse"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// `/health/ready` check of the Materialize backend.
pub struct MaterializeHealth(pub Arc<flowforge_engine::remote::postgres::PostgresBackend>);

#[async_trait]
impl flowforge_http::HealthCheck for MaterializeHealth {
    fn name(&self) -> &str {
        "materialize"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// `/health/ready` check of Redis.
pub struct RedisHealth(pub Arc<flowforge_engine::remote::redis::RedisStore>);

#[async_trait]
impl flowforge_http::HealthCheck for RedisHealth {
    fn name(&self) -> &str {
        "redis"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}
