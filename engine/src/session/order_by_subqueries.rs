//! Subqueries where DataFusion cannot plan them: in `ORDER BY`, and `IN (subquery)` in a select
//! list.
//!
//! Grafana orders its table list by whether the schema is on the search path, with an `IN
//! (subquery)` in `ORDER BY`; DataFusion plans subqueries only in projections, filters and
//! joins. Such a query is rewritten so the ordering values are computed in the select list of a
//! derived table and the outer query sorts by them:
//! `SELECT a FROM t ORDER BY f(x IN (...))` becomes
//! `SELECT "a" FROM (SELECT a AS "a", f(x IN (...)) AS "__flowforge_order_0" FROM t) AS
//! __flowforge_sorted ORDER BY "__flowforge_order_0"`.
//!
//! DataFusion turns `IN (subquery)` into a join only in filters; in a select list
//! (`CASE WHEN schema IN (SELECT ...) THEN ...`) it cannot execute it. There,
//! `x IN (SELECT c ...)` becomes `coalesce(array_has((SELECT array_agg(c) ...), x), false)`, a
//! scalar subquery DataFusion joins.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    self, Expr, OrderByKind, SelectItem, SetExpr, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::naming;

/// Rewrites the statement's top-level query when its ORDER BY holds a subquery, then every
/// `IN (subquery)` in a select list.
pub(crate) fn rewrite(statement: &mut DFStatement) {
    let DFStatement::Statement(inner) = statement else {
        return;
    };
    let ast::Statement::Query(query) = inner.as_mut() else {
        return;
    };
    if let Some(rewritten) = rewritten(query) {
        **query = rewritten;
    }
    let _ = inner.visit(&mut SelectListSubqueries);
}

struct SelectListSubqueries;

impl VisitorMut for SelectListSubqueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in select.projection.iter_mut() {
                if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item
                {
                    let _ = ast::visit_expressions_mut(expr, |e| {
                        membership_as_array(e);
                        ControlFlow::<()>::Continue(())
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// `x [NOT] IN (SELECT c ...)` as `[NOT] coalesce(array_has((SELECT array_agg(c) ...), x), false)`.
fn membership_as_array(expr: &mut Expr) {
    let Expr::InSubquery {
        expr: needle,
        subquery,
        negated,
    } = expr
    else {
        return;
    };
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return;
    };
    let [SelectItem::UnnamedExpr(column) | SelectItem::ExprWithAlias { expr: column, .. }] =
        select.projection.as_slice()
    else {
        return;
    };
    let mut aggregated = subquery.as_ref().clone();
    if let SetExpr::Select(select) = aggregated.body.as_mut() {
        select.projection = vec![SelectItem::UnnamedExpr(function(
            "array_agg",
            vec![column.clone()],
        ))];
    }
    let has = function(
        "array_has",
        vec![
            Expr::Subquery(Box::new(aggregated)),
            needle.as_ref().clone(),
        ],
    );
    let membership = function(
        "coalesce",
        vec![has, Expr::value(ast::Value::Boolean(false))],
    );
    *expr = if *negated {
        Expr::UnaryOp {
            op: ast::UnaryOperator::Not,
            expr: Box::new(Expr::Nested(Box::new(membership))),
        }
    } else {
        membership
    };
}

fn function(name: &str, args: Vec<Expr>) -> Expr {
    crate::sql_ast::function_call(name, args)
}

fn has_subquery(expr: &Expr) -> bool {
    let text = expr.to_string().to_uppercase();
    text.contains("SELECT ")
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn rewritten(query: &ast::Query) -> Option<ast::Query> {
    let order_by = query.order_by.as_ref()?;
    let OrderByKind::Expressions(order) = &order_by.kind else {
        return None;
    };
    if !order.iter().any(|o| has_subquery(&o.expr)) || query.with.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if select.distinct.is_some() {
        return None;
    }
    let mut names = Vec::new();
    let mut inner_items = Vec::new();
    for item in &select.projection {
        let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item else {
            return None;
        };
        let name = naming::item_name(item)?;
        if names.contains(&name) {
            return None;
        }
        inner_items.push(format!("{expr} AS {}", quote(&name)));
        names.push(name);
    }
    let mut outer_order = Vec::new();
    for (i, o) in order.iter().enumerate() {
        let hidden = format!("__flowforge_order_{i}");
        let key = match &o.expr {
            Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => {
                    let position: usize = n.parse().ok()?;
                    quote(names.get(position.checked_sub(1)?)?)
                }
                _ => return None,
            },
            Expr::Identifier(ident)
                if names.iter().any(|n| n.eq_ignore_ascii_case(&ident.value)) =>
            {
                quote(&ident.value)
            }
            other => {
                inner_items.push(format!("{other} AS {}", quote(&hidden)));
                quote(&hidden)
            }
        };
        outer_order.push(format!("{key}{}", o.options));
    }
    let mut inner = select.as_ref().clone();
    inner.projection = Vec::new();
    let inner_sql = format!(
        "SELECT {} {}",
        inner_items.join(", "),
        inner.to_string().trim_start_matches("SELECT").trim_start()
    );
    let outer_items: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let mut sql = format!(
        "SELECT {} FROM ({inner_sql}) AS __flowforge_sorted ORDER BY {}",
        outer_items.join(", "),
        outer_order.join(", ")
    );
    if let Some(limit) = &query.limit_clause {
        sql.push_str(&format!(" {limit}"));
    }
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &sql).ok()?;
    match statements.into_iter().next()? {
        ast::Statement::Query(query) => Some(*query),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    #[test]
    fn ordering_subqueries_move_into_a_derived_table() {
        let mut statement = DFParser::parse_sql_with_dialect(
            "SELECT table_name AS t FROM information_schema.tables WHERE true \
             ORDER BY CASE WHEN table_schema IN (SELECT 'public') THEN 0 ELSE 1 END, 1 DESC LIMIT 5",
            &PostgreSqlDialect {},
        )
        .unwrap()
        .pop_front()
        .unwrap();
        rewrite(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT \"t\" FROM (SELECT table_name AS \"t\", CASE WHEN \
             coalesce(array_has((SELECT array_agg('public')), table_schema), false) \
             THEN 0 ELSE 1 END AS \"__flowforge_order_0\" FROM information_schema.tables WHERE true) \
             AS __flowforge_sorted ORDER BY \"__flowforge_order_0\", \"t\" DESC LIMIT 5"
        );
    }
}
