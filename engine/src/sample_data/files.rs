//! Crash-safe writing of the sample data files: Parquet tables and the JSON manifest.
//!
//! Every file is written to a hidden temporary name in the same folder, synced, and then renamed
//! over the final name, so a reader sees either the previous complete file or the new one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::EngineError;

/// Rows per Parquet row group: small enough for DataFusion to split and prune the fact tables.
const ROW_GROUP_ROWS: usize = 16 * 1024;

/// Writes `batch` as a snappy-compressed Parquet file at `path`, atomically.
pub(super) fn write_parquet(path: &Path, batch: &RecordBatch) -> Result<(), EngineError> {
    let failed = |e: parquet::errors::ParquetError| {
        EngineError::SampleData(format!("writing {}: {e}", path.display()))
    };
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    replace_atomically(path, |file| {
        let mut writer =
            ArrowWriter::try_new(file, batch.schema(), Some(properties)).map_err(failed)?;
        writer.write(batch).map_err(failed)?;
        writer.into_inner().map_err(failed)
    })
}

/// Writes `bytes` to `path`, atomically.
pub(super) fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    replace_atomically(path, |mut file| {
        file.write_all(bytes)?;
        Ok(file)
    })
}

/// Removes `path` if it exists.
pub(super) fn remove_if_present(path: &Path) -> Result<(), EngineError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

fn temporary_path(path: &Path) -> Result<PathBuf, EngineError> {
    let name = path
        .file_name()
        .ok_or_else(|| EngineError::SampleData(format!("{} is not a file path", path.display())))?;
    let mut temporary = std::ffi::OsString::from(".");
    temporary.push(name);
    temporary.push(".tmp");
    Ok(path.with_file_name(temporary))
}

/// Runs `write` on a fresh temporary file next to `path`, syncs what it returns and renames it
/// over `path`; on failure the temporary file is removed and `path` is untouched.
fn replace_atomically(
    path: &Path,
    write: impl FnOnce(File) -> Result<File, EngineError>,
) -> Result<(), EngineError> {
    let temporary = temporary_path(path)?;
    let outcome = File::create(&temporary)
        .map_err(EngineError::from)
        .and_then(write)
        .and_then(|file| Ok(file.sync_all()?))
        .and_then(|()| Ok(fs::rename(&temporary, path)?));
    if outcome.is_err() {
        // The write already failed; a leftover temporary file is harmless and replaced next time.
        let _ = fs::remove_file(&temporary);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_previous_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.json");
        write_bytes(&path, b"first").unwrap();
        let failed = replace_atomically(&path, |_| Err(EngineError::SampleData("boom".into())));
        assert!(failed.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn remove_if_present_tolerates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.parquet");
        remove_if_present(&path).unwrap();
        write_bytes(&path, b"x").unwrap();
        remove_if_present(&path).unwrap();
        assert!(!path.exists());
    }
}
