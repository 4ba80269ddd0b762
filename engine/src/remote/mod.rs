//! Serving tables held by another database: ClickHouse (HTTP, Arrow) and PostgreSQL-wire
//! backends (Materialize, or PostgreSQL standing in for it).
//!
//! A [`RemoteTable`] is a [`TableProvider`] whose scans run as SQL on its [`RemoteBackend`].
//! When every table a query reads lives on one backend, the session does not plan the query
//! locally at all: [`single_backend`] finds that backend and the whole analyzed plan — the
//! client's query, the workflow views it reads and the tenant's entitlement filters — is unparsed
//! to the backend's dialect and sent as **one** request (see `TenantSession::execute`). Queries
//! spanning backends send each backend its largest single-backend subtree ([`subtree`]) and
//! join the pieces locally; lone table scans push their projection, filters and limit.

pub mod clickhouse;
pub mod postgres;
pub mod redis;
pub mod subtree;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{new_null_array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{provider_as_source, source_as_provider, TableType};
use datafusion::error::{DataFusionError, Result as DFResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown,
};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning,
    PlanProperties, ReplaceChildrenOptions,
};
use futures::{StreamExt, TryStreamExt};

use crate::dialect::{plan_to_sql, SqlDialect};
use crate::error::EngineError;

/// A database FlowForge sends SQL to.
#[async_trait]
pub trait RemoteBackend: fmt::Debug + Send + Sync {
    /// A short name for logs, errors and EXPLAIN (`clickhouse`, `postgres`).
    fn name(&self) -> &str;

    /// The SQL dialect the backend speaks.
    fn dialect(&self) -> SqlDialect;

    /// Runs `sql`, streaming its result as batches of `schema` (the backend's column types are
    /// cast to it). Dropping the stream cancels the query on the backend.
    fn execute(&self, sql: String, schema: SchemaRef) -> SendableRecordBatchStream;

    /// Like [`RemoteBackend::execute`], but waits until the backend has accepted the statement:
    /// [`Started::Rejected`] when it refused the SQL itself (unknown identifier, syntax, ...),
    /// so the caller can plan the query locally instead.
    async fn start(&self, sql: String, schema: SchemaRef) -> Result<Started, EngineError>;
}

/// The outcome of [`RemoteBackend::start`].
pub enum Started {
    /// The backend runs the query; rows follow.
    Running(SendableRecordBatchStream),
    /// The backend refused the statement as written (FlowForge's SQL, not the data, is at
    /// fault); the message says why.
    Rejected(String),
}

/// The serving tables as a backend holds them (the backend's default database/schema has a
/// table per serving table, with the same columns).
#[derive(Debug, Clone)]
pub struct RemoteData {
    backend: Arc<dyn RemoteBackend>,
}

impl RemoteData {
    /// Serving tables on `backend`.
    pub fn new(backend: Arc<dyn RemoteBackend>) -> Self {
        RemoteData { backend }
    }
}

impl crate::tables::ServingData for RemoteData {
    fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>> {
        let def = crate::serving_tables::serving_table(table)?;
        Some(Arc::new(RemoteTable::new(
            Arc::clone(&self.backend),
            def.name,
            def.schema,
        )))
    }

    fn name(&self) -> &str {
        self.backend.name()
    }
}

/// Routes each serving table to the source that serves it: tables named in `routes` to their
/// source, the rest to `default`. The binary routes live tables (positions, P&L) to Materialize
/// and everything else to ClickHouse or the embedded data.
pub struct RoutedData {
    default: Arc<dyn crate::tables::ServingData>,
    routes: Vec<(String, Arc<dyn crate::tables::ServingData>)>,
}

impl RoutedData {
    /// Everything from `default` until routes are added.
    pub fn new(default: Arc<dyn crate::tables::ServingData>) -> Self {
        RoutedData {
            default,
            routes: Vec::new(),
        }
    }

    /// Serves `table` from `source`.
    pub fn route(mut self, table: &str, source: Arc<dyn crate::tables::ServingData>) -> Self {
        self.routes.push((table.to_string(), source));
        self
    }
}

impl crate::tables::ServingData for RoutedData {
    fn provider(&self, table: &str) -> Option<Arc<dyn TableProvider>> {
        match self.routes.iter().find(|(name, _)| name == table) {
            Some((_, source)) => source.provider(table),
            None => self.default.provider(table),
        }
    }

    fn name(&self) -> &str {
        "routed"
    }
}

/// A serving table on a backend.
#[derive(Debug)]
pub struct RemoteTable {
    backend: Arc<dyn RemoteBackend>,
    name: String,
    schema: SchemaRef,
}

impl RemoteTable {
    /// Table `name` (as the backend names it in its default database or schema) of `schema`.
    pub fn new(backend: Arc<dyn RemoteBackend>, name: &str, schema: SchemaRef) -> Self {
        RemoteTable {
            backend,
            name: name.to_string(),
            schema,
        }
    }

    /// The backend holding the table.
    pub fn backend(&self) -> &Arc<dyn RemoteBackend> {
        &self.backend
    }
}

#[async_trait]
impl TableProvider for RemoteTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DFResult<Vec<TableProviderFilterPushDown>> {
        // Pushed into the backend SQL and re-checked locally: correct whatever the dialect.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        let source = provider_as_source(Arc::new(SchemaOnly(Arc::clone(&self.schema))));
        let mut builder =
            LogicalPlanBuilder::scan(self.name.as_str(), source, projection.cloned())?;
        if let Some(predicate) = filters.iter().cloned().reduce(Expr::and) {
            builder = builder.filter(predicate)?;
        }
        if let Some(limit) = limit {
            builder = builder.limit(0, Some(limit))?;
        }
        let plan = builder.build()?;
        let sql = plan_to_sql(&plan, self.backend.dialect())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let schema = match projection {
            Some(columns) => Arc::new(self.schema.project(columns)?),
            None => Arc::clone(&self.schema),
        };
        Ok(Arc::new(RemoteExec::new(
            Arc::clone(&self.backend),
            sql,
            schema,
        )))
    }
}

/// A table with only a schema, so scans of a [`RemoteTable`] can be unparsed.
#[derive(Debug)]
struct SchemaOnly(SchemaRef);

#[async_trait]
impl TableProvider for SchemaOnly {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.0)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::Internal(
            "a schema-only table cannot be scanned".into(),
        ))
    }
}

/// Starts a [`RemoteExec`]'s backend work; called once per execution.
pub type StartRemote = Arc<dyn Fn() -> SendableRecordBatchStream + Send + Sync>;

/// One request to a backend (a SQL statement, or Redis lookups) as a leaf of a physical plan.
pub struct RemoteExec {
    backend: String,
    statement: String,
    properties: Arc<PlanProperties>,
    start: StartRemote,
}

impl fmt::Debug for RemoteExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteExec")
            .field("backend", &self.backend)
            .field("statement", &self.statement)
            .finish()
    }
}

impl RemoteExec {
    /// `sql` on `backend`, producing batches of `schema`.
    pub fn new(backend: Arc<dyn RemoteBackend>, sql: String, schema: SchemaRef) -> Self {
        let name = backend.name().to_string();
        let (statement, target) = (sql.clone(), Arc::clone(&schema));
        let start: StartRemote =
            Arc::new(move || backend.execute(statement.clone(), Arc::clone(&target)));
        Self::with_start(name, sql, schema, start)
    }

    /// A request described by `statement` (for EXPLAIN) that `start` sends to `backend`.
    pub fn with_start(
        backend: String,
        statement: String,
        schema: SchemaRef,
        start: StartRemote,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        RemoteExec {
            backend,
            statement,
            properties,
            start,
        }
    }

    /// What the backend receives.
    pub fn statement(&self) -> &str {
        &self.statement
    }

    /// The backend it is sent to.
    pub fn backend_name(&self) -> &str {
        &self.backend
    }
}

impl DisplayAs for RemoteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RemoteExec: backend={} {}", self.backend, self.statement)
    }
}

impl ExecutionPlan for RemoteExec {
    fn name(&self) -> &str {
        "RemoteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DFResult<TreeNodeRecursion>,
    ) -> DFResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DFResult<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!(
                "RemoteExec has one partition, not {partition}"
            )));
        }
        Ok((self.start)())
    }
}

/// The one backend holding every table `plan` scans (subqueries included), if there is one.
/// `None` when any scan is local or the scans span backends.
pub fn single_backend(plan: &LogicalPlan) -> Option<Arc<dyn RemoteBackend>> {
    let mut backend: Option<Arc<dyn RemoteBackend>> = None;
    let mut local = false;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let remote = source_as_provider(&scan.source).ok().and_then(|provider| {
                provider
                    .downcast_ref::<RemoteTable>()
                    .map(|t| Arc::clone(t.backend()))
            });
            match (remote, &backend) {
                (Some(found), None) => backend = Some(found),
                (Some(found), Some(current)) if Arc::ptr_eq(&found, current) => {}
                _ => {
                    local = true;
                    return Ok(TreeNodeRecursion::Stop);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if local {
        None
    } else {
        backend
    }
}

/// The whole-query pushdown of an analyzed plan: its SQL in the backend's dialect, if every
/// table it reads is on one backend and the plan can be expressed as SQL.
pub fn pushdown_sql(plan: &LogicalPlan) -> Option<(Arc<dyn RemoteBackend>, String)> {
    let backend = single_backend(plan)?;
    match plan_to_sql(without_renames(plan), backend.dialect()) {
        Ok(sql) => Some((backend, sql)),
        Err(error) => {
            tracing::debug!(%error, "plan not expressible as backend SQL; planning locally");
            None
        }
    }
}

/// `plan` without the projections on top that only rename its columns (the PostgreSQL output
/// names): results are matched to the client's columns by position, and the unparser writes
/// invalid SQL for a renaming projection over a sort.
fn without_renames(plan: &LogicalPlan) -> &LogicalPlan {
    let mut plan = plan;
    while let LogicalPlan::Projection(projection) = plan {
        let input_columns = projection.input.schema().columns();
        let renames_only = projection.expr.len() == input_columns.len()
            && projection.expr.iter().zip(&input_columns).all(
                |(expr, column)| matches!(expr.clone().unalias(), Expr::Column(c) if &c == column),
            );
        if !renames_only {
            break;
        }
        plan = projection.input.as_ref();
    }
    plan
}

/// Casts each batch of `stream` to `schema` by position (backends name and type columns their
/// own way: ClickHouse strings arrive as binary, timestamps with a zone, ...).
pub(crate) fn conform(
    stream: SendableRecordBatchStream,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    let target = Arc::clone(&schema);
    let conformed = stream.map(move |batch| {
        let batch = batch?;
        conform_batch(&batch, &target)
    });
    Box::pin(RecordBatchStreamAdapter::new(schema, conformed))
}

/// One batch cast to `schema` by position.
pub(crate) fn conform_batch(batch: &RecordBatch, schema: &SchemaRef) -> DFResult<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(DataFusionError::External(Box::new(EngineError::Backend {
            backend: "remote".into(),
            message: format!(
                "returned {} columns, expected {}",
                batch.num_columns(),
                schema.fields().len()
            ),
            unreachable: false,
        })));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else if column.null_count() == column.len() {
                Ok(new_null_array(field.data_type(), column.len()))
            } else {
                cast(column, field.data_type()).map_err(DataFusionError::from)
            }
        })
        .collect::<DFResult<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        columns,
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

/// The lazy stream [`RemoteBackend::execute`] returns: `backend` (an owned handle) starts the
/// query on first poll; a rejected statement becomes an error, since a table scan has no local
/// plan to fall back to.
pub(crate) fn stream_when_started<B: RemoteBackend + 'static>(
    backend: B,
    sql: String,
    schema: SchemaRef,
) -> SendableRecordBatchStream {
    let target = Arc::clone(&schema);
    let batches = futures::stream::once(async move {
        match backend.start(sql, target).await {
            Ok(Started::Running(stream)) => Ok(stream),
            Ok(Started::Rejected(message)) => Err(backend_error(backend.name(), message, false)),
            Err(error) => Err(DataFusionError::External(Box::new(error))),
        }
    })
    .try_flatten();
    Box::pin(RecordBatchStreamAdapter::new(schema, batches))
}

/// An error of `backend` as a DataFusion error carrying its SQLSTATE.
pub(crate) fn backend_error(backend: &str, message: String, unreachable: bool) -> DataFusionError {
    DataFusionError::External(Box::new(EngineError::Backend {
        backend: backend.to_string(),
        message,
        unreachable,
    }))
}
