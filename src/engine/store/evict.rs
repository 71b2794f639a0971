//! Keeping the store within its budget. Over budget, messages go in this order:
//!
//! 1. Pinned history past the pinned share, oldest first among pinned topics.
//! 2. Unpinned history, fairly: the oldest message of the topic with the most evictable bytes
//!    (within a quarter-octave, see `buckets.rs`), so a busy topic gives up its history before a
//!    quiet one is touched.
//! 3. Whole unpinned topics, least recently active first (a second-chance queue: a topic that
//!    received a message since the queue last passed it goes round once more). Only here do a
//!    topic's latest and retained messages go, with the topic.
//! 4. Pinned history within the share, oldest first.
//!
//! A topic's latest message and its newest retained one are never evicted while the topic exists,
//! pinned topics are never dropped whole, and the topic just written to is not dropped. So the
//! store exceeds its budget only when what is left is pinned topics' latest and retained
//! messages and the message just stored.
//!
//! Cost per insert: filing in a size bucket and the second-chance queue are O(1) amortised, the
//! pinned heap O(log pinned topics); each eviction walks one topic's ancestors. An insert over
//! budget evicts a batch, down to about 1 % under it. The batch's payload blocks are kept for the
//! next payloads of their lengths while they fit in that room (`pool.rs`; what the last batch
//! left unused goes first), and the rest are freed together.

use std::cmp::Reverse;

use super::{Deferred, MessageStore};
use super::accounting::{MESSAGE_OVERHEAD_BYTES, history_block, payload_block};
use super::id::NodeId;
use super::pool::pool_cap;
use super::tree::SHRINK_MIN_CAPACITY;

impl MessageStore {
    /// Evicts until the budget holds or nothing more may go; `newest` is the topic just written.
    /// Returns how many of `newest`'s messages went: their counts are left for the caller to
    /// carry up the tree with its own change, one walk instead of two.
    pub(super) fn enforce_budget(&mut self, newest: Option<NodeId>) -> usize {
        self.buckets.tidy(&self.nodes);
        // Kept blocks go before any message does; none are kept by this call (`keep_blocks`).
        self.pool.release_into(&mut self.dead_payloads);
        self.evict_down_to(newest, self.limits.total_bytes, false)
    }

    /// [`Self::enforce_budget`] for an insert: once over budget, evicts down to the low-water mark
    /// ([`LOW_WATER_DIVISOR`]) rather than just under the budget, so evictions come in batches
    /// every few thousand inserts, with the victim topics and their ancestors still in cache,
    /// instead of one cold eviction per insert.
    pub(super) fn enforce_budget_for_insert(&mut self, newest: NodeId) -> usize {
        self.buckets.tidy(&self.nodes);
        let budget = self.limits.total_bytes;
        if self.memory_bytes() <= budget {
            return 0;
        }
        // Blocks the last batch left unused are of lengths not asked for since: freed, so the
        // pool holds this batch's instead.
        self.pool.release_into(&mut self.dead_payloads);
        self.evict_down_to(Some(newest), budget - budget / LOW_WATER_DIVISOR, true)
    }

    /// Evicts until what the store holds besides kept payload blocks is within `target`. With
    /// `keep_blocks`, evicted payloads' blocks are kept for reuse up to the pool's cap, which is
    /// under the room `target` leaves below the budget, so the store stays within it.
    fn evict_down_to(&mut self, newest: Option<NodeId>, target: usize, keep_blocks: bool) -> usize {
        self.deferred = Deferred { node: newest, messages: 0 };
        self.pool_cap_now = if keep_blocks { pool_cap(self.limits.total_bytes) } else { 0 };
        // The pool's tables stay whatever it keeps: they count like the store's own.
        while self.held_bytes() + self.pool.table_bytes() > target {
            let evicted = (self.pinned_bytes > self.pinned_budget() && self.evict_pinned_oldest())
                || self.evict_from_largest()
                || self.evict_least_recent_topic(newest)
                || self.evict_pinned_oldest();
            if !evicted {
                break;
            }
        }
        self.free_dead_payloads();
        self.pool_cap_now = 0;
        std::mem::take(&mut self.deferred).messages
    }

    /// Re-files a node after its messages changed: in its size bucket, or in the pinned heap.
    pub(super) fn refile(&mut self, id: NodeId) {
        self.buckets.file(&mut self.nodes, id);
        let node = &mut self.nodes[id.index()];
        if node.pinned
            && !node.in_pin_heap
            && let Some(position) = node.oldest_evictable()
        {
            node.in_pin_heap = true;
            let seq = node.history[position].seq;
            self.pin_heap.push(Reverse((seq, id)));
        }
    }

    /// Evicts the oldest evictable message of `id`; false when it has none.
    fn evict_one(&mut self, id: NodeId) -> bool {
        let node = &mut self.nodes[id.index()];
        let slots_before = node.history.capacity();
        let Some(message) = node.take_oldest_evictable() else {
            self.refile(id);
            return false;
        };
        shrink_if_sparse(&mut node.history);
        let slots_after = node.history.capacity();
        let len = message.payload.len();
        if node.pinned {
            self.pinned_bytes -= len + MESSAGE_OVERHEAD_BYTES;
        }
        if let Some(dead) = self.pool.retire(message.payload, self.pool_cap_now) {
            self.dead_payloads.push(dead);
        }
        self.heap_bytes = self.heap_bytes + history_block(slots_after) - history_block(slots_before) - payload_block(len);
        self.payload_bytes -= len;
        self.evicted += 1;
        self.refile(id);
        if self.deferred.node == Some(id) {
            self.deferred.messages += 1;
        } else {
            self.propagate(id, 0, -1, 0);
        }
        true
    }

    fn evict_from_largest(&mut self) -> bool {
        // A node filed with nothing to give is re-filed by `evict_one`, so this ends.
        while let Some(id) = self.buckets.largest(&self.nodes) {
            if self.evict_one(id) {
                return true;
            }
        }
        false
    }

    /// Drops the unpinned topic least recently written to (but not `newest`) with its messages.
    fn evict_least_recent_topic(&mut self, newest: Option<NodeId>) -> bool {
        // A full round clears every mark, so each entry is looked at twice at most.
        let mut looks = 2 * self.topic_queue.len() + 1;
        while looks > 0 {
            looks -= 1;
            let Some(id) = self.topic_queue.pop_front() else { return false };
            let Some(node) = self.nodes.get_mut(id.index()).filter(|node| node.generation == id.generation) else {
                continue;
            };
            if !node.in_topic_queue {
                continue;
            }
            if node.pinned || !node.is_topic() {
                // Queued again when unpinned or written to.
                node.in_topic_queue = false;
                continue;
            }
            if node.touched || Some(id) == newest {
                node.touched = false;
                self.topic_queue.push_back(id);
                continue;
            }
            node.in_topic_queue = false;
            self.drop_topic(id);
            shrink_if_sparse(&mut self.topic_queue);
            return true;
        }
        false
    }

    /// Drops every message of an unpinned topic, and its node when it has no children.
    fn drop_topic(&mut self, id: NodeId) {
        let node = &mut self.nodes[id.index()];
        self.buckets.unfile(node);
        let history = std::mem::take(&mut node.history);
        let bytes = std::mem::take(&mut node.history_bytes);
        node.retained_seq = 0;
        node.retained_len = 0;
        let blocks: usize = history.iter().map(|m| payload_block(m.payload.len())).sum();
        self.heap_bytes -= blocks + history_block(history.capacity());
        self.payload_bytes -= bytes;
        self.evicted += history.len() as u64;
        self.propagate(id, 0, -(history.len() as isize), -1);
        for message in history {
            if let Some(dead) = self.pool.retire(message.payload, self.pool_cap_now) {
                self.dead_payloads.push(dead);
            }
        }
        self.prune(id);
    }

    /// Evicts the oldest evictable message among pinned topics.
    fn evict_pinned_oldest(&mut self) -> bool {
        while let Some(Reverse((seq, id))) = self.pin_heap.pop() {
            let Some(node) = self.nodes.get_mut(id.index()).filter(|node| node.generation == id.generation) else {
                continue;
            };
            let oldest = node.oldest_evictable().map(|position| node.history[position].seq);
            match oldest {
                Some(oldest) if node.pinned && oldest > seq => {
                    // Its older messages went by a per-topic cap: it queues by its oldest now.
                    self.pin_heap.push(Reverse((oldest, id)));
                }
                Some(_) if node.pinned => {
                    node.in_pin_heap = false;
                    // Files it again by its next oldest.
                    self.evict_one(id);
                    shrink_if_sparse_heap(&mut self.pin_heap);
                    return true;
                }
                // Unpinned since, or nothing left to give: queued again when that changes.
                _ => node.in_pin_heap = false,
            }
        }
        false
    }

    /// Frees a batch's evicted payloads in address order: neighbouring blocks then merge while
    /// their headers are still in cache, and later payloads are cut from the merged space, where
    /// one by one they would be scattered frees the allocator sorts into its bins.
    fn free_dead_payloads(&mut self) {
        let mut dead = std::mem::take(&mut self.dead_payloads);
        dead.sort_unstable_by_key(|payload| payload.as_ptr() as usize);
        // Dropped here, with the list: none of it is held between calls.
        drop(dead);
    }
}

/// An insert over budget evicts down to `budget - budget / LOW_WATER_DIVISOR` (about 1 % under).
const LOW_WATER_DIVISOR: usize = 100;

pub(super) fn shrink_if_sparse<T>(queue: &mut std::collections::VecDeque<T>) {
    if queue.capacity() > SHRINK_MIN_CAPACITY && queue.len() < queue.capacity() / 4 {
        queue.shrink_to(queue.len() * 2);
    }
}

fn shrink_if_sparse_heap<T: Ord>(heap: &mut std::collections::BinaryHeap<T>) {
    if heap.capacity() > SHRINK_MIN_CAPACITY && heap.len() < heap.capacity() / 4 {
        heap.shrink_to(heap.len() * 2);
    }
}
