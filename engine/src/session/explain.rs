//! `EXPLAIN` output: the optimized plan and the SQL a backend would receive.
//!
//! The SQL is unparsed from the *analyzed but unoptimized* plan: DataFusion 55's unparser
//! produces invalid or semantically different SQL from optimized plans, while the analyzed plan
//! unparses to nested but valid SQL that backends flatten themselves. It shows the tenant's
//! entitlement filter exactly as it is sent.

use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::unparser::dialect::PostgreSqlDialect;
use datafusion::sql::unparser::Unparser;

use crate::error::EngineError;

/// The single output column of `EXPLAIN`, named as PostgreSQL names it.
pub const EXPLAIN_COLUMN: &str = "QUERY PLAN";

/// The lines of `EXPLAIN [VERBOSE]` for `plan` (a planned query), one output row per line.
///
/// VERBOSE adds the analyzed plan with column types. The physical plan is left out on purpose:
/// it shows server-side details (file paths, partitioning) that are no business of a tenant.
pub(crate) async fn explain_lines(
    state: &SessionState,
    plan: &LogicalPlan,
    verbose: bool,
) -> Result<Vec<String>, EngineError> {
    let analyzed =
        state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |_, _| {})?;
    let single = crate::remote::single_backend(&analyzed);
    // What runs: a query spanning backends sends each one its largest subtree.
    let to_optimize = if single.is_none() {
        crate::remote::subtree::push_subtrees(analyzed.clone())?
    } else {
        analyzed.clone()
    };
    let optimized = state.optimizer().optimize(to_optimize, state, |_, _| {})?;

    let mut lines = vec!["Logical plan:".to_string()];
    if let Some(rollup) = super::rollups::rollup_used(&analyzed) {
        if super::rollups::rollup_used(plan).is_none()
            && !plan.display_indent().to_string().contains(&rollup)
        {
            lines.insert(
                0,
                format!("Aggregate awareness: answered from rollup {rollup}"),
            );
        }
    }
    push_indented(&mut lines, &optimized.display_indent().to_string());
    if verbose {
        lines.push("Analyzed plan (before optimization):".to_string());
        push_indented(&mut lines, &analyzed.display_indent_schema().to_string());
    }
    if let Some(backend) = single {
        lines.push(format!(
            "Backend SQL ({}, the whole query in one request):",
            backend.name()
        ));
        // Exactly what execution sends (output renames are applied locally).
        match crate::remote::pushdown_sql(&analyzed) {
            Some((_, sql)) => push_indented(&mut lines, &sql),
            None => lines.push("  (not expressible as SQL, runs locally)".to_string()),
        }
        return Ok(lines);
    }
    let remote = remote_statements(state, &optimized).await;
    if !remote.is_empty() {
        lines.push(match remote.len() {
            1 => "Backend request (the rest runs here):".to_string(),
            n => format!("Backend SQL ({n} requests, joined here):"),
        });
        for (backend, sql) in remote {
            lines.push(format!("  {backend}: {sql}"));
        }
        return Ok(lines);
    }
    lines.push("Backend SQL (PostgreSQL dialect):".to_string());
    match Unparser::new(&PostgreSqlDialect {}).plan_to_sql(&analyzed) {
        Ok(statement) => push_indented(&mut lines, &format!("{statement:#}")),
        Err(e) => lines.push(format!("  (not expressible as SQL: {})", e.message())),
    }
    Ok(lines)
}

fn push_indented(lines: &mut Vec<String>, text: &str) {
    lines.extend(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("  {l}")),
    );
}

/// The statements each backend receives for a query spanning backends (one per table scan),
/// from the physical plan.
async fn remote_statements(state: &SessionState, optimized: &LogicalPlan) -> Vec<(String, String)> {
    let Ok(physical) = state
        .query_planner()
        .create_physical_plan(optimized, state)
        .await
    else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut pending: Vec<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>> =
        vec![physical];
    while let Some(node) = pending.pop() {
        if let Some(remote) = node.downcast_ref::<crate::remote::RemoteExec>() {
            found.push((
                remote.backend_name().to_string(),
                remote.statement().to_string(),
            ));
        }
        pending.extend(node.children().into_iter().cloned());
    }
    found.reverse();
    found
}
