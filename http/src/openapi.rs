//! The OpenAPI document (`/api/v1/openapi.json`) and interactive docs (`/docs`).
//!
//! Operations are described where they are declared (`#[utoipa::path]` on each handler); this
//! module holds the document's frame, the workflow definition's schema (the engine's JSON
//! format, described here because the engine knows nothing of OpenAPI), and adds the problem
//! responses every operation can give so none is left undocumented.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::problem::{Problem, ProblemIssue, PROBLEM_JSON};

/// The document's frame: info, tags, shared schemas and the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "FlowForge API",
        description = "REST API of FlowForge: workflows (validated and compiled by the engine), \
                       schema propagation for the canvas, dashboards and widgets, previews and \
                       executions, templates, embeds, API keys and the audit log. \
                       Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/auth/login` \
                       (or an OIDC token when configured); embeds take `X-API-Key` or an embed token. \
                       Errors are RFC 9457 problem details."
    ),
    components(schemas(Problem, ProblemIssue, WorkflowDefinition, NodeDefinition, EdgeDefinition, PortName, PositionDefinition)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Signing in"),
        (name = "workflows", description = "Workflows, versions, publishing, export and import"),
        (name = "schema", description = "Serving tables and schema propagation"),
        (name = "api keys", description = "API keys for embeds and SQL clients (admin)"),
        (name = "audit", description = "Audit log (admin)"),
        (name = "dashboards", description = "Dashboards, widgets and widget data"),
        (name = "execution", description = "Node previews (cached by content) and background runs"),
        (name = "templates", description = "Workflow templates"),
        (name = "embeds", description = "Widget data for external pages (API key or embed token)"),
        (name = "operations", description = "Health, metrics and the landing page"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A session token from POST /api/v1/auth/login, or an OIDC access token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                API_KEY_HEADER_NAME,
                "An API key (sk_live_...), for embeds",
            ))),
        );
        components.add_security_scheme(
            "embed_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "An embed token from POST /api/v1/embed/token (also accepted as a bearer token)",
            ))),
        );
    }
}

/// The API key header as OpenAPI names it.
const API_KEY_HEADER_NAME: &str = "X-API-Key";

/// A workflow definition: the canvas's node graph in the engine's JSON format.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "format_version": 1,
    "name": "Large AAPL trades",
    "nodes": [
        {"id": "trades", "type": "data_source", "config": {"table": "fct_trades"}},
        {"id": "large", "type": "filter", "config": {"conditions": [
            {"column": "quantity", "operator": "gt", "value": 500}]}},
        {"id": "table", "type": "table_view", "config": {}}
    ],
    "edges": [
        {"source": "trades", "target": "large"},
        {"source": "large", "target": "table"}
    ]
}))]
pub struct WorkflowDefinition {
    /// Format version; this server reads 1.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1)]
    pub format_version: u32,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the workflow is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The nodes; ids must be unique.
    #[schema(min_items = 1)]
    pub nodes: Vec<NodeDefinition>,
    /// Connections between nodes.
    #[serde(default)]
    pub edges: Vec<EdgeDefinition>,
}

/// One node on the canvas.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeDefinition {
    /// Unique id within the workflow.
    #[schema(pattern = r"\S")]
    pub id: String,
    /// Node type: data_source, filter, select, rename, sort, limit, sample, unique, group_by,
    /// join, union, pivot, formula, window, table_view, bar_chart, line_chart, candlestick,
    /// scatter_plot, kpi_card or pivot_table.
    #[serde(rename = "type")]
    pub node_type: String,
    /// Type-specific configuration (checked by the engine; problems name the field).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Value,
    /// Display label.
    #[serde(default)]
    pub label: Option<String>,
    /// Canvas position (UI only).
    #[serde(default)]
    pub position: Option<PositionDefinition>,
}

/// A node's canvas position.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PositionDefinition {
    /// Horizontal coordinate.
    pub x: f64,
    /// Vertical coordinate.
    pub y: f64,
}

/// A connection from one node's output to another node's input.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeDefinition {
    /// Upstream node id.
    pub source: String,
    /// Downstream node id.
    pub target: String,
    /// Input of a two-input node (join, union).
    #[serde(default)]
    pub target_port: Option<PortName>,
}

/// The inputs of a two-input node.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortName {
    /// The left (first) input.
    Left,
    /// The right (second) input.
    Right,
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

fn requires_auth(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        serde_json::to_value(requirements)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|list| {
                list.iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
            })
    })
}

fn add_standard_responses(operation: &mut Operation, api: bool) {
    let responses = &mut operation.responses.responses;
    if api {
        responses.entry("400".into()).or_insert_with(|| {
            problem_response("Malformed request: body, path or query parameters")
        });
    }
    if requires_auth(operation) {
        let responses = &mut operation.responses.responses;
        responses
            .entry("401".into())
            .or_insert_with(|| problem_response("Missing, invalid or expired credentials"));
    }
    operation
        .responses
        .responses
        .entry("default".into())
        .or_insert_with(|| problem_response("Any other error (e.g. 405, 413, 415, 5xx)"));
}

/// The complete document: the routes' descriptions plus the standard problem responses.
pub fn finish(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let api = path.starts_with("/api/");
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_standard_responses(operation, api);
        }
    }
    openapi
}
