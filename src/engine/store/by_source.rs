//! Taking back what one session stored: a replay that seeks back plays its file again from the
//! start, so the messages it put in before go first (else the explorer shows them twice).
//!
//! Removed messages leave the counts as if they had never been received (they are not evictions:
//! `received = held + evicted` still holds), every block they held is credited back, and topics
//! left empty are freed like any other. Cost: one pass over the arena, once per seek back.

use super::MessageStore;
use super::accounting::{history_block, payload_block};
use super::evict::shrink_if_sparse;
use super::id::NodeId;
use super::node::FREE_GENERATION;

impl MessageStore {
    /// Removes every message inserted with `source` (a session id); returns how many.
    pub fn remove_source(&mut self, source: u32) -> usize {
        let holders: Vec<NodeId> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, node)| node.generation != FREE_GENERATION && node.history.iter().any(|m| m.source == source))
            .map(|(index, node)| NodeId { index: index as u32, generation: node.generation })
            .collect();
        holders.into_iter().map(|id| self.remove_from_node(id, source)).sum()
    }

    fn remove_from_node(&mut self, id: NodeId, source: u32) -> usize {
        let node = &mut self.nodes[id.index()];
        let cost_before = node.messages_cost();
        let slots_before = node.history.capacity();
        let (mut removed, mut bytes, mut blocks) = (0usize, 0usize, 0usize);
        node.history.retain(|m| {
            let keep = m.source != source;
            if !keep {
                removed += 1;
                bytes += m.payload.len();
                blocks += payload_block(m.payload.len());
            }
            keep
        });
        shrink_if_sparse(&mut node.history);
        node.history_bytes -= bytes;
        // The newest retained message still held is what the broker would hold now.
        let retained = node.history.iter().rev().find(|m| m.retain).map(|m| (m.seq, m.payload.len()));
        (node.retained_seq, node.retained_len) = retained.unwrap_or((0, 0));
        node.retained = node.history.back().is_some_and(|m| m.retain);
        let emptied = node.history.is_empty();
        if emptied {
            // Its buffer goes now: a node freed below is replaced whole, and `prune` credits only
            // its name and child list.
            node.history = std::collections::VecDeque::new();
        }
        if node.pinned {
            self.pinned_bytes = self.pinned_bytes + node.messages_cost() - cost_before;
        }
        let slots_after = node.history.capacity();
        self.heap_bytes = self.heap_bytes + history_block(slots_after) - history_block(slots_before) - blocks;
        self.payload_bytes -= bytes;
        self.propagate(id, 0, -(removed as isize), if emptied { -1 } else { 0 });
        self.unreceive(id, removed as u64);
        if emptied {
            self.buckets.unfile(&mut self.nodes[id.index()]);
            // Its queue entries go stale and are skipped: the queues check a node's state.
            self.prune(id);
        } else {
            self.refile(id);
        }
        removed
    }

    /// Takes `n` back from the received counts of `from` and its ancestors.
    fn unreceive(&mut self, from: NodeId, n: u64) {
        let mut cursor = Some(from);
        while let Some(id) = cursor {
            let node = &mut self.nodes[id.index()];
            node.subtree_received = node.subtree_received.saturating_sub(n);
            cursor = node.parent;
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::super::accounting::{block, children_block};
    use super::super::key::TopicKey;
    use super::super::{MessageStore, StoreLimits};
    use super::*;

    fn put(store: &mut MessageStore, topic: &str, payload: &str, retain: bool, source: u32) {
        store.insert(topic, 0, 0, retain, Bytes::copy_from_slice(payload.as_bytes()), source);
    }

    /// Every block of live nodes and index keys, counted from scratch.
    fn recount_heap(store: &MessageStore) -> usize {
        let nodes: usize = store
            .nodes
            .iter()
            .filter(|n| n.generation != FREE_GENERATION)
            .map(|n| {
                block(n.name.len())
                    + children_block(n.children.capacity())
                    + history_block(n.history.capacity())
                    + n.history.iter().map(|m| payload_block(m.payload.len())).sum::<usize>()
            })
            .sum();
        nodes + store.topic_index.keys().map(|t| block(TopicKey::heap_len(t.as_str()))).sum::<usize>()
    }

    fn assert_consistent(store: &MessageStore) {
        let stats = store.stats();
        assert_eq!(store.heap_bytes, recount_heap(store), "every block is charged");
        assert_eq!(stats.received, stats.messages as u64 + stats.evicted);
        assert_eq!(stats.bytes, store.nodes.iter().map(|n| n.history_bytes).sum::<usize>());
        let pinned: usize = store.nodes.iter().filter(|n| n.generation != FREE_GENERATION && n.pinned).map(|n| n.messages_cost()).sum();
        assert_eq!(store.pinned_bytes, pinned);
        for node in store.nodes.iter().filter(|n| n.generation != FREE_GENERATION && n.retained_seq != 0) {
            assert!(node.history.iter().any(|m| m.seq == node.retained_seq && m.retain), "the retained message is held");
        }
    }

    #[test]
    fn one_sources_messages_go_and_the_rest_stay_counted() {
        let mut store = MessageStore::new(StoreLimits { total_bytes: usize::MAX, ..StoreLimits::default() });
        store.pin("pinned/");
        for i in 0..50 {
            put(&mut store, &format!("a/{}", i % 5), &format!("from one {i}"), i % 7 == 0, 1);
            put(&mut store, &format!("a/{}", i % 3), &format!("from two {i}"), i % 4 == 0, 2);
            put(&mut store, "only/two/x", "gone", false, 2);
            put(&mut store, "pinned/x", &format!("pinned {i}"), false, 2);
            put(&mut store, "pinned/x", "kept", true, 1);
        }
        assert_consistent(&store);
        let before = store.stats();
        assert_eq!(store.remove_source(2), 150);
        assert_eq!(store.remove_source(2), 0, "nothing left of it");
        let after = store.stats();
        assert_eq!(after.messages, before.messages - 150);
        assert!(store.find("only/two/x").is_none() && store.find("only").is_none(), "emptied topics are freed with their levels");
        for topic in ["a/0", "a/1", "a/2", "a/3", "a/4", "pinned/x"] {
            let id = store.find(topic).unwrap();
            assert!(store.history(id).iter().all(|m| m.source == 1), "{topic}");
        }
        assert_consistent(&store);
        // Filling again works as on a store that never held them.
        for i in 0..10 {
            put(&mut store, "only/two/x", &format!("again {i}"), i == 3, 2);
        }
        assert_consistent(&store);
        assert_eq!(store.remove_source(1) + store.remove_source(2), after.messages + 10);
        assert_eq!(store.stats().messages, 0);
        assert_eq!(store.stats().topics, 0);
        assert_consistent(&store);
    }

    #[test]
    fn a_store_over_budget_keeps_its_accounts_through_a_removal() {
        let mut store = MessageStore::new(StoreLimits { total_bytes: 64 * 1024, per_topic_count: 20, ..StoreLimits::default() });
        for i in 0..2000 {
            put(&mut store, &format!("t/{}", i % 40), &"x".repeat(i % 300), i % 11 == 0, (i % 2) as u32);
        }
        assert!(store.stats().evicted > 0, "the budget was hit");
        store.remove_source(1);
        assert_consistent(&store);
        for i in 0..500 {
            put(&mut store, &format!("t/{}", i % 40), &"y".repeat(i % 300), false, 1);
        }
        assert_consistent(&store);
        assert!(store.memory_bytes() <= 64 * 1024 + 4096, "{}", store.memory_bytes());
    }
}
