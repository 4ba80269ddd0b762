//! Filters over a node's output columns: the dashboard's global filters and drill-downs.
//!
//! Values arrive as JSON (from URLs and dashboard definitions) and are cast to the column's type
//! here, so a value that cannot be one (`"abc"` for a price) is a typed error naming the column
//! rather than a failure deep inside the query.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::logical_expr::{lit, Expr};
use serde::{Deserialize, Serialize};

use super::NodeQueryError;

/// A condition on one output column, shaped like a dashboard global filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeFilter {
    /// The column is one of `values` (SQL `IN`); an empty list matches nothing.
    Values {
        /// Output column.
        column: String,
        /// Accepted values.
        values: Vec<serde_json::Value>,
    },
    /// The column lies within `[gte, lte]`; a missing bound is open.
    Range {
        /// Output column.
        column: String,
        /// Inclusive lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gte: Option<serde_json::Value>,
        /// Inclusive upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lte: Option<serde_json::Value>,
    },
}

impl NodeFilter {
    /// The column the filter applies to.
    pub fn column(&self) -> &str {
        match self {
            NodeFilter::Values { column, .. } | NodeFilter::Range { column, .. } => column,
        }
    }
}

/// The conjunction of `filters` over `schema` (the node's output), or `None` without filters.
pub(super) fn predicate(
    schema: &DFSchema,
    node: &str,
    filters: &[NodeFilter],
) -> Result<Option<Expr>, NodeQueryError> {
    let mut conjuncts = Vec::new();
    for filter in filters {
        let name = filter.column();
        let (qualifier, field) = schema
            .iter()
            .find(|(_, field)| field.name() == name)
            .ok_or_else(|| NodeQueryError::UnknownFilterColumn {
                node: node.to_string(),
                column: name.to_string(),
            })?;
        let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
        let data_type = field.data_type();
        match filter {
            NodeFilter::Values { values, .. } => {
                let list = values
                    .iter()
                    .map(|v| literal(name, v, data_type))
                    .collect::<Result<Vec<_>, _>>()?;
                if list.is_empty() {
                    conjuncts.push(lit(false));
                } else {
                    conjuncts.push(column.in_list(list, false));
                }
            }
            NodeFilter::Range { gte, lte, .. } => {
                if let Some(gte) = gte {
                    conjuncts.push(column.clone().gt_eq(literal(name, gte, data_type)?));
                }
                if let Some(lte) = lte {
                    conjuncts.push(column.lt_eq(literal(name, lte, data_type)?));
                }
            }
        }
    }
    Ok(conjuncts.into_iter().reduce(Expr::and))
}

/// `value` as a literal of the column's type.
fn literal(
    column: &str,
    value: &serde_json::Value,
    data_type: &DataType,
) -> Result<Expr, NodeQueryError> {
    let invalid = |message: String| NodeQueryError::InvalidFilter {
        column: column.to_string(),
        message,
    };
    let scalar = match value {
        serde_json::Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
        serde_json::Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int64(Some(i)),
            None => ScalarValue::Float64(n.as_f64()),
        },
        serde_json::Value::Null => {
            return Err(invalid(
                "null cannot be compared; filter values must be scalars".into(),
            ))
        }
        other => {
            return Err(invalid(format!(
                "{other} is not a scalar; filter values must be text, numbers or booleans"
            )))
        }
    };
    let cast = scalar.cast_to(data_type).map_err(|_| {
        invalid(format!(
            "{value} is not a valid {}",
            super::pg_type_name(data_type)
        ))
    })?;
    if cast.is_null() {
        return Err(invalid(format!(
            "{value} is not a valid {}",
            super::pg_type_name(data_type)
        )));
    }
    Ok(lit(cast))
}
