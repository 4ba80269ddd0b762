//! Tenants, entitlements, users and API keys in SQLite.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::columns::{db_err, new_id, optional_time, parsed, time};
use crate::{
    timestamp, validate, ApiKey, ApiKeyCredentials, CatalogError, CreatedApiKey,
    GeneratedKeyMaterial, NewApiKey, NewUser, PasswordHashes, Role, ScramVerifier, Tenant, User,
    UserCredentials,
};

const TENANT_COLUMNS: &str = "id, slug, name, created_at";
const USER_COLUMNS: &str = "id, tenant_id, email, role, created_at";
const KEY_COLUMNS: &str =
    "id, tenant_id, name, public_id, prefix, role, created_by, created_at, revoked_at";

fn tenant_row(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: row.get(0)?,
        slug: row.get(1)?,
        name: row.get(2)?,
        created_at: time(row, 3)?,
    })
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        email: row.get(2)?,
        role: parsed(row, 3)?,
        created_at: time(row, 4)?,
    })
}

fn key_row(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: row.get(0)?,
        tenant_id: row.get(1)?,
        name: row.get(2)?,
        public_id: row.get(3)?,
        prefix: row.get(4)?,
        role: parsed(row, 5)?,
        created_by: row.get(6)?,
        created_at: time(row, 7)?,
        revoked_at: optional_time(row, 8)?,
    })
}

/// Fails with `NotFound` unless the tenant exists.
pub(super) fn require_tenant(conn: &Connection, tenant_id: &str) -> Result<(), CatalogError> {
    let found = conn
        .query_row("SELECT 1 FROM tenants WHERE id = ?1", [tenant_id], |_| {
            Ok(())
        })
        .optional()
        .map_err(db_err)?;
    found.ok_or_else(|| CatalogError::not_found("tenant", tenant_id))
}

pub(super) fn create_tenant(
    conn: &mut Connection,
    slug: &str,
    name: &str,
) -> Result<Tenant, CatalogError> {
    let slug = validate::tenant_slug(slug)?;
    let name = validate::display_name("tenant name", name)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let taken = tx
        .query_row("SELECT 1 FROM tenants WHERE slug = ?1", [&slug], |_| Ok(()))
        .optional()
        .map_err(db_err)?;
    if taken.is_some() {
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
    tx.execute(
        "INSERT INTO tenants (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            tenant.id,
            tenant.slug,
            tenant.name,
            timestamp::encode(tenant.created_at)
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(tenant)
}

pub(super) fn get_tenant(conn: &Connection, id: &str) -> Result<Tenant, CatalogError> {
    conn.query_row(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"),
        [id],
        tenant_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("tenant", id))
}

pub(super) fn get_tenant_by_slug(conn: &Connection, slug: &str) -> Result<Tenant, CatalogError> {
    let normalized = slug.trim().to_ascii_lowercase();
    conn.query_row(
        &format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = ?1"),
        [&normalized],
        tenant_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("tenant", slug))
}

pub(super) fn list_tenants(conn: &Connection) -> Result<Vec<Tenant>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {TENANT_COLUMNS} FROM tenants ORDER BY slug"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([], tenant_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn set_entitlements(
    conn: &mut Connection,
    tenant_id: &str,
    symbols: &[String],
) -> Result<Vec<String>, CatalogError> {
    let mut normalized = symbols
        .iter()
        .map(|s| validate::symbol(s))
        .collect::<Result<Vec<_>, _>>()?;
    normalized.sort();
    normalized.dedup();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    require_tenant(&tx, tenant_id)?;
    tx.execute("DELETE FROM entitlements WHERE tenant_id = ?1", [tenant_id])
        .map_err(db_err)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO entitlements (tenant_id, symbol) VALUES (?1, ?2)")
            .map_err(db_err)?;
        for symbol in &normalized {
            insert.execute([tenant_id, symbol]).map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(normalized)
}

pub(super) fn list_entitlements(
    conn: &Connection,
    tenant_id: &str,
) -> Result<Vec<String>, CatalogError> {
    require_tenant(conn, tenant_id)?;
    let mut stmt = conn
        .prepare("SELECT symbol FROM entitlements WHERE tenant_id = ?1 ORDER BY symbol")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([tenant_id], |row| row.get::<_, String>(0))
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn create_user(
    conn: &mut Connection,
    new: &NewUser,
    hashes: &PasswordHashes,
) -> Result<User, CatalogError> {
    let email = validate::email(&new.email)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id)?;
    let taken = tx
        .query_row("SELECT 1 FROM users WHERE email = ?1", [&email], |_| Ok(()))
        .optional()
        .map_err(db_err)?;
    if taken.is_some() {
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
    tx.execute(
        "INSERT INTO users (id, tenant_id, email, role, password_hash, scram_verifier, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id,
            user.tenant_id,
            user.email,
            user.role.as_str(),
            hashes.argon2,
            hashes.scram.to_string(),
            timestamp::encode(user.created_at)
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(user)
}

pub(super) fn get_user(
    conn: &Connection,
    tenant_id: &str,
    user_id: &str,
) -> Result<User, CatalogError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 AND id = ?2"),
        [tenant_id, user_id],
        user_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("user", user_id))
}

pub(super) fn list_users(conn: &Connection, tenant_id: &str) -> Result<Vec<User>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ?1 ORDER BY email"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([tenant_id], user_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn user_credentials_by_email(
    conn: &Connection,
    email: &str,
) -> Result<Option<UserCredentials>, CatalogError> {
    let email = email.trim().to_lowercase();
    let found = conn
        .query_row(
            &format!(
                "SELECT {USER_COLUMNS}, password_hash, scram_verifier FROM users WHERE email = ?1"
            ),
            [&email],
            |row| {
                Ok((
                    user_row(row)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, String>(6)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    found
        .map(|(user, password_hash, scram)| {
            Ok(UserCredentials {
                user,
                password_hash,
                scram: stored_verifier(&scram)?,
            })
        })
        .transpose()
}

fn stored_verifier(text: &str) -> Result<ScramVerifier, CatalogError> {
    ScramVerifier::parse(text)
        .map_err(|e| CatalogError::Storage(format!("stored SCRAM verifier is unreadable: {e}")))
}

pub(super) fn set_user_password(
    conn: &Connection,
    tenant_id: &str,
    user_id: &str,
    hashes: &PasswordHashes,
) -> Result<(), CatalogError> {
    let changed = conn
        .execute(
            "UPDATE users SET password_hash = ?1, scram_verifier = ?2
             WHERE tenant_id = ?3 AND id = ?4",
            params![hashes.argon2, hashes.scram.to_string(), tenant_id, user_id],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(CatalogError::not_found("user", user_id));
    }
    Ok(())
}

pub(super) fn set_user_role(
    conn: &Connection,
    tenant_id: &str,
    user_id: &str,
    role: Role,
) -> Result<User, CatalogError> {
    let changed = conn
        .execute(
            "UPDATE users SET role = ?1 WHERE tenant_id = ?2 AND id = ?3",
            params![role.as_str(), tenant_id, user_id],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(CatalogError::not_found("user", user_id));
    }
    get_user(conn, tenant_id, user_id)
}

pub(super) fn delete_user(
    conn: &Connection,
    tenant_id: &str,
    user_id: &str,
) -> Result<(), CatalogError> {
    let changed = conn
        .execute(
            "DELETE FROM users WHERE tenant_id = ?1 AND id = ?2",
            [tenant_id, user_id],
        )
        .map_err(db_err)?;
    if changed == 0 {
        return Err(CatalogError::not_found("user", user_id));
    }
    Ok(())
}

pub(super) fn create_api_key(
    conn: &mut Connection,
    new: &NewApiKey,
    material: GeneratedKeyMaterial,
) -> Result<CreatedApiKey, CatalogError> {
    let name = validate::display_name("API key name", &new.name)?;
    validate::storable("API key creator", &new.created_by)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    require_tenant(&tx, &new.tenant_id)?;
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
    tx.execute(
        "INSERT INTO api_keys (id, tenant_id, name, public_id, prefix, secret_sha256,
                               scram_verifier, role, created_by, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)",
        params![
            key.id,
            key.tenant_id,
            key.name,
            key.public_id,
            key.prefix,
            material.secret_sha256,
            material.scram.to_string(),
            key.role.as_str(),
            key.created_by,
            timestamp::encode(key.created_at)
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(CreatedApiKey {
        key,
        secret: material.secret,
    })
}

pub(super) fn get_api_key(
    conn: &Connection,
    tenant_id: &str,
    key_id: &str,
) -> Result<ApiKey, CatalogError> {
    conn.query_row(
        &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 AND id = ?2"),
        [tenant_id, key_id],
        key_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| CatalogError::not_found("API key", key_id))
}

pub(super) fn list_api_keys(
    conn: &Connection,
    tenant_id: &str,
) -> Result<Vec<ApiKey>, CatalogError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1
             ORDER BY created_at DESC, id"
        ))
        .map_err(db_err)?;
    let rows = stmt.query_map([tenant_id], key_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn revoke_api_key(
    conn: &Connection,
    tenant_id: &str,
    key_id: &str,
) -> Result<ApiKey, CatalogError> {
    conn.execute(
        "UPDATE api_keys SET revoked_at = ?1
         WHERE tenant_id = ?2 AND id = ?3 AND revoked_at IS NULL",
        params![timestamp::encode(timestamp::now()), tenant_id, key_id],
    )
    .map_err(db_err)?;
    get_api_key(conn, tenant_id, key_id)
}

pub(super) fn active_api_key_by_digest(
    conn: &Connection,
    secret_sha256: &str,
) -> Result<Option<ApiKey>, CatalogError> {
    conn.query_row(
        &format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_sha256 = ?1 AND revoked_at IS NULL"
        ),
        [secret_sha256],
        key_row,
    )
    .optional()
    .map_err(db_err)
}

pub(super) fn active_api_key_by_public_id(
    conn: &Connection,
    public_id: &str,
) -> Result<Option<ApiKeyCredentials>, CatalogError> {
    let found = conn
        .query_row(
            &format!(
                "SELECT {KEY_COLUMNS}, scram_verifier FROM api_keys
                 WHERE public_id = ?1 AND revoked_at IS NULL"
            ),
            [public_id],
            |row| Ok((key_row(row)?, row.get::<_, String>(9)?)),
        )
        .optional()
        .map_err(db_err)?;
    found
        .map(|(key, scram)| {
            Ok(ApiKeyCredentials {
                key,
                scram: stored_verifier(&scram)?,
            })
        })
        .transpose()
}
