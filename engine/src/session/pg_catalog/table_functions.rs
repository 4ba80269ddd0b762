//! Set-returning catalog functions used in `FROM`: `pg_get_keywords()` and
//! `information_schema._pg_expandarray(array)`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{plan_err, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;

use super::keywords;

/// `pg_get_keywords()`: `(word, catcode, barelabel, catdesc, baredesc)` per keyword.
#[derive(Debug)]
pub(crate) struct GetKeywords;

impl TableFunctionImpl for GetKeywords {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("pg_get_keywords() takes no arguments");
        }
        let words = keywords::all_keywords();
        let categories: Vec<(&str, &str)> = words.iter().map(|w| keywords::category(w)).collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("word", DataType::Utf8, true),
            Field::new("catcode", DataType::Utf8, true),
            Field::new("barelabel", DataType::Boolean, true),
            Field::new("catdesc", DataType::Utf8, true),
            Field::new("baredesc", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(words.iter())),
            Arc::new(StringArray::from_iter_values(
                categories.iter().map(|c| c.0),
            )),
            Arc::new(BooleanArray::from(vec![true; words.len()])),
            Arc::new(StringArray::from_iter_values(
                categories.iter().map(|c| c.1),
            )),
            Arc::new(StringArray::from_iter_values(
                words.iter().map(|_| "can be bare label"),
            )),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// `information_schema._pg_expandarray(array)`: one row `(x, n)` per element with its
/// 1-based position. The array must be a constant (DataFusion has no lateral table functions).
#[derive(Debug)]
pub(crate) struct ExpandArray;

impl TableFunctionImpl for ExpandArray {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let [expr] = args.exprs() else {
            return plan_err!("_pg_expandarray() takes one array");
        };
        let list = match constant(expr) {
            Some(ScalarValue::List(list)) => list,
            _ => return plan_err!("_pg_expandarray() needs a constant array argument"),
        };
        let values: ArrayRef = if list.is_empty() || list.is_null(0) {
            datafusion::arrow::array::new_empty_array(&list.value_type())
        } else {
            list.value(0)
        };
        let positions: Int32Array = (1..=i32::try_from(values.len()).unwrap_or(i32::MAX)).collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", values.data_type().clone(), true),
            Field::new("n", DataType::Int32, true),
        ]));
        let batch = RecordBatch::try_new(Arc::clone(&schema), vec![values, Arc::new(positions)])?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// The value of a constant argument (a literal, possibly cast).
fn constant(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value.clone()),
        Expr::Cast(cast) => constant(&cast.expr)?.cast_to(cast.field.data_type()).ok(),
        Expr::ScalarFunction(f) if f.name() == "make_array" => {
            let values: Vec<ScalarValue> = f.args.iter().map(constant).collect::<Option<_>>()?;
            let element = values
                .first()
                .map(ScalarValue::data_type)
                .unwrap_or(DataType::Int32);
            Some(ScalarValue::List(ScalarValue::new_list_nullable(
                &values, &element,
            )))
        }
        _ => None,
    }
}
