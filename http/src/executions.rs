//! Background runs of a workflow subgraph (`POST /api/v1/executions`).
//!
//! A run executes each requested node through the node-query path and records its row count
//! or error. Runs live in process memory only, in a bounded cache that forgets them an hour
//! after their last change: they are progress reports for the canvas, not records (the audit
//! log and workflow versions are), so losing them on restart costs a re-run, and a bound keeps
//! a burst of runs from growing the heap without limit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use serde::Serialize;
use utoipa::ToSchema;

/// How long a finished (or abandoned) run is kept after its last change.
const EXECUTION_TTL: Duration = Duration::from_secs(60 * 60);
/// Most runs kept at once; the least recently used are dropped first.
const MAX_EXECUTIONS: u64 = 10_000;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    /// Accepted, not started.
    Queued,
    /// Running its nodes.
    Running,
    /// Every node ran.
    Succeeded,
    /// At least one node failed.
    Failed,
}

/// The outcome of one node of a run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeRun {
    /// Node id.
    pub node_id: String,
    /// Where this node is.
    pub status: ExecutionStatus,
    /// Rows the node produced (up to the row limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_count: Option<usize>,
    /// Whether the node has more rows than were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Stable problem code of the failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A run as reported to its tenant.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Execution {
    /// Run id (UUID).
    pub id: String,
    /// The saved workflow run, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// Overall status.
    pub status: ExecutionStatus,
    /// Per-node outcomes, in the order requested.
    pub nodes: Vec<NodeRun>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When it started running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    tenant_id: String,
}

/// The runs of this process, by id.
#[derive(Debug, Clone)]
pub struct Executions {
    runs: Cache<String, Arc<Mutex<Execution>>>,
}

impl Default for Executions {
    fn default() -> Self {
        Self::new()
    }
}

impl Executions {
    /// An empty, bounded store.
    pub fn new() -> Self {
        Executions {
            runs: Cache::builder()
                .time_to_idle(EXECUTION_TTL)
                .max_capacity(MAX_EXECUTIONS)
                .build(),
        }
    }

    /// Records a queued run of `node_ids` for `tenant_id`; returns its id.
    pub async fn queue(
        &self,
        tenant_id: &str,
        workflow_id: Option<String>,
        node_ids: &[String],
    ) -> Execution {
        let execution = Execution {
            id: uuid::Uuid::new_v4().to_string(),
            workflow_id,
            status: ExecutionStatus::Queued,
            nodes: node_ids
                .iter()
                .map(|id| NodeRun {
                    node_id: id.clone(),
                    status: ExecutionStatus::Queued,
                    row_count: None,
                    truncated: None,
                    error_code: None,
                    error: None,
                })
                .collect(),
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            tenant_id: tenant_id.to_string(),
        };
        self.runs
            .insert(
                execution.id.clone(),
                Arc::new(Mutex::new(execution.clone())),
            )
            .await;
        execution
    }

    /// The run `id` if it belongs to `tenant_id`.
    pub async fn get(&self, tenant_id: &str, id: &str) -> Option<Execution> {
        let run = self.runs.get(id).await?;
        let run = run.lock().unwrap_or_else(|p| p.into_inner()).clone();
        (run.tenant_id == tenant_id).then_some(run)
    }

    /// Applies `change` to run `id` (a no-op once the run has been forgotten).
    pub async fn update(&self, id: &str, change: impl FnOnce(&mut Execution)) {
        if let Some(run) = self.runs.get(id).await {
            {
                let mut guard = run.lock().unwrap_or_else(|p| p.into_inner());
                change(&mut guard);
            }
            // Re-inserting resets the idle timer: a long run is never forgotten mid-way.
            self.runs.insert(id.to_string(), run).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_are_tenant_scoped_and_updated_in_place() {
        let store = Executions::new();
        let run = store.queue("t1", None, &["a".into(), "b".into()]).await;
        let queued = store.get("t1", &run.id).await.unwrap();
        assert_eq!(queued.status, ExecutionStatus::Queued);
        assert!(
            store.get("t2", &run.id).await.is_none(),
            "another tenant's run is not found"
        );
        store
            .update(&run.id, |r| {
                r.status = ExecutionStatus::Succeeded;
                r.nodes[0].row_count = Some(3);
            })
            .await;
        let seen = store.get("t1", &run.id).await.unwrap();
        assert_eq!(seen.status, ExecutionStatus::Succeeded);
        assert_eq!(seen.nodes[0].row_count, Some(3));
        assert!(store.get("t1", "missing").await.is_none());
    }
}
