//! Unit tests of the store, and the helpers they share: a reference count of received messages
//! and a from-scratch recount of every figure the store keeps incrementally.

mod accounting;
mod basics;
mod eviction;
mod hash;
mod model;
mod pins;

use std::collections::HashMap;
use std::mem::size_of;

use bytes::Bytes;

use super::accounting::{block, children_block, history_block, index_table_bytes, payload_block};
use super::node::{FREE_GENERATION, NO_BUCKET};
use super::*;

fn put(store: &mut MessageStore, topic: &str, payload: &[u8]) -> u64 {
    store.insert(topic, 0, 0, false, Bytes::copy_from_slice(payload), 1)
}

fn put_retained(store: &mut MessageStore, topic: &str, payload: &[u8]) -> u64 {
    store.insert(topic, 0, 0, true, Bytes::copy_from_slice(payload), 1)
}

/// A topic's sequence numbers; empty when it holds none (or its node was freed).
fn seqs(store: &MessageStore, topic: &str) -> Vec<u64> {
    store.find(topic).map(|id| store.history(id).iter().map(|m| m.seq).collect()).unwrap_or_default()
}

fn held(store: &MessageStore, topic: &str) -> usize {
    seqs(store, topic).len()
}

fn roomy() -> StoreLimits {
    StoreLimits { total_bytes: usize::MAX, ..StoreLimits::default() }
}

/// Reference counts of received messages: per topic for its node's current life, and, for
/// nodes since freed, credited to the nearest ancestor still in the tree (`None`: the root).
#[derive(Debug, Default)]
struct Received {
    live: HashMap<String, u64>,
    freed: HashMap<Option<String>, u64>,
}

/// The levels above `path` from the nearest up, ending with the root (`None`).
fn ancestors(path: &str) -> Vec<Option<String>> {
    let levels: Vec<&str> = path.split('/').collect();
    let mut above: Vec<Option<String>> = (1..levels.len()).rev().map(|n| Some(levels[..n].join("/"))).collect();
    above.push(None);
    above
}

impl Received {
    fn inserted(&mut self, topic: &str) {
        *self.live.entry(topic.to_string()).or_default() += 1;
    }

    /// After an operation: moves the counts of freed nodes to their nearest live ancestor.
    fn settle(&mut self, store: &MessageStore) {
        let gone: Vec<String> = self.live.keys().filter(|t| store.find(t).is_none()).cloned().collect();
        let mut moved: Vec<(String, u64)> = gone.into_iter().filter_map(|t| self.live.remove(&t).map(|n| (t, n))).collect();
        let holders: Vec<String> = self.freed.keys().flatten().filter(|p| store.find(p).is_none()).cloned().collect();
        moved.extend(holders.into_iter().filter_map(|p| self.freed.remove(&Some(p.clone())).map(|n| (p, n))));
        for (path, count) in moved {
            let holder = ancestors(&path).into_iter().find(|a| a.as_ref().is_none_or(|p| store.find(p).is_some()));
            *self.freed.entry(holder.flatten()).or_default() += count;
        }
    }

    fn clear(&mut self) {
        self.live.clear();
        self.freed.clear();
    }

    fn own(&self, store: &MessageStore, id: NodeId) -> u64 {
        if id == store.root() {
            return self.freed.get(&None).copied().unwrap_or(0);
        }
        let path = store.path_of(id).expect("live id");
        self.live.get(&path).copied().unwrap_or(0) + self.freed.get(&Some(path)).copied().unwrap_or(0)
    }
}

/// Recounts every node's subtree figures from scratch and compares them with the kept ones;
/// also checks that no empty leaf is left behind and that every block is charged exactly.
fn assert_counts_exact(store: &MessageStore, received: &Received) {
    fn recount(store: &MessageStore, id: NodeId, received: &Received) -> (usize, usize, u64) {
        let node = store.node(id).expect("live id");
        let path = store.path_of(id).expect("live id");
        assert!(id == store.root() || node.is_topic() || node.child_count() > 0, "empty leaf {path:?} left behind");
        let mut totals = (usize::from(node.is_topic()), node.history.len(), received.own(store, id));
        let children: Vec<NodeId> = store.children(id).collect();
        let names: Vec<&str> = children.iter().map(|&c| store.node(c).expect("live").name()).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "children sorted and unique: {names:?}");
        for child in children {
            assert_eq!(store.node(child).expect("live").parent(), Some(id));
            let (t, m, r) = recount(store, child, received);
            totals = (totals.0 + t, totals.1 + m, totals.2 + r);
        }
        assert_eq!((node.topics(), node.messages(), node.received()), totals, "subtree counts of {path:?}");
        assert_eq!(node.history_bytes(), node.history.iter().map(|m| m.payload.len()).sum::<usize>());
        totals
    }
    let (topics, messages, total_received) = recount(store, store.root(), received);
    let stats = store.stats();
    assert_eq!((stats.topics, stats.messages, stats.received), (topics, messages, total_received));
    let payload: usize = store.nodes.iter().map(|n| n.history_bytes).sum();
    assert_eq!(stats.bytes, payload);
    assert_eq!(stats.received, stats.messages as u64 + stats.evicted);
    assert_eq!(store.heap_bytes, recount_heap_bytes(store), "every block is charged");
    assert_eq!(store.topic_index.len(), store.nodes.iter().filter(|n| n.generation != FREE_GENERATION && n.indexed).count());
    for (topic, &id) in &store.topic_index {
        assert_eq!(store.path_of(id).as_deref(), Some(topic.as_str()), "index entry of a live node");
    }
    assert_eviction_state(store);
}

/// The blocks of live nodes, their messages and the index keys, from scratch.
fn recount_heap_bytes(store: &MessageStore) -> usize {
    let live = store.nodes.iter().filter(|n| n.generation != FREE_GENERATION);
    assert_eq!(live.clone().count() + store.free.len(), store.nodes.len(), "every slot is live or free");
    let nodes: usize = live
        .map(|n| {
            block(n.name.len())
                + children_block(n.children.capacity())
                + history_block(n.history.capacity())
                + n.history.iter().map(|m| payload_block(m.payload.len())).sum::<usize>()
        })
        .sum();
    nodes + store.topic_index.keys().map(|t| block(key::TopicKey::heap_len(t.as_str()))).sum::<usize>()
}

/// What eviction keeps per node agrees with the node: unpinned topics with something to give are
/// filed in their bucket, pinned ones are counted in the pinned bytes and sit in the pinned heap.
fn assert_eviction_state(store: &MessageStore) {
    let mut pinned_bytes = 0;
    for node in store.nodes.iter().filter(|n| n.generation != FREE_GENERATION) {
        if node.pinned {
            pinned_bytes += node.messages_cost();
            assert_eq!(node.bucket, NO_BUCKET, "pinned topics are not filed for fair eviction");
            assert!(node.oldest_evictable().is_none() || node.in_pin_heap, "a pinned topic with history is in the heap");
        } else {
            assert_eq!(node.bucket, buckets::bucket_of(node.evictable_cost()), "filed by its evictable cost");
            assert!(!node.is_topic() || node.in_topic_queue, "an unpinned topic can be dropped whole");
        }
        if node.retained_seq != 0 {
            assert!(node.history.iter().any(|m| m.seq == node.retained_seq && m.retain), "the retained message is held");
        }
    }
    assert_eq!(store.pinned_bytes, pinned_bytes);
}

/// The charge of the fixed tables of an empty store (root, index, queues).
fn empty_store_bytes() -> usize {
    MessageStore::new(roomy()).memory_bytes()
}

/// Asserts the charge is at least what the live structures hold, counted without the store's
/// own bookkeeping: a bound that fails when any per-node or per-message overhead is ignored.
fn assert_charge_covers_structures(store: &MessageStore) {
    let held = recount_heap_bytes(store)
        + store.nodes.capacity() * size_of::<TopicNode>()
        + index_table_bytes(store.topic_index.capacity());
    assert!(store.memory_bytes() >= held, "charged {} < held {held}", store.memory_bytes());
}

fn brute_force_matching(store: &MessageStore, filter: &str) -> Vec<NodeId> {
    use crate::protocol::topic_filter::matches_filter;
    let mut all = Vec::new();
    let mut stack = vec![store.root()];
    while let Some(id) = stack.pop() {
        all.push(id);
        let children: Vec<NodeId> = store.children(id).collect();
        stack.extend(children.into_iter().rev());
    }
    all.into_iter()
        .filter(|&id| store.node(id).expect("live").is_topic() && matches_filter(filter, &store.path_of(id).expect("live")))
        .collect()
}
