//! The rows of each `pg_catalog` relation, computed from a session's [`CatalogState`].
//!
//! A row names the columns it sets; the others take the value PostgreSQL stores for "nothing
//! here" (`0` for oids and counts, `false` for flags, NULL for text and arrays), so each
//! relation states only what is particular to FlowForge.

use datafusion::arrow::array::{new_null_array, Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, ScalarValue};

use super::tables::{ColumnType, TableDef};
use super::types::{base_type, BASE_TYPES, PSEUDO_TYPES, RANGE_TYPES};
use super::{CatalogState, DATABASE_NAME, DATABASE_OID, PG_CLASS_OID, USER_OID};
use super::{PG_CATALOG_OID, PG_PROC_FIRST_OID};
use crate::error::EngineError;

/// One row: the columns it sets, by name.
pub(crate) type Row = Vec<(&'static str, ScalarValue)>;

pub(crate) fn oid(v: i64) -> ScalarValue {
    ScalarValue::Int64(Some(v))
}
pub(crate) fn text(v: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(v.to_string()))
}
pub(crate) fn opt_text(v: Option<&str>) -> ScalarValue {
    ScalarValue::Utf8(v.map(str::to_string))
}
pub(crate) fn boolean(v: bool) -> ScalarValue {
    ScalarValue::Boolean(Some(v))
}
pub(crate) fn int2(v: i16) -> ScalarValue {
    ScalarValue::Int16(Some(v))
}
pub(crate) fn int4(v: i32) -> ScalarValue {
    ScalarValue::Int32(Some(v))
}
fn float4(v: f32) -> ScalarValue {
    ScalarValue::Float32(Some(v))
}
fn int8(v: i64) -> ScalarValue {
    ScalarValue::Int64(Some(v))
}

/// A one-dimensional array value of `element` values.
pub(crate) fn array(values: Vec<ScalarValue>, element: &DataType) -> ScalarValue {
    ScalarValue::List(ScalarValue::new_list_nullable(&values, element))
}

/// The value a column holds when a row does not set it.
fn default_value(column: ColumnType) -> Result<ScalarValue, EngineError> {
    use ColumnType::*;
    Ok(match column {
        Oid | RegProc | Int8 => int8(0),
        Int2 => int2(0),
        Int4 => int4(0),
        Float4 => float4(0.0),
        Bool => boolean(false),
        other => ScalarValue::try_from(&other.data_type())?,
    })
}

/// Builds the batch of relation `def` from `rows`.
pub(crate) fn build(def: &TableDef, rows: Vec<Row>) -> Result<RecordBatch, EngineError> {
    let schema = def.schema();
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(def.columns.len());
    for (name, column_type) in def.columns {
        let default = default_value(*column_type)?;
        let values = rows.iter().map(|row| {
            row.iter()
                .find(|(n, _)| n == name)
                .map_or_else(|| default.clone(), |(_, v)| v.clone())
        });
        let array = ScalarValue::iter_to_array(values)?;
        let target = column_type.data_type();
        let array = if array.data_type() == &target {
            array
        } else if array.null_count() == array.len() {
            new_null_array(&target, array.len())
        } else {
            datafusion::arrow::compute::cast(&array, &target).map_err(DataFusionError::from)?
        };
        columns.push(array);
    }
    Ok(RecordBatch::try_new(schema, columns).map_err(DataFusionError::from)?)
}

/// The rows of `pg_catalog` relation `name` for this state.
pub(crate) fn rows(name: &str, state: &CatalogState) -> Vec<Row> {
    match name {
        "pg_namespace" => pg_namespace(state),
        "pg_class" => pg_class(state),
        "pg_attribute" => pg_attribute(state),
        "pg_type" => pg_type(state),
        "pg_proc" => pg_proc(state),
        "pg_range" => pg_range(),
        "pg_database" => pg_database(),
        "pg_roles" | "pg_authid" => pg_roles(state),
        "pg_user" => pg_user(state),
        "pg_description" => pg_description(state),
        "pg_views" => pg_views(state),
        "pg_tables" => pg_tables(state),
        "pg_settings" => pg_settings(state),
        "pg_stat_user_tables" => pg_stat_user_tables(state),
        "pg_am" => pg_am(),
        "pg_tablespace" => pg_tablespace(),
        "pg_collation" => pg_collation(),
        "pg_language" => pg_language(),
        _ => Vec::new(),
    }
}

/// Whether `pg_catalog` relation `name` has no rows for any session (FlowForge has no
/// sequences, defaults, constraints, indexes, triggers, ...).
pub(crate) fn is_always_empty(name: &str) -> bool {
    let name = name.to_lowercase();
    super::tables::is_catalog_table(&name)
        && !matches!(
            name.as_str(),
            "pg_namespace"
                | "pg_class"
                | "pg_attribute"
                | "pg_type"
                | "pg_proc"
                | "pg_range"
                | "pg_database"
                | "pg_roles"
                | "pg_authid"
                | "pg_user"
                | "pg_description"
                | "pg_views"
                | "pg_tables"
                | "pg_settings"
                | "pg_stat_user_tables"
                | "pg_am"
                | "pg_tablespace"
                | "pg_collation"
                | "pg_language"
        )
}

fn pg_namespace(state: &CatalogState) -> Vec<Row> {
    state
        .namespaces
        .iter()
        .map(|(o, name)| {
            vec![
                ("oid", oid(*o)),
                ("nspname", text(name)),
                ("nspowner", oid(USER_OID)),
            ]
        })
        .collect()
}

fn pg_class(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .map(|r| {
            let table = r.kind == "r";
            vec![
                ("oid", oid(r.oid)),
                ("relname", text(&r.name)),
                (
                    "relnamespace",
                    oid(state.namespace_oid(r.namespace).unwrap_or(0)),
                ),
                ("relowner", oid(USER_OID)),
                ("relam", oid(if table { 2 } else { 0 })),
                // Row counts are unknown rather than shared: each tenant sees its own rows.
                ("reltuples", float4(-1.0)),
                ("relpersistence", text("p")),
                ("relkind", text(r.kind)),
                (
                    "relnatts",
                    int2(i16::try_from(r.columns.len()).unwrap_or(i16::MAX)),
                ),
                ("relhasrules", boolean(r.kind == "v")),
                ("relispopulated", boolean(true)),
                ("relreplident", text(if table { "d" } else { "n" })),
            ]
        })
        .collect()
}

/// `pg_attribute.attnum` of the column at `index`.
pub(crate) fn attnum(index: usize) -> i16 {
    i16::try_from(index + 1).unwrap_or(i16::MAX)
}

fn pg_attribute(state: &CatalogState) -> Vec<Row> {
    let mut rows = Vec::new();
    for relation in &state.relations {
        for (i, column) in relation.columns.iter().enumerate() {
            let type_oid = column.type_oid();
            let base = base_type(type_oid);
            let len = base.map_or(-1, |t| t.len);
            let collatable = base.is_some_and(|t| t.category == "S");
            rows.push(vec![
                ("attrelid", oid(relation.oid)),
                ("attname", text(&column.name)),
                ("atttypid", oid(type_oid)),
                ("attstattarget", int4(-1)),
                ("attlen", int2(len)),
                ("attnum", int2(attnum(i))),
                ("attcacheoff", int4(-1)),
                ("atttypmod", int4(column.typmod())),
                ("attbyval", boolean(len > 0 && len <= 8)),
                ("attalign", text(if len == 8 { "d" } else { "i" })),
                ("attstorage", text(if len < 0 { "x" } else { "p" })),
                ("attcompression", text("")),
                // PostgreSQL reports view columns as nullable whatever they hold.
                (
                    "attnotnull",
                    boolean(relation.kind == "r" && !column.nullable),
                ),
                ("attidentity", text("")),
                ("attgenerated", text("")),
                ("attislocal", boolean(true)),
                ("attcollation", oid(if collatable { 100 } else { 0 })),
            ]);
        }
    }
    rows
}

/// The I/O function oids of a type, by the prefix of their names (`int4` → `int4in`, ...).
fn io_functions(state: &CatalogState, prefix: &str) -> [ScalarValue; 4] {
    ["in", "out", "recv", "send"].map(|suffix| {
        oid(state
            .function_oid(&format!("{prefix}{suffix}"))
            .unwrap_or(0))
    })
}

/// One `pg_type` row.
#[allow(clippy::too_many_arguments)]
fn type_row(
    state: &CatalogState,
    type_oid: i64,
    name: &str,
    len: i16,
    kind: &str,
    category: &str,
    elem: i64,
    array: i64,
    io: &str,
) -> Row {
    let [input, output, receive, send] = io_functions(state, io);
    let collatable = category == "S";
    vec![
        ("oid", oid(type_oid)),
        ("typname", text(name)),
        ("typnamespace", oid(PG_CATALOG_OID)),
        ("typowner", oid(USER_OID)),
        ("typlen", int2(len)),
        ("typbyval", boolean(len > 0 && len <= 8)),
        ("typtype", text(kind)),
        ("typcategory", text(category)),
        ("typisdefined", boolean(true)),
        ("typdelim", text(",")),
        ("typelem", oid(elem)),
        ("typarray", oid(array)),
        ("typinput", input),
        ("typoutput", output),
        ("typreceive", receive),
        ("typsend", send),
        ("typalign", text(if len == 8 { "d" } else { "i" })),
        ("typstorage", text(if len < 0 { "x" } else { "p" })),
        ("typtypmod", int4(-1)),
        ("typcollation", oid(if collatable { 100 } else { 0 })),
    ]
}

fn pg_type(state: &CatalogState) -> Vec<Row> {
    let mut rows = Vec::new();
    for t in BASE_TYPES.iter().chain(PSEUDO_TYPES) {
        rows.push(type_row(
            state, t.oid, t.name, t.len, t.kind, t.category, 0, t.array, t.io,
        ));
        if t.array != 0 {
            let name = format!("_{}", t.name);
            rows.push(type_row(
                state, t.array, &name, -1, "b", "A", t.oid, 0, "array_",
            ));
        }
    }
    for r in RANGE_TYPES {
        rows.push(type_row(
            state, r.oid, r.name, -1, "r", "R", 0, r.array, "range_",
        ));
        rows.push(type_row(
            state,
            r.array,
            &format!("_{}", r.name),
            -1,
            "b",
            "A",
            r.oid,
            0,
            "array_",
        ));
        rows.push(type_row(
            state,
            r.multirange,
            r.multirange_name,
            -1,
            "m",
            "R",
            0,
            r.multirange_array,
            "multirange_",
        ));
        rows.push(type_row(
            state,
            r.multirange_array,
            &format!("_{}", r.multirange_name),
            -1,
            "b",
            "A",
            r.multirange,
            0,
            "array_",
        ));
    }
    rows
}

fn pg_range() -> Vec<Row> {
    RANGE_TYPES
        .iter()
        .map(|r| {
            vec![
                ("rngtypid", oid(r.oid)),
                ("rngsubtype", oid(r.subtype)),
                ("rngmultitypid", oid(r.multirange)),
            ]
        })
        .collect()
}

fn pg_proc(state: &CatalogState) -> Vec<Row> {
    state
        .functions
        .iter()
        .zip(PG_PROC_FIRST_OID..)
        .map(|(function, function_oid)| {
            let oid_type = DataType::Int64;
            vec![
                ("oid", oid(function_oid)),
                ("proname", text(&function.name)),
                ("pronamespace", oid(PG_CATALOG_OID)),
                ("proowner", oid(USER_OID)),
                ("prolang", oid(12)),
                ("procost", float4(1.0)),
                ("prokind", text(function.kind)),
                ("provolatile", text(function.volatility)),
                ("proparallel", text("s")),
                ("pronargs", int2(function.arguments.len() as i16)),
                ("prorettype", oid(function.returns)),
                ("provariadic", oid(function.variadic)),
                (
                    "proargtypes",
                    array(
                        function.arguments.iter().map(|a| oid(*a)).collect(),
                        &oid_type,
                    ),
                ),
                ("prosrc", text(&function.name)),
            ]
        })
        .collect()
}

fn pg_database() -> Vec<Row> {
    vec![vec![
        ("oid", oid(DATABASE_OID)),
        ("datname", text(DATABASE_NAME)),
        ("datdba", oid(USER_OID)),
        ("encoding", int4(6)),
        ("datlocprovider", text("c")),
        ("datallowconn", boolean(true)),
        ("datconnlimit", int4(-1)),
        ("dattablespace", oid(1663)),
        ("datcollate", text("C.UTF-8")),
        ("datctype", text("C.UTF-8")),
    ]]
}

fn pg_roles(state: &CatalogState) -> Vec<Row> {
    vec![vec![
        ("oid", oid(USER_OID)),
        ("rolname", text(&state.user)),
        ("rolinherit", boolean(true)),
        ("rolcanlogin", boolean(true)),
        ("rolconnlimit", int4(-1)),
        ("rolpassword", text("********")),
    ]]
}

fn pg_user(state: &CatalogState) -> Vec<Row> {
    vec![vec![
        ("usename", text(&state.user)),
        ("usesysid", oid(USER_OID)),
        ("passwd", text("********")),
    ]]
}

fn pg_description(state: &CatalogState) -> Vec<Row> {
    let mut rows = Vec::new();
    for relation in &state.relations {
        let row = |subid: i32, description: &str| {
            vec![
                ("objoid", oid(relation.oid)),
                ("classoid", oid(PG_CLASS_OID)),
                ("objsubid", int4(subid)),
                ("description", text(description)),
            ]
        };
        if let Some(description) = &relation.description {
            rows.push(row(0, description));
        }
        for (i, column) in relation.columns.iter().enumerate() {
            if let Some(description) = &column.description {
                rows.push(row(i32::from(attnum(i)), description));
            }
        }
    }
    rows
}

fn pg_views(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .filter(|r| r.kind == "v")
        .map(|r| {
            vec![
                ("schemaname", text(r.namespace)),
                ("viewname", text(&r.name)),
                ("viewowner", text(&state.user)),
                ("definition", opt_text(r.sql.as_deref())),
            ]
        })
        .collect()
}

fn pg_tables(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .filter(|r| r.kind == "r")
        .map(|r| {
            vec![
                ("schemaname", text(r.namespace)),
                ("tablename", text(&r.name)),
                ("tableowner", text(&state.user)),
            ]
        })
        .collect()
}

fn pg_settings(state: &CatalogState) -> Vec<Row> {
    state
        .all_settings()
        .into_iter()
        .map(|(name, value, description)| {
            vec![
                ("name", text(&name)),
                ("setting", text(&value)),
                ("category", text("FlowForge")),
                ("short_desc", text(&description)),
                ("context", text("user")),
                ("vartype", text("string")),
                ("source", text("session")),
                ("boot_val", text(&value)),
                ("reset_val", text(&value)),
            ]
        })
        .collect()
}

fn pg_stat_user_tables(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .filter(|r| r.kind == "r" && r.namespace != super::PG_CATALOG_SCHEMA)
        .map(|r| {
            vec![
                ("relid", oid(r.oid)),
                ("schemaname", text(r.namespace)),
                ("relname", text(&r.name)),
            ]
        })
        .collect()
}

fn pg_am() -> Vec<Row> {
    vec![vec![
        ("oid", oid(2)),
        ("amname", text("heap")),
        ("amtype", text("t")),
    ]]
}

fn pg_tablespace() -> Vec<Row> {
    ["pg_default", "pg_global"]
        .iter()
        .zip([1663, 1664])
        .map(|(name, o)| {
            vec![
                ("oid", oid(o)),
                ("spcname", text(name)),
                ("spcowner", oid(USER_OID)),
            ]
        })
        .collect()
}

fn pg_collation() -> Vec<Row> {
    [(100, "default", "d"), (950, "C", "c"), (951, "POSIX", "c")]
        .iter()
        .map(|(o, name, provider)| {
            vec![
                ("oid", oid(*o)),
                ("collname", text(name)),
                ("collnamespace", oid(PG_CATALOG_OID)),
                ("collowner", oid(USER_OID)),
                ("collprovider", text(provider)),
                ("collisdeterministic", boolean(true)),
                ("collencoding", int4(-1)),
            ]
        })
        .collect()
}

fn pg_language() -> Vec<Row> {
    [(12, "internal"), (13, "c"), (14, "sql")]
        .iter()
        .map(|(o, name)| {
            vec![
                ("oid", oid(*o)),
                ("lanname", text(name)),
                ("lanowner", oid(USER_OID)),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::pg_catalog::tables::TABLES;

    #[test]
    fn every_row_sets_only_columns_its_relation_has() {
        let state = CatalogState::for_tests();
        for def in TABLES {
            for row in rows(def.name, &state) {
                for (name, _) in &row {
                    assert!(
                        def.columns.iter().any(|(c, _)| c == name),
                        "{}.{name} is not a column",
                        def.name
                    );
                }
            }
            let batch = build(def, rows(def.name, &state)).unwrap();
            assert_eq!(batch.num_columns(), def.columns.len(), "{}", def.name);
        }
    }
}
