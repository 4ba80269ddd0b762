//! psql's meta-commands (`\dn`, `\dt`, `\dv`, `\d`, `\d+`, `\l`, `\df`, `\du`, `\di`, `\dT`)
//! against the real server: they read the per-session `pg_catalog`, so each tenant sees only its
//! own objects.

use std::process::Command;

use super::server::TestServer;

/// Runs one meta-command as `user` and returns its unaligned, tuples-only output lines.
fn meta(server: &TestServer, user: &str, password: &str, command: &str) -> Vec<String> {
    psql_lines(server, user, password, command, &["-t"])
}

/// Runs one meta-command as `user` and returns its unaligned output lines, `extra` flags added.
fn psql_lines(
    server: &TestServer,
    user: &str,
    password: &str,
    command: &str,
    extra: &[&str],
) -> Vec<String> {
    let out = Command::new("psql")
        .arg(server.dsn(user, password))
        .args(["-X", "-A", "-v", "ON_ERROR_STOP=1"])
        .args(extra)
        .args(["-c", command])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{command}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("ERROR"), "{command}\n{stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn psql_meta_commands_list_and_describe_only_the_tenants_objects() {
    let server = TestServer::start(&[]);
    let analyst_a = |command: &str| meta(&server, "analyst@tenant-a.test", "analyst123", command);

    assert_eq!(
        analyst_a("\\dn"),
        vec![
            "market|analyst@tenant-a.test",
            "public|analyst@tenant-a.test"
        ]
    );
    let tables = analyst_a("\\dt market.*");
    assert!(
        tables.contains(&"market|fct_trades|table|analyst@tenant-a.test".to_string()),
        "{tables:?}"
    );
    let views = analyst_a("\\dv");
    assert!(
        views.contains(&"public|trades_by_symbol|view|analyst@tenant-a.test".to_string()),
        "{views:?}"
    );
    assert!(
        !views.iter().any(|v| v.contains("bank_exposure")),
        "tenant-a sees tenant-b's view: {views:?}"
    );
    assert_eq!(
        analyst_a("\\l"),
        vec!["flowforge|analyst@tenant-a.test|UTF8|C.UTF-8|C.UTF-8||libc|"]
    );

    let described = analyst_a("\\d trades_by_symbol");
    assert!(
        described.iter().any(|l| l.starts_with("symbol|text|")),
        "{described:?}"
    );
    assert!(
        described
            .iter()
            .any(|l| l.starts_with("avg_price|double precision|")),
        "{described:?}"
    );
    let verbose = analyst_a("\\d+ trades_by_symbol");
    assert!(
        verbose
            .iter()
            .any(|l| l.starts_with("symbol|text|") && l.contains("workflow 'Trades by symbol'")),
        "column descriptions missing: {verbose:?}"
    );

    let admin_b = meta(&server, "admin@tenant-b.test", "admin123", "\\dv");
    assert!(
        admin_b.contains(&"public|bank_exposure|view|admin@tenant-b.test".to_string()),
        "{admin_b:?}"
    );
    let viewer_b = |command: &str| meta(&server, "viewer@tenant-b.test", "viewer123", command);
    assert_eq!(viewer_b("\\dn"), vec!["public|viewer@tenant-b.test"]);
    assert!(viewer_b("\\dt market.*").is_empty());

    // Functions: FlowForge defines none of its own; the built-ins are listed under pg_catalog.
    let functions = psql_lines(&server, "analyst@tenant-a.test", "analyst123", "\\df", &[]);
    assert_eq!(
        functions,
        vec![
            "List of functions",
            "Schema|Name|Result data type|Argument data types|Type",
            "(0 rows)"
        ]
    );
    assert_eq!(
        analyst_a("\\dfS date_trunc"),
        vec!["pg_catalog|date_trunc|\"any\"||func"]
    );
    assert_eq!(analyst_a("\\du"), vec!["analyst@tenant-a.test||"]);
    // No indexes: psql says "Did not find any relations." on stderr and prints no rows.
    assert!(analyst_a("\\di").is_empty());
    assert_eq!(analyst_a("\\dTS integer"), vec!["pg_catalog|integer|"]);
    assert_eq!(
        analyst_a("\\d market.fct_trades"),
        vec![
            "trade_id|bigint||not null|",
            "symbol|text||not null|",
            "price|double precision||not null|",
            "quantity|bigint||not null|",
            "side|text||not null|",
            "event_time|timestamp without time zone||not null|",
            "exchange|text||not null|"
        ]
    );
    assert_eq!(
        analyst_a("\\dt+ market.fct_trades"),
        vec!["market|fct_trades|table|analyst@tenant-a.test|permanent|heap|0 bytes|Executed trades, one row per fill."]
    );
    // The system catalogs describe themselves.
    let pg_class = analyst_a("\\d pg_catalog.pg_class");
    assert!(
        pg_class.contains(&"relname|name|||".to_string()),
        "{pg_class:?}"
    );
}
