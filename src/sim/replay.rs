//! Duplicate requests (contract §3): a request id seen within 24 h gets its earlier reply again,
//! unchanged, instead of being acted on twice.
//!
//! Ids are unique per sender only, so two masters may both send id `"1"`. A request is a
//! duplicate when its class/action and its id both match an earlier one: that keeps different
//! requests from different masters apart, and a retry (same topic, same id) still replays.
//!
//! Bounded by count and by bytes: a master asking for big replies under ever new ids evicts the
//! oldest replies (a retry of one of those is then acted on again) instead of growing memory.

use std::collections::{HashMap, VecDeque};

use crate::protocol::envelope::Reply;

/// How long a reply is replayed.
pub const REPLAY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Replies remembered at most.
pub const REPLAY_CAPACITY: usize = 1_000;
/// Bytes of remembered replies (as serialised) at most.
pub const REPLAY_MAX_BYTES: usize = 8 * 1024 * 1024;

/// (class/action, request id).
type Key = (String, String);

#[derive(Debug, Clone, Default)]
pub struct ReplyCache {
    /// Oldest first: key, when it was answered, its size.
    order: VecDeque<(Key, i64, usize)>,
    replies: HashMap<Key, Reply>,
    bytes: usize,
}

fn key(what: &str, id: &str) -> Key {
    (what.to_owned(), id.to_owned())
}

impl ReplyCache {
    /// The reply already given to request `id` on `what` (class/action), if recent enough.
    pub fn get(&mut self, what: &str, id: &str, now_ms: i64) -> Option<&Reply> {
        self.expire(now_ms);
        self.replies.get(&key(what, id))
    }

    /// Remembers the reply to request `id` on `what`, `bytes` long as serialised, forgetting
    /// the oldest beyond the capacity. A reply over [`REPLAY_MAX_BYTES`] alone is not kept.
    pub fn insert(&mut self, what: &str, id: &str, reply: Reply, bytes: usize, now_ms: i64) {
        self.expire(now_ms);
        if bytes > REPLAY_MAX_BYTES || self.replies.contains_key(&key(what, id)) {
            return;
        }
        self.replies.insert(key(what, id), reply);
        self.order.push_back((key(what, id), now_ms, bytes));
        self.bytes += bytes;
        while self.order.len() > REPLAY_CAPACITY || self.bytes > REPLAY_MAX_BYTES {
            self.pop_oldest();
        }
    }

    /// Bytes of the replies remembered now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn pop_oldest(&mut self) {
        if let Some((old, _, bytes)) = self.order.pop_front() {
            self.replies.remove(&old);
            self.bytes -= bytes;
        }
    }

    pub fn len(&self) -> usize {
        self.replies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    fn expire(&mut self, now_ms: i64) {
        while let Some((_, at, _)) = self.order.front() {
            if now_ms.saturating_sub(*at) <= REPLAY_WINDOW_MS {
                break;
            }
            self.pop_oldest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounded_and_expiring() {
        let mut cache = ReplyCache::default();
        for i in 0..(REPLAY_CAPACITY + 10) {
            cache.insert("info/get", &i.to_string(), Reply::ok(i.to_string(), json!({})), 10, 0);
        }
        assert_eq!(cache.len(), REPLAY_CAPACITY);
        assert!(cache.get("info/get", "0", 0).is_none());
        assert!(cache.get("info/get", "10", 0).is_some());
        assert!(cache.get("info/get", "10", REPLAY_WINDOW_MS + 1).is_none());
        assert!(cache.is_empty());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn bounded_by_bytes() {
        let mut cache = ReplyCache::default();
        // 100 replies of 256 KiB each would be 25 MiB.
        for i in 0..100 {
            cache.insert("log/get", &i.to_string(), Reply::ok(i.to_string(), json!({})), 256 * 1024, 0);
        }
        assert!(cache.bytes() <= REPLAY_MAX_BYTES, "{}", cache.bytes());
        assert!(cache.get("log/get", "99", 0).is_some(), "the newest is kept");
        assert!(cache.get("log/get", "0", 0).is_none());
        cache.insert("log/get", "huge", Reply::ok("huge", json!({})), REPLAY_MAX_BYTES + 1, 0);
        assert!(cache.get("log/get", "huge", 0).is_none(), "too large to keep at all");
    }

    #[test]
    fn same_id_on_another_class_action_is_not_a_duplicate() {
        let mut cache = ReplyCache::default();
        cache.insert("point/get", "1", Reply::ok("1", json!({"points": []})), 10, 0);
        assert!(cache.get("info/get", "1", 0).is_none());
        assert_eq!(cache.get("point/get", "1", 0).map(|r| r.data.clone()), Some(json!({"points": []})));
    }
}
