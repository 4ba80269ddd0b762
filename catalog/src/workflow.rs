//! Workflows and their version history. The catalog stores a workflow's definition as opaque
//! JSON; compiling it into a query plan is the engine's job.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Largest number of workflows one page of [`crate::CatalogStore::list_workflows_page`] holds.
pub const MAX_WORKFLOW_PAGE: usize = 1000;

/// A workflow as it is now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workflow {
    /// UUID.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// SQL identifier the published workflow is queried by; unique within the tenant.
    pub view_name: String,
    /// Free-text description.
    pub description: String,
    /// The workflow graph (nodes and edges) as the canvas saved it.
    pub definition: Value,
    /// Number of the latest version; versions count up from 1.
    pub current_version: u32,
    /// Whether the workflow is exposed as a view to SQL clients and dashboards.
    pub published: bool,
    /// User (or key) id that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed (including publish/unpublish).
    pub updated_at: DateTime<Utc>,
}

/// Input for creating a workflow; it starts unpublished at version 1.
#[derive(Debug, Clone)]
pub struct NewWorkflow {
    /// Owning tenant (must exist).
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Explicit view name; when `None` it is derived from `name`.
    pub view_name: Option<String>,
    /// Free-text description.
    pub description: String,
    /// The workflow graph.
    pub definition: Value,
    /// Who is creating it.
    pub created_by: String,
}

/// A change to a workflow. Fields left `None` keep their value; every accepted update records a
/// new version. The view name never changes unless set here, so renaming a workflow does not
/// break SQL that queries it.
#[derive(Debug, Clone, Default)]
pub struct WorkflowUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New view name.
    pub view_name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New definition.
    pub definition: Option<Value>,
    /// Who is making the change.
    pub updated_by: String,
    /// Version note, e.g. "added VWAP column".
    pub note: Option<String>,
    /// If set, the update is refused with a conflict unless the workflow is still at this
    /// version (protects against two editors overwriting each other).
    pub expected_version: Option<u32>,
}

impl WorkflowUpdate {
    /// Whether the update changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.view_name.is_none()
            && self.description.is_none()
            && self.definition.is_none()
    }
}

/// A snapshot of a workflow's definition at one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowVersion {
    /// The workflow.
    pub workflow_id: String,
    /// Version number, from 1.
    pub version: u32,
    /// Definition at that version.
    pub definition: Value,
    /// Who created the version.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Why (free text; rollbacks say which version they restored).
    pub note: String,
}
