//! Property tests: no input makes the parser or compiler panic, and whatever compiles has the
//! type DataFusion infers.

use datafusion::common::DFSchema;
use datafusion::logical_expr::ExprSchemable;
use proptest::prelude::*;

use super::tests::{arrow_schema, input, window_spec};
use super::*;

/// Fragments of the grammar, glued together with spaces to make plausible and implausible
/// formulas alike.
const TOKENS: &[&str] = &[
    "[qty]",
    "[price]",
    "[cost]",
    "[fee]",
    "[symbol]",
    "[note]",
    "[active]",
    "[day]",
    "[ts]",
    "[close price]",
    "[a.b]",
    "[lots]",
    "[qty, -1]",
    "[price, 2]",
    "[nope]",
    "[",
    "]",
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "AND",
    "OR",
    "NOT",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "0",
    "1",
    "-1",
    "2.5",
    "9223372036854775807",
    "'a'",
    "'2024-01-31'",
    "\"x\"",
    "'day'",
    "'month'",
    "'week'",
    "ABS(",
    "ROUND(",
    "CEIL(",
    "FLOOR(",
    "MOD(",
    "POWER(",
    "SQRT(",
    "LOG(",
    "UPPER(",
    "LOWER(",
    "TRIM(",
    "LEFT(",
    "RIGHT(",
    "LENGTH(",
    "CONCAT(",
    "REPLACE(",
    "YEAR(",
    "MONTH(",
    "DAY(",
    "HOUR(",
    "DATE_DIFF(",
    "DATE_ADD(",
    "NOW(",
    "IF(",
    "COALESCE(",
    "NULLIF(",
    "SUM(",
    "AVG(",
    "COUNT(",
    "MIN(",
    "MAX(",
    "LAG(",
    "LEAD(",
    "ROW_NUMBER(",
    "RANK(",
    "DENSE_RANK(",
    "*)",
    "FOO(",
];

/// Compiles `src` in every scope; when it compiles, the declared type must be DataFusion's.
fn compile_everywhere(src: &str) -> Result<(), TestCaseError> {
    let _ = parse(src);
    let schema = input();
    let df_schema = DFSchema::try_from(arrow_schema().as_ref().clone()).unwrap();
    let spec = window_spec();
    let scopes = [
        FormulaScope::Row { ordering: None },
        FormulaScope::Row {
            ordering: Some(&spec),
        },
        FormulaScope::Aggregate,
        FormulaScope::Window(&spec),
    ];
    for scope in scopes {
        if let Ok(typed) = compile(src, &schema, scope) {
            let inferred = typed.expr.get_type(&df_schema);
            prop_assert!(inferred.is_ok(), "{src}: {:?}", inferred);
            let inferred = inferred.unwrap();
            prop_assert_eq!(
                ColumnType::from_arrow(&inferred),
                Some(typed.ty),
                "{} -> {}",
                src,
                typed.expr
            );
        }
    }
    Ok(())
}

/// Syntactically valid formulas of random shape over the test columns, so that many of them also
/// type-check and the type property is exercised, not just the error paths.
fn well_formed() -> impl Strategy<Value = String> {
    const LEAVES: &[&str] = &[
        "[qty]",
        "[price]",
        "[cost]",
        "[fee]",
        "[lots]",
        "[symbol]",
        "[note]",
        "[active]",
        "[day]",
        "[ts]",
        "[qty, -1]",
        "1",
        "-3",
        "2.5",
        "'a'",
        "'2024-01-31'",
        "TRUE",
        "NULL",
        "'day'",
    ];
    const OPERATORS: &[&str] = &["+", "-", "*", "/", "%", "=", "<>", "<", ">=", "AND", "OR"];
    let leaf = prop::sample::select(LEAVES).prop_map(str::to_string);
    leaf.prop_recursive(4, 48, 3, |inner| {
        let names = Function::ALL.map(Function::name);
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(OPERATORS),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("NOT ({a})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("({a}) IS NULL")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            (
                prop::sample::select(names.to_vec()),
                prop::collection::vec(inner, 0..4)
            )
                .prop_map(|(name, args)| format!("{name}({})", args.join(", "))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        compile_everywhere(&src)?;
    }

    #[test]
    fn strings_of_formula_characters_never_panic(src in "[\\[\\]()',\"a-z0-9 +*/%<>=!.-]{0,40}") {
        compile_everywhere(&src)?;
    }

    #[test]
    fn well_formed_formulas_compile_to_their_declared_type(src in well_formed()) {
        compile_everywhere(&src)?;
    }

    #[test]
    fn token_sequences_never_panic(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..24)) {
        compile_everywhere(&tokens.join(" "))?;
    }
}
