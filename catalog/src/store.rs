//! The storage-agnostic catalog interface. HTTP, pgwire and the binary depend only on this
//! trait, so the SQLite store and the PostgreSQL store are interchangeable and share one
//! behavioural test suite.
//!
//! Every tenant-owned lookup takes the caller's tenant id; a row of another tenant is reported
//! as [`CatalogError::NotFound`], exactly like a row that does not exist.

use async_trait::async_trait;

use crate::{
    ApiKey, ApiKeyCredentials, AuditEntry, CatalogError, CreatedApiKey, Dashboard, DashboardUpdate,
    NewApiKey, NewAuditEntry, NewDashboard, NewTemplate, NewUser, NewWidget, NewWorkflow, Role,
    ServingTable, Template, Tenant, User, UserCredentials, Widget, WidgetUpdate, Workflow,
    WorkflowUpdate, WorkflowVersion,
};

/// All catalog operations. Implementations must be cheap to share (`Arc<dyn CatalogStore>`).
#[async_trait]
pub trait CatalogStore: Send + Sync + 'static {
    // ---- tenants and entitlements ----

    /// Creates a tenant. The slug is lowercased; a taken slug is a [`CatalogError::Conflict`].
    async fn create_tenant(&self, slug: &str, name: &str) -> Result<Tenant, CatalogError>;
    /// Looks a tenant up by id.
    async fn get_tenant(&self, tenant_id: &str) -> Result<Tenant, CatalogError>;
    /// Looks a tenant up by slug.
    async fn get_tenant_by_slug(&self, slug: &str) -> Result<Tenant, CatalogError>;
    /// All tenants, ordered by slug.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, CatalogError>;
    /// Replaces the set of symbols the tenant may see (symbols are uppercased, duplicates
    /// ignored) and returns the new set, sorted.
    async fn set_entitlements(
        &self,
        tenant_id: &str,
        symbols: &[String],
    ) -> Result<Vec<String>, CatalogError>;
    /// The symbols the tenant may see, sorted.
    async fn list_entitlements(&self, tenant_id: &str) -> Result<Vec<String>, CatalogError>;

    // ---- users ----

    /// Creates a user, storing only one-way forms of the password. A taken email (in any
    /// tenant) is a [`CatalogError::Conflict`].
    async fn create_user(&self, user: NewUser) -> Result<User, CatalogError>;
    /// Looks a user of the tenant up by id.
    async fn get_user(&self, tenant_id: &str, user_id: &str) -> Result<User, CatalogError>;
    /// The tenant's users, ordered by email.
    async fn list_users(&self, tenant_id: &str) -> Result<Vec<User>, CatalogError>;
    /// The user with this email (any tenant) and their stored password forms, for login.
    /// `Ok(None)` when no such user exists.
    async fn user_credentials_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UserCredentials>, CatalogError>;
    /// Replaces a user's password (both stored forms).
    async fn set_user_password(
        &self,
        tenant_id: &str,
        user_id: &str,
        password: &str,
    ) -> Result<(), CatalogError>;
    /// Changes a user's role.
    async fn set_user_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<User, CatalogError>;
    /// Deletes a user. Workflows and keys they created stay.
    async fn delete_user(&self, tenant_id: &str, user_id: &str) -> Result<(), CatalogError>;

    // ---- API keys ----

    /// Creates a key; the returned secret is never available again.
    async fn create_api_key(&self, key: NewApiKey) -> Result<CreatedApiKey, CatalogError>;
    /// Looks a key of the tenant up by id (revoked keys included).
    async fn get_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError>;
    /// The tenant's keys, newest first (revoked keys included).
    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, CatalogError>;
    /// Revokes a key (idempotent: revoking twice keeps the first revocation time).
    async fn revoke_api_key(&self, tenant_id: &str, key_id: &str) -> Result<ApiKey, CatalogError>;
    /// The active (not revoked) key whose secret this is, if any.
    async fn active_api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>, CatalogError>;
    /// The active key with this public id (`key_...`) and its SCRAM verifier, for pgwire.
    async fn active_api_key_by_public_id(
        &self,
        public_id: &str,
    ) -> Result<Option<ApiKeyCredentials>, CatalogError>;

    // ---- serving tables ----

    /// All registered serving tables, ordered by name.
    async fn list_serving_tables(&self) -> Result<Vec<ServingTable>, CatalogError>;
    /// One serving table by name.
    async fn get_serving_table(&self, name: &str) -> Result<ServingTable, CatalogError>;
    /// Registers a serving table or replaces its registration.
    async fn upsert_serving_table(&self, table: ServingTable)
        -> Result<ServingTable, CatalogError>;
    /// Enables or disables a serving table.
    async fn set_serving_table_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> Result<ServingTable, CatalogError>;

    // ---- workflows ----

    /// Creates a workflow at version 1, unpublished. Its view name (derived from the name
    /// unless given) must be unique in the tenant and must not shadow a serving table.
    async fn create_workflow(&self, workflow: NewWorkflow) -> Result<Workflow, CatalogError>;
    /// Looks a workflow of the tenant up by id.
    async fn get_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Workflow, CatalogError>;
    /// Looks a workflow of the tenant up by view name.
    async fn get_workflow_by_view_name(
        &self,
        tenant_id: &str,
        view_name: &str,
    ) -> Result<Workflow, CatalogError>;
    /// The tenant's workflows, ordered by name.
    async fn list_workflows(&self, tenant_id: &str) -> Result<Vec<Workflow>, CatalogError>;
    /// One page of the tenant's workflows, ordered by name then id, skipping `offset` and
    /// returning at most `limit` (capped at [`crate::MAX_WORKFLOW_PAGE`]), together with the
    /// tenant's total number of workflows.
    async fn list_workflows_page(
        &self,
        tenant_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Workflow>, usize), CatalogError>;
    /// The tenant's published workflows (the views SQL clients see), ordered by view name.
    async fn list_published_workflows(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<Workflow>, CatalogError>;
    /// Applies an update and records it as a new version.
    async fn update_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        update: WorkflowUpdate,
    ) -> Result<Workflow, CatalogError>;
    /// Records a new version whose definition equals `version`'s.
    async fn rollback_workflow(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
        actor: &str,
    ) -> Result<Workflow, CatalogError>;
    /// Publishes (`true`) or unpublishes (`false`) a workflow. Does not create a version.
    async fn set_workflow_published(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        published: bool,
    ) -> Result<Workflow, CatalogError>;
    /// All versions of a workflow, oldest first.
    async fn list_workflow_versions(
        &self,
        tenant_id: &str,
        workflow_id: &str,
    ) -> Result<Vec<WorkflowVersion>, CatalogError>;
    /// One version of a workflow.
    async fn get_workflow_version(
        &self,
        tenant_id: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<WorkflowVersion, CatalogError>;
    /// Deletes a workflow and all its versions. Widgets showing it stay (they report that
    /// their source workflow is gone).
    async fn delete_workflow(&self, tenant_id: &str, workflow_id: &str)
        -> Result<(), CatalogError>;

    // ---- dashboards and widgets ----

    /// Creates a dashboard.
    async fn create_dashboard(&self, dashboard: NewDashboard) -> Result<Dashboard, CatalogError>;
    /// Looks a dashboard of the tenant up by id.
    async fn get_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Dashboard, CatalogError>;
    /// The tenant's dashboards, ordered by name then id.
    async fn list_dashboards(&self, tenant_id: &str) -> Result<Vec<Dashboard>, CatalogError>;
    /// Applies an update; an update that sets nothing returns the dashboard unchanged.
    async fn update_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
        update: DashboardUpdate,
    ) -> Result<Dashboard, CatalogError>;
    /// Deletes a dashboard and its widgets.
    async fn delete_dashboard(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<(), CatalogError>;
    /// Pins a workflow output to a dashboard. The dashboard and the workflow must both be the
    /// tenant's (otherwise [`CatalogError::NotFound`] names the missing one).
    async fn create_widget(&self, widget: NewWidget) -> Result<Widget, CatalogError>;
    /// Looks a widget of the tenant up by id.
    async fn get_widget(&self, tenant_id: &str, widget_id: &str) -> Result<Widget, CatalogError>;
    /// The widgets of one of the tenant's dashboards, in grid order (top to bottom, left to
    /// right, then oldest first).
    async fn list_widgets(
        &self,
        tenant_id: &str,
        dashboard_id: &str,
    ) -> Result<Vec<Widget>, CatalogError>;
    /// Applies an update; an update that sets nothing returns the widget unchanged.
    async fn update_widget(
        &self,
        tenant_id: &str,
        widget_id: &str,
        update: WidgetUpdate,
    ) -> Result<Widget, CatalogError>;
    /// Removes a widget from its dashboard.
    async fn delete_widget(&self, tenant_id: &str, widget_id: &str) -> Result<(), CatalogError>;

    // ---- templates ----

    /// The built-in templates and the tenant's own, ordered by category, name, then id.
    async fn list_templates(&self, tenant_id: &str) -> Result<Vec<Template>, CatalogError>;
    /// A built-in template or one of the tenant's own.
    async fn get_template(
        &self,
        tenant_id: &str,
        template_id: &str,
    ) -> Result<Template, CatalogError>;
    /// Creates a template (built-in when it has no tenant).
    async fn create_template(&self, template: NewTemplate) -> Result<Template, CatalogError>;

    // ---- audit log ----

    /// Appends an entry; the store assigns its id and time.
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, CatalogError>;
    /// The tenant's most recent entries, newest first, at most `limit` (capped at
    /// [`crate::MAX_AUDIT_PAGE`]).
    async fn list_audit(
        &self,
        tenant_id: &str,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, CatalogError>;
}
