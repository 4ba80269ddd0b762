//! psycopg 3 (text and binary, server-side parameters, cancel) and asyncpg (binary, prepared
//! statements) against the real server. The interpreter comes from `FLOWFORGE_TEST_PYTHON`
//! (the test command's virtualenv).

use std::process::Command;

use serde_json::Value;

use super::server::TestServer;

fn python() -> String {
    std::env::var("FLOWFORGE_TEST_PYTHON").expect(
        "FLOWFORGE_TEST_PYTHON must point at a Python with psycopg and asyncpg (run `make test`)",
    )
}

fn scenario(server: &TestServer, name: &str, user: &str, password: &str) -> Value {
    let script = format!(
        "{}/tests/e2e/clients/pg_clients.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(python())
        .arg(script)
        .args([
            name,
            &server.pg.ip().to_string(),
            &server.pg.port().to_string(),
            user,
            password,
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from client script")
}

#[test]
fn psycopg_and_asyncpg_query_views_with_server_side_parameters() {
    let server = TestServer::start(&[]);
    for mode in ["psycopg-text", "psycopg-binary"] {
        let r = scenario(&server, mode, "analyst@tenant-a.test", "analyst123");
        assert_eq!(
            r["server_version"].as_i64().map(|v| v / 10000),
            Some(16),
            "{mode}: {r}"
        );
        assert_eq!(r["rows"].as_array().map(Vec::len), Some(1), "{mode}: {r}");
        assert_eq!(r["rows"][0][0], "AAPL", "{mode}: {r}");
        assert_eq!(
            r["types"],
            serde_json::json!(["str", "int", "int", "float"]),
            "{mode}: {r}"
        );
        assert_eq!(
            r["columns"],
            serde_json::json!(["symbol", "trades", "volume", "avg_price"]),
            "{mode}"
        );
        assert_eq!(
            r["trade_types"],
            serde_json::json!(["int", "float", "datetime"]),
            "{mode}: {r}"
        );
        assert_eq!(r["trade_rows"], 3, "{mode}: {r}");
        assert_eq!(
            r["symbols"],
            serde_json::json!(["AAPL", "AMZN", "GOOGL", "JPM", "MSFT", "NVDA"]),
            "{mode}: tenant A must see only its entitlements"
        );
        assert_eq!(
            r["params"],
            serde_json::json!([42, "x", null]),
            "{mode}: {r}"
        );
    }
    let r = scenario(&server, "asyncpg", "admin@tenant-b.test", "admin123");
    assert_eq!(r["param_types"], serde_json::json!(["int8"]), "{r}");
    assert_eq!(
        r["symbols"],
        serde_json::json!(["BAC", "GS", "JPM", "META", "TSLA"]),
        "{r}"
    );
    assert_eq!(r["empty_again"], 0, "{r}");
    assert_eq!(
        r["ohlcv_types"],
        serde_json::json!(["datetime", "float", "float", "int"]),
        "{r}"
    );
    assert!(
        r["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("PostgreSQL 16")),
        "{r}"
    );
    assert_eq!(r["delete"], "25006", "{r}");
    assert_eq!(
        r["wrong_password_sqlstates"],
        serde_json::json!(["28P01", "28P01"]),
        "{r}"
    );
}

#[test]
fn cancel_stops_a_running_query_and_the_session_survives() {
    let server = TestServer::start(&[]);
    let r = scenario(&server, "cancel", "admin@tenant-a.test", "admin123");
    assert_eq!(r["cancelled"], true, "{r}");
    assert_eq!(r["sqlstate"], "57014", "{r}");
    assert_eq!(r["aborted_transaction"], true, "{r}");
    assert_eq!(r["after"], 2, "{r}");
}
