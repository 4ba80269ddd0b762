//! Compiling each transform node type onto its inputs' plans.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column as DfColumn, ScalarValue, TableReference};
use datafusion::functions::crypto::expr_fn::md5;
use datafusion::functions::string::expr_fn::concat_ws;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, min, sum};
use datafusion::functions_window::expr_fn::{
    dense_rank, first_value, lag, last_value, lead, rank, row_number,
};
use datafusion::logical_expr::expr_rewriter::normalize_col;
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{
    cast, expr::WindowFunction, lit, when, Expr, ExprFunctionExt, JoinType, LogicalPlan,
    LogicalPlanBuilder, SortExpr, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition,
};

use super::columns::{self, column, ColumnRef};
use super::filter::{predicate, typed_literal};
use super::outputs;
use super::shape::Shaper;
use crate::error::WorkflowIssue;
use crate::formula::{self, FormulaScope, WindowSpec};
use crate::tables::TableResolver;
use crate::types::{ColumnType, Schema};
use crate::workflow::*;

/// Result of compiling one node: its plan or the issues found.
pub type NodeResult = Result<LogicalPlan, Vec<WorkflowIssue>>;

/// Compiles nodes in topological order, keeping each node's plan for its consumers.
pub struct NodeCompiler<'a> {
    workflow: &'a Workflow,
    graph: &'a Graph,
    resolver: &'a dyn TableResolver,
    plans: BTreeMap<String, LogicalPlan>,
    pub(super) shaper: Shaper,
}

/// Converts a DataFusion error while building a node's plan into an issue on that node.
pub fn df_issue(node: &str, error: datafusion::error::DataFusionError) -> Vec<WorkflowIssue> {
    vec![WorkflowIssue::node(node, error.strip_backtrace())]
}

impl<'a> NodeCompiler<'a> {
    /// A compiler for one workflow.
    pub fn new(workflow: &'a Workflow, graph: &'a Graph, resolver: &'a dyn TableResolver) -> Self {
        NodeCompiler {
            workflow,
            graph,
            resolver,
            plans: BTreeMap::new(),
            shaper: Shaper::default(),
        }
    }

    /// Whether a node has compiled.
    pub fn has(&self, id: &str) -> bool {
        self.plans.contains_key(id)
    }

    /// Removes and returns a node's plan.
    pub fn take(&mut self, id: &str) -> Option<LogicalPlan> {
        self.plans.remove(id)
    }

    /// All compiled plans.
    pub fn into_plans(self) -> BTreeMap<String, LogicalPlan> {
        self.plans
    }

    fn input(&self, id: &str, port: Option<Port>) -> Result<LogicalPlan, Vec<WorkflowIssue>> {
        let inputs = self.graph.inputs(id);
        let source = match port {
            None => inputs.first(),
            Some(p) => inputs.iter().find(|(_, q)| *q == Some(p)),
        };
        source
            .and_then(|(src, _)| self.plans.get(src).cloned())
            .ok_or_else(|| {
                vec![WorkflowIssue::node(
                    id,
                    "an input of this node did not compile",
                )]
            })
    }

    /// Compiles node `id`, whose inputs must have compiled already.
    pub fn compile(&mut self, id: &str) -> Result<(), Vec<WorkflowIssue>> {
        let node = self.workflow.node(id).ok_or_else(|| {
            vec![WorkflowIssue::workflow(format!(
                "node '{id}' does not exist"
            ))]
        })?;
        let plan = match &node.kind {
            NodeKind::DataSource(c) => self.data_source(id, c)?,
            NodeKind::Join(c) => {
                let (l, r) = (
                    self.input(id, Some(Port::Left))?,
                    self.input(id, Some(Port::Right))?,
                );
                self.join(id, c, l, r)?
            }
            NodeKind::Union(c) => {
                let (l, r) = (
                    self.input(id, Some(Port::Left))?,
                    self.input(id, Some(Port::Right))?,
                );
                self.union(id, c, l, r)?
            }
            kind => {
                let input = self.input(id, None)?;
                self.single_input(id, kind, input)?
            }
        };
        self.plans.insert(id.to_string(), plan);
        Ok(())
    }

    fn single_input(&mut self, id: &str, kind: &NodeKind, input: LogicalPlan) -> NodeResult {
        match kind {
            NodeKind::Filter(c) => {
                let pred = predicate(&input, id, &c.conditions, c.logic, "conditions")?;
                self.shaper.filter(input, pred).map_err(|e| df_issue(id, e))
            }
            NodeKind::Select(c) => self.select(id, c, input),
            NodeKind::Rename(c) => self.rename(id, c, input),
            NodeKind::Sort(c) => {
                let keys = sort_keys(&input, id, "keys", &c.keys)?;
                if keys.is_empty() {
                    return Err(vec![WorkflowIssue::field(
                        id,
                        "keys",
                        "needs at least one sort key",
                    )]);
                }
                self.shaper.sort(input, keys).map_err(|e| df_issue(id, e))
            }
            NodeKind::Limit(c) => {
                let fetch = usize::try_from(c.limit).ok();
                let skip = usize::try_from(c.offset)
                    .map_err(|_| vec![WorkflowIssue::field(id, "offset", "offset is too large")])?;
                self.shaper
                    .limit(input, skip, fetch)
                    .map_err(|e| df_issue(id, e))
            }
            NodeKind::Sample(c) => self.sample(id, c, input),
            NodeKind::Unique(c) => self.unique(id, c, input),
            NodeKind::GroupBy(c) => self.group_by(id, c, input),
            NodeKind::Pivot(c) => self.pivot(id, c, input),
            NodeKind::Formula(c) => self.formula(id, c, input),
            NodeKind::Window(c) => self.window(id, c, input),
            output => outputs::compile(self, id, output, input),
        }
    }

    fn data_source(&mut self, id: &str, c: &DataSourceConfig) -> NodeResult {
        let source = self.resolver.resolve(&c.table).ok_or_else(|| {
            vec![WorkflowIssue::field(
                id,
                "table",
                format!(
                    "table '{}' does not exist; available tables: {}",
                    c.table,
                    self.resolver.table_names().join(", ")
                ),
            )]
        })?;
        let plan = LogicalPlanBuilder::scan(TableReference::bare(c.table.as_str()), source, None)
            .and_then(|b| b.build())
            .map_err(|e| df_issue(id, e))?;
        if c.columns.is_empty() {
            return Ok(plan);
        }
        let exprs = column_list(&plan, id, "columns", &c.columns)?;
        self.shaper
            .project(plan, exprs)
            .map_err(|e| df_issue(id, e))
    }

    fn select(&mut self, id: &str, c: &SelectConfig, input: LogicalPlan) -> NodeResult {
        if c.columns.is_empty() {
            return Err(vec![WorkflowIssue::field(
                id,
                "columns",
                "select at least one column",
            )]);
        }
        let exprs = column_list(&input, id, "columns", &c.columns)?;
        self.shaper
            .project(input, exprs)
            .map_err(|e| df_issue(id, e))
    }

    fn rename(&mut self, id: &str, c: &RenameConfig, input: LogicalPlan) -> NodeResult {
        let mut issues = Vec::new();
        let mut renames = BTreeMap::new();
        for (i, pair) in c.renames.iter().enumerate() {
            if let Err(e) = column(&input, id, &format!("renames[{i}].from"), &pair.from) {
                issues.push(e);
            }
            if pair.to.trim().is_empty() {
                issues.push(WorkflowIssue::field(
                    id,
                    format!("renames[{i}].to"),
                    "new name must not be empty",
                ));
            }
            if renames.insert(pair.from.clone(), pair.to.clone()).is_some() {
                issues.push(WorkflowIssue::field(
                    id,
                    format!("renames[{i}].from"),
                    format!("column '{}' is renamed twice", pair.from),
                ));
            }
        }
        let mut seen = BTreeSet::new();
        let mut exprs = Vec::new();
        for (qualifier, field) in input.schema().iter() {
            let name = renames
                .get(field.name())
                .cloned()
                .unwrap_or_else(|| field.name().clone());
            if !seen.insert(name.clone()) {
                issues.push(WorkflowIssue::field(
                    id,
                    "renames",
                    format!("renaming would create two columns named '{name}'"),
                ));
            }
            let expr = Expr::Column(DfColumn::new(qualifier.cloned(), field.name()));
            exprs.push(if &name == field.name() {
                expr
            } else {
                expr.alias(name)
            });
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        self.shaper
            .project(input, exprs)
            .map_err(|e| df_issue(id, e))
    }

    fn sample(&mut self, id: &str, c: &SampleConfig, input: LogicalPlan) -> NodeResult {
        let plan = match &input {
            LogicalPlan::Projection(p) if p.expr.iter().any(|e| !matches!(e, Expr::Column(_))) => {
                self.shaper.derive(input).map_err(|e| df_issue(id, e))?
            }
            _ => input,
        };
        let fingerprint = sample_fingerprint(&plan, c.seed);
        match (c.count, c.percent) {
            (Some(count), None) => {
                let n = usize::try_from(count).ok();
                let sorted = self
                    .shaper
                    .sort(plan, vec![SortExpr::new(fingerprint, true, false)])
                    .map_err(|e| df_issue(id, e))?;
                self.shaper.limit(sorted, 0, n).map_err(|e| df_issue(id, e))
            }
            (None, Some(percent)) if percent > 0.0 && percent <= 100.0 => {
                if percent >= 100.0 {
                    return Ok(plan);
                }
                // md5 hex digests are uniform: keep rows whose first 8 hex digits fall below the
                // threshold. Lowercase hex compares correctly as text on every backend.
                let threshold = ((percent / 100.0) * 4_294_967_296.0).floor() as u64;
                let bound = format!("{threshold:08x}");
                self.shaper
                    .filter(plan, fingerprint.lt(lit(bound)))
                    .map_err(|e| df_issue(id, e))
            }
            (None, Some(percent)) => Err(vec![WorkflowIssue::field(
                id,
                "percent",
                format!("percent must be greater than 0 and at most 100, got {percent}"),
            )]),
            (Some(_), Some(_)) => Err(vec![WorkflowIssue::field(
                id,
                "count",
                "give either count or percent, not both",
            )]),
            (None, None) => Err(vec![WorkflowIssue::field(
                id,
                "count",
                "give either count or percent",
            )]),
        }
    }

    fn unique(&mut self, id: &str, c: &UniqueConfig, input: LogicalPlan) -> NodeResult {
        if c.columns.is_empty() {
            let plan = if matches!(input, LogicalPlan::Limit(_) | LogicalPlan::Union(_)) {
                self.shaper.derive(input).map_err(|e| df_issue(id, e))?
            } else {
                input
            };
            return LogicalPlanBuilder::from(plan)
                .distinct()
                .and_then(|b| b.build())
                .map_err(|e| df_issue(id, e));
        }
        let keys = column_list(&input, id, "columns", &c.columns)?;
        let plan = self.shaper.derive(input).map_err(|e| df_issue(id, e))?;
        let keys: Vec<Expr> = keys
            .into_iter()
            .map(|k| match k {
                Expr::Column(col) => Expr::Column(DfColumn::new_unqualified(col.name)),
                other => other,
            })
            .collect();
        let all = columns::all(&plan);
        // DISTINCT ON keeps the first row per key in this order: the keys, then every other
        // column, so the kept row is deterministic. (Repeating a key here trips DataFusion.)
        let mut order: Vec<SortExpr> = keys
            .iter()
            .map(|k| SortExpr::new(k.clone(), true, false))
            .collect();
        let key_names: BTreeSet<String> = c.columns.iter().cloned().collect();
        order.extend(
            all.iter()
                .filter(|e| !matches!(e, Expr::Column(col) if key_names.contains(&col.name)))
                .map(|e| SortExpr::new(e.clone(), true, false)),
        );
        LogicalPlanBuilder::from(plan)
            .distinct_on(keys, all, Some(order))
            .and_then(|b| b.build())
            .map_err(|e| df_issue(id, e))
    }

    fn group_by(&mut self, id: &str, c: &GroupByConfig, input: LogicalPlan) -> NodeResult {
        let mut issues = Vec::new();
        let groups = column_list(&input, id, "group_by", &c.group_by).unwrap_or_else(|mut e| {
            issues.append(&mut e);
            Vec::new()
        });
        if c.aggregations.is_empty() {
            issues.push(WorkflowIssue::field(
                id,
                "aggregations",
                "add at least one aggregation",
            ));
        }
        let schema = logical_schema(&input, id)?;
        let mut names: Vec<String> = c.group_by.clone();
        let mut aggregates = Vec::new();
        for (i, a) in c.aggregations.iter().enumerate() {
            let path = format!("aggregations[{i}]");
            let result = match (&a.expression, a.function) {
                (Some(text), _) => formula::compile(text, &schema, FormulaScope::Aggregate)
                    .map(|t| (t.expr, a.alias.clone()))
                    .map_err(|e| {
                        WorkflowIssue::field(id, format!("{path}.expression"), e.to_string())
                    }),
                (None, Some(function)) => {
                    aggregate_expr(&input, id, &path, function, a.column.as_deref()).map(
                        |(expr, default_name)| {
                            (expr, Some(a.alias.clone().unwrap_or(default_name)))
                        },
                    )
                }
                (None, None) => Err(WorkflowIssue::field(
                    id,
                    format!("{path}.function"),
                    "give a function (with a column) or an expression",
                )),
            };
            match result {
                Ok((expr, Some(name))) => {
                    names.push(name);
                    aggregates.push(expr);
                }
                Ok((_, None)) => issues.push(WorkflowIssue::field(
                    id,
                    format!("{path}.alias"),
                    "an aggregate expression needs an alias",
                )),
                Err(e) => issues.push(e),
            }
        }
        check_unique_names(id, "aggregations", &names, &mut issues);
        if !issues.is_empty() {
            return Err(issues);
        }
        let simple = aggregates
            .iter()
            .all(|a| matches!(a.clone().unalias(), Expr::AggregateFunction(_)));
        if simple {
            return self
                .shaper
                .aggregate(input, groups, aggregates, names)
                .map_err(|e| df_issue(id, e));
        }
        // Formulas such as `SUM([a]) / COUNT()`: aggregate each aggregate call once, then compute
        // the formulas over the aggregated columns.
        // Qualify formula columns like the column-based aggregates, so equal calls dedupe.
        let aggregates = aggregates
            .into_iter()
            .map(|a| normalize_col(a, &input))
            .collect::<datafusion::error::Result<Vec<_>>>()
            .map_err(|e| df_issue(id, e))?;
        let calls = find_aggregate_exprs(aggregates.iter());
        let temp: Vec<String> = (0..calls.len())
            .map(|i| format!("__flowforge_agg_{i}"))
            .collect();
        let group_names: Vec<String> = c.group_by.clone();
        let mut inner_names = group_names.clone();
        inner_names.extend(temp.iter().cloned());
        let aggregated = self
            .shaper
            .aggregate(input, groups, calls.clone(), inner_names)
            .map_err(|e| df_issue(id, e))?;
        let mut outputs: Vec<Expr> = group_names
            .iter()
            .map(|g| Expr::Column(DfColumn::new_unqualified(g)))
            .collect();
        for (expr, name) in aggregates
            .into_iter()
            .zip(names.iter().skip(group_names.len()))
        {
            let rewritten = expr
                .unalias()
                .transform_down(|e| {
                    if let Some(i) = calls.iter().position(|call| *call == e) {
                        Ok(Transformed::new(
                            Expr::Column(DfColumn::new_unqualified(temp[i].clone())),
                            true,
                            TreeNodeRecursion::Jump,
                        ))
                    } else {
                        Ok(Transformed::no(e))
                    }
                })
                .map_err(|e| df_issue(id, e))?
                .data;
            outputs.push(rewritten.alias(name));
        }
        self.shaper
            .project(aggregated, outputs)
            .map_err(|e| df_issue(id, e))
    }

    fn pivot(&mut self, id: &str, c: &PivotConfig, input: LogicalPlan) -> NodeResult {
        let mut issues = Vec::new();
        let groups = column_list(&input, id, "index", &c.index).unwrap_or_else(|mut e| {
            issues.append(&mut e);
            Vec::new()
        });
        let pivot = column(&input, id, "pivot_column", &c.pivot_column);
        let value = column(&input, id, "value_column", &c.value_column);
        let (pivot, value) = match (pivot, value) {
            (Ok(p), Ok(v)) => (p, v),
            (p, v) => {
                issues.extend(p.err());
                issues.extend(v.err());
                return Err(issues);
            }
        };
        if let Err(e) = check_aggregation(id, "aggregation", c.aggregation, &value) {
            issues.push(e);
        }
        if c.values.is_empty() {
            issues.push(WorkflowIssue::field(
                id,
                "values",
                "list the pivot values that become columns",
            ));
        }
        let mut names = c.index.clone();
        let mut aggregates = Vec::new();
        for (i, v) in c.values.iter().enumerate() {
            match typed_literal(pivot.ty, v) {
                Ok(literal) => {
                    let name = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let cell = when(pivot.expr.clone().eq(lit(literal)), value.expr.clone()).end();
                    match cell {
                        Ok(cell) => {
                            names.push(name);
                            aggregates.push(apply_aggregate(c.aggregation, Some(cell)));
                        }
                        Err(e) => issues.extend(df_issue(id, e)),
                    }
                }
                Err(m) => issues.push(WorkflowIssue::field(id, format!("values[{i}]"), m)),
            }
        }
        check_unique_names(id, "values", &names, &mut issues);
        if !issues.is_empty() {
            return Err(issues);
        }
        self.shaper
            .aggregate(input, groups, aggregates, names)
            .map_err(|e| df_issue(id, e))
    }

    fn formula(&mut self, id: &str, c: &FormulaConfig, input: LogicalPlan) -> NodeResult {
        if c.column.trim().is_empty() {
            return Err(vec![WorkflowIssue::field(
                id,
                "column",
                "the new column needs a name",
            )]);
        }
        let schema = logical_schema(&input, id)?;
        let ordering = if c.order_by.is_empty() && c.partition_by.is_empty() {
            None
        } else {
            Some(WindowSpec {
                partition_by: column_list(&input, id, "partition_by", &c.partition_by)?,
                order_by: sort_keys(&input, id, "order_by", &c.order_by)?,
                frame: None,
            })
        };
        let typed = formula::compile(
            &c.expression,
            &schema,
            FormulaScope::Row {
                ordering: ordering.as_ref(),
            },
        )
        .map_err(|e| vec![WorkflowIssue::field(id, "expression", e.to_string())])?;
        self.add_column(id, input, typed.expr, &c.column)
    }

    fn window(&mut self, id: &str, c: &WindowConfig, input: LogicalPlan) -> NodeResult {
        if c.column.trim().is_empty() {
            return Err(vec![WorkflowIssue::field(
                id,
                "column",
                "the new column needs a name",
            )]);
        }
        let spec = WindowSpec {
            partition_by: column_list(&input, id, "partition_by", &c.partition_by)?,
            order_by: sort_keys(&input, id, "order_by", &c.order_by)?,
            frame: match &c.frame {
                Some(f) => Some(window_frame(id, f, !c.order_by.is_empty())?),
                None => None,
            },
        };
        let expr = match (&c.expression, c.function) {
            (Some(text), _) => {
                let schema = logical_schema(&input, id)?;
                formula::compile(text, &schema, FormulaScope::Window(&spec))
                    .map_err(|e| vec![WorkflowIssue::field(id, "expression", e.to_string())])?
                    .expr
            }
            (None, Some(function)) => window_function(&input, id, c, function, &spec)?,
            (None, None) => {
                return Err(vec![WorkflowIssue::field(
                    id,
                    "function",
                    "give a window function or an expression",
                )])
            }
        };
        self.add_column(id, input, expr, &c.column)
    }

    /// Adds `expr` as column `name` (replacing a column of that name in place); window
    /// functions inside `expr` are computed by a Window operator first.
    pub(super) fn add_column(
        &mut self,
        id: &str,
        input: LogicalPlan,
        expr: Expr,
        name: &str,
    ) -> NodeResult {
        let window_exprs = find_window_exprs(&expr);
        let (plan, expr) = if window_exprs.is_empty() {
            (input, expr)
        } else {
            let temp: Vec<String> = (0..window_exprs.len())
                .map(|i| format!("__flowforge_window_{i}"))
                .collect();
            let rewritten = expr
                .transform_down(|e| {
                    if let Some(i) = window_exprs.iter().position(|w| *w == e) {
                        Ok(Transformed::new(
                            Expr::Column(DfColumn::new_unqualified(temp[i].clone())),
                            true,
                            TreeNodeRecursion::Jump,
                        ))
                    } else {
                        Ok(Transformed::no(e))
                    }
                })
                .map_err(|e| df_issue(id, e))?
                .data;
            let windowed = self
                .shaper
                .window(input, window_exprs, temp)
                .map_err(|e| df_issue(id, e))?;
            (windowed, rewritten)
        };
        let mut exprs = Vec::new();
        let mut replaced = false;
        for (qualifier, field) in plan.schema().iter() {
            if field.name().starts_with("__flowforge_window_") {
                continue;
            }
            if field.name() == name {
                exprs.push(expr.clone().alias(name));
                replaced = true;
            } else {
                exprs.push(Expr::Column(DfColumn::new(
                    qualifier.cloned(),
                    field.name(),
                )));
            }
        }
        if !replaced {
            exprs.push(expr.alias(name));
        }
        self.shaper
            .project(plan, exprs)
            .map_err(|e| df_issue(id, e))
    }

    fn join(
        &mut self,
        id: &str,
        c: &JoinConfig,
        left: LogicalPlan,
        right: LogicalPlan,
    ) -> NodeResult {
        let mut issues = Vec::new();
        if c.on.is_empty() {
            issues.push(WorkflowIssue::field(
                id,
                "on",
                "a join needs at least one key pair",
            ));
        }
        let mut key_pairs = Vec::new();
        for (i, key) in c.on.iter().enumerate() {
            let l = column(&left, id, &format!("on[{i}].left"), &key.left);
            let r = column(&right, id, &format!("on[{i}].right"), &key.right);
            match (l, r) {
                (Ok(l), Ok(r)) => {
                    let compatible = l.ty == r.ty
                        || (l.ty.is_numeric() && r.ty.is_numeric())
                        || (l.ty.is_temporal() && r.ty.is_temporal());
                    if compatible {
                        key_pairs.push((l.name, r.name));
                    } else {
                        issues.push(WorkflowIssue::field(
                            id,
                            format!("on[{i}]"),
                            format!(
                                "cannot join {} column '{}' with {} column '{}'",
                                l.ty, key.left, r.ty, key.right
                            ),
                        ));
                    }
                }
                (l, r) => {
                    issues.extend(l.err());
                    issues.extend(r.err());
                }
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let left = self.join_side(left).map_err(|e| df_issue(id, e))?;
        let right = self.join_side(right).map_err(|e| df_issue(id, e))?;
        let left_q = qualifier_of(&left);
        let right_q = qualifier_of(&right);
        let right = if left_q.is_some() && left_q == right_q {
            self.shaper.derive(right).map_err(|e| df_issue(id, e))?
        } else {
            right
        };
        let right_q = qualifier_of(&right);
        let join_type = match c.join_type {
            JoinKind::Inner => JoinType::Inner,
            JoinKind::Left => JoinType::Left,
            JoinKind::Right => JoinType::Right,
            JoinKind::Full => JoinType::Full,
        };
        let left_keys: Vec<DfColumn> = key_pairs
            .iter()
            .map(|(l, _)| DfColumn::new(left_q.clone(), l))
            .collect();
        let right_keys: Vec<DfColumn> = key_pairs
            .iter()
            .map(|(_, r)| DfColumn::new(right_q.clone(), r))
            .collect();
        let left_names = columns::names(&left);
        let right_names = columns::names(&right);
        let joined = LogicalPlanBuilder::from(left)
            .join(right, join_type, (left_keys, right_keys), None)
            .and_then(|b| b.build())
            .map_err(|e| df_issue(id, e))?;
        let lcol = |n: &str| Expr::Column(DfColumn::new(left_q.clone(), n));
        let rcol = |n: &str| Expr::Column(DfColumn::new(right_q.clone(), n));
        let mut exprs = Vec::new();
        let mut used: BTreeSet<String> = BTreeSet::new();
        for name in &left_names {
            let merged_key = key_pairs.iter().find(|(l, r)| l == name && r == name);
            let expr = match (merged_key, c.join_type) {
                (Some(_), JoinKind::Right) => rcol(name).alias(name),
                (Some(_), JoinKind::Full) => {
                    datafusion::functions::core::expr_fn::coalesce(vec![lcol(name), rcol(name)])
                        .alias(name)
                }
                _ => lcol(name),
            };
            used.insert(name.clone());
            exprs.push(expr);
        }
        for name in &right_names {
            if key_pairs.iter().any(|(l, r)| l == name && r == name) {
                continue;
            }
            let mut out = name.clone();
            let mut attempt = 1;
            while used.contains(&out) {
                // `price` → `price_right` → `price_right2` ...; terminates even for an empty suffix.
                out = match attempt {
                    1 => format!("{name}{}", c.right_suffix),
                    n => format!("{name}{}{n}", c.right_suffix),
                };
                attempt += 1;
            }
            used.insert(out.clone());
            exprs.push(if &out == name {
                rcol(name)
            } else {
                rcol(name).alias(out)
            });
        }
        LogicalPlanBuilder::from(joined)
            .project(exprs)
            .and_then(|b| b.build())
            .map_err(|e| df_issue(id, e))
    }

    /// Join inputs other than bare table scans become derived tables, so an input's filter
    /// stays on its side of an outer join.
    fn join_side(&mut self, plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
        match plan {
            LogicalPlan::TableScan(_) | LogicalPlan::SubqueryAlias(_) => Ok(plan),
            other => self.shaper.derive(other),
        }
    }

    fn union(
        &mut self,
        id: &str,
        c: &UnionConfig,
        left: LogicalPlan,
        right: LogicalPlan,
    ) -> NodeResult {
        let mut issues = Vec::new();
        let mut left_exprs = Vec::new();
        let mut right_exprs = Vec::new();
        for (i, m) in c.mapping.iter().enumerate() {
            if let Err(e) = column(&left, id, &format!("mapping[{i}].left"), &m.left) {
                issues.push(e);
            }
            if let Err(e) = column(&right, id, &format!("mapping[{i}].right"), &m.right) {
                issues.push(e);
            }
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        for (qualifier, field) in left.schema().iter() {
            let name = field.name();
            let lref = Expr::Column(DfColumn::new(qualifier.cloned(), name));
            let ltype = ColumnType::from_arrow(field.data_type());
            let right_name = c
                .mapping
                .iter()
                .find(|m| &m.left == name)
                .map(|m| m.right.clone())
                .unwrap_or_else(|| name.clone());
            let rcol = column(&right, id, "mapping", &right_name).ok();
            let target: DataType = match (&rcol, ltype) {
                (Some(r), Some(lt)) if r.ty == lt => field.data_type().clone(),
                (Some(r), Some(lt)) if r.ty.is_numeric() && lt.is_numeric() => DataType::Float64,
                (Some(r), Some(lt)) => {
                    issues.push(WorkflowIssue::field(
                        id,
                        "mapping",
                        format!(
                            "column '{name}' is {lt} on the left but '{}' is {} on the right",
                            r.name, r.ty
                        ),
                    ));
                    continue;
                }
                _ => field.data_type().clone(),
            };
            let l = if field.data_type() == &target {
                lref
            } else {
                cast(lref, target.clone())
            };
            left_exprs.push(l.alias(name));
            let r = match rcol {
                Some(r) => cast(r.expr, target),
                None => cast(lit(ScalarValue::Null), target),
            };
            right_exprs.push(r.alias(name));
        }
        if !issues.is_empty() {
            return Err(issues);
        }
        let l = self
            .union_arm(left, left_exprs)
            .map_err(|e| df_issue(id, e))?;
        let r = self
            .union_arm(right, right_exprs)
            .map_err(|e| df_issue(id, e))?;
        let builder = LogicalPlanBuilder::from(l);
        let built = if c.distinct {
            builder.union_distinct(r)
        } else {
            builder.union(r)
        };
        built.and_then(|b| b.build()).map_err(|e| df_issue(id, e))
    }

    fn union_arm(
        &mut self,
        plan: LogicalPlan,
        exprs: Vec<Expr>,
    ) -> datafusion::error::Result<LogicalPlan> {
        let projected = self.shaper.project(plan, exprs)?;
        match projected {
            LogicalPlan::Sort(_)
            | LogicalPlan::Limit(_)
            | LogicalPlan::Distinct(_)
            | LogicalPlan::Union(_) => {
                let derived = self.shaper.derive(projected)?;
                let all = columns::all(&derived);
                LogicalPlanBuilder::from(derived).project(all)?.build()
            }
            other => Ok(other),
        }
    }
}

fn qualifier_of(plan: &LogicalPlan) -> Option<TableReference> {
    plan.schema().iter().next().and_then(|(q, _)| q.cloned())
}

fn find_window_exprs(expr: &Expr) -> Vec<Expr> {
    let mut found: Vec<Expr> = Vec::new();
    let _ = expr.apply(|e| {
        if matches!(e, Expr::WindowFunction(_)) {
            if !found.contains(e) {
                found.push(e.clone());
            }
            return Ok(TreeNodeRecursion::Jump);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// The logical schema of a plan, as an issue on the node if a column type is unsupported.
pub fn logical_schema(plan: &LogicalPlan, id: &str) -> Result<Schema, Vec<WorkflowIssue>> {
    Schema::from_df(plan.schema()).map_err(|m| vec![WorkflowIssue::node(id, m)])
}

/// References to listed columns, each checked; duplicates are an error.
pub fn column_list(
    plan: &LogicalPlan,
    id: &str,
    field: &str,
    names: &[String],
) -> Result<Vec<Expr>, Vec<WorkflowIssue>> {
    let mut issues = Vec::new();
    let mut exprs = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        if !seen.insert(name) {
            issues.push(WorkflowIssue::field(
                id,
                format!("{field}[{i}]"),
                format!("column '{name}' is listed twice"),
            ));
            continue;
        }
        match column(plan, id, &format!("{field}[{i}]"), name) {
            Ok(c) => exprs.push(c.expr),
            Err(e) => issues.push(e),
        }
    }
    if issues.is_empty() {
        Ok(exprs)
    } else {
        Err(issues)
    }
}

/// Sort keys with PostgreSQL's default NULL placement.
pub fn sort_keys(
    plan: &LogicalPlan,
    id: &str,
    field: &str,
    keys: &[SortKey],
) -> Result<Vec<SortExpr>, Vec<WorkflowIssue>> {
    let mut issues = Vec::new();
    let mut exprs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match column(plan, id, &format!("{field}[{i}].column"), &key.column) {
            Ok(c) => {
                let asc = key.direction == Direction::Asc;
                let nulls_first = match key.nulls {
                    Some(NullsOrder::First) => true,
                    Some(NullsOrder::Last) => false,
                    None => !asc,
                };
                exprs.push(SortExpr::new(c.expr, asc, nulls_first));
            }
            Err(e) => issues.push(e),
        }
    }
    if issues.is_empty() {
        Ok(exprs)
    } else {
        Err(issues)
    }
}

fn check_unique_names(id: &str, field: &str, names: &[String], issues: &mut Vec<WorkflowIssue>) {
    let mut seen = BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            issues.push(WorkflowIssue::field(
                id,
                field,
                format!("two output columns would be named '{name}'"),
            ));
        }
    }
}

/// Checks that an aggregate applies to a column's type.
pub fn check_aggregation(
    id: &str,
    field: &str,
    function: AggFunction,
    col: &ColumnRef,
) -> Result<(), WorkflowIssue> {
    let numeric_only = matches!(function, AggFunction::Sum | AggFunction::Avg);
    if numeric_only && !col.ty.is_numeric() {
        return Err(WorkflowIssue::field(
            id,
            field,
            format!(
                "{} needs a numeric column, but '{}' is {}",
                function.name(),
                col.name,
                col.ty
            ),
        ));
    }
    Ok(())
}

/// The aggregate of `function` over an optional argument (`count` of rows without one).
pub fn apply_aggregate(function: AggFunction, arg: Option<Expr>) -> Expr {
    match (function, arg) {
        (AggFunction::Count, None) => count_all(),
        (AggFunction::Count, Some(a)) => count(a),
        (AggFunction::CountDistinct, Some(a)) => count_distinct(a),
        (AggFunction::CountDistinct, None) => count_all(),
        (AggFunction::Sum, Some(a)) => sum(a),
        (AggFunction::Avg, Some(a)) => avg(a),
        (AggFunction::Min, Some(a)) => min(a),
        (AggFunction::Max, Some(a)) => max(a),
        (_, None) => count_all(),
    }
}

/// An aggregate over a named column, with its default output name.
pub fn aggregate_expr(
    plan: &LogicalPlan,
    id: &str,
    path: &str,
    function: AggFunction,
    column_name: Option<&str>,
) -> Result<(Expr, String), WorkflowIssue> {
    match column_name {
        None if function == AggFunction::Count => Ok((count_all(), "count".to_string())),
        None => Err(WorkflowIssue::field(
            id,
            format!("{path}.column"),
            format!("{} needs a column", function.name()),
        )),
        Some(name) => {
            let col = column(plan, id, &format!("{path}.column"), name)?;
            check_aggregation(id, &format!("{path}.function"), function, &col)?;
            Ok((
                apply_aggregate(function, Some(col.expr)),
                format!("{}_{}", function.name(), name),
            ))
        }
    }
}

fn window_frame(
    id: &str,
    f: &FrameConfig,
    ordered: bool,
) -> Result<WindowFrame, Vec<WorkflowIssue>> {
    let bound = |b: FrameBound, field: &str| -> Result<WindowFrameBound, WorkflowIssue> {
        let value = |n: u64| ScalarValue::UInt64(Some(n));
        Ok(match b {
            FrameBound::UnboundedPreceding => {
                WindowFrameBound::Preceding(ScalarValue::UInt64(None))
            }
            FrameBound::Preceding(n) => WindowFrameBound::Preceding(value(n)),
            FrameBound::CurrentRow => WindowFrameBound::CurrentRow,
            FrameBound::Following(n) => WindowFrameBound::Following(value(n)),
            FrameBound::UnboundedFollowing => {
                if field == "frame.start" {
                    return Err(WorkflowIssue::field(
                        id,
                        field,
                        "a frame cannot start at unbounded_following",
                    ));
                }
                WindowFrameBound::Following(ScalarValue::UInt64(None))
            }
        })
    };
    let start = bound(f.start, "frame.start").map_err(|e| vec![e])?;
    let end = bound(f.end, "frame.end").map_err(|e| vec![e])?;
    if matches!(f.end, FrameBound::UnboundedPreceding) {
        return Err(vec![WorkflowIssue::field(
            id,
            "frame.end",
            "a frame cannot end at unbounded_preceding",
        )]);
    }
    let units = match f.unit {
        FrameUnit::Rows => WindowFrameUnits::Rows,
        FrameUnit::Range => WindowFrameUnits::Range,
    };
    if units == WindowFrameUnits::Range && !ordered {
        return Err(vec![WorkflowIssue::field(
            id,
            "frame.unit",
            "a range frame needs order_by",
        )]);
    }
    Ok(WindowFrame::new_bounds(units, start, end))
}

fn window_function(
    plan: &LogicalPlan,
    id: &str,
    c: &WindowConfig,
    function: WindowFunctionKind,
    spec: &WindowSpec,
) -> Result<Expr, Vec<WorkflowIssue>> {
    use WindowFunctionKind as W;
    let needs_order = matches!(
        function,
        W::RowNumber | W::Rank | W::DenseRank | W::Lag | W::Lead
    );
    if needs_order && spec.order_by.is_empty() {
        return Err(vec![WorkflowIssue::field(
            id,
            "order_by",
            format!("{function:?} needs order_by").to_lowercase(),
        )]);
    }
    let arg = |numeric: bool| -> Result<Expr, Vec<WorkflowIssue>> {
        let name = c.input.as_deref().ok_or_else(|| {
            vec![WorkflowIssue::field(
                id,
                "input",
                "this window function needs an input column",
            )]
        })?;
        let col = column(plan, id, "input", name).map_err(|e| vec![e])?;
        if numeric && !col.ty.is_numeric() {
            return Err(vec![WorkflowIssue::field(
                id,
                "input",
                format!("needs a numeric column, but '{name}' is {}", col.ty),
            )]);
        }
        Ok(col.expr)
    };
    let offset = c.offset.unwrap_or(1) as i64;
    let base = match function {
        W::RowNumber => row_number(),
        W::Rank => rank(),
        W::DenseRank => dense_rank(),
        W::Lag => lag(arg(false)?, Some(offset), None),
        W::Lead => lead(arg(false)?, Some(offset), None),
        W::FirstValue => first_value(arg(false)?),
        W::LastValue => last_value(arg(false)?),
        W::Sum => sum(arg(true)?),
        W::Avg => avg(arg(true)?),
        W::Min => min(arg(false)?),
        W::Max => max(arg(false)?),
        W::Count => match &c.input {
            Some(_) => count(arg(false)?),
            None => count_all(),
        },
    };
    let aggregate = matches!(base, Expr::AggregateFunction(_));
    let base = match base {
        Expr::AggregateFunction(a) => Expr::from(WindowFunction::new(
            WindowFunctionDefinition::AggregateUDF(a.func),
            a.params.args,
        )),
        other => other,
    };
    let mut builder = base
        .partition_by(spec.partition_by.clone())
        .order_by(spec.order_by.clone());
    let framed = aggregate || matches!(function, W::FirstValue | W::LastValue);
    if let (Some(frame), true) = (&spec.frame, framed) {
        builder = builder.window_frame(frame.clone());
    }
    builder.build().map_err(|e| df_issue(id, e))
}

/// A per-row hash of the seed and the row's portable columns (strings, integers, booleans,
/// whose text form is the same on every backend), as lowercase hex.
fn sample_fingerprint(plan: &LogicalPlan, seed: u64) -> Expr {
    let mut parts = vec![lit(seed.to_string())];
    let mut fallback = vec![lit(seed.to_string())];
    for (qualifier, field) in plan.schema().iter() {
        let col = Expr::Column(DfColumn::new(qualifier.cloned(), field.name()));
        let text = cast(col, DataType::Utf8);
        match ColumnType::from_arrow(field.data_type()) {
            Some(ColumnType::String | ColumnType::Int | ColumnType::Bool) => parts.push(text),
            _ => fallback.push(text),
        }
    }
    let args = if parts.len() > 1 { parts } else { fallback };
    md5(concat_ws(lit("|"), args))
}
