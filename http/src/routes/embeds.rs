//! Embeds: a widget's data for an iframe outside FlowForge, authenticated by an API key
//! (`X-API-Key`) or a short-lived embed token, rate-limited per key, and filterable by URL only
//! on the columns the widget declares.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use flowforge_catalog::CatalogError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{ApiKeyPrincipal, AuthMethod, Principal, API_KEY_HEADER};
use crate::extract::{optional_json, ApiPath, ApiQuery};
use crate::problem::{ApiError, Problem};
use crate::rate_limit::RateDecision;
use crate::state::AppState;
use crate::widget_data::{widget_data, FilterScope, WidgetData};

/// Who is asking for embed data: an API key, directly or through an embed token.
#[derive(Debug, Clone)]
pub struct EmbedCaller {
    /// The key acting (role and entitlements as they are now).
    pub principal: Principal,
    /// The key's id; the rate limit counts per key.
    pub key_id: String,
    /// The only widget an embed token allows, if it is scoped to one.
    pub widget: Option<String>,
}

#[derive(Deserialize)]
struct TokenParam {
    token: Option<String>,
}

impl FromRequestParts<AppState> for EmbedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(API_KEY_HEADER) {
            let ApiKeyPrincipal(principal) =
                ApiKeyPrincipal::from_request_parts(parts, state).await?;
            return Ok(EmbedCaller {
                key_id: principal.user_id.clone(),
                principal,
                widget: None,
            });
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_string());
        let query = Query::<TokenParam>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(p)| p.token);
        let token = bearer.or(query).ok_or_else(|| {
            ApiError::Unauthenticated(
                "send an API key in `X-API-Key` or an embed token (`?token=` or `Authorization: Bearer`)"
                    .into(),
            )
        })?;
        let claims = state
            .queries
            .embed_tokens
            .verify(&token)
            .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
        let revoked = || ApiError::Unauthenticated("the embed token's API key was revoked".into());
        let key = match state.catalog.get_api_key(&claims.tid, &claims.sub).await {
            Ok(key) if key.is_active() => key,
            Ok(_) | Err(CatalogError::NotFound { .. }) => return Err(revoked()),
            Err(other) => return Err(other.into()),
        };
        let tenant = state.catalog.get_tenant(&claims.tid).await?;
        let entitlements = state.catalog.list_entitlements(&claims.tid).await?;
        Ok(EmbedCaller {
            principal: Principal {
                tenant_id: tenant.id,
                tenant_slug: tenant.slug,
                user_id: key.id.clone(),
                email: key.name,
                role: key.role,
                method: AuthMethod::ApiKey,
                entitlements,
            },
            key_id: key.id,
            widget: claims.wid,
        })
    }
}

/// Counts the request against the key's budget.
async fn rate_limit(state: &AppState, key_id: &str) -> Result<(), ApiError> {
    let limiter = &state.queries.embed_limiter;
    match limiter.check(&format!("embed:{key_id}")).await {
        RateDecision::Allowed { .. } => Ok(()),
        RateDecision::Limited { retry_after } => Err(ApiError::TooManyRequests {
            detail: format!(
                "this API key may make {} embed requests per window; retry in {} s",
                limiter.limit(),
                retry_after.as_secs()
            ),
            retry_after_seconds: retry_after.as_secs(),
        }),
    }
}

/// Scope of a new embed token.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEmbedToken {
    /// Restrict the token to this widget.
    #[serde(default)]
    pub widget_id: Option<String>,
}

/// An embed token.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmbedTokenBody {
    /// The token: pass it as `?token=` (iframes) or `Authorization: Bearer`.
    pub token: String,
    /// When it stops working (15 minutes after issue).
    pub expires_at: DateTime<Utc>,
    /// The widget it is restricted to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widget_id: Option<String>,
}

/// Exchanges an API key for a 15-minute embed token.
#[utoipa::path(post, path = "/api/v1/embed/token", tag = "embeds",
    request_body(content = Option<CreateEmbedToken>, description = "Optional widget scope"),
    responses(
        (status = 201, description = "The token", body = EmbedTokenBody),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget in the key's tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
pub async fn token(
    State(state): State<AppState>,
    ApiKeyPrincipal(principal): ApiKeyPrincipal,
    body: Bytes,
) -> Result<(StatusCode, Json<EmbedTokenBody>), ApiError> {
    let body: CreateEmbedToken = optional_json(&body)?;
    if let Some(widget_id) = &body.widget_id {
        state
            .catalog
            .get_widget(&principal.tenant_id, widget_id)
            .await?;
    }
    let (token, expires_at) = state
        .queries
        .embed_tokens
        .issue(
            &principal.tenant_id,
            &principal.user_id,
            body.widget_id.as_deref(),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    audit::record(
        &state,
        &principal,
        "embed_token.create",
        "api_key",
        &principal.user_id,
        json!({"widget_id": body.widget_id, "expires_at": expires_at}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(EmbedTokenBody {
            token,
            expires_at,
            widget_id: body.widget_id,
        }),
    ))
}

/// Path of an embedded widget.
#[derive(Debug, Deserialize)]
pub struct EmbedPath {
    /// Widget id.
    pub widget_id: String,
}

/// A widget's data for an embed.
///
/// URL parameters may override only the columns the widget lists in `filters`
/// (`?symbol=AAPL`, `?event_time.gte=...`); any other filter parameter is a 400.
#[utoipa::path(get, path = "/api/v1/embed/{widget_id}/data", tag = "embeds",
    params(
        ("widget_id" = String, Path, description = "Widget id"),
        ("token" = Option<String>, Query, description = "Embed token (instead of X-API-Key)"),
        ("offset" = Option<u64>, Query, description = "Rows to skip"),
        ("limit" = Option<u64>, Query, description = "Rows wanted (at most 1000)"),
    ),
    responses(
        (status = 200, description = "Rows, or the widget's error state", body = WidgetData),
        (status = 400, description = "A filter on a column the widget does not declare", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key or embed token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The embed token is for another widget", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such widget in the key's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The key's rate limit is used up; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []), ("embed_token" = [])))]
pub async fn data(
    State(state): State<AppState>,
    caller: EmbedCaller,
    ApiPath(path): ApiPath<EmbedPath>,
    ApiQuery(params): ApiQuery<BTreeMap<String, String>>,
) -> Result<Json<WidgetData>, ApiError> {
    rate_limit(&state, &caller.key_id).await?;
    if caller
        .widget
        .as_ref()
        .is_some_and(|allowed| *allowed != path.widget_id)
    {
        return Err(ApiError::Forbidden(
            "this embed token is for another widget".into(),
        ));
    }
    let widget = state
        .catalog
        .get_widget(&caller.principal.tenant_id, &path.widget_id)
        .await?;
    let data = widget_data(
        &state,
        &caller.principal,
        &widget,
        &params,
        FilterScope::Embed,
    )
    .await?;
    Ok(Json(data))
}
