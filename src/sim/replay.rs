//! Duplicate requests (contract §3): a request id seen within 24 h gets its earlier reply again,
//! unchanged, instead of being acted on twice.
//!
//! Ids are unique per sender only, so two masters may both send id `"1"`. A request is a
//! duplicate when its class/action and its id both match an earlier one: that keeps different
//! requests from different masters apart, and a retry (same topic, same id) still replays.

use std::collections::{HashMap, VecDeque};

use crate::protocol::envelope::Reply;

/// How long a reply is replayed.
pub const REPLAY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Replies remembered at most.
pub const REPLAY_CAPACITY: usize = 1_000;

/// (class/action, request id).
type Key = (String, String);

#[derive(Debug, Clone, Default)]
pub struct ReplyCache {
    order: VecDeque<(Key, i64)>,
    replies: HashMap<Key, Reply>,
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

    /// Remembers the reply to request `id` on `what`, forgetting the oldest beyond the capacity.
    pub fn insert(&mut self, what: &str, id: &str, reply: Reply, now_ms: i64) {
        self.expire(now_ms);
        if self.replies.insert(key(what, id), reply).is_none() {
            self.order.push_back((key(what, id), now_ms));
        }
        while self.order.len() > REPLAY_CAPACITY {
            if let Some((old, _)) = self.order.pop_front() {
                self.replies.remove(&old);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.replies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }

    fn expire(&mut self, now_ms: i64) {
        while let Some((key, at)) = self.order.front() {
            if now_ms - at <= REPLAY_WINDOW_MS {
                break;
            }
            self.replies.remove(key);
            self.order.pop_front();
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
            cache.insert("info/get", &i.to_string(), Reply::ok(i.to_string(), json!({})), 0);
        }
        assert_eq!(cache.len(), REPLAY_CAPACITY);
        assert!(cache.get("info/get", "0", 0).is_none());
        assert!(cache.get("info/get", "10", 0).is_some());
        assert!(cache.get("info/get", "10", REPLAY_WINDOW_MS + 1).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn same_id_on_another_class_action_is_not_a_duplicate() {
        let mut cache = ReplyCache::default();
        cache.insert("point/get", "1", Reply::ok("1", json!({"points": []})), 0);
        assert!(cache.get("info/get", "1", 0).is_none());
        assert_eq!(cache.get("point/get", "1", 0).map(|r| r.data.clone()), Some(json!({"points": []})));
    }
}
