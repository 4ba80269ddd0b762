//! A query's result as a stream of `DataRow`s, produced batch by batch.
//!
//! The DataFusion stream is pulled one record batch at a time and each batch is encoded into
//! rows only when the previous one has been sent, so memory stays at one batch however large the
//! result. The stream also enforces `max_result_rows`: the row after the limit is an error
//! (SQLSTATE 54000), never a silently shortened result. Dropping the stream stops the query.

use std::collections::VecDeque;
use std::time::Instant;

use datafusion::execution::SendableRecordBatchStream;
use flowforge_engine::EngineError;
use futures::StreamExt;
use pgwire::api::results::SendableRowStream;
use pgwire::error::PgWireError;
use pgwire::messages::data::DataRow;

use crate::encode::RowEncoder;
use crate::pg_error;

/// Produces the rows of one result.
pub(crate) struct ResultRows {
    batches: SendableRecordBatchStream,
    encoder: RowEncoder,
    pending: VecDeque<DataRow>,
    produced: u64,
    limit: Option<u64>,
    finished: bool,
    started: Instant,
}

impl ResultRows {
    /// Rows of `batches`, encoded by `encoder`, failing once more than `limit` rows came.
    pub(crate) fn new(
        batches: SendableRecordBatchStream,
        encoder: RowEncoder,
        limit: Option<u64>,
    ) -> Self {
        ResultRows {
            batches,
            encoder,
            pending: VecDeque::new(),
            produced: 0,
            limit,
            finished: false,
            started: Instant::now(),
        }
    }

    /// The next row, an error, or `None` at the end.
    async fn next_row(&mut self) -> Option<Result<DataRow, PgWireError>> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                self.produced += 1;
                if let Some(limit) = self.limit.filter(|limit| self.produced > *limit) {
                    self.stop();
                    return Some(Err(pg_error::error(
                        "54000",
                        format!(
                            "query returned more than {limit} rows, the server's max_result_rows; add a LIMIT or aggregate"
                        ),
                    )));
                }
                return Some(Ok(row));
            }
            if self.finished {
                return None;
            }
            match self.batches.next().await {
                None => {
                    self.finished = true;
                    tracing::debug!(
                        rows = self.produced,
                        elapsed_ms = self.started.elapsed().as_millis() as u64,
                        "result complete"
                    );
                    return None;
                }
                Some(Err(e)) => {
                    self.stop();
                    return Some(Err(pg_error::engine(&EngineError::DataFusion(e), 0)));
                }
                Some(Ok(batch)) => {
                    if let Err(e) = self.encoder.encode_batch(&batch, &mut self.pending) {
                        self.stop();
                        return Some(Err(pg_error::error("XX000", e.to_string())));
                    }
                }
            }
        }
    }

    fn stop(&mut self) {
        self.finished = true;
        self.pending.clear();
    }

    /// The rows as the stream type pgwire's responses carry.
    pub(crate) fn into_stream(self) -> SendableRowStream {
        Box::pin(futures::stream::unfold(self, |mut rows| async move {
            let row = rows.next_row().await?;
            Some((row, rows))
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use pgwire::api::results::FieldFormat;

    use super::*;
    use crate::encode::EncodeContext;

    fn batches(sizes: &[i64]) -> SendableRecordBatchStream {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let list: Vec<_> = sizes
            .iter()
            .map(|size| {
                Ok(RecordBatch::try_new(
                    schema.clone(),
                    vec![Arc::new(Int64Array::from_iter_values(0..*size))],
                )
                .unwrap())
            })
            .collect();
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter(list),
        ))
    }

    fn rows(sizes: &[i64], limit: Option<u64>) -> SendableRowStream {
        let encoder = RowEncoder::new(vec![FieldFormat::Text], EncodeContext::default());
        ResultRows::new(batches(sizes), encoder, limit).into_stream()
    }

    #[tokio::test]
    async fn rows_of_every_batch_come_out_in_order() {
        let all: Vec<_> = rows(&[2, 0, 3], None).collect().await;
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|r| r.is_ok()));
    }

    #[tokio::test]
    async fn exceeding_max_result_rows_is_an_error_not_a_cut() {
        let all: Vec<_> = rows(&[2, 3], Some(4)).collect().await;
        assert_eq!(all.len(), 5);
        assert!(all[..4].iter().all(|r| r.is_ok()));
        match &all[4] {
            Err(PgWireError::UserError(info)) => assert_eq!(info.code, "54000"),
            other => panic!("expected 54000, got {other:?}"),
        }
        let exact: Vec<_> = rows(&[2, 2], Some(4)).collect().await;
        assert!(exact.iter().all(|r| r.is_ok()));
    }
}
