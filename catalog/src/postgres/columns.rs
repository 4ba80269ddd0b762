//! Conversions between PostgreSQL rows and catalog types, the mapping of PostgreSQL errors onto
//! [`CatalogError`], and the statement helpers every module uses. Statements are prepared once
//! per pooled connection and reused from its statement cache.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, PoolError};
use serde_json::Value;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::Row;

use crate::stored::TenantTable;
use crate::{stored, timestamp, CatalogError};

/// Statement parameters, as tokio-postgres takes them.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Maps a PostgreSQL error the way the SQLite store maps SQLite's: integrity constraint
/// violations (SQLSTATE class 23: unique, foreign key, check, not null) are conflicts, data
/// exceptions (class 22: a value the column cannot hold) are invalid input, and everything
/// else, including a lost connection, is a storage error.
pub(super) fn db_err(e: tokio_postgres::Error) -> CatalogError {
    let Some(db) = e.as_db_error() else {
        return CatalogError::Storage(format!("catalog database: {}", with_causes(&e)));
    };
    let code = db.code().code();
    let message = match db.detail() {
        Some(detail) => format!("{} ({detail})", db.message()),
        None => db.message().to_string(),
    };
    match code.get(..2) {
        Some("23") => CatalogError::Conflict(message),
        Some("22") => CatalogError::InvalidInput(message),
        _ => CatalogError::Storage(format!("catalog database: {message} (SQLSTATE {code})")),
    }
}

/// An error's message followed by those of its causes (tokio-postgres and refinery keep the
/// interesting part, such as "connection refused", in the cause).
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

/// Maps a failure to get a pooled connection.
pub(super) fn pool_err(e: PoolError) -> CatalogError {
    match e {
        PoolError::Backend(e) => db_err(e),
        PoolError::Timeout(_) => {
            CatalogError::Storage("timed out waiting for a catalog database connection".into())
        }
        other => CatalogError::Storage(format!("catalog database connection pool: {other}")),
    }
}

/// Whether a lookup key can match a stored row at all. PostgreSQL text cannot hold NUL and
/// refuses it as a parameter, while the catalog never stores one (see
/// [`crate::validate::storable`]); so a key containing NUL is answered as a miss without asking
/// the database, which is what SQLite answers for it.
pub(super) fn matchable(key: &str) -> bool {
    !key.contains('\0')
}

/// Runs a query and returns its rows.
pub(super) async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<Row>, CatalogError> {
    let statement = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query(&statement, params).await.map_err(db_err)
}

/// Runs a query that returns at most one row.
pub(super) async fn query_opt(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<Option<Row>, CatalogError> {
    let statement = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query_opt(&statement, params).await.map_err(db_err)
}

/// Runs a statement and returns how many rows it changed.
pub(super) async fn execute(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, CatalogError> {
    let statement = c.prepare_cached(sql).await.map_err(db_err)?;
    c.execute(&statement, params).await.map_err(db_err)
}

/// Deletes the tenant's row `id` of `table`; another tenant's id is not found.
pub(super) async fn delete_owned(
    c: &impl GenericClient,
    table: TenantTable,
    tenant_id: &str,
    id: &str,
) -> Result<(), CatalogError> {
    let changed = matchable(tenant_id)
        && matchable(id)
        && execute(c, table.delete_sql(), &[&tenant_id, &id]).await? > 0;
    if changed {
        Ok(())
    } else {
        Err(table.not_found(id))
    }
}

/// Reads a column.
pub(super) fn column<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T, CatalogError> {
    row.try_get(idx)
        .map_err(|e| CatalogError::Storage(format!("unreadable catalog row: {e}")))
}

/// Reads a text column holding an enum name (role, backend, freshness).
pub(super) fn parsed<T>(row: &Row, idx: usize) -> Result<T, CatalogError>
where
    T: FromStr<Err = CatalogError>,
{
    column::<&str>(row, idx)?.parse()
}

/// Reads a timestamp column.
pub(super) fn time(row: &Row, idx: usize) -> Result<DateTime<Utc>, CatalogError> {
    timestamp::decode(column(row, idx)?)
}

/// Reads a nullable timestamp column.
pub(super) fn optional_time(row: &Row, idx: usize) -> Result<Option<DateTime<Utc>>, CatalogError> {
    column::<Option<&str>>(row, idx)?
        .map(timestamp::decode)
        .transpose()
}

/// Reads a JSON document column.
pub(super) fn json(row: &Row, idx: usize) -> Result<Value, CatalogError> {
    stored::json_value(column(row, idx)?)
}

/// Reads a version number (stored as BIGINT, which holds every `u32`).
pub(super) fn version(row: &Row, idx: usize) -> Result<u32, CatalogError> {
    let stored: i64 = column(row, idx)?;
    u32::try_from(stored)
        .map_err(|_| CatalogError::Storage(format!("stored version {stored} is out of range")))
}
