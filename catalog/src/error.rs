//! The catalog's error type, shared by every store implementation so callers (HTTP, pgwire) can
//! map failures to status codes and SQLSTATEs without knowing which database backs the catalog.

/// Everything that can go wrong in a catalog operation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// The requested row does not exist, or belongs to another tenant (the two are
    /// deliberately indistinguishable so tenants cannot probe each other's ids).
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What was looked up, e.g. `workflow`.
        kind: &'static str,
        /// The id, slug or name that was looked up.
        id: String,
    },
    /// The change would violate a uniqueness rule or a concurrent-edit check.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller supplied a value the catalog refuses to store.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Login failed. Unknown user, wrong password and revoked key all give this same error.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The underlying database failed or returned data the catalog cannot read.
    #[error("catalog storage error: {0}")]
    Storage(String),
    /// The schema could not be brought up to date.
    #[error("catalog migration failed: {0}")]
    Migration(String),
}

impl CatalogError {
    /// Shorthand for a [`CatalogError::NotFound`] with an owned id.
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        CatalogError::NotFound {
            kind,
            id: id.into(),
        }
    }
}
