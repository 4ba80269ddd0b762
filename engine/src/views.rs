//! Published workflows as SQL views.
//!
//! Each output node of a published workflow becomes a view: with one output the view takes the
//! workflow's view name, with several each is `<view_name>__<node_id>`. A workflow without output
//! nodes exposes its sink nodes the same way. Plans are compiled with the caller's resolver — a
//! tenant session's, so the views read ACL-filtered tables by construction.

use crate::compile::compile_node;
use crate::dialect::{plan_to_sql, SqlDialect};
use crate::error::EngineError;
use crate::session::ViewDef;
use crate::tables::TableResolver;
use crate::types::ColumnType;
use crate::workflow::{Graph, Workflow};

/// Which node a view exposes, and under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewTarget {
    /// View name.
    pub name: String,
    /// Node id.
    pub node: String,
}

/// The views a workflow publishes.
pub fn view_targets(workflow: &Workflow, view_name: &str) -> Result<Vec<ViewTarget>, EngineError> {
    let mut nodes: Vec<String> = workflow
        .output_nodes()
        .into_iter()
        .map(String::from)
        .collect();
    if nodes.is_empty() {
        let graph =
            Graph::new(workflow).map_err(|issues| EngineError::InvalidWorkflow { issues })?;
        let fed: std::collections::BTreeSet<&str> =
            workflow.edges.iter().map(|e| e.source.as_str()).collect();
        nodes = graph
            .topological_order()
            .iter()
            .filter(|id| !fed.contains(id.as_str()))
            .cloned()
            .collect();
    }
    let single = nodes.len() == 1;
    Ok(nodes
        .into_iter()
        .map(|node| ViewTarget {
            name: if single {
                view_name.to_string()
            } else {
                format!("{view_name}__{}", sanitize(&node))
            },
            node,
        })
        .collect())
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Compiles every view of a workflow, with descriptions and the PostgreSQL text of each.
pub fn workflow_views(
    workflow: &Workflow,
    view_name: &str,
    description: Option<&str>,
    resolver: &dyn TableResolver,
) -> Result<Vec<ViewDef>, EngineError> {
    let mut views = Vec::new();
    for target in view_targets(workflow, view_name)? {
        let plan = compile_node(workflow, &target.node, resolver)?;
        let sql = plan_to_sql(&plan, SqlDialect::Postgres).ok();
        let node = workflow.node(&target.node);
        let node_label = node
            .map(|n| n.label.clone().unwrap_or_else(|| n.id.clone()))
            .unwrap_or_else(|| target.node.clone());
        let node_type = node.map(|n| n.kind.type_name()).unwrap_or("node");
        let column_descriptions = plan
            .schema()
            .fields()
            .iter()
            .map(|f| {
                let ty = ColumnType::from_arrow(f.data_type())
                    .map(|t| t.name())
                    .unwrap_or("value");
                (
                    f.name().clone(),
                    format!(
                        "{ty} output of {node_type} node '{node_label}' in workflow '{}'",
                        workflow.name
                    ),
                )
            })
            .collect();
        let text = match (description, workflow.description.as_deref()) {
            (Some(d), _) if !d.is_empty() => Some(d.to_string()),
            (_, Some(d)) if !d.is_empty() => Some(d.to_string()),
            _ => Some(format!("Workflow '{}'", workflow.name)),
        };
        views.push(ViewDef {
            name: target.name,
            plan,
            description: text,
            column_descriptions,
            sql,
        });
    }
    Ok(views)
}
