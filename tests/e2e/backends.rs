//! The backends against real engines loaded with the same sample data as the embedded one: the
//! real ClickHouse engine (chdb behind the test services' HTTP endpoint) and PostgreSQL standing
//! in for Materialize. The same queries answer the same rows as on the embedded engine; a
//! single-backend query is one ClickHouse request carrying the tenant's entitlement filter;
//! EXPLAIN shows the SQL ClickHouse receives; a query spanning backends joins locally.
//!
//! Needs `FLOWFORGE_TEST_CLICKHOUSE_URL`, `FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG` and
//! `FLOWFORGE_TEST_PG_URL` (set by the test command's services,
//! `deploy/scripts/with-test-services.sh`).

use std::process::Command;

use super::server::TestServer;

pub(super) fn service(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with `make test` (it starts the test services)")
    })
}

/// Rows of `sql` as `|`-separated lines, numbers rounded to 6 significant digits so float
/// sums that differ only in the last bits (summation order) compare equal.
pub(super) fn rows(server: &TestServer, user: &str, password: &str, sql: &str) -> Vec<String> {
    let out = Command::new("psql")
        .arg(server.dsn(user, password))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{sql}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            line.split('|')
                .map(|cell| match cell.parse::<f64>() {
                    Ok(v) if cell.contains('.') => format!("{v:.6e}"),
                    _ => cell.to_string(),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Lines of the endpoint's query log (one per request it received) sent by `server` (its
/// query ids carry its process id; other tests share the endpoint).
pub(super) fn query_log(server: &TestServer) -> Vec<serde_json::Value> {
    let path = service("FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG");
    let prefix = format!("flowforge-{}-", server.pid());
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|entry| {
            entry["query_id"]
                .as_str()
                .is_some_and(|id| id.starts_with(&prefix))
        })
        .collect()
}

pub(super) const ANALYST: (&str, &str) = ("analyst@tenant-a.test", "analyst123");

/// Client queries over the workflow views and serving tables: filters, aggregates, joins,
/// windows, ORDER BY/LIMIT and date functions.
const QUERIES: &[&str] = &[
    "SELECT * FROM trades_by_symbol ORDER BY symbol",
    "SELECT sector, notional FROM notional_by_sector ORDER BY sector",
    "SELECT * FROM hourly_ohlcv ORDER BY bucket, symbol LIMIT 50",
    "SELECT * FROM vwap ORDER BY trade_id LIMIT 50",
    "SELECT * FROM large_trades ORDER BY trade_id LIMIT 50",
    "SELECT symbol, count(*) FROM market.fct_trades GROUP BY 1 ORDER BY 1",
    "SELECT symbol, count(*) AS n FROM market.fct_trades WHERE side = 'BUY' AND quantity > 500 GROUP BY symbol HAVING count(*) > 10 ORDER BY n DESC, symbol",
    "SELECT date_trunc('day', event_time) AS day, count(*) FROM market.fct_trades GROUP BY 1 ORDER BY 1",
    "SELECT t.symbol, i.sector, sum(t.quantity) FROM market.fct_trades t JOIN market.dim_instruments i ON i.symbol = t.symbol GROUP BY 1, 2 ORDER BY 1",
    "SELECT symbol, max(price) - min(price) AS spread FROM market.fct_trades GROUP BY symbol ORDER BY symbol",
    "SELECT trade_id, symbol, price FROM market.fct_trades WHERE symbol IN ('AAPL', 'TSLA') ORDER BY trade_id LIMIT 20",
    "SELECT count(DISTINCT symbol), min(event_time), max(event_time) FROM market.fct_trades",
    "SELECT symbol, volume FROM trades_by_symbol WHERE volume > (SELECT avg(volume) FROM trades_by_symbol) ORDER BY symbol",
    "SELECT trade_id, row_number() OVER (PARTITION BY symbol ORDER BY trade_id) AS rn FROM market.fct_trades ORDER BY trade_id LIMIT 30",
    "SELECT symbol, avg(bid), avg(ask), max(ask - bid) FROM market.fct_quotes GROUP BY symbol ORDER BY symbol",
    "SELECT symbol, count(*) FROM market.fct_quotes WHERE bid_size > 500 AND ask_size < 900 GROUP BY 1 ORDER BY 1",
    "SELECT symbol, name, sector, exchange, currency FROM market.dim_instruments ORDER BY symbol",
    "SELECT sector, count(*) FROM market.dim_instruments GROUP BY sector ORDER BY sector",
    "SELECT symbol, bucket, open, high, low, close, volume, trade_count FROM market.agg_ohlcv_1d ORDER BY symbol, bucket",
    "SELECT symbol, sum(volume), max(high), min(low) FROM market.agg_ohlcv_1h GROUP BY symbol ORDER BY symbol",
    "SELECT symbol, date_trunc('hour', event_time) AS h, sum(quantity), max(price), min(price), count(*) FROM market.fct_trades GROUP BY 1, 2 ORDER BY 1, 2 LIMIT 40",
    "SELECT account, symbol, quantity, market_value FROM market.live_positions ORDER BY account, symbol",
    "SELECT account, sum(total_pnl) AS pnl FROM market.live_pnl GROUP BY account ORDER BY account",
    "SELECT p.account, p.symbol, p.quantity, l.total_pnl FROM market.live_positions p JOIN market.live_pnl l ON l.account = p.account AND l.symbol = p.symbol ORDER BY 1, 2",
    "SELECT side, count(*), sum(quantity) FROM market.fct_trades GROUP BY side ORDER BY side",
    "SELECT exchange, count(DISTINCT symbol) FROM market.fct_trades GROUP BY exchange ORDER BY exchange",
    "SELECT symbol, count(*) FROM market.fct_trades WHERE event_time >= '2026-01-01' AND event_time < '2026-01-03' GROUP BY 1 ORDER BY 1",
    "SELECT symbol, price FROM market.fct_trades WHERE price BETWEEN 100 AND 200 ORDER BY trade_id LIMIT 25",
    "SELECT symbol, count(*) FROM market.fct_trades WHERE symbol LIKE 'A%' GROUP BY 1 ORDER BY 1",
    "SELECT trade_id FROM market.fct_trades WHERE quantity IN (100, 200, 300) ORDER BY trade_id LIMIT 25",
    "SELECT trade_id, symbol FROM market.fct_trades ORDER BY trade_id DESC LIMIT 10 OFFSET 5",
    "SELECT symbol, CASE WHEN quantity >= 1000 THEN 'block' ELSE 'retail' END AS kind, count(*) FROM market.fct_trades GROUP BY 1, 2 ORDER BY 1, 2",
    "SELECT symbol, round(avg(price), 2) FROM market.fct_trades GROUP BY symbol ORDER BY symbol",
    "SELECT t.trade_id, t.price, i.name FROM market.fct_trades t LEFT JOIN market.dim_instruments i ON i.symbol = t.symbol ORDER BY t.trade_id LIMIT 20",
    "SELECT symbol FROM market.dim_instruments WHERE symbol IN (SELECT symbol FROM market.fct_trades WHERE quantity > 4000) ORDER BY 1",
    "SELECT symbol FROM market.dim_instruments i WHERE EXISTS (SELECT 1 FROM market.live_positions p WHERE p.symbol = i.symbol) ORDER BY 1",
    "WITH daily AS (SELECT symbol, date_trunc('day', event_time) AS d, sum(quantity) AS v FROM market.fct_trades GROUP BY 1, 2) SELECT symbol, max(v) FROM daily GROUP BY symbol ORDER BY symbol",
    "SELECT symbol, trade_id, lag(price) OVER (PARTITION BY symbol ORDER BY trade_id) AS prev FROM market.fct_trades ORDER BY trade_id LIMIT 30",
    "SELECT symbol, rank() OVER (ORDER BY volume DESC) FROM trades_by_symbol ORDER BY symbol",
    "SELECT symbol FROM market.fct_trades WHERE side = 'BUY' UNION SELECT symbol FROM market.live_positions ORDER BY 1",
    "SELECT symbol, max(vwap) FROM vwap GROUP BY symbol ORDER BY symbol",
    "SELECT symbol, count(*) FROM large_trades GROUP BY symbol ORDER BY symbol",
    "SELECT sector FROM notional_by_sector WHERE notional > 1000000 ORDER BY sector",
    "SELECT * FROM market.live_quotes ORDER BY symbol",
    "SELECT q.symbol, q.ask - q.bid AS spread, i.sector FROM market.live_quotes q JOIN market.dim_instruments i ON i.symbol = q.symbol ORDER BY 1",
];

#[test]
fn clickhouse_answers_like_the_embedded_engine_in_one_request_per_query() {
    let url = service("FLOWFORGE_TEST_CLICKHOUSE_URL");
    let embedded = TestServer::start(&[]);
    let clickhouse = TestServer::start(&["--clickhouse-url", &url]);
    let (user, password) = ANALYST;

    let mut mismatches = Vec::new();
    for sql in QUERIES {
        let expected = rows(&embedded, user, password, sql);
        assert!(
            !expected.is_empty(),
            "{sql} returns no rows on the embedded engine"
        );
        let before = query_log(&clickhouse).len();
        let got = rows(&clickhouse, user, password, sql);
        let log = query_log(&clickhouse);
        let requests = &log[before..];
        if got != expected {
            mismatches.push(format!(
                "{sql}\n  embedded:   {:?}\n  clickhouse: {:?}",
                &expected[..expected.len().min(3)],
                &got[..got.len().min(3)]
            ));
        }
        if requests.len() != 1 {
            mismatches.push(format!(
                "{sql}\n  {} ClickHouse requests, expected exactly one: {:?}",
                requests.len(),
                requests
                    .iter()
                    .map(|r| r["query"].to_string())
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let backend_sql = requests[0]["query"].as_str().unwrap_or_default();
        if !backend_sql.contains("IN ('AAPL', 'AMZN', 'GOOGL', 'JPM', 'MSFT', 'NVDA')") {
            mismatches.push(format!(
                "{sql}\n  the tenant's entitlement filter is missing from the backend SQL: {backend_sql}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    let explained = rows(
        &clickhouse,
        user,
        password,
        "EXPLAIN SELECT * FROM large_trades WHERE symbol = 'NVDA'",
    )
    .join("\n");
    assert!(
        explained.contains("Backend SQL (clickhouse, the whole query in one request):"),
        "{explained}"
    );
    assert!(explained.contains("`fct_trades`"), "{explained}");
    // EXPLAIN shows exactly the statement ClickHouse then receives.
    let shown: Vec<&str> = explained
        .lines()
        .skip_while(|l| !l.starts_with("Backend SQL (clickhouse"))
        .skip(1)
        .flat_map(str::split_whitespace)
        .collect();
    let before = query_log(&clickhouse).len();
    rows(
        &clickhouse,
        user,
        password,
        "SELECT * FROM large_trades WHERE symbol = 'NVDA'",
    );
    let log = query_log(&clickhouse);
    let received: Vec<&str> = log[before..]
        .iter()
        .filter_map(|r| r["query"].as_str())
        .flat_map(str::split_whitespace)
        .collect();
    assert_eq!(received, shown);
}

#[test]
fn another_tenant_gets_only_its_symbols_from_clickhouse() {
    let url = service("FLOWFORGE_TEST_CLICKHOUSE_URL");
    let clickhouse = TestServer::start(&["--clickhouse-url", &url]);
    let symbols = rows(
        &clickhouse,
        "admin@tenant-b.test",
        "admin123",
        "SELECT DISTINCT symbol FROM market.fct_trades ORDER BY 1",
    );
    assert_eq!(symbols, ["BAC", "GS", "JPM", "META", "TSLA"]);
}

/// Differences between the embedded engine and `other` over `QUERIES`, as readable lines.
fn differences(embedded: &TestServer, other: &TestServer, queries: &[&str]) -> Vec<String> {
    let (user, password) = ANALYST;
    queries
        .iter()
        .filter_map(|sql| {
            let expected = rows(embedded, user, password, sql);
            let got = rows(other, user, password, sql);
            (got != expected).then(|| {
                format!(
                    "{sql}\n  embedded: {:?}\n  backend:  {:?}",
                    &expected[..expected.len().min(3)],
                    &got[..got.len().min(3)]
                )
            })
        })
        .collect()
}

#[test]
fn postgres_standing_in_for_materialize_answers_like_the_embedded_engine() {
    let url = service("FLOWFORGE_TEST_PG_URL");
    let embedded = TestServer::start(&[]);
    let materialize =
        TestServer::start(&["--materialize-url", &url, "--materialize-tables", "all"]);
    let differences = differences(&embedded, &materialize, QUERIES);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn live_tables_on_materialize_join_clickhouse_tables_locally() {
    let embedded = TestServer::start(&[]);
    let routed = TestServer::start(&[
        "--clickhouse-url",
        &service("FLOWFORGE_TEST_CLICKHOUSE_URL"),
        "--materialize-url",
        &service("FLOWFORGE_TEST_PG_URL"),
    ]);
    let queries = [
        "SELECT p.symbol, i.sector, sum(p.market_value) FROM market.live_positions p \
         JOIN market.dim_instruments i ON i.symbol = p.symbol GROUP BY 1, 2 ORDER BY 1",
        "SELECT account, count(*) FROM market.live_positions GROUP BY 1 ORDER BY 1",
    ];
    let differences = differences(&embedded, &routed, &queries);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let (user, password) = ANALYST;
    let explained = rows(&routed, user, password, &format!("EXPLAIN {}", queries[0])).join("\n");
    assert!(
        explained.contains("Backend SQL (2 requests, joined here):")
            && explained.contains("materialize: SELECT")
            && explained.contains("clickhouse: SELECT"),
        "{explained}"
    );
}

/// Queries mixing ClickHouse and Materialize tables in unions, CTEs, windows, DISTINCT
/// aggregates, outer joins and IN subqueries.
const SPANNING_QUERIES: &[&str] = &[
    "SELECT symbol FROM market.fct_trades WHERE quantity > 4000 UNION SELECT symbol FROM market.live_positions ORDER BY 1",
    "WITH top AS (SELECT symbol, sum(quantity) v FROM market.fct_trades GROUP BY 1 ORDER BY 2 DESC LIMIT 3) SELECT p.account, top.symbol, top.v FROM top JOIN market.live_positions p ON p.symbol = top.symbol ORDER BY 1, 2",
    "SELECT p.account, p.symbol, w.rn FROM market.live_positions p JOIN (SELECT symbol, trade_id, row_number() OVER (PARTITION BY symbol ORDER BY price DESC, trade_id) rn FROM market.fct_trades) w ON w.symbol = p.symbol AND w.rn <= 2 ORDER BY 1, 2, 3",
    "SELECT l.account, count(DISTINCT t.exchange) FROM market.live_pnl l JOIN market.fct_trades t ON t.symbol = l.symbol GROUP BY 1 ORDER BY 1",
    "SELECT i.sector, sum(p.market_value) FROM market.dim_instruments i LEFT JOIN market.live_positions p ON p.symbol = i.symbol GROUP BY 1 ORDER BY 1",
    "SELECT symbol FROM market.dim_instruments WHERE symbol IN (SELECT symbol FROM market.live_pnl WHERE total_pnl > 0) AND symbol IN (SELECT symbol FROM market.fct_trades WHERE quantity > 3000) ORDER BY 1",
    "SELECT x.symbol, x.n, y.m FROM (SELECT symbol, count(*) n FROM market.fct_trades GROUP BY 1) x JOIN (SELECT symbol, count(*) m FROM market.fct_quotes GROUP BY 1) y ON x.symbol = y.symbol JOIN market.live_pnl l ON l.symbol = x.symbol ORDER BY 1, 2",
];

/// A query spanning backends sends each backend its largest single-backend subtree: the
/// ClickHouse join + aggregate is one ClickHouse statement (entitlement filter included), only
/// the Materialize view's rows are joined locally, and the answer is the embedded engine's.
#[test]
fn each_backend_gets_its_largest_subtree_when_a_query_spans_backends() {
    let embedded = TestServer::start(&[]);
    let routed = TestServer::start(&[
        "--clickhouse-url",
        &service("FLOWFORGE_TEST_CLICKHOUSE_URL"),
        "--materialize-url",
        &service("FLOWFORGE_TEST_PG_URL"),
        "--result-cache-ttl",
        "0",
    ]);
    let queries = [
        "SELECT p.account, x.sector, x.volume, p.quantity FROM market.live_positions p \
         JOIN (SELECT i.sector, t.symbol, sum(t.quantity) AS volume FROM market.fct_trades t \
         JOIN market.dim_instruments i ON i.symbol = t.symbol WHERE t.side = 'BUY' \
         GROUP BY 1, 2) x ON x.symbol = p.symbol ORDER BY 1, 2, 3",
        "SELECT t.symbol, i.sector, count(*), sum(l.total_pnl) FROM market.fct_trades t \
         JOIN market.dim_instruments i ON i.symbol = t.symbol \
         JOIN market.live_pnl l ON l.symbol = t.symbol GROUP BY 1, 2 ORDER BY 1",
    ];
    let mut all = queries.to_vec();
    all.extend_from_slice(SPANNING_QUERIES);
    let differences = differences(&embedded, &routed, &all);
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    let (user, password) = ANALYST;
    for sql in queries {
        let before = query_log(&routed).len();
        rows(&routed, user, password, sql);
        let log = query_log(&routed);
        let requests: Vec<&str> = log[before..]
            .iter()
            .filter_map(|r| r["query"].as_str())
            .collect();
        assert_eq!(requests.len(), 1, "one ClickHouse statement: {requests:?}");
        let statement = requests[0];
        assert!(
            statement.contains("JOIN")
                && statement.contains("IN ('AAPL', 'AMZN', 'GOOGL', 'JPM', 'MSFT', 'NVDA')"),
            "the join (and the entitlement filter) ran in ClickHouse: {statement}"
        );
        assert!(
            !statement.contains("live_p"),
            "Materialize's table is not ClickHouse's: {statement}"
        );
    }
    let explained = rows(&routed, user, password, &format!("EXPLAIN {}", queries[0])).join("\n");
    assert!(
        explained.contains("PushedSubtree: backend=clickhouse"),
        "{explained}"
    );
    assert!(explained.contains("GROUP BY"), "{explained}");
}

#[test]
fn tenant_b_workflow_view_answers_alike_on_clickhouse() {
    let embedded = TestServer::start(&[]);
    let clickhouse = TestServer::start(&[
        "--clickhouse-url",
        &service("FLOWFORGE_TEST_CLICKHOUSE_URL"),
    ]);
    let sorted = |server: &TestServer| {
        let mut lines = rows(
            server,
            "admin@tenant-b.test",
            "admin123",
            "SELECT * FROM bank_exposure",
        );
        lines.sort();
        lines
    };
    let expected = sorted(&embedded);
    assert!(!expected.is_empty());
    assert_eq!(sorted(&clickhouse), expected);
}

#[test]
fn identical_queries_share_one_clickhouse_run_per_tenant() {
    let url = service("FLOWFORGE_TEST_CLICKHOUSE_URL");
    let server = TestServer::start(&["--clickhouse-url", &url]);
    let sql = "SELECT symbol, sum(quantity) AS cached_volume FROM market.fct_trades \
               WHERE price > 1 GROUP BY symbol ORDER BY symbol";
    let requests = |server: &TestServer| {
        query_log(server)
            .iter()
            .filter(|r| {
                r["query"]
                    .as_str()
                    .is_some_and(|q| q.contains("cached_volume"))
            })
            .count()
    };
    // A dashboard's burst of identical queries: one backend run.
    let (user, password) = ANALYST;
    let results: Vec<Vec<String>> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| rows(&server, user, password, sql)))
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("psql thread"))
            .collect()
    });
    assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
    assert_eq!(
        requests(&server),
        1,
        "concurrent identical queries ran once"
    );
    // Later: answered from the cache.
    assert_eq!(rows(&server, user, password, sql), results[0]);
    assert_eq!(requests(&server), 1, "a repeat is a cache hit");
    // Another tenant never shares the entry: its entitlement filter is in the key.
    let other = rows(&server, "admin@tenant-b.test", "admin123", sql);
    assert_ne!(other, results[0]);
    assert_eq!(requests(&server), 2);

    // With the cache off every query reaches ClickHouse.
    let uncached = TestServer::start(&["--clickhouse-url", &url, "--result-cache-ttl", "0"]);
    rows(&uncached, user, password, sql);
    rows(&uncached, user, password, sql);
    assert_eq!(requests(&uncached), 2);
}

/// A fresh schema in the catalog test database, and a catalog URL whose connections use it.
pub(super) fn private_catalog_url(name: &str) -> String {
    let base = service("FLOWFORGE_TEST_CATALOG_PG_URL");
    let schema = format!("{name}_{}", std::process::id());
    let out = Command::new("psql")
        .arg(&base)
        .args([
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
        ])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
}

#[test]
fn the_catalog_can_live_in_postgresql_for_logins_views_and_api_keys() {
    let catalog = private_catalog_url("serve_catalog");
    let server = TestServer::start(&["--catalog-url", &catalog]);
    let (user, password) = ANALYST;
    let views = rows(
        &server,
        user,
        password,
        "SELECT symbol FROM trades_by_symbol ORDER BY 1",
    );
    assert_eq!(views, ["AAPL", "AMZN", "GOOGL", "JPM", "MSFT", "NVDA"]);

    let out = Command::new(super::server::binary())
        .args([
            "api-key", "create", "--tenant", "tenant-b", "--name", "grafana",
        ])
        .args(["--catalog-url", &catalog])
        .output()
        .expect("api-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |label: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label} in {created}"))
    };
    let symbols = rows(
        &server,
        &field("public id"),
        &field("secret"),
        "SELECT DISTINCT symbol FROM trades_by_symbol ORDER BY 1",
    );
    assert_eq!(symbols, ["BAC", "GS", "JPM", "META", "TSLA"]);
}

/// Changing a published workflow changes the key of every cached result that reads it: the
/// next query over the view runs the new definition on ClickHouse instead of answering from
/// the cache, and is cached again from then on.
#[test]
fn editing_a_published_workflow_invalidates_its_cached_results() {
    let server = TestServer::start(&[
        "--clickhouse-url",
        &service("FLOWFORGE_TEST_CLICKHOUSE_URL"),
    ]);
    let (user, password) = ANALYST;
    let sql = "SELECT symbol, volume FROM trades_by_symbol ORDER BY symbol";
    let requests = |server: &TestServer| {
        query_log(server)
            .iter()
            .filter(|r| r["query"].as_str().is_some_and(|q| q.contains("GROUP BY")))
            .count()
    };
    let before = rows(&server, user, password, sql);
    rows(&server, user, password, sql);
    assert_eq!(requests(&server), 1, "the repeat is a cache hit");

    let api = format!("http://{}/api/v1", server.http);
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{api}/auth/login"))
        .json(&serde_json::json!({"email": user, "password": password}))
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("login");
    let token = login["token"].as_str().expect("token").to_string();
    let page: serde_json::Value = http
        .get(format!("{api}/workflows?limit=100"))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.json())
        .expect("list workflows");
    let id = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|w| w["view_name"] == "trades_by_symbol"))
        .and_then(|w| w["id"].as_str())
        .expect("the demo workflow")
        .to_string();
    let workflow: serde_json::Value = http
        .get(format!("{api}/workflows/{id}"))
        .bearer_auth(&token)
        .send()
        .and_then(|r| r.json())
        .expect("get workflow");
    let mut definition = workflow["definition"].clone();
    let aggregations = definition["nodes"]
        .as_array_mut()
        .and_then(|nodes| nodes.iter_mut().find(|n| n["id"] == "by_symbol"))
        .and_then(|node| node["config"]["aggregations"].as_array_mut())
        .expect("group-by node");
    for aggregation in aggregations.iter_mut() {
        if aggregation["alias"] == "volume" {
            aggregation["function"] = "max".into();
        }
    }
    http.patch(format!("{api}/workflows/{id}"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"definition": definition, "note": "volume is the largest fill"}))
        .send()
        .and_then(|r| r.error_for_status())
        .expect("update the workflow");

    let after = rows(&server, user, password, sql);
    assert_ne!(after, before, "the new definition answers");
    assert_eq!(requests(&server), 2, "not from the old cache entry");
    assert_eq!(rows(&server, user, password, sql), after);
    assert_eq!(requests(&server), 2, "the new result is cached in turn");
}
