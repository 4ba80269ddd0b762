//! API keys: long random secrets for machines (embeds, BI tools) that authenticate without a
//! user's password. The secret is shown once at creation and stored only as a SHA-256 digest
//! and a SCRAM verifier.

use chrono::{DateTime, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{CatalogError, Role, ScramVerifier};

/// Every secret starts with this, so leaked keys are easy to recognise and grep for.
pub const SECRET_PREFIX: &str = "sk_live_";
/// Every public key id starts with this; it is also the pgwire login name for the key.
pub const PUBLIC_ID_PREFIX: &str = "key_";
const SECRET_RANDOM_LEN: usize = 32;
const PUBLIC_ID_RANDOM_LEN: usize = 12;
/// How many random characters of the secret are kept for display (`sk_live_AbCd…`).
const DISPLAY_RANDOM_LEN: usize = 4;

/// A stored API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// UUID.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Human label, e.g. `grafana-prod`.
    pub name: String,
    /// Public identifier `key_<12 base62>`; the pgwire login name for this key.
    pub public_id: String,
    /// The first characters of the secret (`sk_live_AbCd`), so people can tell keys apart.
    pub prefix: String,
    /// Role the key acts with.
    pub role: Role,
    /// User (or key) id that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key never authenticates.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key may still authenticate.
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// Input for creating an API key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// Owning tenant (must exist).
    pub tenant_id: String,
    /// Human label.
    pub name: String,
    /// Role the key acts with; use [`Role::Viewer`] unless the key must do more.
    pub role: Role,
    /// Who is creating it (user or key id), for the record.
    pub created_by: String,
}

/// The result of creating a key: the only time the secret is available.
#[derive(Clone)]
pub struct CreatedApiKey {
    /// The stored key.
    pub key: ApiKey,
    /// `sk_live_<32 base62>`; show it to the user now, it cannot be recovered later.
    pub secret: String,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A key together with the SCRAM verifier of its secret, for pgwire authentication.
#[derive(Debug, Clone)]
pub struct ApiKeyCredentials {
    /// The key.
    pub key: ApiKey,
    /// SCRAM-SHA-256 verifier of the secret.
    pub scram: ScramVerifier,
}

/// Freshly generated key material, computed once and handed to a store to persist.
#[derive(Clone)]
pub struct GeneratedKeyMaterial {
    /// The secret to show once.
    pub secret: String,
    /// Public id `key_...`.
    pub public_id: String,
    /// Display prefix of the secret.
    pub prefix: String,
    /// Hex SHA-256 of the secret, the lookup key for secret authentication.
    pub secret_sha256: String,
    /// SCRAM verifier of the secret.
    pub scram: ScramVerifier,
}

impl GeneratedKeyMaterial {
    /// Draws a new secret and public id from the thread-local CSPRNG and derives the stored
    /// forms.
    pub fn generate() -> Result<Self, CatalogError> {
        let mut rng = rand::rng();
        let random = Alphanumeric.sample_string(&mut rng, SECRET_RANDOM_LEN);
        let secret = format!("{SECRET_PREFIX}{random}");
        let public_id = format!(
            "{PUBLIC_ID_PREFIX}{}",
            Alphanumeric.sample_string(&mut rng, PUBLIC_ID_RANDOM_LEN)
        );
        let prefix = format!("{SECRET_PREFIX}{}", &random[..DISPLAY_RANDOM_LEN]);
        Ok(GeneratedKeyMaterial {
            secret_sha256: secret_sha256(&secret),
            scram: ScramVerifier::generate(&secret)?,
            secret,
            public_id,
            prefix,
        })
    }
}

impl std::fmt::Debug for GeneratedKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeyMaterial")
            .field("public_id", &self.public_id)
            .field("prefix", &self.prefix)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Hex SHA-256 of a secret: what the catalog stores and looks keys up by. A plain hash is
/// enough here because secrets carry 190 bits of randomness (no dictionary to attack).
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` has the shape of a FlowForge API key secret (cheap pre-check before a lookup).
pub fn looks_like_secret(secret: &str) -> bool {
    secret.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == SECRET_RANDOM_LEN && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Whether `login` has the shape of an API key public id.
pub fn looks_like_public_id(login: &str) -> bool {
    login.strip_prefix(PUBLIC_ID_PREFIX).is_some_and(|rest| {
        rest.len() == PUBLIC_ID_RANDOM_LEN && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_formats() {
        let k = GeneratedKeyMaterial::generate().unwrap();
        assert!(looks_like_secret(&k.secret), "{}", k.secret);
        assert!(looks_like_public_id(&k.public_id), "{}", k.public_id);
        assert!(k.secret.starts_with(&k.prefix));
        assert_eq!(k.prefix.len(), SECRET_PREFIX.len() + DISPLAY_RANDOM_LEN);
        assert_eq!(k.secret_sha256, secret_sha256(&k.secret));
        assert_eq!(k.secret_sha256.len(), 64);
        let other = GeneratedKeyMaterial::generate().unwrap();
        assert_ne!(k.secret, other.secret);
        assert_ne!(k.public_id, other.public_id);
    }

    #[test]
    fn shape_checks_reject_other_strings() {
        assert!(!looks_like_secret("sk_live_short"));
        assert!(!looks_like_secret(
            "pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
        assert!(!looks_like_public_id("admin@tenant-a.test"));
        assert!(!looks_like_public_id("key_12345678901!"));
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let k = GeneratedKeyMaterial::generate().unwrap();
        assert!(!format!("{k:?}").contains(&k.secret));
    }
}
