//! What the embedded broker holds for all its clients together, counted against its limits:
//! retained messages (count and bytes), distinct topics and subscription filters. rumqttd keeps
//! each of these until the process ends and has no setting for any, so the relay asks this
//! ledger before passing a client's PUBLISH, SUBSCRIBE or will on. It lives as long as rumqttd
//! (across `restart`), as what it counts does.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use tracing::warn;

/// The caps, from `BrokerConfig`.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_retained_messages: usize,
    pub max_retained_bytes: usize,
    pub max_topics: usize,
    pub max_filters: usize,
}

/// What to do with a PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    /// Forward without the retain flag: delivered live, not stored. `clear_old`: a retained
    /// message on that topic is stored and would now be stale, so clear it first.
    NotRetained { clear_old: bool },
    /// Do not forward: a new topic beyond `max_topics`.
    Drop,
}

/// What to do with a CONNECT's will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WillVerdict {
    Keep,
    NotRetained,
    /// Take the will out: its topic would be new beyond `max_topics`.
    Remove,
}

#[derive(Debug)]
pub struct Ledger {
    caps: Caps,
    /// Topic → bytes (topic and payload) of the retained message rumqttd holds for it.
    retained: HashMap<String, usize>,
    retained_bytes: usize,
    topics: HashSet<String>,
    filters: HashSet<String>,
    /// Refusals so far, for a log line once and then every 1000.
    refused_retained: u64,
    dropped_topics: u64,
    refused_filters: u64,
}

/// True on the first and then every 1000th event: a flood must not flood the log.
fn worth_logging(count: u64) -> bool {
    count % 1000 == 1
}

impl Ledger {
    pub fn new(caps: Caps) -> Ledger {
        Ledger {
            caps,
            retained: HashMap::new(),
            retained_bytes: 0,
            topics: HashSet::new(),
            filters: HashSet::new(),
            refused_retained: 0,
            dropped_topics: 0,
            refused_filters: 0,
        }
    }

    /// Counts `topic` in, or false when it is new and there is no room.
    fn admit_topic(&mut self, topic: &str) -> bool {
        if self.topics.contains(topic) {
            return true;
        }
        if self.topics.len() >= self.caps.max_topics {
            return false;
        }
        self.topics.insert(topic.to_string());
        true
    }

    /// Records a retained message of `payload_len` bytes on `topic` if it fits; false otherwise
    /// (a stored one for that topic is then forgotten: the caller clears it at rumqttd).
    fn admit_retained(&mut self, topic: &str, payload_len: usize) -> bool {
        let size = topic.len() + payload_len;
        let old = self.retained.get(topic).copied();
        let count_ok = old.is_some() || self.retained.len() < self.caps.max_retained_messages;
        let bytes_ok = self.retained_bytes - old.unwrap_or(0) + size <= self.caps.max_retained_bytes;
        if count_ok && bytes_ok {
            self.retained_bytes = self.retained_bytes - old.unwrap_or(0) + size;
            self.retained.insert(topic.to_string(), size);
            return true;
        }
        self.forget_retained(topic);
        false
    }

    fn forget_retained(&mut self, topic: &str) {
        if let Some(size) = self.retained.remove(topic) {
            self.retained_bytes -= size;
        }
    }

    pub fn publish(&mut self, peer: SocketAddr, topic: &str, retain: bool, payload_len: usize) -> Verdict {
        if !self.admit_topic(topic) {
            self.dropped_topics += 1;
            if worth_logging(self.dropped_topics) {
                warn!(
                    "embedded broker: dropped a publish from {peer} to {topic}: more than {} distinct topics ({} dropped so far)",
                    self.caps.max_topics, self.dropped_topics
                );
            }
            return Verdict::Drop;
        }
        // rumqttd clears a topic's retained message on any empty payload, retain flag or not.
        if payload_len == 0 {
            self.forget_retained(topic);
            return Verdict::Forward;
        }
        if !retain {
            return Verdict::Forward;
        }
        let had_old = self.retained.contains_key(topic);
        if self.admit_retained(topic, payload_len) {
            return Verdict::Forward;
        }
        self.refused_retained += 1;
        if worth_logging(self.refused_retained) {
            warn!(
                "embedded broker: not retaining a message from {peer} on {topic}: over {} retained messages or {} bytes ({} refused so far)",
                self.caps.max_retained_messages, self.caps.max_retained_bytes, self.refused_retained
            );
        }
        Verdict::NotRetained { clear_old: had_old }
    }

    /// A will is published by rumqttd itself when its client vanishes, past the relay: it is
    /// counted when the CONNECT goes through, as the retained message it may become.
    pub fn will(&mut self, peer: SocketAddr, topic: &str, retain: bool, payload_len: usize) -> WillVerdict {
        if !self.admit_topic(topic) {
            self.dropped_topics += 1;
            warn!("embedded broker: removed the will of {peer} on {topic}: more than {} distinct topics", self.caps.max_topics);
            return WillVerdict::Remove;
        }
        if !retain || payload_len == 0 || self.admit_retained(topic, payload_len) {
            return WillVerdict::Keep;
        }
        self.refused_retained += 1;
        warn!("embedded broker: the will of {peer} on {topic} will not be retained: over the retained limits");
        WillVerdict::NotRetained
    }

    /// Counts the filters of one SUBSCRIBE in; false (and none counted) when the new ones do not
    /// fit. rumqttd keeps a log per distinct filter ever subscribed, so they are never counted out.
    pub fn subscribe(&mut self, peer: SocketAddr, filters: &[String]) -> bool {
        let new: HashSet<&String> = filters.iter().filter(|f| !self.filters.contains(*f)).collect();
        if self.filters.len() + new.len() > self.caps.max_filters {
            self.refused_filters += 1;
            if worth_logging(self.refused_filters) {
                warn!(
                    "embedded broker: refused a SUBSCRIBE from {peer}: more than {} distinct subscription filters ({} refused so far)",
                    self.caps.max_filters, self.refused_filters
                );
            }
            return false;
        }
        let new: Vec<String> = new.into_iter().cloned().collect();
        self.filters.extend(new);
        true
    }

    #[cfg(test)]
    pub fn retained(&self) -> (usize, usize) {
        (self.retained.len(), self.retained_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    fn ledger() -> Ledger {
        Ledger::new(Caps { max_retained_messages: 2, max_retained_bytes: 100, max_topics: 4, max_filters: 2 })
    }

    #[test]
    fn retained_count_and_bytes_stay_within_the_caps() {
        let mut l = ledger();
        assert_eq!(l.publish(peer(), "a", true, 10), Verdict::Forward);
        assert_eq!(l.publish(peer(), "b", true, 10), Verdict::Forward);
        assert_eq!(l.publish(peer(), "c", true, 10), Verdict::NotRetained { clear_old: false });
        assert_eq!(l.publish(peer(), "c", false, 10), Verdict::Forward);
        // Replacing is fine at the count cap; over the byte cap the old one goes too.
        assert_eq!(l.publish(peer(), "a", true, 20), Verdict::Forward);
        assert_eq!(l.retained(), (2, 21 + 11));
        assert_eq!(l.publish(peer(), "a", true, 99), Verdict::NotRetained { clear_old: true });
        assert_eq!(l.retained(), (1, 11));
        // An empty payload clears.
        assert_eq!(l.publish(peer(), "b", false, 0), Verdict::Forward);
        assert_eq!(l.retained(), (0, 0));
    }

    #[test]
    fn new_topics_beyond_the_cap_are_dropped_and_wills_removed() {
        let mut l = ledger();
        for t in ["a", "b", "c", "d"] {
            assert_eq!(l.publish(peer(), t, false, 1), Verdict::Forward);
        }
        assert_eq!(l.publish(peer(), "e", false, 1), Verdict::Drop);
        assert_eq!(l.publish(peer(), "a", false, 1), Verdict::Forward);
        assert_eq!(l.will(peer(), "e", true, 1), WillVerdict::Remove);
        assert_eq!(l.will(peer(), "a", true, 1), WillVerdict::Keep);
        assert_eq!(l.will(peer(), "b", true, 1), WillVerdict::Keep);
        assert_eq!(l.will(peer(), "c", true, 1), WillVerdict::NotRetained);
    }

    #[test]
    fn filters_are_counted_per_distinct_filter() {
        let mut l = ledger();
        assert!(l.subscribe(peer(), &["x/#".into(), "x/#".into()]));
        assert!(l.subscribe(peer(), &["y/#".into()]));
        assert!(!l.subscribe(peer(), &["x/#".into(), "z/#".into()]));
        assert!(l.subscribe(peer(), &["x/#".into(), "y/#".into()]));
    }
}
