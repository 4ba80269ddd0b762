//! Engine benchmarks, each measured against a baseline in the same run.
//!
//! * `compile_50_node_workflow`: a realistic 50-node canvas workflow read from JSON and compiled
//!   to a DataFusion plan (and to PostgreSQL SQL), against DataFusion's own SQL planner planning
//!   the SQL text FlowForge produces for the same node.
//! * `parse_formulas`: a corpus of 30 formulas parsed and compiled by FlowForge's formula
//!   language, against sqlparser parsing the equivalent SQL expressions.
//!
//! Run with `cargo bench --bench engine`; results and the command used are in
//! `benches/RESULTS.md`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::SortExpr;
use datafusion::prelude::{col, SessionContext};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use flowforge_engine::compile::{compile_node, compile_workflow};
use flowforge_engine::dialect::{plan_to_sql, SqlDialect};
use flowforge_engine::formula::{self, FormulaScope, WindowSpec};
use flowforge_engine::serving_tables::{serving_table, serving_tables};
use flowforge_engine::tables::ServingSchemas;
use flowforge_engine::types::Schema;
use flowforge_engine::workflow::{Graph, Workflow};

/// The output node whose plan covers most of the 50-node workflow.
const FINAL_OUTPUT: &str = "out_stats";

/// Collects nodes and edges; two inputs go to the `left` and `right` ports.
#[derive(Default)]
struct WorkflowBuilder {
    nodes: Vec<Value>,
    edges: Vec<Value>,
}

impl WorkflowBuilder {
    fn add(&mut self, id: &str, node_type: &str, config: Value, inputs: &[&str]) {
        self.nodes
            .push(json!({"id": id, "type": node_type, "config": config}));
        match inputs {
            [left, right] => {
                self.edges
                    .push(json!({"source": left, "target": id, "target_port": "left"}));
                self.edges
                    .push(json!({"source": right, "target": id, "target_port": "right"}));
            }
            _ => self.edges.extend(
                inputs
                    .iter()
                    .map(|source| json!({"source": source, "target": id})),
            ),
        }
    }

    fn into_json(self) -> String {
        json!({
            "format_version": 1,
            "name": "Desk overview",
            "description": "Trades, quotes and instruments: big trades, sector and hourly views, price tape and cost estimate.",
            "nodes": self.nodes,
            "edges": self.edges,
        })
        .to_string()
    }
}

fn by_symbol_in_time() -> (Value, Value) {
    (json!(["symbol"]), json!([{"column": "event_time"}]))
}

/// A desk-overview workflow over `fct_trades`, `fct_quotes` and `dim_instruments`: 3 sources,
/// 4 filters, 10 formulas, 4 selects, 2 renames, 5 sorts, 3 joins, 1 union, 5 group-bys,
/// 4 windows, 3 limits and 6 outputs.
fn desk_workflow() -> String {
    let (partition, order) = by_symbol_in_time();
    let mut w = WorkflowBuilder::default();
    w.add("trades", "data_source", json!({"table": "fct_trades"}), &[]);
    w.add("quotes", "data_source", json!({"table": "fct_quotes"}), &[]);
    w.add(
        "instruments",
        "data_source",
        json!({"table": "dim_instruments"}),
        &[],
    );

    // Trades: filter, enrich, join reference data.
    w.add(
        "trades_2024",
        "filter",
        json!({"logic": "and", "conditions": [
            {"column": "event_time", "operator": "after", "value": "2024-01-01T00:00:00"},
            {"column": "quantity", "operator": "gt", "value": 0},
        ]}),
        &["trades"],
    );
    w.add(
        "trades_venue",
        "filter",
        json!({"logic": "or", "conditions": [
            {"column": "exchange", "operator": "in", "values": ["NASDAQ", "NYSE", "ARCA"]},
            {"logic": "and", "conditions": [
                {"column": "side", "operator": "eq", "value": "BUY"},
                {"column": "price", "operator": "between", "values": [10, 1000]},
            ]},
        ]}),
        &["trades_2024"],
    );
    w.add(
        "notional",
        "formula",
        json!({"column": "notional", "expression": "[price] * [quantity]"}),
        &["trades_venue"],
    );
    w.add(
        "signed_qty",
        "formula",
        json!({"column": "signed_qty", "expression": "IF([side] = 'BUY', [quantity], -[quantity])"}),
        &["notional"],
    );
    w.add(
        "trade_hour",
        "formula",
        json!({"column": "trade_hour", "expression": "HOUR([event_time])"}),
        &["signed_qty"],
    );
    w.add(
        "price_change",
        "formula",
        json!({"column": "price_change", "expression": "[price] - [price, -1]",
               "partition_by": partition, "order_by": order}),
        &["trade_hour"],
    );
    w.add(
        "trade_seq",
        "window",
        json!({"column": "seq", "function": "row_number",
               "partition_by": partition, "order_by": order}),
        &["price_change"],
    );
    w.add(
        "prev_qty",
        "window",
        json!({"column": "prev_qty", "function": "lag", "input": "quantity", "offset": 1,
               "partition_by": partition, "order_by": order}),
        &["trade_seq"],
    );
    w.add(
        "with_sector",
        "join",
        json!({"join_type": "left", "on": [{"left": "symbol", "right": "symbol"}]}),
        &["prev_qty", "instruments"],
    );
    w.add(
        "trade_cols",
        "select",
        json!({"columns": ["symbol", "sector", "currency", "event_time", "trade_hour", "side",
                           "price", "quantity", "signed_qty", "notional", "price_change", "seq",
                           "prev_qty"]}),
        &["with_sector"],
    );
    w.add(
        "trade_renamed",
        "rename",
        json!({"renames": [{"from": "notional", "to": "trade_notional"},
                           {"from": "price_change", "to": "px_change"}]}),
        &["trade_cols"],
    );

    // Big trades table.
    w.add(
        "big_trades",
        "filter",
        json!({"conditions": [{"column": "trade_notional", "operator": "gt", "value": 100000}]}),
        &["trade_renamed"],
    );
    w.add(
        "big_sorted",
        "sort",
        json!({"keys": [{"column": "trade_notional", "direction": "desc"},
                        {"column": "event_time"}]}),
        &["big_trades"],
    );
    w.add("big_top", "limit", json!({"limit": 100}), &["big_sorted"]);
    w.add(
        "out_big_trades",
        "table_view",
        json!({"title": "Largest trades", "page_size": 50}),
        &["big_top"],
    );

    // Sector view.
    w.add(
        "by_sector",
        "group_by",
        json!({"group_by": ["sector"], "aggregations": [
            {"column": "trade_notional", "function": "sum", "alias": "notional"},
            {"function": "count", "alias": "trades"},
            {"column": "price", "function": "avg", "alias": "avg_price"},
        ]}),
        &["trade_renamed"],
    );
    w.add(
        "sector_rank",
        "window",
        json!({"column": "sector_rank", "function": "rank",
               "order_by": [{"column": "notional", "direction": "desc"}]}),
        &["by_sector"],
    );
    w.add(
        "sector_sorted",
        "sort",
        json!({"keys": [{"column": "sector_rank"}]}),
        &["sector_rank"],
    );
    w.add(
        "out_sector_bar",
        "bar_chart",
        json!({"x": "sector", "y": ["notional"], "title": "Notional by sector"}),
        &["sector_sorted"],
    );
    w.add(
        "out_sector_kpi",
        "kpi_card",
        json!({"metric": "notional", "aggregation": "sum", "label": "Notional",
               "warning_threshold": 1e9}),
        &["by_sector"],
    );

    // Hourly VWAP line.
    w.add(
        "hourly",
        "group_by",
        json!({"group_by": ["symbol", "trade_hour"], "aggregations": [
            {"column": "trade_notional", "function": "sum", "alias": "notional"},
            {"column": "quantity", "function": "sum", "alias": "volume"},
        ]}),
        &["trade_renamed"],
    );
    w.add(
        "vwap",
        "formula",
        json!({"column": "vwap", "expression": "[notional] / [volume]"}),
        &["hourly"],
    );
    w.add(
        "hourly_sorted",
        "sort",
        json!({"keys": [{"column": "symbol"}, {"column": "trade_hour"}]}),
        &["vwap"],
    );
    w.add(
        "out_vwap_line",
        "line_chart",
        json!({"x": "trade_hour", "y": ["vwap"], "color": "symbol"}),
        &["hourly_sorted"],
    );

    // Quotes: spread, mid, moving average, per-symbol summary.
    w.add(
        "spread",
        "formula",
        json!({"column": "spread", "expression": "[ask] - [bid]"}),
        &["quotes"],
    );
    w.add(
        "mid",
        "formula",
        json!({"column": "mid", "expression": "([ask] + [bid]) / 2"}),
        &["spread"],
    );
    w.add(
        "quotes_valid",
        "filter",
        json!({"conditions": [
            {"column": "spread", "operator": "gte", "value": 0},
            {"column": "mid", "operator": "gt", "value": 0},
        ]}),
        &["mid"],
    );
    w.add(
        "spread_bps",
        "formula",
        json!({"column": "spread_bps", "expression": "[spread] / [mid] * 10000"}),
        &["quotes_valid"],
    );
    w.add(
        "mid_ma5",
        "window",
        json!({"column": "mid_ma5", "function": "avg", "input": "mid",
               "partition_by": partition, "order_by": order,
               "frame": {"unit": "rows", "start": {"preceding": 4}, "end": "current_row"}}),
        &["spread_bps"],
    );
    w.add(
        "quote_cols",
        "select",
        json!({"columns": ["symbol", "event_time", "mid", "mid_ma5", "spread_bps"]}),
        &["mid_ma5"],
    );
    w.add(
        "quotes_by_symbol",
        "group_by",
        json!({"group_by": ["symbol"], "aggregations": [
            {"column": "spread_bps", "function": "avg", "alias": "avg_spread_bps"},
            {"column": "mid", "function": "max", "alias": "max_mid"},
        ]}),
        &["quote_cols"],
    );

    // Price tape: trades and quote mids in one table.
    w.add(
        "trade_px",
        "select",
        json!({"columns": ["symbol", "event_time", "price"]}),
        &["trades_2024"],
    );
    w.add(
        "quote_px",
        "select",
        json!({"columns": ["symbol", "event_time", "mid"]}),
        &["quote_cols"],
    );
    w.add(
        "all_px",
        "union",
        json!({"mapping": [{"left": "price", "right": "mid"}]}),
        &["trade_px", "quote_px"],
    );
    w.add(
        "px_sorted",
        "sort",
        json!({"keys": [{"column": "symbol"}, {"column": "event_time"}]}),
        &["all_px"],
    );
    w.add(
        "px_limited",
        "limit",
        json!({"limit": 1000}),
        &["px_sorted"],
    );
    w.add("out_prices", "table_view", json!({}), &["px_limited"]);

    // Cost estimate per symbol: trades, quotes and the price tape joined.
    w.add(
        "symbol_stats",
        "group_by",
        json!({"group_by": ["symbol"], "aggregations": [
            {"column": "trade_notional", "function": "sum", "alias": "notional"},
            {"column": "signed_qty", "function": "sum", "alias": "net_qty"},
            {"function": "count", "alias": "trades"},
        ]}),
        &["trade_renamed"],
    );
    w.add(
        "stats_quotes",
        "join",
        json!({"on": [{"left": "symbol", "right": "symbol"}]}),
        &["symbol_stats", "quotes_by_symbol"],
    );
    w.add(
        "cost_est",
        "formula",
        json!({"column": "cost_estimate", "expression": "[avg_spread_bps] * [notional] / 10000"}),
        &["stats_quotes"],
    );
    w.add(
        "px_counts",
        "group_by",
        json!({"group_by": ["symbol"], "aggregations": [{"function": "count", "alias": "px_points"}]}),
        &["all_px"],
    );
    w.add(
        "stats_px",
        "join",
        json!({"join_type": "left", "on": [{"left": "symbol", "right": "symbol"}]}),
        &["cost_est", "px_counts"],
    );
    w.add(
        "stats_flagged",
        "formula",
        json!({"column": "flag", "expression": "IF([cost_estimate] > 1000, 'review', 'ok')"}),
        &["stats_px"],
    );
    w.add(
        "stats_renamed",
        "rename",
        json!({"renames": [{"from": "cost_estimate", "to": "est_cost"}]}),
        &["stats_flagged"],
    );
    w.add(
        "stats_sorted",
        "sort",
        json!({"keys": [{"column": "est_cost", "direction": "desc"}]}),
        &["stats_renamed"],
    );
    w.add(
        "stats_top",
        "limit",
        json!({"limit": 20}),
        &["stats_sorted"],
    );
    w.add(
        FINAL_OUTPUT,
        "table_view",
        json!({"title": "Estimated spread cost"}),
        &["stats_top"],
    );
    w.into_json()
}

/// FlowForge's path from saved JSON to the final output node's plan.
fn flowforge_plan(text: &str) -> datafusion::logical_expr::LogicalPlan {
    let workflow = Workflow::from_json(text).expect("the bench workflow reads");
    compile_node(&workflow, FINAL_OUTPUT, &ServingSchemas).expect("the final output compiles")
}

/// A session with every serving table registered as an empty in-memory table.
fn baseline_context() -> SessionContext {
    let ctx = SessionContext::new();
    for table in serving_tables() {
        let provider = MemTable::try_new(Arc::clone(&table.schema), vec![vec![]])
            .expect("an empty table of a serving schema");
        ctx.register_table(table.name, Arc::new(provider))
            .expect("serving table names are unique");
    }
    ctx
}

fn compile_50_node_workflow(c: &mut Criterion) {
    let text = desk_workflow();
    let workflow = Workflow::from_json(&text).expect("the bench workflow reads");
    assert_eq!(workflow.nodes.len(), 50, "the bench workflow has 50 nodes");
    let compiled = compile_workflow(&workflow, &ServingSchemas);
    assert!(
        compiled.issues.is_empty(),
        "the bench workflow must compile cleanly: {:#?}",
        compiled.issues
    );
    assert_eq!(compiled.plans.len(), 50, "every node compiles");
    let upstream = Graph::new(&workflow)
        .expect("the bench workflow is a valid graph")
        .ancestors(FINAL_OUTPUT)
        .len();

    let sql = plan_to_sql(&flowforge_plan(&text), SqlDialect::Postgres).expect("unparses");
    let runtime = Runtime::new().expect("a tokio runtime");
    let ctx = baseline_context();
    let state = ctx.state();
    let baseline = runtime
        .block_on(state.create_logical_plan(&sql))
        .unwrap_or_else(|e| panic!("DataFusion plans FlowForge's SQL: {e}\n{sql}"));
    assert_eq!(
        Schema::from_df(baseline.schema()).ok(),
        Schema::from_df(flowforge_plan(&text).schema()).ok(),
        "the SQL baseline plans the same columns"
    );
    println!(
        "compile_50_node_workflow: '{FINAL_OUTPUT}' has {upstream} upstream nodes; its PostgreSQL SQL is {} characters",
        sql.len()
    );
    if std::env::var_os("FLOWFORGE_BENCH_PRINT_SQL").is_some() {
        println!("{sql}");
    }

    let mut group = c.benchmark_group("compile_50_node_workflow");
    group.bench_function("flowforge_from_json_compile_node", |b| {
        b.iter(|| flowforge_plan(black_box(&text)))
    });
    group.bench_function("flowforge_compile_plan_to_sql", |b| {
        b.iter(|| {
            plan_to_sql(&flowforge_plan(black_box(&text)), SqlDialect::Postgres).expect("unparses")
        })
    });
    group.bench_function("flowforge_compile_workflow_all_nodes", |b| {
        b.iter(|| {
            let workflow = Workflow::from_json(black_box(&text)).expect("reads");
            compile_workflow(&workflow, &ServingSchemas)
        })
    });
    group.bench_function("baseline_datafusion_sql_create_logical_plan", |b| {
        b.iter(|| {
            runtime
                .block_on(state.create_logical_plan(black_box(&sql)))
                .expect("plans")
        })
    });
    group.finish();
}

/// A formula, the equivalent SQL expression, and whether it uses row offsets (and so needs an
/// ordering of rows).
const FORMULAS: [(&str, &str, bool); 30] = [
    ("[price] * [quantity]", "price * quantity", false),
    (
        "[price] * [quantity] / 1000",
        "price * quantity / 1000",
        false,
    ),
    (
        "ROUND([price] * 1.0025, 2)",
        "ROUND(price * 1.0025, 2)",
        false,
    ),
    ("ABS([price] - 100) / 100", "ABS(price - 100) / 100", false),
    (
        "IF([quantity] > 1000, 'large', 'small')",
        "CASE WHEN quantity > 1000 THEN 'large' ELSE 'small' END",
        false,
    ),
    (
        "IF([side] = 'BUY', [quantity], -[quantity])",
        "CASE WHEN side = 'BUY' THEN quantity ELSE -quantity END",
        false,
    ),
    (
        "CASE WHEN [quantity] >= 10000 THEN 'block' WHEN [quantity] >= 1000 THEN 'large' ELSE 'retail' END",
        "CASE WHEN quantity >= 10000 THEN 'block' WHEN quantity >= 1000 THEN 'large' ELSE 'retail' END",
        false,
    ),
    (
        "CASE [exchange] WHEN 'NASDAQ' THEN 1 WHEN 'NYSE' THEN 2 ELSE 0 END",
        "CASE exchange WHEN 'NASDAQ' THEN 1 WHEN 'NYSE' THEN 2 ELSE 0 END",
        false,
    ),
    ("UPPER(TRIM([symbol]))", "UPPER(TRIM(symbol))", false),
    (
        "CONCAT([symbol], '@', [exchange])",
        "CONCAT(symbol, '@', exchange)",
        false,
    ),
    ("LEFT([symbol], 2)", "LEFT(symbol, 2)", false),
    (
        "LENGTH([symbol]) + LENGTH([exchange])",
        "LENGTH(symbol) + LENGTH(exchange)",
        false,
    ),
    (
        "REPLACE([exchange], 'NASDAQ', 'NQ')",
        "REPLACE(exchange, 'NASDAQ', 'NQ')",
        false,
    ),
    ("YEAR([event_time])", "EXTRACT(YEAR FROM event_time)", false),
    (
        "MONTH([event_time]) * 100 + DAY([event_time])",
        "EXTRACT(MONTH FROM event_time) * 100 + EXTRACT(DAY FROM event_time)",
        false,
    ),
    (
        "HOUR([event_time]) >= 9 AND HOUR([event_time]) < 16",
        "EXTRACT(HOUR FROM event_time) >= 9 AND EXTRACT(HOUR FROM event_time) < 16",
        false,
    ),
    (
        "DATE_DIFF('day', [event_time], NOW())",
        "EXTRACT(DAY FROM NOW() - event_time)",
        false,
    ),
    (
        "DATE_ADD('day', 1, [event_time])",
        "event_time + INTERVAL '1 day'",
        false,
    ),
    (
        "DATE_ADD('month', -1, [event_time]) < NOW()",
        "event_time - INTERVAL '1 month' < NOW()",
        false,
    ),
    (
        "COALESCE(NULLIF([exchange], ''), 'UNKNOWN')",
        "COALESCE(NULLIF(exchange, ''), 'UNKNOWN')",
        false,
    ),
    (
        "POWER([price], 2) + SQRT([quantity])",
        "POWER(price, 2) + SQRT(quantity)",
        false,
    ),
    (
        "LOG(10, [quantity]) * FLOOR([price])",
        "LOG(10, quantity) * FLOOR(price)",
        false,
    ),
    ("MOD([trade_id], 10) = 0", "MOD(trade_id, 10) = 0", false),
    (
        "NOT ([side] = 'SELL') OR [price] IS NULL",
        "NOT (side = 'SELL') OR price IS NULL",
        false,
    ),
    ("CEIL([price] / 5) * 5", "CEIL(price / 5) * 5", false),
    (
        "IF(LOWER([side]) = 'buy' AND [price] > 0, ROUND([price] * [quantity], 2), 0)",
        "CASE WHEN LOWER(side) = 'buy' AND price > 0 THEN ROUND(price * quantity, 2) ELSE 0 END",
        false,
    ),
    (
        "[price] - [price, -1]",
        "price - LAG(price, 1) OVER (PARTITION BY symbol ORDER BY event_time)",
        true,
    ),
    (
        "([price] - [price, -1]) / [price, -1] * 100",
        "(price - LAG(price, 1) OVER (PARTITION BY symbol ORDER BY event_time)) / LAG(price, 1) OVER (PARTITION BY symbol ORDER BY event_time) * 100",
        true,
    ),
    (
        "[price, 1] - [price]",
        "LEAD(price, 1) OVER (PARTITION BY symbol ORDER BY event_time) - price",
        true,
    ),
    (
        "IF([price] > [price, -1], 'up', IF([price] < [price, -1], 'down', 'flat'))",
        "CASE WHEN price > LAG(price, 1) OVER (PARTITION BY symbol ORDER BY event_time) THEN 'up' WHEN price < LAG(price, 1) OVER (PARTITION BY symbol ORDER BY event_time) THEN 'down' ELSE 'flat' END",
        true,
    ),
];

fn sql_parse(sql: &str) -> datafusion::sql::sqlparser::ast::Expr {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr())
        .unwrap_or_else(|e| panic!("sqlparser parses {sql}: {e}"))
}

fn parse_formulas(c: &mut Criterion) {
    let trades = serving_table("fct_trades").expect("fct_trades is a serving table");
    let schema = Schema::from_arrow(&trades.schema).expect("fct_trades has workflow types");
    let ordering = WindowSpec {
        partition_by: vec![col("symbol")],
        order_by: vec![SortExpr::new(col("event_time"), true, false)],
        frame: None,
    };
    let scope = |offsets: bool| FormulaScope::Row {
        ordering: offsets.then_some(&ordering),
    };
    for (text, sql, offsets) in FORMULAS {
        formula::compile(text, &schema, scope(offsets))
            .unwrap_or_else(|e| panic!("the corpus formula {text} compiles: {e}"));
        sql_parse(sql);
    }

    let mut group = c.benchmark_group("parse_formulas");
    group.bench_function("flowforge_parse_30", |b| {
        b.iter(|| {
            for (text, _, _) in FORMULAS {
                black_box(formula::parse(black_box(text)).expect("parses"));
            }
        })
    });
    group.bench_function("flowforge_compile_30", |b| {
        b.iter(|| {
            for (text, _, offsets) in FORMULAS {
                black_box(
                    formula::compile(black_box(text), &schema, scope(offsets)).expect("compiles"),
                );
            }
        })
    });
    group.bench_function("baseline_sqlparser_parse_expr_30", |b| {
        b.iter(|| {
            for (_, sql, _) in FORMULAS {
                black_box(sql_parse(black_box(sql)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, compile_50_node_workflow, parse_formulas);
criterion_main!(benches);
