//! The audit log in SQLite.

use rusqlite::{params, Connection, Row};

use super::accounts::require_tenant;
use super::columns::{db_err, json, json_text, new_id, time};
use crate::{timestamp, validate, AuditEntry, CatalogError, NewAuditEntry, MAX_AUDIT_PAGE};

fn entry_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        resource_type: row.get(4)?,
        resource_id: row.get(5)?,
        detail: json(row, 6)?,
        at: time(row, 7)?,
    })
}

pub(super) fn append(conn: &Connection, new: &NewAuditEntry) -> Result<AuditEntry, CatalogError> {
    let entry = AuditEntry {
        id: new_id(),
        tenant_id: new.tenant_id.clone(),
        actor: validate::display_name("audit actor", &new.actor)?,
        action: validate::display_name("audit action", &new.action)?,
        resource_type: validate::display_name("audit resource type", &new.resource_type)?,
        resource_id: new.resource_id.trim().to_string(),
        detail: new.detail.clone(),
        at: timestamp::now(),
    };
    require_tenant(conn, &entry.tenant_id)?;
    conn.execute(
        "INSERT INTO audit_log (id, tenant_id, actor, action, resource_type, resource_id, detail, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            entry.id,
            entry.tenant_id,
            entry.actor,
            entry.action,
            entry.resource_type,
            entry.resource_id,
            json_text(&entry.detail)?,
            timestamp::encode(entry.at)
        ],
    )
    .map_err(db_err)?;
    Ok(entry)
}

pub(super) fn list(
    conn: &Connection,
    tenant_id: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, CatalogError> {
    // The cap keeps the value far inside i64.
    let limit = i64::try_from(limit.min(MAX_AUDIT_PAGE)).unwrap_or(0);
    let mut stmt = conn
        .prepare(
            "SELECT id, tenant_id, actor, action, resource_type, resource_id, detail, at
             FROM audit_log WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![tenant_id, limit], entry_row)
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}
