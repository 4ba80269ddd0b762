//! The embedded demo's content: published workflows and a dashboard for each demo tenant, and
//! the built-in workflow templates. Every seeding step only adds what is missing, so it runs on
//! every start.

use flowforge_catalog::{
    CatalogError, CatalogStore, FilterKind, GlobalFilter, NewDashboard, NewTemplate, NewWidget,
    NewWorkflow, Role, Tenant, User, WidgetLayout,
};
use serde_json::{json, Value};

const TRADES_BY_SYMBOL: &str = include_str!("demo/trades_by_symbol.json");
const NOTIONAL_BY_SECTOR: &str = include_str!("demo/notional_by_sector.json");
const HOURLY_OHLCV: &str = include_str!("demo/hourly_ohlcv.json");
const VWAP: &str = include_str!("demo/vwap.json");
const LARGE_TRADES: &str = include_str!("demo/large_trades.json");
const BANK_EXPOSURE: &str = include_str!("demo/bank_exposure.json");

/// Workflows every demo tenant gets: (definition JSON).
const SHARED: [&str; 5] = [
    TRADES_BY_SYMBOL,
    NOTIONAL_BY_SECTOR,
    HOURLY_OHLCV,
    VWAP,
    LARGE_TRADES,
];

/// Workflows only tenant B gets, so cross-tenant isolation of view names can be seen.
const TENANT_B_ONLY: [&str; 1] = [BANK_EXPOSURE];

/// Built-in templates, one per demo workflow: (gallery category, definition JSON).
const TEMPLATES: [(&str, &str); 6] = [
    ("aggregation", TRADES_BY_SYMBOL),
    ("aggregation", BANK_EXPOSURE),
    ("charts", NOTIONAL_BY_SECTOR),
    ("charts", HOURLY_OHLCV),
    ("filtering", LARGE_TRADES),
    ("window", VWAP),
];

/// One widget of a demo dashboard: the published workflow's view name, its output node, the
/// widget title and its grid cell (x, y, w, h).
struct DemoWidget {
    view_name: &'static str,
    node_id: &'static str,
    title: &'static str,
    cell: (u32, u32, u32, u32),
}

/// The dashboard each demo tenant gets: (tenant slug, name, description, refresh seconds,
/// widgets).
const DASHBOARDS: [(&str, &str, &str, u32, &[DemoWidget]); 2] = [
    (
        "tenant-a",
        "Markets overview",
        "Activity, hourly bars and block trades across the desk's symbols.",
        60,
        &[
            DemoWidget {
                view_name: "trades_by_symbol",
                node_id: "table",
                title: "Trades by symbol",
                cell: (0, 0, 6, 4),
            },
            DemoWidget {
                view_name: "hourly_ohlcv",
                node_id: "candles",
                title: "Hourly bars",
                cell: (6, 0, 6, 4),
            },
            DemoWidget {
                view_name: "large_trades",
                node_id: "table",
                title: "Large trades",
                cell: (0, 4, 12, 5),
            },
        ],
    ),
    (
        "tenant-b",
        "Bank desk",
        "Net exposure in bank stocks next to the desk's trading activity.",
        300,
        &[
            DemoWidget {
                view_name: "bank_exposure",
                node_id: "table",
                title: "Bank exposure",
                cell: (0, 0, 6, 4),
            },
            DemoWidget {
                view_name: "trades_by_symbol",
                node_id: "table",
                title: "Trades by symbol",
                cell: (6, 0, 6, 4),
            },
            DemoWidget {
                view_name: "hourly_ohlcv",
                node_id: "candles",
                title: "Hourly bars",
                cell: (0, 4, 12, 5),
            },
        ],
    ),
];

fn parse(text: &str) -> Result<Value, CatalogError> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::InvalidInput(format!("demo workflow: {e}")))
}

fn text_field(definition: &Value, field: &str, fallback: &str) -> String {
    definition[field].as_str().unwrap_or(fallback).to_string()
}

/// The user demo content is attributed to: the tenant's first admin, else its first user.
async fn author(store: &dyn CatalogStore, tenant: &Tenant) -> Result<Option<User>, CatalogError> {
    let users = store.list_users(&tenant.id).await?;
    Ok(users
        .iter()
        .find(|u| u.role == Role::Admin)
        .or(users.first())
        .cloned())
}

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
            let definition = parse(text)?;
            let name = text_field(&definition, "name", "Demo workflow");
            let description = text_field(&definition, "description", "");
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

/// Adds the built-in templates that are missing (matched by name), so every tenant's template
/// gallery starts with the demo workflows. Idempotent, also when two servers seed at once.
pub async fn seed_demo_templates(store: &dyn CatalogStore) -> Result<usize, CatalogError> {
    let mut created = 0;
    for (category, text) in TEMPLATES {
        let definition = parse(text)?;
        let template = NewTemplate {
            tenant_id: None,
            name: text_field(&definition, "name", "Demo workflow"),
            description: text_field(&definition, "description", ""),
            category: category.to_string(),
            definition,
        };
        match store.create_template(template).await {
            Ok(_) => created += 1,
            // Already there: names are unique among the built-ins.
            Err(CatalogError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

/// Gives each demo tenant that has no dashboard yet its demo dashboard, with widgets pinned to
/// the outputs of its published demo workflows (widgets whose workflow is missing or
/// unpublished are left out). Returns the number of dashboards created. Idempotent.
pub async fn seed_demo_dashboards(store: &dyn CatalogStore) -> Result<usize, CatalogError> {
    let mut created = 0;
    for (slug, name, description, refresh, widgets) in DASHBOARDS {
        let tenant = match store.get_tenant_by_slug(slug).await {
            Ok(tenant) => tenant,
            Err(CatalogError::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        if !store.list_dashboards(&tenant.id).await?.is_empty() {
            continue;
        }
        let Some(author) = author(store, &tenant).await? else {
            continue;
        };
        let mut sources = Vec::new();
        for widget in widgets {
            match store
                .get_workflow_by_view_name(&tenant.id, widget.view_name)
                .await
            {
                Ok(workflow) if workflow.published => sources.push((widget, workflow)),
                Ok(_) | Err(CatalogError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if sources.is_empty() {
            continue;
        }
        let dashboard = store
            .create_dashboard(NewDashboard {
                tenant_id: tenant.id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                refresh_interval_seconds: Some(refresh),
                global_filters: vec![GlobalFilter {
                    id: "symbol".to_string(),
                    column: "symbol".to_string(),
                    label: "Symbol".to_string(),
                    kind: FilterKind::Values,
                    default: None,
                }],
                created_by: author.id.clone(),
            })
            .await?;
        for (widget, workflow) in sources {
            let (x, y, w, h) = widget.cell;
            store
                .create_widget(NewWidget {
                    tenant_id: tenant.id.clone(),
                    dashboard_id: dashboard.id.clone(),
                    workflow_id: workflow.id,
                    node_id: widget.node_id.to_string(),
                    title: widget.title.to_string(),
                    layout: WidgetLayout { x, y, w, h },
                    filters: vec!["symbol".to_string()],
                    config: json!({}),
                })
                .await?;
        }
        created += 1;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use flowforge_catalog::{seed_demo, SqliteCatalog};

    use super::*;

    async fn seed_all(store: &dyn CatalogStore) -> (usize, usize, usize) {
        seed_demo(store).await.unwrap();
        (
            seed_demo_workflows(store).await.unwrap(),
            seed_demo_templates(store).await.unwrap(),
            seed_demo_dashboards(store).await.unwrap(),
        )
    }

    #[tokio::test]
    async fn demo_seeding_is_complete_and_idempotent() {
        let store = SqliteCatalog::open_in_memory().unwrap();
        assert_eq!(seed_all(&store).await, (11, 6, 2));
        assert_eq!(seed_all(&store).await, (0, 0, 0));

        for tenant in store.list_tenants().await.unwrap() {
            let templates = store.list_templates(&tenant.id).await.unwrap();
            assert_eq!(templates.len(), 6);
            assert!(templates.iter().all(|t| t.tenant_id.is_none()));

            let dashboards = store.list_dashboards(&tenant.id).await.unwrap();
            assert_eq!(dashboards.len(), 1, "{}", tenant.slug);
            let widgets = store
                .list_widgets(&tenant.id, &dashboards[0].id)
                .await
                .unwrap();
            assert_eq!(widgets.len(), 3, "{}", tenant.slug);
            for widget in widgets {
                // Each widget shows an output node that exists in its published workflow.
                let workflow = store
                    .get_workflow(&tenant.id, &widget.workflow_id)
                    .await
                    .unwrap();
                assert!(workflow.published);
                let node = workflow.definition["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|n| n["id"] == widget.node_id.as_str())
                    .unwrap_or_else(|| panic!("{} has no node {}", workflow.name, widget.node_id));
                assert!(
                    matches!(node["type"].as_str(), Some("table_view" | "candlestick")),
                    "{node}"
                );
            }
        }
        let b = store.get_tenant_by_slug("tenant-b").await.unwrap();
        let bank = store.list_dashboards(&b.id).await.unwrap().remove(0);
        let titles: Vec<String> = store
            .list_widgets(&b.id, &bank.id)
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.title)
            .collect();
        assert_eq!(titles, ["Bank exposure", "Trades by symbol", "Hourly bars"]);
    }

    #[tokio::test]
    async fn a_deleted_demo_workflow_leaves_its_widget_out() {
        let store = SqliteCatalog::open_in_memory().unwrap();
        seed_demo(&store).await.unwrap();
        seed_demo_workflows(&store).await.unwrap();
        let a = store.get_tenant_by_slug("tenant-a").await.unwrap();
        let large = store
            .get_workflow_by_view_name(&a.id, "large_trades")
            .await
            .unwrap();
        store.delete_workflow(&a.id, &large.id).await.unwrap();
        assert_eq!(seed_demo_dashboards(&store).await.unwrap(), 2);
        let dashboard = store.list_dashboards(&a.id).await.unwrap().remove(0);
        assert_eq!(
            store
                .list_widgets(&a.id, &dashboard.id)
                .await
                .unwrap()
                .len(),
            2
        );
    }
}
