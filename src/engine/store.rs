//! The bounded store of received MQTT messages, kept as a topic tree.
//!
//! A plain data structure with no I/O: the engine owns it behind a lock and writes it briefly,
//! the GUI's topic explorer reads it every frame. So reads are cheap (subtree counts are kept
//! incrementally, children are kept sorted) and writes cost O(topic depth), amortised.
//!
//! Memory is bounded three ways: per topic (message count and payload bytes), per message
//! (payloads over `max_payload_bytes` are truncated) and overall (`total_bytes`, enforced by
//! dropping the globally oldest messages). Every drop and truncation is counted, so the UI can
//! say what it is not showing. Nodes left without messages and children by that eviction are
//! freed with their index entries, so traffic on ever-new topics cannot fill the budget with an
//! empty tree; their slots are reused under a new generation, so old ids read as stale.

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;

use bytes::Bytes;

use crate::protocol::topic_filter::is_valid_filter;

/// Caps of a [`MessageStore`]. The newest message of a topic is always kept, so a cap smaller
/// than one message behaves as one message.
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

/// A node of the topic tree. Ids stay valid while their node is in the tree: until
/// [`MessageStore::clear`], or until eviction empties the node and it has no children left.
/// After that they are recognised as stale (reads give `None` or empty results), never as other
/// nodes, even when the slot is reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    index: u32,
    /// The generation of the node in slot `index` when the id was made.
    generation: u32,
}

impl NodeId {
    fn index(self) -> usize {
        self.index as usize
    }
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

/// One level of the topic tree.
#[derive(Debug)]
pub struct TopicNode {
    name: Box<str>,
    parent: Option<NodeId>,
    /// Sorted by name, so the explorer can draw them as they are.
    children: Vec<NodeId>,
    /// Oldest first. Stays unallocated for nodes that never held a message.
    history: VecDeque<StoredMessage>,
    history_bytes: usize,
    retained: bool,
    subtree_topics: usize,
    subtree_messages: usize,
    subtree_received: u64,
    /// Matches the ids handed out for this node; `FREE_GENERATION` while the slot is free.
    generation: u32,
    /// Has an entry in the topic index (a message was inserted on it in this life of the node).
    indexed: bool,
}

/// The generation of a free slot; no id carries it.
const FREE_GENERATION: u32 = 0;

impl TopicNode {
    fn new(name: &str, parent: Option<NodeId>, generation: u32) -> Self {
        TopicNode {
            name: name.into(),
            parent,
            children: Vec::new(),
            history: VecDeque::new(),
            history_bytes: 0,
            retained: false,
            subtree_topics: 0,
            subtree_messages: 0,
            subtree_received: 0,
            generation,
            indexed: false,
        }
    }

    /// This level's name (may be empty: `a//b` has an empty middle level).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn parent(&self) -> Option<NodeId> {
        self.parent
    }

    pub fn child_count(&self) -> usize {
        self.children.len()
    }

    /// Holds at least one message.
    pub fn is_topic(&self) -> bool {
        !self.history.is_empty()
    }

    /// The last message received on this topic had the retain flag.
    pub fn retained(&self) -> bool {
        self.retained
    }

    /// Payload bytes held by this topic itself.
    pub fn history_bytes(&self) -> usize {
        self.history_bytes
    }

    /// Topics (nodes holding messages) in this subtree, this node included.
    pub fn topics(&self) -> usize {
        self.subtree_topics
    }

    /// Messages held in this subtree.
    pub fn messages(&self) -> usize {
        self.subtree_messages
    }

    /// Messages ever received in this subtree since the last clear or since this node was
    /// created; never decreases, and still counts descendants freed since.
    pub fn received(&self) -> u64 {
        self.subtree_received
    }
}

/// The global eviction queue's entry: a message, by sequence number and topic.
#[derive(Debug, Clone, Copy)]
struct FifoEntry {
    seq: u64,
    node: NodeId,
}

/// Bytes charged per message besides its payload: the message itself and its eviction-queue
/// entry, doubled because both live in growable queues that keep spare capacity.
pub const MESSAGE_OVERHEAD_BYTES: usize = 2 * (size_of::<StoredMessage>() + size_of::<FifoEntry>());

/// Bytes charged per tree node besides its name.
pub const NODE_OVERHEAD_BYTES: usize = size_of::<TopicNode>() + size_of::<NodeId>();

/// Bytes charged per topic for the lookup index besides the topic string (entry plus the hash
/// table's control byte and spare room).
pub const INDEX_OVERHEAD_BYTES: usize = 2 * (size_of::<(Box<str>, NodeId)>() + 1);

/// Eviction-queue entries left behind by per-topic caps are tolerated up to this many more
/// than twice the live messages, then swept; this keeps the sweep amortised O(1).
const FIFO_SLACK_ENTRIES: usize = 1024;

/// Queues with less than a quarter of their capacity in use give the rest back.
const SHRINK_MIN_CAPACITY: usize = 64;

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
    /// All messages in arrival order, plus stale entries of messages already dropped by a
    /// per-topic cap; those are skipped when they reach the front.
    fifo: VecDeque<FifoEntry>,
    /// Full topic to node, for topics that were inserted into: spares the level-by-level walk
    /// on every insert.
    topic_index: HashMap<Box<str>, NodeId>,
    next_seq: u64,
    payload_bytes: usize,
    node_bytes: usize,
    evicted: u64,
    truncated: u64,
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
            fifo: VecDeque::new(),
            topic_index: HashMap::new(),
            next_seq: 1,
            payload_bytes: 0,
            node_bytes: NODE_OVERHEAD_BYTES,
            evicted: 0,
            truncated: 0,
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

    /// Stores a message and returns its sequence number. Caps apply at once, oldest first; the
    /// message just stored is never the one dropped.
    pub fn insert(
        &mut self,
        topic: &str,
        received_ms: i64,
        qos: u8,
        retain: bool,
        payload: Bytes,
        source: u32,
    ) -> u64 {
        let node_id = self.intern(topic);
        let seq = self.next_seq;
        self.next_seq += 1;

        let original_len = payload.len();
        let truncated = original_len > self.limits.max_payload_bytes;
        let payload = if truncated {
            self.truncated += 1;
            // A copy, not a slice: a slice would keep the whole oversized buffer alive and the
            // cap would bound nothing.
            Bytes::copy_from_slice(&payload[..self.limits.max_payload_bytes])
        } else {
            payload
        };
        let payload_len = payload.len();

        let count_cap = self.limits.per_topic_count.max(1);
        let bytes_cap = self.limits.per_topic_bytes;
        let node = &mut self.nodes[node_id.index()];
        let was_topic = node.is_topic();
        node.history.push_back(StoredMessage {
            seq,
            received_ms,
            qos,
            retain,
            payload,
            original_len,
            truncated,
            source,
        });
        node.history_bytes += payload_len;
        node.retained = retain;
        let mut dropped_count = 0usize;
        let mut dropped_bytes = 0usize;
        while node.history.len() > 1 && (node.history.len() > count_cap || node.history_bytes > bytes_cap) {
            let Some(oldest) = node.history.pop_front() else { break };
            node.history_bytes -= oldest.payload.len();
            dropped_count += 1;
            dropped_bytes += oldest.payload.len();
        }
        self.payload_bytes = self.payload_bytes + payload_len - dropped_bytes;
        self.evicted += dropped_count as u64;
        // The dropped messages' queue entries stay behind; `evict_oldest` skips them.
        self.fifo.push_back(FifoEntry { seq, node: node_id });

        let topics_delta = if was_topic { 0 } else { 1 };
        self.propagate(node_id, 1, 1 - dropped_count as isize, topics_delta);

        self.enforce_budget(seq);
        self.tidy_fifo();
        seq
    }

    /// Records that a message of `original_len` bytes arrived on `topic` but was skipped (over
    /// the packet limit): an empty, truncated entry, so the explorer shows where and how large.
    pub fn insert_skipped(&mut self, topic: &str, received_ms: i64, qos: u8, retain: bool, original_len: usize, source: u32) -> u64 {
        let seq = self.insert(topic, received_ms, qos, retain, Bytes::new(), source);
        let node_id = self.intern(topic);
        if let Some(last) = self.nodes[node_id.index()].history.back_mut()
            && last.seq == seq
        {
            last.original_len = original_len;
            last.truncated = true;
            self.truncated += 1;
        }
        seq
    }

    /// Drops every message and node; ids from before become stale. Sequence numbers go on.
    pub fn clear(&mut self) {
        let next_seq = self.next_seq;
        *self = MessageStore::with_first_generation(self.limits.clone(), self.next_generation);
        self.next_seq = next_seq;
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
        if let Some(&known) = self.topic_index.get(topic) {
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

    /// What the store charges against `total_bytes`: payloads, a fixed overhead per message
    /// ([`MESSAGE_OVERHEAD_BYTES`]), per node ([`NODE_OVERHEAD_BYTES`] plus its name) and per
    /// topic in the lookup index ([`INDEX_OVERHEAD_BYTES`] plus the topic).
    pub fn memory_bytes(&self) -> usize {
        self.payload_bytes + self.nodes[0].subtree_messages * MESSAGE_OVERHEAD_BYTES + self.node_bytes
    }

    /// Topics (nodes holding messages) whose full topic or latest payload (read as lossy UTF-8)
    /// contains `query`, ignoring case; in display order, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<NodeId> {
        let mut found = Vec::new();
        if limit == 0 {
            return found;
        }
        let needle = Needle::new(query);
        let mut path = String::new();
        // (node, length of its parent's path, or None for top-level nodes which take no '/').
        let mut stack: Vec<(NodeId, Option<usize>)> =
            self.nodes[0].children.iter().rev().map(|&child| (child, None)).collect();
        while let Some((id, parent_len)) = stack.pop() {
            let node = &self.nodes[id.index()];
            match parent_len {
                None => path.clear(),
                Some(len) => {
                    path.truncate(len);
                    path.push('/');
                }
            }
            path.push_str(&node.name);
            if let Some(latest) = node.history.back()
                && (needle.is_in(path.as_bytes()) || needle.is_in(&latest.payload))
            {
                found.push(id);
                if found.len() == limit {
                    break;
                }
            }
            let path_len = path.len();
            stack.extend(node.children.iter().rev().map(|&child| (child, Some(path_len))));
        }
        found
    }

    /// Topics (nodes holding messages) matching an MQTT topic filter, in display order; empty
    /// for an invalid filter. Walks only the branches the filter can reach.
    pub fn nodes_matching(&self, filter: &str) -> Vec<NodeId> {
        let mut found = Vec::new();
        if !is_valid_filter(filter) {
            return found;
        }
        let levels: Vec<&str> = filter.split('/').collect();
        let root = self.root();
        enum Pending {
            /// The node matched the filter's first `usize` levels.
            Matched(NodeId, usize),
            /// Below a `#`: everything matches.
            Below(NodeId),
        }
        let mut stack = vec![Pending::Matched(root, 0)];
        while let Some(pending) = stack.pop() {
            match pending {
                Pending::Below(id) => {
                    let node = &self.nodes[id.index()];
                    if self.is_matchable_topic(id) {
                        found.push(id);
                    }
                    stack.extend(node.children.iter().rev().map(|&child| Pending::Below(child)));
                }
                Pending::Matched(id, depth) => {
                    let node = &self.nodes[id.index()];
                    let Some(&level) = levels.get(depth) else {
                        if self.is_matchable_topic(id) {
                            found.push(id);
                        }
                        continue;
                    };
                    // MQTT: filters starting with a wildcard do not match topics starting with '$'.
                    let reachable = |child: &&NodeId| id != root || !self.nodes[child.index()].name.starts_with('$');
                    match level {
                        "#" => {
                            // "a/#" also matches "a" itself.
                            if self.is_matchable_topic(id) {
                                found.push(id);
                            }
                            stack.extend(node.children.iter().rev().filter(reachable).map(|&c| Pending::Below(c)));
                        }
                        "+" => {
                            stack.extend(
                                node.children.iter().rev().filter(reachable).map(|&c| Pending::Matched(c, depth + 1)),
                            );
                        }
                        name => {
                            if let Ok(position) = self.child_position(id, name) {
                                stack.push(Pending::Matched(node.children[position], depth + 1));
                            }
                        }
                    }
                }
            }
        }
        found
    }

    /// Holds messages and has a valid topic name: the empty topic (a single empty level,
    /// stored like any other) is not one, so no filter matches it.
    fn is_matchable_topic(&self, id: NodeId) -> bool {
        let node = &self.nodes[id.index()];
        node.is_topic() && !(node.name.is_empty() && node.parent == Some(self.root()))
    }

    /// The node of `topic`, created with its missing ancestors.
    fn intern(&mut self, topic: &str) -> NodeId {
        if let Some(&known) = self.topic_index.get(topic) {
            return known;
        }
        let mut current = self.root();
        for level in topic.split('/') {
            current = match self.child_position(current, level) {
                Ok(position) => self.nodes[current.index()].children[position],
                Err(position) => {
                    let generation = self.take_generation();
                    let node = TopicNode::new(level, Some(current), generation);
                    let index = match self.free.pop() {
                        Some(index) => {
                            self.nodes[index as usize] = node;
                            index
                        }
                        None => {
                            // Nodes cost well over 100 bytes each: memory runs out long before u32 does.
                            self.nodes.push(node);
                            (self.nodes.len() - 1) as u32
                        }
                    };
                    let child = NodeId { index, generation };
                    self.nodes[current.index()].children.insert(position, child);
                    self.node_bytes += NODE_OVERHEAD_BYTES + level.len();
                    child
                }
            };
        }
        self.topic_index.insert(topic.into(), current);
        self.nodes[current.index()].indexed = true;
        self.node_bytes += INDEX_OVERHEAD_BYTES + topic.len();
        current
    }

    /// Frees `id` if it holds no messages and has no children, then its ancestors on the same
    /// terms. Subtree counts above need no change: a freed node counts no topics or messages, and
    /// what it received stays counted by its ancestors.
    fn prune(&mut self, id: NodeId) {
        let mut cursor = id;
        while cursor.index() != 0 {
            let node = &self.nodes[cursor.index()];
            let Some(parent) = node.parent else { break };
            if !node.history.is_empty() || !node.children.is_empty() {
                break;
            }
            if node.indexed
                && let Some(topic) = self.path_of(cursor)
                && self.topic_index.remove(topic.as_str()).is_some()
            {
                self.node_bytes -= INDEX_OVERHEAD_BYTES + topic.len();
            }
            let name_len = self.nodes[cursor.index()].name.len();
            if let Ok(position) = self.child_position(parent, &self.nodes[cursor.index()].name) {
                let siblings = &mut self.nodes[parent.index()].children;
                siblings.remove(position);
                if siblings.capacity() > SHRINK_MIN_CAPACITY && siblings.len() < siblings.capacity() / 4 {
                    siblings.shrink_to(siblings.len() * 2);
                }
            }
            self.node_bytes -= NODE_OVERHEAD_BYTES + name_len;
            self.nodes[cursor.index()] = TopicNode::new("", None, FREE_GENERATION);
            self.free.push(cursor.index);
            cursor = parent;
        }
        // The index keeps its peak capacity otherwise; shrinking at a quarter stays amortised.
        if self.topic_index.capacity() > SHRINK_MIN_CAPACITY && self.topic_index.len() < self.topic_index.capacity() / 4 {
            self.topic_index.shrink_to(self.topic_index.len() * 2);
        }
    }

    fn child_position(&self, parent: NodeId, name: &str) -> Result<usize, usize> {
        let nodes = &self.nodes;
        nodes[parent.index()].children.binary_search_by(|child| (*nodes[child.index()].name).cmp(name))
    }

    /// Applies count changes to a node and all its ancestors.
    fn propagate(&mut self, from: NodeId, received: u64, messages_delta: isize, topics_delta: isize) {
        let mut cursor = Some(from);
        while let Some(id) = cursor {
            let node = &mut self.nodes[id.index()];
            node.subtree_received += received;
            node.subtree_messages = node.subtree_messages.saturating_add_signed(messages_delta);
            node.subtree_topics = node.subtree_topics.saturating_add_signed(topics_delta);
            cursor = node.parent;
        }
    }

    /// Drops the globally oldest messages until the budget holds, keeping `newest_seq`.
    fn enforce_budget(&mut self, newest_seq: u64) {
        while self.memory_bytes() > self.limits.total_bytes {
            let Some(&FifoEntry { seq, node: node_id }) = self.fifo.front() else { break };
            if seq == newest_seq {
                break;
            }
            self.fifo.pop_front();
            let node = &mut self.nodes[node_id.index()];
            // Otherwise a per-topic cap dropped it already (or its node was freed since).
            if node.generation != node_id.generation || node.history.front().is_none_or(|oldest| oldest.seq != seq) {
                continue;
            }
            let Some(oldest) = node.history.pop_front() else { continue };
            node.history_bytes -= oldest.payload.len();
            let emptied = node.history.is_empty();
            shrink_if_sparse(&mut node.history);
            self.payload_bytes -= oldest.payload.len();
            self.evicted += 1;
            self.propagate(node_id, 0, -1, if emptied { -1 } else { 0 });
            if emptied {
                self.prune(node_id);
            }
        }
    }

    /// Sweeps stale queue entries and returns spare capacity, both rarely enough to stay
    /// amortised O(1) per insert.
    fn tidy_fifo(&mut self) {
        let live = self.nodes[0].subtree_messages;
        if self.fifo.len() > 2 * live + FIFO_SLACK_ENTRIES {
            let nodes = &self.nodes;
            self.fifo.retain(|entry| is_live(nodes, entry));
        }
        shrink_if_sparse(&mut self.fifo);
    }
}

/// Whether a queue entry's message is still held. A topic's history is a run of its newest
/// messages in order, so it holds exactly its messages from the oldest kept one on.
fn is_live(nodes: &[TopicNode], entry: &FifoEntry) -> bool {
    let node = &nodes[entry.node.index()];
    node.generation == entry.node.generation && node.history.front().is_some_and(|oldest| oldest.seq <= entry.seq)
}

fn shrink_if_sparse<T>(queue: &mut VecDeque<T>) {
    if queue.is_empty() {
        *queue = VecDeque::new();
    } else if queue.capacity() > SHRINK_MIN_CAPACITY && queue.len() < queue.capacity() / 4 {
        queue.shrink_to(queue.len() * 2);
    }
}

/// A case-insensitive search term. ASCII terms are matched on raw bytes without allocating
/// (ASCII bytes never occur inside multi-byte UTF-8, so this equals matching the lossy text).
enum Needle {
    Ascii(Vec<u8>),
    Unicode(String),
}

impl Needle {
    fn new(query: &str) -> Self {
        if query.is_ascii() { Needle::Ascii(query.as_bytes().to_vec()) } else { Needle::Unicode(query.to_lowercase()) }
    }

    fn is_in(&self, haystack: &[u8]) -> bool {
        match self {
            Needle::Ascii(needle) => {
                needle.is_empty() || haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
            }
            Needle::Unicode(needle) => String::from_utf8_lossy(haystack).to_lowercase().contains(needle.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::topic_filter::matches_filter;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn put(store: &mut MessageStore, topic: &str, payload: &[u8]) -> u64 {
        store.insert(topic, 0, 0, false, Bytes::copy_from_slice(payload), 1)
    }

    /// A topic's sequence numbers; empty when it holds none (or its node was freed).
    fn seqs(store: &MessageStore, topic: &str) -> Vec<u64> {
        store.find(topic).map(|id| store.history(id).iter().map(|m| m.seq).collect()).unwrap_or_default()
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
            let holders: Vec<String> =
                self.freed.keys().flatten().filter(|p| store.find(p).is_none()).cloned().collect();
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

    fn roomy() -> StoreLimits {
        StoreLimits { total_bytes: usize::MAX, ..StoreLimits::default() }
    }

    /// Memory charged by a store holding one message in each of `topics`, minus those messages.
    fn node_bytes_for(topics: &[&str]) -> usize {
        let mut store = MessageStore::new(roomy());
        for topic in topics {
            put(&mut store, topic, b"");
        }
        store.memory_bytes() - topics.len() * MESSAGE_OVERHEAD_BYTES
    }

    /// Recounts every node's subtree figures from scratch and compares them with the kept ones;
    /// also checks that no empty leaf is left behind and that the tree costs what is charged.
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
            assert_eq!(
                (node.topics(), node.messages(), node.received()),
                totals,
                "subtree counts of {path:?}"
            );
            assert_eq!(node.history_bytes(), node.history.iter().map(|m| m.payload.len()).sum::<usize>());
            totals
        }
        let (topics, messages, total_received) = recount(store, store.root(), received);
        let stats = store.stats();
        assert_eq!((stats.topics, stats.messages, stats.received), (topics, messages, total_received));
        let payload: usize = store.nodes.iter().map(|n| n.history_bytes).sum();
        assert_eq!(stats.bytes, payload);
        assert_eq!(stats.received, stats.messages as u64 + stats.evicted);
        // What is charged for the tree is exactly its live nodes and index entries.
        let live: Vec<&TopicNode> = store.nodes.iter().filter(|n| n.generation != FREE_GENERATION).collect();
        assert_eq!(live.len() + store.free.len(), store.nodes.len());
        let tree: usize = live.iter().map(|n| NODE_OVERHEAD_BYTES + n.name.len()).sum();
        let index: usize = store.topic_index.keys().map(|t| INDEX_OVERHEAD_BYTES + t.len()).sum();
        assert_eq!(store.node_bytes, tree + index);
        assert_eq!(store.topic_index.len(), live.iter().filter(|n| n.indexed).count());
        for (topic, &id) in &store.topic_index {
            assert_eq!(store.path_of(id).as_deref(), Some(&**topic), "index entry of a live node");
        }
    }

    #[test]
    fn counts_stay_exact_through_inserts() {
        let mut store = MessageStore::default();
        put(&mut store, "a/b", b"1");
        put(&mut store, "a/c", b"2");
        put(&mut store, "a/b", b"3");
        put(&mut store, "d", b"4");
        let stats = store.stats();
        assert_eq!((stats.topics, stats.messages, stats.received, stats.bytes), (3, 4, 4, 4));
        let a = store.node(store.find("a").expect("a")).expect("live");
        assert_eq!((a.topics(), a.messages(), a.received(), a.is_topic()), (2, 3, 3, false));
        let b = store.find("a/b").expect("a/b");
        assert_eq!(store.latest(b).map(|m| &m.payload[..]), Some(&b"3"[..]));
        assert_eq!(seqs(&store, "a/b"), vec![1, 3]);
        let mut received = Received::default();
        for topic in ["a/b", "a/c", "a/b", "d"] {
            received.inserted(topic);
        }
        assert_counts_exact(&store, &received);
    }

    #[test]
    fn retained_marker_follows_last_message() {
        let mut store = MessageStore::default();
        store.insert("t", 5, 1, true, Bytes::from_static(b"x"), 7);
        let t = store.find("t").expect("t");
        assert!(store.node(t).expect("live").retained());
        let latest = store.latest(t).expect("message");
        assert_eq!((latest.received_ms, latest.qos, latest.retain, latest.source), (5, 1, true, 7));
        store.insert("t", 6, 0, false, Bytes::from_static(b"y"), 7);
        assert!(!store.node(t).expect("live").retained());
    }

    #[test]
    fn per_topic_count_cap_drops_that_topics_oldest() {
        let mut store = MessageStore::new(StoreLimits { per_topic_count: 3, ..roomy() });
        put(&mut store, "other", b"o");
        for _ in 0..5 {
            put(&mut store, "t", b"x");
        }
        assert_eq!(seqs(&store, "t"), vec![4, 5, 6]);
        assert_eq!(seqs(&store, "other"), vec![1]);
        let stats = store.stats();
        assert_eq!((stats.messages, stats.evicted, stats.received, stats.topics), (4, 2, 6, 2));
    }

    #[test]
    fn per_topic_bytes_cap_drops_oldest_but_keeps_the_newest() {
        let mut store = MessageStore::new(StoreLimits { per_topic_bytes: 10, ..roomy() });
        for _ in 0..4 {
            put(&mut store, "t", b"abcd");
        }
        assert_eq!(seqs(&store, "t"), vec![3, 4]);
        assert_eq!(store.node(store.find("t").expect("t")).expect("live").history_bytes(), 8);
        put(&mut store, "t", b"0123456789ab");
        assert_eq!(seqs(&store, "t"), vec![5], "an oversized message is kept alone");
        assert_eq!(store.stats().evicted, 4);
        assert_eq!(store.stats().bytes, 12);
    }

    #[test]
    fn global_budget_evicts_oldest_across_topics() {
        let topics = ["a", "b", "c"];
        let payload = [0u8; 10];
        let room_for_three = node_bytes_for(&topics) + 3 * (payload.len() + MESSAGE_OVERHEAD_BYTES);
        let mut store = MessageStore::new(StoreLimits { total_bytes: room_for_three, ..StoreLimits::default() });
        for topic in ["a", "b", "c", "a", "b"] {
            put(&mut store, topic, &payload);
            assert!(store.memory_bytes() <= room_for_three);
        }
        assert_eq!(seqs(&store, "a"), vec![4]);
        assert_eq!(seqs(&store, "b"), vec![5]);
        assert_eq!(seqs(&store, "c"), vec![3]);
        let c = store.find("c").expect("c");
        put(&mut store, "a", &payload);
        assert_eq!(seqs(&store, "c"), Vec::<u64>::new(), "c's message was the oldest");
        assert_eq!(store.find("c"), None, "the emptied node is freed with its index entry");
        assert!(store.node(c).is_none() && store.path_of(c).is_none(), "its old id is stale");
        assert_eq!(store.memory_bytes(), node_bytes_for(&["a", "b"]) + 3 * (payload.len() + MESSAGE_OVERHEAD_BYTES));
        let stats = store.stats();
        assert_eq!((stats.messages, stats.topics, stats.evicted, stats.received), (3, 2, 3, 6));
    }

    #[test]
    fn global_eviction_skips_messages_already_dropped_per_topic() {
        let topics = ["a", "b"];
        let payload = [0u8; 10];
        let room_for_two = node_bytes_for(&topics) + 2 * (payload.len() + MESSAGE_OVERHEAD_BYTES);
        let mut store =
            MessageStore::new(StoreLimits { per_topic_count: 1, total_bytes: room_for_two, ..StoreLimits::default() });
        for _ in 0..3 {
            put(&mut store, "a", &payload);
        }
        put(&mut store, "b", &payload);
        assert_eq!((seqs(&store, "a"), seqs(&store, "b")), (vec![3], vec![4]));
        put(&mut store, "b", &payload);
        assert_eq!((seqs(&store, "a"), seqs(&store, "b")), (vec![3], vec![5]), "per-topic cap, not budget");
        // A new topic's node takes more room than a message, but evicting a's message frees a's
        // node and index entry too: that makes room, so b's message stays.
        put(&mut store, "c", &payload);
        assert_eq!((seqs(&store, "a"), seqs(&store, "b"), seqs(&store, "c")), (vec![], vec![5], vec![6]));
        assert_eq!(store.find("a"), None);
        assert!(store.memory_bytes() <= room_for_two);
        assert_eq!(store.stats().received, store.stats().messages as u64 + store.stats().evicted);
    }

    #[test]
    fn budget_smaller_than_one_message_keeps_the_newest() {
        let mut store = MessageStore::new(StoreLimits { total_bytes: 0, ..StoreLimits::default() });
        put(&mut store, "a", b"1");
        put(&mut store, "b", b"2");
        assert_eq!(store.stats().messages, 1);
        assert_eq!(seqs(&store, "b"), vec![2]);
        assert_eq!(store.stats().evicted, 1);
    }

    #[test]
    fn ever_new_topics_free_their_nodes_and_stay_in_budget() {
        const TOTAL: usize = 64 * 1024;
        let mut store = MessageStore::new(StoreLimits { total_bytes: TOTAL, ..StoreLimits::default() });
        let mut received = Received::default();
        let mut first = None;
        let mut peak_slots = 0;
        for i in 0..100_000u32 {
            // Every message on a topic of its own, under shared and unshared levels.
            let topic = format!("cems/v1/pk{}/dev{i}/up/point/report", i % 7);
            put(&mut store, &topic, b"{\"v\":1}");
            received.inserted(&topic);
            received.settle(&store);
            assert!(store.memory_bytes() <= TOTAL, "over budget after {i}: {}", store.memory_bytes());
            first.get_or_insert_with(|| store.find(&topic).expect("just inserted"));
            peak_slots = peak_slots.max(store.nodes.len());
            if i % 5_000 == 0 {
                assert_counts_exact(&store, &received);
            }
        }
        assert_counts_exact(&store, &received);
        let stats = store.stats();
        assert_eq!(stats.received, 100_000);
        assert!(stats.messages > 50, "the budget holds many messages, not one: {stats:?}");
        assert_eq!(stats.topics, stats.messages);
        assert!(store.topic_index.len() <= stats.topics + 1, "index entries of freed topics are gone");
        assert!(peak_slots < 2_000, "freed slots are reused: {peak_slots}");
        let first = first.expect("inserted");
        assert!(store.node(first).is_none(), "the first topic's node was freed and its slot reused");
        assert_eq!(store.find("cems/v1/pk0/dev0/up/point/report"), None);
        assert!(store.node(store.find("cems/v1/pk0").expect("shared level")).is_some());
    }

    #[test]
    fn stale_queue_entries_are_swept() {
        let mut store = MessageStore::new(StoreLimits { per_topic_count: 1, ..roomy() });
        for _ in 0..10 * FIFO_SLACK_ENTRIES {
            put(&mut store, "t", b"x");
        }
        assert!(store.fifo.len() <= 2 + FIFO_SLACK_ENTRIES);
        assert_eq!(store.stats().messages, 1);
    }

    #[test]
    fn oversized_payloads_are_truncated_and_counted() {
        let mut store = MessageStore::new(StoreLimits { max_payload_bytes: 4, ..roomy() });
        let t = {
            put(&mut store, "t", b"hello world");
            store.find("t").expect("t")
        };
        let latest = store.latest(t).expect("message");
        assert_eq!((&latest.payload[..], latest.original_len, latest.truncated), (&b"hell"[..], 11, true));
        put(&mut store, "t", b"abcd");
        let latest = store.latest(t).expect("message");
        assert_eq!((&latest.payload[..], latest.original_len, latest.truncated), (&b"abcd"[..], 4, false));
        assert_eq!(store.stats().truncated, 1);
        assert_eq!(store.stats().bytes, 8);
    }

    #[test]
    fn slash_edge_cases_are_real_levels() {
        let mut store = MessageStore::new(roomy());
        for topic in ["a//b", "/a", "a/", "a"] {
            put(&mut store, topic, b"x");
        }
        let names = |id: NodeId| -> Vec<String> {
            store.children(id).map(|c| store.node(c).expect("live").name().to_string()).collect()
        };
        let root = store.root();
        assert_eq!(names(root), vec!["", "a"]);
        let a = store.find("a").expect("a");
        assert_eq!(names(a), vec![""]);
        let a_empty = store.find("a/").expect("a/");
        assert_eq!(names(a_empty), vec!["b"]);
        assert!(store.node(a_empty).expect("live").is_topic(), "a/ is a topic of its own");
        for topic in ["a//b", "/a", "a/", "a"] {
            let id = store.find(topic).expect(topic);
            assert_eq!(store.path_of(id).as_deref(), Some(topic));
            assert_eq!(store.history(id).len(), 1);
        }
        assert_eq!(store.find("/"), None);
        assert_eq!(store.find("b"), None);
        assert_eq!(store.path_of(root).as_deref(), Some(""));
        assert_eq!(store.stats().topics, 4);
        assert_eq!(store.node(a).expect("live").topics(), 3);
    }

    #[test]
    fn clear_makes_old_ids_stale_and_keeps_sequence_going() {
        let mut store = MessageStore::default();
        put(&mut store, "a/b", b"1");
        let old = store.find("a/b").expect("a/b");
        store.clear();
        assert!(store.node(old).is_none());
        assert!(store.history(old).is_empty());
        assert_eq!(store.children(old).count(), 0);
        assert_eq!(store.path_of(old), None);
        assert_eq!(store.stats(), StoreStats::default());
        assert_eq!(store.memory_bytes(), NODE_OVERHEAD_BYTES);
        assert_eq!(put(&mut store, "a/b", b"2"), 2);
        assert_eq!(store.find("a/b").map(|id| store.node(id).is_some()), Some(true));
    }

    #[test]
    fn search_matches_path_and_latest_payload_ignoring_case() {
        let mut store = MessageStore::new(roomy());
        put(&mut store, "cems/v1/PK1/dev1/up/property/report", br#"{"soc":87}"#);
        put(&mut store, "cems/v1/pk2/dev2/up/alarm/report", "温度过高 Übertemperatur".as_bytes());
        put(&mut store, "cems/v1/pk2/dev2/up/event/report", b"old SOC");
        put(&mut store, "cems/v1/pk2/dev2/up/event/report", b"new");
        put(&mut store, "other", &[0xff, 0xfe, b'S', b'o', b'C']);
        let paths = |ids: Vec<NodeId>| -> Vec<String> {
            ids.into_iter().map(|id| store.path_of(id).expect("live")).collect()
        };
        assert_eq!(paths(store.search("pk1", 10)), vec!["cems/v1/PK1/dev1/up/property/report"]);
        assert_eq!(
            paths(store.search("SOC", 10)),
            vec!["cems/v1/PK1/dev1/up/property/report", "other"],
            "payload match, latest payload only, invalid UTF-8 tolerated"
        );
        assert_eq!(paths(store.search("温度", 10)), vec!["cems/v1/pk2/dev2/up/alarm/report"]);
        assert_eq!(paths(store.search("üBER", 10)), vec!["cems/v1/pk2/dev2/up/alarm/report"]);
        assert_eq!(store.search("cems", 10).len(), 3, "topics only, not the levels above them");
        assert_eq!(store.search("cems", 2).len(), 2);
        assert_eq!(store.search("", 0).len(), 0);
        assert_eq!(store.search("", 100).len(), 4);
        assert!(store.search("nowhere", 10).is_empty());
    }


    fn brute_force_matching(store: &MessageStore, filter: &str) -> Vec<NodeId> {
        let mut all = Vec::new();
        let mut stack = vec![store.root()];
        while let Some(id) = stack.pop() {
            all.push(id);
            let children: Vec<NodeId> = store.children(id).collect();
            stack.extend(children.into_iter().rev());
        }
        all.into_iter()
            .filter(|&id| {
                store.node(id).expect("live").is_topic() && matches_filter(filter, &store.path_of(id).expect("live"))
            })
            .collect()
    }

    #[test]
    fn nodes_matching_walks_the_tree_like_the_filter() {
        let mut store = MessageStore::new(roomy());
        for topic in ["sport", "sport/", "sport/tennis/p1", "sport/golf", "/finance", "$SYS/x", "a//b", "a", ""] {
            put(&mut store, topic, b"x");
        }
        for filter in ["#", "+", "+/+", "sport/#", "sport/+", "/+", "+/#", "$SYS/#", "a/+/b", "a/#", "x/#", "bad#"] {
            assert_eq!(store.nodes_matching(filter), brute_force_matching(&store, filter), "filter {filter:?}");
        }
        assert_eq!(store.nodes_matching("sport/#").len(), 4);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert { topic: usize, len: usize, retain: bool },
        Clear,
    }

    const TOPICS: &[&str] = &["a", "a/b", "a/b/c", "a//b", "/a", "a/", "", "b/c/d", "$SYS/x", "b"];
    const FILTERS: &[&str] = &["#", "+", "a/#", "+/b", "/#", "a/+/b", "$SYS/+", "+/+/+"];

    /// What the reference model's tree costs: the root, every level above or at a topic holding
    /// messages, and the index entries of `indexed` topics still in the tree (the others are
    /// removed from `indexed`, as the store frees them).
    fn reference_tree_bytes(model: &[(u64, usize, usize)], indexed: &mut std::collections::BTreeSet<usize>) -> usize {
        let mut live: std::collections::HashSet<Vec<&str>> = std::collections::HashSet::new();
        for m in model {
            let levels: Vec<&str> = TOPICS[m.1].split('/').collect();
            for n in 1..=levels.len() {
                live.insert(levels[..n].to_vec());
            }
        }
        indexed.retain(|&t| live.contains(&TOPICS[t].split('/').collect::<Vec<_>>()));
        NODE_OVERHEAD_BYTES
            + live.iter().map(|levels| NODE_OVERHEAD_BYTES + levels.last().map_or(0, |l| l.len())).sum::<usize>()
            + indexed.iter().map(|&t| INDEX_OVERHEAD_BYTES + TOPICS[t].len()).sum::<usize>()
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            30 => (0..TOPICS.len(), 0usize..40, any::<bool>())
                .prop_map(|(topic, len, retain)| Op::Insert { topic, len, retain }),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #[test]
        fn counts_match_a_recount_and_a_reference_model(
            per_topic_count in 0usize..5,
            per_topic_bytes in 0usize..80,
            total_bytes in 0usize..4000,
            max_payload_bytes in 0usize..32,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let limits = StoreLimits { per_topic_count, per_topic_bytes, total_bytes, max_payload_bytes };
            let mut store = MessageStore::new(limits);
            let mut received = Received::default();
            // Reference model: live messages as (seq, topic, stored length), oldest first, and
            // the topics inserted into whose nodes are still in the tree.
            let mut model: Vec<(u64, usize, usize)> = Vec::new();
            let mut indexed = std::collections::BTreeSet::new();
            let mut truncated = 0u64;
            for op in ops {
                match op {
                    Op::Clear => {
                        store.clear();
                        received.clear();
                        model.clear();
                        indexed.clear();
                        truncated = 0;
                    }
                    Op::Insert { topic, len, retain } => {
                        let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                        let seq = store.insert(TOPICS[topic], 0, 0, retain, Bytes::from(payload), 0);
                        received.inserted(TOPICS[topic]);
                        indexed.insert(topic);
                        let stored_len = len.min(max_payload_bytes);
                        truncated += u64::from(len > max_payload_bytes);
                        model.push((seq, topic, stored_len));
                        loop {
                            let same: Vec<usize> = model.iter().filter(|m| m.1 == topic).map(|m| m.2).collect();
                            let over = same.len() > per_topic_count.max(1) || same.iter().sum::<usize>() > per_topic_bytes;
                            if same.len() <= 1 || !over { break; }
                            let Some(oldest) = model.iter().position(|m| m.1 == topic) else { break };
                            model.remove(oldest);
                        }
                        // Each eviction may free nodes, so the tree is re-costed after every one.
                        let charged = |model: &[(u64, usize, usize)], indexed: &mut std::collections::BTreeSet<usize>| {
                            reference_tree_bytes(model, indexed) + model.iter().map(|m| m.2 + MESSAGE_OVERHEAD_BYTES).sum::<usize>()
                        };
                        while model.len() > 1 && charged(&model, &mut indexed) > total_bytes {
                            model.remove(0);
                        }
                        prop_assert_eq!(store.node_bytes, reference_tree_bytes(&model, &mut indexed));
                        let node = store.find(TOPICS[topic]).expect("inserted");
                        prop_assert_eq!(store.node(node).expect("live").retained(), retain);
                    }
                }
                received.settle(&store);
                assert_counts_exact(&store, &received);
                let mut held: Vec<(u64, usize)> = Vec::new();
                for topic in TOPICS {
                    if let Some(id) = store.find(topic) {
                        held.extend(store.history(id).iter().map(|m| (m.seq, m.payload.len())));
                    }
                }
                held.sort();
                let expected: Vec<(u64, usize)> = model.iter().map(|m| (m.0, m.2)).collect();
                prop_assert_eq!(held, expected);
                prop_assert_eq!(store.stats().truncated, truncated);
                prop_assert!(store.memory_bytes() <= total_bytes || store.stats().messages <= 1);
                for filter in FILTERS {
                    prop_assert_eq!(store.nodes_matching(filter), brute_force_matching(&store, filter));
                }
            }
        }
    }

    /// Run with `cargo test --release --lib engine::store -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_insert_throughput() {
        use std::hint::black_box;
        use std::time::Instant;

        const MESSAGES: usize = 1_000_000;
        const TOPIC_COUNT: usize = 10_000;
        let topics: Vec<String> = (0..TOPIC_COUNT)
            .map(|i| format!("cems/v1/pk{}/dev{}/up/property/report", i / 100, i % 100))
            .collect();
        let payloads: Vec<Bytes> = (0..1_000)
            .map(|i| Bytes::from(format!(r#"{{"id":"{i}","ts":1700000000000,"data":{{"soc":{},"p":-12.5}}}}"#, i % 100)))
            .collect();

        let limits = StoreLimits { total_bytes: 64 * 1024 * 1024, ..StoreLimits::default() };
        let mut store = MessageStore::new(limits);
        let started = Instant::now();
        for i in 0..MESSAGES {
            let topic = &topics[(i * 7919) % TOPIC_COUNT];
            black_box(store.insert(topic, i as i64, 0, false, payloads[i % payloads.len()].clone(), 1));
        }
        let store_secs = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let mut reference = Vec::new();
        for i in 0..MESSAGES {
            reference.push(black_box(payloads[i % payloads.len()].clone()));
        }
        black_box(&reference);
        let reference_secs = started.elapsed().as_secs_f64();

        let stats = store.stats();
        println!(
            "store insert: {:.0} messages/s ({:.1} ns each); Vec::push: {:.0} messages/s; ratio store/Vec {:.1}x",
            MESSAGES as f64 / store_secs,
            store_secs * 1e9 / MESSAGES as f64,
            MESSAGES as f64 / reference_secs,
            store_secs / reference_secs,
        );
        println!(
            "held {} messages in {} topics, {} MiB charged, {} evicted",
            stats.messages,
            stats.topics,
            store.memory_bytes() / (1024 * 1024),
            stats.evicted
        );
        assert!(store.memory_bytes() <= 64 * 1024 * 1024);
    }
}
