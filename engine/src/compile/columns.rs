//! Looking up columns of a plan by name, with errors that list what exists.

use datafusion::common::Column as DfColumn;
use datafusion::logical_expr::{Expr, LogicalPlan};

use crate::error::WorkflowIssue;
use crate::types::ColumnType;

/// A column of a plan's output: how to reference it and its logical type.
#[derive(Debug, Clone)]
pub struct ColumnRef {
    /// Expression referencing the column (qualified when the plan qualifies it).
    pub expr: Expr,
    /// Column name.
    pub name: String,
    /// Logical type.
    pub ty: ColumnType,
}

/// The column `name` of `plan`, or an issue on `field` listing the available columns.
pub fn column(
    plan: &LogicalPlan,
    node: &str,
    field: &str,
    name: &str,
) -> Result<ColumnRef, WorkflowIssue> {
    for (qualifier, f) in plan.schema().iter() {
        if f.name() == name {
            let ty = ColumnType::from_arrow(f.data_type()).ok_or_else(|| {
                WorkflowIssue::field(
                    node,
                    field,
                    format!("column '{name}' has unsupported type {}", f.data_type()),
                )
            })?;
            return Ok(ColumnRef {
                expr: Expr::Column(DfColumn::new(qualifier.cloned(), name)),
                name: name.to_string(),
                ty,
            });
        }
    }
    Err(WorkflowIssue::field(
        node,
        field,
        format!(
            "column '{name}' does not exist; available columns: {}",
            names(plan).join(", ")
        ),
    ))
}

/// Output column names of a plan.
pub fn names(plan: &LogicalPlan) -> Vec<String> {
    plan.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// Every output column of a plan as references, in order.
pub fn all(plan: &LogicalPlan) -> Vec<Expr> {
    plan.schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect()
}
