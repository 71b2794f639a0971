//! The message rate of the status bar.

use std::time::{Duration, Instant};

/// Messages per second over the last ten seconds, from the store's `received` counter sampled
/// about once a second. Gateways report in bursts (every 5 s, say): a one-second window would
/// read 0 most of the time.
#[derive(Debug, Default)]
pub(super) struct MessageRate {
    samples: std::collections::VecDeque<(Instant, u64)>,
    pub(super) per_sec: f64,
}

const RATE_WINDOW: Duration = Duration::from_secs(10);

impl MessageRate {
    pub(super) fn update(&mut self, received: u64, now: Instant) {
        if self.samples.back().is_some_and(|(at, _)| now.duration_since(*at) < Duration::from_secs(1)) {
            return;
        }
        self.samples.push_back((now, received));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW) {
            self.samples.pop_front();
        }
        if let (Some((first_at, first)), Some((last_at, last))) = (self.samples.front(), self.samples.back()) {
            let secs = last_at.duration_since(*first_at).as_secs_f64();
            // A cleared store counts from 0 again: no negative rate.
            self.per_sec = if secs > 0.0 { last.saturating_sub(*first) as f64 / secs } else { 0.0 };
        }
    }

    pub(super) fn reset(&mut self) {
        *self = MessageRate::default();
    }
}
