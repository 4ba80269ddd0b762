//! Backend faults through the real server and a real client (psycopg): a ClickHouse endpoint
//! killed mid-query, a client cancel and a statement timeout reaching ClickHouse as `KILL
//! QUERY` for the query's id, and the PostgreSQL backend (standing in for Materialize) whose
//! connection is terminated mid-query. The client gets an ErrorResponse with the SQLSTATE and
//! the backend's message, other sessions keep working, and the backend serves again once it is
//! back.
//!
//! The ClickHouse tests run a private endpoint each (the test services' `clickhouse_http.py`
//! over the sample data) that they may kill; the shared one is never touched. The slow query is
//! a three-way cross join of about 10^12 row combinations: it runs for hours, so whatever ends it
//! is the fault under test, and the tests synchronise on what the backend reports (the
//! endpoint's query log, `system.processes`, `pg_stat_activity`), never on sleeps.
//!
//! Needs `FLOWFORGE_TEST_PYTHON`, `FLOWFORGE_TEST_SAMPLE_DIR`, `FLOWFORGE_TEST_PG_URL` and
//! `FLOWFORGE_TEST_PG_ADMIN_URL` (set by the test command, `make test`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::TestServer;

/// The longest "eventually" may take. Generous: only a hung or broken proxy or backend reaches
/// it.
const PATIENCE: Duration = Duration::from_secs(120);

const ANALYST: (&str, &str) = ("analyst@tenant-a.test", "analyst123");

/// A quick query on the serving tables (answered by the backend).
const COUNT_TRADES: &str = "SELECT count(*) FROM market.fct_trades";

fn service(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with `make test` (it starts the test services)")
    })
}

fn python() -> String {
    service("FLOWFORGE_TEST_PYTHON")
}

/// A marker unique to this test run and `test`, carried into the backend SQL as a literal so
/// the query can be found in the backend's query log and `pg_stat_activity`.
fn marker(test: &str) -> String {
    format!("flowforge-fault-{}-{test}", std::process::id())
}

/// A query that keeps a backend busy for hours: every combination of the tenant's trades with
/// its trades and its hourly bars (about 10^12 rows) is filtered and counted.
fn endless_query(marker: &str) -> String {
    format!(
        "SELECT count(*) AS n, '{marker}' AS marker FROM market.fct_trades a, market.fct_trades b, \
         market.agg_ohlcv_1h c WHERE a.price > b.price + c.volume"
    )
}

/// Polls `probe` until it returns a value, for at most [`PATIENCE`].
fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {PATIENCE:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A psycopg connection in a Python process, driven one JSON command a line on stdin, one JSON
/// answer a line on stdout. A query can run in the background (`start`), be cancelled with
/// `conn.cancel_safe()` (a CancelRequest) and be waited for.
const CLIENT: &str = r#"
import json, sys, threading
import psycopg

conn = psycopg.connect(sys.argv[1], autocommit=True)

def run(sql):
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
        return {"ok": True, "rows": [[None if v is None else str(v) for v in row] for row in rows]}
    except psycopg.Error as e:
        return {"ok": False, "sqlstate": e.sqlstate, "message": e.diag.message_primary or str(e)}

def reply(value):
    print(json.dumps(value), flush=True)

background = None
for line in sys.stdin:
    command = json.loads(line)
    op = command["op"]
    if op == "run":
        reply(run(command["sql"]))
    elif op == "start":
        result = {}
        thread = threading.Thread(target=lambda sql=command["sql"]: result.update(run(sql)))
        thread.start()
        background = (thread, result)
        reply({"ok": True})
    elif op == "cancel":
        conn.cancel_safe(timeout=60)
        reply({"ok": True})
    elif op == "wait":
        background[0].join()
        reply(background[1])
"#;

/// A client connection (see [`CLIENT`]); the process is killed when dropped.
struct Client {
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::Receiver<String>,
}

impl Client {
    fn connect(server: &TestServer, (user, password): (&str, &str)) -> Client {
        let mut child = Command::new(python())
            .args(["-c", CLIENT, &server.dsn(user, password)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python client");
        let stdin = child.stdin.take().expect("client stdin");
        let stdout = child.stdout.take().expect("client stdout");
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            answers,
        }
    }

    fn send(&mut self, command: Value) -> Value {
        writeln!(self.stdin, "{command}").expect("write to the Python client");
        self.stdin.flush().expect("flush the Python client");
        match self.answers.recv_timeout(PATIENCE) {
            Ok(line) => serde_json::from_str(&line).expect("JSON from the Python client"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no answer to {command} within {PATIENCE:?}")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the Python client exited during {command} (its error is above)")
            }
        }
    }

    /// Runs `sql`: `{"ok": true, "rows": [[...]]}` or `{"ok": false, "sqlstate", "message"}`.
    fn run(&mut self, sql: &str) -> Value {
        self.send(json!({"op": "run", "sql": sql}))
    }

    /// Rows of `sql`, which must succeed.
    fn rows(&mut self, sql: &str) -> Value {
        let result = self.run(sql);
        assert_eq!(result["ok"], true, "{sql}: {result}");
        result["rows"].clone()
    }

    /// Starts `sql` in the background.
    fn start(&mut self, sql: &str) {
        self.send(json!({"op": "start", "sql": sql}));
    }

    /// Cancels the running query (a CancelRequest on a new connection).
    fn cancel(&mut self) {
        self.send(json!({"op": "cancel"}));
    }

    /// The outcome of the query started last.
    fn wait(&mut self) -> Value {
        self.send(json!({"op": "wait"}))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private ClickHouse endpoint over the sample data that a test may kill; killed (by PID)
/// when dropped.
struct Endpoint {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Endpoint {
    /// Starts an endpoint on `port` (0: a free one) and waits until it listens.
    fn start(port: u16) -> Endpoint {
        let dir = tempfile::tempdir().expect("tempdir");
        let port_file = dir.path().join("port");
        let stderr = std::fs::File::create(dir.path().join("server.log")).expect("endpoint log");
        let child = Command::new(python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/scripts/clickhouse_http.py"
            ))
            .arg("--data-path")
            .arg(dir.path().join("data"))
            .arg("--query-log")
            .arg(dir.path().join("query_log.jsonl"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--load-parquet-dir")
            .arg(service("FLOWFORGE_TEST_SAMPLE_DIR"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start clickhouse_http.py");
        let mut endpoint = Endpoint {
            child,
            port: 0,
            dir,
        };
        endpoint.port = eventually("the ClickHouse endpoint to listen", || {
            if let Ok(Some(status)) = endpoint.child.try_wait() {
                panic!(
                    "the ClickHouse endpoint exited ({status}):\n{}",
                    std::fs::read_to_string(endpoint.dir.path().join("server.log"))
                        .unwrap_or_default()
                );
            }
            std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|text| text.trim().parse().ok())
        });
        endpoint
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("query_log.jsonl")
    }

    /// Every request the endpoint received, in order.
    fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// The logged request whose SQL contains `text`, if there is one.
    fn logged(&self, text: &str) -> Option<Value> {
        self.log().into_iter().find(|entry| {
            entry["query"]
                .as_str()
                .is_some_and(|query| query.contains(text))
        })
    }

    /// Runs `sql` on the endpoint directly (TabSeparated answer).
    fn query(&self, sql: &str) -> String {
        let out = Command::new(python())
            .args([
                "-c",
                "import sys, urllib.request\n\
                 request = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode())\n\
                 print(urllib.request.urlopen(request, timeout=60).read().decode(), end='')",
                &self.url(),
                sql,
            ])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// How many queries with this ClickHouse HTTP query id run on the endpoint (it carries the id
    /// as the query's `log_comment`).
    fn running(&self, query_id: &str) -> usize {
        self.query(&format!(
            "SELECT count() FROM system.processes WHERE Settings['log_comment'] = '{query_id}'"
        ))
        .parse()
        .expect("a count")
    }

    /// Kills the endpoint process (SIGKILL, as a crash) and reaps it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The query id under which the proxy sent the query carrying `marker` to `endpoint`, once
/// ClickHouse runs it.
fn running_query_id(endpoint: &Endpoint, marker: &str) -> String {
    let entry = eventually("the query to reach ClickHouse", || endpoint.logged(marker));
    let query_id = entry["query_id"]
        .as_str()
        .expect("a query id in the log")
        .to_string();
    assert!(
        query_id.starts_with("flowforge-"),
        "the proxy names its queries: {entry}"
    );
    eventually("ClickHouse to run the query", || {
        (endpoint.running(&query_id) == 1).then_some(())
    });
    query_id
}

/// The proxy sent `KILL QUERY` for `query_id` and ClickHouse stopped running it.
fn assert_killed_on_clickhouse(endpoint: &Endpoint, query_id: &str) {
    let kill = format!("KILL QUERY WHERE query_id = '{query_id}'");
    eventually("KILL QUERY for the query in the endpoint's log", || {
        endpoint.logged(&kill)
    });
    eventually("ClickHouse to stop running the query", || {
        (endpoint.running(query_id) == 0).then_some(())
    });
}

/// The query failed as one whose backend connection broke (SQLSTATE 08006); its message.
fn connection_failure(result: &Value) -> String {
    assert_eq!(result["ok"], false, "the query must fail: {result}");
    assert_eq!(result["sqlstate"], "08006", "{result}");
    result["message"].as_str().unwrap_or_default().to_string()
}

/// Other sessions, and the one that failed, still answer queries that need no backend: the
/// embedded catalog and constant queries.
fn assert_serves_without_backend(server: &TestServer, failed: &mut Client) {
    let mut other = Client::connect(server, ANALYST);
    assert_eq!(other.rows("SELECT 1"), json!([["1"]]));
    assert_eq!(
        other.rows("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'market'"),
        json!([["1"]])
    );
    assert_eq!(failed.rows("SELECT 1"), json!([["1"]]));
}

#[test]
fn clickhouse_killed_mid_query_fails_the_query_and_the_proxy_recovers() {
    let mut endpoint = Endpoint::start(0);
    let server = TestServer::start(&[
        "--clickhouse-url",
        &endpoint.url(),
        "--result-cache-ttl",
        "0",
    ]);
    let mut client = Client::connect(&server, ANALYST);
    let trades = client.rows(COUNT_TRADES);

    let marker = marker("clickhouse-killed");
    client.start(&endless_query(&marker));
    running_query_id(&endpoint, &marker);
    endpoint.kill();

    let result = client.wait();
    let message = connection_failure(&result);
    assert!(
        message.contains("clickhouse") && message.contains("connection"),
        "the message names the backend and the lost connection: {result}"
    );
    assert_serves_without_backend(&server, &mut client);

    // While ClickHouse is down its queries fail at once, as unreachable.
    let down = client.run(COUNT_TRADES);
    assert_eq!(down["sqlstate"], "08006", "{down}");

    // An endpoint back on the same address serves again: the old session and a new one.
    let port = endpoint.port;
    drop(endpoint);
    let _endpoint = Endpoint::start(port);
    assert_eq!(client.rows(COUNT_TRADES), trades);
    assert_eq!(Client::connect(&server, ANALYST).rows(COUNT_TRADES), trades);
}

#[test]
fn a_cancelled_clickhouse_query_is_killed_on_clickhouse() {
    let endpoint = Endpoint::start(0);
    let server = TestServer::start(&[
        "--clickhouse-url",
        &endpoint.url(),
        "--result-cache-ttl",
        "0",
    ]);
    let mut client = Client::connect(&server, ANALYST);

    let marker = marker("clickhouse-cancel");
    client.start(&endless_query(&marker));
    let query_id = running_query_id(&endpoint, &marker);
    client.cancel();

    let result = client.wait();
    assert_eq!(result["sqlstate"], "57014", "{result}");
    assert_eq!(
        result["message"], "canceling statement due to user request",
        "{result}"
    );
    assert_killed_on_clickhouse(&endpoint, &query_id);
    // The session goes on, ClickHouse queries included.
    let instruments = client.rows("SELECT count(*) FROM market.dim_instruments");
    assert_ne!(instruments, json!([["0"]]));
}

#[test]
fn a_statement_timeout_kills_the_clickhouse_query() {
    let endpoint = Endpoint::start(0);
    let server = TestServer::start(&[
        "--clickhouse-url",
        &endpoint.url(),
        "--result-cache-ttl",
        "0",
    ]);
    let mut client = Client::connect(&server, ANALYST);
    // The query is sent to ClickHouse within milliseconds and would run for hours.
    client.rows("SET statement_timeout = '2s'");

    let marker = marker("clickhouse-timeout");
    client.start(&endless_query(&marker));
    let result = client.wait();
    assert_eq!(result["sqlstate"], "57014", "{result}");
    assert_eq!(
        result["message"], "canceling statement due to statement timeout",
        "{result}"
    );
    let entry = eventually("the query in the endpoint's log", || {
        endpoint.logged(&marker)
    });
    let query_id = entry["query_id"].as_str().expect("a query id").to_string();
    assert_killed_on_clickhouse(&endpoint, &query_id);
    client.rows("RESET statement_timeout");
    client.rows("SELECT count(*) FROM market.dim_instruments");
}

/// Runs `sql` on the PostgreSQL test server as its superuser.
fn pg_admin(sql: &str) -> String {
    let out = Command::new("psql")
        .arg(service("FLOWFORGE_TEST_PG_ADMIN_URL"))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Terminates, when dropped, the PostgreSQL backends running a query that carries a marker, so
/// a failed test leaves no endless query on the shared server.
struct TerminateOnDrop(String);

impl TerminateOnDrop {
    /// The `pg_stat_activity` condition for the proxy's COPY carrying the marker (client
    /// backends only: parallel workers show the same query text).
    fn condition(&self) -> String {
        format!(
            "backend_type = 'client backend' AND query LIKE 'COPY (%{}%'",
            self.0
        )
    }
}

impl Drop for TerminateOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(service("FLOWFORGE_TEST_PG_ADMIN_URL"))
            .args(["-X", "-q", "-c"])
            .arg(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {}",
                self.condition()
            ))
            .env_remove("PGPASSWORD")
            .output();
    }
}

#[test]
fn materialize_connection_killed_mid_query_fails_the_query_and_the_next_one_succeeds() {
    let server = TestServer::start(&[
        "--materialize-url",
        &service("FLOWFORGE_TEST_PG_URL"),
        "--materialize-tables",
        "all",
        "--result-cache-ttl",
        "0",
    ]);
    let mut client = Client::connect(&server, ANALYST);
    let trades = client.rows(COUNT_TRADES);

    let marker = marker("materialize-killed");
    let cleanup = TerminateOnDrop(marker.clone());
    client.start(&endless_query(&marker));
    eventually("the COPY to run on PostgreSQL", || {
        let running = pg_admin(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND {}",
            cleanup.condition()
        ));
        (running == "1").then_some(())
    });
    let terminated = pg_admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {}",
        cleanup.condition()
    ));
    assert_eq!(terminated, "t");

    let result = client.wait();
    let message = connection_failure(&result);
    assert!(
        message.contains("materialize")
            && message.contains("terminating connection due to administrator command"),
        "the message names the backend and carries its message: {result}"
    );
    assert_serves_without_backend(&server, &mut client);
    assert_eq!(client.rows(COUNT_TRADES), trades);
    assert_eq!(Client::connect(&server, ANALYST).rows(COUNT_TRADES), trades);
}
