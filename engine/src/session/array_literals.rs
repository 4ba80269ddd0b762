//! PostgreSQL array literals (`'{MSFT,TSLA}'::text[]`) as real arrays.
//!
//! DataFusion casts text to a list by wrapping it in a one-element list, so `'{a,b}'::text[]`
//! would become `{"{a,b}"}`. PostgreSQL parses the text as an array literal; so do we, by
//! rewriting such casts into `ARRAY[CAST('a' AS text), ...]` before planning.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{self, ArrayElemTypeDef, CastKind, DataType, Value};

/// Rewrites every `CAST('<array literal>' AS T[])` in the statement.
pub(crate) fn rewrite_array_literals(statement: &mut DFStatement) {
    if let DFStatement::Statement(inner) = statement {
        let _ = ast::visit_expressions_mut(inner.as_mut(), |expr| {
            rewrite(expr);
            ControlFlow::<()>::Continue(())
        });
    }
}

fn element_type(data_type: &DataType) -> Option<&DataType> {
    match data_type {
        DataType::Array(ArrayElemTypeDef::SquareBracket(inner, _))
        | DataType::Array(ArrayElemTypeDef::AngleBracket(inner))
        | DataType::Array(ArrayElemTypeDef::Parenthesis(inner)) => Some(inner),
        _ => None,
    }
}

fn rewrite(expr: &mut ast::Expr) {
    let ast::Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return;
    };
    let Some(element) = element_type(data_type).cloned() else {
        return;
    };
    let ast::Expr::Value(value) = inner.as_ref() else {
        return;
    };
    let Value::SingleQuotedString(text) = &value.value else {
        return;
    };
    let Some(items) = parse_array_literal(text) else {
        return;
    };
    let elem = items
        .into_iter()
        .map(|item| match item {
            Some(text) => ast::Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(ast::Expr::value(Value::SingleQuotedString(text))),
                data_type: element.clone(),
                array: false,
                format: None,
            },
            None => ast::Expr::value(Value::Null),
        })
        .collect();
    *expr = ast::Expr::Array(ast::Array { elem, named: true });
}

/// Parses a one-dimensional PostgreSQL array literal: `{a,"b c",NULL,"d\"e"}`. `None` for
/// anything else (nested arrays stay with DataFusion, which reports them).
pub(crate) fn parse_array_literal(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next_if_eq(&'"').is_some() {
            let mut item = String::new();
            loop {
                match chars.next()? {
                    '\\' => item.push(chars.next()?),
                    '"' => break,
                    c => item.push(c),
                }
            }
            items.push(Some(item));
        } else {
            let mut item = String::new();
            while let Some(c) = chars.next_if(|c| *c != ',') {
                if matches!(c, '{' | '}' | '"') {
                    return None;
                }
                item.push(c);
            }
            let item = item.trim();
            if item.is_empty() {
                return None;
            }
            items.push((!item.eq_ignore_ascii_case("NULL")).then(|| item.to_string()));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            Some(',') => continue,
            None => return Some(items),
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_array_literal;

    fn some(items: &[&str]) -> Vec<Option<String>> {
        items.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn parses_postgres_array_literals() {
        assert_eq!(
            parse_array_literal("{MSFT,TSLA}"),
            Some(some(&["MSFT", "TSLA"]))
        );
        assert_eq!(parse_array_literal(" { 1 , 2 } "), Some(some(&["1", "2"])));
        assert_eq!(
            parse_array_literal(r#"{"a b","c,d","e\"f"}"#),
            Some(some(&["a b", "c,d", "e\"f"]))
        );
        assert_eq!(
            parse_array_literal("{x,NULL}"),
            Some(vec![Some("x".into()), None])
        );
        assert_eq!(parse_array_literal("{}"), Some(vec![]));
        assert_eq!(parse_array_literal("{{1,2},{3,4}}"), None);
        assert_eq!(parse_array_literal("{a,}"), None);
        assert_eq!(parse_array_literal("not an array"), None);
        assert_eq!(parse_array_literal(r#"{"unterminated}"#), None);
    }
}
