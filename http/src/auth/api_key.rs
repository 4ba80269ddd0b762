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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use axum::{Json, Router};
    use flowforge_catalog::{CatalogStore, NewApiKey, Role, SqliteCatalog};
    use tower::ServiceExt;

    use super::*;
    use crate::auth::{AuthSettings, Authenticator};
    use crate::health::ServerInfo;
    use crate::metrics::Metrics;
    use crate::queries::{QueryService, QuerySettings};

    async fn state() -> AppState {
        let catalog: Arc<dyn CatalogStore> = Arc::new(SqliteCatalog::open_in_memory().unwrap());
        flowforge_catalog::seed_demo(catalog.as_ref())
            .await
            .unwrap();
        AppState {
            catalog,
            auth: Arc::new(
                Authenticator::new(AuthSettings {
                    session_secret: vec![7; 32],
                    session_ttl: Duration::from_secs(60),
                    oidc: None,
                    dev_auth_user: None,
                })
                .unwrap(),
            ),
            metrics: Arc::new(Metrics::new()),
            info: Arc::new(ServerInfo {
                pgwire: "127.0.0.1:5433".parse().unwrap(),
                psql: String::new(),
                version: "test".into(),
            }),
            checks: Arc::new(Vec::new()),
            queries: Arc::new(QueryService::new(
                QuerySettings {
                    data: Arc::new(NoTables),
                    result_cache: None,
                    redis: None,
                    embed_rate_limit: 10,
                    embed_rate_window: Duration::from_secs(60),
                },
                &[7; 32],
            )),
        }
    }

    /// Serving data without tables: these tests never query.
    struct NoTables;

    impl flowforge_engine::tables::ServingData for NoTables {
        fn provider(&self, _table: &str) -> Option<Arc<dyn datafusion::catalog::TableProvider>> {
            None
        }

        fn name(&self) -> &str {
            "none"
        }
    }

    async fn embed(ApiKeyPrincipal(p): ApiKeyPrincipal) -> Json<serde_json::Value> {
        Json(serde_json::json!({"tenant": p.tenant_slug, "role": p.role, "method": p.method}))
    }

    async fn call(app: Router, key: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut request = Request::get("/embed");
        if let Some(key) = key {
            request = request.header(API_KEY_HEADER, key);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn active_keys_authenticate_embeds_and_revoked_or_missing_ones_do_not() {
        let state = state().await;
        let tenant = state.catalog.get_tenant_by_slug("tenant-b").await.unwrap();
        let created = state
            .catalog
            .create_api_key(NewApiKey {
                tenant_id: tenant.id.clone(),
                name: "wallboard".into(),
                role: Role::Viewer,
                created_by: "test".into(),
            })
            .await
            .unwrap();
        let app = Router::new()
            .route("/embed", get(embed))
            .with_state(state.clone());

        let (status, body) = call(app.clone(), Some(&created.secret)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"tenant": "tenant-b", "role": "viewer", "method": "api_key"})
        );

        let (status, body) = call(app.clone(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "unauthenticated");
        let (status, _) = call(app.clone(), Some("sk_live_not-a-real-key")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        state
            .catalog
            .revoke_api_key(&tenant.id, &created.key.id)
            .await
            .unwrap();
        let (status, body) = call(app, Some(&created.secret)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            body["detail"].as_str().unwrap().contains("revoked"),
            "{body}"
        );
    }
}
