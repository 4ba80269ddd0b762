//! The serving tables every backend exposes under the same names and schemas.
//!
//! Workflows and SQL clients refer to these by name; the embedded engine stores them as Parquet,
//! ClickHouse and Materialize hold them natively. Keeping their schemas here gives the planner
//! one authoritative definition, independent of where the data lives.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// How fresh a table's data is; the router uses it to pick a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Continuously maintained views (positions, P&L).
    Live,
    /// Latest value per key.
    PointLookup,
    /// Ad-hoc analytics over facts.
    Analytical,
    /// Pre-computed rollups over history.
    HistoricalRollup,
}

/// A serving table's definition.
#[derive(Debug, Clone)]
pub struct ServingTable {
    /// Table name, identical on every backend.
    pub name: &'static str,
    /// Human description, shown in catalogs.
    pub description: &'static str,
    /// Arrow schema.
    pub schema: SchemaRef,
    /// Freshness class.
    pub freshness: Freshness,
    /// Whether rows are market data keyed by `symbol` and so subject to tenant entitlements.
    pub symbol_scoped: bool,
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn table(
    name: &'static str,
    description: &'static str,
    freshness: Freshness,
    fields: Vec<Field>,
) -> ServingTable {
    let symbol_scoped = fields.iter().any(|f| f.name() == "symbol");
    ServingTable {
        name,
        description,
        schema: Arc::new(Schema::new(fields)),
        freshness,
        symbol_scoped,
    }
}

/// All serving tables, in a stable order.
pub fn serving_tables() -> Vec<ServingTable> {
    use DataType::*;
    vec![
        table(
            "fct_trades",
            "Executed trades, one row per fill.",
            Freshness::Analytical,
            vec![
                Field::new("trade_id", Int64, false),
                Field::new("symbol", Utf8, false),
                Field::new("price", Float64, false),
                Field::new("quantity", Int64, false),
                Field::new("side", Utf8, false),
                Field::new("event_time", ts(), false),
                Field::new("exchange", Utf8, false),
            ],
        ),
        table(
            "fct_quotes",
            "Top-of-book quotes.",
            Freshness::Analytical,
            quote_fields(),
        ),
        table(
            "agg_ohlcv_1h",
            "Hourly open/high/low/close/volume bars computed from fct_trades.",
            Freshness::HistoricalRollup,
            ohlcv_fields(),
        ),
        table(
            "agg_ohlcv_1d",
            "Daily open/high/low/close/volume bars computed from fct_trades.",
            Freshness::HistoricalRollup,
            ohlcv_fields(),
        ),
        table(
            "dim_instruments",
            "Instrument reference data.",
            Freshness::Analytical,
            vec![
                Field::new("symbol", Utf8, false),
                Field::new("name", Utf8, false),
                Field::new("sector", Utf8, false),
                Field::new("exchange", Utf8, false),
                Field::new("currency", Utf8, false),
            ],
        ),
        table(
            "live_positions",
            "Current positions per account and symbol.",
            Freshness::Live,
            vec![
                Field::new("account", Utf8, false),
                Field::new("symbol", Utf8, false),
                Field::new("quantity", Int64, false),
                Field::new("avg_price", Float64, false),
                Field::new("market_price", Float64, false),
                Field::new("market_value", Float64, false),
                Field::new("updated_at", ts(), false),
            ],
        ),
        table(
            "live_pnl",
            "Profit and loss per account and symbol.",
            Freshness::Live,
            vec![
                Field::new("account", Utf8, false),
                Field::new("symbol", Utf8, false),
                Field::new("realized_pnl", Float64, false),
                Field::new("unrealized_pnl", Float64, false),
                Field::new("total_pnl", Float64, false),
                Field::new("updated_at", ts(), false),
            ],
        ),
        table(
            "live_quotes",
            "Latest top-of-book quote per symbol (point lookups; Redis hashes in production).",
            Freshness::PointLookup,
            quote_fields(),
        ),
    ]
}

/// Top-of-book quote columns, shared by every quote and its latest-per-symbol table.
fn quote_fields() -> Vec<Field> {
    use DataType::*;
    vec![
        Field::new("symbol", Utf8, false),
        Field::new("bid", Float64, false),
        Field::new("ask", Float64, false),
        Field::new("bid_size", Int64, false),
        Field::new("ask_size", Int64, false),
        Field::new("event_time", ts(), false),
    ]
}

fn ohlcv_fields() -> Vec<Field> {
    use DataType::*;
    vec![
        Field::new("symbol", Utf8, false),
        Field::new("bucket", ts(), false),
        Field::new("open", Float64, false),
        Field::new("high", Float64, false),
        Field::new("low", Float64, false),
        Field::new("close", Float64, false),
        Field::new("volume", Int64, false),
        Field::new("trade_count", Int64, false),
    ]
}

/// The serving table with this name, if any.
pub fn serving_table(name: &str) -> Option<ServingTable> {
    serving_tables().into_iter().find(|t| t.name == name)
}

/// The ten symbols of the sample data set.
pub const SAMPLE_SYMBOLS: [&str; 10] = [
    "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "TSLA", "META", "JPM", "BAC", "GS",
];
