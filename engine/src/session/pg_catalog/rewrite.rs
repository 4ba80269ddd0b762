//! Rewrites the PostgreSQL-only syntax catalog queries use into what DataFusion plans.
//!
//! psql and drivers write `x OPERATOR(pg_catalog.~) '^(name)$' COLLATE pg_catalog.default`,
//! `pg_catalog.format_type(...)`, `'name'::regclass`, `'16385'::pg_catalog.oid` and bare
//! `pg_class`. Before planning: qualified operators become plain ones, default collations are
//! dropped, `pg_catalog.` is removed from function names, `::regclass` of a text becomes
//! `to_regclass(text)`, oid-alias types become `bigint` (and `::regtype` becomes `format_type`),
//! bare `pg_*` catalog tables are qualified with `pg_catalog`, and correlated scalar subqueries
//! of one column and no aggregate (psql's `(SELECT ... FROM pg_attrdef WHERE ...)`) are
//! aggregated with `max`, which DataFusion needs to decorrelate them.

use crate::sql_ast::function_call as call;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    self, BinaryOperator, CastKind, DataType, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, SelectItem, SetExpr, Value, VisitMut,
    VisitorMut,
};

use super::PG_CATALOG_SCHEMA;

/// Rewrites `statement` in place; `is_catalog_table` says whether a bare name means a
/// `pg_catalog` table (it must not when a view of the tenant has that name).
pub(crate) fn rewrite_statement(
    statement: &mut DFStatement,
    is_catalog_table: &dyn Fn(&str) -> bool,
) {
    if let DFStatement::Statement(inner) = statement {
        let mut rewriter = Rewriter { is_catalog_table };
        let _ = inner.visit(&mut rewriter);
    }
}

struct Rewriter<'a> {
    is_catalog_table: &'a dyn Fn(&str) -> bool,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        if let [ObjectNamePart::Identifier(ident)] = relation.0.as_slice() {
            // Unquoted names fold to lower case (`FROM PG_CLASS`).
            let folded = match ident.quote_style {
                None => ident.value.to_lowercase(),
                Some(_) => ident.value.clone(),
            };
            if (self.is_catalog_table)(&folded) {
                relation
                    .0
                    .insert(0, ObjectNamePart::Identifier(Ident::new(PG_CATALOG_SCHEMA)));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut ast::TableFactor) -> ControlFlow<()> {
        // Set-returning functions in FROM resolve by their bare name:
        // `pg_catalog.generate_series(...)`, `information_schema._pg_expandarray(...)`.
        if let ast::TableFactor::Table {
            name,
            args: Some(_),
            ..
        } = factor
        {
            let qualified_by_catalog = match name.0.as_slice() {
                [ObjectNamePart::Identifier(schema), ObjectNamePart::Identifier(_)] => {
                    schema.value.eq_ignore_ascii_case(PG_CATALOG_SCHEMA)
                        || schema.value.eq_ignore_ascii_case(super::INFORMATION_SCHEMA)
                }
                _ => false,
            };
            if qualified_by_catalog {
                name.0.remove(0);
            }
        }
        set_returning_function(factor);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        rewrite_expr(expr);
        ControlFlow::Continue(())
    }
}

/// The last part of a name when the others are just `pg_catalog`, lower-cased.
fn catalog_name(name: &ObjectName) -> Option<String> {
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident.value.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [name] => Some(name.to_lowercase()),
        [schema, name] if schema.eq_ignore_ascii_case(PG_CATALOG_SCHEMA) => {
            Some(name.to_lowercase())
        }
        _ => None,
    }
}

fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

fn is_text_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
}

/// What a PostgreSQL type written in a cast means here, when it is not a SQL-standard type.
fn catalog_type(data_type: &DataType) -> Option<String> {
    match data_type {
        DataType::Regclass => Some("regclass".to_string()),
        DataType::Custom(name, modifiers) if modifiers.is_empty() => catalog_name(name),
        _ => None,
    }
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::BinaryOp { op, .. } => {
            if let BinaryOperator::PGCustomBinaryOperator(parts) = op {
                let plain = match parts.as_slice() {
                    [schema, symbol] if schema.eq_ignore_ascii_case(PG_CATALOG_SCHEMA) => {
                        plain_operator(symbol)
                    }
                    _ => None,
                };
                if let Some(plain) = plain {
                    *op = plain;
                }
            }
        }
        Expr::Collate {
            expr: inner,
            collation,
        } => {
            let default = catalog_name(collation)
                .is_some_and(|c| matches!(c.as_str(), "default" | "c" | "posix"));
            if default {
                let inner = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
                *expr = Expr::Nested(Box::new(inner));
            }
        }
        Expr::Function(function) => {
            if let (Some(name), [_, _]) = (catalog_name(&function.name), function.name.0.as_slice())
            {
                function.name = ObjectName::from(vec![Ident::new(name)]);
            }
            if let Some(replaced) = prefixed_elements(function) {
                *expr = replaced;
            } else if let Some(replaced) = aggregated_array(function) {
                *expr = replaced;
            }
        }
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } => {
            if let DataType::Array(ast::ArrayElemTypeDef::SquareBracket(element, size)) = data_type
            {
                // `x::pg_catalog.int2[]`: arrays of catalog-spelled types.
                if let Some(plain) = catalog_type(element).and_then(|t| plain_type(&t)) {
                    *data_type = DataType::Array(ast::ArrayElemTypeDef::SquareBracket(
                        Box::new(plain),
                        *size,
                    ));
                }
                return;
            }
            let Some(type_name) = catalog_type(data_type).filter(|t| is_rewritten_type(t)) else {
                return;
            };
            let inner = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
            let replaced = match type_name.as_str() {
                // Names resolve to oids, oids stay oids (see `to_regclass`).
                "regclass" => call("to_regclass", vec![inner]),
                "regproc" | "regprocedure" => call("to_regproc", vec![inner]),
                "oid" | "regnamespace" | "regrole" | "regoper" | "regconfig" | "xid" => {
                    cast(inner, DataType::BigInt(None))
                }
                "regtype" => call("format_type", vec![inner, Expr::value(Value::Null)]),
                "text" | "name" | "char" | "bpchar" => cast(inner, DataType::Text),
                "int2" => cast(inner, DataType::SmallInt(None)),
                "int4" => cast(inner, DataType::Int(None)),
                "int8" => cast(inner, DataType::BigInt(None)),
                "bool" => cast(inner, DataType::Boolean),
                _ => return,
            };
            *expr = Expr::Nested(Box::new(replaced));
        }
        Expr::Subquery(query) if reads_always_empty(query) => {
            // A subquery over a catalog FlowForge never fills (pg_sequence, pg_attrdef, ...)
            // is NULL for every row; DataFusion need not decorrelate it.
            *expr = Expr::value(Value::Null);
        }
        Expr::Exists { subquery, negated } if reads_always_empty(subquery) => {
            *expr = Expr::value(Value::Boolean(*negated));
        }
        Expr::Like {
            escape_char: Some(escape),
            pattern,
            ..
        }
        | Expr::ILike {
            escape_char: Some(escape),
            pattern,
            ..
        } if !matches!(&escape.value, Value::SingleQuotedString(e) if e == "\\") => {
            // DataFusion's LIKE escapes with backslash only: translate the pattern.
            let escape_text = match &escape.value {
                Value::SingleQuotedString(e) => e.clone(),
                _ => return,
            };
            let original = std::mem::replace(pattern.as_mut(), Expr::value(Value::Null));
            **pattern = call(
                super::functions::LIKE_ESCAPE,
                vec![
                    original,
                    Expr::value(Value::SingleQuotedString(escape_text)),
                ],
            );
            if let Expr::Like { escape_char, .. } | Expr::ILike { escape_char, .. } = expr {
                *escape_char = None;
            }
        }
        Expr::Subquery(query) => {
            if let Some(condition) = decorrelate_scalar_subquery(query) {
                let subquery = std::mem::replace(expr, Expr::value(Value::Null));
                *expr = Expr::Case {
                    case_token: ast::helpers::attached_token::AttachedToken::empty(),
                    end_token: ast::helpers::attached_token::AttachedToken::empty(),
                    operand: None,
                    conditions: vec![ast::CaseWhen {
                        condition,
                        result: subquery,
                    }],
                    else_result: None,
                };
            }
        }
        _ => {}
    }
}

/// The SQL type a catalog type name means as an array element.
fn plain_type(name: &str) -> Option<DataType> {
    Some(match name {
        "oid" | "regclass" | "regproc" | "regtype" | "int8" | "xid" => DataType::BigInt(None),
        "int2" => DataType::SmallInt(None),
        "int4" => DataType::Int(None),
        "text" | "name" | "char" | "bpchar" => DataType::Text,
        "bool" => DataType::Boolean,
        _ => return None,
    })
}

/// The PostgreSQL-only type names casts are rewritten for.
fn is_rewritten_type(name: &str) -> bool {
    matches!(
        name,
        "regclass"
            | "oid"
            | "regproc"
            | "regprocedure"
            | "regnamespace"
            | "regrole"
            | "regoper"
            | "regconfig"
            | "xid"
            | "regtype"
            | "text"
            | "name"
            | "char"
            | "bpchar"
            | "int2"
            | "int4"
            | "int8"
            | "bool"
    )
}

fn plain_operator(symbol: &str) -> Option<BinaryOperator> {
    Some(match symbol {
        "~" => BinaryOperator::PGRegexMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "~~" => BinaryOperator::PGLikeMatch,
        "!~~" => BinaryOperator::PGNotLikeMatch,
        "=" => BinaryOperator::Eq,
        "<>" | "!=" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        "<=" => BinaryOperator::LtEq,
        ">" => BinaryOperator::Gt,
        ">=" => BinaryOperator::GtEq,
        _ => return None,
    })
}

/// Makes a correlated scalar subquery over catalog tables one DataFusion can decorrelate:
/// `(SELECT e FROM pg_catalog... WHERE ...)` without aggregates, grouping or limit becomes
/// `(SELECT max(e) ...)` (the catalog rows it matches are unique, so the answer is the same),
/// outer columns equated to inner ones are replaced by those inner columns in the other
/// conditions, and conditions on outer columns only are returned, for the caller to test
/// outside the subquery (`CASE WHEN cond THEN (subquery) END`).
fn decorrelate_scalar_subquery(query: &mut ast::Query) -> Option<Expr> {
    if query.limit_clause.is_some() || query.order_by.is_some() || query.with.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let no_grouping =
        matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if !no_grouping || select.having.is_some() || select.distinct.is_some() {
        return None;
    }
    if !reads_only_catalog(&select.from) {
        return None;
    }
    let [item] = select.projection.as_mut_slice() else {
        return None;
    };
    let (inner, alias) = match item {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.clone())),
        _ => return None,
    };
    if contains_aggregate(inner) {
        return None;
    }
    let value = std::mem::replace(inner, Expr::value(Value::Null));
    let aggregated = call("max", vec![value]);
    *item = match alias {
        Some(alias) => SelectItem::ExprWithAlias {
            expr: aggregated,
            alias,
        },
        None => SelectItem::UnnamedExpr(aggregated),
    };
    let qualifiers = inner_qualifiers(&select.from);
    let selection = select.selection.take()?;
    let mut conjuncts = Vec::new();
    split_conjuncts(selection, &mut conjuncts);
    // outer column (as written) -> the inner expression it is equated to
    let mut equated: Vec<(Expr, Expr)> = Vec::new();
    for conjunct in &conjuncts {
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = conjunct
        {
            match (side(left, &qualifiers), side(right, &qualifiers)) {
                (Side::Inner, Side::Outer) => equated.push((*right.clone(), *left.clone())),
                (Side::Outer, Side::Inner) => equated.push((*left.clone(), *right.clone())),
                _ => {}
            }
        }
    }
    let mut kept = Vec::new();
    let mut outer_only = Vec::new();
    for conjunct in conjuncts {
        if side(&conjunct, &qualifiers) == Side::Outer {
            outer_only.push(conjunct);
            continue;
        }
        let is_equation = equated.iter().any(|(outer, inner)| {
            matches!(&conjunct, Expr::BinaryOp { left, op: BinaryOperator::Eq, right }
                if (left.as_ref() == outer && right.as_ref() == inner)
                    || (left.as_ref() == inner && right.as_ref() == outer))
        });
        let mut conjunct = conjunct;
        if !is_equation {
            let _ = ast::visit_expressions_mut(&mut conjunct, |e| {
                if let Some((_, inner)) = equated.iter().find(|(outer, _)| outer == e) {
                    *e = inner.clone();
                }
                ControlFlow::<()>::Continue(())
            });
        }
        kept.push(conjunct);
    }
    select.selection = join_conjuncts(kept);
    join_conjuncts(outer_only)
}

/// Which query a (part of a) condition refers to.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Side {
    /// Only the subquery's own relations (or no columns at all).
    Inner,
    /// Only columns qualified with relations of the enclosing query.
    Outer,
    /// Both, or columns whose relation cannot be told.
    Mixed,
}

fn side(expr: &Expr, qualifiers: &[String]) -> Side {
    let mut inner = false;
    let mut outer = false;
    let mut unknown = false;
    let _ = ast::visit_expressions(expr, |e| {
        match e {
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [qualifier, _] if qualifiers.contains(&qualifier.value.to_lowercase()) => {
                    inner = true
                }
                [_, _] => outer = true,
                _ => unknown = true,
            },
            Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } => unknown = true,
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    match (inner, outer, unknown) {
        (_, _, true) | (true, true, _) => Side::Mixed,
        (_, true, false) => Side::Outer,
        _ => Side::Inner,
    }
}

/// The names the subquery's relations are referred to by (aliases, else table names).
fn inner_qualifiers(from: &[ast::TableWithJoins]) -> Vec<String> {
    let name = |factor: &ast::TableFactor| match factor {
        ast::TableFactor::Table { name, alias, .. } => match alias {
            Some(alias) => Some(alias.name.value.to_lowercase()),
            None => match name.0.last() {
                Some(ObjectNamePart::Identifier(ident)) => Some(ident.value.to_lowercase()),
                _ => None,
            },
        },
        _ => None,
    };
    from.iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
        .filter_map(name)
        .collect()
}

fn split_conjuncts(expr: Expr, out: &mut Vec<Expr>) {
    match expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_conjuncts(*left, out);
            split_conjuncts(*right, out);
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split_conjuncts(*inner, out)
        }
        other => out.push(other),
    }
}

fn join_conjuncts(conjuncts: Vec<Expr>) -> Option<Expr> {
    conjuncts.into_iter().reduce(|left, right| Expr::BinaryOp {
        left: Box::new(left),
        op: BinaryOperator::And,
        right: Box::new(right),
    })
}

fn is_aggregate_name(name: &ObjectName) -> bool {
    catalog_name(name).is_some_and(|n| {
        matches!(
            n.as_str(),
            "max"
                | "min"
                | "sum"
                | "count"
                | "avg"
                | "array_agg"
                | "string_agg"
                | "bool_and"
                | "bool_or"
                | "every"
        )
    })
}

fn contains_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        if matches!(e, Expr::Function(f) if is_aggregate_name(&f.name)) {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// Whether every relation in `from` is a `pg_catalog` table, so the rewrite stays confined to
/// catalog queries.
fn reads_only_catalog(from: &[ast::TableWithJoins]) -> bool {
    let is_catalog = |factor: &ast::TableFactor| match factor {
        ast::TableFactor::Table { name, .. } => matches!(
            name.0.first(),
            Some(ObjectNamePart::Identifier(schema)) if name.0.len() == 2
                && schema.value.eq_ignore_ascii_case(PG_CATALOG_SCHEMA)
        ),
        _ => false,
    };
    !from.is_empty()
        && from
            .iter()
            .all(|t| is_catalog(&t.relation) && t.joins.iter().all(|j| is_catalog(&j.relation)))
}

/// `ARRAY(SELECT 'prefix' || x FROM unnest(arr) x)` (psql's `\d+` reloptions) as
/// `pg_prefix_elements(arr, 'prefix')`, since DataFusion has no `ARRAY(subquery)`.
fn prefixed_elements(function: &ast::Function) -> Option<Expr> {
    if catalog_name(&function.name)? != "array" {
        return None;
    }
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if select.selection.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return None;
    }
    let ([item], [from]) = (select.projection.as_slice(), select.from.as_slice()) else {
        return None;
    };
    let ast::TableFactor::Table {
        name,
        args: Some(args),
        alias: Some(alias),
        ..
    } = &from.relation
    else {
        return None;
    };
    if catalog_name(name)? != "unnest" || !from.joins.is_empty() || !alias.columns.is_empty() {
        return None;
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(array))] = args.args.as_slice() else {
        return None;
    };
    let (SelectItem::UnnamedExpr(element) | SelectItem::ExprWithAlias { expr: element, .. }) = item
    else {
        return None;
    };
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::StringConcat,
        right,
    } = element
    else {
        return None;
    };
    let is_alias = matches!(right.as_ref(), Expr::Identifier(i) if i.value == alias.name.value);
    if !is_text_literal(left) || !is_alias {
        return None;
    }
    Some(call(
        super::functions::PREFIX_ELEMENTS,
        vec![array.clone(), *left.clone()],
    ))
}

/// `ARRAY(SELECT x FROM ... WHERE ...)` (psql's `\\du` "Member of", SQLAlchemy's index and
/// constraint columns) as `(SELECT array_agg(x ORDER BY ...) FROM ... WHERE ...)`, a scalar
/// subquery DataFusion can decorrelate. Over no rows it is NULL where PostgreSQL gives `{}`.
fn aggregated_array(function: &ast::Function) -> Option<Expr> {
    if catalog_name(&function.name)? != "array" {
        return None;
    }
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    let mut query = query.clone();
    let order_by = query.order_by.take();
    if query.limit_clause.is_some() || query.with.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let ungrouped = matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if !ungrouped || select.distinct.is_some() {
        return None;
    }
    let [item] = select.projection.as_mut_slice() else {
        return None;
    };
    let (SelectItem::UnnamedExpr(element) | SelectItem::ExprWithAlias { expr: element, .. }) = item
    else {
        return None;
    };
    if contains_aggregate(element) {
        return None;
    }
    let order: Vec<ast::OrderByExpr> = match order_by.map(|o| o.kind) {
        Some(ast::OrderByKind::Expressions(exprs)) => exprs,
        Some(ast::OrderByKind::All(_)) => return None,
        None => Vec::new(),
    };
    let mut aggregate = match call("array_agg", vec![element.clone()]) {
        Expr::Function(f) => f,
        _ => return None,
    };
    if let FunctionArguments::List(list) = &mut aggregate.args {
        if !order.is_empty() {
            list.clauses
                .push(ast::FunctionArgumentClause::OrderBy(order));
        }
    }
    *element = Expr::Function(aggregate);
    Some(Expr::Subquery(query))
}

/// Whether a subquery reads a catalog relation FlowForge never fills, so it has no rows for
/// any tenant: its first relation is such a catalog, it is joined only by inner or left joins,
/// and it neither aggregates nor groups (an aggregate over no rows still yields a row).
fn reads_always_empty(query: &ast::Query) -> bool {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    let [from] = select.from.as_slice() else {
        return false;
    };
    let ast::TableFactor::Table {
        name, args: None, ..
    } = &from.relation
    else {
        return false;
    };
    let empty_catalog = match name.0.as_slice() {
        [ObjectNamePart::Identifier(schema), ObjectNamePart::Identifier(table)]
            if schema.value.eq_ignore_ascii_case(PG_CATALOG_SCHEMA) =>
        {
            super::rows::is_always_empty(&table.value)
        }
        _ => false,
    };
    let keeps_emptiness = from.joins.iter().all(|j| {
        matches!(
            j.join_operator,
            ast::JoinOperator::Inner(_)
                | ast::JoinOperator::Join(_)
                | ast::JoinOperator::Left(_)
                | ast::JoinOperator::LeftOuter(_)
                | ast::JoinOperator::CrossJoin(_)
        )
    });
    let ungrouped = matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    let aggregates = select.projection.iter().any(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            contains_aggregate(e)
        }
        _ => false,
    });
    empty_catalog && keeps_emptiness && ungrouped && !aggregates && select.having.is_none()
}

/// The set-returning functions that can stand in FROM as they are.
const TABLE_FUNCTIONS: &[&str] = &[
    "generate_series",
    "range",
    "unnest",
    "pg_get_keywords",
    "_pg_expandarray",
];

/// Function calls in FROM as PostgreSQL treats them:
/// * `generate_series(a, b) AS i` — DataFusion's takes `bigint` bounds and names its column
///   `value`; PostgreSQL's column is named after the alias (or `generate_series`).
/// * a scalar function (`string_to_array(...) s`) is a one-row relation whose single column
///   is named after the alias: `(SELECT string_to_array(...) AS s) AS s`.
fn set_returning_function(factor: &mut ast::TableFactor) {
    let ast::TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = factor
    else {
        return;
    };
    let Some(function) = catalog_name(name) else {
        return;
    };
    if function == "generate_series" {
        for arg in args.args.iter_mut() {
            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
                let value = std::mem::replace(e, Expr::value(Value::Null));
                *e = cast(value, DataType::BigInt(None));
            }
        }
        let alias = alias.get_or_insert_with(|| ast::TableAlias {
            explicit: true,
            name: Ident::new("generate_series"),
            columns: Vec::new(),
            at: None,
        });
        if alias.columns.is_empty() {
            alias.columns = vec![ast::TableAliasColumnDef::from_name(
                alias.name.value.clone(),
            )];
        }
        return;
    }
    if TABLE_FUNCTIONS.contains(&function.as_str()) {
        return;
    }
    let column = alias
        .as_ref()
        .map(|a| {
            a.columns
                .first()
                .map(|c| c.name.clone())
                .unwrap_or_else(|| a.name.clone())
        })
        .unwrap_or_else(|| Ident::new(function.clone()));
    let arguments: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let call_expr = format!("{function}({})", arguments.join(", "));
    let relation_alias = ast::TableAlias {
        explicit: true,
        name: alias
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| Ident::new(function.clone())),
        columns: Vec::new(),
        at: None,
    };
    let select = format!("SELECT {call_expr} AS {column}");
    let Ok(statements) = datafusion::sql::sqlparser::parser::Parser::parse_sql(
        &datafusion::sql::sqlparser::dialect::PostgreSqlDialect {},
        &select,
    ) else {
        return;
    };
    let Some(ast::Statement::Query(subquery)) = statements.into_iter().next() else {
        return;
    };
    *factor = ast::TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(relation_alias),
        sample: None,
    };
}
