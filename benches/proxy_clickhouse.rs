//! The proxy's overhead over ClickHouse: the same statements answered through FlowForge's
//! pgwire door (planning, entitlement filter, pushdown, Arrow → PostgreSQL wire encoding) and
//! sent straight to the ClickHouse HTTP endpoint (ArrowStream, decoded), in one run.
//!
//! For every query the exact SQL FlowForge sent ClickHouse is read from the endpoint's query log,
//! so both sides make ClickHouse do the same work; the result cache is off. Latency is measured
//! sequentially (p50/p99 of `LATENCY_RUNS` runs after a warm-up), throughput with
//! `CLIENTS` concurrent clients. Run with the test services up:
//!
//! ```text
//! deploy/scripts/with-test-services.sh cargo bench --bench proxy_clickhouse
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arrow::ipc::reader::StreamReader;

/// Sequential runs per query and side for the latency percentiles.
const LATENCY_RUNS: usize = 200;
/// Concurrent clients for throughput.
const CLIENTS: usize = 4;
/// Queries each client runs for throughput.
const RUNS_PER_CLIENT: usize = 50;
/// Untimed runs first.
const WARM_UP: usize = 10;

/// Client queries as an analyst (tenant-a) would send them.
const QUERIES: &[(&str, &str)] = &[
    (
        "aggregate by symbol",
        "SELECT symbol, count(*), sum(quantity), avg(price) FROM market.fct_trades GROUP BY symbol ORDER BY symbol",
    ),
    (
        "filter + top 100",
        "SELECT trade_id, price, quantity FROM market.fct_trades WHERE symbol = 'NVDA' ORDER BY trade_id DESC LIMIT 100",
    ),
    ("workflow view", "SELECT * FROM trades_by_symbol ORDER BY symbol"),
    (
        "7k-row scan",
        "SELECT * FROM market.fct_trades WHERE symbol = 'AAPL'",
    ),
    (
        "hourly rollup",
        "SELECT symbol, date_trunc('hour', event_time) AS h, sum(quantity) FROM market.fct_trades GROUP BY 1, 2 ORDER BY 1, 2",
    ),
];

/// The server under test, killed by PID when dropped.
struct Server {
    child: Child,
    pg: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(clickhouse: &str) -> Result<Server, String> {
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
            "--result-cache-ttl",
            "0",
            "--clickhouse-url",
            clickhouse,
        ])
        .env("FLOWFORGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start flowforge: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let ["pgwire", addr, ..] = line.split_whitespace().collect::<Vec<_>>().as_slice() {
                if let Ok(addr) = addr.parse::<SocketAddr>() {
                    let _ = tx.send(addr);
                }
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(300)) {
        Ok(pg) => Ok(Server {
            child,
            pg,
            _dir: dir,
        }),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err("flowforge serve did not report its address".into())
        }
    }
}

async fn connect(pg: SocketAddr) -> Result<tokio_postgres::Client, String> {
    let config = format!(
        "host={} port={} user=analyst@tenant-a.test password=analyst123 dbname=flowforge",
        pg.ip(),
        pg.port()
    );
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The statements the ClickHouse endpoint received from the server with process id `pid`, in
/// order (its query log; FlowForge's query ids carry its process id).
fn received(pid: u32) -> Result<Vec<String>, String> {
    let path = std::env::var("FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG")
        .map_err(|_| "FLOWFORGE_TEST_CLICKHOUSE_QUERY_LOG is not set".to_string())?;
    let prefix = format!("flowforge-{pid}-");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|entry| {
            entry["query_id"]
                .as_str()
                .is_some_and(|id| id.starts_with(&prefix))
        })
        .filter_map(|entry| entry["query"].as_str().map(str::to_string))
        .collect())
}

/// The one statement FlowForge sends ClickHouse for `sql`, read from the endpoint's log.
async fn backend_sql(
    client: &tokio_postgres::Client,
    pid: u32,
    sql: &str,
) -> Result<(String, usize), String> {
    let before = received(pid)?.len();
    let rows = via_proxy(client, sql).await?;
    let after = received(pid)?;
    match &after[before..] {
        [statement] => Ok((statement.clone(), rows)),
        other => Err(format!(
            "{sql} took {} ClickHouse requests, not one",
            other.len()
        )),
    }
}

/// Runs `sql` through the proxy; returns the row count.
async fn via_proxy(client: &tokio_postgres::Client, sql: &str) -> Result<usize, String> {
    let messages = client.simple_query(sql).await.map_err(|e| e.to_string())?;
    Ok(messages
        .iter()
        .filter(|m| matches!(m, tokio_postgres::SimpleQueryMessage::Row(_)))
        .count())
}

/// Sends `sql` straight to ClickHouse with the settings FlowForge uses; returns the row count
/// of the decoded Arrow stream.
async fn direct(http: &reqwest::Client, url: &reqwest::Url, sql: &str) -> Result<usize, String> {
    let response = http
        .post(url.clone())
        .body(sql.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!(
            "ClickHouse answered {status}: {}\n{sql}",
            String::from_utf8_lossy(&body)
        ));
    }
    let reader =
        StreamReader::try_new(std::io::Cursor::new(body), None).map_err(|e| e.to_string())?;
    let mut rows = 0;
    for batch in reader {
        rows += batch.map_err(|e| e.to_string())?.num_rows();
    }
    Ok(rows)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// One side's numbers for one query.
struct Measured {
    p50: Duration,
    p99: Duration,
    qps: f64,
}

async fn measure<F, Fut>(run: F) -> Result<Measured, String>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<usize, String>> + Send,
{
    for _ in 0..WARM_UP {
        run().await?;
    }
    let mut times = Vec::with_capacity(LATENCY_RUNS);
    for _ in 0..LATENCY_RUNS {
        let start = Instant::now();
        run().await?;
        times.push(start.elapsed());
    }
    times.sort();
    let start = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let run = run.clone();
        clients.push(tokio::spawn(async move {
            for _ in 0..RUNS_PER_CLIENT {
                run().await?;
            }
            Ok::<(), String>(())
        }));
    }
    for client in clients {
        client.await.map_err(|e| e.to_string())??;
    }
    let qps = (CLIENTS * RUNS_PER_CLIENT) as f64 / start.elapsed().as_secs_f64();
    Ok(Measured {
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        qps,
    })
}

async fn bench(clickhouse: String) -> Result<(), String> {
    let server = start_server(&clickhouse)?;
    let mut endpoint = reqwest::Url::parse(&clickhouse).map_err(|e| e.to_string())?;
    endpoint
        .query_pairs_mut()
        .append_pair("database", "market")
        .append_pair("default_format", "ArrowStream")
        .append_pair("output_format_arrow_string_as_string", "1")
        .append_pair("union_default_mode", "DISTINCT")
        .append_pair("readonly", "2")
        .append_pair("max_execution_time", "300");
    let http = reqwest::Client::new();
    let probe = connect(server.pg).await?;
    println!(
        "| query | rows | direct p50 | proxy p50 | p50 ratio | direct p99 | proxy p99 | p99 ratio | direct q/s | proxy q/s | q/s ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, sql) in QUERIES {
        let (pushed, rows) = backend_sql(&probe, server.child.id(), sql).await?;
        let direct_rows = direct(&http, &endpoint, &pushed).await?;
        if rows != direct_rows {
            return Err(format!(
                "{name}: the proxy returned {rows} rows, ClickHouse {direct_rows}"
            ));
        }
        let direct_side = {
            let (http, endpoint, pushed) = (http.clone(), endpoint.clone(), pushed.clone());
            measure(move || {
                let (http, endpoint, pushed) = (http.clone(), endpoint.clone(), pushed.clone());
                async move { direct(&http, &endpoint, &pushed).await }
            })
            .await?
        };
        let mut pool = Vec::new();
        for _ in 0..CLIENTS {
            pool.push(std::sync::Arc::new(connect(server.pg).await?));
        }
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let proxy_side = measure(move || {
            let client = std::sync::Arc::clone(
                &pool[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % pool.len()],
            );
            let sql = sql.to_string();
            async move { via_proxy(&client, &sql).await }
        })
        .await?;
        println!(
            "| {name} | {rows} | {} | {} | {:.2}× | {} | {} | {:.2}× | {:.0} | {:.0} | {:.2}× |",
            ms(direct_side.p50),
            ms(proxy_side.p50),
            proxy_side.p50.as_secs_f64() / direct_side.p50.as_secs_f64(),
            ms(direct_side.p99),
            ms(proxy_side.p99),
            proxy_side.p99.as_secs_f64() / direct_side.p99.as_secs_f64(),
            direct_side.qps,
            proxy_side.qps,
            proxy_side.qps / direct_side.qps,
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; this harness has no options.
    let Ok(clickhouse) = std::env::var("FLOWFORGE_TEST_CLICKHOUSE_URL") else {
        eprintln!(
            "FLOWFORGE_TEST_CLICKHOUSE_URL is not set: run \
             `deploy/scripts/with-test-services.sh cargo bench --bench proxy_clickhouse`"
        );
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(clickhouse)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("proxy_clickhouse: {e}");
            ExitCode::FAILURE
        }
    }
}
