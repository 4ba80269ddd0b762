//! The ClickHouse dialect for DataFusion's unparser.
//!
//! DataFusion 55 ships no ClickHouse dialect. This one quotes identifiers with backticks, casts
//! with ClickHouse type names (never `::`), writes intervals MySQL-style, and maps scalar
//! functions whose names differ (`date_trunc('hour', x)` → `toStartOfHour(x)`, `strpos` →
//! `position`, `md5` → `lower(hex(MD5(..)))`). Aggregate and window functions have no unparser
//! hook, so [`rewrite_functions`] renames them in the finished AST (`count(DISTINCT x)` →
//! `uniqExact(x)`, `lag`/`lead` → `lagInFrame`/`leadInFrame` over the whole partition).

use crate::sql_ast::function_call as call;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::TimeUnit;
use datafusion::common::Result;
use datafusion::logical_expr::Expr;
use datafusion::sql::sqlparser::ast::{
    self, DuplicateTreatment, FunctionArguments, Ident, ObjectName, ObjectNamePart, WindowFrame,
    WindowFrameBound, WindowFrameUnits, WindowType,
};
use datafusion::sql::unparser::dialect::{
    CharacterLengthStyle, DateFieldExtractStyle, Dialect, IntervalStyle,
};
use datafusion::sql::unparser::Unparser;

/// Unparser dialect for ClickHouse (HTTP interface, ≥ 23.8).
#[derive(Debug, Default, Clone, Copy)]
pub struct ClickHouseDialect;

fn custom(name: &str) -> ast::DataType {
    ast::DataType::Custom(
        ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        vec![],
    )
}

fn string_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(value, _) => value.try_as_str().flatten().map(|s| s.to_ascii_lowercase()),
        _ => None,
    }
}

impl Dialect for ClickHouseDialect {
    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('`')
    }

    fn interval_style(&self) -> IntervalStyle {
        IntervalStyle::MySQL
    }

    fn float64_ast_dtype(&self) -> ast::DataType {
        custom("Float64")
    }

    fn utf8_cast_dtype(&self) -> ast::DataType {
        custom("String")
    }

    fn large_utf8_cast_dtype(&self) -> ast::DataType {
        custom("String")
    }

    fn date_field_extract_style(&self) -> DateFieldExtractStyle {
        DateFieldExtractStyle::Extract
    }

    fn character_length_style(&self) -> CharacterLengthStyle {
        CharacterLengthStyle::Length
    }

    fn int64_cast_dtype(&self) -> ast::DataType {
        custom("Int64")
    }

    fn int8_cast_dtype(&self) -> ast::DataType {
        custom("Int8")
    }

    fn int32_cast_dtype(&self) -> ast::DataType {
        custom("Int32")
    }

    fn timestamp_cast_dtype(
        &self,
        _unit: &TimeUnit,
        tz: &Option<std::sync::Arc<str>>,
    ) -> ast::DataType {
        match tz {
            Some(tz) => custom(&format!("DateTime64(6, '{tz}')")),
            None => custom("DateTime64(6)"),
        }
    }

    fn date32_cast_dtype(&self) -> ast::DataType {
        custom("Date32")
    }

    fn requires_derived_table_alias(&self) -> bool {
        true
    }

    fn supports_qualify(&self) -> bool {
        false
    }

    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> Result<Option<ast::Expr>> {
        let sql_args = || {
            args.iter()
                .map(|a| unparser.expr_to_sql(a))
                .collect::<Result<Vec<_>>>()
        };
        let renamed = match func_name {
            "date_trunc" if args.len() == 2 => {
                let target = match string_literal(&args[0]).as_deref() {
                    Some("second") => "toStartOfSecond",
                    Some("minute") => "toStartOfMinute",
                    Some("hour") => "toStartOfHour",
                    Some("day") => "toStartOfDay",
                    Some("week") => "toMonday",
                    Some("month") => "toStartOfMonth",
                    Some("quarter") => "toStartOfQuarter",
                    Some("year") => "toStartOfYear",
                    _ => return Ok(None),
                };
                // `toStartOf*` returns a second-precision DateTime (or a Date); DataFusion's
                // date_trunc keeps the microsecond timestamp type, so convert back to it.
                let truncated = call(target, vec![unparser.expr_to_sql(&args[1])?]);
                return Ok(Some(call(
                    "toDateTime64",
                    vec![
                        truncated,
                        ast::Expr::value(ast::Value::Number("6".into(), false)),
                    ],
                )));
            }
            "date_part" if args.len() == 2 => {
                let target = match string_literal(&args[0]).as_deref() {
                    Some("year") => "toYear",
                    Some("quarter") => "toQuarter",
                    Some("month") => "toMonth",
                    Some("day") => "toDayOfMonth",
                    Some("hour") => "toHour",
                    Some("minute") => "toMinute",
                    Some("second") => "toSecond",
                    Some("dow") => "toDayOfWeek",
                    Some("epoch") => {
                        let inner = call(
                            "toUnixTimestamp64Micro",
                            vec![unparser.expr_to_sql(&args[1])?],
                        );
                        return Ok(Some(ast::Expr::BinaryOp {
                            left: Box::new(inner),
                            op: ast::BinaryOperator::Divide,
                            right: Box::new(ast::Expr::value(ast::Value::Number(
                                "1000000.0".into(),
                                false,
                            ))),
                        }));
                    }
                    _ => return Ok(None),
                };
                // `toStartOf*` returns a second-precision DateTime (or a Date); DataFusion's
                // date_trunc keeps the microsecond timestamp type, so convert back to it.
                let truncated = call(target, vec![unparser.expr_to_sql(&args[1])?]);
                return Ok(Some(call(
                    "toDateTime64",
                    vec![
                        truncated,
                        ast::Expr::value(ast::Value::Number("6".into(), false)),
                    ],
                )));
            }
            "strpos" => "position",
            "md5" => {
                let hashed = call("MD5", sql_args()?);
                return Ok(Some(call("lower", vec![call("hex", vec![hashed])])));
            }
            "concat_ws" => "concatWithSeparator",
            "character_length" | "char_length" | "length" => "lengthUTF8",
            "ln" => "log",
            "power" | "pow" => "pow",
            "now" => "now64",
            "btrim" | "trim" => "trimBoth",
            _ => return Ok(None),
        };
        Ok(Some(call(renamed, sql_args()?)))
    }
}

/// Renames aggregate and window functions the unparser cannot map through the dialect.
pub fn rewrite_functions(statement: &mut ast::Statement) {
    let _ = ast::visit_expressions_mut(statement, |expr| {
        if let ast::Expr::Function(function) = expr {
            rewrite_function(function);
        }
        ControlFlow::<()>::Continue(())
    });
}

fn rewrite_function(function: &mut ast::Function) {
    let name = function.name.to_string().to_ascii_lowercase();
    let distinct = matches!(
        &function.args,
        FunctionArguments::List(list) if list.duplicate_treatment == Some(DuplicateTreatment::Distinct)
    );
    let rename = |function: &mut ast::Function, to: &str| {
        function.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
    };
    match name.as_str() {
        "count" if distinct => {
            rename(function, "uniqExact");
            if let FunctionArguments::List(list) = &mut function.args {
                list.duplicate_treatment = None;
            }
        }
        "lag" | "lead" => {
            rename(
                function,
                if name == "lag" {
                    "lagInFrame"
                } else {
                    "leadInFrame"
                },
            );
            // Past the partition's edge ClickHouse returns the type's default (0, ''), SQL
            // returns NULL: make the value nullable so the default is NULL.
            if let FunctionArguments::List(list) = &mut function.args {
                if let Some(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(value))) =
                    list.args.first_mut()
                {
                    let inner = std::mem::replace(value, ast::Expr::value(ast::Value::Null));
                    *value = call("toNullable", vec![inner]);
                }
            }
            if let Some(WindowType::WindowSpec(spec)) = &mut function.over {
                spec.window_frame = Some(WindowFrame {
                    units: WindowFrameUnits::Rows,
                    start_bound: WindowFrameBound::Preceding(None),
                    end_bound: Some(WindowFrameBound::Following(None)),
                });
            }
        }
        "stddev" | "stddev_samp" => rename(function, "stddevSamp"),
        "stddev_pop" => rename(function, "stddevPop"),
        "var_samp" | "variance" => rename(function, "varSamp"),
        "var_pop" => rename(function, "varPop"),
        _ => {}
    }
}
