//! The BI-tool introspection corpus (`tests/fixtures/bi_corpus.json`): the catalog SQL that
//! Grafana, Metabase, Superset, Tableau, Power BI and psql send, each with the result shape a real
//! PostgreSQL gives it (recorded by `tests/fixtures/record_bi_corpus.py`). FlowForge must answer
//! every query with PostgreSQL's column names and type OIDs, and with at least the rows the entry
//! expects for the demo tenant. The queries run through `tests/e2e/clients/bi_corpus.py`
//! (psycopg 3, with each tool's protocol and parameters).

use std::fmt::Write as _;
use std::process::Command;

use serde::Deserialize;

use super::server::TestServer;

/// One corpus query with PostgreSQL's result shape.
#[derive(Deserialize)]
struct Entry {
    tool: String,
    name: String,
    columns: Vec<(String, u32)>,
    min_rows: u64,
}

/// What the runner saw for one entry.
#[derive(Deserialize)]
struct Outcome {
    name: String,
    ok: bool,
    error: Option<String>,
    sqlstate: Option<String>,
    columns: Vec<(String, u32)>,
    rows: u64,
    #[serde(default)]
    values: Vec<Vec<Option<String>>>,
}

fn corpus_path() -> String {
    format!(
        "{}/tests/fixtures/bi_corpus.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn corpus() -> Vec<Entry> {
    let text = std::fs::read_to_string(corpus_path()).expect("read the corpus");
    serde_json::from_str(&text).expect("corpus JSON")
}

/// Runs every corpus entry as `user`; with `values`, the outcomes carry the rows.
fn run_corpus(server: &TestServer, user: &str, password: &str, values: bool) -> Vec<Outcome> {
    let python = std::env::var("FLOWFORGE_TEST_PYTHON")
        .expect("FLOWFORGE_TEST_PYTHON must point at a Python with psycopg (run `make test`)");
    let script = format!(
        "{}/tests/e2e/clients/bi_corpus.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut command = Command::new(python);
    command.arg(script).args([
        &server.pg.ip().to_string(),
        &server.pg.port().to_string(),
        user,
        password,
        &corpus_path(),
    ]);
    if values {
        command.arg("--values");
    }
    let out = command.output().expect("run the corpus runner");
    assert!(
        out.status.success(),
        "corpus runner failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the corpus runner")
}

/// PostgreSQL's name for the type OIDs that occur in the corpus, for readable failures.
fn type_name(oid: u32) -> String {
    let name = match oid {
        16 => "bool",
        18 => "char",
        19 => "name",
        20 => "int8",
        21 => "int2",
        23 => "int4",
        25 => "text",
        26 => "oid",
        194 => "pg_node_tree",
        700 => "float4",
        701 => "float8",
        1003 => "_name",
        1009 => "_text",
        1043 => "varchar",
        1114 => "timestamp",
        1184 => "timestamptz",
        1700 => "numeric",
        2205 => "regclass",
        _ => return oid.to_string(),
    };
    format!("{name}({oid})")
}

fn shape(columns: &[(String, u32)]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|(name, oid)| format!("{name}:{}", type_name(*oid)))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// How FlowForge's columns differ from PostgreSQL's, column by column where the counts agree.
fn column_differences(expected: &[(String, u32)], got: &[(String, u32)]) -> Option<String> {
    if expected == got {
        return None;
    }
    if expected.len() != got.len() {
        return Some(format!(
            "{} columns instead of {}: PostgreSQL {} vs FlowForge {}",
            got.len(),
            expected.len(),
            shape(expected),
            shape(got)
        ));
    }
    let diffs: Vec<String> = expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (e, g))| e != g)
        .map(|(i, ((en, eo), (gn, go)))| {
            if en == gn {
                format!("#{i} {en}: {} vs {}", type_name(*eo), type_name(*go))
            } else {
                format!("#{i} {en}:{} vs {gn}:{}", type_name(*eo), type_name(*go))
            }
        })
        .collect();
    Some(format!(
        "columns differ (PostgreSQL vs FlowForge): {}",
        diffs.join("; ")
    ))
}

#[test]
fn bi_tool_introspection_queries_return_postgresql_shaped_results() {
    let server = TestServer::start(&[]);
    let entries = corpus();
    let outcomes = run_corpus(&server, "analyst@tenant-a.test", "analyst123", false);
    assert_eq!(
        outcomes.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        "the runner must report every corpus entry in order"
    );

    let mut failures = Vec::new();
    for (entry, outcome) in entries.iter().zip(&outcomes) {
        let mut problems = Vec::new();
        if !outcome.ok {
            problems.push(format!(
                "error{}: {}",
                outcome
                    .sqlstate
                    .as_deref()
                    .map(|s| format!(" {s}"))
                    .unwrap_or_default(),
                outcome
                    .error
                    .as_deref()
                    .unwrap_or("(no message)")
                    .replace('\n', " ")
            ));
        } else {
            problems.extend(column_differences(&entry.columns, &outcome.columns));
            if outcome.rows < entry.min_rows {
                problems.push(format!(
                    "{} rows, expected at least {}",
                    outcome.rows, entry.min_rows
                ));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} [{}]: {}",
                entry.name,
                entry.tool,
                problems.join("; ")
            ));
        }
    }
    let mut message = format!(
        "{} of {} BI-tool introspection queries are not answered like PostgreSQL:\n",
        failures.len(),
        entries.len()
    );
    for failure in &failures {
        let _ = writeln!(message, "  {failure}");
    }
    assert!(failures.is_empty(), "{message}");
}

#[test]
fn tenant_b_viewer_sees_no_market_objects_in_any_introspection_result() {
    let server = TestServer::start(&[]);
    let outcomes = run_corpus(&server, "viewer@tenant-b.test", "viewer123", true);

    // The listings must work for the viewer, or the absence of market objects proves nothing.
    let listings = [
        "psql_dv_views",
        "psql_dn_schemas",
        "grafana_schema_list",
        "tableau_jdbc_get_tables",
        "powerbi_tables",
    ];
    let mut problems = Vec::new();
    for name in listings {
        match outcomes.iter().find(|o| o.name == name) {
            Some(o) if o.ok && o.rows > 0 => {}
            Some(o) => problems.push(format!(
                "{name}: listing returned no rows for the viewer ({})",
                o.error.as_deref().unwrap_or("no error")
            )),
            None => problems.push(format!("{name}: missing from the corpus")),
        }
    }

    let market_tables = [
        "fct_trades",
        "fct_quotes",
        "dim_instruments",
        "agg_ohlcv_1h",
        "agg_ohlcv_1d",
        "live_pnl",
        "live_positions",
        "live_quotes",
    ];
    for outcome in outcomes.iter().filter(|o| o.ok) {
        let leaked: Vec<&str> = outcome
            .values
            .iter()
            .flatten()
            .flatten()
            .map(String::as_str)
            .filter(|v| {
                *v == "market"
                    || v.starts_with("market.")
                    || v.starts_with("\"market\".")
                    || market_tables.contains(v)
            })
            .collect();
        if !leaked.is_empty() {
            problems.push(format!(
                "{}: shows market objects to the viewer: {leaked:?}",
                outcome.name
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "viewer@tenant-b.test introspection:\n  {}",
        problems.join("\n  ")
    );
}
