//! What the wire server needs from the rest of FlowForge: logins and tenant sessions.
//!
//! The proxy knows nothing about the catalog or the planner; the binary implements this trait
//! over the catalog store and the engine.

use std::sync::Arc;

use async_trait::async_trait;
use flowforge_catalog::{Identity, ScramVerifier};
use flowforge_engine::session::TenantSession;
use flowforge_engine::EngineError;

/// Resolves logins and opens tenant sessions for authenticated connections.
#[async_trait]
pub trait SessionProvider: Send + Sync + 'static {
    /// Identity and SCRAM verifier for a login name (a user's email or an API key's public id
    /// `key_...`); `None` if unknown.
    async fn lookup_login(&self, login: &str) -> Option<(Identity, ScramVerifier)>;

    /// Cleartext check (only ever offered over TLS): a user's password or an API key secret
    /// `sk_live_...`; `None` when the credentials are wrong.
    async fn verify_password(&self, login: &str, password: &str) -> Option<Identity>;

    /// The tenant session for an authenticated identity (published workflows registered as
    /// views).
    async fn open_session(&self, identity: &Identity) -> Result<Arc<TenantSession>, EngineError>;
}
