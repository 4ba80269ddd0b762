//! The serving-table registry: which market-data tables exist, which backend serves each one and
//! how fresh its data is, so the engine's router knows where to send a scan.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// Where a serving table's rows live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Local Parquet files read by the in-process DataFusion engine.
    Embedded,
    /// ClickHouse over HTTP.
    ClickHouse,
    /// Materialize over the PostgreSQL wire protocol.
    Materialize,
    /// Redis, for point lookups.
    Redis,
}

impl Backend {
    /// The lowercase name stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::ClickHouse => "clickhouse",
            Backend::Materialize => "materialize",
            Backend::Redis => "redis",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Backend::Embedded),
            "clickhouse" => Ok(Backend::ClickHouse),
            "materialize" => Ok(Backend::Materialize),
            "redis" => Ok(Backend::Redis),
            other => Err(CatalogError::InvalidInput(format!(
                "unknown backend `{other}` (expected embedded, clickhouse, materialize or redis)"
            ))),
        }
    }
}

/// How current a serving table's data is, which decides caching and routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Continuously updated (positions, P&L).
    Live,
    /// Keyed single-row lookups.
    PointLookup,
    /// Large append-mostly fact and dimension tables.
    Analytical,
    /// Pre-aggregated history (OHLCV rollups).
    HistoricalRollup,
}

impl Freshness {
    /// The snake_case name stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Live => "live",
            Freshness::PointLookup => "point_lookup",
            Freshness::Analytical => "analytical",
            Freshness::HistoricalRollup => "historical_rollup",
        }
    }
}

impl fmt::Display for Freshness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Freshness {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "live" => Ok(Freshness::Live),
            "point_lookup" => Ok(Freshness::PointLookup),
            "analytical" => Ok(Freshness::Analytical),
            "historical_rollup" => Ok(Freshness::HistoricalRollup),
            other => Err(CatalogError::InvalidInput(format!(
                "unknown freshness `{other}` (expected live, point_lookup, analytical or historical_rollup)"
            ))),
        }
    }
}

/// One registered serving table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServingTable {
    /// Table name, identical on every backend (e.g. `fct_trades`).
    pub name: String,
    /// Backend that serves it.
    pub backend: Backend,
    /// Freshness class.
    pub freshness: Freshness,
    /// What the table contains, shown in schema browsers.
    pub description: String,
    /// Disabled tables are hidden from queries.
    pub enabled: bool,
}

/// The eight serving tables every FlowForge installation starts with, all on the embedded backend.
pub fn default_serving_tables() -> Vec<ServingTable> {
    let table = |name: &str, freshness, description: &str| ServingTable {
        name: name.to_string(),
        backend: Backend::Embedded,
        freshness,
        description: description.to_string(),
        enabled: true,
    };
    vec![
        table(
            "fct_trades",
            Freshness::Analytical,
            "Executed trades, one row per fill",
        ),
        table(
            "fct_quotes",
            Freshness::Analytical,
            "Top-of-book bid/ask quotes",
        ),
        table(
            "agg_ohlcv_1h",
            Freshness::HistoricalRollup,
            "Hourly OHLCV bars rolled up from trades",
        ),
        table(
            "agg_ohlcv_1d",
            Freshness::HistoricalRollup,
            "Daily OHLCV bars rolled up from trades",
        ),
        table(
            "dim_instruments",
            Freshness::Analytical,
            "Instrument reference data: name, sector, exchange",
        ),
        table(
            "live_positions",
            Freshness::Live,
            "Current positions per symbol",
        ),
        table(
            "live_pnl",
            Freshness::Live,
            "Running profit and loss per symbol",
        ),
        table(
            "live_quotes",
            Freshness::PointLookup,
            "Latest top-of-book quote per symbol",
        ),
    ]
}

/// Checks a serving-table name is a plain lowercase SQL identifier.
pub fn validate_table_name(name: &str) -> Result<(), CatalogError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(CatalogError::InvalidInput(format!(
            "serving table name `{name}` must be a lowercase SQL identifier"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in [
            Backend::Embedded,
            Backend::ClickHouse,
            Backend::Materialize,
            Backend::Redis,
        ] {
            assert_eq!(b.as_str().parse::<Backend>().unwrap(), b);
        }
        for f in [
            Freshness::Live,
            Freshness::PointLookup,
            Freshness::Analytical,
            Freshness::HistoricalRollup,
        ] {
            assert_eq!(f.as_str().parse::<Freshness>().unwrap(), f);
        }
        assert!("duckdb".parse::<Backend>().is_err());
        assert!("stale".parse::<Freshness>().is_err());
    }

    #[test]
    fn default_registry_has_the_eight_tables() {
        let tables = default_serving_tables();
        let names: Vec<_> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "fct_trades",
                "fct_quotes",
                "agg_ohlcv_1h",
                "agg_ohlcv_1d",
                "dim_instruments",
                "live_positions",
                "live_pnl",
                "live_quotes"
            ]
        );
        for t in &tables {
            validate_table_name(&t.name).unwrap();
        }
    }
}
