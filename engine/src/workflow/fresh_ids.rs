//! Fresh node ids for a copied workflow.
//!
//! Importing a workflow (or duplicating one) must not reuse the source's node ids: widgets,
//! preview caches and audit entries refer to nodes by id, so two workflows sharing ids would
//! be confused with each other. Ids are regenerated here, on the model, so every edge is
//! rewired consistently and nothing else in the graph changes.

use std::collections::BTreeMap;

use super::{Node, Workflow};

impl Workflow {
    /// Gives every node the id `next(node)` returns and rewrites every edge to match; returns
    /// the mapping from old to new ids. Call it on a workflow whose node ids are unique (one
    /// that passed [`super::Graph::new`]); an edge naming an unknown node is left as it is.
    pub fn regenerate_node_ids(
        &mut self,
        mut next: impl FnMut(&Node) -> String,
    ) -> BTreeMap<String, String> {
        let mut mapping = BTreeMap::new();
        for node in &mut self.nodes {
            let fresh = next(node);
            mapping.insert(std::mem::replace(&mut node.id, fresh.clone()), fresh);
        }
        for edge in &mut self.edges {
            for end in [&mut edge.source, &mut edge.target] {
                if let Some(fresh) = mapping.get(end.as_str()) {
                    *end = fresh.clone();
                }
            }
        }
        mapping
    }

    /// A copy of the workflow whose node ids are new random ids of the form
    /// `<node type>_<12 hex digits>`, with the old-to-new mapping.
    pub fn with_fresh_node_ids(&self) -> (Workflow, BTreeMap<String, String>) {
        let mut copy = self.clone();
        let mapping = copy.regenerate_node_ids(|node| {
            let random = uuid::Uuid::new_v4().simple().to_string();
            format!("{}_{}", node.kind.type_name(), &random[..12])
        });
        (copy, mapping)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::compile::propagate_schemas;
    use crate::tables::ServingSchemas;

    fn join_workflow() -> Workflow {
        Workflow::from_value(serde_json::json!({
            "name": "Trades with names",
            "nodes": [
                {"id": "trades", "type": "data_source", "config": {"table": "fct_trades"}},
                {"id": "instruments", "type": "data_source", "config": {"table": "dim_instruments"}},
                {"id": "joined", "type": "join", "config": {"join_type": "inner", "on": [{"left": "symbol", "right": "symbol"}]}},
                {"id": "out", "type": "table_view", "config": {}}
            ],
            "edges": [
                {"source": "trades", "target": "joined", "target_port": "left"},
                {"source": "instruments", "target": "joined", "target_port": "right"},
                {"source": "joined", "target": "out"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn every_node_gets_a_new_unique_id_and_edges_follow() {
        let original = join_workflow();
        let (copy, mapping) = original.with_fresh_node_ids();
        let old: BTreeSet<&str> = original.nodes.iter().map(|n| n.id.as_str()).collect();
        let new: BTreeSet<&str> = copy.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(new.len(), original.nodes.len(), "ids must stay unique");
        assert!(old.is_disjoint(&new), "{old:?} vs {new:?}");
        assert_eq!(mapping.len(), original.nodes.len());
        for (before, after) in original.edges.iter().zip(&copy.edges) {
            assert_eq!(mapping[&before.source], after.source);
            assert_eq!(mapping[&before.target], after.target);
            assert_eq!(before.target_port, after.target_port);
        }
        for (before, after) in original.nodes.iter().zip(&copy.nodes) {
            assert_eq!(mapping[&before.id], after.id);
            assert!(after.id.starts_with(after.kind.type_name()), "{}", after.id);
            assert_eq!(before.kind, after.kind);
        }
    }

    #[test]
    fn the_copy_compiles_to_the_same_schemas_under_the_new_ids() {
        let original = join_workflow();
        let (copy, mapping) = original.with_fresh_node_ids();
        let before = propagate_schemas(&original, &ServingSchemas);
        let after = propagate_schemas(&copy, &ServingSchemas);
        assert!(before.issues.is_empty(), "{:?}", before.issues);
        assert!(after.issues.is_empty(), "{:?}", after.issues);
        for (id, schema) in &before.schemas {
            assert_eq!(&after.schemas[&mapping[id]], schema, "node {id}");
        }
    }

    #[test]
    fn a_caller_supplied_generator_decides_the_ids() {
        let mut workflow = join_workflow();
        let mut n = 0;
        let mapping = workflow.regenerate_node_ids(|_| {
            n += 1;
            format!("n{n}")
        });
        assert_eq!(mapping["trades"], "n1");
        assert_eq!(mapping["out"], "n4");
        assert_eq!(workflow.edges[2].source, "n3");
        assert_eq!(workflow.edges[2].target, "n4");
    }
}
