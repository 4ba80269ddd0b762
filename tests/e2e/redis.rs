//! Redis as a serving backend and shared cache (the test services' real Redis, loaded with the
//! sample data's latest quote per symbol as `quote:<SYMBOL>` hashes): `live_quotes` point
//! lookups answer like the embedded engine with the tenant's symbols only, EXPLAIN shows the
//! pipelined lookups, malformed hashes and an unreachable Redis give clear errors, and the
//! result cache's Redis tier lets a second FlowForge process answer without ClickHouse.

use std::process::Command;

use super::backends::{private_catalog_url, query_log, rows, service, ANALYST};
use super::http::get;
use super::server::TestServer;

fn redis_url() -> String {
    service("FLOWFORGE_TEST_REDIS_URL")
}

/// Runs `redis-cli` against the test Redis (test set-up only: FlowForge never writes to it).
fn redis_cli(args: &[&str]) {
    let url = redis_url();
    let out = Command::new("redis-cli")
        .args(["-u", &url])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// psql's SQLSTATE and message for a query expected to fail.
fn error_of(server: &TestServer, sql: &str) -> String {
    let (user, password) = ANALYST;
    let out = Command::new("psql")
        .arg(server.dsn(user, password))
        .args(["-X", "-A", "-t", "-v", "VERBOSITY=verbose", "-c", sql])
        .output()
        .expect("run psql");
    assert!(!out.status.success(), "{sql} should fail");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn latest_quotes_are_point_lookups_in_redis_scoped_to_the_tenant() {
    let embedded = TestServer::start(&[]);
    let server = TestServer::start(&["--redis-url", &redis_url()]);
    let (user, password) = ANALYST;
    let sql = "SELECT * FROM market.live_quotes ORDER BY symbol";
    let expected = rows(&embedded, user, password, sql);
    assert_eq!(expected.len(), 6, "tenant-a's six symbols: {expected:?}");
    assert_eq!(rows(&server, user, password, sql), expected);
    let tenant_b = rows(
        &server,
        "admin@tenant-b.test",
        "admin123",
        "SELECT symbol FROM market.live_quotes ORDER BY 1",
    );
    assert_eq!(tenant_b, ["BAC", "GS", "JPM", "META", "TSLA"]);

    let explained = rows(
        &server,
        user,
        password,
        "EXPLAIN SELECT bid, ask FROM market.live_quotes WHERE symbol = 'MSFT'",
    )
    .join("\n");
    assert!(
        explained.contains("redis: HGETALL quote:MSFT (pipelined)"),
        "a filtered lookup reads one key: {explained}"
    );
    let (status, body) = get(&server, "/health/ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""name":"redis","status":"ok""#), "{body}");

    // The serving-table registry says where each table comes from.
    let api = format!("http://{}/api/v1", server.http);
    let http = reqwest::blocking::Client::new();
    let login: serde_json::Value = http
        .post(format!("{api}/auth/login"))
        .json(&serde_json::json!({"email": user, "password": password}))
        .send()
        .and_then(|r| r.json())
        .expect("login");
    let tables: serde_json::Value = http
        .get(format!("{api}/schema/tables"))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .and_then(|r| r.json())
        .expect("schema tables");
    let backend_of = |name: &str| {
        tables
            .as_array()
            .and_then(|all| all.iter().find(|t| t["name"] == name))
            .map(|t| t["backend"].clone())
    };
    assert_eq!(backend_of("live_quotes"), Some("redis".into()), "{tables}");
    assert_eq!(
        backend_of("fct_trades"),
        Some("embedded".into()),
        "{tables}"
    );
}

#[test]
fn a_malformed_quote_hash_is_an_error_naming_the_key() {
    let prefix = format!("malformed-{}:", std::process::id());
    let key = format!("{prefix}AAPL");
    redis_cli(&[
        "HSET",
        &key,
        "bid",
        "n/a",
        "ask",
        "1.5",
        "bid_size",
        "1",
        "ask_size",
        "1",
        "event_time",
        "1",
    ]);
    let server = TestServer::start(&["--redis-url", &redis_url(), "--redis-quote-prefix", &prefix]);
    let error = error_of(&server, "SELECT * FROM market.live_quotes");
    redis_cli(&["DEL", &key]);
    assert!(
        error.contains("XX000") && error.contains(&key) && error.contains("bid"),
        "{error}"
    );
}

#[test]
fn an_unreachable_redis_fails_lookups_cleanly_and_leaves_other_queries_alone() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let server = TestServer::start(&[
        "--redis-url",
        &format!("redis://127.0.0.1:{port}"),
        "--clickhouse-url",
        &service("FLOWFORGE_TEST_CLICKHOUSE_URL"),
    ]);
    let error = error_of(&server, "SELECT * FROM market.live_quotes");
    assert!(
        error.contains("08006") && error.contains("redis"),
        "{error}"
    );
    // The shared cache tier is down too: ClickHouse still answers.
    let (user, password) = ANALYST;
    let symbols = rows(
        &server,
        user,
        password,
        "SELECT DISTINCT symbol FROM market.fct_trades ORDER BY 1",
    );
    assert_eq!(symbols.len(), 6, "{symbols:?}");
    let (status, body) = get(&server, "/health/ready");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""name":"redis","status":"down""#), "{body}");
}

#[test]
fn a_second_process_reuses_results_through_the_redis_cache_tier() {
    // Two processes of one deployment: one catalog (so one tenant id), one ClickHouse, one Redis.
    let clickhouse = service("FLOWFORGE_TEST_CLICKHOUSE_URL");
    let catalog = private_catalog_url("shared_cache");
    let flags = [
        "--clickhouse-url",
        &clickhouse,
        "--redis-url",
        &redis_url(),
        "--catalog-url",
        &catalog,
    ];
    let first = TestServer::start(&flags);
    let second = TestServer::start(&flags);
    // A query text of its own, so earlier runs' entries in the shared Redis cannot answer it.
    let marker = format!("shared_{}", std::process::id());
    let sql = format!(
        "SELECT symbol, sum(quantity) AS {marker} FROM market.fct_trades GROUP BY symbol ORDER BY symbol"
    );
    let (user, password) = ANALYST;
    let expected = rows(&first, user, password, &sql);
    assert_eq!(
        query_log(&first).len(),
        1,
        "the first process asks ClickHouse"
    );
    assert_eq!(rows(&second, user, password, &sql), expected);
    assert_eq!(
        query_log(&second).len(),
        0,
        "the second process answers from Redis without ClickHouse"
    );
    // Another tenant's entitlements are part of the key: no sharing across tenants.
    let other = rows(&second, "admin@tenant-b.test", "admin123", &sql);
    assert_ne!(other, expected);
    assert_eq!(query_log(&second).len(), 1);
}
