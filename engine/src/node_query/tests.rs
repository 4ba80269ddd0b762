//! Node queries over a small in-memory market, and the preview key's invariants.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use serde_json::{json, Value};

use super::*;
use crate::serving_tables::serving_table;
use crate::session::{Role, Tenant};

/// (symbol, price, quantity) of each trade; trade ids are 1.., event times one second apart.
const TRADES: &[(&str, f64, i64)] = &[
    ("AAPL", 190.5, 100),
    ("AAPL", 191.0, 50),
    ("MSFT", 410.25, 10),
    ("TSLA", 250.0, 70),
    ("MSFT", 411.0, 30),
    ("JPM", 150.0, 5),
];
const BASE_MICROS: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z

fn trades_table() -> Arc<dyn TableProvider> {
    let schema = serving_table("fct_trades").unwrap().schema;
    let n = TRADES.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=n as i64)),
        Arc::new(StringArray::from_iter_values(TRADES.iter().map(|t| t.0))),
        Arc::new(Float64Array::from_iter_values(TRADES.iter().map(|t| t.1))),
        Arc::new(Int64Array::from_iter_values(TRADES.iter().map(|t| t.2))),
        Arc::new(StringArray::from_iter_values((0..n).map(|_| "BUY"))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            (0..n as i64).map(|i| BASE_MICROS + i * 1_000_000),
        )),
        Arc::new(StringArray::from_iter_values((0..n).map(|_| "XNAS"))),
    ];
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

/// A viewer session entitled to AAPL, MSFT and JPM (not TSLA).
fn session() -> TenantSession {
    let trades = trades_table();
    let tenant = Tenant {
        id: "tenant-a".into(),
        slug: "a".into(),
        role: Role::Viewer,
        user: "viewer@a.test".into(),
        entitlements: vec!["AAPL".into(), "MSFT".into(), "JPM".into()],
    };
    TenantSession::new(tenant, &|name| {
        (name == "fct_trades").then(|| Arc::clone(&trades))
    })
    .unwrap()
}

/// Trades that take a minute to arrive.
#[derive(Debug)]
struct SlowTrades;

impl PartitionStream for SlowTrades {
    fn schema(&self) -> &SchemaRef {
        static SCHEMA: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
        SCHEMA.get_or_init(|| serving_table("fct_trades").unwrap().schema)
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = Arc::clone(self.schema());
        let never = futures::stream::once(async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Err(datafusion::error::DataFusionError::Execution(
                "too late".into(),
            ))
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, never))
    }
}

fn slow_session() -> TenantSession {
    let schema = serving_table("fct_trades").unwrap().schema;
    let slow: Arc<dyn TableProvider> =
        Arc::new(StreamingTable::try_new(schema, vec![Arc::new(SlowTrades)]).unwrap());
    let tenant = Tenant {
        id: "tenant-a".into(),
        slug: "a".into(),
        role: Role::Viewer,
        user: "viewer@a.test".into(),
        entitlements: vec!["AAPL".into()],
    };
    TenantSession::new(tenant, &|name| {
        (name == "fct_trades").then(|| Arc::clone(&slow))
    })
    .unwrap()
}

fn definition() -> Value {
    json!({
        "format_version": 1,
        "name": "Trades",
        "nodes": [
            {"id": "trades", "type": "data_source", "config": {"table": "fct_trades",
                "columns": ["trade_id", "symbol", "price", "quantity", "event_time"]},
             "position": {"x": 0, "y": 0}},
            {"id": "sorted", "type": "sort", "config": {"keys": [{"column": "trade_id"}]},
             "position": {"x": 200, "y": 0}},
            {"id": "table", "type": "table_view", "config": {"title": "All trades"},
             "position": {"x": 400, "y": 0}},
            {"id": "by_symbol", "type": "group_by", "config": {"group_by": ["symbol"],
                "aggregations": [{"function": "count", "alias": "trades"}]},
             "position": {"x": 200, "y": 200}}
        ],
        "edges": [
            {"source": "trades", "target": "sorted"},
            {"source": "sorted", "target": "table"},
            {"source": "trades", "target": "by_symbol"}
        ]
    })
}

fn workflow() -> Workflow {
    Workflow::from_value(definition()).unwrap()
}

fn query<'a>(workflow: &'a Workflow, node: &'a str) -> NodeQuery<'a> {
    NodeQuery {
        workflow,
        node_id: node,
        filters: Vec::new(),
        offset: 0,
        limit: None,
    }
}

async fn run(query: &NodeQuery<'_>) -> Result<NodeResult, NodeQueryError> {
    run_node_query(&session(), query, &QueryLimits::default()).await
}

fn column(result: &NodeResult, name: &str) -> Vec<Value> {
    let index = result.columns.iter().position(|c| c.name == name).unwrap();
    result.rows.iter().map(|r| r[index].clone()).collect()
}

#[tokio::test]
async fn rows_are_json_and_only_entitled_symbols() {
    let wf = workflow();
    let result = run(&query(&wf, "table")).await.unwrap();
    let names: Vec<(&str, &str)> = result
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.pg_type.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("trade_id", "int8"),
            ("symbol", "text"),
            ("price", "float8"),
            ("quantity", "int8"),
            ("event_time", "timestamp")
        ]
    );
    assert_eq!(
        column(&result, "symbol"),
        [
            json!("AAPL"),
            json!("AAPL"),
            json!("MSFT"),
            json!("MSFT"),
            json!("JPM")
        ],
        "TSLA is not entitled"
    );
    assert_eq!(result.rows[0][2], json!(190.5));
    assert_eq!(result.rows[0][4], json!("2024-01-01T00:00:00Z"));
    assert!(!result.truncated);
}

#[tokio::test]
async fn values_and_range_filters_narrow_the_output() {
    let wf = workflow();
    let mut q = query(&wf, "table");
    q.filters = vec![
        NodeFilter::Values {
            column: "symbol".into(),
            values: vec![json!("MSFT"), json!("AAPL")],
        },
        NodeFilter::Range {
            column: "event_time".into(),
            gte: Some(json!("2024-01-01T00:00:01Z")),
            lte: Some(json!("2024-01-01T00:00:04Z")),
        },
    ];
    let result = run(&q).await.unwrap();
    assert_eq!(column(&result, "trade_id"), [json!(2), json!(3), json!(5)]);

    q.filters = vec![NodeFilter::Range {
        column: "price".into(),
        gte: Some(json!(400)),
        lte: None,
    }];
    let result = run(&q).await.unwrap();
    assert_eq!(column(&result, "trade_id"), [json!(3), json!(5)]);

    q.filters = vec![NodeFilter::Values {
        column: "symbol".into(),
        values: Vec::new(),
    }];
    let result = run(&q).await.unwrap();
    assert!(result.rows.is_empty(), "an empty list matches nothing");
}

#[tokio::test]
async fn unknown_filter_column_and_bad_values_are_typed_errors() {
    let wf = workflow();
    let mut q = query(&wf, "by_symbol");
    q.filters = vec![NodeFilter::Values {
        column: "price".into(),
        values: vec![json!(1)],
    }];
    match run(&q).await {
        Err(NodeQueryError::UnknownFilterColumn { node, column }) => {
            assert_eq!((node.as_str(), column.as_str()), ("by_symbol", "price"))
        }
        other => panic!("expected UnknownFilterColumn, got {other:?}"),
    }
    let mut q = query(&wf, "table");
    q.filters = vec![NodeFilter::Range {
        column: "price".into(),
        gte: Some(json!("cheap")),
        lte: None,
    }];
    match run(&q).await {
        Err(NodeQueryError::InvalidFilter { column, .. }) => assert_eq!(column, "price"),
        other => panic!("expected InvalidFilter, got {other:?}"),
    }
}

#[tokio::test]
async fn pages_report_truncation() {
    let wf = workflow();
    let mut q = query(&wf, "table");
    q.offset = 1;
    q.limit = Some(2);
    let result = run(&q).await.unwrap();
    assert_eq!(column(&result, "trade_id"), [json!(2), json!(3)]);
    assert!(result.truncated);
    q.offset = 3;
    q.limit = Some(2);
    let result = run(&q).await.unwrap();
    assert_eq!(column(&result, "trade_id"), [json!(5), json!(6)]);
    assert!(!result.truncated, "exactly the last two rows");
}

#[tokio::test]
async fn limits_are_typed_errors() {
    let wf = workflow();
    let mut q = query(&wf, "table");
    q.limit = Some(5000);
    assert!(matches!(
        run(&q).await,
        Err(NodeQueryError::TooManyRows {
            requested: 5000,
            max: 1000
        })
    ));

    let tight = QueryLimits {
        max_bytes: 100,
        ..QueryLimits::default()
    };
    let result = run_node_query(&session(), &query(&wf, "table"), &tight).await;
    assert!(matches!(
        result,
        Err(NodeQueryError::TooLarge { limit_bytes: 100 })
    ));

    let quick = QueryLimits {
        timeout: Duration::from_millis(50),
        ..QueryLimits::default()
    };
    let started = std::time::Instant::now();
    let result = run_node_query(&slow_session(), &query(&wf, "table"), &quick).await;
    assert!(
        matches!(result, Err(NodeQueryError::Timeout(_))),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancelled, not awaited"
    );

    let rows_capped = QueryLimits {
        max_rows: 2,
        ..QueryLimits::default()
    };
    let result = run_node_query(&session(), &query(&wf, "table"), &rows_capped)
        .await
        .unwrap();
    assert_eq!(result.rows.len(), 2);
    assert!(result.truncated);
}

#[tokio::test]
async fn unknown_node_is_an_engine_error() {
    let wf = workflow();
    let result = run(&query(&wf, "nope")).await;
    assert!(matches!(
        result,
        Err(NodeQueryError::Engine(EngineError::UnknownNode(_)))
    ));
}

#[test]
fn output_columns_without_running() {
    let wf = workflow();
    let columns = node_output_columns(&session(), &wf, "by_symbol").unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["symbol", "trades"]);
}

fn key(definition: &Value, node: &str) -> String {
    preview_key("tenant-a", definition, node, 0, 100).unwrap()
}

#[test]
fn preview_key_ignores_canvas_state_and_unrelated_branches() {
    let base = definition();
    let original = key(&base, "table");

    let mut moved = base.clone();
    moved["nodes"][0]["position"] = json!({"x": 999, "y": -5});
    moved["nodes"][1]["selected"] = json!(true);
    moved["nodes"][1]["dragging"] = json!(true);
    moved["nodes"][2]["measured"] = json!({"width": 180, "height": 40});
    moved["nodes"][2]["positionAbsolute"] = json!({"x": 1, "y": 2});
    moved["nodes"][2]["style"] = json!({"border": "1px"});
    moved["nodes"][2]["label"] = json!("Renamed");
    moved["edges"][0]["animated"] = json!(true);
    assert_eq!(
        key(&moved, "table"),
        original,
        "canvas-only edits keep the key"
    );

    let mut other_branch = base.clone();
    other_branch["nodes"][3]["config"]["group_by"] = json!(["side"]);
    assert_eq!(
        key(&other_branch, "table"),
        original,
        "an unrelated branch keeps the key"
    );

    let mut reordered = base.clone();
    reordered["nodes"].as_array_mut().unwrap().reverse();
    reordered["edges"].as_array_mut().unwrap().reverse();
    assert_eq!(key(&reordered, "table"), original, "order does not matter");
}

#[test]
fn preview_key_changes_with_upstream_config_tenant_node_and_page() {
    let base = definition();
    let original = key(&base, "table");

    let mut upstream = base.clone();
    upstream["nodes"][1]["config"]["keys"][0]["direction"] = json!("desc");
    assert_ne!(key(&upstream, "table"), original);

    let mut source = base.clone();
    source["nodes"][0]["config"]["columns"] = json!(["trade_id"]);
    assert_ne!(key(&source, "table"), original);

    let mut rewired = base.clone();
    rewired["edges"][1]["source"] = json!("trades");
    assert_ne!(key(&rewired, "table"), original);

    assert_ne!(key(&base, "sorted"), original);
    assert_ne!(
        preview_key("tenant-b", &base, "table", 0, 100).unwrap(),
        original
    );
    assert_ne!(
        preview_key("tenant-a", &base, "table", 100, 100).unwrap(),
        original
    );
    assert_ne!(
        preview_key("tenant-a", &base, "table", 0, 50).unwrap(),
        original
    );
    assert!(matches!(
        preview_key("tenant-a", &base, "missing", 0, 100),
        Err(EngineError::UnknownNode(_))
    ));
}

#[test]
fn stripped_canvas_drafts_parse_as_workflows() {
    let mut draft = definition();
    draft["nodes"][0]["selected"] = json!(false);
    draft["nodes"][0]["measured"] = json!({"width": 10});
    draft["edges"][0]["id"] = json!("e1");
    assert!(Workflow::from_value(draft.clone()).is_err());
    let parsed = Workflow::from_value(strip_ui_fields(&draft)).unwrap();
    assert_eq!(parsed, workflow());
}
