//! Conversions between SQLite values and catalog types, and the mapping of SQLite errors onto
//! [`CatalogError`].

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{ErrorCode, Row};
use serde_json::Value;

pub(crate) use crate::stored::{json_text, new_id, TenantTable};
use crate::{stored, timestamp, CatalogError};

/// Deletes the tenant's row `id` of `table`; another tenant's id is not found.
pub(crate) fn delete_owned(
    conn: &rusqlite::Connection,
    table: TenantTable,
    tenant_id: &str,
    id: &str,
) -> Result<(), CatalogError> {
    let changed = conn
        .execute(table.delete_sql(), [tenant_id, id])
        .map_err(db_err)?;
    if changed == 0 {
        return Err(table.not_found(id));
    }
    Ok(())
}

/// Maps a SQLite error: constraint violations become conflicts, everything else is storage.
pub(crate) fn db_err(e: rusqlite::Error) -> CatalogError {
    match &e {
        rusqlite::Error::SqliteFailure(code, _) if code.code == ErrorCode::ConstraintViolation => {
            CatalogError::Conflict(e.to_string())
        }
        rusqlite::Error::FromSqlConversionFailure(_, _, inner) => {
            CatalogError::Storage(format!("unreadable catalog row: {inner}"))
        }
        _ => CatalogError::Storage(e.to_string()),
    }
}

/// Wraps a catalog error raised while reading column `idx` as a rusqlite conversion error.
pub(crate) fn conversion(idx: usize, e: CatalogError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

/// Reads a text column holding an enum name (role, backend, freshness).
pub(crate) fn parsed<T>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T>
where
    T: FromStr<Err = CatalogError>,
{
    let text: String = row.get(idx)?;
    text.parse().map_err(|e| conversion(idx, e))
}

/// Reads a timestamp column.
pub(crate) fn time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(idx)?;
    timestamp::decode(&text).map_err(|e| conversion(idx, e))
}

/// Reads a nullable timestamp column.
pub(crate) fn optional_time(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(idx)?;
    text.map(|t| timestamp::decode(&t).map_err(|e| conversion(idx, e)))
        .transpose()
}

/// Reads a JSON document column.
pub(crate) fn json(row: &Row<'_>, idx: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(idx)?;
    stored::json_value(&text).map_err(|e| conversion(idx, e))
}
