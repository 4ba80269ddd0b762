//! Dashboards, widgets, previews, executions, templates and embeds over real HTTP against the
//! real server: CRUD with role gating and tenant isolation, widget data equal to the same
//! node's rows through pgwire, global filters, the deleted-workflow error state, the preview
//! cache's content addressing, background executions, and embeds (API key, embed token,
//! declared filters, rate limits in process and shared through Redis).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

use super::server::TestServer;

/// A response: status, headers of interest and JSON body (`Value::Null` when not JSON).
struct Reply {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
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
        assert_eq!(self.body["code"], code, "{}", self.text);
    }

    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.body
    }

    fn ok_id(&self) -> String {
        assert!(
            (200..300).contains(&self.status),
            "expected success: {}",
            self.text
        );
        self.body["id"].as_str().expect("id").to_string()
    }
}

struct Api {
    base: String,
    client: Client,
}

enum Auth<'a> {
    Bearer(&'a str),
    Key(&'a str),
    None,
}

impl Api {
    fn new(server: &TestServer) -> Api {
        Api {
            base: format!("http://{}", server.http),
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    fn send(&self, method: Method, path: &str, auth: Auth, body: Option<&Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        match auth {
            Auth::Bearer(token) => request = request.bearer_auth(token),
            Auth::Key(key) => request = request.header("x-api-key", key),
            Auth::None => {}
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().expect("request");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let text = response.text().unwrap_or_default();
        Reply {
            status,
            content_type,
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Auth::Bearer(token), None)
    }

    fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Auth::Bearer(token), Some(body))
    }

    fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(Method::PATCH, path, Auth::Bearer(token), Some(body))
    }

    fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Auth::Bearer(token), None)
    }

    fn login(&self, email: &str, password: &str) -> String {
        let reply = self.send(
            Method::POST,
            "/api/v1/auth/login",
            Auth::None,
            Some(&json!({"email": email, "password": password})),
        );
        assert_eq!(reply.status, 200, "login {email}: {}", reply.text);
        reply.body["token"].as_str().expect("token").to_string()
    }
}

/// trades → per-symbol count and volume → table; and trades → table of single fills.
fn definition() -> Value {
    json!({
        "format_version": 1,
        "name": "Desk activity",
        "nodes": [
            {"id": "src", "type": "data_source", "config": {"table": "fct_trades"},
             "position": {"x": 0, "y": 0}},
            {"id": "by_symbol", "type": "group_by", "config": {"group_by": ["symbol"],
                "aggregations": [{"function": "count", "alias": "trades"},
                                 {"column": "quantity", "function": "sum", "alias": "volume"}]},
             "position": {"x": 200, "y": 0}},
            {"id": "summary", "type": "table_view", "config": {"title": "By symbol"},
             "position": {"x": 400, "y": 0}},
            {"id": "big", "type": "filter", "config": {"conditions": [
                {"column": "quantity", "operator": "gt", "value": 4800}]},
             "position": {"x": 200, "y": 200}},
            {"id": "fills", "type": "table_view",
             "config": {"columns": ["trade_id", "symbol", "quantity", "event_time"]},
             "position": {"x": 400, "y": 200}}
        ],
        "edges": [
            {"source": "src", "target": "by_symbol"},
            {"source": "by_symbol", "target": "summary"},
            {"source": "src", "target": "big"},
            {"source": "big", "target": "fills"}
        ]
    })
}

/// `psql` as analyst@tenant-a.test, unaligned with `|` between fields.
fn psql(server: &TestServer, sql: &str) -> Vec<Vec<String>> {
    let out = Command::new("psql")
        .arg(server.dsn("analyst@tenant-a.test", "analyst123"))
        .args([
            "-X",
            "-A",
            "-t",
            "-F",
            "|",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// Rows of a widget-data or preview body as text, like psql prints them.
fn rows_as_text(body: &Value) -> Vec<Vec<String>> {
    body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

fn create_workflow(api: &Api, token: &str, name: &str, definition: &Value) -> String {
    api.post(
        "/api/v1/workflows",
        token,
        &json!({"name": name, "definition": definition}),
    )
    .ok_id()
}

fn dashboard_body(name: &str) -> Value {
    json!({
        "name": name,
        "refresh_interval_seconds": 30,
        "global_filters": [
            {"id": "sym", "column": "symbol", "label": "Symbol", "kind": "values"},
            {"id": "time", "column": "event_time", "label": "Time", "kind": "range"}
        ]
    })
}

fn widget_body(dashboard: &str, workflow: &str, node: &str, filters: &[&str]) -> Value {
    json!({
        "dashboard_id": dashboard, "workflow_id": workflow, "node_id": node,
        "title": format!("{node} widget"), "layout": {"x": 0, "y": 0, "w": 6, "h": 4},
        "filters": filters
    })
}

/// Actions the audit log records for `resource_id`, newest first.
fn audit_actions(api: &Api, admin: &str, resource_id: &str) -> Vec<String> {
    api.get("/api/v1/audit?limit=1000", admin)
        .ok(200)
        .as_array()
        .expect("audit entries")
        .iter()
        .filter(|e| e["resource_id"] == resource_id)
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

/// Polls an execution until it leaves queued/running.
fn finished_execution(api: &Api, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = api
            .get(&format!("/api/v1/executions/{id}"), token)
            .ok(200)
            .clone();
        if !matches!(body["status"].as_str(), Some("queued" | "running")) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "execution never finished: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn dashboards_widgets_templates_and_executions_are_tenant_scoped_and_role_gated() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let analyst_a = api.login("analyst@tenant-a.test", "analyst123");
    let admin_a = api.login("admin@tenant-a.test", "admin123");
    let admin_b = api.login("admin@tenant-b.test", "admin123");
    let viewer_b = api.login("viewer@tenant-b.test", "viewer123");

    // Dashboards: create, read, list, update, and the audit trail.
    let workflow = create_workflow(&api, &analyst_a, "Desk activity", &definition());
    let created = api.post("/api/v1/dashboards", &analyst_a, &dashboard_body("Desk"));
    let dashboard = created.ok_id();
    assert_eq!(created.status, 201);
    assert_eq!(created.body["global_filters"][1]["kind"], "range");
    let base = format!("/api/v1/dashboards/{dashboard}");
    assert_eq!(api.get(&base, &analyst_a).ok(200)["name"], "Desk");
    let listed = api.get("/api/v1/dashboards", &analyst_a);
    assert!(listed.ok(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["id"] == dashboard.as_str()));
    let patched = api.patch(
        &base,
        &analyst_a,
        &json!({"name": "Desk 2", "refresh_interval_seconds": null}),
    );
    assert_eq!(patched.ok(200)["name"], "Desk 2");
    assert!(patched.body["refresh_interval_seconds"].is_null());
    api.patch(&base, &analyst_a, &json!({"refresh_interval_seconds": 7}))
        .problem(422, "invalid_input");

    // Widgets: only output nodes can be pinned.
    let widget_reply = api.post(
        "/api/v1/widgets",
        &analyst_a,
        &widget_body(&dashboard, &workflow, "summary", &["symbol"]),
    );
    assert_eq!(widget_reply.status, 201, "{}", widget_reply.text);
    let widget = widget_reply.ok_id();
    api.post(
        "/api/v1/widgets",
        &analyst_a,
        &widget_body(&dashboard, &workflow, "by_symbol", &[]),
    )
    .problem(422, "invalid_input");
    api.post(
        "/api/v1/widgets",
        &analyst_a,
        &widget_body(&dashboard, &workflow, "nope", &[]),
    )
    .problem(422, "invalid_input");
    let widgets = api.get(
        &format!("/api/v1/widgets?dashboard_id={dashboard}"),
        &analyst_a,
    );
    assert_eq!(widgets.ok(200)["items"].as_array().unwrap().len(), 1);
    let moved = api.patch(
        &format!("/api/v1/widgets/{widget}"),
        &analyst_a,
        &json!({"layout": {"x": 6, "y": 0, "w": 6, "h": 4}, "title": "Volume"}),
    );
    assert_eq!(moved.ok(200)["layout"]["x"], 6);
    assert_eq!(moved.body["title"], "Volume");
    let fetched = api.get(&format!("/api/v1/widgets/{widget}"), &analyst_a);
    assert_eq!(fetched.ok(200)["title"], "Volume");
    assert_eq!(fetched.body["layout"]["x"], 6);

    // Templates: the gallery, and a workflow made from one with fresh node ids.
    let templates = api.get("/api/v1/templates", &viewer_b);
    let items = templates.ok(200)["items"].as_array().unwrap().clone();
    assert!(!items.is_empty(), "built-in templates are listed");
    let template = &items[0];
    let template_id = template["id"].as_str().unwrap();
    api.post(
        &format!("/api/v1/templates/{template_id}/instantiate"),
        &viewer_b,
        &json!({}),
    )
    .problem(403, "forbidden");
    let made = api.post(
        &format!("/api/v1/templates/{template_id}/instantiate"),
        &analyst_a,
        &json!({}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let template_ids: BTreeSet<&str> = template["definition"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let made_nodes = made.body["definition"]["nodes"].as_array().unwrap();
    assert_eq!(made_nodes.len(), template_ids.len());
    assert!(made_nodes
        .iter()
        .all(|n| !template_ids.contains(n["id"].as_str().unwrap())));
    let again = api.post(
        &format!("/api/v1/templates/{template_id}/instantiate"),
        &analyst_a,
        &json!({}),
    );
    assert_eq!(
        again.status, 201,
        "a second copy gets a numbered name: {}",
        again.text
    );
    assert_ne!(again.body["name"], made.body["name"]);
    api.post(
        "/api/v1/templates/00000000-0000-0000-0000-000000000000/instantiate",
        &analyst_a,
        &json!({}),
    )
    .problem(404, "not_found");

    // Executions: accepted at once, run in the background, tenant-scoped.
    let accepted = api.post(
        "/api/v1/executions",
        &analyst_a,
        &json!({"workflow_id": workflow, "node_ids": ["summary", "fills"]}),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    let execution = accepted.ok_id();
    let done = finished_execution(&api, &analyst_a, &execution);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["nodes"][0]["node_id"], "summary");
    assert_eq!(
        done["nodes"][0]["row_count"], 6,
        "one row per entitled symbol: {done}"
    );
    assert!(
        done["nodes"][1]["row_count"].as_u64().unwrap() > 0,
        "{done}"
    );
    let failing = api.post(
        "/api/v1/executions",
        &analyst_a,
        &json!({"definition": {"nodes": [
            {"id": "src", "type": "data_source", "config": {"table": "fct_trades"}},
            {"id": "bad", "type": "filter", "config": {"conditions": [
                {"column": "nope", "operator": "eq", "value": 1}]}}],
            "edges": [{"source": "src", "target": "bad"}]},
          "node_ids": ["src", "bad"]}),
    );
    assert_eq!(failing.status, 202, "{}", failing.text);
    let failed = finished_execution(&api, &analyst_a, &failing.ok_id());
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["nodes"][0]["status"], "succeeded");
    assert_eq!(
        failed["nodes"][1]["error_code"], "invalid_workflow",
        "{failed}"
    );
    api.post(
        "/api/v1/executions",
        &viewer_b,
        &json!({"definition": definition(), "node_ids": ["summary"]}),
    )
    .problem(403, "forbidden");
    api.post(
        "/api/v1/executions",
        &analyst_a,
        &json!({"workflow_id": workflow, "node_ids": ["missing"]}),
    )
    .problem(422, "invalid_input");

    // Role gating: viewers read but do not write.
    let b_dashboard = api
        .post("/api/v1/dashboards", &admin_b, &dashboard_body("B desk"))
        .ok_id();
    assert_eq!(
        api.get(&format!("/api/v1/dashboards/{b_dashboard}"), &viewer_b)
            .status,
        200
    );
    api.post("/api/v1/dashboards", &viewer_b, &dashboard_body("nope"))
        .problem(403, "forbidden");
    api.patch(
        &format!("/api/v1/dashboards/{b_dashboard}"),
        &viewer_b,
        &json!({"name": "x"}),
    )
    .problem(403, "forbidden");
    api.delete(&format!("/api/v1/dashboards/{b_dashboard}"), &viewer_b)
        .problem(403, "forbidden");
    api.post(
        "/api/v1/widgets",
        &viewer_b,
        &widget_body(&b_dashboard, &workflow, "summary", &[]),
    )
    .problem(403, "forbidden");
    assert_eq!(
        api.get(
            &format!("/api/v1/widgets?dashboard_id={b_dashboard}"),
            &viewer_b
        )
        .status,
        200
    );

    // Every route is in the OpenAPI document.
    let document = api.get("/api/v1/openapi.json", &viewer_b);
    let paths = document.ok(200)["paths"].as_object().unwrap().clone();
    for path in [
        "/api/v1/dashboards",
        "/api/v1/dashboards/{id}",
        "/api/v1/widgets",
        "/api/v1/widgets/{id}",
        "/api/v1/widgets/{id}/data",
        "/api/v1/preview",
        "/api/v1/executions",
        "/api/v1/executions/{id}",
        "/api/v1/templates",
        "/api/v1/templates/{id}/instantiate",
        "/api/v1/embed/token",
        "/api/v1/embed/{widget_id}/data",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }

    // Tenant isolation: tenant B sees none of tenant A's objects.
    api.get(&base, &admin_b).problem(404, "not_found");
    api.patch(&base, &admin_b, &json!({"name": "x"}))
        .problem(404, "not_found");
    api.delete(&base, &admin_b).problem(404, "not_found");
    assert!(!api
        .get("/api/v1/dashboards", &admin_b)
        .text
        .contains(&dashboard));
    api.get(
        &format!("/api/v1/widgets?dashboard_id={dashboard}"),
        &admin_b,
    )
    .problem(404, "not_found");
    api.get(&format!("/api/v1/widgets/{widget}/data"), &admin_b)
        .problem(404, "not_found");
    api.get(&format!("/api/v1/widgets/{widget}"), &admin_b)
        .problem(404, "not_found");
    api.patch(
        &format!("/api/v1/widgets/{widget}"),
        &admin_b,
        &json!({"title": "x"}),
    )
    .problem(404, "not_found");
    api.delete(&format!("/api/v1/widgets/{widget}"), &admin_b)
        .problem(404, "not_found");
    api.post(
        "/api/v1/widgets",
        &admin_b,
        &widget_body(&b_dashboard, &workflow, "summary", &[]),
    )
    .problem(404, "not_found");
    api.get(&format!("/api/v1/executions/{execution}"), &admin_b)
        .problem(404, "not_found");
    api.post(
        "/api/v1/executions",
        &admin_b,
        &json!({"workflow_id": workflow, "node_ids": ["summary"]}),
    )
    .problem(404, "not_found");
    let own_template = made.body["id"].as_str().unwrap().to_string();
    assert!(!api
        .get("/api/v1/workflows", &admin_b)
        .text
        .contains(&own_template));

    // Deletes, and every change is in the audit log.
    assert_eq!(
        api.delete(&format!("/api/v1/widgets/{widget}"), &analyst_a)
            .status,
        204
    );
    api.get(&format!("/api/v1/widgets/{widget}/data"), &analyst_a)
        .problem(404, "not_found");
    assert_eq!(api.delete(&base, &analyst_a).status, 204);
    api.get(&base, &analyst_a).problem(404, "not_found");
    assert_eq!(
        audit_actions(&api, &admin_a, &dashboard),
        ["dashboard.delete", "dashboard.update", "dashboard.create"]
    );
    assert_eq!(
        audit_actions(&api, &admin_a, &widget),
        ["widget.delete", "widget.update", "widget.create"]
    );
}

#[test]
fn widget_data_matches_pgwire_honours_global_filters_and_reports_deleted_sources() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let analyst = api.login("analyst@tenant-a.test", "analyst123");
    let workflow = create_workflow(&api, &analyst, "Desk activity", &definition());
    let published = api.post(
        &format!("/api/v1/workflows/{workflow}/publish"),
        &analyst,
        &json!({}),
    );
    let views: Vec<String> = published.ok(200)["views"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let view = |suffix: &str| {
        views
            .iter()
            .find(|v| v.ends_with(suffix))
            .unwrap_or_else(|| panic!("no view for {suffix} in {views:?}"))
            .clone()
    };
    let dashboard = api
        .post("/api/v1/dashboards", &analyst, &dashboard_body("Desk"))
        .ok_id();
    let summary = api
        .post(
            "/api/v1/widgets",
            &analyst,
            &widget_body(&dashboard, &workflow, "summary", &[]),
        )
        .ok_id();
    let fills = api
        .post(
            "/api/v1/widgets",
            &analyst,
            &widget_body(&dashboard, &workflow, "fills", &[]),
        )
        .ok_id();

    // Same engine path: the widget's rows are the view's rows through pgwire.
    let data = api.get(&format!("/api/v1/widgets/{summary}/data"), &analyst);
    let body = data.ok(200).clone();
    assert_eq!(body["state"], "ok", "{body}");
    let names: Vec<&str> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["symbol", "trades", "volume"]);
    assert_eq!(body["columns"][1]["type"], "int8");
    let through_pgwire = psql(
        &server,
        &format!("SELECT symbol, trades, volume FROM {}", view("summary")),
    );
    assert_eq!(through_pgwire.len(), 6, "one row per entitled symbol");
    assert_eq!(sorted(rows_as_text(&body)), sorted(through_pgwire));

    // A global filter applies to widgets that have its column ...
    let filtered = api.get(
        &format!(
            "/api/v1/widgets/{summary}/data?symbol=AAPL,MSFT&event_time.gte=2099-01-01T00:00:00Z"
        ),
        &analyst,
    );
    let expected = psql(
        &server,
        &format!(
            "SELECT symbol, trades, volume FROM {} WHERE symbol IN ('AAPL', 'MSFT')",
            view("summary")
        ),
    );
    assert_eq!(expected.len(), 2);
    assert_eq!(
        sorted(rows_as_text(filtered.ok(200))),
        sorted(expected),
        "the time range does not apply: the summary has no event_time"
    );
    // ... and a range narrows a widget that has the column.
    let fills_all = psql(
        &server,
        &format!(
            "SELECT count(*), date_part('epoch', min(event_time)), date_part('epoch', max(event_time)) FROM {}",
            view("fills")
        ),
    );
    let total: usize = fills_all[0][0].parse().unwrap();
    assert!(total > 0 && total <= 1000, "fixture size: {total}");
    // The first half of the fills' time span, for two symbols.
    let seconds = |text: &str| text.parse::<f64>().unwrap();
    let middle = (seconds(&fills_all[0][1]) + seconds(&fills_all[0][2])) / 2.0;
    let midpoint = chrono::DateTime::from_timestamp(middle as i64, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let window = psql(
        &server,
        &format!(
            "SELECT trade_id FROM {} WHERE symbol IN ('JPM', 'NVDA') AND event_time <= '{midpoint}'",
            view("fills")
        ),
    );
    assert!(
        !window.is_empty() && window.len() < total,
        "{} of {total}",
        window.len()
    );
    let ranged = api.get(
        &format!("/api/v1/widgets/{fills}/data?symbol=JPM,NVDA&event_time.lte={midpoint}"),
        &analyst,
    );
    let ranged = ranged.ok(200).clone();
    let ids: BTreeSet<String> = rows_as_text(&ranged)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let expected: BTreeSet<String> = window.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, expected);
    assert!(rows_as_text(&ranged)
        .iter()
        .all(|r| r[1] == "JPM" || r[1] == "NVDA"));
    // Drill-down on the widget's own columns; unknown columns and bad values are 400s.
    let drilled = api.get(
        &format!("/api/v1/widgets/{fills}/data?quantity.gte=5000"),
        &analyst,
    );
    let top = psql(
        &server,
        &format!(
            "SELECT count(*) FROM {} WHERE quantity >= 5000",
            view("fills")
        ),
    );
    let drilled = rows_as_text(drilled.ok(200));
    assert_eq!(drilled.len().to_string(), top[0][0]);
    assert!(drilled.iter().all(|r| r[2] == "5000"));
    api.get(&format!("/api/v1/widgets/{fills}/data?nope=1"), &analyst)
        .problem(400, "unknown_filter_column");
    api.get(
        &format!("/api/v1/widgets/{fills}/data?quantity.gte=lots"),
        &analyst,
    )
    .problem(400, "invalid_filter");
    api.get(
        &format!("/api/v1/widgets/{fills}/data?limit=5000"),
        &analyst,
    )
    .problem(422, "row_limit_exceeded");
    let paged = api.get(&format!("/api/v1/widgets/{fills}/data?limit=2"), &analyst);
    assert_eq!(paged.ok(200)["rows"].as_array().unwrap().len(), 2);
    assert_eq!(paged.body["truncated"], true);

    // Deleting the workflow keeps the widget, which reports why it has no rows.
    assert_eq!(
        api.delete(&format!("/api/v1/workflows/{workflow}"), &analyst)
            .status,
        204
    );
    let orphan = api.get(&format!("/api/v1/widgets/{summary}/data"), &analyst);
    assert_eq!(orphan.ok(200)["state"], "error", "{}", orphan.text);
    assert_eq!(orphan.body["code"], "source_workflow_deleted");
    assert!(orphan.body.get("rows").is_none());
    let listed = api.get(
        &format!("/api/v1/widgets?dashboard_id={dashboard}"),
        &analyst,
    );
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 2);
}

#[test]
fn previews_are_content_addressed() {
    let server = TestServer::start(&[]);
    let api = Api::new(&server);
    let analyst = api.login("analyst@tenant-a.test", "analyst123");
    let viewer_b = api.login("viewer@tenant-b.test", "viewer123");
    let preview = |definition: &Value| {
        api.post(
            "/api/v1/preview",
            &analyst,
            &json!({"definition": definition, "node_id": "fills", "limit": 10}),
        )
    };
    let first = preview(&definition());
    assert_eq!(first.ok(200)["cache"], "miss", "{}", first.text);
    assert_eq!(first.body["rows"].as_array().unwrap().len(), 10);
    assert_eq!(first.body["truncated"], true);
    assert_eq!(preview(&definition()).ok(200)["cache"], "hit");

    // Dragging nodes, selecting them and editing another branch keep the address.
    let mut moved = definition();
    moved["nodes"][0]["position"] = json!({"x": 999, "y": 42});
    moved["nodes"][3]["selected"] = json!(true);
    moved["nodes"][4]["measured"] = json!({"width": 120, "height": 40});
    moved["nodes"][1]["config"]["group_by"] = json!(["side"]);
    let hit = preview(&moved);
    assert_eq!(hit.ok(200)["cache"], "hit", "{}", hit.text);
    assert_eq!(hit.body["rows"], first.body["rows"]);

    // An upstream change is a new address with new rows.
    let mut changed = definition();
    changed["nodes"][3]["config"]["conditions"][0]["value"] = json!(4900);
    let miss = preview(&changed);
    assert_eq!(miss.ok(200)["cache"], "miss");
    assert!(rows_as_text(&miss.body).iter().all(|r| r[2] == "5000"));

    // A saved workflow previews by id; its canvas-equal draft shares the address.
    let workflow = create_workflow(&api, &analyst, "Desk activity", &definition());
    let saved = api.post(
        "/api/v1/preview",
        &analyst,
        &json!({"workflow_id": workflow, "node_id": "summary"}),
    );
    assert_eq!(saved.ok(200)["cache"], "miss");
    assert_eq!(saved.body["rows"].as_array().unwrap().len(), 6);
    api.post(
        "/api/v1/preview",
        &viewer_b,
        &json!({"workflow_id": workflow, "node_id": "summary"}),
    )
    .problem(404, "not_found");
    api.post(
        "/api/v1/preview",
        &viewer_b,
        &json!({"definition": definition(), "node_id": "summary"}),
    )
    .problem(403, "forbidden");

    // Limits are problems with stable codes.
    api.post(
        "/api/v1/preview",
        &analyst,
        &json!({"definition": definition(), "node_id": "fills", "limit": 1001}),
    )
    .problem(422, "row_limit_exceeded");
    api.post(
        "/api/v1/preview",
        &analyst,
        &json!({"definition": definition(), "node_id": "ghost"}),
    )
    .problem(422, "invalid_workflow");
    api.post("/api/v1/preview", &analyst, &json!({"node_id": "fills"}))
        .problem(422, "invalid_input");
}

/// Sleeps into the next minute unless at least 30 s of the current one remain, so the
/// requests a test counts fall in one fixed rate-limit window (windows are epoch minutes).
fn wait_for_window_start() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into = now.as_secs_f64() % 60.0;
    if into > 30.0 {
        std::thread::sleep(Duration::from_secs_f64(60.0 - into + 0.2));
    }
}

/// A dashboard with one widget in tenant A and an API key for it; returns (widget, key).
fn embed_fixture(api: &Api) -> (String, String) {
    let analyst = api.login("analyst@tenant-a.test", "analyst123");
    let admin = api.login("admin@tenant-a.test", "admin123");
    // Unique: servers sharing a catalog database may outlive one test run.
    let name = format!("Embedded {}", uuid_like());
    let workflow = create_workflow(api, &analyst, &name, &definition());
    let dashboard = api
        .post("/api/v1/dashboards", &analyst, &dashboard_body("Portal"))
        .ok_id();
    let widget = api
        .post(
            "/api/v1/widgets",
            &analyst,
            &widget_body(&dashboard, &workflow, "summary", &["symbol"]),
        )
        .ok_id();
    let key = api.post("/api/v1/api-keys", &admin, &json!({"name": "portal"}));
    let secret = key.ok(201)["secret"].as_str().unwrap().to_string();
    (widget, secret)
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}{}", std::process::id())
}

fn embed(api: &Api, widget: &str, query: &str, auth: Auth) -> Reply {
    api.send(
        Method::GET,
        &format!("/api/v1/embed/{widget}/data{query}"),
        auth,
        None,
    )
}

#[test]
fn embeds_take_a_key_or_token_declared_filters_only_and_are_rate_limited() {
    let server = TestServer::start(&["--embed-rate-limit", "8"]);
    let api = Api::new(&server);
    let (widget, secret) = embed_fixture(&api);
    wait_for_window_start();

    let by_key = embed(&api, &widget, "", Auth::Key(&secret));
    assert_eq!(by_key.ok(200)["state"], "ok");
    assert_eq!(by_key.body["rows"].as_array().unwrap().len(), 6);
    let overridden = embed(&api, &widget, "?symbol=NVDA", Auth::Key(&secret));
    assert_eq!(rows_as_text(overridden.ok(200)).len(), 1);
    embed(&api, &widget, "?volume.gte=1", Auth::Key(&secret)).problem(400, "filter_not_allowed");

    // A token scoped to the widget works in the URL; not for other widgets.
    let issued = api.send(
        Method::POST,
        "/api/v1/embed/token",
        Auth::Key(&secret),
        Some(&json!({"widget_id": widget})),
    );
    let token = issued.ok(201)["token"].as_str().unwrap().to_string();
    let by_token = embed(&api, &widget, &format!("?token={token}"), Auth::None);
    assert_eq!(
        sorted(rows_as_text(by_token.ok(200))),
        sorted(rows_as_text(&by_key.body))
    );
    embed(
        &api,
        "another-widget",
        &format!("?token={token}"),
        Auth::None,
    )
    .problem(403, "forbidden");
    embed(&api, &widget, "?token=forged", Auth::None).problem(401, "unauthenticated");
    embed(&api, &widget, "", Auth::None).problem(401, "unauthenticated");
    // An embed token is not a session token.
    api.get("/api/v1/dashboards", &token)
        .problem(401, "unauthenticated");

    // Another tenant's key sees nothing of tenant A.
    let admin_b = api.login("admin@tenant-b.test", "admin123");
    let key_b = api.post("/api/v1/api-keys", &admin_b, &json!({"name": "b"}));
    let secret_b = key_b.ok(201)["secret"].as_str().unwrap().to_string();
    embed(&api, &widget, "", Auth::Key(&secret_b)).problem(404, "not_found");

    // Five requests so far counted on key A (unauthenticated ones do not); the window allows 8.
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..4 {
        let reply = embed(&api, &widget, "", Auth::Key(&secret));
        statuses.push(reply.status);
        if reply.status == 429 {
            limited = Some(reply);
        }
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let limited = limited.unwrap();
    limited.problem(429, "rate_limited");
    let retry: u64 = limited.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        embed(&api, &widget, "", Auth::Key(&secret_b)).status,
        404,
        "another key has its own budget"
    );
}

#[test]
fn servers_sharing_redis_share_the_embed_rate_window() {
    let redis = std::env::var("FLOWFORGE_TEST_REDIS_URL").expect(
        "FLOWFORGE_TEST_REDIS_URL must be set (deploy/scripts/test-services.sh start DIR; source DIR/env)",
    );
    let catalog = std::env::var("FLOWFORGE_TEST_CATALOG_PG_URL").expect(
        "FLOWFORGE_TEST_CATALOG_PG_URL must be set (deploy/scripts/test-services.sh start DIR; source DIR/env)",
    );
    let flags = [
        "--redis-url",
        redis.as_str(),
        "--catalog-url",
        catalog.as_str(),
        "--embed-rate-limit",
        "5",
    ];
    let one = TestServer::start(&flags);
    let two = TestServer::start(&flags);
    let api_one = Api::new(&one);
    let api_two = Api::new(&two);
    let (widget, secret) = embed_fixture(&api_one);
    wait_for_window_start();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let api = if i % 2 == 0 { &api_one } else { &api_two };
        statuses.push(embed(api, &widget, "", Auth::Key(&secret)).status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 429],
        "one window for both servers"
    );
}
