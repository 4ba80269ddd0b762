//! Select lists that repeat an expression (`SELECT pubname, NULL, NULL`, `SELECT 1, 1`).
//!
//! PostgreSQL allows them; DataFusion requires unique projection names. Before planning, every
//! unaliased select item whose text repeats an earlier one gets a private alias. The names the
//! client sees are computed from the statement as written (see [`super::naming`]), so the
//! aliases never reach it.

use std::collections::HashSet;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{Ident, Query, SelectItem, SetExpr, VisitMut, VisitorMut};

/// The prefix of the aliases given to repeated select items.
const ALIAS_PREFIX: &str = "__flowforge_repeated_";

/// Aliases repeated unaliased select items in every SELECT of the statement.
pub(crate) fn alias_repeated_items(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement {
        let _ = inner.visit(&mut Aliaser);
    }
}

struct Aliaser;

impl VisitorMut for Aliaser {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        alias_in(&mut query.body);
        ControlFlow::Continue(())
    }
}

fn alias_in(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let mut seen = HashSet::new();
            for (i, item) in select.projection.iter_mut().enumerate() {
                let SelectItem::UnnamedExpr(expr) = item else {
                    continue;
                };
                if !seen.insert(expr.to_string()) {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: Ident::new(format!("{ALIAS_PREFIX}{i}")),
                    };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            alias_in(left);
            alias_in(right);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

    #[test]
    fn only_repeats_get_an_alias() {
        let mut statement = DFParser::parse_sql_with_dialect(
            "SELECT a, NULL, NULL, b AS x, a FROM t UNION SELECT 1, 1, 2, 3, 4",
            &PostgreSqlDialect {},
        )
        .unwrap()
        .pop_front()
        .unwrap();
        alias_repeated_items(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT a, NULL, NULL AS __flowforge_repeated_2, b AS x, a AS __flowforge_repeated_4 FROM t \
             UNION SELECT 1, 1 AS __flowforge_repeated_1, 2, 3, 4"
        );
    }
}
