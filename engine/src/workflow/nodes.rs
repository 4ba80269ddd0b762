//! The 21 node types and their configurations.
//!
//! Each config is a plain serde struct that rejects unknown fields, so a typo in a saved workflow
//! is reported with its path instead of being silently ignored.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::types::FilterOperator;

/// A malformed node config: the field path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the offending field inside `config` (`type` for an unknown node type).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Every node type with its typed configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// Reads a serving table.
    DataSource(DataSourceConfig),
    /// Keeps rows matching AND/OR condition groups.
    Filter(FilterConfig),
    /// Keeps and orders a subset of columns.
    Select(SelectConfig),
    /// Renames columns.
    Rename(RenameConfig),
    /// Orders rows by several keys.
    Sort(SortConfig),
    /// Caps row count, with an offset.
    Limit(LimitConfig),
    /// A deterministic pseudo-random subset of rows.
    Sample(SampleConfig),
    /// Removes duplicate rows, optionally by a column subset.
    Unique(UniqueConfig),
    /// Groups rows and aggregates.
    GroupBy(GroupByConfig),
    /// Joins two inputs on key columns.
    Join(JoinConfig),
    /// Appends the rows of two inputs, aligning columns.
    Union(UnionConfig),
    /// Turns the values of one column into columns.
    Pivot(PivotConfig),
    /// Adds (or replaces) a column computed by a formula.
    Formula(FormulaConfig),
    /// Adds a window-function column.
    Window(WindowConfig),
    /// Output: a paginated table.
    TableView(TableViewConfig),
    /// Output: a bar chart.
    BarChart(BarChartConfig),
    /// Output: a line chart.
    LineChart(LineChartConfig),
    /// Output: an OHLC candlestick chart.
    Candlestick(CandlestickConfig),
    /// Output: a scatter plot.
    ScatterPlot(ScatterPlotConfig),
    /// Output: a single aggregated metric.
    KpiCard(KpiCardConfig),
    /// Output: a pivoted grid.
    PivotTable(PivotTableConfig),
}

/// The type names accepted in workflow JSON, in canvas palette order.
pub const NODE_TYPES: [&str; 21] = [
    "data_source",
    "filter",
    "select",
    "rename",
    "sort",
    "limit",
    "sample",
    "unique",
    "group_by",
    "join",
    "union",
    "pivot",
    "formula",
    "window",
    "table_view",
    "bar_chart",
    "line_chart",
    "candlestick",
    "scatter_plot",
    "kpi_card",
    "pivot_table",
];

fn typed<T: DeserializeOwned>(config: serde_json::Value) -> Result<T, ConfigError> {
    let config = if config.is_null() {
        serde_json::json!({})
    } else {
        config
    };
    serde_path_to_error::deserialize(config).map_err(|e| {
        let path = e.path().to_string();
        ConfigError {
            field: if path == "." { "config".into() } else { path },
            message: e.inner().to_string(),
        }
    })
}

impl NodeKind {
    /// Parses a node's config for its declared type.
    pub fn from_config(
        node_type: &str,
        config: serde_json::Value,
    ) -> Result<NodeKind, ConfigError> {
        Ok(match node_type {
            "data_source" => NodeKind::DataSource(typed(config)?),
            "filter" => NodeKind::Filter(typed(config)?),
            "select" => NodeKind::Select(typed(config)?),
            "rename" => NodeKind::Rename(typed(config)?),
            "sort" => NodeKind::Sort(typed(config)?),
            "limit" => NodeKind::Limit(typed(config)?),
            "sample" => NodeKind::Sample(typed(config)?),
            "unique" => NodeKind::Unique(typed(config)?),
            "group_by" => NodeKind::GroupBy(typed(config)?),
            "join" => NodeKind::Join(typed(config)?),
            "union" => NodeKind::Union(typed(config)?),
            "pivot" => NodeKind::Pivot(typed(config)?),
            "formula" => NodeKind::Formula(typed(config)?),
            "window" => NodeKind::Window(typed(config)?),
            "table_view" => NodeKind::TableView(typed(config)?),
            "bar_chart" => NodeKind::BarChart(typed(config)?),
            "line_chart" => NodeKind::LineChart(typed(config)?),
            "candlestick" => NodeKind::Candlestick(typed(config)?),
            "scatter_plot" => NodeKind::ScatterPlot(typed(config)?),
            "kpi_card" => NodeKind::KpiCard(typed(config)?),
            "pivot_table" => NodeKind::PivotTable(typed(config)?),
            other => {
                return Err(ConfigError {
                    field: "type".into(),
                    message: format!(
                        "unknown node type '{other}'; expected one of: {}",
                        NODE_TYPES.join(", ")
                    ),
                })
            }
        })
    }

    /// The type name used in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::DataSource(_) => "data_source",
            NodeKind::Filter(_) => "filter",
            NodeKind::Select(_) => "select",
            NodeKind::Rename(_) => "rename",
            NodeKind::Sort(_) => "sort",
            NodeKind::Limit(_) => "limit",
            NodeKind::Sample(_) => "sample",
            NodeKind::Unique(_) => "unique",
            NodeKind::GroupBy(_) => "group_by",
            NodeKind::Join(_) => "join",
            NodeKind::Union(_) => "union",
            NodeKind::Pivot(_) => "pivot",
            NodeKind::Formula(_) => "formula",
            NodeKind::Window(_) => "window",
            NodeKind::TableView(_) => "table_view",
            NodeKind::BarChart(_) => "bar_chart",
            NodeKind::LineChart(_) => "line_chart",
            NodeKind::Candlestick(_) => "candlestick",
            NodeKind::ScatterPlot(_) => "scatter_plot",
            NodeKind::KpiCard(_) => "kpi_card",
            NodeKind::PivotTable(_) => "pivot_table",
        }
    }

    /// The config serialized back to JSON.
    pub fn config_value(&self) -> serde_json::Value {
        let value = match self {
            NodeKind::DataSource(c) => serde_json::to_value(c),
            NodeKind::Filter(c) => serde_json::to_value(c),
            NodeKind::Select(c) => serde_json::to_value(c),
            NodeKind::Rename(c) => serde_json::to_value(c),
            NodeKind::Sort(c) => serde_json::to_value(c),
            NodeKind::Limit(c) => serde_json::to_value(c),
            NodeKind::Sample(c) => serde_json::to_value(c),
            NodeKind::Unique(c) => serde_json::to_value(c),
            NodeKind::GroupBy(c) => serde_json::to_value(c),
            NodeKind::Join(c) => serde_json::to_value(c),
            NodeKind::Union(c) => serde_json::to_value(c),
            NodeKind::Pivot(c) => serde_json::to_value(c),
            NodeKind::Formula(c) => serde_json::to_value(c),
            NodeKind::Window(c) => serde_json::to_value(c),
            NodeKind::TableView(c) => serde_json::to_value(c),
            NodeKind::BarChart(c) => serde_json::to_value(c),
            NodeKind::LineChart(c) => serde_json::to_value(c),
            NodeKind::Candlestick(c) => serde_json::to_value(c),
            NodeKind::ScatterPlot(c) => serde_json::to_value(c),
            NodeKind::KpiCard(c) => serde_json::to_value(c),
            NodeKind::PivotTable(c) => serde_json::to_value(c),
        };
        value.unwrap_or(serde_json::Value::Null)
    }

    /// How many inputs the node takes and whether they are the named left/right ports.
    pub fn arity(&self) -> Arity {
        match self {
            NodeKind::DataSource(_) => Arity::Source,
            NodeKind::Join(_) | NodeKind::Union(_) => Arity::LeftRight,
            _ => Arity::One,
        }
    }

    /// Whether this is an output (visualization) node that can be published as a view.
    pub fn is_output(&self) -> bool {
        matches!(
            self,
            NodeKind::TableView(_)
                | NodeKind::BarChart(_)
                | NodeKind::LineChart(_)
                | NodeKind::Candlestick(_)
                | NodeKind::ScatterPlot(_)
                | NodeKind::KpiCard(_)
                | NodeKind::PivotTable(_)
        )
    }
}

/// The inputs a node type takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// No inputs.
    Source,
    /// Exactly one input.
    One,
    /// Exactly two inputs on ports `left` and `right`.
    LeftRight,
}

/// Data Source: which serving table, optionally which columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSourceConfig {
    /// Serving table name.
    pub table: String,
    /// Columns to read, in order; empty reads all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// How conditions of a group combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Logic {
    /// All must hold.
    #[default]
    And,
    /// Any may hold.
    Or,
}

/// Filter: a top-level group of conditions and nested groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// How the top-level items combine.
    #[serde(default)]
    pub logic: Logic,
    /// Conditions and nested groups.
    pub conditions: Vec<FilterItem>,
}

/// A condition or a nested AND/OR group (an object with `conditions` is a group).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FilterItem {
    /// A nested group (has `conditions`).
    Group(FilterGroup),
    /// A single condition (has `column` and `operator`).
    Condition(Condition),
}

impl<'de> Deserialize<'de> for FilterItem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        let describe = |e: serde_path_to_error::Error<serde_json::Error>| {
            let path = e.path().to_string();
            if path == "." {
                D::Error::custom(e.inner())
            } else {
                D::Error::custom(format!("{path}: {}", e.inner()))
            }
        };
        if value.get("conditions").is_some() {
            serde_path_to_error::deserialize(value)
                .map(FilterItem::Group)
                .map_err(describe)
        } else {
            serde_path_to_error::deserialize(value)
                .map(FilterItem::Condition)
                .map_err(describe)
        }
    }
}

/// A nested group of conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterGroup {
    /// How the items combine.
    #[serde(default)]
    pub logic: Logic,
    /// Conditions and groups.
    pub conditions: Vec<FilterItem>,
}

/// `column operator value(s)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Column to test.
    pub column: String,
    /// Operator; must suit the column's type.
    pub operator: FilterOperator,
    /// The single value for comparison operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// The values for `in`, `not_in` and `between` (two values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<serde_json::Value>>,
}

/// Select: the columns to keep, in output order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectConfig {
    /// Column names.
    pub columns: Vec<String>,
}

/// Rename: old name → new name pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameConfig {
    /// Renames applied together.
    pub renames: Vec<RenamePair>,
}

/// One rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenamePair {
    /// Existing column name.
    pub from: String,
    /// New name.
    pub to: String,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Where NULLs sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NullsOrder {
    /// Before all values.
    First,
    /// After all values.
    Last,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SortKey {
    /// Column to sort by.
    pub column: String,
    /// Direction.
    #[serde(default)]
    pub direction: Direction,
    /// NULL placement; defaults to PostgreSQL's (last for asc, first for desc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nulls: Option<NullsOrder>,
}

/// Sort: keys in priority order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SortConfig {
    /// Keys, highest priority first.
    pub keys: Vec<SortKey>,
}

/// Limit: at most `limit` rows after skipping `offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    /// Maximum rows.
    pub limit: u64,
    /// Rows to skip first.
    #[serde(default)]
    pub offset: u64,
}

/// Sample: either `count` rows or `percent` of rows, chosen by a seeded hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleConfig {
    /// Number of rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Percentage of rows, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// Seed; the same seed picks the same rows.
    #[serde(default)]
    pub seed: u64,
}

/// Unique: deduplicate on a column subset (all columns when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueConfig {
    /// Key columns.
    #[serde(default)]
    pub columns: Vec<String>,
}

/// Aggregate functions of Group By, Pivot, KPI Card and Pivot Table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunction {
    /// Sum of values.
    Sum,
    /// Mean of values.
    Avg,
    /// Count of non-null values (of rows without a column).
    Count,
    /// Count of distinct non-null values.
    CountDistinct,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
}

impl AggFunction {
    /// Name as written in JSON and default aliases.
    pub fn name(self) -> &'static str {
        match self {
            AggFunction::Sum => "sum",
            AggFunction::Avg => "avg",
            AggFunction::Count => "count",
            AggFunction::CountDistinct => "count_distinct",
            AggFunction::Min => "min",
            AggFunction::Max => "max",
        }
    }
}

/// Group By: keys and aggregations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupByConfig {
    /// Group keys (none: one row over everything).
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Aggregated output columns.
    pub aggregations: Vec<Aggregation>,
}

/// One aggregated column: a function over a column, or an aggregate formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregation {
    /// Input column (omit for `count` of rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Function; required unless `expression` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<AggFunction>,
    /// An aggregate formula such as `SUM([price] * [quantity])`, instead of column + function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Output column name; defaults to `<function>_<column>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// Join type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// Matching rows only.
    #[default]
    Inner,
    /// All left rows.
    Left,
    /// All right rows.
    Right,
    /// All rows of both.
    Full,
}

/// Join: type and key pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinConfig {
    /// Join type.
    #[serde(default)]
    pub join_type: JoinKind,
    /// Key pairs (left column = right column), at least one.
    pub on: Vec<JoinKey>,
    /// Suffix for right-side columns whose name clashes with a left-side column.
    #[serde(default = "default_right_suffix")]
    pub right_suffix: String,
}

fn default_right_suffix() -> String {
    "_right".to_string()
}

/// One join key pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinKey {
    /// Left input column.
    pub left: String,
    /// Right input column.
    pub right: String,
}

/// Union: appends right rows to left rows, aligned by name unless mapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionConfig {
    /// Remove duplicate rows (UNION instead of UNION ALL).
    #[serde(default)]
    pub distinct: bool,
    /// Explicit alignments: right column → left column; others align by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<UnionMapping>,
}

/// One explicit union alignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionMapping {
    /// Output (left) column.
    pub left: String,
    /// Right column feeding it.
    pub right: String,
}

/// Pivot: one output column per listed value of `pivot_column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PivotConfig {
    /// Row keys kept as columns.
    #[serde(default)]
    pub index: Vec<String>,
    /// Column whose values become columns.
    pub pivot_column: String,
    /// The values to turn into columns (the output schema must be known before running).
    pub values: Vec<serde_json::Value>,
    /// Column aggregated into each cell.
    pub value_column: String,
    /// Aggregate function for the cells.
    pub aggregation: AggFunction,
}

/// Formula: a computed column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormulaConfig {
    /// Output column name; replaces a column of the same name in place.
    pub column: String,
    /// The formula, e.g. `[price] * [quantity]`.
    pub expression: String,
    /// Partitioning for row offsets such as `[close, -1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_by: Vec<String>,
    /// Ordering for row offsets such as `[close, -1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<SortKey>,
}

/// Window functions offered by the Window node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowFunctionKind {
    /// Row number within the partition.
    RowNumber,
    /// Rank with gaps.
    Rank,
    /// Rank without gaps.
    DenseRank,
    /// Value `offset` rows before.
    Lag,
    /// Value `offset` rows after.
    Lead,
    /// First value in the frame.
    FirstValue,
    /// Last value in the frame.
    LastValue,
    /// Sum over the frame.
    Sum,
    /// Mean over the frame.
    Avg,
    /// Minimum over the frame.
    Min,
    /// Maximum over the frame.
    Max,
    /// Count over the frame.
    Count,
}

/// Window frame unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameUnit {
    /// Physical rows.
    Rows,
    /// Logical range of the order key.
    Range,
}

/// A window frame bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameBound {
    /// From the partition start.
    UnboundedPreceding,
    /// `n` rows/units before.
    Preceding(u64),
    /// The current row.
    CurrentRow,
    /// `n` rows/units after.
    Following(u64),
    /// To the partition end.
    UnboundedFollowing,
}

/// A window frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameConfig {
    /// Unit.
    pub unit: FrameUnit,
    /// Start bound.
    pub start: FrameBound,
    /// End bound.
    pub end: FrameBound,
}

/// Window: one window-function column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Output column name.
    pub column: String,
    /// Function; required unless `expression` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<WindowFunctionKind>,
    /// Argument column (not used by row_number/rank/dense_rank).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Row offset for lag/lead (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// A window formula such as `[price] - LAG([price])`, instead of function + input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Partition columns.
    #[serde(default)]
    pub partition_by: Vec<String>,
    /// Order keys.
    #[serde(default)]
    pub order_by: Vec<SortKey>,
    /// Frame; the SQL default when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameConfig>,
}

/// Table View: optional visible columns and page size.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableViewConfig {
    /// Visible columns in order; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Rows per page in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Title shown above the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Bar orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Vertical bars.
    #[default]
    Vertical,
    /// Horizontal bars.
    Horizontal,
}

/// Bar chart: category axis, one or more numeric series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarChartConfig {
    /// Category column.
    pub x: String,
    /// Numeric series columns.
    pub y: Vec<String>,
    /// Optional grouping column (one color per value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// When set, series are aggregated per category (and color).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggFunction>,
    /// Orientation.
    #[serde(default)]
    pub orientation: Orientation,
    /// Stack series.
    #[serde(default)]
    pub stacked: bool,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Line chart: time (or numeric) axis and series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineChartConfig {
    /// Axis column (timestamp, date or number).
    pub x: String,
    /// Numeric series columns.
    pub y: Vec<String>,
    /// Optional grouping column (one line per value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Fill the area below lines.
    #[serde(default)]
    pub area: bool,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Candlestick: time plus OHLC (and optional volume) columns, optionally one series per value
/// of a column such as `symbol`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandlestickConfig {
    /// Optional series column (one set of candles per value, e.g. per symbol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Time column.
    pub time: String,
    /// Open price column.
    pub open: String,
    /// High price column.
    pub high: String,
    /// Low price column.
    pub low: String,
    /// Close price column.
    pub close: String,
    /// Optional volume column for the subplot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// Scatter plot: two numeric axes, optional size and color.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScatterPlotConfig {
    /// X column (numeric).
    pub x: String,
    /// Y column (numeric).
    pub y: String,
    /// Optional point-size column (numeric).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Optional color column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// KPI card: one aggregated metric with optional thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiCardConfig {
    /// Metric column (omit for a row count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Aggregation.
    pub aggregation: AggFunction,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Value at or above which the card shows a warning color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning_threshold: Option<f64>,
    /// Value at or above which the card shows a critical color.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical_threshold: Option<f64>,
}

/// Pivot table: row and column dimensions and one aggregated value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PivotTableConfig {
    /// Row dimensions.
    pub rows: Vec<String>,
    /// Column dimensions.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Value column.
    pub value: String,
    /// Aggregation of the value.
    pub aggregation: AggFunction,
}
