//! The envelope every payload travels in (contract §3): requests and reports carry `ver` and
//! `data`; replies carry the request's `id`, a `code` and an optional `msg`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// Largest payload the contract allows.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// Longest `id`.
pub const MAX_ID_LEN: usize = 64;
/// The `ver` this workbench speaks.
pub const PROTOCOL_VERSION: &str = "1.0";

/// A request or a report: `{"id","ts","ver","data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: String,
    pub ts: i64,
    pub ver: String,
    pub data: Value,
}

/// A reply: `{"id","ts","code","msg"?,"data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: String,
    pub ts: i64,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    #[serde(default = "empty_object")]
    pub data: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// Either shape, as read off the wire.
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    Request(Request),
    Reply(Reply),
}

impl Envelope {
    pub fn id(&self) -> &str {
        match self {
            Envelope::Request(r) => &r.id,
            Envelope::Reply(r) => &r.id,
        }
    }

    pub fn data(&self) -> &Value {
        match self {
            Envelope::Request(r) => &r.data,
            Envelope::Reply(r) => &r.data,
        }
    }

    pub fn ts(&self) -> i64 {
        match self {
            Envelope::Request(r) => r.ts,
            Envelope::Reply(r) => r.ts,
        }
    }
}

/// Why a payload is not a valid envelope. `id` is set when it could still be read, so the
/// receiver can answer with code 3 (`bad_format`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason}")]
pub struct EnvelopeError {
    pub reason: String,
    pub id: Option<String>,
}

impl EnvelopeError {
    fn new(reason: impl Into<String>, id: Option<String>) -> Self {
        EnvelopeError { reason: reason.into(), id }
    }
}

/// Why an envelope could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("payload is {size} bytes, the limit is {MAX_PAYLOAD_BYTES}")]
    TooLarge { size: usize },
    #[error("id {0:?} is empty or longer than 64 characters")]
    BadId(String),
    #[error("cannot serialise payload: {0}")]
    Json(String),
}

impl Request {
    /// A request or report stamped now.
    pub fn new(id: impl Into<String>, data: Value) -> Self {
        Request { id: id.into(), ts: super::time::now_ms(), ver: PROTOCOL_VERSION.into(), data }
    }

    /// The JSON bytes, refused when over the size limit.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        check_id(&self.id)?;
        to_limited_bytes(self)
    }
}

impl Reply {
    /// A reply to `request_id`, stamped now.
    pub fn new(request_id: impl Into<String>, code: i64, msg: Option<String>, data: Value) -> Self {
        Reply { id: request_id.into(), ts: super::time::now_ms(), code, msg, data }
    }

    /// A successful reply.
    pub fn ok(request_id: impl Into<String>, data: Value) -> Self {
        Self::new(request_id, super::codes::OK, None, data)
    }

    /// A failed reply with a code and text, and empty data.
    pub fn error(request_id: impl Into<String>, code: i64, msg: impl Into<String>) -> Self {
        Self::new(request_id, code, Some(msg.into()), empty_object())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        check_id(&self.id)?;
        to_limited_bytes(self)
    }
}

fn check_id(id: &str) -> Result<(), EncodeError> {
    if id.is_empty() || id.chars().count() > MAX_ID_LEN {
        return Err(EncodeError::BadId(id.to_owned()));
    }
    Ok(())
}

fn to_limited_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let bytes = serde_json::to_vec(value).map_err(|e| EncodeError::Json(e.to_string()))?;
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(EncodeError::TooLarge { size: bytes.len() });
    }
    Ok(bytes)
}

/// Reads an envelope. A reply is recognised by its `code`; anything else must be a request or
/// report with `ver` and `data`. Errors say which field is wrong.
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        // Not parsed at all: a 10 MB payload must not cost a 10 MB parse.
        return Err(EnvelopeError::new(format!("payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}", bytes.len()), None));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        EnvelopeError::new(format!("not JSON: {} at line {} column {}", strip_position(&e.to_string()), e.line(), e.column()), None)
    })?;
    parse_envelope_value(value)
}

/// Same as [`parse_envelope`] for an already parsed value.
pub fn parse_envelope_value(value: Value) -> Result<Envelope, EnvelopeError> {
    let Value::Object(obj) = value else {
        return Err(EnvelopeError::new(format!("expected a JSON object, found {}", kind_of(&value)), None));
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_ID_LEN => s.clone(),
        Some(Value::String(s)) => return Err(EnvelopeError::new(format!("id: {} characters, 1 to {MAX_ID_LEN} allowed", s.chars().count()), None)),
        Some(other) => return Err(EnvelopeError::new(format!("id: expected string, found {}", kind_of(other)), None)),
        None => return Err(EnvelopeError::new("id: missing", None)),
    };
    let fail = |reason: String| EnvelopeError::new(reason, Some(id.clone()));
    let ts = match obj.get("ts") {
        Some(v) => v.as_i64().ok_or_else(|| fail(format!("ts: expected integer epoch ms, found {}", kind_of(v))))?,
        None => return Err(fail("ts: missing".into())),
    };
    if let Some(code) = obj.get("code") {
        let code = code.as_i64().ok_or_else(|| fail(format!("code: expected integer, found {}", kind_of(code))))?;
        let msg = match obj.get("msg") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(fail(format!("msg: expected string, found {}", kind_of(other)))),
        };
        let data = obj.get("data").cloned().unwrap_or_else(empty_object);
        return Ok(Envelope::Reply(Reply { id, ts, code, msg, data }));
    }
    let ver = match obj.get("ver") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => return Err(fail(format!("ver: expected string, found {}", kind_of(other)))),
        None => return Err(fail("ver: missing (and no code, so not a reply either)".into())),
    };
    let data = match obj.get("data") {
        Some(v @ Value::Object(_)) => v.clone(),
        Some(other) => return Err(fail(format!("data: expected object, found {}", kind_of(other)))),
        None => return Err(fail("data: missing".into())),
    };
    Ok(Envelope::Request(Request { id, ts, ver, data }))
}

/// serde_json appends " at line L column C"; the caller reports the position itself.
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(head, _)| head)
}

/// The JSON type of a value, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Random bits in every id from [`IdGenerator`].
pub const ID_RANDOM_BITS: u32 = 96;

/// Makes request ids nobody else on the broker can guess: the label, then 96 fresh bits from the
/// thread's CSPRNG (ChaCha12 seeded by the OS) per id, in hex. A counter would let anyone who
/// saw one id forge the reply to the next; 96 random bits also keep ids unique per sender for far
/// longer than the contract's 24 h without one. At most 16 + 1 + 24 characters, `[A-Za-z0-9-]`.
#[derive(Debug)]
pub struct IdGenerator {
    label: String,
}

impl IdGenerator {
    /// `label` names the sender in the id (`wb`, `sim`); it is cut to 16 characters.
    pub fn new(label: &str) -> Self {
        let label: String = label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(16).collect();
        IdGenerator { label }
    }

    pub fn next_id(&self) -> String {
        let bits: u128 = rand::random::<u128>() >> (128 - ID_RANDOM_BITS);
        let width = (ID_RANDOM_BITS / 4) as usize;
        if self.label.is_empty() { format!("{bits:0width$x}") } else { format!("{}-{bits:0width$x}", self.label) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_contract_shapes() {
        let req = parse_envelope(br#"{"id":"1","ts":0,"ver":"1.0","data":{"online":true}}"#).unwrap();
        assert!(matches!(&req, Envelope::Request(r) if r.data["online"] == true && r.ver == "1.0"));
        let reply = parse_envelope(br#"{"id":"7","ts":5,"code":9,"msg":"bad sum","data":{}}"#).unwrap();
        assert!(matches!(&reply, Envelope::Reply(r) if r.code == 9 && r.msg.as_deref() == Some("bad sum")));
        let bare = parse_envelope(br#"{"id":"7","ts":5,"code":0}"#).unwrap();
        assert_eq!(bare.data(), &json!({}));
    }

    #[test]
    fn errors_name_the_field_and_recover_the_id() {
        let cases: &[(&[u8], &str, Option<&str>)] = &[
            (b"{", "not JSON", None),
            (b"[1]", "expected a JSON object, found array", None),
            (br#"{"ts":1}"#, "id: missing", None),
            (br#"{"id":5}"#, "id: expected string, found number", None),
            (br#"{"id":"a","ts":"x","ver":"1.0","data":{}}"#, "ts: expected integer epoch ms, found string", Some("a")),
            (br#"{"id":"a","ts":1,"data":{}}"#, "ver: missing", Some("a")),
            (br#"{"id":"a","ts":1,"ver":"1.0","data":[]}"#, "data: expected object, found array", Some("a")),
            (br#"{"id":"a","ts":1,"code":"0"}"#, "code: expected integer", Some("a")),
        ];
        for (input, reason, id) in cases {
            let err = parse_envelope(input).unwrap_err();
            assert!(err.reason.starts_with(reason), "{}: {}", String::from_utf8_lossy(input), err.reason);
            assert_eq!(err.id.as_deref(), *id);
        }
        let err = parse_envelope(b"{\"id\":\n\"a\",}").unwrap_err();
        assert!(err.reason.contains("line 2"), "{}", err.reason);
    }

    #[test]
    fn size_limit_applies_both_ways() {
        let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        assert!(parse_envelope(&big).unwrap_err().reason.contains("limit"));
        let req = Request::new("x", json!({"blob": "a".repeat(MAX_PAYLOAD_BYTES)}));
        assert!(matches!(req.to_bytes(), Err(EncodeError::TooLarge { .. })));
        assert!(matches!(Request::new("", json!({})).to_bytes(), Err(EncodeError::BadId(_))));
    }

    #[test]
    fn round_trip() {
        let req = Request::new("r1", json!({"cmd": "reboot", "params": {"delay": 5}}));
        let back = parse_envelope(&req.to_bytes().unwrap()).unwrap();
        assert_eq!(back, Envelope::Request(req));
        let reply = Reply::error("r1", 4, "delay out of range");
        let back = parse_envelope(&reply.to_bytes().unwrap()).unwrap();
        assert_eq!(back, Envelope::Reply(reply));
    }

    #[test]
    fn ids_are_unique_short_and_random() {
        let g = IdGenerator::new("workbench-with-a-long-name");
        let a = g.next_id();
        let b = g.next_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16 + 1 + 24, "{a}");
        assert!(a.len() <= MAX_ID_LEN && a.starts_with("workbench-with-a-"));
        assert_ne!(IdGenerator::new("wb").next_id(), IdGenerator::new("wb").next_id());
        // No label: the random part alone, still a valid id.
        let bare = IdGenerator::new("+/#").next_id();
        assert!(bare.len() == 24 && bare.chars().all(|c| c.is_ascii_hexdigit()), "{bare}");
    }

    proptest::proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_envelope(&bytes);
        }
    }
}
