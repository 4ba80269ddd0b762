//! Property tests for the workflow loader and compiler: no input — arbitrary text, arbitrary
//! JSON, or a plausible but broken canvas — makes reading, compiling or schema propagation panic,
//! and every problem found is reported against a node or field the canvas can point at.

use std::fmt::Debug;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::{json, Map, Value};

use super::{Workflow, NODE_TYPES};
use crate::compile::{compile_node, compile_workflow, propagate_schemas};
use crate::error::EngineError;
use crate::tables::ServingSchemas;
use crate::types::Schema;

/// The columns of `fct_trades`, the table most generated nodes read.
const TRADE_COLUMNS: &[&str] = &[
    "trade_id",
    "symbol",
    "price",
    "quantity",
    "side",
    "event_time",
    "exchange",
];

/// Column names that are wrong for `fct_trades`: other tables' columns, names that nodes create,
/// names that exist nowhere.
const OTHER_COLUMNS: &[&str] = &[
    "bid",
    "sector",
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

/// Names for columns a node creates: fresh ones, and existing ones (replaced in place).
const NEW_NAMES: &[&str] = &[
    "notional",
    "rn",
    "prev_price",
    "avg_5",
    "total",
    "a b",
    "price",
    "symbol",
];

/// Tables a Data Source can name.
const TABLES: &[&str] = &[
    "fct_trades",
    "fct_trades",
    "fct_trades",
    "fct_quotes",
    "dim_instruments",
    "agg_ohlcv_1d",
    "live_pnl",
];

/// Filter operators as written in JSON, with aliases.
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
];

/// Formulas over `fct_trades` that compile in some scope: row formulas, aggregates, window
/// functions and row offsets.
const FORMULAS: &[&str] = &[
    "[price] * [quantity]",
    "IF([quantity] > 1000, 'large', 'small')",
    "CASE WHEN [side] = 'BUY' THEN [quantity] ELSE -[quantity] END",
    "[price] - [price, -1]",
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
    "1 / 0",
];

/// Formulas that never compile against `fct_trades`: type errors, unknown columns, bad syntax.
const BROKEN_FORMULAS: &[&str] = &[
    "[notional] * 2",
    "[symbol] + 1",
    "[nope] + 1",
    "9223372036854775807 + 1",
    "IF([price] > 1, [symbol])",
    "",
    "(((",
    "[price",
    "SUM(",
];

/// Aggregate function names.
const AGGREGATES: &[&str] = &["sum", "avg", "count", "count_distinct", "min", "max"];

/// Window function names.
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
fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::String),
        select(NODE_TYPES.to_vec()).prop_map(Value::from),
        select(TRADE_COLUMNS).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![select(KEYS).prop_map(String::from), any::<String>()];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            btree_map(key, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
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

fn strings(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    select(values).prop_map(Value::from).boxed()
}

/// A config field name and the strategy of its value; `None` leaves the field out.
type Field = BoxedStrategy<Option<(String, Value)>>;

/// Generates workflows from the real node grammar. Each decision (a field present, its type, an
/// enum value, a column, an edge) goes wrong with probability `mistakes`; at 0 every workflow
/// loads, and only the compiler can find problems (unknown columns, type errors, bad formulas).
#[derive(Debug, Clone, Copy)]
struct Plausible {
    mistakes: f64,
}

impl Plausible {
    /// `good`, or `bad` with probability `mistakes`.
    fn mix<T: Debug + 'static>(
        self,
        good: BoxedStrategy<T>,
        bad: BoxedStrategy<T>,
    ) -> BoxedStrategy<T> {
        let wrong = (self.mistakes * 1000.0).round() as u32;
        if wrong == 0 {
            good
        } else {
            Union::new_weighted(vec![(1000 - wrong, good), (wrong, bad)]).boxed()
        }
    }

    fn pick(
        self,
        good: &'static [&'static str],
        bad: &'static [&'static str],
    ) -> BoxedStrategy<Value> {
        self.mix(strings(good), strings(bad))
    }

    /// A value of the right JSON type, or now and then any JSON at all.
    fn typed(self, value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
        self.mix(value, json_value())
    }

    /// A field the config needs: left out only by mistake.
    fn required(self, name: &'static str, value: BoxedStrategy<Value>) -> Field {
        let present = self
            .typed(value)
            .prop_map(move |v| Some((name.to_string(), v)))
            .boxed();
        self.mix(present, Just(None).boxed())
    }

    /// A field the config may omit: present half of the time.
    fn optional(self, name: &'static str, value: BoxedStrategy<Value>) -> Field {
        prop::option::of(self.typed(value).prop_map(move |v| (name.to_string(), v))).boxed()
    }

    /// A JSON object of the fields that came out present, by mistake with an unknown key.
    fn object(self, fields: Vec<Field>) -> BoxedStrategy<Value> {
        let extra = self.mix(Just(None).boxed(), select(KEYS).prop_map(Some).boxed());
        (fields, extra)
            .prop_map(|(fields, extra)| {
                let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
                if let Some(key) = extra {
                    map.entry(key).or_insert(json!("unexpected"));
                }
                Value::Object(map)
            })
            .boxed()
    }

    fn column(self) -> BoxedStrategy<Value> {
        self.pick(TRADE_COLUMNS, OTHER_COLUMNS)
    }

    fn columns(self) -> BoxedStrategy<Value> {
        vec(self.column(), 0..4).prop_map(Value::Array).boxed()
    }

    fn new_name(self) -> BoxedStrategy<Value> {
        self.pick(NEW_NAMES, &[""])
    }

    fn formula(self) -> BoxedStrategy<Value> {
        self.pick(FORMULAS, BROKEN_FORMULAS)
    }

    fn aggregate(self) -> BoxedStrategy<Value> {
        self.pick(AGGREGATES, &["median"])
    }

    /// Counts such as a limit or seed; by mistake negative or fractional.
    fn count(self) -> BoxedStrategy<Value> {
        let good = prop_oneof![8 => (0u64..200).prop_map(Value::from), 1 => Just(json!(u64::MAX))];
        self.mix(
            good.boxed(),
            prop_oneof![Just(json!(-1)), Just(json!(2.5))].boxed(),
        )
    }

    fn sort_keys(self) -> BoxedStrategy<Value> {
        let key = self.object(vec![
            self.required("column", self.column()),
            self.optional("direction", self.pick(&["asc", "desc"], &["up"])),
            self.optional("nulls", self.pick(&["first", "last"], &["middle"])),
        ]);
        vec(key, 0..3).prop_map(Value::Array).boxed()
    }

    fn frame_bound(self) -> BoxedStrategy<Value> {
        let good = prop_oneof![
            Just(json!("unbounded_preceding")),
            Just(json!("current_row")),
            Just(json!("unbounded_following")),
            (0u64..10).prop_map(|n| json!({ "preceding": n })),
            (0u64..10).prop_map(|n| json!({ "following": n })),
        ];
        self.mix(good.boxed(), strings(&["sideways"]))
    }

    /// Filter and pivot values: numbers, text, dates, booleans, NULL — right or wrong for the
    /// column, which only the compiler can tell.
    fn scalar(self) -> BoxedStrategy<Value> {
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

    fn scalars(self) -> BoxedStrategy<Value> {
        vec(self.scalar(), 0..4).prop_map(Value::Array).boxed()
    }

    /// A filter item: a condition, or a nested group of items.
    fn filter_items(self) -> BoxedStrategy<Value> {
        let condition = self.object(vec![
            self.required("column", self.column()),
            self.required("operator", self.pick(OPERATORS, &["like", "~"])),
            self.optional("value", self.scalar()),
            self.optional("values", self.scalars()),
        ]);
        let item = condition.prop_recursive(3, 12, 3, move |inner| {
            self.object(vec![
                self.optional("logic", self.pick(&["and", "or"], &["xor"])),
                self.required(
                    "conditions",
                    vec(inner, 0..3).prop_map(Value::Array).boxed(),
                ),
            ])
        });
        vec(item, 0..4).prop_map(Value::Array).boxed()
    }

    fn column_pairs(self, max: usize) -> BoxedStrategy<Value> {
        let pair = self.object(vec![
            self.required("left", self.column()),
            self.required("right", self.column()),
        ]);
        vec(pair, 0..max).prop_map(Value::Array).boxed()
    }

    /// A config for `node_type` built from its real fields.
    fn config(self, node_type: &str) -> BoxedStrategy<Value> {
        let title = || strings(&["Trades"]);
        let threshold = || {
            self.mix(
                (0.0..1e6f64).prop_map(Value::from).boxed(),
                strings(&["high"]),
            )
        };
        let fields = match node_type {
            "data_source" => vec![
                self.required("table", self.pick(TABLES, &["fct_nope", ""])),
                prop::option::weighted(
                    0.2,
                    self.typed(self.columns())
                        .prop_map(|v| ("columns".to_string(), v)),
                )
                .boxed(),
            ],
            "filter" => vec![
                self.optional("logic", self.pick(&["and", "or"], &["xor"])),
                self.required("conditions", self.filter_items()),
            ],
            "select" => vec![self.required("columns", self.columns())],
            "unique" => vec![self.optional("columns", self.columns())],
            "rename" => {
                let pair = self.object(vec![
                    self.required("from", self.column()),
                    self.required("to", self.new_name()),
                ]);
                vec![self.required("renames", vec(pair, 0..3).prop_map(Value::Array).boxed())]
            }
            "sort" => vec![self.required("keys", self.sort_keys())],
            "limit" => vec![
                self.required("limit", self.count()),
                self.optional("offset", self.count()),
            ],
            "sample" => vec![
                self.optional("count", self.count()),
                self.optional(
                    "percent",
                    self.mix(
                        (0.5..100.0f64).prop_map(Value::from).boxed(),
                        strings(&["half"]),
                    ),
                ),
                self.optional("seed", self.count()),
            ],
            "group_by" => {
                let aggregation = self.object(vec![
                    self.optional("column", self.column()),
                    self.optional("function", self.aggregate()),
                    prop::option::weighted(
                        0.2,
                        self.formula().prop_map(|f| ("expression".to_string(), f)),
                    )
                    .boxed(),
                    self.optional("alias", self.new_name()),
                ]);
                vec![
                    self.optional("group_by", self.columns()),
                    self.required(
                        "aggregations",
                        vec(aggregation, 0..3).prop_map(Value::Array).boxed(),
                    ),
                ]
            }
            "join" => vec![
                self.optional(
                    "join_type",
                    self.pick(&["inner", "left", "right", "full"], &["cross"]),
                ),
                self.required("on", self.column_pairs(3)),
                self.optional("right_suffix", strings(&["_right", "", "_r"])),
            ],
            "union" => vec![
                self.optional("distinct", any::<bool>().prop_map(Value::Bool).boxed()),
                self.optional("mapping", self.column_pairs(2)),
            ],
            "pivot" => vec![
                self.optional("index", self.columns()),
                self.required("pivot_column", self.column()),
                self.required("values", self.scalars()),
                self.required("value_column", self.column()),
                self.required("aggregation", self.aggregate()),
            ],
            "formula" => vec![
                self.required("column", self.new_name()),
                self.required("expression", self.formula()),
                self.optional("partition_by", self.columns()),
                self.optional("order_by", self.sort_keys()),
            ],
            "window" => {
                let frame = self.object(vec![
                    self.required("unit", self.pick(&["rows", "range"], &["groups"])),
                    self.required("start", self.frame_bound()),
                    self.required("end", self.frame_bound()),
                ]);
                vec![
                    self.required("column", self.new_name()),
                    self.optional("function", self.pick(WINDOW_FUNCTIONS, &["ntile"])),
                    self.optional("input", self.column()),
                    self.optional("offset", self.count()),
                    prop::option::weighted(
                        0.3,
                        self.formula().prop_map(|f| ("expression".to_string(), f)),
                    )
                    .boxed(),
                    self.optional("partition_by", self.columns()),
                    self.optional("order_by", self.sort_keys()),
                    self.optional("frame", frame),
                ]
            }
            "table_view" => vec![
                self.optional("columns", self.columns()),
                self.optional(
                    "page_size",
                    self.mix((1u32..500).prop_map(Value::from).boxed(), strings(&["all"])),
                ),
                self.optional("title", title()),
            ],
            "bar_chart" => vec![
                self.required("x", self.column()),
                self.required("y", self.columns()),
                self.optional("color", self.column()),
                self.optional("aggregation", self.aggregate()),
                self.optional(
                    "orientation",
                    self.pick(&["vertical", "horizontal"], &["diagonal"]),
                ),
                self.optional("stacked", any::<bool>().prop_map(Value::Bool).boxed()),
                self.optional("title", title()),
            ],
            "line_chart" => vec![
                self.required("x", self.column()),
                self.required("y", self.columns()),
                self.optional("color", self.column()),
                self.optional("area", any::<bool>().prop_map(Value::Bool).boxed()),
            ],
            "candlestick" => vec![
                self.optional("series", self.column()),
                self.required("time", self.column()),
                self.required("open", self.column()),
                self.required("high", self.column()),
                self.required("low", self.column()),
                self.required("close", self.column()),
                self.optional("volume", self.column()),
            ],
            "scatter_plot" => vec![
                self.required("x", self.column()),
                self.required("y", self.column()),
                self.optional("size", self.column()),
                self.optional("color", self.column()),
            ],
            "kpi_card" => vec![
                self.optional("metric", self.column()),
                self.required("aggregation", self.aggregate()),
                self.optional("label", strings(&["Volume"])),
                self.optional("warning_threshold", threshold()),
                self.optional("critical_threshold", threshold()),
            ],
            "pivot_table" => vec![
                self.required("rows", self.columns()),
                self.optional("columns", self.columns()),
                self.required("value", self.column()),
                self.required("aggregation", self.aggregate()),
            ],
            _ => vec![self.optional("anything", json_value())],
        };
        self.object(fields)
    }

    /// A node type: Data Sources are weighted up so that most graphs have several things to
    /// read; by mistake, a type that does not exist.
    fn node_type(self) -> BoxedStrategy<&'static str> {
        let good = prop_oneof![1 => Just("data_source"), 4 => select(NODE_TYPES.to_vec())];
        self.mix(good.boxed(), Just("spreadsheet").boxed())
    }

    /// Node `index` of type `node_type`, with id `n<index>`; by mistake with a duplicate or empty
    /// id, another type's config or no config.
    fn node(self, index: usize, node_type: &'static str) -> BoxedStrategy<Value> {
        let id = self.mix(
            Just(format!("n{index}")).boxed(),
            select(vec!["n0".to_string(), String::new()]).boxed(),
        );
        let config = self.mix(
            self.config(node_type),
            prop_oneof![
                select(NODE_TYPES.to_vec()).prop_flat_map(move |other| self.config(other)),
                Just(Value::Null),
            ]
            .boxed(),
        );
        let position = prop::option::weighted(0.2, (-500.0..500.0f64, -500.0..500.0f64));
        (id, config, position)
            .prop_map(move |(id, config, position)| {
                let mut node = json!({"id": id, "type": node_type, "config": config});
                if let Some((x, y)) = position {
                    node["position"] = json!({"x": x, "y": y});
                }
                node
            })
            .boxed()
    }

    /// The edges into node `target` of a graph of `count` nodes: as many as its type takes, from
    /// earlier nodes (so the graph is a DAG), on the ports its type expects. By mistake: too many
    /// or too few, from any node (cycles, self-loops) or from ids that do not exist, on any port.
    fn edges_into(
        self,
        target: usize,
        node_type: &'static str,
        count: usize,
    ) -> BoxedStrategy<Vec<Value>> {
        let usual = match node_type {
            "data_source" => 0,
            "join" | "union" => 2,
            _ => 1,
        };
        let how_many = self.mix(Just(usual).boxed(), (0usize..4).boxed());
        let earlier = target.max(1).min(count);
        let source = self.mix(
            (0..earlier).prop_map(|i| format!("n{i}")).boxed(),
            prop_oneof![
                (0..count).prop_map(|i| format!("n{i}")),
                select(vec!["ghost".to_string(), String::new()]),
            ]
            .boxed(),
        );
        let stray_port = self.mix(
            Just(None).boxed(),
            select(vec![
                Some(None),
                Some(Some("left")),
                Some(Some("right")),
                Some(Some("middle")),
            ])
            .boxed(),
        );
        how_many
            .prop_flat_map(move |n| {
                vec((source.clone(), stray_port.clone()), n).prop_map(move |edges| {
                    edges
                        .into_iter()
                        .enumerate()
                        .map(|(k, (source, stray_port))| {
                            let expected = match (usual, k) {
                                (2, 0) => Some("left"),
                                (2, 1) => Some("right"),
                                _ => None,
                            };
                            let mut edge =
                                json!({"source": source, "target": format!("n{target}")});
                            if let Some(port) = stray_port.unwrap_or(expected) {
                                edge["target_port"] = json!(port);
                            }
                            edge
                        })
                        .collect::<Vec<_>>()
                })
            })
            .boxed()
    }

    /// A workflow as the canvas would save it: the first node reads a table (unless by mistake),
    /// every other node takes its inputs from nodes before it.
    fn workflow(self) -> BoxedStrategy<Value> {
        let first = self.mix(Just("data_source").boxed(), self.node_type());
        (first, vec(self.node_type(), 0..9))
            .prop_flat_map(move |(first, rest)| {
                let types: Vec<&'static str> = std::iter::once(first).chain(rest).collect();
                let count = types.len();
                let nodes: Vec<BoxedStrategy<Value>> = types
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(i, ty)| self.node(i, ty))
                    .collect();
                let edges: Vec<BoxedStrategy<Vec<Value>>> = types
                    .iter()
                    .copied()
                    .enumerate()
                    .map(|(i, ty)| self.edges_into(i, ty, count))
                    .collect();
                let version = self.mix(Just(json!(1)).boxed(), Just(json!(2)).boxed());
                (nodes, edges, version).prop_map(|(nodes, edges, version)| {
                    let edges: Vec<Value> = edges.into_iter().flatten().collect();
                    json!({"format_version": version, "name": "generated", "nodes": nodes, "edges": edges})
                })
            })
            .boxed()
    }
}

/// Plausible workflows: two in five with no mistakes at all, the rest with few to many.
fn plausible_workflow() -> impl Strategy<Value = Value> {
    prop_oneof![2 => Just(0.0), 1 => Just(0.01), 1 => Just(0.05), 1 => Just(0.25)]
        .prop_flat_map(|mistakes| Plausible { mistakes }.workflow())
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
        // Only an empty workflow has a problem that no node or field can carry.
        prop_assert!(
            issue.node.is_some() || issue.field.is_some() || workflow.nodes.is_empty(),
            "issue names neither node nor field: {issue:?}"
        );
        if let Some(node) = &issue.node {
            prop_assert!(
                workflow.node(node).is_some(),
                "issue on unknown node: {issue:?}"
            );
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
}

proptest! {
    // A case normally takes milliseconds; the timeout (which runs cases in a child process) turns
    // a compiler that never returns into a failure instead of a hung test run, and the shrink
    // limits keep a run that found such a hang from spending minutes minimizing it.
    #![proptest_config(ProptestConfig {
        cases: 256,
        timeout: 3_000,
        max_shrink_iters: 32,
        max_shrink_time: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn plausible_workflows_compile_or_report_issues_on_nodes(document in plausible_workflow()) {
        check_plausible(&document)?;
    }
}

/// Found by the plausible-workflow property: a join whose right-side columns clash with the
/// left's and whose `right_suffix` is empty cannot make the names unique by appending it. The
/// compiler must report that (or pick unique names), not spin forever.
#[test]
fn join_with_empty_right_suffix_finishes_compiling() {
    let text = json!({
        "nodes": [
            {"id": "t", "type": "data_source", "config": {"table": "fct_trades"}},
            {"id": "j", "type": "join", "config": {
                "on": [{"left": "trade_id", "right": "trade_id"}],
                "right_suffix": ""
            }},
        ],
        "edges": [
            {"source": "t", "target": "j", "target_port": "left"},
            {"source": "t", "target": "j", "target_port": "right"},
        ],
    })
    .to_string();
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let workflow = Workflow::from_json(&text).unwrap();
        let _ = done.send(compile_workflow(&workflow, &ServingSchemas));
    });
    let compiled = outcome
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("compiling a self-join with right_suffix \"\" did not finish within 20s");
    match compiled.plans.get("j") {
        Some(plan) => {
            let schema = Schema::from_df(plan.schema()).unwrap();
            let mut names = schema.names();
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "duplicate output names: {schema:?}");
        }
        None => assert!(
            compiled
                .issues
                .iter()
                .any(|i| i.node.as_deref() == Some("j")),
            "{:?}",
            compiled.issues
        ),
    }
}

/// The plausible-workflow property is only worth something if the generator gets past the
/// loader and into the compiler: check that a fixed sample contains workflows that load, nodes
/// beyond Data Sources that compile, and workflows that compile with no issue at all.
#[test]
fn plausible_generator_reaches_the_compiler() {
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(7),
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
    assert!(
        loaded >= 64,
        "only {loaded} of 256 generated workflows loaded"
    );
    assert!(
        transforms >= 32,
        "only {transforms} non-source nodes compiled"
    );
    assert!(
        clean >= 8,
        "only {clean} multi-node workflows compiled cleanly"
    );
}
