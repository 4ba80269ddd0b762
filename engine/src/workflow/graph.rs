//! The workflow as a graph: edge checks, arity, cycles and topological order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{Arity, Port, Workflow};
use crate::error::WorkflowIssue;

/// Which input of a node an upstream node feeds.
pub type InputPort = Option<Port>;

/// A validated view of a workflow's edges.
#[derive(Debug, Clone)]
pub struct Graph {
    inputs: BTreeMap<String, Vec<(String, InputPort)>>,
    order: Vec<String>,
}

impl Graph {
    /// Checks edges, arity and acyclicity; returns every problem found.
    pub fn new(workflow: &Workflow) -> Result<Graph, Vec<WorkflowIssue>> {
        let mut issues = Vec::new();
        let mut ids = BTreeSet::new();
        for node in &workflow.nodes {
            if !ids.insert(node.id.as_str()) {
                issues.push(WorkflowIssue::node(&node.id, "duplicate node id"));
            }
        }
        if workflow.nodes.is_empty() {
            issues.push(WorkflowIssue::workflow("the workflow has no nodes"));
        }
        let mut inputs: BTreeMap<String, Vec<(String, InputPort)>> = workflow
            .nodes
            .iter()
            .map(|n| (n.id.clone(), Vec::new()))
            .collect();
        for (index, edge) in workflow.edges.iter().enumerate() {
            let mut ok = true;
            for (end, id) in [("source", &edge.source), ("target", &edge.target)] {
                if !ids.contains(id.as_str()) {
                    issues.push(WorkflowIssue {
                        node: None,
                        field: Some(format!("edges[{index}].{end}")),
                        message: format!("edge {end} '{id}' is not a node of this workflow"),
                    });
                    ok = false;
                }
            }
            if ok && edge.source == edge.target {
                issues.push(WorkflowIssue::node(
                    &edge.target,
                    "a node cannot feed itself",
                ));
                ok = false;
            }
            if ok {
                if let Some(list) = inputs.get_mut(&edge.target) {
                    list.push((edge.source.clone(), edge.target_port));
                }
            }
        }
        for node in &workflow.nodes {
            let connected = inputs.get(&node.id).map(Vec::as_slice).unwrap_or(&[]);
            let kind = node.kind.type_name();
            match node.kind.arity() {
                Arity::Source if !connected.is_empty() => issues.push(WorkflowIssue::node(
                    &node.id,
                    format!(
                        "{kind} takes no inputs but {} edge(s) lead into it",
                        connected.len()
                    ),
                )),
                Arity::One if connected.len() != 1 => issues.push(WorkflowIssue::node(
                    &node.id,
                    format!("{kind} needs exactly one input, found {}", connected.len()),
                )),
                Arity::One if connected[0].1.is_some() => issues.push(WorkflowIssue::node(
                    &node.id,
                    format!("{kind} has a single input; its edge must not name a target_port"),
                )),
                Arity::LeftRight => {
                    let left = connected
                        .iter()
                        .filter(|(_, p)| *p == Some(Port::Left))
                        .count();
                    let right = connected
                        .iter()
                        .filter(|(_, p)| *p == Some(Port::Right))
                        .count();
                    if connected.len() != 2 || left != 1 || right != 1 {
                        issues.push(WorkflowIssue::node(
                            &node.id,
                            format!(
                                "{kind} needs two inputs, one on target_port 'left' and one on 'right' (found {} left, {} right, {} without port)",
                                left,
                                right,
                                connected.len() - left - right
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        let order = topological_order(&inputs);
        if order.len() < inputs.len() {
            let in_cycle: Vec<&str> = inputs
                .keys()
                .filter(|id| !order.contains(id))
                .map(String::as_str)
                .collect();
            issues.push(WorkflowIssue {
                node: in_cycle.first().map(|s| s.to_string()),
                field: None,
                message: format!(
                    "the workflow has a cycle through nodes: {}",
                    in_cycle.join(", ")
                ),
            });
        }
        if issues.is_empty() {
            Ok(Graph { inputs, order })
        } else {
            Err(issues)
        }
    }

    /// Node ids in an order where every node comes after its inputs.
    pub fn topological_order(&self) -> &[String] {
        &self.order
    }

    /// The inputs of a node with their ports, left before right.
    pub fn inputs(&self, node: &str) -> Vec<(String, InputPort)> {
        let mut list = self.inputs.get(node).cloned().unwrap_or_default();
        list.sort_by_key(|(_, port)| match port {
            None | Some(Port::Left) => 0,
            Some(Port::Right) => 1,
        });
        list
    }

    /// Every node upstream of `node` (not including it).
    pub fn ancestors(&self, node: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<String> = VecDeque::from([node.to_string()]);
        while let Some(current) = queue.pop_front() {
            for (source, _) in self.inputs.get(&current).into_iter().flatten() {
                if seen.insert(source.clone()) {
                    queue.push_back(source.clone());
                }
            }
        }
        seen
    }
}

/// Kahn's algorithm; nodes on a cycle are left out. Ties resolve by id for stable output.
fn topological_order(inputs: &BTreeMap<String, Vec<(String, InputPort)>>) -> Vec<String> {
    let mut remaining: BTreeMap<&str, usize> = inputs
        .iter()
        .map(|(id, ins)| (id.as_str(), ins.len()))
        .collect();
    let mut ready: BTreeSet<&str> = remaining
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(inputs.len());
    while let Some(id) = ready.pop_first() {
        remaining.remove(id);
        order.push(id.to_string());
        for (target, ins) in inputs {
            let count = ins.iter().filter(|(src, _)| src == id).count();
            if count > 0 {
                if let Some(n) = remaining.get_mut(target.as_str()) {
                    *n -= count;
                    if *n == 0 {
                        ready.insert(target.as_str());
                    }
                }
            }
        }
    }
    order
}
