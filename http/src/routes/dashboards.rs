//! Dashboard CRUD. A dashboard is a grid of widgets with a refresh interval and global filters;
//! deleting one deletes its widgets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{Dashboard, DashboardUpdate, GlobalFilter, NewDashboard};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{Principal, Writer};
use crate::extract::{ApiObject, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A global filter: narrows every widget whose output has its column.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalFilterBody {
    /// Identifier, unique within the dashboard.
    #[schema(min_length = 1)]
    pub id: String,
    /// Output column it applies to; also its URL parameter name (`?symbol=AAPL,MSFT`,
    /// `?event_time.gte=...&event_time.lte=...`).
    #[schema(min_length = 1)]
    pub column: String,
    /// Label shown to users.
    #[serde(default)]
    pub label: String,
    /// `values` (IN list) or `range` (gte/lte).
    pub kind: FilterKindBody,
    /// Value used when the URL gives none: an array for `values`, `{gte, lte}` for `range`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
}

/// How a global filter narrows rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterKindBody {
    /// The column is one of the chosen values.
    Values,
    /// The column lies within bounds.
    Range,
}

impl From<GlobalFilter> for GlobalFilterBody {
    fn from(f: GlobalFilter) -> Self {
        GlobalFilterBody {
            id: f.id,
            column: f.column,
            label: f.label,
            kind: match f.kind {
                flowforge_catalog::FilterKind::Values => FilterKindBody::Values,
                flowforge_catalog::FilterKind::Range => FilterKindBody::Range,
            },
            default: f.default,
        }
    }
}

impl From<GlobalFilterBody> for GlobalFilter {
    fn from(f: GlobalFilterBody) -> Self {
        GlobalFilter {
            id: f.id,
            column: f.column,
            label: f.label,
            kind: match f.kind {
                FilterKindBody::Values => flowforge_catalog::FilterKind::Values,
                FilterKindBody::Range => flowforge_catalog::FilterKind::Range,
            },
            default: f.default,
        }
    }
}

/// A dashboard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardBody {
    /// Id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Seconds between refreshes (5, 30, 60, 300, 900 or 3600); absent for manual refresh.
    pub refresh_interval_seconds: Option<u32>,
    /// Filters applied to every widget that has their column.
    pub global_filters: Vec<GlobalFilterBody>,
    /// Creator's user id.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Dashboard> for DashboardBody {
    fn from(d: Dashboard) -> Self {
        DashboardBody {
            id: d.id,
            name: d.name,
            description: d.description,
            refresh_interval_seconds: d.refresh_interval_seconds,
            global_filters: d.global_filters.into_iter().map(Into::into).collect(),
            created_by: d.created_by,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// The tenant's dashboards.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardList {
    /// Dashboards, by name.
    pub items: Vec<DashboardBody>,
}

/// A new dashboard.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDashboard {
    /// Display name (1-200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: String,
    /// Free-text description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: String,
    /// Seconds between refreshes; absent or null for manual refresh.
    #[serde(default, deserialize_with = "crate::lenient::opt_u32")]
    pub refresh_interval_seconds: Option<u32>,
    /// Global filters.
    #[serde(default)]
    pub global_filters: Vec<GlobalFilterBody>,
}

/// Changes to a dashboard; absent fields keep their value, `refresh_interval_seconds: null`
/// switches to manual refresh.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDashboard {
    /// New display name.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
    /// New refresh interval (null: manual).
    #[serde(default, deserialize_with = "crate::lenient::present_opt_u32")]
    #[schema(value_type = Option<u32>)]
    pub refresh_interval_seconds: Option<Option<u32>>,
    /// New global filters (replace the old ones).
    #[serde(default)]
    pub global_filters: Option<Vec<GlobalFilterBody>>,
}

/// Path of a single dashboard.
#[derive(Debug, Deserialize)]
pub struct DashboardPath {
    /// Dashboard id.
    pub id: String,
}

/// Lists the tenant's dashboards.
#[utoipa::path(get, path = "/api/v1/dashboards", tag = "dashboards",
    responses((status = 200, description = "The dashboards", body = DashboardList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<DashboardList>, ApiError> {
    let items = state.catalog.list_dashboards(&principal.tenant_id).await?;
    Ok(Json(DashboardList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a dashboard.
#[utoipa::path(post, path = "/api/v1/dashboards", tag = "dashboards",
    request_body = CreateDashboard,
    responses(
        (status = 201, description = "Created", body = DashboardBody),
        (status = 403, description = "Viewers cannot create dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name, interval or filters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiObject(body): ApiObject<CreateDashboard>,
) -> Result<(StatusCode, Json<DashboardBody>), ApiError> {
    let dashboard = state
        .catalog
        .create_dashboard(NewDashboard {
            tenant_id: principal.tenant_id.clone(),
            name: body.name,
            description: body.description,
            refresh_interval_seconds: body.refresh_interval_seconds,
            global_filters: body.global_filters.into_iter().map(Into::into).collect(),
            created_by: principal.user_id.clone(),
        })
        .await?;
    audit::record(
        &state,
        &principal,
        "dashboard.create",
        "dashboard",
        &dashboard.id,
        json!({"name": dashboard.name}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dashboard.into())))
}

/// One dashboard.
#[utoipa::path(get, path = "/api/v1/dashboards/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Dashboard id")),
    responses(
        (status = 200, description = "The dashboard", body = DashboardBody),
        (status = 404, description = "No such dashboard in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(path): ApiPath<DashboardPath>,
) -> Result<Json<DashboardBody>, ApiError> {
    let dashboard = state
        .catalog
        .get_dashboard(&principal.tenant_id, &path.id)
        .await?;
    Ok(Json(dashboard.into()))
}

/// Changes a dashboard.
#[utoipa::path(patch, path = "/api/v1/dashboards/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Dashboard id")),
    request_body = UpdateDashboard,
    responses(
        (status = 200, description = "The changed dashboard", body = DashboardBody),
        (status = 403, description = "Viewers cannot change dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dashboard in your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name, interval or filters", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<DashboardPath>,
    ApiObject(body): ApiObject<UpdateDashboard>,
) -> Result<Json<DashboardBody>, ApiError> {
    let changed: Vec<&str> = [
        ("name", body.name.is_some()),
        ("description", body.description.is_some()),
        (
            "refresh_interval_seconds",
            body.refresh_interval_seconds.is_some(),
        ),
        ("global_filters", body.global_filters.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, set)| set.then_some(field))
    .collect();
    let dashboard = state
        .catalog
        .update_dashboard(
            &principal.tenant_id,
            &path.id,
            DashboardUpdate {
                name: body.name,
                description: body.description,
                refresh_interval_seconds: body.refresh_interval_seconds,
                global_filters: body
                    .global_filters
                    .map(|filters| filters.into_iter().map(Into::into).collect()),
            },
        )
        .await?;
    audit::record(
        &state,
        &principal,
        "dashboard.update",
        "dashboard",
        &dashboard.id,
        json!({"changed": changed}),
    )
    .await?;
    Ok(Json(dashboard.into()))
}

/// Deletes a dashboard and its widgets.
#[utoipa::path(delete, path = "/api/v1/dashboards/{id}", tag = "dashboards",
    params(("id" = String, Path, description = "Dashboard id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Viewers cannot delete dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dashboard in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn remove(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<DashboardPath>,
) -> Result<StatusCode, ApiError> {
    let dashboard = state
        .catalog
        .get_dashboard(&principal.tenant_id, &path.id)
        .await?;
    state
        .catalog
        .delete_dashboard(&principal.tenant_id, &path.id)
        .await?;
    audit::record(
        &state,
        &principal,
        "dashboard.delete",
        "dashboard",
        &path.id,
        json!({"name": dashboard.name}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
