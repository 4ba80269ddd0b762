//! A widget's rows: its workflow node through the node-query path, narrowed by the dashboard's
//! global filters and the caller's drill-down (or, for embeds, declared override) filters.
//!
//! Filters come from URL parameters named after output columns: `?symbol=AAPL,MSFT` (an IN
//! list, comma-separated) and `?event_time.gte=...&event_time.lte=...` (a range). A global
//! filter's parameter (or, absent, its default) applies only to widgets whose output has its
//! column. Any other column parameter is a drill-down on the widget's own output. A widget whose
//! workflow or node is gone answers 200 with `state: "error"` and a stable code, so a dashboard
//! renders every other widget and shows this one's reason.

use std::collections::{BTreeMap, BTreeSet};

use flowforge_catalog::{CatalogError, Dashboard, FilterKind, Widget};
use flowforge_engine::node_query::{node_output_columns, NodeFilter, ResultColumn};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::definition;
use crate::problem::ApiError;
use crate::state::AppState;

/// Query parameters that are not filters.
const RESERVED: &[&str] = &["offset", "limit", "token"];

/// Which URL filters a caller may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterScope {
    /// Dashboard users: global filters and drill-down on any output column.
    Dashboard,
    /// Embeds: only the columns the widget declares in `filters`.
    Embed,
}

/// Rows of a widget, or why it cannot show any.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WidgetData {
    /// `ok`, or `error` when the widget's source is gone.
    pub state: WidgetState,
    /// The widget.
    pub widget_id: String,
    /// Output columns (`ok` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub columns: Option<Vec<ResultColumn>>,
    /// Rows as arrays in column order (`ok` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Vec<Object>>>)]
    pub rows: Option<Vec<Vec<Value>>>,
    /// Whether more rows exist (`ok` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Stable code of the error state: `source_workflow_deleted` or `source_node_missing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What the error state means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Whether a widget could show rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WidgetState {
    /// Rows follow.
    Ok,
    /// The widget's source is gone; see `code`.
    Error,
}

impl WidgetData {
    fn error(widget_id: &str, code: &str, detail: String) -> Self {
        WidgetData {
            state: WidgetState::Error,
            widget_id: widget_id.to_string(),
            columns: None,
            rows: None,
            truncated: None,
            code: Some(code.to_string()),
            detail: Some(detail),
        }
    }
}

/// A filter parameter split into column and bound: `event_time.gte` → (`event_time`, Gte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Bound {
    Values,
    Gte,
    Lte,
}

fn split_param(name: &str) -> (&str, Bound) {
    if let Some(column) = name.strip_suffix(".gte") {
        (column, Bound::Gte)
    } else if let Some(column) = name.strip_suffix(".lte") {
        (column, Bound::Lte)
    } else {
        (name, Bound::Values)
    }
}

/// Filter parameters by column, with the paging parameters removed.
fn filter_params(params: &BTreeMap<String, String>) -> BTreeMap<String, BTreeMap<Bound, String>> {
    let mut by_column: BTreeMap<String, BTreeMap<Bound, String>> = BTreeMap::new();
    for (name, value) in params {
        if RESERVED.contains(&name.as_str()) {
            continue;
        }
        let (column, bound) = split_param(name);
        by_column
            .entry(column.to_string())
            .or_default()
            .insert(bound, value.clone());
    }
    by_column
}

fn values_of(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| Value::String(v.to_string()))
        .collect()
}

fn from_params(column: &str, bounds: &BTreeMap<Bound, String>) -> Result<NodeFilter, ApiError> {
    let values = bounds.get(&Bound::Values);
    let gte = bounds.get(&Bound::Gte);
    let lte = bounds.get(&Bound::Lte);
    match (values, gte, lte) {
        (Some(values), None, None) => Ok(NodeFilter::Values {
            column: column.to_string(),
            values: values_of(values),
        }),
        (None, gte, lte) => Ok(NodeFilter::Range {
            column: column.to_string(),
            gte: gte.map(|v| Value::String(v.clone())),
            lte: lte.map(|v| Value::String(v.clone())),
        }),
        _ => Err(ApiError::bad_request(
            "invalid_filter",
            format!("column \"{column}\" is given both values and a range"),
        )),
    }
}

fn from_default(column: &str, kind: FilterKind, default: &Value) -> Option<NodeFilter> {
    match kind {
        FilterKind::Values => Some(NodeFilter::Values {
            column: column.to_string(),
            values: default.as_array()?.clone(),
        }),
        FilterKind::Range => Some(NodeFilter::Range {
            column: column.to_string(),
            gte: default.get("gte").filter(|v| !v.is_null()).cloned(),
            lte: default.get("lte").filter(|v| !v.is_null()).cloned(),
        }),
    }
}

/// The filters for `widget` on `dashboard` given URL `params`, knowing the widget's output
/// `columns`.
pub fn widget_filters(
    dashboard: &Dashboard,
    widget: &Widget,
    columns: &BTreeSet<String>,
    params: &BTreeMap<String, String>,
    scope: FilterScope,
) -> Result<Vec<NodeFilter>, ApiError> {
    let mut by_column = filter_params(params);
    if scope == FilterScope::Embed {
        if let Some(column) = by_column
            .keys()
            .find(|c| !widget.filters.iter().any(|declared| declared == *c))
        {
            return Err(ApiError::bad_request(
                "filter_not_allowed",
                format!(
                    "this widget does not allow filtering on \"{column}\"; it allows: {}",
                    widget.filters.join(", ")
                ),
            ));
        }
    }
    let mut filters = Vec::new();
    for global in &dashboard.global_filters {
        let given = by_column.remove(&global.column);
        if !columns.contains(&global.column) {
            continue;
        }
        match (given, &global.default) {
            (Some(bounds), _) => filters.push(from_params(&global.column, &bounds)?),
            (None, Some(default)) => {
                filters.extend(from_default(&global.column, global.kind, default))
            }
            (None, None) => {}
        }
    }
    for (column, bounds) in &by_column {
        filters.push(from_params(column, bounds)?);
    }
    Ok(filters)
}

/// Paging of widget data: `offset` (default 0) and `limit` (default and maximum: the row limit).
fn paging(params: &BTreeMap<String, String>) -> Result<(usize, Option<usize>), ApiError> {
    let number = |name: &str| -> Result<Option<usize>, ApiError> {
        params
            .get(name)
            .map(|v| {
                v.parse::<usize>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_query_parameter",
                        format!("`{name}` must be a non-negative integer"),
                    )
                })
            })
            .transpose()
    };
    Ok((number("offset")?.unwrap_or(0), number("limit")?))
}

/// The rows of `widget` for `principal`, or its error state.
pub async fn widget_data(
    state: &AppState,
    principal: &Principal,
    widget: &Widget,
    params: &BTreeMap<String, String>,
    scope: FilterScope,
) -> Result<WidgetData, ApiError> {
    let stored = match state
        .catalog
        .get_workflow(&principal.tenant_id, &widget.workflow_id)
        .await
    {
        Ok(stored) => stored,
        Err(CatalogError::NotFound { .. }) => {
            return Ok(WidgetData::error(
                &widget.id,
                "source_workflow_deleted",
                format!(
                    "the workflow this widget shows ({}) has been deleted",
                    widget.workflow_id
                ),
            ))
        }
        Err(other) => return Err(other.into()),
    };
    let workflow = definition::parse(stored.definition)?;
    if workflow.node(&widget.node_id).is_none() {
        return Ok(WidgetData::error(
            &widget.id,
            "source_node_missing",
            format!(
                "node '{}' is no longer in workflow \"{}\"",
                widget.node_id, stored.name
            ),
        ));
    }
    let dashboard = state
        .catalog
        .get_dashboard(&principal.tenant_id, &widget.dashboard_id)
        .await?;
    let queries = &state.queries;
    let session = queries.session(principal).await?;
    let columns: BTreeSet<String> = node_output_columns(&session, &workflow, &widget.node_id)?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let filters = widget_filters(&dashboard, widget, &columns, params, scope)?;
    let (offset, limit) = paging(params)?;
    let result = queries
        .run(
            principal,
            &workflow,
            &widget.node_id,
            filters,
            offset,
            limit,
        )
        .await?;
    Ok(WidgetData {
        state: WidgetState::Ok,
        widget_id: widget.id.clone(),
        columns: Some(result.columns),
        rows: Some(result.rows),
        truncated: Some(result.truncated),
        code: None,
        detail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use flowforge_catalog::{GlobalFilter, WidgetLayout};
    use serde_json::json;

    fn dashboard() -> Dashboard {
        Dashboard {
            id: "d".into(),
            tenant_id: "t".into(),
            name: "D".into(),
            description: String::new(),
            refresh_interval_seconds: None,
            global_filters: vec![
                GlobalFilter {
                    id: "sym".into(),
                    column: "symbol".into(),
                    label: String::new(),
                    kind: FilterKind::Values,
                    default: Some(json!(["AAPL"])),
                },
                GlobalFilter {
                    id: "time".into(),
                    column: "event_time".into(),
                    label: String::new(),
                    kind: FilterKind::Range,
                    default: None,
                },
            ],
            created_by: "u".into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn widget(filters: &[&str]) -> Widget {
        Widget {
            id: "w".into(),
            tenant_id: "t".into(),
            dashboard_id: "d".into(),
            workflow_id: "wf".into(),
            node_id: "out".into(),
            title: "W".into(),
            layout: WidgetLayout {
                x: 0,
                y: 0,
                w: 4,
                h: 4,
            },
            filters: filters.iter().map(|s| s.to_string()).collect(),
            config: json!({}),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn columns(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn global_filters_apply_only_to_widgets_with_the_column() {
        let given = params(&[("symbol", "MSFT,JPM"), ("event_time.gte", "2026-01-01")]);
        let filters = widget_filters(
            &dashboard(),
            &widget(&[]),
            &columns(&["symbol", "volume"]),
            &given,
            FilterScope::Dashboard,
        )
        .unwrap();
        assert_eq!(
            filters,
            [NodeFilter::Values {
                column: "symbol".into(),
                values: vec![json!("MSFT"), json!("JPM")]
            }],
            "no event_time column: the range does not apply"
        );
        let defaults = widget_filters(
            &dashboard(),
            &widget(&[]),
            &columns(&["symbol"]),
            &params(&[("limit", "5")]),
            FilterScope::Dashboard,
        )
        .unwrap();
        assert_eq!(
            defaults,
            [NodeFilter::Values {
                column: "symbol".into(),
                values: vec![json!("AAPL")]
            }]
        );
    }

    #[test]
    fn drill_downs_and_ranges() {
        let given = params(&[
            ("event_time.gte", "a"),
            ("event_time.lte", "b"),
            ("side", "BUY"),
        ]);
        let filters = widget_filters(
            &dashboard(),
            &widget(&[]),
            &columns(&["symbol", "event_time", "side"]),
            &given,
            FilterScope::Dashboard,
        )
        .unwrap();
        assert_eq!(filters.len(), 3);
        assert!(filters.contains(&NodeFilter::Range {
            column: "event_time".into(),
            gte: Some(json!("a")),
            lte: Some(json!("b"))
        }));
        assert!(filters.contains(&NodeFilter::Values {
            column: "side".into(),
            values: vec![json!("BUY")]
        }));
    }

    #[test]
    fn embeds_may_override_declared_columns_only() {
        let error = widget_filters(
            &dashboard(),
            &widget(&["symbol"]),
            &columns(&["symbol", "side"]),
            &params(&[("side", "BUY")]),
            FilterScope::Embed,
        )
        .unwrap_err();
        assert_eq!(error.code(), "filter_not_allowed");
        let allowed = widget_filters(
            &dashboard(),
            &widget(&["symbol"]),
            &columns(&["symbol", "side"]),
            &params(&[("symbol", "JPM"), ("token", "x")]),
            FilterScope::Embed,
        )
        .unwrap();
        assert_eq!(allowed.len(), 1);
    }
}
