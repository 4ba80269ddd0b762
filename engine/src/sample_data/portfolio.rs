//! Sample accounts, their positions and their P&L, for `live_positions` and `live_pnl`.
//!
//! Each account trades a fixed book of symbols and owns a deterministic slice of the tape: the
//! trades of its book whose `trade_id % 10` equals the account's slot (ACC-001 is slot 0, ...),
//! bought on BUY and sold on SELL. Replaying those fills with average-cost accounting gives the
//! position, average price and realized P&L; the mark is the symbol's last trade.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};

use super::instruments::INSTRUMENTS;
use super::market::{dollars, Side, Trade};
use super::table_schema;
use crate::error::EngineError;

/// Accounts and the symbols each one trades.
const ACCOUNTS: [(&str, &[&str]); 4] = [
    ("ACC-001", &["AAPL", "GOOGL", "MSFT", "NVDA"]),
    ("ACC-002", &["AMZN", "META", "TSLA"]),
    ("ACC-003", &["BAC", "GS", "JPM"]),
    ("ACC-004", &["AAPL", "GS", "JPM", "NVDA", "TSLA"]),
];

/// How many slots `trade_id` is split into; account `k` owns slot `k`.
const SLOTS: i64 = 10;

/// One account's holding in one symbol, marked to the symbol's last trade.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Holding {
    account: &'static str,
    symbol: &'static str,
    quantity: i64,
    avg_price: f64,
    market_price: f64,
    market_value: f64,
    realized_pnl: f64,
    unrealized_pnl: f64,
    total_pnl: f64,
    updated_at: i64,
}

/// Average-cost accounting state while fills are replayed.
#[derive(Debug, Default)]
struct Book {
    quantity: i64,
    avg_price: f64,
    realized: f64,
    fills: usize,
}

impl Book {
    fn fill(&mut self, signed_quantity: i64, price: f64) {
        self.fills += 1;
        let held = self.quantity;
        if held == 0 || held.signum() == signed_quantity.signum() {
            let size = held.abs() + signed_quantity.abs();
            self.avg_price = (self.avg_price * held.abs() as f64
                + price * signed_quantity.abs() as f64)
                / size as f64;
            self.quantity += signed_quantity;
            return;
        }
        let closed = signed_quantity.abs().min(held.abs());
        self.realized += closed as f64 * (price - self.avg_price) * held.signum() as f64;
        self.quantity += signed_quantity;
        if self.quantity == 0 {
            self.avg_price = 0.0;
        } else if self.quantity.signum() != held.signum() {
            self.avg_price = price;
        }
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Every (account, symbol) of the books that has at least one fill, ordered by account and
/// symbol. `trades` must be in trade-id order.
pub(super) fn holdings(trades: &[Trade]) -> Vec<Holding> {
    let mut last: Vec<Option<(i64, i64)>> = vec![None; INSTRUMENTS.len()];
    for trade in trades {
        last[trade.symbol] = Some((trade.price_cents, trade.time));
    }
    let mut out = Vec::new();
    for (slot, (account, symbols)) in ACCOUNTS.iter().enumerate() {
        for symbol in symbols.iter() {
            let Some(s) = INSTRUMENTS.iter().position(|i| i.symbol == *symbol) else {
                continue;
            };
            let Some((mark_cents, updated_at)) = last[s] else {
                continue;
            };
            let mut book = Book::default();
            for (index, trade) in trades.iter().enumerate() {
                let trade_id = index as i64 + 1;
                if trade.symbol == s && trade_id % SLOTS == slot as i64 {
                    let signed = match trade.side {
                        Side::Buy => trade.quantity,
                        Side::Sell => -trade.quantity,
                    };
                    book.fill(signed, dollars(trade.price_cents));
                }
            }
            if book.fills == 0 {
                continue;
            }
            let market_price = dollars(mark_cents);
            let avg_price = round_to(book.avg_price, 4);
            let realized_pnl = round_to(book.realized, 2);
            let unrealized_pnl = round_to((market_price - avg_price) * book.quantity as f64, 2);
            out.push(Holding {
                account,
                symbol,
                quantity: book.quantity,
                avg_price,
                market_price,
                market_value: book.quantity as f64 * market_price,
                realized_pnl,
                unrealized_pnl,
                total_pnl: realized_pnl + unrealized_pnl,
                updated_at,
            });
        }
    }
    out
}

fn text(rows: &[Holding], f: fn(&Holding) -> &'static str) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
}

fn float(rows: &[Holding], f: fn(&Holding) -> f64) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
}

fn updated_at(rows: &[Holding]) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(
        rows.iter().map(|h| h.updated_at),
    ))
}

/// The `live_positions` rows.
pub(super) fn positions_batch(rows: &[Holding]) -> Result<RecordBatch, EngineError> {
    let columns = vec![
        text(rows, |h| h.account),
        text(rows, |h| h.symbol),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|h| h.quantity),
        )) as ArrayRef,
        float(rows, |h| h.avg_price),
        float(rows, |h| h.market_price),
        float(rows, |h| h.market_value),
        updated_at(rows),
    ];
    RecordBatch::try_new(table_schema("live_positions")?, columns)
        .map_err(|e| EngineError::SampleData(format!("building live_positions: {e}")))
}

/// The `live_pnl` rows.
pub(super) fn pnl_batch(rows: &[Holding]) -> Result<RecordBatch, EngineError> {
    let columns = vec![
        text(rows, |h| h.account),
        text(rows, |h| h.symbol),
        float(rows, |h| h.realized_pnl),
        float(rows, |h| h.unrealized_pnl),
        float(rows, |h| h.total_pnl),
        updated_at(rows),
    ];
    RecordBatch::try_new(table_schema("live_pnl")?, columns)
        .map_err(|e| EngineError::SampleData(format!("building live_pnl: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(symbol: usize, price_cents: i64, quantity: i64, side: Side, time: i64) -> Trade {
        Trade {
            symbol,
            price_cents,
            quantity,
            side,
            time,
            venue: "XNYS",
        }
    }

    #[test]
    fn average_cost_accounting_realizes_on_reduction_and_flip() {
        let mut book = Book::default();
        book.fill(100, 10.0);
        book.fill(100, 12.0);
        assert_eq!((book.quantity, book.avg_price), (200, 11.0));
        book.fill(-50, 15.0);
        assert_eq!(
            (book.quantity, book.avg_price, book.realized),
            (150, 11.0, 200.0)
        );
        book.fill(-250, 9.0);
        // 150 closed at a 2.00 loss each, then short 100 at 9.00.
        assert_eq!(
            (book.quantity, book.avg_price, book.realized),
            (-100, 9.0, -100.0)
        );
        book.fill(100, 8.0);
        assert_eq!(
            (book.quantity, book.avg_price, book.realized),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn holdings_use_the_account_slot_and_mark_to_the_last_trade() {
        // Trade ids 1..=11 on AAPL; ACC-001 (slot 0) owns id 10, ACC-004 (slot 3) owns id 3.
        let mut trades: Vec<Trade> = (1..=11)
            .map(|i| trade(0, 10_000 + i, 10 * i, Side::Buy, i * 1_000))
            .collect();
        trades[2].side = Side::Sell;
        let rows = holdings(&trades);
        let acc1 = rows.iter().find(|h| h.account == "ACC-001").unwrap();
        assert_eq!(
            (acc1.symbol, acc1.quantity, acc1.avg_price),
            ("AAPL", 100, 100.10)
        );
        assert_eq!((acc1.market_price, acc1.updated_at), (100.11, 11_000));
        assert_eq!(acc1.market_value, 100.0 * 100.11);
        assert_eq!(acc1.unrealized_pnl, 1.0);
        let acc4 = rows.iter().find(|h| h.account == "ACC-004").unwrap();
        assert_eq!((acc4.quantity, acc4.avg_price), (-30, 100.03));
        assert_eq!(acc4.unrealized_pnl, -2.4);
        assert!(rows
            .iter()
            .all(|h| h.total_pnl == h.realized_pnl + h.unrealized_pnl));
        // Only AAPL traded, so no other holdings exist.
        assert_eq!(rows.len(), 2);
    }
}
