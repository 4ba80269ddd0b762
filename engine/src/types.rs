//! The column model the canvas and the engine share.
//!
//! Workflows talk about columns in seven logical types; DataFusion talks in Arrow types. This
//! module is the only place that maps between the two, and it also owns the per-type operator
//! catalogue the canvas uses to offer filter operators.

use std::fmt;

use datafusion::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, TimeUnit};
use datafusion::common::DFSchema;
use serde::{Deserialize, Serialize};

/// A column's logical type, as shown on the canvas and stored in fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// UTF-8 text.
    String,
    /// 64-bit signed integer (narrower integers widen to this).
    Int,
    /// 64-bit IEEE float.
    Float,
    /// Fixed-point decimal.
    Decimal,
    /// Boolean.
    Bool,
    /// Calendar date.
    Date,
    /// Timestamp (microseconds, UTC, no zone stored).
    Timestamp,
}

impl ColumnType {
    /// Whether arithmetic and numeric comparisons apply.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ColumnType::Int | ColumnType::Float | ColumnType::Decimal
        )
    }

    /// Whether the type is a point in time (date or timestamp).
    pub fn is_temporal(self) -> bool {
        matches!(self, ColumnType::Date | ColumnType::Timestamp)
    }

    /// The logical type of an Arrow type, or `None` for types workflows cannot carry.
    pub fn from_arrow(data_type: &DataType) -> Option<ColumnType> {
        Some(match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnType::String,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ColumnType::Int,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => ColumnType::Float,
            DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => ColumnType::Decimal,
            DataType::Boolean => ColumnType::Bool,
            DataType::Date32 | DataType::Date64 => ColumnType::Date,
            DataType::Timestamp(_, _) => ColumnType::Timestamp,
            DataType::Dictionary(_, value) => return ColumnType::from_arrow(value),
            _ => return None,
        })
    }

    /// The canonical Arrow type for this logical type.
    pub fn to_arrow(self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::Int => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::Decimal => DataType::Decimal128(38, 10),
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }

    /// Filter operators the canvas offers for a column of this type.
    pub fn operators(self) -> &'static [FilterOperator] {
        use FilterOperator::*;
        match self {
            ColumnType::String => &[
                Eq, NotEq, Contains, StartsWith, EndsWith, In, NotIn, IsNull, IsNotNull,
            ],
            ColumnType::Int | ColumnType::Float | ColumnType::Decimal => &[
                Eq, NotEq, Gt, Lt, Gte, Lte, Between, In, NotIn, IsNull, IsNotNull,
            ],
            ColumnType::Date | ColumnType::Timestamp => {
                &[Eq, NotEq, Before, After, Between, IsNull, IsNotNull]
            }
            ColumnType::Bool => &[Eq, NotEq, IsNull, IsNotNull],
        }
    }

    /// Name as written in workflow JSON and error messages.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Decimal => "decimal",
            ColumnType::Bool => "bool",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A filter operator of the Filter node; which ones apply depends on the column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOperator {
    /// `=`
    #[serde(alias = "=", alias = "equals")]
    Eq,
    /// `!=`
    #[serde(alias = "!=", alias = "neq", alias = "not_equals")]
    NotEq,
    /// `>`
    #[serde(alias = ">")]
    Gt,
    /// `<`
    #[serde(alias = "<")]
    Lt,
    /// `>=`
    #[serde(alias = ">=")]
    Gte,
    /// `<=`
    #[serde(alias = "<=")]
    Lte,
    /// Inclusive range; needs two values.
    Between,
    /// Substring match.
    Contains,
    /// Prefix match.
    StartsWith,
    /// Suffix match.
    EndsWith,
    /// Membership in a list.
    In,
    /// Non-membership in a list.
    NotIn,
    /// Strictly earlier than a point in time.
    Before,
    /// Strictly later than a point in time.
    After,
    /// Value is NULL.
    IsNull,
    /// Value is not NULL.
    IsNotNull,
}

impl FilterOperator {
    /// Name as written in workflow JSON.
    pub fn name(self) -> &'static str {
        use FilterOperator::*;
        match self {
            Eq => "eq",
            NotEq => "not_eq",
            Gt => "gt",
            Lt => "lt",
            Gte => "gte",
            Lte => "lte",
            Between => "between",
            Contains => "contains",
            StartsWith => "starts_with",
            EndsWith => "ends_with",
            In => "in",
            NotIn => "not_in",
            Before => "before",
            After => "after",
            IsNull => "is_null",
            IsNotNull => "is_not_null",
        }
    }
}

/// One column of a node's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name as seen by downstream nodes and SQL clients.
    pub name: String,
    /// Logical type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether the column may hold NULL.
    pub nullable: bool,
}

impl Column {
    /// A column with the given name, type and nullability.
    pub fn new(name: impl Into<String>, ty: ColumnType, nullable: bool) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable,
        }
    }
}

/// An ordered list of columns: the output schema of one node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Schema {
    /// Columns in output order.
    pub columns: Vec<Column>,
}

impl Schema {
    /// A schema from columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Schema { columns }
    }

    /// The column with this name, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Column names in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The logical schema of an Arrow schema; columns of unsupported types are reported by name.
    pub fn from_arrow(schema: &ArrowSchema) -> Result<Schema, String> {
        schema
            .fields()
            .iter()
            .map(|f| column_from_field(f))
            .collect::<Result<Vec<_>, _>>()
            .map(Schema::new)
    }

    /// The logical schema of a DataFusion plan schema (qualifiers dropped).
    pub fn from_df(schema: &DFSchema) -> Result<Schema, String> {
        schema
            .fields()
            .iter()
            .map(|f| column_from_field(f))
            .collect::<Result<Vec<_>, _>>()
            .map(Schema::new)
    }

    /// The Arrow schema with each column's canonical Arrow type.
    pub fn to_arrow(&self) -> ArrowSchema {
        ArrowSchema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.ty.to_arrow(), c.nullable))
                .collect::<Vec<_>>(),
        )
    }
}

fn column_from_field(field: &Field) -> Result<Column, String> {
    let ty = ColumnType::from_arrow(field.data_type()).ok_or_else(|| {
        format!(
            "column '{}' has unsupported type {}",
            field.name(),
            field.data_type()
        )
    })?;
    Ok(Column::new(field.name().clone(), ty, field.is_nullable()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_round_trip_keeps_logical_type() {
        for ty in [
            ColumnType::String,
            ColumnType::Int,
            ColumnType::Float,
            ColumnType::Decimal,
            ColumnType::Bool,
            ColumnType::Date,
            ColumnType::Timestamp,
        ] {
            assert_eq!(ColumnType::from_arrow(&ty.to_arrow()), Some(ty));
        }
    }

    #[test]
    fn operator_catalogue_is_type_aware() {
        assert!(ColumnType::String
            .operators()
            .contains(&FilterOperator::Contains));
        assert!(!ColumnType::Float
            .operators()
            .contains(&FilterOperator::Contains));
        assert!(ColumnType::Timestamp
            .operators()
            .contains(&FilterOperator::Before));
        assert!(!ColumnType::String
            .operators()
            .contains(&FilterOperator::Between));
        assert!(ColumnType::Int
            .operators()
            .contains(&FilterOperator::Between));
    }
}
