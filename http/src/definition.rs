//! Workflow definitions through the engine: every definition the API stores is read by the
//! engine's workflow model and compiled against the serving tables the catalog has enabled, so
//! a saved workflow always compiles and problems come back per node and field (422).

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::logical_expr::TableSource;
use flowforge_catalog::CatalogStore;
use flowforge_engine::compile;
use flowforge_engine::tables::{ServingSchemas, TableResolver};
use flowforge_engine::workflow::Workflow;
use flowforge_engine::{EngineError, WorkflowIssue};
use serde_json::Value;

use crate::problem::ApiError;

/// Resolves the serving tables the catalog's registry has enabled to schema-only sources.
/// Entitlements filter rows, not columns, so the result is the same for every tenant.
#[derive(Debug, Clone)]
pub struct RegistryTables {
    enabled: BTreeSet<String>,
}

impl RegistryTables {
    /// The enabled tables of the catalog's registry.
    pub async fn load(catalog: &dyn CatalogStore) -> Result<Self, ApiError> {
        let enabled = catalog
            .list_serving_tables()
            .await?
            .into_iter()
            .filter(|t| t.enabled)
            .map(|t| t.name)
            .collect();
        Ok(RegistryTables { enabled })
    }
}

impl TableResolver for RegistryTables {
    fn resolve(&self, table: &str) -> Option<Arc<dyn TableSource>> {
        if self.enabled.contains(table) {
            ServingSchemas.resolve(table)
        } else {
            None
        }
    }

    fn table_names(&self) -> Vec<String> {
        ServingSchemas
            .table_names()
            .into_iter()
            .filter(|t| self.enabled.contains(t))
            .collect()
    }
}

/// Reads a definition with the engine (422 listing each issue when it cannot be read, or
/// when it has no nodes at all).
pub fn parse(definition: Value) -> Result<Workflow, ApiError> {
    let workflow = Workflow::from_value(definition)?;
    if workflow.nodes.is_empty() {
        return Err(
            EngineError::invalid(WorkflowIssue::workflow("the workflow has no nodes")).into(),
        );
    }
    Ok(workflow)
}

/// Reads and compiles a definition; returns the model and its normalized JSON, which is what
/// the catalog stores.
pub async fn validated(
    catalog: &dyn CatalogStore,
    definition: Value,
) -> Result<(Workflow, Value), ApiError> {
    let workflow = parse(definition)?;
    let tables = RegistryTables::load(catalog).await?;
    compile::validate(&workflow, &tables)?;
    let normalized = workflow.to_value();
    Ok((workflow, normalized))
}
