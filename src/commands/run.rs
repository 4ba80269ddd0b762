//! `flowforge run`: execute a workflow node on the embedded engine.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::logical_expr::LogicalPlanBuilder;
use flowforge_engine::compile::compile_node;
use flowforge_engine::embedded::{collect, EmbeddedData};
use flowforge_engine::sample_data::{self, SampleOptions};
use flowforge_engine::tables::ProviderResolver;

/// Arguments of `flowforge run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Workflow JSON file.
    pub workflow: PathBuf,
    /// Node to run; default: the first output node.
    #[arg(long)]
    pub node: Option<String>,
    /// Maximum rows to print.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Data folder (seeded with sample data on first use).
    #[arg(long, env = "FLOWFORGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Runs `flowforge run`.
pub fn run(args: RunArgs) -> Result<ExitCode, String> {
    let workflow = super::read_workflow(&args.workflow)?;
    let node = match args.node {
        Some(node) => node,
        None => workflow
            .output_nodes()
            .first()
            .map(|s| s.to_string())
            .ok_or("the workflow has no output node; pass --node")?,
    };
    let dir = super::data_dir(args.data_dir);
    if !sample_data::is_seeded(&dir) {
        eprintln!("no sample data in {}; generating it now", dir.display());
        sample_data::generate(&dir, &SampleOptions::default(), true).map_err(|e| e.to_string())?;
    }
    let data = EmbeddedData::open(&dir).map_err(|e| e.to_string())?;
    let resolver = ProviderResolver::new(
        data.tables()
            .into_iter()
            .filter_map(|t| data.provider(t).map(|p| (t.to_string(), p)))
            .collect(),
    );
    let plan = compile_node(&workflow, &node, &resolver).map_err(|e| e.to_string())?;
    let limited = LogicalPlanBuilder::from(plan)
        .limit(0, Some(args.limit))
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let batches = runtime
        .block_on(async { collect(&data.session(), limited).await })
        .map_err(|e| e.to_string())?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let table = pretty_format_batches(&batches).map_err(|e| e.to_string())?;
    println!("{table}");
    println!("({rows} row{})", if rows == 1 { "" } else { "s" });
    Ok(ExitCode::SUCCESS)
}
