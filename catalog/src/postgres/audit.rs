//! The audit log in PostgreSQL.

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::Row;

use super::columns::{column, db_err, execute, json, matchable, query, query_opt, time};
use crate::stored::{json_text, new_id};
use crate::{timestamp, validate, AuditEntry, CatalogError, NewAuditEntry, MAX_AUDIT_PAGE};

fn entry_row(row: &Row) -> Result<AuditEntry, CatalogError> {
    Ok(AuditEntry {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        actor: column(row, 2)?,
        action: column(row, 3)?,
        resource_type: column(row, 4)?,
        resource_id: column(row, 5)?,
        detail: json(row, 6)?,
        at: time(row, 7)?,
    })
}

pub(super) async fn append(
    client: &mut Client,
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
    if !matchable(&entry.tenant_id) {
        return Err(CatalogError::not_found("tenant", &entry.tenant_id));
    }
    let tx = client.transaction().await.map_err(db_err)?;
    // Taking the tenant's next number also proves the tenant exists; the row lock it takes
    // orders concurrent appends of one tenant.
    let seq: i64 = match query_opt(
        &tx,
        "UPDATE tenants SET last_audit_seq = last_audit_seq + 1 WHERE id = $1
         RETURNING last_audit_seq",
        &[&entry.tenant_id],
    )
    .await?
    {
        Some(row) => column(&row, 0)?,
        None => return Err(CatalogError::not_found("tenant", &entry.tenant_id)),
    };
    execute(
        &tx,
        "INSERT INTO audit_log (id, tenant_id, seq, actor, action, resource_type, resource_id,
                                detail, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &entry.id,
            &entry.tenant_id,
            &seq,
            &entry.actor,
            &entry.action,
            &entry.resource_type,
            &entry.resource_id,
            &json_text(&entry.detail)?,
            &timestamp::encode(entry.at),
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(entry)
}

pub(super) async fn list(
    c: &impl GenericClient,
    tenant_id: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, CatalogError> {
    if !matchable(tenant_id) {
        return Ok(Vec::new());
    }
    // The cap keeps the value far inside i64.
    let limit = i64::try_from(limit.min(MAX_AUDIT_PAGE)).unwrap_or(0);
    query(
        c,
        "SELECT id, tenant_id, actor, action, resource_type, resource_id, detail, at
         FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT $2",
        &[&tenant_id, &limit],
    )
    .await?
    .iter()
    .map(entry_row)
    .collect()
}
