//! Widgets: pins of a workflow output node on a dashboard, and their data.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{NewWidget, Widget, WidgetLayout, WidgetUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::audit;
use crate::auth::{Principal, Writer};
use crate::definition;
use crate::extract::{ApiObject, ApiPath, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::widget_data::{widget_data, FilterScope, WidgetData};

/// A widget's cell in the dashboard grid.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutBody {
    /// Left column, from 0.
    #[serde(deserialize_with = "crate::lenient::u32")]
    pub x: u32,
    /// Top row, from 0.
    #[serde(deserialize_with = "crate::lenient::u32")]
    pub y: u32,
    /// Width in cells (1-48).
    #[serde(deserialize_with = "crate::lenient::u32")]
    #[schema(minimum = 1, maximum = 48)]
    pub w: u32,
    /// Height in cells (1-48).
    #[serde(deserialize_with = "crate::lenient::u32")]
    #[schema(minimum = 1, maximum = 48)]
    pub h: u32,
}

impl From<WidgetLayout> for LayoutBody {
    fn from(l: WidgetLayout) -> Self {
        LayoutBody {
            x: l.x,
            y: l.y,
            w: l.w,
            h: l.h,
        }
    }
}

impl From<LayoutBody> for WidgetLayout {
    fn from(l: LayoutBody) -> Self {
        WidgetLayout {
            x: l.x,
            y: l.y,
            w: l.w,
            h: l.h,
        }
    }
}

/// A widget.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WidgetBody {
    /// Id (UUID).
    pub id: String,
    /// Dashboard it sits on.
    pub dashboard_id: String,
    /// Workflow it shows (may have been deleted since).
    pub workflow_id: String,
    /// Output node of that workflow.
    pub node_id: String,
    /// Title.
    pub title: String,
    /// Grid cell.
    pub layout: LayoutBody,
    /// Output columns embeds may filter by URL parameters.
    pub filters: Vec<String>,
    /// Display options.
    #[schema(value_type = Object)]
    pub config: Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Widget> for WidgetBody {
    fn from(w: Widget) -> Self {
        WidgetBody {
            id: w.id,
            dashboard_id: w.dashboard_id,
            workflow_id: w.workflow_id,
            node_id: w.node_id,
            title: w.title,
            layout: w.layout.into(),
            filters: w.filters,
            config: w.config,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A dashboard's widgets.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetList {
    /// Widgets of the dashboard.
    pub items: Vec<WidgetBody>,
}

/// Which dashboard's widgets to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WidgetListQuery {
    /// Dashboard id.
    pub dashboard_id: String,
}

/// Pins a workflow output node to a dashboard.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWidget {
    /// Dashboard to pin to.
    pub dashboard_id: String,
    /// Workflow to show.
    pub workflow_id: String,
    /// Output node (table view or chart) of the workflow.
    pub node_id: String,
    /// Title (1-200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub title: String,
    /// Grid cell.
    pub layout: LayoutBody,
    /// Output columns embeds may filter by URL parameters.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Display options (an object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Changes to a widget; absent fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWidget {
    /// New title.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub title: Option<String>,
    /// New grid cell.
    #[serde(default)]
    pub layout: Option<LayoutBody>,
    /// Another output node of the same workflow.
    #[serde(default)]
    pub node_id: Option<String>,
    /// New URL-filterable columns.
    #[serde(default)]
    pub filters: Option<Vec<String>>,
    /// New display options (an object).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Path of a single widget.
#[derive(Debug, Deserialize)]
pub struct WidgetPath {
    /// Widget id.
    pub id: String,
}

/// Refuses a node that is not an output (table view or chart) of the workflow.
async fn check_output_node(
    state: &AppState,
    principal: &Principal,
    workflow_id: &str,
    node_id: &str,
) -> Result<(), ApiError> {
    let stored = state
        .catalog
        .get_workflow(&principal.tenant_id, workflow_id)
        .await?;
    let workflow = definition::parse(stored.definition)?;
    match workflow.node(node_id) {
        Some(node) if node.kind.is_output() => Ok(()),
        Some(node) => Err(ApiError::InvalidInput(format!(
            "node '{node_id}' is a {} node; pin an output node (table view or chart)",
            node.kind.type_name()
        ))),
        None => Err(ApiError::InvalidInput(format!(
            "node '{node_id}' does not exist in workflow {workflow_id}"
        ))),
    }
}

/// Lists a dashboard's widgets.
#[utoipa::path(get, path = "/api/v1/widgets", tag = "dashboards",
    params(WidgetListQuery),
    responses(
        (status = 200, description = "The widgets", body = WidgetList),
        (status = 404, description = "No such dashboard in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<WidgetListQuery>,
) -> Result<Json<WidgetList>, ApiError> {
    let items = state
        .catalog
        .list_widgets(&principal.tenant_id, &query.dashboard_id)
        .await?;
    Ok(Json(WidgetList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Pins a workflow output node to a dashboard.
#[utoipa::path(post, path = "/api/v1/widgets", tag = "dashboards",
    request_body = CreateWidget,
    responses(
        (status = 201, description = "Pinned", body = WidgetBody),
        (status = 403, description = "Viewers cannot pin widgets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dashboard or workflow in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an output node, or an invalid title, layout or config", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiObject(body): ApiObject<CreateWidget>,
) -> Result<(StatusCode, Json<WidgetBody>), ApiError> {
    state
        .catalog
        .get_dashboard(&principal.tenant_id, &body.dashboard_id)
        .await?;
    check_output_node(&state, &principal, &body.workflow_id, &body.node_id).await?;
    let widget = state
        .catalog
        .create_widget(NewWidget {
            tenant_id: principal.tenant_id.clone(),
            dashboard_id: body.dashboard_id,
            workflow_id: body.workflow_id,
            node_id: body.node_id,
            title: body.title,
            layout: body.layout.into(),
            filters: body.filters,
            config: body.config.unwrap_or_else(|| json!({})),
        })
        .await?;
    audit::record(
        &state,
        &principal,
        "widget.create",
        "widget",
        &widget.id,
        json!({"dashboard_id": widget.dashboard_id, "workflow_id": widget.workflow_id,
               "node_id": widget.node_id}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(widget.into())))
}

/// One widget.
#[utoipa::path(get, path = "/api/v1/widgets/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Widget id")),
    responses(
        (status = 200, description = "The widget", body = WidgetBody),
        (status = 404, description = "No such widget in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<WidgetPath>,
) -> Result<Json<WidgetBody>, ApiError> {
    let widget = state
        .catalog
        .get_widget(&principal.tenant_id, &path.id)
        .await?;
    Ok(Json(widget.into()))
}

/// Changes a widget's title, layout, node, filters or config.
#[utoipa::path(patch, path = "/api/v1/widgets/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Widget id")),
    request_body = UpdateWidget,
    responses(
        (status = 200, description = "The changed widget", body = WidgetBody),
        (status = 403, description = "Viewers cannot change widgets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an output node, or an invalid value", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WidgetPath>,
    ApiObject(body): ApiObject<UpdateWidget>,
) -> Result<Json<WidgetBody>, ApiError> {
    let current = state
        .catalog
        .get_widget(&principal.tenant_id, &path.id)
        .await?;
    if let Some(node_id) = &body.node_id {
        check_output_node(&state, &principal, &current.workflow_id, node_id).await?;
    }
    let changed: Vec<&str> = [
        ("title", body.title.is_some()),
        ("layout", body.layout.is_some()),
        ("node_id", body.node_id.is_some()),
        ("filters", body.filters.is_some()),
        ("config", body.config.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    let widget = state
        .catalog
        .update_widget(
            &principal.tenant_id,
            &path.id,
            WidgetUpdate {
                title: body.title,
                layout: body.layout.map(Into::into),
                node_id: body.node_id,
                filters: body.filters,
                config: body.config,
            },
        )
        .await?;
    audit::record(
        &state,
        &principal,
        "widget.update",
        "widget",
        &widget.id,
        json!({"changed": changed}),
    )
    .await?;
    Ok(Json(widget.into()))
}

/// Removes a widget from its dashboard.
#[utoipa::path(delete, path = "/api/v1/widgets/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Widget id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Viewers cannot remove widgets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<WidgetPath>,
) -> Result<StatusCode, ApiError> {
    let widget = state
        .catalog
        .get_widget(&principal.tenant_id, &path.id)
        .await?;
    state
        .catalog
        .delete_widget(&principal.tenant_id, &path.id)
        .await?;
    audit::record(
        &state,
        &principal,
        "widget.delete",
        "widget",
        &path.id,
        json!({"dashboard_id": widget.dashboard_id}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A widget's rows with the dashboard's global filters and drill-down filters applied.
///
/// Filter parameters are named after output columns: `?symbol=AAPL,MSFT` (IN list) and
/// `?event_time.gte=...&event_time.lte=...` (range). A global filter's parameter applies only
/// when the widget's output has its column; other column parameters drill down. A widget whose
/// workflow was deleted answers 200 with `state: "error"`, `code: "source_workflow_deleted"`.
#[utoipa::path(get, path = "/api/v1/widgets/{id}/data", tag = "dashboards",
    params(
        ("id" = String, Path, description = "Widget id"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Rows wanted (at most 1000)"),
    ),
    responses(
        (status = 200, description = "Rows, or the widget's error state", body = WidgetData),
        (status = 400, description = "A filter on an unknown column or with an invalid value", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The result is larger than 100 MB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 1000 rows asked for", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The query took longer than 3 seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn data(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<WidgetPath>,
    ApiQuery(params): ApiQuery<BTreeMap<String, String>>,
) -> Result<Json<WidgetData>, ApiError> {
    let widget = state
        .catalog
        .get_widget(&principal.tenant_id, &path.id)
        .await?;
    let data = widget_data(&state, &principal, &widget, &params, FilterScope::Dashboard).await?;
    Ok(Json(data))
}
