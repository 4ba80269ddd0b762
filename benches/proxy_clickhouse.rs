//! The proxy's overhead over ClickHouse: the same statements answered through FlowForge's
//! pgwire door (planning, entitlement filter, pushdown, Arrow → PostgreSQL wire encoding) and
//! sent straight to the ClickHouse HTTP endpoint (ArrowStream, decoded), in one run.
//!
//! For every query the exact SQL FlowForge sends ClickHouse is read from `EXPLAIN`, so both
//! sides make ClickHouse do the same work; the result cache is off. Latency is measured
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

/// The statement FlowForge sends ClickHouse for `sql`, from its EXPLAIN.
async fn backend_sql(client: &tokio_postgres::Client, sql: &str) -> Result<String, String> {
    let rows = client
        .simple_query(&format!("EXPLAIN {sql}"))
        .await
        .map_err(|e| format!("EXPLAIN {sql}: {e}"))?;
    let lines: Vec<String> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("Backend SQL (clickhouse, the whole query in one request)"))
        .ok_or_else(|| format!("{sql} is not pushed down whole: {lines:#?}"))?;
    Ok(lines[start + 1..]
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" "))
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
    let body = http
        .post(url.clone())
        .body(sql.to_string())
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
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
        let pushed = backend_sql(&probe, sql).await?;
        let rows = via_proxy(&probe, sql).await?;
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
