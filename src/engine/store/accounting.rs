//! What the store charges against its budget: every heap block it owns, by its real size, plus
//! the allocator's own cost per block. Payloads are the store's own exact-size copies, history
//! deques and child lists are charged by capacity (spare slots included), and the arena, index
//! table and eviction queues by their allocations. `tests/store_bench.rs` checks the sum against a
//! counting allocator.

use std::mem::size_of;

use super::StoredMessage;
use super::id::NodeId;
use super::key::TopicKey;

/// The allocator's cost per heap block besides the bytes asked for: glibc keeps an 8-byte header
/// and rounds blocks up to 16 bytes, 8 + 7.5 on average.
pub const ALLOC_OVERHEAD_BYTES: usize = 16;

/// One slot of a topic's history deque.
pub const MESSAGE_SLOT_BYTES: usize = size_of::<StoredMessage>();

/// What a held message costs besides its payload bytes: its history slot and its payload's block
/// overhead. Spare slots of a history are charged on top, by the deque's capacity.
pub const MESSAGE_OVERHEAD_BYTES: usize = MESSAGE_SLOT_BYTES + ALLOC_OVERHEAD_BYTES;

/// A topic index entry: the key (inline or its block's pointer and length), the node id, and the
/// table's control byte.
pub const INDEX_ENTRY_BYTES: usize = size_of::<(TopicKey, NodeId)>() + 1;

/// The hash table's control bytes past the last bucket (one SIMD group).
const INDEX_TRAILER_BYTES: usize = 16;

/// A heap block of `bytes` (none for zero bytes: empty collections do not allocate).
pub fn block(bytes: usize) -> usize {
    if bytes == 0 { 0 } else { bytes + ALLOC_OVERHEAD_BYTES }
}

/// A stored payload: its own block of exactly its length.
pub fn payload_block(len: usize) -> usize {
    block(len)
}

/// A history deque's buffer for `capacity` messages.
pub fn history_block(capacity: usize) -> usize {
    block(capacity * MESSAGE_SLOT_BYTES)
}

/// A child list's buffer.
pub fn children_block(capacity: usize) -> usize {
    block(capacity * size_of::<NodeId>())
}

/// The topic index's table for a map reporting `capacity`: hashbrown keeps a power-of-two count of
/// buckets, filled to 7/8 at most (all but one below 8 buckets).
pub fn index_table_bytes(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 { (capacity + 1).next_power_of_two() } else { (capacity * 8 / 7).next_power_of_two() };
    block(buckets * INDEX_ENTRY_BYTES + INDEX_TRAILER_BYTES)
}
