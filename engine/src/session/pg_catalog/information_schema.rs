//! The SQL-standard `information_schema`, computed from the same state as `pg_catalog`.
//!
//! BI tools (Power BI, Grafana, Metabase's fallbacks) list tables and columns here. Every row is
//! derived from the session's [`CatalogState`] relations, so `information_schema` and
//! `pg_catalog` always agree: same schemas, same relations, same column order and types.
//! PostgreSQL's domains (`sql_identifier`, `cardinal_number`, `character_data`, `yes_or_no`)
//! are reported as their base types (`name`, `integer`, `character varying`) — what every
//! driver decodes them as.

use datafusion::common::ScalarValue;

use super::rows::{attnum, int4, opt_text, text, Row};
use super::tables::ColumnType::{self, *};
use super::tables::TableDef;
use super::types::{base_type, format_type, RANGE_TYPES};
use super::{CatalogState, Column, Relation, DATABASE_NAME, FIRST_INFORMATION_SCHEMA_OID};

/// Identifier columns (`sql_identifier`, a domain over `name`).
const IDENT: ColumnType = Name;
/// Text columns (`character_data` / `yes_or_no`, domains over `character varying`).
const CHARS: ColumnType = Varchar;
/// Count columns (`cardinal_number`, a domain over `integer`).
const CARDINAL: ColumnType = Int4;

const fn view(
    name: &'static str,
    index: i64,
    columns: &'static [(&'static str, ColumnType)],
) -> TableDef {
    TableDef {
        name,
        oid: FIRST_INFORMATION_SCHEMA_OID + index,
        kind: "v",
        columns,
    }
}

/// The views of `information_schema`, with PostgreSQL's columns.
pub(crate) const VIEWS: &[TableDef] = &[
    view(
        "schemata",
        0,
        &[
            ("catalog_name", IDENT),
            ("schema_name", IDENT),
            ("schema_owner", IDENT),
            ("default_character_set_catalog", IDENT),
            ("default_character_set_schema", IDENT),
            ("default_character_set_name", IDENT),
            ("sql_path", CHARS),
        ],
    ),
    view(
        "tables",
        1,
        &[
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("table_type", CHARS),
            ("self_referencing_column_name", IDENT),
            ("reference_generation", CHARS),
            ("user_defined_type_catalog", IDENT),
            ("user_defined_type_schema", IDENT),
            ("user_defined_type_name", IDENT),
            ("is_insertable_into", CHARS),
            ("is_typed", CHARS),
            ("commit_action", CHARS),
        ],
    ),
    view(
        "views",
        2,
        &[
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("view_definition", CHARS),
            ("check_option", CHARS),
            ("is_updatable", CHARS),
            ("is_insertable_into", CHARS),
            ("is_trigger_updatable", CHARS),
            ("is_trigger_deletable", CHARS),
            ("is_trigger_insertable_into", CHARS),
        ],
    ),
    view(
        "columns",
        3,
        &[
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("column_name", IDENT),
            ("ordinal_position", CARDINAL),
            ("column_default", CHARS),
            ("is_nullable", CHARS),
            ("data_type", CHARS),
            ("character_maximum_length", CARDINAL),
            ("character_octet_length", CARDINAL),
            ("numeric_precision", CARDINAL),
            ("numeric_precision_radix", CARDINAL),
            ("numeric_scale", CARDINAL),
            ("datetime_precision", CARDINAL),
            ("interval_type", CHARS),
            ("interval_precision", CARDINAL),
            ("character_set_catalog", IDENT),
            ("character_set_schema", IDENT),
            ("character_set_name", IDENT),
            ("collation_catalog", IDENT),
            ("collation_schema", IDENT),
            ("collation_name", IDENT),
            ("domain_catalog", IDENT),
            ("domain_schema", IDENT),
            ("domain_name", IDENT),
            ("udt_catalog", IDENT),
            ("udt_schema", IDENT),
            ("udt_name", IDENT),
            ("scope_catalog", IDENT),
            ("scope_schema", IDENT),
            ("scope_name", IDENT),
            ("maximum_cardinality", CARDINAL),
            ("dtd_identifier", IDENT),
            ("is_self_referencing", CHARS),
            ("is_identity", CHARS),
            ("identity_generation", CHARS),
            ("identity_start", CHARS),
            ("identity_increment", CHARS),
            ("identity_maximum", CHARS),
            ("identity_minimum", CHARS),
            ("identity_cycle", CHARS),
            ("is_generated", CHARS),
            ("generation_expression", CHARS),
            ("is_updatable", CHARS),
        ],
    ),
    view(
        "routines",
        4,
        &[
            ("specific_catalog", IDENT),
            ("specific_schema", IDENT),
            ("specific_name", IDENT),
            ("routine_catalog", IDENT),
            ("routine_schema", IDENT),
            ("routine_name", IDENT),
            ("routine_type", CHARS),
            ("data_type", CHARS),
            ("type_udt_catalog", IDENT),
            ("type_udt_schema", IDENT),
            ("type_udt_name", IDENT),
            ("routine_body", CHARS),
            ("routine_definition", CHARS),
            ("external_name", CHARS),
            ("external_language", CHARS),
            ("is_deterministic", CHARS),
            ("sql_data_access", CHARS),
            ("security_type", CHARS),
        ],
    ),
    view(
        "parameters",
        5,
        &[
            ("specific_catalog", IDENT),
            ("specific_schema", IDENT),
            ("specific_name", IDENT),
            ("ordinal_position", CARDINAL),
            ("parameter_mode", CHARS),
            ("parameter_name", IDENT),
            ("data_type", CHARS),
            ("udt_name", IDENT),
        ],
    ),
    view(
        "table_constraints",
        6,
        &[
            ("constraint_catalog", IDENT),
            ("constraint_schema", IDENT),
            ("constraint_name", IDENT),
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("constraint_type", CHARS),
            ("is_deferrable", CHARS),
            ("initially_deferred", CHARS),
            ("enforced", CHARS),
            ("nulls_distinct", CHARS),
        ],
    ),
    view(
        "key_column_usage",
        7,
        &[
            ("constraint_catalog", IDENT),
            ("constraint_schema", IDENT),
            ("constraint_name", IDENT),
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("column_name", IDENT),
            ("ordinal_position", CARDINAL),
            ("position_in_unique_constraint", CARDINAL),
        ],
    ),
    view(
        "referential_constraints",
        8,
        &[
            ("constraint_catalog", IDENT),
            ("constraint_schema", IDENT),
            ("constraint_name", IDENT),
            ("unique_constraint_catalog", IDENT),
            ("unique_constraint_schema", IDENT),
            ("unique_constraint_name", IDENT),
            ("match_option", CHARS),
            ("update_rule", CHARS),
            ("delete_rule", CHARS),
        ],
    ),
    view(
        "constraint_column_usage",
        9,
        &[
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("column_name", IDENT),
            ("constraint_catalog", IDENT),
            ("constraint_schema", IDENT),
            ("constraint_name", IDENT),
        ],
    ),
    view(
        "check_constraints",
        10,
        &[
            ("constraint_catalog", IDENT),
            ("constraint_schema", IDENT),
            ("constraint_name", IDENT),
            ("check_clause", CHARS),
        ],
    ),
    view(
        "table_privileges",
        11,
        &[
            ("grantor", IDENT),
            ("grantee", IDENT),
            ("table_catalog", IDENT),
            ("table_schema", IDENT),
            ("table_name", IDENT),
            ("privilege_type", CHARS),
            ("is_grantable", CHARS),
            ("with_hierarchy", CHARS),
        ],
    ),
    view(
        "character_sets",
        12,
        &[
            ("character_set_catalog", IDENT),
            ("character_set_schema", IDENT),
            ("character_set_name", IDENT),
            ("character_repertoire", IDENT),
            ("form_of_use", IDENT),
            ("default_collate_catalog", IDENT),
            ("default_collate_schema", IDENT),
            ("default_collate_name", IDENT),
        ],
    ),
    view(
        "sequences",
        13,
        &[
            ("sequence_catalog", IDENT),
            ("sequence_schema", IDENT),
            ("sequence_name", IDENT),
            ("data_type", CHARS),
            ("numeric_precision", CARDINAL),
            ("numeric_precision_radix", CARDINAL),
            ("numeric_scale", CARDINAL),
            ("start_value", CHARS),
            ("minimum_value", CHARS),
            ("maximum_value", CHARS),
            ("increment", CHARS),
            ("cycle_option", CHARS),
        ],
    ),
    view(
        "triggers",
        14,
        &[
            ("trigger_catalog", IDENT),
            ("trigger_schema", IDENT),
            ("trigger_name", IDENT),
            ("event_manipulation", CHARS),
            ("event_object_catalog", IDENT),
            ("event_object_schema", IDENT),
            ("event_object_table", IDENT),
            ("action_statement", CHARS),
            ("action_orientation", CHARS),
            ("action_timing", CHARS),
        ],
    ),
];

/// The definition of `information_schema` view `name`.
pub(crate) fn view_def(name: &str) -> Option<&'static TableDef> {
    VIEWS.iter().find(|v| v.name == name)
}

/// The rows of `information_schema` view `name` for this state.
pub(crate) fn rows(name: &str, state: &CatalogState) -> Vec<Row> {
    match name {
        "schemata" => schemata(state),
        "tables" => tables(state),
        "views" => views(state),
        "columns" => columns(state),
        "table_privileges" => table_privileges(state),
        "character_sets" => vec![vec![
            ("character_set_name", text("UTF8")),
            ("character_repertoire", text("UCS")),
            ("form_of_use", text("UTF8")),
            ("default_collate_catalog", text(DATABASE_NAME)),
        ]],
        _ => Vec::new(),
    }
}

fn yes_no(value: bool) -> ScalarValue {
    text(if value { "YES" } else { "NO" })
}

fn schemata(state: &CatalogState) -> Vec<Row> {
    state
        .namespaces
        .iter()
        .map(|(_, name)| {
            vec![
                ("catalog_name", text(DATABASE_NAME)),
                ("schema_name", text(name)),
                ("schema_owner", text(&state.user)),
            ]
        })
        .collect()
}

/// `table_type` as PostgreSQL spells it.
fn table_type(relation: &Relation) -> &'static str {
    match relation.kind {
        "v" => "VIEW",
        _ => "BASE TABLE",
    }
}

fn tables(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .map(|r| {
            vec![
                ("table_catalog", text(DATABASE_NAME)),
                ("table_schema", text(r.namespace)),
                ("table_name", text(&r.name)),
                ("table_type", text(table_type(r))),
                // FlowForge is read-only: nothing can be inserted anywhere.
                ("is_insertable_into", yes_no(false)),
                ("is_typed", yes_no(false)),
            ]
        })
        .collect()
}

fn views(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .filter(|r| r.kind == "v")
        .map(|r| {
            vec![
                ("table_catalog", text(DATABASE_NAME)),
                ("table_schema", text(r.namespace)),
                ("table_name", text(&r.name)),
                ("view_definition", opt_text(r.sql.as_deref())),
                ("check_option", text("NONE")),
                ("is_updatable", yes_no(false)),
                ("is_insertable_into", yes_no(false)),
                ("is_trigger_updatable", yes_no(false)),
                ("is_trigger_deletable", yes_no(false)),
                ("is_trigger_insertable_into", yes_no(false)),
            ]
        })
        .collect()
}

/// `information_schema.columns.data_type` for a type oid: the SQL name for built-in types,
/// `ARRAY` for arrays, `USER-DEFINED` otherwise.
fn sql_data_type(type_oid: i64) -> String {
    match base_type(type_oid) {
        Some(t) if t.category == "A" => "ARRAY".to_string(),
        Some(_) => format_type(type_oid, None),
        None if RANGE_TYPES.iter().any(|r| r.oid == type_oid) => "USER-DEFINED".to_string(),
        None if format_type(type_oid, None).ends_with("[]") => "ARRAY".to_string(),
        None => "USER-DEFINED".to_string(),
    }
}

/// The `udt_name` of a column: `pg_type.typname` of its type.
fn udt_name(type_oid: i64) -> String {
    if let Some(t) = base_type(type_oid) {
        return t.name.to_string();
    }
    match super::types::BASE_TYPES
        .iter()
        .find(|t| t.array == type_oid)
    {
        Some(t) => format!("_{}", t.name),
        None => format_type(type_oid, None),
    }
}

/// Precision facts of a column, as `information_schema.columns` reports them.
struct Precision {
    numeric_precision: Option<i32>,
    numeric_radix: Option<i32>,
    numeric_scale: Option<i32>,
    datetime_precision: Option<i32>,
}

fn precision(column: &Column) -> Precision {
    use datafusion::arrow::datatypes::DataType as D;
    let none = Precision {
        numeric_precision: None,
        numeric_radix: None,
        numeric_scale: None,
        datetime_precision: None,
    };
    let binary = |bits: i32| Precision {
        numeric_precision: Some(bits),
        numeric_radix: Some(2),
        numeric_scale: Some(0),
        ..none
    };
    match column.type_oid() {
        21 => binary(16),
        23 => binary(32),
        20 => binary(64),
        700 => Precision {
            numeric_scale: None,
            ..binary(24)
        },
        701 => Precision {
            numeric_scale: None,
            ..binary(53)
        },
        1700 => match column.data_type {
            D::Decimal32(p, s) | D::Decimal64(p, s) | D::Decimal128(p, s) | D::Decimal256(p, s) => {
                Precision {
                    numeric_precision: Some(i32::from(p)),
                    numeric_radix: Some(10),
                    numeric_scale: Some(i32::from(s)),
                    datetime_precision: None,
                }
            }
            _ => Precision {
                numeric_radix: Some(10),
                ..none
            },
        },
        1082 => Precision {
            datetime_precision: Some(0),
            ..none
        },
        1083 | 1114 | 1184 | 1266 | 1186 => Precision {
            datetime_precision: Some(6),
            ..none
        },
        _ => none,
    }
}

fn columns(state: &CatalogState) -> Vec<Row> {
    let mut rows = Vec::new();
    for relation in &state.relations {
        for (i, column) in relation.columns.iter().enumerate() {
            let type_oid = column.type_oid();
            let p = precision(column);
            let collatable = base_type(type_oid).is_some_and(|t| t.category == "S");
            let nullable = relation.kind != "r" || column.nullable;
            let mut row: Row = vec![
                ("table_catalog", text(DATABASE_NAME)),
                ("table_schema", text(relation.namespace)),
                ("table_name", text(&relation.name)),
                ("column_name", text(&column.name)),
                ("ordinal_position", int4(i32::from(attnum(i)))),
                ("is_nullable", yes_no(nullable)),
                ("data_type", text(&sql_data_type(type_oid))),
                ("numeric_precision", ScalarValue::Int32(p.numeric_precision)),
                (
                    "numeric_precision_radix",
                    ScalarValue::Int32(p.numeric_radix),
                ),
                ("numeric_scale", ScalarValue::Int32(p.numeric_scale)),
                (
                    "datetime_precision",
                    ScalarValue::Int32(p.datetime_precision),
                ),
                ("udt_catalog", text(DATABASE_NAME)),
                ("udt_schema", text(super::PG_CATALOG_SCHEMA)),
                ("udt_name", text(&udt_name(type_oid))),
                ("dtd_identifier", text(&attnum(i).to_string())),
                ("is_self_referencing", yes_no(false)),
                ("is_identity", yes_no(false)),
                ("identity_cycle", yes_no(false)),
                ("is_generated", text("NEVER")),
                ("is_updatable", yes_no(false)),
            ];
            if collatable && type_oid != 19 {
                row.push(("character_octet_length", int4(1_073_741_824)));
            }
            rows.push(row);
        }
    }
    rows
}

fn table_privileges(state: &CatalogState) -> Vec<Row> {
    state
        .relations
        .iter()
        .filter(|r| r.is_user_relation())
        .map(|r| {
            vec![
                ("grantor", text(&state.user)),
                ("grantee", text(&state.user)),
                ("table_catalog", text(DATABASE_NAME)),
                ("table_schema", text(r.namespace)),
                ("table_name", text(&r.name)),
                ("privilege_type", text("SELECT")),
                ("is_grantable", yes_no(false)),
                ("with_hierarchy", yes_no(true)),
            ]
        })
        .collect()
}
