//! The shared schema fixtures in `tests/fixtures/schema/`, checked against the engine.
//!
//! Each fixture holds a `workflow` (exactly what the CLI reads), the `expected_schemas` of every
//! node that compiles and the `expected_issues`. For fixtures without issues, every node is also
//! executed twice on sample data — as the compiled plan, and as its unparsed PostgreSQL SQL run
//! back through DataFusion — and both must return the same rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use super::{compile_node, propagate_schemas};
use crate::dialect::{plan_to_sql, SqlDialect};
use crate::embedded::EmbeddedData;
use crate::error::{EngineError, WorkflowIssue};
use crate::sample_data::{generate, SampleOptions};
use crate::tables::{ProviderResolver, ServingSchemas};
use crate::types::Schema;
use crate::workflow::Workflow;

#[derive(Debug, Deserialize)]
struct ExpectedIssue {
    node: Option<String>,
    field: Option<String>,
    message_contains: String,
}

#[derive(Debug, Deserialize)]
struct Fixture {
    #[allow(dead_code)]
    description: String,
    workflow: serde_json::Value,
    #[serde(default)]
    expected_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    expected_issues: Vec<ExpectedIssue>,
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/schema")
}

fn fixtures() -> Vec<(String, Fixture)> {
    let mut list: Vec<(String, Fixture)> = std::fs::read_dir(fixture_dir())
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read fixture");
            let fixture: Fixture =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_stem().expect("stem").to_string_lossy().into_owned(),
                fixture,
            )
        })
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn matches(actual: &WorkflowIssue, expected: &ExpectedIssue) -> bool {
    (expected.node.is_none() || actual.node == expected.node)
        && (expected.field.is_none() || actual.field == expected.field)
        && actual.message.contains(&expected.message_contains)
}

fn check_issues(
    name: &str,
    actual: &[WorkflowIssue],
    expected: &[ExpectedIssue],
    failures: &mut Vec<String>,
) {
    if actual.len() != expected.len() {
        failures.push(format!(
            "{name}: expected {} issue(s), got {actual:#?}",
            expected.len()
        ));
        return;
    }
    for e in expected {
        if !actual.iter().any(|a| matches(a, e)) {
            failures.push(format!("{name}: no issue matching {e:?} in {actual:#?}"));
        }
    }
}

#[test]
fn there_are_at_least_thirty_fixtures() {
    assert!(fixtures().len() >= 30, "only {} fixtures", fixtures().len());
}

/// `FLOWFORGE_BLESS_FIXTURES=1` rewrites each fixture's `expected_schemas` from the engine
/// (review the diff before committing it).
fn bless(name: &str, schemas: &BTreeMap<String, Schema>) {
    let path = fixture_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("read fixture");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("fixture json");
    value["expected_schemas"] = serde_json::to_value(schemas).expect("schemas");
    let mut out = serde_json::to_string_pretty(&value).expect("serialize");
    out.push('\n');
    std::fs::write(&path, out).expect("write fixture");
}

#[test]
fn every_fixture_propagates_to_its_expected_schemas_and_issues() {
    let blessing = std::env::var_os("FLOWFORGE_BLESS_FIXTURES").is_some();
    let mut failures = Vec::new();
    for (name, fixture) in fixtures() {
        match Workflow::from_value(fixture.workflow.clone()) {
            Err(EngineError::InvalidWorkflow { issues }) => {
                check_issues(&name, &issues, &fixture.expected_issues, &mut failures);
                if !fixture.expected_schemas.is_empty() {
                    failures.push(format!("{name}: an unreadable workflow has no schemas"));
                }
            }
            Err(other) => panic!("{name}: {other}"),
            Ok(workflow) => {
                let report = propagate_schemas(&workflow, &ServingSchemas);
                if blessing {
                    bless(&name, &report.schemas);
                    continue;
                }
                check_issues(
                    &name,
                    &report.issues,
                    &fixture.expected_issues,
                    &mut failures,
                );
                if report.schemas != fixture.expected_schemas {
                    failures.push(format!("{name}: schemas differ: {:#?}", report.schemas));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn sample_data() -> &'static EmbeddedData {
    static DATA: OnceLock<(tempfile::TempDir, EmbeddedData)> = OnceLock::new();
    let (_, data) = DATA.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = SampleOptions {
            trades: 3_000,
            quotes: 3_000,
            ..SampleOptions::fixed()
        };
        generate(dir.path(), &options, false).expect("sample data");
        let data = EmbeddedData::open(dir.path()).expect("open sample data");
        (dir, data)
    });
    data
}

/// Rows as sorted text lines, so results compare as multisets.
fn canonical(batches: &[RecordBatch]) -> Vec<String> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| {
                    let text = array_value_to_string(c, row).expect("display");
                    match text.parse::<f64>() {
                        Ok(f) if text.contains('.') || text.contains('e') => format!("{:.6}", f),
                        _ => text,
                    }
                })
                .collect();
            rows.push(cells.join("|"));
        }
    }
    rows.sort();
    rows
}

#[tokio::test]
async fn compiled_plans_and_their_postgres_sql_return_the_same_rows() {
    let data = sample_data();
    let resolver = ProviderResolver::new(
        data.tables()
            .into_iter()
            .filter_map(|t| data.provider(t).map(|p| (t.to_string(), p)))
            .collect(),
    );
    let ctx: SessionContext = data.session();
    let mut checked = 0;
    for (name, fixture) in fixtures() {
        if !fixture.expected_issues.is_empty() {
            continue;
        }
        let workflow = Workflow::from_value(fixture.workflow).expect("workflow");
        for node in &workflow.nodes {
            let plan = compile_node(&workflow, &node.id, &resolver)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", node.id));
            let sql = plan_to_sql(&plan, SqlDialect::Postgres)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", node.id));
            let direct = ctx
                .execute_logical_plan(plan)
                .await
                .expect("plan")
                .collect()
                .await
                .expect("run plan");
            let via_sql = ctx
                .sql(&sql)
                .await
                .unwrap_or_else(|e| panic!("{name}/{}: SQL does not plan: {e}\n{sql}", node.id))
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{name}/{}: SQL does not run: {e}\n{sql}", node.id));
            assert_eq!(
                canonical(&direct),
                canonical(&via_sql),
                "{name}/{}: rows differ for\n{sql}",
                node.id
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} nodes were checked");
}
