//! Signing in (`POST /api/v1/auth/login`) and who am I (`GET /api/v1/me`).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::{CatalogError, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthMethod, Principal};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Roles, weakest last.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleDoc {
    /// Everything, including API keys and the audit log.
    Admin,
    /// Builds and publishes workflows.
    Analyst,
    /// Reads only.
    Viewer,
}

/// Credentials of a catalog user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// The caller as the API sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeBody {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant slug.
    pub tenant_slug: String,
    /// User id (or OIDC subject).
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Role.
    #[schema(value_type = RoleDoc)]
    pub role: Role,
    /// How the caller authenticated.
    pub auth_method: AuthMethod,
    /// Symbols the tenant may see.
    pub entitlements: Vec<String>,
}

impl From<Principal> for MeBody {
    fn from(p: Principal) -> Self {
        MeBody {
            tenant_id: p.tenant_id,
            tenant_slug: p.tenant_slug,
            user_id: p.user_id,
            email: p.email,
            role: p.role,
            auth_method: p.method,
            entitlements: p.entitlements,
        }
    }
}

/// A session token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginBody {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub user: MeBody,
}

/// Exchanges email and password for a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginBody),
        (status = 401, description = "Unknown email or wrong password", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginBody>, ApiError> {
    let identity = flowforge_catalog::authenticate_password(
        state.catalog.as_ref(),
        &body.email,
        &body.password,
    )
    .await
    .map_err(|e| match e {
        // A malformed email is just another failed login: no hint what exists.
        CatalogError::InvalidInput(_) | CatalogError::NotFound { .. } => {
            ApiError::InvalidCredentials
        }
        other => other.into(),
    })?;
    let user_id = identity
        .user_id
        .clone()
        .ok_or_else(|| ApiError::Internal("password login without a user".into()))?;
    let issued = state
        .auth
        .sessions()
        .issue(&identity.tenant_id, &user_id, &identity.email_or_key_name)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(LoginBody {
        token: issued.token,
        token_type: "Bearer".into(),
        expires_at: issued.expires_at,
        user: Principal::from_identity(identity, AuthMethod::SessionToken).into(),
    }))
}

/// The authenticated caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The caller", body = MeBody)),
    security(("bearer" = [])))]
pub async fn me(principal: Principal) -> Json<MeBody> {
    Json(principal.into())
}
