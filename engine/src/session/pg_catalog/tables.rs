//! The rows of each `pg_catalog` table, computed from a session's [`CatalogState`].
//!
//! Column names and types follow PostgreSQL (oids as `bigint`, `"char"` and `name` as text) so
//! the queries psql and drivers send type-check; tables FlowForge has nothing for (indexes,
//! constraints, triggers, ...) exist with their columns and no rows.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, ScalarValue};

use super::types::{type_oid, BASE_TYPES};
use super::DATABASE_NAME;
use super::{CatalogState, DATABASE_OID, PG_CLASS_OID, USER_OID};
use crate::error::EngineError;

const OID: DataType = DataType::Int64;
const TEXT: DataType = DataType::Utf8;
const BOOL: DataType = DataType::Boolean;
const INT2: DataType = DataType::Int16;
const INT4: DataType = DataType::Int32;

/// The names of every table in `pg_catalog`, for qualifying bare references.
const TABLE_NAMES: &[&str] = &[
    "pg_namespace",
    "pg_class",
    "pg_attribute",
    "pg_type",
    "pg_database",
    "pg_roles",
    "pg_user",
    "pg_description",
    "pg_views",
    "pg_am",
    "pg_index",
    "pg_constraint",
    "pg_attrdef",
    "pg_inherits",
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_trigger",
    "pg_rewrite",
    "pg_collation",
    "pg_foreign_table",
    "pg_partitioned_table",
];

/// Whether `name` is a table of `pg_catalog`.
pub(crate) fn is_catalog_table(name: &str) -> bool {
    TABLE_NAMES.contains(&name)
}

/// `text[]`.
pub(crate) fn text_array() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(TEXT, true)))
}

fn oid(v: i64) -> ScalarValue {
    ScalarValue::Int64(Some(v))
}
fn text(v: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(v.to_string()))
}
fn opt_text(v: Option<&str>) -> ScalarValue {
    ScalarValue::Utf8(v.map(str::to_string))
}
fn null_text() -> ScalarValue {
    ScalarValue::Utf8(None)
}
fn boolean(v: bool) -> ScalarValue {
    ScalarValue::Boolean(Some(v))
}
fn int2(v: i16) -> ScalarValue {
    ScalarValue::Int16(Some(v))
}
fn int4(v: i32) -> ScalarValue {
    ScalarValue::Int32(Some(v))
}

/// Builds a batch from column definitions and rows of matching values.
fn batch(
    columns: &[(&str, DataType)],
    rows: Vec<Vec<ScalarValue>>,
) -> Result<RecordBatch, EngineError> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, t)| Field::new(*name, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    let arrays = (0..columns.len())
        .map(|i| {
            ScalarValue::iter_to_array(rows.iter().map(|row| {
                row.get(i)
                    .cloned()
                    .unwrap_or_else(|| ScalarValue::Utf8(None))
            }))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, arrays).map_err(DataFusionError::from)?)
}

/// Every `pg_catalog` table, by name, with its rows for this state.
pub(crate) fn catalog_tables(
    state: &CatalogState,
) -> Result<Vec<(&'static str, RecordBatch)>, EngineError> {
    Ok(vec![
        ("pg_namespace", pg_namespace(state)?),
        ("pg_class", pg_class(state)?),
        ("pg_attribute", pg_attribute(state)?),
        ("pg_type", pg_type()?),
        ("pg_database", pg_database()?),
        ("pg_roles", pg_roles(state)?),
        ("pg_user", pg_user(state)?),
        ("pg_description", pg_description(state)?),
        ("pg_views", pg_views(state)?),
        ("pg_am", pg_am()?),
        (
            "pg_index",
            empty(&[
                ("indexrelid", OID),
                ("indrelid", OID),
                ("indnatts", INT2),
                ("indnkeyatts", INT2),
                ("indisunique", BOOL),
                ("indisprimary", BOOL),
                ("indisexclusion", BOOL),
                ("indimmediate", BOOL),
                ("indisclustered", BOOL),
                ("indisvalid", BOOL),
                ("indisreplident", BOOL),
                ("indkey", TEXT),
                ("indexprs", TEXT),
                ("indpred", TEXT),
            ])?,
        ),
        (
            "pg_constraint",
            empty(&[
                ("oid", OID),
                ("conname", TEXT),
                ("connamespace", OID),
                ("contype", TEXT),
                ("condeferrable", BOOL),
                ("condeferred", BOOL),
                ("convalidated", BOOL),
                ("conrelid", OID),
                ("contypid", OID),
                ("conindid", OID),
                ("conparentid", OID),
                ("confrelid", OID),
                ("conislocal", BOOL),
                ("connoinherit", BOOL),
                ("conkey", TEXT),
                ("confkey", TEXT),
            ])?,
        ),
        (
            "pg_attrdef",
            empty(&[
                ("oid", OID),
                ("adrelid", OID),
                ("adnum", INT2),
                ("adbin", TEXT),
            ])?,
        ),
        (
            "pg_inherits",
            empty(&[
                ("inhrelid", OID),
                ("inhparent", OID),
                ("inhseqno", INT4),
                ("inhdetachpending", BOOL),
            ])?,
        ),
        (
            "pg_policy",
            empty(&[
                ("oid", OID),
                ("polname", TEXT),
                ("polrelid", OID),
                ("polcmd", TEXT),
                ("polpermissive", BOOL),
                ("polroles", TEXT),
                ("polqual", TEXT),
                ("polwithcheck", TEXT),
            ])?,
        ),
        (
            "pg_statistic_ext",
            empty(&[
                ("oid", OID),
                ("stxrelid", OID),
                ("stxname", TEXT),
                ("stxnamespace", OID),
                ("stxowner", OID),
                ("stxstattarget", INT4),
                ("stxkeys", TEXT),
                ("stxkind", TEXT),
                ("stxexprs", TEXT),
            ])?,
        ),
        (
            "pg_publication",
            empty(&[
                ("oid", OID),
                ("pubname", TEXT),
                ("pubowner", OID),
                ("puballtables", BOOL),
                ("pubinsert", BOOL),
                ("pubupdate", BOOL),
                ("pubdelete", BOOL),
                ("pubtruncate", BOOL),
                ("pubviaroot", BOOL),
            ])?,
        ),
        (
            "pg_publication_rel",
            empty(&[
                ("oid", OID),
                ("prpubid", OID),
                ("prrelid", OID),
                ("prqual", TEXT),
                ("prattrs", TEXT),
            ])?,
        ),
        (
            "pg_trigger",
            empty(&[
                ("oid", OID),
                ("tgrelid", OID),
                ("tgparentid", OID),
                ("tgname", TEXT),
                ("tgfoid", OID),
                ("tgtype", INT2),
                ("tgenabled", TEXT),
                ("tgisinternal", BOOL),
            ])?,
        ),
        (
            "pg_rewrite",
            empty(&[
                ("oid", OID),
                ("rulename", TEXT),
                ("ev_class", OID),
                ("ev_type", TEXT),
                ("ev_enabled", TEXT),
                ("is_instead", BOOL),
                ("ev_qual", TEXT),
                ("ev_action", TEXT),
            ])?,
        ),
        (
            "pg_collation",
            empty(&[
                ("oid", OID),
                ("collname", TEXT),
                ("collnamespace", OID),
                ("collowner", OID),
                ("collprovider", TEXT),
                ("collisdeterministic", BOOL),
                ("collencoding", INT4),
                ("collcollate", TEXT),
                ("collctype", TEXT),
            ])?,
        ),
        (
            "pg_foreign_table",
            empty(&[("ftrelid", OID), ("ftserver", OID), ("ftoptions", TEXT)])?,
        ),
        (
            "pg_partitioned_table",
            empty(&[
                ("partrelid", OID),
                ("partstrat", TEXT),
                ("partnatts", INT2),
                ("partdefid", OID),
                ("partattrs", TEXT),
            ])?,
        ),
    ])
}

fn empty(columns: &[(&str, DataType)]) -> Result<RecordBatch, EngineError> {
    batch(columns, Vec::new())
}

fn pg_namespace(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let rows = state
        .namespaces
        .iter()
        .map(|(o, name)| vec![oid(*o), text(name), oid(USER_OID), null_text()])
        .collect();
    batch(
        &[
            ("oid", OID),
            ("nspname", TEXT),
            ("nspowner", OID),
            ("nspacl", TEXT),
        ],
        rows,
    )
}

fn pg_class(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let columns = [
        ("oid", OID),
        ("relname", TEXT),
        ("relnamespace", OID),
        ("reltype", OID),
        ("reloftype", OID),
        ("relowner", OID),
        ("relam", OID),
        ("relfilenode", OID),
        ("reltablespace", OID),
        ("relpages", INT4),
        ("reltuples", DataType::Float32),
        ("relallvisible", INT4),
        ("reltoastrelid", OID),
        ("relhasindex", BOOL),
        ("relisshared", BOOL),
        ("relpersistence", TEXT),
        ("relkind", TEXT),
        ("relnatts", INT2),
        ("relchecks", INT2),
        ("relhasrules", BOOL),
        ("relhastriggers", BOOL),
        ("relhassubclass", BOOL),
        ("relrowsecurity", BOOL),
        ("relforcerowsecurity", BOOL),
        ("relispopulated", BOOL),
        ("relreplident", TEXT),
        ("relispartition", BOOL),
        ("relrewrite", OID),
        ("relacl", TEXT),
        ("reloptions", text_array()),
        ("relpartbound", TEXT),
    ];
    let rows = state
        .relations
        .iter()
        .map(|r| {
            let table = r.kind == "r";
            Ok(vec![
                oid(r.oid),
                text(&r.name),
                oid(state.namespace_oid(r.namespace).unwrap_or(0)),
                oid(0),
                oid(0),
                oid(USER_OID),
                oid(if table { 2 } else { 0 }),
                oid(0),
                oid(0),
                int4(0),
                ScalarValue::Float32(Some(-1.0)),
                int4(0),
                oid(0),
                boolean(false),
                boolean(false),
                text("p"),
                text(r.kind),
                int2(i16::try_from(r.columns.len()).unwrap_or(i16::MAX)),
                int2(0),
                boolean(false),
                boolean(false),
                boolean(false),
                boolean(false),
                boolean(false),
                boolean(true),
                text(if table { "d" } else { "n" }),
                boolean(false),
                oid(0),
                null_text(),
                ScalarValue::try_from(text_array())?,
                null_text(),
            ])
        })
        .collect::<Result<_, EngineError>>()?;
    batch(&columns, rows)
}

fn attnum(index: usize) -> i16 {
    i16::try_from(index + 1).unwrap_or(i16::MAX)
}

fn pg_attribute(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let columns = [
        ("attrelid", OID),
        ("attname", TEXT),
        ("atttypid", OID),
        ("attstattarget", INT4),
        ("attlen", INT2),
        ("attnum", INT2),
        ("attndims", INT4),
        ("attcacheoff", INT4),
        ("atttypmod", INT4),
        ("attbyval", BOOL),
        ("attalign", TEXT),
        ("attstorage", TEXT),
        ("attcompression", TEXT),
        ("attnotnull", BOOL),
        ("atthasdef", BOOL),
        ("atthasmissing", BOOL),
        ("attidentity", TEXT),
        ("attgenerated", TEXT),
        ("attisdropped", BOOL),
        ("attislocal", BOOL),
        ("attinhcount", INT4),
        ("attcollation", OID),
        ("attacl", TEXT),
        ("attoptions", TEXT),
        ("attfdwoptions", TEXT),
    ];
    let mut rows = Vec::new();
    for relation in &state.relations {
        for (i, column) in relation.columns.iter().enumerate() {
            let type_oid = type_oid(&column.data_type);
            let base = BASE_TYPES.iter().find(|t| t.oid == type_oid);
            let len = base.map_or(-1, |t| t.len);
            let collatable = base.is_some_and(|t| t.category == "S");
            rows.push(vec![
                oid(relation.oid),
                text(&column.name),
                oid(type_oid),
                int4(-1),
                int2(len),
                int2(attnum(i)),
                int4(0),
                int4(-1),
                int4(-1),
                boolean(len > 0 && len <= 8),
                text(if len == 8 { "d" } else { "i" }),
                text(if len < 0 { "x" } else { "p" }),
                text(""),
                // PostgreSQL reports view columns as nullable whatever they hold.
                boolean(relation.kind == "r" && !column.nullable),
                boolean(false),
                boolean(false),
                text(""),
                text(""),
                boolean(false),
                boolean(true),
                int4(0),
                oid(if collatable { 100 } else { 0 }),
                null_text(),
                null_text(),
                null_text(),
            ]);
        }
    }
    batch(&columns, rows)
}

fn pg_type() -> Result<RecordBatch, EngineError> {
    let columns = [
        ("oid", OID),
        ("typname", TEXT),
        ("typnamespace", OID),
        ("typowner", OID),
        ("typlen", INT2),
        ("typbyval", BOOL),
        ("typtype", TEXT),
        ("typcategory", TEXT),
        ("typispreferred", BOOL),
        ("typisdefined", BOOL),
        ("typdelim", TEXT),
        ("typrelid", OID),
        ("typelem", OID),
        ("typarray", OID),
        ("typinput", TEXT),
        ("typoutput", TEXT),
        ("typreceive", TEXT),
        ("typsend", TEXT),
        ("typnotnull", BOOL),
        ("typbasetype", OID),
        ("typtypmod", INT4),
        ("typndims", INT4),
        ("typcollation", OID),
        ("typdefault", TEXT),
    ];
    let mut rows = Vec::new();
    for t in BASE_TYPES {
        let collation = if t.category == "S" { 100 } else { 0 };
        let row = |oid_v: i64, name: String, len: i16, category: &str, elem: i64, array: i64| {
            vec![
                oid(oid_v),
                text(&name),
                oid(11),
                oid(USER_OID),
                int2(len),
                boolean(len > 0 && len <= 8),
                text("b"),
                text(category),
                boolean(false),
                boolean(true),
                text(","),
                oid(0),
                oid(elem),
                oid(array),
                text(&format!("{}in", name.trim_start_matches('_'))),
                text(&format!("{}out", name.trim_start_matches('_'))),
                text(&format!("{}recv", name.trim_start_matches('_'))),
                text(&format!("{}send", name.trim_start_matches('_'))),
                boolean(false),
                oid(0),
                int4(-1),
                int4(0),
                oid(collation),
                null_text(),
            ]
        };
        rows.push(row(
            t.oid,
            t.name.to_string(),
            t.len,
            t.category,
            0,
            t.array,
        ));
        rows.push(row(t.array, format!("_{}", t.name), -1, "A", t.oid, 0));
    }
    batch(&columns, rows)
}

fn pg_database() -> Result<RecordBatch, EngineError> {
    let columns = [
        ("oid", OID),
        ("datname", TEXT),
        ("datdba", OID),
        ("encoding", INT4),
        ("datlocprovider", TEXT),
        ("datistemplate", BOOL),
        ("datallowconn", BOOL),
        ("datconnlimit", INT4),
        ("datcollate", TEXT),
        ("datctype", TEXT),
        ("daticulocale", TEXT),
        ("daticurules", TEXT),
        ("datcollversion", TEXT),
        ("datacl", text_array()),
    ];
    let rows = vec![vec![
        oid(DATABASE_OID),
        text(DATABASE_NAME),
        oid(USER_OID),
        int4(6),
        text("c"),
        boolean(false),
        boolean(true),
        int4(-1),
        text("C.UTF-8"),
        text("C.UTF-8"),
        null_text(),
        null_text(),
        null_text(),
        // `datacl` is NULL (default privileges), as in a fresh PostgreSQL database.
        ScalarValue::try_from(&columns[13].1)?,
    ]];
    batch(&columns, rows)
}

fn pg_roles(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let columns = [
        ("oid", OID),
        ("rolname", TEXT),
        ("rolsuper", BOOL),
        ("rolinherit", BOOL),
        ("rolcreaterole", BOOL),
        ("rolcreatedb", BOOL),
        ("rolcanlogin", BOOL),
        ("rolreplication", BOOL),
        ("rolconnlimit", INT4),
        ("rolpassword", TEXT),
        ("rolvaliduntil", TEXT),
        ("rolbypassrls", BOOL),
        ("rolconfig", TEXT),
    ];
    let rows = vec![vec![
        oid(USER_OID),
        text(&state.user),
        boolean(false),
        boolean(true),
        boolean(false),
        boolean(false),
        boolean(true),
        boolean(false),
        int4(-1),
        text("********"),
        null_text(),
        boolean(false),
        null_text(),
    ]];
    batch(&columns, rows)
}

fn pg_user(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let columns = [
        ("usename", TEXT),
        ("usesysid", OID),
        ("usecreatedb", BOOL),
        ("usesuper", BOOL),
        ("userepl", BOOL),
        ("usebypassrls", BOOL),
        ("passwd", TEXT),
        ("valuntil", TEXT),
        ("useconfig", TEXT),
    ];
    let rows = vec![vec![
        text(&state.user),
        oid(USER_OID),
        boolean(false),
        boolean(false),
        boolean(false),
        boolean(false),
        text("********"),
        null_text(),
        null_text(),
    ]];
    batch(&columns, rows)
}

fn pg_description(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let mut rows = Vec::new();
    for relation in &state.relations {
        let row = |subid: i32, description: &str| {
            vec![
                oid(relation.oid),
                oid(PG_CLASS_OID),
                int4(subid),
                text(description),
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
    batch(
        &[
            ("objoid", OID),
            ("classoid", OID),
            ("objsubid", INT4),
            ("description", TEXT),
        ],
        rows,
    )
}

fn pg_views(state: &CatalogState) -> Result<RecordBatch, EngineError> {
    let rows = state
        .relations
        .iter()
        .filter(|r| r.kind == "v")
        .map(|r| {
            vec![
                text(r.namespace),
                text(&r.name),
                text(&state.user),
                opt_text(r.sql.as_deref()),
            ]
        })
        .collect();
    batch(
        &[
            ("schemaname", TEXT),
            ("viewname", TEXT),
            ("viewowner", TEXT),
            ("definition", TEXT),
        ],
        rows,
    )
}

fn pg_am() -> Result<RecordBatch, EngineError> {
    batch(
        &[
            ("oid", OID),
            ("amname", TEXT),
            ("amhandler", TEXT),
            ("amtype", TEXT),
        ],
        vec![vec![
            oid(2),
            text("heap"),
            text("heap_tableam_handler"),
            text("t"),
        ]],
    )
}
