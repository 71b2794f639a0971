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
//! pinned heap O(log pinned topics); each eviction walks one topic's ancestors.

use std::cmp::Reverse;

use super::{Deferred, MessageStore};
use super::accounting::{ALLOC_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, history_block, payload_block};
use super::id::NodeId;
use super::tree::SHRINK_MIN_CAPACITY;
use crate::engine::prefetch::prefetch_ptr;

impl MessageStore {
    /// Evicts until the budget holds or nothing more may go; `newest` is the topic just written.
    /// Returns how many of `newest`'s messages went: their counts are left for the caller to
    /// carry up the tree with its own change, one walk instead of two.
    pub(super) fn enforce_budget(&mut self, newest: Option<NodeId>) -> usize {
        self.buckets.tidy(&self.nodes);
        self.deferred = Deferred { node: newest, messages: 0 };
        while self.memory_bytes() > self.limits.total_bytes {
            let evicted = (self.pinned_bytes > self.pinned_budget() && self.evict_pinned_oldest())
                || self.evict_from_largest()
                || self.evict_least_recent_topic(newest)
                || self.evict_pinned_oldest();
            if !evicted {
                break;
            }
        }
        std::mem::take(&mut self.deferred).messages
    }

    /// The topic fair eviction would take from next when this store is about to be over budget.
    /// Its node is looked at now so that [`Self::prefetch_payload`] can ask for the rest.
    pub(super) fn prefetch_victim(&mut self) -> Option<NodeId> {
        if self.memory_bytes() + PREFETCH_MARGIN_BYTES < self.limits.total_bytes {
            return None;
        }
        let id = self.buckets.largest(&self.nodes)?;
        // The history slot an eviction reads first (computed from the deque's header, not read).
        prefetch_ptr(self.nodes[id.index()].history.as_slices().0.as_ptr());
        Some(id)
    }

    /// Asks for the heap block of the payload `victim`'s eviction will free: the slot asked for
    /// by [`Self::prefetch_victim`] has arrived by now, and the block is the last cold read.
    pub(super) fn prefetch_payload(&self, victim: Option<NodeId>) {
        let Some(front) = victim.and_then(|id| self.nodes[id.index()].history.front()) else { return };
        // The allocator's header sits just before the payload.
        prefetch_ptr(front.payload.as_ptr().wrapping_sub(ALLOC_OVERHEAD_BYTES));
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
}

/// How close to the budget the store must be for the next eviction to be prepared.
const PREFETCH_MARGIN_BYTES: usize = 64 * 1024;

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
