//! The PostgreSQL type of each output column of a catalog query, read from its text.
//!
//! DataFusion types catalog results its own way: `pg_get_userbyid()` is `Utf8` where PostgreSQL
//! says `name`, a `CASE` over integer literals is `Int64` where PostgreSQL says `integer`, a
//! `nullif` of a `"char"` column loses its type. Drivers and BI tools key on these types, so for
//! queries over the catalog the session infers PostgreSQL's type of every select item from the
//! statement — catalog column definitions, casts, literals, well-known functions — and
//! [`conform_outputs`] casts or annotates the planned outputs to match. The same inference types
//! the empty result of a catalog query that cannot be planned.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::metadata::FieldMetadata;
use datafusion::logical_expr::{cast, Expr as DfExpr, LogicalPlan, LogicalPlanBuilder};
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr,
    TableFactor, Value,
};

use super::naming;
use super::pg_catalog::{PgCatalog, INFORMATION_SCHEMA, PG_CATALOG_SCHEMA, PG_TYPE_METADATA};
use crate::error::EngineError;

/// One output column: its PostgreSQL name and, when known, its PostgreSQL type name (`name`,
/// `int4`, `_text`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputColumn {
    pub name: String,
    pub pg_type: Option<String>,
}

/// The Arrow type values of PostgreSQL type `pg_type` have in FlowForge.
pub(crate) fn arrow_type(pg_type: &str) -> DataType {
    let list = |element: DataType| DataType::List(Arc::new(Field::new_list_field(element, true)));
    match pg_type.strip_prefix('_') {
        Some(element) => list(arrow_type(element)),
        None => match pg_type {
            "int2" => DataType::Int16,
            "int4" => DataType::Int32,
            "int8" | "oid" | "regclass" | "regproc" | "regtype" | "xid" => DataType::Int64,
            "bool" => DataType::Boolean,
            "float4" => DataType::Float32,
            "float8" => DataType::Float64,
            "int2vector" => list(DataType::Int16),
            "oidvector" => list(DataType::Int64),
            "timestamptz" => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
            "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, None),
            "date" => DataType::Date32,
            "numeric" => DataType::Decimal128(38, 10),
            _ => DataType::Utf8,
        },
    }
}

/// The PostgreSQL type name a column of Arrow type `data_type` (with `metadata`) is sent as.
fn pg_type_of_field(field: &Field) -> Option<String> {
    if let Some(pg) = field.metadata().get(PG_TYPE_METADATA) {
        return Some(pg.clone());
    }
    pg_type_of_arrow(field.data_type())
}

fn pg_type_of_arrow(data_type: &DataType) -> Option<String> {
    Some(
        match data_type {
            DataType::Utf8 => "text",
            DataType::Int16 => "int2",
            DataType::Int32 => "int4",
            DataType::Int64 => "int8",
            DataType::Boolean => "bool",
            DataType::Float32 => "float4",
            DataType::Float64 => "float8",
            DataType::List(element) => {
                return pg_type_of_arrow(element.data_type()).map(|e| format!("_{e}"))
            }
            _ => return None,
        }
        .to_string(),
    )
}

/// A relation of a FROM clause: the name it is referred to by and its columns' PostgreSQL
/// names and types.
type Relation = (String, Vec<(String, Option<String>)>);

/// The output columns of a query, with their PostgreSQL types where the text tells them.
/// Wildcards expand only over relations whose columns are known.
pub(crate) fn query_columns(query: &Query) -> Vec<OutputColumn> {
    set_expr_columns(&query.body)
}

/// The output columns of a plain SELECT (no wildcard, no set operation) with a type only for
/// the ones that are integer literals: PostgreSQL types `SELECT 1` as `int4` where DataFusion
/// plans `Int64`, and clients notice (node-postgres returns a string for `int8`).
pub(crate) fn integer_literal_columns(query: &Query) -> Vec<OutputColumn> {
    fn int4_literal(expr: &Expr) -> bool {
        match expr {
            Expr::Value(value) => {
                matches!(&value.value, Value::Number(n, _) if n.parse::<i32>().is_ok())
            }
            Expr::Nested(inner) => int4_literal(inner),
            Expr::UnaryOp {
                op: ast::UnaryOperator::Minus | ast::UnaryOperator::Plus,
                expr,
            } => int4_literal(expr),
            _ => false,
        }
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Vec::new();
    };
    let mut columns = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        let expr = match item {
            SelectItem::UnnamedExpr(expr)
            | SelectItem::ExprWithAlias { expr, .. }
            | SelectItem::ExprWithAliases { expr, .. } => expr,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => return Vec::new(),
        };
        columns.push(OutputColumn {
            name: naming::item_name(item).unwrap_or_else(|| naming::UNNAMED_COLUMN.to_string()),
            pg_type: int4_literal(expr).then(|| "int4".to_string()),
        });
    }
    columns
}

fn set_expr_columns(body: &SetExpr) -> Vec<OutputColumn> {
    match body {
        SetExpr::Select(select) => select_columns(select),
        SetExpr::Query(inner) => query_columns(inner),
        SetExpr::SetOperation { left, .. } => set_expr_columns(left),
        _ => Vec::new(),
    }
}

fn select_columns(select: &Select) -> Vec<OutputColumn> {
    let relations = from_relations(select);
    let mut columns = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) => {
                for (_, relation) in &relations {
                    columns.extend(relation.iter().map(|(name, pg)| OutputColumn {
                        name: name.clone(),
                        pg_type: pg.clone(),
                    }));
                }
            }
            SelectItem::QualifiedWildcard(kind, _) => {
                let qualifier = kind.to_string().to_lowercase();
                let qualifier = qualifier.trim_end_matches(".*");
                for (alias, relation) in &relations {
                    if alias == qualifier {
                        columns.extend(relation.iter().map(|(name, pg)| OutputColumn {
                            name: name.clone(),
                            pg_type: pg.clone(),
                        }));
                    }
                }
            }
            SelectItem::UnnamedExpr(expr)
            | SelectItem::ExprWithAlias { expr, .. }
            | SelectItem::ExprWithAliases { expr, .. } => columns.push(OutputColumn {
                name: naming::item_name(item).unwrap_or_else(|| naming::UNNAMED_COLUMN.to_string()),
                pg_type: expr_type(expr, &relations),
            }),
        }
    }
    columns
}

/// The catalog schema and table a relation name refers to (`pg_catalog` for bare `pg_*`).
pub(crate) fn catalog_relation(relation: &ObjectName) -> Option<(&'static str, String)> {
    let parts: Vec<String> = relation
        .0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(ident) => Some(ident.value.to_lowercase()),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [.., schema, table] if schema == PG_CATALOG_SCHEMA => {
            Some((PG_CATALOG_SCHEMA, table.clone()))
        }
        [.., schema, table] if schema == INFORMATION_SCHEMA => {
            Some((INFORMATION_SCHEMA, table.clone()))
        }
        [table] if table.starts_with("pg_") => Some((PG_CATALOG_SCHEMA, table.clone())),
        _ => None,
    }
}

/// The relations of a SELECT's FROM clause with their columns, where known: catalog relations
/// and derived tables.
fn from_relations(select: &Select) -> Vec<Relation> {
    let mut relations = Vec::new();
    let mut add = |factor: &TableFactor| match factor {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => {
            let columns = catalog_relation(name)
                .and_then(|(schema, table)| PgCatalog::relation_schema(Some(schema), &table))
                .map(|schema| {
                    schema
                        .fields()
                        .iter()
                        .map(|f| (f.name().clone(), pg_type_of_field(f)))
                        .collect()
                })
                .unwrap_or_default();
            let key = alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .or_else(|| name.0.last().map(|p| p.to_string().to_lowercase()))
                .unwrap_or_default();
            relations.push((key, columns));
        }
        TableFactor::Table {
            name,
            alias: Some(alias),
            args: Some(args),
            ..
        } if name.to_string().to_lowercase().ends_with("generate_series") => {
            // PostgreSQL's generate_series(int, int) is `integer`, `bigint` for bigger bounds.
            let small = args.args.iter().all(|arg| {
                matches!(arg, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))
                    if matches!(expr_type(e, &[]).as_deref(), Some("int4" | "int2")))
            });
            let column = alias
                .columns
                .first()
                .map(|c| c.name.value.to_lowercase())
                .unwrap_or_else(|| alias.name.value.to_lowercase());
            let pg = if small { "int4" } else { "int8" };
            relations.push((
                alias.name.value.to_lowercase(),
                vec![(column, Some(pg.to_string()))],
            ));
        }
        TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } => {
            let columns = query_columns(subquery)
                .into_iter()
                .map(|c| (c.name, c.pg_type))
                .collect();
            relations.push((alias.name.value.to_lowercase(), columns));
        }
        _ => {}
    };
    for table in &select.from {
        add(&table.relation);
        for join in &table.joins {
            add(&join.relation);
        }
    }
    relations
}

/// The column a reference names, from the FROM relations.
fn column_type(expr: &Expr, relations: &[Relation]) -> Option<Option<String>> {
    let (qualifier, column) = match expr {
        Expr::Identifier(ident) => (None, ident.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => {
            let column = parts.last()?.value.to_lowercase();
            let qualifier = parts.iter().rev().nth(1).map(|q| q.value.to_lowercase());
            (qualifier, column)
        }
        _ => return None,
    };
    relations
        .iter()
        .filter(|(alias, _)| qualifier.as_ref().is_none_or(|q| q == alias))
        .find_map(|(_, columns)| {
            columns
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&column))
                .map(|(_, pg)| pg.clone())
        })
}

/// PostgreSQL's type of a select expression, when the text tells it.
fn expr_type(expr: &Expr, relations: &[Relation]) -> Option<String> {
    let owned = |s: &str| Some(s.to_string());
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => column_type(expr, relations)
            .unwrap_or_else(|| {
                let name = match expr {
                    Expr::Identifier(ident) => ident.value.clone(),
                    Expr::CompoundIdentifier(parts) => {
                        parts.last().map(|p| p.value.clone()).unwrap_or_default()
                    }
                    _ => String::new(),
                };
                PgCatalog::column_field_by_name(&name).and_then(|f| pg_type_of_field(&f))
            }),
        Expr::Nested(inner) => expr_type(inner, relations),
        Expr::Cast { data_type, .. } => sql_type_name(data_type),
        Expr::Value(value) => match &value.value {
            Value::Number(n, _) if n.parse::<i32>().is_ok() => owned("int4"),
            Value::Number(n, _) if n.parse::<i64>().is_ok() => owned("int8"),
            Value::Number(..) => owned("numeric"),
            Value::Boolean(_) => owned("bool"),
            _ => owned("text"),
        },
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Exists { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::SimilarTo { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => owned("bool"),
        Expr::UnaryOp { op, expr } => match op {
            ast::UnaryOperator::Not => owned("bool"),
            _ => expr_type(expr, relations),
        },
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo => {
                let (l, r) = (expr_type(left, relations), expr_type(right, relations));
                match (l.as_deref(), r.as_deref()) {
                    (Some("int8"), _) | (_, Some("int8")) => owned("int8"),
                    (Some("int4"), Some("int4" | "int2")) | (Some("int2"), Some("int4")) => {
                        owned("int4")
                    }
                    _ => l,
                }
            }
            BinaryOperator::StringConcat => owned("text"),
            _ => owned("bool"),
        },
        Expr::Case {
            conditions,
            else_result,
            ..
        } => conditions
            .iter()
            .map(|c| expr_type(&c.result, relations))
            .chain(else_result.iter().map(|e| expr_type(e, relations)))
            .find(|t| t.as_deref().is_some_and(|t| t != "text") || t.is_none())
            .unwrap_or_else(|| owned("text")),
        Expr::Subquery(query) => query_columns(query).first().and_then(|c| c.pg_type.clone()),
        Expr::Array(array) => array
            .elem
            .first()
            .and_then(|e| expr_type(e, relations))
            .map(|e| format!("_{e}")),
        Expr::Function(function) => function_type(function, relations),
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(Expr::Identifier(key)))
                if key.value.eq_ignore_ascii_case("n") =>
            {
                owned("int4")
            }
            Some(ast::AccessExpr::Dot(_)) => {
                // `(_pg_expandarray(a)).x` is an element of `a`.
                expr_type(root, relations).map(|t| element_type(&t))
            }
            _ => expr_type(root, relations).map(|t| element_type(&t)),
        },
        _ => None,
    }
}

/// The element type of an array type name (`_text` → `text`, `int2vector` → `int2`).
fn element_type(array: &str) -> String {
    match array {
        "int2vector" => "int2".to_string(),
        "oidvector" => "oid".to_string(),
        other => other.strip_prefix('_').unwrap_or(other).to_string(),
    }
}

/// PostgreSQL's result type of a function call, for the functions catalog queries use.
fn function_type(function: &ast::Function, relations: &[Relation]) -> Option<String> {
    let owned = |s: &str| Some(s.to_string());
    let name = function
        .name
        .0
        .last()
        .map(|p| p.to_string().to_lowercase())?;
    let args: Vec<&Expr> = match &function.args {
        ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .filter_map(|arg| match arg {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let first = || args.first().and_then(|e| expr_type(e, relations));
    match name.as_str() {
        "pg_get_userbyid"
        | "current_database"
        | "current_schema"
        | "current_user"
        | "session_user"
        | "current_catalog"
        | "user"
        | "pg_encoding_to_char" => owned("name"),
        "count"
        | "row_number"
        | "rank"
        | "dense_rank"
        | "pg_relation_size"
        | "pg_total_relation_size"
        | "pg_table_size"
        | "pg_indexes_size"
        | "pg_database_size" => owned("int8"),
        "array_length" | "array_lower" | "array_upper" | "pg_backend_pid" | "length"
        | "char_length" | "strpos" | "position" | "array_position" | "ascii" => owned("int4"),
        n if n.starts_with("has_") || n.ends_with("_is_visible") => owned("bool"),
        "pg_is_in_recovery"
        | "pg_is_other_temp_schema"
        | "bool_and"
        | "bool_or"
        | "every"
        | "pg_relation_is_publishable"
        | "pg_has_role" => owned("bool"),
        "to_regclass" => owned("regclass"),
        "to_regtype" => owned("regtype"),
        "pg_my_temp_schema" => owned("oid"),
        "json_build_object" | "json_agg" | "to_json" | "row_to_json" => owned("json"),
        "current_schemas" | "parse_ident" | "string_to_array" => owned("_text"),
        "array_agg" => first().map(|t| format!("_{t}")),
        "array" => match &function.args {
            ast::FunctionArguments::Subquery(query) => query_columns(query)
                .first()
                .and_then(|c| c.pg_type.clone())
                .map(|t| format!("_{t}")),
            _ => None,
        },
        "unnest" | "_pg_expandarray" => first().map(|t| element_type(&t)),
        "min" | "max" | "coalesce" | "nullif" | "greatest" | "least" | "abs" => first(),
        "sum" => match first().as_deref() {
            Some("int2" | "int4") => owned("int8"),
            Some("int8") => owned("numeric"),
            Some(other) => owned(other),
            None => None,
        },
        "avg" => owned("numeric"),
        "format_type"
        | "pg_get_expr"
        | "pg_get_viewdef"
        | "pg_get_constraintdef"
        | "pg_get_indexdef"
        | "pg_get_triggerdef"
        | "pg_get_ruledef"
        | "obj_description"
        | "col_description"
        | "shobj_description"
        | "current_setting"
        | "quote_ident"
        | "array_to_string"
        | "string_agg"
        | "upper"
        | "lower"
        | "concat"
        | "format"
        | "substring"
        | "substr"
        | "replace"
        | "trim"
        | "btrim"
        | "ltrim"
        | "rtrim"
        | "version"
        | "pg_size_pretty"
        | "pg_get_function_result"
        | "pg_get_function_arguments"
        | "pg_get_function_identity_arguments"
        | "pg_get_serial_sequence"
        | "pg_get_partkeydef"
        | "pg_tablespace_location"
        | "pg_get_statisticsobjdef_columns" => owned("text"),
        _ => None,
    }
}

/// The PostgreSQL type name of a type written in a cast.
fn sql_type_name(data_type: &ast::DataType) -> Option<String> {
    use ast::DataType as S;
    let owned = |s: &str| Some(s.to_string());
    match data_type {
        S::SmallInt(_) | S::Int2(_) => owned("int2"),
        S::Int(_) | S::Integer(_) | S::Int4(_) => owned("int4"),
        S::BigInt(_) | S::Int8(_) => owned("int8"),
        S::Real | S::Float4 => owned("float4"),
        S::Double(_) | S::DoublePrecision | S::Float8 | S::Float(_) => owned("float8"),
        S::Boolean | S::Bool => owned("bool"),
        S::Text | S::String(_) => owned("text"),
        S::Varchar(_) | S::CharacterVarying(_) | S::CharVarying(_) => owned("varchar"),
        S::Numeric(_) | S::Decimal(_) => owned("numeric"),
        S::Date => owned("date"),
        S::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            owned("timestamptz")
        }
        S::Timestamp(..) => owned("timestamp"),
        S::Regclass => owned("regclass"),
        S::JSON => owned("json"),
        S::Array(ast::ArrayElemTypeDef::SquareBracket(inner, _))
        | S::Array(ast::ArrayElemTypeDef::AngleBracket(inner)) => {
            sql_type_name(inner).map(|e| format!("_{e}"))
        }
        S::Custom(name, _) => {
            let name = name.to_string().to_lowercase();
            let name = name.trim_start_matches("pg_catalog.").trim_matches('"');
            match name {
                "oid" | "regclass" | "regtype" | "regproc" | "name" | "text" | "int2" | "int4"
                | "int8" | "bool" | "float4" | "float8" | "varchar" | "json" | "xid" => owned(name),
                "char" => owned("char"),
                "regnamespace" | "regrole" | "regprocedure" | "regoper" => owned("oid"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Types DataFusion cannot tell apart that travel with a PostgreSQL type in field metadata.
pub(crate) fn annotated(pg_type: &str) -> bool {
    matches!(
        pg_type,
        "name"
            | "char"
            | "varchar"
            | "json"
            | "oid"
            | "regclass"
            | "regproc"
            | "regtype"
            | "pg_node_tree"
            | "_name"
    )
}

/// Re-projects `plan`'s outputs so their types are PostgreSQL's for `columns` (the inferred
/// output columns, in order): integer widths are cast (`int4` for a `CASE` of literals), and
/// types Arrow cannot say (`name`, `"char"`, `oid`, ...) are carried in field metadata.
/// Outputs whose type is unknown or not convertible stay as planned.
pub(crate) fn conform_outputs(
    plan: LogicalPlan,
    columns: &[OutputColumn],
) -> Result<LogicalPlan, EngineError> {
    if columns.len() != plan.schema().fields().len() {
        return Ok(plan);
    }
    let mut changed = false;
    let mut exprs = Vec::with_capacity(columns.len());
    for ((qualifier, field), column) in plan.schema().iter().zip(columns) {
        let reference = DfExpr::Column(datafusion::common::Column::new(
            qualifier.cloned(),
            field.name(),
        ));
        let Some(pg) = column.pg_type.as_deref() else {
            exprs.push(reference);
            continue;
        };
        let target = arrow_type(pg);
        let planned = field.data_type();
        let convertible = planned == &target
            || planned == &DataType::Null
            || matches!(
                (planned, &target),
                (
                    DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt64,
                    DataType::Int16 | DataType::Int32 | DataType::Int64
                ) | (DataType::Utf8View | DataType::LargeUtf8, DataType::Utf8)
            );
        let already = pg_type_of_field(field).as_deref() == Some(pg);
        if !convertible || already {
            exprs.push(reference);
            continue;
        }
        changed = true;
        let value = if planned == &target {
            reference
        } else {
            cast(reference, target)
        };
        let metadata = annotated(pg).then(|| {
            FieldMetadata::from(HashMap::from([(
                PG_TYPE_METADATA.to_string(),
                pg.to_string(),
            )]))
        });
        exprs.push(value.alias_with_metadata(field.name(), metadata));
    }
    if !changed {
        return Ok(plan);
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}
