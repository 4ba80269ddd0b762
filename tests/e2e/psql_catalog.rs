//! psql's meta-commands (`\dn`, `\dt`, `\dv`, `\d`, `\d+`, `\l`) against the real server: they
//! read the per-session `pg_catalog`, so each tenant sees only its own objects.

use std::process::Command;

use super::server::TestServer;

/// Runs one meta-command as `user` and returns its unaligned, tuples-only output lines.
fn meta(server: &TestServer, user: &str, password: &str, command: &str) -> Vec<String> {
    let out = Command::new("psql")
        .arg(server.dsn(user, password))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", command])
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
}
