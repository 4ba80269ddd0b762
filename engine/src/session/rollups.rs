//! Aggregate awareness: hourly and daily trade aggregates answered from the OHLCV rollups.
//!
//! A query (or workflow view) that groups `fct_trades` by `date_trunc('hour' | 'day',
//! event_time)` — optionally also by `symbol`, optionally filtered on `symbol` only — and
//! computes only `sum(quantity)`, `max(price)`, `min(price)` and `count(*)` has the same answer
//! from `agg_ohlcv_1h` / `agg_ohlcv_1d` (`sum(volume)`, `max(high)`, `min(low)`,
//! `sum(trade_count)`), which are built from the very same trades with UTC buckets and hold a
//! row only where trades exist. This analyzer rule, run after the tenant's views are inlined and
//! types are coerced, swaps such an aggregate for one over the rollup — read through the same
//! tenant's entitlement filter — under a projection that keeps every output name, so the
//! rest of the plan is unchanged. Anything else (other aggregates, filters on time or price,
//! other grouping keys) is left alone.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{
    col, lit, Aggregate, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::optimizer::analyzer::AnalyzerRule;

use super::acl::SYMBOL_COLUMN;

/// The trades table the rule reads aggregates of, and the rollups it answers them from.
#[derive(Debug)]
pub(crate) struct RollupRule {
    /// The raw provider of `fct_trades` (what the inlined, filtered plan scans).
    trades: Arc<dyn TableProvider>,
    /// `agg_ohlcv_1h` as this tenant sees it (entitlement-filtered).
    hourly: Arc<dyn TableProvider>,
    /// `agg_ohlcv_1d` as this tenant sees it.
    daily: Arc<dyn TableProvider>,
}

impl RollupRule {
    /// A rule over this session's trades and rollups.
    pub(crate) fn new(
        trades: Arc<dyn TableProvider>,
        hourly: Arc<dyn TableProvider>,
        daily: Arc<dyn TableProvider>,
    ) -> Self {
        RollupRule {
            trades,
            hourly,
            daily,
        }
    }
}

/// The name of the rollup a plan was answered from, if the rule rewrote it (for EXPLAIN).
pub(crate) fn rollup_used(plan: &LogicalPlan) -> Option<String> {
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let name = scan.table_name.table();
            if name.starts_with("agg_ohlcv_") {
                found = Some(name.to_string());
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    found
}

impl AnalyzerRule for RollupRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match &node {
            LogicalPlan::Aggregate(aggregate) => match self.rewrite(aggregate)? {
                Some(rewritten) => Ok(Transformed::yes(rewritten)),
                None => Ok(Transformed::no(node)),
            },
            _ => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "flowforge_rollups"
    }
}

/// The bucket width a `date_trunc` grouping expression asks for.
fn bucket_of(expr: &Expr) -> Option<(&'static str, &Column)> {
    let expr = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::ScalarFunction(function) = expr else {
        return None;
    };
    if function.name() != "date_trunc" {
        return None;
    }
    let [unit, value] = function.args.as_slice() else {
        return None;
    };
    let unit = match unit {
        Expr::Literal(ScalarValue::Utf8(Some(u)) | ScalarValue::Utf8View(Some(u)), _) => {
            u.to_lowercase()
        }
        _ => return None,
    };
    let Expr::Column(column) = value else {
        return None;
    };
    if column.name != "event_time" {
        return None;
    }
    match unit.as_str() {
        "hour" => Some(("hour", column)),
        "day" => Some(("day", column)),
        _ => None,
    }
}

/// What an aggregate of trades becomes over a rollup, by function and argument column.
fn rollup_aggregate(expr: &Expr) -> Option<Expr> {
    let inner = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
        return None;
    };
    if params.distinct
        || params.filter.is_some()
        || !params.order_by.is_empty()
        || params.null_treatment.is_some()
    {
        return None;
    }
    let argument = match params.args.as_slice() {
        [Expr::Column(c)] => Some(c.name.as_str()),
        [Expr::Literal(..)] | [] => None,
        _ => return None,
    };
    use datafusion::functions_aggregate::expr_fn::{max, min, sum};
    match (func.name(), argument) {
        ("sum", Some("quantity")) => Some(sum(col("volume"))),
        ("max", Some("price")) => Some(max(col("high"))),
        ("min", Some("price")) => Some(min(col("low"))),
        ("count", None) | ("count", Some("trade_id")) => {
            Some(datafusion::functions::expr_fn::coalesce(vec![
                sum(col("trade_count")),
                lit(0i64),
            ]))
        }
        _ => None,
    }
}

impl RollupRule {
    /// The input of an aggregate if it reads this tenant's `fct_trades` (under its entitlement
    /// filter), with only symbol filters added: `(symbol predicates)`.
    fn trades_input(&self, plan: &LogicalPlan) -> Option<Vec<Expr>> {
        let mut predicates = Vec::new();
        let mut node = plan;
        loop {
            match node {
                LogicalPlan::Projection(p) => {
                    if !p.expr.iter().all(|e| matches!(e, Expr::Column(_))) {
                        return None;
                    }
                    node = p.input.as_ref();
                }
                LogicalPlan::SubqueryAlias(a) => node = a.input.as_ref(),
                LogicalPlan::Filter(f) => {
                    let columns = f.predicate.column_refs();
                    if columns.iter().any(|c| c.name != SYMBOL_COLUMN) {
                        return None;
                    }
                    predicates.push(f.predicate.clone());
                    node = f.input.as_ref();
                }
                LogicalPlan::TableScan(scan) => {
                    if !scan.filters.is_empty() || scan.fetch.is_some() {
                        return None;
                    }
                    let provider = source_as_provider(&scan.source).ok()?;
                    if !Arc::ptr_eq(&provider, &self.trades) {
                        return None;
                    }
                    return Some(predicates);
                }
                _ => return None,
            }
        }
    }

    fn rewrite(&self, aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
        let Some(predicates) = self.trades_input(&aggregate.input) else {
            return Ok(None);
        };
        // Grouping: exactly one date_trunc bucket, plus optionally the symbol.
        let mut unit = None;
        let mut group = Vec::new();
        for expr in &aggregate.group_expr {
            if let Some((width, _)) = bucket_of(expr) {
                if unit.replace(width).is_some() {
                    return Ok(None);
                }
                group.push(col("bucket"));
            } else if matches!(expr, Expr::Column(c) if c.name == SYMBOL_COLUMN) {
                group.push(col(SYMBOL_COLUMN));
            } else {
                return Ok(None);
            }
        }
        let Some(unit) = unit else {
            return Ok(None);
        };
        let Some(aggregates) = aggregate
            .aggr_expr
            .iter()
            .map(rollup_aggregate)
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(None);
        };
        let (rollup, name) = if unit == "hour" {
            (&self.hourly, "agg_ohlcv_1h")
        } else {
            (&self.daily, "agg_ohlcv_1d")
        };
        let Some(view) = rollup.get_logical_plan() else {
            return Ok(None);
        };
        // Aliased like an inlined table reference, so backend SQL keeps its scope.
        let mut builder = LogicalPlanBuilder::from(view.into_owned()).alias(name)?;
        // Symbol predicates apply unchanged: the rollup has the same symbol column.
        for predicate in predicates {
            let unqualified = predicate.transform(|e| match e {
                Expr::Column(c) => Ok(Transformed::yes(col(c.name))),
                other => Ok(Transformed::no(other)),
            })?;
            builder = builder.filter(unqualified.data)?;
        }
        let rolled = builder.aggregate(group, aggregates)?.build()?;
        // Same output names as the aggregate it replaces, under the trades table's name, so
        // the plan above (and backend SQL unparsed from it) refers to them unchanged.
        let relation = aggregate
            .schema
            .iter()
            .find_map(|(qualifier, _)| qualifier.map(|q| q.table().to_string()))
            .unwrap_or_else(|| "fct_trades".to_string());
        let outputs = rolled
            .schema()
            .columns()
            .into_iter()
            .zip(aggregate.schema.iter())
            .map(|(column, (_, field))| {
                let value = Expr::Column(column);
                let value = if value_type_matches(&rolled, field.data_type(), &value) {
                    value
                } else {
                    datafusion::logical_expr::cast(value, field.data_type().clone())
                };
                value.alias(field.name())
            })
            .collect::<Vec<_>>();
        let plan = LogicalPlanBuilder::from(rolled)
            .project(outputs)?
            .alias(relation)?
            .build()?;
        tracing::debug!(rollup = ?rollup_used(&plan), "aggregate answered from a rollup");
        Ok(Some(plan))
    }
}

fn value_type_matches(
    plan: &LogicalPlan,
    expected: &datafusion::arrow::datatypes::DataType,
    expr: &Expr,
) -> bool {
    expr.get_type(plan.schema()).is_ok_and(|t| &t == expected)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use futures::TryStreamExt;

    use crate::embedded::EmbeddedData;
    use crate::sample_data::{generate, SampleOptions};
    use crate::session::{Planned, Role, Tenant, TenantSession};

    fn session(data: &EmbeddedData, entitlements: &[&str]) -> TenantSession {
        let tenant = Tenant {
            id: "id-a".into(),
            slug: "a".into(),
            role: Role::Analyst,
            user: "a@example.test".into(),
            entitlements: entitlements.iter().map(|s| s.to_string()).collect(),
        };
        TenantSession::new(tenant, &|table| data.provider(table)).unwrap()
    }

    async fn rows(session: &TenantSession, sql: &str) -> String {
        let Planned::Query { plan, .. } = session.plan_sql(sql, &[]).await.unwrap() else {
            panic!("not a query: {sql}");
        };
        let batches: Vec<RecordBatch> = session
            .execute(plan)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    async fn explain(session: &TenantSession, sql: &str) -> String {
        match session
            .plan_sql(&format!("EXPLAIN {sql}"), &[])
            .await
            .unwrap()
        {
            Planned::Explain { lines } => lines.join("\n"),
            _ => panic!("not an explanation"),
        }
    }

    /// The same aggregate, written so the rule cannot match it (`quantity + 0`, `price * 1`).
    const FROM_TRADES: &str = "SELECT symbol, date_trunc('{unit}', event_time) AS bucket, \
        sum(quantity + 0) AS volume, max(price * 1) AS high, min(price * 1) AS low, \
        count(trade_id + 0) AS trades FROM market.fct_trades {filter} GROUP BY 1, 2 ORDER BY 1, 2";
    const ROLLED: &str = "SELECT symbol, date_trunc('{unit}', event_time) AS bucket, \
        sum(quantity) AS volume, max(price) AS high, min(price) AS low, count(*) AS trades \
        FROM market.fct_trades {filter} GROUP BY 1, 2 ORDER BY 1, 2";

    #[tokio::test]
    async fn hourly_and_daily_aggregates_come_from_the_rollups_with_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let options = SampleOptions {
            trades: 5_000,
            quotes: 100,
            ..SampleOptions::fixed()
        };
        generate(dir.path(), &options, false).unwrap();
        let data = EmbeddedData::open(dir.path()).unwrap();
        let tenant = session(&data, &["AAPL", "MSFT", "JPM"]);
        for (unit, rollup) in [("hour", "agg_ohlcv_1h"), ("day", "agg_ohlcv_1d")] {
            for filter in ["", "WHERE symbol = 'MSFT'"] {
                let fill = |sql: &str| sql.replace("{unit}", unit).replace("{filter}", filter);
                let rolled = fill(ROLLED);
                let explained = explain(&tenant, &rolled).await;
                assert!(
                    explained.contains(&format!("answered from rollup {rollup}")),
                    "{rolled}\n{explained}"
                );
                assert!(
                    !explain(&tenant, &fill(FROM_TRADES))
                        .await
                        .contains("rollup"),
                    "the control query must read the trades"
                );
                let expected = rows(&tenant, &fill(FROM_TRADES)).await;
                assert!(expected.contains("MSFT"), "{expected}");
                assert_eq!(rows(&tenant, &rolled).await, expected, "{rolled}");
                // The rollup is read through the tenant's entitlements.
                assert!(!expected.contains("TSLA"), "{expected}");
            }
        }
        // Anything the rollup cannot answer exactly stays on the trades.
        for sql in [
            "SELECT symbol, date_trunc('hour', event_time), avg(price) FROM market.fct_trades GROUP BY 1, 2",
            "SELECT date_trunc('hour', event_time), sum(quantity) FROM market.fct_trades WHERE price > 100 GROUP BY 1",
            "SELECT side, date_trunc('day', event_time), count(*) FROM market.fct_trades GROUP BY 1, 2",
            "SELECT date_trunc('minute', event_time), count(*) FROM market.fct_trades GROUP BY 1",
        ] {
            assert!(!explain(&tenant, sql).await.contains("rollup"), "{sql}");
        }
    }
}
