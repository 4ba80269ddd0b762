//! `flowforge serve`: the pgwire proxy and the HTTP server over the embedded engine.
//!
//! Settings come from flags, then `FLOWFORGE_*` environment variables, then an optional TOML
//! file (`--config`), then defaults. With no flags and no services this is the embedded demo:
//! the data folder is created, sample data generated on first run, the demo tenants, users and
//! workflows seeded, and a self-signed CA + server certificate generated for TLS.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use clap::Args;
use flowforge_catalog::Backend as CatalogBackend;
use flowforge_catalog::CatalogStore;
use flowforge_catalog::{CatalogLocation, PostgresCatalogOptions};
use flowforge_engine::embedded::EmbeddedData;
use flowforge_engine::remote::clickhouse::{ClickHouseBackend, ClickHouseConfig};
use flowforge_engine::remote::postgres::{PostgresBackend, PostgresConfig};
use flowforge_engine::remote::redis::{RedisData, RedisStore, QUOTES_TABLE};
use flowforge_engine::remote::{RemoteData, RoutedData};
use flowforge_engine::result_cache::ResultCache;
use flowforge_engine::sample_data::{self, SampleOptions};
use flowforge_engine::serving_tables::{serving_tables, Freshness, ServingTable};
use flowforge_engine::tables::ServingData;
use flowforge_http::auth::oidc::{self, OidcSettings};
use flowforge_http::auth::session;
use flowforge_proxy::{AuthMethod, ProxyConfig, ProxyServer, TlsFiles};
use serde::Deserialize;

use crate::sessions::CatalogSessions;

/// Arguments of `flowforge serve` (all optional; see the README's configuration reference).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "FLOWFORGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data folder: sample Parquet files, the SQLite catalog, demo TLS files. [default: flowforge-data]
    #[arg(long, env = "FLOWFORGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL wire listen address. [default: 127.0.0.1:5433]
    #[arg(long, env = "FLOWFORGE_PG_LISTEN")]
    pub pg_listen: Option<SocketAddr>,
    /// HTTP listen address. [default: 127.0.0.1:8000]
    #[arg(long, env = "FLOWFORGE_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// TLS certificate chain (PEM). Without it a demo CA and certificate are generated.
    #[arg(long, env = "FLOWFORGE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "FLOWFORGE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve pgwire without TLS.
    #[arg(long, env = "FLOWFORGE_NO_TLS")]
    pub no_tls: bool,
    /// pgwire authentication: scram-sha-256 (default) or password (cleartext, TLS only).
    #[arg(long, env = "FLOWFORGE_AUTH")]
    pub auth: Option<String>,
    /// Largest result a query may return, in rows (SQLSTATE 54000 beyond). [default: 1000000]
    #[arg(long, env = "FLOWFORGE_MAX_RESULT_ROWS")]
    pub max_result_rows: Option<u64>,
    /// Statement timeout in seconds, 0 for none (SQLSTATE 57014 when exceeded). [default: 300]
    #[arg(long, env = "FLOWFORGE_STATEMENT_TIMEOUT")]
    pub statement_timeout: Option<u64>,
    /// Do not seed the demo tenants, users and workflows.
    #[arg(long, env = "FLOWFORGE_NO_DEMO")]
    pub no_demo: bool,
    /// Last day (exclusive) of generated sample data, YYYY-MM-DD. [default: today, UTC]
    #[arg(long, env = "FLOWFORGE_SAMPLE_ANCHOR")]
    pub sample_anchor: Option<NaiveDate>,

    /// Where the catalog lives: `sqlite:<path>` or `postgres://user:pass@host/db`.
    /// [default: sqlite:<data-dir>/catalog.sqlite3]
    #[arg(long, env = "FLOWFORGE_CATALOG_URL")]
    pub catalog_url: Option<String>,

    /// Serve the serving tables from ClickHouse's HTTP interface (`http://host:8123`) instead
    /// of the embedded Parquet data; single-backend queries are pushed down whole.
    #[arg(long, env = "FLOWFORGE_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<url::Url>,

    /// The ClickHouse database holding the serving tables. [default: market]
    #[arg(long, env = "FLOWFORGE_CLICKHOUSE_DATABASE")]
    pub clickhouse_database: Option<String>,

    /// Serve live tables from Materialize (or any PostgreSQL-wire server):
    /// `postgres://user:pass@host:6875/materialize`.
    #[arg(long, env = "FLOWFORGE_MATERIALIZE_URL")]
    pub materialize_url: Option<String>,

    /// Which serving tables Materialize serves: `live` (positions, P&L) or `all`.
    /// [default: live]
    #[arg(long, env = "FLOWFORGE_MATERIALIZE_TABLES")]
    pub materialize_tables: Option<String>,

    /// Seconds a backend result is reused for identical queries of the same tenant (0 turns
    /// the cache off; live tables are never cached). [default: 60]
    #[arg(long, env = "FLOWFORGE_RESULT_CACHE_TTL")]
    pub result_cache_ttl: Option<u64>,

    /// Redis (`redis://[:password@]host:6379[/db]`): serves `live_quotes` point lookups from
    /// its hashes and shares the result cache between FlowForge processes.
    #[arg(long, env = "FLOWFORGE_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Key prefix of the latest-quote hashes in Redis (the symbol follows it). [default: quote:]
    #[arg(long, env = "FLOWFORGE_REDIS_QUOTE_PREFIX")]
    pub redis_quote_prefix: Option<String>,

    /// Secret (at least 32 bytes) signing HTTP session tokens. [default: generated once and
    /// kept in <data-dir>/session-secret]
    #[arg(long, env = "FLOWFORGE_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,

    /// Accept bearer tokens of an OpenID Connect provider, verified against this JWKS URL
    /// (Keycloak: `.../realms/<realm>/protocol/openid-connect/certs`). Needs --oidc-issuer and
    /// --oidc-audience.
    #[arg(long, env = "FLOWFORGE_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<url::Url>,

    /// The `iss` OIDC tokens must carry.
    #[arg(long, env = "FLOWFORGE_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    /// An `aud` OIDC tokens must carry.
    #[arg(long, env = "FLOWFORGE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,

    /// The OIDC claim holding the FlowForge tenant slug. [default: tenant]
    #[arg(long, env = "FLOWFORGE_OIDC_TENANT_CLAIM")]
    pub oidc_tenant_claim: Option<String>,

    /// DEVELOPMENT ONLY: HTTP requests without credentials act as this catalog user (email).
    #[arg(long, env = "FLOWFORGE_DEV_AUTH_USER")]
    pub dev_auth_user: Option<String>,

    /// Embed data requests each API key may make per rate-limit window (shared through Redis
    /// when --redis-url is set). [default: 600]
    #[arg(long, env = "FLOWFORGE_EMBED_RATE_LIMIT")]
    pub embed_rate_limit: Option<u64>,

    /// Length of the embed rate-limit window, in seconds. [default: 60]
    #[arg(long, env = "FLOWFORGE_EMBED_RATE_WINDOW")]
    pub embed_rate_window: Option<u64>,
}

/// The TOML file's shape: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    pg_listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    no_tls: Option<bool>,
    auth: Option<String>,
    max_result_rows: Option<u64>,
    statement_timeout: Option<u64>,
    no_demo: Option<bool>,
    sample_anchor: Option<NaiveDate>,
    catalog_url: Option<String>,
    clickhouse_url: Option<url::Url>,
    clickhouse_database: Option<String>,
    materialize_url: Option<String>,
    materialize_tables: Option<String>,
    result_cache_ttl: Option<u64>,
    redis_url: Option<String>,
    redis_quote_prefix: Option<String>,

    session_secret: Option<String>,
    oidc_jwks_url: Option<url::Url>,
    oidc_issuer: Option<String>,
    oidc_audience: Option<String>,
    oidc_tenant_claim: Option<String>,
    dev_auth_user: Option<String>,
    embed_rate_limit: Option<u64>,
    embed_rate_window: Option<u64>,
}

/// Effective settings after merging flags, environment, file and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub pg_listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub no_tls: bool,
    pub auth: AuthMethod,
    pub max_result_rows: Option<u64>,
    pub statement_timeout: Option<Duration>,
    pub demo: bool,
    pub sample_anchor: Option<NaiveDate>,
    /// `None`: the SQLite file in the data folder.
    pub catalog_url: Option<String>,
    /// `None`: the embedded Parquet data.
    pub clickhouse_url: Option<url::Url>,
    pub clickhouse_database: String,
    /// `None`: no Materialize.
    pub materialize_url: Option<String>,
    /// Materialize serves every serving table (`all`), not just the live ones.
    pub materialize_all: bool,
    /// How long backend results are reused; `None` disables the cache.
    pub result_cache_ttl: Option<Duration>,
    /// `None`: no Redis (live_quotes from the analytical data, cache per process).
    pub redis_url: Option<String>,
    /// Key prefix of the quote hashes.
    pub redis_quote_prefix: String,

    /// Session token secret; `None`: generated and kept in the data folder.
    pub session_secret: Option<String>,
    /// OIDC provider whose tokens the HTTP API accepts.
    pub oidc: Option<OidcSettings>,
    /// Catalog user credential-less HTTP requests act as (development only).
    pub dev_auth_user: Option<String>,
    /// Embed requests per API key per window.
    pub embed_rate_limit: u64,
    /// The embed rate-limit window.
    pub embed_rate_window: Duration,
}

impl Settings {
    /// Merges flags/env (already in `args`) over the TOML file over defaults.
    pub fn resolve(args: ServeArgs) -> Result<Settings, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileSettings::default(),
        };
        let auth = match args.auth.or(file.auth).as_deref() {
            None | Some("scram-sha-256") | Some("scram") => AuthMethod::ScramSha256,
            Some("password") | Some("cleartext") => AuthMethod::Password,
            Some(other) => {
                return Err(format!(
                    "unknown auth method '{other}'; use scram-sha-256 or password"
                ))
            }
        };
        let tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("tls_cert and tls_key must be given together".into()),
        };
        let no_tls = args.no_tls || file.no_tls.unwrap_or(false);
        if no_tls && auth == AuthMethod::Password {
            return Err("password (cleartext) authentication requires TLS".into());
        }
        let oidc = oidc_settings(
            args.oidc_jwks_url.or(file.oidc_jwks_url),
            args.oidc_issuer.or(file.oidc_issuer),
            args.oidc_audience.or(file.oidc_audience),
            args.oidc_tenant_claim.or(file.oidc_tenant_claim),
        )?;
        let session_secret = args.session_secret.or(file.session_secret);
        if session_secret
            .as_ref()
            .is_some_and(|s| s.len() < session::MIN_SECRET_LEN)
        {
            return Err(format!(
                "session_secret must be at least {} bytes",
                session::MIN_SECRET_LEN
            ));
        }
        let timeout = args
            .statement_timeout
            .or(file.statement_timeout)
            .unwrap_or(300);
        Ok(Settings {
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(super::DEFAULT_DATA_DIR)),
            pg_listen: args
                .pg_listen
                .or(file.pg_listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5433))),
            http_listen: args
                .http_listen
                .or(file.http_listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000))),
            tls,
            no_tls,
            auth,
            max_result_rows: Some(
                args.max_result_rows
                    .or(file.max_result_rows)
                    .unwrap_or(1_000_000),
            )
            .filter(|n| *n > 0),
            statement_timeout: (timeout > 0).then(|| Duration::from_secs(timeout)),
            demo: !(args.no_demo || file.no_demo.unwrap_or(false)),
            sample_anchor: args.sample_anchor.or(file.sample_anchor),
            catalog_url: args.catalog_url.or(file.catalog_url),
            clickhouse_url: args.clickhouse_url.or(file.clickhouse_url),
            clickhouse_database: args
                .clickhouse_database
                .or(file.clickhouse_database)
                .unwrap_or_else(|| "market".to_string()),
            result_cache_ttl: Some(Duration::from_secs(
                args.result_cache_ttl
                    .or(file.result_cache_ttl)
                    .unwrap_or(60),
            ))
            .filter(|ttl| !ttl.is_zero()),
            materialize_url: args.materialize_url.or(file.materialize_url),
            redis_url: args.redis_url.or(file.redis_url),
            redis_quote_prefix: args
                .redis_quote_prefix
                .or(file.redis_quote_prefix)
                .unwrap_or_else(|| "quote:".to_string()),
            materialize_all: match args
                .materialize_tables
                .or(file.materialize_tables)
                .as_deref()
            {
                None | Some("live") => false,
                Some("all") => true,
                Some(other) => {
                    return Err(format!(
                        "materialize_tables must be `live` or `all`, not `{other}`"
                    ))
                }
            },
            session_secret,
            oidc,
            dev_auth_user: args.dev_auth_user.or(file.dev_auth_user),
            embed_rate_limit: args
                .embed_rate_limit
                .or(file.embed_rate_limit)
                .unwrap_or(600),
            embed_rate_window: Duration::from_secs(
                args.embed_rate_window
                    .or(file.embed_rate_window)
                    .unwrap_or(60)
                    .max(1),
            ),
        })
    }
}

/// The OIDC settings when any is given; all of URL, issuer and audience are then required.
fn oidc_settings(
    jwks_url: Option<url::Url>,
    issuer: Option<String>,
    audience: Option<String>,
    tenant_claim: Option<String>,
) -> Result<Option<OidcSettings>, String> {
    match (jwks_url, issuer, audience) {
        (None, None, None) => Ok(None),
        (Some(jwks_url), Some(issuer), Some(audience)) => {
            let jwks_url = jwks_url
                .as_str()
                .parse()
                .map_err(|e| format!("oidc_jwks_url: {e}"))?;
            Ok(Some(OidcSettings {
                jwks_url,
                issuer,
                audience,
                tenant_claim: tenant_claim
                    .unwrap_or_else(|| oidc::DEFAULT_TENANT_CLAIM.to_string()),
                refetch_cooldown: oidc::DEFAULT_REFETCH_COOLDOWN,
            }))
        }
        _ => Err("oidc_jwks_url, oidc_issuer and oidc_audience must be given together".into()),
    }
}

/// Runs `flowforge serve` until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<ExitCode, String> {
    let settings = Settings::resolve(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Planning and unparsing deep plans (views of views, long workflows) recurse deeply;
        // the default 2 MiB worker stack is not enough for debug builds.
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(serve(settings))?;
    Ok(ExitCode::SUCCESS)
}

fn prepare_data(settings: &Settings) -> Result<EmbeddedData, String> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if !sample_data::is_seeded(dir) {
        let mut options = SampleOptions::default();
        if let Some(day) = settings.sample_anchor {
            options.anchor = day.and_hms_opt(0, 0, 0).ok_or("invalid sample anchor")?;
        }
        eprintln!("generating sample market data in {} ...", dir.display());
        sample_data::generate(dir, &options, true).map_err(|e| e.to_string())?;
    }
    EmbeddedData::open(dir).map_err(|e| e.to_string())
}

/// The TLS files to serve with and, for the generated demo certificates, the CA clients trust.
fn tls_files(settings: &Settings) -> Result<Option<(TlsFiles, Option<PathBuf>)>, String> {
    if settings.no_tls {
        return Ok(None);
    }
    match &settings.tls {
        Some((cert, key)) => Ok(Some((
            TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            },
            None,
        ))),
        None => flowforge_proxy::tls::ensure_demo_certificates(&settings.data_dir.join("tls"))
            .map(|demo| Some((demo.tls_files(), Some(demo.ca.clone()))))
            .map_err(|e| e.to_string()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Largest result the backend result cache keeps, in rows.
const RESULT_CACHE_MAX_ROWS: usize = 100_000;
/// Memory the backend result cache may use.
const RESULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Longest wait for Redis to connect or answer.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an HTTP session token (from the login endpoint) is accepted.
const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// Stack size of the server's worker threads.
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

/// File name of the embedded catalog inside the data folder.
pub const CATALOG_FILE: &str = "catalog.sqlite3";

async fn open_catalog(
    dir: &Path,
    url: Option<&str>,
    demo: bool,
) -> Result<Arc<dyn CatalogStore>, String> {
    let location = match url {
        Some(url) => url.parse::<CatalogLocation>().map_err(|e| e.to_string())?,
        None => CatalogLocation::Sqlite(dir.join(CATALOG_FILE)),
    };
    tracing::info!(catalog = %location, "opening the catalog");
    let catalog = location
        .open(&PostgresCatalogOptions::default())
        .await
        .map_err(|e| format!("catalog {location}: {e}"))?;
    if demo {
        flowforge_catalog::seed_demo(catalog.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        crate::demo::seed_demo_workflows(catalog.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        crate::demo::seed_demo_templates(catalog.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        crate::demo::seed_demo_dashboards(catalog.as_ref())
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(catalog)
}

/// Which backend serves `table` under `settings`: the one routing rule, used to build the
/// router and to record each table's backend in the catalog's serving-table registry.
fn backend_for(settings: &Settings, table: &ServingTable) -> CatalogBackend {
    if table.name == QUOTES_TABLE && settings.redis_url.is_some() {
        CatalogBackend::Redis
    } else if settings.materialize_url.is_some()
        && (settings.materialize_all || table.freshness == Freshness::Live)
    {
        CatalogBackend::Materialize
    } else if settings.clickhouse_url.is_some() {
        CatalogBackend::ClickHouse
    } else {
        CatalogBackend::Embedded
    }
}

/// Records in the catalog's registry which backend serves each table now, so schema browsers
/// (`/api/v1/schema/tables`) say where data comes from. Failures are logged, not fatal.
async fn record_routes(catalog: &dyn CatalogStore, settings: &Settings) {
    for table in serving_tables() {
        let backend = backend_for(settings, &table);
        match catalog.get_serving_table(table.name).await {
            Ok(mut registered) if registered.backend != backend => {
                registered.backend = backend;
                if let Err(error) = catalog.upsert_serving_table(registered).await {
                    tracing::warn!(table = table.name, %error, "cannot record the table's backend");
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(table = table.name, %error, "table not in the registry")
            }
        }
    }
}

/// Where the serving tables come from, with the readiness checks of each source.
struct ServingSources {
    data: Arc<dyn ServingData>,
    checks: Vec<Box<dyn flowforge_http::HealthCheck>>,
    redis: Option<Arc<RedisStore>>,
}

/// The serving data and its readiness checks: ClickHouse (else local Parquet) for analytics,
/// Materialize for live tables and Redis for latest-quote lookups when configured.
async fn serving_data(settings: &Settings) -> Result<ServingSources, String> {
    let (data, mut checks) = live_and_analytical_data(settings).await?;
    let Some(url) = &settings.redis_url else {
        return Ok(ServingSources {
            data,
            checks,
            redis: None,
        });
    };
    let store =
        Arc::new(RedisStore::new(url, REDIS_TIMEOUT).map_err(|e| format!("--redis-url: {e}"))?);
    match store.ping().await {
        Ok(()) => tracing::info!(server = %store.server(), "Redis ready"),
        Err(error) => tracing::warn!(server = %store.server(), %error, "Redis not reachable yet"),
    }
    checks.push(Box::new(crate::sessions::RedisHealth(Arc::clone(&store))));
    let quotes: Arc<dyn ServingData> = Arc::new(RedisData::new(
        Arc::clone(&store),
        &settings.redis_quote_prefix,
    ));
    let mut routed = RoutedData::new(data);
    for table in serving_tables() {
        if backend_for(settings, &table) == CatalogBackend::Redis {
            routed = routed.route(table.name, Arc::clone(&quotes));
        }
    }
    Ok(ServingSources {
        data: Arc::new(routed),
        checks,
        redis: Some(store),
    })
}

/// Materialize for live tables when configured, over the analytical data.
async fn live_and_analytical_data(
    settings: &Settings,
) -> Result<
    (
        Arc<dyn ServingData>,
        Vec<Box<dyn flowforge_http::HealthCheck>>,
    ),
    String,
> {
    let (analytics, health) = analytical_data(settings).await?;
    let mut checks = vec![health];
    let Some(url) = &settings.materialize_url else {
        return Ok((analytics, checks));
    };
    let backend = Arc::new(PostgresBackend::new(PostgresConfig {
        url: url.clone(),
        schema: "market".to_string(),
        statement_timeout: settings
            .statement_timeout
            .unwrap_or(Duration::from_secs(300)),
        label: "materialize".to_string(),
    }));
    match backend.ping().await {
        Ok(()) => tracing::info!("Materialize backend ready"),
        Err(error) => tracing::warn!(%error, "Materialize backend not reachable yet"),
    }
    checks.push(Box::new(crate::sessions::MaterializeHealth(Arc::clone(
        &backend,
    ))));
    let live: Arc<dyn ServingData> = Arc::new(RemoteData::new(backend));
    let mut routed = RoutedData::new(analytics);
    for table in serving_tables() {
        if backend_for(settings, &table) == CatalogBackend::Materialize {
            routed = routed.route(table.name, Arc::clone(&live));
        }
    }
    Ok((Arc::new(routed), checks))
}

/// ClickHouse when configured, else the embedded Parquet data.
async fn analytical_data(
    settings: &Settings,
) -> Result<(Arc<dyn ServingData>, Box<dyn flowforge_http::HealthCheck>), String> {
    // With ClickHouse every analytical table is served from there: no local sample data.
    let Some(url) = &settings.clickhouse_url else {
        let embedded = Arc::new(prepare_data(settings)?);
        let health = Box::new(crate::sessions::DataHealth(Arc::clone(&embedded)));
        return Ok((embedded, health));
    };
    let backend = Arc::new(
        ClickHouseBackend::new(ClickHouseConfig {
            url: url.clone(),
            database: settings.clickhouse_database.clone(),
            max_execution_time: settings
                .statement_timeout
                .unwrap_or(Duration::from_secs(300)),
            max_result_rows: settings.max_result_rows.map_or(0, |n| n.saturating_add(1)),
        })
        .map_err(|e| e.to_string())?,
    );
    let shown = url.host_str().unwrap_or("?").to_string();
    match backend.ping().await {
        Ok(()) => {
            tracing::info!(host = %shown, database = %settings.clickhouse_database, "ClickHouse backend ready")
        }
        Err(error) => tracing::warn!(host = %shown, %error, "ClickHouse backend not reachable yet"),
    }
    let health = Box::new(crate::sessions::ClickHouseHealth(Arc::clone(&backend)));
    Ok((Arc::new(RemoteData::new(backend)), health))
}

async fn serve(settings: Settings) -> Result<(), String> {
    let ServingSources {
        data,
        checks: data_health,
        redis,
    } = serving_data(&settings).await?;
    let catalog = open_catalog(
        &settings.data_dir,
        settings.catalog_url.as_deref(),
        settings.demo,
    )
    .await?;
    record_routes(catalog.as_ref(), &settings).await;
    let tls = tls_files(&settings)?;
    let ca = tls.as_ref().and_then(|(_, ca)| ca.clone());
    let tls = tls.map(|(files, _)| files);
    let has_backend = settings.clickhouse_url.is_some() || settings.materialize_url.is_some();
    let cache = settings
        .result_cache_ttl
        .filter(|_| has_backend)
        .map(|ttl| {
            let cache = ResultCache::new(ttl, RESULT_CACHE_MAX_ROWS, RESULT_CACHE_BYTES);
            Arc::new(match &redis {
                Some(store) => cache.with_shared_tier(Arc::clone(store)),
                None => cache,
            })
        });
    let queries = flowforge_http::QuerySettings {
        data: Arc::clone(&data),
        result_cache: cache.clone(),
        redis: redis.clone(),
        embed_rate_limit: settings.embed_rate_limit,
        embed_rate_window: settings.embed_rate_window,
    };
    let sessions = Arc::new(CatalogSessions::new(
        Arc::clone(&catalog),
        Arc::clone(&data),
        cache,
    ));
    let proxy = ProxyServer::bind(
        ProxyConfig {
            listen: settings.pg_listen,
            tls: tls.clone(),
            auth: settings.auth,
            max_result_rows: settings.max_result_rows,
            statement_timeout: settings.statement_timeout,
            ..ProxyConfig::default()
        },
        sessions,
    )
    .await
    .map_err(|e| e.to_string())?;
    let pg = proxy.local_addr();
    let psql = format!(
        "psql \"host={} port={} user=analyst@tenant-a.test dbname=flowforge\"",
        pg.ip(),
        pg.port()
    );
    let session_secret = match &settings.session_secret {
        Some(secret) => secret.as_bytes().to_vec(),
        None => session::load_or_create_secret(&settings.data_dir).map_err(|e| e.to_string())?,
    };
    if let Some(user) = &settings.dev_auth_user {
        eprintln!(
            "WARNING: dev auth is on: HTTP requests without credentials act as {user}; never use it in production"
        );
    }
    let http = flowforge_http::HttpServer::bind(
        flowforge_http::HttpConfig {
            listen: settings.http_listen,
            info: flowforge_http::ServerInfo {
                pgwire: pg,
                psql: psql.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            auth: flowforge_http::AuthSettings {
                session_secret,
                session_ttl: SESSION_TTL,
                oidc: settings.oidc.clone(),
                dev_auth_user: settings.dev_auth_user.clone(),
            },
            queries,
        },
        Arc::clone(&catalog),
        std::iter::once(
            Box::new(crate::sessions::CatalogHealth(Arc::clone(&catalog)))
                as Box<dyn flowforge_http::HealthCheck>,
        )
        .chain(data_health)
        .collect(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let web = http.local_addr().unwrap_or(settings.http_listen);
    println!("FlowForge {} is ready", env!("CARGO_PKG_VERSION"));
    println!(
        "  pgwire   {pg}  (TLS {}, auth {})",
        if tls.is_some() { "on" } else { "off" },
        match settings.auth {
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Password => "password",
        }
    );
    println!("  web      http://{web}/");
    println!("  api      http://{web}/api/v1  (docs http://{web}/docs)");
    println!("  data     {}", settings.data_dir.display());
    if let Some(ca) = &ca {
        println!("  tls ca   {}", ca.display());
    }
    println!("  connect  {psql}   (password analyst123)");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut http_stop = stop_rx.clone();
    let mut proxy_stop = stop_rx;
    let http_task = tokio::spawn(http.serve(async move {
        let _ = http_stop.wait_for(|v| *v).await;
    }));
    let proxy_task = tokio::spawn(proxy.serve(async move {
        let _ = proxy_stop.wait_for(|v| *v).await;
    }));
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let (h, p) = tokio::join!(http_task, proxy_task);
    h.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    p.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_settings_come_together_or_not_at_all() {
        let partial = ServeArgs {
            oidc_jwks_url: Some("http://127.0.0.1:1/certs".parse().unwrap()),
            ..ServeArgs::default()
        };
        let error = Settings::resolve(partial).unwrap_err();
        assert!(error.contains("must be given together"), "{error}");

        let full = ServeArgs {
            oidc_jwks_url: Some("http://127.0.0.1:1/certs".parse().unwrap()),
            oidc_issuer: Some("https://idp.test/realms/ff".into()),
            oidc_audience: Some("flowforge".into()),
            ..ServeArgs::default()
        };
        let oidc = Settings::resolve(full).unwrap().oidc.unwrap();
        assert_eq!(oidc.tenant_claim, "tenant");
        assert_eq!(oidc.audience, "flowforge");
    }

    #[test]
    fn auth_settings_are_read_from_the_file_and_short_secrets_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowforge.toml");
        std::fs::write(
            &path,
            "dev_auth_user = \"viewer@tenant-b.test\"\noidc_tenant_claim = \"org\"\n\
             oidc_jwks_url = \"http://127.0.0.1:1/certs\"\noidc_issuer = \"i\"\noidc_audience = \"a\"\n",
        )
        .unwrap();
        let settings = Settings::resolve(ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(
            settings.dev_auth_user.as_deref(),
            Some("viewer@tenant-b.test")
        );
        assert_eq!(settings.oidc.unwrap().tenant_claim, "org");
        assert!(settings.session_secret.is_none());

        let error = Settings::resolve(ServeArgs {
            config: Some(path),
            session_secret: Some("too-short".into()),
            ..ServeArgs::default()
        })
        .unwrap_err();
        assert!(error.contains("at least 32 bytes"), "{error}");
    }
}
