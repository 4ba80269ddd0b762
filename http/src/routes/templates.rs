//! Workflow templates: the gallery (built-ins and the tenant's own) and starting a new
//! workflow from one, with fresh node ids so it shares nothing with other copies.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{CatalogError, NewWorkflow, Template};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::workflows::WorkflowBody;
use crate::audit;
use crate::auth::{Principal, Writer};
use crate::definition;
use crate::extract::{optional_json, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// How many numbered names are tried when a template's name is taken.
const NAME_ATTEMPTS: u32 = 20;

/// A template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateBody {
    /// Id (UUID).
    pub id: String,
    /// Whether every tenant sees it (a product template) rather than only yours.
    pub built_in: bool,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Gallery section.
    pub category: String,
    /// The workflow a new workflow starts with.
    #[schema(value_type = crate::openapi::WorkflowDefinition)]
    pub definition: Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Template> for TemplateBody {
    fn from(t: Template) -> Self {
        TemplateBody {
            id: t.id,
            built_in: t.tenant_id.is_none(),
            name: t.name,
            description: t.description,
            category: t.category,
            definition: t.definition,
            created_at: t.created_at,
        }
    }
}

/// The template gallery.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    /// Built-in templates and your tenant's.
    pub items: Vec<TemplateBody>,
}

/// Options for a workflow made from a template.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstantiateTemplate {
    /// Name of the new workflow; the template's name (numbered if taken) when absent.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: Option<String>,
    /// Description; the template's when absent.
    #[serde(default)]
    #[schema(max_length = 10000, pattern = r"^[^\x00]*$")]
    pub description: Option<String>,
}

/// Path of a single template.
#[derive(Debug, Deserialize)]
pub struct TemplatePath {
    /// Template id.
    pub id: String,
}

/// Lists the templates your tenant can start from.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates",
    responses((status = 200, description = "The templates", body = TemplateList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<TemplateList>, ApiError> {
    let items = state.catalog.list_templates(&principal.tenant_id).await?;
    Ok(Json(TemplateList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Creates a workflow from a template (with regenerated node ids).
#[utoipa::path(post, path = "/api/v1/templates/{id}/instantiate", tag = "templates",
    params(("id" = String, Path, description = "Template id")),
    request_body(content = Option<InstantiateTemplate>, description = "Optional name and description"),
    responses(
        (status = 201, description = "The new workflow", body = WorkflowBody),
        (status = 403, description = "Viewers cannot create workflows", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such template for your tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid name, or a template that no longer compiles", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn instantiate(
    State(state): State<AppState>,
    Writer(principal): Writer,
    ApiPath(path): ApiPath<TemplatePath>,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkflowBody>), ApiError> {
    let options: InstantiateTemplate = optional_json(&body)?;
    let template = state
        .catalog
        .get_template(&principal.tenant_id, &path.id)
        .await?;
    let (fresh, _) = definition::parse(template.definition.clone())?.with_fresh_node_ids();
    let (_, definition) = definition::validated(state.catalog.as_ref(), fresh.to_value()).await?;
    let description = options
        .description
        .unwrap_or_else(|| template.description.clone());
    let explicit = options.name.is_some();
    let base = options.name.unwrap_or_else(|| template.name.clone());
    let mut attempt = 1;
    let workflow = loop {
        let name = if attempt == 1 {
            base.clone()
        } else {
            format!("{base} ({attempt})")
        };
        let created = state
            .catalog
            .create_workflow(NewWorkflow {
                tenant_id: principal.tenant_id.clone(),
                name,
                view_name: None,
                description: description.clone(),
                definition: definition.clone(),
                created_by: principal.user_id.clone(),
            })
            .await;
        match created {
            Err(CatalogError::Conflict(_)) if !explicit && attempt < NAME_ATTEMPTS => attempt += 1,
            other => break other?,
        }
    };
    audit::record(
        &state,
        &principal,
        "workflow.create",
        "workflow",
        &workflow.id,
        json!({"name": workflow.name, "view_name": workflow.view_name, "template_id": template.id}),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(workflow.into())))
}
