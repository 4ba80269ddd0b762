//! The `/api/v1` HTTP API of a running server, driven over real HTTP: sign-in, workflows
//! (CRUD, versions, rollback, publish, export/import), schema propagation, API keys, the
//! audit log, role gating, tenant isolation, OIDC bearer tokens, dev auth, the OpenAPI
//! document, `/docs`, `/metrics`, and a schemathesis run over the whole document.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use base64::Engine;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use super::server::TestServer;

/// A response: status, content type and JSON body (`Value::Null` when not JSON).
struct Reply {
    status: u16,
    content_type: String,
    body: Value,
    text: String,
}

impl Reply {
    /// Asserts the reply is a problem with this status and code.
    fn problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert_eq!(self.body["code"], code, "{}", self.text);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert_eq!(self.body["type"], format!("urn:flowforge:problem:{code}"));
    }
}

struct Api {
    base: String,
    client: Client,
}

impl Api {
    fn new(server: &TestServer) -> Api {
        Api {
            base: format!("http://{}", server.http),
            client: Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = response.text().unwrap_or_default();
        Reply {
            status,
            content_type,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), &[], None)
    }

    fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(token), &[], Some(body))
    }

    fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), &[], Some(body))
    }

    fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), &[], None)
    }

    fn login(&self, email: &str, password: &str) -> String {
        let reply = self.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &[],
            Some(&json!({"email": email, "password": password})),
        );
        assert_eq!(reply.status, 200, "login {email}: {}", reply.text);
        assert_eq!(reply.body["token_type"], "Bearer");
        reply.body["token"].as_str().expect("token").to_string()
    }
}

/// trades → quantity filter → table view.
fn definition(min_quantity: i64) -> Value {
    json!({
        "format_version": 1,
        "name": "Big fills",
        "nodes": [
            {"id": "src", "type": "data_source", "config": {"table": "fct_trades"}},
            {"id": "big", "type": "filter", "config": {"conditions": [
                {"column": "quantity", "operator": "gt", "value": min_quantity}]}},
            {"id": "out", "type": "table_view", "config": {"columns": ["trade_id", "symbol", "quantity"]}}
        ],
        "edges": [
            {"source": "src", "target": "big"},
            {"source": "big", "target": "out"}
        ]
    })
}

/// `psql -c sql` as analyst@tenant-a.test; `Ok(stdout)` or `Err(stderr)`.
fn psql(server: &TestServer, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .arg(server.dsn("analyst@tenant-a.test", "analyst123"))
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}

/// Nodes (type, config) and edges of a definition with ids replaced through `rename`.
fn graph_shape(definition: &Value, rename: &dyn Fn(&str) -> String) -> (Vec<Value>, Vec<Value>) {
    let nodes = definition["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| json!({"id": rename(n["id"].as_str().unwrap()), "type": n["type"], "config": n["config"]}))
        .collect();
    let edges = definition["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!({"source": rename(e["source"].as_str().unwrap()),
                   "target": rename(e["target"].as_str().unwrap()),
                   "target_port": e.get("target_port")})
        })
        .collect();
    (nodes, edges)
}

#[test]
fn workflows_live_through_create_versions_rollback_publish_export_import_and_delete() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);

    // Sign-in failures are problems, never plain text.
    let anonymous =
        |method, path: &str, body: Option<&Value>| api.send(method, path, None, &[], body);
    anonymous(
        Method::POST,
        "/api/v1/auth/login",
        Some(&json!({"email": "analyst@tenant-a.test", "password": "wrong-password"})),
    )
    .problem(401, "invalid_credentials");
    anonymous(
        Method::POST,
        "/api/v1/auth/login",
        Some(&json!({"email": "nobody@nowhere.test", "password": "analyst123"})),
    )
    .problem(401, "invalid_credentials");
    anonymous(
        Method::POST,
        "/api/v1/auth/login",
        Some(&json!({"email": "x"})),
    )
    .problem(400, "invalid_body");
    let unauthenticated = anonymous(Method::GET, "/api/v1/me", None);
    unauthenticated.problem(401, "unauthenticated");
    api.get("/api/v1/me", "not-a-jwt")
        .problem(401, "unauthenticated");

    let analyst = api.login("analyst@tenant-a.test", "analyst123");
    let admin = api.login("admin@tenant-a.test", "admin123");
    let me = api.get("/api/v1/me", &analyst);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["role"], "analyst");
    assert_eq!(me.body["tenant_slug"], "tenant-a");
    assert_eq!(me.body["auth_method"], "session_token");
    let analyst_id = me.body["user_id"].as_str().unwrap().to_string();

    // Paging over the five demo workflows.
    let page = api.get("/api/v1/workflows?limit=2", &analyst);
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["total"], 5);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let last = api.get("/api/v1/workflows?offset=4&limit=2", &analyst);
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    api.get("/api/v1/workflows?limit=0", &analyst)
        .problem(400, "invalid_query_parameter");
    api.get("/api/v1/workflows?limit=abc", &analyst)
        .problem(400, "invalid_query_parameter");

    // Definitions are validated by the engine, issues pinned on nodes and fields.
    let mut broken = definition(100);
    broken["nodes"][1]["config"]["conditions"][0]["column"] = json!("no_such_column");
    let rejected = api.post(
        "/api/v1/workflows",
        &analyst,
        &json!({"name": "Broken", "definition": broken}),
    );
    rejected.problem(422, "invalid_workflow");
    let issue = &rejected.body["errors"][0];
    assert_eq!(issue["node"], "big", "{}", rejected.text);
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("no_such_column"),
        "{}",
        rejected.text
    );
    api.post(
        "/api/v1/workflows",
        &analyst,
        &json!({"name": "No nodes key", "definition": {"edges": []}}),
    )
    .problem(422, "invalid_workflow");
    api.post(
        "/api/v1/workflows",
        &analyst,
        &json!({"name": "Unknown field", "definition": definition(1), "colour": "red"}),
    )
    .problem(400, "invalid_body");

    // Create.
    let created = api.post(
        "/api/v1/workflows",
        &analyst,
        &json!({"name": "Big fills", "description": "Fills over 100 shares", "definition": definition(100)}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["view_name"], "big_fills");
    assert_eq!(created.body["current_version"], 1);
    assert_eq!(created.body["published"], false);
    assert_eq!(created.body["created_by"], analyst_id.as_str());
    let v1_definition = created.body["definition"].clone();
    let got = api.get(&format!("/api/v1/workflows/{id}"), &analyst);
    assert_eq!(got.status, 200);
    assert_eq!(got.body["definition"], v1_definition);
    assert_eq!(
        api.get("/api/v1/workflows", &analyst).body["total"],
        6,
        "the new workflow is listed"
    );

    // Every accepted update is a version; a stale expected_version is a conflict.
    let updated = api.patch(
        &format!("/api/v1/workflows/{id}"),
        &analyst,
        &json!({"definition": definition(500), "note": "bigger fills only", "expected_version": 1}),
    );
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["current_version"], 2);
    api.patch(
        &format!("/api/v1/workflows/{id}"),
        &analyst,
        &json!({"name": "Stale edit", "expected_version": 1}),
    )
    .problem(409, "conflict");
    api.patch(&format!("/api/v1/workflows/{id}"), &analyst, &json!({}))
        .problem(422, "invalid_input");
    let versions = api.get(&format!("/api/v1/workflows/{id}/versions"), &analyst);
    assert_eq!(versions.status, 200);
    let list = versions.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["note"], "bigger fills only");
    assert_eq!(
        list[1]["definition"]["nodes"][1]["config"]["conditions"][0]["value"],
        500
    );
    let v1 = api.get(&format!("/api/v1/workflows/{id}/versions/1"), &analyst);
    assert_eq!(v1.body["definition"], v1_definition);
    api.get(&format!("/api/v1/workflows/{id}/versions/9"), &analyst)
        .problem(404, "not_found");
    api.get(&format!("/api/v1/workflows/{id}/versions/one"), &analyst)
        .problem(400, "invalid_path");

    // Rollback restores version 1's definition as version 3.
    let rolled = api.post(
        &format!("/api/v1/workflows/{id}/versions/1/rollback"),
        &analyst,
        &json!({}),
    );
    assert_eq!(rolled.status, 200, "{}", rolled.text);
    assert_eq!(rolled.body["current_version"], 3);
    assert_eq!(rolled.body["definition"], v1_definition);
    assert_eq!(
        api.get(&format!("/api/v1/workflows/{id}/versions"), &analyst)
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Publish makes it a view for SQL clients; unpublish withdraws it.
    assert!(psql(&server, "SELECT count(*) FROM big_fills").is_err());
    let published = api.post(
        &format!("/api/v1/workflows/{id}/publish"),
        &analyst,
        &json!({}),
    );
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.body["views"], json!(["big_fills"]));
    assert_eq!(published.body["workflow"]["published"], true);
    let count: i64 = psql(
        &server,
        "SELECT count(*) FROM big_fills WHERE quantity <= 100",
    )
    .expect("the published view answers")
    .parse()
    .unwrap();
    assert_eq!(count, 0, "the view applies the workflow's filter");
    let unpublished = api.post(
        &format!("/api/v1/workflows/{id}/unpublish"),
        &analyst,
        &json!({}),
    );
    assert_eq!(unpublished.body["published"], false, "{}", unpublished.text);
    let gone = psql(&server, "SELECT count(*) FROM big_fills").unwrap_err();
    assert!(gone.contains("does not exist"), "{gone}");

    // Export → import: new workflow id and node ids, the same graph.
    let export = api.get(&format!("/api/v1/workflows/{id}/export"), &analyst);
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.body["kind"], "flowforge.workflow");
    assert_eq!(export.body["format_version"], 1);
    assert_eq!(export.body["workflow"]["source_id"], id.as_str());
    let imported = api.post("/api/v1/workflows/import", &analyst, &export.body);
    assert_eq!(imported.status, 201, "{}", imported.text);
    let copy = &imported.body["workflow"];
    let copy_id = copy["id"].as_str().unwrap().to_string();
    assert_ne!(copy_id, id);
    assert_eq!(
        copy["view_name"], "big_fills_2",
        "a free view name is chosen"
    );
    assert_eq!(copy["current_version"], 1);
    let mapping: BTreeMap<String, String> =
        serde_json::from_value(imported.body["node_ids"].clone()).unwrap();
    assert_eq!(mapping.len(), 3);
    let old_ids: Vec<&str> = export.body["workflow"]["definition"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for old in &old_ids {
        assert_ne!(mapping[*old], *old, "node {old} kept its id");
    }
    let original = graph_shape(&export.body["workflow"]["definition"], &|old| {
        mapping[old].clone()
    });
    let copied = graph_shape(&copy["definition"], &|new| new.to_string());
    assert_eq!(original, copied, "same graph under the new ids");
    let mut future = export.body.clone();
    future["format_version"] = json!(2);
    api.post("/api/v1/workflows/import", &analyst, &future)
        .problem(422, "invalid_input");

    // Delete.
    let deleted = api.delete(&format!("/api/v1/workflows/{id}"), &analyst);
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    api.get(&format!("/api/v1/workflows/{id}"), &analyst)
        .problem(404, "not_found");
    api.delete(&format!("/api/v1/workflows/{id}"), &analyst)
        .problem(404, "not_found");

    // Every change is in the audit log, with actor and tenant; only admins read it.
    api.get("/api/v1/audit", &analyst).problem(403, "forbidden");
    let audit = api.get("/api/v1/audit?limit=50", &admin);
    assert_eq!(audit.status, 200, "{}", audit.text);
    let entries = audit.body.as_array().unwrap();
    let actions_on = |resource: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e["resource_id"] == resource)
            .map(|e| {
                assert_eq!(e["actor"], analyst_id.as_str(), "{e}");
                assert_eq!(e["detail"]["actor_email"], "analyst@tenant-a.test");
                assert!(e["at"].is_string());
                e["action"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let mut actions = actions_on(&id);
    actions.reverse();
    assert_eq!(
        actions,
        [
            "workflow.create",
            "workflow.update",
            "workflow.rollback",
            "workflow.publish",
            "workflow.unpublish",
            "workflow.export",
            "workflow.delete"
        ]
    );
    assert_eq!(actions_on(&copy_id), ["workflow.import"]);
    api.get("/api/v1/audit?limit=5000", &admin)
        .problem(400, "invalid_query_parameter");
}

#[test]
fn schema_browsing_propagation_docs_metrics_and_health() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let token = api.login("viewer@tenant-b.test", "viewer123");

    let tables = api.get("/api/v1/schema/tables", &token);
    assert_eq!(tables.status, 200, "{}", tables.text);
    let names: Vec<&str> = tables
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.contains(&"fct_trades") && names.contains(&"live_pnl"));
    let columns = api.get("/api/v1/schema/tables/fct_trades/columns", &token);
    assert_eq!(columns.status, 200, "{}", columns.text);
    assert_eq!(
        columns.body[0],
        json!({"name": "trade_id", "type": "int", "nullable": false})
    );
    api.get("/api/v1/schema/tables/secret_table/columns", &token)
        .problem(404, "not_found");

    // Propagation: a schema per node; problems come back by node instead of failing.
    let good = api.post(
        "/api/v1/schema/propagate",
        &token,
        &json!({"definition": definition(10)}),
    );
    assert_eq!(good.status, 200, "{}", good.text);
    assert_eq!(good.body["issues"], json!([]));
    let out: Vec<&str> = good.body["schemas"]["out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(out, ["trade_id", "symbol", "quantity"]);
    assert_eq!(good.body["schemas"]["src"].as_array().unwrap().len(), 7);
    let mut bad = definition(10);
    bad["nodes"][2]["config"]["columns"] = json!(["trade_id", "nope"]);
    let partial = api.post(
        "/api/v1/schema/propagate",
        &token,
        &json!({"definition": bad}),
    );
    assert_eq!(partial.status, 200, "{}", partial.text);
    assert_eq!(partial.body["issues"][0]["node"], "out", "{}", partial.text);
    assert!(
        partial.body["schemas"]["big"].is_array(),
        "upstream nodes still have schemas"
    );
    assert!(partial.body["schemas"].get("out").is_none());
    let mut unreadable = definition(10);
    unreadable["nodes"][1]["type"] = json!("teleport");
    let problem = api.post(
        "/api/v1/schema/propagate",
        &token,
        &json!({"definition": unreadable}),
    );
    problem.problem(422, "invalid_workflow");
    assert_eq!(problem.body["errors"][0]["node"], "big");
    assert_eq!(problem.body["errors"][0]["field"], "type");

    // OpenAPI document and interactive docs.
    let doc = api.send(Method::GET, "/api/v1/openapi.json", None, &[], None);
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/workflows",
        "/api/v1/workflows/{id}",
        "/api/v1/workflows/{id}/export",
        "/api/v1/workflows/import",
        "/api/v1/workflows/{id}/versions",
        "/api/v1/workflows/{id}/versions/{version}/rollback",
        "/api/v1/workflows/{id}/publish",
        "/api/v1/workflows/{id}/unpublish",
        "/api/v1/schema/tables",
        "/api/v1/schema/tables/{name}/columns",
        "/api/v1/schema/propagate",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/api/v1/audit",
        "/metrics",
        "/health/ready",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    let create = &doc.body["paths"]["/api/v1/workflows"]["post"]["responses"];
    assert!(
        create["422"]["content"]["application/problem+json"].is_object(),
        "{create}"
    );
    let docs = api.send(Method::GET, "/docs", None, &[], None);
    assert_eq!(docs.status, 200);
    assert!(
        docs.content_type.starts_with("text/html"),
        "{}",
        docs.content_type
    );
    assert!(
        docs.text.contains("openapi"),
        "the page embeds the document"
    );

    // Unknown routes and methods are problems too.
    api.send(Method::GET, "/api/v1/nothing-here", None, &[], None)
        .problem(404, "no_route");
    let wrong_method = api.send(Method::PUT, "/api/v1/me", Some(&token), &[], None);
    wrong_method.problem(405, "method_not_allowed");

    // Health and landing page keep working.
    for path in ["/health", "/health/live", "/health/ready", "/"] {
        let reply = api.send(Method::GET, path, None, &[], None);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }

    // Metrics are labelled by method, matched route template and status.
    let metrics = api.send(Method::GET, "/metrics", None, &[], None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text.contains(
            r#"flowforge_http_requests_total{method="GET",route="/api/v1/schema/tables/{name}/columns",status="404"} 1"#
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics.text.contains(
            r#"flowforge_http_request_duration_seconds_count{method="POST",route="/api/v1/schema/propagate",status="200"} 2"#
        ),
        "{}",
        metrics.text
    );
}

#[test]
fn roles_gate_writes_and_admin_pages_and_tenants_never_see_each_other() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let viewer_b = api.login("viewer@tenant-b.test", "viewer123");
    let admin_b = api.login("admin@tenant-b.test", "admin123");
    let analyst_a = api.login("analyst@tenant-a.test", "analyst123");
    let admin_a = api.login("admin@tenant-a.test", "admin123");

    // Viewers read but never write.
    let listed = api.get("/api/v1/workflows", &viewer_b);
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["total"], 6);
    let b_workflow = listed.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        api.get(&format!("/api/v1/workflows/{b_workflow}"), &viewer_b)
            .status,
        200
    );
    api.post(
        "/api/v1/workflows",
        &viewer_b,
        &json!({"name": "Nope", "definition": definition(1)}),
    )
    .problem(403, "forbidden");
    api.patch(
        &format!("/api/v1/workflows/{b_workflow}"),
        &viewer_b,
        &json!({"name": "Renamed"}),
    )
    .problem(403, "forbidden");
    api.delete(&format!("/api/v1/workflows/{b_workflow}"), &viewer_b)
        .problem(403, "forbidden");
    for action in ["publish", "unpublish", "versions/1/rollback"] {
        api.post(
            &format!("/api/v1/workflows/{b_workflow}/{action}"),
            &viewer_b,
            &json!({}),
        )
        .problem(403, "forbidden");
    }
    api.get("/api/v1/api-keys", &viewer_b)
        .problem(403, "forbidden");
    api.get("/api/v1/audit", &viewer_b)
        .problem(403, "forbidden");
    // Analysts write workflows but keys and the audit log are admin pages.
    api.get("/api/v1/api-keys", &analyst_a)
        .problem(403, "forbidden");
    api.post("/api/v1/api-keys", &analyst_a, &json!({"name": "mine"}))
        .problem(403, "forbidden");
    api.get("/api/v1/audit", &analyst_a)
        .problem(403, "forbidden");

    // Another tenant's workflow answers 404 everywhere, exactly like a missing one.
    let a_workflow = api.get("/api/v1/workflows", &analyst_a).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let missing = api.get(
        "/api/v1/workflows/00000000-0000-0000-0000-000000000000",
        &admin_b,
    );
    missing.problem(404, "not_found");
    let base = format!("/api/v1/workflows/{a_workflow}");
    for path in [
        base.clone(),
        format!("{base}/versions"),
        format!("{base}/versions/1"),
        format!("{base}/export"),
    ] {
        api.get(&path, &admin_b).problem(404, "not_found");
    }
    api.patch(&base, &admin_b, &json!({"name": "Hijacked"}))
        .problem(404, "not_found");
    for action in ["publish", "unpublish", "versions/1/rollback"] {
        api.post(&format!("{base}/{action}"), &admin_b, &json!({}))
            .problem(404, "not_found");
    }
    api.delete(&base, &admin_b).problem(404, "not_found");
    assert!(
        api.get(&base, &analyst_a).body["name"].is_string(),
        "tenant A's workflow is untouched"
    );

    // API keys: the secret is shown once; other tenants cannot see or revoke the key.
    let created = api.post(
        "/api/v1/api-keys",
        &admin_a,
        &json!({"name": "grafana-prod"}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("sk_live_"), "{secret}");
    assert_eq!(created.body["key"]["role"], "viewer");
    let key_id = created.body["key"]["id"].as_str().unwrap().to_string();
    let keys = api.get("/api/v1/api-keys", &admin_a);
    assert_eq!(keys.status, 200);
    assert!(keys.text.contains(&key_id) && !keys.text.contains(&secret));
    assert!(!api.get("/api/v1/api-keys", &admin_b).text.contains(&key_id));
    api.delete(&format!("/api/v1/api-keys/{key_id}"), &admin_b)
        .problem(404, "not_found");
    // A key is not a session: the API asks for a token.
    api.send(
        Method::GET,
        "/api/v1/me",
        None,
        &[("x-api-key", &secret)],
        None,
    )
    .problem(401, "unauthenticated");
    let revoked = api.delete(&format!("/api/v1/api-keys/{key_id}"), &admin_a);
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(revoked.body["revoked_at"].is_string());
    let audit = api.get("/api/v1/audit", &admin_a);
    let key_actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_id"] == key_id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(key_actions, ["api_key.revoke", "api_key.create"]);
    assert!(
        !api.get("/api/v1/audit", &admin_b).text.contains(&key_id),
        "tenant B's audit log shows nothing of tenant A"
    );
}

/// An EC P-256 signing key with its JWK.
struct IdpKey {
    kid: String,
    encoding: jsonwebtoken::EncodingKey,
    jwk: Value,
}

impl IdpKey {
    fn generate(kid: &str) -> IdpKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let raw = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        IdpKey {
            kid: kid.to_string(),
            encoding: jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes())
                .unwrap(),
            jwk: json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                        "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// Serves `jwks` at `http://127.0.0.1:<port>/certs` until the test process ends.
fn serve_jwks(jwks: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = jwks.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

const ISSUER: &str = "https://idp.test/realms/flowforge";

fn oidc_claims(email: &str, tenant: &str, roles: &[&str], expires_in: i64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": ["account", "flowforge"],
        "sub": format!("sub-{email}"),
        "email": email,
        "tenant": tenant,
        "realm_access": {"roles": roles},
        "iat": chrono::Utc::now().timestamp(),
        "exp": chrono::Utc::now().timestamp() + expires_in,
    })
}

#[test]
fn oidc_tokens_are_verified_against_the_jwks_and_dev_auth_is_explicit() {
    let key = IdpKey::generate("idp-key-1");
    let stranger = IdpKey::generate("idp-key-unknown");
    let jwks = serve_jwks(json!({"keys": [key.jwk]}));
    let server = TestServer::start(&[
        "--oidc-jwks-url",
        &jwks,
        "--oidc-issuer",
        ISSUER,
        "--oidc-audience",
        "flowforge",
        "--dev-auth-user",
        "viewer@tenant-b.test",
    ]);
    let api = Api::new(&server);

    // A good provider token for a catalog user acts as that user with the token's role.
    let session = api.login("analyst@tenant-a.test", "analyst123");
    let catalog_id = api.get("/api/v1/me", &session).body["user_id"].clone();
    let good = key.sign(&oidc_claims(
        "analyst@tenant-a.test",
        "tenant-a",
        &["offline_access", "analyst"],
        300,
    ));
    let me = api.get("/api/v1/me", &good);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["auth_method"], "oidc");
    assert_eq!(me.body["role"], "analyst");
    assert_eq!(me.body["tenant_slug"], "tenant-a");
    assert_eq!(me.body["user_id"], catalog_id);
    let created = api.post(
        "/api/v1/workflows",
        &good,
        &json!({"name": "From the IdP", "definition": definition(5)}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["created_by"], catalog_id);

    // A provider user unknown to the catalog gets the token's role in the token's tenant.
    let newcomer = key.sign(&oidc_claims(
        "new.hire@tenant-b.test",
        "tenant-b",
        &["viewer"],
        300,
    ));
    let me = api.get("/api/v1/me", &newcomer);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["role"], "viewer");
    assert_eq!(me.body["tenant_slug"], "tenant-b");
    assert_eq!(me.body["user_id"], "sub-new.hire@tenant-b.test");
    api.post(
        "/api/v1/workflows",
        &newcomer,
        &json!({"name": "Nope", "definition": definition(5)}),
    )
    .problem(403, "forbidden");

    // Wrong issuer, wrong audience, expired, unknown key: refused.
    let mut wrong_issuer = oidc_claims("analyst@tenant-a.test", "tenant-a", &["analyst"], 300);
    wrong_issuer["iss"] = json!("https://evil.test/realms/flowforge");
    let mut wrong_audience = oidc_claims("analyst@tenant-a.test", "tenant-a", &["analyst"], 300);
    wrong_audience["aud"] = json!("another-app");
    let expired = oidc_claims("analyst@tenant-a.test", "tenant-a", &["analyst"], -600);
    for (what, token) in [
        ("wrong issuer", key.sign(&wrong_issuer)),
        ("wrong audience", key.sign(&wrong_audience)),
        ("expired", key.sign(&expired)),
        (
            "unknown key",
            stranger.sign(&oidc_claims(
                "analyst@tenant-a.test",
                "tenant-a",
                &["analyst"],
                300,
            )),
        ),
    ] {
        let reply = api.get("/api/v1/me", &token);
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
        reply.problem(401, "unauthenticated");
    }
    // Valid tokens that name no known tenant or no FlowForge role are forbidden.
    api.get(
        "/api/v1/me",
        &key.sign(&oidc_claims("x@y.test", "tenant-zzz", &["admin"], 300)),
    )
    .problem(403, "forbidden");
    api.get(
        "/api/v1/me",
        &key.sign(&oidc_claims(
            "x@y.test",
            "tenant-a",
            &["uma_authorization"],
            300,
        )),
    )
    .problem(403, "forbidden");

    // Dev auth: only requests without credentials act as the configured user.
    let dev = api.send(Method::GET, "/api/v1/me", None, &[], None);
    assert_eq!(dev.status, 200, "{}", dev.text);
    assert_eq!(dev.body["email"], "viewer@tenant-b.test");
    assert_eq!(dev.body["auth_method"], "dev_auth");
    api.send(Method::GET, "/api/v1/me", Some("garbage"), &[], None)
        .problem(401, "unauthenticated");
}

/// Runs schemathesis (from the test virtualenv) over the served OpenAPI document with an
/// admin session token, every check enabled:
///
/// ```text
/// schemathesis --config-file tests/e2e/schemathesis.toml run \
///     http://<server>/api/v1/openapi.json -H "Authorization: Bearer <admin token>" \
///     --checks all --max-examples 50 --seed 20261126 --workers 2
/// ```
///
/// Phases: examples, coverage, fuzzing and stateful. It must find no 5xx, no response that
/// violates the document (status, content type, headers, body schema), no schema-violating
/// request accepted, and no schema-valid request refused except with the 409/422 the config
/// file explains (a workflow that does not compile cannot be expressed in JSON Schema).
#[test]
fn schemathesis_finds_no_server_errors_or_schema_violations() {
    let python = std::env::var("FLOWFORGE_TEST_PYTHON").expect(
        "FLOWFORGE_TEST_PYTHON must point at the test virtualenv's Python (run `make test`)",
    );
    let schemathesis = Path::new(&python).with_file_name("schemathesis");
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let token = api.login("admin@tenant-a.test", "admin123");
    let config = format!("{}/tests/e2e/schemathesis.toml", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&schemathesis)
        .args(["--config-file", &config, "run"])
        .arg(format!("http://{}/api/v1/openapi.json", server.http))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "50",
            "--seed",
            "20261126",
        ])
        .args(["--workers", "2"])
        .env("NO_COLOR", "1")
        // Its crash cache goes in the working directory: keep it out of the source tree and
        // start every run from a clean one.
        .current_dir(server.data_dir())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", schemathesis.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every operation of the document was exercised, none skipped.
    let document = api.get("/api/v1/openapi.json", &token);
    let operations: usize = document.body["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| {
            item.as_object().map_or(0, |methods| {
                methods
                    .keys()
                    .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                    .count()
            })
        })
        .sum();
    assert!(operations >= 40, "{operations} operations documented");
    assert!(
        stdout.contains(&format!("Tested: {operations}")),
        "{stdout}"
    );
}
