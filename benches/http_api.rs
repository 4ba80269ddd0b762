//! Latency of the HTTP API's data endpoints against the same node's SQL through pgwire, in one
//! run over the embedded engine (debug or release, whichever `cargo bench` builds).
//!
//! Reported as p50/p99 of `RUNS` sequential requests after a warm-up:
//! - preview, cache hit: the same `POST /api/v1/preview` again and again;
//! - preview, cache miss: every request a new page (`offset`), so a new content address;
//! - widget data: all 12 widgets of a dashboard fetched one after another (one dashboard load);
//! - baseline: the preview's node, and the 12 widgets' nodes, as `SELECT`s over the published
//!   views through pgwire (the same engine path, without HTTP, JSON or the cache).
//!
//! Run (no external services needed):
//!
//! ```text
//! cargo bench --bench http_api
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{json, Value};

/// Sequential measured runs per case.
const RUNS: usize = 100;
/// Untimed runs first.
const WARM_UP: usize = 5;
/// Widgets on the benchmarked dashboard.
const WIDGETS: usize = 12;

/// The server under test, killed by PID when dropped.
struct Server {
    child: Child,
    pg: SocketAddr,
    http: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Result<Server, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowforge"))
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--pg-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
            "--sample-anchor",
            "2026-01-05",
            "--no-tls",
        ])
        .env("FLOWFORGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start flowforge: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pg = None;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match line.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["pgwire", addr, ..] => pg = addr.parse::<SocketAddr>().ok(),
                ["web", url, ..] => {
                    let http = url
                        .trim_start_matches("http://")
                        .trim_end_matches('/')
                        .parse::<SocketAddr>()
                        .ok();
                    if let (Some(pg), Some(http)) = (pg, http) {
                        let _ = tx.send((pg, http));
                    }
                }
                _ => {}
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(300)) {
        Ok((pg, http)) => Ok(Server {
            child,
            pg,
            http,
            _dir: dir,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("flowforge serve did not report its addresses".into())
        }
    }
}

/// Two outputs of different weight: a per-symbol summary and a page of single fills.
fn definition() -> Value {
    json!({
        "format_version": 1,
        "name": "Bench desk",
        "nodes": [
            {"id": "src", "type": "data_source", "config": {"table": "fct_trades"}},
            {"id": "by_symbol", "type": "group_by", "config": {"group_by": ["symbol"],
                "aggregations": [{"function": "count", "alias": "trades"},
                                 {"column": "quantity", "function": "sum", "alias": "volume"}]}},
            {"id": "summary", "type": "table_view", "config": {}},
            {"id": "big", "type": "filter", "config": {"conditions": [
                {"column": "quantity", "operator": "gt", "value": 4800}]}},
            {"id": "fills", "type": "table_view",
             "config": {"columns": ["trade_id", "symbol", "quantity", "event_time"]}}
        ],
        "edges": [
            {"source": "src", "target": "by_symbol"},
            {"source": "by_symbol", "target": "summary"},
            {"source": "src", "target": "big"},
            {"source": "big", "target": "fills"}
        ]
    })
}

struct Http {
    client: Client,
    base: String,
    token: String,
}

impl Http {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
    }
}

fn login(client: &Client, base: &str) -> Result<String, String> {
    let reply: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "analyst@tenant-a.test", "password": "analyst123"}))
        .send()
        .and_then(|r| r.json())
        .map_err(|e| e.to_string())?;
    reply["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("login failed: {reply}"))
}

/// p50 and p99 of `RUNS` timed calls of `run` (after `WARM_UP` untimed ones).
fn measure(
    mut run: impl FnMut(usize) -> Result<(), String>,
) -> Result<(Duration, Duration), String> {
    for i in 0..WARM_UP {
        run(i)?;
    }
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..RUNS {
        let started = Instant::now();
        run(WARM_UP + i)?;
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.50), at(0.99)))
}

fn report(case: &str, (p50, p99): (Duration, Duration), baseline: (Duration, Duration)) {
    println!(
        "{case:<34} p50 {:>9.2} ms  p99 {:>9.2} ms   baseline p50 {:>9.2} ms  p99 {:>9.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        baseline.0.as_secs_f64() * 1e3,
        baseline.1.as_secs_f64() * 1e3,
    );
}

fn run() -> Result<(), String> {
    let server = start_server()?;
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?;
    let base = format!("http://{}", server.http);
    let token = login(&client, &base)?;
    let http = Http {
        client,
        base,
        token,
    };
    use reqwest::Method;
    let workflow = http.call(
        Method::POST,
        "/api/v1/workflows",
        Some(&json!({"name": "Bench desk", "definition": definition()})),
    )?;
    let workflow_id = workflow["id"].as_str().ok_or("no workflow id")?.to_string();
    let published = http.call(
        Method::POST,
        &format!("/api/v1/workflows/{workflow_id}/publish"),
        Some(&json!({})),
    )?;
    let views: Vec<String> = published["views"]
        .as_array()
        .ok_or("no views")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let view_of = |node: &str| {
        views
            .iter()
            .find(|v| v.ends_with(node))
            .cloned()
            .ok_or(format!("no view for {node}: {views:?}"))
    };
    let dashboard = http.call(
        Method::POST,
        "/api/v1/dashboards",
        Some(&json!({"name": "Bench", "global_filters": [
            {"id": "sym", "column": "symbol", "kind": "values"}]})),
    )?;
    let dashboard_id = dashboard["id"]
        .as_str()
        .ok_or("no dashboard id")?
        .to_string();
    let mut widgets = Vec::new();
    let mut widget_views = Vec::new();
    for i in 0..WIDGETS {
        let node = if i % 2 == 0 { "summary" } else { "fills" };
        let widget = http.call(
            Method::POST,
            "/api/v1/widgets",
            Some(
                &json!({"dashboard_id": dashboard_id, "workflow_id": workflow_id,
                "node_id": node, "title": format!("w{i}"),
                "layout": {"x": (i % 4) * 3, "y": (i / 4) * 3, "w": 3, "h": 3}}),
            ),
        )?;
        widgets.push(widget["id"].as_str().ok_or("no widget id")?.to_string());
        widget_views.push(view_of(node)?);
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let pg = runtime.block_on(async {
        let config = format!(
            "host={} port={} user=analyst@tenant-a.test password=analyst123 dbname=flowforge",
            server.pg.ip(),
            server.pg.port()
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok::<_, String>(client)
    })?;
    let sql = |view: &str, limit: Option<usize>, offset: usize| {
        let sql = match limit {
            Some(limit) => format!("SELECT * FROM {view} LIMIT {limit} OFFSET {offset}"),
            None => format!("SELECT * FROM {view}"),
        };
        runtime
            .block_on(pg.simple_query(&sql))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };

    println!("HTTP API latency ({RUNS} runs each, sequential)");
    let fills = view_of("fills")?;
    let preview = |offset: usize| json!({"workflow_id": workflow_id, "node_id": "fills", "offset": offset, "limit": 100});
    let hit = measure(|_| {
        let body = http.call(Method::POST, "/api/v1/preview", Some(&preview(0)))?;
        (body["cache"] == "hit" || body["cache"] == "miss")
            .then_some(())
            .ok_or_else(|| format!("no cache outcome: {body}"))
    })?;
    let page_baseline = measure(|_| sql(&fills, Some(100), 0))?;
    report("preview, cache hit (100 rows)", hit, page_baseline);
    let miss = measure(|i| {
        let body = http.call(Method::POST, "/api/v1/preview", Some(&preview(i + 1)))?;
        (body["cache"] == "miss")
            .then_some(())
            .ok_or_else(|| format!("expected a miss: {}", body["cache"]))
    })?;
    let miss_baseline = measure(|i| sql(&fills, Some(100), i + 1))?;
    report("preview, cache miss (100 rows)", miss, miss_baseline);
    let dashboard = measure(|_| {
        for widget in &widgets {
            http.call(Method::GET, &format!("/api/v1/widgets/{widget}/data"), None)?;
        }
        Ok(())
    })?;
    let dashboard_baseline = measure(|_| {
        for view in &widget_views {
            sql(view, None, 0)?;
        }
        Ok(())
    })?;
    report(
        &format!("widget data, {WIDGETS}-widget dashboard"),
        dashboard,
        dashboard_baseline,
    );
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; this harness has no options.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("http_api bench failed: {error}");
            ExitCode::FAILURE
        }
    }
}
