//! The API-key door: `X-API-Key: sk_live_...` for embeds and other machine callers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{AuthMethod, Principal, API_KEY_HEADER};
use crate::problem::ApiError;
use crate::state::AppState;

/// A principal authenticated by an active API key; embed routes take this extractor.
#[derive(Debug, Clone)]
pub struct ApiKeyPrincipal(pub Principal);

impl FromRequestParts<AppState> for ApiKeyPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or_else(|| ApiError::Unauthenticated("send the key in `X-API-Key`".into()))?;
        if !flowforge_catalog::api_key::looks_like_secret(secret) {
            return Err(ApiError::Unauthenticated(
                "`X-API-Key` is not a FlowForge key (sk_live_...)".into(),
            ));
        }
        let identity =
            flowforge_catalog::identity_for_api_key_secret(state.catalog.as_ref(), secret)
                .await?
                .ok_or_else(|| ApiError::Unauthenticated("unknown or revoked API key".into()))?;
        Ok(ApiKeyPrincipal(Principal::from_identity(
            identity,
            AuthMethod::ApiKey,
        )))
    }
}
