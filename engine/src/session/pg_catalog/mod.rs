//! A per-session `pg_catalog`: PostgreSQL's system catalogs over this tenant's own objects.
//!
//! psql's meta-commands (`\dn`, `\dt`, `\dv`, `\d name`, `\l`) and many drivers read
//! `pg_catalog` tables and call its functions. Each [`super::TenantSession`] gets a schema
//! `pg_catalog` built only from what that session can see — its workflow views and, for roles
//! that see them, the serving tables — so a tenant never learns another tenant's objects.
//! [`rewrite`] adapts the PostgreSQL-only syntax psql sends before DataFusion plans it.

mod functions;
mod rewrite;
mod tables;
#[cfg(test)]
mod tests;
mod types;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{CatalogProvider, MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;

use super::{ViewInfo, DATABASE_NAME, DEFAULT_SCHEMA, MARKET_SCHEMA};
use crate::error::EngineError;

/// The schema name PostgreSQL puts its system catalogs in.
pub const PG_CATALOG_SCHEMA: &str = "pg_catalog";

/// Stable namespace oids: PostgreSQL's own for `pg_catalog` and `public`.
const NAMESPACES: &[(i64, &str)] = &[
    (11, PG_CATALOG_SCHEMA),
    (2200, DEFAULT_SCHEMA),
    (13000, "information_schema"),
    (16384, MARKET_SCHEMA),
];
/// The oid of the session user's role (PostgreSQL's bootstrap superuser oid).
const USER_OID: i64 = 10;
/// The oid of database `flowforge`.
const DATABASE_OID: i64 = 16383;
/// The first oid given to a serving table; views follow from [`FIRST_VIEW_OID`].
const FIRST_TABLE_OID: i64 = 16385;
/// The first oid given to a workflow view.
const FIRST_VIEW_OID: i64 = 20000;
/// `pg_class`'s own oid: the `classoid` of relation descriptions.
const PG_CLASS_OID: i64 = 1259;

/// One column of a relation, as catalogs report it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    data_type: DataType,
    nullable: bool,
    description: Option<String>,
}

/// One relation of the session: a serving table (`relkind 'r'`) or a workflow view (`'v'`).
#[derive(Debug, Clone)]
struct Relation {
    oid: i64,
    name: String,
    namespace: &'static str,
    kind: &'static str,
    description: Option<String>,
    columns: Vec<Column>,
    sql: Option<String>,
}

/// What the catalog tables and functions are computed from.
#[derive(Debug)]
struct CatalogState {
    user: String,
    namespaces: Vec<(i64, &'static str)>,
    relations: Vec<Relation>,
    view_oids: BTreeMap<String, i64>,
}

impl CatalogState {
    fn namespace_oid(&self, name: &str) -> Option<i64> {
        self.namespaces
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(oid, _)| *oid)
    }

    fn relation(&self, oid: i64) -> Option<&Relation> {
        self.relations.iter().find(|r| r.oid == oid)
    }

    /// Resolves a (possibly schema-qualified, possibly quoted) relation name as PostgreSQL's
    /// search path would: `public` first, then the other schemas this session sees.
    fn resolve(&self, name: &str) -> Option<i64> {
        let unquote = |s: &str| s.trim().trim_matches('"').to_string();
        let (schema, table) = match name.rsplit_once('.') {
            Some((schema, table)) => (Some(unquote(schema)), unquote(table)),
            None => (None, unquote(name)),
        };
        let matches =
            |r: &&Relation| r.name == table && schema.as_deref().is_none_or(|s| s == r.namespace);
        self.relations
            .iter()
            .filter(matches)
            .min_by_key(|r| r.namespace != DEFAULT_SCHEMA)
            .map(|r| r.oid)
    }

    fn has_view(&self, name: &str) -> bool {
        self.relations
            .iter()
            .any(|r| r.namespace == DEFAULT_SCHEMA && r.name == name)
    }
}

/// The session's database with `pg_catalog` resolvable by name but not listed, so
/// `information_schema` keeps describing only the tenant's own schemas (PostgreSQL would
/// list the system tables there too; FlowForge's information_schema predates pg_catalog).
#[derive(Debug)]
struct UnlistedCatalog {
    inner: Arc<dyn CatalogProvider>,
}

impl CatalogProvider for UnlistedCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.inner.schema_names();
        names.retain(|n| n != PG_CATALOG_SCHEMA);
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        self.inner.schema(name)
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> datafusion::error::Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }

    fn deregister_schema(
        &self,
        name: &str,
        cascade: bool,
    ) -> datafusion::error::Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.deregister_schema(name, cascade)
    }
}

/// A session's `pg_catalog`: the schema, the state behind it, and the SQL rewrite for it.
#[derive(Debug)]
pub(crate) struct PgCatalog {
    schema: Arc<MemorySchemaProvider>,
    state: Arc<RwLock<CatalogState>>,
}

impl PgCatalog {
    /// Creates schema `pg_catalog` in the session's catalog with `market` (serving table name
    /// and schema; empty for roles that do not see schema `market`) and registers its functions.
    pub(crate) fn install(
        ctx: &SessionContext,
        user: &str,
        market: &[(String, SchemaRef)],
    ) -> Result<Self, EngineError> {
        let mut namespaces: Vec<(i64, &'static str)> = NAMESPACES.to_vec();
        if market.is_empty() {
            namespaces.retain(|(_, n)| *n != MARKET_SCHEMA);
        }
        let relations = market
            .iter()
            .zip(FIRST_TABLE_OID..)
            .map(|((name, schema), oid)| Relation {
                oid,
                name: name.clone(),
                namespace: MARKET_SCHEMA,
                kind: "r",
                description: None,
                columns: schema
                    .fields()
                    .iter()
                    .map(|f| Column {
                        name: f.name().clone(),
                        data_type: f.data_type().clone(),
                        nullable: f.is_nullable(),
                        description: None,
                    })
                    .collect(),
                sql: None,
            })
            .collect();
        let state = Arc::new(RwLock::new(CatalogState {
            user: user.to_string(),
            namespaces,
            relations,
            view_oids: BTreeMap::new(),
        }));
        let catalog = ctx.catalog(DATABASE_NAME).ok_or_else(|| {
            EngineError::Plan(format!("session has no '{DATABASE_NAME}' database"))
        })?;
        let schema = Arc::new(MemorySchemaProvider::new());
        catalog.register_schema(PG_CATALOG_SCHEMA, Arc::clone(&schema) as _)?;
        ctx.register_catalog(DATABASE_NAME, Arc::new(UnlistedCatalog { inner: catalog }));
        for function in functions::catalog_functions(&state) {
            ctx.register_udf(function);
        }
        let pg_catalog = PgCatalog { schema, state };
        pg_catalog.refresh()?;
        Ok(pg_catalog)
    }

    /// Replaces the catalog's view rows with `views` (the session's complete set of views).
    pub(crate) fn sync_views<'a>(
        &self,
        views: impl IntoIterator<Item = &'a ViewInfo>,
    ) -> Result<(), EngineError> {
        {
            let mut state = self
                .state
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.relations.retain(|r| r.kind != "v");
            for view in views {
                let next = FIRST_VIEW_OID + state.view_oids.len() as i64;
                let oid = *state.view_oids.entry(view.name.clone()).or_insert(next);
                state.relations.push(Relation {
                    oid,
                    name: view.name.clone(),
                    namespace: DEFAULT_SCHEMA,
                    kind: "v",
                    description: view.description.clone(),
                    columns: view
                        .columns
                        .iter()
                        .map(|c| Column {
                            name: c.name.clone(),
                            data_type: c.data_type.clone(),
                            nullable: c.nullable,
                            description: c.description.clone(),
                        })
                        .collect(),
                    sql: view.sql.clone(),
                });
            }
        }
        self.refresh()
    }

    /// Rewrites PostgreSQL-only catalog syntax in `statement` (see [`rewrite`]).
    pub(crate) fn rewrite(&self, statement: &mut DFStatement) {
        let state = self
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        rewrite::rewrite_statement(statement, &|name| {
            tables::is_catalog_table(name) && !state.has_view(name)
        });
    }

    /// Re-registers every catalog table from the current state.
    fn refresh(&self) -> Result<(), EngineError> {
        let state = self
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (name, batch) in tables::catalog_tables(&state)? {
            let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
            self.schema.deregister_table(name)?;
            self.schema
                .register_table(name.to_string(), Arc::new(table))?;
        }
        Ok(())
    }
}
