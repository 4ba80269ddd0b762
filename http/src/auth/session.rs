//! FlowForge session tokens: HS256 JWTs issued by `POST /api/v1/auth/login`.
//!
//! The token names the user and tenant only; role and entitlements are read from the catalog
//! on every request, so a demoted or deleted user loses access at once rather than when the
//! token expires. The signing secret comes from configuration or is generated once and kept
//! (mode 0600) in the data folder, so tokens survive restarts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// `iss` of every session token.
pub const SESSION_ISSUER: &str = "flowforge";
/// `aud` of every session token.
pub const SESSION_AUDIENCE: &str = "flowforge-api";
/// Shortest secret accepted, in bytes (HS256 wants at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;
/// File in the data folder holding the generated secret.
pub const SECRET_FILE: &str = "session-secret";
/// Clock skew tolerated when checking `exp`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// Why a session token or secret was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The token is malformed, forged or expired.
    #[error("invalid session token: {0}")]
    InvalidToken(String),
    /// The configured secret is too short.
    #[error("the session secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSecret,
    /// The secret file could not be read or written.
    #[error("session secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A token could not be signed.
    #[error("cannot sign a session token: {0}")]
    Sign(String),
}

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Issuer, always [`SESSION_ISSUER`].
    pub iss: String,
    /// Audience, always [`SESSION_AUDIENCE`].
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The user's tenant id.
    pub tid: String,
    /// The user's email at issue time (for display and logs only).
    pub email: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Issues and verifies session tokens with one HS256 secret.
#[derive(Clone)]
pub struct SessionTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl SessionTokens {
    /// Tokens signed with `secret` (at least [`MIN_SECRET_LEN`] bytes) that live for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Result<Self, SessionError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(SessionError::WeakSecret);
        }
        Ok(SessionTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        })
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for this user of this tenant.
    pub fn issue(
        &self,
        tenant_id: &str,
        user_id: &str,
        email: &str,
    ) -> Result<IssuedToken, SessionError> {
        let now = Utc::now();
        let ttl =
            chrono::Duration::from_std(self.ttl).map_err(|e| SessionError::Sign(e.to_string()))?;
        let expires_at = now + ttl;
        let claims = SessionClaims {
            iss: SESSION_ISSUER.into(),
            aud: SESSION_AUDIENCE.into(),
            sub: user_id.into(),
            tid: tenant_id.into(),
            email: email.into(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| SessionError::Sign(e.to_string()))?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Checks signature, issuer, audience and expiry and returns the claims.
    pub fn verify(&self, token: &str) -> Result<SessionClaims, SessionError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[SESSION_ISSUER]);
        validation.set_audience(&[SESSION_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| SessionError::InvalidToken(e.to_string()))
    }
}

/// The secret stored in `dir`, generating (32 random bytes, hex) and saving it with mode 0600
/// on first use.
pub fn load_or_create_secret(dir: &Path) -> Result<Vec<u8>, SessionError> {
    let path = dir.join(SECRET_FILE);
    let failed = |source| SessionError::SecretFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_SECRET_LEN {
                return Err(SessionError::WeakSecret);
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::random();
            let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&path).map_err(failed)?;
            file.write_all(secret.as_bytes()).map_err(failed)?;
            file.sync_all().map_err(failed)?;
            Ok(secret.into_bytes())
        }
        Err(e) => Err(failed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn issued_tokens_verify_and_carry_user_and_tenant() {
        let tokens = SessionTokens::new(SECRET, Duration::from_secs(3600)).unwrap();
        let issued = tokens.issue("t1", "u1", "a@b.test").unwrap();
        let claims = tokens.verify(&issued.token).unwrap();
        assert_eq!((claims.tid.as_str(), claims.sub.as_str()), ("t1", "u1"));
        assert_eq!(claims.exp, issued.expires_at.timestamp());
    }

    #[test]
    fn tokens_of_another_secret_or_tampered_or_expired_are_refused() {
        let tokens = SessionTokens::new(SECRET, Duration::from_secs(3600)).unwrap();
        let other = SessionTokens::new(
            b"another-secret-another-secret-xx",
            Duration::from_secs(3600),
        )
        .unwrap();
        let token = other.issue("t1", "u1", "a@b.test").unwrap().token;
        assert!(tokens.verify(&token).is_err());

        let good = tokens.issue("t1", "u1", "a@b.test").unwrap().token;
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        let forged = SessionClaims {
            iss: SESSION_ISSUER.into(),
            aud: SESSION_AUDIENCE.into(),
            sub: "u1".into(),
            tid: "other-tenant".into(),
            email: "a@b.test".into(),
            iat: 0,
            exp: i64::MAX / 2,
        };
        use base64::Engine;
        parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&forged).unwrap());
        assert!(tokens.verify(&parts.join(".")).is_err());

        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &SessionClaims {
                iat: 0,
                exp: Utc::now().timestamp() - 120,
                ..forged
            },
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        let error = tokens.verify(&expired).unwrap_err().to_string();
        assert!(error.contains("Expired"), "{error}");
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(matches!(
            SessionTokens::new(b"short", Duration::from_secs(1)),
            Err(SessionError::WeakSecret)
        ));
    }

    #[test]
    fn the_generated_secret_is_kept_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_secret(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
