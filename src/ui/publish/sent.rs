//! What the panel sent, and how a row goes again (contract §3): Resend is a new message (a fresh
//! id and `ts`, `t1` stamped anew), Retry the same one (the same id and data; only the `ts` the
//! engine writes at the link differs). `sent_list.rs` draws the rows and their replies.

use serde_json::Value;

use crate::engine::{GatewayKey, RequestSpec, SessionId, new_request_id};
use crate::protocol::envelope::{Envelope, PROTOCOL_VERSION, Request, parse_envelope};
use crate::protocol::topic::TopicProfile;
use crate::transport::Message;

/// A request sent through the engine's request path, so its reply is correlated and logged.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    pub key: GatewayKey,
    pub class: String,
    pub action: String,
    pub id: String,
    pub data: Value,
}

impl SentRequest {
    /// The engine's request for it, on `session`, with this id.
    pub fn spec(&self, session: SessionId) -> RequestSpec {
        let mut spec = RequestSpec::new(session, &self.key.pk, &self.key.dev, &self.class, &self.action, self.data.clone());
        spec.id = Some(self.id.clone());
        spec
    }

    /// The same request as a new one (a Resend): a fresh id and, for a time request, `t1` now.
    pub fn renewed(&self, now_ms: i64) -> SentRequest {
        SentRequest { id: new_request_id(), data: stamp_send_time(&self.class, &self.action, self.data.clone(), now_ms), ..self.clone() }
    }

    /// The envelope as the engine writes it, with `ts`.
    pub fn envelope(&self, ts: i64) -> Vec<u8> {
        let request = Request { id: self.id.clone(), ts, ver: PROTOCOL_VERSION.into(), data: self.data.clone() };
        // An id the engine refuses still shows what was asked; the refusal is in the request log.
        serde_json::to_vec(&request).unwrap_or_default()
    }
}

/// True for the requests whose `data.t1` is the requester's send time (§6.9, §9): `time/get`
/// from the master, `time/sync` from a gateway.
pub fn carries_send_time(class: &str, action: &str) -> bool {
    class == "time" && matches!(action, "get" | "sync")
}

/// `data` with `t1` set to `now_ms` when `class/action` carries a send time; other data as it
/// is. The engine stamps a `time/get` again as it goes to the link.
pub fn stamp_send_time(class: &str, action: &str, mut data: Value, now_ms: i64) -> Value {
    if carries_send_time(class, action)
        && let Some(obj) = data.as_object_mut()
    {
        obj.insert("t1".into(), Value::from(now_ms));
    }
    data
}

/// One sent message.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub session: SessionId,
    /// What went out (for a request, the envelope the engine writes, give or take its `ts`).
    pub message: Message,
    pub sent_ms: i64,
    /// Set when it went as a CEMS request.
    pub request: Option<SentRequest>,
    /// The id of a request or report envelope published as typed.
    pub raw_id: Option<String>,
}

impl SentMessage {
    /// A message published as typed.
    pub fn raw(session: SessionId, message: Message, sent_ms: i64) -> SentMessage {
        let raw_id = match parse_envelope(&message.payload) {
            Ok(Envelope::Request(r)) => Some(r.id),
            _ => None,
        };
        SentMessage { session, message, sent_ms, request: None, raw_id }
    }

    /// The envelope id it carries, if any: what a Retry keeps.
    pub fn id(&self) -> Option<&str> {
        self.request.as_ref().map(|r| r.id.as_str()).or(self.raw_id.as_deref())
    }
}

/// A message published as typed, with the `t1` of a `time/get` or `time/sync` envelope on a
/// CEMS topic set to `now_ms`, the moment it is sent; anything else byte for byte.
pub fn stamp_raw_send_time(profile: &TopicProfile, message: Message, now_ms: i64) -> Message {
    let times = profile.parse(&message.topic).is_ok_and(|t| !t.reply && carries_send_time(&t.class, &t.action));
    if !times {
        return message;
    }
    rewrite_envelope(message, |obj| {
        if let Some(data) = obj.get_mut("data").and_then(Value::as_object_mut) {
            data.insert("t1".into(), Value::from(now_ms));
        }
    })
}

/// A message published as typed, sent again as a new message: a request or report envelope
/// takes a fresh id and `ts` (and `t1`, for a time request); anything else goes as it was.
pub fn renew_raw(profile: &TopicProfile, message: Message, now_ms: i64) -> Message {
    let renewed = rewrite_envelope(message, |obj| {
        obj.insert("id".into(), Value::from(new_request_id()));
        obj.insert("ts".into(), Value::from(now_ms));
    });
    stamp_raw_send_time(profile, renewed, now_ms)
}

/// `message` with its request or report envelope changed by `change`, written back in the
/// layout it was typed in (pretty when it spans lines); unchanged when it is not one.
fn rewrite_envelope(mut message: Message, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Message {
    if !matches!(parse_envelope(&message.payload), Ok(Envelope::Request(_))) {
        return message;
    }
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&message.payload) else { return message };
    change(&mut obj);
    let value = Value::Object(obj);
    let pretty = message.payload.contains(&b'\n');
    let written = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) };
    if let Ok(bytes) = written {
        message.payload = bytes.into();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(topic: &str, payload: &str) -> Message {
        Message::new(topic, payload.as_bytes().to_vec(), 1, false)
    }

    #[test]
    fn only_time_requests_carry_t1() {
        let data = serde_json::json!({"t1": 1, "cmd": "x"});
        assert_eq!(stamp_send_time("time", "get", data.clone(), 9)["t1"], 9);
        assert_eq!(stamp_send_time("time", "sync", serde_json::json!({}), 9)["t1"], 9);
        assert_eq!(stamp_send_time("command", "request", data.clone(), 9), data, "a t1 elsewhere is the user's");
    }

    #[test]
    fn a_raw_time_sync_is_stamped_when_sent_and_other_payloads_go_as_typed() {
        let profile = TopicProfile::builtin();
        let sync = raw("cems/v1/PK/GW/up/time/sync", r#"{"id":"s1","ts":5,"ver":"1.0","data":{"t1":5}}"#);
        let stamped = stamp_raw_send_time(&profile, sync, 700);
        assert_eq!(stamped.payload, br#"{"id":"s1","ts":5,"ver":"1.0","data":{"t1":700}}"#.to_vec());
        let report = raw("cems/v1/PK/GW/down/message/down", "{\n  \"id\": \"m1\", \"ts\": 5, \"ver\": \"1.0\", \"data\": {\"t1\": 5}\n}");
        assert_eq!(stamp_raw_send_time(&profile, report.clone(), 700), report);
        let text = raw("lab/raw", "hello");
        assert_eq!(renew_raw(&profile, text.clone(), 700), text);
    }

    #[test]
    fn renewing_a_raw_envelope_changes_its_id_and_ts_only() {
        let profile = TopicProfile::builtin();
        let report = raw("cems/v1/PK/GW/down/message/down", "{\n  \"id\": \"m1\",\n  \"ts\": 5,\n  \"ver\": \"1.0\",\n  \"data\": {\"type\": \"a\"}\n}");
        let renewed = renew_raw(&profile, report, 700);
        let Ok(Envelope::Request(r)) = parse_envelope(&renewed.payload) else { panic!("an envelope") };
        assert_ne!(r.id, "m1");
        assert_eq!((r.ts, r.data), (700, serde_json::json!({"type": "a"})));
        assert!(renewed.payload.contains(&b'\n'), "kept in the layout it was typed in");
        let reply = raw("cems/v1/PK/GW/down/time/sync/reply", r#"{"id":"s1","ts":5,"code":0,"data":{}}"#);
        assert_eq!(renew_raw(&profile, reply.clone(), 700), reply, "a reply keeps its request's id");
    }
}
