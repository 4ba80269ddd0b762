//! TLS for the wire server: loading a certificate and key into rustls, and generating the demo
//! certificates `flowforge serve` uses when none are configured.
//!
//! The demo set is a private CA plus a server certificate for `localhost`, `127.0.0.1` and `::1`
//! signed by it, written once as PEM files and reused afterwards, so clients can verify the
//! server (`sslmode=verify-full sslrootcert=ca.pem`) instead of trusting blindly.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use crate::config::TlsFiles;
use crate::error::ProxyError;

/// File names of the demo certificates inside their folder.
const CA_FILE: &str = "ca.pem";
const CERT_FILE: &str = "server.pem";
const KEY_FILE: &str = "server.key";

/// The demo certificates: the server's certificate and key, and the CA clients should trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCertificates {
    /// Server certificate (PEM), signed by `ca`.
    pub cert: PathBuf,
    /// Server private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// The demo CA certificate (PEM), for `sslrootcert`.
    pub ca: PathBuf,
}

impl DemoCertificates {
    /// The certificate and key as the server's TLS configuration.
    pub fn tls_files(&self) -> TlsFiles {
        TlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }
}

/// Returns the demo certificates in `dir`, generating them on first use.
///
/// The CA's private key is never written: the CA signs this one server certificate and cannot
/// be used to issue others. Delete the folder to get a fresh set.
pub fn ensure_demo_certificates(dir: &Path) -> Result<DemoCertificates, ProxyError> {
    let files = DemoCertificates {
        cert: dir.join(CERT_FILE),
        key: dir.join(KEY_FILE),
        ca: dir.join(CA_FILE),
    };
    if files.cert.is_file() && files.key.is_file() && files.ca.is_file() {
        return Ok(files);
    }
    fs::create_dir_all(dir).map_err(|source| ProxyError::File {
        path: dir.to_path_buf(),
        source,
    })?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "FlowForge demo CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &ca, &ca_key)?;

    write_file(&files.ca, ca.pem().as_bytes(), false)?;
    write_file(&files.key, server_key.serialize_pem().as_bytes(), true)?;
    write_file(&files.cert, server.pem().as_bytes(), false)?;
    Ok(files)
}

fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<(), ProxyError> {
    let error = |source| ProxyError::File {
        path: path.to_path_buf(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(error)?;
    file.write_all(contents).map_err(error)
}

/// Loaded TLS material: the rustls configuration and the certificate PEM (for SCRAM channel
/// binding, which hashes the server certificate).
pub(crate) struct LoadedTls {
    pub config: Arc<ServerConfig>,
    pub cert_pem: Vec<u8>,
}

/// Reads `files` into a rustls server configuration (TLS 1.2 and 1.3, ALPN `postgresql` for
/// clients that negotiate TLS directly).
pub(crate) fn load(files: &TlsFiles) -> Result<LoadedTls, ProxyError> {
    let read = |path: &Path| {
        fs::read(path).map_err(|source| ProxyError::File {
            path: path.to_path_buf(),
            source,
        })
    };
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .map_err(|e| ProxyError::Tls(format!("{}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(ProxyError::Tls(format!(
            "{} contains no certificate",
            files.cert.display()
        )));
    }
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| ProxyError::Tls(format!("{}: {e}", files.key.display())))?
        .ok_or_else(|| {
            ProxyError::Tls(format!("{} contains no private key", files.key.display()))
        })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProxyError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ProxyError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(LoadedTls {
        config: Arc::new(config),
        cert_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_certificates_are_generated_once_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_demo_certificates(dir.path()).unwrap();
        let pem = fs::read(&first.cert).unwrap();
        let again = ensure_demo_certificates(dir.path()).unwrap();
        assert_eq!(first, again);
        assert_eq!(
            fs::read(&again.cert).unwrap(),
            pem,
            "reused, not regenerated"
        );
        assert!(load(&first.tls_files()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&first.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is private");
        }
    }

    #[test]
    fn missing_or_bad_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope.key"),
        };
        assert!(matches!(load(&files), Err(ProxyError::File { .. })));
        fs::write(&files.cert, "not a certificate").unwrap();
        fs::write(&files.key, "not a key").unwrap();
        assert!(matches!(load(&files), Err(ProxyError::Tls(_))));
    }
}
