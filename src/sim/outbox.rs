//! Requests the gateway sends and waits on (`alarm/report`, `history/report`, chunk requests,
//! `time/sync`): a retried request reuses its id (contract §3) after the reply timeout
//! (`RETRY_AFTER` unless tuned); resends pause while the link is down and resume on reconnect.
//! `time/sync` is the exception: its timestamps are only worth something fresh, so it is never
//! resent as it was; an unanswered one is given up at once for a new attempt with a new id.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// Reply timeout before a resend (contract §3 default).
pub const RETRY_AFTER: Duration = Duration::from_secs(10);
/// Sends of one request id before giving up on it.
pub const MAX_TRIES: u32 = 3;

/// What an outstanding request is for; decides what its reply or its giving up means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    Alarm,
    /// Outage history is never given up: a batch is deleted only once acknowledged. A recall
    /// batch (`recall`) is given up like any other request, and the recall with it.
    History { batch_id: String, recall: bool },
    /// `ota/chunk/get` (`ota` true) or `file/chunk/get` of transfer `id`.
    Chunk { ota: bool, id: String, offset: u64 },
    /// Attempt `attempt` (from 1) of a `time/sync` sent at `t1`.
    TimeSync { t1: i64, attempt: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub id: String,
    pub topic: String,
    pub payload: Bytes,
    pub tries: u32,
    pub deadline: Instant,
    pub purpose: Purpose,
}

/// What the timer decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// Send `payload` to `topic` again (same id).
    Resend { topic: String, payload: Bytes, purpose: Purpose },
    /// No reply after `MAX_TRIES` sends: dropped from the outbox.
    GaveUp(Pending),
}

#[derive(Debug, Clone)]
pub struct Outbox {
    pending: Vec<Pending>,
    retry_after: Duration,
}

impl Default for Outbox {
    fn default() -> Outbox {
        Outbox::new(RETRY_AFTER)
    }
}

impl Outbox {
    /// An outbox that waits `retry_after` for each reply.
    pub fn new(retry_after: Duration) -> Outbox {
        Outbox { pending: Vec::new(), retry_after }
    }

    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Records a request just sent (or queued while offline: `sent` false counts no try).
    pub fn insert(&mut self, id: String, topic: String, payload: Bytes, purpose: Purpose, now: Instant, sent: bool) {
        self.pending.push(Pending { id, topic, payload, tries: u32::from(sent), deadline: now + self.retry_after, purpose });
    }

    /// Takes the request a reply answers.
    pub fn take(&mut self, id: &str) -> Option<Pending> {
        let at = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(at))
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes every request for which `which` holds.
    pub fn take_if(&mut self, which: impl Fn(&Pending) -> bool) -> Vec<Pending> {
        let (taken, kept) = self.pending.drain(..).partition(|p| which(p));
        self.pending = kept;
        taken
    }

    /// True when a request for `purpose` is outstanding.
    #[cfg(test)]
    pub fn has(&self, purpose: impl Fn(&Purpose) -> bool) -> bool {
        self.pending.iter().any(|p| purpose(&p.purpose))
    }

    /// Drops every request for which `purpose` holds (a transfer that ended).
    pub fn forget(&mut self, purpose: impl Fn(&Purpose) -> bool) {
        self.pending.retain(|p| !purpose(&p.purpose));
    }

    /// Requests whose reply is overdue at `now`: resent, or given up after `MAX_TRIES`.
    pub fn due(&mut self, now: Instant) -> Vec<Due> {
        let mut out = Vec::new();
        let mut kept = Vec::with_capacity(self.pending.len());
        for mut p in self.pending.drain(..) {
            if now < p.deadline {
                kept.push(p);
                continue;
            }
            let unlimited = matches!(p.purpose, Purpose::History { recall: false, .. });
            let fresh_each_try = matches!(p.purpose, Purpose::TimeSync { .. });
            if fresh_each_try || (p.tries >= MAX_TRIES && !unlimited) {
                out.push(Due::GaveUp(p));
                continue;
            }
            p.tries += 1;
            p.deadline = now + self.retry_after;
            out.push(Due::Resend { topic: p.topic.clone(), payload: p.payload.clone(), purpose: p.purpose.clone() });
            kept.push(p);
        }
        self.pending = kept;
        out
    }

    /// After a reconnect: everything outstanding goes out again now (same ids), and the reply
    /// clock restarts; the time spent offline does not count against the tries. A `time/sync`
    /// is not resent (its t1 is stale): the caller sends a fresh one.
    pub fn resend_all(&mut self, now: Instant) -> Vec<(String, Bytes)> {
        let retry_after = self.retry_after;
        self.pending
            .iter_mut()
            .filter_map(|p| {
                p.tries = p.tries.max(1);
                p.deadline = now + retry_after;
                (!matches!(p.purpose, Purpose::TimeSync { .. })).then(|| (p.topic.clone(), p.payload.clone()))
            })
            .collect()
    }

    /// While the link is down nothing times out: every deadline moves to `now` + the timeout.
    pub fn hold(&mut self, now: Instant) {
        for p in &mut self.pending {
            p.deadline = now + self.retry_after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_with_the_same_id_then_gives_up() {
        let t0 = Instant::now();
        let mut outbox = Outbox::default();
        outbox.insert("a1".into(), "t/alarm".into(), Bytes::from_static(b"{}"), Purpose::Alarm, t0, true);
        outbox.insert("h1".into(), "t/history".into(), Bytes::from_static(b"{}"), Purpose::History { batch_id: "b".into(), recall: false }, t0, true);
        outbox.insert("h2".into(), "t/recall".into(), Bytes::from_static(b"{}"), Purpose::History { batch_id: "r".into(), recall: true }, t0, true);
        assert!(outbox.due(t0 + Duration::from_secs(9)).is_empty());
        let mut t = t0;
        let mut resends = 0;
        let mut gave_up = Vec::new();
        for _ in 0..6 {
            t += RETRY_AFTER;
            for d in outbox.due(t) {
                match d {
                    Due::Resend { .. } => resends += 1,
                    Due::GaveUp(p) => gave_up.push(p.id),
                }
            }
        }
        assert_eq!(gave_up, ["a1", "h2"], "the alarm and the recall go after 3 sends, outage history never");
        assert_eq!(resends, 2 + 6 + 2);
        assert!(outbox.take("h1").is_some());
        assert!(outbox.is_empty());
    }

    #[test]
    fn an_unanswered_time_sync_is_given_up_at_once_never_resent_as_it_was() {
        let t0 = Instant::now();
        let mut outbox = Outbox::new(Duration::from_secs(2));
        outbox.insert("s1".into(), "t/time".into(), Bytes::from_static(b"{}"), Purpose::TimeSync { t1: 5, attempt: 1 }, t0, true);
        outbox.insert("a1".into(), "t/alarm".into(), Bytes::from_static(b"{}"), Purpose::Alarm, t0, true);
        assert!(outbox.resend_all(t0).iter().all(|(topic, _)| topic != "t/time"), "a reconnect does not resend a stale t1");
        assert!(outbox.due(t0 + Duration::from_secs(1)).is_empty());
        let due = outbox.due(t0 + Duration::from_secs(2));
        assert_eq!(due.len(), 2);
        assert!(due.iter().any(|d| matches!(d, Due::GaveUp(p) if p.id == "s1")), "{due:?}");
        assert!(due.iter().any(|d| matches!(d, Due::Resend { topic, .. } if topic == "t/alarm")), "{due:?}");
        assert!(!outbox.has(|p| matches!(p, Purpose::TimeSync { .. })));
    }

    #[test]
    fn reconnect_resends_everything() {
        let t0 = Instant::now();
        let mut outbox = Outbox::default();
        outbox.insert("c1".into(), "t".into(), Bytes::new(), Purpose::Chunk { ota: true, id: "t".into(), offset: 0 }, t0, false);
        outbox.hold(t0 + Duration::from_secs(100));
        assert!(outbox.due(t0 + Duration::from_secs(105)).is_empty());
        assert_eq!(outbox.resend_all(t0).len(), 1);
        assert!(outbox.has(|p| matches!(p, Purpose::Chunk { .. })));
        outbox.forget(|p| matches!(p, Purpose::Chunk { .. }));
        assert!(outbox.is_empty());
        outbox.insert("a".into(), "t/alarm".into(), Bytes::new(), Purpose::Alarm, t0, true);
        outbox.insert("b".into(), "t/other".into(), Bytes::new(), Purpose::Alarm, t0, true);
        assert_eq!(outbox.take_if(|p| p.topic == "t/alarm").iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(outbox.take("b").is_some());
    }
}
