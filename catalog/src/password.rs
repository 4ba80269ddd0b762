//! One-way password storage: an argon2id PHC string for HTTP logins and a SCRAM verifier for
//! pgwire logins, both derived from the same password at the moment it is set.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

use crate::{CatalogError, ScramVerifier};

/// Shortest password the catalog accepts (the demo passwords are eight characters).
pub const MIN_PASSWORD_LEN: usize = 8;

/// Longest password the catalog accepts, to bound hashing cost on hostile input.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// The two one-way forms of a password that the catalog stores for a user.
#[derive(Debug, Clone)]
pub struct PasswordHashes {
    /// argon2id PHC string (`$argon2id$v=19$...`).
    pub argon2: String,
    /// PostgreSQL-format SCRAM-SHA-256 verifier.
    pub scram: ScramVerifier,
}

impl PasswordHashes {
    /// Checks the password policy and derives both stored forms. CPU-heavy: call it from a
    /// blocking context.
    pub fn derive(password: &str) -> Result<Self, CatalogError> {
        check_password_policy(password)?;
        Ok(PasswordHashes {
            argon2: hash_argon2(password)?,
            scram: ScramVerifier::generate(password)?,
        })
    }
}

/// Rejects passwords that are too short or too long.
pub fn check_password_policy(password: &str) -> Result<(), CatalogError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(CatalogError::InvalidInput(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(CatalogError::InvalidInput(format!(
            "password must be at most {MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

/// Hashes a secret with argon2id (default parameters) and a random salt.
pub fn hash_argon2(secret: &str) -> Result<String, CatalogError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| CatalogError::Storage(format!("argon2 salt encoding failed: {e}")))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CatalogError::Storage(format!("argon2 hashing failed: {e}")))
}

/// Whether `secret` matches the stored argon2 PHC string. A malformed stored hash never matches.
pub fn verify_argon2(secret: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real verification when no account matched, so response time does
/// not reveal whether an email is registered.
pub fn burn_verification_time(secret: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        hash_argon2(&hex::encode(random)).ok()
    });
    if let Some(phc) = dummy {
        // The result is irrelevant: only the time spent matters.
        let _ = verify_argon2(secret, phc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_hash_verifies_only_the_right_password() {
        let phc = hash_argon2("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(!phc.contains("correct horse"));
        assert!(verify_argon2("correct horse", &phc));
        assert!(!verify_argon2("wrong horse", &phc));
        assert!(!verify_argon2("correct horse", "not a phc string"));
    }

    #[test]
    fn policy_rejects_short_and_huge_passwords() {
        assert!(matches!(
            PasswordHashes::derive("short"),
            Err(CatalogError::InvalidInput(_))
        ));
        let huge = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert!(check_password_policy(&huge).is_err());
        assert!(check_password_policy("admin123").is_ok());
    }
}
