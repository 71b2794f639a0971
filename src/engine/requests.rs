//! Requests in flight: correlation of replies by `id` and the topic they come back on,
//! timeouts, and what the caller gets back.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::protocol::codes;
use crate::protocol::envelope::IdGenerator;

/// Identifies one connection of the engine.
pub type SessionId = u32;

/// The default reply timeout (contract §3).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A request to a gateway.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub session: SessionId,
    pub pk: String,
    pub dev: String,
    pub class: String,
    pub action: String,
    pub data: Value,
    pub timeout: Duration,
    /// Reuse this id (a retry, contract §3); a fresh one otherwise.
    pub id: Option<String>,
    /// Sent in the link's bulk lane: dropped, oldest first, before any acknowledgement or user
    /// request is (the master's own discovery).
    pub bulk: bool,
}

/// A fresh request id (label `wb`, 96 random bits), for a face that must know the id of what it
/// asks before the engine sends it: a form finds its own outcome in the request log by it.
pub fn new_request_id() -> String {
    static IDS: std::sync::OnceLock<IdGenerator> = std::sync::OnceLock::new();
    IDS.get_or_init(|| IdGenerator::new("wb")).next_id()
}

impl RequestSpec {
    /// The same request with a fresh id set; read it back from `spec.id`.
    pub fn with_fresh_id(mut self) -> Self {
        self.id = Some(new_request_id());
        self
    }

    pub fn new(session: SessionId, pk: &str, dev: &str, class: &str, action: &str, data: Value) -> Self {
        RequestSpec {
            session,
            pk: pk.into(),
            dev: dev.into(),
            class: class.into(),
            action: action.into(),
            data,
            timeout: DEFAULT_TIMEOUT,
            id: None,
            bulk: false,
        }
    }
}


/// The gateway's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyInfo {
    pub code: i64,
    /// The code's name from the contract table (`ok`, `checksum`, `vendor`, …).
    pub name: &'static str,
    pub msg: Option<String>,
    pub data: Value,
}

/// Why no answer came.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestFailure {
    #[error("no reply within {after_ms} ms")]
    Timeout { after_ms: u64 },
    #[error("session {0} does not exist")]
    NoSession(SessionId),
    #[error("link closed: {0}")]
    LinkClosed(String),
    #[error("cannot send: {0}")]
    Encode(String),
    #[error("superseded by a retry with the same id")]
    Superseded,
    /// The session is marked read-only (a live site): nothing but the master's duties goes out.
    #[error("session {0} is read-only: nothing is sent")]
    ReadOnly(SessionId),
}

/// The longest a request is followed.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The end of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestOutcome {
    pub id: String,
    pub session: SessionId,
    pub pk: String,
    pub dev: String,
    pub class: String,
    pub action: String,
    pub result: Result<ReplyInfo, RequestFailure>,
    /// From publish to reply (or to the failure).
    pub latency_ms: f64,
}

impl RequestOutcome {
    /// The reply's code, when there was a reply.
    pub fn code(&self) -> Option<i64> {
        self.result.as_ref().ok().map(|r| r.code)
    }

    /// The spec to send the same request again with the same id (contract §3: a retry reuses it).
    pub fn retry_spec(&self, data: Value, timeout: Duration) -> RequestSpec {
        RequestSpec {
            session: self.session,
            pk: self.pk.clone(),
            dev: self.dev.clone(),
            class: self.class.clone(),
            action: self.action.clone(),
            data,
            timeout,
            id: Some(self.id.clone()),
            bulk: false,
        }
    }
}

struct Pending {
    spec: RequestSpec,
    started: Instant,
    deadline: Instant,
    reply: Option<oneshot::Sender<RequestOutcome>>,
}

/// Where a reply came from, read off its topic and link. It answers a request only when all of
/// it matches what the request was sent to: another gateway's reply topic, another class or
/// another link carrying the same id is someone else's (or a forgery), never this answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplySource<'a> {
    pub session: SessionId,
    pub pk: &'a str,
    pub dev: &'a str,
    pub class: &'a str,
    pub action: &'a str,
}

impl ReplySource<'_> {
    fn answers(&self, spec: &RequestSpec) -> bool {
        self.session == spec.session && self.pk == spec.pk && self.dev == spec.dev && self.class == spec.class && self.action == spec.action
    }
}

/// The table of requests waiting for a reply. Lookups by id are O(1) and deadlines are kept
/// ordered, so neither a reply nor a turn of the loop costs time in the number pending (a flood
/// of 50,000 requests must not delay an alarm's acknowledgement by a scan per message).
#[derive(Default)]
pub struct PendingRequests {
    by_id: HashMap<String, Pending>,
    /// Every pending request's (deadline, id), earliest first; kept in step with `by_id`.
    deadlines: BTreeSet<(Instant, String)>,
    /// Replies that answered nothing pending (no such id, or from the wrong topic or link).
    unmatched: u64,
}

/// A finished request and where to deliver it besides the event stream.
pub type Finished = (RequestOutcome, Option<oneshot::Sender<RequestOutcome>>);

impl PendingRequests {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Replies ignored so far because they answered no pending request.
    pub fn unmatched(&self) -> u64 {
        self.unmatched
    }

    /// Starts following a request. A retry with the same id while the first is still waiting
    /// ends the first as superseded (its caller hears so) and follows the retry.
    pub fn insert(&mut self, id: String, spec: RequestSpec, now: Instant, reply: Option<oneshot::Sender<RequestOutcome>>) -> Option<Finished> {
        // A caller's "no timeout" (Duration::MAX) must not overflow the clock: a day is plenty.
        let deadline = now.checked_add(spec.timeout.min(MAX_TIMEOUT)).unwrap_or(now);
        let previous = self.take(&id);
        self.deadlines.insert((deadline, id.clone()));
        self.by_id.insert(id.clone(), Pending { spec, started: now, deadline, reply });
        previous.map(|p| finish(id, p, Err(RequestFailure::Superseded), now))
    }

    /// Removes `id` from both structures.
    fn take(&mut self, id: &str) -> Option<Pending> {
        let pending = self.by_id.remove(id)?;
        self.deadlines.remove(&(pending.deadline, id.to_owned()));
        Some(pending)
    }

    /// The spec of a pending request.
    pub fn spec(&self, id: &str) -> Option<&RequestSpec> {
        self.by_id.get(id).map(|p| &p.spec)
    }

    /// A reply arrived for `id` from `from`. `None` when it answers nothing pending: nobody
    /// waits for that id (late, another master's, forged), or it came from another gateway's
    /// topic, another class/action or another link; the request then keeps waiting for its own
    /// answer.
    pub fn complete(&mut self, id: &str, from: &ReplySource<'_>, code: i64, msg: Option<String>, data: Value, now: Instant) -> Option<Finished> {
        if !self.by_id.get(id).is_some_and(|p| from.answers(&p.spec)) {
            self.unmatched += 1;
            return None;
        }
        let pending = self.take(id)?;
        let reply = ReplyInfo { code, name: codes::code_name(code), msg, data };
        Some(finish(id.to_owned(), pending, Ok(reply), now))
    }

    /// Ends a request that could not be sent.
    pub fn fail(&mut self, id: &str, failure: RequestFailure, now: Instant) -> Option<Finished> {
        let pending = self.take(id)?;
        Some(finish(id.to_owned(), pending, Err(failure), now))
    }

    /// Ends every request of a session (it was closed). Linear, but only when a link closes.
    pub fn fail_session(&mut self, session: SessionId, reason: &str, now: Instant) -> Vec<Finished> {
        let ids: Vec<String> = self.by_id.iter().filter(|(_, p)| p.spec.session == session).map(|(id, _)| id.clone()).collect();
        ids.iter().filter_map(|id| self.fail(id, RequestFailure::LinkClosed(reason.to_owned()), now)).collect()
    }

    /// Ends every request whose deadline has passed; costs only what expires.
    pub fn expire(&mut self, now: Instant) -> Vec<Finished> {
        let mut done = Vec::new();
        while let Some((deadline, _)) = self.deadlines.first()
            && *deadline <= now
        {
            let Some((_, id)) = self.deadlines.pop_first() else { break };
            let Some(pending) = self.by_id.remove(&id) else { continue };
            let after_ms = u64::try_from(pending.spec.timeout.as_millis()).unwrap_or(u64::MAX);
            done.push(finish(id, pending, Err(RequestFailure::Timeout { after_ms }), now));
        }
        done
    }

    /// The earliest deadline, to sleep until.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(deadline, _)| *deadline)
    }
}

fn finish(id: String, pending: Pending, result: Result<ReplyInfo, RequestFailure>, now: Instant) -> Finished {
    let spec = pending.spec;
    let outcome = RequestOutcome {
        id,
        session: spec.session,
        pk: spec.pk,
        dev: spec.dev,
        class: spec.class,
        action: spec.action,
        result,
        latency_ms: now.saturating_duration_since(pending.started).as_secs_f64() * 1000.0,
    };
    (outcome, pending.reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(timeout_ms: u64) -> RequestSpec {
        let mut s = RequestSpec::new(1, "PK", "GW", "info", "get", json!({}));
        s.timeout = Duration::from_millis(timeout_ms);
        s
    }

    /// The reply topic of `spec(…)`'s requests, on their link.
    const FROM: ReplySource<'static> = ReplySource { session: 1, pk: "PK", dev: "GW", class: "info", action: "get" };

    #[test]
    fn reply_completes_by_id_with_latency() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        assert!(p.insert("a".into(), spec(1000), t0, None).is_none());
        assert!(p.complete("b", &FROM, 0, None, json!({}), t0).is_none());
        let (out, _) = p.complete("a", &FROM, 9, Some("bad".into()), json!({}), t0 + Duration::from_millis(12)).unwrap();
        assert_eq!(out.code(), Some(9));
        assert_eq!(out.result.as_ref().unwrap().name, "checksum");
        assert!((out.latency_ms - 12.0).abs() < 0.001);
        assert!(p.is_empty());
    }

    #[test]
    fn timeouts_carry_the_request_id() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        p.insert("slow".into(), spec(100), t0, None);
        p.insert("later".into(), spec(500), t0, None);
        assert_eq!(p.next_deadline(), Some(t0 + Duration::from_millis(100)));
        let done = p.expire(t0 + Duration::from_millis(150));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].0.id, "slow");
        assert_eq!(done[0].0.result, Err(RequestFailure::Timeout { after_ms: 100 }));
        assert_eq!(p.len(), 1);
        assert_eq!(p.fail_session(1, "closed", t0).len(), 1);
    }

    #[test]
    fn a_retry_while_pending_supersedes_and_huge_timeouts_do_not_overflow() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        let mut forever = spec(0);
        forever.timeout = Duration::MAX;
        assert!(p.insert("x".into(), forever.clone(), t0, None).is_none());
        let (first, _) = p.insert("x".into(), forever, t0, None).unwrap();
        assert_eq!(first.result, Err(RequestFailure::Superseded));
        assert_eq!(p.len(), 1);
        assert!(p.next_deadline().is_some_and(|d| d > t0 + Duration::from_secs(3600)));
    }

    #[test]
    fn retry_reuses_the_id() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        p.insert("x".into(), spec(100), t0, None);
        let (out, _) = p.expire(t0 + Duration::from_secs(1)).pop().unwrap();
        let again = out.retry_spec(json!({}), Duration::from_secs(1));
        assert_eq!(again.id.as_deref(), Some("x"));
    }

    #[test]
    fn a_reply_counts_only_from_the_requests_own_topic_and_link() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        p.insert("a".into(), spec(1000), t0, None);
        let wrong = [
            ReplySource { dev: "OTHER", ..FROM },
            ReplySource { pk: "PK2", ..FROM },
            ReplySource { class: "time", ..FROM },
            ReplySource { action: "set", ..FROM },
            ReplySource { session: 2, ..FROM },
        ];
        for from in &wrong {
            assert!(p.complete("a", from, 0, None, json!({"evil": true}), t0).is_none(), "{from:?}");
        }
        assert!(p.complete("never-sent", &FROM, 0, None, json!({}), t0).is_none());
        assert_eq!((p.len(), p.unmatched()), (1, 6), "still waiting; every stray reply counted");
        let (out, _) = p.complete("a", &FROM, 0, None, json!({"model": "M"}), t0).unwrap();
        assert_eq!(out.result.unwrap().data, json!({"model": "M"}));
        assert!(p.is_empty() && p.deadlines.is_empty());
    }

    /// Per-request cost of a reply plus a loop turn (next deadline, expiry) with `n` pending.
    fn turn_cost(n: usize, turns: usize) -> f64 {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        for i in 0..n {
            p.insert(format!("r{i}"), spec(10_000 + i as u64), t0, None);
        }
        let started = Instant::now();
        for i in 0..turns {
            assert!(p.complete(&format!("r{i}"), &FROM, 0, None, Value::Null, t0).is_some());
            assert!(p.next_deadline().is_some());
            assert!(p.expire(t0 + Duration::from_millis(1)).is_empty());
        }
        assert_eq!((p.len(), p.deadlines.len()), (n - turns, n - turns), "the deadline index stays in step");
        started.elapsed().as_secs_f64() / turns as f64
    }

    #[test]
    fn fifty_thousand_pending_cost_a_reply_no_more_than_five_hundred_do() {
        // A scan per turn would make the large table ~100 times slower; ordered deadlines and a
        // hash by id keep it within small factors (allocation and cache effects).
        // The best of a few runs each, so a busy machine's pauses do not decide it.
        let best = |n| (0..5).map(|_| turn_cost(n, 400)).fold(f64::INFINITY, f64::min);
        let (small, large) = (best(500), best(50_000));
        assert!(large < small * 20.0, "{:.2} µs per turn with 50,000 pending vs {:.2} µs with 500", large * 1e6, small * 1e6);
        // Expiry takes the due ones in deadline order, and only them.
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        for i in 0..50_000u64 {
            p.insert(format!("r{i}"), spec(1 + i % 1000), t0, None);
        }
        let due = p.expire(t0 + Duration::from_millis(10));
        assert_eq!(due.len(), 500);
        assert_eq!((p.len(), p.deadlines.len()), (49_500, 49_500));
        assert_eq!(p.next_deadline(), Some(t0 + Duration::from_millis(11)));
    }
}
