//! The Debian `psql` client against the real server: logins, views, the tenant ACL, read-only
//! rejection, SQLSTATEs and TLS.

use std::process::{Command, Output};

use super::server::TestServer;

const TENANT_A: &str = "AAPL,AMZN,GOOGL,JPM,MSFT,NVDA";
const TENANT_B: &str = "BAC,GS,JPM,META,TSLA";

struct Psql<'a> {
    server: &'a TestServer,
    user: &'a str,
    password: &'a str,
}

impl Psql<'_> {
    fn run(&self, sql: &str) -> Output {
        Command::new("psql")
            .arg(self.server.dsn(self.user, self.password))
            .args([
                "-X",
                "-A",
                "-t",
                "-F",
                ",",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                "VERBOSITY=verbose",
                "-c",
                sql,
            ])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql")
    }

    /// Rows as lines; fails the test on error.
    fn rows(&self, sql: &str) -> Vec<String> {
        let out = self.run(sql);
        assert!(
            out.status.success(),
            "{sql}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// The SQLSTATE of a failing statement.
    fn error(&self, sql: &str) -> String {
        let out = self.run(sql);
        assert!(!out.status.success(), "{sql} should fail");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        stderr
            .split("ERROR:")
            .nth(1)
            .and_then(|rest| rest.trim_start().split(':').next())
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| panic!("no SQLSTATE in: {stderr}"))
    }

    fn symbols(&self, sql: &str) -> String {
        let mut rows = self.rows(sql);
        rows.sort();
        rows.dedup();
        rows.join(",")
    }
}

#[test]
fn every_demo_user_logs_in_and_wrong_passwords_are_refused() {
    let server = TestServer::start(&[]);
    for (user, password) in [
        ("admin@tenant-a.test", "admin123"),
        ("analyst@tenant-a.test", "analyst123"),
        ("admin@tenant-b.test", "admin123"),
        ("viewer@tenant-b.test", "viewer123"),
    ] {
        let psql = Psql {
            server: &server,
            user,
            password,
        };
        assert_eq!(psql.rows("SELECT current_user"), vec![user.to_string()]);
        assert_eq!(
            psql.rows("SELECT current_database(), current_schema()"),
            vec!["flowforge,public".to_string()]
        );
    }
    for (user, password) in [
        ("analyst@tenant-a.test", "wrong"),
        ("nobody@tenant-a.test", "analyst123"),
    ] {
        let out = Psql {
            server: &server,
            user,
            password,
        }
        .run("SELECT 1");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{stderr}"
        );
    }
}

#[test]
fn views_session_behaviour_and_errors() {
    let server = TestServer::start(&[]);
    let a = Psql {
        server: &server,
        user: "analyst@tenant-a.test",
        password: "analyst123",
    };
    let rows = a.rows("SELECT symbol, trades > 0 FROM trades_by_symbol WHERE symbol = 'AAPL'");
    assert_eq!(rows, vec!["AAPL,t".to_string()]);
    let plan = a
        .rows("EXPLAIN SELECT symbol FROM trades_by_symbol WHERE symbol = 'AAPL'")
        .join("\n");
    assert!(
        plan.contains("AAPL"),
        "the client's WHERE is in the plan:\n{plan}"
    );
    assert!(
        plan.contains("SELECT"),
        "EXPLAIN shows the backend SQL:\n{plan}"
    );
    assert!(
        plan.contains("NVDA"),
        "the entitlement filter is in the plan:\n{plan}"
    );
    assert_eq!(
        a.rows("SHOW server_version")[0].split('.').next(),
        Some("16")
    );
    assert!(a.rows("SELECT version()")[0].starts_with("PostgreSQL 16"));
    assert_eq!(
        a.rows("BEGIN; SELECT 1; COMMIT"),
        vec!["BEGIN", "1", "COMMIT"]
    );
    assert_eq!(
        a.rows("SET application_name = 'e2e'; SHOW application_name"),
        vec!["SET", "e2e"]
    );
    assert_eq!(
        a.rows("SELECT count(*) AS n, 1 + 1"),
        vec!["1,2".to_string()]
    );
    for statement in [
        "INSERT INTO market.fct_trades (trade_id) VALUES (1)",
        "UPDATE market.fct_trades SET price = 0",
        "DELETE FROM market.fct_trades",
        "CREATE TABLE x (a int)",
        "DROP VIEW trades_by_symbol",
        "COPY market.fct_trades FROM STDIN",
        "TRUNCATE market.fct_trades",
    ] {
        assert_eq!(a.error(statement), "25006", "{statement}");
    }
    assert_eq!(a.error("SELEC 1"), "42601");
    assert_eq!(a.error("SELECT * FROM no_such_view"), "42P01");
}

#[test]
fn no_query_shape_escapes_the_tenant_acl() {
    let server = TestServer::start(&[]);
    let a = Psql {
        server: &server,
        user: "analyst@tenant-a.test",
        password: "analyst123",
    };
    let b = Psql {
        server: &server,
        user: "admin@tenant-b.test",
        password: "admin123",
    };
    let shapes = [
        "SELECT symbol FROM market.fct_trades",
        "WITH t AS (SELECT * FROM market.fct_trades) SELECT symbol FROM t",
        "SELECT symbol FROM (SELECT symbol FROM market.fct_quotes) q",
        "SELECT symbol FROM market.dim_instruments WHERE symbol IN (SELECT symbol FROM market.fct_trades)",
        "SELECT symbol FROM market.fct_trades UNION SELECT symbol FROM market.fct_quotes",
        "SELECT a.symbol FROM market.fct_trades a JOIN market.fct_trades b ON a.trade_id = b.trade_id",
        "SELECT d.symbol FROM market.dim_instruments d WHERE EXISTS (SELECT 1 FROM market.fct_trades t WHERE t.symbol = d.symbol)",
        "SELECT symbol FROM (SELECT symbol, row_number() OVER (PARTITION BY symbol ORDER BY trade_id) AS rn FROM market.fct_trades) w WHERE rn = 1",
        "SELECT symbol FROM trades_by_symbol",
        "SELECT symbol FROM hourly_ohlcv",
        "SELECT symbol FROM market.agg_ohlcv_1d UNION ALL SELECT symbol FROM market.live_positions",
    ];
    for sql in shapes {
        assert_eq!(a.symbols(sql), TENANT_A, "tenant A: {sql}");
        assert_eq!(b.symbols(sql), TENANT_B, "tenant B: {sql}");
    }
    assert_eq!(
        a.rows("SELECT (SELECT count(DISTINCT symbol) FROM market.fct_trades)"),
        vec!["6".to_string()]
    );
    assert_eq!(
        a.rows("SELECT count(*) FROM market.fct_trades WHERE symbol = 'TSLA'"),
        vec!["0".to_string()]
    );
    // Another tenant's workflow does not exist for you; a viewer has no market schema.
    assert_eq!(
        b.rows("SELECT count(*) > 0 FROM bank_exposure"),
        vec!["t".to_string()]
    );
    assert_eq!(a.error("SELECT * FROM bank_exposure"), "42P01");
    let viewer = Psql {
        server: &server,
        user: "viewer@tenant-b.test",
        password: "viewer123",
    };
    assert_eq!(viewer.error("SELECT * FROM market.fct_trades"), "42P01");
    assert_eq!(
        viewer.symbols("SELECT symbol FROM trades_by_symbol"),
        TENANT_B
    );
}

#[test]
fn tls_with_verify_full_against_the_generated_ca() {
    let server = TestServer::start(&[]);
    let ca = server.data_dir().join("tls").join("ca.pem");
    assert!(ca.exists(), "the demo generates a CA at {}", ca.display());
    let dsn = format!(
        "host=localhost port={} user=analyst@tenant-a.test dbname=flowforge sslmode=verify-full sslrootcert={}",
        server.pg.port(),
        ca.display()
    );
    let out = Command::new("psql")
        .arg(&dsn)
        .args(["-X", "-A", "-t", "-c", "SELECT current_user"])
        .env("PGPASSWORD", "analyst123")
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "analyst@tenant-a.test"
    );
    // The same connection without trusting the CA must fail verification.
    let other = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(other.path(), include_str!("untrusted_ca.pem")).expect("write");
    let out = Command::new("psql")
        .arg(format!(
            "host=localhost port={} user=analyst@tenant-a.test dbname=flowforge sslmode=verify-full sslrootcert={}",
            server.pg.port(),
            other.path().display()
        ))
        .args(["-X", "-c", "SELECT 1"])
        .env("PGPASSWORD", "analyst123")
        .output()
        .expect("psql");
    assert!(
        !out.status.success(),
        "a connection must not verify against an unrelated CA"
    );
}

#[test]
fn an_api_key_logs_in_with_scram_until_it_is_revoked() {
    let server = TestServer::start(&[]);
    let cli = |args: &[&str]| {
        let out = Command::new(super::server::binary())
            .arg("api-key")
            .args(args)
            .arg("--data-dir")
            .arg(server.data_dir())
            .output()
            .expect("api-key");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let created = cli(&["create", "--tenant", "tenant-b", "--name", "grafana"]);
    let field = |label: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(label).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {label} in {created}"))
    };
    let (public_id, secret) = (field("public id"), field("secret"));
    assert!(
        public_id.starts_with("key_") && secret.starts_with("sk_live_"),
        "{created}"
    );
    let key = Psql {
        server: &server,
        user: &public_id,
        password: &secret,
    };
    assert_eq!(key.symbols("SELECT symbol FROM trades_by_symbol"), TENANT_B);
    assert_eq!(key.error("SELECT * FROM market.fct_trades"), "42P01",);
    assert!(cli(&["list", "--tenant", "tenant-b"]).contains(&public_id));
    cli(&["revoke", "--tenant", "tenant-b", &public_id]);
    assert!(
        !key.run("SELECT 1").status.success(),
        "a revoked key must not log in"
    );
}
