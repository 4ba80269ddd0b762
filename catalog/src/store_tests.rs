//! Behavioural tests of the [`CatalogStore`] contract. Each scenario is written against
//! `&dyn CatalogStore` and runs on both stores, SQLite and PostgreSQL; the store-specific checks
//! (what actually lands in the database) are at the end.

use futures::future::join_all;
use serde_json::json;

use crate::*;

async fn sqlite() -> SqliteCatalog {
    SqliteCatalog::open_in_memory().unwrap()
}

async fn seeded(store: &dyn CatalogStore) -> (Tenant, Tenant) {
    seed_demo(store).await.unwrap();
    (
        store.get_tenant_by_slug("tenant-a").await.unwrap(),
        store.get_tenant_by_slug("tenant-b").await.unwrap(),
    )
}

fn new_workflow(tenant: &Tenant, name: &str, definition: serde_json::Value) -> NewWorkflow {
    NewWorkflow {
        tenant_id: tenant.id.clone(),
        name: name.to_string(),
        view_name: None,
        description: String::new(),
        definition,
        created_by: "user-1".to_string(),
    }
}

fn edit(definition: serde_json::Value) -> WorkflowUpdate {
    WorkflowUpdate {
        definition: Some(definition),
        updated_by: "user-1".to_string(),
        ..WorkflowUpdate::default()
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, CatalogError>) -> bool {
    matches!(result, Err(CatalogError::NotFound { .. }))
}

fn is_conflict<T: std::fmt::Debug>(result: Result<T, CatalogError>) -> bool {
    matches!(result, Err(CatalogError::Conflict(_)))
}

// ---------------------------------------------------------------- seeding

async fn check_seed_is_idempotent(store: &dyn CatalogStore) {
    let first = seed_demo(store).await.unwrap();
    assert_eq!(
        first,
        SeedReport {
            tenants_created: 2,
            users_created: 4,
            entitlements_seeded: 2,
            serving_tables_registered: 8,
        }
    );
    let tenants = store.list_tenants().await.unwrap();
    let a = store.get_tenant_by_slug("tenant-a").await.unwrap();
    let b = store.get_tenant_by_slug("tenant-b").await.unwrap();
    assert_eq!(a.name, "Tenant A Capital");
    assert_eq!(b.name, "Tenant B Markets");
    assert_eq!(
        store.list_entitlements(&a.id).await.unwrap(),
        ["AAPL", "AMZN", "GOOGL", "JPM", "MSFT", "NVDA"]
    );
    assert_eq!(
        store.list_entitlements(&b.id).await.unwrap(),
        ["BAC", "GS", "JPM", "META", "TSLA"]
    );
    let users_a = store.list_users(&a.id).await.unwrap();
    let users_b = store.list_users(&b.id).await.unwrap();
    let summary = |users: &[User]| -> Vec<(String, Role)> {
        users.iter().map(|u| (u.email.clone(), u.role)).collect()
    };
    assert_eq!(
        summary(&users_a),
        [
            ("admin@tenant-a.test".to_string(), Role::Admin),
            ("analyst@tenant-a.test".to_string(), Role::Analyst)
        ]
    );
    assert_eq!(
        summary(&users_b),
        [
            ("admin@tenant-b.test".to_string(), Role::Admin),
            ("viewer@tenant-b.test".to_string(), Role::Viewer)
        ]
    );
    let tables = store.list_serving_tables().await.unwrap();
    assert_eq!(tables.len(), 8);
    assert!(tables
        .iter()
        .all(|t| t.backend == Backend::Embedded && t.enabled));
    assert_eq!(
        store.get_serving_table("live_pnl").await.unwrap().freshness,
        Freshness::Live
    );
    assert_eq!(
        store
            .get_serving_table("agg_ohlcv_1d")
            .await
            .unwrap()
            .freshness,
        Freshness::HistoricalRollup
    );

    let second = seed_demo(store).await.unwrap();
    assert!(second.is_noop(), "{second:?}");
    assert_eq!(store.list_tenants().await.unwrap(), tenants);
    assert_eq!(store.list_users(&a.id).await.unwrap(), users_a);
    assert_eq!(store.list_users(&b.id).await.unwrap(), users_b);
    assert_eq!(store.list_serving_tables().await.unwrap(), tables);
}

async fn check_seed_keeps_admin_changes(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    store
        .set_entitlements(&a.id, &["AAPL".to_string()])
        .await
        .unwrap();
    store
        .set_serving_table_enabled("fct_quotes", false)
        .await
        .unwrap();
    let analyst = store
        .user_credentials_by_email("analyst@tenant-a.test")
        .await
        .unwrap()
        .unwrap()
        .user;
    store
        .set_user_password(&a.id, &analyst.id, "a-new-password")
        .await
        .unwrap();

    assert!(seed_demo(store).await.unwrap().is_noop());
    assert_eq!(store.list_entitlements(&a.id).await.unwrap(), ["AAPL"]);
    assert!(!store.get_serving_table("fct_quotes").await.unwrap().enabled);
    assert!(
        authenticate_password(store, "analyst@tenant-a.test", "a-new-password")
            .await
            .is_ok()
    );
}

// ---------------------------------------------------------------- passwords and users

async fn check_password_authentication(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;

    let admin = authenticate_password(store, "admin@tenant-a.test", "admin123")
        .await
        .unwrap();
    assert_eq!(admin.tenant_id, a.id);
    assert_eq!(admin.tenant_slug, "tenant-a");
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(admin.email_or_key_name, "admin@tenant-a.test");
    assert!(admin.user_id.is_some() && admin.api_key_id.is_none());
    assert_eq!(
        admin.entitlements,
        ["AAPL", "AMZN", "GOOGL", "JPM", "MSFT", "NVDA"]
    );
    assert_eq!(admin.actor_id(), admin.user_id.as_deref().unwrap());

    let viewer = authenticate_password(store, " Viewer@Tenant-B.test ", "viewer123")
        .await
        .unwrap();
    assert_eq!(viewer.tenant_id, b.id);
    assert_eq!(viewer.role, Role::Viewer);
    assert!(!viewer.role.can_read_market_tables());

    let wrong = authenticate_password(store, "admin@tenant-a.test", "admin124").await;
    let unknown = authenticate_password(store, "nobody@tenant-a.test", "admin123").await;
    assert_eq!(wrong, Err(CatalogError::InvalidCredentials));
    assert_eq!(unknown, Err(CatalogError::InvalidCredentials));
    // Same admin password in both tenants must still resolve to the right tenant.
    let admin_b = authenticate_password(store, "admin@tenant-b.test", "admin123")
        .await
        .unwrap();
    assert_eq!(admin_b.tenant_slug, "tenant-b");
}

async fn check_user_management(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let new_user = |email: &str, password: &str| NewUser {
        tenant_id: a.id.clone(),
        email: email.to_string(),
        role: Role::Analyst,
        password: password.to_string(),
    };

    let user = store
        .create_user(new_user("Quant@Tenant-A.test", "quant-pass-1"))
        .await
        .unwrap();
    assert_eq!(user.email, "quant@tenant-a.test");
    assert!(is_conflict(
        store
            .create_user(new_user("QUANT@tenant-a.test", "another-pass"))
            .await
    ));
    assert!(matches!(
        store
            .create_user(new_user("short@tenant-a.test", "short"))
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
    assert!(matches!(
        store
            .create_user(new_user("not-an-email", "long-enough"))
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
    assert!(is_not_found(
        store
            .create_user(NewUser {
                tenant_id: "no-such-tenant".into(),
                ..new_user("ghost@tenant-a.test", "long-enough")
            })
            .await
    ));

    store
        .set_user_password(&a.id, &user.id, "quant-pass-2")
        .await
        .unwrap();
    assert_eq!(
        authenticate_password(store, "quant@tenant-a.test", "quant-pass-1").await,
        Err(CatalogError::InvalidCredentials)
    );
    assert!(
        authenticate_password(store, "quant@tenant-a.test", "quant-pass-2")
            .await
            .is_ok()
    );

    let promoted = store
        .set_user_role(&a.id, &user.id, Role::Admin)
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Admin);
    let identity = identity_for_user(store, &a.id, &user.id).await.unwrap();
    assert_eq!(identity.role, Role::Admin);

    // Tenant B's admin cannot see or touch tenant A's user.
    assert!(is_not_found(store.get_user(&b.id, &user.id).await));
    assert!(is_not_found(
        store.set_user_role(&b.id, &user.id, Role::Viewer).await
    ));
    assert!(is_not_found(store.delete_user(&b.id, &user.id).await));

    store.delete_user(&a.id, &user.id).await.unwrap();
    assert_eq!(
        authenticate_password(store, "quant@tenant-a.test", "quant-pass-2").await,
        Err(CatalogError::InvalidCredentials)
    );
}

async fn check_scram_login_for_users(store: &dyn CatalogStore) {
    seeded(store).await;
    let (identity, verifier) = identity_for_login(store, "analyst@tenant-a.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(identity.role, Role::Analyst);
    assert_eq!(verifier.iterations, DEFAULT_SCRAM_ITERATIONS);
    assert_eq!(verifier.salt.len(), SCRAM_SALT_LEN);
    // The stored verifier is exactly what a client holding the password derives.
    let expected =
        ScramVerifier::from_password("analyst123", &verifier.salt, verifier.iterations).unwrap();
    assert_eq!(verifier, expected);
    let wrong =
        ScramVerifier::from_password("analyst124", &verifier.salt, verifier.iterations).unwrap();
    assert_ne!(verifier, wrong);

    assert!(identity_for_login(store, "nobody@tenant-a.test")
        .await
        .unwrap()
        .is_none());
    assert!(identity_for_login(store, "key_doesnotexist")
        .await
        .unwrap()
        .is_none());
}

// ---------------------------------------------------------------- API keys

async fn check_api_key_lifecycle(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let created = store
        .create_api_key(NewApiKey {
            tenant_id: a.id.clone(),
            name: "grafana".to_string(),
            role: Role::Viewer,
            created_by: "admin".to_string(),
        })
        .await
        .unwrap();
    let secret = created.secret.clone();
    let key = created.key.clone();
    assert!(secret.starts_with("sk_live_") && secret.len() == 8 + 32);
    assert!(key.public_id.starts_with("key_") && key.public_id.len() == 4 + 12);
    assert!(secret.starts_with(&key.prefix) && key.prefix.len() < secret.len());
    assert!(key.is_active());

    // Shown once: nothing readable afterwards carries the secret.
    let listed = store.list_api_keys(&a.id).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&key));
    let listed_json = serde_json::to_string(&listed).unwrap();
    assert!(!listed_json.contains(&secret));
    assert!(!format!("{created:?}").contains(&secret));

    let by_secret = identity_for_api_key_secret(store, &secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_secret.tenant_id, a.id);
    assert_eq!(by_secret.api_key_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(by_secret.user_id, None);
    assert_eq!(by_secret.role, Role::Viewer);
    assert_eq!(by_secret.email_or_key_name, "grafana");
    assert_eq!(by_secret.actor_id(), key.id);

    let (by_login, verifier) = identity_for_login(store, &key.public_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_login, by_secret);
    assert_eq!(
        verifier,
        ScramVerifier::from_password(&secret, &verifier.salt, verifier.iterations).unwrap()
    );

    let mut tampered = secret.clone();
    tampered.pop();
    tampered.push(if secret.ends_with('A') { 'B' } else { 'A' });
    assert!(identity_for_api_key_secret(store, &tampered)
        .await
        .unwrap()
        .is_none());
    assert!(identity_for_api_key_secret(store, "not a key")
        .await
        .unwrap()
        .is_none());

    // Another tenant can neither see nor revoke it.
    assert!(is_not_found(store.get_api_key(&b.id, &key.id).await));
    assert!(is_not_found(store.revoke_api_key(&b.id, &key.id).await));
    assert!(store.list_api_keys(&b.id).await.unwrap().is_empty());

    let revoked = store.revoke_api_key(&a.id, &key.id).await.unwrap();
    let revoked_at = revoked.revoked_at.expect("revocation time recorded");
    assert!(!revoked.is_active());
    assert!(identity_for_api_key_secret(store, &secret)
        .await
        .unwrap()
        .is_none());
    assert!(identity_for_login(store, &key.public_id)
        .await
        .unwrap()
        .is_none());
    let again = store.revoke_api_key(&a.id, &key.id).await.unwrap();
    assert_eq!(again.revoked_at, Some(revoked_at));
}

async fn check_api_key_roles(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let analyst_key = store
        .create_api_key(NewApiKey {
            tenant_id: a.id.clone(),
            name: "notebook".to_string(),
            role: Role::Analyst,
            created_by: "admin".to_string(),
        })
        .await
        .unwrap();
    let identity = identity_for_api_key_secret(store, &analyst_key.secret)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(identity.role, Role::Analyst);
    assert!(is_not_found(
        store
            .create_api_key(NewApiKey {
                tenant_id: "missing".into(),
                name: "x".into(),
                role: Role::Viewer,
                created_by: "admin".into(),
            })
            .await
    ));
    assert!(matches!(
        store
            .create_api_key(NewApiKey {
                tenant_id: a.id.clone(),
                name: "  ".into(),
                role: Role::Viewer,
                created_by: "admin".into(),
            })
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
}

// ---------------------------------------------------------------- tenants, entitlements, registry

async fn check_tenants_and_entitlements(store: &dyn CatalogStore) {
    let t = store.create_tenant("Desk-C", "Desk C").await.unwrap();
    assert_eq!(t.slug, "desk-c");
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), t);
    assert!(is_conflict(store.create_tenant("desk-c", "Again").await));
    assert!(matches!(
        store.create_tenant("desk c", "Bad").await,
        Err(CatalogError::InvalidInput(_))
    ));
    assert!(is_not_found(store.get_tenant("missing").await));

    let set = store
        .set_entitlements(
            &t.id,
            &["msft".to_string(), "AAPL".to_string(), "MSFT".to_string()],
        )
        .await
        .unwrap();
    assert_eq!(set, ["AAPL", "MSFT"]);
    assert_eq!(store.list_entitlements(&t.id).await.unwrap(), set);
    assert!(matches!(
        store
            .set_entitlements(&t.id, &["AAPL; DROP".to_string()])
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
    // A rejected update leaves the old set in place.
    assert_eq!(store.list_entitlements(&t.id).await.unwrap(), set);
    assert!(is_not_found(store.set_entitlements("missing", &[]).await));
}

async fn check_serving_table_registry(store: &dyn CatalogStore) {
    seed_demo(store).await.unwrap();
    let moved = store
        .upsert_serving_table(ServingTable {
            name: "fct_trades".into(),
            backend: Backend::ClickHouse,
            freshness: Freshness::Analytical,
            description: "Trades on ClickHouse".into(),
            enabled: true,
        })
        .await
        .unwrap();
    assert_eq!(moved.backend, Backend::ClickHouse);
    assert_eq!(store.get_serving_table("fct_trades").await.unwrap(), moved);
    assert_eq!(store.list_serving_tables().await.unwrap().len(), 8);

    let off = store
        .set_serving_table_enabled("live_pnl", false)
        .await
        .unwrap();
    assert!(!off.enabled);
    assert!(is_not_found(store.get_serving_table("nope").await));
    assert!(is_not_found(
        store.set_serving_table_enabled("nope", true).await
    ));
    assert!(matches!(
        store
            .upsert_serving_table(ServingTable {
                name: "Bad Name".into(),
                ..moved
            })
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
}

// ---------------------------------------------------------------- workflows

async fn check_workflow_versions(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let v1 = json!({"nodes": [{"id": "src", "type": "data_source", "table": "fct_trades"}]});
    let v2 = json!({"nodes": [{"id": "src", "type": "data_source", "table": "fct_quotes"}]});
    let v3 = json!({"nodes": []});

    let wf = store
        .create_workflow(new_workflow(&a, "Daily PnL", v1.clone()))
        .await
        .unwrap();
    assert_eq!(wf.current_version, 1);
    assert!(!wf.published);
    assert_eq!(wf.view_name, "daily_pnl");
    assert_eq!(store.get_workflow(&a.id, &wf.id).await.unwrap(), wf);

    let updated = store
        .update_workflow(
            &a.id,
            &wf.id,
            WorkflowUpdate {
                note: Some("switch to quotes".into()),
                ..edit(v2.clone())
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.current_version, 2);
    assert_eq!(updated.definition, v2);
    assert!(updated.updated_at >= wf.updated_at);
    assert_eq!(store.get_workflow(&a.id, &wf.id).await.unwrap(), updated);

    // Concurrent editors: a save based on version 1 is refused now that version 2 exists.
    let stale = store
        .update_workflow(
            &a.id,
            &wf.id,
            WorkflowUpdate {
                expected_version: Some(1),
                ..edit(v3.clone())
            },
        )
        .await;
    assert!(is_conflict(stale));
    assert!(matches!(
        store
            .update_workflow(
                &a.id,
                &wf.id,
                WorkflowUpdate {
                    updated_by: "user-1".into(),
                    ..WorkflowUpdate::default()
                }
            )
            .await,
        Err(CatalogError::InvalidInput(_))
    ));

    let rolled = store
        .rollback_workflow(&a.id, &wf.id, 1, "user-2")
        .await
        .unwrap();
    assert_eq!(rolled.current_version, 3);
    assert_eq!(rolled.definition, v1);

    let versions = store.list_workflow_versions(&a.id, &wf.id).await.unwrap();
    let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(versions[0].definition, v1);
    assert_eq!(versions[1].definition, v2);
    assert_eq!(versions[1].note, "switch to quotes");
    assert_eq!(versions[2].definition, v1);
    assert_eq!(versions[2].note, "rollback to version 1");
    assert_eq!(versions[2].created_by, "user-2");
    assert_eq!(
        store.get_workflow_version(&a.id, &wf.id, 2).await.unwrap(),
        versions[1]
    );
    assert!(is_not_found(
        store.get_workflow_version(&a.id, &wf.id, 9).await
    ));
    assert!(is_not_found(
        store.rollback_workflow(&a.id, &wf.id, 9, "user-2").await
    ));

    let published = store
        .set_workflow_published(&a.id, &wf.id, true)
        .await
        .unwrap();
    assert!(published.published);
    assert_eq!(published.current_version, 3, "publishing is not a version");
    let visible = store.list_published_workflows(&a.id).await.unwrap();
    assert_eq!(visible.len(), 1);
    assert_eq!(
        store
            .get_workflow_by_view_name(&a.id, "daily_pnl")
            .await
            .unwrap()
            .id,
        wf.id
    );
    store
        .set_workflow_published(&a.id, &wf.id, false)
        .await
        .unwrap();
    assert!(store
        .list_published_workflows(&a.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.list_workflows(&a.id).await.unwrap().len(), 1);

    store.delete_workflow(&a.id, &wf.id).await.unwrap();
    assert!(is_not_found(store.get_workflow(&a.id, &wf.id).await));
    assert!(is_not_found(
        store.list_workflow_versions(&a.id, &wf.id).await
    ));
    assert!(is_not_found(store.delete_workflow(&a.id, &wf.id).await));
    // The name is free again and a new workflow starts its own history.
    let again = store
        .create_workflow(new_workflow(&a, "Daily PnL", v3))
        .await
        .unwrap();
    assert_eq!(again.view_name, "daily_pnl");
    assert_eq!(
        store
            .list_workflow_versions(&a.id, &again.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn check_view_names(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let def = json!({"nodes": []});
    let first = store
        .create_workflow(new_workflow(&a, "VWAP by Symbol", def.clone()))
        .await
        .unwrap();
    assert_eq!(first.view_name, "vwap_by_symbol");

    // Same derived name in the same tenant: refused. In another tenant: fine.
    assert!(is_conflict(
        store
            .create_workflow(new_workflow(&a, "vwap BY symbol!", def.clone()))
            .await
    ));
    let other = store
        .create_workflow(new_workflow(&b, "VWAP by Symbol", def.clone()))
        .await
        .unwrap();
    assert_eq!(other.view_name, "vwap_by_symbol");

    // A workflow cannot shadow a serving table.
    assert!(is_conflict(
        store
            .create_workflow(new_workflow(&a, "FCT Trades", def.clone()))
            .await
    ));

    // Explicit view names are validated.
    let explicit = store
        .create_workflow(NewWorkflow {
            view_name: Some("my_view".into()),
            ..new_workflow(&a, "Something Else", def.clone())
        })
        .await
        .unwrap();
    assert_eq!(explicit.view_name, "my_view");
    assert!(matches!(
        store
            .create_workflow(NewWorkflow {
                view_name: Some("My View".into()),
                ..new_workflow(&a, "Third", def.clone())
            })
            .await,
        Err(CatalogError::InvalidInput(_))
    ));
    assert!(matches!(
        store
            .create_workflow(new_workflow(&a, "???", def.clone()))
            .await,
        Err(CatalogError::InvalidInput(_))
    ));

    // Renaming keeps the view name, so SQL that queries it keeps working.
    let renamed = store
        .update_workflow(
            &a.id,
            &first.id,
            WorkflowUpdate {
                name: Some("Volume-weighted price".into()),
                updated_by: "user-1".into(),
                ..WorkflowUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Volume-weighted price");
    assert_eq!(renamed.view_name, "vwap_by_symbol");
    // Moving the view name onto another workflow's is refused; onto a free one works.
    let clash = WorkflowUpdate {
        view_name: Some("my_view".into()),
        updated_by: "user-1".into(),
        ..WorkflowUpdate::default()
    };
    assert!(is_conflict(
        store.update_workflow(&a.id, &first.id, clash).await
    ));
    let moved = store
        .update_workflow(
            &a.id,
            &first.id,
            WorkflowUpdate {
                view_name: Some("vwap".into()),
                updated_by: "user-1".into(),
                ..WorkflowUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.view_name, "vwap");
    assert!(is_not_found(
        store
            .get_workflow_by_view_name(&a.id, "vwap_by_symbol")
            .await
    ));
}

async fn check_tenant_scoping(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let wf = store
        .create_workflow(new_workflow(&a, "Secret Strategy", json!({"n": 1})))
        .await
        .unwrap();
    store
        .set_workflow_published(&a.id, &wf.id, true)
        .await
        .unwrap();

    assert!(is_not_found(store.get_workflow(&b.id, &wf.id).await));
    assert!(is_not_found(
        store.get_workflow_by_view_name(&b.id, &wf.view_name).await
    ));
    assert!(store.list_workflows(&b.id).await.unwrap().is_empty());
    assert!(store
        .list_published_workflows(&b.id)
        .await
        .unwrap()
        .is_empty());
    assert!(is_not_found(
        store
            .update_workflow(&b.id, &wf.id, edit(json!({"n": 2})))
            .await
    ));
    assert!(is_not_found(
        store.set_workflow_published(&b.id, &wf.id, false).await
    ));
    assert!(is_not_found(
        store.rollback_workflow(&b.id, &wf.id, 1, "intruder").await
    ));
    assert!(is_not_found(
        store.list_workflow_versions(&b.id, &wf.id).await
    ));
    assert!(is_not_found(
        store.get_workflow_version(&b.id, &wf.id, 1).await
    ));
    assert!(is_not_found(store.delete_workflow(&b.id, &wf.id).await));

    // None of the attempts changed anything.
    let after = store.get_workflow(&a.id, &wf.id).await.unwrap();
    assert_eq!(after.current_version, 1);
    assert!(after.published);
    assert_eq!(after.definition, json!({"n": 1}));
}

// ---------------------------------------------------------------- audit

async fn check_audit_log(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    for (i, action) in ["workflow.create", "workflow.update", "workflow.publish"]
        .into_iter()
        .enumerate()
    {
        let entry = store
            .append_audit(NewAuditEntry {
                tenant_id: a.id.clone(),
                actor: "user-1".into(),
                action: action.into(),
                resource_type: "workflow".into(),
                resource_id: "wf-1".into(),
                detail: json!({"step": i}),
            })
            .await
            .unwrap();
        assert_eq!(entry.action, action);
    }
    store
        .append_audit(NewAuditEntry {
            tenant_id: b.id.clone(),
            actor: "user-9".into(),
            action: "api_key.create".into(),
            resource_type: "api_key".into(),
            resource_id: "k-1".into(),
            detail: json!(null),
        })
        .await
        .unwrap();

    let all = store.list_audit(&a.id, 50).await.unwrap();
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["workflow.publish", "workflow.update", "workflow.create"]
    );
    assert_eq!(all[0].detail, json!({"step": 2}));
    assert!(all.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(all.iter().all(|e| e.tenant_id == a.id));

    let latest = store.list_audit(&a.id, 2).await.unwrap();
    assert_eq!(latest, all[..2]);
    let other = store.list_audit(&b.id, 50).await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].action, "api_key.create");
    assert!(store.list_audit(&a.id, 0).await.unwrap().is_empty());

    assert!(is_not_found(
        store
            .append_audit(NewAuditEntry {
                tenant_id: "missing".into(),
                actor: "x".into(),
                action: "y".into(),
                resource_type: "z".into(),
                resource_id: String::new(),
                detail: json!({}),
            })
            .await
    ));
}

// ---------------------------------------------------------------- concurrency, text order, NUL

async fn check_concurrent_writers(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let wf = store
        .create_workflow(new_workflow(&a, "Contended", json!({"edit": 0})))
        .await
        .unwrap();

    // Eight editors save at once without naming a base version: each save is its own version.
    let saves = (1..=8).map(|i| store.update_workflow(&a.id, &wf.id, edit(json!({"edit": i}))));
    let results = join_all(saves).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let versions = store.list_workflow_versions(&a.id, &wf.id).await.unwrap();
    let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, (1..=9).collect::<Vec<_>>());
    let mut edits: Vec<i64> = versions[1..]
        .iter()
        .map(|v| v.definition["edit"].as_i64().unwrap())
        .collect();
    edits.sort_unstable();
    assert_eq!(edits, (1..=8).collect::<Vec<_>>());
    let current = store.get_workflow(&a.id, &wf.id).await.unwrap();
    assert_eq!(current.current_version, 9);
    assert_eq!(current.definition, versions[8].definition);

    // Editors who all started from version 9: exactly one save lands, the others conflict.
    let racing = (0..4).map(|i| {
        store.update_workflow(
            &a.id,
            &wf.id,
            WorkflowUpdate {
                expected_version: Some(9),
                ..edit(json!({"race": i}))
            },
        )
    });
    let results = join_all(racing).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(CatalogError::Conflict(_)))));
    assert_eq!(
        store
            .get_workflow(&a.id, &wf.id)
            .await
            .unwrap()
            .current_version,
        10
    );

    // Concurrent replacements of a tenant's entitlements: each applies whole.
    let sets: [&[&str]; 3] = [&["AAPL", "MSFT"], &["GS"], &["TSLA", "NVDA", "JPM"]];
    let sets: Vec<Vec<String>> = sets
        .iter()
        .map(|set| set.iter().map(|s| s.to_string()).collect())
        .collect();
    let results = join_all(sets.iter().map(|set| store.set_entitlements(&a.id, set))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut expected: Vec<Vec<String>> = sets.clone();
    for set in &mut expected {
        set.sort();
    }
    let now = store.list_entitlements(&a.id).await.unwrap();
    assert!(
        expected.contains(&now),
        "{now:?} is a mix of concurrent sets"
    );

    // Concurrent audit appends: all kept, and pages cut one total order.
    let appends = (0..10).map(|i| {
        store.append_audit(NewAuditEntry {
            tenant_id: a.id.clone(),
            actor: "user-1".into(),
            action: "workflow.update".into(),
            resource_type: "workflow".into(),
            resource_id: wf.id.clone(),
            detail: json!({"n": i}),
        })
    });
    let results = join_all(appends).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let all = store.list_audit(&a.id, 50).await.unwrap();
    assert_eq!(all.len(), 10);
    let mut seen: Vec<i64> = all
        .iter()
        .map(|e| e.detail["n"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    assert_eq!(store.list_audit(&a.id, 4).await.unwrap(), all[..4]);
}

async fn check_text_order(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    // Lists sort by the bytes of the UTF-8 text, whatever collation the database defaults to:
    // uppercase before `_` before lowercase, and non-ASCII last.
    for (name, view) in [
        ("beta", "w1"),
        ("Ärger", "w2"),
        ("alpha", "w3"),
        ("_x", "w4"),
        ("Alpha", "w5"),
    ] {
        let wf = store
            .create_workflow(NewWorkflow {
                view_name: Some(view.into()),
                ..new_workflow(&a, name, json!({}))
            })
            .await
            .unwrap();
        store
            .set_workflow_published(&a.id, &wf.id, true)
            .await
            .unwrap();
    }
    let names: Vec<String> = store
        .list_workflows(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["Alpha", "_x", "alpha", "beta", "Ärger"]);
    let views: Vec<String> = store
        .list_published_workflows(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.view_name)
        .collect();
    assert_eq!(views, ["w1", "w2", "w3", "w4", "w5"]);

    for email in ["b@x.test", "a_b@x.test", "a.b@x.test", "ab@x.test"] {
        store
            .create_user(NewUser {
                tenant_id: a.id.clone(),
                email: email.into(),
                role: Role::Viewer,
                password: "long-enough".into(),
            })
            .await
            .unwrap();
    }
    let emails: Vec<String> = store
        .list_users(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .filter(|e| e.ends_with("@x.test"))
        .collect();
    assert_eq!(
        emails,
        ["a.b@x.test", "a_b@x.test", "ab@x.test", "b@x.test"]
    );
}

async fn check_nul_characters(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let nul = "x\0y";
    // No stored key holds NUL, so looking one up is an ordinary miss.
    assert!(is_not_found(store.get_tenant(nul).await));
    assert!(is_not_found(store.get_tenant_by_slug(nul).await));
    assert!(is_not_found(store.list_entitlements(nul).await));
    assert!(is_not_found(store.set_entitlements(nul, &[]).await));
    assert!(is_not_found(store.get_user(&a.id, nul).await));
    assert!(is_not_found(store.get_user(nul, nul).await));
    assert!(is_not_found(
        store.set_user_role(&a.id, nul, Role::Admin).await
    ));
    assert!(is_not_found(store.delete_user(&a.id, nul).await));
    assert!(store.list_users(nul).await.unwrap().is_empty());
    assert!(store
        .user_credentials_by_email("admin@tenant-a.test\0")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        authenticate_password(store, "admin@tenant-a.test\0", "admin123").await,
        Err(CatalogError::InvalidCredentials)
    );
    assert!(is_not_found(store.get_api_key(&a.id, nul).await));
    assert!(is_not_found(store.revoke_api_key(&a.id, nul).await));
    assert!(store.list_api_keys(nul).await.unwrap().is_empty());
    assert!(is_not_found(store.get_serving_table(nul).await));
    assert!(is_not_found(
        store.set_serving_table_enabled(nul, false).await
    ));
    assert!(is_not_found(store.get_workflow(&a.id, nul).await));
    assert!(is_not_found(
        store.get_workflow_by_view_name(&a.id, nul).await
    ));
    assert!(is_not_found(store.list_workflow_versions(&a.id, nul).await));
    assert!(is_not_found(
        store.set_workflow_published(&a.id, nul, true).await
    ));
    assert!(is_not_found(store.delete_workflow(&a.id, nul).await));
    assert!(store.list_workflows(nul).await.unwrap().is_empty());
    assert!(store.list_audit(nul, 10).await.unwrap().is_empty());
    assert!(is_not_found(
        store
            .create_workflow(NewWorkflow {
                tenant_id: nul.into(),
                ..new_workflow(&a, "Orphan", json!({}))
            })
            .await
    ));

    // And no value with NUL is stored.
    let refused =
        |result: Result<(), CatalogError>| matches!(result, Err(CatalogError::InvalidInput(_)));
    assert!(refused(
        store.create_tenant("desk-d", "Desk\0D").await.map(drop)
    ));
    assert!(refused(
        store
            .create_workflow(new_workflow(&a, "Daily\0PnL", json!({})))
            .await
            .map(drop)
    ));
    assert!(refused(
        store
            .create_user(NewUser {
                tenant_id: a.id.clone(),
                email: "nul\0@tenant-a.test".into(),
                role: Role::Viewer,
                password: "long-enough".into(),
            })
            .await
            .map(drop)
    ));
    assert!(refused(
        store
            .create_api_key(NewApiKey {
                tenant_id: a.id.clone(),
                name: "grafana".into(),
                role: Role::Viewer,
                created_by: "admin\0".into(),
            })
            .await
            .map(drop)
    ));
    assert!(refused(
        store
            .append_audit(NewAuditEntry {
                tenant_id: a.id.clone(),
                actor: "user-1".into(),
                action: "workflow.delete".into(),
                resource_type: "workflow".into(),
                resource_id: "wf\0".into(),
                detail: json!({}),
            })
            .await
            .map(drop)
    ));
    // A JSON string may hold NUL: the stored text escapes it.
    let wf = store
        .create_workflow(new_workflow(&a, "Escaped", json!({"label": "a\u{0}b"})))
        .await
        .unwrap();
    assert_eq!(
        store.get_workflow(&a.id, &wf.id).await.unwrap().definition,
        json!({"label": "a\u{0}b"})
    );
    assert!(is_not_found(store.get_tenant_by_slug("desk-d").await));
}

// ---------------------------------------------------------------- dashboards and widgets

fn new_dashboard(tenant: &Tenant, name: &str) -> NewDashboard {
    NewDashboard {
        tenant_id: tenant.id.clone(),
        name: name.to_string(),
        description: String::new(),
        refresh_interval_seconds: None,
        global_filters: Vec::new(),
        created_by: "user-1".to_string(),
    }
}

fn symbol_filter() -> GlobalFilter {
    GlobalFilter {
        id: "symbol".into(),
        column: "symbol".into(),
        label: "Symbol".into(),
        kind: FilterKind::Values,
        default: Some(json!(["AAPL"])),
    }
}

fn new_widget(
    dashboard: &Dashboard,
    workflow: &Workflow,
    title: &str,
    x: u32,
    y: u32,
) -> NewWidget {
    NewWidget {
        tenant_id: dashboard.tenant_id.clone(),
        dashboard_id: dashboard.id.clone(),
        workflow_id: workflow.id.clone(),
        node_id: "table".into(),
        title: title.into(),
        layout: WidgetLayout { x, y, w: 6, h: 4 },
        filters: vec!["symbol".into()],
        config: json!({"chart": "table"}),
    }
}

fn is_invalid<T: std::fmt::Debug>(result: Result<T, CatalogError>) -> bool {
    matches!(result, Err(CatalogError::InvalidInput(_)))
}

async fn check_dashboard_lifecycle(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let created = store
        .create_dashboard(NewDashboard {
            description: "  Desk overview ".into(),
            refresh_interval_seconds: Some(60),
            global_filters: vec![
                symbol_filter(),
                GlobalFilter {
                    id: "day".into(),
                    column: "event_time".into(),
                    label: String::new(),
                    kind: FilterKind::Range,
                    default: None,
                },
            ],
            ..new_dashboard(&a, "  Trading desk ")
        })
        .await
        .unwrap();
    assert_eq!(created.name, "Trading desk");
    assert_eq!(created.description, "Desk overview");
    assert_eq!(created.tenant_id, a.id);
    assert_eq!(created.refresh_interval_seconds, Some(60));
    assert_eq!(created.global_filters.len(), 2);
    assert_eq!(created.global_filters[1].label, "event_time");
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(
        store.get_dashboard(&a.id, &created.id).await.unwrap(),
        created
    );

    store
        .create_dashboard(new_dashboard(&a, "Alpha desk"))
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_dashboards(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Alpha desk", "Trading desk"]);

    // An absent field keeps its value; an explicit "no interval" switches to manual refresh.
    let renamed = store
        .update_dashboard(
            &a.id,
            &created.id,
            DashboardUpdate {
                name: Some("Main desk".into()),
                ..DashboardUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Main desk");
    assert_eq!(renamed.refresh_interval_seconds, Some(60));
    assert_eq!(renamed.global_filters, created.global_filters);
    assert!(renamed.updated_at >= created.updated_at);
    let manual = store
        .update_dashboard(
            &a.id,
            &created.id,
            DashboardUpdate {
                refresh_interval_seconds: Some(None),
                global_filters: Some(vec![symbol_filter()]),
                ..DashboardUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(manual.refresh_interval_seconds, None);
    assert_eq!(manual.global_filters, [symbol_filter()]);
    assert_eq!(manual.name, "Main desk");
    assert_eq!(
        store.get_dashboard(&a.id, &created.id).await.unwrap(),
        manual
    );
    // An update that sets nothing changes nothing.
    assert_eq!(
        store
            .update_dashboard(&a.id, &created.id, DashboardUpdate::default())
            .await
            .unwrap(),
        manual
    );

    store.delete_dashboard(&a.id, &created.id).await.unwrap();
    assert!(is_not_found(store.get_dashboard(&a.id, &created.id).await));
    assert!(is_not_found(
        store.delete_dashboard(&a.id, &created.id).await
    ));
    assert_eq!(store.list_dashboards(&a.id).await.unwrap().len(), 1);
}

async fn check_widget_lifecycle(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let wf = store
        .create_workflow(new_workflow(&a, "Trades", json!({"nodes": []})))
        .await
        .unwrap();
    let other_wf = store
        .create_workflow(new_workflow(&a, "Quotes", json!({"nodes": []})))
        .await
        .unwrap();
    let dashboard = store
        .create_dashboard(new_dashboard(&a, "Desk"))
        .await
        .unwrap();

    let lower = store
        .create_widget(new_widget(&dashboard, &wf, " Lower ", 0, 4))
        .await
        .unwrap();
    let right = store
        .create_widget(new_widget(&dashboard, &other_wf, "Right", 6, 0))
        .await
        .unwrap();
    let left = store
        .create_widget(NewWidget {
            config: serde_json::Value::Null,
            filters: Vec::new(),
            ..new_widget(&dashboard, &wf, "Left", 0, 0)
        })
        .await
        .unwrap();
    assert_eq!(lower.title, "Lower");
    assert_eq!(lower.tenant_id, a.id);
    assert_eq!(lower.dashboard_id, dashboard.id);
    assert_eq!(lower.workflow_id, wf.id);
    assert_eq!(lower.node_id, "table");
    assert_eq!(lower.filters, ["symbol"]);
    assert_eq!(lower.config, json!({"chart": "table"}));
    assert_eq!(left.config, json!({}));
    assert_eq!(store.get_widget(&a.id, &lower.id).await.unwrap(), lower);

    // Grid order: top to bottom, then left to right.
    let titles =
        |widgets: Vec<Widget>| -> Vec<String> { widgets.into_iter().map(|w| w.title).collect() };
    assert_eq!(
        titles(store.list_widgets(&a.id, &dashboard.id).await.unwrap()),
        ["Left", "Right", "Lower"]
    );

    let moved = store
        .update_widget(
            &a.id,
            &lower.id,
            WidgetUpdate {
                layout: Some(WidgetLayout {
                    x: 0,
                    y: 0,
                    w: 12,
                    h: 2,
                }),
                node_id: Some("chart".into()),
                filters: Some(vec!["side".into(), "symbol".into()]),
                config: Some(json!({"chart": "bar"})),
                ..WidgetUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        moved.layout,
        WidgetLayout {
            x: 0,
            y: 0,
            w: 12,
            h: 2
        }
    );
    assert_eq!(moved.node_id, "chart");
    assert_eq!(moved.filters, ["side", "symbol"]);
    assert_eq!(moved.config, json!({"chart": "bar"}));
    assert_eq!(moved.title, "Lower");
    assert_eq!(moved.workflow_id, wf.id);
    assert_eq!(store.get_widget(&a.id, &lower.id).await.unwrap(), moved);
    assert_eq!(
        store
            .update_widget(&a.id, &lower.id, WidgetUpdate::default())
            .await
            .unwrap(),
        moved
    );

    store.delete_widget(&a.id, &right.id).await.unwrap();
    assert!(is_not_found(store.get_widget(&a.id, &right.id).await));
    assert!(is_not_found(store.delete_widget(&a.id, &right.id).await));
    assert_eq!(
        store
            .list_widgets(&a.id, &dashboard.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(is_not_found(
        store.list_widgets(&a.id, "no-such-dashboard").await
    ));

    // Pinning needs an existing dashboard and workflow.
    assert!(is_not_found(
        store
            .create_widget(NewWidget {
                dashboard_id: "no-such-dashboard".into(),
                ..new_widget(&dashboard, &wf, "X", 0, 0)
            })
            .await
    ));
    assert!(is_not_found(
        store
            .create_widget(NewWidget {
                workflow_id: "no-such-workflow".into(),
                ..new_widget(&dashboard, &wf, "X", 0, 0)
            })
            .await
    ));
}

async fn check_widgets_outlive_their_workflow(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let wf = store
        .create_workflow(new_workflow(&a, "Doomed", json!({"nodes": []})))
        .await
        .unwrap();
    let dashboard = store
        .create_dashboard(new_dashboard(&a, "Desk"))
        .await
        .unwrap();
    let widget = store
        .create_widget(new_widget(&dashboard, &wf, "Doomed output", 0, 0))
        .await
        .unwrap();

    // Deleting the workflow keeps the widget, still pointing at the deleted workflow, so the
    // dashboard can show that its source is gone.
    store.delete_workflow(&a.id, &wf.id).await.unwrap();
    let kept = store.get_widget(&a.id, &widget.id).await.unwrap();
    assert_eq!(kept, widget);
    assert!(is_not_found(
        store.get_workflow(&a.id, &kept.workflow_id).await
    ));
    assert_eq!(
        store.list_widgets(&a.id, &dashboard.id).await.unwrap(),
        std::slice::from_ref(&widget)
    );
    // It can still be edited and removed; new widgets cannot point at the deleted workflow.
    let retitled = store
        .update_widget(
            &a.id,
            &widget.id,
            WidgetUpdate {
                title: Some("Source gone".into()),
                ..WidgetUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(retitled.title, "Source gone");
    assert!(is_not_found(
        store
            .create_widget(new_widget(&dashboard, &wf, "Again", 0, 0))
            .await
    ));

    // Deleting the dashboard deletes its widgets.
    let survivor = store
        .create_dashboard(new_dashboard(&a, "Other desk"))
        .await
        .unwrap();
    let live_wf = store
        .create_workflow(new_workflow(&a, "Alive", json!({"nodes": []})))
        .await
        .unwrap();
    let elsewhere = store
        .create_widget(new_widget(&survivor, &live_wf, "Elsewhere", 0, 0))
        .await
        .unwrap();
    let second = store
        .create_widget(new_widget(&dashboard, &live_wf, "Second", 0, 4))
        .await
        .unwrap();
    store.delete_dashboard(&a.id, &dashboard.id).await.unwrap();
    assert!(is_not_found(store.get_widget(&a.id, &widget.id).await));
    assert!(is_not_found(store.get_widget(&a.id, &second.id).await));
    assert!(is_not_found(store.list_widgets(&a.id, &dashboard.id).await));
    assert_eq!(
        store.get_widget(&a.id, &elsewhere.id).await.unwrap(),
        elsewhere
    );
    assert!(store.get_workflow(&a.id, &live_wf.id).await.is_ok());
}

async fn check_dashboard_validation(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let long = "x".repeat(201);
    for bad in [
        new_dashboard(&a, "   "),
        new_dashboard(&a, &long),
        NewDashboard {
            refresh_interval_seconds: Some(10),
            ..new_dashboard(&a, "Desk")
        },
        NewDashboard {
            refresh_interval_seconds: Some(0),
            ..new_dashboard(&a, "Desk")
        },
        NewDashboard {
            global_filters: vec![symbol_filter(), symbol_filter()],
            ..new_dashboard(&a, "Desk")
        },
        NewDashboard {
            global_filters: vec![GlobalFilter {
                column: " ".into(),
                ..symbol_filter()
            }],
            ..new_dashboard(&a, "Desk")
        },
        NewDashboard {
            global_filters: vec![GlobalFilter {
                kind: FilterKind::Range,
                ..symbol_filter()
            }],
            ..new_dashboard(&a, "Desk")
        },
    ] {
        let shown = format!("{bad:?}");
        assert!(is_invalid(store.create_dashboard(bad).await), "{shown}");
    }
    for seconds in REFRESH_INTERVALS_SECONDS {
        let ok = store
            .create_dashboard(NewDashboard {
                refresh_interval_seconds: Some(seconds),
                ..new_dashboard(&a, &format!("Every {seconds}s"))
            })
            .await
            .unwrap();
        assert_eq!(ok.refresh_interval_seconds, Some(seconds));
    }
    assert!(is_not_found(
        store
            .create_dashboard(NewDashboard {
                tenant_id: "no-such-tenant".into(),
                ..new_dashboard(&a, "Orphan")
            })
            .await
    ));

    let dashboard = store
        .create_dashboard(new_dashboard(&a, "Desk"))
        .await
        .unwrap();
    for bad in [
        DashboardUpdate {
            name: Some(String::new()),
            ..DashboardUpdate::default()
        },
        DashboardUpdate {
            refresh_interval_seconds: Some(Some(61)),
            ..DashboardUpdate::default()
        },
        DashboardUpdate {
            global_filters: Some(vec![symbol_filter(), symbol_filter()]),
            ..DashboardUpdate::default()
        },
    ] {
        let shown = format!("{bad:?}");
        assert!(
            is_invalid(store.update_dashboard(&a.id, &dashboard.id, bad).await),
            "{shown}"
        );
    }
    assert_eq!(
        store.get_dashboard(&a.id, &dashboard.id).await.unwrap(),
        dashboard
    );

    let wf = store
        .create_workflow(new_workflow(&a, "Trades", json!({})))
        .await
        .unwrap();
    let base = new_widget(&dashboard, &wf, "Widget", 0, 0);
    let layout = |w, h| WidgetLayout { x: 0, y: 0, w, h };
    for bad in [
        NewWidget {
            title: " ".into(),
            ..base.clone()
        },
        NewWidget {
            title: long.clone(),
            ..base.clone()
        },
        NewWidget {
            node_id: String::new(),
            ..base.clone()
        },
        NewWidget {
            layout: layout(0, 4),
            ..base.clone()
        },
        NewWidget {
            layout: layout(4, 49),
            ..base.clone()
        },
        NewWidget {
            filters: vec!["symbol".into(), " ".into()],
            ..base.clone()
        },
        NewWidget {
            config: json!("bar"),
            ..base.clone()
        },
    ] {
        let shown = format!("{bad:?}");
        assert!(is_invalid(store.create_widget(bad).await), "{shown}");
    }
    let widest = store
        .create_widget(NewWidget {
            layout: layout(48, 48),
            ..base.clone()
        })
        .await
        .unwrap();
    for bad in [
        WidgetUpdate {
            layout: Some(layout(49, 1)),
            ..WidgetUpdate::default()
        },
        WidgetUpdate {
            title: Some(String::new()),
            ..WidgetUpdate::default()
        },
        WidgetUpdate {
            config: Some(json!([1, 2])),
            ..WidgetUpdate::default()
        },
    ] {
        let shown = format!("{bad:?}");
        assert!(
            is_invalid(store.update_widget(&a.id, &widest.id, bad).await),
            "{shown}"
        );
    }
    assert_eq!(store.get_widget(&a.id, &widest.id).await.unwrap(), widest);
    assert_eq!(
        store
            .list_widgets(&a.id, &dashboard.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn check_dashboard_tenant_scoping(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let wf_a = store
        .create_workflow(new_workflow(&a, "Secret Strategy", json!({})))
        .await
        .unwrap();
    let wf_b = store
        .create_workflow(new_workflow(&b, "Other Strategy", json!({})))
        .await
        .unwrap();
    let dash_a = store
        .create_dashboard(new_dashboard(&a, "Secret desk"))
        .await
        .unwrap();
    let dash_b = store
        .create_dashboard(new_dashboard(&b, "Other desk"))
        .await
        .unwrap();
    let widget_a = store
        .create_widget(new_widget(&dash_a, &wf_a, "Secret", 0, 0))
        .await
        .unwrap();

    assert!(is_not_found(store.get_dashboard(&b.id, &dash_a.id).await));
    assert_eq!(
        store.list_dashboards(&b.id).await.unwrap(),
        std::slice::from_ref(&dash_b)
    );
    assert!(is_not_found(
        store
            .update_dashboard(
                &b.id,
                &dash_a.id,
                DashboardUpdate {
                    name: Some("Taken over".into()),
                    ..DashboardUpdate::default()
                }
            )
            .await
    ));
    assert!(is_not_found(
        store
            .update_dashboard(&b.id, &dash_a.id, DashboardUpdate::default())
            .await
    ));
    assert!(is_not_found(
        store.delete_dashboard(&b.id, &dash_a.id).await
    ));
    assert!(is_not_found(store.get_widget(&b.id, &widget_a.id).await));
    assert!(is_not_found(store.list_widgets(&b.id, &dash_a.id).await));
    assert!(is_not_found(
        store
            .update_widget(
                &b.id,
                &widget_a.id,
                WidgetUpdate {
                    title: Some("Taken over".into()),
                    ..WidgetUpdate::default()
                }
            )
            .await
    ));
    assert!(is_not_found(store.delete_widget(&b.id, &widget_a.id).await));

    // A widget cannot join another tenant's dashboard or show another tenant's workflow.
    assert!(is_not_found(
        store
            .create_widget(NewWidget {
                tenant_id: b.id.clone(),
                ..new_widget(&dash_a, &wf_b, "Intruder", 0, 0)
            })
            .await
    ));
    assert!(is_not_found(
        store
            .create_widget(new_widget(&dash_b, &wf_a, "Peek", 0, 0))
            .await
    ));
    assert!(is_not_found(
        store
            .create_widget(new_widget(&dash_a, &wf_b, "Peek", 0, 0))
            .await
    ));

    // None of the attempts changed anything.
    assert_eq!(
        store.get_dashboard(&a.id, &dash_a.id).await.unwrap(),
        dash_a
    );
    assert_eq!(
        store.list_widgets(&a.id, &dash_a.id).await.unwrap(),
        [widget_a]
    );
    assert!(store
        .list_widgets(&b.id, &dash_b.id)
        .await
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------- templates

fn new_template(tenant: Option<&Tenant>, name: &str) -> NewTemplate {
    NewTemplate {
        tenant_id: tenant.map(|t| t.id.clone()),
        name: name.to_string(),
        description: "A starting point.".to_string(),
        category: "aggregation".to_string(),
        definition: json!({"nodes": [], "edges": []}),
    }
}

async fn check_templates(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let builtin = store
        .create_template(NewTemplate {
            category: "charts".into(),
            ..new_template(None, "Bar chart by sector")
        })
        .await
        .unwrap();
    assert_eq!(builtin.tenant_id, None);
    assert_eq!(builtin.category, "charts");
    let own = store
        .create_template(new_template(Some(&a), " Desk PnL "))
        .await
        .unwrap();
    assert_eq!(own.tenant_id.as_deref(), Some(a.id.as_str()));
    assert_eq!(own.name, "Desk PnL");
    assert_eq!(own.definition, json!({"nodes": [], "edges": []}));

    // Built-ins are everyone's; a tenant's own templates are only its own.
    assert_eq!(
        store.list_templates(&a.id).await.unwrap(),
        [own.clone(), builtin.clone()]
    );
    assert_eq!(
        store.list_templates(&b.id).await.unwrap(),
        std::slice::from_ref(&builtin)
    );
    assert_eq!(store.get_template(&a.id, &own.id).await.unwrap(), own);
    assert_eq!(
        store.get_template(&b.id, &builtin.id).await.unwrap(),
        builtin
    );
    assert!(is_not_found(store.get_template(&b.id, &own.id).await));
    assert!(is_not_found(
        store.get_template(&a.id, "no-such-template").await
    ));

    // Names are unique per scope: among built-ins, and within a tenant.
    assert!(is_conflict(
        store
            .create_template(new_template(None, "Bar chart by sector"))
            .await
    ));
    assert!(is_conflict(
        store
            .create_template(new_template(Some(&a), "Desk PnL"))
            .await
    ));
    let same_name_b = store
        .create_template(new_template(Some(&b), "Desk PnL"))
        .await
        .unwrap();
    store
        .create_template(new_template(Some(&a), "Bar chart by sector"))
        .await
        .unwrap();
    assert_eq!(store.list_templates(&a.id).await.unwrap().len(), 3);
    assert_eq!(
        store.list_templates(&b.id).await.unwrap(),
        [same_name_b, builtin]
    );

    for bad in [
        new_template(Some(&a), " "),
        NewTemplate {
            category: String::new(),
            ..new_template(Some(&a), "No category")
        },
        NewTemplate {
            definition: json!([1, 2]),
            ..new_template(Some(&a), "Not a graph")
        },
    ] {
        let shown = format!("{bad:?}");
        assert!(is_invalid(store.create_template(bad).await), "{shown}");
    }
    assert!(is_not_found(
        store
            .create_template(NewTemplate {
                tenant_id: Some("no-such-tenant".into()),
                ..new_template(None, "Orphan")
            })
            .await
    ));
}

// ---------------------------------------------------------------- workflow pages

async fn check_workflow_pages(store: &dyn CatalogStore) {
    let (a, b) = seeded(store).await;
    let mut created = Vec::new();
    for (name, view) in [
        ("delta", "w_delta"),
        ("alpha", "w_alpha"),
        ("charlie", "w_charlie_1"),
        ("bravo", "w_bravo"),
        ("charlie", "w_charlie_2"),
    ] {
        let wf = store
            .create_workflow(NewWorkflow {
                view_name: Some(view.into()),
                ..new_workflow(&a, name, json!({}))
            })
            .await
            .unwrap();
        created.push(wf);
    }
    let mut expected: Vec<(String, String)> = created
        .iter()
        .map(|w| (w.name.clone(), w.id.clone()))
        .collect();
    expected.sort();
    let ids = |page: &[Workflow]| -> Vec<(String, String)> {
        page.iter()
            .map(|w| (w.name.clone(), w.id.clone()))
            .collect()
    };

    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let (page, total) = store.list_workflows_page(&a.id, offset, 2).await.unwrap();
        assert_eq!(total, 5);
        seen.extend(ids(&page));
    }
    assert_eq!(seen, expected);
    let (all, total) = store.list_workflows_page(&a.id, 0, 100).await.unwrap();
    assert_eq!((ids(&all), total), (expected.clone(), 5));
    assert_eq!(all, store.list_workflows(&a.id).await.unwrap());
    let (last, total) = store.list_workflows_page(&a.id, 4, 2).await.unwrap();
    assert_eq!((last.len(), total), (1, 5));
    let (past_end, total) = store.list_workflows_page(&a.id, 50, 10).await.unwrap();
    assert_eq!((past_end.len(), total), (0, 5));
    let (none, total) = store.list_workflows_page(&a.id, 0, 0).await.unwrap();
    assert_eq!((none.len(), total), (0, 5));
    let (huge, total) = store
        .list_workflows_page(&a.id, usize::MAX, usize::MAX)
        .await
        .unwrap();
    assert_eq!((huge.len(), total), (0, 5));

    // Another tenant sees none of them.
    let (other, total) = store.list_workflows_page(&b.id, 0, 10).await.unwrap();
    assert_eq!((other.len(), total), (0, 0));

    store.delete_workflow(&a.id, &created[1].id).await.unwrap();
    let (page, total) = store.list_workflows_page(&a.id, 0, 1).await.unwrap();
    assert_eq!(total, 4);
    assert_eq!(page[0].name, "bravo");
}

async fn check_dashboard_nul_characters(store: &dyn CatalogStore) {
    let (a, _) = seeded(store).await;
    let nul = "x\0y";
    assert!(is_not_found(store.get_dashboard(&a.id, nul).await));
    assert!(is_not_found(store.get_dashboard(nul, nul).await));
    assert!(store.list_dashboards(nul).await.unwrap().is_empty());
    assert!(is_not_found(
        store
            .update_dashboard(&a.id, nul, DashboardUpdate::default())
            .await
    ));
    assert!(is_not_found(store.delete_dashboard(&a.id, nul).await));
    assert!(is_not_found(store.get_widget(&a.id, nul).await));
    assert!(is_not_found(store.list_widgets(&a.id, nul).await));
    assert!(is_not_found(
        store
            .update_widget(&a.id, nul, WidgetUpdate::default())
            .await
    ));
    assert!(is_not_found(store.delete_widget(&a.id, nul).await));
    assert!(is_not_found(store.get_template(&a.id, nul).await));
    assert!(is_not_found(
        store
            .create_dashboard(NewDashboard {
                tenant_id: nul.into(),
                ..new_dashboard(&a, "Orphan")
            })
            .await
    ));
    // A tenant id that matches nothing still sees the built-ins.
    store
        .create_template(new_template(None, "Builtin"))
        .await
        .unwrap();
    assert_eq!(store.list_templates(nul).await.unwrap().len(), 1);
    let (page, total) = store.list_workflows_page(nul, 0, 10).await.unwrap();
    assert_eq!((page.len(), total), (0, 0));

    let dashboard = store
        .create_dashboard(new_dashboard(&a, "Desk"))
        .await
        .unwrap();
    let wf = store
        .create_workflow(new_workflow(&a, "Trades", json!({})))
        .await
        .unwrap();
    assert!(is_not_found(
        store
            .create_widget(NewWidget {
                workflow_id: nul.into(),
                ..new_widget(&dashboard, &wf, "W", 0, 0)
            })
            .await
    ));
    assert!(is_not_found(
        store
            .create_widget(NewWidget {
                dashboard_id: nul.into(),
                ..new_widget(&dashboard, &wf, "W", 0, 0)
            })
            .await
    ));
    // And no value with NUL is stored.
    assert!(is_invalid(
        store.create_dashboard(new_dashboard(&a, "De\0sk")).await
    ));
    assert!(is_invalid(
        store
            .create_widget(NewWidget {
                node_id: "ta\0ble".into(),
                ..new_widget(&dashboard, &wf, "W", 0, 0)
            })
            .await
    ));
    assert!(is_invalid(
        store
            .create_template(new_template(Some(&a), "Tem\0plate"))
            .await
    ));
}

// ---------------------------------------------------------------- the suite, on both stores

/// Runs each check once on a fresh in-memory SQLite catalog (`store_tests::sqlite::*`) and once
/// on PostgreSQL in a fresh schema (`store_tests::postgres::*`).
macro_rules! on_both_stores {
    ($($name:ident => $check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = super::sqlite().await;
                    super::$check(&store).await;
                }
            )*
        }

        mod postgres {
            use crate::postgres::testing::TestSchema;
            $(
                #[tokio::test]
                async fn $name() {
                    TestSchema::isolated(|schema| async move {
                        let store = schema.connect().await;
                        super::$check(&store).await;
                    })
                    .await;
                }
            )*
        }
    };
}

on_both_stores! {
    seed_is_idempotent => check_seed_is_idempotent,
    seed_keeps_admin_changes => check_seed_keeps_admin_changes,
    password_authentication => check_password_authentication,
    user_management => check_user_management,
    scram_login_for_users => check_scram_login_for_users,
    api_key_lifecycle => check_api_key_lifecycle,
    api_key_roles => check_api_key_roles,
    tenants_and_entitlements => check_tenants_and_entitlements,
    serving_table_registry => check_serving_table_registry,
    workflow_versions => check_workflow_versions,
    view_names => check_view_names,
    tenant_scoping => check_tenant_scoping,
    audit_log => check_audit_log,
    concurrent_writers => check_concurrent_writers,
    text_order => check_text_order,
    nul_characters => check_nul_characters,
    dashboard_lifecycle => check_dashboard_lifecycle,
    widget_lifecycle => check_widget_lifecycle,
    widgets_outlive_their_workflow => check_widgets_outlive_their_workflow,
    dashboard_validation => check_dashboard_validation,
    dashboard_tenant_scoping => check_dashboard_tenant_scoping,
    templates => check_templates,
    workflow_pages => check_workflow_pages,
    dashboard_nul_characters => check_dashboard_nul_characters,
}

// ---------------------------------------------------------------- what SQLite keeps on disk

/// Every byte of the database and its WAL, for "is this secret anywhere on disk" checks.
fn disk_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(more) = std::fs::read(&wal) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_never_reach_the_database_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.db");
    let store = SqliteCatalog::open(&path).unwrap();
    let (a, _) = seeded(&store).await;
    let password = "plaintext-canary-password";
    let user = store
        .create_user(NewUser {
            tenant_id: a.id.clone(),
            email: "canary@tenant-a.test".into(),
            role: Role::Analyst,
            password: password.into(),
        })
        .await
        .unwrap();
    let created = store
        .create_api_key(NewApiKey {
            tenant_id: a.id.clone(),
            name: "canary-key".into(),
            role: Role::Viewer,
            created_by: user.id.clone(),
        })
        .await
        .unwrap();
    let secret = created.secret.clone();
    let random_part = secret.trim_start_matches("sk_live_");

    let bytes = disk_bytes(&path);
    assert!(
        contains(&bytes, "canary@tenant-a.test"),
        "sanity: data is on disk"
    );
    for needle in [
        password,
        "admin123",
        "analyst123",
        "viewer123",
        &secret,
        random_part,
    ] {
        assert!(!contains(&bytes, needle), "`{needle}` found on disk");
    }

    // And what is stored instead is the documented one-way forms.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let (hash, scram): (String, String) = raw
        .query_row(
            "SELECT password_hash, scram_verifier FROM users WHERE id = ?1",
            [&user.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
    let parsed = ScramVerifier::parse(&scram).unwrap();
    assert_eq!(
        parsed,
        ScramVerifier::from_password(password, &parsed.salt, parsed.iterations).unwrap()
    );
    let (digest, key_scram, prefix): (String, String, String) = raw
        .query_row(
            "SELECT secret_sha256, scram_verifier, prefix FROM api_keys WHERE id = ?1",
            [&created.key.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(digest, crate::api_key::secret_sha256(&secret));
    assert!(key_scram.starts_with("SCRAM-SHA-256$4096:"));
    assert!(prefix.len() <= 12 && secret.starts_with(&prefix));
}

#[tokio::test]
async fn file_catalog_persists_uses_wal_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("catalog.db");
    let wf_id = {
        let store = SqliteCatalog::open(&path).unwrap();
        assert_eq!(store.path(), Some(path.as_path()));
        let (a, _) = seeded(&store).await;
        let wf = store
            .create_workflow(new_workflow(&a, "Persisted", json!({"k": "v"})))
            .await
            .unwrap();
        store
            .update_workflow(&a.id, &wf.id, edit(json!({"k": "w"})))
            .await
            .unwrap();
        wf.id
    };

    let reopened = SqliteCatalog::open(&path).unwrap();
    assert!(seed_demo(&reopened).await.unwrap().is_noop());
    let a = reopened.get_tenant_by_slug("tenant-a").await.unwrap();
    let wf = reopened.get_workflow(&a.id, &wf_id).await.unwrap();
    assert_eq!(wf.current_version, 2);
    assert_eq!(wf.definition, json!({"k": "w"}));

    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let applied: i64 = raw
        .query_row("SELECT COUNT(*) FROM refinery_schema_history", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(applied, 2);

    // Deleting a workflow removes its version rows too (foreign keys are enforced).
    reopened.delete_workflow(&a.id, &wf_id).await.unwrap();
    let left: i64 = raw
        .query_row(
            "SELECT COUNT(*) FROM workflow_versions WHERE workflow_id = ?1",
            [&wf_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn opening_a_file_that_is_not_a_database_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![0x42u8; 8192]).unwrap();
    assert!(matches!(
        SqliteCatalog::open(&path),
        Err(CatalogError::Storage(_) | CatalogError::Migration(_))
    ));
}

// ---------------------------------------------------------------- what PostgreSQL keeps

mod postgres_specific {
    use serde_json::json;

    use super::{new_workflow, seeded};
    use crate::postgres::testing::{test_database, TestSchema};
    use crate::*;

    /// Every table of the catalog as JSON text, for "is this secret stored anywhere" checks.
    async fn all_rows(schema: &TestSchema) -> String {
        let raw = schema.raw().await;
        let mut text = String::new();
        for table in [
            "tenants",
            "entitlements",
            "users",
            "api_keys",
            "serving_tables",
            "workflows",
            "workflow_versions",
            "audit_log",
            "dashboards",
            "widgets",
            "templates",
        ] {
            let row = raw
                .query_one(
                    &format!(
                        "SELECT coalesce(string_agg(row_to_json(t)::text, ' '), '') FROM {table} t"
                    ),
                    &[],
                )
                .await
                .unwrap();
            text.push_str(row.get::<_, &str>(0));
        }
        text
    }

    #[tokio::test]
    async fn secrets_never_reach_the_database_in_plain_text() {
        TestSchema::isolated(|schema| async move {
            let store = schema.connect().await;
            let (a, _) = seeded(&store).await;
            let password = "plaintext-canary-password";
            let user = store
                .create_user(NewUser {
                    tenant_id: a.id.clone(),
                    email: "canary@tenant-a.test".into(),
                    role: Role::Analyst,
                    password: password.into(),
                })
                .await
                .unwrap();
            let created = store
                .create_api_key(NewApiKey {
                    tenant_id: a.id.clone(),
                    name: "canary-key".into(),
                    role: Role::Viewer,
                    created_by: user.id.clone(),
                })
                .await
                .unwrap();
            let secret = created.secret.clone();
            let random_part = secret.trim_start_matches("sk_live_");

            let stored = all_rows(&schema).await;
            assert!(
                stored.contains("canary@tenant-a.test"),
                "sanity: data is stored"
            );
            for needle in [
                password,
                "admin123",
                "analyst123",
                "viewer123",
                &secret,
                random_part,
            ] {
                assert!(!stored.contains(needle), "`{needle}` is stored");
            }

            let raw = schema.raw().await;
            let row = raw
                .query_one(
                    "SELECT password_hash, scram_verifier FROM users WHERE id = $1",
                    &[&user.id],
                )
                .await
                .unwrap();
            assert!(row.get::<_, &str>(0).starts_with("$argon2id$"));
            let parsed = ScramVerifier::parse(row.get(1)).unwrap();
            assert_eq!(
                parsed,
                ScramVerifier::from_password(password, &parsed.salt, parsed.iterations).unwrap()
            );
            let row = raw
                .query_one(
                    "SELECT secret_sha256, scram_verifier, prefix FROM api_keys WHERE id = $1",
                    &[&created.key.id],
                )
                .await
                .unwrap();
            assert_eq!(
                row.get::<_, &str>(0),
                crate::api_key::secret_sha256(&secret)
            );
            assert!(row.get::<_, &str>(1).starts_with("SCRAM-SHA-256$4096:"));
            let prefix: &str = row.get(2);
            assert!(prefix.len() <= 12 && secret.starts_with(prefix));
        })
        .await;
    }

    #[tokio::test]
    async fn servers_starting_together_migrate_once_and_share_the_data() {
        TestSchema::isolated(|schema| async move {
            // Two servers opening an empty database at the same moment.
            let (first, second) = tokio::join!(schema.connect(), schema.connect());
            let (a, _) = seeded(&first).await;
            assert!(seed_demo(&second).await.unwrap().is_noop());
            let wf = first
                .create_workflow(new_workflow(&a, "Persisted", json!({"k": "v"})))
                .await
                .unwrap();
            second
                .update_workflow(
                    &a.id,
                    &wf.id,
                    WorkflowUpdate {
                        definition: Some(json!({"k": "w"})),
                        updated_by: "user-1".into(),
                        ..WorkflowUpdate::default()
                    },
                )
                .await
                .unwrap();
            let seen = first.get_workflow(&a.id, &wf.id).await.unwrap();
            assert_eq!(seen.current_version, 2);
            assert_eq!(seen.definition, json!({"k": "w"}));

            let raw = schema.raw().await;
            let applied: i64 = raw
                .query_one("SELECT COUNT(*) FROM refinery_schema_history", &[])
                .await
                .unwrap()
                .get(0);
            assert_eq!(applied, 2);

            // Deleting a workflow removes its version rows too (foreign keys cascade).
            second.delete_workflow(&a.id, &wf.id).await.unwrap();
            let left: i64 = raw
                .query_one(
                    "SELECT COUNT(*) FROM workflow_versions WHERE workflow_id = $1",
                    &[&wf.id],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(left, 0);

            // A closed store fails cleanly instead of hanging.
            first.close();
            assert!(matches!(
                first.list_tenants().await,
                Err(CatalogError::Storage(_))
            ));
            assert_eq!(second.list_tenants().await.unwrap().len(), 2);
        })
        .await;
    }

    #[tokio::test]
    async fn unusable_databases_fail_with_storage_errors() {
        // Nothing listens on a port that was just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let refused =
            PostgresCatalog::connect(&format!("postgres://flowforge@127.0.0.1:{port}/catalog"))
                .await;
        assert!(
            matches!(refused, Err(CatalogError::Storage(_))),
            "{refused:?}"
        );
        let malformed = PostgresCatalog::connect("postgres://flowforge@127.0.0.1:port/db").await;
        assert!(
            matches!(malformed, Err(CatalogError::Storage(_))),
            "{malformed:?}"
        );

        let database = test_database();
        let mut missing = database.clone();
        missing.dbname("flowforge_no_such_database");
        let missing = PostgresCatalog::from_config(missing, &PostgresCatalogOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&missing, CatalogError::Storage(m) if m.contains("3D000")),
            "{missing:?}"
        );

        // TLS is verified or not used: the test server offers no certificate this machine
        // trusts (or no TLS at all), so requiring TLS must fail rather than fall back.
        let mut tls = database.clone();
        tls.ssl_mode(tokio_postgres::config::SslMode::Require);
        let tls = PostgresCatalog::from_config(tls, &PostgresCatalogOptions::default()).await;
        assert!(matches!(tls, Err(CatalogError::Storage(_))), "{tls:?}");

        // A CA file only makes sense with TLS.
        let options = PostgresCatalogOptions {
            ca_file: Some("/etc/flowforge/catalog-ca.pem".into()),
            ..PostgresCatalogOptions::default()
        };
        let plain = PostgresCatalog::from_config(database, &options)
            .await
            .unwrap_err();
        assert!(
            matches!(&plain, CatalogError::Storage(m) if m.contains("sslmode=require")),
            "{plain:?}"
        );
    }
}
