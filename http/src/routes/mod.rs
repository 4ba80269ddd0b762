//! The routes, each documented for OpenAPI where it is declared; this module only lists them.

pub mod api_keys;
pub mod audit_log;
pub mod auth;
pub mod dashboards;
pub mod embeds;
pub mod executions;
pub mod preview;
pub mod publishing;
pub mod schema;
pub mod templates;
pub mod transfer;
pub mod versions;
pub mod widgets;
pub mod workflows;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::health;
use crate::metrics;
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Every documented route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::index))
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(metrics::scrape))
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(
            workflows::get_one,
            workflows::update,
            workflows::remove
        ))
        .routes(routes!(transfer::import))
        .routes(routes!(transfer::export))
        .routes(routes!(versions::list))
        .routes(routes!(versions::get_one))
        .routes(routes!(versions::rollback))
        .routes(routes!(publishing::publish))
        .routes(routes!(publishing::unpublish))
        .routes(routes!(schema::tables))
        .routes(routes!(schema::columns))
        .routes(routes!(schema::propagate))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(audit_log::list))
        .routes(routes!(dashboards::list, dashboards::create))
        .routes(routes!(
            dashboards::get_one,
            dashboards::update,
            dashboards::remove
        ))
        .routes(routes!(widgets::list, widgets::create))
        .routes(routes!(widgets::get, widgets::update, widgets::remove))
        .routes(routes!(widgets::data))
        .routes(routes!(preview::preview))
        .routes(routes!(executions::create))
        .routes(routes!(executions::get_one))
        .routes(routes!(templates::list))
        .routes(routes!(templates::instantiate))
        .routes(routes!(embeds::token))
        .routes(routes!(embeds::data))
}
