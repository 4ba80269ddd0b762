//! Dashboards and their widgets in SQLite. Widgets reference their dashboard by
//! (tenant, dashboard) with a cascading foreign key and their workflow by id only, so deleting
//! a dashboard removes its widgets while deleting a workflow leaves them in place.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::accounts::require_tenant;
use super::columns::{conversion, db_err, json, json_text, new_id, time};
use crate::dashboard::{filters_from_text, filters_text, interval_from_stored};
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

fn dashboard_row(row: &Row<'_>) -> rusqlite::Result<Dashboard> {
    let filters: String = row.get(5)?;
    Ok(Dashboard {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        refresh_interval_seconds: interval_from_stored(row.get(4)?)
            .map_err(|e| conversion(4, e))?,
        global_filters: filters_from_text(&filters).map_err(|e| conversion(5, e))?,
        created_by: row.get(6)?,
        created_at: time(row, 7)?,
        updated_at: time(row, 8)?,
    })
}

fn widget_row(row: &Row<'_>) -> rusqlite::Result<Widget> {
    let span = |idx: usize| -> rusqlite::Result<u32> {
        layout_from_stored(row.get(idx)?).map_err(|e| conversion(idx, e))
    };
    let filters: String = row.get(10)?;
    Ok(Widget {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        dashboard_id: row.get(2)?,
        workflow_id: row.get(3)?,
        node_id: row.get(4)?,
        title: row.get(5)?,
        layout: WidgetLayout {
            x: span(6)?,
            y: span(7)?,
            w: span(8)?,
            h: span(9)?,
        },
        filters: columns_from_text(&filters).map_err(|e| conversion(10, e))?,
        config: json(row, 11)?,
        created_at: time(row, 12)?,
        updated_at: time(row, 13)?,
    })
}

pub(super) fn create_dashboard(
    conn: &mut Connection,
    new: &NewDashboard,
) -> Result<Dashboard, CatalogError> {
    let new = new.validated()?;
    let filters = filters_text(&new.global_filters)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id)?;
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
    tx.execute(
        &format!(
            "INSERT INTO dashboards ({DASHBOARD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
        ),
        params![
            dashboard.id,
            dashboard.tenant_id,
            dashboard.name,
            dashboard.description,
            dashboard.refresh_interval_seconds,
            filters,
            dashboard.created_by,
            at
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(dashboard)
}

pub(super) fn get_dashboard(
    conn: &Connection,
    tenant_id: &str,
    dashboard_id: &str,
) -> Result<Dashboard, CatalogError> {
    conn.query_row(
        &format!("SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE tenant_id = ?1 AND id = ?2"),
        [tenant_id, dashboard_id],
        dashboard_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("dashboard", dashboard_id))
}

pub(super) fn list_dashboards(
    conn: &Connection,
    tenant_id: &str,
) -> Result<Vec<Dashboard>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {DASHBOARD_COLUMNS} FROM dashboards WHERE tenant_id = ?1 ORDER BY name, id"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([tenant_id], dashboard_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn update_dashboard(
    conn: &mut Connection,
    tenant_id: &str,
    dashboard_id: &str,
    update: &DashboardUpdate,
) -> Result<Dashboard, CatalogError> {
    let update = update.validated()?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut dashboard = get_dashboard(&tx, tenant_id, dashboard_id)?;
    if update.is_empty() {
        return Ok(dashboard);
    }
    update.apply(&mut dashboard, timestamp::now());
    tx.execute(
        "UPDATE dashboards SET name = ?1, description = ?2, refresh_interval_seconds = ?3,
                global_filters = ?4, updated_at = ?5
         WHERE tenant_id = ?6 AND id = ?7",
        params![
            dashboard.name,
            dashboard.description,
            dashboard.refresh_interval_seconds,
            filters_text(&dashboard.global_filters)?,
            timestamp::encode(dashboard.updated_at),
            tenant_id,
            dashboard_id
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(dashboard)
}

fn require_workflow(
    conn: &Connection,
    tenant_id: &str,
    workflow_id: &str,
) -> Result<(), CatalogError> {
    conn.query_row(
        "SELECT 1 FROM workflows WHERE tenant_id = ?1 AND id = ?2",
        [tenant_id, workflow_id],
        |_| Ok(()),
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("workflow", workflow_id))
}

pub(super) fn create_widget(
    conn: &mut Connection,
    new: &NewWidget,
) -> Result<Widget, CatalogError> {
    let new = new.validated()?;
    let filters = columns_text(&new.filters)?;
    let config = json_text(&new.config)?;
    let now = timestamp::now();
    let at = timestamp::encode(now);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    get_dashboard(&tx, &new.tenant_id, &new.dashboard_id)?;
    require_workflow(&tx, &new.tenant_id, &new.workflow_id)?;
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
    tx.execute(
        &format!(
            "INSERT INTO widgets ({WIDGET_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)"
        ),
        params![
            widget.id,
            widget.tenant_id,
            widget.dashboard_id,
            widget.workflow_id,
            widget.node_id,
            widget.title,
            widget.layout.x,
            widget.layout.y,
            widget.layout.w,
            widget.layout.h,
            filters,
            config,
            at
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(widget)
}

pub(super) fn get_widget(
    conn: &Connection,
    tenant_id: &str,
    widget_id: &str,
) -> Result<Widget, CatalogError> {
    conn.query_row(
        &format!("SELECT {WIDGET_COLUMNS} FROM widgets WHERE tenant_id = ?1 AND id = ?2"),
        [tenant_id, widget_id],
        widget_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("widget", widget_id))
}

pub(super) fn list_widgets(
    conn: &Connection,
    tenant_id: &str,
    dashboard_id: &str,
) -> Result<Vec<Widget>, CatalogError> {
    get_dashboard(conn, tenant_id, dashboard_id)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {WIDGET_COLUMNS} FROM widgets WHERE tenant_id = ?1 AND dashboard_id = ?2
             ORDER BY layout_y, layout_x, created_at, id"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map([tenant_id, dashboard_id], widget_row)
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn update_widget(
    conn: &mut Connection,
    tenant_id: &str,
    widget_id: &str,
    update: &WidgetUpdate,
) -> Result<Widget, CatalogError> {
    let update = update.validated()?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut widget = get_widget(&tx, tenant_id, widget_id)?;
    if update.is_empty() {
        return Ok(widget);
    }
    update.apply(&mut widget, timestamp::now());
    tx.execute(
        "UPDATE widgets SET node_id = ?1, title = ?2, layout_x = ?3, layout_y = ?4,
                layout_w = ?5, layout_h = ?6, filters = ?7, config = ?8, updated_at = ?9
         WHERE tenant_id = ?10 AND id = ?11",
        params![
            widget.node_id,
            widget.title,
            widget.layout.x,
            widget.layout.y,
            widget.layout.w,
            widget.layout.h,
            columns_text(&widget.filters)?,
            json_text(&widget.config)?,
            timestamp::encode(widget.updated_at),
            tenant_id,
            widget_id
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(widget)
}
