//! PostgreSQL's built-in types as `pg_type` rows, and the mapping from Arrow types to them.
//!
//! psql prints column types through `format_type(atttypid, atttypmod)`, so every Arrow type a
//! view or table can produce must map to a standard type oid with PostgreSQL's display name.

use datafusion::arrow::datatypes::DataType;

/// One built-in base type: `(oid, typname, format_type name, typlen, typcategory, array oid)`.
pub(crate) struct PgType {
    /// The type's oid, as PostgreSQL assigns it.
    pub oid: i64,
    /// `pg_type.typname`.
    pub name: &'static str,
    /// What `format_type` prints.
    pub display: &'static str,
    /// `pg_type.typlen` (-1 for variable length).
    pub len: i16,
    /// `pg_type.typcategory`.
    pub category: &'static str,
    /// The oid of the matching array type.
    pub array: i64,
}

const fn ty(
    oid: i64,
    name: &'static str,
    display: &'static str,
    len: i16,
    category: &'static str,
    array: i64,
) -> PgType {
    PgType {
        oid,
        name,
        display,
        len,
        category,
        array,
    }
}

/// The base types FlowForge reports, with PostgreSQL's oids.
pub(crate) const BASE_TYPES: &[PgType] = &[
    ty(16, "bool", "boolean", 1, "B", 1000),
    ty(17, "bytea", "bytea", -1, "U", 1001),
    ty(18, "char", "\"char\"", 1, "Z", 1002),
    ty(19, "name", "name", 64, "S", 1003),
    ty(20, "int8", "bigint", 8, "N", 1016),
    ty(21, "int2", "smallint", 2, "N", 1005),
    ty(23, "int4", "integer", 4, "N", 1007),
    ty(25, "text", "text", -1, "S", 1009),
    ty(26, "oid", "oid", 4, "N", 1028),
    ty(700, "float4", "real", 4, "N", 1021),
    ty(701, "float8", "double precision", 8, "N", 1022),
    ty(1043, "varchar", "character varying", -1, "S", 1015),
    ty(1082, "date", "date", 4, "D", 1182),
    ty(1083, "time", "time without time zone", 8, "D", 1183),
    ty(
        1114,
        "timestamp",
        "timestamp without time zone",
        8,
        "D",
        1115,
    ),
    ty(
        1184,
        "timestamptz",
        "timestamp with time zone",
        8,
        "D",
        1185,
    ),
    ty(1186, "interval", "interval", 16, "T", 1187),
    ty(1700, "numeric", "numeric", -1, "N", 1231),
];

/// The PostgreSQL type oid a column of this Arrow type is reported as.
pub(crate) fn type_oid(data_type: &DataType) -> i64 {
    match data_type {
        DataType::Boolean => 16,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => 17,
        DataType::Int8 | DataType::UInt8 | DataType::Int16 => 21,
        DataType::UInt16 | DataType::Int32 => 23,
        DataType::UInt32 | DataType::Int64 | DataType::UInt64 => 20,
        DataType::Float16 | DataType::Float32 => 700,
        DataType::Float64 => 701,
        DataType::Date32 | DataType::Date64 => 1082,
        DataType::Time32(_) | DataType::Time64(_) => 1083,
        DataType::Timestamp(_, None) => 1114,
        DataType::Timestamp(_, Some(_)) => 1184,
        DataType::Interval(_) | DataType::Duration(_) => 1186,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => 1700,
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
            let element = type_oid(field.data_type());
            BASE_TYPES
                .iter()
                .find(|t| t.oid == element)
                .map_or(1009, |t| t.array)
        }
        _ => 25,
    }
}

/// `format_type(oid, typmod)`: PostgreSQL's display name for a type oid, `???` when unknown.
pub(crate) fn format_type(oid: i64) -> String {
    if let Some(t) = BASE_TYPES.iter().find(|t| t.oid == oid) {
        return t.display.to_string();
    }
    match BASE_TYPES.iter().find(|t| t.array == oid) {
        Some(t) => format!("{}[]", t.display),
        None => "???".to_string(),
    }
}
