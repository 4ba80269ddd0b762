//! OHLCV bars computed from the simulated trades, for `agg_ohlcv_1h` and `agg_ohlcv_1d`.
//!
//! Computing them from the very trades that are written keeps the rollups exactly consistent with
//! `fct_trades`: a bucket is the event time truncated to the hour or day (UTC), open and close are
//! the first and last trade by (event_time, trade_id), and only buckets with trades get a row.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use super::instruments::INSTRUMENTS;
use super::market::{dollars, Trade};
use super::table_schema;
use crate::error::EngineError;

/// Microseconds in one hour.
pub(super) const HOUR_US: i64 = 3_600_000_000;

/// One bar of one symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bar {
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
    trade_count: i64,
}

/// The bars of `trades` (given in trade-id order) for buckets of `bucket_us` microseconds,
/// ordered by symbol then bucket, as the rollup table named `table`.
pub(super) fn ohlcv_batch(
    table: &str,
    trades: &[Trade],
    bucket_us: i64,
) -> Result<RecordBatch, EngineError> {
    let mut bars: BTreeMap<(&'static str, i64), Bar> = BTreeMap::new();
    for trade in trades {
        let key = (
            INSTRUMENTS[trade.symbol].symbol,
            trade.time.div_euclid(bucket_us) * bucket_us,
        );
        let price = trade.price_cents;
        bars.entry(key)
            .and_modify(|bar| {
                bar.high = bar.high.max(price);
                bar.low = bar.low.min(price);
                bar.close = price;
                bar.volume += trade.quantity;
                bar.trade_count += 1;
            })
            .or_insert(Bar {
                open: price,
                high: price,
                low: price,
                close: price,
                volume: trade.quantity,
                trade_count: 1,
            });
    }
    let price = |f: fn(&Bar) -> i64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(
            bars.values().map(|b| dollars(f(b))),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            bars.keys().map(|(symbol, _)| *symbol),
        )),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            bars.keys().map(|(_, b)| *b),
        )),
        price(|b| b.open),
        price(|b| b.high),
        price(|b| b.low),
        price(|b| b.close),
        Arc::new(Int64Array::from_iter_values(
            bars.values().map(|b| b.volume),
        )),
        Arc::new(Int64Array::from_iter_values(
            bars.values().map(|b| b.trade_count),
        )),
    ];
    RecordBatch::try_new(table_schema(table)?, columns)
        .map_err(|e| EngineError::SampleData(format!("building {table}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_data::market::{Side, DAY_US};

    fn trade(symbol: usize, price_cents: i64, quantity: i64, time: i64) -> Trade {
        Trade {
            symbol,
            price_cents,
            quantity,
            side: Side::Buy,
            time,
            venue: "XNAS",
        }
    }

    fn column<T: 'static>(batch: &RecordBatch, i: usize) -> &T {
        batch.column(i).as_any().downcast_ref::<T>().unwrap()
    }

    #[test]
    fn bars_take_first_last_extremes_and_sums_per_bucket() {
        let base = 20_000 * DAY_US;
        let trades = [
            trade(0, 1_000, 100, base + 10),
            trade(0, 1_200, 50, base + 20),
            trade(0, 900, 10, base + 20),
            trade(0, 1_100, 5, base + HOUR_US),
            trade(1, 40_000, 7, base + 30),
        ];
        let batch = ohlcv_batch("agg_ohlcv_1h", &trades, HOUR_US).unwrap();
        assert_eq!(batch.num_rows(), 3);
        let symbol = column::<StringArray>(&batch, 0);
        let bucket = column::<TimestampMicrosecondArray>(&batch, 1);
        let open = column::<Float64Array>(&batch, 2);
        let high = column::<Float64Array>(&batch, 3);
        let low = column::<Float64Array>(&batch, 4);
        let close = column::<Float64Array>(&batch, 5);
        let volume = column::<Int64Array>(&batch, 6);
        let count = column::<Int64Array>(&batch, 7);
        // AAPL sorts before MSFT; AAPL's first hour holds three trades.
        assert_eq!((symbol.value(0), bucket.value(0)), ("AAPL", base));
        assert_eq!(
            (open.value(0), high.value(0), low.value(0), close.value(0)),
            (10.0, 12.0, 9.0, 9.0)
        );
        assert_eq!((volume.value(0), count.value(0)), (160, 3));
        assert_eq!(
            (symbol.value(1), bucket.value(1), open.value(1)),
            ("AAPL", base + HOUR_US, 11.0)
        );
        assert_eq!((symbol.value(2), volume.value(2)), ("MSFT", 7));

        let daily = ohlcv_batch("agg_ohlcv_1d", &trades, DAY_US).unwrap();
        assert_eq!(daily.num_rows(), 2);
        assert_eq!(column::<Int64Array>(&daily, 6).value(0), 165);
        assert_eq!(column::<Float64Array>(&daily, 5).value(0), 11.0);
    }
}
