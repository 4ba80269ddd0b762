//! Workflow templates: ready-made workflow definitions a user starts a new workflow from.
//! Built-in templates (no tenant) are seen by every tenant; a tenant's own templates only by
//! that tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{validate, CatalogError};

/// A template as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// UUID.
    pub id: String,
    /// Owning tenant; `None` for a built-in template every tenant sees.
    pub tenant_id: Option<String>,
    /// Display name; unique among the built-ins and within a tenant.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Gallery section, e.g. `aggregation` or `charts`.
    pub category: String,
    /// The workflow definition (nodes and edges) a new workflow starts with.
    pub definition: Value,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Input for creating a template.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    /// Owning tenant (must exist); `None` creates a built-in template every tenant sees, which
    /// only the product's own seeding should do.
    pub tenant_id: Option<String>,
    /// Display name; a name already used in the same scope is a [`CatalogError::Conflict`].
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Gallery section.
    pub category: String,
    /// The workflow definition: a JSON object.
    pub definition: Value,
}

impl NewTemplate {
    /// The template input with every field trimmed and checked, ready to store.
    pub(crate) fn validated(&self) -> Result<NewTemplate, CatalogError> {
        if !self.definition.is_object() {
            return Err(CatalogError::InvalidInput(
                "template definition must be a JSON object".into(),
            ));
        }
        Ok(NewTemplate {
            tenant_id: self.tenant_id.clone(),
            name: validate::display_name("template name", &self.name)?,
            description: validate::description("template description", &self.description)?,
            category: validate::display_name("template category", &self.category)?,
            definition: self.definition.clone(),
        })
    }
}
