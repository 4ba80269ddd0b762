//! Deterministic sample market data, written as the serving tables' Parquet files.
//!
//! The embedded demo needs data that looks like a trading desk's and is the same on every run:
//! ten US equities, a week of trades and quotes along a seeded random walk, OHLCV rollups computed
//! from those very trades, reference data, and a few accounts' positions and P&L. [`generate`]
//! writes one `<table>.parquet` per serving table (exactly the schemas of
//! [`serving_tables`](crate::serving_tables)) plus a `sample.json` manifest; the same
//! [`SampleOptions`] always produce byte-identical files.

mod files;
mod instruments;
mod manifest;
mod market;
mod portfolio;
mod rollups;

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::EngineError;
use crate::serving_tables::{serving_table, serving_tables};
use market::{Window, DAY_US};
use rollups::HOUR_US;

/// How many days of history the sample data covers, ending at the anchor.
pub const SAMPLE_DAYS: i64 = 7;

/// The anchor of [`SampleOptions::fixed`]: Monday 2026-01-05, midnight UTC.
const FIXED_ANCHOR: NaiveDateTime = match NaiveDate::from_ymd_opt(2026, 1, 5) {
    Some(date) => date.and_time(NaiveTime::MIN),
    // Evaluated by the compiler: an invalid date here fails the build, never a run.
    None => panic!("the fixed sample anchor is not a valid date"),
};

/// What to generate; the same options always give the same data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// End of the data (exclusive); events cover the [`SAMPLE_DAYS`] days before it, in UTC.
    pub anchor: NaiveDateTime,
    /// Seed of the random walk and of every other random choice.
    pub seed: u64,
    /// Number of rows of `fct_trades`.
    pub trades: usize,
    /// Number of rows of `fct_quotes`.
    pub quotes: usize,
}

impl Default for SampleOptions {
    /// The demo's data: the week before today's UTC midnight, seed 42, 50,000 trades and
    /// 100,000 quotes.
    fn default() -> Self {
        SampleOptions {
            anchor: Utc::now().date_naive().and_time(NaiveTime::MIN),
            ..SampleOptions::fixed()
        }
    }
}

impl SampleOptions {
    /// The default sizes and seed with the anchor pinned to 2026-01-05T00:00:00, so tests and
    /// reproducible runs get the same data whatever the date.
    pub fn fixed() -> Self {
        SampleOptions {
            anchor: FIXED_ANCHOR,
            seed: 42,
            trades: 50_000,
            quotes: 100_000,
        }
    }
}

/// What a data folder holds: rows per table and the options that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSummary {
    /// `(table, row count)` for every serving table, in serving-table order.
    pub rows: Vec<(String, usize)>,
    /// The anchor the data ends at.
    pub anchor: NaiveDateTime,
    /// The seed it was generated with.
    pub seed: u64,
}

impl SampleSummary {
    /// The row count of `table`, if the summary lists it.
    pub fn rows_of(&self, table: &str) -> Option<usize> {
        self.rows
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, rows)| *rows)
    }
}

/// Where the Parquet file of serving table `table` lives inside `data_dir`.
pub fn table_file(data_dir: &Path, table: &str) -> PathBuf {
    data_dir.join(format!("{table}.parquet"))
}

/// Generates the sample data into `data_dir` (created if missing), replacing what was there.
///
/// The manifest is removed first and written last, so an interrupted run leaves a folder that
/// [`is_seeded`] reports as not seeded. With `progress`, a progress bar is drawn on stderr when
/// it is a terminal.
pub fn generate(
    data_dir: &Path,
    options: &SampleOptions,
    progress: bool,
) -> Result<SampleSummary, EngineError> {
    let steps = serving_tables().len() as u64 + 2;
    let bar = if progress {
        ProgressBar::new(steps)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let outcome = write_sample(data_dir, options, &bar);
    match &outcome {
        Ok(_) => bar.finish_with_message(format!("sample data ready in {}", data_dir.display())),
        Err(_) => bar.abandon_with_message("sample data generation failed"),
    }
    outcome
}

fn write_sample(
    data_dir: &Path,
    options: &SampleOptions,
    bar: &ProgressBar,
) -> Result<SampleSummary, EngineError> {
    let window = window_before(options.anchor)?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        EngineError::SampleData(format!("cannot create {}: {e}", data_dir.display()))
    })?;
    files::remove_if_present(&data_dir.join(manifest::MANIFEST_FILE))?;

    bar.set_message("simulating trades and quotes");
    let tape = market::simulate(options.seed, window, options.trades, options.quotes)?;
    let holdings = portfolio::holdings(&tape.trades);
    bar.inc(1);

    let mut rows = Vec::new();
    for table in serving_tables() {
        bar.set_message(format!("writing {}", table.name));
        let batch: RecordBatch = match table.name {
            "fct_trades" => market::trades_batch(&tape)?,
            "fct_quotes" => market::quotes_batch(&tape)?,
            "agg_ohlcv_1h" => rollups::ohlcv_batch(table.name, &tape.trades, HOUR_US)?,
            "agg_ohlcv_1d" => rollups::ohlcv_batch(table.name, &tape.trades, DAY_US)?,
            "dim_instruments" => instruments::instruments_batch()?,
            "live_positions" => portfolio::positions_batch(&holdings)?,
            "live_pnl" => portfolio::pnl_batch(&holdings)?,
            "live_quotes" => market::latest_quotes_batch(&tape)?,
            other => {
                return Err(EngineError::SampleData(format!(
                    "no sample data generator for serving table '{other}'"
                )))
            }
        };
        files::write_parquet(&table_file(data_dir, table.name), &batch)?;
        rows.push((table.name.to_string(), batch.num_rows()));
        bar.inc(1);
    }

    let summary = SampleSummary {
        rows,
        anchor: options.anchor,
        seed: options.seed,
    };
    bar.set_message("writing manifest");
    manifest::write(data_dir, &summary)?;
    bar.inc(1);
    Ok(summary)
}

/// The [`SAMPLE_DAYS`] before `anchor`, in microseconds since the epoch.
fn window_before(anchor: NaiveDateTime) -> Result<Window, EngineError> {
    let end = anchor.and_utc().timestamp_micros();
    let start = end.checked_sub(SAMPLE_DAYS * DAY_US).ok_or_else(|| {
        EngineError::SampleData(format!(
            "anchor {anchor} is too early for {SAMPLE_DAYS} days of data"
        ))
    })?;
    Ok(Window { start, end })
}

/// Whether `data_dir` holds a complete sample: a readable manifest and every table's file.
pub fn is_seeded(data_dir: &Path) -> bool {
    read_manifest(data_dir).is_ok()
        && serving_tables()
            .iter()
            .all(|t| table_file(data_dir, t.name).is_file())
}

/// The summary recorded when `data_dir` was generated.
pub fn read_manifest(data_dir: &Path) -> Result<SampleSummary, EngineError> {
    manifest::read(data_dir)
}

/// The Arrow schema of serving table `name`, which every generated batch must have.
fn table_schema(name: &str) -> Result<SchemaRef, EngineError> {
    serving_table(name)
        .map(|t| t.schema)
        .ok_or_else(|| EngineError::SampleData(format!("'{name}' is not a serving table")))
}

#[cfg(test)]
mod tests;
