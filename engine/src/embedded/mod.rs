//! The embedded DataFusion backend: the serving tables read lazily from local Parquet files.
//!
//! [`EmbeddedData::open`] checks that every serving table has its file with exactly the schema of
//! [`serving_tables`](crate::serving_tables), then exposes one [`ListingTable`] per table, so the
//! planner sees the authoritative types and nullability and DataFusion reads only the row groups
//! and columns a query needs. [`collect`] runs a compiled plan in-process.

mod catalog;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{CatalogProviderList, MemoryCatalogProviderList, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use url::Url;

use crate::error::EngineError;
use crate::sample_data::table_file;
use crate::serving_tables::serving_tables;
use catalog::{ServingSchema, SingleSchemaCatalog};

/// The serving tables of one data folder, ready to be queried by DataFusion.
#[derive(Debug, Clone)]
pub struct EmbeddedData {
    data_dir: PathBuf,
    tables: Vec<(&'static str, Arc<dyn TableProvider>)>,
}

impl EmbeddedData {
    /// Opens the Parquet files of every serving table in `data_dir`.
    ///
    /// Fails, naming the table and the file, when a file is missing, unreadable or has a schema
    /// other than the serving table's. Only the files' footers are read here.
    pub fn open(data_dir: &Path) -> Result<Self, EngineError> {
        let mut tables = Vec::new();
        for table in serving_tables() {
            let path = table_file(data_dir, table.name);
            check_file(&path, table.name, &table.schema)?;
            tables.push((table.name, listing_table(&path, table.schema)?));
        }
        Ok(EmbeddedData {
            data_dir: data_dir.to_path_buf(),
            tables,
        })
    }

    /// The folder the files were opened from.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The provider of serving table `table`, for planners that resolve names themselves.
    pub fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>> {
        self.tables
            .iter()
            .find(|(name, _)| *name == table)
            .map(|(_, p)| Arc::clone(p))
    }

    /// The names of the tables, in serving-table order.
    pub fn tables(&self) -> Vec<&str> {
        self.tables.iter().map(|(name, _)| *name).collect()
    }

    /// A fresh session in which every serving table is registered under its bare name.
    ///
    /// `information_schema` is enabled. The session may register its own tables and views, but
    /// cannot replace or drop a serving table.
    pub fn session(&self) -> SessionContext {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_create_default_catalog_and_schema(false);
        let catalog_name = config.options().catalog.default_catalog.clone();
        let schema_name = config.options().catalog.default_schema.clone();
        let schema = Arc::new(ServingSchema::new(self.tables.clone()));
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(
            catalog_name,
            Arc::new(SingleSchemaCatalog::new(schema_name, schema)),
        );
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_catalog_list(Arc::new(catalogs))
            .build();
        SessionContext::new_with_state(state)
    }
}

/// Executes `plan` in `ctx` and gathers every result batch.
pub async fn collect(
    ctx: &SessionContext,
    plan: LogicalPlan,
) -> Result<Vec<RecordBatch>, EngineError> {
    let frame = ctx.execute_logical_plan(plan).await?;
    Ok(frame.collect().await?)
}

/// Checks that `path` exists and holds a Parquet file whose columns are exactly `expected`.
fn check_file(path: &Path, table: &str, expected: &Schema) -> Result<(), EngineError> {
    if !path.is_file() {
        return Err(EngineError::SampleData(format!(
            "serving table '{table}' has no data file at {}; generate the sample data first",
            path.display()
        )));
    }
    let unreadable = |reason: String| {
        EngineError::SampleData(format!(
            "the data file of serving table '{table}' ({}) cannot be read: {reason}",
            path.display()
        ))
    };
    let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| unreadable(e.to_string()))?;
    let found = describe(metadata.schema());
    let wanted = describe(expected);
    if found != wanted {
        return Err(EngineError::SampleData(format!(
            "the data file of serving table '{table}' ({}) has columns [{}] but the table needs \
             [{}]; generate the sample data again",
            path.display(),
            found.join(", "),
            wanted.join(", ")
        )));
    }
    Ok(())
}

/// `name type [NOT NULL]` for every column, the parts of a schema a query depends on.
fn describe(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let null = if f.is_nullable() { "" } else { " NOT NULL" };
            format!("{} {}{null}", f.name(), f.data_type())
        })
        .collect()
}

/// A lazily read table over the single Parquet file at `path`, with the serving `schema`.
fn listing_table(path: &Path, schema: SchemaRef) -> Result<Arc<dyn TableProvider>, EngineError> {
    let absolute = std::path::absolute(path)?;
    // Built from the path, not parsed from a string, so folder names with `*` or `[` are not
    // mistaken for glob patterns.
    let url = Url::from_file_path(&absolute).map_err(|()| {
        EngineError::SampleData(format!(
            "{} cannot be expressed as a file URL",
            absolute.display()
        ))
    })?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new(ListingTableUrl::try_new(url, None)?)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

#[cfg(test)]
mod tests;

impl crate::tables::ServingData for EmbeddedData {
    fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>> {
        EmbeddedData::provider(self, table)
    }

    fn name(&self) -> &str {
        "embedded"
    }
}
