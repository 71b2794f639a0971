//! Asking newly announced gateways who they are (`info/get`, `ota/version/get`), at a bounded
//! rate: a flood of invented gateways must not crowd out the master's acknowledgements or the
//! user's requests. Each gateway is asked once; the ones waiting are queued, up to a cap.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::gateways::GatewayKey;
use super::requests::SessionId;

/// Gateways asked per second, on average.
pub const RATE_PER_SEC: f64 = 10.0;
/// Gateways asked at once after a quiet spell.
pub const BURST: f64 = 20.0;
/// Gateways waiting to be asked; past it a newly announced one is not asked (and is counted).
pub const QUEUE_CAPACITY: usize = 1_000;

/// The discovery queue and its token bucket.
#[derive(Debug)]
pub struct Discovery {
    queue: VecDeque<(SessionId, GatewayKey)>,
    /// Asked or queued: never twice.
    known: HashSet<GatewayKey>,
    tokens: f64,
    refilled: Instant,
    /// Announced gateways not asked because the queue was full.
    pub dropped: u64,
}

impl Discovery {
    pub fn new(now: Instant) -> Self {
        Discovery { queue: VecDeque::new(), known: HashSet::new(), tokens: BURST, refilled: now, dropped: 0 }
    }

    /// Queues `key` unless it was asked or queued already; false when the queue is full.
    pub fn want(&mut self, session: SessionId, key: &GatewayKey) -> bool {
        if self.known.contains(key) {
            return true;
        }
        if self.queue.len() >= QUEUE_CAPACITY {
            self.dropped += 1;
            return false;
        }
        self.known.insert(key.clone());
        self.queue.push_back((session, key.clone()));
        true
    }

    /// The gateways to ask now, as many as the bucket allows.
    pub fn due(&mut self, now: Instant) -> Vec<(SessionId, GatewayKey)> {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * RATE_PER_SEC).min(BURST);
        self.refilled = now;
        let mut out = Vec::new();
        while self.tokens >= 1.0 {
            let Some(next) = self.queue.pop_front() else { break };
            self.tokens -= 1.0;
            out.push(next);
        }
        out
    }

    /// When the next queued gateway may be asked; `None` with nothing queued.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.queue.is_empty() {
            return None;
        }
        let wait = ((1.0 - self.tokens).max(0.0) / RATE_PER_SEC).max(0.001);
        Some(self.refilled + Duration::from_secs_f64(wait))
    }

    /// Gateways waiting.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> GatewayKey {
        GatewayKey { pk: "PK".into(), dev: format!("GW-{i}") }
    }

    #[test]
    fn a_flood_is_asked_at_the_rate_and_the_rest_is_capped() {
        let t0 = Instant::now();
        let mut d = Discovery::new(t0);
        for i in 0..5_000 {
            d.want(1, &key(i));
        }
        assert_eq!(d.queued(), QUEUE_CAPACITY);
        assert_eq!(d.dropped, 5_000 - QUEUE_CAPACITY as u64);
        assert_eq!(d.due(t0).len(), BURST as usize, "a burst at once");
        assert!(d.due(t0).is_empty());
        let next = d.next_deadline().unwrap();
        assert!(next > t0);
        // One second later: RATE_PER_SEC more.
        assert_eq!(d.due(t0 + Duration::from_secs(1)).len(), RATE_PER_SEC as usize);
        // A gateway is never asked twice.
        assert!(d.want(1, &key(0)));
        assert_eq!(d.queued(), QUEUE_CAPACITY - BURST as usize - RATE_PER_SEC as usize);
    }
}
