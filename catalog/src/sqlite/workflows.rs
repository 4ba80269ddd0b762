//! Workflows and their versions in SQLite. Every change that creates a version runs in one
//! transaction with the change itself, so history and current state never disagree.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::accounts::require_tenant;
use super::columns::{db_err, json, json_text, new_id, time};
use crate::view_name::{derive_view_name, validate_view_name};
use crate::{
    timestamp, validate, CatalogError, NewWorkflow, Workflow, WorkflowUpdate, WorkflowVersion,
    MAX_WORKFLOW_PAGE,
};

const COLUMNS: &str = "id, tenant_id, name, view_name, description, definition, current_version, \
                       published, created_by, created_at, updated_at";
const VERSION_COLUMNS: &str = "workflow_id, version, definition, created_by, created_at, note";

fn workflow_row(row: &Row<'_>) -> rusqlite::Result<Workflow> {
    Ok(Workflow {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        name: row.get(2)?,
        view_name: row.get(3)?,
        description: row.get(4)?,
        definition: json(row, 5)?,
        current_version: row.get(6)?,
        published: row.get(7)?,
        created_by: row.get(8)?,
        created_at: time(row, 9)?,
        updated_at: time(row, 10)?,
    })
}

fn version_row(row: &Row<'_>) -> rusqlite::Result<WorkflowVersion> {
    Ok(WorkflowVersion {
        workflow_id: row.get(0)?,
        version: row.get(1)?,
        definition: json(row, 2)?,
        created_by: row.get(3)?,
        created_at: time(row, 4)?,
        note: row.get(5)?,
    })
}

/// Refuses a view name that shadows a serving table or is used by another workflow of the
/// tenant (`except` is the workflow being renamed).
fn require_view_name_free(
    conn: &Connection,
    tenant_id: &str,
    view_name: &str,
    except: Option<&str>,
) -> Result<(), CatalogError> {
    let is_table = conn
        .query_row(
            "SELECT 1 FROM serving_tables WHERE name = ?1",
            [view_name],
            |_| Ok(()),
        )
        .optional()
        .map_err(db_err)?;
    if is_table.is_some() {
        return Err(CatalogError::Conflict(format!(
            "view name `{view_name}` is the name of a serving table; choose another"
        )));
    }
    let holder: Option<String> = conn
        .query_row(
            "SELECT id FROM workflows WHERE tenant_id = ?1 AND view_name = ?2",
            [tenant_id, view_name],
            |row| row.get(0),
        )
        .optional()
        .map_err(db_err)?;
    match holder {
        Some(id) if Some(id.as_str()) != except => Err(CatalogError::Conflict(format!(
            "another workflow already uses the view name `{view_name}`"
        ))),
        _ => Ok(()),
    }
}

fn actor(who: &str) -> Result<String, CatalogError> {
    validate::display_name("actor", who)
}

fn insert_version(
    conn: &Connection,
    workflow_id: &str,
    version: u32,
    definition: &str,
    created_by: &str,
    at: &str,
    note: &str,
) -> Result<(), CatalogError> {
    conn.execute(
        "INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![workflow_id, version, definition, created_by, at, note],
    )
    .map_err(db_err)?;
    Ok(())
}

fn next_version(current: u32) -> Result<u32, CatalogError> {
    current
        .checked_add(1)
        .ok_or_else(|| CatalogError::Conflict("workflow has too many versions".into()))
}

pub(super) fn create(conn: &mut Connection, new: &NewWorkflow) -> Result<Workflow, CatalogError> {
    let name = validate::display_name("workflow name", &new.name)?;
    let view_name = match &new.view_name {
        Some(explicit) => {
            let explicit = explicit.trim().to_string();
            validate_view_name(&explicit)?;
            explicit
        }
        None => derive_view_name(&name)?,
    };
    let description = validate::description("workflow description", &new.description)?;
    let created_by = actor(&new.created_by)?;
    let definition = json_text(&new.definition)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id)?;
    require_view_name_free(&tx, &new.tenant_id, &view_name, None)?;
    let workflow = Workflow {
        id: new_id(),
        tenant_id: new.tenant_id.clone(),
        name,
        view_name,
        description,
        definition: new.definition.clone(),
        current_version: 1,
        published: false,
        created_by,
        created_at: now,
        updated_at: now,
    };
    tx.execute(
        &format!(
            "INSERT INTO workflows ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, FALSE, ?8, ?9, ?9)"
        ),
        params![
            workflow.id,
            workflow.tenant_id,
            workflow.name,
            workflow.view_name,
            workflow.description,
            definition,
            workflow.current_version,
            workflow.created_by,
            at
        ],
    )
    .map_err(db_err)?;
    insert_version(
        &tx,
        &workflow.id,
        1,
        &definition,
        &workflow.created_by,
        &at,
        "created",
    )?;
    tx.commit().map_err(db_err)?;
    Ok(workflow)
}

pub(super) fn get(
    conn: &Connection,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<Workflow, CatalogError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM workflows WHERE tenant_id = ?1 AND id = ?2"),
        [tenant_id, workflow_id],
        workflow_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("workflow", workflow_id))
}

pub(super) fn get_by_view_name(
    conn: &Connection,
    tenant_id: &str,
    view_name: &str,
) -> Result<Workflow, CatalogError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM workflows WHERE tenant_id = ?1 AND view_name = ?2"),
        [tenant_id, view_name],
        workflow_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("workflow", view_name))
}

pub(super) fn list(
    conn: &Connection,
    tenant_id: &str,
    published_only: bool,
) -> Result<Vec<Workflow>, CatalogError> {
    let sql = if published_only {
        format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = ?1 AND published ORDER BY view_name"
        )
    } else {
        format!("SELECT {COLUMNS} FROM workflows WHERE tenant_id = ?1 ORDER BY name, id")
    };
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt.query_map([tenant_id], workflow_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn list_page(
    conn: &mut Connection,
    tenant_id: &str,
    offset: usize,
    limit: usize,
) -> Result<(Vec<Workflow>, usize), CatalogError> {
    let limit = i64::try_from(limit.min(MAX_WORKFLOW_PAGE)).unwrap_or(0);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    // One read transaction, so the page and the total describe the same moment.
    let tx = conn.transaction().map_err(db_err)?;
    let total: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM workflows WHERE tenant_id = ?1",
            [tenant_id],
            |row| row.get(0),
        )
        .map_err(db_err)?;
    let page = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT {COLUMNS} FROM workflows WHERE tenant_id = ?1 ORDER BY name, id
                 LIMIT ?2 OFFSET ?3"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![tenant_id, limit, offset], workflow_row)
            .map_err(db_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db_err)?
    };
    tx.commit().map_err(db_err)?;
    let total = usize::try_from(total)
        .map_err(|_| CatalogError::Storage(format!("workflow count {total} is out of range")))?;
    Ok((page, total))
}

pub(super) fn update(
    conn: &mut Connection,
    tenant_id: &str,
    workflow_id: &str,
    update: &WorkflowUpdate,
) -> Result<Workflow, CatalogError> {
    if update.is_empty() {
        return Err(CatalogError::InvalidInput(
            "workflow update changes nothing".into(),
        ));
    }
    let name = update
        .name
        .as_deref()
        .map(|n| validate::display_name("workflow name", n))
        .transpose()?;
    let view_name = update
        .view_name
        .as_deref()
        .map(|v| {
            let v = v.trim().to_string();
            validate_view_name(&v).map(|()| v)
        })
        .transpose()?;
    let description = update
        .description
        .as_deref()
        .map(|d| validate::description("workflow description", d))
        .transpose()?;
    let updated_by = actor(&update.updated_by)?;
    let note = validate::description("version note", update.note.as_deref().unwrap_or(""))?;

    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut workflow = get(&tx, tenant_id, workflow_id)?;
    if let Some(expected) = update.expected_version {
        if expected != workflow.current_version {
            return Err(CatalogError::Conflict(format!(
                "workflow was changed meanwhile: it is at version {}, not {expected}",
                workflow.current_version
            )));
        }
    }
    if let Some(view_name) = view_name {
        if view_name != workflow.view_name {
            require_view_name_free(&tx, tenant_id, &view_name, Some(workflow_id))?;
            workflow.view_name = view_name;
        }
    }
    if let Some(name) = name {
        workflow.name = name;
    }
    if let Some(description) = description {
        workflow.description = description;
    }
    if let Some(definition) = &update.definition {
        workflow.definition = definition.clone();
    }
    save_new_version(&tx, &mut workflow, &updated_by, &note)?;
    tx.commit().map_err(db_err)?;
    Ok(workflow)
}

/// Bumps the version, snapshots the (already modified) definition and writes the workflow row.
fn save_new_version(
    conn: &Connection,
    workflow: &mut Workflow,
    actor: &str,
    note: &str,
) -> Result<(), CatalogError> {
    let version = next_version(workflow.current_version)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let definition = json_text(&workflow.definition)?;
    insert_version(conn, &workflow.id, version, &definition, actor, &at, note)?;
    conn.execute(
        "UPDATE workflows SET name = ?1, view_name = ?2, description = ?3, definition = ?4,
                current_version = ?5, updated_at = ?6
         WHERE tenant_id = ?7 AND id = ?8",
        params![
            workflow.name,
            workflow.view_name,
            workflow.description,
            definition,
            version,
            at,
            workflow.tenant_id,
            workflow.id
        ],
    )
    .map_err(db_err)?;
    workflow.current_version = version;
    workflow.updated_at = now;
    Ok(())
}

pub(super) fn rollback(
    conn: &mut Connection,
    tenant_id: &str,
    workflow_id: &str,
    version: u32,
    who: &str,
) -> Result<Workflow, CatalogError> {
    let who = actor(who)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut workflow = get(&tx, tenant_id, workflow_id)?;
    let target = get_version(&tx, tenant_id, workflow_id, version)?;
    workflow.definition = target.definition;
    save_new_version(
        &tx,
        &mut workflow,
        &who,
        &format!("rollback to version {version}"),
    )?;
    tx.commit().map_err(db_err)?;
    Ok(workflow)
}

pub(super) fn set_published(
    conn: &Connection,
    tenant_id: &str,
    workflow_id: &str,
    published: bool,
) -> Result<Workflow, CatalogError> {
    let changed = conn
        .execute(
            "UPDATE workflows SET published = ?1, updated_at = ?2 WHERE tenant_id = ?3 AND id = ?4",
            params![
                published,
                timestamp::encode(timestamp::now()),
                tenant_id,
                workflow_id
            ],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(CatalogError::not_found("workflow", workflow_id));
    }
    get(conn, tenant_id, workflow_id)
}

pub(super) fn list_versions(
    conn: &Connection,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<Vec<WorkflowVersion>, CatalogError> {
    get(conn, tenant_id, workflow_id)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {VERSION_COLUMNS} FROM workflow_versions WHERE workflow_id = ?1 ORDER BY version"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([workflow_id], version_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn get_version(
    conn: &Connection,
    tenant_id: &str,
    workflow_id: &str,
    version: u32,
) -> Result<WorkflowVersion, CatalogError> {
    get(conn, tenant_id, workflow_id)?;
    conn.query_row(
        &format!(
            "SELECT {VERSION_COLUMNS} FROM workflow_versions WHERE workflow_id = ?1 AND version = ?2"
        ),
        params![workflow_id, version],
        version_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("workflow version", format!("{workflow_id}@{version}")))
}
