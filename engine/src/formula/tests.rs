//! End-to-end tests of the formula language: parsed, type-checked, compiled and evaluated by
//! DataFusion over a small in-memory table.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema as ArrowSchema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Column as DfColumn, DFSchema, ScalarValue};
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::utils::{find_aggregate_exprs, find_window_exprs};
use datafusion::logical_expr::{
    Expr, ExprSchemable, LogicalPlanBuilder, SortExpr, WindowFrame, WindowFrameBound,
    WindowFrameUnits,
};
use datafusion::prelude::SessionContext;
use datafusion::sql::unparser::dialect::PostgreSqlDialect;
use datafusion::sql::unparser::Unparser;

use super::ast::{BinaryOp, ExprKind, Literal, Span, UnaryOp};
use super::*;

/// The test table's Arrow schema; some physical types are deliberately not the canonical ones
/// (Int32, Decimal(18, 4)) because real inputs are not either.
pub(super) fn arrow_schema() -> Arc<ArrowSchema> {
    Arc::new(ArrowSchema::new(vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("grp", DataType::Utf8, false),
        Field::new("symbol", DataType::Utf8, false),
        Field::new("price", DataType::Float64, false),
        Field::new("qty", DataType::Int64, false),
        Field::new("lots", DataType::Int32, false),
        Field::new("cost", DataType::Decimal128(38, 10), false),
        Field::new("fee", DataType::Decimal128(18, 4), true),
        Field::new("note", DataType::Utf8, true),
        Field::new("active", DataType::Boolean, false),
        Field::new("day", DataType::Date32, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("close price", DataType::Float64, false),
        Field::new("a.b", DataType::Int64, false),
    ]))
}

/// The logical schema formulas are compiled against.
pub(super) fn input() -> Schema {
    Schema::from_arrow(&arrow_schema()).unwrap()
}

/// Partition by `grp`, order by `seq`: rows 0 and 1 form one partition, row 2 another.
pub(super) fn window_spec() -> WindowSpec {
    WindowSpec {
        partition_by: vec![column("grp")],
        order_by: vec![SortExpr::new(column("seq"), true, false)],
        frame: None,
    }
}

fn column(name: &str) -> Expr {
    Expr::Column(DfColumn::new_unqualified(name))
}

fn batch() -> RecordBatch {
    let micros = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    };
    let days = |s: &str| {
        let date = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 2, 3])),
        Arc::new(StringArray::from(vec!["x", "x", "y"])),
        Arc::new(StringArray::from(vec!["AAPL", "msft ", "GOOG"])),
        Arc::new(Float64Array::from(vec![10.5, 20.25, -3.0])),
        Arc::new(Int64Array::from(vec![1500, 10, 7])),
        Arc::new(Int32Array::from(vec![3, 4, 5])),
        Arc::new(
            Decimal128Array::from(vec![15_000_000_000, 22_500_000_000, 30_000_000_000])
                .with_precision_and_scale(38, 10)
                .unwrap(),
        ),
        Arc::new(
            Decimal128Array::from(vec![Some(1_000), None, Some(3_000)])
                .with_precision_and_scale(18, 4)
                .unwrap(),
        ),
        Arc::new(StringArray::from(vec![Some("it's"), None, Some("x")])),
        Arc::new(BooleanArray::from(vec![true, false, true])),
        Arc::new(Date32Array::from(vec![
            days("2024-01-31"),
            days("2024-02-29"),
            days("2023-12-25"),
        ])),
        Arc::new(TimestampMicrosecondArray::from(vec![
            micros("2024-01-31 09:30:00"),
            micros("2024-02-29 23:59:59"),
            micros("2023-12-25 00:00:00"),
        ])),
        Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])),
        Arc::new(Int64Array::from(vec![1, 2, 3])),
    ];
    RecordBatch::try_new(arrow_schema(), columns).unwrap()
}

/// Checks that the declared type is the one DataFusion infers, then runs the expression over the
/// test table (grouped by `grp` if it aggregates, through a window node if it has windows) and
/// returns the values as text, ordered by `seq` (or `grp`).
async fn evaluate(typed: &TypedExpr) -> Vec<String> {
    let df_schema = DFSchema::try_from(arrow_schema().as_ref().clone()).unwrap();
    let inferred = typed.expr.get_type(&df_schema).unwrap();
    assert_eq!(
        ColumnType::from_arrow(&inferred),
        Some(typed.ty),
        "inferred {inferred} for {}",
        typed.expr
    );

    let table = MemTable::try_new(arrow_schema(), vec![vec![batch()]]).unwrap();
    let mut builder =
        LogicalPlanBuilder::scan("t", provider_as_source(Arc::new(table)), None).unwrap();
    let aggregates = find_aggregate_exprs([&typed.expr]);
    let windows = find_window_exprs([&typed.expr]);
    let key = if aggregates.is_empty() { "seq" } else { "grp" };
    if !aggregates.is_empty() {
        builder = builder.aggregate(vec![column("grp")], aggregates).unwrap();
    } else if !windows.is_empty() {
        builder = builder.window(windows).unwrap();
    }
    let plan = builder
        .project(vec![column(key), typed.expr.clone().alias("out")])
        .unwrap()
        .sort(vec![column(key).sort(true, false)])
        .unwrap()
        .build()
        .unwrap();
    let ctx = SessionContext::new();
    let batches = ctx
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut values = Vec::new();
    for batch in batches {
        let out = batch.column(1);
        assert_eq!(
            ColumnType::from_arrow(out.data_type()),
            Some(typed.ty),
            "{}",
            typed.expr
        );
        let options = FormatOptions::default().with_null("NULL");
        let formatter = ArrayFormatter::try_new(out.as_ref(), &options).unwrap();
        values.extend((0..batch.num_rows()).map(|row| formatter.value(row).to_string()));
    }
    values
}

fn compile_in(src: &str, scope: FormulaScope<'_>) -> TypedExpr {
    compile(src, &input(), scope).unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// Compiles `src` in `scope`, checks its type and nullability, and evaluates it.
async fn check(
    src: &str,
    scope: FormulaScope<'_>,
    ty: ColumnType,
    nullable: bool,
    expected: &[&str],
) {
    let typed = compile_in(src, scope);
    assert_eq!((typed.ty, typed.nullable), (ty, nullable), "type of {src}");
    assert_eq!(evaluate(&typed).await, expected, "values of {src}");
}

const ROW: FormulaScope<'static> = FormulaScope::Row { ordering: None };

use ColumnType::{Bool, Date, Decimal, Float, Int, String as Text, Timestamp};

/// Row-level formulas: (formula, type, nullable, values for rows 1..3).
const ROW_CASES: &[(&str, ColumnType, bool, [&str; 3])] = &[
    // Arithmetic and precedence.
    ("1 + 2 * 3", Int, false, ["7", "7", "7"]),
    ("(1 + 2) * 3", Int, false, ["9", "9", "9"]),
    ("10 - 2 - 3", Int, false, ["5", "5", "5"]),
    ("-2 * 3 + -[qty]", Int, false, ["-1506", "-16", "-13"]),
    ("7 / 2", Float, false, ["3.5", "3.5", "3.5"]),
    ("7 % 3 * 2", Int, false, ["2", "2", "2"]),
    ("[qty] / [lots]", Float, false, ["500.0", "2.5", "1.4"]),
    (
        "[price] * [qty]",
        Float,
        false,
        ["15750.0", "202.5", "-21.0"],
    ),
    (
        "[cost] * 2",
        Decimal,
        false,
        ["3.0000000000", "4.5000000000", "6.0000000000"],
    ),
    (
        "[cost] + [fee]",
        Decimal,
        true,
        ["1.6000000000", "NULL", "3.3000000000"],
    ),
    (
        "[cost] * [price]",
        Float,
        false,
        ["15.75", "45.5625", "-9.0"],
    ),
    ("[a.b] + [close price]", Float, false, ["2.0", "4.0", "6.0"]),
    ("-[price] + 1.5", Float, false, ["-9.0", "-18.75", "4.5"]),
    // Literals and string escapes.
    ("[note] = 'it''s'", Bool, true, ["true", "NULL", "false"]),
    (
        r#""say ""hi""""#,
        Text,
        false,
        [r#"say "hi""#, r#"say "hi""#, r#"say "hi""#],
    ),
    ("NULL", Text, true, ["NULL", "NULL", "NULL"]),
    ("TRUE AND NOT FALSE", Bool, false, ["true", "true", "true"]),
    // Comparisons and logic.
    (
        "[qty] >= 10 AND [price] <> 20.25",
        Bool,
        false,
        ["true", "false", "false"],
    ),
    (
        "[qty] < 10 OR [active] = FALSE",
        Bool,
        false,
        ["false", "true", "true"],
    ),
    ("NOT [qty] = 10", Bool, false, ["true", "false", "true"]),
    ("[lots] != [qty]", Bool, false, ["true", "true", "true"]),
    ("[cost] <= 2.25", Bool, false, ["true", "true", "false"]),
    (
        "[ts] > '2024-01-31'",
        Bool,
        false,
        ["true", "true", "false"],
    ),
    (
        "[day] = '2024-02-29'",
        Bool,
        false,
        ["false", "true", "false"],
    ),
    ("[day] < [ts]", Bool, false, ["true", "true", "false"]),
    ("[note] IS NULL", Bool, false, ["false", "true", "false"]),
    ("[note] IS NOT NULL", Bool, false, ["true", "false", "true"]),
    ("[symbol] > 'B'", Bool, false, ["false", "true", "true"]),
    // Math.
    ("ABS([price])", Float, false, ["10.5", "20.25", "3.0"]),
    ("ABS(-[qty])", Int, false, ["1500", "10", "7"]),
    (
        "ROUND([price] * [qty], 2)",
        Float,
        false,
        ["15750.0", "202.5", "-21.0"],
    ),
    (
        "ROUND([price] / 4, 1)",
        Float,
        false,
        ["2.6", "5.1", "-0.8"],
    ),
    ("ROUND([qty] / 4)", Float, false, ["375.0", "3.0", "2.0"]),
    ("ROUND([cost], 1)", Decimal, false, ["1.5", "2.3", "3.0"]),
    ("CEIL([price])", Float, false, ["11.0", "21.0", "-3.0"]),
    ("FLOOR([price])", Float, false, ["10.0", "20.0", "-3.0"]),
    (
        "CEIL([qty]) + FLOOR([lots])",
        Int,
        false,
        ["1503", "14", "12"],
    ),
    ("MOD([qty], 7)", Int, false, ["2", "3", "0"]),
    ("MOD([price], 2)", Float, false, ["0.5", "0.25", "-1.0"]),
    ("POWER([lots], 2)", Float, false, ["9.0", "16.0", "25.0"]),
    (
        "SQRT(POWER([lots], 2))",
        Float,
        false,
        ["3.0", "4.0", "5.0"],
    ),
    ("LOG(1)", Float, false, ["0.0", "0.0", "0.0"]),
    ("ROUND(LOG(2, 8), 9)", Float, false, ["3.0", "3.0", "3.0"]),
    // Text.
    ("UPPER([symbol])", Text, false, ["AAPL", "MSFT ", "GOOG"]),
    ("lower([symbol])", Text, false, ["aapl", "msft ", "goog"]),
    (
        "TRIM([symbol]) = 'msft'",
        Bool,
        false,
        ["false", "true", "false"],
    ),
    ("LEFT([symbol], 2)", Text, false, ["AA", "ms", "GO"]),
    ("RIGHT(TRIM([symbol]), 2)", Text, false, ["PL", "ft", "OG"]),
    ("LENGTH([symbol])", Int, false, ["4", "5", "4"]),
    (
        "CONCAT([symbol], '-', [qty], [note])",
        Text,
        false,
        ["AAPL-1500it's", "msft -10", "GOOG-7x"],
    ),
    (
        "CONCAT(NULL, [active])",
        Text,
        false,
        ["true", "false", "true"],
    ),
    (
        "REPLACE([symbol], 'A', 'a')",
        Text,
        false,
        ["aaPL", "msft ", "GOOG"],
    ),
    // Dates.
    ("YEAR([day])", Int, false, ["2024", "2024", "2023"]),
    ("MONTH([ts])", Int, false, ["1", "2", "12"]),
    ("DAY([day])", Int, false, ["31", "29", "25"]),
    ("HOUR([ts])", Int, false, ["9", "23", "0"]),
    (
        "DATE_DIFF('day', [day], '2024-03-01')",
        Int,
        false,
        ["30", "1", "67"],
    ),
    (
        "DATE_DIFF('week', '2024-01-01', [day])",
        Int,
        false,
        ["4", "8", "-1"],
    ),
    (
        "DATE_DIFF('hours', [day], [ts])",
        Int,
        false,
        ["9", "23", "0"],
    ),
    (
        "DATE_DIFF('minute', [ts], [day])",
        Int,
        false,
        ["-570", "-1439", "0"],
    ),
    (
        "DATE_DIFF('second', [day], [ts])",
        Int,
        false,
        ["34200", "86399", "0"],
    ),
    (
        "DATE_ADD('month', 1, [day])",
        Date,
        false,
        ["2024-02-29", "2024-03-29", "2024-01-25"],
    ),
    (
        "DATE_ADD('year', -1, [day])",
        Date,
        false,
        ["2023-01-31", "2023-02-28", "2022-12-25"],
    ),
    (
        "DATE_ADD('day', [lots], [day])",
        Date,
        false,
        ["2024-02-03", "2024-03-04", "2023-12-30"],
    ),
    (
        "DATE_ADD('week', 2, [ts])",
        Timestamp,
        false,
        [
            "2024-02-14T09:30:00",
            "2024-03-14T23:59:59",
            "2024-01-08T00:00:00",
        ],
    ),
    (
        "DATE_ADD('hour', 1, [day])",
        Timestamp,
        false,
        [
            "2024-01-31T01:00:00",
            "2024-02-29T01:00:00",
            "2023-12-25T01:00:00",
        ],
    ),
    (
        "DATE_ADD('minute', [lots], [ts])",
        Timestamp,
        false,
        [
            "2024-01-31T09:33:00",
            "2024-03-01T00:03:59",
            "2023-12-25T00:05:00",
        ],
    ),
    (
        "DATE_ADD('second', 30, [ts])",
        Timestamp,
        false,
        [
            "2024-01-31T09:30:30",
            "2024-03-01T00:00:29",
            "2023-12-25T00:00:30",
        ],
    ),
    (
        "NOW() > [ts] AND YEAR(NOW()) >= 2024",
        Bool,
        false,
        ["true", "true", "true"],
    ),
    // Logic.
    (
        r#"IF([qty] > 1000, "large", "small")"#,
        Text,
        false,
        ["large", "small", "small"],
    ),
    (
        "IF([qty] > 1000, 1, 2.5)",
        Float,
        false,
        ["1.0", "2.5", "2.5"],
    ),
    (
        "IF([active], NULL, [qty])",
        Int,
        true,
        ["NULL", "10", "NULL"],
    ),
    (
        "CASE WHEN [qty] > 1000 THEN 'a' WHEN [qty] < 8 THEN 'b' ELSE 'c' END",
        Text,
        false,
        ["a", "c", "b"],
    ),
    (
        "CASE [symbol] WHEN 'AAPL' THEN [cost] WHEN 'GOOG' THEN 1 END",
        Decimal,
        true,
        ["1.5000000000", "NULL", "1.0000000000"],
    ),
    (
        "CASE WHEN [day] > '2024-01-01' THEN [day] ELSE [ts] END",
        Timestamp,
        false,
        [
            "2024-01-31T00:00:00",
            "2024-02-29T00:00:00",
            "2023-12-25T00:00:00",
        ],
    ),
    (
        "COALESCE([note], 'none')",
        Text,
        false,
        ["it's", "none", "x"],
    ),
    (
        "COALESCE([fee], [qty])",
        Decimal,
        false,
        ["0.1000000000", "10.0000000000", "0.3000000000"],
    ),
    ("NULLIF([qty], 10)", Int, true, ["1500", "NULL", "7"]),
    (
        "NULLIF([symbol], 'GOOG')",
        Text,
        true,
        ["AAPL", "msft ", "NULL"],
    ),
];

#[tokio::test]
async fn row_formulas_type_check_and_evaluate() {
    for (src, ty, nullable, expected) in ROW_CASES {
        check(src, ROW, *ty, *nullable, expected).await;
    }
}

#[tokio::test]
async fn aggregates_evaluate_per_group() {
    // Groups: x = rows 1 and 2, y = row 3.
    let cases: &[(&str, ColumnType, bool, [&str; 2])] = &[
        ("SUM([qty])", Int, true, ["1510", "7"]),
        ("SUM([price])", Float, true, ["30.75", "-3.0"]),
        (
            "SUM([cost])",
            Decimal,
            true,
            ["3.7500000000", "3.0000000000"],
        ),
        ("AVG([qty])", Float, true, ["755.0", "7.0"]),
        (
            "AVG([cost])",
            Decimal,
            true,
            ["1.87500000000000", "3.00000000000000"],
        ),
        ("COUNT()", Int, false, ["2", "1"]),
        ("COUNT(*)", Int, false, ["2", "1"]),
        ("COUNT([note])", Int, false, ["1", "1"]),
        ("MIN([symbol])", Text, true, ["AAPL", "GOOG"]),
        (
            "MAX([ts])",
            Timestamp,
            true,
            ["2024-02-29T23:59:59", "2023-12-25T00:00:00"],
        ),
        ("SUM([qty]) / COUNT()", Float, true, ["755.0", "7.0"]),
    ];
    for (src, ty, nullable, expected) in cases {
        check(src, FormulaScope::Aggregate, *ty, *nullable, expected).await;
    }
}

#[tokio::test]
async fn window_functions_evaluate_over_the_window() {
    let spec = window_spec();
    let scope = FormulaScope::Window(&spec);
    let cases: &[(&str, ColumnType, bool, [&str; 3])] = &[
        ("LAG([price])", Float, true, ["NULL", "10.5", "NULL"]),
        ("LAG([price], 1, 0)", Float, true, ["0.0", "10.5", "0.0"]),
        ("LEAD([qty], 1, -1)", Int, true, ["10", "-1", "-1"]),
        (
            "LEAD([day], 1, '2000-01-01')",
            Date,
            true,
            ["2024-02-29", "2000-01-01", "2000-01-01"],
        ),
        ("LAG([qty], 0)", Int, true, ["1500", "10", "7"]),
        ("ROW_NUMBER()", Int, false, ["1", "2", "1"]),
        (
            "[price] - [price, -1]",
            Float,
            true,
            ["NULL", "9.75", "NULL"],
        ),
        ("[qty, 1]", Int, true, ["10", "NULL", "NULL"]),
        ("SUM([qty])", Int, true, ["1500", "1510", "7"]),
        ("COUNT() * 10", Int, false, ["10", "20", "10"]),
        ("[qty] - AVG([qty])", Float, true, ["0.0", "-745.0", "0.0"]),
    ];
    for (src, ty, nullable, expected) in cases {
        check(src, scope, *ty, *nullable, expected).await;
    }

    // Ties in the order: RANK leaves gaps, DENSE_RANK does not.
    let by_group = WindowSpec {
        partition_by: vec![],
        order_by: vec![SortExpr::new(column("grp"), true, false)],
        frame: None,
    };
    let scope = FormulaScope::Window(&by_group);
    check("RANK()", scope, Int, false, &["1", "1", "3"]).await;
    check("DENSE_RANK()", scope, Int, false, &["1", "1", "2"]).await;

    // An explicit frame applies to window aggregates.
    let whole_partition = WindowSpec {
        frame: Some(WindowFrame::new_bounds(
            WindowFrameUnits::Rows,
            WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
            WindowFrameBound::Following(ScalarValue::UInt64(None)),
        )),
        ..window_spec()
    };
    check(
        "SUM([qty])",
        FormulaScope::Window(&whole_partition),
        Int,
        true,
        &["1510", "1510", "7"],
    )
    .await;
}

#[tokio::test]
async fn row_offsets_use_the_input_order_in_row_scope() {
    let spec = window_spec();
    let scope = FormulaScope::Row {
        ordering: Some(&spec),
    };
    let typed = compile_in("[close price, -1]", scope);
    let Expr::WindowFunction(window) = &typed.expr else {
        panic!("expected a window function, got {}", typed.expr);
    };
    assert_eq!(window.fun.name(), "lag");
    assert_eq!(window.params.partition_by, spec.partition_by);
    assert_eq!(window.params.order_by, spec.order_by);
    assert_eq!(window.params.args[0], column("close price"));
    assert_eq!(evaluate(&typed).await, ["NULL", "1.0", "NULL"]);

    let typed = compile_in("[qty, 2]", scope);
    let Expr::WindowFunction(window) = &typed.expr else {
        panic!("expected a window function, got {}", typed.expr);
    };
    assert_eq!(window.fun.name(), "lead");
    assert_eq!(window.params.args[1], datafusion::logical_expr::lit(2i64));
}

#[test]
fn column_references_keep_dots_and_spaces_unsplit() {
    let typed = compile_in("[a.b]", ROW);
    assert_eq!(typed.expr, Expr::Column(DfColumn::new_unqualified("a.b")));
    let typed = compile_in("[ close price ]", ROW);
    assert_eq!(
        typed.expr,
        Expr::Column(DfColumn::new_unqualified("close price"))
    );
    // A case-insensitive match is accepted when it is the only one.
    let typed = compile_in("[PRICE]", ROW);
    assert_eq!(typed.expr, Expr::Column(DfColumn::new_unqualified("price")));
}

#[test]
fn compiled_formulas_unparse_to_postgres_sql() {
    let unparser = Unparser::new(&PostgreSqlDialect {});
    let spec = window_spec();
    for (src, ..) in ROW_CASES {
        let typed = compile_in(src, ROW);
        unparser
            .expr_to_sql(&typed.expr)
            .unwrap_or_else(|e| panic!("{src}: {e}"));
    }
    let sql = |src: &str, scope| {
        unparser
            .expr_to_sql(&compile_in(src, scope).expr)
            .unwrap()
            .to_string()
    };
    assert_eq!(
        sql(r#"IF([qty] > 1000, "large", "small")"#, ROW),
        r#"CASE WHEN ("qty" > 1000) THEN 'large' ELSE 'small' END"#
    );
    assert_eq!(
        sql("([price] - [cost]) / [price] * 100", ROW),
        r#"((("price" - "cost") / "price") * 100)"#
    );
    assert_eq!(
        sql("[close price, -1]", FormulaScope::Window(&spec)),
        r#"lag("close price", 1, NULL) OVER (PARTITION BY "grp" ORDER BY "seq" ASC NULLS LAST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"#
    );
}

// ---- parsing ----

#[test]
fn multiplication_binds_tighter_than_addition() {
    let expr = parse("1 + 2 * 3").unwrap();
    let ExprKind::Binary {
        op: BinaryOp::Add,
        left,
        right,
        op_span,
    } = expr.kind
    else {
        panic!("expected +, got {expr:?}");
    };
    assert_eq!(left.kind, ExprKind::Literal(Literal::Int(1)));
    assert_eq!(op_span, Span::new(2, 3));
    assert!(matches!(
        right.kind,
        ExprKind::Binary {
            op: BinaryOp::Mul,
            ..
        }
    ));
    assert_eq!(right.span, Span::new(4, 9));
    assert_eq!(expr.span, Span::new(0, 9));
}

#[test]
fn logical_operators_follow_sql_precedence() {
    // NOT binds looser than comparison, AND tighter than OR.
    let expr = parse("NOT [a] = 1 OR [b] AND [c]").unwrap();
    let ExprKind::Binary {
        op: BinaryOp::Or,
        left,
        right,
        ..
    } = expr.kind
    else {
        panic!("expected OR at the top");
    };
    let ExprKind::Unary {
        op: UnaryOp::Not,
        operand,
    } = left.kind
    else {
        panic!("expected NOT on the left");
    };
    assert!(matches!(
        operand.kind,
        ExprKind::Binary {
            op: BinaryOp::Eq,
            ..
        }
    ));
    assert!(matches!(
        right.kind,
        ExprKind::Binary {
            op: BinaryOp::And,
            ..
        }
    ));
}

#[test]
fn literals_parse_with_signs_and_escapes() {
    let literal = |src: &str| match parse(src).unwrap().kind {
        ExprKind::Literal(l) => l,
        other => panic!("{src}: {other:?}"),
    };
    assert_eq!(literal("-9223372036854775808"), Literal::Int(i64::MIN));
    assert_eq!(literal("2.50"), Literal::Float(2.5));
    assert_eq!(literal("'O''Brien'"), Literal::String("O'Brien".into()));
    assert_eq!(literal("null"), Literal::Null);
    assert_eq!(literal("(True)"), Literal::Bool(true));
    let ExprKind::Column { name, offset } = parse("[close, -1]").unwrap().kind else {
        panic!("expected a column");
    };
    assert_eq!((name.as_str(), offset), ("close", -1));
}

#[test]
fn case_parses_both_forms() {
    let ExprKind::Case {
        operand,
        branches,
        otherwise,
    } = parse("CASE [x] WHEN 1 THEN 'a' WHEN 2 THEN 'b' END")
        .unwrap()
        .kind
    else {
        panic!("expected CASE");
    };
    assert!(operand.is_some() && otherwise.is_none());
    assert_eq!(branches.len(), 2);
    let ExprKind::Case {
        operand, otherwise, ..
    } = parse("case when [x] > 1 then 'a' else 'c' end")
        .unwrap()
        .kind
    else {
        panic!("expected CASE");
    };
    assert!(operand.is_none() && otherwise.is_some());
}

// ---- errors ----

#[track_caller]
fn assert_error(err: FormulaError, position: usize, message: &str) {
    assert_eq!(err.position, position, "{err}");
    assert!(
        err.message.contains(message),
        "{err:?} does not contain {message:?}"
    );
}

#[track_caller]
fn compile_error(
    src: &str,
    scope: FormulaScope<'_>,
    position: usize,
    message: &str,
) -> FormulaError {
    let err = compile(src, &input(), scope).expect_err(src);
    assert_error(err.clone(), position, message);
    err
}

#[test]
fn syntax_errors_say_where_and_what_was_expected() {
    let err = parse("ROUND([price], 2").unwrap_err();
    assert_eq!(
        (err.position, err.expected.as_deref()),
        (16, Some("',' or ')'"))
    );
    let err = parse("1 +").unwrap_err();
    assert_eq!(
        err.to_string(),
        "at position 3: unexpected end of formula; expected an expression"
    );
    let err = parse("(1 + 2").unwrap_err();
    assert_eq!((err.position, err.expected.as_deref()), (6, Some("')'")));
    let err = parse("1 2").unwrap_err();
    assert_eq!(
        (err.position, err.message.as_str()),
        (2, "unexpected number 2")
    );
    let err = parse("1 + 2)").unwrap_err();
    assert_eq!(err.position, 5);
    assert!(err.expected.unwrap().contains("no matching '('"));
    let err = parse("IF([a] > 1, , 2)").unwrap_err();
    assert_eq!(
        (err.position, err.expected.as_deref()),
        (12, Some("an expression"))
    );
    let err = parse("[a] < [b] < [c]").unwrap_err();
    assert_error(err, 10, "comparisons cannot be chained");
    let err = parse("CASE WHEN [a] THEN 1").unwrap_err();
    assert_eq!(
        (err.position, err.expected.as_deref()),
        (20, Some("WHEN, ELSE or END"))
    );
    let err = parse("CASE END").unwrap_err();
    assert_eq!((err.position, err.expected.as_deref()), (5, Some("WHEN")));
    let err = parse("[a] IS 1").unwrap_err();
    assert_eq!((err.position, err.expected.as_deref()), (7, Some("NULL")));
    let err = parse("").unwrap_err();
    assert_eq!(
        err.to_string(),
        "at position 0: unexpected end of formula; expected an expression"
    );
    let err = parse("1 ; 2").unwrap_err();
    assert_error(err, 2, "unexpected character ';'");
}

#[test]
fn unknown_names_suggest_near_matches() {
    let err = parse("ROUDN([price])").unwrap_err();
    assert_eq!(
        err.to_string(),
        "at position 0: unknown function ROUDN (did you mean ROUND?)"
    );
    let err = parse("1 + frobnicate(2)").unwrap_err();
    assert_eq!(
        (err.position, err.message.as_str()),
        (4, "unknown function frobnicate")
    );
    let err = parse("price * 2").unwrap_err();
    assert_error(
        err,
        0,
        "column references are written in brackets, e.g. [price]",
    );

    let err = compile_error(
        "1 + [pric]",
        ROW,
        4,
        "unknown column [pric] (did you mean [price]?)",
    );
    let expected = err.expected.unwrap();
    assert!(
        expected.starts_with("one of the input columns [seq], [grp], [symbol]"),
        "{expected}"
    );
    assert!(expected.contains("[close price]"), "{expected}");
    let err = compile("[x]", &Schema::default(), ROW).unwrap_err();
    assert_eq!(
        err.expected.as_deref(),
        Some("a column, but the input has no columns")
    );
}

#[test]
fn type_errors_point_at_the_offending_operand() {
    let err = compile_error(
        "[symbol] * 2",
        ROW,
        0,
        "operator * needs numeric operands, got string and int",
    );
    assert_eq!(
        err.to_string(),
        "at position 0: operator * needs numeric operands, got string and int"
    );
    compile_error(
        "2 + [active]",
        ROW,
        4,
        "operator + needs numeric operands, got int and bool",
    );
    compile_error(
        "MOD([qty], 'a')",
        ROW,
        11,
        "MOD needs numeric operands, got int and string",
    );
    compile_error(
        "-[symbol]",
        ROW,
        1,
        "unary minus needs a number, got string",
    );
    compile_error("[symbol] > 1", ROW, 11, "cannot compare string with int");
    let err = compile_error("[day] > 'soon'", ROW, 8, "cannot compare date with string");
    assert!(err.expected.unwrap().contains("'2024-01-31'"));
    compile_error(
        "[qty] AND TRUE",
        ROW,
        0,
        "AND needs a true/false condition, got int",
    );
    compile_error(
        "NOT [symbol]",
        ROW,
        4,
        "NOT needs a true/false condition, got string",
    );
    compile_error(
        "IF([qty], 1, 2)",
        ROW,
        3,
        "IF needs a true/false condition, got int",
    );
    compile_error(
        "IF([qty] > 1, 'a', 2)",
        ROW,
        19,
        "IF branches have incompatible types: string and int",
    );
    compile_error(
        "CASE WHEN [active] THEN [day] ELSE 0 END",
        ROW,
        35,
        "CASE results have incompatible types: date and int",
    );
    compile_error(
        "CASE [qty] WHEN 'a' THEN 1 END",
        ROW,
        16,
        "cannot compare int with string",
    );
    compile_error(
        "COALESCE([note], 1)",
        ROW,
        17,
        "COALESCE arguments have incompatible types: string and int",
    );
    compile_error("UPPER([qty])", ROW, 6, "UPPER needs text, got int");
    compile_error(
        "LEFT([symbol], 'x')",
        ROW,
        15,
        "LEFT needs a whole number as argument 2, got string",
    );
    compile_error(
        "YEAR([qty])",
        ROW,
        5,
        "YEAR needs a date or timestamp, got int",
    );
    compile_error("SQRT([symbol])", ROW, 5, "SQRT needs a number, got string");
    compile_error(
        "ROUND([price], [qty])",
        ROW,
        15,
        "ROUND's digits must be a whole number",
    );
    compile_error("ABS()", ROW, 0, "ABS takes 1 argument, got 0");
    compile_error("IF(TRUE)", ROW, 0, "IF takes 3 arguments, got 1");
    compile_error(
        "ROUND(1, 2, 3)",
        ROW,
        0,
        "ROUND takes 1 or 2 arguments, got 3",
    );
    compile_error(
        "CONCAT()",
        ROW,
        0,
        "CONCAT takes at least 1 argument, got 0",
    );
    compile_error(
        "LAG()",
        FormulaScope::Window(&window_spec()),
        0,
        "LAG takes 1 to 3 arguments, got 0",
    );
    let err = compile_error(
        "DATE_DIFF('month', [day], [ts])",
        ROW,
        10,
        "DATE_DIFF needs a quoted unit as argument 1",
    );
    assert_eq!(
        err.expected.as_deref(),
        Some("one of 'second', 'minute', 'hour', 'day', 'week'")
    );
    compile_error(
        "DATE_ADD('day', 1.5, [day])",
        ROW,
        16,
        "DATE_ADD needs a whole number as argument 2, got float",
    );
    compile_error(
        "DATE_ADD('day', 99999999999, [day])",
        ROW,
        16,
        "out of range",
    );
    compile_error(
        "MIN([active])",
        FormulaScope::Aggregate,
        4,
        "MIN needs a number, text, date or timestamp, got bool",
    );
}

#[test]
fn scope_rules_name_the_node_to_use() {
    let spec = window_spec();
    let err = compile_error(
        "1 + SUM([qty])",
        ROW,
        4,
        "SUM is an aggregate: use it in a Group By node",
    );
    assert_eq!(
        err.to_string(),
        "at position 4: SUM is an aggregate: use it in a Group By node"
    );
    compile_error(
        "LAG([qty])",
        ROW,
        0,
        "LAG is a window function: use it in a Window node",
    );
    compile_error(
        "RANK()",
        FormulaScope::Aggregate,
        0,
        "RANK is a window function: use it in a Window node",
    );
    compile_error(
        "ROW_NUMBER()",
        FormulaScope::Row {
            ordering: Some(&spec),
        },
        0,
        "ROW_NUMBER is a window function",
    );
    compile_error(
        "[qty] - [qty, -1]",
        ROW,
        8,
        "row offset [qty, -1] needs an order of rows",
    );
    compile_error(
        "SUM([qty, -1])",
        FormulaScope::Aggregate,
        4,
        "needs an order of rows",
    );
    compile_error(
        "SUM(SUM([qty]))",
        FormulaScope::Aggregate,
        4,
        "SUM cannot be used inside SUM",
    );
    compile_error(
        "MAX(1 + AVG([qty]))",
        FormulaScope::Window(&spec),
        8,
        "AVG cannot be used inside MAX",
    );
    compile_error(
        "LAG(ROW_NUMBER())",
        FormulaScope::Window(&spec),
        4,
        "ROW_NUMBER cannot be used inside LAG",
    );
    compile_error(
        "SUM([qty, -1])",
        FormulaScope::Window(&spec),
        4,
        "row offset [qty, -1] cannot be used inside SUM",
    );
    compile_error(
        "LAG([qty], -1)",
        FormulaScope::Window(&spec),
        11,
        "LAG's offset must not be negative",
    );
    compile_error(
        "LEAD([qty], 1, [price])",
        FormulaScope::Window(&spec),
        15,
        "LEAD's default must be a constant",
    );
    compile_error(
        "LAG([qty], 1, 'x')",
        FormulaScope::Window(&spec),
        14,
        "LAG's default must have the value's type",
    );
    // Aggregates and window functions are fine where they belong.
    assert!(compile("SUM([qty]) + 1", &input(), FormulaScope::Aggregate).is_ok());
    assert!(compile(
        "SUM([qty]) + LAG([qty])",
        &input(),
        FormulaScope::Window(&spec)
    )
    .is_ok());
}

#[test]
fn hostile_input_is_rejected_without_overflowing_the_stack() {
    use super::parser::{MAX_DEPTH, MAX_FORMULA_CHARS};
    let nested = format!("{}1{}", "(".repeat(500), ")".repeat(500));
    assert_error(parse(&nested).unwrap_err(), MAX_DEPTH, "nested too deeply");
    let chain = format!("1{}", "+1".repeat(4_999));
    assert_error(parse(&chain).unwrap_err(), 0, "nested too deeply");
    let negations = "-".repeat(1_000) + "[qty]";
    assert_error(
        parse(&negations).unwrap_err(),
        MAX_DEPTH,
        "nested too deeply",
    );
    let long = "1".repeat(MAX_FORMULA_CHARS + 1);
    assert_error(
        parse(&long).unwrap_err(),
        MAX_FORMULA_CHARS,
        "formula is too long",
    );
    // Just inside the limit, compiling the deepest accepted tree is fine.
    let deep = format!(
        "{}[qty]{}",
        "ABS(".repeat(MAX_DEPTH - 1),
        ")".repeat(MAX_DEPTH - 1)
    );
    assert_eq!(compile_in(&deep, ROW).ty, Int);
    let deep = format!("{}[qty]", "- ".repeat(MAX_DEPTH - 1));
    assert_eq!(compile_in(&deep, ROW).ty, Int);
}

#[test]
fn catalogue_describes_every_function() {
    let catalogue = function_catalogue();
    let names: Vec<&str> = catalogue.iter().map(|f| f.name).collect();
    for name in ["ABS", "CONCAT", "DATE_DIFF", "CASE", "COUNT", "DENSE_RANK"] {
        assert!(names.contains(&name), "{name} missing from the palette");
    }
    for info in catalogue {
        assert!(["Math", "Text", "Date", "Logic", "Aggregate", "Window"].contains(&info.category));
        assert!(info.signature.starts_with(info.name), "{info:?}");
        assert!(!info.description.is_empty());
    }
}
