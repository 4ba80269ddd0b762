//! The answer to a catalog query the engine cannot plan: an empty result of the right shape.
//!
//! BI tools send new catalog SQL with every release. When a query that reads only
//! `pg_catalog` / `information_schema` (or calls only catalog functions) fails to plan, the
//! session answers with zero rows whose column names and types are PostgreSQL's (see
//! [`super::pg_types`]) — so the tool degrades (an empty list of indexes, say) instead of
//! refusing to connect. The statement keeps its parameters, so a client's Bind still fits.
//! The caller logs the query text.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::DFSchema;
use datafusion::logical_expr::{
    lit, EmptyRelation, Expr as DfExpr, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{self, Expr, ObjectName, Value, Visit, Visitor};

use super::pg_catalog::PG_TYPE_METADATA;
use super::pg_types::{annotated, arrow_type, catalog_relation, query_columns};

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
    placeholders: BTreeSet<String>,
}

impl Visitor for CatalogScan {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        let name = relation.to_string().to_lowercase();
        let set_returning = [
            "generate_series",
            "unnest",
            "generate_subscripts",
            "_pg_expandarray",
            "range",
            "string_to_array",
            "pg_partition_ancestors",
            "pg_get_keywords",
        ]
        .iter()
        .any(|f| name == *f || name.ends_with(&format!(".{f}")));
        if set_returning {
            return ControlFlow::Continue(());
        }
        if catalog_relation(relation).is_some() {
            self.catalog_relation = true;
        } else {
            self.other_relation = true;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function) => {
                let name = function.name.to_string().to_lowercase();
                let name = name.trim_start_matches("pg_catalog.");
                if name.starts_with("pg_") || CATALOG_FUNCTIONS.contains(&name) {
                    self.catalog_function = true;
                }
            }
            Expr::Value(value) => {
                if let Value::Placeholder(p) = &value.value {
                    self.placeholders.insert(p.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Functions whose calls make a query without relations a catalog query (besides `pg_*`).
const CATALOG_FUNCTIONS: &[&str] = &[
    "current_setting",
    "current_schema",
    "current_schemas",
    "current_database",
    "current_catalog",
    "version",
    "format_type",
    "obj_description",
    "col_description",
    "shobj_description",
    "has_table_privilege",
    "has_schema_privilege",
    "has_database_privilege",
    "to_regclass",
    "to_regtype",
    "quote_ident",
    "parse_ident",
];

/// An empty plan with the columns `statement` would return, and their PostgreSQL names.
pub(crate) fn empty_result(statement: &DFStatement) -> Option<(LogicalPlan, Vec<String>)> {
    let DFStatement::Statement(inner) = statement else {
        return None;
    };
    let ast::Statement::Query(query) = inner.as_ref() else {
        return None;
    };
    let columns = query_columns(query);
    if columns.is_empty() {
        return None;
    }
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    // The plan's own names must be unique; the PostgreSQL names (which may repeat) travel apart.
    let fields: Vec<Field> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let pg = column.pg_type.as_deref().unwrap_or("text");
            let field = Field::new(format!("{}#{i}", column.name), arrow_type(pg), true);
            if annotated(pg) {
                field.with_metadata(HashMap::from([(
                    PG_TYPE_METADATA.to_string(),
                    pg.to_string(),
                )]))
            } else {
                field
            }
        })
        .collect();
    let schema = DFSchema::try_from(Schema::new(fields)).ok()?;
    let empty = LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(schema),
    });
    // Keep the statement's parameters, so the client's Bind still matches.
    let mut scan = CatalogScan::default();
    let _ = inner.visit(&mut scan);
    let predicate = scan
        .placeholders
        .into_iter()
        .map(|p| {
            DfExpr::Placeholder(datafusion::logical_expr::expr::Placeholder::new_with_field(
                p, None,
            ))
            .is_null()
            .or(lit(true))
        })
        .reduce(DfExpr::and);
    let plan = match predicate {
        Some(predicate) => LogicalPlanBuilder::from(empty)
            .filter(predicate)
            .ok()?
            .build()
            .ok()?,
        None => empty,
    };
    Some((plan, names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;
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
             JOIN pg_catalog.pg_index i ON true JOIN pg_catalog.pg_attribute a ON true \
             WHERE ct.relname = $1",
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
            relname.metadata().get(PG_TYPE_METADATA).map(String::as_str),
            Some("name")
        );
        assert_eq!(
            crate::session::parameter_types(&plan).len(),
            1,
            "the parameter survives"
        );
    }

    #[test]
    fn derived_tables_and_wildcards_keep_their_types() {
        let (plan, names) = empty_result(&parse(
            "SELECT r.relname, r.k FROM (SELECT c.relname, c.relkind AS k FROM pg_catalog.pg_class c) r",
        ))
        .unwrap();
        assert_eq!(names, ["relname", "k"]);
        assert_eq!(
            plan.schema()
                .field(1)
                .metadata()
                .get(PG_TYPE_METADATA)
                .map(String::as_str),
            Some("char")
        );
        let (plan, names) = empty_result(&parse("SELECT i.* FROM pg_catalog.pg_index i")).unwrap();
        assert_eq!(names.first().map(String::as_str), Some("indexrelid"));
        assert_eq!(plan.schema().fields().len(), names.len());
    }
}
