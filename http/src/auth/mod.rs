//! Who is calling: the [`Principal`] every API handler receives, and how it is established.
//!
//! - `Authorization: Bearer <jwt>`: a FlowForge session token (HS256, from
//!   `POST /api/v1/auth/login`) or, when configured, an OIDC provider's token (verified
//!   against its JWKS). The tenant always comes from the token, never from the request.
//! - `X-API-Key: sk_live_...`: an API key; accepted only by routes that take an
//!   [`ApiKeyPrincipal`] (embeds), since keys are meant for machines.
//! - Development only: with `--dev-auth-user` set, a request without credentials acts as
//!   that catalog user.
//!
//! Role gating: viewers read; analysts and admins also write ([`Writer`]); admin pages take an
//! [`Admin`].

mod api_key;
pub mod oidc;
pub mod session;

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use flowforge_catalog::{CatalogError, CatalogStore, Identity, Role};
use serde::Serialize;
use serde_json::Value;

pub use api_key::ApiKeyPrincipal;
use oidc::{OidcError, OidcSettings, OidcVerifier};
use session::{SessionError, SessionTokens};

use crate::problem::ApiError;
use crate::state::AppState;

/// Header carrying an API key secret.
pub const API_KEY_HEADER: &str = "x-api-key";

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A FlowForge session token from the login endpoint.
    SessionToken,
    /// A token of the configured OpenID Connect provider.
    Oidc,
    /// An API key (`X-API-Key`).
    ApiKey,
    /// No credentials, acting as the configured development user.
    DevAuth,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's tenant; every lookup is scoped to it.
    pub tenant_id: String,
    /// That tenant's slug.
    pub tenant_slug: String,
    /// Catalog user id, OIDC subject (for provider users unknown to the catalog) or API key id;
    /// recorded as the actor in the audit log.
    pub user_id: String,
    /// Email (users) or key name (API keys), for display.
    pub email: String,
    /// What the caller may do.
    pub role: Role,
    /// How the caller authenticated.
    pub method: AuthMethod,
    /// Symbols the tenant may see.
    pub entitlements: Vec<String>,
}

impl Principal {
    /// A principal for a catalog identity.
    pub fn from_identity(identity: Identity, method: AuthMethod) -> Self {
        Principal {
            user_id: identity.actor_id().to_string(),
            tenant_id: identity.tenant_id,
            tenant_slug: identity.tenant_slug,
            email: identity.email_or_key_name,
            role: identity.role,
            method,
            entitlements: identity.entitlements,
        }
    }

    /// Refuses viewers: creating, changing and deleting need analyst or admin.
    pub fn require_writer(&self) -> Result<(), ApiError> {
        if self.role.can_write_workflows() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "role {} is read-only; this needs analyst or admin",
                self.role
            )))
        }
    }

    /// Refuses everyone but admins.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "role {} cannot do this; it needs admin",
                self.role
            )))
        }
    }
}

/// Authentication configuration of the HTTP server.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 secret for session tokens (at least 32 bytes).
    pub session_secret: Vec<u8>,
    /// How long session tokens live.
    pub session_ttl: Duration,
    /// OIDC provider to accept tokens from, if any.
    pub oidc: Option<OidcSettings>,
    /// Email of the catalog user credential-less requests act as (development only).
    pub dev_auth_user: Option<String>,
}

/// Why the authentication settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The session secret is unusable.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The OIDC verifier could not be built.
    #[error(transparent)]
    Oidc(#[from] OidcError),
}

/// Turns request credentials into a [`Principal`].
#[derive(Debug)]
pub struct Authenticator {
    sessions: SessionTokens,
    oidc: Option<OidcVerifier>,
    dev_user: Option<String>,
}

impl Authenticator {
    /// An authenticator for these settings.
    pub fn new(settings: AuthSettings) -> Result<Self, AuthSetupError> {
        Ok(Authenticator {
            sessions: SessionTokens::new(&settings.session_secret, settings.session_ttl)?,
            oidc: settings.oidc.map(OidcVerifier::new).transpose()?,
            dev_user: settings.dev_auth_user,
        })
    }

    /// The session token issuer.
    pub fn sessions(&self) -> &SessionTokens {
        &self.sessions
    }

    /// The principal of a request to a `/api/v1` route.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        catalog: &dyn CatalogStore,
    ) -> Result<Principal, ApiError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let text = value
                .to_str()
                .map_err(|_| ApiError::Unauthenticated("malformed Authorization header".into()))?;
            let token = match text.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
                _ => {
                    return Err(ApiError::Unauthenticated(
                        "use `Authorization: Bearer <token>`".into(),
                    ))
                }
            };
            return self.bearer(token, catalog).await;
        }
        if headers.contains_key(API_KEY_HEADER) {
            return Err(ApiError::Unauthenticated(
                "API keys authenticate embeds and SQL clients; sign in for a session token".into(),
            ));
        }
        match &self.dev_user {
            Some(email) => dev_principal(email, catalog).await,
            None => Err(ApiError::Unauthenticated(
                "no credentials; send `Authorization: Bearer <token>`".into(),
            )),
        }
    }

    async fn bearer(&self, token: &str, catalog: &dyn CatalogStore) -> Result<Principal, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::Unauthenticated("the bearer token is not a JWT".into()))?;
        if header.alg == jsonwebtoken::Algorithm::HS256 {
            let claims = self
                .sessions
                .verify(token)
                .map_err(|e| ApiError::Unauthenticated(e.to_string()))?;
            let identity = flowforge_catalog::identity_for_user(catalog, &claims.tid, &claims.sub)
                .await
                .map_err(|e| match e {
                    CatalogError::NotFound { .. } => {
                        ApiError::Unauthenticated("the token's user no longer exists".into())
                    }
                    other => other.into(),
                })?;
            return Ok(Principal::from_identity(identity, AuthMethod::SessionToken));
        }
        let Some(oidc) = &self.oidc else {
            return Err(ApiError::Unauthenticated(
                "the token was not issued by FlowForge and no OIDC provider is configured".into(),
            ));
        };
        let claims = oidc.verify(token).await.map_err(|e| match e {
            OidcError::JwksUnavailable(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Unauthenticated(other.to_string()),
        })?;
        oidc_principal(&claims, &oidc.settings().tenant_claim, catalog).await
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state
            .auth
            .authenticate(&parts.headers, state.catalog.as_ref())
            .await
    }
}

/// A principal allowed to write (analyst or admin).
#[derive(Debug, Clone)]
pub struct Writer(pub Principal);

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_writer()?;
        Ok(Writer(principal))
    }
}

/// A principal with the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require_admin()?;
        Ok(Admin(principal))
    }
}

async fn dev_principal(email: &str, catalog: &dyn CatalogStore) -> Result<Principal, ApiError> {
    let credentials = catalog
        .user_credentials_by_email(email)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthenticated(format!("the dev-auth user {email} does not exist"))
        })?;
    let user = credentials.user;
    let identity = flowforge_catalog::identity_for_user(catalog, &user.tenant_id, &user.id).await?;
    Ok(Principal::from_identity(identity, AuthMethod::DevAuth))
}

/// The strongest FlowForge role named in `realm_access.roles` or `roles`.
pub fn role_from_claims(claims: &Value) -> Option<Role> {
    let listed = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut names = listed(claims.pointer("/realm_access/roles"));
    names.extend(listed(claims.get("roles")));
    [Role::Admin, Role::Analyst, Role::Viewer]
        .into_iter()
        .find(|role| names.iter().any(|n| n == role.as_str()))
}

async fn oidc_principal(
    claims: &Value,
    tenant_claim: &str,
    catalog: &dyn CatalogStore,
) -> Result<Principal, ApiError> {
    let slug = claims
        .get(tenant_claim)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::Forbidden(format!(
                "the token has no `{tenant_claim}` claim naming a tenant"
            ))
        })?;
    let tenant = catalog
        .get_tenant_by_slug(slug)
        .await
        .map_err(|e| match e {
            CatalogError::NotFound { .. } => {
                ApiError::Forbidden(format!("tenant `{slug}` is not known to FlowForge"))
            }
            other => other.into(),
        })?;
    let role = role_from_claims(claims).ok_or_else(|| {
        ApiError::Forbidden("the token grants none of the roles admin, analyst, viewer".into())
    })?;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let email = claims
        .get("email")
        .or_else(|| claims.get("preferred_username"))
        .and_then(Value::as_str)
        .unwrap_or(subject)
        .to_string();
    let known_user = catalog
        .user_credentials_by_email(&email)
        .await?
        .map(|c| c.user)
        .filter(|u| u.tenant_id == tenant.id);
    let user_id = match known_user {
        Some(user) => user.id,
        None if !subject.is_empty() => subject.to_string(),
        None => email.clone(),
    };
    let entitlements = catalog.list_entitlements(&tenant.id).await?;
    Ok(Principal {
        tenant_id: tenant.id,
        tenant_slug: tenant.slug,
        user_id,
        email,
        role,
        method: AuthMethod::Oidc,
        entitlements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_known_role_wins_from_either_claim() {
        let keycloak =
            serde_json::json!({"realm_access": {"roles": ["offline_access", "Viewer", "analyst"]}});
        assert_eq!(role_from_claims(&keycloak), Some(Role::Analyst));
        let flat = serde_json::json!({"roles": ["admin"], "realm_access": {"roles": ["viewer"]}});
        assert_eq!(role_from_claims(&flat), Some(Role::Admin));
        assert_eq!(
            role_from_claims(&serde_json::json!({"roles": ["uma"]})),
            None
        );
    }
}
