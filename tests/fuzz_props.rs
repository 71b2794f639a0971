//! The fuzz targets' checks (`fuzz/src/checks.rs`) under proptest, on stable, in `cargo test`:
//! each of the six entry points gets at least 10,000 generated inputs shaped like the fuzzers'
//! (small: at most 512 bytes, JSON three levels deep), so the invariants hold between fuzzing
//! runs too. The fuzzers themselves (`fuzz/run.sh`) go much further; see
//! docs/reliability/fuzz.md.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use cems_workbench::protocol::frame::{self, Frame, FrameKind};
use cems_workbench::protocol::storage::StorageTopic;
use cems_workbench::protocol::topic::{CemsTopic, Dir, MESSAGES, TopicProfile};
use checks::{ENVELOPE_KEYS, MODEL_BASES, PAYLOAD_EXAMPLES, PAYLOAD_KEYS, STORAGE_KEYS, WORDS};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Number, Value};

const CASES: u32 = 10_000;

fn config() -> Config {
    Config { cases: CASES, failure_persistence: None, ..Config::default() }
}

// ---------------------------------------------------------------------------------------------
// JSON shaped like the contract's

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number)),
        (-100.0f64..100.0).prop_map(|x| Number::from_f64(x).map_or(Value::Null, Value::Number)),
        text(12).prop_map(Value::String),
        prop::sample::select(WORDS).prop_map(|w| Value::String(w.to_owned())),
    ]
}

fn key(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![5 => prop::sample::select(keys).prop_map(str::to_owned), 1 => text(8)]
}

/// Up to `max` characters of any kind (cheaper than a `\\PC` regex in a debug build).
fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max).prop_map(|chars| chars.into_iter().collect())
}

/// Arrays of up to 4 and objects of up to 5 members, `depth` levels of them at most.
fn json(keys: &'static [&'static str], depth: u32) -> impl Strategy<Value = Value> {
    scalar().prop_recursive(depth, 16, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(keys), inner), 0..6).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn object(keys: &'static [&'static str], depth: u32) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(keys), json(keys, depth)), 0..6).prop_map(|members| Value::Object(members.into_iter().collect()))
}

/// Mutation bytes for `checks::mutate_json`.
fn edits() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..48)
}

/// Text as sent, or damaged: cut short, or one byte changed.
fn damaged(text: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = text.len();
    prop_oneof![
        4 => Just(text.clone()),
        1 => (0..=len).prop_map({ let t = text.clone(); move |cut| t[..cut].to_vec() }),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(move |(at, byte)| {
            let mut t = text.clone();
            if !t.is_empty() {
                let i = at.index(t.len());
                t[i] = byte;
            }
            t
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. Serial frames

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..80, 1..8)
}

fn any_frame() -> impl Strategy<Value = Frame> {
    (0u8..4, text(40), prop::collection::vec(any::<u8>(), 0..256)).prop_map(|(kind, topic, payload)| match kind {
        0 | 1 => Frame::publish(topic, payload),
        2 => Frame::ping(),
        _ => Frame { kind: FrameKind::Pong, topic, payload },
    })
}

/// Up to three valid frames back to back.
fn encoded_frames() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any_frame(), 1..4)
        .prop_map(|frames| frames.iter().filter_map(|f| frame::encode(f).ok()).flatten().collect::<Vec<u8>>())
}

/// Raw noise, or valid frames back to back with the odd byte flipped or dropped.
fn serial_stream() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        encoded_frames(),
        encoded_frames().prop_flat_map(damaged),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn frame_stream_is_independent_of_chunking(stream in serial_stream(), sizes in chunk_sizes()) {
        checks::frame_stream(&stream, &sizes);
    }

    #[test]
    fn frame_decode_encode_round_trips(
        frame in any_frame(),
        sizes in chunk_sizes(),
        garbage in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        checks::frame_round_trip(&frame, &sizes);
        checks::frame_after_garbage(&garbage, &frame, &sizes);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Envelopes

fn maybe(weight: f64, value: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(weight, value)
}

/// An object with the envelope's fields, each mostly well-formed, sometimes missing or of the
/// wrong type, plus the odd extra member.
fn envelope_value() -> impl Strategy<Value = Value> {
    let id = prop_oneof![
        4 => "[A-Za-z0-9-]{1,64}".prop_map(Value::String),
        1 => text(70).prop_map(Value::String),
        1 => scalar(),
    ];
    let ts = prop_oneof![4 => any::<i64>().prop_map(Value::from), 1 => scalar()];
    let code = prop_oneof![3 => (-10i64..10).prop_map(Value::from), 1 => scalar()];
    let msg = prop_oneof![3 => text(20).prop_map(Value::String), 1 => scalar()];
    let ver = prop_oneof![3 => Just(Value::from("1.0")), 1 => scalar()];
    let data = prop_oneof![3 => object(PAYLOAD_KEYS, 2), 1 => json(PAYLOAD_KEYS, 2)];
    let extra = prop::collection::vec((key(ENVELOPE_KEYS), scalar()), 0..2);
    (maybe(0.95, id), maybe(0.9, ts), maybe(0.4, code), maybe(0.3, msg), maybe(0.8, ver), maybe(0.9, data), extra).prop_map(
        |(id, ts, code, msg, ver, data, extra)| {
            let mut map = Map::new();
            for (name, value) in [("id", id), ("ts", ts), ("code", code), ("msg", msg), ("ver", ver), ("data", data)] {
                if let Some(value) = value {
                    map.insert(name.to_owned(), value);
                }
            }
            for (name, value) in extra {
                map.entry(name).or_insert(value);
            }
            Value::Object(map)
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn envelope_parse_names_the_field_or_round_trips(
        (value, bytes) in envelope_value().prop_flat_map(|v| {
            let text = serde_json::to_vec(&v).expect("serialises");
            (Just(v), damaged(text))
        }),
    ) {
        checks::envelope_bytes(&bytes);
        checks::envelope_value(value);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Payloads

proptest! {
    #![proptest_config(config())]

    #[test]
    fn payload_decode_keeps_raw_names_path_and_round_trips(
        row in 0..(MESSAGES.len() + 2),
        reply in any::<bool>(),
        shape in 0u8..3,
        example in 0..PAYLOAD_EXAMPLES.len(),
        random in object(PAYLOAD_KEYS, 3),
        edits in edits(),
    ) {
        let (mut class, mut action, mut reply) = checks::message_of(row as u8, u8::from(reply));
        let data = match shape {
            0 => random,
            _ => {
                let (c, a, r, text) = PAYLOAD_EXAMPLES[example];
                if shape == 1 {
                    (class, action, reply) = (c, a, r);
                }
                let mut value: Value = serde_json::from_str(text).expect("example is JSON");
                checks::mutate_json(&mut value, &mut checks::Input::new(&edits), PAYLOAD_KEYS, 6);
                value
            }
        };
        checks::payload_check(class, action, reply, &data);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Topics

fn topic_segment() -> impl Strategy<Value = String> {
    let classes: Vec<&'static str> = MESSAGES.iter().map(|m| m.class).collect();
    prop_oneof![
        3 => prop::sample::select(vec!["cems", "v1", "up", "down", "reply", "status", "chunk", "get", "request"]).prop_map(str::to_owned),
        2 => prop::sample::select(classes).prop_map(str::to_owned),
        2 => "[A-Za-z0-9_-]{1,34}",
        2 => "[A-Za-z0-9_.-]{0,66}",
        1 => text(6),
        1 => prop::sample::select(vec!["", "+", "#", ".", "..", "\u{0}", "é"]).prop_map(str::to_owned),
    ]
}

/// `cems/v1/…` most of the time, then segments of every kind.
fn topic_text() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(topic_segment(), 0..9)).prop_map(|(prefixed, segments)| {
        let mut all: Vec<String> = if prefixed { vec!["cems".into(), "v1".into()] } else { Vec::new() };
        all.extend(segments);
        all.join("/")
    })
}

/// A topic the contract can build: ids in their charsets, action segments other than `reply`.
fn buildable_topic() -> impl Strategy<Value = CemsTopic> {
    let segment = "[A-Za-z0-9_]{1,12}".prop_filter("not the reply suffix", |s| s != "reply");
    (
        "[A-Za-z0-9_-]{1,32}",
        "[A-Za-z0-9_.-]{1,64}",
        any::<bool>(),
        "[A-Za-z0-9_]{1,16}",
        prop::collection::vec(segment, 1..4),
        any::<bool>(),
    )
        .prop_map(|(pk, dev, up, class, action, reply)| {
            let dir = if up { Dir::Up } else { Dir::Down };
            let topic = CemsTopic::new(&pk, &dev, dir, &class, &action.join("/"));
            if reply { topic.reply_topic() } else { topic }
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn topic_parse_builds_back(text in topic_text()) {
        checks::topic_check(&text);
    }

    #[test]
    fn topic_build_parses_back(topic in buildable_topic()) {
        let profile = TopicProfile::builtin();
        let text = profile.build(&topic).expect("ids in their charsets build");
        prop_assert_eq!(profile.parse(&text), Ok(topic));
        checks::topic_check(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Product models

proptest! {
    // A model is 8 KB of JSON checked against a schema: fewer bytes per case than the other
    // targets would mean nothing but parse errors, so the edits are few and the cases as many.
    #![proptest_config(config())]

    #[test]
    fn model_errors_name_file_and_path(
        base in 0..MODEL_BASES.len(),
        pretty in any::<bool>(),
        edits in edits(),
        cut in any::<prop::sample::Index>(),
        text_mode in 0u8..8,
    ) {
        if text_mode == 0 {
            // The text cut short somewhere: malformed JSON, reported with its position.
            let text = MODEL_BASES[base];
            let mut end = cut.index(text.len() + 1);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            checks::model_text(&text[..end]);
        } else {
            let mut input = vec![1, base as u8, u8::from(!pretty)];
            input.extend(&edits[..edits.len().min(24)]);
            checks::model(&input);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Energy storage

fn storage_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["v1", "rt", "param", "cmd", "ems", "G1", "U1", "bms"]).prop_map(str::to_owned),
        2 => "[A-Za-z0-9_.-]{1,12}",
        1 => text(6),
        1 => prop::sample::select(vec!["", "+", "#", "\u{0}"]).prop_map(str::to_owned),
    ]
}

fn storage_value() -> impl Strategy<Value = Value> {
    let t = prop_oneof![4 => any::<i64>().prop_map(Value::from), 1 => scalar()];
    let text = prop_oneof![3 => prop::sample::select(vec!["METRIC", "CMD", "req", "resp", "U1", ""]).prop_map(Value::from), 1 => scalar()];
    let code = prop_oneof![2 => "[a-z0-9-]{1,8}".prop_map(Value::String), 2 => any::<i64>().prop_map(Value::from), 1 => scalar()];
    let d = prop_oneof![4 => object(STORAGE_KEYS, 2), 1 => json(STORAGE_KEYS, 2)];
    (maybe(0.9, t), maybe(0.5, text.clone()), maybe(0.5, code), maybe(0.5, text.clone()), maybe(0.5, text), maybe(0.9, d)).prop_map(
        |(t, ns, code, s, te, d)| {
            let mut map = Map::new();
            for (name, value) in [("t", t), ("ns", ns), ("code", code), ("s", s), ("te", te), ("d", d)] {
                if let Some(value) = value {
                    map.insert(name.to_owned(), value);
                }
            }
            Value::Object(map)
        },
    )
}

fn storage_topic_parts() -> impl Strategy<Value = StorageTopic> {
    let (unit, component) = (prop::option::of(storage_segment()), prop::option::of(storage_segment()));
    (storage_segment(), storage_segment(), storage_segment(), storage_segment(), unit, component).prop_map(
        |(version, message_type, application, group_id, device_unit, component)| StorageTopic {
            version,
            message_type,
            application,
            group_id,
            device_unit,
            component,
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn storage_parses_name_the_field_or_round_trip(
        bytes in storage_value().prop_flat_map(|v| damaged(serde_json::to_vec(&v).expect("serialises"))),
        segments in prop::collection::vec(storage_segment(), 2..8),
        parts in storage_topic_parts(),
    ) {
        checks::storage_payload(&bytes);
        checks::storage_topic(&segments.join("/"));
        checks::storage_topic_parts(&parts);
    }
}
