//! Dashboards and their widgets in PostgreSQL. Widgets reference their dashboard by
//! (tenant, dashboard) with a cascading foreign key and their workflow by id only, so deleting
//! a dashboard removes its widgets while deleting a workflow leaves them in place. Changes read
//! and rewrite a row inside a transaction that holds it, so concurrent edits apply one after
//! the other.

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::Row;

use super::accounts::require_tenant;
use super::columns::{column, db_err, execute, json, matchable, query, query_opt, time};
use crate::dashboard::{filters_from_text, filters_text, interval_from_stored};
use crate::stored::{json_text, new_id};
use crate::widget::{columns_from_text, columns_text, layout_from_stored};
use crate::{
    timestamp, CatalogError, Dashboard, DashboardUpdate, NewDashboard, NewWidget, Widget,
    WidgetLayout, WidgetUpdate,
};

const DASHBOARD_COLUMNS: &str = "id, tenant_id, name, description, refresh_interval_seconds, \
                                 global_filters, created_by, created_at, updated_at";
const WIDGET_COLUMNS: &str = "id, tenant_id, dashboard_id, workflow_id, node_id, title, \
                              layout_x, layout_y, layout_w, layout_h, filters, config, \
                              created_at, updated_at";

fn dashboard_row(row: &Row) -> Result<Dashboard, CatalogError> {
    Ok(Dashboard {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        name: column(row, 2)?,
        description: column(row, 3)?,
        refresh_interval_seconds: interval_from_stored(column(row, 4)?)?,
        global_filters: filters_from_text(column(row, 5)?)?,
        created_by: column(row, 6)?,
        created_at: time(row, 7)?,
        updated_at: time(row, 8)?,
    })
}

fn widget_row(row: &Row) -> Result<Widget, CatalogError> {
    let span = |idx: usize| -> Result<u32, CatalogError> { layout_from_stored(column(row, idx)?) };
    Ok(Widget {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        dashboard_id: column(row, 2)?,
        workflow_id: column(row, 3)?,
        node_id: column(row, 4)?,
        title: column(row, 5)?,
        layout: WidgetLayout {
            x: span(6)?,
            y: span(7)?,
            w: span(8)?,
            h: span(9)?,
        },
        filters: columns_from_text(column(row, 10)?)?,
        config: json(row, 11)?,
        created_at: time(row, 12)?,
        updated_at: time(row, 13)?,
    })
}

fn interval_param(seconds: Option<u32>) -> Option<i64> {
    seconds.map(i64::from)
}

pub(super) async fn create_dashboard(
    client: &mut Client,
    new: &NewDashboard,
) -> Result<Dashboard, CatalogError> {
    let new = new.validated()?;
    let filters = filters_text(&new.global_filters)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let tx = client.transaction().await.map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id).await?;
    let dashboard = Dashboard {
        id: new_id(),
        tenant_id: new.tenant_id,
        name: new.name,
        description: new.description,
        refresh_interval_seconds: new.refresh_interval_seconds,
        global_filters: new.global_filters,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
    };
    execute(
        &tx,
        &format!(
            "INSERT INTO dashboards ({DASHBOARD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
        ),
        &[
            &dashboard.id,
            &dashboard.tenant_id,
            &dashboard.name,
            &dashboard.description,
            &interval_param(dashboard.refresh_interval_seconds),
            &filters,
            &dashboard.created_by,
            &at,
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(dashboard)
}

/// Reads a dashboard of the tenant; `lock` names the row lock to hold until the transaction
/// ends (`FOR NO KEY UPDATE` to change it, `FOR KEY SHARE` to keep it from being deleted).
async fn fetch_dashboard(
    c: &impl GenericClient,
    tenant_id: &str,
    dashboard_id: &str,
    lock: &str,
) -> Result<Dashboard, CatalogError> {
    if !(matchable(tenant_id) && matchable(dashboard_id)) {
        return Err(CatalogError::not_found("dashboard", dashboard_id));
    }
    query_opt(
        c,
        &format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE tenant_id = $1 AND id = $2 {lock}"
        ),
        &[&tenant_id, &dashboard_id],
    )
    .await?
    .map(|row| dashboard_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("dashboard", dashboard_id))
}

pub(super) async fn get_dashboard(
    c: &impl GenericClient,
    tenant_id: &str,
    dashboard_id: &str,
) -> Result<Dashboard, CatalogError> {
    fetch_dashboard(c, tenant_id, dashboard_id, "").await
}

pub(super) async fn list_dashboards(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<Vec<Dashboard>, CatalogError> {
    if !matchable(tenant_id) {
        return Ok(Vec::new());
    }
    query(
        c,
        &format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE tenant_id = $1
             ORDER BY name COLLATE \"C\", id COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?
    .iter()
    .map(dashboard_row)
    .collect()
}

pub(super) async fn update_dashboard(
    client: &mut Client,
    tenant_id: &str,
    dashboard_id: &str,
    update: &DashboardUpdate,
) -> Result<Dashboard, CatalogError> {
    let update = update.validated()?;
    let tx = client.transaction().await.map_err(db_err)?;
    let mut dashboard = fetch_dashboard(&tx, tenant_id, dashboard_id, "FOR NO KEY UPDATE").await?;
    if update.is_empty() {
        return Ok(dashboard);
    }
    update.apply(&mut dashboard, timestamp::now());
    execute(
        &tx,
        "UPDATE dashboards SET name = $1, description = $2, refresh_interval_seconds = $3,
                global_filters = $4, updated_at = $5
         WHERE tenant_id = $6 AND id = $7",
        &[
            &dashboard.name,
            &dashboard.description,
            &interval_param(dashboard.refresh_interval_seconds),
            &filters_text(&dashboard.global_filters)?,
            &timestamp::encode(dashboard.updated_at),
            &tenant_id,
            &dashboard_id,
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(dashboard)
}

async fn require_workflow(
    c: &impl GenericClient,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<(), CatalogError> {
    let found = matchable(workflow_id)
        && query_opt(
            c,
            "SELECT 1 FROM workflows WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &workflow_id],
        )
        .await?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(CatalogError::not_found("workflow", workflow_id))
    }
}

pub(super) async fn create_widget(
    client: &mut Client,
    new: &NewWidget,
) -> Result<Widget, CatalogError> {
    let new = new.validated()?;
    let filters = columns_text(&new.filters)?;
    let config = json_text(&new.config)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let tx = client.transaction().await.map_err(db_err)?;
    // Holding the dashboard row makes a concurrent delete wait for this widget, then cascade
    // to it, instead of failing the insert.
    fetch_dashboard(&tx, &new.tenant_id, &new.dashboard_id, "FOR KEY SHARE").await?;
    require_workflow(&tx, &new.tenant_id, &new.workflow_id).await?;
    let widget = Widget {
        id: new_id(),
        tenant_id: new.tenant_id,
        dashboard_id: new.dashboard_id,
        workflow_id: new.workflow_id,
        node_id: new.node_id,
        title: new.title,
        layout: new.layout,
        filters: new.filters,
        config: new.config,
        created_at: now,
        updated_at: now,
    };
    execute(
        &tx,
        &format!(
            "INSERT INTO widgets ({WIDGET_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"
        ),
        &[
            &widget.id,
            &widget.tenant_id,
            &widget.dashboard_id,
            &widget.workflow_id,
            &widget.node_id,
            &widget.title,
            &i64::from(widget.layout.x),
            &i64::from(widget.layout.y),
            &i64::from(widget.layout.w),
            &i64::from(widget.layout.h),
            &filters,
            &config,
            &at,
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(widget)
}

/// Reads a widget of the tenant; `lock` also holds its row until the transaction ends.
async fn fetch_widget(
    c: &impl GenericClient,
    tenant_id: &str,
    widget_id: &str,
    lock: bool,
) -> Result<Widget, CatalogError> {
    if !(matchable(tenant_id) && matchable(widget_id)) {
        return Err(CatalogError::not_found("widget", widget_id));
    }
    let sql = format!(
        "SELECT {WIDGET_COLUMNS} FROM widgets WHERE tenant_id = $1 AND id = $2{}",
        if lock { " FOR NO KEY UPDATE" } else { "" }
    );
    query_opt(c, &sql, &[&tenant_id, &widget_id])
        .await?
        .map(|row| widget_row(&row))
        .transpose()?
        .ok_or_else(|| CatalogError::not_found("widget", widget_id))
}

pub(super) async fn get_widget(
    c: &impl GenericClient,
    tenant_id: &str,
    widget_id: &str,
) -> Result<Widget, CatalogError> {
    fetch_widget(c, tenant_id, widget_id, false).await
}

pub(super) async fn list_widgets(
    c: &impl GenericClient,
    tenant_id: &str,
    dashboard_id: &str,
) -> Result<Vec<Widget>, CatalogError> {
    get_dashboard(c, tenant_id, dashboard_id).await?;
    query(
        c,
        &format!(
            "SELECT {WIDGET_COLUMNS} FROM widgets WHERE tenant_id = $1 AND dashboard_id = $2
             ORDER BY layout_y, layout_x, created_at COLLATE \"C\", id COLLATE \"C\""
        ),
        &[&tenant_id, &dashboard_id],
    )
    .await?
    .iter()
    .map(widget_row)
    .collect()
}

pub(super) async fn update_widget(
    client: &mut Client,
    tenant_id: &str,
    widget_id: &str,
    update: &WidgetUpdate,
) -> Result<Widget, CatalogError> {
    let update = update.validated()?;
    let tx = client.transaction().await.map_err(db_err)?;
    let mut widget = fetch_widget(&tx, tenant_id, widget_id, true).await?;
    if update.is_empty() {
        return Ok(widget);
    }
    update.apply(&mut widget, timestamp::now());
    execute(
        &tx,
        "UPDATE widgets SET node_id = $1, title = $2, layout_x = $3, layout_y = $4,
                layout_w = $5, layout_h = $6, filters = $7, config = $8, updated_at = $9
         WHERE tenant_id = $10 AND id = $11",
        &[
            &widget.node_id,
            &widget.title,
            &i64::from(widget.layout.x),
            &i64::from(widget.layout.y),
            &i64::from(widget.layout.w),
            &i64::from(widget.layout.h),
            &columns_text(&widget.filters)?,
            &json_text(&widget.config)?,
            &timestamp::encode(widget.updated_at),
            &tenant_id,
            &widget_id,
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(widget)
}
