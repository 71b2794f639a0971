//! What each fuzz target feeds the protocol layer, and what it asserts besides "no panic".
//!
//! One file, three users: the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly), the
//! proptest properties (`tests/fuzz_props.rs`) and the corpus replay (`tests/fuzz_corpus.rs`),
//! both of which include this file with `#[path]` on stable. So a fuzzer's finding, once copied
//! into `fuzz/corpus/<target>/`, is checked by `cargo test` exactly as the fuzzer checked it.
//!
//! Every target takes raw bytes. The first byte(s) usually pick a mode; the rest is the input
//! proper, or is read by [`Input`] to build a structured value (a frame, a JSON value). Bytes
//! past the end read as zero, so every byte string is a valid input.
//!
//! Pure: no file I/O, no threads, no nightly features.
#![allow(dead_code)]

use std::sync::LazyLock;

use cems_workbench::protocol::envelope::{self, Envelope, EnvelopeError, MAX_ID_LEN};
use cems_workbench::protocol::frame::{self, Frame, FrameDecoder, FrameError, FrameKind, MAX_ENCODED_LEN, MAX_FRAME_LEN};
use cems_workbench::protocol::model::{MAX_ERRORS_PER_FILE, ModelDocument, validate_value};
use cems_workbench::protocol::payload::{self, Payload, to_data};
use cems_workbench::protocol::storage::{self, StorageError, StoragePayload, StorageProfile, StorageTopic};
use cems_workbench::protocol::topic::{MESSAGES, MessageKind, TopicProfile, message_spec};
use serde_json::{Map, Number, Value};

/// The targets, as named under `fuzz/fuzz_targets/`, `fuzz/corpus/` and `fuzz/artifacts/`.
pub const TARGETS: &[&str] = &["frame", "envelope", "payload", "topic", "model", "storage"];

/// Runs the check of `target` on `data`; panics on an unknown target name.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "frame" => frame(data),
        "envelope" => envelope(data),
        "payload" => payload(data),
        "topic" => topic(data),
        "model" => model(data),
        "storage" => storage(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading structure out of bytes

/// A cursor over the fuzzer's bytes; reads past the end give zeros and empty slices.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    pub fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for (slot, byte) in bytes.iter_mut().zip(self.take(8)) {
            *slot = *byte;
        }
        u64::from_le_bytes(bytes)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// An index below `len` (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { usize::from(self.byte()) % len }
    }

    /// A short string: a dictionary word most of the time, else raw bytes made UTF-8.
    pub fn word(&mut self, dictionary: &[&str]) -> String {
        let pick = self.byte();
        if !pick.is_multiple_of(4) && !dictionary.is_empty() {
            return dictionary[self.index(dictionary.len())].to_owned();
        }
        let len = usize::from(pick / 4) % 24;
        String::from_utf8_lossy(self.take(len)).into_owned()
    }
}

/// Keys of the contract's payloads (`protocol::payload`, `protocol::port`), so the structured
/// JSON builder names real fields more often than not.
pub const PAYLOAD_KEYS: &[&str] = &[
    "points", "sub", "pid", "v", "q", "ts", "values", "vendor", "model", "serial", "hwVersion", "fwVersion",
    "swVersion", "mac", "ip", "uptime", "subs", "productKey", "alarmId", "type", "level", "state", "value",
    "threshold", "desc", "online", "reason", "cmd", "params", "content", "ports", "portIds", "portId", "code",
    "msg", "failed", "pids", "readings", "from", "to", "props", "keys", "key", "module", "version", "modules",
    "taskId", "size", "chunkSize", "offset", "length", "data", "step", "percent", "fileId", "name", "folder",
    "files", "mtime", "t1", "t2", "t3", "time", "before", "upload", "entries", "truncated", "alarms", "batchId",
    "recallId", "baud", "parity", "dataBits", "stopBits", "netmask", "gateway", "tcpPort", "timeoutMs", "status",
    "tx", "rx", "errors", "protocol", "sha256", "url", "x-vendor",
];

/// Top-level keys of an envelope.
pub const ENVELOPE_KEYS: &[&str] = &["id", "ts", "ver", "data", "code", "msg", "online", "points", "x"];

/// Keys of an energy-storage payload, and typical point names inside `d`.
pub const STORAGE_KEYS: &[&str] = &["t", "ns", "code", "s", "te", "d", "bms", "cell", "maxV", "soc", "temps", "pcs", "p", "q"];

/// Keys of a product model (`assets/schema/product-model.schema.json`).
pub const MODEL_KEYS: &[&str] = &[
    "$schema", "modelVersion", "productKey", "name", "kind", "category", "vendor", "model", "description",
    "points", "properties", "commands", "meters", "ports", "alarms", "subProducts", "protocols", "id", "pid",
    "type", "unit", "min", "max", "step", "enum", "default", "access", "writable", "params", "output", "fields",
    "items", "maxLength", "deadband", "alarm", "hi", "lo", "level", "period", "en", "zh", "baud", "parity",
    "dataBits", "stopBits", "ip", "netmask", "gateway", "tcpPort", "timeoutMs", "protocol", "x-note",
];

/// String values worth trying: enum words, ids, versions, edge lengths.
pub const WORDS: &[&str] = &[
    "", "1.0", "PK01", "GW-0001", "M1", "Ua", "raised", "cleared", "accepted", "downloading", "verifying",
    "installing", "done", "failed", "rs485", "rs232", "eth", "can", "none", "even", "odd", "info", "warn",
    "error", "debug", "int", "float", "bool", "enum", "string", "struct", "array", "text", "ro", "rw", "wo",
    "gateway", "device", "analog", "digital", "accumulator", "di", "do", "mark", "space", "METRIC", "CMD", "req", "resp", "rt", "param", "cmd", "\u{feff}", "é", "a/b", "+", "#",
    "0123456789012345678901234567890123456789012345678901234567890123456789",
];

/// A JSON value built from the input: scalars at `depth` 0, containers above.
pub fn json_value(input: &mut Input, keys: &[&str], depth: u32) -> Value {
    let tag = input.byte();
    let kinds = if depth == 0 { 7 } else { 9 };
    match tag % kinds {
        0 => Value::Null,
        1 => Value::Bool(tag & 0x10 != 0),
        2 => Value::from(i64::from(input.byte() as i8)),
        3 => Value::from(input.u64() as i64),
        4 => Value::from(input.u64()),
        5 => {
            let raw = f64::from_bits(input.u64());
            let x = if raw.is_finite() { raw } else { f64::from(input.byte()) / 4.0 - 16.0 };
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
        6 => {
            let mut all = keys.to_vec();
            all.extend_from_slice(WORDS);
            Value::String(input.word(&all))
        }
        7 => {
            let len = input.index(5);
            Value::Array((0..len).map(|_| json_value(input, keys, depth - 1)).collect())
        }
        _ => json_object(input, keys, depth - 1),
    }
}

/// A JSON object of up to 6 members whose keys come mostly from `keys`.
pub fn json_object(input: &mut Input, keys: &[&str], depth: u32) -> Value {
    let len = input.index(7);
    let mut map = Map::new();
    for _ in 0..len {
        let key = input.word(keys);
        let value = json_value(input, keys, depth);
        map.insert(key, value);
    }
    Value::Object(map)
}

/// Equal JSON, except that floats need only agree to 1e-12 relative: without serde_json's
/// `float_roundtrip` feature, text → f64 may be off by an ulp.
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Serial frames (`protocol::frame`)

/// Byte 0 picks the mode:
/// - 0: byte 1 = n, the next n bytes are chunk sizes, the rest is a raw byte stream
///   ([`frame_stream`]);
/// - 1: an arbitrary frame (kind, topic, payload) and chunk sizes ([`frame_round_trip`]);
/// - 2: up to 255 bytes of garbage, a delimiter, then a valid frame ([`frame_after_garbage`]).
pub fn frame(data: &[u8]) {
    let mut input = Input::new(data);
    match input.byte() % 3 {
        0 => {
            let sizes = chunk_sizes(&mut input);
            frame_stream(input.rest(), &sizes);
        }
        1 => {
            let sizes = chunk_sizes(&mut input);
            let frame = frame_from(&mut input);
            frame_round_trip(&frame, &sizes);
        }
        _ => {
            let sizes = chunk_sizes(&mut input);
            let len = usize::from(input.byte());
            let garbage = input.take(len).to_vec();
            let frame = frame_from(&mut input);
            frame_after_garbage(&garbage, &frame, &sizes);
        }
    }
}

fn chunk_sizes(input: &mut Input) -> Vec<usize> {
    let n = input.index(8) + 1;
    (0..n).map(|_| usize::from(input.byte()) + 1).collect()
}

/// Kind byte (4 values: the three kinds, and a ping that carries data), topic length, topic,
/// payload = the rest.
fn frame_from(input: &mut Input) -> Frame {
    let kind = input.byte();
    let topic_len = input.index(80);
    let topic = String::from_utf8_lossy(input.take(topic_len)).into_owned();
    let payload = input.rest().to_vec();
    match kind % 4 {
        0 | 1 => Frame::publish(topic, payload),
        2 => Frame::ping(),
        _ => Frame { kind: if kind & 0x10 == 0 { FrameKind::Ping } else { FrameKind::Pong }, topic, payload },
    }
}

/// Feeds `wire` to `decoder` in chunks of `sizes` (cycled).
pub fn feed(decoder: &mut FrameDecoder, wire: &[u8], sizes: &[usize]) -> Vec<Result<Frame, FrameError>> {
    let mut results = Vec::new();
    let mut rest = wire;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).clamp(1, rest.len()));
        results.extend(decoder.push(chunk));
        rest = tail;
    }
    results
}

/// Arbitrary bytes: the outcome does not depend on how the stream was split; every result is
/// counted once; the buffer stays bounded; every frame that decoded encodes and decodes again.
pub fn frame_stream(stream: &[u8], sizes: &[usize]) {
    let mut whole = FrameDecoder::new();
    let expected = whole.push(stream);
    let mut chunked = FrameDecoder::new();
    let results = feed(&mut chunked, stream, sizes);
    assert_eq!(results, expected, "splitting the stream into chunks {sizes:?} changed what it decodes to");
    assert_eq!(results.len() as u64, chunked.dropped() + chunked.frames_ok(), "a result was not counted");
    assert_eq!((whole.dropped(), whole.frames_ok(), whole.buffered_len()), (chunked.dropped(), chunked.frames_ok(), chunked.buffered_len()));
    assert!(chunked.buffered_len() <= MAX_ENCODED_LEN);
    for result in &results {
        match result {
            Ok(frame) => {
                assert!(frame.decoded_len() <= MAX_FRAME_LEN);
                let wire = frame::encode(frame).unwrap_or_else(|e| panic!("decoded frame {frame:?} does not encode: {e}"));
                assert_eq!(FrameDecoder::new().push(&wire), vec![Ok(frame.clone())], "re-encoded frame");
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
}

/// decode(encode(frame)) == frame, in any chunking and twice in a row; an encoding error only
/// for a frame the contract forbids.
pub fn frame_round_trip(frame: &Frame, sizes: &[usize]) {
    match frame::encode(frame) {
        Ok(wire) => {
            assert_eq!(wire.last(), Some(&0), "an encoded frame ends with the delimiter");
            assert_eq!(wire.iter().filter(|b| **b == 0).count(), 1, "exactly one 0x00 in an encoded frame");
            assert!(wire.len() <= MAX_ENCODED_LEN + 1);
            let mut decoder = FrameDecoder::new();
            let results = feed(&mut decoder, &wire.repeat(2), sizes);
            assert_eq!(results, vec![Ok(frame.clone()), Ok(frame.clone())]);
            assert_eq!((decoder.frames_ok(), decoder.dropped(), decoder.buffered_len()), (2, 0, 0));
        }
        Err(FrameError::ControlNotEmpty { kind, .. }) => {
            assert_eq!(kind, frame.kind);
            assert!(kind != FrameKind::Publish && !(frame.topic.is_empty() && frame.payload.is_empty()));
        }
        Err(FrameError::TooLarge { len }) => assert!(len > MAX_FRAME_LEN),
        Err(FrameError::TopicTooLong { len }) => assert!(len > usize::from(u16::MAX)),
        Err(other) => panic!("encoding {frame:?} failed with a decoding error: {other}"),
    }
}

/// Whatever garbage came first, a delimiter resynchronises: the frame after it decodes.
pub fn frame_after_garbage(garbage: &[u8], frame: &Frame, sizes: &[usize]) {
    let Ok(wire) = frame::encode(frame) else { return };
    let mut stream = garbage.to_vec();
    stream.push(0);
    stream.extend_from_slice(&wire);
    let mut decoder = FrameDecoder::new();
    let results = feed(&mut decoder, &stream, sizes);
    assert_eq!(results.last(), Some(&Ok(frame.clone())), "frame lost after {} bytes of garbage", garbage.len());
}

// ---------------------------------------------------------------------------------------------
// 2. Envelopes (`protocol::envelope`)

/// The bytes as a payload ([`envelope_bytes`]), and the same bytes read as a structured JSON
/// value with envelope keys ([`envelope_value`]).
pub fn envelope(data: &[u8]) {
    envelope_bytes(data);
    let mut input = Input::new(data);
    let value = json_object(&mut input, ENVELOPE_KEYS, 3);
    envelope_value(value);
}

/// Fields an [`EnvelopeError`] can be about; every reason starts with one of these.
const ENVELOPE_REASONS: &[&str] =
    &["payload is ", "not JSON: ", "expected a JSON object", "id: ", "ts: ", "code: ", "msg: ", "ver: ", "data: "];

pub fn envelope_bytes(bytes: &[u8]) {
    match envelope::parse_envelope(bytes) {
        Ok(env) => envelope_ok(&env),
        Err(err) => envelope_err(&err),
    }
}

pub fn envelope_value(value: Value) {
    // Written out and read back, a value must give what parse_envelope_value gives.
    let text = serde_json::to_vec(&value).expect("a Value serialises");
    let from_bytes = envelope::parse_envelope(&text);
    match envelope::parse_envelope_value(value) {
        Ok(env) => {
            envelope_ok(&env);
            let Ok(back) = from_bytes else { panic!("value parses but its bytes do not: {from_bytes:?}") };
            assert_same_envelope(&env, &back);
        }
        Err(err) => {
            envelope_err(&err);
            assert!(from_bytes.is_err(), "value fails ({err}) but its bytes parse");
        }
    }
}

fn envelope_err(err: &EnvelopeError) {
    assert!(
        ENVELOPE_REASONS.iter().any(|p| err.reason.starts_with(p)),
        "envelope error does not name its field: {:?}",
        err.reason
    );
    if let Some(id) = &err.id {
        assert!(!id.is_empty() && id.chars().count() <= MAX_ID_LEN, "error carries an invalid id {id:?}");
        assert!(!["payload is ", "not JSON: ", "expected a JSON object", "id: "].iter().any(|p| err.reason.starts_with(p)));
    }
}

/// A parsed envelope is valid, writes back out, and reads back the same.
fn envelope_ok(env: &Envelope) {
    let id = env.id();
    assert!(!id.is_empty() && id.chars().count() <= MAX_ID_LEN, "accepted id {id:?}");
    let bytes = match env {
        Envelope::Request(request) => {
            assert!(request.data.is_object(), "request data must be an object");
            request.to_bytes()
        }
        Envelope::Reply(reply) => reply.to_bytes(),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        // Reformatting numbers can grow a payload that was just under the limit.
        Err(envelope::EncodeError::TooLarge { .. }) => return,
        Err(err) => panic!("accepted envelope {env:?} does not write back: {err}"),
    };
    let back = envelope::parse_envelope(&bytes).unwrap_or_else(|e| panic!("written envelope does not parse: {e}"));
    assert_same_envelope(env, &back);
}

fn assert_same_envelope(a: &Envelope, b: &Envelope) {
    match (a, b) {
        (Envelope::Request(x), Envelope::Request(y)) => {
            assert_eq!((&x.id, x.ts, &x.ver), (&y.id, y.ts, &y.ver));
            assert!(same_json(&x.data, &y.data), "data changed: {} vs {}", x.data, y.data);
        }
        (Envelope::Reply(x), Envelope::Reply(y)) => {
            assert_eq!((&x.id, x.ts, x.code, &x.msg), (&y.id, y.ts, y.code, &y.msg));
            assert!(same_json(&x.data, &y.data), "data changed: {} vs {}", x.data, y.data);
        }
        _ => panic!("envelope changed shape: {a:?} vs {b:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Payloads (`protocol::payload::decode`)

/// (class, action, reply) from bytes 0 and 1: a row of the contract's table (or, for the last
/// two values, a class/action the contract lacks), reply when byte 1 is odd. Byte 2 picks the
/// data: 0 the rest is JSON text; 1 the rest builds a JSON object with the contract's field
/// names; 2 byte 3 picks one of [`PAYLOAD_EXAMPLES`] and the rest edits it ([`mutate_json`]),
/// decoded as its own message unless bit 1 of byte 1 says to use the one of bytes 0 and 1.
pub fn payload(data: &[u8]) {
    let mut input = Input::new(data);
    let (row, flags) = (input.byte(), input.byte());
    let (mut class, mut action, mut reply) = message_of(row, flags);
    let value = match input.byte() % 3 {
        0 => match serde_json::from_slice::<Value>(input.rest()) {
            Ok(value) => value,
            Err(_) => return,
        },
        1 => json_object(&mut input, PAYLOAD_KEYS, 4),
        _ => {
            let (c, a, r, text) = PAYLOAD_EXAMPLES[input.index(PAYLOAD_EXAMPLES.len())];
            if flags & 2 == 0 {
                (class, action, reply) = (c, a, r);
            }
            let mut value: Value = serde_json::from_str(text).expect("example is JSON");
            mutate_json(&mut value, &mut input, PAYLOAD_KEYS, 6);
            value
        }
    };
    payload_check(class, action, reply, &value);
}

/// One typical `data` per message shape of the table (class, action, reply, JSON text): the
/// payload target's mutation bases and its seeds.
pub const PAYLOAD_EXAMPLES: &[(&str, &str, bool, &str)] = &[
    ("status", "", false, r#"{"online":true,"reason":"boot"}"#),
    ("command", "request", false, r#"{"cmd":"reset","sub":"M1","params":{"delay":5}}"#),
    ("command", "request", true, r#"{"ok":true,"left":[1,2]}"#),
    ("message", "up", false, r#"{"type":"vendor","content":{"a":1}}"#),
    (
        "port",
        "report",
        false,
        r#"{"ports":[{"portId":"COM1","type":"rs485","params":{"baud":9600,"parity":"even","dataBits":8,"stopBits":1.5,"x-slave":3},"protocol":"modbus-rtu","status":{"online":true,"tx":3,"rx":4,"errors":0}},{"portId":"LAN1","type":"eth","params":{"ip":"10.0.0.2","netmask":"255.255.255.0","tcpPort":502,"timeoutMs":1000}}]}"#,
    ),
    ("port", "get", false, r#"{"portIds":["COM1"]}"#),
    ("port", "set", false, r#"{"ports":[{"portId":"COM1","params":{"baud":19200}}]}"#),
    ("port", "set", true, r#"{"failed":[{"portId":"COM2","code":4,"msg":"no such port"}]}"#),
    (
        "point",
        "report",
        false,
        r#"{"points":[{"sub":"M1","pid":"Ua","v":230.1,"q":0,"ts":1},{"sub":"M1","pid":"Brk","v":true,"q":0,"ts":1},{"sub":"M1","pid":"Txt","v":"ok","q":2,"ts":1}]}"#,
    ),
    ("point", "get", false, r#"{"sub":"M1","pids":["Ua","Ub"]}"#),
    ("point", "set", false, r#"{"sub":"M1","pid":"Sp","value":12.5}"#),
    ("point", "set", true, r#"{"value":12}"#),
    ("meter", "report", false, r#"{"readings":[{"sub":"M1","ts":5,"values":{"EpImp":12.5,"EpExp":0}}]}"#),
    ("meter", "get", false, r#"{"sub":"M1","from":0,"to":10}"#),
    ("property", "report", false, r#"{"props":{"interval":5,"name":"x"}}"#),
    ("property", "get", false, r#"{"keys":["interval"]}"#),
    ("property", "set", true, r#"{"failed":[{"key":"name","code":5,"msg":"read-only"}]}"#),
    ("ota", "version", false, r#"{"modules":[{"module":"main","version":"1.2.3"}]}"#),
    (
        "ota",
        "upgrade",
        false,
        r#"{"taskId":"t1","module":"main","version":"1.2.4","size":1024,"sha256":"00ff","chunkSize":512}"#,
    ),
    ("ota", "chunk/get", false, r#"{"taskId":"t1","offset":512,"length":512}"#),
    ("ota", "chunk/get", true, r#"{"taskId":"t1","offset":512,"data":"AAEC"}"#),
    ("ota", "progress", false, r#"{"taskId":"t1","step":"downloading","percent":42.5}"#),
    ("file", "download", false, r#"{"fileId":"f1","name":"a.bin","size":10,"sha256":"ab","chunkSize":256}"#),
    ("file", "download/result", false, r#"{"fileId":"f1","code":0}"#),
    ("file", "upload", true, r#"{"size":3,"sha256":"abc"}"#),
    ("file", "list", true, r#"{"files":[{"name":"a.log","size":3,"mtime":5}]}"#),
    ("time", "sync", false, r#"{"t1":1700000000000}"#),
    ("time", "get", true, r#"{"t1":1,"t2":2,"t3":3}"#),
    ("time", "set", false, r#"{"time":1700000000000}"#),
    (
        "info",
        "report",
        false,
        r#"{"vendor":"Acme","model":"G1","serial":"S1","hwVersion":"1","fwVersion":"2","swVersion":"3","uptime":5,"subs":[{"sub":"M1","productKey":"PM3P"}]}"#,
    ),
    ("log", "config", false, r#"{"level":"info","upload":true}"#),
    ("log", "report", false, r#"{"entries":[{"ts":1,"level":"warn","module":"net","msg":"down"}],"truncated":true}"#),
    ("log", "get", false, r#"{"from":0,"to":5,"level":"error"}"#),
    (
        "alarm",
        "report",
        false,
        r#"{"alarms":[{"alarmId":"a1","sub":"M1","pid":"Ua","type":"overVoltage","level":2,"state":"raised","value":260.5,"threshold":253,"ts":5}]}"#,
    ),
    (
        "history",
        "report",
        false,
        r#"{"batchId":"b1","points":[{"sub":"M1","pid":"Ua","v":1,"q":0,"ts":1}],"readings":[{"sub":"M1","ts":1,"values":{"E":1}}]}"#,
    ),
    ("history", "report", true, r#"{"batchId":"b1"}"#),
    ("history", "get", false, r#"{"from":0,"to":9,"sub":"M1"}"#),
    ("history", "get", true, r#"{"batches":3}"#),
    ("info", "get", false, "{}"),
];

/// The message of a table row by index (wrapping), plus two the contract does not have.
pub fn message_of(row: u8, flags: u8) -> (&'static str, &'static str, bool) {
    let reply = flags % 2 == 1;
    let index = usize::from(row) % (MESSAGES.len() + 2);
    match MESSAGES.get(index) {
        Some(spec) => (spec.class, spec.action, reply),
        None if index == MESSAGES.len() => ("vendorx", "blob", reply),
        None => ("status", "reply", reply),
    }
}

/// The raw value is kept; an error names a path under `data`; a table row never decodes as
/// "not in the contract"; and what decoded, written back with `to_data`, decodes to the same.
pub fn payload_check(class: &str, action: &str, reply: bool, data: &Value) {
    let decoded = payload::decode(class, action, reply, data);
    assert_eq!(&decoded.raw, data, "raw value not kept");
    let known = message_spec(class, action).is_some_and(|spec| !reply || spec.kind == MessageKind::Request);
    match &decoded.typed {
        Ok(typed) => {
            assert!(known, "{class}/{action} reply={reply} decoded although the contract lacks it");
            let Some(again) = payload_data(typed) else { return };
            let back = payload::decode(class, action, reply, &again);
            assert_eq!(back.typed.as_ref(), Ok(typed), "{class}/{action} reply={reply}: to_data → decode changed {data} (written back as {again})");
        }
        Err(err) => {
            let under_data = err.path == "data" || err.path.starts_with("data.") || err.path.starts_with("data[");
            assert!(under_data, "error path {:?} is not under data", err.path);
            assert!(!err.message.is_empty());
            assert_eq!(err.to_string(), format!("{}: {}", err.path, err.message));
            // The exact sentence decode uses for a class it does not know: a message that merely
            // quotes data containing these words (a fuzzer found one) is not that refusal.
            let unknown = format!("{class}/{action}{} is not in the contract", if reply { " reply" } else { "" });
            assert_eq!(known, err.message != unknown, "{class}/{action} reply={reply}: {err}");
        }
    }
}

/// The `data` a typed payload writes as.
fn payload_data(typed: &Payload) -> Option<Value> {
    use Payload as P;
    Some(match typed {
        P::Status(x) => to_data(x),
        P::CommandRequest(x) => to_data(x),
        P::CommandReply(x) => Value::Object(x.clone()),
        P::Message(x) => to_data(x),
        P::Ports(x) => to_data(x),
        P::PortGet(x) => to_data(x),
        P::PortSet(x) => to_data(x),
        P::PortSetReply(x) => to_data(x),
        P::Points(x) => to_data(x),
        P::PointGet(x) => to_data(x),
        P::PointSet(x) => to_data(x),
        P::PointSetReply(x) => to_data(x),
        P::Readings(x) => to_data(x),
        P::MeterGet(x) => to_data(x),
        P::Props(x) => to_data(x),
        P::PropertyGet(x) => to_data(x),
        P::PropertySetReply(x) => to_data(x),
        P::Versions(x) => to_data(x),
        P::OtaUpgrade(x) => to_data(x),
        P::OtaChunkGet(x) => to_data(x),
        P::OtaChunk(x) => to_data(x),
        P::OtaProgress(x) => to_data(x),
        P::FileDownload(x) => to_data(x),
        P::FileChunkGet(x) => to_data(x),
        P::FileChunk(x) => to_data(x),
        P::FileDownloadResult(x) => to_data(x),
        P::FileUpload(x) => to_data(x),
        P::FileUploadReply(x) => to_data(x),
        P::FileRead(x) => to_data(x),
        P::FileListRequest(x) => to_data(x),
        P::FileList(x) => to_data(x),
        P::TimeRequest(x) => to_data(x),
        P::TimeReply(x) => to_data(x),
        P::TimeSet(x) => to_data(x),
        P::TimeSetReply(x) => to_data(x),
        P::Info(x) => to_data(x),
        P::LogConfig(x) => to_data(x),
        P::LogEntries(x) => to_data(x),
        P::LogGet(x) => to_data(x),
        P::Alarms(x) => to_data(x),
        P::HistoryReport(x) => to_data(x),
        P::HistoryAck(x) => to_data(x),
        P::HistoryGet(x) => to_data(x),
        P::HistoryGetReply(x) => to_data(x),
        P::Empty => Value::Object(Map::new()),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// 4. Topics (`protocol::topic::TopicProfile::parse`)

static BUILTIN_PROFILE: LazyLock<TopicProfile> = LazyLock::new(TopicProfile::builtin);

/// The bytes (made UTF-8) as an incoming topic.
pub fn topic(data: &[u8]) {
    topic_check(&String::from_utf8_lossy(data));
}

/// A topic that parses builds back to itself, and the reply topic of a request parses back to
/// that reply topic.
pub fn topic_check(text: &str) {
    let profile = &*BUILTIN_PROFILE;
    match profile.parse(text) {
        Ok(parsed) => {
            let built = profile.build(&parsed).unwrap_or_else(|e| panic!("{text:?} parsed to {parsed:?}, which does not build: {e}"));
            assert_eq!(built, text, "parse then build changed the topic ({parsed:?})");
            let _ = (parsed.class_action(), parsed.request_dir());
            if let Some(spec) = parsed.spec() {
                assert_eq!((spec.class, spec.action), (parsed.class.as_str(), parsed.action.as_str()));
            }
            if !parsed.reply && parsed.class != "status" {
                let reply = parsed.reply_topic();
                let reply_text = profile.build(&reply).unwrap_or_else(|e| panic!("reply to {text:?} does not build: {e}"));
                assert_eq!(profile.parse(&reply_text).as_ref(), Ok(&reply), "reply topic {reply_text:?}");
            }
        }
        Err(err) => assert!(!err.0.is_empty()),
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Product models (`protocol::model::ModelDocument::parse`)

/// The source name every fuzzed model is parsed under; every error must carry it.
pub const MODEL_SOURCE: &str = "fuzz:model.json";

/// The example models, as mutation bases.
pub const MODEL_BASES: &[&str] = &[
    include_str!("../../product-models/energy-gateway.json"),
    include_str!("../../product-models/power-meter-3p.json"),
    include_str!("../../product-models/pcs-100.json"),
];

static BASE_VALUES: LazyLock<Vec<Value>> =
    LazyLock::new(|| MODEL_BASES.iter().map(|text| serde_json::from_str(text).expect("example model is JSON")).collect());

/// Byte 0 even: the rest is the model text. Odd: byte 1 picks an example model and the rest
/// drives up to 12 edits of its JSON ([`mutate_json`]); the result is written compact or pretty.
pub fn model(data: &[u8]) {
    let mut input = Input::new(data);
    if input.byte().is_multiple_of(2) {
        model_text(&String::from_utf8_lossy(input.rest()));
        return;
    }
    let base = input.index(BASE_VALUES.len());
    let mut value = BASE_VALUES[base].clone();
    let pretty = input.byte().is_multiple_of(2);
    mutate_json(&mut value, &mut input, MODEL_KEYS, 12);
    let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
    model_text(&text.expect("a Value serialises"));
}

/// Up to `max_edits` edits of `value` chosen by the input: replace a node, delete one, add a
/// member, duplicate an array item, set an edge number or a dictionary string.
pub fn mutate_json(value: &mut Value, input: &mut Input, keys: &[&str], max_edits: usize) {
    for _ in 0..max_edits {
        if input.is_empty() {
            return;
        }
        let op = input.byte() % 6;
        let node = select(value, input);
        match op {
            0 => *node = json_value(input, keys, 2),
            1 => match node {
                Value::Object(map) if !map.is_empty() => {
                    let i = input.index(map.len());
                    if let Some(key) = map.keys().nth(i).cloned() {
                        map.remove(&key);
                    }
                }
                Value::Array(items) if !items.is_empty() => {
                    let i = input.index(items.len());
                    items.remove(i);
                }
                _ => *node = Value::Null,
            },
            2 => {
                let key = input.word(keys);
                let member = json_value(input, keys, 2);
                match node {
                    Value::Object(map) => {
                        map.insert(key, member);
                    }
                    Value::Array(items) => items.push(member),
                    _ => *node = member,
                }
            }
            3 => {
                if let Value::Array(items) = node
                    && !items.is_empty()
                {
                    let i = input.index(items.len());
                    let copy = items[i].clone();
                    items.push(copy);
                }
            }
            4 => {
                const EDGES: &[f64] = &[0.0, -1.0, 1.0, 0.5, -0.5, 1e308, -1e308, 9.0e15, 65_536.0, 4_294_967_296.0];
                *node = match input.byte() % 4 {
                    0 => Value::from(i64::MIN),
                    1 => Value::from(u64::MAX),
                    _ => Number::from_f64(EDGES[input.index(EDGES.len())]).map_or(Value::Null, Value::Number),
                };
            }
            _ => {
                let mut all = WORDS.to_vec();
                all.extend_from_slice(keys);
                *node = Value::String(input.word(&all));
            }
        }
    }
}

/// A node of `value`: descends while the input says so and there are children.
fn select<'v>(node: &'v mut Value, input: &mut Input) -> &'v mut Value {
    let len = match &*node {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    if len == 0 || input.byte().is_multiple_of(4) {
        return node;
    }
    let i = input.index(len);
    match node {
        Value::Object(map) => match map.values_mut().nth(i) {
            Some(child) => select(child, input),
            None => unreachable!("index below the length"),
        },
        Value::Array(items) => select(&mut items[i], input),
        other => other,
    }
}

/// A valid model saves back byte-for-byte, passes again when reformatted and when rebuilt from
/// its typed form; an invalid one gets at most the capped number of errors, each naming the
/// file and a JSON path.
pub fn model_text(text: &str) {
    match ModelDocument::parse(MODEL_SOURCE, text) {
        Ok(doc) => {
            assert_eq!(doc.to_text(), text, "an unedited model must save back unchanged");
            assert_eq!(doc.source_name(), MODEL_SOURCE);
            assert!(!doc.product_key().is_empty());
            assert!(validate_value(doc.value(), MODEL_SOURCE).is_empty());
            let pretty = serde_json::to_string_pretty(doc.value()).expect("a Value serialises");
            match ModelDocument::parse(MODEL_SOURCE, &pretty) {
                Ok(again) => assert!(same_json(again.value(), doc.value())),
                Err(errors) => panic!("valid model fails once reformatted: {errors:?}"),
            }
            let mut rebuilt = doc.clone();
            if let Err(errors) = rebuilt.replace_model(doc.model()) {
                panic!("a valid model, rebuilt from its own typed form, fails: {errors:?}");
            }
            assert_eq!(rebuilt.model(), doc.model(), "rebuilding from the typed model changed it");
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused model must say why");
            assert!(errors.len() <= MAX_ERRORS_PER_FILE + 1, "{} errors listed, the cap is {MAX_ERRORS_PER_FILE} + 1", errors.len());
            for error in &errors {
                assert_eq!(error.file, MODEL_SOURCE, "error does not name the file: {error}");
                assert!(error.path.starts_with('$'), "error path {:?} is not a JSON path", error.path);
                assert!(!error.message.is_empty(), "error without a message at {}", error.path);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Energy storage (`protocol::storage`)

/// Byte 0 picks: 0 the rest as a topic ([`storage_topic`]); 1 the rest as a payload
/// ([`storage_payload`]); 2 the rest builds a JSON object with storage keys, written as a payload.
pub fn storage(data: &[u8]) {
    let mut input = Input::new(data);
    match input.byte() % 3 {
        0 => storage_topic(&String::from_utf8_lossy(input.rest())),
        1 => storage_payload(input.rest()),
        _ => {
            let value = json_object(&mut input, STORAGE_KEYS, 4);
            storage_payload(&serde_json::to_vec(&value).expect("a Value serialises"));
        }
    }
}

/// A topic that parses builds back to itself.
pub fn storage_topic(text: &str) {
    let profile = StorageProfile::default();
    let Some(parsed) = profile.parse_topic(text) else { return };
    assert!(profile.role_of(&parsed.message_type).is_some() && profile.versions.contains(&parsed.version));
    assert!(parsed.component.is_none() || parsed.device_unit.is_some());
    let built = storage::build_topic(&parsed).unwrap_or_else(|e| panic!("{text:?} parsed to {parsed:?}, which does not build: {e}"));
    assert_eq!(built, text);
}

/// A topic that builds parses back to the same parts (when its version and message type are known).
pub fn storage_topic_parts(topic: &StorageTopic) {
    let profile = StorageProfile::default();
    match storage::build_topic(topic) {
        Ok(text) => {
            let parsed = profile.parse_topic(&text);
            if profile.role_of(&topic.message_type).is_some() && profile.versions.contains(&topic.version) {
                assert_eq!(parsed.as_ref(), Some(topic), "{text:?}");
            } else {
                assert_eq!(parsed, None);
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

const STORAGE_FIELDS: &[&str] = &["t", "ns", "code", "s", "te", "d"];

/// A payload that parses writes back and parses the same; its points are exactly its numeric
/// leaves; an error names the field at fault.
pub fn storage_payload(bytes: &[u8]) {
    match storage::parse_payload(bytes) {
        Ok(parsed) => {
            let text = serde_json::to_vec(&parsed).expect("a payload serialises");
            let back = storage::parse_payload(&text).unwrap_or_else(|e| panic!("written payload does not parse: {e}"));
            assert_eq!((parsed.t, &parsed.ns, &parsed.s, &parsed.te), (back.t, &back.ns, &back.s, &back.te));
            let code_same = match (&parsed.code, &back.code) {
                (Some(a), Some(b)) => same_json(a, b),
                (a, b) => a == b,
            };
            assert!(code_same, "code changed");
            assert!(same_json(&Value::Object(parsed.d.clone()), &Value::Object(back.d.clone())), "d changed");
            storage_points(&parsed);
            let reply = parsed.reply_to(parsed.t, Map::new());
            assert_eq!((&reply.code, &reply.ns, &reply.s), (&parsed.code, &parsed.ns, &parsed.s));
            assert_eq!(reply.te.as_deref(), Some(storage::EXCHANGE_RESPONSE));
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            if let StorageError::PayloadField { field, problem } = &err {
                assert!(STORAGE_FIELDS.contains(field), "unknown field {field:?}");
                assert!(!problem.is_empty());
            }
        }
    }
}

/// `numeric_points` gives one point per number in `d`, each named under `ns.` when set.
pub fn storage_points(parsed: &StoragePayload) {
    fn numbers(value: &Value) -> usize {
        match value {
            Value::Number(_) => 1,
            Value::Array(items) => items.iter().map(numbers).sum(),
            Value::Object(map) => map.values().map(numbers).sum(),
            _ => 0,
        }
    }
    let points = storage::numeric_points(parsed);
    let expected: usize = parsed.d.values().map(numbers).sum();
    assert_eq!(points.len(), expected, "numeric_points missed or invented points");
    if let Some(ns) = parsed.ns.as_deref().filter(|ns| !ns.is_empty()) {
        let prefix = format!("{ns}.");
        assert!(points.iter().all(|p| p.name.starts_with(&prefix)), "a point is not under ns {ns:?}");
    }
    assert!(points.iter().all(|p| p.value.is_finite()));
}
