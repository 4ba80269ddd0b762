//! The DataFusion catalog an embedded session resolves table names in.
//!
//! The serving tables are fixed: a session can add its own tables and views next to them, but it
//! cannot replace or drop a serving table, so a bare `fct_trades` always means the real data.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::exec_err;
use datafusion::error::Result;

/// A schema holding the serving tables plus whatever a session registers itself.
#[derive(Debug)]
pub(super) struct ServingSchema {
    serving: Vec<(&'static str, Arc<dyn TableProvider>)>,
    session_tables: MemorySchemaProvider,
}

impl ServingSchema {
    /// A schema exposing `serving` under their names, with room for session tables.
    pub(super) fn new(serving: Vec<(&'static str, Arc<dyn TableProvider>)>) -> Self {
        ServingSchema {
            serving,
            session_tables: MemorySchemaProvider::new(),
        }
    }

    fn serving(&self, name: &str) -> Option<&Arc<dyn TableProvider>> {
        self.serving
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
    }
}

#[async_trait]
impl SchemaProvider for ServingSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.serving.iter().map(|(n, _)| n.to_string()).collect();
        let mut own = self.session_tables.table_names();
        own.sort();
        names.extend(own);
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match self.serving(name) {
            Some(provider) => Ok(Some(Arc::clone(provider))),
            None => self.session_tables.table(name).await,
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.serving(&name).is_some() {
            return exec_err!("'{name}' is a serving table and cannot be replaced");
        }
        self.session_tables.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.serving(name).is_some() {
            return exec_err!("'{name}' is a serving table and cannot be dropped");
        }
        self.session_tables.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.serving(name).is_some() || self.session_tables.table_exist(name)
    }
}

/// A catalog with exactly one schema.
#[derive(Debug)]
pub(super) struct SingleSchemaCatalog {
    name: String,
    schema: Arc<dyn SchemaProvider>,
}

impl SingleSchemaCatalog {
    /// A catalog whose only schema is `schema`, named `name`.
    pub(super) fn new(name: String, schema: Arc<dyn SchemaProvider>) -> Self {
        SingleSchemaCatalog { name, schema }
    }
}

impl CatalogProvider for SingleSchemaCatalog {
    fn schema_names(&self) -> Vec<String> {
        vec![self.name.clone()]
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        (name == self.name).then(|| Arc::clone(&self.schema))
    }
}
