//! `flowforge api-key`: create, list and revoke a tenant's API keys in the catalog.
//!
//! A key logs in over pgwire with its public id as the user name and its secret as the password
//! (SCRAM-SHA-256), and authenticates embeds over HTTP. The secret is shown once, at creation.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use flowforge_catalog::{CatalogLocation, NewApiKey, PostgresCatalogOptions, Role};

/// Arguments of `flowforge api-key`.
#[derive(Debug, Args)]
pub struct ApiKeyArgs {
    /// Data folder holding the catalog.
    #[arg(long, env = "FLOWFORGE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// The catalog, as for `flowforge serve --catalog-url` (`sqlite:<path>` or
    /// `postgres://...`). [default: the SQLite file in the data folder]
    #[arg(long, env = "FLOWFORGE_CATALOG_URL", global = true)]
    pub catalog_url: Option<String>,
    #[command(subcommand)]
    pub action: ApiKeyAction,
}

/// What to do with API keys.
#[derive(Debug, Subcommand)]
pub enum ApiKeyAction {
    /// Create a key and print its secret (shown only this once).
    Create {
        /// Tenant slug, e.g. tenant-a.
        #[arg(long)]
        tenant: String,
        /// Label, e.g. grafana-prod.
        #[arg(long)]
        name: String,
        /// Role the key acts with: viewer, analyst or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// List a tenant's keys (never their secrets).
    List {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key by its public id (key_...).
    Revoke {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Public id of the key.
        public_id: String,
    },
}

fn parse_role(role: &str) -> Result<Role, String> {
    match role {
        "viewer" => Ok(Role::Viewer),
        "analyst" => Ok(Role::Analyst),
        "admin" => Ok(Role::Admin),
        other => Err(format!(
            "unknown role '{other}'; use viewer, analyst or admin"
        )),
    }
}

/// Runs `flowforge api-key`.
pub fn run(args: ApiKeyArgs) -> Result<ExitCode, String> {
    let location = match &args.catalog_url {
        Some(url) => url.parse::<CatalogLocation>().map_err(|e| e.to_string())?,
        None => {
            let path = super::data_dir(args.data_dir.clone()).join(super::serve::CATALOG_FILE);
            if !path.exists() {
                return Err(format!(
                    "no catalog at {}; run `flowforge serve` once first",
                    path.display()
                ));
            }
            CatalogLocation::Sqlite(path)
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let catalog = location
            .open(&PostgresCatalogOptions::default())
            .await
            .map_err(|e| format!("catalog {location}: {e}"))?;
        match args.action {
            ApiKeyAction::Create { tenant, name, role } => {
                let tenant = catalog
                    .get_tenant_by_slug(&tenant)
                    .await
                    .map_err(|e| e.to_string())?;
                let created = catalog
                    .create_api_key(NewApiKey {
                        tenant_id: tenant.id.clone(),
                        name,
                        role: parse_role(&role)?,
                        created_by: "cli".to_string(),
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                println!("public id  {}", created.key.public_id);
                println!("secret     {}", created.secret);
                println!(
                    "(the secret is shown once; log in with user={} and the secret as password)",
                    created.key.public_id
                );
            }
            ApiKeyAction::List { tenant } => {
                let tenant = catalog
                    .get_tenant_by_slug(&tenant)
                    .await
                    .map_err(|e| e.to_string())?;
                for key in catalog
                    .list_api_keys(&tenant.id)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    let state = if key.is_active() { "active" } else { "revoked" };
                    println!(
                        "{}  {:<24} {:<8} {}  {}…",
                        key.public_id,
                        key.name,
                        format!("{:?}", key.role).to_lowercase(),
                        state,
                        key.prefix
                    );
                }
            }
            ApiKeyAction::Revoke { tenant, public_id } => {
                let tenant = catalog
                    .get_tenant_by_slug(&tenant)
                    .await
                    .map_err(|e| e.to_string())?;
                let key = catalog
                    .list_api_keys(&tenant.id)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .find(|k| k.public_id == public_id)
                    .ok_or_else(|| format!("no key {public_id} in tenant {}", tenant.slug))?;
                catalog
                    .revoke_api_key(&tenant.id, &key.id)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("revoked {public_id}");
            }
        }
        Ok::<_, String>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
