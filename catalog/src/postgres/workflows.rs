//! Workflows and their versions in PostgreSQL. Every change that creates a version runs in one
//! transaction with the change itself, holding the workflow's row, so history and current state
//! never disagree and concurrent editors are served one after the other, as in SQLite.

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::{IsolationLevel, Row};

use super::accounts::require_tenant;
use super::columns::{column, db_err, execute, json, matchable, query, query_opt, time, version};
use crate::stored::{json_text, new_id};
use crate::view_name::{derive_view_name, validate_view_name};
use crate::{
    timestamp, validate, CatalogError, NewWorkflow, Workflow, WorkflowUpdate, WorkflowVersion,
    MAX_WORKFLOW_PAGE,
};

const COLUMNS: &str = "id, tenant_id, name, view_name, description, definition, current_version, \
                       published, created_by, created_at, updated_at";
const VERSION_COLUMNS: &str = "workflow_id, version, definition, created_by, created_at, note";

fn workflow_row(row: &Row) -> Result<Workflow, CatalogError> {
    Ok(Workflow {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        name: column(row, 2)?,
        view_name: column(row, 3)?,
        description: column(row, 4)?,
        definition: json(row, 5)?,
        current_version: version(row, 6)?,
        published: column(row, 7)?,
        created_by: column(row, 8)?,
        created_at: time(row, 9)?,
        updated_at: time(row, 10)?,
    })
}

fn version_row(row: &Row) -> Result<WorkflowVersion, CatalogError> {
    Ok(WorkflowVersion {
        workflow_id: column(row, 0)?,
        version: version(row, 1)?,
        definition: json(row, 2)?,
        created_by: column(row, 3)?,
        created_at: time(row, 4)?,
        note: column(row, 5)?,
    })
}

/// Refuses a view name that shadows a serving table or is used by another workflow of the
/// tenant (`except` is the workflow being renamed). A concurrent change that slips past this
/// check fails on the unique constraint instead, which is a conflict too.
async fn require_view_name_free(
    c: &impl GenericClient,
    tenant_id: &str,
    view_name: &str,
    except: Option<&str>,
) -> Result<(), CatalogError> {
    let is_table = query_opt(
        c,
        "SELECT 1 FROM serving_tables WHERE name = $1",
        &[&view_name],
    )
    .await?;
    if is_table.is_some() {
        return Err(CatalogError::Conflict(format!(
            "view name `{view_name}` is the name of a serving table; choose another"
        )));
    }
    let holder = query_opt(
        c,
        "SELECT id FROM workflows WHERE tenant_id = $1 AND view_name = $2",
        &[&tenant_id, &view_name],
    )
    .await?;
    let holder: Option<String> = holder.map(|row| column(&row, 0)).transpose()?;
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

async fn insert_version(
    c: &impl GenericClient,
    workflow_id: &str,
    version: u32,
    definition: &str,
    created_by: &str,
    at: &str,
    note: &str,
) -> Result<(), CatalogError> {
    execute(
        c,
        "INSERT INTO workflow_versions (workflow_id, version, definition, created_by, created_at, note)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &workflow_id,
            &i64::from(version),
            &definition,
            &created_by,
            &at,
            &note,
        ],
    )
    .await?;
    Ok(())
}

fn next_version(current: u32) -> Result<u32, CatalogError> {
    current
        .checked_add(1)
        .ok_or_else(|| CatalogError::Conflict("workflow has too many versions".into()))
}

pub(super) async fn create(
    client: &mut Client,
    new: &NewWorkflow,
) -> Result<Workflow, CatalogError> {
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

    let tx = client.transaction().await.map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id).await?;
    require_view_name_free(&tx, &new.tenant_id, &view_name, None).await?;
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
    execute(
        &tx,
        &format!(
            "INSERT INTO workflows ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $9, $9)"
        ),
        &[
            &workflow.id,
            &workflow.tenant_id,
            &workflow.name,
            &workflow.view_name,
            &workflow.description,
            &definition,
            &i64::from(workflow.current_version),
            &workflow.created_by,
            &at,
        ],
    )
    .await?;
    insert_version(
        &tx,
        &workflow.id,
        1,
        &definition,
        &workflow.created_by,
        &at,
        "created",
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(workflow)
}

/// Reads a workflow of the tenant; `lock` also holds its row until the transaction ends, so a
/// concurrent change waits and then sees this one's result.
async fn fetch(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
    lock: bool,
) -> Result<Workflow, CatalogError> {
    if !(matchable(tenant_id) && matchable(workflow_id)) {
        return Err(CatalogError::not_found("workflow", workflow_id));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1 AND id = $2{}",
        if lock { " FOR NO KEY UPDATE" } else { "" }
    );
    query_opt(c, &sql, &[&tenant_id, &workflow_id])
        .await?
        .map(|row| workflow_row(&row))
        .transpose()?
        .ok_or_else(|| CatalogError::not_found("workflow", workflow_id))
}

pub(super) async fn get(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<Workflow, CatalogError> {
    fetch(c, tenant_id, workflow_id, false).await
}

pub(super) async fn get_by_view_name(
    c: &impl GenericClient,
    tenant_id: &str,
    view_name: &str,
) -> Result<Workflow, CatalogError> {
    if !(matchable(tenant_id) && matchable(view_name)) {
        return Err(CatalogError::not_found("workflow", view_name));
    }
    query_opt(
        c,
        &format!("SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1 AND view_name = $2"),
        &[&tenant_id, &view_name],
    )
    .await?
    .map(|row| workflow_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("workflow", view_name))
}

pub(super) async fn list(
    c: &impl GenericClient,
    tenant_id: &str,
    published_only: bool,
) -> Result<Vec<Workflow>, CatalogError> {
    if !matchable(tenant_id) {
        return Ok(Vec::new());
    }
    let sql = if published_only {
        format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1 AND published
             ORDER BY view_name COLLATE \"C\""
        )
    } else {
        format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1
             ORDER BY name COLLATE \"C\", id COLLATE \"C\""
        )
    };
    query(c, &sql, &[&tenant_id])
        .await?
        .iter()
        .map(workflow_row)
        .collect()
}

pub(super) async fn list_page(
    client: &mut Client,
    tenant_id: &str,
    offset: usize,
    limit: usize,
) -> Result<(Vec<Workflow>, usize), CatalogError> {
    if !matchable(tenant_id) {
        return Ok((Vec::new(), 0));
    }
    let limit = i64::try_from(limit.min(MAX_WORKFLOW_PAGE)).unwrap_or(0);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    // One snapshot for both queries, so the page and the total describe the same moment.
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(db_err)?;
    let total: i64 = match query_opt(
        &tx,
        "SELECT COUNT(*) FROM workflows WHERE tenant_id = $1",
        &[&tenant_id],
    )
    .await?
    {
        Some(row) => column(&row, 0)?,
        None => 0,
    };
    let page = query(
        &tx,
        &format!(
            "SELECT {COLUMNS} FROM workflows WHERE tenant_id = $1
             ORDER BY name COLLATE \"C\", id COLLATE \"C\" LIMIT $2 OFFSET $3"
        ),
        &[&tenant_id, &limit, &offset],
    )
    .await?
    .iter()
    .map(workflow_row)
    .collect::<Result<Vec<_>, _>>()?;
    tx.commit().await.map_err(db_err)?;
    let total = usize::try_from(total)
        .map_err(|_| CatalogError::Storage(format!("workflow count {total} is out of range")))?;
    Ok((page, total))
}

pub(super) async fn update(
    client: &mut Client,
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

    let tx = client.transaction().await.map_err(db_err)?;
    let mut workflow = fetch(&tx, tenant_id, workflow_id, true).await?;
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
            require_view_name_free(&tx, tenant_id, &view_name, Some(workflow_id)).await?;
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
    save_new_version(&tx, &mut workflow, &updated_by, &note).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(workflow)
}

/// Bumps the version, snapshots the (already modified) definition and writes the workflow row.
async fn save_new_version(
    c: &impl GenericClient,
    workflow: &mut Workflow,
    actor: &str,
    note: &str,
) -> Result<(), CatalogError> {
    let version = next_version(workflow.current_version)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let definition = json_text(&workflow.definition)?;
    insert_version(c, &workflow.id, version, &definition, actor, &at, note).await?;
    execute(
        c,
        "UPDATE workflows SET name = $1, view_name = $2, description = $3, definition = $4,
                current_version = $5, updated_at = $6
         WHERE tenant_id = $7 AND id = $8",
        &[
            &workflow.name,
            &workflow.view_name,
            &workflow.description,
            &definition,
            &i64::from(version),
            &at,
            &workflow.tenant_id,
            &workflow.id,
        ],
    )
    .await?;
    workflow.current_version = version;
    workflow.updated_at = now;
    Ok(())
}

pub(super) async fn rollback(
    client: &mut Client,
    tenant_id: &str,
    workflow_id: &str,
    version: u32,
    who: &str,
) -> Result<Workflow, CatalogError> {
    let who = actor(who)?;
    let tx = client.transaction().await.map_err(db_err)?;
    let mut workflow = fetch(&tx, tenant_id, workflow_id, true).await?;
    let target = get_version(&tx, tenant_id, workflow_id, version).await?;
    workflow.definition = target.definition;
    save_new_version(
        &tx,
        &mut workflow,
        &who,
        &format!("rollback to version {version}"),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(workflow)
}

pub(super) async fn set_published(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
    published: bool,
) -> Result<Workflow, CatalogError> {
    let changed = matchable(tenant_id)
        && matchable(workflow_id)
        && execute(
            c,
            "UPDATE workflows SET published = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
            &[
                &published,
                &timestamp::encode(timestamp::now()),
                &tenant_id,
                &workflow_id,
            ],
        )
        .await?
            > 0;
    if !changed {
        return Err(CatalogError::not_found("workflow", workflow_id));
    }
    get(c, tenant_id, workflow_id).await
}

pub(super) async fn list_versions(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<Vec<WorkflowVersion>, CatalogError> {
    get(c, tenant_id, workflow_id).await?;
    query(
        c,
        &format!(
            "SELECT {VERSION_COLUMNS} FROM workflow_versions WHERE workflow_id = $1 ORDER BY version"
        ),
        &[&workflow_id],
    )
    .await?
    .iter()
    .map(version_row)
    .collect()
}

pub(super) async fn get_version(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
    version: u32,
) -> Result<WorkflowVersion, CatalogError> {
    get(c, tenant_id, workflow_id).await?;
    query_opt(
        c,
        &format!(
            "SELECT {VERSION_COLUMNS} FROM workflow_versions WHERE workflow_id = $1 AND version = $2"
        ),
        &[&workflow_id, &i64::from(version)],
    )
    .await?
    .map(|row| version_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("workflow version", format!("{workflow_id}@{version}")))
}
