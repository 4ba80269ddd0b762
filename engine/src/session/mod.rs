//! Tenant sessions: SQL over ACL-filtered market tables and the tenant's published workflow views.
//!
//! Each SQL connection gets a [`TenantSession`]: a DataFusion [`SessionContext`] whose catalog is
//! exactly what the tenant may see. Database `flowforge` holds schema `public` (the tenant's
//! workflow views; the default schema, as PostgreSQL's `search_path`) and, for analysts and admins,
//! schema `market` (the serving tables, each filtered to the tenant's entitled symbols). Raw
//! providers are never registered; see [`acl`] for the two layers that keep market data scoped.
//! [`TenantSession::plan_sql`] admits only read statements and answers in PostgreSQL's terms
//! (column names, error kinds, `EXPLAIN`, `version()`), so the pgwire proxy can relay it directly.

pub mod acl;
mod array_literals;
mod catalog_fallback;
mod duplicate_names;
mod explain;
mod functions;
mod naming;
mod order_by_subqueries;
mod pg_catalog;
mod pg_types;
mod rollups;
mod statement;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, ParamValues, ScalarValue, SchemaError, TableReference};
use datafusion::config::Dialect;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::{provider_as_source, ViewTable};
use datafusion::execution::context::{SessionConfig, SessionContext, SessionState};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::expr::Placeholder;
use datafusion::logical_expr::{
    lit, Expr, LogicalPlan, LogicalPlanBuilder, Projection, TableSource,
};
use datafusion::optimizer::Analyzer;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast;

use crate::error::EngineError;
use crate::result_cache::ResultCache;
use crate::serving_tables::serving_tables;
use crate::tables::TableResolver;

pub use acl::{AclViolation, EntitledTable, SYMBOL_COLUMN};
pub use explain::EXPLAIN_COLUMN;
pub use functions::{version_string, DATABASE_NAME, DEFAULT_SCHEMA, PG_SERVER_VERSION};
pub use naming::UNNAMED_COLUMN;
pub use pg_catalog::PG_TYPE_METADATA;

use acl::{has_symbol_column, AclGuard};
use statement::Classified;

/// The schema that holds the serving tables (`market.fct_trades`).
pub const MARKET_SCHEMA: &str = "market";

/// What a user may do within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Manages the tenant; reads everything the tenant is entitled to.
    Admin,
    /// Builds workflows; reads market tables directly and the tenant's views.
    Analyst,
    /// Reads published views only; market tables are not even visible by name.
    Viewer,
}

impl Role {
    /// Whether SQL from this role may name the serving tables (schema `market`).
    pub fn sees_market_schema(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }
}

/// The logged-in user and tenant a session serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Tenant id (stable key in the catalog).
    pub id: String,
    /// Tenant slug (human-readable key).
    pub slug: String,
    /// The user's role in the tenant.
    pub role: Role,
    /// The login name, returned by `current_user`.
    pub user: String,
    /// Symbols whose market data the tenant may read; empty means none.
    pub entitlements: Vec<String>,
}

/// A published workflow output, to be registered as a view in schema `public`.
#[derive(Debug, Clone)]
pub struct ViewDef {
    /// View name, as SQL clients write it.
    pub name: String,
    /// The view's plan, compiled against [`TenantSession::table_resolver`].
    pub plan: LogicalPlan,
    /// Description shown in catalogs.
    pub description: Option<String>,
    /// `(column, description)` pairs shown in catalogs.
    pub column_descriptions: Vec<(String, String)>,
    /// SQL text of the view, when there is one, for `pg_views`-style catalogs.
    pub sql: Option<String>,
}

/// One column of a registered view, for catalogs.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewColumn {
    /// Column name.
    pub name: String,
    /// Arrow type of the column.
    pub data_type: DataType,
    /// Whether it may hold nulls.
    pub nullable: bool,
    /// Description from the view definition.
    pub description: Option<String>,
}

/// What catalogs need to know about a registered view.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewInfo {
    /// View name.
    pub name: String,
    /// View description.
    pub description: Option<String>,
    /// Columns in order.
    pub columns: Vec<ViewColumn>,
    /// SQL text of the view, if known.
    pub sql: Option<String>,
}

/// The outcome of planning one SQL statement.
#[derive(Debug, Clone)]
pub enum Planned {
    /// A query to execute, with PostgreSQL's names for its output columns (which may repeat,
    /// e.g. `SELECT count(*), count(*)`, in which case the plan keeps DataFusion's unique names).
    Query {
        /// The planned query (not yet analyzed or optimized).
        plan: LogicalPlan,
        /// Output column names as PostgreSQL would report them.
        output_names: Vec<String>,
    },
    /// `EXPLAIN`: one output row per line under a single text column, [`EXPLAIN_COLUMN`].
    Explain {
        /// The lines of the explanation.
        lines: Vec<String>,
    },
    /// The statement was empty (only whitespace, comments or semicolons).
    Empty,
}

impl Planned {
    /// The statement as a query plan with output names, for callers that treat every result
    /// alike; `EXPLAIN` becomes a one-column `VALUES` plan. `None` for an empty statement.
    pub fn into_query(self) -> Result<Option<(LogicalPlan, Vec<String>)>, EngineError> {
        match self {
            Planned::Query { plan, output_names } => Ok(Some((plan, output_names))),
            Planned::Explain { lines } => {
                let rows: Vec<Vec<Expr>> = lines.into_iter().map(|l| vec![lit(l)]).collect();
                if rows.is_empty() {
                    return Err(EngineError::Plan("EXPLAIN produced no output".into()));
                }
                let values = LogicalPlanBuilder::values(rows)?.build()?;
                let columns = values.schema().columns();
                let plan = LogicalPlanBuilder::from(values)
                    .project(
                        columns
                            .into_iter()
                            .map(|c| Expr::Column(c).alias(EXPLAIN_COLUMN)),
                    )?
                    .build()?;
                Ok(Some((plan, vec![EXPLAIN_COLUMN.to_string()])))
            }
            Planned::Empty => Ok(None),
        }
    }
}

/// Resolves serving-table names to a session's ACL'd tables, for compiling workflows.
#[derive(Debug)]
struct SessionTables {
    tables: Vec<(String, Arc<dyn TableProvider>)>,
}

impl TableResolver for SessionTables {
    fn resolve(&self, table: &str) -> Option<Arc<dyn TableSource>> {
        self.tables
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, provider)| provider_as_source(Arc::clone(provider)))
    }

    fn table_names(&self) -> Vec<String> {
        self.tables.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// One tenant's SQL session: what it can see, how SQL is admitted, planned and run.
pub struct TenantSession {
    tenant: Tenant,
    ctx: SessionContext,
    guard: Arc<AclGuard>,
    tables: Arc<SessionTables>,
    public: Arc<dyn SchemaProvider>,
    views: RwLock<BTreeMap<String, ViewInfo>>,
    pg_catalog: pg_catalog::PgCatalog,
    /// Some serving table lives on a backend: queries may be pushed down whole.
    has_remote_tables: bool,
    /// Results shared across sessions, when the server keeps them.
    result_cache: Option<Arc<ResultCache>>,
}

impl std::fmt::Debug for TenantSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantSession")
            .field("tenant", &self.tenant)
            .field("tables", &self.tables.table_names())
            .finish_non_exhaustive()
    }
}

impl TenantSession {
    /// A session for `tenant` over the serving tables `raw_tables` supplies (by serving-table
    /// name; tables it does not know are simply absent). Symbol-scoped tables are wrapped in the
    /// tenant's entitlement filter; the raw providers are never registered.
    pub fn new(
        tenant: Tenant,
        raw_tables: &dyn Fn(&str) -> Option<Arc<dyn TableProvider>>,
    ) -> Result<Self, EngineError> {
        let entitlements: BTreeSet<String> = tenant
            .entitlements
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut tables: Vec<(String, Arc<dyn TableProvider>)> = Vec::new();
        let mut guarded = Vec::new();
        let mut has_remote_tables = false;
        let mut raw_trades: Option<Arc<dyn TableProvider>> = None;
        for def in serving_tables() {
            let Some(raw) = raw_tables(def.name) else {
                continue;
            };
            has_remote_tables |= raw.downcast_ref::<crate::remote::RemoteTable>().is_some();
            if def.name == "fct_trades" {
                raw_trades = Some(Arc::clone(&raw));
            }
            if def.symbol_scoped || has_symbol_column(&raw.schema()) {
                let entitled = EntitledTable::new(def.name, raw, &entitlements)?;
                guarded.push(entitled.guarded());
                tables.push((def.name.to_string(), Arc::new(entitled)));
            } else {
                tables.push((def.name.to_string(), raw));
            }
        }
        let guard = Arc::new(AclGuard::new(guarded));
        let table = |name: &str| {
            tables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, p)| Arc::clone(p))
        };
        let rollups = match (raw_trades, table("agg_ohlcv_1h"), table("agg_ohlcv_1d")) {
            (Some(trades), Some(hourly), Some(daily)) => {
                Some(Arc::new(rollups::RollupRule::new(trades, hourly, daily)))
            }
            _ => None,
        };
        let ctx = tenant_context(&guard, rollups)?;
        for function in functions::session_functions(&tenant.user) {
            ctx.register_udf(function);
        }

        let catalog = ctx.catalog(DATABASE_NAME).ok_or_else(|| {
            EngineError::Plan(format!("session has no '{DATABASE_NAME}' database"))
        })?;
        let public = catalog.schema(DEFAULT_SCHEMA).ok_or_else(|| {
            EngineError::Plan(format!("session has no '{DEFAULT_SCHEMA}' schema"))
        })?;
        if tenant.role.sees_market_schema() {
            let market = Arc::new(MemorySchemaProvider::new());
            for (name, provider) in &tables {
                market.register_table(name.clone(), Arc::clone(provider))?;
            }
            catalog.register_schema(MARKET_SCHEMA, market)?;
        }
        let visible_tables: Vec<_> = if tenant.role.sees_market_schema() {
            tables
                .iter()
                .map(|(n, p)| (n.clone(), p.schema()))
                .collect()
        } else {
            Vec::new()
        };
        let pg_catalog = pg_catalog::PgCatalog::install(&ctx, &tenant.user, &visible_tables)?;
        Ok(TenantSession {
            tenant,
            ctx,
            guard,
            tables: Arc::new(SessionTables { tables }),
            public,
            views: RwLock::new(BTreeMap::new()),
            pg_catalog,
            has_remote_tables,
            result_cache: None,
        })
    }

    /// The tenant and user this session serves.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// Resolves serving-table names to this session's ACL'd tables, whatever the role, so
    /// workflows compiled for this tenant read market data only through the entitlement filter.
    pub fn table_resolver(&self) -> Arc<dyn TableResolver> {
        Arc::clone(&self.tables) as Arc<dyn TableResolver>
    }

    /// The DataFusion context, for catalog queries by the wire layer. It holds only this
    /// tenant's objects and carries the ACL analyzer rule, but `SessionContext::sql` does not
    /// apply read-only admission: client SQL must go through [`Self::plan_sql`].
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Publishes (or re-publishes) a workflow output as view `public.<name>`.
    ///
    /// The plan must have been compiled with [`Self::table_resolver`]; a plan that reads market
    /// data any other way is refused here (and would be refused again at query time).
    pub fn register_view(&self, view: ViewDef) -> Result<(), EngineError> {
        let invalid = |reason: String| EngineError::InvalidView {
            name: view.name.clone(),
            reason,
        };
        if view.name.trim().is_empty() {
            return Err(invalid("the name is empty".into()));
        }
        if let Some(kind) = write_node(&view.plan) {
            return Err(invalid(format!("a view must be a query, not {kind}")));
        }
        if !parameter_types(&view.plan).is_empty() {
            return Err(invalid("a view cannot have parameters ($1, ...)".into()));
        }
        self.guard.check(&view.plan)?;
        let schema = view.plan.schema();
        let mut seen = BTreeSet::new();
        for field in schema.fields() {
            if !seen.insert(field.name().as_str()) {
                return Err(invalid(format!(
                    "column \"{}\" appears more than once",
                    field.name()
                )));
            }
        }
        for (column, _) in &view.column_descriptions {
            if !seen.contains(column.as_str()) {
                return Err(invalid(format!(
                    "description for unknown column \"{column}\""
                )));
            }
        }
        let columns = schema
            .fields()
            .iter()
            .map(|field| ViewColumn {
                name: field.name().clone(),
                data_type: field.data_type().clone(),
                nullable: field.is_nullable(),
                description: view
                    .column_descriptions
                    .iter()
                    .find(|(c, _)| c == field.name())
                    .map(|(_, d)| d.clone()),
            })
            .collect();
        let info = ViewInfo {
            name: view.name.clone(),
            description: view.description.clone(),
            columns,
            sql: view.sql.clone(),
        };
        let table = Arc::new(ViewTable::new(view.plan, view.sql));
        let mut views = self
            .views
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.public.deregister_table(&view.name)?;
        self.public.register_table(view.name.clone(), table)?;
        views.insert(view.name, info);
        self.pg_catalog.sync_views(views.values())
    }

    /// Removes view `public.<name>`; returns whether it existed.
    pub fn deregister_view(&self, name: &str) -> Result<bool, EngineError> {
        let mut views = self
            .views
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.public.deregister_table(name)?;
        let existed = views.remove(name).is_some();
        self.pg_catalog.sync_views(views.values())?;
        Ok(existed)
    }

    /// The registered views, by name, for catalogs (`pg_class`, `information_schema`, HTTP).
    pub fn views(&self) -> Vec<ViewInfo> {
        let views = self
            .views
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        views.values().cloned().collect()
    }

    /// Parses one statement, refuses anything that is not a read, and plans it.
    ///
    /// `param_types` declares the types of `$1, $2, ...` (a client's Parse message); missing
    /// entries or [`DataType::Null`] mean "infer from context". Errors carry PostgreSQL's kinds:
    /// [`EngineError::ReadOnly`], [`EngineError::Syntax`], [`EngineError::UnknownRelation`], ...
    pub async fn plan_sql(
        &self,
        sql: &str,
        param_types: &[DataType],
    ) -> Result<Planned, EngineError> {
        match statement::parse_and_classify(sql)? {
            Classified::Empty => Ok(Planned::Empty),
            Classified::Query(statement) => {
                let (plan, output_names) = self.plan_query(statement, param_types).await?;
                Ok(Planned::Query { plan, output_names })
            }
            Classified::Explain { verbose, statement } => {
                let (plan, _) = self.plan_query(statement, param_types).await?;
                let state = self.ctx.state();
                let lines = explain::explain_lines(&state, &plan, verbose)
                    .await
                    .map_err(|e| match e {
                        EngineError::DataFusion(e) => planning_error(e),
                        other => other,
                    })?;
                Ok(Planned::Explain { lines })
            }
        }
    }

    /// Runs a planned (and, if it has parameters, bound) query as a stream of record batches.
    /// Dropping the stream cancels the query.
    pub async fn execute(
        &self,
        plan: LogicalPlan,
    ) -> Result<SendableRecordBatchStream, EngineError> {
        if let Some(kind) = write_node(&plan) {
            return Err(EngineError::ReadOnly { statement: kind });
        }
        let unbound: Vec<Option<DataType>> = parameter_types(&plan);
        if !unbound.is_empty() {
            return Err(EngineError::InvalidParameter(format!(
                "the statement has {} parameter(s) that are not bound",
                unbound.len()
            )));
        }
        let state = self.ctx.state();
        if self.has_remote_tables {
            let analyzed = state
                .analyzer()
                .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
                .map_err(planning_error)?;
            if let Some((backend, sql)) = crate::remote::pushdown_sql(&analyzed) {
                tracing::debug!(backend = backend.name(), %sql, "whole query pushed down");
                let schema = Arc::new(analyzed.schema().as_arrow().clone());
                if let Some(cache) = self.cacheable(&analyzed) {
                    let key = format!("{}\n{}", self.tenant.id, analyzed.display_indent_schema());
                    let run = async {
                        match backend.start(sql.clone(), Arc::clone(&schema)).await? {
                            crate::remote::Started::Running(stream) => Ok(stream),
                            crate::remote::Started::Rejected(reason) => Err(EngineError::Backend {
                                backend: backend.name().to_string(),
                                message: reason,
                                unreachable: false,
                            }),
                        }
                    };
                    match cache.get_or_run(key, run).await {
                        Ok(Some(stream)) => return Ok(stream),
                        // Too large to keep: run it uncached below.
                        Ok(None) => {}
                        Err(error) => {
                            tracing::debug!(%error, "cached run failed; running uncached")
                        }
                    }
                }
                match backend.start(sql.clone(), schema).await? {
                    crate::remote::Started::Running(stream) => return Ok(stream),
                    // The backend refused FlowForge's SQL: plan locally, scan by scan.
                    crate::remote::Started::Rejected(reason) => tracing::warn!(
                        backend = backend.name(),
                        %reason,
                        %sql,
                        "backend rejected the pushed-down query; running it locally"
                    ),
                }
            } else {
                return execute_spanning_backends(&state, analyzed).await;
            }
        }
        DataFrame::new(state, plan)
            .execute_stream()
            .await
            .map_err(execution_error)
    }

    /// Shares results of this session's queries through `cache` (see [`ResultCache`]).
    pub fn with_result_cache(mut self, cache: Arc<ResultCache>) -> Self {
        self.result_cache = Some(cache);
        self
    }

    /// The result cache, when `plan` may use it: it reads no live table.
    fn cacheable(&self, plan: &LogicalPlan) -> Option<&Arc<ResultCache>> {
        let cache = self.result_cache.as_ref()?;
        let mut live = false;
        let _ = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                // Live views and latest-value lookups must never be answered from the past.
                live |= crate::serving_tables::serving_table(scan.table_name.table()).is_some_and(
                    |t| {
                        matches!(
                            t.freshness,
                            crate::serving_tables::Freshness::Live
                                | crate::serving_tables::Freshness::PointLookup
                        )
                    },
                );
            }
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        });
        (!live).then_some(cache)
    }

    async fn plan_query(
        &self,
        mut statement: DFStatement,
        param_types: &[DataType],
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        array_literals::rewrite_array_literals(&mut statement);
        // Output names and catalog types come from the statement as written.
        let written = statement.clone();
        self.pg_catalog.rewrite(&mut statement);
        order_by_subqueries::rewrite(&mut statement);
        let state = self.ctx.state();
        if let Err(error) = check_relations(&state, &statement) {
            return self.catalog_fallback(&written, error);
        }
        let query = match &written {
            DFStatement::Statement(inner) => match inner.as_ref() {
                ast::Statement::Query(query) => Some(query.clone()),
                _ => None,
            },
            _ => None,
        };
        let catalog_query = catalog_fallback::is_catalog_query(&written);
        duplicate_names::alias_repeated_items(&mut statement);
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            Err(error) => return self.catalog_fallback(&written, planning_error(error)),
        };
        // Catalog queries are small: type-check them now, so one the analyzer rejects still
        // gets the catalog fallback rather than failing when it runs.
        if catalog_query {
            if let Err(error) = state.optimize(&plan) {
                return self.catalog_fallback(&written, planning_error(error));
            }
        }
        if let Some(kind) = write_node(&plan) {
            return Err(EngineError::ReadOnly { statement: kind });
        }
        let plan = declare_parameter_types(plan, param_types)?;
        let planned: Vec<String> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let names = match &query {
            Some(query) => naming::output_names(query, &planned),
            None => planned,
        };
        let plan = rename_outputs(plan, &names)?;
        let plan = match &query {
            Some(query) if catalog_query => {
                pg_types::conform_outputs(plan, &pg_types::query_columns(query))?
            }
            Some(query) => {
                pg_types::conform_outputs(plan, &pg_types::integer_literal_columns(query))?
            }
            None => plan,
        };
        Ok((plan, names))
    }
}

impl TenantSession {
    /// Answers a catalog query that failed to plan with an empty result of the right shape
    /// (see [`catalog_fallback`]) and logs it; any other query keeps its error.
    fn catalog_fallback(
        &self,
        statement: &DFStatement,
        error: EngineError,
    ) -> Result<(LogicalPlan, Vec<String>), EngineError> {
        if !catalog_fallback::is_catalog_query(statement) {
            return Err(error);
        }
        let Some(result) = catalog_fallback::empty_result(statement) else {
            return Err(error);
        };
        tracing::warn!(
            user = %self.tenant.user,
            %error,
            statement = %statement,
            "catalog query not supported; answering with an empty result"
        );
        Ok(result)
    }

    /// Tells the catalog the connection's current parameters, `(name, value, description)`,
    /// so `pg_settings` and `current_setting()` report what `SHOW` does.
    pub fn set_parameters(
        &self,
        parameters: Vec<(String, String, String)>,
    ) -> Result<(), EngineError> {
        self.pg_catalog.sync_settings(parameters)
    }
}

/// A DataFusion context for one tenant: PostgreSQL dialect, `flowforge.public` as default schema,
/// FlowForge's own information_schema (see `pg_catalog`), and the ACL guard as the first analyzer rule.
/// Runs an analyzed query whose tables span backends: each backend gets its largest
/// single-backend subtree as one statement (see [`crate::remote::subtree`]); the rest runs here.
async fn execute_spanning_backends(
    state: &SessionState,
    analyzed: LogicalPlan,
) -> Result<SendableRecordBatchStream, EngineError> {
    let pushed = crate::remote::subtree::push_subtrees(analyzed).map_err(planning_error)?;
    let optimized = state
        .optimizer()
        .optimize(pushed, state, |_, _| {})
        .map_err(planning_error)?;
    let physical = state
        .query_planner()
        .create_physical_plan(&optimized, state)
        .await
        .map_err(planning_error)?;
    datafusion::physical_plan::execute_stream(physical, state.task_ctx()).map_err(execution_error)
}

fn tenant_context(
    guard: &Arc<AclGuard>,
    rollups: Option<Arc<rollups::RollupRule>>,
) -> Result<SessionContext, EngineError> {
    let mut config = SessionConfig::new()
        .with_information_schema(false)
        .with_default_catalog_and_schema(DATABASE_NAME, DEFAULT_SCHEMA)
        .with_create_default_catalog_and_schema(true);
    config.options_mut().sql_parser.dialect = Dialect::PostgreSQL;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .with_query_planner(Arc::new(crate::remote::subtree::RemoteQueryPlanner))
        .with_optimizer_rule(Arc::new(crate::remote::subtree::NarrowPushedSubtrees))
        .build();
    let mut builder = SessionStateBuilder::new_from_existing(state);
    let analyzer = builder.analyzer().get_or_insert_with(Analyzer::new);
    analyzer.rules.insert(0, Arc::clone(guard) as _);
    // Last, once views are inlined and types coerced (see `rollups`).
    if let Some(rollups) = rollups {
        analyzer.rules.push(rollups as _);
    }
    Ok(SessionContext::new_with_state(builder.build()))
}

/// Fails with [`EngineError::UnknownRelation`] for any table the statement names that this
/// session does not hold, before planning, so the message is PostgreSQL's for every case:
/// missing tables, other tenants' views, and `market.*` for viewers alike.
fn check_relations(state: &SessionState, statement: &DFStatement) -> Result<(), EngineError> {
    let references = state
        .resolve_table_references(statement)
        .map_err(planning_error)?;
    for reference in references {
        if reference.schema().is_none() && state.table_functions().contains_key(reference.table()) {
            continue;
        }
        let exists = state
            .schema_for_ref(reference.clone())
            .map(|schema| schema.table_exist(reference.table()))
            .unwrap_or(false);
        if !exists {
            return Err(EngineError::UnknownRelation {
                name: relation_name(&reference),
            });
        }
    }
    Ok(())
}

/// A table reference as the user wrote it, unquoted (`market.fct_trades`).
fn relation_name(reference: &TableReference) -> String {
    match reference {
        TableReference::Bare { table } => table.to_string(),
        TableReference::Partial { schema, table } => format!("{schema}.{table}"),
        TableReference::Full {
            catalog,
            schema,
            table,
        } => format!("{catalog}.{schema}.{table}"),
    }
}

/// The kind of the first node that would write or change session state, if any.
fn write_node(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    let walked = plan.apply_with_subqueries(|node| {
        let kind = match node {
            LogicalPlan::Dml(dml) => Some(dml.op.to_string().to_uppercase()),
            LogicalPlan::Ddl(ddl) => Some(ddl.name().to_string()),
            LogicalPlan::Copy(_) => Some("COPY TO".to_string()),
            LogicalPlan::Statement(statement) => Some(statement.name().to_string()),
            _ => None,
        };
        match kind {
            Some(kind) => {
                found = Some(kind);
                Ok(TreeNodeRecursion::Stop)
            }
            None => Ok(TreeNodeRecursion::Continue),
        }
    });
    match walked {
        Ok(_) => found,
        Err(e) => Some(format!("an uninspectable plan ({e})")),
    }
}

/// Maps a planning failure to PostgreSQL's error kinds.
fn planning_error(error: DataFusionError) -> EngineError {
    match error.find_root() {
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { field, .. } => EngineError::UnknownColumn {
                name: match &field.relation {
                    Some(relation) => format!("{}.{}", relation_name(relation), field.name),
                    None => field.name.clone(),
                },
            },
            other => EngineError::Plan(other.to_string()),
        },
        DataFusionError::Plan(message) => match unknown_table(message) {
            Some(name) => EngineError::UnknownRelation { name },
            None => EngineError::Plan(without_bug_report_hint(message)),
        },
        DataFusionError::NotImplemented(message) => EngineError::Unsupported(message.clone()),
        DataFusionError::SQL(..) => EngineError::Syntax {
            message: error.message().into_owned(),
            position: None,
        },
        DataFusionError::External(inner) => match inner.downcast_ref::<AclViolation>() {
            Some(violation) => violation.clone().into(),
            None => EngineError::DataFusion(error),
        },
        _ => EngineError::DataFusion(error),
    }
}

/// Maps an execution failure, surfacing ACL violations as such.
fn execution_error(error: DataFusionError) -> EngineError {
    if let DataFusionError::External(inner) = error.find_root() {
        if let Some(violation) = inner.downcast_ref::<AclViolation>() {
            return violation.clone().into();
        }
    }
    EngineError::DataFusion(error)
}

/// DataFusion appends "please file a bug" boilerplate to some nested errors, even for user
/// mistakes such as `sum(text)`; clients should see only the explanation.
fn without_bug_report_hint(message: &str) -> String {
    const HINT_START: &str = "\nThis issue was likely caused by a bug in DataFusion's code.";
    const HINT_END: &str = "https://github.com/apache/datafusion/issues";
    let mut text = message.to_string();
    while let Some(start) = text.find(HINT_START) {
        let end = text[start..]
            .find(HINT_END)
            .map_or(text.len(), |i| start + i + HINT_END.len());
        text.replace_range(start..end, "");
    }
    text.replace("Internal error: ", "")
}

/// The table name in DataFusion's "table 'catalog.schema.name' not found" message.
fn unknown_table(message: &str) -> Option<String> {
    let name = message
        .strip_prefix("table '")?
        .strip_suffix("' not found")?;
    let prefix = format!("{DATABASE_NAME}.{DEFAULT_SCHEMA}.");
    Some(name.strip_prefix(&prefix).unwrap_or(name).to_string())
}

/// The positional parameter number of a placeholder id (`$3` → 3).
fn placeholder_index(id: &str) -> Option<usize> {
    id.strip_prefix('$')?.parse().ok().filter(|i| *i > 0)
}

/// Sets client-declared types on `$n` placeholders and recomputes the schemas that depend on them.
fn declare_parameter_types(
    plan: LogicalPlan,
    types: &[DataType],
) -> Result<LogicalPlan, EngineError> {
    let declared = |id: &str| -> Option<DataType> {
        let t = types.get(placeholder_index(id)? - 1)?;
        (t != &DataType::Null).then(|| t.clone())
    };
    if types.iter().all(|t| t == &DataType::Null) {
        return Ok(plan);
    }
    let typed = plan.transform_up_with_subqueries(|node| {
        let node = node.map_expressions(|expr| {
            expr.transform(|expr| match expr {
                Expr::Placeholder(p) => match declared(&p.id) {
                    Some(t) => Ok(Transformed::yes(Expr::Placeholder(
                        Placeholder::new_with_field(p.id, Some(Arc::new(Field::new("", t, true)))),
                    ))),
                    None => Ok(Transformed::no(Expr::Placeholder(p))),
                },
                other => Ok(Transformed::no(other)),
            })
        })?;
        node.map_data(|plan| plan.recompute_schema())
    })?;
    Ok(typed.data)
}

/// Gives the plan's output columns PostgreSQL's names when they are unique (a plan's columns
/// must be); renames in the top projection when there is one, so unparsed SQL stays flat.
fn rename_outputs(plan: LogicalPlan, names: &[String]) -> Result<LogicalPlan, EngineError> {
    let schema = Arc::clone(plan.schema());
    let current: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    let unique = names.iter().collect::<BTreeSet<_>>().len() == names.len();
    if names.len() != current.len() || !unique || names.iter().zip(&current).all(|(a, b)| a == *b) {
        return Ok(plan);
    }
    if let LogicalPlan::Projection(projection) = plan {
        let exprs = projection
            .expr
            .into_iter()
            .zip(names)
            .zip(&current)
            .map(|((expr, name), old)| {
                if name == *old {
                    expr
                } else {
                    expr.unalias().alias(name)
                }
            })
            .collect();
        return Ok(LogicalPlan::Projection(Projection::try_new(
            exprs,
            projection.input,
        )?));
    }
    let exprs = schema
        .columns()
        .into_iter()
        .zip(names)
        .map(|(c, n)| Expr::Column(c).alias(n));
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The declared or inferred type of each positional parameter `$1..$n` in `plan`, in order;
/// `None` where neither the client nor the query determines it (PostgreSQL clients then send text).
pub fn parameter_types(plan: &LogicalPlan) -> Vec<Option<DataType>> {
    let mut found: BTreeMap<usize, Option<DataType>> = BTreeMap::new();
    // The closures never fail, so the walk itself cannot.
    let _walk = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|expr| {
                // `CAST($1 AS text[])`: like PostgreSQL, an untyped parameter takes the type it
                // is cast to.
                if let Expr::Cast(cast) = expr {
                    if let Expr::Placeholder(p) = cast.expr.as_ref() {
                        if let (Some(index), None) = (placeholder_index(&p.id), &p.field) {
                            found
                                .entry(index)
                                .or_insert(Some(cast.field.data_type().clone()));
                        }
                    }
                }
                if let Expr::Placeholder(p) = expr {
                    if let Some(index) = placeholder_index(&p.id) {
                        let entry = found.entry(index).or_insert(None);
                        if entry.is_none() {
                            *entry = p.field.as_ref().map(|f| f.data_type().clone());
                        }
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })
    });
    let count = found.keys().next_back().copied().unwrap_or(0);
    (1..=count)
        .map(|i| found.get(&i).cloned().flatten())
        .collect()
}

/// Binds `$1..$n` to `values` (a client's Bind message), giving a plan ready to execute.
pub fn bind(plan: LogicalPlan, values: Vec<ScalarValue>) -> Result<LogicalPlan, EngineError> {
    let expected = parameter_types(&plan).len();
    if values.len() != expected {
        return Err(EngineError::InvalidParameter(format!(
            "the statement needs {expected} parameter(s) but {} were supplied",
            values.len()
        )));
    }
    if expected == 0 {
        return Ok(plan);
    }
    plan.with_param_values(ParamValues::from(values))
        .map_err(|e| EngineError::InvalidParameter(e.message().into_owned()))
}
