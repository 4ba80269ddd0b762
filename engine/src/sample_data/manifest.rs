//! The `sample.json` manifest that marks a data folder as seeded and records how.

use std::path::Path;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{files, SampleSummary};
use crate::error::EngineError;

/// Manifest file name inside the data folder.
pub(super) const MANIFEST_FILE: &str = "sample.json";

/// Version of the manifest layout, bumped when it changes incompatibly.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    anchor: NaiveDateTime,
    seed: u64,
    tables: Vec<TableRows>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableRows {
    table: String,
    rows: usize,
}

/// Writes the manifest for `summary` into `data_dir`, atomically.
pub(super) fn write(data_dir: &Path, summary: &SampleSummary) -> Result<(), EngineError> {
    let manifest = Manifest {
        format: FORMAT,
        anchor: summary.anchor,
        seed: summary.seed,
        tables: summary
            .rows
            .iter()
            .map(|(table, rows)| TableRows {
                table: table.clone(),
                rows: *rows,
            })
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| EngineError::SampleData(format!("encoding {MANIFEST_FILE}: {e}")))?;
    json.push(b'\n');
    files::write_bytes(&data_dir.join(MANIFEST_FILE), &json)
}

/// Reads the manifest of `data_dir`.
pub(super) fn read(data_dir: &Path) -> Result<SampleSummary, EngineError> {
    let path = data_dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&path)
        .map_err(|e| EngineError::SampleData(format!("cannot read {}: {e}", path.display())))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| EngineError::SampleData(format!("{} is not valid: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(EngineError::SampleData(format!(
            "{} has format {}, this build reads format {FORMAT}; generate the sample data again",
            path.display(),
            manifest.format
        )));
    }
    Ok(SampleSummary {
        rows: manifest
            .tables
            .into_iter()
            .map(|t| (t.table, t.rows))
            .collect(),
        anchor: manifest.anchor,
        seed: manifest.seed,
    })
}
