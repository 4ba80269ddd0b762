//! Plan shaping: combine each new operator with the plan below it so the unparser can emit one
//! flat SELECT.
//!
//! DataFusion's unparser turns a plan into SQL top-down and opens a derived table whenever an
//! operator sits where one SELECT cannot express it (a projection over a projection, a sort below
//! a projection, a filter over a window...). Rather than run the optimizer (whose rewritten plans
//! do not always unparse to valid SQL, see DESIGN.md), each builder here merges the new operator
//! into the existing plan where that is semantically exact — substituting projected expressions,
//! lifting projections above sorts and limits, AND-ing filters — and otherwise wraps the input in
//! an explicit derived table so the SQL keeps the workflow's meaning.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result as DfResult};
use datafusion::logical_expr::{
    and, Expr, ExprSchemable, Limit, LogicalPlan, LogicalPlanBuilder, Projection, Sort, SortExpr,
};

/// Builds shaped plans; hands out unique derived-table aliases.
#[derive(Debug, Default)]
pub struct Shaper {
    derived: usize,
}

/// Whether a plan's top needs a derived table before an operator is put over it.
fn is_barrier(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Limit(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Distinct(_)
        | LogicalPlan::Union(_) => true,
        LogicalPlan::Sort(sort) => sort.fetch.is_some(),
        LogicalPlan::Projection(p) => {
            matches!(
                p.input.as_ref(),
                LogicalPlan::Window(_) | LogicalPlan::Distinct(_)
            )
        }
        _ => false,
    }
}

fn contains_aggregate(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(_) => true,
        LogicalPlan::Projection(p) => contains_aggregate(&p.input),
        LogicalPlan::Filter(f) => contains_aggregate(&f.input),
        LogicalPlan::Sort(s) => contains_aggregate(&s.input),
        _ => false,
    }
}

fn contains_window(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Window(_) => true,
        LogicalPlan::Projection(p) => contains_window(&p.input),
        LogicalPlan::Filter(f) => contains_window(&f.input),
        LogicalPlan::Sort(s) => contains_window(&s.input),
        _ => false,
    }
}

/// Output columns of a projection mapped to the expressions that compute them.
fn projection_map(p: &Projection) -> HashMap<Column, Expr> {
    p.schema
        .columns()
        .into_iter()
        .zip(p.expr.iter())
        .map(|(column, expr)| (column, expr.clone().unalias()))
        .collect()
}

/// Replaces references to a projection's outputs by the expressions behind them.
fn substitute(expr: Expr, map: &HashMap<Column, Expr>) -> DfResult<Expr> {
    expr.transform(|e| {
        if let Expr::Column(c) = &e {
            let found = map.get(c).or_else(|| {
                if c.relation.is_none() {
                    map.iter().find(|(k, _)| k.name == c.name).map(|(_, v)| v)
                } else {
                    None
                }
            });
            if let Some(replacement) = found {
                return Ok(Transformed::yes(replacement.clone()));
            }
        }
        Ok(Transformed::no(e))
    })
    .map(|t| t.data)
}

/// Drops table qualifiers so expressions built against a plan still resolve once that plan is
/// wrapped in a derived table (node outputs always have unique column names).
fn unqualify(expr: Expr) -> DfResult<Expr> {
    expr.transform(|e| match e {
        Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
            Column::new_unqualified(c.name),
        ))),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

fn unqualify_all(exprs: Vec<Expr>) -> DfResult<Vec<Expr>> {
    exprs.into_iter().map(unqualify).collect()
}

fn unqualify_sorts(keys: Vec<SortExpr>) -> DfResult<Vec<SortExpr>> {
    keys.into_iter()
        .map(|k| {
            Ok(SortExpr {
                expr: unqualify(k.expr)?,
                asc: k.asc,
                nulls_first: k.nulls_first,
            })
        })
        .collect()
}

fn is_volatile(p: &Projection) -> bool {
    p.expr.iter().any(|e| e.is_volatile())
}

/// The output name an expression gets over a plan.
fn output_name(expr: &Expr, plan: &LogicalPlan) -> DfResult<String> {
    Ok(expr.to_field(plan.schema())?.1.name().clone())
}

impl Shaper {
    /// Wraps `plan` in a derived table (`(SELECT ...) AS derived_n`).
    pub fn derive(&mut self, plan: LogicalPlan) -> DfResult<LogicalPlan> {
        self.derived += 1;
        LogicalPlanBuilder::from(plan)
            .alias(format!("derived_{}", self.derived))?
            .build()
    }

    /// `SELECT exprs FROM plan`, merged into the projection/sort/limit below where exact.
    pub fn project(&mut self, plan: LogicalPlan, exprs: Vec<Expr>) -> DfResult<LogicalPlan> {
        match plan {
            LogicalPlan::Projection(p)
                if !is_volatile(&p) && !matches!(p.input.as_ref(), LogicalPlan::Distinct(_)) =>
            {
                let over = LogicalPlan::Projection(p.clone());
                let map = projection_map(&p);
                let mut composed = Vec::with_capacity(exprs.len());
                for expr in exprs {
                    let name = output_name(&expr, &over)?;
                    let inner = substitute(expr.unalias(), &map)?;
                    composed.push(match &inner {
                        Expr::Column(c) if c.name == name => inner,
                        _ => inner.alias(name),
                    });
                }
                self.project(Arc::unwrap_or_clone(p.input), composed)
            }
            LogicalPlan::Limit(limit) => {
                let Limit { skip, fetch, input } = limit;
                let projected = self.project(Arc::unwrap_or_clone(input), exprs)?;
                Ok(LogicalPlan::Limit(Limit {
                    skip,
                    fetch,
                    input: Arc::new(projected),
                }))
            }
            LogicalPlan::Sort(sort) if sort.fetch.is_none() => {
                match lift_sort_keys(&sort.expr, &exprs, sort.input.as_ref())? {
                    Some(keys) => {
                        let projected = self.project(Arc::unwrap_or_clone(sort.input), exprs)?;
                        LogicalPlanBuilder::from(projected).sort(keys)?.build()
                    }
                    None => LogicalPlanBuilder::from(LogicalPlan::Sort(sort))
                        .project(exprs)?
                        .build(),
                }
            }
            other => LogicalPlanBuilder::from(other).project(exprs)?.build(),
        }
    }

    /// `WHERE predicate`, pushed below projections and sorts and AND-ed with filters.
    pub fn filter(&mut self, plan: LogicalPlan, predicate: Expr) -> DfResult<LogicalPlan> {
        match plan {
            LogicalPlan::Projection(p)
                if !is_volatile(&p) && !is_barrier(&LogicalPlan::Projection(p.clone())) =>
            {
                let map = projection_map(&p);
                let inner = substitute(predicate, &map)?;
                let filtered = self.filter(Arc::unwrap_or_clone(p.input), inner)?;
                self.project(filtered, p.expr)
            }
            LogicalPlan::Sort(sort) if sort.fetch.is_none() => {
                let filtered = self.filter(Arc::unwrap_or_clone(sort.input), predicate)?;
                LogicalPlanBuilder::from(filtered).sort(sort.expr)?.build()
            }
            LogicalPlan::Filter(f) => LogicalPlanBuilder::from(Arc::unwrap_or_clone(f.input))
                .filter(and(f.predicate, predicate))?
                .build(),
            other if is_barrier(&other) || contains_window(&other) => {
                let derived = self.derive(other)?;
                LogicalPlanBuilder::from(derived)
                    .filter(unqualify(predicate)?)?
                    .build()
            }
            other => LogicalPlanBuilder::from(other).filter(predicate)?.build(),
        }
    }

    /// `ORDER BY keys`; replaces an earlier sort, which the new one overrides.
    pub fn sort(&mut self, plan: LogicalPlan, keys: Vec<SortExpr>) -> DfResult<LogicalPlan> {
        match plan {
            LogicalPlan::Sort(Sort {
                input, fetch: None, ..
            }) => LogicalPlanBuilder::from(Arc::unwrap_or_clone(input))
                .sort(keys)?
                .build(),
            other if is_barrier(&other) && !matches!(other, LogicalPlan::Window(_)) => {
                let derived = self.derive(other)?;
                LogicalPlanBuilder::from(derived)
                    .sort(unqualify_sorts(keys)?)?
                    .build()
            }
            other => LogicalPlanBuilder::from(other).sort(keys)?.build(),
        }
    }

    /// `LIMIT fetch OFFSET skip`, merged with a limit below.
    pub fn limit(
        &mut self,
        plan: LogicalPlan,
        skip: usize,
        fetch: Option<usize>,
    ) -> DfResult<LogicalPlan> {
        match plan {
            LogicalPlan::Limit(inner) => {
                let inner_skip = inner.get_skip_type()?;
                let inner_fetch = inner.get_fetch_type()?;
                match (inner_skip, inner_fetch) {
                    (
                        datafusion::logical_expr::SkipType::Literal(s1),
                        datafusion::logical_expr::FetchType::Literal(f1),
                    ) => {
                        let new_fetch = match (f1, fetch) {
                            (Some(f1), Some(f2)) => Some(f2.min(f1.saturating_sub(skip))),
                            (Some(f1), None) => Some(f1.saturating_sub(skip)),
                            (None, f2) => f2,
                        };
                        LogicalPlanBuilder::from(Arc::unwrap_or_clone(inner.input))
                            .limit(s1 + skip, new_fetch)?
                            .build()
                    }
                    _ => LogicalPlanBuilder::from(LogicalPlan::Limit(inner))
                        .limit(skip, fetch)?
                        .build(),
                }
            }
            LogicalPlan::Union(_) => {
                let derived = self.derive(plan)?;
                LogicalPlanBuilder::from(derived)
                    .limit(skip, fetch)?
                    .build()
            }
            other => LogicalPlanBuilder::from(other).limit(skip, fetch)?.build(),
        }
    }

    /// `GROUP BY groups` computing `aggregates`, then naming the outputs `names` in order
    /// (groups first). Merges into a projection below by substitution.
    pub fn aggregate(
        &mut self,
        plan: LogicalPlan,
        groups: Vec<Expr>,
        aggregates: Vec<Expr>,
        names: Vec<String>,
    ) -> DfResult<LogicalPlan> {
        let (input, groups, aggregates) = match plan {
            LogicalPlan::Projection(p)
                if !is_volatile(&p)
                    && !contains_aggregate(&p.input)
                    && !contains_window(&p.input)
                    && !is_barrier(&p.input) =>
            {
                let map = projection_map(&p);
                let groups = groups
                    .into_iter()
                    .map(|g| substitute(g, &map))
                    .collect::<DfResult<Vec<_>>>()?;
                let aggregates = aggregates
                    .into_iter()
                    .map(|a| substitute(a, &map))
                    .collect::<DfResult<Vec<_>>>()?;
                let input = match Arc::unwrap_or_clone(p.input) {
                    LogicalPlan::Sort(s) if s.fetch.is_none() => Arc::unwrap_or_clone(s.input),
                    other => other,
                };
                (input, groups, aggregates)
            }
            LogicalPlan::Sort(s) if s.fetch.is_none() && !contains_aggregate(&s.input) => {
                (Arc::unwrap_or_clone(s.input), groups, aggregates)
            }
            other
                if is_barrier(&other) || contains_aggregate(&other) || contains_window(&other) =>
            {
                (
                    self.derive(other)?,
                    unqualify_all(groups)?,
                    unqualify_all(aggregates)?,
                )
            }
            other => (other, groups, aggregates),
        };
        let aggregated = LogicalPlanBuilder::from(input)
            .aggregate(groups, aggregates)?
            .build()?;
        let columns = aggregated.schema().columns();
        let exprs = columns
            .into_iter()
            .zip(names)
            .map(|(column, name)| Expr::Column(column).alias(name))
            .collect::<Vec<_>>();
        LogicalPlanBuilder::from(aggregated).project(exprs)?.build()
    }

    /// Adds window-function columns named `names`, keeping every input column.
    pub fn window(
        &mut self,
        plan: LogicalPlan,
        window_exprs: Vec<Expr>,
        names: Vec<String>,
    ) -> DfResult<LogicalPlan> {
        let (input, passthrough, window_exprs) = match plan {
            LogicalPlan::Projection(p)
                if !is_volatile(&p)
                    && !contains_aggregate(&p.input)
                    && !contains_window(&p.input)
                    && !is_barrier(&p.input) =>
            {
                let map = projection_map(&p);
                let window_exprs = window_exprs
                    .into_iter()
                    .map(|w| substitute(w, &map))
                    .collect::<DfResult<Vec<_>>>()?;
                let passthrough = p.expr.clone();
                (Arc::unwrap_or_clone(p.input), passthrough, window_exprs)
            }
            other => {
                let (other, window_exprs) = if is_barrier(&other)
                    || contains_aggregate(&other)
                    || contains_window(&other)
                {
                    (self.derive(other)?, unqualify_all(window_exprs)?)
                } else {
                    (other, window_exprs)
                };
                let passthrough = other
                    .schema()
                    .columns()
                    .into_iter()
                    .map(Expr::Column)
                    .collect();
                (other, passthrough, window_exprs)
            }
        };
        let windowed = LogicalPlanBuilder::from(input)
            .window(window_exprs)?
            .build()?;
        let all = windowed.schema().columns();
        let added = all.len() - names.len().min(all.len());
        let mut exprs = passthrough;
        for (column, name) in all.into_iter().skip(added).zip(names) {
            exprs.push(Expr::Column(column).alias(name));
        }
        // Replace passthrough columns that a window column of the same name supersedes.
        let mut seen = std::collections::HashSet::new();
        let mut deduped: Vec<Expr> = Vec::with_capacity(exprs.len());
        for expr in exprs.into_iter().rev() {
            let name = output_name(&expr, &windowed)?;
            if seen.insert(name) {
                deduped.push(expr);
            }
        }
        deduped.reverse();
        LogicalPlanBuilder::from(windowed).project(deduped)?.build()
    }
}

/// Rewrites sort keys over `input` in terms of a projection's outputs, when every key is a column
/// the projection keeps unchanged (possibly renamed).
fn lift_sort_keys(
    keys: &[SortExpr],
    exprs: &[Expr],
    input: &LogicalPlan,
) -> DfResult<Option<Vec<SortExpr>>> {
    let mut lifted = Vec::with_capacity(keys.len());
    for key in keys {
        let Expr::Column(key_col) = &key.expr else {
            return Ok(None);
        };
        let mut found = None;
        for expr in exprs {
            let (inner, alias) = match expr {
                Expr::Alias(a) => (a.expr.as_ref(), Some(a.name.clone())),
                e => (e, None),
            };
            if let Expr::Column(c) = inner {
                let same = c == key_col
                    || (c.relation.is_none() && c.name == key_col.name)
                    || (key_col.relation.is_none() && c.name == key_col.name);
                if same {
                    let name = match alias {
                        Some(a) => a,
                        None => output_name(expr, input)?,
                    };
                    found = Some(Expr::Column(Column::new_unqualified(name)));
                    break;
                }
            }
        }
        match found {
            Some(expr) => lifted.push(SortExpr {
                expr,
                asc: key.asc,
                nulls_first: key.nulls_first,
            }),
            None => return Ok(None),
        }
    }
    Ok(Some(lifted))
}
