//! Output nodes: the data each visualization needs, validated against its input contract.
//!
//! An output node's plan is what a widget renders and what a published view returns: the
//! chart's columns (aggregated where the chart aggregates), in display order.

use datafusion::logical_expr::{Expr, LogicalPlan, SortExpr};

use super::columns::{column, ColumnRef};
use super::nodes::{
    apply_aggregate, check_aggregation, column_list, df_issue, NodeCompiler, NodeResult,
};
use crate::error::WorkflowIssue;

use crate::workflow::*;

/// What kinds of column a chart field accepts.
#[derive(Clone, Copy)]
enum Need {
    Any,
    Numeric,
    Temporal,
    TemporalOrNumeric,
}

fn need(
    plan: &LogicalPlan,
    id: &str,
    field: &str,
    name: &str,
    need: Need,
) -> Result<ColumnRef, WorkflowIssue> {
    let col = column(plan, id, field, name)?;
    let ok = match need {
        Need::Any => true,
        Need::Numeric => col.ty.is_numeric(),
        Need::Temporal => col.ty.is_temporal(),
        Need::TemporalOrNumeric => col.ty.is_temporal() || col.ty.is_numeric(),
    };
    if ok {
        Ok(col)
    } else {
        let wanted = match need {
            Need::Any => "any",
            Need::Numeric => "numeric",
            Need::Temporal => "date or timestamp",
            Need::TemporalOrNumeric => "date, timestamp or numeric",
        };
        Err(WorkflowIssue::field(
            id,
            field,
            format!("needs a {wanted} column, but '{name}' is {}", col.ty),
        ))
    }
}

/// Collects column checks, then fails with all issues at once.
#[derive(Default)]
struct Checks {
    columns: Vec<ColumnRef>,
    issues: Vec<WorkflowIssue>,
}

impl Checks {
    fn add(&mut self, result: Result<ColumnRef, WorkflowIssue>) -> Option<usize> {
        match result {
            Ok(c) => {
                self.columns.push(c);
                Some(self.columns.len() - 1)
            }
            Err(e) => {
                self.issues.push(e);
                None
            }
        }
    }

    /// The checked columns, each once (a column may serve two roles, e.g. open and close).
    fn finish(self) -> Result<Vec<ColumnRef>, Vec<WorkflowIssue>> {
        if !self.issues.is_empty() {
            return Err(self.issues);
        }
        let mut seen = std::collections::BTreeSet::new();
        Ok(self
            .columns
            .into_iter()
            .filter(|c| seen.insert(c.name.clone()))
            .collect())
    }
}

fn asc(expr: Expr) -> SortExpr {
    SortExpr::new(expr, true, false)
}

/// How many distinct columns lead a chart's column list (x, then color if different).
fn dimension_count(x: &str, color: Option<&str>) -> usize {
    match color {
        Some(c) if c != x => 2,
        _ => 1,
    }
}

/// Compiles an output node over its input.
pub fn compile(
    c: &mut NodeCompiler<'_>,
    id: &str,
    kind: &NodeKind,
    input: LogicalPlan,
) -> NodeResult {
    let map = |e| df_issue(id, e);
    match kind {
        NodeKind::TableView(cfg) => {
            if cfg.columns.is_empty() {
                return Ok(input);
            }
            let exprs = column_list(&input, id, "columns", &cfg.columns)?;
            c.shaper.project(input, exprs).map_err(map)
        }
        NodeKind::BarChart(cfg) => {
            let mut checks = Checks::default();
            checks.add(need(&input, id, "x", &cfg.x, Need::Any));
            if let Some(color) = &cfg.color {
                checks.add(need(&input, id, "color", color, Need::Any));
            }
            if cfg.y.is_empty() {
                checks.issues.push(WorkflowIssue::field(
                    id,
                    "y",
                    "choose at least one numeric series",
                ));
            }
            for (i, y) in cfg.y.iter().enumerate() {
                checks.add(need(&input, id, &format!("y[{i}]"), y, Need::Numeric));
            }
            let cols = checks.finish()?;
            let dims = dimension_count(&cfg.x, cfg.color.as_deref());
            match cfg.aggregation {
                Some(function) => {
                    let (groups, series) = cols.split_at(dims.min(cols.len()));
                    for s in series {
                        check_aggregation(id, "aggregation", function, s).map_err(|e| vec![e])?;
                    }
                    let names = cols.iter().map(|c| c.name.clone()).collect();
                    let aggregates = series
                        .iter()
                        .map(|s| apply_aggregate(function, Some(s.expr.clone())))
                        .collect();
                    let group_exprs = groups.iter().map(|g| g.expr.clone()).collect();
                    let plan = c
                        .shaper
                        .aggregate(input, group_exprs, aggregates, names)
                        .map_err(map)?;
                    let keys = groups
                        .iter()
                        .map(|g| {
                            asc(Expr::Column(datafusion::common::Column::new_unqualified(
                                &g.name,
                            )))
                        })
                        .collect();
                    c.shaper.sort(plan, keys).map_err(map)
                }
                None => c
                    .shaper
                    .project(input, cols.into_iter().map(|c| c.expr).collect())
                    .map_err(map),
            }
        }
        NodeKind::LineChart(cfg) => {
            let mut checks = Checks::default();
            checks.add(need(&input, id, "x", &cfg.x, Need::TemporalOrNumeric));
            if let Some(color) = &cfg.color {
                checks.add(need(&input, id, "color", color, Need::Any));
            }
            if cfg.y.is_empty() {
                checks.issues.push(WorkflowIssue::field(
                    id,
                    "y",
                    "choose at least one numeric series",
                ));
            }
            for (i, y) in cfg.y.iter().enumerate() {
                checks.add(need(&input, id, &format!("y[{i}]"), y, Need::Numeric));
            }
            let cols = checks.finish()?;
            let dims = dimension_count(&cfg.x, cfg.color.as_deref());
            let keys: Vec<SortExpr> = cols[..dims.min(cols.len())]
                .iter()
                .map(|k| asc(k.expr.clone()))
                .collect();
            let sorted = c.shaper.sort(input, keys).map_err(map)?;
            c.shaper
                .project(sorted, cols.into_iter().map(|c| c.expr).collect())
                .map_err(map)
        }
        NodeKind::Candlestick(cfg) => {
            let mut checks = Checks::default();
            let series = match &cfg.series {
                Some(series) => checks.add(need(&input, id, "series", series, Need::Any)),
                None => None,
            };
            let time = checks.add(need(&input, id, "time", &cfg.time, Need::Temporal));
            for (field, name) in [
                ("open", &cfg.open),
                ("high", &cfg.high),
                ("low", &cfg.low),
                ("close", &cfg.close),
            ] {
                checks.add(need(&input, id, field, name, Need::Numeric));
            }
            if let Some(volume) = &cfg.volume {
                checks.add(need(&input, id, "volume", volume, Need::Numeric));
            }
            let cols = checks.finish()?;
            let keys: Vec<SortExpr> = [series, time]
                .into_iter()
                .flatten()
                .filter_map(|i| cols.get(i))
                .map(|k| asc(k.expr.clone()))
                .collect();
            let sorted = c.shaper.sort(input, keys).map_err(map)?;
            c.shaper
                .project(sorted, cols.into_iter().map(|c| c.expr).collect())
                .map_err(map)
        }
        NodeKind::ScatterPlot(cfg) => {
            let mut checks = Checks::default();
            checks.add(need(&input, id, "x", &cfg.x, Need::Numeric));
            checks.add(need(&input, id, "y", &cfg.y, Need::Numeric));
            if let Some(size) = &cfg.size {
                checks.add(need(&input, id, "size", size, Need::Numeric));
            }
            if let Some(color) = &cfg.color {
                checks.add(need(&input, id, "color", color, Need::Any));
            }
            let cols = checks.finish()?;
            c.shaper
                .project(input, cols.into_iter().map(|c| c.expr).collect())
                .map_err(map)
        }
        NodeKind::KpiCard(cfg) => {
            let aggregate = match &cfg.metric {
                Some(metric) => {
                    let col = column(&input, id, "metric", metric).map_err(|e| vec![e])?;
                    check_aggregation(id, "aggregation", cfg.aggregation, &col)
                        .map_err(|e| vec![e])?;
                    apply_aggregate(cfg.aggregation, Some(col.expr))
                }
                None if cfg.aggregation == AggFunction::Count => {
                    apply_aggregate(AggFunction::Count, None)
                }
                None => {
                    return Err(vec![WorkflowIssue::field(
                        id,
                        "metric",
                        format!("{} needs a metric column", cfg.aggregation.name()),
                    )])
                }
            };
            c.shaper
                .aggregate(input, vec![], vec![aggregate], vec!["value".to_string()])
                .map_err(map)
        }
        NodeKind::PivotTable(cfg) => {
            let mut checks = Checks::default();
            if cfg.rows.is_empty() {
                checks.issues.push(WorkflowIssue::field(
                    id,
                    "rows",
                    "choose at least one row dimension",
                ));
            }
            for (i, r) in cfg.rows.iter().enumerate() {
                checks.add(need(&input, id, &format!("rows[{i}]"), r, Need::Any));
            }
            for (i, col) in cfg.columns.iter().enumerate() {
                checks.add(need(&input, id, &format!("columns[{i}]"), col, Need::Any));
            }
            checks.add(need(&input, id, "value", &cfg.value, Need::Any));
            let cols = checks.finish()?;
            let value = cols
                .iter()
                .find(|c| c.name == cfg.value)
                .cloned()
                .ok_or_else(|| vec![WorkflowIssue::field(id, "value", "missing")])?;
            check_aggregation(id, "aggregation", cfg.aggregation, &value).map_err(|e| vec![e])?;
            let dims: Vec<&ColumnRef> = cols.iter().filter(|c| c.name != value.name).collect();
            let mut names: Vec<String> = dims.iter().map(|d| d.name.clone()).collect();
            names.push(value.name.clone());
            let groups = dims.iter().map(|d| d.expr.clone()).collect();
            let plan = c
                .shaper
                .aggregate(
                    input,
                    groups,
                    vec![apply_aggregate(cfg.aggregation, Some(value.expr.clone()))],
                    names,
                )
                .map_err(map)?;
            let keys = dims
                .iter()
                .map(|d| {
                    asc(Expr::Column(datafusion::common::Column::new_unqualified(
                        &d.name,
                    )))
                })
                .collect();
            c.shaper.sort(plan, keys).map_err(map)
        }
        other => Err(vec![WorkflowIssue::node(
            id,
            format!("node type {} cannot be compiled here", other.type_name()),
        )]),
    }
}
