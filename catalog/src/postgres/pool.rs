//! Opening the PostgreSQL catalog: reading the connection URL, choosing plain TCP or TLS,
//! building the connection pool and bringing the schema up to date.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Config, NoTls};

use super::columns::{execute, pool_err, with_causes};
use super::tls::MakeRustlsConnect;
use super::PostgresCatalogOptions;
use crate::CatalogError;

/// Connections the pool opens at most unless [`PostgresCatalogOptions::max_connections`] says
/// otherwise. The catalog sees a few short statements per login or edit.
pub(super) const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// How long an operation waits for a free connection before failing.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect timeout when the URL sets none (tokio-postgres would otherwise wait for the
/// operating system's, minutes for an unreachable host).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Advisory lock held while migrating, so FlowForge servers starting together against one
/// database migrate it one after the other. (The bytes spell "ffcatmig".)
const MIGRATION_LOCK: i64 = 0x6666_6361_746d_6967;

/// Parses a libpq-style connection string (`postgres://user:password@host:port/db?...` or
/// `host=... dbname=...`).
pub(super) fn parse_url(url: &str) -> Result<Config, CatalogError> {
    Config::from_str(url).map_err(|e| {
        CatalogError::Storage(format!("invalid catalog database URL: {}", with_causes(&e)))
    })
}

/// A short description of where `config` points (hosts, ports, database; never the password).
pub(super) fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "postgres://{}:{}/{}",
        hosts.join(","),
        ports.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// Builds the pool. Connections are opened lazily, on first use.
///
/// TLS is used exactly when the URL says `sslmode=require`, and then the server certificate is
/// verified. (libpq's default `prefer` would try TLS without verifying it; FlowForge does not
/// use TLS it has not verified, so `prefer` and `disable` both connect in plain TCP.)
pub(super) fn build(
    mut config: Config,
    options: &PostgresCatalogOptions,
) -> Result<Pool, CatalogError> {
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("flowforge");
    }
    let require_tls = matches!(config.get_ssl_mode(), SslMode::Require);
    if options.ca_file.is_some() && !require_tls {
        return Err(CatalogError::Storage(
            "a catalog CA file is configured but the catalog URL does not ask for TLS \
             (add sslmode=require)"
                .into(),
        ));
    }
    let max_connections = options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        return Err(CatalogError::Storage(
            "the catalog connection pool needs at least one connection".into(),
        ));
    }
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if require_tls {
        let tls = MakeRustlsConnect::new(options.ca_file.as_deref())?;
        Manager::from_config(config, tls, manager_config)
    } else {
        Manager::from_config(config, NoTls, manager_config)
    };
    Pool::builder(manager)
        .max_size(max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .build()
        .map_err(|e| CatalogError::Storage(format!("catalog connection pool: {e}")))
}

/// Applies the shared migrations (`catalog/migrations/`) that the database has not seen yet.
pub(super) async fn migrate(pool: &Pool) -> Result<(), CatalogError> {
    let mut client = pool.get().await.map_err(pool_err)?;
    execute(&client, "SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let report = crate::schema::migrations::runner()
        .run_async::<tokio_postgres::Client>(&mut client)
        .await;
    let unlocked = execute(&client, "SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    let report = report.map_err(|e| CatalogError::Migration(with_causes(&e)))?;
    unlocked?;
    for migration in report.applied_migrations() {
        tracing::info!(
            version = migration.version(),
            name = migration.name(),
            "applied catalog migration"
        );
    }
    Ok(())
}
