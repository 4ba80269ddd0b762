//! The embedded SQLite catalog store: one connection in WAL mode with foreign keys on, schema
//! managed by refinery migrations, blocking calls moved off the async runtime with
//! `spawn_blocking`.

mod accounts;
mod audit;
mod columns;
mod dashboards;
mod serving;
mod templates;
mod workflows;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rusqlite::Connection;

use columns::{delete_owned, TenantTable};

use crate::{
    ApiKey, ApiKeyCredentials, AuditEntry, CatalogError, CatalogStore, CreatedApiKey, Dashboard,
    DashboardUpdate, NewApiKey, NewAuditEntry, NewDashboard, NewTemplate, NewUser, NewWidget,
    NewWorkflow, Role, ServingTable, Template, Tenant, User, UserCredentials, Widget, WidgetUpdate,
    Workflow, WorkflowUpdate, WorkflowVersion,
};

/// How long a writer waits for another process (e.g. `flowforge seed` beside a running server)
/// to release the database before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Catalog store backed by a SQLite file (or memory, for tests and throwaway demos).
///
/// Clones share one connection. Its async methods run SQLite on Tokio's blocking pool, so they
/// must be called from within a Tokio runtime.
#[derive(Clone)]
pub struct SqliteCatalog {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SqliteCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCatalog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteCatalog {
    /// Opens (creating if needed) the catalog database at `path` and migrates it to the current
    /// schema. The parent folder is created if missing.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CatalogError::Storage(format!(
                    "cannot create catalog folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(|e| {
            CatalogError::Storage(format!("cannot open catalog {}: {e}", path.display()))
        })?;
        Self::prepare(conn, Some(path.to_path_buf()))
    }

    /// Opens a private in-memory catalog, migrated and empty.
    pub fn open_in_memory() -> Result<Self, CatalogError> {
        let conn = Connection::open_in_memory().map_err(columns::db_err)?;
        Self::prepare(conn, None)
    }

    /// The database file, or `None` for an in-memory catalog.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn prepare(mut conn: Connection, path: Option<PathBuf>) -> Result<Self, CatalogError> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(columns::db_err)?;
        // journal_mode answers with a row; in-memory databases stay in "memory" mode.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(columns::db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(columns::db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(columns::db_err)?;
        let report = crate::schema::migrations::runner()
            .run(&mut conn)
            .map_err(|e| CatalogError::Migration(e.to_string()))?;
        for migration in report.applied_migrations() {
            tracing::info!(
                version = migration.version(),
                name = migration.name(),
                "applied catalog migration"
            );
        }
        Ok(SqliteCatalog {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Runs `f` on the connection in the blocking thread pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, CatalogError>
    where
        F: FnOnce(&mut Connection) -> Result<T, CatalogError> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-applied change behind: every
            // write runs in a transaction that rolls back when dropped. So the connection is
            // still usable after poisoning.
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| CatalogError::Storage(format!("catalog worker failed: {e}")))?
    }

    /// Runs CPU-heavy `prepare` (password hashing) in the blocking pool *before* taking the
    /// connection, then `f` with its result, so hashing never holds the database lock.
    async fn with_prepared<P, T, PF, F>(&self, prepare: PF, f: F) -> Result<T, CatalogError>
    where
        PF: FnOnce() -> Result<P, CatalogError> + Send + 'static,
        P: Send + 'static,
        F: FnOnce(&mut Connection, P) -> Result<T, CatalogError> + Send + 'static,
        T: Send + 'static,
    {
        let prepared = tokio::task::spawn_blocking(prepare)
            .await
            .map_err(|e| CatalogError::Storage(format!("catalog worker failed: {e}")))??;
        self.with_conn(move |conn| f(conn, prepared)).await
    }
}

#[async_trait]
impl CatalogStore for SqliteCatalog {
    async fn create_tenant(&self, slug: &str, name: &str) -> Result<Tenant, CatalogError> {
        let (slug, name) = (slug.to_string(), name.to_string());
        self.with_conn(move |c| accounts::create_tenant(c, &slug, &name))
            .await
    }

    async fn get_tenant(&self, tenant_id: &str) -> Result<Tenant, CatalogError> {
        let id = tenant_id.to_string();
        self.with_conn(move |c| accounts::get_tenant(c, &id)).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Tenant, CatalogError> {
        let slug = slug.to_string();
        self.with_conn(move |c| accounts::get_tenant_by_slug(c, &slug))
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, CatalogError> {
        self.with_conn(|c| accounts::list_tenants(c)).await
    }

    async fn set_entitlements(
        &self,
        tenant_id: &str,
        symbols: &[String],
    ) -> Result<Vec<String>, CatalogError> {
        let (id, symbols) = (tenant_id.to_string(), symbols.to_vec());
        self.with_conn(move |c| accounts::set_entitlements(c, &id, &symbols))
            .await
    }

    async fn list_entitlements(&self, tenant_id: &str) -> Result<Vec<String>, CatalogError> {
        let id = tenant_id.to_string();
        self.with_conn(move |c| accounts::list_entitlements(c, &id))
            .await
    }

    async fn create_user(&self, user: NewUser) -> Result<User, CatalogError> {
        let (email, password) = (user.email.clone(), user.password.clone());
        self.with_prepared(
            move || {
                // Reject a malformed email before spending time on hashing.
                crate::validate::email(&email)?;
                crate::PasswordHashes::derive(&password)
            },
            move |c, hashes| accounts::create_user(c, &user, &hashes),
        )
        .await
    }

    async fn get_user(&self, tenant_id: &str, user_id: &str) -> Result<User, CatalogError> {
        let (t, u) = (tenant_id.to_string(), user_id.to_string());
        self.with_conn(move |c| accounts::get_user(c, &t, &u)).await
    }

    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| accounts::list_users(c, &t)).await
    }

    async fn user_credentials_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserCredentials>, CatalogError> {
        let email = email.to_string();
        self.with_conn(move |c| accounts::user_credentials_by_email(c, &email))
            .await
    }

    async fn set_user_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password: &str,
    ) -> Result<(), CatalogError> {
        let (t, u, password) = (
            tenant_id.to_string(),
            user_id.to_string(),
            password.to_string(),
        );
        self.with_prepared(
            move || crate::PasswordHashes::derive(&password),
            move |c, hashes| accounts::set_user_password(c, &t, &u, &hashes),
        )
        .await
    }

    async fn set_user_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<User, CatalogError> {
        let (t, u) = (tenant_id.to_string(), user_id.to_string());
        self.with_conn(move |c| accounts::set_user_role(c, &t, &u, role))
            .await
    }

    async fn delete_user(&self, tenant_id: &str, user_id: &str) -> Result<(), CatalogError> {
        let (t, u) = (tenant_id.to_string(), user_id.to_string());
        self.with_conn(move |c| accounts::delete_user(c, &t, &u))
            .await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<CreatedApiKey, CatalogError> {
        self.with_prepared(crate::GeneratedKeyMaterial::generate, move |c, material| {
            accounts::create_api_key(c, &key, material)
        })
        .await
    }

    async fn get_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError> {
        let (t, k) = (tenant_id.to_string(), key_id.to_string());
        self.with_conn(move |c| accounts::get_api_key(c, &t, &k))
            .await
    }

    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| accounts::list_api_keys(c, &t))
            .await
    }

    async fn revoke_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError> {
        let (t, k) = (tenant_id.to_string(), key_id.to_string());
        self.with_conn(move |c| accounts::revoke_api_key(c, &t, &k))
            .await
    }

    async fn active_api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>, CatalogError> {
        if !crate::api_key::looks_like_secret(secret) {
            return Ok(None);
        }
        let digest = crate::api_key::secret_sha256(secret);
        self.with_conn(move |c| accounts::active_api_key_by_digest(c, &digest))
            .await
    }

    async fn active_api_key_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<ApiKeyCredentials>, CatalogError> {
        if !crate::api_key::looks_like_public_id(public_id) {
            return Ok(None);
        }
        let public_id = public_id.to_string();
        self.with_conn(move |c| accounts::active_api_key_by_public_id(c, &public_id))
            .await
    }

    async fn list_serving_tables(&self) -> Result<Vec<ServingTable>, CatalogError> {
        self.with_conn(|c| serving::list(c)).await
    }

    async fn get_serving_table(&self, name: &str) -> Result<ServingTable, CatalogError> {
        let name = name.to_string();
        self.with_conn(move |c| serving::get(c, &name)).await
    }

    async fn upsert_serving_table(
        &self,
        table: ServingTable,
    ) -> Result<ServingTable, CatalogError> {
        self.with_conn(move |c| serving::upsert(c, &table)).await
    }

    async fn set_serving_table_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<ServingTable, CatalogError> {
        let name = name.to_string();
        self.with_conn(move |c| serving::set_enabled(c, &name, enabled))
            .await
    }

    async fn create_workflow(&self, workflow: NewWorkflow) -> Result<Workflow, CatalogError> {
        self.with_conn(move |c| workflows::create(c, &workflow))
            .await
    }

    async fn get_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Workflow, CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| workflows::get(c, &t, &w)).await
    }

    async fn get_workflow_by_view_name(
        &self,
        tenant_id: &str,
        view_name: &str,
    ) -> Result<Workflow, CatalogError> {
        let (t, v) = (tenant_id.to_string(), view_name.to_string());
        self.with_conn(move |c| workflows::get_by_view_name(c, &t, &v))
            .await
    }

    async fn list_workflows(&self, tenant_id: &str) -> Result<Vec<Workflow>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| workflows::list(c, &t, false)).await
    }

    async fn list_published_workflows(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<Workflow>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| workflows::list(c, &t, true)).await
    }

    async fn list_workflows_page(
        &self,
        tenant_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Workflow>, usize), CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| workflows::list_page(c, &t, offset, limit))
            .await
    }

    async fn update_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        update: WorkflowUpdate,
    ) -> Result<Workflow, CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| workflows::update(c, &t, &w, &update))
            .await
    }

    async fn rollback_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
        actor: &str,
    ) -> Result<Workflow, CatalogError> {
        let (t, w, a) = (
            tenant_id.to_string(),
            workflow_id.to_string(),
            actor.to_string(),
        );
        self.with_conn(move |c| workflows::rollback(c, &t, &w, version, &a))
            .await
    }

    async fn set_workflow_published(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        published: bool,
    ) -> Result<Workflow, CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| workflows::set_published(c, &t, &w, published))
            .await
    }

    async fn list_workflow_versions(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>, CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| workflows::list_versions(c, &t, &w))
            .await
    }

    async fn get_workflow_version(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<WorkflowVersion, CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| workflows::get_version(c, &t, &w, version))
            .await
    }

    async fn delete_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<(), CatalogError> {
        let (t, w) = (tenant_id.to_string(), workflow_id.to_string());
        self.with_conn(move |c| delete_owned(c, TenantTable::Workflows, &t, &w))
            .await
    }

    async fn create_dashboard(&self, dashboard: NewDashboard) -> Result<Dashboard, CatalogError> {
        self.with_conn(move |c| dashboards::create_dashboard(c, &dashboard))
            .await
    }

    async fn get_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Dashboard, CatalogError> {
        let (t, d) = (tenant_id.to_string(), dashboard_id.to_string());
        self.with_conn(move |c| dashboards::get_dashboard(c, &t, &d))
            .await
    }

    async fn list_dashboards(&self, tenant_id: &str) -> Result<Vec<Dashboard>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| dashboards::list_dashboards(c, &t))
            .await
    }

    async fn update_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
        update: DashboardUpdate,
    ) -> Result<Dashboard, CatalogError> {
        let (t, d) = (tenant_id.to_string(), dashboard_id.to_string());
        self.with_conn(move |c| dashboards::update_dashboard(c, &t, &d, &update))
            .await
    }

    async fn delete_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<(), CatalogError> {
        let (t, d) = (tenant_id.to_string(), dashboard_id.to_string());
        self.with_conn(move |c| delete_owned(c, TenantTable::Dashboards, &t, &d))
            .await
    }

    async fn create_widget(&self, widget: NewWidget) -> Result<Widget, CatalogError> {
        self.with_conn(move |c| dashboards::create_widget(c, &widget))
            .await
    }

    async fn get_widget(&self, tenant_id: &str, widget_id: &str) -> Result<Widget, CatalogError> {
        let (t, w) = (tenant_id.to_string(), widget_id.to_string());
        self.with_conn(move |c| dashboards::get_widget(c, &t, &w))
            .await
    }

    async fn list_widgets(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Vec<Widget>, CatalogError> {
        let (t, d) = (tenant_id.to_string(), dashboard_id.to_string());
        self.with_conn(move |c| dashboards::list_widgets(c, &t, &d))
            .await
    }

    async fn update_widget(
        &self,
        tenant_id: &str,
        widget_id: &str,
        update: WidgetUpdate,
    ) -> Result<Widget, CatalogError> {
        let (t, w) = (tenant_id.to_string(), widget_id.to_string());
        self.with_conn(move |c| dashboards::update_widget(c, &t, &w, &update))
            .await
    }

    async fn delete_widget(&self, tenant_id: &str, widget_id: &str) -> Result<(), CatalogError> {
        let (t, w) = (tenant_id.to_string(), widget_id.to_string());
        self.with_conn(move |c| delete_owned(c, TenantTable::Widgets, &t, &w))
            .await
    }

    async fn list_templates(&self, tenant_id: &str) -> Result<Vec<Template>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| templates::list(c, &t)).await
    }

    async fn get_template(
        &self,
        tenant_id: &str,
        template_id: &str,
    ) -> Result<Template, CatalogError> {
        let (t, id) = (tenant_id.to_string(), template_id.to_string());
        self.with_conn(move |c| templates::get(c, &t, &id)).await
    }

    async fn create_template(&self, template: NewTemplate) -> Result<Template, CatalogError> {
        self.with_conn(move |c| templates::create(c, &template))
            .await
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, CatalogError> {
        self.with_conn(move |c| audit::append(c, &entry)).await
    }

    async fn list_audit(
        &self,
        tenant_id: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, CatalogError> {
        let t = tenant_id.to_string();
        self.with_conn(move |c| audit::list(c, &t, limit)).await
    }
}
