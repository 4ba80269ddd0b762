//! Tests of the embedded backend over freshly generated sample data.

use datafusion::arrow::array::{Int64Array, StringArray};
use datafusion::datasource::MemTable;
use tempfile::TempDir;

use super::*;
use crate::sample_data::{generate, SampleOptions};

fn seeded(trades: usize, quotes: usize) -> (TempDir, EmbeddedData) {
    let dir = tempfile::tempdir().unwrap();
    let options = SampleOptions {
        trades,
        quotes,
        ..SampleOptions::fixed()
    };
    generate(dir.path(), &options, false).unwrap();
    let data = EmbeddedData::open(dir.path()).unwrap();
    (dir, data)
}

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    let plan = ctx.state().create_logical_plan(sql).await.unwrap();
    collect(ctx, plan).await.unwrap()
}

/// The single Int64 value a one-row, one-column query returns.
async fn scalar(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = query(ctx, sql).await;
    let batch = batches.iter().find(|b| b.num_rows() > 0).unwrap();
    assert_eq!((batch.num_rows(), batch.num_columns()), (1, 1), "{sql}");
    batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0)
}

fn strings(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            column
                .iter()
                .flatten()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn opening_an_empty_folder_names_the_missing_table() {
    let dir = tempfile::tempdir().unwrap();
    let error = EmbeddedData::open(dir.path()).unwrap_err().to_string();
    assert!(error.contains("fct_trades"), "{error}");
    assert!(error.contains("fct_trades.parquet"), "{error}");
}

#[test]
fn a_file_with_another_schema_is_rejected_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let options = SampleOptions {
        trades: 300,
        quotes: 300,
        ..SampleOptions::fixed()
    };
    generate(dir.path(), &options, false).unwrap();
    std::fs::copy(
        table_file(dir.path(), "live_pnl"),
        table_file(dir.path(), "dim_instruments"),
    )
    .unwrap();
    let error = EmbeddedData::open(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("'dim_instruments'") && error.contains("realized_pnl"),
        "{error}"
    );

    std::fs::write(table_file(dir.path(), "dim_instruments"), b"not parquet").unwrap();
    let error = EmbeddedData::open(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("'dim_instruments'") && error.contains("cannot be read"),
        "{error}"
    );
}

#[tokio::test]
async fn every_serving_table_is_exposed_with_its_exact_schema() {
    let (_dir, data) = seeded(500, 500);
    let expected: Vec<&str> = serving_tables().iter().map(|t| t.name).collect();
    assert_eq!(data.tables(), expected);
    assert!(data.provider("no_such_table").is_none());

    let ctx = data.session();
    for table in serving_tables() {
        assert_eq!(
            data.provider(table.name).unwrap().schema(),
            table.schema,
            "{}",
            table.name
        );
        let frame = ctx.table(table.name).await.unwrap();
        let seen = frame.schema().as_arrow();
        for (got, want) in seen.fields().iter().zip(table.schema.fields()) {
            assert_eq!(
                (got.name(), got.data_type(), got.is_nullable()),
                (want.name(), want.data_type(), want.is_nullable())
            );
        }
    }
    let names = strings(
        &query(
            &ctx,
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY table_name",
        )
        .await,
    );
    let mut sorted = expected.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
}

#[tokio::test]
async fn queries_read_the_generated_rows() {
    let (_dir, data) = seeded(1_500, 2_500);
    let ctx = data.session();
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fct_trades").await, 1_500);
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fct_quotes").await, 2_500);
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM dim_instruments").await,
        10
    );
    assert_eq!(
        scalar(&ctx, "SELECT count(*) FROM fct_quotes WHERE bid >= ask").await,
        0
    );
    let sectors = strings(
        &query(
            &ctx,
            "SELECT sector FROM dim_instruments WHERE symbol = 'JPM'",
        )
        .await,
    );
    assert_eq!(sectors, ["Financials"]);
    assert_eq!(
        scalar(
            &ctx,
            "SELECT count(*) FROM fct_trades \
             WHERE event_time < TIMESTAMP '2025-12-29 00:00:00' \
                OR event_time >= TIMESTAMP '2026-01-05 00:00:00'"
        )
        .await,
        0
    );
}

/// Rows of `rollup` that differ from OHLCV recomputed with SQL from `fct_trades`, plus rows
/// present on one side only.
fn rollup_mismatches(rollup: &str, unit: &str) -> String {
    format!(
        "WITH recomputed AS ( \
           SELECT symbol, date_trunc('{unit}', event_time) AS bucket, \
                  first_value(price ORDER BY event_time, trade_id) AS open, \
                  max(price) AS high, min(price) AS low, \
                  last_value(price ORDER BY event_time, trade_id) AS close, \
                  sum(quantity) AS volume, count(*) AS trade_count \
           FROM fct_trades GROUP BY symbol, date_trunc('{unit}', event_time)) \
         SELECT count(*) FROM recomputed r FULL OUTER JOIN {rollup} a \
           ON r.symbol = a.symbol AND r.bucket = a.bucket \
         WHERE r.symbol IS NULL OR a.symbol IS NULL \
            OR r.open <> a.open OR r.high <> a.high OR r.low <> a.low OR r.close <> a.close \
            OR r.volume <> a.volume OR r.trade_count <> a.trade_count"
    )
}

#[tokio::test]
async fn rollups_match_ohlcv_recomputed_from_the_trades() {
    let (_dir, data) = seeded(8_000, 100);
    let ctx = data.session();
    let total_quantity = scalar(&ctx, "SELECT sum(quantity) FROM fct_trades").await;
    for (rollup, unit) in [("agg_ohlcv_1h", "hour"), ("agg_ohlcv_1d", "day")] {
        let rows = scalar(&ctx, &format!("SELECT count(*) FROM {rollup}")).await;
        assert!(rows >= 10, "{rollup} has {rows} rows");
        assert_eq!(
            scalar(&ctx, &rollup_mismatches(rollup, unit)).await,
            0,
            "{rollup}"
        );
        let volume = scalar(&ctx, &format!("SELECT sum(volume) FROM {rollup}")).await;
        assert_eq!(volume, total_quantity, "{rollup}");
        let trades = scalar(&ctx, &format!("SELECT sum(trade_count) FROM {rollup}")).await;
        assert_eq!(trades, 8_000, "{rollup}");
    }
    // Seven days of 24 hours: at most 7 daily bars per symbol.
    let busiest = "SELECT max(n) FROM (SELECT count(*) AS n FROM agg_ohlcv_1d GROUP BY symbol)";
    assert!(scalar(&ctx, busiest).await <= 7);
}

#[tokio::test]
async fn positions_are_the_net_fills_of_each_account_slot() {
    let (_dir, data) = seeded(6_000, 100);
    let ctx = data.session();
    // ACC-001 owns trade ids ending in 0 of its book; ACC-003 those ending in 2.
    for (account, slot) in [("ACC-001", 0), ("ACC-003", 2)] {
        let mismatches = format!(
            "SELECT count(*) FROM live_positions p LEFT JOIN ( \
               SELECT symbol, sum(CASE side WHEN 'BUY' THEN quantity ELSE -quantity END) AS net \
               FROM fct_trades WHERE trade_id % 10 = {slot} GROUP BY symbol) f \
             ON p.symbol = f.symbol \
             WHERE p.account = '{account}' AND (f.net IS NULL OR p.quantity <> f.net)"
        );
        assert_eq!(scalar(&ctx, &mismatches).await, 0, "{account}");
        let held = format!("SELECT count(*) FROM live_positions WHERE account = '{account}'");
        assert!(scalar(&ctx, &held).await >= 3, "{account}");
    }
    let unbalanced =
        "SELECT count(*) FROM live_pnl WHERE total_pnl <> realized_pnl + unrealized_pnl";
    assert_eq!(scalar(&ctx, unbalanced).await, 0);
}

#[tokio::test]
async fn sessions_add_their_own_tables_but_never_replace_serving_tables() {
    let (_dir, data) = seeded(400, 400);
    let ctx = data.session();
    query(
        &ctx,
        "CREATE VIEW big_trades AS SELECT * FROM fct_trades WHERE quantity >= 1000",
    )
    .await;
    let big = scalar(&ctx, "SELECT count(*) FROM big_trades").await;
    let direct = scalar(
        &ctx,
        "SELECT count(*) FROM fct_trades WHERE quantity >= 1000",
    )
    .await;
    assert_eq!(big, direct);

    let empty = MemTable::try_new(serving_tables()[0].schema.clone(), vec![vec![]]).unwrap();
    let replaced = ctx.register_table("fct_trades", Arc::new(empty));
    assert!(replaced.unwrap_err().to_string().contains("serving table"));
    let plan = ctx
        .state()
        .create_logical_plan("DROP TABLE fct_trades")
        .await
        .unwrap();
    assert!(collect(&ctx, plan).await.is_err());
    assert_eq!(scalar(&ctx, "SELECT count(*) FROM fct_trades").await, 400);

    // Another session over the same data does not see this session's view.
    let other = data.session();
    assert!(other.table("big_trades").await.is_err());
}
