//! Arrow values as JSON, and Arrow types under their PostgreSQL names.
//!
//! Numbers stay numbers (non-finite floats become the strings PostgreSQL prints: `NaN`,
//! `Infinity`), dates are `YYYY-MM-DD`, timestamps ISO-8601 in UTC with a `Z`, NULL is `null`;
//! anything else is the value's display text.

use chrono::{DateTime, SecondsFormat};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use serde_json::Value;

use crate::error::EngineError;

/// The PostgreSQL type name the pgwire door uses for a column of this Arrow type.
pub fn pg_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "bool",
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "int2",
        DataType::Int32 | DataType::UInt16 => "int4",
        DataType::Int64 | DataType::UInt32 => "int8",
        DataType::UInt64 => "numeric",
        DataType::Float16 | DataType::Float32 => "float4",
        DataType::Float64 => "float8",
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "numeric",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(_, None) => "timestamp",
        DataType::Timestamp(_, Some(_)) => "timestamptz",
        DataType::Time32(_) | DataType::Time64(_) => "time",
        DataType::Interval(_) | DataType::Duration(_) => "interval",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea",
        DataType::Dictionary(_, value) => return pg_type_name(value),
        DataType::List(element) | DataType::LargeList(element) => {
            return format!("{}[]", pg_type_name(element.data_type()))
        }
        _ => "text",
    }
    .to_string()
}

/// Every row of `batch` as an array of JSON values in column order.
pub(super) fn batch_rows(batch: &RecordBatch) -> Result<Vec<Vec<Value>>, EngineError> {
    let options = FormatOptions::default();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for array in batch.columns() {
        let formatter = ArrayFormatter::try_new(array.as_ref(), &options).map_err(arrow_error)?;
        let mut values = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            values.push(value_at(array.as_ref(), row, &formatter)?);
        }
        columns.push(values);
    }
    let mut rows: Vec<Vec<Value>> = (0..batch.num_rows())
        .map(|_| Vec::with_capacity(columns.len()))
        .collect();
    for column in columns {
        for (row, value) in rows.iter_mut().zip(column) {
            row.push(value);
        }
    }
    Ok(rows)
}

fn value_at(
    array: &dyn Array,
    row: usize,
    formatter: &ArrayFormatter,
) -> Result<Value, EngineError> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let scalar = ScalarValue::try_from_array(array, row)?;
    match scalar {
        ScalarValue::Boolean(Some(b)) => Some(Value::Bool(b)),
        ScalarValue::Int8(Some(v)) => Some(v.into()),
        ScalarValue::Int16(Some(v)) => Some(v.into()),
        ScalarValue::Int32(Some(v)) => Some(v.into()),
        ScalarValue::Int64(Some(v)) => Some(v.into()),
        ScalarValue::UInt8(Some(v)) => Some(v.into()),
        ScalarValue::UInt16(Some(v)) => Some(v.into()),
        ScalarValue::UInt32(Some(v)) => Some(v.into()),
        ScalarValue::UInt64(Some(v)) => Some(v.into()),
        ScalarValue::Float32(Some(v)) => Some(float(f64::from(v))),
        ScalarValue::Float64(Some(v)) => Some(float(v)),
        ScalarValue::Decimal128(Some(v), _, scale) => {
            Some(float(v as f64 / 10f64.powi(i32::from(scale))))
        }
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(Value::String(s)),
        ScalarValue::TimestampSecond(Some(v), _) => timestamp(v, TimeUnit::Second),
        ScalarValue::TimestampMillisecond(Some(v), _) => timestamp(v, TimeUnit::Millisecond),
        ScalarValue::TimestampMicrosecond(Some(v), _) => timestamp(v, TimeUnit::Microsecond),
        ScalarValue::TimestampNanosecond(Some(v), _) => timestamp(v, TimeUnit::Nanosecond),
        _ => None,
    }
    .map_or_else(
        || {
            Ok(Value::String(
                formatter.value(row).try_to_string().map_err(arrow_error)?,
            ))
        },
        Ok,
    )
}

fn arrow_error(error: datafusion::arrow::error::ArrowError) -> EngineError {
    EngineError::DataFusion(error.into())
}

fn float(v: f64) -> Value {
    match serde_json::Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("NaN".into()),
        None if v > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn timestamp(value: i64, unit: TimeUnit) -> Option<Value> {
    let at = match unit {
        TimeUnit::Second => DateTime::from_timestamp(value, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(value),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(value),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(value)),
    };
    at.map(|at| Value::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
}

/// A cheap estimate of a row's JSON-encoded size, for the result byte budget.
pub(super) fn estimated_size(row: &[Value]) -> usize {
    row.iter().map(value_size).sum::<usize>() + 2
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null => 5,
        Value::Bool(_) => 6,
        Value::Number(_) => 21,
        Value::String(s) => s.len() + 3,
        Value::Array(items) => items.iter().map(value_size).sum::<usize>() + 2,
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| k.len() + 4 + value_size(v))
            .sum::<usize>()
            .saturating_add(2),
    }
}
