//! Reference data of the ten sample instruments and the `dim_instruments` table built from it.
//!
//! The same list drives the market simulation (base price, volatility, how busy each name is), so
//! the dimension table and the facts always describe the same instruments.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};

use super::table_schema;
use crate::error::EngineError;

/// One sample instrument: what `dim_instruments` shows plus how the simulation moves it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Instrument {
    /// Ticker, as in `serving_tables::SAMPLE_SYMBOLS`.
    pub symbol: &'static str,
    /// Company name.
    pub name: &'static str,
    /// GICS-like sector.
    pub sector: &'static str,
    /// Primary listing venue (ISO 10383 MIC).
    pub listing: &'static str,
    /// Starting price of the random walk, in USD.
    pub base_price: f64,
    /// Daily volatility of the random walk (standard deviation of one day's log return).
    pub daily_vol: f64,
    /// Relative share of trades and quotes this symbol gets.
    pub activity: u32,
}

/// The sample instruments, in `SAMPLE_SYMBOLS` order.
#[rustfmt::skip] // one instrument per line reads as the table it is
pub(super) const INSTRUMENTS: [Instrument; 10] = [
    instrument("AAPL", "Apple Inc.", "Technology", "XNAS", 190.0, 0.015, 14),
    instrument("MSFT", "Microsoft Corporation", "Technology", "XNAS", 410.0, 0.014, 10),
    instrument("GOOGL", "Alphabet Inc. Class A", "Communication Services", "XNAS", 140.0, 0.018, 8),
    instrument("AMZN", "Amazon.com, Inc.", "Consumer Discretionary", "XNAS", 175.0, 0.020, 10),
    instrument("NVDA", "NVIDIA Corporation", "Technology", "XNAS", 120.0, 0.030, 16),
    instrument("TSLA", "Tesla, Inc.", "Consumer Discretionary", "XNAS", 250.0, 0.035, 14),
    instrument("META", "Meta Platforms, Inc.", "Communication Services", "XNAS", 500.0, 0.022, 9),
    instrument("JPM", "JPMorgan Chase & Co.", "Financials", "XNYS", 200.0, 0.013, 7),
    instrument("BAC", "Bank of America Corporation", "Financials", "XNYS", 38.0, 0.016, 7),
    instrument("GS", "The Goldman Sachs Group, Inc.", "Financials", "XNYS", 450.0, 0.017, 5),
];

const fn instrument(
    symbol: &'static str,
    name: &'static str,
    sector: &'static str,
    listing: &'static str,
    base_price: f64,
    daily_vol: f64,
    activity: u32,
) -> Instrument {
    Instrument {
        symbol,
        name,
        sector,
        listing,
        base_price,
        daily_vol,
        activity,
    }
}

/// The `dim_instruments` rows, one per instrument, in symbol order.
pub(super) fn instruments_batch() -> Result<RecordBatch, EngineError> {
    let mut rows: Vec<&Instrument> = INSTRUMENTS.iter().collect();
    rows.sort_by_key(|i| i.symbol);
    let text = |f: fn(&Instrument) -> &'static str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(|i| f(i))))
    };
    let columns = vec![
        text(|i| i.symbol),
        text(|i| i.name),
        text(|i| i.sector),
        text(|i| i.listing),
        text(|_| "USD"),
    ];
    RecordBatch::try_new(table_schema("dim_instruments")?, columns)
        .map_err(|e| EngineError::SampleData(format!("building dim_instruments: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving_tables::SAMPLE_SYMBOLS;

    #[test]
    fn instruments_follow_the_sample_symbols() {
        let symbols: Vec<&str> = INSTRUMENTS.iter().map(|i| i.symbol).collect();
        assert_eq!(symbols, SAMPLE_SYMBOLS);
    }

    #[test]
    fn dim_instruments_lists_every_symbol_once_in_usd() {
        let batch = instruments_batch().unwrap();
        assert_eq!(batch.num_rows(), 10);
        let currency = batch
            .column(4)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert!(currency.iter().all(|c| c == Some("USD")));
        let symbols = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let mut listed: Vec<&str> = symbols.iter().flatten().collect();
        listed.sort_unstable();
        let mut expected = SAMPLE_SYMBOLS.to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected);
    }
}
