//! Short-lived embed tokens: what an iframe carries instead of an API key.
//!
//! `POST /api/v1/embed/token` exchanges an API key for an HS256 JWT signed with the server's
//! session secret, with its own audience (`flowforge-embed`) so it is never accepted as a
//! session token and a session token is never accepted as one. It names the key (`sub`), the
//! tenant (`tid`) and optionally one widget (`wid`), and lives fifteen minutes. Each use
//! re-reads the key, so revoking the key ends its tokens at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// `iss` of embed tokens.
pub const EMBED_ISSUER: &str = "flowforge";
/// `aud` of embed tokens.
pub const EMBED_AUDIENCE: &str = "flowforge-embed";
/// How long an embed token lives.
pub const EMBED_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The claims of an embed token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedClaims {
    /// Issuer.
    pub iss: String,
    /// Audience, always [`EMBED_AUDIENCE`].
    pub aud: String,
    /// The API key's id.
    pub sub: String,
    /// The key's tenant.
    pub tid: String,
    /// The only widget the token may show, when scoped to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wid: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Why an embed token was refused or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EmbedTokenError {
    /// Malformed, forged, expired or not an embed token.
    #[error("invalid embed token: {0}")]
    Invalid(String),
    /// Signing failed.
    #[error("cannot sign an embed token: {0}")]
    Sign(String),
}

/// Issues and verifies embed tokens.
#[derive(Clone)]
pub struct EmbedTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl std::fmt::Debug for EmbedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbedTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl EmbedTokens {
    /// Tokens signed with `secret` (the session secret) living for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        EmbedTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    /// A token for key `key_id` of `tenant_id`, optionally for one widget.
    pub fn issue(
        &self,
        tenant_id: &str,
        key_id: &str,
        widget_id: Option<&str>,
    ) -> Result<(String, DateTime<Utc>), EmbedTokenError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl)
            .map_err(|e| EmbedTokenError::Sign(e.to_string()))?;
        let expires_at = now + ttl;
        let claims = EmbedClaims {
            iss: EMBED_ISSUER.into(),
            aud: EMBED_AUDIENCE.into(),
            sub: key_id.into(),
            tid: tenant_id.into(),
            wid: widget_id.map(str::to_string),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| EmbedTokenError::Sign(e.to_string()))?;
        Ok((token, expires_at))
    }

    /// Checks signature, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<EmbedClaims, EmbedTokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[EMBED_ISSUER]);
        validation.set_audience(&[EMBED_AUDIENCE]);
        validation.leeway = 0;
        jsonwebtoken::decode::<EmbedClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| EmbedTokenError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_secret() {
        let tokens = EmbedTokens::new(&[1; 32], EMBED_TOKEN_TTL);
        let (token, expires) = tokens.issue("t1", "k1", Some("w1")).unwrap();
        assert!(expires > Utc::now());
        let claims = tokens.verify(&token).unwrap();
        assert_eq!(
            (
                claims.tid.as_str(),
                claims.sub.as_str(),
                claims.wid.as_deref()
            ),
            ("t1", "k1", Some("w1"))
        );
        let other = EmbedTokens::new(&[2; 32], EMBED_TOKEN_TTL);
        assert!(other.verify(&token).is_err(), "another secret");
        assert!(tokens.verify("not.a.token").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let tokens = EmbedTokens::new(&[1; 32], Duration::ZERO);
        let (token, _) = tokens.issue("t1", "k1", None).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(tokens.verify(&token).is_err());
    }
}
