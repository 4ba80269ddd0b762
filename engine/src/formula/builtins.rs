//! Compiles calls of the built-in functions: argument counts, argument types, scope rules, and
//! the DataFusion function each one maps to.
//!
//! The DataFusion functions chosen all exist in PostgreSQL under the same name (or are built
//! from ones that do, e.g. `DATE_DIFF` from `date_part('epoch', ..)`), because compiled plans are
//! unparsed to backend SQL.

use datafusion::arrow::datatypes::{DataType, IntervalUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::functions_window::expr_fn as win;
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::{binary_expr, cast, lit, Expr, Operator};

use super::ast::{self, BinaryOp, Literal, Span};
use super::compiler::{
    arithmetic, comparable, condition, over, typed_null, unify, unify_values, Compiler, Ty, Value,
};
use super::dates::DateUnit;
use super::functions::{Function, FunctionKind};
use super::{FormulaError, FormulaScope, WindowSpec};
use crate::types::ColumnType;

/// The arguments of one call, with what is needed to word errors about them.
struct Call {
    function: Function,
    name_span: Span,
    args: Vec<Value>,
}

impl Call {
    fn name(&self) -> &'static str {
        self.function.name()
    }

    /// The error for argument `index` (0-based) not being `wanted`.
    fn wrong(&self, index: usize, wanted: &str) -> FormulaError {
        let value = &self.args[index];
        let message = if self.args.len() == 1 {
            format!("{} needs {wanted}, got {}", self.name(), value.ty)
        } else {
            format!(
                "{} needs {wanted} as argument {}, got {}",
                self.name(),
                index + 1,
                value.ty
            )
        };
        FormulaError::new(value.span.start, message)
    }

    fn take(&self, index: usize) -> Value {
        self.args[index].clone()
    }

    /// Argument `index` as a number (a NULL becomes a float NULL).
    fn number(&self, index: usize) -> Result<Value, FormulaError> {
        self.typed(index, "a number", Ty::is_numeric, ColumnType::Float)
    }

    /// Argument `index` as text.
    fn text(&self, index: usize) -> Result<Value, FormulaError> {
        self.typed(
            index,
            "text",
            |t| t.is(ColumnType::String),
            ColumnType::String,
        )
    }

    /// Argument `index` as a whole number.
    fn whole(&self, index: usize) -> Result<Value, FormulaError> {
        self.typed(
            index,
            "a whole number",
            |t| t.is(ColumnType::Int),
            ColumnType::Int,
        )
    }

    /// Argument `index` as a date or timestamp; a string literal such as '2024-01-31' counts.
    fn temporal(&mut self, index: usize) -> Result<Value, FormulaError> {
        self.args[index] = self.take(index).temporal_literal();
        self.typed(
            index,
            "a date or timestamp",
            Ty::is_temporal,
            ColumnType::Timestamp,
        )
    }

    fn typed(
        &self,
        index: usize,
        wanted: &str,
        accepts: impl Fn(Ty) -> bool,
        null_as: ColumnType,
    ) -> Result<Value, FormulaError> {
        let value = self.take(index);
        if value.ty == Ty::Null {
            return Ok(Value {
                expr: typed_null(null_as),
                ty: Ty::Of(null_as),
                ..value
            });
        }
        if accepts(value.ty) {
            Ok(value)
        } else {
            Err(self.wrong(index, wanted))
        }
    }

    /// Argument `index` as a constant whole number (e.g. ROUND's digits).
    fn constant_int(&self, index: usize, what: &str) -> Result<i64, FormulaError> {
        match self.args[index].literal {
            Some(Literal::Int(n)) => Ok(n),
            _ => Err(FormulaError::new(
                self.args[index].span.start,
                format!(
                    "{}'s {what} must be a whole number written in the formula, such as 2",
                    self.name()
                ),
            )),
        }
    }

    /// Argument `index` as a quoted date unit allowed by `allowed`.
    fn unit(&self, index: usize, allowed: &[DateUnit]) -> Result<DateUnit, FormulaError> {
        let names: Vec<String> = allowed.iter().map(|u| format!("'{}'", u.name())).collect();
        let expected = format!("one of {}", names.join(", "));
        let value = &self.args[index];
        let unit = match &value.literal {
            Some(Literal::String(text)) => DateUnit::parse(text).filter(|u| allowed.contains(u)),
            _ => None,
        };
        unit.ok_or_else(|| {
            FormulaError::new(
                value.span.start,
                format!(
                    "{} needs a quoted unit as argument {}",
                    self.name(),
                    index + 1
                ),
            )
            .expecting(expected)
        })
    }

    /// Whether any argument may be NULL.
    fn any_nullable(&self) -> bool {
        self.args.iter().any(|a| a.nullable)
    }
}

impl Compiler<'_> {
    /// Compiles `function(args)`.
    pub(crate) fn call(
        &mut self,
        function: Function,
        name_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<Value, FormulaError> {
        match function.kind() {
            FunctionKind::Scalar => {
                let call = self.arguments(function, name_span, args)?;
                scalar(call, span)
            }
            FunctionKind::Aggregate => {
                let window = match self.scope {
                    FormulaScope::Row { .. } => {
                        return Err(FormulaError::new(
                            name_span.start,
                            format!(
                                "{} is an aggregate: use it in a Group By node",
                                function.name()
                            ),
                        ))
                    }
                    FormulaScope::Aggregate => None,
                    FormulaScope::Window(spec) => Some(spec),
                };
                let call = self.outer_arguments(function, name_span, args)?;
                aggregate(call, window, span)
            }
            FunctionKind::Window => {
                let FormulaScope::Window(spec) = self.scope else {
                    return Err(FormulaError::new(
                        name_span.start,
                        format!(
                            "{} is a window function: use it in a Window node",
                            function.name()
                        ),
                    ));
                };
                let call = self.outer_arguments(function, name_span, args)?;
                window_function(call, spec, span)
            }
        }
    }

    /// The arguments of an aggregate or window function, which may not contain another one.
    fn outer_arguments(
        &mut self,
        function: Function,
        name_span: Span,
        args: &[ast::Expr],
    ) -> Result<Call, FormulaError> {
        if let Some(outer) = self.enclosing {
            return Err(FormulaError::new(
                name_span.start,
                format!(
                    "{} cannot be used inside {}: aggregate and window functions do not nest",
                    function.name(),
                    outer.name()
                ),
            ));
        }
        self.enclosing = Some(function);
        let call = self.arguments(function, name_span, args);
        self.enclosing = None;
        call
    }

    fn arguments(
        &mut self,
        function: Function,
        name_span: Span,
        args: &[ast::Expr],
    ) -> Result<Call, FormulaError> {
        check_arity(function, name_span, args.len())?;
        let args = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Call {
            function,
            name_span,
            args,
        })
    }
}

/// Errors unless `function` takes `count` arguments.
fn check_arity(function: Function, name_span: Span, count: usize) -> Result<(), FormulaError> {
    use Function::*;
    let (min, max) = match function {
        Now | RowNumber | Rank | DenseRank => (0, 0),
        Abs | Ceil | Floor | Sqrt | Upper | Lower | Trim | Length | Year | Month | Day | Hour
        | Sum | Avg | Min | Max => (1, 1),
        Round | Log => (1, 2),
        Count => (0, 1),
        Mod | Power | Left | Right | NullIf => (2, 2),
        Replace | DateDiff | DateAdd | If => (3, 3),
        Lag | Lead => (1, 3),
        Concat | Coalesce => (1, usize::MAX),
    };
    if (min..=max).contains(&count) {
        return Ok(());
    }
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let takes = match (min, max) {
        _ if min == max => format!("{min} {}", plural(min)),
        (_, usize::MAX) => format!("at least {min} {}", plural(min)),
        _ if max == min + 1 => format!("{min} or {max} arguments"),
        _ => format!("{min} to {max} arguments"),
    };
    Err(FormulaError::new(
        name_span.start,
        format!("{} takes {takes}, got {count}", function.name()),
    ))
}

fn scalar(mut call: Call, span: Span) -> Result<Value, FormulaError> {
    use Function::*;
    let nullable = call.any_nullable();
    let value = |expr, ty| Ok(Value::new(expr, ty, nullable, span));
    match call.function {
        Abs => {
            let x = call.number(0)?;
            Ok(Value {
                expr: f::abs(x.expr),
                span,
                literal: None,
                ..x
            })
        }
        Round => {
            let x = call.number(0)?;
            // Decimals keep their exactness; everything else rounds as a float.
            let ty = if x.ty.is(ColumnType::Decimal) {
                ColumnType::Decimal
            } else {
                ColumnType::Float
            };
            let mut args = vec![x.cast_to(ty)];
            if call.args.len() == 2 {
                args.push(lit(call.constant_int(1, "digits")?));
            }
            value(f::round(args), ty)
        }
        Ceil | Floor => {
            let x = call.number(0)?;
            // A whole number is its own ceiling and floor; DataFusion would return a float.
            let expr = match (x.ty, call.function) {
                (Ty::Of(ColumnType::Int), _) => x.expr,
                (_, Ceil) => f::ceil(x.expr),
                _ => f::floor(x.expr),
            };
            Ok(Value {
                expr,
                span,
                literal: None,
                ..x
            })
        }
        Mod => {
            let (a, b) = (call.take(0), call.take(1));
            arithmetic(BinaryOp::Mod, "MOD", a, b, span)
        }
        Power => {
            let base = call.number(0)?.cast_to(ColumnType::Float);
            let exponent = call.number(1)?.cast_to(ColumnType::Float);
            value(f::power(base, exponent), ColumnType::Float)
        }
        Sqrt => value(
            f::sqrt(call.number(0)?.cast_to(ColumnType::Float)),
            ColumnType::Float,
        ),
        Log => {
            let x = call.number(call.args.len() - 1)?.cast_to(ColumnType::Float);
            if call.args.len() == 1 {
                return value(f::ln(x), ColumnType::Float);
            }
            // LOG(base, x) as ln(x) / ln(base): the same in every backend.
            let base = call.number(0)?.cast_to(ColumnType::Float);
            value(
                binary_expr(f::ln(x), Operator::Divide, f::ln(base)),
                ColumnType::Float,
            )
        }
        Upper => value(f::upper(call.text(0)?.expr), ColumnType::String),
        Lower => value(f::lower(call.text(0)?.expr), ColumnType::String),
        Trim => value(f::btrim(vec![call.text(0)?.expr]), ColumnType::String),
        Left | Right => {
            let text = call.text(0)?.expr;
            let count = call.whole(1)?.expr;
            let expr = if call.function == Left {
                f::left(text, count)
            } else {
                f::right(text, count)
            };
            value(expr, ColumnType::String)
        }
        Length => value(
            cast(f::character_length(call.text(0)?.expr), DataType::Int64),
            ColumnType::Int,
        ),
        Concat => {
            // NULL counts as empty text in every backend (some would make the result NULL).
            let parts = call
                .args
                .iter()
                .map(|arg| match arg.ty {
                    Ty::Null => lit(""),
                    ty => {
                        let text = if ty.is(ColumnType::String) {
                            arg.expr.clone()
                        } else {
                            cast(arg.expr.clone(), DataType::Utf8)
                        };
                        if arg.nullable {
                            f::coalesce(vec![text, lit("")])
                        } else {
                            text
                        }
                    }
                })
                .collect();
            Ok(Value::new(
                f::concat(parts),
                ColumnType::String,
                false,
                span,
            ))
        }
        Replace => {
            let (text, from, to) = (call.text(0)?.expr, call.text(1)?.expr, call.text(2)?.expr);
            value(f::replace(text, from, to), ColumnType::String)
        }
        Year | Month | Day | Hour => {
            let part = match call.function {
                Year => "year",
                Month => "month",
                Day => "day",
                _ => "hour",
            };
            let t = call.temporal(0)?;
            value(
                cast(f::date_part(lit(part), t.expr), DataType::Int64),
                ColumnType::Int,
            )
        }
        DateDiff => date_diff(call, span),
        DateAdd => date_add(call, span),
        Now => value(
            cast(f::now(), ColumnType::Timestamp.to_arrow()),
            ColumnType::Timestamp,
        ),
        If => {
            let test = condition("IF", call.take(0))?;
            let (branches, ty, nullable) = unify_values("IF branches", call.args.split_off(1))?;
            let [then, otherwise]: [Expr; 2] = branches
                .try_into()
                .map_err(|_| FormulaError::new(call.name_span.start, "IF takes 3 arguments"))?;
            let case = Case::new(
                None,
                vec![(Box::new(test.expr), Box::new(then))],
                Some(Box::new(otherwise)),
            );
            Ok(Value {
                expr: Expr::Case(case),
                ty,
                nullable,
                span,
                literal: None,
            })
        }
        Coalesce => {
            let all_nullable = call.args.iter().all(|a| a.nullable);
            let (args, ty, _) = unify_values("COALESCE arguments", call.args)?;
            Ok(Value {
                expr: f::coalesce(args),
                ty,
                nullable: all_nullable,
                span,
                literal: None,
            })
        }
        NullIf => {
            let (a, b) = comparable(call.take(0), call.take(1))?;
            let ty = unify(a.ty, b.ty).unwrap_or(a.ty);
            let expr = match ty {
                Ty::Of(common) => f::nullif(a.cast_to(common), b.cast_to(common)),
                Ty::Null => f::nullif(a.expr, b.expr),
            };
            Ok(Value {
                expr,
                ty,
                nullable: true,
                span,
                literal: None,
            })
        }
        Sum | Avg | Count | Min | Max | Lag | Lead | RowNumber | Rank | DenseRank => {
            Err(FormulaError::new(
                call.name_span.start,
                format!("{} is not a row-level function", call.name()),
            ))
        }
    }
}

/// `DATE_DIFF(unit, start, end)`: whole units from start to end, truncated toward zero.
fn date_diff(mut call: Call, span: Span) -> Result<Value, FormulaError> {
    use DateUnit::*;
    let unit = call.unit(0, &[Second, Minute, Hour, Day, Week])?;
    let start = call.temporal(1)?;
    let end = call.temporal(2)?;
    let nullable = start.nullable || end.nullable;
    let epoch = |t: Value| f::date_part(lit("epoch"), t.expr);
    let mut seconds = binary_expr(epoch(end), Operator::Minus, epoch(start));
    let unit_seconds = unit.seconds().unwrap_or(1);
    if unit_seconds != 1 {
        seconds = binary_expr(seconds, Operator::Divide, lit(unit_seconds as f64));
    }
    let expr = cast(f::trunc(vec![seconds]), DataType::Int64);
    Ok(Value::new(expr, ColumnType::Int, nullable, span))
}

/// `DATE_ADD(unit, n, t)`: `t` moved by `n` units. Dates stay dates for whole-day units and
/// become timestamps for clock units.
fn date_add(mut call: Call, span: Span) -> Result<Value, FormulaError> {
    use DateUnit::*;
    let unit = call.unit(0, &[Second, Minute, Hour, Day, Week, Month, Year])?;
    let amount = call.whole(1)?;
    let t = call.temporal(2)?;
    let nullable = amount.nullable || t.nullable;
    let interval = match amount.literal {
        Some(Literal::Int(n)) => {
            let interval = unit.interval(n).ok_or_else(|| {
                FormulaError::new(
                    amount.span.start,
                    format!("DATE_ADD amount {n} {}s is out of range", unit.name()),
                )
            })?;
            lit(ScalarValue::IntervalMonthDayNano(Some(interval)))
        }
        // A computed amount: build the interval from text such as '3 day', which every backend
        // can cast (DataFusion cannot multiply intervals).
        _ => {
            let text = f::concat(vec![
                cast(amount.expr, DataType::Utf8),
                lit(format!(" {}", unit.name())),
            ]);
            cast(text, DataType::Interval(IntervalUnit::MonthDayNano))
        }
    };
    let stays_date = t.ty.is(ColumnType::Date) && unit.keeps_dates();
    let ty = if stays_date {
        ColumnType::Date
    } else {
        ColumnType::Timestamp
    };
    let moved = binary_expr(t.cast_to(ty), Operator::Plus, interval);
    // The explicit cast keeps the type the same in backends where date + interval is a timestamp.
    let expr = if stays_date {
        cast(moved, ColumnType::Date.to_arrow())
    } else {
        moved
    };
    Ok(Value::new(expr, ty, nullable, span))
}

/// SUM, AVG, COUNT, MIN, MAX: per group, or over the window when there is one.
fn aggregate(call: Call, window: Option<&WindowSpec>, span: Span) -> Result<Value, FormulaError> {
    use Function::*;
    let (expr, ty, nullable) = match call.function {
        Sum => {
            let x = call.number(0)?;
            let ty = x.ty;
            (agg::sum(x.expr), ty, true)
        }
        Avg => {
            let x = call.number(0)?;
            let ty = if x.ty.is(ColumnType::Decimal) {
                x.ty
            } else {
                Ty::Of(ColumnType::Float)
            };
            (agg::avg(x.expr), ty, true)
        }
        Count => {
            let counted = call
                .args
                .first()
                .map_or_else(|| lit(1i64), |x| x.expr.clone());
            (agg::count(counted), Ty::Of(ColumnType::Int), false)
        }
        Min | Max => {
            let x = call.take(0);
            if x.ty == Ty::Null || x.ty.is(ColumnType::Bool) {
                return Err(call.wrong(0, "a number, text, date or timestamp"));
            }
            let ty = x.ty;
            let expr = if call.function == Min {
                agg::min(x.expr)
            } else {
                agg::max(x.expr)
            };
            (expr, ty, true)
        }
        _ => {
            return Err(FormulaError::new(
                call.name_span.start,
                format!("{} is not an aggregate", call.name()),
            ))
        }
    };
    let expr = match window {
        Some(spec) => over(expr, spec, true, span)?,
        None => expr,
    };
    Ok(Value {
        expr,
        ty,
        nullable,
        span,
        literal: None,
    })
}

/// LAG, LEAD and the ranking functions, over the Window node's window.
fn window_function(call: Call, spec: &WindowSpec, span: Span) -> Result<Value, FormulaError> {
    use Function::*;
    match call.function {
        Lag | Lead => {
            let value = call.take(0);
            let distance = if call.args.len() > 1 {
                let n = call.constant_int(1, "offset")?;
                if n < 0 {
                    return Err(FormulaError::new(
                        call.args[1].span.start,
                        format!("{}'s offset must not be negative", call.name()),
                    ));
                }
                n
            } else {
                1
            };
            let default = call.args.get(2).cloned();
            let (value, default) = match default {
                None => (value, None),
                Some(default) => with_default(&call, value, default)?,
            };
            let ty = value.ty;
            let shifted = if call.function == Lag {
                win::lag(value.expr, Some(distance), default)
            } else {
                win::lead(value.expr, Some(distance), default)
            };
            Ok(Value {
                expr: over(shifted, spec, false, span)?,
                ty,
                nullable: true,
                span,
                literal: None,
            })
        }
        RowNumber | Rank | DenseRank => {
            let ranking = match call.function {
                RowNumber => win::row_number(),
                Rank => win::rank(),
                _ => win::dense_rank(),
            };
            // DataFusion numbers rows as unsigned; the language's whole numbers are BIGINT.
            let expr = cast(over(ranking, spec, false, span)?, DataType::Int64);
            Ok(Value::new(expr, ColumnType::Int, false, span))
        }
        _ => Err(FormulaError::new(
            call.name_span.start,
            format!("{} is not a window function", call.name()),
        )),
    }
}

/// LAG/LEAD's value and constant default, brought to a common type.
fn with_default(
    call: &Call,
    value: Value,
    default: Value,
) -> Result<(Value, Option<ScalarValue>), FormulaError> {
    let default = if value.ty.is_temporal() {
        default.temporal_literal()
    } else {
        default
    };
    let scalar = match (&default.literal, &default.expr) {
        (Some(_), Expr::Literal(scalar, _)) => scalar.clone(),
        _ => {
            return Err(FormulaError::new(
                default.span.start,
                format!(
                    "{}'s default must be a constant such as 0 or 'n/a'",
                    call.name()
                ),
            ))
        }
    };
    let Some(ty) = unify(value.ty, default.ty) else {
        return Err(FormulaError::new(
            default.span.start,
            format!(
                "{}'s default must have the value's type: got {} and {}",
                call.name(),
                value.ty,
                default.ty
            ),
        ));
    };
    let Ty::Of(common) = ty else {
        return Ok((value, None));
    };
    if scalar.is_null() {
        return Ok((value, None));
    }
    let scalar = scalar.cast_to(&common.to_arrow()).map_err(|e| {
        FormulaError::new(
            default.span.start,
            format!("{}'s default cannot be used: {e}", call.name()),
        )
    })?;
    let span = value.span;
    let nullable = value.nullable;
    Ok((
        Value {
            expr: value.cast_to(common),
            ty,
            nullable,
            span,
            literal: None,
        },
        Some(scalar),
    ))
}
