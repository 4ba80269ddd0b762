//! The workflow model: a DAG of canvas nodes, as stored and exchanged in JSON.
//!
//! JSON is read in two steps so that every problem can be pinned on a node and a field: first
//! the envelope (nodes with an untyped `config`), then each node's config against its type's
//! schema. [`Workflow::from_json`] returns every problem found, not only the first.

mod fresh_ids;
mod graph;
mod nodes;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use graph::{Graph, InputPort};
pub use nodes::*;

use crate::error::{EngineError, WorkflowIssue};

/// The workflow JSON format version this engine reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A canvas workflow: nodes and the edges between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// Format version of the JSON this was read from.
    pub format_version: u32,
    /// Display name.
    pub name: String,
    /// What the workflow is for; shown in catalogs.
    pub description: Option<String>,
    /// Nodes, in the order they were given.
    pub nodes: Vec<Node>,
    /// Edges between nodes.
    pub edges: Vec<Edge>,
}

/// One node on the canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique id within the workflow.
    pub id: String,
    /// Optional display label.
    pub label: Option<String>,
    /// The node type and its typed configuration.
    pub kind: NodeKind,
    /// Canvas position; UI only, never affects results or caches.
    pub position: Option<Position>,
}

/// A node's place on the canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Horizontal coordinate.
    pub x: f64,
    /// Vertical coordinate.
    pub y: f64,
}

/// A connection from one node's output to another node's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Upstream node id.
    pub source: String,
    /// Downstream node id.
    pub target: String,
    /// Which input of the target (Join and Union have `left` and `right`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<Port>,
}

/// A named input of a two-input node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Port {
    /// The left (first) input.
    Left,
    /// The right (second) input.
    Right,
}

/// The JSON envelope of a node: config still untyped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: String,
    #[serde(rename = "type")]
    node_type: String,
    #[serde(default)]
    config: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<Position>,
}

/// The JSON envelope of a workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflow {
    #[serde(default = "default_format_version")]
    format_version: u32,
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    nodes: Vec<RawNode>,
    #[serde(default)]
    edges: Vec<Edge>,
}

fn default_format_version() -> u32 {
    FORMAT_VERSION
}

impl Workflow {
    /// Reads a workflow from JSON text, reporting every malformed node config by node and field.
    pub fn from_json(text: &str) -> Result<Workflow, EngineError> {
        let raw: RawWorkflow = parse_with_path(text)?;
        Self::from_raw(raw)
    }

    /// Reads a workflow from an already-parsed JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Workflow, EngineError> {
        let raw: RawWorkflow = serde_path_to_error::deserialize(value)
            .map_err(|e| EngineError::WorkflowJson(describe_path_error(&e)))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawWorkflow) -> Result<Workflow, EngineError> {
        let mut issues = Vec::new();
        if raw.format_version != FORMAT_VERSION {
            issues.push(WorkflowIssue {
                node: None,
                field: Some("format_version".into()),
                message: format!(
                    "unsupported format_version {} (this engine reads {FORMAT_VERSION})",
                    raw.format_version
                ),
            });
        }
        let mut nodes = Vec::with_capacity(raw.nodes.len());
        for (index, raw_node) in raw.nodes.into_iter().enumerate() {
            if raw_node.id.trim().is_empty() {
                issues.push(WorkflowIssue::workflow(format!(
                    "nodes[{index}] has an empty id"
                )));
                continue;
            }
            match NodeKind::from_config(&raw_node.node_type, raw_node.config) {
                Ok(kind) => nodes.push(Node {
                    id: raw_node.id,
                    label: raw_node.label,
                    kind,
                    position: raw_node.position,
                }),
                Err(ConfigError { field, message }) => issues.push(WorkflowIssue {
                    node: Some(raw_node.id),
                    field: Some(field),
                    message,
                }),
            }
        }
        if !issues.is_empty() {
            return Err(EngineError::InvalidWorkflow { issues });
        }
        Ok(Workflow {
            format_version: raw.format_version,
            name: raw.name,
            description: raw.description,
            nodes,
            edges: raw.edges,
        })
    }

    /// The workflow as a JSON value in the same format [`Workflow::from_json`] reads.
    pub fn to_value(&self) -> serde_json::Value {
        let raw = RawWorkflow {
            format_version: self.format_version,
            name: self.name.clone(),
            description: self.description.clone(),
            nodes: self
                .nodes
                .iter()
                .map(|n| RawNode {
                    id: n.id.clone(),
                    node_type: n.kind.type_name().to_string(),
                    config: n.kind.config_value(),
                    label: n.label.clone(),
                    position: n.position,
                })
                .collect(),
            edges: self.edges.clone(),
        };
        serde_json::to_value(raw).unwrap_or(serde_json::Value::Null)
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Ids of output nodes (Table View and charts), in node order.
    pub fn output_nodes(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| n.kind.is_output())
            .map(|n| n.id.as_str())
            .collect()
    }

    /// A content fingerprint of the configs of `node` and everything upstream of it, ignoring
    /// UI-only fields (positions, labels), so moving a node never changes it.
    pub fn upstream_fingerprint(&self, node: &str) -> Option<String> {
        let graph = Graph::new(self).ok()?;
        let ancestors = graph.ancestors(node);
        let mut parts: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
        for id in ancestors
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(node))
        {
            let n = self.node(id)?;
            let inputs: Vec<String> = graph
                .inputs(id)
                .iter()
                .map(|(src, port)| format!("{src}:{port:?}"))
                .collect();
            parts.insert(
                id,
                serde_json::json!({"type": n.kind.type_name(), "config": n.kind.config_value(), "inputs": inputs}),
            );
        }
        serde_json::to_string(&parts).ok()
    }
}

fn parse_with_path<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, EngineError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| EngineError::WorkflowJson(describe_path_error(&e)))
}

fn describe_path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    if path == "." || path.is_empty() {
        e.inner().to_string()
    } else {
        format!("at {path}: {}", e.inner())
    }
}
#[cfg(test)]
mod proptests;
