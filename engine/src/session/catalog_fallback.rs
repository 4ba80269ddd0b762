//! The answer to a catalog query the engine cannot plan: an empty result of the right shape.
//!
//! BI tools send new catalog SQL with every release. When a query that reads only
//! `pg_catalog` / `information_schema` (or calls only catalog functions) fails to plan, the
//! session answers with zero rows whose column names are PostgreSQL's and whose types come from
//! the catalog definitions, casts and literals in the select list — so the tool degrades (an
//! empty list of indexes, say) instead of refusing to connect. The caller logs the query text.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, Expr, ObjectName, ObjectNamePart, Query, Select, SelectItem, SetExpr,
    TableFactor, Value, Visit, Visitor,
};

use super::naming;
use super::pg_catalog::{PgCatalog, INFORMATION_SCHEMA, PG_CATALOG_SCHEMA};

/// Whether `statement` is a catalog query: every relation it reads is in `pg_catalog` or
/// `information_schema`, and it reads at least one or calls a `pg_`-named function.
pub(crate) fn is_catalog_query(statement: &DFStatement) -> bool {
    let DFStatement::Statement(inner) = statement else {
        return false;
    };
    let mut scan = CatalogScan::default();
    let _ = inner.visit(&mut scan);
    !scan.other_relation && (scan.catalog_relation || scan.catalog_function)
}

#[derive(Default)]
struct CatalogScan {
    catalog_relation: bool,
    other_relation: bool,
    catalog_function: bool,
}

impl Visitor for CatalogScan {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let set_returning = matches!(
            relation.to_string().to_lowercase().as_str(),
            "generate_series" | "unnest" | "generate_subscripts" | "_pg_expandarray" | "range"
        );
        if set_returning {
            return ControlFlow::Continue(());
        }
        if relation_schema(relation).is_some() {
            self.catalog_relation = true;
        } else {
            self.other_relation = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Function(function) = expr {
            let name = function.name.to_string().to_lowercase();
            if name.starts_with("pg_") || name.starts_with("pg_catalog.") {
                self.catalog_function = true;
            }
        }
        ControlFlow::Continue(())
    }
}

/// The catalog schema a relation name is in (`pg_catalog` for bare `pg_*` names), if any.
fn relation_schema(relation: &ObjectName) -> Option<(&'static str, String)> {
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

/// An empty plan with the columns `statement` would return, and their PostgreSQL names.
pub(crate) fn empty_result(statement: &DFStatement) -> Option<(LogicalPlan, Vec<String>)> {
    let DFStatement::Statement(inner) = statement else {
        return None;
    };
    let ast::Statement::Query(query) = inner.as_ref() else {
        return None;
    };
    let fields = query_fields(query);
    if fields.is_empty() {
        return None;
    }
    let names: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    // The plan's own names must be unique; the PostgreSQL names (which may repeat) travel apart.
    let unique: Vec<Field> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| f.clone().with_name(format!("{}#{i}", f.name())))
        .collect();
    let schema = DFSchema::try_from(Schema::new(unique)).ok()?;
    let plan = LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(schema),
    });
    Some((plan, names))
}

/// The output fields of a query: its first SELECT's items, typed.
fn query_fields(query: &Query) -> Vec<Field> {
    set_expr_fields(&query.body)
}

/// The output fields of a query body; set operations are named and typed by their first input.
fn set_expr_fields(body: &SetExpr) -> Vec<Field> {
    match body {
        SetExpr::Select(select) => select_fields(select),
        SetExpr::Query(inner) => query_fields(inner),
        SetExpr::SetOperation { left, .. } => set_expr_fields(left),
        _ => Vec::new(),
    }
}

/// The relations of a SELECT's FROM clause: `(alias or name, schema of the relation)`.
fn from_relations(select: &Select) -> Vec<(String, Option<SchemaRef>)> {
    let mut relations = Vec::new();
    let mut add = |factor: &TableFactor| {
        if let TableFactor::Table { name, alias, .. } = factor {
            let schema = relation_schema(name)
                .and_then(|(schema, table)| PgCatalog::relation_schema(Some(schema), &table));
            let key = alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .or_else(|| name.0.last().map(|p| p.to_string().to_lowercase()))
                .unwrap_or_default();
            relations.push((key, schema));
        }
    };
    for table in &select.from {
        add(&table.relation);
        for join in &table.joins {
            add(&join.relation);
        }
    }
    relations
}

fn select_fields(select: &Select) -> Vec<Field> {
    let relations = from_relations(select);
    let mut fields = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) => {
                for (_, schema) in &relations {
                    if let Some(schema) = schema {
                        fields.extend(schema.fields().iter().map(|f| f.as_ref().clone()));
                    }
                }
            }
            SelectItem::QualifiedWildcard(kind, _) => {
                let qualifier = kind.to_string().to_lowercase();
                let qualifier = qualifier.trim_end_matches(".*");
                for (alias, schema) in &relations {
                    if alias == qualifier {
                        if let Some(schema) = schema {
                            fields.extend(schema.fields().iter().map(|f| f.as_ref().clone()));
                        }
                    }
                }
            }
            SelectItem::UnnamedExpr(expr)
            | SelectItem::ExprWithAlias { expr, .. }
            | SelectItem::ExprWithAliases { expr, .. } => {
                let name =
                    naming::item_name(item).unwrap_or_else(|| naming::UNNAMED_COLUMN.to_string());
                let data_type = expr_type(expr, &relations);
                fields.push(field_like(&name, data_type, expr, &relations));
            }
        }
    }
    fields
}

/// A field named `name`: a bare catalog column keeps its metadata (its PostgreSQL type).
fn field_like(
    name: &str,
    data_type: DataType,
    expr: &Expr,
    relations: &[(String, Option<SchemaRef>)],
) -> Field {
    match column_field(expr, relations) {
        Some(field) if field.data_type() == &data_type => field.with_name(name),
        _ => Field::new(name, data_type, true),
    }
}

/// The catalog field a column reference names.
fn column_field(expr: &Expr, relations: &[(String, Option<SchemaRef>)]) -> Option<Field> {
    let (qualifier, column) = match expr {
        Expr::Identifier(ident) => (None, ident.value.to_lowercase()),
        Expr::CompoundIdentifier(parts) => {
            let column = parts.last()?.value.to_lowercase();
            let qualifier = parts.iter().rev().nth(1).map(|q| q.value.to_lowercase());
            (qualifier, column)
        }
        Expr::Nested(inner) => return column_field(inner, relations),
        _ => return None,
    };
    relations
        .iter()
        .filter(|(alias, _)| qualifier.as_ref().is_none_or(|q| q == alias))
        .filter_map(|(_, schema)| schema.as_ref())
        .find_map(|schema| {
            schema
                .field_with_name(&column)
                .ok()
                .map(|f| f.as_ref().clone())
        })
}

/// The best type for a select expression from what the query text says.
fn expr_type(expr: &Expr, relations: &[(String, Option<SchemaRef>)]) -> DataType {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            if let Some(field) = column_field(expr, relations) {
                return field.data_type().clone();
            }
            let column = match expr {
                Expr::Identifier(ident) => ident.value.clone(),
                Expr::CompoundIdentifier(parts) => {
                    parts.last().map(|p| p.value.clone()).unwrap_or_default()
                }
                _ => String::new(),
            };
            PgCatalog::column_type_by_name(&column).unwrap_or(DataType::Utf8)
        }
        Expr::Nested(inner) => expr_type(inner, relations),
        Expr::Cast { data_type, .. } => sql_type(data_type),
        Expr::Value(value) => match &value.value {
            Value::Number(n, _) if n.parse::<i32>().is_ok() => DataType::Int32,
            Value::Number(n, _) if n.parse::<i64>().is_ok() => DataType::Int64,
            Value::Number(..) => DataType::Float64,
            Value::Boolean(_) => DataType::Boolean,
            _ => DataType::Utf8,
        },
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Exists { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::AnyOp { .. }
        | Expr::AllOp { .. } => DataType::Boolean,
        Expr::UnaryOp { op, expr } => match op {
            ast::UnaryOperator::Not => DataType::Boolean,
            _ => expr_type(expr, relations),
        },
        Expr::BinaryOp { left, op, .. } => match op {
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo => expr_type(left, relations),
            BinaryOperator::StringConcat => DataType::Utf8,
            _ => DataType::Boolean,
        },
        Expr::Case {
            conditions,
            else_result,
            ..
        } => conditions
            .first()
            .map(|c| expr_type(&c.result, relations))
            .or_else(|| else_result.as_ref().map(|e| expr_type(e, relations)))
            .unwrap_or(DataType::Utf8),
        Expr::Subquery(query) => query_fields(query)
            .first()
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Utf8),
        Expr::Array(array) => {
            let element = array
                .elem
                .first()
                .map(|e| expr_type(e, relations))
                .unwrap_or(DataType::Utf8);
            DataType::List(Arc::new(Field::new_list_field(element, true)))
        }
        Expr::Function(function) => function_type(function, relations),
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            // `(information_schema._pg_expandarray(a)).n` is the 1-based position.
            Some(ast::AccessExpr::Dot(Expr::Identifier(key)))
                if key.value.eq_ignore_ascii_case("n") =>
            {
                DataType::Int32
            }
            _ => match expr_type(root, relations) {
                DataType::List(element) => element.data_type().clone(),
                other => other,
            },
        },
        _ => DataType::Utf8,
    }
}

/// The result type of a function call, by what PostgreSQL's function returns.
fn function_type(function: &ast::Function, relations: &[(String, Option<SchemaRef>)]) -> DataType {
    let name = function
        .name
        .0
        .last()
        .map(|p| p.to_string().to_lowercase())
        .unwrap_or_default();
    let first_arg = || match &function.args {
        ast::FunctionArguments::List(list) => list.args.first().and_then(|arg| match arg {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                Some(expr_type(e, relations))
            }
            _ => None,
        }),
        _ => None,
    };
    match name.as_str() {
        "count"
        | "pg_relation_size"
        | "pg_total_relation_size"
        | "pg_table_size"
        | "pg_indexes_size" => DataType::Int64,
        "array_length" | "array_lower" | "array_upper" | "pg_backend_pid" => DataType::Int32,
        n if n.starts_with("has_") || n.ends_with("_is_visible") => DataType::Boolean,
        "pg_is_in_recovery" | "pg_is_other_temp_schema" | "bool_and" | "bool_or" => {
            DataType::Boolean
        }
        "to_regclass" | "to_regtype" | "pg_my_temp_schema" => DataType::Int64,
        "_pg_expandarray" => first_arg().unwrap_or(DataType::Utf8),
        "current_schemas" | "array_agg" | "parse_ident" | "string_to_array" => {
            let element = match name.as_str() {
                "array_agg" => first_arg().unwrap_or(DataType::Utf8),
                _ => DataType::Utf8,
            };
            DataType::List(Arc::new(Field::new_list_field(element, true)))
        }
        "min" | "max" | "coalesce" | "nullif" | "greatest" | "least" | "abs" => {
            first_arg().unwrap_or(DataType::Utf8)
        }
        "sum" => match first_arg() {
            Some(DataType::Int16 | DataType::Int32) => DataType::Int64,
            Some(other) => other,
            None => DataType::Int64,
        },
        "avg" => DataType::Float64,
        _ => DataType::Utf8,
    }
}

/// The Arrow type for a SQL type name in a cast.
fn sql_type(data_type: &ast::DataType) -> DataType {
    use ast::DataType as S;
    match data_type {
        S::SmallInt(_) | S::Int2(_) => DataType::Int16,
        S::Int(_) | S::Integer(_) | S::Int4(_) => DataType::Int32,
        S::BigInt(_) | S::Int8(_) => DataType::Int64,
        S::Real | S::Float4 => DataType::Float32,
        S::Double(_) | S::DoublePrecision | S::Float8 | S::Float(_) => DataType::Float64,
        S::Boolean | S::Bool => DataType::Boolean,
        S::Numeric(_) | S::Decimal(_) => DataType::Decimal128(38, 10),
        S::Date => DataType::Date32,
        S::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
        }
        S::Timestamp(..) => DataType::Timestamp(TimeUnit::Microsecond, None),
        S::Array(ast::ArrayElemTypeDef::SquareBracket(inner, _))
        | S::Array(ast::ArrayElemTypeDef::AngleBracket(inner)) => {
            DataType::List(Arc::new(Field::new_list_field(sql_type(inner), true)))
        }
        S::Custom(name, _) => match name
            .to_string()
            .to_lowercase()
            .trim_start_matches("pg_catalog.")
        {
            "oid" | "regclass" | "regtype" | "regproc" | "regnamespace" | "xid" => DataType::Int64,
            "int2" => DataType::Int16,
            "int4" => DataType::Int32,
            "int8" => DataType::Int64,
            _ => DataType::Utf8,
        },
        _ => DataType::Utf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

    fn parse(sql: &str) -> DFStatement {
        DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})
            .unwrap()
            .pop_front()
            .unwrap()
    }

    #[test]
    fn only_queries_over_the_catalog_qualify() {
        assert!(is_catalog_query(&parse(
            "SELECT * FROM pg_catalog.pg_index"
        )));
        assert!(is_catalog_query(&parse(
            "SELECT relname FROM pg_class c JOIN information_schema.tables t ON true"
        )));
        assert!(is_catalog_query(&parse(
            "SELECT pg_catalog.pg_backend_pid()"
        )));
        assert!(!is_catalog_query(&parse("SELECT * FROM market.fct_trades")));
        assert!(!is_catalog_query(&parse("SELECT 1")));
        assert!(!is_catalog_query(&parse(
            "SELECT * FROM pg_class c JOIN trades_by_symbol t ON true"
        )));
    }

    #[test]
    fn empty_results_take_names_and_types_from_the_catalog_and_the_casts() {
        let statement = parse(
            "SELECT NULL AS table_cat, n.nspname AS table_schem, ct.relname, \
             (information_schema._pg_expandarray(i.indkey)).n AS key_seq, \
             a.attnum::int4 AS a_attnum, count(*), i.indisprimary \
             FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_namespace n ON ct.relnamespace = n.oid \
             JOIN pg_catalog.pg_index i ON true JOIN pg_catalog.pg_attribute a ON true",
        );
        let (plan, names) = empty_result(&statement).unwrap();
        assert_eq!(
            names,
            [
                "table_cat",
                "table_schem",
                "relname",
                "key_seq",
                "a_attnum",
                "count",
                "indisprimary"
            ]
        );
        let types: Vec<DataType> = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Utf8,
                DataType::Utf8,
                DataType::Utf8,
                DataType::Int32,
                DataType::Int32,
                DataType::Int64,
                DataType::Boolean
            ]
        );
        let relname = plan.schema().field(2);
        assert_eq!(
            relname
                .metadata()
                .get(crate::session::PG_TYPE_METADATA)
                .map(String::as_str),
            Some("name")
        );
    }

    #[test]
    fn wildcards_expand_to_the_catalog_relation_columns() {
        let (plan, names) = empty_result(&parse("SELECT i.* FROM pg_catalog.pg_index i")).unwrap();
        assert_eq!(names.first().map(String::as_str), Some("indexrelid"));
        assert_eq!(plan.schema().fields().len(), names.len());
    }
}
