//! Behaviour of tenant sessions: the ACL under every query shape, read-only admission, catalogs,
//! PostgreSQL naming, parameters, EXPLAIN and session functions.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::datasource::{provider_as_source, MemTable};
use datafusion::logical_expr::{col, in_subquery, lit, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::AnalyzerRule;
use futures::TryStreamExt;

use super::*;
use crate::serving_tables::serving_table;

/// Trades per symbol in the fixture: tenant A (AAPL MSFT JPM NVDA) may see 3 + 2 + 1 = 6 rows.
const TRADES: &[(&str, usize)] = &[
    ("AAPL", 3),
    ("MSFT", 2),
    ("JPM", 1),
    ("TSLA", 4),
    ("META", 2),
    ("GS", 1),
];
const QUOTES: &[(&str, usize)] = &[("AAPL", 1), ("TSLA", 2), ("JPM", 1)];
const ENTITLED_A: &[&str] = &["AAPL", "MSFT", "JPM", "NVDA"];
const ENTITLED_B: &[&str] = &["TSLA", "META", "JPM", "BAC", "GS"];

fn column_for(field: &datafusion::arrow::datatypes::Field, symbols: &[&str]) -> ArrayRef {
    let n = symbols.len();
    match (field.name().as_str(), field.data_type()) {
        ("symbol", _) => Arc::new(StringArray::from(symbols.to_vec())),
        ("side", _) => Arc::new(StringArray::from_iter_values((0..n).map(|i| {
            if i % 2 == 0 {
                "BUY"
            } else {
                "SELL"
            }
        }))),
        (_, DataType::Utf8) => Arc::new(StringArray::from_iter_values(
            symbols.iter().map(|s| format!("{s} text")),
        )),
        (_, DataType::Int64) => {
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| i as i64 + 1)))
        }
        (_, DataType::Float64) => Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| 100.0 + i as f64),
        )),
        (_, DataType::Timestamp(_, _)) => Arc::new(TimestampMicrosecondArray::from_iter_values(
            (0..n).map(|i| 1_700_000_000_000_000 + i as i64),
        )),
        (name, other) => panic!("fixture cannot fill {name}: {other}"),
    }
}

fn mem_table(schema: SchemaRef, rows: &[(&str, usize)]) -> Arc<dyn TableProvider> {
    let symbols: Vec<&str> = rows
        .iter()
        .flat_map(|(s, n)| std::iter::repeat_n(*s, *n))
        .collect();
    let columns = schema
        .fields()
        .iter()
        .map(|f| column_for(f, &symbols))
        .collect();
    let batch = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
    Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap())
}

/// Raw providers shared by every session, like the embedded backend's.
struct Raw {
    trades: Arc<dyn TableProvider>,
    quotes: Arc<dyn TableProvider>,
    instruments: Arc<dyn TableProvider>,
}

impl Raw {
    fn new() -> Self {
        let all: Vec<(&str, usize)> = crate::serving_tables::SAMPLE_SYMBOLS
            .iter()
            .map(|s| (*s, 1))
            .collect();
        Raw {
            trades: mem_table(serving_table("fct_trades").unwrap().schema, TRADES),
            quotes: mem_table(serving_table("fct_quotes").unwrap().schema, QUOTES),
            instruments: mem_table(serving_table("dim_instruments").unwrap().schema, &all),
        }
    }

    fn lookup(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        match name {
            "fct_trades" => Some(Arc::clone(&self.trades)),
            "fct_quotes" => Some(Arc::clone(&self.quotes)),
            "dim_instruments" => Some(Arc::clone(&self.instruments)),
            _ => None,
        }
    }

    fn session(&self, slug: &str, role: Role, entitlements: &[&str]) -> TenantSession {
        let tenant = Tenant {
            id: format!("id-{slug}"),
            slug: slug.to_string(),
            role,
            user: format!("{slug}@example.test"),
            entitlements: entitlements.iter().map(|s| s.to_string()).collect(),
        };
        TenantSession::new(tenant, &|name| self.lookup(name)).unwrap()
    }
}

async fn run(
    session: &TenantSession,
    sql: &str,
) -> Result<(Vec<String>, Vec<RecordBatch>), EngineError> {
    match session.plan_sql(sql, &[]).await? {
        Planned::Query { plan, output_names } => {
            let batches = session.execute(plan).await?.try_collect::<Vec<_>>().await?;
            Ok((output_names, batches))
        }
        other => panic!("expected a query for {sql}, got {other:?}"),
    }
}

/// Values of column `index` as text (nulls as "NULL"), in result order.
fn texts(batches: &[RecordBatch], index: usize) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        let column = cast(batch.column(index), &DataType::Utf8).unwrap();
        let strings = column.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..strings.len() {
            out.push(if strings.is_null(i) {
                "NULL".into()
            } else {
                strings.value(i).to_string()
            });
        }
    }
    out
}

async fn first_column(session: &TenantSession, sql: &str) -> Vec<String> {
    let (_, batches) = run(session, sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    texts(&batches, 0)
}

async fn scalar(session: &TenantSession, sql: &str) -> i64 {
    let values = first_column(session, sql).await;
    assert_eq!(values.len(), 1, "{sql} returned {values:?}");
    values[0].parse().unwrap()
}

async fn execute_err(session: &TenantSession, plan: LogicalPlan) -> EngineError {
    match session.execute(plan).await {
        Ok(_) => panic!("expected the plan to be refused"),
        Err(e) => e,
    }
}

fn assert_entitled(symbols: &[String], entitled: &[&str], sql: &str) {
    for symbol in symbols {
        assert!(
            entitled.contains(&symbol.as_str()),
            "{sql} leaked {symbol}: {symbols:?}"
        );
    }
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|s| s.to_string()).collect()
}

pub(super) fn workflow_view(session: &TenantSession, name: &str) -> ViewDef {
    // What the workflow compiler does: scan the resolver's source, then transform.
    let source = session.table_resolver().resolve("fct_trades").unwrap();
    let plan = LogicalPlanBuilder::scan("fct_trades", source, None)
        .unwrap()
        .filter(col("side").eq(lit("BUY")))
        .unwrap()
        .project(vec![col("symbol"), col("price")])
        .unwrap()
        .build()
        .unwrap();
    ViewDef {
        name: name.to_string(),
        plan,
        description: Some("Buy trades".into()),
        column_descriptions: vec![("price".into(), "Fill price".into())],
        sql: None,
    }
}

#[tokio::test]
async fn every_query_shape_sees_only_entitled_rows() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let symbol_queries = [
        "SELECT symbol FROM market.fct_trades",
        "SELECT symbol FROM MARKET.FCT_TRADES",
        "SELECT symbol FROM flowforge.market.fct_trades",
        "SELECT symbol FROM market.fct_trades WHERE symbol = 'TSLA' OR 1 = 1",
        "WITH t AS (SELECT * FROM market.fct_trades) SELECT symbol FROM t",
        "SELECT s FROM (SELECT symbol AS s FROM market.fct_trades) sub",
        "SELECT symbol FROM market.fct_trades UNION ALL SELECT symbol FROM market.fct_quotes",
        "SELECT symbol FROM market.dim_instruments WHERE symbol IN (SELECT symbol FROM market.fct_trades)",
        "SELECT d.symbol FROM market.dim_instruments d \
         WHERE EXISTS (SELECT 1 FROM market.fct_trades t WHERE t.symbol = d.symbol)",
        "SELECT t.symbol FROM market.fct_trades t JOIN market.fct_quotes q ON t.symbol = q.symbol",
        "SELECT a.symbol FROM market.fct_trades a JOIN market.fct_trades b ON a.symbol = b.symbol",
        "SELECT symbol FROM (SELECT symbol, row_number() OVER (PARTITION BY symbol ORDER BY price) AS n \
         FROM market.fct_trades) w",
        "SELECT symbol FROM market.dim_instruments",
    ];
    for sql in symbol_queries {
        let symbols = first_column(&a, sql).await;
        assert!(!symbols.is_empty(), "{sql} returned nothing");
        assert_entitled(&symbols, ENTITLED_A, sql);
    }

    let counts = [
        ("SELECT count(*) FROM market.fct_trades", 6),
        ("WITH t AS (SELECT * FROM market.fct_trades) SELECT count(*) FROM t", 6),
        ("SELECT (SELECT count(*) FROM market.fct_trades) AS n", 6),
        ("SELECT (SELECT count(*) FROM market.fct_trades WHERE symbol = 'TSLA') AS n", 0),
        ("SELECT count(*) FROM market.dim_instruments WHERE 'TSLA' IN (SELECT symbol FROM market.fct_trades)", 0),
        ("SELECT count(*) FROM market.dim_instruments WHERE 'AAPL' IN (SELECT symbol FROM market.fct_trades)", 4),
        ("SELECT count(*) FROM (SELECT 1 WHERE EXISTS (SELECT 1 FROM market.fct_trades WHERE symbol = 'TSLA')) e", 0),
        ("SELECT count(*) FROM (SELECT symbol FROM market.fct_trades UNION ALL SELECT symbol FROM market.fct_quotes) u", 8),
        ("SELECT count(*) FROM (SELECT symbol FROM market.fct_trades UNION SELECT symbol FROM market.fct_quotes) u", 3),
        ("SELECT count(*) FROM market.fct_trades t JOIN market.fct_quotes q ON t.symbol = q.symbol", 4),
        ("SELECT count(*) FROM market.fct_trades a JOIN market.fct_trades b ON a.symbol = b.symbol", 14),
        ("SELECT count(*) FROM market.dim_instruments d \
          WHERE EXISTS (SELECT 1 FROM market.fct_trades t WHERE t.symbol = d.symbol)", 3),
        ("SELECT max(n) FROM (SELECT count(*) OVER (PARTITION BY symbol) AS n FROM market.fct_trades) w", 3),
        ("SELECT count(*) FROM market.dim_instruments", 4),
        ("SELECT count(*) FROM (SELECT symbol FROM market.dim_instruments \
          EXCEPT SELECT symbol FROM market.fct_trades) e", 1),
        ("SELECT count(*) FROM (SELECT symbol FROM market.dim_instruments \
          INTERSECT SELECT symbol FROM market.fct_quotes) i", 2),
        ("SELECT count(*) FROM market.fct_trades t, \
          LATERAL (SELECT * FROM market.fct_quotes q WHERE q.symbol = t.symbol) x", 4),
        ("WITH RECURSIVE r(s, n) AS (SELECT symbol, 1 FROM market.fct_trades \
          UNION ALL SELECT s, n + 1 FROM r WHERE n < 2) SELECT count(*) FROM r", 12),
    ];
    for (sql, expected) in counts {
        assert_eq!(scalar(&a, sql).await, expected, "{sql}");
    }

    let distinct: BTreeSet<String> =
        first_column(&a, "SELECT DISTINCT symbol FROM market.fct_trades")
            .await
            .into_iter()
            .collect();
    assert_eq!(distinct, set(&["AAPL", "JPM", "MSFT"]));
}

#[tokio::test]
async fn workflow_views_and_views_of_views_stay_filtered() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    a.register_view(workflow_view(&a, "buys")).unwrap();
    let buys = first_column(&a, "SELECT symbol FROM buys").await;
    // Buys are the even rows within the 6 visible trades.
    assert_eq!(buys.len(), 3, "{buys:?}");
    assert_entitled(&buys, ENTITLED_A, "buys");

    // A view planned from SQL over another view.
    let Planned::Query { plan, .. } = a
        .plan_sql(
            "SELECT symbol, count(*) AS n FROM buys GROUP BY symbol",
            &[],
        )
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    a.register_view(ViewDef {
        name: "buys_by_symbol".into(),
        plan,
        description: None,
        column_descriptions: vec![],
        sql: Some("SELECT symbol, count(*) AS n FROM buys GROUP BY symbol".into()),
    })
    .unwrap();
    let symbols = first_column(
        &a,
        "SELECT symbol FROM buys_by_symbol WHERE symbol <> 'TSLA'",
    )
    .await;
    assert_entitled(&symbols, ENTITLED_A, "buys_by_symbol");
    assert_eq!(scalar(&a, "SELECT sum(n) FROM buys_by_symbol").await, 3);

    let views = a.views();
    assert_eq!(
        views.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["buys", "buys_by_symbol"]
    );
    let price = views[0].columns.iter().find(|c| c.name == "price").unwrap();
    assert_eq!(price.description.as_deref(), Some("Fill price"));
    assert_eq!(price.data_type, DataType::Float64);

    assert!(a.deregister_view("buys_by_symbol").unwrap());
    assert!(matches!(
        a.plan_sql("SELECT * FROM buys_by_symbol", &[]).await,
        Err(EngineError::UnknownRelation { .. })
    ));
}

#[tokio::test]
async fn no_entitlements_means_no_rows() {
    let raw = Raw::new();
    let none = raw.session("none", Role::Admin, &[]);
    assert_eq!(
        scalar(&none, "SELECT count(*) FROM market.fct_trades").await,
        0
    );
    assert_eq!(
        scalar(&none, "SELECT count(*) FROM market.dim_instruments").await,
        0
    );
}

#[tokio::test]
async fn viewers_have_no_market_schema_but_their_views_read_through_the_acl() {
    let raw = Raw::new();
    let viewer = raw.session("b", Role::Viewer, ENTITLED_B);
    let err = viewer
        .plan_sql("SELECT * FROM market.fct_trades", &[])
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), "42P01");
    assert_eq!(
        err.to_string(),
        "relation \"market.fct_trades\" does not exist"
    );

    viewer
        .register_view(workflow_view(&viewer, "b_buys"))
        .unwrap();
    let symbols = first_column(&viewer, "SELECT symbol FROM b_buys").await;
    assert!(!symbols.is_empty());
    assert_entitled(&symbols, ENTITLED_B, "b_buys");

    let schemas: BTreeSet<String> = first_column(
        &viewer,
        "SELECT DISTINCT table_schema FROM information_schema.tables",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(
        schemas,
        set(&["information_schema", "pg_catalog", "public"])
    );
}

#[tokio::test]
async fn catalogs_list_only_the_tenants_objects_and_other_tenants_views_do_not_exist() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let b = raw.session("b", Role::Admin, ENTITLED_B);
    a.register_view(workflow_view(&a, "a_buys")).unwrap();
    b.register_view(workflow_view(&b, "b_secret")).unwrap();

    let listed = |batches: &[RecordBatch]| -> BTreeSet<String> {
        texts(batches, 0)
            .into_iter()
            .zip(texts(batches, 1))
            .map(|(s, t)| format!("{s}.{t}"))
            .collect()
    };
    let (_, batches) = run(
        &a,
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_schema NOT IN ('information_schema', 'pg_catalog')",
    )
    .await
    .unwrap();
    assert_eq!(
        listed(&batches),
        set(&[
            "market.dim_instruments",
            "market.fct_quotes",
            "market.fct_trades",
            "public.a_buys"
        ])
    );
    let catalogs: BTreeSet<String> = first_column(
        &a,
        "SELECT DISTINCT table_catalog FROM information_schema.tables",
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(catalogs, set(&["flowforge"]));

    let shown: BTreeSet<String> = first_column(&a, "SELECT relname FROM pg_catalog.pg_class")
        .await
        .into_iter()
        .collect();
    assert!(
        shown.contains("a_buys") && shown.contains("fct_trades"),
        "{shown:?}"
    );
    assert!(!shown.contains("b_secret"), "{shown:?}");

    for sql in [
        "SELECT * FROM b_secret",
        "SELECT * FROM public.b_secret",
        "SELECT count(*) FROM market.fct_trades WHERE symbol IN (SELECT symbol FROM b_secret)",
    ] {
        let err = a.plan_sql(sql, &[]).await.unwrap_err();
        assert!(
            matches!(&err, EngineError::UnknownRelation { name } if name.ends_with("b_secret")),
            "{sql}: {err}"
        );
        assert_eq!(err.sqlstate(), "42P01");
    }
    // PostgreSQL search_path semantics: bare names resolve in public only.
    let err = a
        .plan_sql("SELECT * FROM fct_trades", &[])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "relation \"fct_trades\" does not exist");
}

#[tokio::test]
async fn the_analyzer_rule_refuses_raw_scans_even_inside_subqueries() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);

    // A plan compiled against the raw provider instead of the session's resolver.
    let raw_plan = LogicalPlanBuilder::scan(
        "fct_trades",
        provider_as_source(Arc::clone(&raw.trades)),
        None,
    )
    .unwrap()
    .project(vec![col("symbol")])
    .unwrap()
    .build()
    .unwrap();
    let err = execute_err(&a, raw_plan.clone()).await;
    assert!(
        matches!(err, EngineError::AclViolation { ref table, .. } if table == "fct_trades"),
        "{err}"
    );
    assert_eq!(err.sqlstate(), "XX000");
    let err = a
        .register_view(ViewDef {
            name: "sneaky".into(),
            plan: raw_plan.clone(),
            description: None,
            column_descriptions: vec![],
            sql: None,
        })
        .unwrap_err();
    assert!(matches!(err, EngineError::AclViolation { .. }), "{err}");

    // The raw scan hidden in an IN (subquery) under an otherwise legitimate plan.
    let instruments = a.table_resolver().resolve("dim_instruments").unwrap();
    let hidden = LogicalPlanBuilder::scan("dim_instruments", instruments, None)
        .unwrap()
        .filter(in_subquery(col("symbol"), Arc::new(raw_plan)))
        .unwrap()
        .build()
        .unwrap();
    let err = execute_err(&a, hidden).await;
    assert!(matches!(err, EngineError::AclViolation { .. }), "{err}");

    // Another tenant's filter over the same raw provider is not this tenant's filter.
    let b = raw.session("b", Role::Analyst, ENTITLED_B);
    let foreign = LogicalPlanBuilder::scan(
        "fct_trades",
        b.table_resolver().resolve("fct_trades").unwrap(),
        None,
    )
    .unwrap()
    .build()
    .unwrap();
    let err = execute_err(&a, foreign).await;
    assert!(matches!(err, EngineError::AclViolation { .. }), "{err}");
}

#[tokio::test]
async fn the_analyzer_rule_is_idempotent_and_leaves_plans_unchanged() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let Planned::Query { plan, .. } = a
        .plan_sql("SELECT symbol FROM market.fct_trades WHERE price IN (SELECT price FROM market.fct_quotes)", &[])
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    let options = datafusion::config::ConfigOptions::default();
    let once = a.guard.analyze(plan.clone(), &options).unwrap();
    let twice = a.guard.analyze(once.clone(), &options).unwrap();
    assert_eq!(once, plan);
    assert_eq!(twice, plan);
}

#[tokio::test]
async fn writes_are_refused_before_planning() {
    let raw = Raw::new();
    let admin = raw.session("a", Role::Admin, ENTITLED_A);
    for (sql, kind) in [
        (
            "INSERT INTO market.fct_trades (symbol) VALUES ('TSLA')",
            "INSERT",
        ),
        ("UPDATE market.fct_trades SET price = 0", "UPDATE"),
        ("DELETE FROM market.fct_trades", "DELETE"),
        ("CREATE TABLE x (a int)", "CREATE TABLE"),
        (
            "CREATE VIEW v AS SELECT * FROM market.fct_trades",
            "CREATE VIEW",
        ),
        ("DROP TABLE market.fct_trades", "DROP TABLE"),
        ("COPY market.fct_trades FROM STDIN", "COPY FROM"),
        ("COPY (SELECT 1) TO 'out.csv'", "COPY TO"),
        ("TRUNCATE market.fct_trades", "TRUNCATE TABLE"),
        ("GRANT SELECT ON market.fct_trades TO public", "GRANT"),
        ("SELECT * INTO stolen FROM market.fct_trades", "SELECT INTO"),
    ] {
        let err = admin.plan_sql(sql, &[]).await.unwrap_err();
        assert!(
            matches!(&err, EngineError::ReadOnly { statement } if statement == kind),
            "{sql}: {err:?}"
        );
        assert_eq!(err.sqlstate(), "25006", "{sql}");
        assert_eq!(
            err.to_string(),
            format!("cannot execute {kind} in a read-only transaction")
        );
    }
}

#[tokio::test]
async fn errors_carry_postgres_sqlstates() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let err = a
        .plan_sql("SELEC symbol FROM market.fct_trades", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Syntax {
                position: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), "42601");

    let err = a.plan_sql("SELECT * FROM nope", &[]).await.unwrap_err();
    assert_eq!(err.to_string(), "relation \"nope\" does not exist");
    assert_eq!(err.sqlstate(), "42P01");

    let err = a
        .plan_sql("SELECT nope FROM market.fct_trades", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::UnknownColumn { name } if name == "nope"),
        "{err:?}"
    );
    assert_eq!(err.sqlstate(), "42703");

    let err = a
        .plan_sql("SELECT sum(symbol) FROM market.fct_trades", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Plan(_)), "{err:?}");
    assert!(
        err.to_string().contains("sum") && !err.to_string().contains("bug"),
        "{err}"
    );

    assert!(matches!(a.plan_sql("  ;  ", &[]).await, Ok(Planned::Empty)));

    let err = run(&a, "SELECT 1 / 0").await.unwrap_err();
    assert_eq!(err.sqlstate(), "22012", "{err}");
}

#[tokio::test]
async fn output_columns_have_postgres_names() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let cases: &[(&str, &[&str])] = &[
        (
            "SELECT count(*), sum(quantity), max(price) FROM market.fct_trades",
            &["count", "sum", "max"],
        ),
        (
            "SELECT symbol, quantity::int, upper(symbol), 1, t.price FROM market.fct_trades t",
            &["symbol", "quantity", "upper", "?column?", "price"],
        ),
        (
            "SELECT symbol, count(*) FROM market.fct_trades GROUP BY symbol ORDER BY count(*) DESC",
            &["symbol", "count"],
        ),
        ("SELECT 1, 2 + 3", &["?column?", "?column?"]),
        (
            "SELECT * FROM market.fct_quotes",
            &["symbol", "bid", "ask", "bid_size", "ask_size", "event_time"],
        ),
        (
            "SELECT price AS \"Price\", 1::int FROM market.fct_trades",
            &["Price", "int4"],
        ),
    ];
    for (sql, expected) in cases {
        let Planned::Query { plan, output_names } = a.plan_sql(sql, &[]).await.unwrap() else {
            panic!("expected a query")
        };
        assert_eq!(&output_names, expected, "{sql}");
        let unique = expected.iter().collect::<BTreeSet<_>>().len() == expected.len();
        if unique {
            let planned: Vec<&str> = plan
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            assert_eq!(&planned, expected, "{sql}");
        }
        // Renamed plans still run.
        a.execute(plan)
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn parameters_are_typed_bound_and_still_filtered() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let Planned::Query { plan, .. } = a
        .plan_sql(
            "SELECT count(*) FROM market.fct_trades WHERE price > $1 AND symbol = $2",
            &[],
        )
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    assert_eq!(
        parameter_types(&plan),
        vec![Some(DataType::Float64), Some(DataType::Utf8)]
    );

    let count = |symbol: &str| {
        bind(
            plan.clone(),
            vec![
                ScalarValue::Float64(Some(0.0)),
                ScalarValue::Utf8(Some(symbol.into())),
            ],
        )
        .unwrap()
    };
    let collect = |plan: LogicalPlan| async {
        let batches = a
            .execute(plan)
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        texts(&batches, 0)
    };
    assert_eq!(collect(count("AAPL")).await, ["3"]);
    assert_eq!(collect(count("TSLA")).await, ["0"]);

    let err = execute_err(&a, plan.clone()).await;
    assert!(matches!(err, EngineError::InvalidParameter(_)), "{err}");
    let err = bind(plan, vec![ScalarValue::Float64(Some(1.0))]).unwrap_err();
    assert_eq!(err.sqlstate(), "22023");

    // Declared types win over inference, as with a PostgreSQL Parse message.
    let Planned::Query { plan, output_names } = a
        .plan_sql("SELECT $1 AS x", &[DataType::Int64])
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    assert_eq!(output_names, ["x"]);
    assert_eq!(parameter_types(&plan), vec![Some(DataType::Int64)]);
    assert_eq!(plan.schema().field(0).data_type(), &DataType::Int64);
    let bound = bind(plan, vec![ScalarValue::Int64(Some(7))]).unwrap();
    assert_eq!(collect(bound).await, ["7"]);

    // Declared types on a market query keep the entitlement filter intact.
    let Planned::Query { plan, .. } = a
        .plan_sql(
            "SELECT count(*) FROM market.fct_trades WHERE symbol <> $1",
            &[DataType::Utf8],
        )
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    let bound = bind(plan, vec![ScalarValue::Utf8(Some("MSFT".into()))]).unwrap();
    assert_eq!(collect(bound).await, ["4"]);

    // A view must not need parameters.
    let Planned::Query { plan, .. } = a
        .plan_sql("SELECT symbol FROM market.fct_trades WHERE price > $1", &[])
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    let view = ViewDef {
        name: "needs_params".into(),
        plan,
        description: None,
        column_descriptions: vec![],
        sql: None,
    };
    assert!(matches!(
        a.register_view(view),
        Err(EngineError::InvalidView { .. })
    ));
}

#[test]
fn sessions_and_their_futures_can_move_between_tasks() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    send_sync(&a);
    send(&a.plan_sql("SELECT 1", &[]));
    send(&a.execute(LogicalPlanBuilder::empty(true).build().unwrap()));
}

#[tokio::test]
async fn explain_shows_the_plan_and_the_backend_sql_with_the_entitlement_filter() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let Planned::Explain { lines } = a
        .plan_sql(
            "EXPLAIN SELECT symbol, price FROM market.fct_trades WHERE price > 10",
            &[],
        )
        .await
        .unwrap()
    else {
        panic!("expected an explanation")
    };
    let text = lines.join("\n");
    assert_eq!(lines[0], "Logical plan:");
    assert!(text.contains("TableScan: fct_trades"), "{text}");
    let sql_at = lines
        .iter()
        .position(|l| l.starts_with("Backend SQL"))
        .unwrap();
    let sql = lines[sql_at + 1..].join("\n");
    assert!(sql.contains("SELECT"), "{sql}");
    assert!(sql.contains("IN ('AAPL', 'JPM', 'MSFT', 'NVDA')"), "{sql}");
    assert!(!text.contains("Analyzed plan"));

    let verbose = a
        .plan_sql(
            "EXPLAIN VERBOSE SELECT count(*) FROM market.fct_trades",
            &[],
        )
        .await
        .unwrap();
    let (plan, names) = verbose.into_query().unwrap().unwrap();
    assert_eq!(names, [EXPLAIN_COLUMN]);
    let batches = a
        .execute(plan)
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(batches[0].schema().field(0).name(), "QUERY PLAN");
    let rows = texts(&batches, 0);
    assert!(
        rows.iter()
            .any(|l| l == "Analyzed plan (before optimization):"),
        "{rows:?}"
    );
    assert!(
        !rows.iter().any(|l| l.contains("DataSourceExec")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn session_functions_answer_like_postgres() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    let (names, batches) = run(
        &a,
        "SELECT version(), current_user, session_user, current_database(), current_schema()",
    )
    .await
    .unwrap();
    assert_eq!(
        names,
        [
            "version",
            "current_user",
            "session_user",
            "current_database",
            "current_schema"
        ]
    );
    let row: Vec<String> = (0..5).map(|i| texts(&batches, i).remove(0)).collect();
    assert_eq!(row[0], version_string());
    assert!(row[0].starts_with("PostgreSQL 16.4 on x86_64-pc-linux-gnu, compiled by FlowForge "));
    assert_eq!(
        &row[1..],
        ["a@example.test", "a@example.test", "flowforge", "public"]
    );

    let (_, batches) = run(&a, "SELECT array_to_string(current_schemas(true), ',')")
        .await
        .unwrap();
    assert_eq!(texts(&batches, 0), ["pg_catalog,public"]);
}

#[tokio::test]
async fn postgres_array_literals_and_cast_parameters_behave_like_postgres() {
    let raw = Raw::new();
    let a = raw.session("a", Role::Analyst, ENTITLED_A);
    // '{..}'::text[] is parsed as an array literal, not wrapped as one string.
    let sql = "SELECT count(*) FROM market.fct_trades WHERE symbol = ANY('{AAPL,TSLA}'::text[])";
    assert_eq!(scalar(&a, sql).await, 3, "{sql}");
    // An untyped parameter takes the type it is cast to.
    let Planned::Query { plan, .. } = a
        .plan_sql(
            "SELECT count(*) FROM market.fct_trades WHERE symbol = ANY($1::text[])",
            &[],
        )
        .await
        .unwrap()
    else {
        panic!("expected a query")
    };
    let list = DataType::List(Arc::new(
        datafusion::arrow::datatypes::Field::new_list_field(DataType::Utf8View, true),
    ));
    assert_eq!(parameter_types(&plan), vec![Some(list)]);
}
