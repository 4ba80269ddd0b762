//! Workflow templates in PostgreSQL: built-ins (no tenant) visible to all, others to their
//! tenant.

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::Row;

use super::accounts::require_tenant;
use super::columns::{column, db_err, execute, json, matchable, query, query_opt, time};
use crate::stored::{json_text, new_id};
use crate::{timestamp, CatalogError, NewTemplate, Template};

const COLUMNS: &str = "id, tenant_id, name, description, category, definition, created_at";

fn template_row(row: &Row) -> Result<Template, CatalogError> {
    Ok(Template {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        name: column(row, 2)?,
        description: column(row, 3)?,
        category: column(row, 4)?,
        definition: json(row, 5)?,
        created_at: time(row, 6)?,
    })
}

pub(super) async fn list(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<Vec<Template>, CatalogError> {
    // A tenant id that cannot match still sees the built-ins.
    let tenant_id = if matchable(tenant_id) { tenant_id } else { "" };
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM templates WHERE tenant_id IS NULL OR tenant_id = $1
             ORDER BY category COLLATE \"C\", name COLLATE \"C\", id COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?
    .iter()
    .map(template_row)
    .collect()
}

pub(super) async fn get(
    c: &impl GenericClient,
    tenant_id: &str,
    template_id: &str,
) -> Result<Template, CatalogError> {
    if !(matchable(tenant_id) && matchable(template_id)) {
        return Err(CatalogError::not_found("template", template_id));
    }
    query_opt(
        c,
        &format!(
            "SELECT {COLUMNS} FROM templates WHERE id = $2 AND (tenant_id IS NULL OR tenant_id = $1)"
        ),
        &[&tenant_id, &template_id],
    )
    .await?
    .map(|row| template_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("template", template_id))
}

pub(super) async fn create(
    client: &mut Client,
    new: &NewTemplate,
) -> Result<Template, CatalogError> {
    let new = new.validated()?;
    let definition = json_text(&new.definition)?;
    let now = timestamp::now();
    let tx = client.transaction().await.map_err(db_err)?;
    if let Some(tenant_id) = &new.tenant_id {
        require_tenant(&tx, tenant_id).await?;
    }
    // A concurrent creation of the same name that slips past this check fails on the unique
    // index instead, which is a conflict too.
    let taken = query_opt(
        &tx,
        "SELECT 1 FROM templates WHERE name = $1 AND tenant_id IS NOT DISTINCT FROM $2",
        &[&new.name, &new.tenant_id],
    )
    .await?
    .is_some();
    if taken {
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
    execute(
        &tx,
        &format!("INSERT INTO templates ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &template.id,
            &template.tenant_id,
            &template.name,
            &template.description,
            &template.category,
            &definition,
            &timestamp::encode(now),
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(template)
}
