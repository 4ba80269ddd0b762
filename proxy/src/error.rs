//! Errors the proxy returns to the binary that runs it (binding, TLS setup, certificates).
//!
//! Errors seen by SQL clients are not here: those travel as PostgreSQL `ErrorResponse`s.

use std::path::PathBuf;

/// Why the server could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A certificate or key file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate or key is not usable for TLS.
    #[error("invalid TLS configuration: {0}")]
    Tls(String),
    /// Generating the demo certificates failed.
    #[error("cannot generate demo certificates: {0}")]
    Certificate(#[from] rcgen::Error),
}
