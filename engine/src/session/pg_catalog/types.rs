//! PostgreSQL's built-in types as `pg_type` rows, and the mapping from Arrow types to them.
//!
//! psql prints column types through `format_type(atttypid, atttypmod)`, and drivers (Npgsql,
//! pgjdbc) load `pg_type` on connect to learn which oids are arrays, ranges and multiranges,
//! so every Arrow type a view or table can produce maps to a standard type oid, and the table
//! carries the array, range and pseudo types those drivers look for, with PostgreSQL's oids.

use datafusion::arrow::datatypes::DataType;

/// One built-in type as `pg_type` describes it.
#[derive(Debug)]
pub(crate) struct PgType {
    /// The type's oid, as PostgreSQL assigns it.
    pub oid: i64,
    /// `pg_type.typname`.
    pub name: &'static str,
    /// What `format_type` prints.
    pub display: &'static str,
    /// `pg_type.typlen` (-1 for variable length, -2 for C strings).
    pub len: i16,
    /// `pg_type.typtype`: `b` base, `p` pseudo, `r` range, `m` multirange.
    pub kind: &'static str,
    /// `pg_type.typcategory`.
    pub category: &'static str,
    /// The oid of the matching array type (0 when there is none).
    pub array: i64,
    /// The prefix of the type's I/O function names (`int4` → `int4in`, `int4recv`, ...).
    pub io: &'static str,
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
        kind: "b",
        category,
        array,
        io: name,
    }
}

const fn pseudo(oid: i64, name: &'static str, len: i16, array: i64) -> PgType {
    PgType {
        oid,
        name,
        display: name,
        len,
        kind: "p",
        category: "P",
        array,
        io: name,
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
    ty(22, "int2vector", "int2vector", -1, "A", 1006),
    ty(23, "int4", "integer", 4, "N", 1007),
    ty(24, "regproc", "regproc", 4, "N", 1008),
    ty(25, "text", "text", -1, "S", 1009),
    ty(26, "oid", "oid", 4, "N", 1028),
    ty(30, "oidvector", "oidvector", -1, "A", 1013),
    ty(114, "json", "json", -1, "U", 199),
    ty(142, "xml", "xml", -1, "U", 143),
    ty(600, "point", "point", 16, "G", 1017),
    ty(650, "cidr", "cidr", -1, "I", 651),
    ty(700, "float4", "real", 4, "N", 1021),
    ty(701, "float8", "double precision", 8, "N", 1022),
    ty(790, "money", "money", 8, "N", 791),
    ty(829, "macaddr", "macaddr", 6, "U", 1040),
    ty(869, "inet", "inet", -1, "I", 1041),
    ty(1042, "bpchar", "character", -1, "S", 1014),
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
    ty(1266, "timetz", "time with time zone", 12, "D", 1270),
    ty(1560, "bit", "bit", -1, "V", 1561),
    ty(1562, "varbit", "bit varying", -1, "V", 1563),
    ty(1700, "numeric", "numeric", -1, "N", 1231),
    ty(2205, "regclass", "regclass", 4, "N", 2210),
    ty(2206, "regtype", "regtype", 4, "N", 2211),
    ty(2950, "uuid", "uuid", 16, "U", 2951),
    ty(3802, "jsonb", "jsonb", -1, "U", 3807),
];

/// The pseudo-types drivers look up by name (`record`, `void`, `unknown`, ...).
pub(crate) const PSEUDO_TYPES: &[PgType] = &[
    pseudo(705, "unknown", -2, 0),
    pseudo(2249, "record", -1, 2287),
    pseudo(2275, "cstring", -2, 1263),
    pseudo(2276, "any", 4, 0),
    pseudo(2277, "anyarray", -1, 0),
    pseudo(2278, "void", 4, 0),
    pseudo(2283, "anyelement", 4, 0),
];

/// One built-in range type and its multirange, as `pg_range` relates them.
#[derive(Debug)]
pub(crate) struct RangeType {
    /// The range type's oid.
    pub oid: i64,
    /// `pg_type.typname` of the range.
    pub name: &'static str,
    /// The oid of the range's array type.
    pub array: i64,
    /// The element type (`pg_range.rngsubtype`).
    pub subtype: i64,
    /// The matching multirange type (`pg_range.rngmultitypid`).
    pub multirange: i64,
    /// `pg_type.typname` of the multirange.
    pub multirange_name: &'static str,
    /// The oid of the multirange's array type.
    pub multirange_array: i64,
}

const fn range(
    oid: i64,
    name: &'static str,
    array: i64,
    subtype: i64,
    multirange: (i64, &'static str, i64),
) -> RangeType {
    RangeType {
        oid,
        name,
        array,
        subtype,
        multirange: multirange.0,
        multirange_name: multirange.1,
        multirange_array: multirange.2,
    }
}

/// PostgreSQL's built-in range types with their multiranges.
pub(crate) const RANGE_TYPES: &[RangeType] = &[
    range(3904, "int4range", 3905, 23, (4451, "int4multirange", 6150)),
    range(3906, "numrange", 3907, 1700, (4532, "nummultirange", 6151)),
    range(3908, "tsrange", 3909, 1114, (4533, "tsmultirange", 6152)),
    range(
        3910,
        "tstzrange",
        3911,
        1184,
        (4534, "tstzmultirange", 6153),
    ),
    range(
        3912,
        "daterange",
        3913,
        1082,
        (4535, "datemultirange", 6155),
    ),
    range(3926, "int8range", 3927, 20, (4536, "int8multirange", 6157)),
];

/// The PostgreSQL type oid a column of this Arrow type is reported as.
pub(crate) fn type_oid(data_type: &DataType) -> i64 {
    match data_type {
        DataType::Boolean => 16,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => 17,
        DataType::Int8 | DataType::UInt8 | DataType::Int16 => 21,
        DataType::UInt16 | DataType::Int32 => 23,
        DataType::UInt32 | DataType::Int64 => 20,
        DataType::UInt64 => 1700,
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
        DataType::Dictionary(_, value) => type_oid(value),
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

/// A base type by oid.
pub(crate) fn base_type(oid: i64) -> Option<&'static PgType> {
    BASE_TYPES.iter().find(|t| t.oid == oid)
}

/// The name `format_type` gives an oid, without a type modifier; `None` when unknown.
fn type_display(oid: i64) -> Option<String> {
    if let Some(t) = BASE_TYPES.iter().chain(PSEUDO_TYPES).find(|t| t.oid == oid) {
        let display = if t.kind == "p" && t.name == "any" {
            "\"any\""
        } else {
            t.display
        };
        return Some(display.to_string());
    }
    if let Some(r) = RANGE_TYPES.iter().find(|r| r.oid == oid) {
        return Some(r.name.to_string());
    }
    if let Some(r) = RANGE_TYPES.iter().find(|r| r.multirange == oid) {
        return Some(r.multirange_name.to_string());
    }
    let element = BASE_TYPES
        .iter()
        .chain(PSEUDO_TYPES)
        .find(|t| t.array == oid && t.array != 0)
        .map(|t| t.display.to_string())
        .or_else(|| {
            RANGE_TYPES.iter().find_map(|r| {
                if r.array == oid {
                    Some(r.name.to_string())
                } else if r.multirange_array == oid {
                    Some(r.multirange_name.to_string())
                } else {
                    None
                }
            })
        })?;
    Some(format!("{element}[]"))
}

/// Whether `oid` names a type in this catalog's `pg_type`.
pub(crate) fn is_known_type(oid: i64) -> bool {
    type_display(oid).is_some()
}

/// `format_type(oid, typmod)`: PostgreSQL's display name for a type oid and modifier, `???`
/// when unknown. Modifiers follow PostgreSQL: `numeric(p,s)`, `character varying(n)`.
pub(crate) fn format_type(oid: i64, typmod: Option<i32>) -> String {
    let Some(name) = type_display(oid) else {
        return "???".to_string();
    };
    match (oid, typmod) {
        (1700, Some(m)) if m >= 4 => {
            let m = m - 4;
            format!("numeric({},{})", (m >> 16) & 0xffff, m & 0xffff)
        }
        (1043 | 1042, Some(m)) if m >= 4 => format!("{name}({})", m - 4),
        _ => name,
    }
}
