//! FlowForge's PostgreSQL wire server.
//!
//! SQL clients (psql, BI tools, drivers) connect here as they would to PostgreSQL 16: TLS via
//! `SSLRequest`, SCRAM-SHA-256 logins against the catalog, the simple and extended query
//! protocols, text and binary results, `SET`/`SHOW`, transactions as no-ops, CancelRequest and
//! `statement_timeout`. Every statement is planned and run by the connection's
//! [`TenantSession`](flowforge_engine::session::TenantSession), which the binary supplies through
//! [`SessionProvider`]; this crate holds no planning or catalog logic.

mod auth;
mod cancel;
mod command;
mod config;
mod connection;
mod encode;
mod error;
mod numeric;
mod params;
mod pg_error;
mod pg_text;
mod provider;
mod query;
mod rows;
mod server;
mod settings;
mod split;
mod statement;
pub mod tls;
mod types;

#[cfg(test)]
mod wire_tests;

pub use config::{AuthMethod, ProxyConfig, TlsFiles, DEFAULT_PORT};
pub use error::ProxyError;
pub use provider::SessionProvider;
pub use server::ProxyServer;
