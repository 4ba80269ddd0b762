//! The CLI: compile, check, run and seed, as a user runs them.

use std::process::Command;

use super::server::binary;

/// Writes a fixture's `workflow` (the format the CLI reads) to a temporary file.
fn fixture(name: &str) -> tempfile::TempPath {
    let path = format!(
        "{}/tests/fixtures/schema/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let value: serde_json::Value = serde_json::from_str(&text).expect("fixture json");
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(
        file.path(),
        serde_json::to_string(&value["workflow"]).expect("json"),
    )
    .expect("write");
    file.into_temp_path()
}

#[test]
fn compile_prints_one_flat_select_for_a_five_node_chain() {
    for name in ["linear_chain_5_nodes", "linear_chain_6_nodes_with_limit"] {
        let workflow = fixture(name);
        let out = Command::new(binary())
            .arg("compile")
            .arg(&workflow)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sql = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            sql.matches("SELECT").count(),
            1,
            "{name}: not one SELECT:\n{sql}"
        );
        assert!(!sql.contains("(SELECT"), "{name}: has a subquery:\n{sql}");
        assert!(
            sql.contains("WHERE") && sql.contains("ORDER BY"),
            "{name}:\n{sql}"
        );
    }
    let workflow = fixture("linear_chain_6_nodes_with_limit");
    let out = Command::new(binary())
        .arg("compile")
        .arg(&workflow)
        .args(["--dialect", "clickhouse"])
        .output()
        .expect("run");
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(sql.contains("LIMIT 25 OFFSET 5"), "{sql}");
    assert!(sql.contains('`') && !sql.contains("::"), "{sql}");
}

#[test]
fn compile_join_group_by_bar_is_one_statement() {
    let workflow = fixture("complex_dag_join_group_by_bar");
    let out = Command::new(binary())
        .arg("compile")
        .arg(&workflow)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sql = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(sql.trim_end().matches(';').count(), 1, "{sql}");
    assert!(sql.contains("JOIN") && sql.contains("GROUP BY"), "{sql}");
}

#[test]
fn bad_workflows_exit_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("not json at all", "invalid workflow JSON"),
        (
            r#"{"nodes": [{"id": "a", "type": "data_source", "config": {"table": "fct_trades"}}], "edges": [{"source": "a", "target": "a"}]}"#,
            "cannot feed itself",
        ),
        (
            r#"{"nodes": [{"id": "a", "type": "data_source", "config": {"table": "fct_trades"}}, {"id": "f", "type": "formula", "config": {"column": "x", "expression": "[price] +* 2"}}], "edges": [{"source": "a", "target": "f"}]}"#,
            "position",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("w{i}.json"));
        std::fs::write(&path, text).expect("write");
        let out = Command::new(binary())
            .arg("compile")
            .arg(&path)
            .args(["--node", "f"])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "case {i} should fail");
        assert!(
            stderr.contains(expected),
            "case {i}: expected '{expected}' in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "case {i} panicked: {stderr}");
    }
    for fixture_name in ["error_cycle", "error_formula_type"] {
        let workflow = fixture(fixture_name);
        let out = Command::new(binary())
            .arg("check")
            .arg(&workflow)
            .output()
            .expect("run");
        assert!(!out.status.success(), "{fixture_name} should fail");
    }
}

#[test]
fn run_prints_a_result_table_from_the_embedded_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = Command::new(binary())
        .args([
            "seed",
            "--anchor",
            "2026-01-05",
            "--trades",
            "5000",
            "--quotes",
            "5000",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("seed");
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let workflow = fixture("output_kpi_card");
    let out = Command::new(binary())
        .arg("run")
        .arg(&workflow)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("| value"), "{text}");
    assert!(text.contains("(1 row)"), "{text}");
}
