//! Tests of the generated files as a reader sees them.

use std::collections::BTreeSet;
use std::fs::File;

use datafusion::arrow::array::{
    Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::concat_batches;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::serving_tables::SAMPLE_SYMBOLS;

fn small(seed: u64) -> SampleOptions {
    SampleOptions {
        seed,
        trades: 2_000,
        quotes: 3_000,
        ..SampleOptions::fixed()
    }
}

fn read_table(dir: &Path, table: &str) -> RecordBatch {
    let file = File::open(table_file(dir, table)).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&table_schema(table).unwrap(), &batches).unwrap()
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = serving_tables()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    let mut out: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(table_file(dir, &name)).unwrap();
            (name, bytes)
        })
        .collect();
    out.push((
        "manifest".into(),
        std::fs::read(dir.join("sample.json")).unwrap(),
    ));
    out
}

#[test]
fn fixed_options_pin_the_anchor_and_default_sizes() {
    let fixed = SampleOptions::fixed();
    assert_eq!(fixed.anchor.to_string(), "2026-01-05 00:00:00");
    assert_eq!(
        (fixed.seed, fixed.trades, fixed.quotes),
        (42, 50_000, 100_000)
    );
    let default = SampleOptions::default();
    assert_eq!(default.anchor.time(), NaiveTime::MIN);
    assert_eq!(
        (default.seed, default.trades, default.quotes),
        (42, 50_000, 100_000)
    );
}

#[test]
fn same_options_give_byte_identical_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), &small(9), false).unwrap();
    generate(b.path(), &small(9), false).unwrap();
    assert_eq!(file_bytes(a.path()), file_bytes(b.path()));
}

#[test]
fn a_different_seed_gives_different_data() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), &small(1), false).unwrap();
    generate(b.path(), &small(2), false).unwrap();
    for table in ["fct_trades", "fct_quotes", "agg_ohlcv_1h", "live_positions"] {
        assert_ne!(
            read_table(a.path(), table),
            read_table(b.path(), table),
            "{table}"
        );
    }
    // Reference data does not depend on the seed.
    assert_eq!(
        read_table(a.path(), "dim_instruments"),
        read_table(b.path(), "dim_instruments")
    );
}

#[test]
fn full_size_sample_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let options = SampleOptions::fixed();
    let summary = generate(dir.path(), &options, false).unwrap();
    assert_eq!(summary.rows_of("fct_trades"), Some(50_000));
    assert_eq!(summary.rows_of("fct_quotes"), Some(100_000));
    assert_eq!(summary.rows_of("dim_instruments"), Some(10));
    assert_eq!((summary.anchor, summary.seed), (options.anchor, 42));

    for table in serving_tables() {
        let batch = read_table(dir.path(), table.name);
        assert_eq!(batch.schema(), table.schema, "{}", table.name);
        assert_eq!(
            Some(batch.num_rows()),
            summary.rows_of(table.name),
            "{}",
            table.name
        );
    }

    let end = options.anchor.and_utc().timestamp_micros();
    let start = end - SAMPLE_DAYS * DAY_US;
    let trades = read_table(dir.path(), "fct_trades");
    let ids = column::<Int64Array>(&trades, "trade_id");
    let times = column::<TimestampMicrosecondArray>(&trades, "event_time");
    assert!(ids.values().iter().copied().eq(1..=50_000));
    assert!(
        times.values().windows(2).all(|w| w[0] <= w[1]),
        "trade ids follow time"
    );
    assert!(times.values().iter().all(|t| (start..end).contains(t)));
    let symbols: BTreeSet<&str> = column::<StringArray>(&trades, "symbol")
        .iter()
        .flatten()
        .collect();
    assert_eq!(symbols, SAMPLE_SYMBOLS.into_iter().collect::<BTreeSet<_>>());
    let sides: BTreeSet<&str> = column::<StringArray>(&trades, "side")
        .iter()
        .flatten()
        .collect();
    assert_eq!(sides, BTreeSet::from(["BUY", "SELL"]));
    let venues: BTreeSet<&str> = column::<StringArray>(&trades, "exchange")
        .iter()
        .flatten()
        .collect();
    assert_eq!(venues, BTreeSet::from(["ARCX", "BATS", "XNAS", "XNYS"]));
    let prices = column::<Float64Array>(&trades, "price");
    assert!(prices
        .values()
        .iter()
        .all(|p| *p > 0.0 && (p * 100.0 - (p * 100.0).round()).abs() < 1e-6));
    let quantity = column::<Int64Array>(&trades, "quantity");
    assert!(quantity.values().iter().all(|q| (1..=5_000).contains(q)));

    let quotes = read_table(dir.path(), "fct_quotes");
    let bid = column::<Float64Array>(&quotes, "bid");
    let ask = column::<Float64Array>(&quotes, "ask");
    assert!(bid
        .values()
        .iter()
        .zip(ask.values())
        .all(|(b, a)| 0.0 < *b && b < a));
    let quote_times = column::<TimestampMicrosecondArray>(&quotes, "event_time");
    assert!(quote_times
        .values()
        .iter()
        .all(|t| (start..end).contains(t)));
    assert_eq!(quote_times.null_count(), 0);
}

#[test]
fn positions_are_marked_to_the_last_trade_and_pnl_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &small(5), false).unwrap();
    let trades = read_table(dir.path(), "fct_trades");
    let trade_symbols = column::<StringArray>(&trades, "symbol");
    let trade_prices = column::<Float64Array>(&trades, "price");
    let trade_times = column::<TimestampMicrosecondArray>(&trades, "event_time");
    let last_trade = |symbol: &str| {
        (0..trades.num_rows())
            .rev()
            .find(|&i| trade_symbols.value(i) == symbol)
            .map(|i| (trade_prices.value(i), trade_times.value(i)))
            .unwrap()
    };

    let positions = read_table(dir.path(), "live_positions");
    assert!(positions.num_rows() >= 10);
    let accounts: BTreeSet<&str> = column::<StringArray>(&positions, "account")
        .iter()
        .flatten()
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["ACC-001", "ACC-002", "ACC-003", "ACC-004"])
    );
    let symbol = column::<StringArray>(&positions, "symbol");
    let quantity = column::<Int64Array>(&positions, "quantity");
    let market_price = column::<Float64Array>(&positions, "market_price");
    let market_value = column::<Float64Array>(&positions, "market_value");
    let updated_at = column::<TimestampMicrosecondArray>(&positions, "updated_at");
    for i in 0..positions.num_rows() {
        let (price, time) = last_trade(symbol.value(i));
        assert_eq!((market_price.value(i), updated_at.value(i)), (price, time));
        assert_eq!(market_value.value(i), quantity.value(i) as f64 * price);
    }

    let pnl = read_table(dir.path(), "live_pnl");
    assert_eq!(pnl.num_rows(), positions.num_rows());
    let realized = column::<Float64Array>(&pnl, "realized_pnl");
    let unrealized = column::<Float64Array>(&pnl, "unrealized_pnl");
    let total = column::<Float64Array>(&pnl, "total_pnl");
    for i in 0..pnl.num_rows() {
        assert_eq!(total.value(i), realized.value(i) + unrealized.value(i));
    }
}

#[test]
fn seeded_state_follows_the_manifest_and_the_table_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    assert!(!is_seeded(&data));
    assert!(matches!(
        read_manifest(&data),
        Err(EngineError::SampleData(_))
    ));

    let summary = generate(&data, &small(3), false).unwrap();
    assert!(is_seeded(&data));
    assert_eq!(read_manifest(&data).unwrap(), summary);

    std::fs::remove_file(table_file(&data, "agg_ohlcv_1d")).unwrap();
    assert!(!is_seeded(&data));
}

#[test]
fn regenerating_replaces_the_previous_sample_completely() {
    let (reused, fresh) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(reused.path(), &small(1), false).unwrap();
    generate(reused.path(), &small(2), false).unwrap();
    generate(fresh.path(), &small(2), false).unwrap();
    assert_eq!(file_bytes(reused.path()), file_bytes(fresh.path()));
    assert_eq!(read_manifest(reused.path()).unwrap().seed, 2);
    // Only the tables and the manifest are left: no temporary files.
    assert_eq!(
        std::fs::read_dir(reused.path()).unwrap().count(),
        serving_tables().len() + 1
    );
}

#[test]
fn a_corrupt_manifest_means_not_seeded() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &small(4), false).unwrap();
    std::fs::write(dir.path().join("sample.json"), b"{ not json").unwrap();
    assert!(!is_seeded(dir.path()));
    let error = read_manifest(dir.path()).unwrap_err().to_string();
    assert!(error.contains("sample.json"), "{error}");
}
