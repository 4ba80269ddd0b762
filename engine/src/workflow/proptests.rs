//! Property tests for the workflow loader and compiler: no input — arbitrary text, arbitrary
//! JSON, or a plausible but broken canvas — makes reading, compiling or schema propagation panic,
//! and every problem found is reported against a node or field the canvas can point at.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use super::{Workflow, NODE_TYPES};
use crate::compile::{compile_node, compile_workflow, propagate_schemas};
use crate::error::EngineError;
use crate::tables::ServingSchemas;
use crate::types::Schema;

/// Column names a user could pick: every column of `fct_trades`, columns of the other serving
/// tables, names that nodes create, and names that exist nowhere.
const COLUMNS: &[&str] = &[
    "trade_id",
    "symbol",
    "price",
    "quantity",
    "side",
    "event_time",
    "exchange",
    "bid",
    "ask",
    "sector",
    "name",
    "currency",
    "bucket",
    "close",
    "volume",
    "notional",
    "rn",
    "exchange_right",
    "sum_quantity",
    "nope",
    "",
];

/// Names for columns a node creates: fresh ones, existing ones (replaced in place), empty ones.
const NEW_NAMES: &[&str] = &[
    "notional",
    "rn",
    "prev_price",
    "avg_5",
    "price",
    "symbol",
    "total",
    "a b",
    "",
];

/// Tables a Data Source can name, one of them missing.
const TABLES: &[&str] = &[
    "fct_trades",
    "fct_trades",
    "fct_quotes",
    "dim_instruments",
    "agg_ohlcv_1d",
    "live_pnl",
    "fct_nope",
];

/// Filter operators as written in JSON, with aliases and one that does not exist.
const OPERATORS: &[&str] = &[
    "eq",
    "not_eq",
    "gt",
    "lt",
    "gte",
    "lte",
    "between",
    "contains",
    "starts_with",
    "ends_with",
    "in",
    "not_in",
    "before",
    "after",
    "is_null",
    "is_not_null",
    "=",
    "!=",
    ">=",
    "like",
];

/// Formulas over `fct_trades`: valid row formulas, aggregates, window functions, row offsets,
/// type errors and syntax errors.
const FORMULAS: &[&str] = &[
    "[price] * [quantity]",
    "IF([quantity] > 1000, 'large', 'small')",
    "CASE WHEN [side] = 'BUY' THEN [quantity] ELSE -[quantity] END",
    "[price] - [price, -1]",
    "[close] / [close, -1] - 1",
    "UPPER([symbol])",
    "CONCAT([symbol], '-', [exchange])",
    "DATE_ADD('day', 1, [event_time])",
    "DATE_DIFF('day', [event_time], NOW())",
    "YEAR([event_time])",
    "ROUND([price] * 1.1, 2)",
    "SUM([price] * [quantity])",
    "SUM([price] * [quantity]) / SUM([quantity])",
    "COUNT()",
    "AVG([price])",
    "ROW_NUMBER()",
    "RANK()",
    "LAG([price])",
    "[price] - LAG([price], 2)",
    "[notional] * 2",
    "[symbol] + 1",
    "[nope] + 1",
    "1 / 0",
    "9223372036854775807 + 1",
    "IF([price] > 1, [symbol])",
    "",
    "(((",
    "[price",
    "SUM(",
];

/// Aggregate function names, with one that does not exist.
const AGGREGATES: &[&str] = &["sum", "avg", "count", "count_distinct", "min", "max", "median"];

/// Window function names, with one that does not exist.
const WINDOW_FUNCTIONS: &[&str] = &[
    "row_number",
    "rank",
    "dense_rank",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "ntile",
];

/// Keys the envelope and the configs use, so arbitrary JSON objects sometimes look like them.
const KEYS: &[&str] = &[
    "nodes",
    "edges",
    "id",
    "type",
    "config",
    "source",
    "target",
    "target_port",
    "format_version",
    "table",
    "columns",
    "column",
    "conditions",
    "operator",
    "value",
    "values",
    "expression",
    "aggregations",
    "on",
    "left",
    "right",
];

/// Any JSON value, nested a few levels, with keys and strings that sometimes mean something.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        select(NODE_TYPES.to_vec()).prop_map(Value::from),
        select(COLUMNS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![select(KEYS).prop_map(String::from), any::<String>()];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arbitrary JSON, plus objects shaped like a workflow envelope around arbitrary nodes and
/// edges, so the node and edge readers see hostile input too.
fn json_document() -> impl Strategy<Value = Value> {
    let node = prop_oneof![
        json_value(),
        (select(NODE_TYPES.to_vec()), json_value())
            .prop_map(|(ty, config)| json!({"id": "n", "type": ty, "config": config})),
    ];
    prop_oneof![
        json_value(),
        (vec(node, 0..5), json_value())
            .prop_map(|(nodes, edges)| json!({"nodes": nodes, "edges": edges})),
    ]
}

/// A value for a config field: usually `plausible`, sometimes any JSON at all (a wrong type).
fn or_wrong(plausible: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![9 => plausible, 1 => json_value()].boxed()
}

fn column() -> BoxedStrategy<Value> {
    select(COLUMNS).prop_map(Value::from).boxed()
}

fn columns() -> BoxedStrategy<Value> {
    vec(select(COLUMNS), 0..4)
        .prop_map(|c| json!(c))
        .boxed()
}

fn new_name() -> BoxedStrategy<Value> {
    select(NEW_NAMES).prop_map(Value::from).boxed()
}

fn one_of(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    select(values).prop_map(Value::from).boxed()
}

fn formula() -> BoxedStrategy<Value> {
    one_of(FORMULAS)
}

fn flag() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::Bool).boxed()
}

/// Counts such as a limit or seed: ordinary, zero, huge, negative, fractional.
fn count() -> BoxedStrategy<Value> {
    prop_oneof![
        (0u64..200).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(2.5)),
    ]
    .boxed()
}

/// Filter and pivot values: numbers, text, dates, booleans, NULL.
fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        (-10i64..5000).prop_map(Value::from),
        Just(json!(150.25)),
        Just(json!(f64::MAX)),
        Just(json!("AAPL")),
        Just(json!("BUY")),
        Just(json!("2024-01-02")),
        Just(json!("2024-01-02T10:30:00")),
        Just(json!("not a date")),
        Just(json!(true)),
        Just(Value::Null),
    ]
    .boxed()
}

fn sort_key() -> BoxedStrategy<Value> {
    object(vec![
        field("column", column()),
        field("direction", one_of(&["asc", "desc", "up"])),
        field("nulls", one_of(&["first", "last"])),
    ])
}

fn sort_keys() -> BoxedStrategy<Value> {
    vec(sort_key(), 0..3).prop_map(Value::Array).boxed()
}

fn frame_bound() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("unbounded_preceding")),
        Just(json!("current_row")),
        Just(json!("unbounded_following")),
        (0u64..10).prop_map(|n| json!({ "preceding": n })),
        (0u64..10).prop_map(|n| json!({ "following": n })),
        Just(json!("sideways")),
    ]
    .boxed()
}

/// A filter item: a condition, or a nested group of items.
fn filter_item() -> BoxedStrategy<Value> {
    let condition = object(vec![
        field("column", column()),
        field("operator", one_of(OPERATORS)),
        field("value", scalar()),
        field("values", vec(scalar(), 0..4).prop_map(Value::Array).boxed()),
    ]);
    condition
        .prop_recursive(3, 12, 3, |inner| {
            object(vec![
                field("logic", one_of(&["and", "or", "xor"])),
                field("conditions", vec(inner, 0..3).prop_map(Value::Array).boxed()),
            ])
        })
        .boxed()
}

/// A config field: present most of the time, holding a plausible or a wrongly typed value.
fn field(name: &'static str, value: BoxedStrategy<Value>) -> BoxedStrategy<Option<(String, Value)>> {
    prop::option::weighted(0.8, or_wrong(value).prop_map(move |v| (name.to_string(), v))).boxed()
}

/// A JSON object of the fields that came out present, sometimes with an unknown extra key.
fn object(fields: Vec<BoxedStrategy<Option<(String, Value)>>>) -> BoxedStrategy<Value> {
    (fields, prop::option::weighted(0.05, select(KEYS)))
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
            if let Some(key) = extra {
                map.entry(key).or_insert(json!("unexpected"));
            }
            Value::Object(map)
        })
        .boxed()
}

/// A config for `node_type` built from its real fields.
fn config(node_type: &str) -> BoxedStrategy<Value> {
    let fields = match node_type {
        "data_source" => vec![
            prop::option::weighted(0.97, or_wrong(one_of(TABLES)).prop_map(|v| ("table".to_string(), v)))
                .boxed(),
            prop::option::weighted(0.3, or_wrong(columns()).prop_map(|v| ("columns".to_string(), v)))
                .boxed(),
        ],
        "filter" => vec![
            field("logic", one_of(&["and", "or"])),
            field("conditions", vec(filter_item(), 0..4).prop_map(Value::Array).boxed()),
        ],
        "select" | "unique" => vec![field("columns", columns())],
        "rename" => vec![field(
            "renames",
            vec(
                object(vec![field("from", column()), field("to", new_name())]),
                0..3,
            )
            .prop_map(Value::Array)
            .boxed(),
        )],
        "sort" => vec![field("keys", sort_keys())],
        "limit" => vec![field("limit", count()), field("offset", count())],
        "sample" => vec![
            field("count", count()),
            field(
                "percent",
                prop_oneof![Just(json!(10)), Just(json!(0)), Just(json!(100)), Just(json!(250.5))]
                    .boxed(),
            ),
            field("seed", count()),
        ],
        "group_by" => vec![
            field("group_by", columns()),
            field(
                "aggregations",
                vec(
                    object(vec![
                        field("column", column()),
                        field("function", one_of(AGGREGATES)),
                        prop::option::weighted(0.2, formula().prop_map(|f| ("expression".to_string(), f)))
                            .boxed(),
                        field("alias", new_name()),
                    ]),
                    0..3,
                )
                .prop_map(Value::Array)
                .boxed(),
            ),
        ],
        "join" => vec![
            field("join_type", one_of(&["inner", "left", "right", "full", "cross"])),
            field(
                "on",
                vec(object(vec![field("left", column()), field("right", column())]), 0..3)
                    .prop_map(Value::Array)
                    .boxed(),
            ),
            field("right_suffix", one_of(&["_right", "", "_r"])),
        ],
        "union" => vec![
            field("distinct", flag()),
            field(
                "mapping",
                vec(object(vec![field("left", column()), field("right", column())]), 0..2)
                    .prop_map(Value::Array)
                    .boxed(),
            ),
        ],
        "pivot" => vec![
            field("index", columns()),
            field("pivot_column", column()),
            field("values", vec(scalar(), 0..4).prop_map(Value::Array).boxed()),
            field("value_column", column()),
            field("aggregation", one_of(AGGREGATES)),
        ],
        "formula" => vec![
            field("column", new_name()),
            field("expression", formula()),
            field("partition_by", columns()),
            field("order_by", sort_keys()),
        ],
        "window" => vec![
            field("column", new_name()),
            field("function", one_of(WINDOW_FUNCTIONS)),
            field("input", column()),
            field("offset", count()),
            prop::option::weighted(0.3, formula().prop_map(|f| ("expression".to_string(), f))).boxed(),
            field("partition_by", columns()),
            field("order_by", sort_keys()),
            prop::option::weighted(
                0.4,
                object(vec![
                    field("unit", one_of(&["rows", "range", "groups"])),
                    field("start", frame_bound()),
                    field("end", frame_bound()),
                ])
                .prop_map(|f| ("frame".to_string(), f)),
            )
            .boxed(),
        ],
        "table_view" => vec![
            field("columns", columns()),
            field("page_size", count()),
            field("title", Just(json!("Trades")).boxed()),
        ],
        "bar_chart" => vec![
            field("x", column()),
            field("y", columns()),
            field("color", column()),
            field("aggregation", one_of(AGGREGATES)),
            field("orientation", one_of(&["vertical", "horizontal", "diagonal"])),
            field("stacked", flag()),
        ],
        "line_chart" => vec![
            field("x", column()),
            field("y", columns()),
            field("color", column()),
            field("area", flag()),
        ],
        "candlestick" => vec![
            field("series", column()),
            field("time", column()),
            field("open", column()),
            field("high", column()),
            field("low", column()),
            field("close", column()),
            field("volume", column()),
        ],
        "scatter_plot" => vec![
            field("x", column()),
            field("y", column()),
            field("size", column()),
            field("color", column()),
        ],
        "kpi_card" => vec![
            field("metric", column()),
            field("aggregation", one_of(AGGREGATES)),
            field("label", Just(json!("Volume")).boxed()),
            field("warning_threshold", scalar()),
            field("critical_threshold", scalar()),
        ],
        "pivot_table" => vec![
            field("rows", columns()),
            field("columns", columns()),
            field("value", column()),
            field("aggregation", one_of(AGGREGATES)),
        ],
        _ => vec![field("anything", json_value().boxed())],
    };
    object(fields)
}

/// A node type: Data Sources are weighted up so that most graphs have something to read, and
/// now and then the type does not exist.
fn node_type() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("data_source"),
        16 => select(NODE_TYPES.to_vec()),
        1 => Just("spreadsheet"),
    ]
}

/// A node: usually with the config of its own type, sometimes with another type's config.
fn node(index: usize, node_type: &'static str) -> BoxedStrategy<Value> {
    let id = prop_oneof![
        20 => Just(format!("n{index}")),
        1 => Just("n0".to_string()),
        1 => Just(String::new()),
    ];
    let config = prop_oneof![
        12 => config(node_type),
        1 => select(NODE_TYPES.to_vec()).prop_flat_map(config),
        1 => Just(Value::Null),
    ];
    (id, config, prop::option::weighted(0.2, (-500.0..500.0f64, -500.0..500.0f64)))
        .prop_map(move |(id, config, position)| {
            let mut node = json!({"id": id, "type": node_type, "config": config});
            if let Some((x, y)) = position {
                node["position"] = json!({"x": x, "y": y});
            }
            node
        })
        .boxed()
}

/// The edges into node `target` of a graph of `count` nodes: usually as many as its type takes,
/// from earlier nodes (so the graph is a DAG), on the ports its type expects; sometimes too many
/// or too few, from later nodes or itself (cycles, self-loops), from ids that do not exist, or on
/// the wrong ports.
fn edges_into(target: usize, node_type: &'static str, count: usize) -> BoxedStrategy<Vec<Value>> {
    let usual = match node_type {
        "data_source" => 0,
        "join" | "union" => 2,
        _ => 1,
    };
    let how_many = prop_oneof![8 => Just(usual), 1 => 0usize..4];
    how_many
        .prop_flat_map(move |n| {
            let source = if target == 0 {
                prop_oneof![
                    8 => (0..count).prop_map(|i| format!("n{i}")),
                    1 => select(&["ghost", ""][..]).prop_map(String::from),
                ]
                .boxed()
            } else {
                prop_oneof![
                    16 => (0..target).prop_map(|i| format!("n{i}")),
                    2 => (0..count).prop_map(|i| format!("n{i}")),
                    1 => select(&["ghost", ""][..]).prop_map(String::from),
                ]
                .boxed()
            };
            let port = prop_oneof![
                12 => Just(None::<&'static str>),
                1 => Just(Some("left")),
                1 => Just(Some("right")),
                1 => Just(Some("middle")),
            ];
            vec((source, port), n).prop_map(move |edges| {
                edges
                    .into_iter()
                    .enumerate()
                    .map(|(k, (source, random_port))| {
                        let expected_port = match (usual, k) {
                            (2, 0) => Some("left"),
                            (2, 1) => Some("right"),
                            _ => None,
                        };
                        let mut edge = json!({"source": source, "target": format!("n{target}")});
                        if let Some(port) = random_port.or(expected_port) {
                            edge["target_port"] = json!(port);
                        }
                        edge
                    })
                    .collect::<Vec<_>>()
            })
        })
        .boxed()
}

/// A workflow as the canvas would save it, built from the real node grammar with plausible
/// mistakes mixed in.
fn plausible_workflow() -> impl Strategy<Value = Value> {
    vec(node_type(), 1..10).prop_flat_map(|types| {
        let count = types.len();
        let nodes: Vec<BoxedStrategy<Value>> = types
            .iter()
            .enumerate()
            .map(|(i, ty)| node(i, *ty))
            .collect();
        let edges: Vec<BoxedStrategy<Vec<Value>>> = types
            .iter()
            .enumerate()
            .map(|(i, ty)| edges_into(i, *ty, count))
            .collect();
        let version = prop_oneof![20 => Just(json!(1)), 1 => Just(json!(2))];
        (nodes, edges, version).prop_map(|(nodes, edges, version)| {
            let edges: Vec<Value> = edges.into_iter().flatten().collect();
            json!({"format_version": version, "name": "generated", "nodes": nodes, "edges": edges})
        })
    })
}

/// Reads, compiles and propagates schemas for `text`, checking that nothing panics and that
/// what comes back is coherent.
fn check_document(text: &str) -> Result<(), TestCaseError> {
    let workflow = match Workflow::from_json(text) {
        Ok(workflow) => workflow,
        Err(EngineError::InvalidWorkflow { issues }) => {
            prop_assert!(!issues.is_empty(), "an invalid workflow must say why");
            for issue in &issues {
                prop_assert!(!issue.message.trim().is_empty(), "{issue:?}");
            }
            return Ok(());
        }
        Err(EngineError::WorkflowJson(message)) => {
            prop_assert!(!message.trim().is_empty());
            return Ok(());
        }
        Err(other) => {
            return Err(TestCaseError::fail(format!(
                "from_json returned an unexpected error kind: {other:?}"
            )))
        }
    };
    let compiled = compile_workflow(&workflow, &ServingSchemas);
    for issue in &compiled.issues {
        prop_assert!(!issue.message.trim().is_empty(), "{issue:?}");
        prop_assert!(
            issue.node.is_some() || issue.field.is_some(),
            "issue names neither node nor field: {issue:?}"
        );
        if let Some(node) = &issue.node {
            prop_assert!(workflow.node(node).is_some(), "issue on unknown node: {issue:?}");
        }
    }
    for (id, plan) in &compiled.plans {
        prop_assert!(workflow.node(id).is_some(), "plan for unknown node {id}");
        let schema = Schema::from_df(plan.schema());
        prop_assert!(schema.is_ok(), "node {id}: {schema:?}");
    }
    let report = propagate_schemas(&workflow, &ServingSchemas);
    prop_assert_eq!(report.schemas.len(), compiled.plans.len());
    prop_assert_eq!(&report.issues, &compiled.issues);
    Ok(())
}

/// Like [`check_document`] for generated workflows, and also compiles every node on its own:
/// a node that compiled as part of the whole workflow compiles alone to the same schema (what
/// the canvas shows is what a published view returns), and one that did not, does not.
fn check_plausible(document: &Value) -> Result<(), TestCaseError> {
    let text = document.to_string();
    check_document(&text)?;
    let Ok(workflow) = Workflow::from_json(&text) else {
        return Ok(());
    };
    let report = propagate_schemas(&workflow, &ServingSchemas);
    for node in &workflow.nodes {
        let alone = compile_node(&workflow, &node.id, &ServingSchemas);
        match (report.schemas.get(&node.id), alone) {
            (Some(expected), Ok(plan)) => {
                let schema = Schema::from_df(plan.schema());
                prop_assert_eq!(schema.as_ref().ok(), Some(expected), "node {}", node.id);
            }
            (None, Err(_)) => {}
            (Some(_), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "node {} compiles in the workflow but not alone: {e}",
                    node.id
                )))
            }
            (None, Ok(_)) => {
                return Err(TestCaseError::fail(format!(
                    "node {} compiles alone but not in the workflow",
                    node.id
                )))
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_document(&text)?;
    }

    #[test]
    fn strings_of_json_characters_never_panic(text in "[\\[\\]{}\":,a-z0-9_ .-]{0,64}") {
        check_document(&text)?;
    }

    #[test]
    fn arbitrary_json_never_panics(document in json_document()) {
        check_document(&document.to_string())?;
    }

    #[test]
    fn plausible_workflows_compile_or_report_issues_on_nodes(document in plausible_workflow()) {
        check_plausible(&document)?;
    }
}

/// The plausible-workflow property is only worth something if the generator gets past the
/// loader and into the compiler: check that a fixed sample contains workflows that load, nodes
/// beyond Data Sources that compile, and workflows that compile with no issue at all.
#[test]
fn plausible_generator_reaches_the_compiler() {
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(7),
        ..Config::default()
    });
    let strategy = plausible_workflow();
    let (mut loaded, mut transforms, mut clean) = (0, 0, 0);
    for _ in 0..256 {
        let document = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(workflow) = Workflow::from_value(document) else {
            continue;
        };
        loaded += 1;
        let compiled = compile_workflow(&workflow, &ServingSchemas);
        transforms += compiled
            .plans
            .keys()
            .filter(|id| {
                workflow
                    .node(id)
                    .is_some_and(|n| n.kind.type_name() != "data_source")
            })
            .count();
        if compiled.issues.is_empty() && workflow.nodes.len() > 1 {
            clean += 1;
        }
    }
    assert!(loaded >= 64, "only {loaded} of 256 generated workflows loaded");
    assert!(transforms >= 32, "only {transforms} non-source nodes compiled");
    assert!(clean >= 8, "only {clean} multi-node workflows compiled cleanly");
}
