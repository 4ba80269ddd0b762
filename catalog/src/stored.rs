//! Encodings every store shares, so a row reads the same whichever database holds it: fresh ids
//! and JSON documents as text. Timestamps have their own module, [`crate::timestamp`].

use serde_json::Value;

use crate::CatalogError;

/// A fresh random UUID string for a new row.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Serialises a JSON document for storage.
pub(crate) fn json_text(value: &Value) -> Result<String, CatalogError> {
    serde_json::to_string(value)
        .map_err(|e| CatalogError::InvalidInput(format!("cannot serialise JSON: {e}")))
}

/// Parses a stored JSON document.
pub(crate) fn json_value(text: &str) -> Result<Value, CatalogError> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::Storage(format!("stored JSON is invalid: {e}")))
}

/// A table whose rows belong to one tenant and are addressed by `(tenant_id, id)`: each store
/// deletes them the same way, answering "not found" for another tenant's id.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TenantTable {
    /// `workflows` (versions go with them).
    Workflows,
    /// `dashboards` (widgets go with them).
    Dashboards,
    /// `widgets`.
    Widgets,
}

impl TenantTable {
    /// The statement deleting one row, with `$1`-style placeholders for the tenant and id.
    pub(crate) fn delete_sql(self) -> &'static str {
        match self {
            TenantTable::Workflows => "DELETE FROM workflows WHERE tenant_id = $1 AND id = $2",
            TenantTable::Dashboards => "DELETE FROM dashboards WHERE tenant_id = $1 AND id = $2",
            TenantTable::Widgets => "DELETE FROM widgets WHERE tenant_id = $1 AND id = $2",
        }
    }

    /// The error for an id that names no row of the tenant.
    pub(crate) fn not_found(self, id: &str) -> CatalogError {
        let kind = match self {
            TenantTable::Workflows => "workflow",
            TenantTable::Dashboards => "dashboard",
            TenantTable::Widgets => "widget",
        };
        CatalogError::not_found(kind, id)
    }
}
