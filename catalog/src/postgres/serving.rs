//! The serving-table registry in PostgreSQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::columns::{column, execute, matchable, parsed, query, query_opt};
use crate::serving::validate_table_name;
use crate::{validate, CatalogError, ServingTable};

const COLUMNS: &str = "name, backend, freshness, description, enabled";

fn table_row(row: &Row) -> Result<ServingTable, CatalogError> {
    Ok(ServingTable {
        name: column(row, 0)?,
        backend: parsed(row, 1)?,
        freshness: parsed(row, 2)?,
        description: column(row, 3)?,
        enabled: column(row, 4)?,
    })
}

pub(super) async fn list(c: &impl GenericClient) -> Result<Vec<ServingTable>, CatalogError> {
    query(
        c,
        &format!("SELECT {COLUMNS} FROM serving_tables ORDER BY name COLLATE \"C\""),
        &[],
    )
    .await?
    .iter()
    .map(table_row)
    .collect()
}

pub(super) async fn get(c: &impl GenericClient, name: &str) -> Result<ServingTable, CatalogError> {
    if !matchable(name) {
        return Err(CatalogError::not_found("serving table", name));
    }
    query_opt(
        c,
        &format!("SELECT {COLUMNS} FROM serving_tables WHERE name = $1"),
        &[&name],
    )
    .await?
    .map(|row| table_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("serving table", name))
}

pub(super) async fn upsert(
    c: &impl GenericClient,
    table: &ServingTable,
) -> Result<ServingTable, CatalogError> {
    validate_table_name(&table.name)?;
    let description = validate::description("serving table description", &table.description)?;
    execute(
        c,
        "INSERT INTO serving_tables (name, backend, freshness, description, enabled)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET
             backend = excluded.backend,
             freshness = excluded.freshness,
             description = excluded.description,
             enabled = excluded.enabled",
        &[
            &table.name,
            &table.backend.as_str(),
            &table.freshness.as_str(),
            &description,
            &table.enabled,
        ],
    )
    .await?;
    get(c, &table.name).await
}

pub(super) async fn set_enabled(
    c: &impl GenericClient,
    name: &str,
    enabled: bool,
) -> Result<ServingTable, CatalogError> {
    let changed = matchable(name)
        && execute(
            c,
            "UPDATE serving_tables SET enabled = $1 WHERE name = $2",
            &[&enabled, &name],
        )
        .await?
            > 0;
    if !changed {
        return Err(CatalogError::not_found("serving table", name));
    }
    get(c, name).await
}
