//! Bearer JWTs from an OpenID Connect provider (Keycloak or compatible), verified against the
//! provider's JWKS.
//!
//! Signature, issuer, audience and expiry are checked; only asymmetric algorithms are accepted
//! (an HS256 token can never pass as the provider's). Keys are cached by `kid`: a token with an
//! unknown `kid` triggers one refetch (key rotation), at most once per cooldown so a stream of
//! forged `kid`s cannot hammer the provider. Keys older than [`JWKS_MAX_AGE`] are refreshed on
//! next use; a failed refresh keeps serving the keys already known.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

/// How long fetched keys are trusted before they are refreshed on next use.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Default minimum time between two JWKS fetches caused by unknown `kid`s.
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(10);
/// Clock skew tolerated when checking `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;
/// Claim naming the tenant slug unless configured otherwise.
pub const DEFAULT_TENANT_CLAIM: &str = "tenant";

/// Algorithms an OIDC token may be signed with.
const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// How to verify OIDC tokens.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The provider's JWKS document, e.g. `.../realms/<realm>/protocol/openid-connect/certs`.
    pub jwks_url: reqwest::Url,
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud` (one of the token's audiences).
    pub audience: String,
    /// Claim holding the FlowForge tenant slug.
    pub tenant_claim: String,
    /// Minimum time between JWKS fetches caused by unknown `kid`s.
    pub refetch_cooldown: Duration,
}

/// Why an OIDC token was refused.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The token is malformed, forged, expired or for someone else.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// No key of the provider has the token's `kid`.
    #[error("token signed with unknown key `{0}`")]
    UnknownKey(String),
    /// The JWKS could not be fetched and no keys are known.
    #[error("identity provider keys unavailable: {0}")]
    JwksUnavailable(String),
}

struct CachedKey {
    key: DecodingKey,
    algorithm: Option<Algorithm>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, CachedKey>,
    fetched_at: Option<Instant>,
}

/// Verifies OIDC bearer tokens against a cached JWKS.
pub struct OidcVerifier {
    settings: OidcSettings,
    client: reqwest::Client,
    cache: Mutex<KeyCache>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// A verifier for these settings; keys are fetched on first use.
    pub fn new(settings: OidcSettings) -> Result<Self, OidcError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| OidcError::JwksUnavailable(e.to_string()))?;
        Ok(OidcVerifier {
            settings,
            client,
            cache: Mutex::new(KeyCache::default()),
        })
    }

    /// The settings this verifier checks against.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Verifies the token and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Value, OidcError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| OidcError::InvalidToken(e.to_string()))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(OidcError::InvalidToken(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let (key, key_alg) = self.key_for(&kid).await?;
        if key_alg.is_some_and(|alg| alg != header.alg) {
            return Err(OidcError::InvalidToken(format!(
                "key `{kid}` is for another algorithm than {:?}",
                header.alg
            )));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.settings.issuer.as_str()]);
        validation.set_audience(&[self.settings.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| OidcError::InvalidToken(e.to_string()))
    }

    /// The key for `kid` (empty: the only key), refetching the JWKS when it is unknown or stale.
    async fn key_for(&self, kid: &str) -> Result<(DecodingKey, Option<Algorithm>), OidcError> {
        let mut cache = self.cache.lock().await;
        let stale = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= JWKS_MAX_AGE);
        let unknown = lookup(&cache, kid).is_none();
        let cooled = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.settings.refetch_cooldown);
        if stale || (unknown && cooled) {
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                Err(error) if cache.keys.is_empty() => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, "JWKS refresh failed; keeping the known keys");
                    cache.fetched_at = Some(Instant::now());
                }
            }
        }
        lookup(&cache, kid).ok_or_else(|| OidcError::UnknownKey(kid.to_string()))
    }

    async fn fetch(&self) -> Result<HashMap<String, CachedKey>, OidcError> {
        let unavailable = |e: reqwest::Error| OidcError::JwksUnavailable(e.to_string());
        let body = self
            .client
            .get(self.settings.jwks_url.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .bytes()
            .await
            .map_err(unavailable)?;
        parse_jwks(&body)
    }
}

fn lookup(cache: &KeyCache, kid: &str) -> Option<(DecodingKey, Option<Algorithm>)> {
    let found = if kid.is_empty() && cache.keys.len() == 1 {
        cache.keys.values().next()
    } else {
        cache.keys.get(kid)
    };
    found.map(|k| (k.key.clone(), k.algorithm))
}

/// The signing keys of a JWKS document by `kid`. Keys for encryption, keys without a `kid`
/// (unless the set has only one) and keys of types this build cannot use are skipped, so
/// one odd key does not disable the others.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, CachedKey>, OidcError> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|e| OidcError::JwksUnavailable(format!("JWKS is not JSON: {e}")))?;
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| OidcError::JwksUnavailable("JWKS has no `keys` array".into()))?;
    let single = entries.len() == 1;
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let kid = match (&jwk.common.key_id, single) {
            (Some(kid), _) => kid.clone(),
            (None, true) => String::new(),
            (None, false) => continue,
        };
        let algorithm = match jwk.common.key_algorithm {
            Some(alg) => match alg.to_string().parse::<Algorithm>() {
                Ok(alg) if ACCEPTED.contains(&alg) => Some(alg),
                _ => continue,
            },
            None => None,
        };
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.insert(kid, CachedKey { key, algorithm });
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    struct Signer {
        kid: String,
        encoding: EncodingKey,
        jwk: Value,
    }

    fn signer(kid: &str) -> Signer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let raw = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Signer {
            kid: kid.into(),
            encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                         "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
        }
    }

    impl Signer {
        fn sign(&self, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(self.kid.clone());
            jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
        }
    }

    /// Serves `jwks` on a loopback port; counts requests.
    fn jwks_server(jwks: Value) -> (reqwest::Url, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/certs", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                counter.fetch_add(1, Ordering::SeqCst);
                let body = jwks.to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url.parse().unwrap(), hits)
    }

    fn claims(exp_offset: i64) -> Value {
        json!({"iss": "https://idp.test/realms/ff", "aud": ["account", "flowforge"],
               "sub": "s1", "email": "a@tenant-a.test", "tenant": "tenant-a",
               "realm_access": {"roles": ["analyst"]},
               "exp": chrono::Utc::now().timestamp() + exp_offset})
    }

    fn verifier(url: reqwest::Url, cooldown: Duration) -> OidcVerifier {
        OidcVerifier::new(OidcSettings {
            jwks_url: url,
            issuer: "https://idp.test/realms/ff".into(),
            audience: "flowforge".into(),
            tenant_claim: DEFAULT_TENANT_CLAIM.into(),
            refetch_cooldown: cooldown,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn good_tokens_pass_and_issuer_audience_expiry_are_checked() {
        let key = signer("k1");
        let (url, _) = jwks_server(json!({"keys": [key.jwk]}));
        let v = verifier(url, DEFAULT_REFETCH_COOLDOWN);
        let ok = v.verify(&key.sign(&claims(300))).await.unwrap();
        assert_eq!(ok["email"], "a@tenant-a.test");

        let mut wrong_iss = claims(300);
        wrong_iss["iss"] = json!("https://evil.test");
        let e = v.verify(&key.sign(&wrong_iss)).await.unwrap_err();
        assert!(e.to_string().contains("Issuer"), "{e}");

        let mut wrong_aud = claims(300);
        wrong_aud["aud"] = json!("other-app");
        let e = v.verify(&key.sign(&wrong_aud)).await.unwrap_err();
        assert!(e.to_string().contains("Audience"), "{e}");

        let e = v.verify(&key.sign(&claims(-600))).await.unwrap_err();
        assert!(e.to_string().contains("Expired"), "{e}");
    }

    #[tokio::test]
    async fn unknown_kids_refetch_once_per_cooldown_and_are_refused() {
        let known = signer("k1");
        let stranger = signer("k2");
        let (url, hits) = jwks_server(json!({"keys": [known.jwk]}));
        let v = verifier(url, Duration::from_secs(3600));
        v.verify(&known.sign(&claims(300))).await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        for _ in 0..3 {
            let e = v.verify(&stranger.sign(&claims(300))).await.unwrap_err();
            assert!(
                matches!(e, OidcError::UnknownKey(ref k) if k == "k2"),
                "{e}"
            );
        }
        assert_eq!(
            hits.load(Ordering::SeqCst),
            1,
            "cooldown must hold refetches back"
        );

        let (url, hits) = jwks_server(json!({"keys": [known.jwk]}));
        let eager = verifier(url, Duration::ZERO);
        eager.verify(&known.sign(&claims(300))).await.unwrap();
        let _ = eager.verify(&stranger.sign(&claims(300))).await;
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "an unknown kid refetches the keys"
        );
    }

    #[tokio::test]
    async fn symmetric_tokens_never_pass_as_the_providers() {
        let key = signer("k1");
        let (url, _) = jwks_server(json!({"keys": [key.jwk]}));
        let v = verifier(url, DEFAULT_REFETCH_COOLDOWN);
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token =
            jsonwebtoken::encode(&header, &claims(300), &EncodingKey::from_secret(b"guess"))
                .unwrap();
        let e = v.verify(&token).await.unwrap_err();
        assert!(e.to_string().contains("not accepted"), "{e}");
    }

    #[test]
    fn odd_keys_in_a_jwks_are_skipped() {
        let key = signer("k1");
        let keys = parse_jwks(
            json!({"keys": [
                key.jwk,
                {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
                {"kty": "weird", "kid": "w"}
            ]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["k1"]);
    }
}
