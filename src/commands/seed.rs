//! `flowforge seed`: write the sample market data.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Args;
use flowforge_engine::sample_data::{self, SampleOptions};

/// Arguments of `flowforge seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Data folder (created if missing).
    #[arg(long, env = "FLOWFORGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Last day covered (exclusive), YYYY-MM-DD; default today (UTC). Fix it for reproducible data.
    #[arg(long)]
    pub anchor: Option<NaiveDate>,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of trades.
    #[arg(long, default_value_t = 50_000)]
    pub trades: usize,
    /// Number of quotes.
    #[arg(long, default_value_t = 100_000)]
    pub quotes: usize,
    /// Regenerate even if the folder already holds sample data.
    #[arg(long)]
    pub force: bool,
}

/// Runs `flowforge seed`.
pub fn run(args: SeedArgs) -> Result<ExitCode, String> {
    let dir = super::data_dir(args.data_dir);
    if sample_data::is_seeded(&dir) && !args.force {
        eprintln!(
            "{} already holds sample data (use --force to regenerate)",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut options = SampleOptions {
        seed: args.seed,
        trades: args.trades,
        quotes: args.quotes,
        ..SampleOptions::default()
    };
    if let Some(day) = args.anchor {
        options.anchor = day.and_hms_opt(0, 0, 0).ok_or("invalid anchor date")?;
    }
    let summary = sample_data::generate(&dir, &options, true).map_err(|e| e.to_string())?;
    println!("sample data written to {}", dir.display());
    for (table, rows) in summary.rows {
        println!("  {table:<16} {rows:>8} rows");
    }
    Ok(ExitCode::SUCCESS)
}
