//! The SQL shape of compiled workflows: merged into as few SELECTs as the semantics allow.

use super::compile_node;
use crate::dialect::{plan_to_sql, SqlDialect};
use crate::tables::ServingSchemas;
use crate::workflow::Workflow;

fn fixture_sql(name: &str, node: &str, dialect: SqlDialect) -> String {
    let path = format!(
        "{}/../tests/fixtures/schema/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let value: serde_json::Value = serde_json::from_str(&text).expect("json");
    let workflow = Workflow::from_value(value["workflow"].clone()).expect("workflow");
    let plan = compile_node(&workflow, node, &ServingSchemas).expect("compile");
    plan_to_sql(&plan, dialect).expect("sql")
}

#[test]
fn linear_chains_are_one_flat_select() {
    for (name, node) in [
        ("linear_chain_5_nodes", "out"),
        ("linear_chain_6_nodes_with_limit", "out"),
    ] {
        let sql = fixture_sql(name, node, SqlDialect::Postgres);
        assert_eq!(sql.matches("SELECT").count(), 1, "{sql}");
        assert!(sql.contains("WHERE") && sql.contains("ORDER BY"), "{sql}");
    }
    let sql = fixture_sql(
        "linear_chain_6_nodes_with_limit",
        "out",
        SqlDialect::Postgres,
    );
    assert!(sql.ends_with("LIMIT 25 OFFSET 5"), "{sql}");
}

#[test]
fn clickhouse_sql_uses_clickhouse_names_and_casts() {
    let sql = fixture_sql(
        "linear_chain_6_nodes_with_limit",
        "out",
        SqlDialect::ClickHouse,
    );
    assert!(
        sql.contains("`fct_trades`") && sql.contains("LIMIT 25 OFFSET 5") && !sql.contains("::"),
        "{sql}"
    );
    let sql = fixture_sql("group_by_every_aggregation", "g", SqlDialect::ClickHouse);
    assert!(
        sql.contains("uniqExact(") && !sql.to_lowercase().contains("count(distinct"),
        "{sql}"
    );
    let sql = fixture_sql(
        "formula_row_offset_previous_close",
        "f",
        SqlDialect::ClickHouse,
    );
    assert!(
        sql.contains("lagInFrame(") && sql.contains("UNBOUNDED FOLLOWING"),
        "{sql}"
    );
    let sql = fixture_sql("complex_filter_after_window", "out", SqlDialect::ClickHouse);
    assert!(
        !sql.contains("QUALIFY") && sql.contains("WHERE (`derived_1`.`rank_in_day` <= 3)"),
        "{sql}"
    );
    let sql = fixture_sql("filter_type_aware_operators", "f", SqlDialect::ClickHouse);
    assert!(
        sql.contains("position(") && sql.contains("DateTime64(6)"),
        "{sql}"
    );
}

/// Prints the SQL of representative fixtures (`cargo test show_sql -- --nocapture`).
#[test]
fn show_sql_for_review() {
    for (name, node) in [
        ("linear_chain_5_nodes", "out"),
        ("complex_dag_join_group_by_bar", "out"),
        ("window_row_number_lag_moving_average", "out"),
        ("complex_filter_after_window", "out"),
        ("formula_arithmetic_if_and_replace", "out"),
        ("sample_percent", "out"),
        ("pivot_side_by_symbol", "out"),
        ("union_distinct_casts_and_nulls", "out"),
        ("unique_column_subset", "out"),
        ("join_full", "out"),
    ] {
        for d in [SqlDialect::Postgres, SqlDialect::ClickHouse] {
            println!("--- {name} ({d})\n{}", fixture_sql(name, node, d));
        }
    }
}
