//! Widgets: pointers from a dashboard cell to one output node of a workflow. A widget has no
//! query of its own, so changing the workflow changes the widget; deleting the workflow keeps
//! the widget, which then shows a "source workflow deleted" error state instead of vanishing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{validate, CatalogError};

/// Largest width or height of a widget, in grid cells.
pub const MAX_WIDGET_SPAN: u32 = 48;

/// A widget as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Widget {
    /// UUID.
    pub id: String,
    /// Owning tenant (the dashboard's).
    pub tenant_id: String,
    /// Dashboard the widget sits on.
    pub dashboard_id: String,
    /// Workflow whose output it shows; may name a workflow that has since been deleted.
    pub workflow_id: String,
    /// Output node of that workflow it shows.
    pub node_id: String,
    /// Title shown above the widget.
    pub title: String,
    /// Position and size in the dashboard grid.
    pub layout: WidgetLayout,
    /// Output columns embeds may filter with URL parameters.
    pub filters: Vec<String>,
    /// Display options (a JSON object the dashboard UI interprets).
    pub config: Value,
    /// When it was pinned.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A widget's cell in the dashboard grid: top-left corner and size, in grid units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetLayout {
    /// Column of the left edge, from 0.
    pub x: u32,
    /// Row of the top edge, from 0.
    pub y: u32,
    /// Width, 1 to [`MAX_WIDGET_SPAN`].
    pub w: u32,
    /// Height, 1 to [`MAX_WIDGET_SPAN`].
    pub h: u32,
}

impl WidgetLayout {
    /// Checks the width and height.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let fits = |span: u32| (1..=MAX_WIDGET_SPAN).contains(&span);
        if fits(self.w) && fits(self.h) {
            Ok(())
        } else {
            Err(CatalogError::InvalidInput(format!(
                "widget width and height must be between 1 and {MAX_WIDGET_SPAN}, not {}x{}",
                self.w, self.h
            )))
        }
    }
}

/// Input for pinning a workflow output to a dashboard.
#[derive(Debug, Clone)]
pub struct NewWidget {
    /// Owning tenant; the dashboard and the workflow must both be this tenant's.
    pub tenant_id: String,
    /// Dashboard to pin to.
    pub dashboard_id: String,
    /// Workflow to show.
    pub workflow_id: String,
    /// Output node of the workflow to show.
    pub node_id: String,
    /// Title shown above the widget.
    pub title: String,
    /// Position and size.
    pub layout: WidgetLayout,
    /// Output columns embeds may filter with URL parameters.
    pub filters: Vec<String>,
    /// Display options: a JSON object (`null` is stored as `{}`).
    pub config: Value,
}

/// A change to a widget; fields left `None` keep their value, and an update that sets nothing
/// returns the widget unchanged. The workflow a widget shows cannot change (pin a new widget
/// instead), but the node can.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetUpdate {
    /// New title.
    pub title: Option<String>,
    /// New position and size.
    pub layout: Option<WidgetLayout>,
    /// New output node of the same workflow.
    pub node_id: Option<String>,
    /// New set of URL-filterable columns (replaces the old set).
    pub filters: Option<Vec<String>>,
    /// New display options (replace the old ones).
    pub config: Option<Value>,
}

impl WidgetUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.layout.is_none()
            && self.node_id.is_none()
            && self.filters.is_none()
            && self.config.is_none()
    }

    /// The update with every given field trimmed and checked.
    pub(crate) fn validated(&self) -> Result<WidgetUpdate, CatalogError> {
        if let Some(layout) = &self.layout {
            layout.validate()?;
        }
        Ok(WidgetUpdate {
            title: self.title.as_deref().map(title).transpose()?,
            layout: self.layout,
            node_id: self.node_id.as_deref().map(node_id).transpose()?,
            filters: self.filters.as_deref().map(filter_columns).transpose()?,
            config: self.config.clone().map(config).transpose()?,
        })
    }

    /// Applies the (validated) update to a widget, stamping `updated_at` with `now` when
    /// anything is set.
    pub(crate) fn apply(self, widget: &mut Widget, now: DateTime<Utc>) {
        if self.is_empty() {
            return;
        }
        if let Some(title) = self.title {
            widget.title = title;
        }
        if let Some(layout) = self.layout {
            widget.layout = layout;
        }
        if let Some(node_id) = self.node_id {
            widget.node_id = node_id;
        }
        if let Some(filters) = self.filters {
            widget.filters = filters;
        }
        if let Some(config) = self.config {
            widget.config = config;
        }
        widget.updated_at = now;
    }
}

impl NewWidget {
    /// The widget input with every field trimmed and checked, ready to store.
    pub(crate) fn validated(&self) -> Result<NewWidget, CatalogError> {
        self.layout.validate()?;
        Ok(NewWidget {
            tenant_id: self.tenant_id.clone(),
            dashboard_id: self.dashboard_id.clone(),
            workflow_id: self.workflow_id.clone(),
            node_id: node_id(&self.node_id)?,
            title: title(&self.title)?,
            layout: self.layout,
            filters: filter_columns(&self.filters)?,
            config: config(self.config.clone())?,
        })
    }
}

fn title(text: &str) -> Result<String, CatalogError> {
    validate::display_name("widget title", text)
}

fn node_id(text: &str) -> Result<String, CatalogError> {
    validate::display_name("widget node id", text)
}

/// Trims the filterable column names and checks they are non-empty and distinct.
fn filter_columns(columns: &[String]) -> Result<Vec<String>, CatalogError> {
    let mut seen = HashSet::new();
    columns
        .iter()
        .map(|column| {
            let column = validate::display_name("widget filter column", column)?;
            if seen.insert(column.clone()) {
                Ok(column)
            } else {
                Err(CatalogError::InvalidInput(format!(
                    "widget filter column `{column}` is listed twice"
                )))
            }
        })
        .collect()
}

/// Display options must be a JSON object; `null` means none.
fn config(value: Value) -> Result<Value, CatalogError> {
    match value {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(value),
        _ => Err(CatalogError::InvalidInput(
            "widget config must be a JSON object".into(),
        )),
    }
}

/// Serialises filterable columns for storage.
pub(crate) fn columns_text(columns: &[String]) -> Result<String, CatalogError> {
    serde_json::to_string(columns)
        .map_err(|e| CatalogError::InvalidInput(format!("cannot serialise widget filters: {e}")))
}

/// Parses stored filterable columns.
pub(crate) fn columns_from_text(text: &str) -> Result<Vec<String>, CatalogError> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::Storage(format!("stored widget filters are invalid: {e}")))
}

/// Reads a stored layout coordinate or span.
pub(crate) fn layout_from_stored(stored: i64) -> Result<u32, CatalogError> {
    u32::try_from(stored).map_err(|_| {
        CatalogError::Storage(format!(
            "stored widget layout value {stored} is out of range"
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn layouts_span_one_to_forty_eight_cells() {
        let layout = |w, h| WidgetLayout { x: 0, y: 0, w, h };
        assert!(layout(1, 1).validate().is_ok());
        assert!(layout(48, 48).validate().is_ok());
        for (w, h) in [(0, 4), (4, 0), (49, 4), (4, 49)] {
            assert!(matches!(
                layout(w, h).validate(),
                Err(CatalogError::InvalidInput(_))
            ));
        }
    }

    #[test]
    fn filters_and_config_are_checked() {
        assert_eq!(
            filter_columns(&[" symbol ".into(), "side".into()]).unwrap(),
            ["symbol", "side"]
        );
        assert!(filter_columns(&["symbol".into(), "symbol".into()]).is_err());
        assert!(filter_columns(&[" ".into()]).is_err());
        assert_eq!(config(Value::Null).unwrap(), json!({}));
        assert!(config(json!([1])).is_err());
    }

    #[test]
    fn updates_deserialise_strictly() {
        let update: WidgetUpdate =
            serde_json::from_value(json!({"layout": {"x": 1, "y": 2, "w": 3, "h": 4}})).unwrap();
        assert_eq!(
            update.layout,
            Some(WidgetLayout {
                x: 1,
                y: 2,
                w: 3,
                h: 4
            })
        );
        assert!(serde_json::from_value::<WidgetUpdate>(json!({"workflow_id": "x"})).is_err());
    }
}
