//! The real-client matrix of BI tools' drivers: pgjdbc's `DatabaseMetaData` (DBeaver, Tableau,
//! Metabase, ...), SQLAlchemy 2 reflection with pandas (Superset, notebooks), node-postgres, and
//! the type loading and pool reset Npgsql (Power BI, .NET tools) sends. Expected values come
//! from psql against the same server wherever practical, so the tests follow the sample data.
//!
//! Each client program records every call's result, or its error with the SQL the driver sent,
//! and each test reports all mismatches at once.
//!
//! Tools: `java` with the pgjdbc jar (`FLOWFORGE_JDBC_JAR`, default Debian's
//! `/usr/share/java/postgresql.jar`), `node` with node-postgres in `FLOWFORGE_NODE_PATH`, and
//! the Python in `FLOWFORGE_TEST_PYTHON` (all installed by `make test`).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::server::TestServer;

type Login = (&'static str, &'static str);

const ANALYST: Login = ("analyst@tenant-a.test", "analyst123");
const VIEWER_B: Login = ("viewer@tenant-b.test", "viewer123");
const VIEW_COLUMNS: [&str; 4] = ["symbol", "trades", "volume", "avg_price"];

fn clients_dir() -> String {
    format!("{}/tests/e2e/clients", env!("CARGO_MANIFEST_DIR"))
}

/// Runs a client program and parses the one JSON document it prints.
fn run_json(mut command: Command, what: &str) -> Value {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn server_args(server: &TestServer, (user, password): Login) -> [String; 4] {
    [
        server.pg.ip().to_string(),
        server.pg.port().to_string(),
        user.to_string(),
        password.to_string(),
    ]
}

fn jdbc(server: &TestServer, login: Login) -> Value {
    let jar = std::env::var("FLOWFORGE_JDBC_JAR")
        .unwrap_or_else(|_| "/usr/share/java/postgresql.jar".to_string());
    let mut command = Command::new("java");
    command
        .arg("-cp")
        .arg(jar)
        .arg(format!("{}/JdbcMetadata.java", clients_dir()))
        .args(server_args(server, login));
    run_json(command, "pgjdbc client")
}

fn node(server: &TestServer, login: Login) -> Value {
    let modules = std::env::var("FLOWFORGE_NODE_PATH").expect(
        "FLOWFORGE_NODE_PATH must point at a node_modules folder with pg (run `make test`)",
    );
    let mut command = Command::new("node");
    command
        .env("NODE_PATH", modules)
        .arg(format!("{}/node_pg.js", clients_dir()))
        .args(server_args(server, login));
    run_json(command, "node-postgres client")
}

fn python(server: &TestServer, scenario: &str, login: Login) -> Value {
    let interpreter = std::env::var("FLOWFORGE_TEST_PYTHON").expect(
        "FLOWFORGE_TEST_PYTHON must point at a Python with the client drivers (run `make test`)",
    );
    let mut command = Command::new(interpreter);
    command
        .arg(format!("{}/pg_clients.py", clients_dir()))
        .arg(scenario)
        .args(server_args(server, login));
    run_json(command, scenario)
}

/// Runs SQL or a meta-command through psql and returns its unaligned, tuples-only rows.
fn psql(server: &TestServer, (user, password): Login, command: &str) -> Vec<Vec<String>> {
    let mut child = Command::new("psql")
        .arg(server.dsn(user, password))
        .args([
            "-X",
            "-A",
            "-t",
            "-F",
            "\u{1f}",
            "-v",
            "ON_ERROR_STOP=1",
            "-f",
            "-",
        ])
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run psql");
    child
        .stdin
        .take()
        .expect("psql stdin")
        .write_all(format!("{command}\n").as_bytes())
        .expect("write to psql");
    let out = child.wait_with_output().expect("wait for psql");
    assert!(
        out.status.success(),
        "psql {command}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\u{1f}').map(str::to_string).collect())
        .collect()
}

/// One column of a relation: its name and type as psql's `\gdesc` reports them for
/// `SELECT *`, and its description from `\d+` (views only).
struct PsqlColumn {
    name: String,
    type_name: String,
    description: Option<String>,
}

fn psql_columns(server: &TestServer, relation: &str) -> Vec<PsqlColumn> {
    let mut columns: Vec<PsqlColumn> = psql(
        server,
        ANALYST,
        &format!("SELECT * FROM {relation} \\gdesc"),
    )
    .into_iter()
    .map(|row| PsqlColumn {
        name: row[0].clone(),
        type_name: row[1].clone(),
        description: None,
    })
    .collect();
    assert!(
        !columns.is_empty(),
        "psql \\gdesc: no columns for {relation}"
    );
    if !relation.contains('.') {
        // Column | Type | Collation | Nullable | Default | Storage | Description
        for row in psql(server, ANALYST, &format!("\\d+ {relation}")) {
            if let Some(column) = columns.iter_mut().find(|c| c.name == row[0]) {
                column.description = row.last().filter(|d| !d.is_empty()).cloned();
            }
        }
    }
    columns
}

/// Names (second column) of a psql `\dt` / `\dv` listing.
fn psql_names(server: &TestServer, login: Login, command: &str) -> BTreeSet<String> {
    psql(server, login, command)
        .into_iter()
        .map(|row| row[1].clone())
        .collect()
}

/// The PostgreSQL type of a column psql describes: (pg_type.typname, OID, java.sql.Types,
/// SQLAlchemy's type).
fn pg_type(psql_type: &str) -> (&'static str, i64, i64, &'static str) {
    match psql_type {
        "text" => ("text", 25, 12, "TEXT"),
        "bigint" => ("int8", 20, -5, "BIGINT"),
        "integer" => ("int4", 23, 4, "INTEGER"),
        "smallint" => ("int2", 21, 5, "SMALLINT"),
        "double precision" => ("float8", 701, 8, "DOUBLE PRECISION"),
        "real" => ("float4", 700, 7, "REAL"),
        "boolean" => ("bool", 16, -7, "BOOLEAN"),
        "date" => ("date", 1082, 91, "DATE"),
        "timestamp without time zone" => ("timestamp", 1114, 93, "TIMESTAMP"),
        "timestamp with time zone" => ("timestamptz", 1184, 93, "TIMESTAMP"),
        other => panic!("no expectation for psql type {other}"),
    }
}

/// Rows of the view for one symbol as psql prints them (the sample data has one per symbol).
fn view_rows(server: &TestServer, symbol: &str) -> Vec<Vec<String>> {
    let rows = psql(
        server,
        ANALYST,
        &format!(
            "SELECT symbol, trades, volume, avg_price FROM trades_by_symbol WHERE symbol = '{symbol}'"
        ),
    );
    assert_eq!(rows.len(), 1, "psql: no single {symbol} row: {rows:?}");
    rows
}

/// A JSON scalar in PostgreSQL's text form (booleans as `t`/`f`).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "t" } else { "f" }.to_string()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// One field of each object in a list, as text.
fn field(values: &[Value], name: &str) -> Vec<String> {
    values
        .iter()
        .map(|r| text(&r[name]).unwrap_or_default())
        .collect()
}

fn texts(values: &[Value]) -> Vec<String> {
    values.iter().filter_map(text).collect()
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Compares client rows (arrays) with psql's text rows, reading numbers as numbers.
fn same_rows(got: &Value, want: &[Vec<String>]) -> bool {
    let Some(got) = got.as_array() else {
        return false;
    };
    got.len() == want.len()
        && got.iter().zip(want).all(|(g, w)| {
            g.as_array().is_some_and(|cells| {
                cells.len() == w.len()
                    && cells
                        .iter()
                        .zip(w)
                        .all(|(c, w)| match (c, w.parse::<f64>()) {
                            (Value::Number(n), Ok(wf)) => n
                                .as_f64()
                                .is_some_and(|f| (f - wf).abs() <= 1e-9 * wf.abs().max(1.0)),
                            _ => text(c).as_deref() == Some(w.as_str()),
                        })
            })
        })
}

/// Collects every mismatch of a test's client runs, then fails once with all of them.
#[derive(Default)]
struct Mismatches(Vec<String>);

impl Mismatches {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, got: T, want: T) {
        self.check(got == want, || {
            format!("{what}:\n    got  {got:?}\n    want {want:?}")
        });
    }

    /// A call's result; a recorded error (with the SQL the driver sent) becomes a mismatch.
    fn result<'a>(&mut self, call: &str, v: &'a Value) -> Option<&'a Value> {
        if v.is_null() || v.get("error").is_some() {
            let state = v["sqlstate"].as_str().unwrap_or("-");
            let statement = v["statement"].as_str().unwrap_or("(not recorded)");
            self.0.push(format!(
                "{call} failed: {} [SQLSTATE {state}]\n    statement: {statement}",
                if v.is_null() {
                    "no result"
                } else {
                    v["error"].as_str().unwrap_or("?")
                }
            ));
            None
        } else {
            Some(v)
        }
    }

    /// A call's result list (see [`Mismatches::result`]).
    fn list<'a>(&mut self, call: &str, v: &'a Value) -> Option<&'a [Value]> {
        let v = self.result(call, v)?;
        let list = v.as_array().map(Vec::as_slice);
        self.check(list.is_some(), || format!("{call}: not a list: {v}"));
        list
    }

    fn finish(self, test: &str) {
        assert!(
            self.0.is_empty(),
            "{test}: {} mismatches\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

#[test]
fn pgjdbc_database_metadata_and_prepared_statements() {
    let server = TestServer::start(&[]);
    let r = jdbc(&server, ANALYST);
    let mut m = Mismatches::default();
    m.eq(
        "getDatabaseProductName()",
        &r["product"],
        &json!("PostgreSQL"),
    );

    if let Some(schemas) = m.list("getSchemas()", &r["schemas"]) {
        let schemas = field(schemas, "TABLE_SCHEM");
        m.check(
            schemas.contains(&"public".into()) && schemas.contains(&"market".into()),
            || format!("getSchemas() lacks public or market: {schemas:?}"),
        );
    }

    let market = psql_names(&server, ANALYST, "\\dt market.*");
    assert!(
        market.contains("fct_trades"),
        "psql \\dt market.*: {market:?}"
    );
    if let Some(tables) = m.list("getTables(market)", &r["market_tables"]) {
        let names: BTreeSet<String> = field(tables, "TABLE_NAME").into_iter().collect();
        m.eq("getTables(market) names", &names, &market);
        let types = field(tables, "TABLE_TYPE");
        m.check(types.iter().all(|t| t == "TABLE"), || {
            format!("getTables(market) TABLE_TYPE: {types:?}")
        });
    }

    let views = psql_names(&server, ANALYST, "\\dv");
    assert!(views.contains("trades_by_symbol"), "psql \\dv: {views:?}");
    if let Some(found) = m.list("getTables(public, VIEW)", &r["public_views"]) {
        let names: BTreeSet<String> = field(found, "TABLE_NAME").into_iter().collect();
        m.eq("getTables(public, VIEW) names", &names, &views);
        let types = field(found, "TABLE_TYPE");
        m.check(types.iter().all(|t| t == "VIEW"), || {
            format!("getTables(public, VIEW) TABLE_TYPE: {types:?}")
        });
    }
    if let Some(types) = m.list("getTableTypes()", &r["table_types"]) {
        let types = field(types, "TABLE_TYPE");
        m.check(
            types.contains(&"TABLE".into()) && types.contains(&"VIEW".into()),
            || format!("getTableTypes(): {types:?}"),
        );
    }

    for (key, relation) in [
        ("view_columns", "trades_by_symbol"),
        ("trade_columns", "market.fct_trades"),
    ] {
        let call = format!("getColumns({relation})");
        let want = psql_columns(&server, relation);
        let Some(got) = m.list(&call, &r[key]) else {
            continue;
        };
        m.eq(
            &format!("{call} COLUMN_NAME"),
            field(got, "COLUMN_NAME"),
            want.iter().map(|c| c.name.clone()).collect(),
        );
        m.eq(
            &format!("{call} ORDINAL_POSITION"),
            field(got, "ORDINAL_POSITION"),
            (1..=want.len()).map(|i| i.to_string()).collect(),
        );
        m.eq(
            &format!("{call} TYPE_NAME"),
            field(got, "TYPE_NAME"),
            want.iter()
                .map(|c| pg_type(&c.type_name).0.to_string())
                .collect(),
        );
        m.eq(
            &format!("{call} DATA_TYPE"),
            field(got, "DATA_TYPE"),
            want.iter()
                .map(|c| pg_type(&c.type_name).2.to_string())
                .collect(),
        );
        if key == "view_columns" {
            assert!(
                want.iter().any(|c| c.description.is_some()),
                "psql \\d+ shows no column descriptions for {relation}"
            );
            m.eq(
                &format!("{call} REMARKS"),
                got.iter().map(|c| text(&c["REMARKS"])).collect::<Vec<_>>(),
                want.iter().map(|c| c.description.clone()).collect(),
            );
        }
    }

    // The sample model declares no keys: both calls answer with an empty result set.
    if let Some(keys) = m.list("getPrimaryKeys(market.fct_trades)", &r["primary_keys"]) {
        m.eq("getPrimaryKeys(market.fct_trades)", keys, &[][..]);
    }
    if let Some(keys) = m.list("getImportedKeys(market.fct_trades)", &r["imported_keys"]) {
        m.eq("getImportedKeys(market.fct_trades)", keys, &[][..]);
    }

    if let Some(prepared) = m.result("PreparedStatement on trades_by_symbol", &r["prepared"]) {
        for (key, symbol) in [("rows", "AAPL"), ("rows_named_statement", "MSFT")] {
            let want = view_rows(&server, symbol);
            m.check(same_rows(&prepared[key], &want), || {
                format!(
                    "PreparedStatement WHERE symbol = ? ({symbol}, {key}): got {} want {want:?}",
                    prepared[key]
                )
            });
        }
        let columns = prepared["columns"].as_array().cloned().unwrap_or_default();
        m.eq(
            "PreparedStatement getMetaData() names",
            field(&columns, "name"),
            owned(&VIEW_COLUMNS),
        );
        m.eq(
            "PreparedStatement getMetaData() type names",
            field(&columns, "type_name"),
            owned(&["text", "int8", "int8", "float8"]),
        );
        m.eq(
            "PreparedStatement getMetaData() java.sql.Types",
            field(&columns, "type"),
            owned(&["12", "-5", "-5", "8"]),
        );
    }
    m.eq("session after the metadata calls", &r["after"], &json!(2));

    // Tenant B's viewer sees only its views: no market schema.
    let r = jdbc(&server, VIEWER_B);
    if let Some(schemas) = m.list("viewer: getSchemas()", &r["schemas"]) {
        let schemas = field(schemas, "TABLE_SCHEM");
        m.check(
            schemas.contains(&"public".into()) && !schemas.contains(&"market".into()),
            || format!("viewer: getSchemas(): {schemas:?}"),
        );
    }
    if let Some(tables) = m.list("viewer: getTables(market)", &r["market_tables"]) {
        m.eq("viewer: getTables(market)", tables, &[][..]);
    }
    let viewer_views = psql_names(&server, VIEWER_B, "\\dv");
    if let Some(found) = m.list("viewer: getTables(public, VIEW)", &r["public_views"]) {
        m.eq(
            "viewer: getTables(public, VIEW) names",
            field(found, "TABLE_NAME")
                .into_iter()
                .collect::<BTreeSet<_>>(),
            viewer_views,
        );
    }
    m.finish("pgjdbc");
}

#[test]
fn sqlalchemy_reflection_and_pandas_read_views() {
    let server = TestServer::start(&[]);
    let r = python(&server, "sqlalchemy", ANALYST);
    let mut m = Mismatches::default();
    m.result("connect", &r["connect"]);

    if let Some(schemas) = m.list("get_schema_names()", &r["schemas"]) {
        let schemas = texts(schemas);
        m.check(
            schemas.contains(&"public".into()) && schemas.contains(&"market".into()),
            || format!("get_schema_names() lacks public or market: {schemas:?}"),
        );
    }
    let market = psql_names(&server, ANALYST, "\\dt market.*");
    if let Some(tables) = m.list("get_table_names(schema='market')", &r["market_tables"]) {
        m.eq(
            "get_table_names(schema='market')",
            texts(tables).into_iter().collect::<BTreeSet<_>>(),
            market,
        );
    }
    let views = psql_names(&server, ANALYST, "\\dv");
    if let Some(found) = m.list("get_view_names(schema='public')", &r["public_views"]) {
        m.eq(
            "get_view_names(schema='public')",
            texts(found).into_iter().collect::<BTreeSet<_>>(),
            views,
        );
    }

    for (key, relation) in [
        ("columns", "trades_by_symbol"),
        ("trade_columns", "market.fct_trades"),
    ] {
        let call = format!("get_columns({relation})");
        let want = psql_columns(&server, relation);
        let Some(got) = m.list(&call, &r[key]) else {
            continue;
        };
        m.eq(
            &format!("{call} names"),
            field(got, "name"),
            want.iter().map(|c| c.name.clone()).collect(),
        );
        m.eq(
            &format!("{call} types"),
            field(got, "type"),
            want.iter()
                .map(|c| pg_type(&c.type_name).3.to_string())
                .collect(),
        );
        if key == "columns" {
            m.eq(
                &format!("{call} comments"),
                got.iter().map(|c| text(&c["comment"])).collect::<Vec<_>>(),
                want.iter().map(|c| c.description.clone()).collect(),
            );
        }
    }

    if let Some(definition) = m.result("get_view_definition()", &r["view_definition"]) {
        m.check(
            definition
                .as_str()
                .is_some_and(|d| d.to_lowercase().contains("select")),
            || format!("get_view_definition() is no SELECT: {definition}"),
        );
    }
    if let Some(pk) = m.result("get_pk_constraint(market.fct_trades)", &r["pk_constraint"]) {
        m.eq(
            "get_pk_constraint(market.fct_trades) columns",
            &pk["constrained_columns"],
            &json!([]),
        );
    }
    if let Some(fks) = m.list("get_foreign_keys(market.fct_trades)", &r["foreign_keys"]) {
        m.eq("get_foreign_keys(market.fct_trades)", fks, &[][..]);
    }
    if let Some(indexes) = m.list("get_indexes(market.fct_trades)", &r["indexes"]) {
        m.eq("get_indexes(market.fct_trades)", indexes, &[][..]);
    }

    let symbols: Vec<String> = psql(
        &server,
        ANALYST,
        "SELECT symbol FROM trades_by_symbol ORDER BY symbol",
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect();
    assert!(!symbols.is_empty(), "psql: trades_by_symbol is empty");
    if let Some(read) = m.result("pandas.read_sql(view)", &r["read_sql"]) {
        m.eq(
            "pandas.read_sql symbols",
            read["symbols"].as_array().map(|s| texts(s)),
            Some(symbols.clone()),
        );
        m.eq(
            "pandas.read_sql columns",
            &read["columns"],
            &json!(VIEW_COLUMNS),
        );
        // pandas 3 names the string dtype `str`, pandas 2 `object`.
        m.check(
            read["dtypes"].as_array().is_some_and(|d| {
                ["object", "str"].contains(&d[0].as_str().unwrap_or_default())
                    && d[1..] == [json!("int64"), json!("int64"), json!("float64")]
            }),
            || format!("pandas.read_sql dtypes: {}", read["dtypes"]),
        );
    }
    if let Some(read) = m.result("pandas.read_sql_table(view)", &r["read_sql_table"]) {
        m.eq(
            "pandas.read_sql_table rows",
            &read["rows"],
            &json!(symbols.len()),
        );
        m.eq(
            "pandas.read_sql_table columns",
            &read["columns"],
            &json!(VIEW_COLUMNS),
        );
    }

    let r = python(&server, "sqlalchemy", VIEWER_B);
    if let Some(schemas) = m.list("viewer: get_schema_names()", &r["schemas"]) {
        let schemas = texts(schemas);
        m.check(
            schemas.contains(&"public".into()) && !schemas.contains(&"market".into()),
            || format!("viewer: get_schema_names(): {schemas:?}"),
        );
    }
    if let Some(tables) = m.list(
        "viewer: get_table_names(schema='market')",
        &r["market_tables"],
    ) {
        m.eq("viewer: get_table_names(schema='market')", tables, &[][..]);
    }
    m.finish("SQLAlchemy");
}

#[test]
fn node_postgres_parameterized_queries_report_postgres_type_oids() {
    let server = TestServer::start(&[]);
    let r = node(&server, ANALYST);
    let mut m = Mismatches::default();

    if let Some(version) = m.result("SHOW server_version_num", &r["server_version"]) {
        m.check(
            version.as_str().is_some_and(|v| v.starts_with("16")),
            || format!("server_version_num: {version}"),
        );
    }
    for (key, symbol) in [("view", "AAPL"), ("view_named", "MSFT")] {
        let call = format!("{key}: trades_by_symbol WHERE symbol = $1");
        let Some(got) = m.result(&call, &r[key]) else {
            continue;
        };
        m.eq(
            &format!("{call} fields"),
            &got["fields"],
            &json!(VIEW_COLUMNS),
        );
        m.eq(
            &format!("{call} dataTypeIDs"),
            &got["dataTypeIDs"],
            &json!([25, 20, 20, 701]),
        );
        let want = view_rows(&server, symbol);
        m.check(same_rows(&got["rows"], &want), || {
            format!("{call} rows ({symbol}): got {} want {want:?}", got["rows"])
        });
    }

    let columns = psql_columns(&server, "market.fct_trades");
    let selected = ["trade_id", "symbol", "price", "quantity", "event_time"];
    let want_oids: Vec<i64> = selected
        .iter()
        .map(|name| {
            let column = columns
                .iter()
                .find(|c| c.name == *name)
                .unwrap_or_else(|| panic!("psql: market.fct_trades has no column {name}"));
            pg_type(&column.type_name).1
        })
        .collect();
    let call = "market.fct_trades WHERE symbol = $1 AND quantity > $2";
    if let Some(trades) = m.result(call, &r["trades"]) {
        m.eq(
            &format!("{call} fields"),
            &trades["fields"],
            &json!(selected),
        );
        m.eq(
            &format!("{call} dataTypeIDs"),
            &trades["dataTypeIDs"],
            &json!(want_oids),
        );
        let want = psql(
            &server,
            ANALYST,
            "SELECT trade_id, symbol, price, quantity FROM market.fct_trades \
             WHERE symbol = 'MSFT' AND quantity > 100 ORDER BY trade_id LIMIT 5",
        );
        assert_eq!(want.len(), 5, "psql: MSFT trades: {want:?}");
        // event_time is left out: its text form depends on the client's time zone handling.
        let got: Vec<Value> = trades["rows"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|row| json!([row[0], row[1], row[2], row[3]]))
                    .collect()
            })
            .unwrap_or_default();
        m.check(same_rows(&json!(got), &want), || {
            format!("{call} rows: got {} want {want:?}", trades["rows"])
        });
    }
    m.eq("session after the queries", &r["after"], &json!("2"));
    m.finish("node-postgres");
}

#[test]
fn npgsql_type_loading_and_pool_reset() {
    let server = TestServer::start(&[]);
    let r = python(&server, "npgsql", ANALYST);
    let mut m = Mismatches::default();

    // Npgsql 6-8: one simple query with four statements, read as four result sets.
    let call = "Npgsql 6-8 type loading batch";
    if let Some(sets) = m.list(call, &r["types_batch"]) {
        m.eq(&format!("{call}: result sets"), sets.len(), 4);
    }
    if let Some(sets) = r["types_batch"].as_array().filter(|s| s.len() == 4) {
        m.check(
            sets[0]["rows"][0][0]
                .as_str()
                .is_some_and(|v| v.starts_with("PostgreSQL 16")),
            || format!("{call}: SELECT version(): {}", sets[0]),
        );
        m.eq(
            &format!("{call}: types query columns"),
            &sets[1]["columns"],
            &json!([
                "nspname",
                "oid",
                "typname",
                "typtype",
                "typnotnull",
                "elemtypoid"
            ]),
        );
        let rows: Vec<Vec<Option<String>>> = sets[1]["rows"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|row| row.as_array().map(|c| c.iter().map(text).collect()))
                    .map(Option::unwrap_or_default)
                    .collect()
            })
            .unwrap_or_default();
        // (oid, typname, typtype, elemtypoid) of types Npgsql needs, all in pg_catalog.
        for (oid, typname, typtype, elem) in [
            ("16", "bool", "b", None),
            ("20", "int8", "b", None),
            ("23", "int4", "b", None),
            ("25", "text", "b", None),
            ("701", "float8", "b", None),
            ("1114", "timestamp", "b", None),
            ("2249", "record", "p", None),
            ("1007", "_int4", "a", Some("23")),
            ("1009", "_text", "a", Some("25")),
        ] {
            let want: Vec<Option<String>> = [
                Some("pg_catalog"),
                Some(oid),
                Some(typname),
                Some(typtype),
                Some("f"),
                elem,
            ]
            .iter()
            .map(|c| c.map(str::to_string))
            .collect();
            m.check(rows.contains(&want), || {
                format!("{call}: types query lacks {want:?} ({} rows)", rows.len())
            });
        }
        // Npgsql resolves an array's element from the rows before it: arrays come last.
        let first_array = rows.iter().position(|r| r[3].as_deref() == Some("a"));
        let last_base = rows.iter().rposition(|r| r[3].as_deref() == Some("b"));
        m.check(
            matches!((first_array, last_base), (Some(a), Some(b)) if a > b),
            || format!("{call}: arrays are not ordered after base types"),
        );
        m.eq(
            &format!("{call}: composite fields query columns"),
            &sets[2]["columns"],
            &json!(["oid", "attname", "atttypid"]),
        );
        m.eq(
            &format!("{call}: enum labels query columns"),
            &sets[3]["columns"],
            &json!(["oid", "enumlabel"]),
        );
    }

    // Npgsql 4 (Power BI): three statements through the extended protocol.
    let call = "Npgsql 4 type loading";
    if let Some(sets) = m.list(call, &r["types_v4"]) {
        m.eq(&format!("{call}: result sets"), sets.len(), 3);
    }
    if let Some(sets) = r["types_v4"].as_array().filter(|s| s.len() == 3) {
        m.eq(
            &format!("{call}: types query columns"),
            &sets[0]["columns"],
            &json!([
                "nspname",
                "typname",
                "oid",
                "typrelid",
                "typbasetype",
                "type",
                "elemoid",
                "ord"
            ]),
        );
        let rows = sets[0]["rows"].as_array().cloned().unwrap_or_default();
        for (typname, kind, elem) in [
            ("int4", "b", "0"),
            ("text", "b", "0"),
            ("float8", "b", "0"),
            ("_int4", "a", "23"),
        ] {
            let found = rows.iter().any(|r| {
                text(&r[1]).as_deref() == Some(typname)
                    && text(&r[5]).as_deref() == Some(kind)
                    && text(&r[6]).as_deref() == Some(elem)
            });
            m.check(found, || {
                format!("{call}: types query lacks {typname} ({kind}, elemoid {elem})")
            });
        }
        let ords: Vec<i64> = rows.iter().filter_map(|r| r[7].as_i64()).collect();
        m.check(
            ords.len() == rows.len() && ords.windows(2).all(|w| w[0] <= w[1]),
            || format!("{call}: rows not ordered by ord: {ords:?}"),
        );
        m.eq(
            &format!("{call}: composite fields columns"),
            &sets[1]["columns"],
            &json!(["oid", "attname", "atttypid"]),
        );
        m.eq(
            &format!("{call}: enum labels columns"),
            &sets[2]["columns"],
            &json!(["oid", "enumlabel"]),
        );
    }

    let aapl = view_rows(&server, "AAPL");
    if let Some(discard) = m.result("DISCARD ALL", &r["discard_all"]) {
        m.eq(
            "DISCARD ALL command tag",
            &discard["status"],
            &json!("DISCARD ALL"),
        );
        for key in ["before", "after"] {
            m.check(same_rows(&discard[key], &aapl), || {
                format!(
                    "view rows {key} DISCARD ALL: got {} want {aapl:?}",
                    discard[key]
                )
            });
        }
    }
    let msft = view_rows(&server, "MSFT");
    if let Some(pipelined) = m.result("pipelined DISCARD ALL", &r["discard_all_pipelined"]) {
        m.check(same_rows(&pipelined["rows"], &msft), || {
            format!(
                "query pipelined after DISCARD ALL: got {} want {msft:?}",
                pipelined["rows"]
            )
        });
    }
    m.eq("session after DISCARD ALL", &r["after"], &json!(2));
    m.finish("Npgsql");
}
