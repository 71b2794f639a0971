//! Requests in flight: correlation of replies by `id`, timeouts, and what the caller gets back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::protocol::codes;

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
}

impl RequestSpec {
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
        }
    }
}

struct Pending {
    spec: RequestSpec,
    started: Instant,
    deadline: Instant,
    reply: Option<oneshot::Sender<RequestOutcome>>,
}

/// The table of requests waiting for a reply.
#[derive(Default)]
pub struct PendingRequests {
    by_id: HashMap<String, Pending>,
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

    /// Starts following a request. A retry with the same id while the first is still waiting
    /// ends the first as superseded (its caller hears so) and follows the retry.
    pub fn insert(&mut self, id: String, spec: RequestSpec, now: Instant, reply: Option<oneshot::Sender<RequestOutcome>>) -> Option<Finished> {
        // A caller's "no timeout" (Duration::MAX) must not overflow the clock: a day is plenty.
        let deadline = now.checked_add(spec.timeout.min(MAX_TIMEOUT)).unwrap_or(now);
        let previous = self.by_id.insert(id.clone(), Pending { spec, started: now, deadline, reply });
        previous.map(|p| finish(id, p, Err(RequestFailure::Superseded), now))
    }

    /// The spec of a pending request.
    pub fn spec(&self, id: &str) -> Option<&RequestSpec> {
        self.by_id.get(id).map(|p| &p.spec)
    }

    /// A reply arrived for `id`; `None` when nobody waits for it (late, or another master's).
    pub fn complete(&mut self, id: &str, code: i64, msg: Option<String>, data: Value, now: Instant) -> Option<Finished> {
        let pending = self.by_id.remove(id)?;
        let reply = ReplyInfo { code, name: codes::code_name(code), msg, data };
        Some(finish(id.to_owned(), pending, Ok(reply), now))
    }

    /// Ends a request that could not be sent.
    pub fn fail(&mut self, id: &str, failure: RequestFailure, now: Instant) -> Option<Finished> {
        let pending = self.by_id.remove(id)?;
        Some(finish(id.to_owned(), pending, Err(failure), now))
    }

    /// Ends every request of a session (it was closed).
    pub fn fail_session(&mut self, session: SessionId, reason: &str, now: Instant) -> Vec<Finished> {
        let ids: Vec<String> = self.by_id.iter().filter(|(_, p)| p.spec.session == session).map(|(id, _)| id.clone()).collect();
        ids.iter().filter_map(|id| self.fail(id, RequestFailure::LinkClosed(reason.to_owned()), now)).collect()
    }

    /// Ends every request whose deadline has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<Finished> {
        let ids: Vec<String> = self.by_id.iter().filter(|(_, p)| p.deadline <= now).map(|(id, _)| id.clone()).collect();
        ids.into_iter()
            .filter_map(|id| {
                let pending = self.by_id.remove(&id)?;
                let after_ms = u64::try_from(pending.spec.timeout.as_millis()).unwrap_or(u64::MAX);
                Some(finish(id, pending, Err(RequestFailure::Timeout { after_ms }), now))
            })
            .collect()
    }

    /// The earliest deadline, to sleep until.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_id.values().map(|p| p.deadline).min()
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

    #[test]
    fn reply_completes_by_id_with_latency() {
        let mut p = PendingRequests::default();
        let t0 = Instant::now();
        assert!(p.insert("a".into(), spec(1000), t0, None).is_none());
        assert!(p.complete("b", 0, None, json!({}), t0).is_none());
        let (out, _) = p.complete("a", 9, Some("bad".into()), json!({}), t0 + Duration::from_millis(12)).unwrap();
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
}
