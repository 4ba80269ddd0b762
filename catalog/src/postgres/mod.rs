//! The PostgreSQL catalog store: tokio-postgres connections in a deadpool pool, optional TLS
//! with rustls, and the same refinery migrations as the SQLite store. It behaves exactly like
//! [`crate::SqliteCatalog`] (one behavioural test suite runs against both); multi-row changes
//! run in transactions that lock the rows they change, where SQLite relies on its single
//! writer.

mod accounts;
mod audit;
mod columns;
mod dashboards;
mod pool;
mod serving;
mod templates;
#[cfg(test)]
pub(crate) mod testing;
mod tls;
mod workflows;

use std::path::PathBuf;

use async_trait::async_trait;
use deadpool_postgres::Pool;

use self::columns::{delete_owned, pool_err};
use crate::stored::TenantTable;
use crate::{
    ApiKey, ApiKeyCredentials, AuditEntry, CatalogError, CatalogStore, CreatedApiKey, Dashboard,
    DashboardUpdate, NewApiKey, NewAuditEntry, NewDashboard, NewTemplate, NewUser, NewWidget,
    NewWorkflow, Role, ServingTable, Template, Tenant, User, UserCredentials, Widget, WidgetUpdate,
    Workflow, WorkflowUpdate, WorkflowVersion,
};

/// Settings for [`PostgresCatalog::connect_with`] beyond what the connection URL says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostgresCatalogOptions {
    /// PEM file with the certificate authorities to trust for `sslmode=require`, for a server
    /// whose certificate a private CA signed. `None` trusts the system's root certificates.
    pub ca_file: Option<PathBuf>,
    /// Most connections the pool opens (default 8).
    pub max_connections: Option<usize>,
}

/// Catalog store backed by a PostgreSQL database.
///
/// Clones share one connection pool. Must be used from within a Tokio runtime.
#[derive(Clone)]
pub struct PostgresCatalog {
    pool: Pool,
    target: String,
}

impl std::fmt::Debug for PostgresCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresCatalog")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl PostgresCatalog {
    /// Connects to the database at `url` (libpq syntax: `postgres://user:password@host:port/db`
    /// or `host=... dbname=...`) and migrates it to the current schema.
    ///
    /// TLS is used when the URL says `sslmode=require`; the server certificate is then verified
    /// against the system's trusted roots. The tables live in the first schema of the
    /// connection's `search_path`; to keep the catalog in its own schema of a shared database,
    /// add `options=-csearch_path%3Dflowforge` to the URL (the schema must exist).
    pub async fn connect(url: &str) -> Result<Self, CatalogError> {
        Self::connect_with(url, &PostgresCatalogOptions::default()).await
    }

    /// [`PostgresCatalog::connect`] with explicit TLS and pool settings.
    pub async fn connect_with(
        url: &str,
        options: &PostgresCatalogOptions,
    ) -> Result<Self, CatalogError> {
        Self::from_config(pool::parse_url(url)?, options).await
    }

    pub(crate) async fn from_config(
        config: tokio_postgres::Config,
        options: &PostgresCatalogOptions,
    ) -> Result<Self, CatalogError> {
        let target = pool::describe(&config);
        let pool = pool::build(config, options)?;
        pool::migrate(&pool).await?;
        Ok(PostgresCatalog { pool, target })
    }

    /// Where the catalog is (`postgres://host:port/database`, without credentials), for logs.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Closes the pool: idle connections now, busy ones when their operation ends. Later
    /// operations on this store or its clones fail.
    pub fn close(&self) {
        self.pool.close();
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, CatalogError> {
        self.pool.get().await.map_err(pool_err)
    }
}

/// Runs CPU-heavy work (password hashing, key derivation) on Tokio's blocking pool, before a
/// connection is taken, so hashing never holds a connection.
async fn blocking<T, F>(work: F) -> Result<T, CatalogError>
where
    F: FnOnce() -> Result<T, CatalogError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CatalogError::Storage(format!("catalog worker failed: {e}")))?
}

#[async_trait]
impl CatalogStore for PostgresCatalog {
    async fn create_tenant(&self, slug: &str, name: &str) -> Result<Tenant, CatalogError> {
        accounts::create_tenant(&mut self.client().await?, slug, name).await
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<Tenant, CatalogError> {
        accounts::get_tenant(&self.client().await?, tenant_id).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Tenant, CatalogError> {
        accounts::get_tenant_by_slug(&self.client().await?, slug).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, CatalogError> {
        accounts::list_tenants(&self.client().await?).await
    }

    async fn set_entitlements(
        &self,
        tenant_id: &str,
        symbols: &[String],
    ) -> Result<Vec<String>, CatalogError> {
        accounts::set_entitlements(&mut self.client().await?, tenant_id, symbols).await
    }

    async fn list_entitlements(&self, tenant_id: &str) -> Result<Vec<String>, CatalogError> {
        accounts::list_entitlements(&self.client().await?, tenant_id).await
    }

    async fn create_user(&self, user: NewUser) -> Result<User, CatalogError> {
        let (email, password) = (user.email.clone(), user.password.clone());
        let hashes = blocking(move || {
            // Reject a malformed email before spending time on hashing.
            crate::validate::email(&email)?;
            crate::PasswordHashes::derive(&password)
        })
        .await?;
        accounts::create_user(&mut self.client().await?, &user, &hashes).await
    }

    async fn get_user(&self, tenant_id: &str, user_id: &str) -> Result<User, CatalogError> {
        accounts::get_user(&self.client().await?, tenant_id, user_id).await
    }

    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>, CatalogError> {
        accounts::list_users(&self.client().await?, tenant_id).await
    }

    async fn user_credentials_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserCredentials>, CatalogError> {
        accounts::user_credentials_by_email(&self.client().await?, email).await
    }

    async fn set_user_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password: &str,
    ) -> Result<(), CatalogError> {
        let password = password.to_string();
        let hashes = blocking(move || crate::PasswordHashes::derive(&password)).await?;
        accounts::set_user_password(&self.client().await?, tenant_id, user_id, &hashes).await
    }

    async fn set_user_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<User, CatalogError> {
        accounts::set_user_role(&self.client().await?, tenant_id, user_id, role).await
    }

    async fn delete_user(&self, tenant_id: &str, user_id: &str) -> Result<(), CatalogError> {
        accounts::delete_user(&self.client().await?, tenant_id, user_id).await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<CreatedApiKey, CatalogError> {
        let material = blocking(crate::GeneratedKeyMaterial::generate).await?;
        accounts::create_api_key(&mut self.client().await?, &key, material).await
    }

    async fn get_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError> {
        accounts::get_api_key(&self.client().await?, tenant_id, key_id).await
    }

    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, CatalogError> {
        accounts::list_api_keys(&self.client().await?, tenant_id).await
    }

    async fn revoke_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError> {
        accounts::revoke_api_key(&self.client().await?, tenant_id, key_id).await
    }

    async fn active_api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>, CatalogError> {
        if !crate::api_key::looks_like_secret(secret) {
            return Ok(None);
        }
        let digest = crate::api_key::secret_sha256(secret);
        accounts::active_api_key_by_digest(&self.client().await?, &digest).await
    }

    async fn active_api_key_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<ApiKeyCredentials>, CatalogError> {
        if !crate::api_key::looks_like_public_id(public_id) {
            return Ok(None);
        }
        accounts::active_api_key_by_public_id(&self.client().await?, public_id).await
    }

    async fn list_serving_tables(&self) -> Result<Vec<ServingTable>, CatalogError> {
        serving::list(&self.client().await?).await
    }

    async fn get_serving_table(&self, name: &str) -> Result<ServingTable, CatalogError> {
        serving::get(&self.client().await?, name).await
    }

    async fn upsert_serving_table(
        &self,
        table: ServingTable,
    ) -> Result<ServingTable, CatalogError> {
        serving::upsert(&self.client().await?, &table).await
    }

    async fn set_serving_table_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<ServingTable, CatalogError> {
        serving::set_enabled(&self.client().await?, name, enabled).await
    }

    async fn create_workflow(&self, workflow: NewWorkflow) -> Result<Workflow, CatalogError> {
        workflows::create(&mut self.client().await?, &workflow).await
    }

    async fn get_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Workflow, CatalogError> {
        workflows::get(&self.client().await?, tenant_id, workflow_id).await
    }

    async fn get_workflow_by_view_name(
        &self,
        tenant_id: &str,
        view_name: &str,
    ) -> Result<Workflow, CatalogError> {
        workflows::get_by_view_name(&self.client().await?, tenant_id, view_name).await
    }

    async fn list_workflows(&self, tenant_id: &str) -> Result<Vec<Workflow>, CatalogError> {
        workflows::list(&self.client().await?, tenant_id, false).await
    }

    async fn list_published_workflows(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<Workflow>, CatalogError> {
        workflows::list(&self.client().await?, tenant_id, true).await
    }

    async fn list_workflows_page(
        &self,
        tenant_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Workflow>, usize), CatalogError> {
        workflows::list_page(&mut self.client().await?, tenant_id, offset, limit).await
    }

    async fn update_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        update: WorkflowUpdate,
    ) -> Result<Workflow, CatalogError> {
        workflows::update(&mut self.client().await?, tenant_id, workflow_id, &update).await
    }

    async fn rollback_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
        actor: &str,
    ) -> Result<Workflow, CatalogError> {
        workflows::rollback(
            &mut self.client().await?,
            tenant_id,
            workflow_id,
            version,
            actor,
        )
        .await
    }

    async fn set_workflow_published(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        published: bool,
    ) -> Result<Workflow, CatalogError> {
        workflows::set_published(&self.client().await?, tenant_id, workflow_id, published).await
    }

    async fn list_workflow_versions(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>, CatalogError> {
        workflows::list_versions(&self.client().await?, tenant_id, workflow_id).await
    }

    async fn get_workflow_version(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<WorkflowVersion, CatalogError> {
        workflows::get_version(&self.client().await?, tenant_id, workflow_id, version).await
    }

    async fn delete_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<(), CatalogError> {
        delete_owned(
            &self.client().await?,
            TenantTable::Workflows,
            tenant_id,
            workflow_id,
        )
        .await
    }

    async fn create_dashboard(&self, dashboard: NewDashboard) -> Result<Dashboard, CatalogError> {
        dashboards::create_dashboard(&mut self.client().await?, &dashboard).await
    }

    async fn get_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Dashboard, CatalogError> {
        dashboards::get_dashboard(&self.client().await?, tenant_id, dashboard_id).await
    }

    async fn list_dashboards(&self, tenant_id: &str) -> Result<Vec<Dashboard>, CatalogError> {
        dashboards::list_dashboards(&self.client().await?, tenant_id).await
    }

    async fn update_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
        update: DashboardUpdate,
    ) -> Result<Dashboard, CatalogError> {
        dashboards::update_dashboard(&mut self.client().await?, tenant_id, dashboard_id, &update)
            .await
    }

    async fn delete_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<(), CatalogError> {
        delete_owned(
            &self.client().await?,
            TenantTable::Dashboards,
            tenant_id,
            dashboard_id,
        )
        .await
    }

    async fn create_widget(&self, widget: NewWidget) -> Result<Widget, CatalogError> {
        dashboards::create_widget(&mut self.client().await?, &widget).await
    }

    async fn get_widget(&self, tenant_id: &str, widget_id: &str) -> Result<Widget, CatalogError> {
        dashboards::get_widget(&self.client().await?, tenant_id, widget_id).await
    }

    async fn list_widgets(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Vec<Widget>, CatalogError> {
        dashboards::list_widgets(&self.client().await?, tenant_id, dashboard_id).await
    }

    async fn update_widget(
        &self,
        tenant_id: &str,
        widget_id: &str,
        update: WidgetUpdate,
    ) -> Result<Widget, CatalogError> {
        dashboards::update_widget(&mut self.client().await?, tenant_id, widget_id, &update).await
    }

    async fn delete_widget(&self, tenant_id: &str, widget_id: &str) -> Result<(), CatalogError> {
        delete_owned(
            &self.client().await?,
            TenantTable::Widgets,
            tenant_id,
            widget_id,
        )
        .await
    }

    async fn list_templates(&self, tenant_id: &str) -> Result<Vec<Template>, CatalogError> {
        templates::list(&self.client().await?, tenant_id).await
    }

    async fn get_template(
        &self,
        tenant_id: &str,
        template_id: &str,
    ) -> Result<Template, CatalogError> {
        templates::get(&self.client().await?, tenant_id, template_id).await
    }

    async fn create_template(&self, template: NewTemplate) -> Result<Template, CatalogError> {
        templates::create(&mut self.client().await?, &template).await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, CatalogError> {
        audit::append(&mut self.client().await?, &entry).await
    }

    async fn list_audit(
        &self,
        tenant_id: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, CatalogError> {
        audit::list(&self.client().await?, tenant_id, limit).await
    }
}
