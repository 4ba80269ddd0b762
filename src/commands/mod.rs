//! One module per subcommand.

pub mod api_key;
pub mod compile;
pub mod run;
pub mod seed;
pub mod serve;

use std::path::PathBuf;

/// The data folder used when none is configured.
pub const DEFAULT_DATA_DIR: &str = "flowforge-data";

/// Reads a workflow file, naming the file in errors.
pub fn read_workflow(
    path: &std::path::Path,
) -> Result<flowforge_engine::workflow::Workflow, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    flowforge_engine::workflow::Workflow::from_json(&text)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The data folder from an optional flag value.
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}
