//! The serving-table registry in SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::columns::{db_err, parsed};
use crate::serving::validate_table_name;
use crate::{validate, CatalogError, ServingTable};

const COLUMNS: &str = "name, backend, freshness, description, enabled";

fn table_row(row: &Row<'_>) -> rusqlite::Result<ServingTable> {
    Ok(ServingTable {
        name: row.get(0)?,
        backend: parsed(row, 1)?,
        freshness: parsed(row, 2)?,
        description: row.get(3)?,
        enabled: row.get(4)?,
    })
}

pub(super) fn list(conn: &Connection) -> Result<Vec<ServingTable>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM serving_tables ORDER BY name"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([], table_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn get(conn: &Connection, name: &str) -> Result<ServingTable, CatalogError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM serving_tables WHERE name = ?1"),
        [name],
        table_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("serving table", name))
}

pub(super) fn upsert(
    conn: &Connection,
    table: &ServingTable,
) -> Result<ServingTable, CatalogError> {
    validate_table_name(&table.name)?;
    let description = validate::description("serving table description", &table.description)?;
    conn.execute(
        "INSERT INTO serving_tables (name, backend, freshness, description, enabled)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (name) DO UPDATE SET
             backend = excluded.backend,
             freshness = excluded.freshness,
             description = excluded.description,
             enabled = excluded.enabled",
        params![
            table.name,
            table.backend.as_str(),
            table.freshness.as_str(),
            description,
            table.enabled
        ],
    )
    .map_err(db_err)?;
    get(conn, &table.name)
}

pub(super) fn set_enabled(
    conn: &Connection,
    name: &str,
    enabled: bool,
) -> Result<ServingTable, CatalogError> {
    let changed = conn
        .execute(
            "UPDATE serving_tables SET enabled = ?1 WHERE name = ?2",
            params![enabled, name],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(CatalogError::not_found("serving table", name));
    }
    get(conn, name)
}
