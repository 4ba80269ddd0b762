//! How the compiler finds tables.
//!
//! Compiling a workflow needs a [`TableSource`] for each Data Source node. Who supplies it decides
//! what the plan can touch: a tenant session hands out sources that are already filtered to the
//! tenant's entitlements, the CLI hands out raw Parquet tables, and the canvas's schema checks use
//! schema-only sources. The compiler only sees this trait.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{LogicalTableSource, TableSource};

use crate::serving_tables::serving_table;

/// Where the serving tables' rows come from: local Parquet ([`crate::embedded::EmbeddedData`])
/// or a backend ([`crate::remote::RemoteData`]). Sessions wrap each raw provider in the tenant's
/// entitlement filter.
pub trait ServingData: Send + Sync {
    /// The raw provider of serving table `table`, `None` when this source does not hold it.
    fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>>;

    /// A short name for logs and health checks (`embedded`, `clickhouse`).
    fn name(&self) -> &str;
}

/// Supplies the table a Data Source node reads.
pub trait TableResolver: Send + Sync {
    /// The source for `table`, or `None` when the table does not exist for this caller.
    fn resolve(&self, table: &str) -> Option<Arc<dyn TableSource>>;

    /// Names of the tables this caller may read, for error messages and pickers.
    fn table_names(&self) -> Vec<String>;
}

/// Resolves serving tables to schema-only sources: enough to validate and compile, not to run.
#[derive(Debug, Default, Clone, Copy)]
pub struct ServingSchemas;

impl TableResolver for ServingSchemas {
    fn resolve(&self, table: &str) -> Option<Arc<dyn TableSource>> {
        serving_table(table).map(|t| Arc::new(LogicalTableSource::new(t.schema)) as _)
    }

    fn table_names(&self) -> Vec<String> {
        crate::serving_tables::serving_tables()
            .iter()
            .map(|t| t.name.to_string())
            .collect()
    }
}

/// Resolves names to real providers, for executing plans.
#[derive(Default, Clone)]
pub struct ProviderResolver {
    providers: Vec<(String, Arc<dyn TableProvider>)>,
}

impl ProviderResolver {
    /// A resolver over these named providers.
    pub fn new(providers: Vec<(String, Arc<dyn TableProvider>)>) -> Self {
        ProviderResolver { providers }
    }
}

impl TableResolver for ProviderResolver {
    fn resolve(&self, table: &str) -> Option<Arc<dyn TableSource>> {
        self.providers
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, provider)| provider_as_source(Arc::clone(provider)))
    }

    fn table_names(&self) -> Vec<String> {
        self.providers
            .iter()
            .map(|(name, _)| name.clone())
            .collect()
    }
}
