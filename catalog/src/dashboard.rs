//! Dashboards: named grids of widgets with a refresh interval and global filters that apply to
//! every widget at once. The checks here are shared by every store, so all of them accept
//! exactly the same dashboards.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{validate, CatalogError};

/// The refresh intervals a dashboard may have, in seconds (5 s, 30 s, 1 min, 5 min, 15 min,
/// 1 h). No interval means manual refresh; live updates are a separate mode of the HTTP layer.
pub const REFRESH_INTERVALS_SECONDS: [u32; 6] = [5, 30, 60, 300, 900, 3600];

/// A dashboard as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// UUID.
    pub id: String,
    /// Owning tenant.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Seconds between automatic refreshes, one of [`REFRESH_INTERVALS_SECONDS`]; `None` is
    /// manual refresh.
    pub refresh_interval_seconds: Option<u32>,
    /// Filters shown above the grid and applied to every widget that has their column.
    pub global_filters: Vec<GlobalFilter>,
    /// User (or key) id that created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed (its widgets changing does not count).
    pub updated_at: DateTime<Utc>,
}

/// A filter of a dashboard that narrows every widget showing its column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalFilter {
    /// Identifier, unique within the dashboard, that clients refer to the filter by.
    pub id: String,
    /// Output column the filter applies to.
    pub column: String,
    /// Label shown to users; the column name when left empty.
    #[serde(default)]
    pub label: String,
    /// How the filter narrows rows.
    pub kind: FilterKind,
    /// Value applied until a user picks another: for [`FilterKind::Values`] an array of
    /// scalars, for [`FilterKind::Range`] an object with `gte` and/or `lte`.
    #[serde(default)]
    pub default: Option<Value>,
}

/// How a [`GlobalFilter`] narrows rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterKind {
    /// The column is one of the chosen values (`IN` list), e.g. a symbol dropdown.
    Values,
    /// The column lies within bounds (`>=` and/or `<=`), e.g. a date range.
    Range,
}

/// Input for creating a dashboard.
#[derive(Debug, Clone)]
pub struct NewDashboard {
    /// Owning tenant (must exist).
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Seconds between automatic refreshes; `None` is manual.
    pub refresh_interval_seconds: Option<u32>,
    /// The dashboard's global filters.
    pub global_filters: Vec<GlobalFilter>,
    /// Who is creating it.
    pub created_by: String,
}

/// A change to a dashboard; fields left `None` keep their value, and an update that sets
/// nothing returns the dashboard unchanged. It deserialises from a JSON merge-patch-like body:
/// an absent `refresh_interval_seconds` keeps the interval, `null` switches to manual refresh.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardUpdate {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New refresh interval: `Some(None)` is manual refresh.
    #[serde(deserialize_with = "present")]
    pub refresh_interval_seconds: Option<Option<u32>>,
    /// New set of global filters (replaces the old set).
    pub global_filters: Option<Vec<GlobalFilter>>,
}

impl DashboardUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.refresh_interval_seconds.is_none()
            && self.global_filters.is_none()
    }
}

/// Deserialises a field that is present (possibly `null`) as `Some`, so that absent and
/// `null` can be told apart.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Checks a refresh interval against [`REFRESH_INTERVALS_SECONDS`].
pub fn validate_refresh_interval(seconds: Option<u32>) -> Result<(), CatalogError> {
    match seconds {
        Some(s) if !REFRESH_INTERVALS_SECONDS.contains(&s) => {
            Err(CatalogError::InvalidInput(format!(
                "refresh interval must be manual (none) or one of {REFRESH_INTERVALS_SECONDS:?} \
                 seconds, not {s}"
            )))
        }
        _ => Ok(()),
    }
}

/// Trims and checks a dashboard's global filters: ids unique and non-empty, columns
/// non-empty, labels defaulted to the column, defaults shaped for their kind.
pub fn validate_global_filters(
    filters: &[GlobalFilter],
) -> Result<Vec<GlobalFilter>, CatalogError> {
    let mut seen = HashSet::new();
    filters
        .iter()
        .map(|filter| {
            let id = validate::display_name("global filter id", &filter.id)?;
            if !seen.insert(id.clone()) {
                return Err(CatalogError::InvalidInput(format!(
                    "global filter id `{id}` is used twice"
                )));
            }
            let column = validate::display_name("global filter column", &filter.column)?;
            let label = match filter.label.trim() {
                "" => column.clone(),
                label => validate::display_name("global filter label", label)?,
            };
            validate_default(&id, filter.kind, filter.default.as_ref())?;
            Ok(GlobalFilter {
                id,
                column,
                label,
                kind: filter.kind,
                default: filter.default.clone().filter(|d| !d.is_null()),
            })
        })
        .collect()
}

fn validate_default(
    id: &str,
    kind: FilterKind,
    default: Option<&Value>,
) -> Result<(), CatalogError> {
    let scalar = |v: &Value| !(v.is_array() || v.is_object() || v.is_null());
    let ok = match (kind, default) {
        (_, None | Some(Value::Null)) => true,
        (FilterKind::Values, Some(Value::Array(values))) => values.iter().all(scalar),
        (FilterKind::Range, Some(Value::Object(bounds))) => {
            !bounds.is_empty()
                && bounds
                    .iter()
                    .all(|(k, v)| matches!(k.as_str(), "gte" | "lte") && scalar(v))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CatalogError::InvalidInput(format!(
            "default of global filter `{id}` must be {}",
            match kind {
                FilterKind::Values => "an array of values",
                FilterKind::Range => "an object with `gte` and/or `lte`",
            }
        )))
    }
}

impl NewDashboard {
    /// The dashboard with every field trimmed and checked, ready to store.
    pub(crate) fn validated(&self) -> Result<NewDashboard, CatalogError> {
        validate_refresh_interval(self.refresh_interval_seconds)?;
        Ok(NewDashboard {
            tenant_id: self.tenant_id.clone(),
            name: validate::display_name("dashboard name", &self.name)?,
            description: validate::description("dashboard description", &self.description)?,
            refresh_interval_seconds: self.refresh_interval_seconds,
            global_filters: validate_global_filters(&self.global_filters)?,
            created_by: validate::display_name("actor", &self.created_by)?,
        })
    }
}

impl DashboardUpdate {
    /// The update with every given field trimmed and checked.
    pub(crate) fn validated(&self) -> Result<DashboardUpdate, CatalogError> {
        if let Some(interval) = self.refresh_interval_seconds {
            validate_refresh_interval(interval)?;
        }
        Ok(DashboardUpdate {
            name: self
                .name
                .as_deref()
                .map(|n| validate::display_name("dashboard name", n))
                .transpose()?,
            description: self
                .description
                .as_deref()
                .map(|d| validate::description("dashboard description", d))
                .transpose()?,
            refresh_interval_seconds: self.refresh_interval_seconds,
            global_filters: self
                .global_filters
                .as_deref()
                .map(validate_global_filters)
                .transpose()?,
        })
    }

    /// Applies the (validated) update to a dashboard, stamping `updated_at` with `now` when
    /// anything is set.
    pub(crate) fn apply(self, dashboard: &mut Dashboard, now: DateTime<Utc>) {
        if self.is_empty() {
            return;
        }
        if let Some(name) = self.name {
            dashboard.name = name;
        }
        if let Some(description) = self.description {
            dashboard.description = description;
        }
        if let Some(interval) = self.refresh_interval_seconds {
            dashboard.refresh_interval_seconds = interval;
        }
        if let Some(filters) = self.global_filters {
            dashboard.global_filters = filters;
        }
        dashboard.updated_at = now;
    }
}

/// Serialises global filters for storage.
pub(crate) fn filters_text(filters: &[GlobalFilter]) -> Result<String, CatalogError> {
    serde_json::to_string(filters)
        .map_err(|e| CatalogError::InvalidInput(format!("cannot serialise global filters: {e}")))
}

/// Parses stored global filters.
pub(crate) fn filters_from_text(text: &str) -> Result<Vec<GlobalFilter>, CatalogError> {
    serde_json::from_str(text)
        .map_err(|e| CatalogError::Storage(format!("stored global filters are invalid: {e}")))
}

/// Reads a stored refresh interval.
pub(crate) fn interval_from_stored(stored: Option<i64>) -> Result<Option<u32>, CatalogError> {
    stored
        .map(|s| {
            u32::try_from(s).map_err(|_| {
                CatalogError::Storage(format!("stored refresh interval {s} is out of range"))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(id: &str, column: &str, kind: FilterKind, default: Option<Value>) -> GlobalFilter {
        GlobalFilter {
            id: id.into(),
            column: column.into(),
            label: String::new(),
            kind,
            default,
        }
    }

    #[test]
    fn refresh_intervals_are_a_fixed_menu() {
        for ok in [
            None,
            Some(5),
            Some(30),
            Some(60),
            Some(300),
            Some(900),
            Some(3600),
        ] {
            assert!(validate_refresh_interval(ok).is_ok(), "{ok:?}");
        }
        for bad in [Some(0), Some(1), Some(10), Some(86_400)] {
            assert!(
                matches!(
                    validate_refresh_interval(bad),
                    Err(CatalogError::InvalidInput(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn global_filters_are_trimmed_labelled_and_checked() {
        let checked = validate_global_filters(&[
            filter(
                " sym ",
                " symbol ",
                FilterKind::Values,
                Some(json!(["AAPL"])),
            ),
            filter(
                "day",
                "event_time",
                FilterKind::Range,
                Some(json!({"gte": "2026-01-01"})),
            ),
        ])
        .unwrap();
        assert_eq!(checked[0].id, "sym");
        assert_eq!(checked[0].column, "symbol");
        assert_eq!(checked[0].label, "symbol");
        assert_eq!(checked[1].default, Some(json!({"gte": "2026-01-01"})));

        let bad = [
            vec![
                filter("a", "symbol", FilterKind::Values, None),
                filter("a", "side", FilterKind::Values, None),
            ],
            vec![filter("a", " ", FilterKind::Values, None)],
            vec![filter("", "symbol", FilterKind::Values, None)],
            vec![filter(
                "a",
                "symbol",
                FilterKind::Values,
                Some(json!("AAPL")),
            )],
            vec![filter(
                "a",
                "symbol",
                FilterKind::Values,
                Some(json!([["x"]])),
            )],
            vec![filter("a", "t", FilterKind::Range, Some(json!({"gt": 1})))],
            vec![filter("a", "t", FilterKind::Range, Some(json!({})))],
        ];
        for filters in bad {
            assert!(
                matches!(
                    validate_global_filters(&filters),
                    Err(CatalogError::InvalidInput(_))
                ),
                "{filters:?}"
            );
        }
    }

    #[test]
    fn updates_tell_absent_from_null() {
        let keep: DashboardUpdate = serde_json::from_value(json!({"name": "X"})).unwrap();
        assert_eq!(keep.refresh_interval_seconds, None);
        let manual: DashboardUpdate =
            serde_json::from_value(json!({"refresh_interval_seconds": null})).unwrap();
        assert_eq!(manual.refresh_interval_seconds, Some(None));
        let every: DashboardUpdate =
            serde_json::from_value(json!({"refresh_interval_seconds": 60})).unwrap();
        assert_eq!(every.refresh_interval_seconds, Some(Some(60)));
        assert!(serde_json::from_value::<DashboardUpdate>(json!({"owner": "x"})).is_err());
        assert!(DashboardUpdate::default().is_empty());
    }
}
