//! Turning credentials into an [`Identity`]: who is acting, in which tenant, with which role and
//! which symbol entitlements. HTTP and pgwire authenticate through these functions only.

use serde::Serialize;

use crate::password::{burn_verification_time, verify_argon2};
use crate::{ApiKey, CatalogError, CatalogStore, Role, ScramVerifier, User};

/// An authenticated principal: a user or an API key, resolved to its tenant and permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Tenant the principal belongs to.
    pub tenant_id: String,
    /// That tenant's slug.
    pub tenant_slug: String,
    /// Set when the principal is a user.
    pub user_id: Option<String>,
    /// Set when the principal is an API key.
    pub api_key_id: Option<String>,
    /// The user's email or the key's name, for display and logs.
    pub email_or_key_name: String,
    /// What the principal may do.
    pub role: Role,
    /// Symbols the tenant may see, sorted.
    pub entitlements: Vec<String>,
}

impl Identity {
    /// The id recorded as `actor` in the audit log and `created_by` fields.
    pub fn actor_id(&self) -> &str {
        self.user_id
            .as_deref()
            .or(self.api_key_id.as_deref())
            .unwrap_or_default()
    }
}

async fn build(
    store: &dyn CatalogStore,
    tenant_id: &str,
    user_id: Option<String>,
    api_key_id: Option<String>,
    display: String,
    role: Role,
) -> Result<Identity, CatalogError> {
    let tenant = store.get_tenant(tenant_id).await?;
    let entitlements = store.list_entitlements(tenant_id).await?;
    Ok(Identity {
        tenant_id: tenant.id,
        tenant_slug: tenant.slug,
        user_id,
        api_key_id,
        email_or_key_name: display,
        role,
        entitlements,
    })
}

async fn user_identity(store: &dyn CatalogStore, user: User) -> Result<Identity, CatalogError> {
    build(
        store,
        &user.tenant_id,
        Some(user.id),
        None,
        user.email,
        user.role,
    )
    .await
}

async fn key_identity(store: &dyn CatalogStore, key: ApiKey) -> Result<Identity, CatalogError> {
    build(
        store,
        &key.tenant_id,
        None,
        Some(key.id),
        key.name,
        key.role,
    )
    .await
}

/// Checks an email and password (HTTP login). Unknown email and wrong password both give
/// [`CatalogError::InvalidCredentials`] after the same amount of hashing work.
pub async fn authenticate_password(
    store: &dyn CatalogStore,
    email: &str,
    password: &str,
) -> Result<Identity, CatalogError> {
    let credentials = store.user_credentials_by_email(email).await?;
    let password = password.to_string();
    let (credentials, matched) = tokio::task::spawn_blocking(move || match credentials {
        Some(c) => {
            let ok = verify_argon2(&password, &c.password_hash);
            (Some(c), ok)
        }
        None => {
            burn_verification_time(&password);
            (None, false)
        }
    })
    .await
    .map_err(|e| CatalogError::Storage(format!("password check failed: {e}")))?;
    match credentials {
        Some(c) if matched => user_identity(store, c.user).await,
        _ => Err(CatalogError::InvalidCredentials),
    }
}

/// Resolves a pgwire login name (a user's email, or an API key's public id `key_...`) to the
/// identity it would act as and the SCRAM verifier its password must match. `Ok(None)` when no
/// active user or key has that name.
pub async fn identity_for_login(
    store: &dyn CatalogStore,
    login_name: &str,
) -> Result<Option<(Identity, ScramVerifier)>, CatalogError> {
    if crate::api_key::looks_like_public_id(login_name) {
        return match store.active_api_key_by_public_id(login_name).await? {
            Some(c) => Ok(Some((key_identity(store, c.key).await?, c.scram))),
            None => Ok(None),
        };
    }
    match store.user_credentials_by_email(login_name).await? {
        Some(c) => Ok(Some((user_identity(store, c.user).await?, c.scram))),
        None => Ok(None),
    }
}

/// Resolves an API key secret (`sk_live_...`, e.g. from an `Authorization: Bearer` header) to
/// its identity. `Ok(None)` for unknown or revoked keys.
pub async fn identity_for_api_key_secret(
    store: &dyn CatalogStore,
    secret: &str,
) -> Result<Option<Identity>, CatalogError> {
    match store.active_api_key_by_secret(secret).await? {
        Some(key) => Ok(Some(key_identity(store, key).await?)),
        None => Ok(None),
    }
}

/// Rebuilds a user's identity from ids (e.g. from an HTTP session), with the role and
/// entitlements as they are now.
pub async fn identity_for_user(
    store: &dyn CatalogStore,
    tenant_id: &str,
    user_id: &str,
) -> Result<Identity, CatalogError> {
    let user = store.get_user(tenant_id, user_id).await?;
    user_identity(store, user).await
}
