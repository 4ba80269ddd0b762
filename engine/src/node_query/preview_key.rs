//! Content addresses for node results.
//!
//! A preview is identified by what determines its rows: the tenant, the node, the node's own
//! definition and those of everything upstream of it (with the edges between them), and the
//! page. Canvas-only state (positions, selection, sizes, styling) and unrelated branches are left
//! out, so dragging a node or editing another branch keeps the address while any upstream config
//! change moves it. The definition is read as raw JSON, so a canvas draft can be addressed (and
//! cleaned with [`strip_ui_fields`]) before it is parsed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::EngineError;

/// Node keys that only the canvas uses; they never change a node's rows.
pub const UI_ONLY_NODE_KEYS: &[&str] = &[
    "position",
    "positionAbsolute",
    "position_absolute",
    "selected",
    "dragging",
    "draggable",
    "selectable",
    "width",
    "height",
    "measured",
    "zIndex",
    "z_index",
    "style",
    "className",
    "class_name",
    "hidden",
    "resizing",
    "focusable",
    "sourcePosition",
    "targetPosition",
    "label",
];

/// Canvas-only node keys the workflow format itself carries.
const FORMAT_KEYS: &[&str] = &["position", "label"];

/// Edge keys that decide data flow; every other edge key is canvas state.
const EDGE_KEYS: &[&str] = &["source", "target", "target_port"];

/// `definition` without canvas-only keys on its nodes and edges, so a canvas draft parses as a
/// workflow. Values that are not workflow-shaped are returned unchanged.
pub fn strip_ui_fields(definition: &Value) -> Value {
    let mut cleaned = definition.clone();
    if let Some(nodes) = cleaned.get_mut("nodes").and_then(Value::as_array_mut) {
        for node in nodes.iter_mut().filter_map(Value::as_object_mut) {
            // Positions and labels are canvas state but part of the workflow format: keep them.
            node.retain(|key, _| {
                FORMAT_KEYS.contains(&key.as_str()) || !UI_ONLY_NODE_KEYS.contains(&key.as_str())
            });
        }
    }
    if let Some(edges) = cleaned.get_mut("edges").and_then(Value::as_array_mut) {
        for edge in edges.iter_mut().filter_map(Value::as_object_mut) {
            edge.retain(|key, _| EDGE_KEYS.contains(&key.as_str()));
        }
    }
    cleaned
}

/// The hex SHA-256 address of `node_id`'s page `[offset, offset + limit)` in `definition` (a
/// workflow in its JSON format, possibly with canvas keys) as seen by `scope`: the tenant and
/// what it may see (its entitlements), so a change of entitlements is a new address.
pub fn preview_key(
    scope: &str,
    definition: &Value,
    node_id: &str,
    offset: usize,
    limit: usize,
) -> Result<String, EngineError> {
    let nodes = definition
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or_else(|| EngineError::WorkflowJson("the workflow has no \"nodes\" array".into()))?;
    let by_id: BTreeMap<&str, &Value> = nodes
        .iter()
        .filter_map(|n| Some((n.get("id")?.as_str()?, n)))
        .collect();
    if !by_id.contains_key(node_id) {
        return Err(EngineError::UnknownNode(node_id.to_string()));
    }
    let edges: Vec<(&str, &str, &Value)> = definition
        .get("edges")
        .and_then(Value::as_array)
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| {
                    Some((
                        e.get("source")?.as_str()?,
                        e.get("target")?.as_str()?,
                        e.get("target_port").unwrap_or(&Value::Null),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();

    let mut upstream = BTreeSet::from([node_id]);
    let mut frontier = vec![node_id];
    while let Some(current) = frontier.pop() {
        for (source, _, _) in edges.iter().filter(|(_, target, _)| *target == current) {
            if upstream.insert(source) {
                frontier.push(source);
            }
        }
    }

    let mut canonical = String::new();
    canonical.push_str("{\"nodes\":{");
    for (i, id) in upstream.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        push_string(&mut canonical, id);
        canonical.push(':');
        match by_id.get(id) {
            Some(node) => push_canonical(&mut canonical, &without_ui_keys(node)),
            None => canonical.push_str("null"),
        }
    }
    canonical.push_str("},\"edges\":");
    let mut wanted: Vec<Value> = edges
        .iter()
        .filter(|(source, target, _)| upstream.contains(source) && upstream.contains(target))
        .map(|(source, target, port)| serde_json::json!([source, target, port]))
        .collect();
    wanted.sort_by_key(|e| e.to_string());
    push_canonical(&mut canonical, &Value::Array(wanted));
    canonical.push('}');

    let mut hasher = Sha256::new();
    for part in [
        scope.as_bytes(),
        node_id.as_bytes(),
        canonical.as_bytes(),
        offset.to_string().as_bytes(),
        limit.to_string().as_bytes(),
    ] {
        // Length-prefixed, so no two different tuples hash the same bytes.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn without_ui_keys(node: &Value) -> Value {
    match node.as_object() {
        Some(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !UI_ONLY_NODE_KEYS.contains(&key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => node.clone(),
    }
}

/// JSON text with object keys sorted, whatever map ordering serde_json was built with.
fn push_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            out.push('{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_string(out, key);
                out.push(':');
                push_canonical(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_canonical(out, item);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn push_string(out: &mut String, text: &str) {
    out.push_str(&Value::String(text.to_string()).to_string());
}
