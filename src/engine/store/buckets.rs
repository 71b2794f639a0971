//! Topics filed by how much they could give up, for fair eviction: the store takes from the topic
//! with the most evictable bytes first. Exact ordering would cost a heap update per message, so
//! sizes are filed in quarter-octave buckets (a topic is within 19 % of the largest when taken),
//! each a stack of node ids with lazy invalidation: a node that changes bucket pushes a new entry
//! and its old one is recognised as stale (its node says another bucket) when it surfaces.
//! Entries are rebuilt from the arena when stale ones outnumber the live ones; that scan is
//! sequential and happens only after as many moves, so filing stays amortised O(1).

use super::accounting::block;
use crate::engine::prefetch::{prefetch, prefetch_ptr};
use super::id::NodeId;
use super::node::{FREE_GENERATION, NO_BUCKET, TopicNode};

/// Bucket `1 + 4 * (log2(cost) - MIN_LOG) + the next two bits of cost`: four buckets per doubling.
const SUB_BUCKET_BITS: u32 = 2;
/// Costs start at one message's overhead (80 bytes), so the buckets start at 64.
const MIN_LOG: u32 = 6;
const BUCKETS: usize = 1 + (((u64::BITS - MIN_LOG) as usize) << SUB_BUCKET_BITS);

/// Entries (stale ones included) are tolerated up to three per filed node and this many more.
const STALE_SLACK_ENTRIES: usize = 4096;

#[derive(Debug)]
pub(super) struct SizeBuckets {
    /// Indexed by bucket, grown to the highest bucket used (small stores need few).
    stacks: Vec<Vec<NodeId>>,
    /// Bit `b` set: stack `b` may hold live entries.
    marked: [u64; BUCKETS.div_ceil(64)],
    /// Entries in all stacks, stale ones included.
    entries: usize,
    /// Nodes filed in some bucket (each has at least one live entry).
    filed: usize,
    /// Heap blocks of the stacks, by capacity.
    heap_bytes: usize,
}

/// The bucket of an evictable cost; `NO_BUCKET` for nothing evictable.
pub(super) fn bucket_of(cost: usize) -> u16 {
    if cost == 0 {
        return NO_BUCKET;
    }
    let cost = (cost as u64).max(1 << MIN_LOG);
    let log = u64::BITS - 1 - cost.leading_zeros();
    let sub = (cost >> (log - SUB_BUCKET_BITS)) & ((1 << SUB_BUCKET_BITS) - 1);
    // At most 1 + 57 * 4 + 3 = 232: fits.
    (1 + ((log - MIN_LOG) << SUB_BUCKET_BITS) + sub as u32) as u16
}

impl SizeBuckets {
    pub(super) fn new() -> Self {
        SizeBuckets {
            stacks: Vec::new(),
            marked: [0; BUCKETS.div_ceil(64)],
            entries: 0,
            filed: 0,
            heap_bytes: 0,
        }
    }

    /// The table of stacks and their entries.
    pub(super) fn heap_bytes(&self) -> usize {
        block(self.stacks.capacity() * size_of::<Vec<NodeId>>()) + self.heap_bytes
    }

    /// Files `id` by its evictable cost (nowhere when pinned or with nothing evictable).
    pub(super) fn file(&mut self, nodes: &mut [TopicNode], id: NodeId) {
        let node = &mut nodes[id.index()];
        let bucket = if node.pinned { NO_BUCKET } else { bucket_of(node.evictable_cost()) };
        if bucket == node.bucket {
            return;
        }
        match (node.bucket, bucket) {
            (NO_BUCKET, _) => self.filed += 1,
            (_, NO_BUCKET) => self.filed -= 1,
            _ => {}
        }
        node.bucket = bucket;
        if bucket != NO_BUCKET {
            self.push(usize::from(bucket), id);
        }
    }

    /// Takes `node` out of its bucket, before it is dropped whole.
    pub(super) fn unfile(&mut self, node: &mut TopicNode) {
        if node.bucket != NO_BUCKET {
            node.bucket = NO_BUCKET;
            self.filed -= 1;
        }
    }

    fn push(&mut self, bucket: usize, id: NodeId) {
        if self.stacks.len() <= bucket {
            self.stacks.resize_with(bucket + 1, Vec::new);
        }
        let stack = &mut self.stacks[bucket];
        let before = stack.capacity();
        stack.push(id);
        if stack.capacity() != before {
            self.heap_bytes = self.heap_bytes + block(stack.capacity() * size_of::<NodeId>()) - block(before * size_of::<NodeId>());
        }
        self.marked[bucket / 64] |= 1 << (bucket % 64);
        self.entries += 1;
    }

    fn highest_marked(&self) -> Option<usize> {
        let word = self.marked.iter().rposition(|&bits| bits != 0)?;
        Some(word * 64 + (63 - self.marked[word].leading_zeros() as usize))
    }

    /// A node of the highest filled bucket: one with (nearly) the most to give up.
    pub(super) fn largest(&mut self, nodes: &[TopicNode]) -> Option<NodeId> {
        loop {
            let bucket = self.highest_marked()?;
            let word = bucket / 64;
            let stack = &mut self.stacks[bucket];
            let Some(&id) = stack.last() else {
                self.marked[word] &= !(1 << (bucket % 64));
                continue;
            };
            let node = &nodes[id.index()];
            if node.generation == id.generation && usize::from(node.bucket) == bucket {
                prefetch_next_victims(nodes, stack);
                return Some(id);
            }
            stack.pop();
            self.entries -= 1;
        }
    }

    /// Rebuilds the stacks from the arena once stale entries dominate.
    pub(super) fn tidy(&mut self, nodes: &[TopicNode]) {
        if self.entries <= 3 * self.filed + STALE_SLACK_ENTRIES {
            return;
        }
        for stack in &mut self.stacks {
            stack.clear();
        }
        self.marked = [0; BUCKETS.div_ceil(64)];
        self.entries = 0;
        for (index, node) in nodes.iter().enumerate() {
            if node.generation != FREE_GENERATION && node.bucket != NO_BUCKET {
                // Slots are counted in u32 when nodes are made.
                self.push(usize::from(node.bucket), NodeId { index: index as u32, generation: node.generation });
            }
        }
        self.heap_bytes = 0;
        for stack in &mut self.stacks {
            if stack.len() < stack.capacity() / 4 {
                stack.shrink_to(stack.len() * 2);
            }
            self.heap_bytes += block(stack.capacity() * size_of::<NodeId>());
        }
    }

    /// Entries held, stale ones included (for tests of the rebuild).
    #[cfg(test)]
    pub(super) fn entries(&self) -> usize {
        self.entries
    }
}

/// The victims after the top of `stack` are random nodes written long ago: their nodes, and the
/// oldest message of the one after next, are asked for ahead (an eviction is a chain of misses
/// otherwise: node, then its history's front slot).
fn prefetch_next_victims(nodes: &[TopicNode], stack: &[NodeId]) {
    let len = stack.len();
    if len >= 3
        && let Some(node) = nodes.get(stack[len - 3].index())
    {
        let start: *const TopicNode = node;
        let bytes = start.cast::<u8>();
        (0..size_of::<TopicNode>()).step_by(64).for_each(|offset| prefetch_ptr(bytes.wrapping_add(offset)));
    }
    if len >= 2
        && let Some(node) = nodes.get(stack[len - 2].index())
    {
        prefetch(node.history.front());
    }
}
