//! The topic index's key: the full topic, inline in the table entry when it is short.
//!
//! Every insert looks its topic up, and with the key in its own heap block the comparison that
//! confirms a hit read a cold line (a tenth of an insert's cost in `bench store` profiles).
//! Inline, the key sits in the entry the lookup has just read. Longer topics keep a block.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Topics up to this long are kept in the entry: room for `cems/v1/{pk}/{dev}/up/...` with
/// product keys and device names of ten characters or so; the key is 48 bytes either way (a
/// longer inline key would weigh on small stores, whose index table is a large share).
const INLINE_BYTES: usize = 46;

#[derive(Debug, Clone)]
pub(super) enum TopicKey {
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    Heap(Box<str>),
}

impl TopicKey {
    pub(super) fn new(topic: &str) -> Self {
        if topic.len() <= INLINE_BYTES {
            let mut bytes = [0u8; INLINE_BYTES];
            bytes[..topic.len()].copy_from_slice(topic.as_bytes());
            // At most INLINE_BYTES, which fits in a byte.
            TopicKey::Inline { len: topic.len() as u8, bytes }
        } else {
            TopicKey::Heap(topic.into())
        }
    }

    /// The topic's bytes: what the index hashes and compares (lookups go by `topic.as_bytes()`).
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            TopicKey::Inline { len, bytes } => &bytes[..usize::from(*len)],
            TopicKey::Heap(topic) => topic.as_bytes(),
        }
    }

    /// The topic; a key is only ever made from a `str`, so the fallback is never taken.
    #[cfg(test)]
    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes()).unwrap_or_default()
    }

    /// The size of the key's own heap block for `topic` (0 when inline), for the accounting.
    pub(super) fn heap_len(topic: &str) -> usize {
        if topic.len() > INLINE_BYTES { topic.len() } else { 0 }
    }
}

impl PartialEq for TopicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for TopicKey {}

impl Hash for TopicKey {
    // As the bytes it holds: lookups go by `&[u8]` (see `Borrow`).
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl Borrow<[u8]> for TopicKey {
    fn borrow(&self) -> &[u8] {
        self.bytes()
    }
}
