//! The topic index's hasher: fast, and seeded at random per store.
//!
//! SipHash showed in profiles of `bench store` (a topic is hashed on every insert). Topics come
//! from any client on the broker, so a fixed-key fast hash could be flooded with colliding
//! names; with secret random seeds (once per store) an attacker cannot aim at the collisions.
//! The seeds come from std's `RandomState` (SipHash keyed from the OS's randomness) rather than
//! `rand`: that makes no heap allocation, so a store holds no block it does not account for. The mixing is the folded multiply of foldhash and wyhash: 16 bytes per step, each
//! step one 64×64→128-bit multiply whose halves are xored, both factors keyed by the seeds.

use std::hash::{BuildHasher, Hasher, RandomState};

/// Builds [`TopicHasher`]s with this store's seeds.
#[derive(Debug, Clone)]
pub(super) struct TopicHashing {
    seed: u64,
    key: u64,
}

impl TopicHashing {
    pub(super) fn random() -> Self {
        // Each `RandomState::new()` differs from the last (the keys step per call), so stores do too.
        let secret = RandomState::new();
        TopicHashing { seed: secret.hash_one(0u64), key: secret.hash_one(1u64) }
    }

    /// Fixed seeds, for tests that need the same hashes twice.
    #[cfg(test)]
    pub(super) fn with_seeds(seed: u64, key: u64) -> Self {
        TopicHashing { seed, key }
    }
}

impl BuildHasher for TopicHashing {
    type Hasher = TopicHasher;

    fn build_hasher(&self) -> TopicHasher {
        TopicHasher { state: self.seed, key: self.key }
    }
}

#[derive(Debug, Clone)]
pub(super) struct TopicHasher {
    state: u64,
    key: u64,
}

/// An odd constant (the fractional part of pi) that keeps a zero length from zeroing a factor.
const LENGTH_MIX: u64 = 0x243F_6A88_85A3_08D3;

fn folded_multiply(x: u64, y: u64) -> u64 {
    let full = u128::from(x) * u128::from(y);
    // The halves of the product, xored: the high half carries the well-mixed bits.
    (full as u64) ^ ((full >> 64) as u64)
}

/// Eight bytes from `bytes[at..]` (the caller checks the length).
fn word(bytes: &[u8], at: usize) -> u64 {
    let mut buffer = [0u8; 8];
    buffer.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(buffer)
}

/// Up to 7 bytes read as one number: the first, middle and last (wyhash's trick for short keys);
/// the length is mixed in by the caller, so different lengths cannot collide here.
fn short(bytes: &[u8]) -> u64 {
    match bytes.len() {
        0 => 0,
        len @ 1..4 => {
            u64::from(bytes[0]) | u64::from(bytes[len / 2]) << 8 | u64::from(bytes[len - 1]) << 16
        }
        len => {
            let mut low = [0u8; 4];
            let mut high = [0u8; 4];
            low.copy_from_slice(&bytes[..4]);
            high.copy_from_slice(&bytes[len - 4..]);
            u64::from(u32::from_le_bytes(low)) | u64::from(u32::from_le_bytes(high)) << 32
        }
    }
}

impl Hasher for TopicHasher {
    fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        let mut state = self.state ^ (len as u64).wrapping_mul(LENGTH_MIX);
        let (a, b) = if len <= 16 {
            if len >= 8 { (word(bytes, 0), word(bytes, len - 8)) } else { (short(bytes), 0) }
        } else {
            let mut at = 0;
            while len - at > 16 {
                state = folded_multiply(word(bytes, at) ^ state, word(bytes, at + 8) ^ self.key);
                at += 16;
            }
            // The last 16 bytes, overlapping the previous step when the length is no multiple.
            (word(bytes, len - 16), word(bytes, len - 8))
        };
        self.state = folded_multiply(a ^ state, b ^ self.key);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}
