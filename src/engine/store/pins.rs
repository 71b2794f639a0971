//! Pins: topic prefixes (a gateway is `cems/v1/{pk}/{dev}/`) whose topics the user is looking at.
//! Pinned topics leave fair eviction and are never dropped whole; their history is evicted only
//! past the pinned share of the budget, or when nothing unpinned is left to evict.

use super::MessageStore;
use super::id::NodeId;

/// The share of the budget pinned topics may hold before their history is evicted.
pub const PINNED_SHARE_PERCENT: usize = 25;

impl MessageStore {
    /// Pins every topic that starts with `prefix`, held now or arriving later (a plain string
    /// prefix, not a filter). False when it was pinned already.
    pub fn pin(&mut self, prefix: &str) -> bool {
        if self.pins.iter().any(|pin| pin == prefix) {
            return false;
        }
        self.pins.push(prefix.to_string());
        for id in self.indexed_under(prefix) {
            self.set_pinned(id, true);
        }
        self.enforce_budget(None);
        true
    }

    /// Takes back a pin; topics under another pin stay pinned. False when it was not pinned.
    pub fn unpin(&mut self, prefix: &str) -> bool {
        let Some(position) = self.pins.iter().position(|pin| pin == prefix) else { return false };
        self.pins.remove(position);
        for id in self.indexed_under(prefix) {
            let still = self.path_of(id).is_some_and(|topic| self.pins.iter().any(|pin| topic.starts_with(pin.as_str())));
            if !still {
                self.set_pinned(id, false);
            }
        }
        self.enforce_budget(None);
        true
    }

    /// The pinned prefixes, in the order they were pinned.
    pub fn pinned(&self) -> &[String] {
        &self.pins
    }

    /// What pinned topics' messages cost: payloads plus [`MESSAGE_OVERHEAD_BYTES`] each.
    ///
    /// [`MESSAGE_OVERHEAD_BYTES`]: super::MESSAGE_OVERHEAD_BYTES
    pub fn pinned_bytes(&self) -> usize {
        self.pinned_bytes
    }

    /// The pinned share of the budget ([`PINNED_SHARE_PERCENT`]).
    pub fn pinned_budget(&self) -> usize {
        self.limits.total_bytes / 100 * PINNED_SHARE_PERCENT
    }

    /// Indexed topics starting with `prefix`. A scan of the index: pins change by hand, rarely.
    fn indexed_under(&self, prefix: &str) -> Vec<NodeId> {
        self.topic_index.iter().filter(|(topic, _)| topic.bytes().starts_with(prefix.as_bytes())).map(|(_, &id)| id).collect()
    }

    fn set_pinned(&mut self, id: NodeId, pinned: bool) {
        let node = &mut self.nodes[id.index()];
        if node.pinned == pinned {
            return;
        }
        node.pinned = pinned;
        let cost = node.messages_cost();
        if pinned {
            self.pinned_bytes += cost;
        } else {
            self.pinned_bytes -= cost;
            if node.is_topic() && !node.in_topic_queue {
                node.in_topic_queue = true;
                self.topic_queue.push_back(id);
            }
        }
        self.refile(id);
    }
}
