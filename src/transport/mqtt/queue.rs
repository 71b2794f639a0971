//! What an MQTT link has yet to hand to rumqttc, in three lanes served in order: subscription
//! changes, essential publishes, bulk publishes. A flood of bulk publishes (discovery requests to
//! thousands of invented gateways) therefore never delays or pushes out an acknowledgement, a
//! reply or a user's request: each priority has its own caps (`MAX_PENDING_*` in `link.rs`).

use std::collections::VecDeque;
use std::sync::Arc;

use rumqttc::Request;
use tracing::warn;

use crate::transport::lane::{Lane, Priority};
use crate::transport::link::{
    LinkCounters, MAX_PENDING_BULK, MAX_PENDING_BULK_BYTES, MAX_PENDING_ESSENTIAL, MAX_PENDING_ESSENTIAL_BYTES, Message,
    Subscription,
};

/// A rumqttc publish as a link message.
pub(super) fn message_from(p: rumqttc::Publish) -> Message {
    Message { topic: p.topic, payload: p.payload, qos: p.qos as u8, retain: p.retain, skipped_bytes: None }
}

/// A request waiting to enter rumqttc's channel.
#[derive(Debug)]
pub(super) enum Outbound {
    Publish(Pending),
    Subscribe(Vec<Subscription>),
    Unsubscribe(Vec<String>),
}

/// A publish, its lane, and how often the connection was lost while it was out unacknowledged.
#[derive(Debug)]
pub(super) struct Pending {
    pub message: Message,
    pub strikes: u32,
    pub priority: Priority,
}

impl Outbound {
    /// Recovers what rumqttc handed back (its channel was full or gone), with the `strikes` and
    /// `priority` it had.
    pub fn from_request(request: Request, strikes: u32, priority: Priority) -> Option<Outbound> {
        match request {
            Request::Publish(p) => Some(Outbound::Publish(Pending { message: message_from(p), strikes, priority })),
            Request::Subscribe(s) => {
                Some(Outbound::Subscribe(s.filters.into_iter().map(|f| Subscription::new(f.path, f.qos as u8)).collect()))
            }
            Request::Unsubscribe(u) => Some(Outbound::Unsubscribe(u.topics)),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(super) struct OutQueue {
    /// Subscription changes: few, and cleared on every reconnect (re-sent from the filters).
    control: VecDeque<Outbound>,
    essential: Lane<Pending>,
    bulk: Lane<Pending>,
    counters: Arc<LinkCounters>,
    /// Bulk publishes dropped since the link was last up, for one log line when it is.
    pub bulk_dropped_since_up: u64,
}

impl OutQueue {
    pub fn new(counters: Arc<LinkCounters>) -> OutQueue {
        OutQueue::with_caps(counters, (MAX_PENDING_ESSENTIAL, MAX_PENDING_ESSENTIAL_BYTES), (MAX_PENDING_BULK, MAX_PENDING_BULK_BYTES))
    }

    /// (items, bytes) for each lane; tests use small ones.
    pub fn with_caps(counters: Arc<LinkCounters>, essential: (usize, usize), bulk: (usize, usize)) -> OutQueue {
        OutQueue {
            control: VecDeque::new(),
            essential: Lane::new(essential.0, essential.1),
            bulk: Lane::new(bulk.0, bulk.1),
            counters,
            bulk_dropped_since_up: 0,
        }
    }

    /// Queues a publish in its lane. Returns the essential publishes pushed out to make room
    /// (only under more than `MAX_PENDING_ESSENTIAL` of them), for the caller to report; bulk
    /// ones pushed out are only counted.
    pub fn push_publish(&mut self, message: Message, priority: Priority) -> Vec<Message> {
        let size = message.size();
        let pending = Pending { message, strikes: 0, priority };
        match priority {
            Priority::Essential => {
                let dropped = self.essential.push_back(pending, size);
                self.count_essential(dropped)
            }
            Priority::Bulk => {
                let dropped = self.bulk.push_back(pending, size).len() as u64;
                self.count_bulk(dropped);
                Vec::new()
            }
        }
    }

    fn count_essential(&mut self, dropped: Vec<Pending>) -> Vec<Message> {
        if !dropped.is_empty() {
            self.counters.add_essential(dropped.len() as u64);
        }
        dropped.into_iter().map(|p| p.message).collect()
    }

    fn count_bulk(&mut self, dropped: u64) {
        if dropped == 0 {
            return;
        }
        self.counters.add_bulk(dropped);
        let before = self.bulk_dropped_since_up;
        self.bulk_dropped_since_up += dropped;
        // Once, then every 1000: a long outage or a flood must not flood the log.
        if before / 1000 != self.bulk_dropped_since_up / 1000 || before == 0 {
            warn!(
                "more than {} bulk publishes pending: dropped the oldest ({} dropped so far)",
                self.bulk.len(),
                self.counters.get().bulk
            );
        }
    }

    /// A subscription change, after those already queued.
    pub fn push_control(&mut self, item: Outbound) {
        self.control.push_back(item);
    }

    /// On a ConnAck: drops stale subscription changes and puts the full list first.
    pub fn reset_control(&mut self, filters: &[Subscription]) {
        self.control.clear();
        if !filters.is_empty() {
            self.control.push_back(Outbound::Subscribe(filters.to_vec()));
        }
    }

    /// The next request: subscription changes, then essential, then bulk publishes.
    pub fn pop(&mut self) -> Option<Outbound> {
        if let Some(item) = self.control.pop_front() {
            return Some(item);
        }
        if let Some(p) = self.essential.pop_front() {
            return Some(Outbound::Publish(p));
        }
        self.bulk.pop_front().map(Outbound::Publish)
    }

    /// Puts back what `pop` gave (rumqttc's channel was full), at the front of its lane.
    pub fn put_back(&mut self, item: Outbound) {
        match item {
            Outbound::Publish(p) => {
                let size = p.message.size();
                match p.priority {
                    Priority::Essential => self.essential.push_front(p, size),
                    Priority::Bulk => self.bulk.push_front(p, size),
                }
            }
            control => self.control.push_front(control),
        }
    }

    /// Takes back, oldest first, the publishes rumqttc held when the connection was lost. They go
    /// before everything queued, as essential: rumqttc does not say which lane they came from,
    /// and there are at most its in-flight window and channel of them. Subscription changes are
    /// dropped (re-sent on the next ConnAck). Returns the essential publishes the caps pushed out.
    pub fn reclaim(&mut self, taken: Vec<Pending>) -> Vec<Message> {
        for mut pending in taken.into_iter().rev() {
            pending.priority = Priority::Essential;
            let size = pending.message.size();
            self.essential.push_front(pending, size);
        }
        self.control.clear();
        let dropped = self.essential.enforce();
        self.count_essential(dropped)
    }

    pub fn is_empty(&self) -> bool {
        self.control.is_empty() && self.essential.is_empty() && self.bulk.is_empty()
    }

    /// Publishes waiting: (essential, bulk).
    #[cfg(test)]
    pub fn publishes(&self) -> (usize, usize) {
        (self.essential.len(), self.bulk.len())
    }

    /// The oldest essential publish, for tests.
    #[cfg(test)]
    pub fn front_essential(&self) -> Option<&Pending> {
        self.essential.front()
    }

    #[cfg(test)]
    pub fn front_bulk(&self) -> Option<&Pending> {
        self.bulk.front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(topic: &str, i: usize) -> Message {
        Message::new(topic, i.to_string(), 1, false)
    }

    #[test]
    fn a_bulk_flood_never_pushes_out_essential_publishes() {
        let counters = Arc::new(LinkCounters::default());
        let mut queue = OutQueue::new(counters.clone());
        for i in 0..40_000 {
            if i % 2_000 == 0 {
                assert!(queue.push_publish(message("ack", i), Priority::Essential).is_empty());
            }
            assert!(queue.push_publish(message("bulk", i), Priority::Bulk).is_empty());
        }
        assert_eq!(queue.publishes(), (20, MAX_PENDING_BULK));
        assert_eq!(counters.get().bulk, 40_000 - MAX_PENDING_BULK as u64);
        assert_eq!(counters.get().essential, 0);
        // Essential first, in order, then the newest bulk ones.
        for i in 0..20 {
            let Some(Outbound::Publish(p)) = queue.pop() else { panic!("no publish") };
            assert_eq!((p.message.topic.as_str(), p.message.payload.clone()), ("ack", bytes::Bytes::from((i * 2_000).to_string())));
        }
        let Some(Outbound::Publish(p)) = queue.pop() else { panic!("no bulk publish") };
        assert_eq!(p.message.payload, (40_000 - MAX_PENDING_BULK).to_string());
    }

    #[test]
    fn essential_overflow_is_reported_oldest_first() {
        let counters = Arc::new(LinkCounters::default());
        let mut queue = OutQueue::with_caps(counters.clone(), (3, usize::MAX), (2, usize::MAX));
        for i in 0..3 {
            assert!(queue.push_publish(message("e", i), Priority::Essential).is_empty());
        }
        let dropped = queue.push_publish(message("e", 3), Priority::Essential);
        assert_eq!(dropped, vec![message("e", 0)]);
        assert_eq!(counters.get().essential, 1);
        // Putting back keeps the place; reclaimed ones go first and count against the cap.
        let Some(item) = queue.pop() else { panic!("empty") };
        queue.put_back(item);
        assert_eq!(queue.front_essential().map(|p| p.message.clone()), Some(message("e", 1)));
        let taken = vec![Pending { message: message("r", 9), strikes: 1, priority: Priority::Bulk }];
        assert_eq!(queue.reclaim(taken), vec![message("r", 9)]);
        assert_eq!(queue.publishes(), (3, 0));
        assert!(queue.front_bulk().is_none());
    }
}
