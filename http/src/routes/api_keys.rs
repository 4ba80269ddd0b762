//! API keys (admin only): create (the secret is shown once), list, revoke.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{ApiKey, NewApiKey, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Admin;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, Problem};
use crate::routes::auth::RoleDoc;
use crate::state::AppState;

/// A stored key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyBody {
    /// Id (UUID).
    pub id: String,
    /// Label.
    pub name: String,
    /// Public id (`key_...`): the pgwire login name for the key.
    pub public_id: String,
    /// First characters of the secret, to tell keys apart.
    pub prefix: String,
    /// Role the key acts with.
    #[schema(value_type = RoleDoc)]
    pub role: Role,
    /// Creator's id.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Revocation time; revoked keys never authenticate.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        ApiKeyBody {
            id: k.id,
            name: k.name,
            public_id: k.public_id,
            prefix: k.prefix,
            role: k.role,
            created_by: k.created_by,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// Label, e.g. `grafana-prod` (1-200 characters).
    #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: String,
    /// Role the key acts with. [default: viewer]
    #[serde(default)]
    #[schema(value_type = Option<RoleDoc>)]
    pub role: Option<Role>,
}

/// A created key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyBody {
    /// The stored key.
    pub key: ApiKeyBody,
    /// `sk_live_...`: store it now; it cannot be shown again.
    pub secret: String,
}

/// Path of one key.
#[derive(Debug, Deserialize)]
pub struct KeyPath {
    /// Key id.
    pub id: String,
}

/// Creates a key; the response is the only time its secret is shown.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api keys",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; copy the secret now", body = CreatedApiKeyBody),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    Admin(principal): Admin,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKeyBody>), ApiError> {
    let created = state
        .catalog
        .create_api_key(NewApiKey {
            tenant_id: principal.tenant_id.clone(),
            name: body.name,
            role: body.role.unwrap_or(Role::Viewer),
            created_by: principal.user_id.clone(),
        })
        .await?;
    audit::record(
        &state,
        &principal,
        "api_key.create",
        "api_key",
        &created.key.id,
        json!({"name": created.key.name, "public_id": created.key.public_id, "role": created.key.role}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyBody {
            key: created.key.into(),
            secret: created.secret,
        }),
    ))
}

/// The tenant's keys, newest first (revoked ones included).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api keys",
    responses(
        (status = 200, description = "The keys", body = Vec<ApiKeyBody>),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
) -> Result<Json<Vec<ApiKeyBody>>, ApiError> {
    let keys = state.catalog.list_api_keys(&principal.tenant_id).await?;
    Ok(Json(keys.into_iter().map(ApiKeyBody::from).collect()))
}

/// Revokes a key (idempotent); it stays listed as revoked.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKeyBody),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key in your tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    Admin(principal): Admin,
    ApiPath(path): ApiPath<KeyPath>,
) -> Result<Json<ApiKeyBody>, ApiError> {
    let key = state
        .catalog
        .revoke_api_key(&principal.tenant_id, &path.id)
        .await?;
    audit::record(
        &state,
        &principal,
        "api_key.revoke",
        "api_key",
        &key.id,
        json!({"name": key.name, "public_id": key.public_id}),
    )
    .await?;
    Ok(Json(key.into()))
}
