//! Filter conditions → predicate expressions with typed literals.
//!
//! Values arrive as JSON; each is converted to a literal of the compared column's type (dates
//! and timestamps from ISO-8601 text), so the predicate carries literals in the plan, never text
//! spliced into SQL.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::common::ScalarValue;
use datafusion::functions::unicode::expr_fn::{left, right, strpos};
use datafusion::logical_expr::{lit, Expr, LogicalPlan};
use serde_json::Value;

use super::columns::{column, ColumnRef};
use crate::error::WorkflowIssue;
use crate::types::{ColumnType, FilterOperator};
use crate::workflow::{Condition, FilterItem, Logic};

/// The predicate of a list of filter items combined with `logic`; `path` is the config path of
/// the list (for error fields).
pub fn predicate(
    plan: &LogicalPlan,
    node: &str,
    items: &[FilterItem],
    logic: Logic,
    path: &str,
) -> Result<Expr, Vec<WorkflowIssue>> {
    if items.is_empty() {
        return Err(vec![WorkflowIssue::field(
            node,
            path,
            "needs at least one condition",
        )]);
    }
    let mut issues = Vec::new();
    let mut exprs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let result = match item {
            FilterItem::Condition(c) => condition(plan, node, c, &item_path).map_err(|e| vec![e]),
            FilterItem::Group(g) => predicate(
                plan,
                node,
                &g.conditions,
                g.logic,
                &format!("{item_path}.conditions"),
            ),
        };
        match result {
            Ok(expr) => exprs.push(expr),
            Err(mut e) => issues.append(&mut e),
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let combined = exprs.into_iter().reduce(|a, b| match logic {
        Logic::And => a.and(b),
        Logic::Or => a.or(b),
    });
    combined.ok_or_else(|| {
        vec![WorkflowIssue::field(
            node,
            path,
            "needs at least one condition",
        )]
    })
}

fn condition(
    plan: &LogicalPlan,
    node: &str,
    c: &Condition,
    path: &str,
) -> Result<Expr, WorkflowIssue> {
    let col = column(plan, node, &format!("{path}.column"), &c.column)?;
    let op = c.operator;
    if !col.ty.operators().contains(&op) {
        let allowed: Vec<&str> = col.ty.operators().iter().map(|o| o.name()).collect();
        return Err(WorkflowIssue::field(
            node,
            format!("{path}.operator"),
            format!(
                "operator '{}' does not apply to {} column '{}'; use one of: {}",
                op.name(),
                col.ty,
                col.name,
                allowed.join(", ")
            ),
        ));
    }
    let value_field = format!("{path}.value");
    let values_field = format!("{path}.values");
    let single = || -> Result<ScalarValue, WorkflowIssue> {
        let value = c.value.as_ref().ok_or_else(|| {
            WorkflowIssue::field(
                node,
                &value_field,
                format!("operator '{}' needs a value", op.name()),
            )
        })?;
        typed_literal(col.ty, value).map_err(|m| WorkflowIssue::field(node, &value_field, m))
    };
    let list = |min: usize, exact: Option<usize>| -> Result<Vec<ScalarValue>, WorkflowIssue> {
        let values = c.values.as_ref().ok_or_else(|| {
            WorkflowIssue::field(
                node,
                &values_field,
                format!("operator '{}' needs a list of values", op.name()),
            )
        })?;
        if values.len() < min || exact.is_some_and(|n| values.len() != n) {
            let want = match exact {
                Some(n) => format!("exactly {n}"),
                None => format!("at least {min}"),
            };
            return Err(WorkflowIssue::field(
                node,
                &values_field,
                format!(
                    "operator '{}' needs {want} values, got {}",
                    op.name(),
                    values.len()
                ),
            ));
        }
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                typed_literal(col.ty, v)
                    .map_err(|m| WorkflowIssue::field(node, format!("{values_field}[{i}]"), m))
            })
            .collect()
    };
    let ColumnRef { expr, .. } = col.clone();
    Ok(match op {
        FilterOperator::Eq => expr.eq(lit(single()?)),
        FilterOperator::NotEq => expr.not_eq(lit(single()?)),
        FilterOperator::Gt | FilterOperator::After => expr.gt(lit(single()?)),
        FilterOperator::Lt | FilterOperator::Before => expr.lt(lit(single()?)),
        FilterOperator::Gte => expr.gt_eq(lit(single()?)),
        FilterOperator::Lte => expr.lt_eq(lit(single()?)),
        FilterOperator::Between => {
            let mut bounds = list(2, Some(2))?.into_iter();
            match (bounds.next(), bounds.next()) {
                (Some(low), Some(high)) => expr.between(lit(low), lit(high)),
                _ => {
                    return Err(WorkflowIssue::field(
                        node,
                        values_field,
                        "between needs two values",
                    ))
                }
            }
        }
        FilterOperator::In => expr.in_list(list(1, None)?.into_iter().map(lit).collect(), false),
        FilterOperator::NotIn => expr.in_list(list(1, None)?.into_iter().map(lit).collect(), true),
        FilterOperator::Contains | FilterOperator::StartsWith | FilterOperator::EndsWith => {
            let needle = match single()? {
                ScalarValue::Utf8(Some(s)) => s,
                _ => return Err(WorkflowIssue::field(node, value_field, "expects a string")),
            };
            let len = needle.chars().count() as i64;
            match op {
                FilterOperator::Contains => strpos(expr, lit(needle)).gt(lit(0i64)),
                FilterOperator::StartsWith => left(expr, lit(len)).eq(lit(needle)),
                _ => right(expr, lit(len)).eq(lit(needle)),
            }
        }
        FilterOperator::IsNull => expr.is_null(),
        FilterOperator::IsNotNull => expr.is_not_null(),
    })
}

/// A JSON value as a literal of the given logical type, or why it cannot be one.
pub fn typed_literal(ty: ColumnType, value: &Value) -> Result<ScalarValue, String> {
    let mismatch = || format!("expects a {ty} value, got {value}");
    match ty {
        ColumnType::String => match value {
            Value::String(s) => Ok(ScalarValue::Utf8(Some(s.clone()))),
            _ => Err(mismatch()),
        },
        ColumnType::Int => match value {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(ScalarValue::Int64(Some(i)))
                } else {
                    n.as_f64()
                        .map(|f| ScalarValue::Float64(Some(f)))
                        .ok_or_else(mismatch)
                }
            }
            _ => Err(mismatch()),
        },
        ColumnType::Float | ColumnType::Decimal => match value {
            Value::Number(n) => n
                .as_f64()
                .map(|f| ScalarValue::Float64(Some(f)))
                .ok_or_else(mismatch),
            _ => Err(mismatch()),
        },
        ColumnType::Bool => match value {
            Value::Bool(b) => Ok(ScalarValue::Boolean(Some(*b))),
            _ => Err(mismatch()),
        },
        ColumnType::Date => match value {
            Value::String(s) => parse_date(s)
                .map(|d| ScalarValue::Date32(Some(days_since_epoch(d))))
                .ok_or_else(|| format!("'{s}' is not a date (expected YYYY-MM-DD)")),
            _ => Err(mismatch()),
        },
        ColumnType::Timestamp => match value {
            Value::String(s) => parse_timestamp(s)
                .map(|t| {
                    ScalarValue::TimestampMicrosecond(Some(t.and_utc().timestamp_micros()), None)
                })
                .ok_or_else(|| {
                    format!(
                        "'{s}' is not a timestamp (expected ISO 8601, e.g. 2026-01-02T15:04:05Z)"
                    )
                }),
            _ => Err(mismatch()),
        },
    }
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Parses ISO-8601 timestamps; offsets are converted to UTC, a bare date means midnight.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t);
        }
    }
    parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0))
}
