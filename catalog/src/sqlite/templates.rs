//! Workflow templates in SQLite: built-ins (no tenant) visible to all, others to their tenant.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::accounts::require_tenant;
use super::columns::{db_err, json, json_text, new_id, time};
use crate::{timestamp, CatalogError, NewTemplate, Template};

const COLUMNS: &str = "id, tenant_id, name, description, category, definition, created_at";

fn template_row(row: &Row<'_>) -> rusqlite::Result<Template> {
    Ok(Template {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        category: row.get(4)?,
        definition: json(row, 5)?,
        created_at: time(row, 6)?,
    })
}

pub(super) fn list(conn: &Connection, tenant_id: &str) -> Result<Vec<Template>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM templates WHERE tenant_id IS NULL OR tenant_id = ?1
             ORDER BY category, name, id"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([tenant_id], template_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn get(
    conn: &Connection,
    tenant_id: &str,
    template_id: &str,
) -> Result<Template, CatalogError> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM templates WHERE id = ?2 AND (tenant_id IS NULL OR tenant_id = ?1)"
        ),
        [tenant_id, template_id],
        template_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("template", template_id))
}

pub(super) fn create(conn: &mut Connection, new: &NewTemplate) -> Result<Template, CatalogError> {
    let new = new.validated()?;
    let definition = json_text(&new.definition)?;
    let now = timestamp::now();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    if let Some(tenant_id) = &new.tenant_id {
        require_tenant(&tx, tenant_id)?;
    }
    let taken = tx
        .query_row(
            "SELECT 1 FROM templates WHERE name = ?1 AND tenant_id IS ?2",
            params![new.name, new.tenant_id],
            |_| Ok(()),
        )
        .optional()
        .map_err(db_err)?;
    if taken.is_some() {
        return Err(CatalogError::Conflict(format!(
            "a template named `{}` already exists",
            new.name
        )));
    }
    let template = Template {
        id: new_id(),
        tenant_id: new.tenant_id,
        name: new.name,
        description: new.description,
        category: new.category,
        definition: new.definition,
        created_at: now,
    };
    tx.execute(
        &format!("INSERT INTO templates ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            template.id,
            template.tenant_id,
            template.name,
            template.description,
            template.category,
            definition,
            timestamp::encode(now)
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(template)
}
