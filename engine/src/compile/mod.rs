//! Workflow → DataFusion [`LogicalPlan`], one node at a time.
//!
//! Nodes are compiled in topological order; each node's plan is its inputs' plans with the node's
//! operator merged on top (see [`shape`]), so the plan of any node is the whole upstream query.
//! The output schema of a node is the schema of its plan: schema propagation and execution can
//! never disagree. Every check that can be pinned on a config field is made before DataFusion
//! sees the plan, so errors name the node and the field.

mod columns;
mod filter;
mod nodes;
mod outputs;
pub mod shape;

use std::collections::BTreeMap;

use datafusion::logical_expr::LogicalPlan;
use serde::Serialize;

use crate::error::{EngineError, WorkflowIssue};
use crate::tables::TableResolver;
use crate::types::Schema;
use crate::workflow::{Graph, Workflow};

/// Plans for every node that compiled, and the issues of those that did not.
#[derive(Debug, Clone)]
pub struct CompiledWorkflow {
    /// Plan per node id.
    pub plans: BTreeMap<String, LogicalPlan>,
    /// Problems found, each naming its node and field.
    pub issues: Vec<WorkflowIssue>,
}

/// Per-node output schemas and problems: what the canvas shows after every edit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaReport {
    /// Output schema per node that compiled.
    pub schemas: BTreeMap<String, Schema>,
    /// Problems found.
    pub issues: Vec<WorkflowIssue>,
}

/// Compiles one node (and what it needs upstream) to a plan.
pub fn compile_node(
    workflow: &Workflow,
    node: &str,
    resolver: &dyn TableResolver,
) -> Result<LogicalPlan, EngineError> {
    let graph = Graph::new(workflow).map_err(|issues| EngineError::InvalidWorkflow { issues })?;
    if workflow.node(node).is_none() {
        return Err(EngineError::UnknownNode(node.to_string()));
    }
    let needed = graph.ancestors(node);
    let mut compiler = nodes::NodeCompiler::new(workflow, &graph, resolver);
    for id in graph.topological_order() {
        if id == node || needed.contains(id) {
            compiler
                .compile(id)
                .map_err(|issues| EngineError::InvalidWorkflow { issues })?;
        }
    }
    compiler
        .take(node)
        .ok_or_else(|| EngineError::UnknownNode(node.to_string()))
}

/// Compiles every node it can; nodes downstream of a broken node are skipped silently (the
/// broken node carries the issue).
pub fn compile_workflow(workflow: &Workflow, resolver: &dyn TableResolver) -> CompiledWorkflow {
    let graph = match Graph::new(workflow) {
        Ok(graph) => graph,
        Err(issues) => {
            return CompiledWorkflow {
                plans: BTreeMap::new(),
                issues,
            }
        }
    };
    let mut compiler = nodes::NodeCompiler::new(workflow, &graph, resolver);
    let mut issues = Vec::new();
    for id in graph.topological_order() {
        let inputs_ok = graph.inputs(id).iter().all(|(src, _)| compiler.has(src));
        if !inputs_ok {
            continue;
        }
        if let Err(mut node_issues) = compiler.compile(id) {
            issues.append(&mut node_issues);
        }
    }
    CompiledWorkflow {
        plans: compiler.into_plans(),
        issues,
    }
}

/// Every node's output schema, for the canvas and the shared fixtures.
pub fn propagate_schemas(workflow: &Workflow, resolver: &dyn TableResolver) -> SchemaReport {
    let compiled = compile_workflow(workflow, resolver);
    let mut issues = compiled.issues;
    let mut schemas = BTreeMap::new();
    for (id, plan) in compiled.plans {
        match Schema::from_df(plan.schema()) {
            Ok(schema) => {
                schemas.insert(id, schema);
            }
            Err(message) => issues.push(WorkflowIssue::node(id, message)),
        }
    }
    SchemaReport { schemas, issues }
}

/// Checks a whole workflow; `Ok` when every node compiles.
pub fn validate(workflow: &Workflow, resolver: &dyn TableResolver) -> Result<(), EngineError> {
    let compiled = compile_workflow(workflow, resolver);
    if compiled.issues.is_empty() {
        Ok(())
    } else {
        Err(EngineError::InvalidWorkflow {
            issues: compiled.issues,
        })
    }
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod sql_tests;
