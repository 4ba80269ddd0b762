//! A per-session `pg_catalog`: PostgreSQL's system catalogs over this tenant's own objects.
//!
//! psql's meta-commands (`\dn`, `\dt`, `\dv`, `\d name`, `\l`) and many drivers read
//! `pg_catalog` tables and call its functions. Each [`super::TenantSession`] gets a schema
//! `pg_catalog` built only from what that session can see — its workflow views and, for roles
//! that see them, the serving tables — so a tenant never learns another tenant's objects.
//! [`rewrite`] adapts the PostgreSQL-only syntax psql sends before DataFusion plans it.

mod functions;
mod information_schema;
mod keywords;
mod rewrite;
mod rows;
mod table_functions;
mod tables;
#[cfg(test)]
mod tests;
mod types;

pub use tables::PG_TYPE_METADATA;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{TypeSignature, Volatility};
use datafusion::sql::parser::Statement as DFStatement;

use super::{ViewInfo, DATABASE_NAME, DEFAULT_SCHEMA, MARKET_SCHEMA};
use crate::error::EngineError;
use crate::serving_tables::serving_table;

/// The schema name PostgreSQL puts its system catalogs in.
pub const PG_CATALOG_SCHEMA: &str = "pg_catalog";
/// The SQL-standard catalog schema.
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// `pg_catalog`'s namespace oid.
const PG_CATALOG_OID: i64 = 11;
/// Stable namespace oids: PostgreSQL's own for `pg_catalog` and `public`.
const NAMESPACES: &[(i64, &str)] = &[
    (PG_CATALOG_OID, PG_CATALOG_SCHEMA),
    (2200, DEFAULT_SCHEMA),
    (13000, INFORMATION_SCHEMA),
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
/// The first oid given to an `information_schema` view.
const FIRST_INFORMATION_SCHEMA_OID: i64 = 13100;
/// The first `pg_proc` oid.
const PG_PROC_FIRST_OID: i64 = 30000;
/// `pg_class`'s own oid: the `classoid` of relation descriptions.
const PG_CLASS_OID: i64 = 1259;

/// Read-only server settings drivers look up (pgjdbc reads `max_index_keys` before listing
/// foreign keys), with PostgreSQL 16's values: `(name, setting, description)`.
const SERVER_SETTINGS: &[(&str, &str, &str)] = &[
    ("block_size", "8192", "Size of a disk block."),
    ("data_checksums", "off", "Whether data checksums are on."),
    ("lc_collate", "C.UTF-8", "Collation order locale."),
    ("lc_ctype", "C.UTF-8", "Character classification locale."),
    (
        "max_function_args",
        "100",
        "Maximum number of function arguments.",
    ),
    ("max_index_keys", "32", "Maximum number of index keys."),
    (
        "max_connections",
        "100",
        "Maximum number of concurrent connections.",
    ),
    ("segment_size", "131072", "Number of pages per disk file."),
    ("wal_block_size", "8192", "Size of a WAL block."),
];

/// One column of a relation, as catalogs report it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    data_type: DataType,
    /// The PostgreSQL type oid when the Arrow type alone would say otherwise (catalog columns
    /// of type `oid`, `name`, `"char"`, ...).
    pg_type: Option<i64>,
    nullable: bool,
    description: Option<String>,
}

impl Column {
    /// The column's PostgreSQL type oid.
    fn type_oid(&self) -> i64 {
        self.pg_type
            .unwrap_or_else(|| types::type_oid(&self.data_type))
    }

    /// The column's `atttypmod`: `numeric(p,s)` as PostgreSQL packs it, -1 otherwise.
    fn typmod(&self) -> i32 {
        match self.data_type {
            DataType::Decimal32(p, s)
            | DataType::Decimal64(p, s)
            | DataType::Decimal128(p, s)
            | DataType::Decimal256(p, s)
                if s >= 0 && i32::from(s) <= i32::from(p) =>
            {
                ((i32::from(p) << 16) | i32::from(s)) + 4
            }
            _ => -1,
        }
    }
}

/// One relation of the session: a serving table (`relkind 'r'`), a workflow view (`'v'`), or
/// a relation of `pg_catalog` / `information_schema`.
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

impl Relation {
    /// Whether this is one of the tenant's own relations (not a system catalog).
    fn is_user_relation(&self) -> bool {
        self.namespace != PG_CATALOG_SCHEMA && self.namespace != INFORMATION_SCHEMA
    }

    /// A system relation described by its definition.
    fn system(namespace: &'static str, def: &tables::TableDef) -> Relation {
        Relation {
            oid: def.oid,
            name: def.name.to_string(),
            namespace,
            kind: def.kind,
            description: None,
            columns: def
                .columns
                .iter()
                .map(|(name, column_type)| Column {
                    name: name.to_string(),
                    data_type: column_type.data_type(),
                    pg_type: Some(column_type.pg_oid()),
                    nullable: true,
                    description: None,
                })
                .collect(),
            sql: None,
        }
    }
}

/// One function in `pg_proc`.
#[derive(Debug, Clone)]
struct FunctionInfo {
    name: String,
    /// `f` function, `a` aggregate, `w` window function.
    kind: &'static str,
    /// `i` immutable, `s` stable, `v` volatile.
    volatility: &'static str,
    /// Result type oid (`any` when it depends on the arguments).
    returns: i64,
    /// Argument type oids when fixed.
    arguments: Vec<i64>,
    /// `provariadic`: the variadic element type, 0 when not variadic.
    variadic: i64,
}

/// What the catalog tables and functions are computed from.
#[derive(Debug)]
struct CatalogState {
    user: String,
    namespaces: Vec<(i64, &'static str)>,
    relations: Vec<Relation>,
    view_oids: BTreeMap<String, i64>,
    /// `(name, value, description)` of the connection's parameters, for `pg_settings` and
    /// `current_setting`.
    settings: Vec<(String, String, String)>,
    functions: Vec<FunctionInfo>,
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

    /// The `pg_proc` function with this oid.
    fn function(&self, oid: i64) -> Option<&FunctionInfo> {
        let index = usize::try_from(oid.checked_sub(PG_PROC_FIRST_OID)?).ok()?;
        self.functions.get(index)
    }

    /// The oid of function `name` in `pg_proc`.
    fn function_oid(&self, name: &str) -> Option<i64> {
        self.functions
            .iter()
            .position(|f| f.name == name)
            .map(|i| PG_PROC_FIRST_OID + i as i64)
    }

    /// Resolves a (possibly schema-qualified, possibly quoted) relation name as PostgreSQL's
    /// search path would: `pg_catalog` first, then `public`, then the other schemas.
    fn resolve(&self, name: &str) -> Option<i64> {
        let unquote = |s: &str| s.trim().trim_matches('"').to_string();
        let (schema, table) = match name.rsplit_once('.') {
            Some((schema, table)) => (Some(unquote(schema)), unquote(table)),
            None => (None, unquote(name)),
        };
        let search_rank = |r: &&Relation| match r.namespace {
            PG_CATALOG_SCHEMA => 0,
            DEFAULT_SCHEMA => 1,
            _ => 2,
        };
        self.relations
            .iter()
            .filter(|r| r.name == table)
            .filter(|r| match &schema {
                Some(s) => s == r.namespace,
                None => r.namespace == PG_CATALOG_SCHEMA || r.namespace == DEFAULT_SCHEMA,
            })
            .min_by_key(search_rank)
            .map(|r| r.oid)
    }

    fn has_view(&self, name: &str) -> bool {
        self.relations
            .iter()
            .any(|r| r.namespace == DEFAULT_SCHEMA && r.name == name)
    }

    /// The current value of parameter `name` (case-insensitive): the connection's, else a
    /// fixed server setting.
    fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v, _)| v.as_str())
            .or_else(|| {
                SERVER_SETTINGS
                    .iter()
                    .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v, _)| *v)
            })
    }

    /// Every parameter `pg_settings` lists: the connection's and the fixed server settings,
    /// sorted by name.
    fn all_settings(&self) -> Vec<(String, String, String)> {
        let mut all = self.settings.clone();
        for (name, value, description) in SERVER_SETTINGS {
            if !all.iter().any(|(n, _, _)| n.eq_ignore_ascii_case(name)) {
                all.push((name.to_string(), value.to_string(), description.to_string()));
            }
        }
        all.sort_by_key(|(n, _, _)| n.to_lowercase());
        all
    }

    /// A state with the system relations and the given user relations.
    fn new(
        user: &str,
        namespaces: Vec<(i64, &'static str)>,
        user_relations: Vec<Relation>,
    ) -> Self {
        let mut relations: Vec<Relation> = tables::TABLES
            .iter()
            .map(|def| Relation::system(PG_CATALOG_SCHEMA, def))
            .collect();
        relations.extend(
            information_schema::VIEWS
                .iter()
                .map(|def| Relation::system(INFORMATION_SCHEMA, def)),
        );
        relations.extend(user_relations);
        CatalogState {
            user: user.to_string(),
            namespaces,
            relations,
            view_oids: BTreeMap::new(),
            settings: Vec::new(),
            functions: Vec::new(),
        }
    }

    #[cfg(test)]
    fn for_tests() -> Self {
        let mut state = CatalogState::new("tester", NAMESPACES.to_vec(), Vec::new());
        state.functions = io_functions();
        state
    }
}

/// `pg_proc` rows for the I/O functions `pg_type` points at (drivers tell arrays apart by
/// `typreceive = 'array_recv'`).
fn io_functions() -> Vec<FunctionInfo> {
    let prefixes = types::BASE_TYPES
        .iter()
        .chain(types::PSEUDO_TYPES)
        .map(|t| t.io)
        .chain(["array_", "range_", "multirange_"]);
    let mut functions = Vec::new();
    for prefix in prefixes {
        for suffix in ["in", "out", "recv", "send"] {
            functions.push(FunctionInfo {
                name: format!("{prefix}{suffix}"),
                kind: "f",
                volatility: "i",
                returns: match suffix {
                    "out" => 2275,
                    "send" => 17,
                    _ => 2276,
                },
                arguments: Vec::new(),
                variadic: 0,
            });
        }
    }
    functions
}

/// `pg_proc` rows for the SQL functions of the session (DataFusion's built-ins and
/// FlowForge's own), so `\dfS` and drivers' function listings see what SQL can call.
fn sql_functions(ctx: &SessionContext) -> Vec<FunctionInfo> {
    let state = ctx.state();
    let volatility = |v: Volatility| match v {
        Volatility::Immutable => "i",
        Volatility::Stable => "s",
        Volatility::Volatile => "v",
    };
    let variadic = |signature: &TypeSignature| {
        matches!(
            signature,
            TypeSignature::Variadic(_) | TypeSignature::VariadicAny | TypeSignature::UserDefined
        )
    };
    let function =
        |name: &str, kind: &'static str, signature: &datafusion::logical_expr::Signature| {
            FunctionInfo {
                name: name.to_string(),
                kind,
                volatility: volatility(signature.volatility),
                returns: 2276,
                arguments: Vec::new(),
                variadic: if variadic(&signature.type_signature) {
                    2276
                } else {
                    0
                },
            }
        };
    let mut functions: Vec<FunctionInfo> = Vec::new();
    for (name, udf) in state.scalar_functions() {
        functions.push(function(name, "f", udf.signature()));
    }
    for (name, udaf) in state.aggregate_functions() {
        functions.push(function(name, "a", udaf.signature()));
    }
    for (name, udwf) in state.window_functions() {
        functions.push(function(name, "w", udwf.signature()));
    }
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    functions
}

/// A session's `pg_catalog` and `information_schema`: the schemas, the state behind them, and
/// the SQL rewrite for them.
#[derive(Debug)]
pub(crate) struct PgCatalog {
    pg_catalog: Arc<MemorySchemaProvider>,
    information_schema: Arc<MemorySchemaProvider>,
    state: Arc<RwLock<CatalogState>>,
}

impl PgCatalog {
    /// Creates schemas `pg_catalog` and `information_schema` in the session's catalog with
    /// `market` (serving table name and schema; empty for roles that do not see schema
    /// `market`) and registers the catalog functions.
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
                description: serving_table(name).map(|t| t.description.to_string()),
                columns: schema
                    .fields()
                    .iter()
                    .map(|f| Column {
                        name: f.name().clone(),
                        data_type: f.data_type().clone(),
                        pg_type: None,
                        nullable: f.is_nullable(),
                        description: None,
                    })
                    .collect(),
                sql: None,
            })
            .collect();
        let mut state = CatalogState::new(user, namespaces, relations);
        let catalog = ctx.catalog(DATABASE_NAME).ok_or_else(|| {
            EngineError::Plan(format!("session has no '{DATABASE_NAME}' database"))
        })?;
        let pg_catalog = Arc::new(MemorySchemaProvider::new());
        catalog.register_schema(PG_CATALOG_SCHEMA, Arc::clone(&pg_catalog) as _)?;
        let information_schema = Arc::new(MemorySchemaProvider::new());
        catalog.register_schema(INFORMATION_SCHEMA, Arc::clone(&information_schema) as _)?;
        let state_handle = Arc::new(RwLock::new(CatalogState::new(user, Vec::new(), Vec::new())));
        for function in functions::catalog_functions(&state_handle) {
            ctx.register_udf(function);
        }
        ctx.register_udtf("pg_get_keywords", Arc::new(table_functions::GetKeywords));
        ctx.register_udtf("_pg_expandarray", Arc::new(table_functions::ExpandArray));
        let mut all_functions = io_functions();
        all_functions.extend(sql_functions(ctx));
        state.functions = all_functions;
        *state_handle
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = state;
        let pg_catalog = PgCatalog {
            pg_catalog,
            information_schema,
            state: state_handle,
        };
        pg_catalog.refresh()?;
        Ok(pg_catalog)
    }

    /// Replaces the catalog's view rows with `views` (the session's complete set of views).
    pub(crate) fn sync_views<'a>(
        &self,
        views: impl IntoIterator<Item = &'a ViewInfo>,
    ) -> Result<(), EngineError> {
        {
            let mut state = self.write();
            state
                .relations
                .retain(|r| !(r.namespace == DEFAULT_SCHEMA && r.kind == "v"));
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
                            pg_type: None,
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

    /// Replaces the connection parameters `pg_settings` and `current_setting` report with
    /// `settings` (`(name, value, description)`).
    pub(crate) fn sync_settings(
        &self,
        settings: Vec<(String, String, String)>,
    ) -> Result<(), EngineError> {
        self.write().settings = settings;
        let state = self.read();
        self.register(&self.pg_catalog, "pg_settings", &state)
    }

    /// Rewrites PostgreSQL-only catalog syntax in `statement` (see [`rewrite`]).
    pub(crate) fn rewrite(&self, statement: &mut DFStatement) {
        let state = self.read();
        rewrite::rewrite_statement(statement, &|name| {
            tables::is_catalog_table(name) && !state.has_view(name)
        });
    }

    /// The Arrow schema of catalog relation `schema.name` (`pg_catalog` or
    /// `information_schema`), for typing results of catalog queries that cannot be planned.
    pub(crate) fn relation_schema(schema: Option<&str>, name: &str) -> Option<SchemaRef> {
        let name = name.to_lowercase();
        match schema.map(str::to_lowercase).as_deref() {
            Some(PG_CATALOG_SCHEMA) => tables::table_def(&name).map(|d| d.schema()),
            Some(INFORMATION_SCHEMA) => information_schema::view_def(&name).map(|d| d.schema()),
            None => tables::table_def(&name).map(|d| d.schema()),
            Some(_) => None,
        }
    }

    /// The type of a catalog column called `column` in any catalog relation, for typing
    /// results of catalog queries that cannot be planned.
    pub(crate) fn column_field_by_name(
        column: &str,
    ) -> Option<datafusion::arrow::datatypes::Field> {
        let column = column.to_lowercase();
        tables::TABLES
            .iter()
            .chain(information_schema::VIEWS)
            .flat_map(|d| d.columns.iter())
            .find(|(name, _)| *name == column)
            .map(|(name, t)| t.field(name))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, CatalogState> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, CatalogState> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn register(
        &self,
        schema: &MemorySchemaProvider,
        name: &str,
        state: &CatalogState,
    ) -> Result<(), EngineError> {
        let batch = match tables::table_def(name) {
            Some(def) if std::ptr::eq(schema, self.pg_catalog.as_ref()) => {
                rows::build(def, rows::rows(name, state))?
            }
            _ => match information_schema::view_def(name) {
                Some(def) => rows::build(def, information_schema::rows(name, state))?,
                None => return Ok(()),
            },
        };
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
        schema.deregister_table(name)?;
        schema.register_table(name.to_string(), Arc::new(table))?;
        Ok(())
    }

    /// Re-registers every catalog relation from the current state.
    fn refresh(&self) -> Result<(), EngineError> {
        let state = self.read();
        for def in tables::TABLES {
            self.register(&self.pg_catalog, def.name, &state)?;
        }
        for def in information_schema::VIEWS {
            self.register(&self.information_schema, def.name, &state)?;
        }
        Ok(())
    }
}
