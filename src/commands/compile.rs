//! `flowforge compile` and `flowforge check`: workflow → SQL, workflow → schemas.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use flowforge_engine::compile::{compile_node, propagate_schemas};
use flowforge_engine::dialect::{plan_to_sql, SqlDialect};
use flowforge_engine::tables::ServingSchemas;

/// Arguments of `flowforge compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Workflow JSON file.
    pub workflow: PathBuf,
    /// Node to compile; default: every output node.
    #[arg(long)]
    pub node: Option<String>,
    /// SQL dialect: postgres (also Materialize) or clickhouse.
    #[arg(long, default_value = "postgres")]
    pub dialect: SqlDialect,
}

/// Arguments of `flowforge check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Workflow JSON file.
    pub workflow: PathBuf,
}

/// Runs `flowforge compile`.
pub fn compile(args: CompileArgs) -> Result<ExitCode, String> {
    let workflow = super::read_workflow(&args.workflow)?;
    let nodes: Vec<String> = match &args.node {
        Some(node) => vec![node.clone()],
        None => {
            let outputs: Vec<String> = workflow
                .output_nodes()
                .into_iter()
                .map(String::from)
                .collect();
            if outputs.is_empty() {
                return Err(
                    "the workflow has no output node; pass --node to compile another node".into(),
                );
            }
            outputs
        }
    };
    let many = nodes.len() > 1;
    for node in nodes {
        let plan = compile_node(&workflow, &node, &ServingSchemas).map_err(|e| e.to_string())?;
        let sql = plan_to_sql(&plan, args.dialect).map_err(|e| format!("node '{node}': {e}"))?;
        if many {
            println!("-- node {node}");
        }
        println!("{sql};");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `flowforge check`: prints `{"schemas": {...}, "issues": [...]}`, exits 1 on issues.
pub fn check(args: CheckArgs) -> Result<ExitCode, String> {
    let workflow = super::read_workflow(&args.workflow)?;
    let report = propagate_schemas(&workflow, &ServingSchemas);
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(if report.issues.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
