//! The audit log in SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

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

pub(super) fn append(
    conn: &mut Connection,
    new: &NewAuditEntry,
) -> Result<AuditEntry, CatalogError> {
    let resource_id = new.resource_id.trim();
    validate::storable("audit resource id", resource_id)?;
    let entry = AuditEntry {
        id: new_id(),
        tenant_id: new.tenant_id.clone(),
        actor: validate::display_name("audit actor", &new.actor)?,
        action: validate::display_name("audit action", &new.action)?,
        resource_type: validate::display_name("audit resource type", &new.resource_type)?,
        resource_id: resource_id.to_string(),
        detail: new.detail.clone(),
        at: timestamp::now(),
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    // Taking the tenant's next number also proves the tenant exists.
    let seq: i64 = tx
        .query_row(
            "UPDATE tenants SET last_audit_seq = last_audit_seq + 1 WHERE id = ?1
             RETURNING last_audit_seq",
            [&entry.tenant_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| CatalogError::not_found("tenant", &entry.tenant_id))?;
    tx.execute(
        "INSERT INTO audit_log (id, tenant_id, seq, actor, action, resource_type, resource_id,
                                detail, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            entry.id,
            entry.tenant_id,
            seq,
            entry.actor,
            entry.action,
            entry.resource_type,
            entry.resource_id,
            json_text(&entry.detail)?,
            timestamp::encode(entry.at)
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
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
