//! Payload blocks of evicted messages, kept for the next payloads of the same length.
//!
//! Over budget, every insert evicts about one message. Freeing that cold block and then asking
//! the allocator for a new one (from bins fragmented by evictions all over the heap) was a third
//! of an insert's cost in `bench store` profiles; handing the evicted block to the next payload
//! of its length costs a stack pop. Blocks are kept by exact length, so a payload stays an own
//! copy of exactly its size (see `accounting.rs`), and only while the pool is under its cap
//! (about 1 % of the budget); what the pool holds is charged in `memory_bytes` like any block.

use bytes::Bytes;

use super::accounting::{block, payload_block};
use crate::engine::prefetch::prefetch_ptr;

/// Longer payloads are freed as before: the pool keeps one stack per length up to this.
pub(super) const POOL_MAX_LEN: usize = 4096;

/// Blocks are kept up to `budget / POOL_SHARE_DIVISOR` bytes (and [`POOL_MAX_BYTES`]): a little
/// under the room an eviction batch leaves (`evict.rs`), so the store stays within its budget.
pub(super) const POOL_SHARE_DIVISOR: usize = 112;

/// The pool's cap for large budgets: a batch's worth of blocks is all it needs.
const POOL_MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Default)]
pub(super) struct PayloadPool {
    /// Indexed by payload length; grown to the longest length kept.
    stacks: Vec<Vec<Bytes>>,
    /// The payload blocks held, charged as live payloads are.
    block_bytes: usize,
    /// The stacks' own buffers, by capacity.
    stack_bytes: usize,
}

/// The pool's cap for a store with this budget.
pub(super) fn pool_cap(budget: usize) -> usize {
    (budget / POOL_SHARE_DIVISOR).min(POOL_MAX_BYTES)
}

impl PayloadPool {
    /// Every block the pool holds, its tables included.
    pub(super) fn heap_bytes(&self) -> usize {
        self.block_bytes + self.table_bytes()
    }

    /// The pool's tables alone: what stays when no block is kept.
    pub(super) fn table_bytes(&self) -> usize {
        self.stack_bytes + table_block(self.stacks.capacity())
    }

    /// Keeps an evicted payload's block for reuse while under `cap`; hands it back otherwise, or
    /// when it is shared or empty (nothing to reuse), for the caller to free.
    pub(super) fn retire(&mut self, payload: Bytes, cap: usize) -> Option<Bytes> {
        let len = payload.len();
        if len == 0 || len > POOL_MAX_LEN || !payload.is_unique() {
            return Some(payload);
        }
        // What keeping it would cost, the tables' growth included, against the cap.
        let table_slots = if self.stacks.len() <= len {
            (len + 1).next_power_of_two().min(POOL_MAX_LEN + 1).max(self.stacks.capacity())
        } else {
            self.stacks.capacity()
        };
        let table_growth = table_block(table_slots) - table_block(self.stacks.capacity());
        let slots = self.stacks.get(len).map_or(0, Vec::capacity);
        let used = self.stacks.get(len).map_or(0, Vec::len);
        let stack_slots = if used == slots { (2 * slots).max(MIN_STACK_SLOTS) } else { slots };
        let stack_growth = stack_block(stack_slots) - stack_block(slots);
        if self.heap_bytes() + payload_block(len) + table_growth + stack_growth > cap {
            return Some(payload);
        }
        if self.stacks.len() <= len {
            self.stacks.reserve_exact(table_slots - self.stacks.len());
            self.stacks.resize_with(len + 1, Vec::new);
        }
        let stack = &mut self.stacks[len];
        stack.reserve_exact(stack_slots - used);
        stack.push(payload);
        self.stack_bytes += stack_growth;
        self.block_bytes += payload_block(len);
        None
    }

    /// An own copy of `data` in a block of exactly its size: a kept block of that length when
    /// there is one, a new one otherwise.
    pub(super) fn copy_of(&mut self, data: &[u8]) -> Bytes {
        let len = data.len();
        if let Some(stack) = self.stacks.get_mut(len)
            && let Some(kept) = stack.pop()
        {
            self.block_bytes -= payload_block(len);
            // The next payload of this length takes the block below, a few hundred inserts on:
            // it was evicted cold, so its lines are asked for now, to be in cache by then.
            if let Some(next) = stack.last() {
                let start = next.as_ptr();
                (0..len).step_by(CACHE_LINE).for_each(|offset| prefetch_ptr(start.wrapping_add(offset)));
                prefetch_ptr(start.wrapping_add(len - 1));
            }
            // Unique when kept and nothing could clone it since; a block of another size is not
            // reused, so the copy is always exactly `len` bytes.
            if let Ok(mut buffer) = kept.try_into_mut()
                && buffer.capacity() == len
            {
                buffer.clear();
                buffer.extend_from_slice(data);
                return buffer.freeze();
            }
        }
        Bytes::copy_from_slice(data)
    }

    /// The block the next payload of `len` bytes would get, if one is kept (for tests of reuse).
    #[cfg(test)]
    pub(super) fn next_block(&self, len: usize) -> Option<*const u8> {
        self.stacks.get(len)?.last().map(|kept| kept.as_ptr())
    }

    /// Hands every kept block to `dead` (to be freed) and gives back the stacks' spare room.
    pub(super) fn release_into(&mut self, dead: &mut Vec<Bytes>) {
        if self.block_bytes == 0 {
            return;
        }
        self.stack_bytes = 0;
        for stack in &mut self.stacks {
            dead.append(stack);
            // Kept at about what a batch needs: most lengths come back in the next one.
            if stack.capacity() > 2 * STACK_KEEP {
                stack.shrink_to(STACK_KEEP);
            }
            self.stack_bytes += stack_block(stack.capacity());
        }
        self.block_bytes = 0;
    }
}

const CACHE_LINE: usize = 64;

/// Slots a stack keeps across releases.
const STACK_KEEP: usize = 16;

/// A stack's first buffer.
const MIN_STACK_SLOTS: usize = 4;

fn table_block(slots: usize) -> usize {
    block(slots * size_of::<Vec<Bytes>>())
}

fn stack_block(slots: usize) -> usize {
    block(slots * size_of::<Bytes>())
}
