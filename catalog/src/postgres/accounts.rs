//! Tenants, entitlements, users and API keys in PostgreSQL.

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::Row;

use super::columns::{
    column, db_err, execute, matchable, optional_time, parsed, query, query_opt, time,
};
use crate::stored::new_id;
use crate::{
    timestamp, validate, ApiKey, ApiKeyCredentials, CatalogError, CreatedApiKey,
    GeneratedKeyMaterial, NewApiKey, NewUser, PasswordHashes, Role, ScramVerifier, Tenant, User,
    UserCredentials,
};

const TENANT_COLUMNS: &str = "id, slug, name, created_at";
const USER_COLUMNS: &str = "id, tenant_id, email, role, created_at";
const KEY_COLUMNS: &str =
    "id, tenant_id, name, public_id, prefix, role, created_by, created_at, revoked_at";

fn tenant_row(row: &Row) -> Result<Tenant, CatalogError> {
    Ok(Tenant {
        id: column(row, 0)?,
        slug: column(row, 1)?,
        name: column(row, 2)?,
        created_at: time(row, 3)?,
    })
}

fn user_row(row: &Row) -> Result<User, CatalogError> {
    Ok(User {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        email: column(row, 2)?,
        role: parsed(row, 3)?,
        created_at: time(row, 4)?,
    })
}

fn key_row(row: &Row) -> Result<ApiKey, CatalogError> {
    Ok(ApiKey {
        id: column(row, 0)?,
        tenant_id: column(row, 1)?,
        name: column(row, 2)?,
        public_id: column(row, 3)?,
        prefix: column(row, 4)?,
        role: parsed(row, 5)?,
        created_by: column(row, 6)?,
        created_at: time(row, 7)?,
        revoked_at: optional_time(row, 8)?,
    })
}

/// Fails with `NotFound` unless the tenant exists.
pub(super) async fn require_tenant(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<(), CatalogError> {
    let found = matchable(tenant_id)
        && query_opt(c, "SELECT 1 FROM tenants WHERE id = $1", &[&tenant_id])
            .await?
            .is_some();
    if found {
        Ok(())
    } else {
        Err(CatalogError::not_found("tenant", tenant_id))
    }
}

pub(super) async fn create_tenant(
    client: &mut Client,
    slug: &str,
    name: &str,
) -> Result<Tenant, CatalogError> {
    let slug = validate::tenant_slug(slug)?;
    let name = validate::display_name("tenant name", name)?;
    let tx = client.transaction().await.map_err(db_err)?;
    // A concurrent creation of the same slug that slips past this check fails on the unique
    // constraint instead, which is a conflict too.
    if query_opt(&tx, "SELECT 1 FROM tenants WHERE slug = $1", &[&slug])
        .await?
        .is_some()
    {
        return Err(CatalogError::Conflict(format!(
            "tenant slug `{slug}` is already taken"
        )));
    }
    let tenant = Tenant {
        id: new_id(),
        slug,
        name,
        created_at: timestamp::now(),
    };
    execute(
        &tx,
        "INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
        &[
            &tenant.id,
            &tenant.slug,
            &tenant.name,
            &timestamp::encode(tenant.created_at),
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(tenant)
}

pub(super) async fn get_tenant(c: &impl GenericClient, id: &str) -> Result<Tenant, CatalogError> {
    if !matchable(id) {
        return Err(CatalogError::not_found("tenant", id));
    }
    query_opt(
        c,
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1"),
        &[&id],
    )
    .await?
    .map(|row| tenant_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("tenant", id))
}

pub(super) async fn get_tenant_by_slug(
    c: &impl GenericClient,
    slug: &str,
) -> Result<Tenant, CatalogError> {
    let normalized = slug.trim().to_ascii_lowercase();
    if !matchable(&normalized) {
        return Err(CatalogError::not_found("tenant", slug));
    }
    query_opt(
        c,
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1"),
        &[&normalized],
    )
    .await?
    .map(|row| tenant_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("tenant", slug))
}

pub(super) async fn list_tenants(c: &impl GenericClient) -> Result<Vec<Tenant>, CatalogError> {
    query(
        c,
        &format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY slug COLLATE \"C\""),
        &[],
    )
    .await?
    .iter()
    .map(tenant_row)
    .collect()
}

pub(super) async fn set_entitlements(
    client: &mut Client,
    tenant_id: &str,
    symbols: &[String],
) -> Result<Vec<String>, CatalogError> {
    let mut normalized = symbols
        .iter()
        .map(|s| validate::symbol(s))
        .collect::<Result<Vec<_>, _>>()?;
    normalized.sort();
    normalized.dedup();
    if !matchable(tenant_id) {
        return Err(CatalogError::not_found("tenant", tenant_id));
    }
    let tx = client.transaction().await.map_err(db_err)?;
    // Holding the tenant row serialises concurrent replacements of the set, as SQLite's single
    // writer does. NO KEY UPDATE leaves inserts that reference the tenant unblocked.
    query_opt(
        &tx,
        "SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE",
        &[&tenant_id],
    )
    .await?
    .ok_or_else(|| CatalogError::not_found("tenant", tenant_id))?;
    execute(
        &tx,
        "DELETE FROM entitlements WHERE tenant_id = $1",
        &[&tenant_id],
    )
    .await?;
    execute(
        &tx,
        "INSERT INTO entitlements (tenant_id, symbol) SELECT $1, unnest($2::text[])",
        &[&tenant_id, &normalized],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(normalized)
}

pub(super) async fn list_entitlements(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<Vec<String>, CatalogError> {
    require_tenant(c, tenant_id).await?;
    query(
        c,
        "SELECT symbol FROM entitlements WHERE tenant_id = $1 ORDER BY symbol COLLATE \"C\"",
        &[&tenant_id],
    )
    .await?
    .iter()
    .map(|row| column(row, 0))
    .collect()
}

pub(super) async fn create_user(
    client: &mut Client,
    new: &NewUser,
    hashes: &PasswordHashes,
) -> Result<User, CatalogError> {
    let email = validate::email(&new.email)?;
    let tx = client.transaction().await.map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id).await?;
    if query_opt(&tx, "SELECT 1 FROM users WHERE email = $1", &[&email])
        .await?
        .is_some()
    {
        return Err(CatalogError::Conflict(format!(
            "a user with email `{email}` already exists"
        )));
    }
    let user = User {
        id: new_id(),
        tenant_id: new.tenant_id.clone(),
        email,
        role: new.role,
        created_at: timestamp::now(),
    };
    execute(
        &tx,
        "INSERT INTO users (id, tenant_id, email, role, password_hash, scram_verifier, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &user.id,
            &user.tenant_id,
            &user.email,
            &user.role.as_str(),
            &hashes.argon2,
            &hashes.scram.to_string(),
            &timestamp::encode(user.created_at),
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(user)
}

pub(super) async fn get_user(
    c: &impl GenericClient,
    tenant_id: &str,
    user_id: &str,
) -> Result<User, CatalogError> {
    if !(matchable(tenant_id) && matchable(user_id)) {
        return Err(CatalogError::not_found("user", user_id));
    }
    query_opt(
        c,
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"),
        &[&tenant_id, &user_id],
    )
    .await?
    .map(|row| user_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("user", user_id))
}

pub(super) async fn list_users(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<Vec<User>, CatalogError> {
    if !matchable(tenant_id) {
        return Ok(Vec::new());
    }
    query(
        c,
        &format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY email COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?
    .iter()
    .map(user_row)
    .collect()
}

pub(super) async fn user_credentials_by_email(
    c: &impl GenericClient,
    email: &str,
) -> Result<Option<UserCredentials>, CatalogError> {
    let email = email.trim().to_lowercase();
    if !matchable(&email) {
        return Ok(None);
    }
    let Some(row) = query_opt(
        c,
        &format!(
            "SELECT {USER_COLUMNS}, password_hash, scram_verifier FROM users WHERE email = $1"
        ),
        &[&email],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(UserCredentials {
        user: user_row(&row)?,
        password_hash: column(&row, 5)?,
        scram: stored_verifier(column(&row, 6)?)?,
    }))
}

fn stored_verifier(text: &str) -> Result<ScramVerifier, CatalogError> {
    ScramVerifier::parse(text)
        .map_err(|e| CatalogError::Storage(format!("stored SCRAM verifier is unreadable: {e}")))
}

pub(super) async fn set_user_password(
    c: &impl GenericClient,
    tenant_id: &str,
    user_id: &str,
    hashes: &PasswordHashes,
) -> Result<(), CatalogError> {
    let changed = matchable(tenant_id)
        && matchable(user_id)
        && execute(
            c,
            "UPDATE users SET password_hash = $1, scram_verifier = $2
             WHERE tenant_id = $3 AND id = $4",
            &[
                &hashes.argon2,
                &hashes.scram.to_string(),
                &tenant_id,
                &user_id,
            ],
        )
        .await?
            > 0;
    if changed {
        Ok(())
    } else {
        Err(CatalogError::not_found("user", user_id))
    }
}

pub(super) async fn set_user_role(
    c: &impl GenericClient,
    tenant_id: &str,
    user_id: &str,
    role: Role,
) -> Result<User, CatalogError> {
    let changed = matchable(tenant_id)
        && matchable(user_id)
        && execute(
            c,
            "UPDATE users SET role = $1 WHERE tenant_id = $2 AND id = $3",
            &[&role.as_str(), &tenant_id, &user_id],
        )
        .await?
            > 0;
    if !changed {
        return Err(CatalogError::not_found("user", user_id));
    }
    get_user(c, tenant_id, user_id).await
}

pub(super) async fn delete_user(
    c: &impl GenericClient,
    tenant_id: &str,
    user_id: &str,
) -> Result<(), CatalogError> {
    let changed = matchable(tenant_id)
        && matchable(user_id)
        && execute(
            c,
            "DELETE FROM users WHERE tenant_id = $1 AND id = $2",
            &[&tenant_id, &user_id],
        )
        .await?
            > 0;
    if changed {
        Ok(())
    } else {
        Err(CatalogError::not_found("user", user_id))
    }
}

pub(super) async fn create_api_key(
    client: &mut Client,
    new: &NewApiKey,
    material: GeneratedKeyMaterial,
) -> Result<CreatedApiKey, CatalogError> {
    let name = validate::display_name("API key name", &new.name)?;
    validate::storable("API key creator", &new.created_by)?;
    let tx = client.transaction().await.map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id).await?;
    let key = ApiKey {
        id: new_id(),
        tenant_id: new.tenant_id.clone(),
        name,
        public_id: material.public_id,
        prefix: material.prefix,
        role: new.role,
        created_by: new.created_by.clone(),
        created_at: timestamp::now(),
        revoked_at: None,
    };
    execute(
        &tx,
        "INSERT INTO api_keys (id, tenant_id, name, public_id, prefix, secret_sha256,
                               scram_verifier, role, created_by, created_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        &[
            &key.id,
            &key.tenant_id,
            &key.name,
            &key.public_id,
            &key.prefix,
            &material.secret_sha256,
            &material.scram.to_string(),
            &key.role.as_str(),
            &key.created_by,
            &timestamp::encode(key.created_at),
        ],
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    Ok(CreatedApiKey {
        key,
        secret: material.secret,
    })
}

pub(super) async fn get_api_key(
    c: &impl GenericClient,
    tenant_id: &str,
    key_id: &str,
) -> Result<ApiKey, CatalogError> {
    if !(matchable(tenant_id) && matchable(key_id)) {
        return Err(CatalogError::not_found("API key", key_id));
    }
    query_opt(
        c,
        &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2"),
        &[&tenant_id, &key_id],
    )
    .await?
    .map(|row| key_row(&row))
    .transpose()?
    .ok_or_else(|| CatalogError::not_found("API key", key_id))
}

pub(super) async fn list_api_keys(
    c: &impl GenericClient,
    tenant_id: &str,
) -> Result<Vec<ApiKey>, CatalogError> {
    if !matchable(tenant_id) {
        return Ok(Vec::new());
    }
    query(
        c,
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1
             ORDER BY created_at COLLATE \"C\" DESC, id COLLATE \"C\""
        ),
        &[&tenant_id],
    )
    .await?
    .iter()
    .map(key_row)
    .collect()
}

pub(super) async fn revoke_api_key(
    c: &impl GenericClient,
    tenant_id: &str,
    key_id: &str,
) -> Result<ApiKey, CatalogError> {
    if matchable(tenant_id) && matchable(key_id) {
        // Only an active key changes, so revoking twice keeps the first revocation time.
        execute(
            c,
            "UPDATE api_keys SET revoked_at = $1
             WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
            &[&timestamp::encode(timestamp::now()), &tenant_id, &key_id],
        )
        .await?;
    }
    get_api_key(c, tenant_id, key_id).await
}

pub(super) async fn active_api_key_by_digest(
    c: &impl GenericClient,
    secret_sha256: &str,
) -> Result<Option<ApiKey>, CatalogError> {
    if !matchable(secret_sha256) {
        return Ok(None);
    }
    query_opt(
        c,
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_sha256 = $1 AND revoked_at IS NULL"
        ),
        &[&secret_sha256],
    )
    .await?
    .map(|row| key_row(&row))
    .transpose()
}

pub(super) async fn active_api_key_by_public_id(
    c: &impl GenericClient,
    public_id: &str,
) -> Result<Option<ApiKeyCredentials>, CatalogError> {
    if !matchable(public_id) {
        return Ok(None);
    }
    let Some(row) = query_opt(
        c,
        &format!(
            "SELECT {KEY_COLUMNS}, scram_verifier FROM api_keys
             WHERE public_id = $1 AND revoked_at IS NULL"
        ),
        &[&public_id],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(ApiKeyCredentials {
        key: key_row(&row)?,
        scram: stored_verifier(column(&row, 9)?)?,
    }))
}
