//! The embedded demo's content: published workflows for the demo tenants.

use flowforge_catalog::{CatalogError, CatalogStore, NewWorkflow};

/// Workflows every demo tenant gets: (definition JSON).
const SHARED: [&str; 5] = [
    include_str!("demo/trades_by_symbol.json"),
    include_str!("demo/notional_by_sector.json"),
    include_str!("demo/hourly_ohlcv.json"),
    include_str!("demo/vwap.json"),
    include_str!("demo/large_trades.json"),
];

/// Workflows only tenant B gets, so cross-tenant isolation of view names can be seen.
const TENANT_B_ONLY: [&str; 1] = [include_str!("demo/bank_exposure.json")];

/// Creates and publishes the demo workflows of tenants that have none yet. Idempotent.
pub async fn seed_demo_workflows(store: &dyn CatalogStore) -> Result<usize, CatalogError> {
    let mut created = 0;
    for tenant in store.list_tenants().await? {
        if !store.list_workflows(&tenant.id).await?.is_empty() {
            continue;
        }
        let Some(author) = store.list_users(&tenant.id).await?.into_iter().next() else {
            continue;
        };
        let mut definitions: Vec<&str> = SHARED.to_vec();
        if tenant.slug == "tenant-b" {
            definitions.extend(TENANT_B_ONLY);
        }
        for text in definitions {
            let definition: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| CatalogError::InvalidInput(format!("demo workflow: {e}")))?;
            let name = definition["name"]
                .as_str()
                .unwrap_or("Demo workflow")
                .to_string();
            let description = definition["description"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let workflow = store
                .create_workflow(NewWorkflow {
                    tenant_id: tenant.id.clone(),
                    name,
                    view_name: None,
                    description,
                    definition,
                    created_by: author.id.clone(),
                })
                .await?;
            store
                .set_workflow_published(&tenant.id, &workflow.id, true)
                .await?;
            created += 1;
        }
    }
    Ok(created)
}
