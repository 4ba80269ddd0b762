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
