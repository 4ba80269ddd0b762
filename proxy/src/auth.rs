//! The startup phase: authentication, the session it opens, and the parameters announced.
//!
//! SCRAM-SHA-256 runs against the catalog's verifiers through pgwire's SCRAM implementation, with
//! SCRAM-SHA-256-PLUS (`tls-server-end-point` channel binding) offered on TLS connections. A
//! login the catalog does not know gets a made-up verifier derived from a per-server secret, so
//! the exchange proceeds and fails exactly like a wrong password (PostgreSQL's "mock
//! authentication"): every failure is `28P01 password authentication failed for user "x"`.
//! Cleartext passwords are accepted only on TLS connections. The tenant and role come only from
//! the identity the provider returns, never from startup parameters.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use flowforge_catalog::Identity;
use futures::sink::Sink;
use futures::SinkExt;
use pgwire::api::auth::cleartext::CleartextPasswordAuth;
use pgwire::api::auth::mechanism::AuthMechanism;
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::{
    protocol_negotiation, save_startup_parameters_to_metadata, AuthDriver, AuthOutcome, AuthSource,
    LoginInfo, Password, ServerParameterProvider, StartupHandler,
};
use pgwire::api::{ClientInfo, METADATA_USER};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use sha2::{Digest, Sha256};

use crate::cancel::CancelRegistry;
use crate::config::AuthMethod;
use crate::connection::Connection;
use crate::pg_error;
use crate::provider::SessionProvider;
use crate::settings::Settings;

/// Iterations announced for logins that do not exist (PostgreSQL's default, like real ones).
const MOCK_ITERATIONS: usize = 4096;

/// Looks logins up for pgwire's SCRAM and cleartext mechanisms.
pub(crate) struct Credentials {
    provider: Arc<dyn SessionProvider>,
    /// Per-server secret from which made-up verifiers for unknown logins are derived.
    mock_secret: [u8; 32],
}

impl Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

impl Credentials {
    fn new(provider: Arc<dyn SessionProvider>) -> Self {
        Credentials {
            provider,
            mock_secret: rand::random(),
        }
    }

    /// A verifier no password matches, stable per login so repeated probes see one salt.
    fn mock_verifier(&self, login: &str) -> ScramSecret {
        // Keyed by the secret, so nobody can tell a made-up salt from a real one.
        let derive = |label: &[u8]| -> Vec<u8> {
            Sha256::new()
                .chain_update(self.mock_secret)
                .chain_update(label)
                .chain_update(login.as_bytes())
                .finalize()
                .to_vec()
        };
        let mut salt = derive(b"salt:");
        salt.truncate(16);
        ScramSecret::Verifier {
            salt,
            iterations: MOCK_ITERATIONS,
            stored_key: derive(b"stored:"),
            server_key: derive(b"server:"),
        }
    }
}

fn login_name<'a>(login: &'a LoginInfo<'_>) -> &'a str {
    login.user().unwrap_or_default()
}

#[async_trait]
impl AuthSource<Identity> for Credentials {
    /// FlowForge never holds recoverable passwords: SCRAM uses verifiers and cleartext logins
    /// are checked by the provider, so there is no password to hand out.
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        Err(pg_error::password_failed(login_name(login)))
    }

    async fn verify_password(
        &self,
        login: &LoginInfo,
        presented_password: &[u8],
    ) -> PgWireResult<Option<Identity>> {
        let user = login_name(login);
        let password =
            std::str::from_utf8(presented_password).map_err(|_| pg_error::password_failed(user))?;
        match self.provider.verify_password(user, password).await {
            Some(identity) => Ok(Some(identity)),
            None => Err(pg_error::password_failed(user)),
        }
    }

    async fn get_scram_secret(
        &self,
        login: &LoginInfo,
    ) -> PgWireResult<(ScramSecret, Option<Identity>)> {
        let user = login_name(login);
        match self.provider.lookup_login(user).await {
            Some((identity, verifier)) => Ok((
                ScramSecret::Verifier {
                    salt: verifier.salt,
                    iterations: verifier.iterations,
                    stored_key: verifier.stored_key,
                    server_key: verifier.server_key,
                },
                Some(identity),
            )),
            None => Ok((self.mock_verifier(user), None)),
        }
    }
}

/// Announces the connection's reported settings in `ParameterStatus` messages.
pub(crate) struct ReportedParameters;

impl ServerParameterProvider for ReportedParameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        let conn = client.session_extensions().get::<Connection>()?;
        let reported = conn.settings().reported();
        Some(reported.into_iter().collect())
    }
}

/// What every connection's startup shares.
pub(crate) struct Authenticator {
    provider: Arc<dyn SessionProvider>,
    driver: AuthDriver<ReportedParameters, Identity>,
    method: AuthMethod,
    /// SCRAM for plaintext connections (SCRAM-SHA-256 only).
    scram: ScramAuth<Identity>,
    /// SCRAM for TLS connections (also SCRAM-SHA-256-PLUS when the certificate allows it).
    scram_tls: ScramAuth<Identity>,
    cleartext: CleartextPasswordAuth<Credentials>,
    registry: Arc<CancelRegistry>,
    statement_timeout: Option<Duration>,
}

impl Authenticator {
    /// An authenticator for `method`; `cert_pem` is the TLS certificate, when TLS is on.
    pub(crate) fn new(
        provider: Arc<dyn SessionProvider>,
        method: AuthMethod,
        cert_pem: Option<&[u8]>,
        registry: Arc<CancelRegistry>,
        statement_timeout: Option<Duration>,
    ) -> Self {
        let credentials = Arc::new(Credentials::new(Arc::clone(&provider)));
        let scram = ScramAuth::new(credentials.clone() as Arc<dyn AuthSource<Identity>>);
        let mut scram_tls = scram.clone();
        if let Some(pem) = cert_pem {
            // Channel binding needs a certificate whose signature hash pgwire knows; without
            // it clients still get plain SCRAM-SHA-256 over TLS.
            if let Err(e) = scram_tls.configure_certificate(pem) {
                tracing::warn!(error = %e, "SCRAM channel binding disabled for this certificate");
            }
        }
        Authenticator {
            provider,
            driver: AuthDriver::new(ReportedParameters),
            method,
            scram,
            scram_tls,
            cleartext: CleartextPasswordAuth::new(credentials),
            registry,
            statement_timeout,
        }
    }
}

/// One connection's startup handler.
pub(crate) struct Startup {
    shared: Arc<Authenticator>,
    /// Set when the server is already at `max_connections`: the login is refused.
    over_limit: bool,
}

impl Startup {
    pub(crate) fn new(shared: Arc<Authenticator>, over_limit: bool) -> Self {
        Startup { shared, over_limit }
    }

    /// Opens the tenant session, records the connection and finishes the startup.
    async fn complete<C>(
        &self,
        client: &mut C,
        identity: Identity,
        final_message: Option<pgwire::messages::startup::Authentication>,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let login = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let session = self
            .shared
            .provider
            .open_session(&identity)
            .await
            .map_err(|e| {
                tracing::warn!(user = %login, error = %e, "cannot open tenant session");
                pg_error::fatal(e.sqlstate(), e.to_string())
            })?;
        let mut settings = Settings::new(&login, self.shared.statement_timeout);
        let startup: Vec<(String, String)> = client
            .metadata()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ignored in settings.apply_startup(&startup) {
            tracing::debug!(user = %login, reason = %ignored, "startup parameter ignored");
        }
        tracing::info!(
            user = %login,
            tenant = %identity.tenant_slug,
            role = %identity.role,
            peer = %client.socket_addr(),
            tls = client.is_secure(),
            "connection authenticated"
        );
        let conn = Connection::new(identity, login, session, settings);
        let cancel = conn.cancel.clone();
        client.session_extensions().insert(conn);
        self.shared
            .driver
            .complete_authentication(client, final_message)
            .await?;
        let (pid, secret) = client.pid_and_secret_key();
        let registration = self.shared.registry.register(pid, secret, cancel);
        client.session_extensions().insert(registration);
        Ok(())
    }
}

#[async_trait]
impl StartupHandler for Startup {
    /// Runs the startup exchange. A failure is reported the way PostgreSQL does it — one FATAL
    /// `ErrorResponse`, then the connection closes — because pgwire's generic error path would
    /// follow it with `ReadyForQuery`, which drivers such as asyncpg reject.
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self.startup_exchange(client, message).await {
            Err(error) => {
                let info: pgwire::error::ErrorInfo = error.into();
                client
                    .send(PgWireBackendMessage::ErrorResponse(info.into()))
                    .await?;
                let _ = client.close().await;
                Err(PgWireError::IoError(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "startup failed; connection closed after the FATAL error",
                )))
            }
            ok => ok,
        }
    }
}

impl Startup {
    async fn startup_exchange<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                if self.over_limit {
                    return Err(pg_error::fatal("53300", "sorry, too many clients already"));
                }
                if client
                    .metadata()
                    .get(METADATA_USER)
                    .is_none_or(|u| u.is_empty())
                {
                    return Err(pg_error::fatal(
                        "28000",
                        "no PostgreSQL user name specified in startup packet",
                    ));
                }
                let mechanism: Box<dyn AuthMechanism<Identity>> = match self.shared.method {
                    AuthMethod::ScramSha256 if client.is_secure() => self.shared.scram_tls.create(),
                    AuthMethod::ScramSha256 => self.shared.scram.create(),
                    AuthMethod::Password if client.is_secure() => self.shared.cleartext.create(),
                    AuthMethod::Password => return Err(pg_error::fatal(
                        "28000",
                        "FlowForge accepts passwords only over TLS: connect with sslmode=require",
                    )),
                };
                match self
                    .shared
                    .driver
                    .begin_authentication(client, mechanism)
                    .await?
                {
                    AuthOutcome::InProgress => Ok(()),
                    AuthOutcome::Authenticated { .. } => Err(pg_error::fatal(
                        "28000",
                        "authentication finished without credentials",
                    )),
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .cloned()
                    .unwrap_or_default();
                let outcome = self
                    .shared
                    .driver
                    .advance_authentication(client, password)
                    .await;
                match outcome {
                    Ok(AuthOutcome::InProgress) => Ok(()),
                    Ok(AuthOutcome::Authenticated {
                        identity: Some(identity),
                        final_message,
                    }) => self.complete(client, identity, final_message).await,
                    Ok(AuthOutcome::Authenticated { identity: None, .. }) => {
                        tracing::info!(user = %user, peer = %client.socket_addr(), "authentication failed");
                        Err(pg_error::password_failed(&user))
                    }
                    Err(error) => {
                        tracing::info!(
                            user = %user,
                            peer = %client.socket_addr(),
                            reason = %error,
                            "authentication failed"
                        );
                        Err(match error {
                            PgWireError::InvalidPassword(_) | PgWireError::UserError(_) => {
                                pg_error::password_failed(&user)
                            }
                            PgWireError::InvalidScramMessage(message) => pg_error::fatal(
                                "08P01",
                                format!("malformed SCRAM message: {message}"),
                            ),
                            other => other,
                        })
                    }
                }
            }
            other => Err(pg_error::fatal(
                "08P01",
                format!("unexpected message during authentication: {other:?}")
                    .chars()
                    .take(120)
                    .collect::<String>(),
            )),
        }
    }
}
