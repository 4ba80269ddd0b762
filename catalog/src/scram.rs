//! SCRAM-SHA-256 verifiers in PostgreSQL's `pg_authid.rolpassword` format, so the pgwire server
//! can authenticate clients with SCRAM while the catalog never keeps a password.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::CatalogError;

/// Iteration count PostgreSQL uses by default (`scram_iterations`), and the one FlowForge uses.
pub const DEFAULT_SCRAM_ITERATIONS: usize = 4096;

/// Salt length PostgreSQL generates, in bytes.
pub const SCRAM_SALT_LEN: usize = 16;

const MECHANISM: &str = "SCRAM-SHA-256";

/// A stored SCRAM-SHA-256 credential: enough to check a client proof and sign the server's
/// answer, not enough to log in (RFC 5802 section 3, RFC 7677).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// Random salt sent to the client in the server-first message.
    pub salt: Vec<u8>,
    /// PBKDF2 iteration count sent to the client.
    pub iterations: usize,
    /// `SHA-256(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

impl ScramVerifier {
    /// Derives the verifier for `password` with the given salt and iteration count.
    ///
    /// The password is normalised with SASLprep like PostgreSQL and libpq do; a password SASLprep
    /// rejects is used as raw bytes, again as PostgreSQL does.
    pub fn from_password(
        password: &str,
        salt: &[u8],
        iterations: usize,
    ) -> Result<Self, CatalogError> {
        if salt.is_empty() {
            return Err(CatalogError::InvalidInput(
                "SCRAM salt must not be empty".into(),
            ));
        }
        let rounds = u32::try_from(iterations)
            .ok()
            .filter(|r| *r > 0)
            .ok_or_else(|| {
                CatalogError::InvalidInput(format!(
                    "SCRAM iteration count {iterations} is out of range"
                ))
            })?;
        let normalized = stringprep::saslprep(password).unwrap_or(Cow::Borrowed(password));
        let mut salted_password = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(normalized.as_bytes(), salt, rounds, &mut salted_password);
        let client_key = hmac_sha256(&salted_password, b"Client Key")?;
        let server_key = hmac_sha256(&salted_password, b"Server Key")?;
        Ok(ScramVerifier {
            salt: salt.to_vec(),
            iterations,
            stored_key: Sha256::digest(client_key).to_vec(),
            server_key,
        })
    }

    /// Derives a verifier with a fresh random 16-byte salt and PostgreSQL's default 4096
    /// iterations: what the catalog stores for every new password or API key.
    pub fn generate(password: &str) -> Result<Self, CatalogError> {
        let mut salt = [0u8; SCRAM_SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        Self::from_password(password, &salt, DEFAULT_SCRAM_ITERATIONS)
    }

    /// Parses `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 fields).
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let invalid = |why: &str| CatalogError::InvalidInput(format!("bad SCRAM verifier: {why}"));
        let mut parts = text.split('$');
        let (Some(mechanism), Some(params), Some(keys), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected three `$`-separated parts"));
        };
        if mechanism != MECHANISM {
            return Err(invalid("mechanism is not SCRAM-SHA-256"));
        }
        let (iterations, salt) = params
            .split_once(':')
            .ok_or_else(|| invalid("missing `<iterations>:<salt>`"))?;
        let (stored_key, server_key) = keys
            .split_once(':')
            .ok_or_else(|| invalid("missing `<StoredKey>:<ServerKey>`"))?;
        let iterations: usize = iterations
            .parse()
            .ok()
            .filter(|i| *i > 0)
            .ok_or_else(|| invalid("iteration count is not a positive integer"))?;
        let decode = |field: &str, name: &str| {
            BASE64
                .decode(field)
                .map_err(|_| invalid(&format!("{name} is not base64")))
        };
        let salt = decode(salt, "salt")?;
        let stored_key = decode(stored_key, "StoredKey")?;
        let server_key = decode(server_key, "ServerKey")?;
        if salt.is_empty() {
            return Err(invalid("salt is empty"));
        }
        if stored_key.len() != 32 || server_key.len() != 32 {
            return Err(invalid("keys must be 32 bytes"));
        }
        Ok(ScramVerifier {
            salt,
            iterations,
            stored_key,
            server_key,
        })
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<Vec<u8>, CatalogError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|e| CatalogError::InvalidInput(format!("HMAC key rejected: {e}")))?;
    mac.update(message);
    Ok(mac.finalize().into_bytes().to_vec())
}

impl fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{MECHANISM}${}:{}${}:{}",
            self.iterations,
            BASE64.encode(&self.salt),
            BASE64.encode(&self.stored_key),
            BASE64.encode(&self.server_key)
        )
    }
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are password-equivalent for a server impersonator: never print them.
        f.debug_struct("ScramVerifier")
            .field("salt", &BASE64.encode(&self.salt))
            .field("iterations", &self.iterations)
            .field("stored_key", &"<redacted>")
            .field("server_key", &"<redacted>")
            .finish()
    }
}

impl FromStr for ScramVerifier {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC7677_SALT: &str = "W22ZaJ0SNY7soEsUEjb6gQ==";

    fn rfc7677_verifier() -> ScramVerifier {
        let salt = BASE64.decode(RFC7677_SALT).unwrap();
        ScramVerifier::from_password("pencil", &salt, 4096).unwrap()
    }

    /// Keys computed independently with Python's standard library:
    /// ```text
    /// sp = hashlib.pbkdf2_hmac('sha256', b'pencil', b64decode('W22ZaJ0SNY7soEsUEjb6gQ=='), 4096)
    /// stored = sha256(hmac(sp, b'Client Key')); server = hmac(sp, b'Server Key')
    /// ```
    #[test]
    fn rfc7677_password_gives_independently_computed_keys() {
        let v = rfc7677_verifier();
        assert_eq!(
            v.to_string(),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$\
             WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:\
             wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    /// Replays the RFC 7677 section 3 exchange against the verifier: the client proof from the
    /// RFC must check out against StoredKey, and our server signature must equal the RFC's `v=`.
    #[test]
    fn verifier_accepts_the_rfc7677_exchange() {
        let v = rfc7677_verifier();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
             r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
             c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let proof = BASE64
            .decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        let client_signature = hmac_sha256(&v.stored_key, auth_message.as_bytes()).unwrap();
        let client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(Sha256::digest(&client_key).to_vec(), v.stored_key);
        let server_signature = hmac_sha256(&v.server_key, auth_message.as_bytes()).unwrap();
        assert_eq!(
            BASE64.encode(server_signature),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn text_form_round_trips() {
        let v = ScramVerifier::generate("s3cret-password").unwrap();
        assert_eq!(v.salt.len(), SCRAM_SALT_LEN);
        assert_eq!(v.iterations, DEFAULT_SCRAM_ITERATIONS);
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:"));
        assert_eq!(ScramVerifier::parse(&text).unwrap(), v);
        assert_eq!(text.parse::<ScramVerifier>().unwrap(), v);
    }

    #[test]
    fn fresh_salts_give_different_verifiers_for_the_same_password() {
        let a = ScramVerifier::generate("same").unwrap();
        let b = ScramVerifier::generate("same").unwrap();
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.stored_key, b.stored_key);
    }

    #[test]
    fn malformed_verifiers_are_rejected() {
        let good = rfc7677_verifier().to_string();
        for bad in [
            "",
            "md5abcdef",
            &good.replace("SCRAM-SHA-256", "SCRAM-SHA-1"),
            &good.replace("4096:", "0:"),
            &good.replace("4096:", "x:"),
            &good.replace("$WG5d", "$!!!!"),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:AAAA",
            &format!("{good}$extra"),
        ] {
            assert!(
                matches!(
                    ScramVerifier::parse(bad),
                    Err(CatalogError::InvalidInput(_))
                ),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn debug_output_hides_keys() {
        let v = rfc7677_verifier();
        let shown = format!("{v:?}");
        assert!(!shown.contains(&BASE64.encode(&v.stored_key)));
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(ScramVerifier::from_password("p", b"", 4096).is_err());
        assert!(ScramVerifier::from_password("p", b"salt", 0).is_err());
    }
}
