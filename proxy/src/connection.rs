//! The state of one authenticated connection, kept in pgwire's per-connection extensions.

use std::sync::{Arc, Mutex, MutexGuard};

use flowforge_catalog::Identity;
use flowforge_engine::session::TenantSession;
use pgwire::api::ClientInfo;
use pgwire::error::PgWireResult;
use tokio::sync::watch;

use crate::pg_error;
use crate::settings::Settings;

/// Who is connected, their tenant session and their session settings.
pub(crate) struct Connection {
    /// The authenticated principal; tenant and role come only from here.
    pub identity: Identity,
    /// The name the client logged in with.
    pub login: String,
    /// The tenant session every statement is planned and run in.
    pub session: Arc<TenantSession>,
    settings: Mutex<Settings>,
    /// Bumped by a CancelRequest; running statements watch it.
    pub cancel: watch::Sender<u64>,
}

impl Connection {
    /// State for a freshly authenticated connection.
    pub(crate) fn new(
        identity: Identity,
        login: String,
        session: Arc<TenantSession>,
        settings: Settings,
    ) -> Self {
        let connection = Connection {
            identity,
            login,
            session,
            settings: Mutex::new(settings),
            cancel: watch::Sender::new(0),
        };
        connection.sync_parameters();
        connection
    }

    /// Shows the current settings to the session's catalog (`pg_settings`,
    /// `current_setting()`), after start-up and after every `SET`/`RESET`/`DISCARD`.
    pub(crate) fn sync_parameters(&self) {
        let parameters = self.settings().all();
        if let Err(error) = self.session.set_parameters(parameters) {
            tracing::warn!(user = %self.login, %error, "cannot update pg_settings");
        }
    }

    /// The session settings (never held across an await).
    pub(crate) fn settings(&self) -> MutexGuard<'_, Settings> {
        self.settings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The connection state of an authenticated client.
pub(crate) fn connection<C: ClientInfo + ?Sized>(client: &C) -> PgWireResult<Arc<Connection>> {
    client
        .session_extensions()
        .get::<Connection>()
        .ok_or_else(|| pg_error::error("08P01", "the connection is not authenticated"))
}
