//! PostgreSQL output column names.
//!
//! DataFusion names result columns after their expressions (`count(*)`, `Int64(1)`,
//! `CAST(t.x AS Int32)`); psql users and BI tools expect PostgreSQL's names (`count`,
//! `?column?`, `x`). PostgreSQL derives them from the parse tree (`FigureColname`), so this module
//! does the same on the sqlparser AST and keeps DataFusion's names only for wildcard-expanded
//! columns and statements without a select list, where they already agree.

use datafusion::sql::sqlparser::ast::{
    self, Expr, Ident, ObjectNamePart, Query, SelectItem, SetExpr, TrimWhereField,
};

/// PostgreSQL's name for a column with no derivable name.
pub const UNNAMED_COLUMN: &str = "?column?";

/// Output names for `query`, given the names DataFusion planned (one per output column).
pub(crate) fn output_names(query: &Query, planned: &[String]) -> Vec<String> {
    let Some(items) = select_items(&query.body) else {
        return planned.to_vec();
    };
    let wildcards = items.iter().filter(|item| is_wildcard(item)).count();
    let fixed = items.len() - wildcards;
    let expanded = match wildcards {
        0 if fixed == planned.len() => 0,
        1 if planned.len() >= fixed => planned.len() - fixed,
        _ => return planned.to_vec(),
    };
    let mut names = Vec::with_capacity(planned.len());
    for item in items {
        if is_wildcard(item) {
            let start = names.len();
            names.extend_from_slice(&planned[start..start + expanded]);
        } else {
            match item_name(item) {
                Some(name) => names.push(name),
                None => return planned.to_vec(),
            }
        }
    }
    names
}

/// The select list that names a query's columns: the first SELECT of set operations, as in PostgreSQL.
fn select_items(body: &SetExpr) -> Option<&[SelectItem]> {
    match body {
        SetExpr::Select(select) => Some(&select.projection),
        SetExpr::Query(query) => select_items(&query.body),
        SetExpr::SetOperation { left, .. } => select_items(left),
        _ => None,
    }
}

fn is_wildcard(item: &SelectItem) -> bool {
    matches!(
        item,
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
    )
}

/// The name of one non-wildcard select item; `None` when it is not a single column.
pub(crate) fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::UnnamedExpr(expr) => Some(column_name(expr)),
        SelectItem::ExprWithAlias { alias, .. } => Some(normalize(alias)),
        _ => None,
    }
}

/// PostgreSQL's name for an unaliased select expression.
pub(crate) fn column_name(expr: &Expr) -> String {
    match figure(expr) {
        (name, strength) if strength > 0 => name,
        _ => UNNAMED_COLUMN.to_string(),
    }
}

/// `FigureColnameInternal`: a name and its strength (0 none, 1 weak guess, 2 real name).
fn figure(expr: &Expr) -> (String, u8) {
    let strong = |name: &str| (name.to_string(), 2);
    match expr {
        Expr::Identifier(ident) => (normalize(ident), 2),
        Expr::CompoundIdentifier(idents) => match idents.last() {
            Some(ident) => (normalize(ident), 2),
            None => none(),
        },
        Expr::CompoundFieldAccess { root, access_chain } => {
            let last_field = access_chain.iter().rev().find_map(|access| match access {
                ast::AccessExpr::Dot(Expr::Identifier(ident)) => Some(normalize(ident)),
                _ => None,
            });
            match last_field {
                Some(name) => (name, 2),
                None => figure(root),
            }
        }
        Expr::Function(function) => match function.name.0.last() {
            Some(ObjectNamePart::Identifier(ident)) => (normalize(ident), 2),
            _ => none(),
        },
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            (name, 2) => (name, 2),
            _ => (type_name(data_type), 1),
        },
        Expr::TypedString(typed) => (type_name(&typed.data_type), 1),
        Expr::Interval(_) => ("interval".to_string(), 1),
        Expr::Nested(inner) | Expr::Collate { expr: inner, .. } => figure(inner),
        // PostgreSQL names a CASE after its ELSE branch when that has a real name.
        Expr::Case { else_result, .. } => match else_result.as_deref().map(figure) {
            Some((name, 2)) => (name, 2),
            _ => ("case".to_string(), 1),
        },
        Expr::Exists { .. } => strong("exists"),
        Expr::Array(_) => strong("array"),
        Expr::Tuple(_) | Expr::Struct { .. } => strong("row"),
        Expr::Subquery(query) => match select_items(&query.body).and_then(|items| items.first()) {
            Some(item) if !is_wildcard(item) => match item_name(item) {
                Some(name) => (name, 2),
                None => none(),
            },
            _ => none(),
        },
        Expr::Extract { .. } => strong("extract"),
        Expr::Substring { .. } => strong("substring"),
        Expr::Position { .. } => strong("position"),
        Expr::Overlay { .. } => strong("overlay"),
        Expr::Ceil { .. } => strong("ceil"),
        Expr::Floor { .. } => strong("floor"),
        Expr::AtTimeZone { .. } => strong("timezone"),
        Expr::Trim { trim_where, .. } => match trim_where {
            Some(TrimWhereField::Leading) => strong("ltrim"),
            Some(TrimWhereField::Trailing) => strong("rtrim"),
            _ => strong("btrim"),
        },
        _ => none(),
    }
}

fn none() -> (String, u8) {
    (String::new(), 0)
}

/// An identifier as PostgreSQL stores it: unquoted folds to lower case, quoted is kept.
fn normalize(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// PostgreSQL's internal name for a type written in a cast (`int` → `int4`).
fn type_name(data_type: &ast::DataType) -> String {
    let text = data_type.to_string().to_uppercase();
    let base = text
        .split('(')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let name = match base.as_str() {
        "INT" | "INTEGER" | "INT4" => "int4",
        "SMALLINT" | "INT2" => "int2",
        "BIGINT" | "INT8" => "int8",
        "REAL" | "FLOAT4" => "float4",
        "DOUBLE PRECISION" | "DOUBLE" | "FLOAT8" | "FLOAT" => "float8",
        "TEXT" => "text",
        "VARCHAR" | "CHARACTER VARYING" => "varchar",
        "CHAR" | "CHARACTER" | "BPCHAR" => "bpchar",
        "BOOLEAN" | "BOOL" => "bool",
        "NUMERIC" | "DECIMAL" | "DEC" => "numeric",
        "DATE" => "date",
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => "timestamp",
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => "timestamptz",
        "TIME" | "TIME WITHOUT TIME ZONE" => "time",
        "TIMETZ" | "TIME WITH TIME ZONE" => "timetz",
        "INTERVAL" => "interval",
        "BYTEA" => "bytea",
        other => {
            return other
                .split_whitespace()
                .next()
                .unwrap_or(UNNAMED_COLUMN)
                .to_lowercase()
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn names(sql: &str, planned: &[&str]) -> Vec<String> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        let ast::Statement::Query(query) = &statements[0] else {
            panic!("not a query")
        };
        let planned: Vec<String> = planned.iter().map(|s| s.to_string()).collect();
        output_names(query, &planned)
    }

    #[test]
    fn expressions_get_postgres_names() {
        let got = names(
            "SELECT count(*), SUM(x), 1, x + 1, t.price, x::int, 1::int, upper(s), \
             CASE WHEN x > 1 THEN 1 END, (x), current_user, x AS \"Total\", y AS Sum2, \
             EXISTS (SELECT 1), (SELECT max(z) FROM u), trim(s), now()::date, '2024-01-01'::date",
            &["a"; 18],
        );
        assert_eq!(
            got,
            [
                "count",
                "sum",
                "?column?",
                "?column?",
                "price",
                "x",
                "int4",
                "upper",
                "case",
                "x",
                "current_user",
                "Total",
                "sum2",
                "exists",
                "max",
                "btrim",
                "now",
                "date"
            ]
        );
    }

    #[test]
    fn wildcards_keep_planned_names_and_set_operations_use_the_first_select() {
        assert_eq!(
            names("SELECT *, count(*) FROM t", &["a", "b", "count(*)"]),
            ["a", "b", "count"]
        );
        assert_eq!(
            names("SELECT 1 AS one UNION ALL SELECT 2 AS two", &["one"]),
            ["one"]
        );
        assert_eq!(
            names("VALUES (1, 2)", &["column1", "column2"]),
            ["column1", "column2"]
        );
        assert_eq!(names("SELECT t.*, u.* FROM t, u", &["a", "b"]), ["a", "b"]);
    }
}
