//! The simulated market: trades and top-of-book quotes along one random walk per symbol.
//!
//! Every event (trade or quote) gets a uniformly drawn time in the window and a symbol drawn by
//! activity; events are then replayed in time order while each symbol's mid price takes a
//! geometric Brownian step scaled by the time since its previous event. Quotes straddle the mid;
//! buys print at the ask and sells at the bid (sometimes at the mid), so trades and quotes agree.
//! All randomness comes from one seeded ChaCha stream consumed in a fixed order.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::instruments::INSTRUMENTS;
use super::table_schema;
use crate::error::EngineError;

/// Microseconds in one day.
pub(super) const DAY_US: i64 = 86_400_000_000;

/// Execution venues trades print on, with their relative shares.
const VENUES: [(&str, u32); 4] = [("XNAS", 35), ("XNYS", 30), ("ARCX", 15), ("BATS", 20)];

/// Share of trades that print at the mid instead of crossing the spread.
const MIDPOINT_SHARE: f64 = 0.2;

/// Which side of the book initiated a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The buyer crossed the spread.
    Buy,
    /// The seller crossed the spread.
    Sell,
}

impl Side {
    /// The value stored in `fct_trades.side`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// One executed trade; its `trade_id` is its position in [`Tape::trades`] plus one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Trade {
    /// Index into `INSTRUMENTS`.
    pub symbol: usize,
    /// Price in cents.
    pub price_cents: i64,
    /// Shares.
    pub quantity: i64,
    /// Aggressor side.
    pub side: Side,
    /// Event time, microseconds since the Unix epoch (UTC).
    pub time: i64,
    /// Execution venue.
    pub venue: &'static str,
}

/// One top-of-book quote.
#[derive(Debug, Clone, Copy)]
struct Quote {
    symbol: usize,
    bid_cents: i64,
    ask_cents: i64,
    bid_size: i64,
    ask_size: i64,
    time: i64,
}

/// The simulated facts, both in event-time order.
#[derive(Debug, Default)]
pub(super) struct Tape {
    /// Trades ordered by time; index + 1 is the trade id.
    pub trades: Vec<Trade>,
    quotes: Vec<Quote>,
}

/// Half-open time window `[start, end)` in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// First microsecond included.
    pub start: i64,
    /// First microsecond excluded.
    pub end: i64,
}

/// A trade or quote waiting to be replayed; `seq` below the trade count marks a trade.
#[derive(Debug, Clone, Copy)]
struct Event {
    time: i64,
    seq: usize,
    symbol: usize,
}

/// Simulates `trades` trades and `quotes` quotes inside `window`, deterministically from `seed`.
pub(super) fn simulate(
    seed: u64,
    window: Window,
    trades: usize,
    quotes: usize,
) -> Result<Tape, EngineError> {
    if window.end <= window.start {
        return Err(EngineError::SampleData(
            "the sample time window is empty".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pick_symbol = weighted(INSTRUMENTS.iter().map(|i| i.activity))?;
    let pick_venue = weighted(VENUES.iter().map(|(_, w)| *w))?;

    let mut mids: Vec<f64> = INSTRUMENTS
        .iter()
        .map(|i| {
            let z: f64 = rng.sample(StandardNormal);
            i.base_price * (0.01 * z).exp()
        })
        .collect();
    let mut last_seen: Vec<Option<i64>> = vec![None; INSTRUMENTS.len()];

    let events_total = trades
        .checked_add(quotes)
        .ok_or_else(|| EngineError::SampleData("too many trades and quotes requested".into()))?;
    let mut events: Vec<Event> = (0..events_total)
        .map(|seq| Event {
            time: rng.random_range(window.start..window.end),
            seq,
            symbol: pick_symbol.sample(&mut rng),
        })
        .collect();
    events.sort_unstable_by_key(|e| (e.time, e.seq));

    let mut tape = Tape {
        trades: Vec::with_capacity(trades),
        quotes: Vec::with_capacity(quotes),
    };
    for event in events {
        let s = event.symbol;
        if let Some(previous) = last_seen[s] {
            let days = (event.time - previous) as f64 / DAY_US as f64;
            let z: f64 = rng.sample(StandardNormal);
            mids[s] *= (INSTRUMENTS[s].daily_vol * days.sqrt() * z).exp();
        }
        last_seen[s] = Some(event.time);
        let (bid_cents, ask_cents) = book(&mut rng, mids[s]);
        if event.seq < trades {
            let side = if rng.random_bool(0.5) {
                Side::Buy
            } else {
                Side::Sell
            };
            let price_cents = if rng.random_bool(MIDPOINT_SHARE) {
                (bid_cents + ask_cents) / 2
            } else {
                match side {
                    Side::Buy => ask_cents,
                    Side::Sell => bid_cents,
                }
            };
            tape.trades.push(Trade {
                symbol: s,
                price_cents,
                quantity: trade_quantity(&mut rng),
                side,
                time: event.time,
                venue: VENUES[pick_venue.sample(&mut rng)].0,
            });
        } else {
            tape.quotes.push(Quote {
                symbol: s,
                bid_cents,
                ask_cents,
                bid_size: 100 * rng.random_range(1..=30),
                ask_size: 100 * rng.random_range(1..=30),
                time: event.time,
            });
        }
    }
    Ok(tape)
}

fn weighted(weights: impl Iterator<Item = u32>) -> Result<WeightedIndex<u32>, EngineError> {
    WeightedIndex::new(weights).map_err(|e| EngineError::SampleData(format!("weights: {e}")))
}

/// Bid and ask in cents around `mid`: a spread of one to three basis points, at least a cent.
fn book(rng: &mut ChaCha8Rng, mid: f64) -> (i64, i64) {
    let half_spread = mid * rng.random_range(0.5e-4..1.5e-4);
    let bid = (((mid - half_spread) * 100.0).floor() as i64).max(1);
    let ask = (((mid + half_spread) * 100.0).ceil() as i64).max(bid + 1);
    (bid, ask)
}

/// A trade size: mostly round lots of 100 up to 1,000, some larger blocks, some odd lots.
fn trade_quantity(rng: &mut ChaCha8Rng) -> i64 {
    let kind: f64 = rng.random();
    if kind < 0.15 {
        rng.random_range(1..=99)
    } else if kind < 0.85 {
        100 * rng.random_range(1..=10)
    } else {
        100 * rng.random_range(11..=50)
    }
}

/// A price in cents as the dollar value stored in the tables.
pub(super) fn dollars(cents: i64) -> f64 {
    cents as f64 / 100.0
}

fn symbols(indices: impl Iterator<Item = usize>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(
        indices.map(|s| INSTRUMENTS[s].symbol),
    ))
}

/// The `fct_trades` rows; trade ids run 1..=N in time order.
pub(super) fn trades_batch(tape: &Tape) -> Result<RecordBatch, EngineError> {
    let t = &tape.trades;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(1..=t.len() as i64)),
        symbols(t.iter().map(|r| r.symbol)),
        Arc::new(Float64Array::from_iter_values(
            t.iter().map(|r| dollars(r.price_cents)),
        )),
        Arc::new(Int64Array::from_iter_values(t.iter().map(|r| r.quantity))),
        Arc::new(StringArray::from_iter_values(
            t.iter().map(|r| r.side.as_str()),
        )),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            t.iter().map(|r| r.time),
        )),
        Arc::new(StringArray::from_iter_values(t.iter().map(|r| r.venue))),
    ];
    RecordBatch::try_new(table_schema("fct_trades")?, columns)
        .map_err(|e| EngineError::SampleData(format!("building fct_trades: {e}")))
}

/// The `fct_quotes` rows, in time order.
pub(super) fn quotes_batch(tape: &Tape) -> Result<RecordBatch, EngineError> {
    let quotes: Vec<&Quote> = tape.quotes.iter().collect();
    quote_rows("fct_quotes", &quotes)
}

/// `quotes` as rows of the quote-shaped serving table `table`.
fn quote_rows(table: &str, q: &[&Quote]) -> Result<RecordBatch, EngineError> {
    let columns: Vec<ArrayRef> = vec![
        symbols(q.iter().map(|r| r.symbol)),
        Arc::new(Float64Array::from_iter_values(
            q.iter().map(|r| dollars(r.bid_cents)),
        )),
        Arc::new(Float64Array::from_iter_values(
            q.iter().map(|r| dollars(r.ask_cents)),
        )),
        Arc::new(Int64Array::from_iter_values(q.iter().map(|r| r.bid_size))),
        Arc::new(Int64Array::from_iter_values(q.iter().map(|r| r.ask_size))),
        Arc::new(TimestampMicrosecondArray::from_iter_values(
            q.iter().map(|r| r.time),
        )),
    ];
    RecordBatch::try_new(table_schema(table)?, columns)
        .map_err(|e| EngineError::SampleData(format!("building {table}: {e}")))
}

/// The latest quote of every symbol that has one (the last in time order, which the tape
/// keeps): what a point-lookup store such as Redis holds for `live_quotes`.
pub(super) fn latest_quotes_batch(tape: &Tape) -> Result<RecordBatch, EngineError> {
    let mut latest: Vec<Option<&Quote>> = vec![None; INSTRUMENTS.len()];
    for quote in &tape.quotes {
        if let Some(slot) = latest.get_mut(quote.symbol) {
            *slot = Some(quote);
        }
    }
    let latest: Vec<&Quote> = latest.into_iter().flatten().collect();
    quote_rows("live_quotes", &latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Window = Window {
        start: 1_000 * DAY_US,
        end: 1_007 * DAY_US,
    };

    #[test]
    fn trades_and_quotes_stay_in_the_window_in_time_order() {
        let tape = simulate(7, WINDOW, 2_000, 3_000).unwrap();
        assert_eq!(tape.trades.len(), 2_000);
        assert_eq!(tape.quotes.len(), 3_000);
        let times: Vec<i64> = tape.trades.iter().map(|t| t.time).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(times.iter().all(|t| (WINDOW.start..WINDOW.end).contains(t)));
        assert!(tape.quotes.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(tape
            .quotes
            .iter()
            .all(|q| (WINDOW.start..WINDOW.end).contains(&q.time)));
    }

    #[test]
    fn quotes_are_never_crossed_and_trades_print_inside_the_market() {
        let tape = simulate(11, WINDOW, 2_000, 3_000).unwrap();
        assert!(tape
            .quotes
            .iter()
            .all(|q| 0 < q.bid_cents && q.bid_cents < q.ask_cents));
        assert!(tape
            .quotes
            .iter()
            .all(|q| q.bid_size >= 100 && q.ask_size >= 100));
        assert!(tape
            .trades
            .iter()
            .all(|t| t.price_cents > 0 && (1..=5_000).contains(&t.quantity)));
    }

    #[test]
    fn prices_wander_near_each_base_price() {
        let tape = simulate(3, WINDOW, 5_000, 0).unwrap();
        for (s, instrument) in INSTRUMENTS.iter().enumerate() {
            let prices: Vec<f64> = tape
                .trades
                .iter()
                .filter(|t| t.symbol == s)
                .map(|t| dollars(t.price_cents))
                .collect();
            assert!(!prices.is_empty(), "{} has no trades", instrument.symbol);
            for p in prices {
                let ratio = p / instrument.base_price;
                assert!(
                    (0.6..1.6).contains(&ratio),
                    "{} traded at {p}",
                    instrument.symbol
                );
            }
        }
    }

    #[test]
    fn an_empty_window_is_an_error() {
        let empty = Window { start: 5, end: 5 };
        assert!(matches!(
            simulate(1, empty, 10, 10),
            Err(EngineError::SampleData(_))
        ));
    }
}
