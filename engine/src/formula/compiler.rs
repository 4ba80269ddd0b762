//! Type-checks a formula's syntax tree against the input schema and compiles it to a DataFusion
//! expression.
//!
//! Every sub-expression is compiled to a [`Value`]: the DataFusion expression plus its logical
//! type and nullability. Casts are inserted wherever DataFusion's own inference would otherwise
//! give a different logical type than the formula language promises (e.g. `int / int` is float),
//! so the declared type of the result always matches what DataFusion infers. Function calls are
//! compiled in [`builtins`](super::builtins).

use std::fmt;

use datafusion::common::{Column as DfColumn, ScalarValue};
use datafusion::functions_window::expr_fn::{lag, lead};
use datafusion::logical_expr::expr::{Case, WindowFunction};
use datafusion::logical_expr::{
    binary_expr, cast, lit, Expr, ExprFunctionExt, Operator, WindowFunctionDefinition,
};

use super::ast::{self, BinaryOp, ExprKind, Literal, Span, UnaryOp};
use super::dates::temporal_literal;
use super::functions::{near_matches, Function};
use super::{FormulaError, FormulaScope, TypedExpr, WindowSpec};
use crate::types::{Column, ColumnType, Schema};

/// Compiles a parsed formula for `scope` over `schema`.
pub(crate) fn compile(
    ast: &ast::Expr,
    schema: &Schema,
    scope: FormulaScope<'_>,
) -> Result<TypedExpr, FormulaError> {
    let mut compiler = Compiler {
        schema,
        scope,
        enclosing: None,
    };
    let value = compiler.expr(ast)?;
    // A formula that is only NULL has no type of its own: it becomes a text column of NULLs.
    let ty = value.ty.column_type().unwrap_or(ColumnType::String);
    let nullable = value.nullable;
    Ok(TypedExpr {
        expr: value.cast_to(ty),
        ty,
        nullable,
    })
}

/// A logical type, or the type of a bare `NULL`, which fits anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Null,
    Of(ColumnType),
}

impl Ty {
    pub(crate) fn column_type(self) -> Option<ColumnType> {
        match self {
            Ty::Null => None,
            Ty::Of(ty) => Some(ty),
        }
    }

    pub(crate) fn is(self, ty: ColumnType) -> bool {
        self == Ty::Of(ty)
    }

    pub(crate) fn is_numeric(self) -> bool {
        self.column_type().is_some_and(ColumnType::is_numeric)
    }

    pub(crate) fn is_temporal(self) -> bool {
        self.column_type().is_some_and(ColumnType::is_temporal)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Null => f.write_str("NULL"),
            Ty::Of(ty) => f.write_str(ty.name()),
        }
    }
}

/// The common type two values can both be cast to: equal types, numeric widening
/// (int < decimal < float), date < timestamp, and NULL with anything.
pub(crate) fn unify(a: Ty, b: Ty) -> Option<Ty> {
    use ColumnType::*;
    let (Ty::Of(x), Ty::Of(y)) = (a, b) else {
        return Some(if a == Ty::Null { b } else { a });
    };
    Some(Ty::Of(match (x, y) {
        _ if x == y => x,
        (Float, _) | (_, Float) if x.is_numeric() && y.is_numeric() => Float,
        (Decimal, _) | (_, Decimal) if x.is_numeric() && y.is_numeric() => Decimal,
        _ if x.is_temporal() && y.is_temporal() => Timestamp,
        _ => return None,
    }))
}

/// A NULL of the canonical Arrow type of `ty`.
pub(crate) fn typed_null(ty: ColumnType) -> Expr {
    lit(ScalarValue::try_from(&ty.to_arrow()).unwrap_or(ScalarValue::Null))
}

/// A compiled sub-expression.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) expr: Expr,
    pub(crate) ty: Ty,
    pub(crate) nullable: bool,
    /// Where it was written.
    pub(crate) span: Span,
    /// The constant, when the source was a literal (used for arguments that must be constant).
    pub(crate) literal: Option<Literal>,
}

impl Value {
    pub(crate) fn new(expr: Expr, ty: ColumnType, nullable: bool, span: Span) -> Self {
        Value {
            expr,
            ty: Ty::Of(ty),
            nullable,
            span,
            literal: None,
        }
    }

    /// The expression, cast to `ty` when its logical type differs (a NULL becomes a typed NULL).
    pub(crate) fn cast_to(self, ty: ColumnType) -> Expr {
        match self.ty {
            Ty::Of(own) if own == ty => self.expr,
            Ty::Null => typed_null(ty),
            Ty::Of(_) => cast(self.expr, ty.to_arrow()),
        }
    }

    /// The expression, with a bare NULL replaced by a NULL of `ty`.
    fn cast_to_if_null(self, ty: ColumnType) -> Expr {
        if self.ty == Ty::Null {
            typed_null(ty)
        } else {
            self.expr
        }
    }

    /// A string literal that spells a date or timestamp, as that typed literal; otherwise `self`.
    pub(crate) fn temporal_literal(self) -> Value {
        let parsed = match &self.literal {
            Some(Literal::String(text)) => temporal_literal(text),
            _ => None,
        };
        match parsed {
            Some((scalar, ty)) => Value {
                expr: lit(scalar),
                ty: Ty::Of(ty),
                ..self
            },
            None => self,
        }
    }
}

/// Walks the syntax tree with the schema and scope at hand.
pub(crate) struct Compiler<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) scope: FormulaScope<'a>,
    /// The aggregate or window function whose arguments are being compiled, if any: those
    /// cannot contain another aggregate, window function or row offset.
    pub(crate) enclosing: Option<Function>,
}

impl<'a> Compiler<'a> {
    pub(crate) fn expr(&mut self, node: &ast::Expr) -> Result<Value, FormulaError> {
        let span = node.span;
        match &node.kind {
            ExprKind::Column { name, offset } => self.column(name, *offset, span),
            ExprKind::Literal(literal) => Ok(literal_value(literal, span)),
            ExprKind::Unary { op, operand } => {
                let operand = self.expr(operand)?;
                unary(*op, operand, span)
            }
            ExprKind::Binary {
                op, left, right, ..
            } => {
                let left = self.expr(left)?;
                let right = self.expr(right)?;
                if op.is_arithmetic() {
                    arithmetic(*op, &format!("operator {op}"), left, right, span)
                } else if op.is_comparison() {
                    comparison(*op, left, right, span)
                } else {
                    logical(*op, left, right, span)
                }
            }
            ExprKind::IsNull { operand, negated } => {
                let operand = self.expr(operand)?;
                let expr = if *negated {
                    operand.expr.is_not_null()
                } else {
                    operand.expr.is_null()
                };
                Ok(Value::new(expr, ColumnType::Bool, false, span))
            }
            ExprKind::Call {
                function,
                name_span,
                args,
            } => self.call(*function, *name_span, args, span),
            ExprKind::Case {
                operand,
                branches,
                otherwise,
            } => self.case(operand.as_deref(), branches, otherwise.as_deref(), span),
        }
    }

    fn column(&mut self, name: &str, offset: i64, span: Span) -> Result<Value, FormulaError> {
        let column = self.resolve(name, span)?;
        let expr = Expr::Column(DfColumn::new_unqualified(column.name.as_str()));
        let value = Value::new(expr, column.ty, column.nullable, span);
        if offset == 0 {
            return Ok(value);
        }
        let written = format!("[{}, {offset}]", column.name);
        let spec = match self.scope {
            FormulaScope::Row { ordering: Some(spec) } | FormulaScope::Window(spec) => spec,
            FormulaScope::Row { ordering: None } | FormulaScope::Aggregate => {
                return Err(FormulaError::new(
                    span.start,
                    format!(
                        "row offset {written} needs an order of rows: sort the input first or use a Window node"
                    ),
                ))
            }
        };
        if let Some(outer) = self.enclosing {
            return Err(FormulaError::new(
                span.start,
                format!(
                    "row offset {written} cannot be used inside {}",
                    outer.name()
                ),
            ));
        }
        let distance = i64::try_from(offset.unsigned_abs()).map_err(|_| {
            FormulaError::new(span.start, format!("row offset {offset} is too large"))
        })?;
        let shifted = if offset < 0 {
            lag(value.expr, Some(distance), None)
        } else {
            lead(value.expr, Some(distance), None)
        };
        let expr = over(shifted, spec, false, span)?;
        Ok(Value::new(expr, column.ty, true, span))
    }

    /// The input column `name` refers to: an exact match, else the only case-insensitive match.
    fn resolve(&self, name: &str, span: Span) -> Result<&'a Column, FormulaError> {
        if let Some(column) = self.schema.column(name) {
            return Ok(column);
        }
        let mut folded = self
            .schema
            .columns
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(name));
        if let (Some(only), None) = (folded.next(), folded.next()) {
            return Ok(only);
        }
        const LISTED: usize = 30;
        let names = self.schema.names();
        let suggestions = near_matches(name, names.iter().copied());
        let mut message = format!("unknown column {}", bracketed(name));
        if !suggestions.is_empty() {
            let list: Vec<String> = suggestions.into_iter().map(bracketed).collect();
            message.push_str(&format!(" (did you mean {}?)", list.join(", ")));
        }
        let expected = if names.is_empty() {
            "a column, but the input has no columns".to_string()
        } else {
            let mut list: Vec<String> = names.iter().take(LISTED).map(|n| bracketed(n)).collect();
            if names.len() > LISTED {
                list.push(format!("and {} more", names.len() - LISTED));
            }
            format!("one of the input columns {}", list.join(", "))
        };
        Err(FormulaError::new(span.start, message).expecting(expected))
    }

    fn case(
        &mut self,
        operand: Option<&ast::Expr>,
        branches: &[ast::WhenThen],
        otherwise: Option<&ast::Expr>,
        span: Span,
    ) -> Result<Value, FormulaError> {
        let operand = operand.map(|o| self.expr(o)).transpose()?;
        let mut conditions = Vec::with_capacity(branches.len());
        let mut results = Vec::with_capacity(branches.len() + 1);
        for branch in branches {
            let when = self.expr(&branch.when)?;
            let condition = match &operand {
                Some(operand) => comparison(BinaryOp::Eq, operand.clone(), when, branch.when.span)?,
                None => condition("CASE WHEN", when)?,
            };
            conditions.push(condition);
            results.push(self.expr(&branch.then)?);
        }
        let has_else = otherwise.is_some();
        if let Some(otherwise) = otherwise {
            results.push(self.expr(otherwise)?);
        }
        let (mut exprs, ty, nullable) = unify_values("CASE results", results)?;
        let else_expr = if has_else {
            exprs.pop().map(Box::new)
        } else {
            None
        };
        let when_then = conditions
            .into_iter()
            .map(|c| Box::new(c.expr))
            .zip(exprs.into_iter().map(Box::new));
        let expr = Expr::Case(Case::new(None, when_then.collect(), else_expr));
        Ok(Value {
            expr,
            ty,
            nullable: nullable || !has_else,
            span,
            literal: None,
        })
    }
}

/// `name` as written in a formula, brackets escaped.
pub(crate) fn bracketed(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// Wraps a window or aggregate function call in `OVER (PARTITION BY .. ORDER BY .. [frame])`;
/// the frame only applies to window aggregates.
pub(crate) fn over(
    function: Expr,
    spec: &WindowSpec,
    with_frame: bool,
    span: Span,
) -> Result<Expr, FormulaError> {
    let function = match function {
        Expr::AggregateFunction(aggregate) => Expr::from(WindowFunction::new(
            WindowFunctionDefinition::AggregateUDF(aggregate.func),
            aggregate.params.args,
        )),
        other => other,
    };
    let builder = function
        .partition_by(spec.partition_by.clone())
        .order_by(spec.order_by.clone());
    let builder = match (&spec.frame, with_frame) {
        (Some(frame), true) => builder.window_frame(frame.clone()),
        _ => builder,
    };
    builder
        .build()
        .map_err(|e| FormulaError::new(span.start, format!("cannot build the window: {e}")))
}

fn literal_value(literal: &Literal, span: Span) -> Value {
    let (expr, ty) = match literal {
        Literal::Int(n) => (lit(*n), Ty::Of(ColumnType::Int)),
        Literal::Float(x) => (lit(*x), Ty::Of(ColumnType::Float)),
        Literal::String(s) => (lit(s.as_str()), Ty::Of(ColumnType::String)),
        Literal::Bool(b) => (lit(*b), Ty::Of(ColumnType::Bool)),
        Literal::Null => (lit(ScalarValue::Null), Ty::Null),
    };
    Value {
        expr,
        ty,
        nullable: ty == Ty::Null,
        span,
        literal: Some(literal.clone()),
    }
}

fn unary(op: UnaryOp, operand: Value, span: Span) -> Result<Value, FormulaError> {
    let nullable = operand.nullable;
    let (expr, ty) = match op {
        UnaryOp::Neg if operand.ty == Ty::Null => return Ok(Value { span, ..operand }),
        UnaryOp::Neg if !operand.ty.is_numeric() => {
            return Err(FormulaError::new(
                operand.span.start,
                format!("unary minus needs a number, got {}", operand.ty),
            ))
        }
        UnaryOp::Neg => {
            if let Some(Literal::Float(x)) = operand.literal {
                let negated = Literal::Float(-x);
                return Ok(Value {
                    expr: lit(-x),
                    literal: Some(negated),
                    span,
                    ..operand
                });
            }
            (Expr::Negative(Box::new(operand.expr)), operand.ty)
        }
        UnaryOp::Not => {
            let operand = condition("NOT", operand)?;
            (Expr::Not(Box::new(operand.expr)), Ty::Of(ColumnType::Bool))
        }
    };
    Ok(Value {
        expr,
        ty,
        nullable,
        span,
        literal: None,
    })
}

/// A value that must be a condition (bool or NULL), for `what`'s messages.
pub(crate) fn condition(what: &str, value: Value) -> Result<Value, FormulaError> {
    match value.ty {
        Ty::Of(ColumnType::Bool) => Ok(value),
        Ty::Null => Ok(Value {
            expr: typed_null(ColumnType::Bool),
            ty: Ty::Of(ColumnType::Bool),
            ..value
        }),
        other => Err(FormulaError::new(
            value.span.start,
            format!("{what} needs a true/false condition, got {other}"),
        )),
    }
}

fn operator(op: BinaryOp) -> Operator {
    match op {
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Div => Operator::Divide,
        BinaryOp::Mod => Operator::Modulo,
        BinaryOp::Eq => Operator::Eq,
        BinaryOp::NotEq => Operator::NotEq,
        BinaryOp::Lt => Operator::Lt,
        BinaryOp::LtEq => Operator::LtEq,
        BinaryOp::Gt => Operator::Gt,
        BinaryOp::GtEq => Operator::GtEq,
        BinaryOp::And => Operator::And,
        BinaryOp::Or => Operator::Or,
    }
}

/// `+ - * / %` (and `MOD`): numeric operands; int op int is int except `/`, which is float.
pub(crate) fn arithmetic(
    op: BinaryOp,
    what: &str,
    left: Value,
    right: Value,
    span: Span,
) -> Result<Value, FormulaError> {
    if let Some(bad) = [&left, &right]
        .into_iter()
        .find(|v| !v.ty.is_numeric() && v.ty != Ty::Null)
    {
        return Err(FormulaError::new(
            bad.span.start,
            format!(
                "{what} needs numeric operands, got {} and {}",
                left.ty, right.ty
            ),
        ));
    }
    let nullable = left.nullable || right.nullable;
    let Some(Ty::Of(common)) = unify(left.ty, right.ty) else {
        // NULL op NULL.
        return Ok(Value {
            expr: lit(ScalarValue::Null),
            ty: Ty::Null,
            nullable: true,
            span,
            literal: None,
        });
    };
    let ty = if op == BinaryOp::Div && common == ColumnType::Int {
        ColumnType::Float
    } else {
        common
    };
    let (l, r) = if ty == ColumnType::Float && common == ColumnType::Int {
        (
            left.cast_to(ColumnType::Float),
            right.cast_to(ColumnType::Float),
        )
    } else {
        (left.cast_to_if_null(common), right.cast_to_if_null(common))
    };
    Ok(Value::new(
        binary_expr(l, operator(op), r),
        ty,
        nullable,
        span,
    ))
}

/// Checks that two values can be compared, turning date strings compared with temporal values
/// into typed literals; returns the operands ready to compare.
pub(crate) fn comparable(left: Value, right: Value) -> Result<(Value, Value), FormulaError> {
    let (left, right) = match (left.ty.is_temporal(), right.ty.is_temporal()) {
        (true, false) => (left, right.temporal_literal()),
        (false, true) => (left.temporal_literal(), right),
        _ => (left, right),
    };
    let compatible = match (left.ty, right.ty) {
        (Ty::Null, _) | (_, Ty::Null) => true,
        (Ty::Of(a), Ty::Of(b)) => {
            a == b || (a.is_numeric() && b.is_numeric()) || (a.is_temporal() && b.is_temporal())
        }
    };
    if compatible {
        return Ok((left, right));
    }
    let mut error = FormulaError::new(
        right.span.start,
        format!("cannot compare {} with {}", left.ty, right.ty),
    );
    if left.ty.is_temporal() || right.ty.is_temporal() {
        error = error
            .expecting("a date such as '2024-01-31' or a timestamp such as '2024-01-31 09:30:00'");
    }
    Err(error)
}

fn comparison(op: BinaryOp, left: Value, right: Value, span: Span) -> Result<Value, FormulaError> {
    let (left, right) = comparable(left, right)?;
    let nullable = left.nullable || right.nullable;
    let expr = binary_expr(left.expr, operator(op), right.expr);
    Ok(Value::new(expr, ColumnType::Bool, nullable, span))
}

fn logical(op: BinaryOp, left: Value, right: Value, span: Span) -> Result<Value, FormulaError> {
    let left = condition(op.symbol(), left)?;
    let right = condition(op.symbol(), right)?;
    let nullable = left.nullable || right.nullable;
    Ok(Value::new(
        binary_expr(left.expr, operator(op), right.expr),
        ColumnType::Bool,
        nullable,
        span,
    ))
}

/// Brings values that must share a type (CASE/IF results, COALESCE arguments) to their common
/// type; returns the cast expressions, that type, and whether any of them may be NULL.
pub(crate) fn unify_values(
    what: &str,
    values: Vec<Value>,
) -> Result<(Vec<Expr>, Ty, bool), FormulaError> {
    let mut ty = Ty::Null;
    for value in &values {
        ty = unify(ty, value.ty).ok_or_else(|| {
            FormulaError::new(
                value.span.start,
                format!("{what} have incompatible types: {ty} and {}", value.ty),
            )
        })?;
    }
    let nullable = values.iter().any(|v| v.nullable);
    let exprs = values
        .into_iter()
        .map(|v| match ty {
            Ty::Of(common) => v.cast_to(common),
            Ty::Null => v.expr,
        })
        .collect();
    Ok((exprs, ty, nullable))
}
