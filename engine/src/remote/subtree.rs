//! Pushing the largest single-backend parts of a query spanning backends.
//!
//! When a query reads tables on several backends it cannot be one statement; it can still send
//! each backend the biggest piece it can answer alone. [`push_subtrees`] walks the analyzed plan
//! from the top and replaces every maximal subtree whose scans all live on one backend (and
//! that does more than scan, filter and project one table — those are pushed by the table scan
//! itself) with a [`PushedSubtree`]: the subtree unparsed to the backend's dialect, keeping the
//! subtree's schema so the local rest of the plan is unchanged. The statement names every output
//! column (never `SELECT *`), and [`NarrowPushedSubtrees`] later folds the columns the rest of
//! the plan actually uses into it. [`RemoteQueryPlanner`] turns each into a [`RemoteExec`]. So a ClickHouse join + aggregate joined with a Materialize view is one
//! ClickHouse statement, one Materialize statement and a local join.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::DFSchemaRef;
use datafusion::error::Result as DFResult;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::expr::Expr;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};

use datafusion::common::DataFusionError;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::{single_backend, RemoteBackend, RemoteExec};
use crate::dialect::plan_to_sql;

/// A part of a plan one backend answers as one statement.
#[derive(Clone)]
pub struct PushedSubtree {
    backend: Arc<dyn RemoteBackend>,
    /// The analyzed (unoptimized) subtree, ending in a projection naming its output columns.
    plan: LogicalPlan,
    sql: String,
    schema: DFSchemaRef,
}

impl PushedSubtree {
    /// `source` on `backend`, when it can be written in the backend's dialect. The statement
    /// lists `source`'s columns explicitly so results match its schema by position.
    fn new(backend: Arc<dyn RemoteBackend>, source: LogicalPlan) -> DFResult<Self> {
        let plan = match &source {
            LogicalPlan::Projection(_) => source,
            _ => {
                let columns: Vec<Expr> = source
                    .schema()
                    .columns()
                    .into_iter()
                    .map(Expr::Column)
                    .collect();
                LogicalPlanBuilder::from(source).project(columns)?.build()?
            }
        };
        Self::exactly(backend, plan)
    }

    /// `plan` (a projection) on `backend`, unparsed as it is.
    fn exactly(backend: Arc<dyn RemoteBackend>, plan: LogicalPlan) -> DFResult<Self> {
        let sql = plan_to_sql(&plan, backend.dialect())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let schema = Arc::clone(plan.schema());
        Ok(PushedSubtree {
            backend,
            plan,
            sql,
            schema,
        })
    }

    /// The same subtree producing only `columns` (a subset of its output), its projection
    /// edited in place rather than wrapped, which the unparser would qualify wrongly.
    fn narrowed(&self, columns: &[Expr]) -> DFResult<Self> {
        let LogicalPlan::Projection(projection) = &self.plan else {
            return Err(DataFusionError::Internal(
                "a pushed subtree always ends in a projection".into(),
            ));
        };
        let mut kept = Vec::with_capacity(columns.len());
        for column in columns {
            let Expr::Column(column) = column else {
                return Err(DataFusionError::Internal("not a column".into()));
            };
            let index = projection.schema.index_of_column(column)?;
            let expr =
                projection.expr.get(index).cloned().ok_or_else(|| {
                    DataFusionError::Internal(format!("no expression for {column}"))
                })?;
            kept.push(expr);
        }
        let plan = LogicalPlanBuilder::from(projection.input.as_ref().clone())
            .project(kept)?
            .build()?;
        Self::exactly(Arc::clone(&self.backend), plan)
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &str {
        self.backend.name()
    }

    /// The statement it receives.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

impl fmt::Debug for PushedSubtree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushedSubtree")
            .field("backend", &self.backend.name())
            .field("sql", &self.sql)
            .finish()
    }
}

impl PartialEq for PushedSubtree {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.backend, &other.backend)
            && self.sql == other.sql
            && self.schema == other.schema
    }
}

impl Eq for PushedSubtree {}

impl Hash for PushedSubtree {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.backend.name().hash(state);
        self.sql.hash(state);
    }
}

impl PartialOrd for PushedSubtree {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (self.backend.name(), &self.sql).partial_cmp(&(other.backend.name(), &other.sql))
    }
}

impl UserDefinedLogicalNodeCore for PushedSubtree {
    fn name(&self) -> &str {
        "PushedSubtree"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        Vec::new()
    }

    fn schema(&self) -> &DFSchemaRef {
        &self.schema
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "PushedSubtree: backend={} sql={}",
            self.backend.name(),
            self.sql
        )
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        _inputs: Vec<LogicalPlan>,
    ) -> DFResult<Self> {
        Ok(self.clone())
    }
}

/// Whether pushing `plan` does more than the table scan's own pushdown (projection, filters,
/// limit of one table) would.
fn worth_pushing(plan: &LogicalPlan) -> bool {
    let mut scans = 0;
    let mut combines = false;
    let _ = plan.apply(|node| {
        match node {
            LogicalPlan::TableScan(_) => scans += 1,
            LogicalPlan::Join(_)
            | LogicalPlan::Aggregate(_)
            | LogicalPlan::Window(_)
            | LogicalPlan::Distinct(_)
            | LogicalPlan::Union(_)
            | LogicalPlan::Limit(_) => combines = true,
            _ => {}
        }
        Ok(TreeNodeRecursion::Continue)
    });
    scans > 0 && (combines || scans > 1)
}

/// `plan` with each maximal single-backend subtree worth pushing replaced by a
/// [`PushedSubtree`]. Subtrees that cannot be written as SQL, or that refer to columns of an
/// enclosing query, stay local.
pub fn push_subtrees(plan: LogicalPlan) -> DFResult<LogicalPlan> {
    plan.transform_down(|node| {
        if matches!(node, LogicalPlan::Extension(_)) || !worth_pushing(&node) {
            return Ok(Transformed::no(node));
        }
        if !node.all_out_ref_exprs().is_empty() {
            return Ok(Transformed::no(node));
        }
        let Some(backend) = single_backend(&node) else {
            return Ok(Transformed::no(node));
        };
        match PushedSubtree::new(backend, node.clone()) {
            Ok(pushed) => Ok(Transformed::new(
                LogicalPlan::Extension(Extension {
                    node: Arc::new(pushed),
                }),
                true,
                TreeNodeRecursion::Jump,
            )),
            Err(error) => {
                tracing::debug!(%error, "subtree not expressible as backend SQL; looking deeper");
                Ok(Transformed::no(node))
            }
        }
    })
    .map(|t| t.data)
}

/// Folds a projection of plain columns over a [`PushedSubtree`] into its statement, so the
/// backend sends only the columns the rest of the query uses.
#[derive(Debug, Default)]
pub struct NarrowPushedSubtrees;

impl OptimizerRule for NarrowPushedSubtrees {
    fn name(&self) -> &str {
        "narrow_pushed_subtrees"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> DFResult<Transformed<LogicalPlan>> {
        let LogicalPlan::Projection(projection) = &plan else {
            return Ok(Transformed::no(plan));
        };
        let LogicalPlan::Extension(extension) = projection.input.as_ref() else {
            return Ok(Transformed::no(plan));
        };
        let Some(pushed) = extension.node.as_any().downcast_ref::<PushedSubtree>() else {
            return Ok(Transformed::no(plan));
        };
        if !projection.expr.iter().all(|e| matches!(e, Expr::Column(_)))
            || projection.expr.len() >= pushed.schema.fields().len()
        {
            return Ok(Transformed::no(plan));
        }
        match pushed.narrowed(&projection.expr) {
            Ok(narrowed) if narrowed.schema == projection.schema => {
                Ok(Transformed::yes(LogicalPlan::Extension(Extension {
                    node: Arc::new(narrowed),
                })))
            }
            _ => Ok(Transformed::no(plan)),
        }
    }
}

/// Plans [`PushedSubtree`]s as [`RemoteExec`]s.
#[derive(Debug)]
struct PushedSubtreePlanner;

#[async_trait]
impl ExtensionPlanner for PushedSubtreePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        _physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> DFResult<Option<Arc<dyn ExecutionPlan>>> {
        let Some(pushed) = node.as_any().downcast_ref::<PushedSubtree>() else {
            return Ok(None);
        };
        let schema = Arc::new(pushed.schema.as_arrow().clone());
        Ok(Some(Arc::new(RemoteExec::new(
            Arc::clone(&pushed.backend),
            pushed.sql.clone(),
            schema,
        ))))
    }
}

/// DataFusion's physical planner, plus [`PushedSubtree`]s.
#[derive(Debug, Default)]
pub struct RemoteQueryPlanner;

#[async_trait]
impl QueryPlanner for RemoteQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(PushedSubtreePlanner)])
            .create_physical_plan(logical_plan, session)
            .await
    }
}
