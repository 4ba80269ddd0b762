//! How the wire server is configured by the binary.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The port FlowForge listens on by default (PostgreSQL's 5432 plus one, so both can run).
pub const DEFAULT_PORT: u16 = 5433;

/// Everything the wire server needs besides the [`SessionProvider`](crate::SessionProvider).
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Address to listen on (`127.0.0.1:5433` by default).
    pub listen: SocketAddr,
    /// Certificate and key for TLS; without them `SSLRequest` is answered `N`.
    pub tls: Option<TlsFiles>,
    /// How clients prove who they are.
    pub auth: AuthMethod,
    /// Most rows one statement may return; more is an error (SQLSTATE 54000), never a silent cut.
    pub max_result_rows: Option<u64>,
    /// Default `statement_timeout` for every session (clients may `SET` their own).
    pub statement_timeout: Option<Duration>,
    /// Most concurrent client connections; further ones get SQLSTATE 53300.
    pub max_connections: usize,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            tls: None,
            auth: AuthMethod::default(),
            max_result_rows: None,
            statement_timeout: None,
            max_connections: 256,
        }
    }
}

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, server certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How clients authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuthMethod {
    /// SCRAM-SHA-256 against the catalog's verifiers (and SCRAM-SHA-256-PLUS over TLS): the
    /// password never crosses the wire.
    #[default]
    ScramSha256,
    /// Cleartext password, accepted only over TLS: for clients without SCRAM and for API key
    /// secrets (`sk_live_...`), which have no SCRAM verifier.
    Password,
}
