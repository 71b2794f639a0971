//! Duplicate requests (contract §3): a request id seen within 24 h gets its earlier reply again,
//! unchanged, instead of being acted on twice.

use std::collections::{HashMap, VecDeque};

use crate::protocol::envelope::Reply;

/// How long a reply is replayed.
pub const REPLAY_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// Replies remembered at most.
pub const REPLAY_CAPACITY: usize = 1_000;

#[derive(Debug, Clone, Default)]
pub struct ReplyCache {
    order: VecDeque<(String, i64)>,
    replies: HashMap<String, Reply>,
}

impl ReplyCache {
    /// The reply already given to request `id`, if it is recent enough.
    pub fn get(&mut self, id: &str, now_ms: i64) -> Option<&Reply> {
        self.expire(now_ms);
        self.replies.get(id)
    }

    /// Remembers the reply to request `id`, forgetting the oldest beyond the capacity.
    pub fn insert(&mut self, id: &str, reply: Reply, now_ms: i64) {
        self.expire(now_ms);
        if self.replies.insert(id.to_owned(), reply).is_none() {
            self.order.push_back((id.to_owned(), now_ms));
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
        while let Some((id, at)) = self.order.front() {
            if now_ms - at <= REPLAY_WINDOW_MS {
                break;
            }
            self.replies.remove(id);
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
            cache.insert(&i.to_string(), Reply::ok(i.to_string(), json!({})), 0);
        }
        assert_eq!(cache.len(), REPLAY_CAPACITY);
        assert!(cache.get("0", 0).is_none());
        assert!(cache.get("10", 0).is_some());
        assert!(cache.get("10", REPLAY_WINDOW_MS + 1).is_none());
        assert!(cache.is_empty());
    }
}
