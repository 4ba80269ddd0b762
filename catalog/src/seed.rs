//! The demo data set (`flowforge serve` with no configuration): two tenants, four users,
//! entitlements and the serving-table registry. Seeding only adds what is missing, so it can
//! run on every start without undoing an administrator's changes.

use serde::Serialize;

use crate::serving::default_serving_tables;
use crate::{CatalogError, CatalogStore, NewUser, Role};

/// One demo tenant with its entitlements.
struct DemoTenant {
    slug: &'static str,
    name: &'static str,
    symbols: &'static [&'static str],
}

const DEMO_TENANTS: [DemoTenant; 2] = [
    DemoTenant {
        slug: "tenant-a",
        name: "Tenant A Capital",
        symbols: &["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "JPM"],
    },
    DemoTenant {
        slug: "tenant-b",
        name: "Tenant B Markets",
        symbols: &["TSLA", "META", "JPM", "BAC", "GS"],
    },
];

/// Demo users: (tenant slug, email, password, role).
const DEMO_USERS: [(&str, &str, &str, Role); 4] = [
    ("tenant-a", "admin@tenant-a.test", "admin123", Role::Admin),
    (
        "tenant-a",
        "analyst@tenant-a.test",
        "analyst123",
        Role::Analyst,
    ),
    ("tenant-b", "admin@tenant-b.test", "admin123", Role::Admin),
    (
        "tenant-b",
        "viewer@tenant-b.test",
        "viewer123",
        Role::Viewer,
    ),
];

/// What a seeding run added; all zero when the catalog was already seeded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    /// Tenants created.
    pub tenants_created: usize,
    /// Users created.
    pub users_created: usize,
    /// Tenants whose (empty) entitlement list was filled.
    pub entitlements_seeded: usize,
    /// Serving tables registered.
    pub serving_tables_registered: usize,
}

impl SeedReport {
    /// Whether the run changed nothing.
    pub fn is_noop(&self) -> bool {
        *self == SeedReport::default()
    }
}

/// Adds whatever part of the demo data set is missing. Existing rows are never modified: a
/// tenant's entitlements are seeded only while it has none, users only when their email is
/// unregistered (an existing user's password is left alone), serving tables only when
/// unregistered.
pub async fn seed_demo(store: &dyn CatalogStore) -> Result<SeedReport, CatalogError> {
    let mut report = SeedReport::default();

    for table in default_serving_tables() {
        match store.get_serving_table(&table.name).await {
            Ok(_) => {}
            Err(CatalogError::NotFound { .. }) => {
                store.upsert_serving_table(table).await?;
                report.serving_tables_registered += 1;
            }
            Err(e) => return Err(e),
        }
    }

    for demo in &DEMO_TENANTS {
        let tenant = match store.get_tenant_by_slug(demo.slug).await {
            Ok(tenant) => tenant,
            Err(CatalogError::NotFound { .. }) => {
                report.tenants_created += 1;
                store.create_tenant(demo.slug, demo.name).await?
            }
            Err(e) => return Err(e),
        };
        if store.list_entitlements(&tenant.id).await?.is_empty() {
            let symbols: Vec<String> = demo.symbols.iter().map(|s| s.to_string()).collect();
            store.set_entitlements(&tenant.id, &symbols).await?;
            report.entitlements_seeded += 1;
        }
    }

    for (slug, email, password, role) in DEMO_USERS {
        if store.user_credentials_by_email(email).await?.is_some() {
            continue;
        }
        let tenant = store.get_tenant_by_slug(slug).await?;
        store
            .create_user(NewUser {
                tenant_id: tenant.id,
                email: email.to_string(),
                role,
                password: password.to_string(),
            })
            .await?;
        report.users_created += 1;
    }

    if !report.is_noop() {
        tracing::info!(?report, "seeded demo catalog");
    }
    Ok(report)
}
