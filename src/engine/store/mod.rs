//! The bounded store of received MQTT messages, kept as a topic tree.
//!
//! A plain data structure with no I/O: the engine owns it behind a lock and writes it briefly,
//! the GUI's topic explorer reads it every frame. So reads are cheap (subtree counts are kept
//! incrementally, children are kept sorted) and writes cost O(topic depth), amortised.
//!
//! Memory is bounded three ways: per topic (message count and payload bytes), per message
//! (payloads over `max_payload_bytes` are truncated) and overall (`total_bytes`, which charges
//! every block the store holds, see `accounting.rs`). Over budget, eviction is fair across topics
//! and keeps what a commissioning engineer is looking at: every topic's latest message and its
//! retained one, and pinned topics up to a share of the budget (the order is in `evict.rs`).
//! Every drop and truncation is counted, so the UI can say what it is not showing. Nodes left
//! without messages and children are freed with their index entries, and their slots reused
//! under a new generation, so old ids read as stale.

mod accounting;
mod buckets;
mod by_source;
mod evict;
mod hash;
mod id;
mod key;
mod node;
mod pins;
mod pool;
mod search;
mod tree;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::mem::size_of;

use bytes::Bytes;

pub use accounting::{ALLOC_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, MESSAGE_SLOT_BYTES};
pub use id::NodeId;
pub use node::TopicNode;
pub use pins::PINNED_SHARE_PERCENT;

use accounting::{block, history_block, index_table_bytes, payload_block};
use buckets::SizeBuckets;
use evict::shrink_if_sparse;
use hash::TopicHashing;
use key::TopicKey;
use pool::{PayloadPool, pool_cap};
use node::FREE_GENERATION;

/// Caps of a [`MessageStore`]. A topic's newest message and its retained one are always kept, so
/// a per-topic cap smaller than those behaves as those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLimits {
    /// Messages kept per topic.
    pub per_topic_count: usize,
    /// Payload bytes kept per topic.
    pub per_topic_bytes: usize,
    /// Budget for the whole store: payloads, per-message overhead and the tree itself.
    pub total_bytes: usize,
    /// Longer payloads are kept truncated to this size.
    pub max_payload_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits {
            per_topic_count: 1_000,
            per_topic_bytes: 1024 * 1024,
            total_bytes: 512 * 1024 * 1024,
            max_payload_bytes: 1024 * 1024,
        }
    }
}

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Store-wide, increasing; it keeps increasing across [`MessageStore::clear`].
    pub seq: u64,
    pub received_ms: i64,
    pub qos: u8,
    pub retain: bool,
    /// At most `max_payload_bytes`; see `truncated`.
    pub payload: Bytes,
    /// The payload's length as received.
    pub original_len: usize,
    pub truncated: bool,
    /// The session (link) it came from.
    pub source: u32,
}

/// Totals of the whole store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Topics holding at least one message.
    pub topics: usize,
    /// Messages held.
    pub messages: usize,
    /// Payload bytes held.
    pub bytes: usize,
    /// Messages dropped by any cap.
    pub evicted: u64,
    /// Messages whose payload was truncated.
    pub truncated: u64,
    /// Messages ever received (since the last clear).
    pub received: u64,
}

/// Histories this short grow one slot at a time: most topics hold a message or two, and a
/// doubling deque would charge them for four.
const SMALL_HISTORY: usize = 4;

static EMPTY_HISTORY: VecDeque<StoredMessage> = VecDeque::new();

/// The bounded store of received MQTT messages; see the module documentation.
#[derive(Debug)]
pub struct MessageStore {
    limits: StoreLimits,
    /// Arena; index 0 is the root, which has an empty name and never holds messages.
    nodes: Vec<TopicNode>,
    /// Slots of freed nodes, reused before the arena grows.
    free: Vec<u32>,
    /// Generation for the next node made; store-wide and kept across `clear`, so an id never
    /// matches a later node in its slot (short of 2^32 nodes made in between).
    next_generation: u32,
    /// Full topic to node, for topics that were inserted into: spares the level-by-level walk
    /// on every insert.
    topic_index: HashMap<TopicKey, NodeId, TopicHashing>,
    next_seq: u64,
    payload_bytes: usize,
    /// Blocks owned by nodes, messages and index keys (the fixed tables are added by
    /// `memory_bytes`).
    heap_bytes: usize,
    evicted: u64,
    truncated: u64,
    /// Unpinned topics with something evictable, by how much.
    buckets: SizeBuckets,
    /// Unpinned topics in the order whole topics go, with second chances.
    topic_queue: VecDeque<NodeId>,
    /// Pinned topics with something evictable, by the seq of their oldest such message.
    pin_heap: BinaryHeap<Reverse<(u64, NodeId)>>,
    /// Kept across `clear`: they are the user's choice, not data.
    pins: Vec<String>,
    pinned_bytes: usize,
    /// While evicting for an insert: the topic written, whose evictions are counted here.
    deferred: Deferred,
    /// Payloads evicted by the batch in hand and not kept for reuse, freed together at its end in
    /// address order (see `evict.rs`); empty between calls, so it holds no block at rest.
    dead_payloads: Vec<Bytes>,
    /// Blocks of evicted payloads for the next payloads of their length (`pool.rs`).
    pool: PayloadPool,
    /// The pool's cap while a batch evicts (0: the batch keeps no blocks).
    pool_cap_now: usize,
}

/// Evictions from the topic just written, left for `insert` to carry up the tree.
#[derive(Debug, Default)]
struct Deferred {
    node: Option<NodeId>,
    messages: usize,
}

impl Default for MessageStore {
    fn default() -> Self {
        MessageStore::new(StoreLimits::default())
    }
}

impl MessageStore {
    pub fn new(limits: StoreLimits) -> Self {
        MessageStore::with_first_generation(limits, FREE_GENERATION + 1)
    }

    fn with_first_generation(limits: StoreLimits, generation: u32) -> Self {
        let mut store = MessageStore {
            limits,
            nodes: Vec::new(),
            free: Vec::new(),
            next_generation: generation,
            topic_index: HashMap::with_hasher(TopicHashing::random()),
            next_seq: 1,
            payload_bytes: 0,
            heap_bytes: 0,
            evicted: 0,
            truncated: 0,
            buckets: SizeBuckets::new(),
            topic_queue: VecDeque::new(),
            pin_heap: BinaryHeap::new(),
            pins: Vec::new(),
            pinned_bytes: 0,
            deferred: Deferred::default(),
            dead_payloads: Vec::new(),
            pool: PayloadPool::default(),
            pool_cap_now: 0,
        };
        let root_generation = store.take_generation();
        store.nodes.push(TopicNode::new("", None, root_generation));
        store
    }

    fn take_generation(&mut self) -> u32 {
        let generation = self.next_generation;
        self.next_generation = match generation.wrapping_add(1) {
            FREE_GENERATION => FREE_GENERATION + 1,
            next => next,
        };
        generation
    }

    pub fn limits(&self) -> &StoreLimits {
        &self.limits
    }

    /// Stores a message and returns its sequence number. Caps apply at once; the message just
    /// stored is never the one dropped.
    pub fn insert(&mut self, topic: &str, received_ms: i64, qos: u8, retain: bool, payload: Bytes, source: u32) -> u64 {
        self.insert_message(topic, StoredMessage {
            seq: 0,
            received_ms,
            qos,
            retain,
            original_len: payload.len(),
            payload,
            truncated: false,
            source,
        })
        .0
    }

    /// Records that a message of `original_len` bytes arrived on `topic` but was skipped (over
    /// the packet limit): an empty, truncated entry, so the explorer shows where and how large.
    pub fn insert_skipped(&mut self, topic: &str, received_ms: i64, qos: u8, retain: bool, original_len: usize, source: u32) -> u64 {
        let (seq, id) = self.insert_message(topic, StoredMessage {
            seq: 0,
            received_ms,
            qos,
            retain,
            payload: Bytes::new(),
            original_len: 0,
            truncated: false,
            source,
        });
        if let Some(last) = self.nodes[id.index()].history.back_mut()
            && last.seq == seq
        {
            last.original_len = original_len;
            last.truncated = true;
            self.truncated += 1;
        }
        seq
    }

    fn insert_message(&mut self, topic: &str, mut message: StoredMessage) -> (u64, NodeId) {
        let id = self.intern(topic);
        message.seq = self.next_seq;
        self.next_seq += 1;
        let seq = message.seq;
        message.truncated = message.payload.len() > self.limits.max_payload_bytes;
        self.truncated += u64::from(message.truncated);
        // The store's own exact-size copy: a received payload is a slice of the link's read
        // buffer, and holding the slice would hold the whole buffer where no budget sees it.
        message.payload = self.pool.copy_of(&message.payload[..message.payload.len().min(self.limits.max_payload_bytes)]);
        let len = message.payload.len();
        let retain = message.retain;

        let count_cap = self.limits.per_topic_count.max(1);
        let bytes_cap = self.limits.per_topic_bytes;
        let pool_cap = pool_cap(self.limits.total_bytes);
        let node = &mut self.nodes[id.index()];
        let was_topic = node.is_topic();
        let slots_before = node.history.capacity();
        if node.history.len() == slots_before && slots_before < SMALL_HISTORY {
            node.history.reserve_exact(1);
        }
        node.history.push_back(message);
        node.history_bytes += len;
        node.retained = retain;
        if retain {
            node.retained_seq = seq;
            node.retained_len = len;
        }
        node.touched = true;
        let (mut dropped_count, mut dropped_bytes, mut dropped_blocks) = (0usize, 0usize, 0usize);
        while node.history.len() > count_cap || node.history_bytes > bytes_cap {
            let Some(oldest) = node.take_oldest_evictable() else { break };
            dropped_count += 1;
            dropped_bytes += oldest.payload.len();
            dropped_blocks += payload_block(oldest.payload.len());
            // What the pool does not keep is freed here.
            drop(self.pool.retire(oldest.payload, pool_cap));
        }
        if dropped_count > 0 {
            shrink_if_sparse(&mut node.history);
        }
        let slots_after = node.history.capacity();
        if node.pinned {
            self.pinned_bytes = self.pinned_bytes + len + MESSAGE_OVERHEAD_BYTES - dropped_bytes - dropped_count * MESSAGE_OVERHEAD_BYTES;
        } else if !node.in_topic_queue {
            node.in_topic_queue = true;
            self.topic_queue.push_back(id);
        }
        self.heap_bytes =
            self.heap_bytes + payload_block(len) + history_block(slots_after) - history_block(slots_before) - dropped_blocks;
        self.payload_bytes = self.payload_bytes + len - dropped_bytes;
        self.evicted += dropped_count as u64;
        self.refile(id);
        let evicted_here = self.enforce_budget_for_insert(id);
        self.propagate(id, 1, 1 - (dropped_count + evicted_here) as isize, if was_topic { 0 } else { 1 });
        (seq, id)
    }

    /// Drops every message and node; ids from before become stale. Sequence numbers and pins go on.
    pub fn clear(&mut self) {
        let (next_seq, pins) = (self.next_seq, std::mem::take(&mut self.pins));
        *self = MessageStore::with_first_generation(self.limits.clone(), self.next_generation);
        self.next_seq = next_seq;
        self.pins = pins;
    }

    pub fn root(&self) -> NodeId {
        NodeId { index: 0, generation: self.nodes[0].generation }
    }

    /// `None` for a stale id (from before a `clear`, or of a node freed since).
    pub fn node(&self, id: NodeId) -> Option<&TopicNode> {
        self.nodes.get(id.index()).filter(|node| node.generation == id.generation)
    }

    /// Children sorted by name.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> {
        self.node(id).map(|node| node.children.as_slice()).unwrap_or(&[]).iter().copied()
    }

    /// The node of a topic, whether it holds messages or is only a level above some.
    pub fn find(&self, topic: &str) -> Option<NodeId> {
        if let Some(&known) = self.topic_index.get(topic.as_bytes()) {
            return Some(known);
        }
        let mut current = self.root();
        for level in topic.split('/') {
            let position = self.child_position(current, level).ok()?;
            current = self.nodes[current.index()].children[position];
        }
        Some(current)
    }

    /// The full topic of a node (`""` for the root); `None` for a stale id.
    pub fn path_of(&self, id: NodeId) -> Option<String> {
        self.node(id)?;
        let mut names = Vec::new();
        let mut cursor = id;
        while let Some(parent) = self.nodes[cursor.index()].parent {
            names.push(&*self.nodes[cursor.index()].name);
            cursor = parent;
        }
        names.reverse();
        Some(names.join("/"))
    }

    /// A topic's messages, oldest first; empty for nodes without messages and stale ids.
    pub fn history(&self, id: NodeId) -> &VecDeque<StoredMessage> {
        self.node(id).map_or(&EMPTY_HISTORY, |node| &node.history)
    }

    pub fn latest(&self, id: NodeId) -> Option<&StoredMessage> {
        self.history(id).back()
    }

    pub fn stats(&self) -> StoreStats {
        let root = &self.nodes[0];
        StoreStats {
            topics: root.subtree_topics,
            messages: root.subtree_messages,
            bytes: self.payload_bytes,
            evicted: self.evicted,
            truncated: self.truncated,
            received: root.subtree_received,
        }
    }

    /// What the store charges against `total_bytes`: every heap block it holds (payloads, history
    /// slots by capacity, names, child lists, index keys, the arena, the index table, the eviction
    /// queues, evicted payload blocks kept for reuse), each with [`ALLOC_OVERHEAD_BYTES`] for the
    /// allocator.
    pub fn memory_bytes(&self) -> usize {
        self.held_bytes() + self.pool.heap_bytes()
    }

    /// [`Self::memory_bytes`] but for the blocks kept for reuse: what evictions make smaller.
    fn held_bytes(&self) -> usize {
        self.heap_bytes
            + block(self.nodes.capacity() * size_of::<TopicNode>())
            + block(self.free.capacity() * size_of::<u32>())
            + index_table_bytes(self.topic_index.capacity())
            + self.buckets.heap_bytes()
            + block(self.topic_queue.capacity() * size_of::<NodeId>())
            + block(self.pin_heap.capacity() * size_of::<Reverse<(u64, NodeId)>>())
            + block(self.pins.capacity() * size_of::<String>())
            + self.pins.iter().map(|pin| block(pin.capacity())).sum::<usize>()
    }
}
