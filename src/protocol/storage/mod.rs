//! The energy-storage profile (contract §11): topics
//! `{version}/{message_type}/{application}/{group_id}[/{device_unit}[/{component}]]` and payloads
//! `{t, ns?, code?, s?, te?, d}` whose numeric fields are monitoring points.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

pub mod decode;
pub mod metric_map;
pub mod place;
pub mod profile;

pub use profile::{StorageProfile, TopicMatch};

/// `s` of a data report.
pub const SERVICE_METRIC: &str = "METRIC";
/// `s` of a control command.
pub const SERVICE_COMMAND: &str = "CMD";
/// `te` of a message that expects an answer.
pub const EXCHANGE_REQUEST: &str = "req";
/// `te` of an answer.
pub const EXCHANGE_RESPONSE: &str = "resp";

/// The parts of an energy-storage topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageTopic {
    /// Protocol version, first segment.
    pub version: String,
    /// How the payload is handled (`rt`, `param`, `cmd`, …).
    pub message_type: String,
    /// Application name.
    pub application: String,
    /// Logical group of edge nodes.
    pub group_id: String,
    /// Logical device unit under the group; may instead travel in the payload's `ns`.
    pub device_unit: Option<String>,
    /// Component of the device unit; only with a `device_unit`.
    pub component: Option<String>,
}

/// Joins `topic`'s parts; refuses a segment that is empty or holds `+`, `#`, `/` or NUL.
pub fn build_topic(topic: &StorageTopic) -> Result<String, StorageError> {
    if let (None, Some(component)) = (&topic.device_unit, &topic.component) {
        return Err(StorageError::ComponentWithoutDeviceUnit { component: component.clone() });
    }
    let required = [
        ("version", topic.version.as_str()),
        ("message_type", topic.message_type.as_str()),
        ("application", topic.application.as_str()),
        ("group_id", topic.group_id.as_str()),
    ];
    let optional = [("device_unit", topic.device_unit.as_deref()), ("component", topic.component.as_deref())];
    let present = optional.into_iter().filter_map(|(name, value)| Some((name, value?)));
    let mut segments = Vec::with_capacity(6);
    for (name, value) in required.into_iter().chain(present) {
        check_segment(name, value)?;
        segments.push(value);
    }
    Ok(segments.join("/"))
}

pub(crate) fn check_segment(name: &'static str, value: &str) -> Result<(), StorageError> {
    if value.is_empty() {
        return Err(StorageError::EmptySegment { segment: name });
    }
    if let Some(bad) = value.chars().find(|c| matches!(c, '+' | '#' | '/' | '\0')) {
        return Err(StorageError::ReservedChar { segment: name, value: value.to_owned(), bad });
    }
    Ok(())
}

/// One energy-storage message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoragePayload {
    /// Publish time, epoch ms.
    pub t: i64,
    /// Namespace grouping the points of `d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    /// Sequence code, a string or a number; an answer copies it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
    /// Service: `"METRIC"` or `"CMD"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    /// Exchange: `"req"` or `"resp"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub te: Option<String>,
    /// Data content.
    pub d: Map<String, Value>,
}

impl StoragePayload {
    /// A control command expecting an answer (`s: "CMD"`, `te: "req"`).
    pub fn command(t: i64, code: impl Into<Value>, d: Map<String, Value>) -> StoragePayload {
        StoragePayload {
            t,
            ns: None,
            code: Some(code.into()),
            s: Some(SERVICE_COMMAND.to_owned()),
            te: Some(EXCHANGE_REQUEST.to_owned()),
            d,
        }
    }

    /// The answer to this message: same `code`, `ns` and `s`, `te: "resp"`.
    pub fn reply_to(&self, t: i64, d: Map<String, Value>) -> StoragePayload {
        StoragePayload {
            t,
            ns: self.ns.clone(),
            code: self.code.clone(),
            s: self.s.clone(),
            te: Some(EXCHANGE_RESPONSE.to_owned()),
            d,
        }
    }
}

/// Parses a payload; the error gives the JSON line and column, or the field at fault.
///
/// Values of `s` and `te` outside the contract's lists are kept, so a deviating gateway is still
/// shown rather than refused.
pub fn parse_payload(bytes: &[u8]) -> Result<StoragePayload, StorageError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|err| StorageError::PayloadJson {
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })?;
    let Value::Object(mut object) = value else {
        return Err(StorageError::PayloadNotObject { found: json_kind(&value) });
    };
    let field_error = |field: &'static str, problem: String| StorageError::PayloadField { field, problem };

    let t = match object.remove("t") {
        None => return Err(field_error("t", "missing".to_owned())),
        Some(t) => match t.as_i64() {
            Some(t) => t,
            None => return Err(field_error("t", format!("expected an integer epoch ms, found {}", describe(&t)))),
        },
    };
    let ns = optional_string(&mut object, "ns")?;
    let code = match object.remove("code") {
        None | Some(Value::Null) => None,
        Some(code @ (Value::String(_) | Value::Number(_))) => Some(code),
        Some(other) => {
            return Err(field_error("code", format!("expected a string or number, found {}", describe(&other))));
        }
    };
    let s = optional_string(&mut object, "s")?;
    let te = optional_string(&mut object, "te")?;
    let d = match object.remove("d") {
        None => return Err(field_error("d", "missing".to_owned())),
        Some(Value::Object(d)) => d,
        Some(other) => return Err(field_error("d", format!("expected an object, found {}", describe(&other)))),
    };
    Ok(StoragePayload { t, ns, code, s, te, d })
}

/// A missing or `null` field is absent; anything but a string is an error.
fn optional_string(object: &mut Map<String, Value>, field: &'static str) -> Result<Option<String>, StorageError> {
    match object.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => {
            Err(StorageError::PayloadField { field, problem: format!("expected a string, found {}", describe(&other)) })
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The kind of `value`, with the value itself when it is short enough to quote.
fn describe(value: &Value) -> String {
    const MAX_QUOTED_CHARS: usize = 40;
    match value {
        Value::Array(_) | Value::Object(_) => json_kind(value).to_owned(),
        scalar => {
            let text = scalar.to_string();
            if text.chars().count() <= MAX_QUOTED_CHARS {
                format!("{} {text}", json_kind(value))
            } else {
                json_kind(value).to_owned()
            }
        }
    }
}

/// Why a topic could not be built or a payload parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    /// A topic segment is empty.
    #[error("{segment} is empty")]
    EmptySegment {
        /// Which segment.
        segment: &'static str,
    },
    /// A topic segment holds `+`, `#`, `/` or NUL.
    #[error("{segment} {value:?} contains {bad:?}")]
    ReservedChar {
        /// Which segment.
        segment: &'static str,
        /// Its value.
        value: String,
        /// The first reserved character found.
        bad: char,
    },
    /// A component was given without the device unit it belongs to.
    #[error("component {component:?} needs a device_unit")]
    ComponentWithoutDeviceUnit {
        /// The orphan component.
        component: String,
    },
    /// The payload is not JSON.
    #[error("payload is not valid JSON: {message}")]
    PayloadJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message, location included.
        message: String,
    },
    /// The payload is JSON but not an object.
    #[error("payload is a JSON {found}, expected an object")]
    PayloadNotObject {
        /// The JSON kind found.
        found: &'static str,
    },
    /// A payload field is missing or of the wrong type.
    #[error("payload field `{field}`: {problem}")]
    PayloadField {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// One monitoring point taken from a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct StoragePoint {
    /// Dotted path in `d` (`bms.cell.maxV`, `temps.0`), prefixed by `ns.` when present.
    pub name: String,
    /// Where the value stands in the payload, as an RFC 6901 JSON pointer (`/d/bms/cell/maxV`):
    /// what a plot of the field follows.
    pub pointer: String,
    /// The numeric value.
    pub value: f64,
}

/// Every numeric field of `payload.d` as a point, in the payload's key order, named under
/// `ns.` when the payload has one.
pub fn numeric_points(payload: &StoragePayload) -> Vec<StoragePoint> {
    match payload.ns.as_deref() {
        Some(ns) if !ns.is_empty() => points_under(&payload.d, &format!("{ns}.")),
        _ => points_under(&payload.d, ""),
    }
}

/// Every numeric field of `d` as a point named `{prefix}{dotted path}`, in key order.
/// Objects are flattened with `.`, arrays by index; booleans and strings are skipped.
pub fn points_under(d: &Map<String, Value>, prefix: &str) -> Vec<StoragePoint> {
    let mut points = Vec::new();
    // An explicit stack, children pushed in reverse: depth cannot overflow the call stack and
    // points come out in document order.
    let mut pending: Vec<(String, String, &Value)> =
        d.iter().rev().map(|(key, value)| (format!("{prefix}{key}"), format!("/d/{}", pointer_token(key)), value)).collect();
    while let Some((name, pointer, value)) = pending.pop() {
        match value {
            Value::Number(number) => {
                if let Some(value) = number.as_f64() {
                    points.push(StoragePoint { name, pointer, value });
                }
            }
            Value::Object(fields) => pending.extend(
                fields.iter().rev().map(|(key, child)| (format!("{name}.{key}"), format!("{pointer}/{}", pointer_token(key)), child)),
            ),
            Value::Array(items) => pending.extend(
                items.iter().enumerate().rev().map(|(index, child)| (format!("{name}.{index}"), format!("{pointer}/{index}"), child)),
            ),
            Value::Null | Value::Bool(_) | Value::String(_) => {}
        }
    }
    points
}

/// A key as one RFC 6901 reference token: `~` and `/` escaped.
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn topic(parts: [&str; 4], device_unit: Option<&str>, component: Option<&str>) -> StorageTopic {
        StorageTopic {
            version: parts[0].into(),
            message_type: parts[1].into(),
            application: parts[2].into(),
            group_id: parts[3].into(),
            device_unit: device_unit.map(Into::into),
            component: component.map(Into::into),
        }
    }

    #[test]
    fn topics_of_four_five_and_six_segments_round_trip() {
        let profile = StorageProfile::default();
        let cases = [
            ("v1/rt/ess/site-01", topic(["v1", "rt", "ess", "site-01"], None, None)),
            ("v1/param/ess/site-01/pcs1", topic(["v1", "param", "ess", "site-01"], Some("pcs1"), None)),
            ("v1/cmd/ess/储能站/bms1/cluster2", topic(["v1", "cmd", "ess", "储能站"], Some("bms1"), Some("cluster2"))),
        ];
        for (text, parts) in cases {
            assert_eq!(profile.parse_topic(text).as_ref(), Some(&parts), "{text}");
            assert_eq!(build_topic(&parts).unwrap(), text);
        }
    }

    #[test]
    fn parse_topic_rejects() {
        let profile = StorageProfile::default();
        for bad in [
            "v1/rt/ess",
            "v1/rt/ess/g/u/c/extra",
            "v1/event/ess/g",
            "v1/RT/ess/g",
            "v1/rt//g",
            "v1/rt/ess/g/",
            "/rt/ess/g",
            "v1/rt/ess/g+",
            "v1/rt/ess/#",
            "v1/rt/ess/g\0",
            "",
        ] {
            assert_eq!(profile.parse_topic(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_custom_profile_accepts_its_own_message_types() {
        let profile = StorageProfile { other_types: vec!["event".into()], realtime: "rt2".into(), ..StorageProfile::default() };
        assert!(profile.parse_topic("v1/event/ess/g").is_some());
        assert!(profile.parse_topic("v1/rt/ess/g").is_none());
    }

    #[test]
    fn build_topic_names_the_bad_segment() {
        let err = build_topic(&topic(["v1", "rt", "ess", "a/b"], None, None)).unwrap_err();
        assert_eq!(err.to_string(), "group_id \"a/b\" contains '/'");
        let err = build_topic(&topic(["v1", "rt", "", "g"], None, None)).unwrap_err();
        assert_eq!(err.to_string(), "application is empty");
        let err = build_topic(&topic(["v1", "rt", "ess", "g"], Some("u+"), None)).unwrap_err();
        assert_eq!(err.to_string(), "device_unit \"u+\" contains '+'");
        let err = build_topic(&topic(["v1", "rt", "ess", "g"], Some("u"), Some("c#"))).unwrap_err();
        assert_eq!(err.to_string(), "component \"c#\" contains '#'");
        let err = build_topic(&topic(["v\0", "rt", "ess", "g"], None, None)).unwrap_err();
        assert!(matches!(err, StorageError::ReservedChar { segment: "version", bad: '\0', .. }));
        let err = build_topic(&topic(["v1", "rt", "ess", "g"], None, Some("c"))).unwrap_err();
        assert_eq!(err, StorageError::ComponentWithoutDeviceUnit { component: "c".into() });
    }

    #[test]
    fn payload_parses_and_serializes_with_absent_fields_skipped() {
        let bytes = br#"{"t":1700000000000,"d":{"p":1.5}}"#;
        let payload = parse_payload(bytes).unwrap();
        assert_eq!(payload.ns, None);
        assert_eq!(serde_json::to_vec(&payload).unwrap(), bytes.to_vec());

        let full = br#"{"t":1,"ns":"pcs","code":"A7","s":"METRIC","te":"req","d":{}}"#;
        let payload = parse_payload(full).unwrap();
        assert_eq!(payload.code, Some(json!("A7")));
        assert_eq!(serde_json::to_vec(&payload).unwrap(), full.to_vec());
        let via_serde: StoragePayload = serde_json::from_slice(full).unwrap();
        assert_eq!(via_serde, payload);
    }

    #[test]
    fn payload_errors_say_where() {
        let err = parse_payload(b"{\"t\": 1,\n \"d\": {\"p\": }}").unwrap_err();
        let StorageError::PayloadJson { line, column, .. } = err else { panic!("{err}") };
        assert_eq!((line, column), (2, 13));

        let cases: [(&[u8], &str); 9] = [
            (b"[1,2]", "payload is a JSON array, expected an object"),
            (br#"{"d":{}}"#, "payload field `t`: missing"),
            (br#"{"t":"now","d":{}}"#, "payload field `t`: expected an integer epoch ms, found string \"now\""),
            (br#"{"t":1.5,"d":{}}"#, "payload field `t`: expected an integer epoch ms, found number 1.5"),
            (br#"{"t":1}"#, "payload field `d`: missing"),
            (br#"{"t":1,"d":[1]}"#, "payload field `d`: expected an object, found array"),
            (br#"{"t":1,"ns":3,"d":{}}"#, "payload field `ns`: expected a string, found number 3"),
            (br#"{"t":1,"code":true,"d":{}}"#, "payload field `code`: expected a string or number, found boolean true"),
            (br#"{"t":1,"te":{},"d":{}}"#, "payload field `te`: expected a string, found object"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(parse_payload(bytes).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn command_and_reply_share_the_code() {
        let mut d = Map::new();
        d.insert("pcsSetP".into(), json!(-50.0));
        let command = StoragePayload::command(1_700_000_000_000, 42, d);
        assert_eq!(
            serde_json::to_value(&command).unwrap(),
            json!({"t": 1_700_000_000_000i64, "code": 42, "s": "CMD", "te": "req", "d": {"pcsSetP": -50.0}})
        );
        let reply = command.reply_to(1_700_000_000_050, Map::new());
        assert_eq!(reply.code, Some(json!(42)));
        assert_eq!(reply.te.as_deref(), Some("resp"));
        assert_eq!(reply.s.as_deref(), Some("CMD"));
        assert_eq!(reply.t, 1_700_000_000_050);
    }

    #[test]
    fn numeric_points_of_a_pcs_bms_report() {
        let bytes = br#"{
            "t": 1700000000000, "ns": "unit1", "s": "METRIC",
            "d": {
                "pcs": {"runState": "charging", "p": -250.5, "q": 12, "gridOk": true, "u": [400.1, 399.8, 401.0]},
                "bms": {"soc": 63.5, "soh": 98, "cell": {"maxV": 3.412, "minV": 3.398, "maxT": 31}, "fault": null},
                "temps": [25, {"inlet": 22.5}],
                "alarmText": "none"
            }
        }"#;
        let payload = parse_payload(bytes).unwrap();
        let points: Vec<(String, f64)> = numeric_points(&payload).into_iter().map(|p| (p.name, p.value)).collect();
        let expected = [
            ("unit1.pcs.p", -250.5),
            ("unit1.pcs.q", 12.0),
            ("unit1.pcs.u.0", 400.1),
            ("unit1.pcs.u.1", 399.8),
            ("unit1.pcs.u.2", 401.0),
            ("unit1.bms.soc", 63.5),
            ("unit1.bms.soh", 98.0),
            ("unit1.bms.cell.maxV", 3.412),
            ("unit1.bms.cell.minV", 3.398),
            ("unit1.bms.cell.maxT", 31.0),
            ("unit1.temps.0", 25.0),
            ("unit1.temps.1.inlet", 22.5),
        ];
        let expected: Vec<(String, f64)> = expected.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(points, expected);

        let without_ns = StoragePayload { ns: None, ..payload };
        assert_eq!(numeric_points(&without_ns)[0].name, "pcs.p");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut value = json!(1);
        for _ in 0..20_000 {
            value = Value::Array(vec![value]);
        }
        let mut d = Map::new();
        d.insert("x".into(), value);
        let payload = StoragePayload { t: 0, ns: None, code: None, s: None, te: None, d };
        let points = numeric_points(&payload);
        assert_eq!(points.len(), 1);
        assert!(points[0].name.ends_with(".0"));
        // serde_json's own drop of a deep Value recurses; leak it rather than test serde_json.
        std::mem::forget(payload);
    }

    fn segment() -> impl Strategy<Value = String> {
        "[^/+#\\x00]{1,12}"
    }

    proptest! {
        #[test]
        fn build_then_parse_round_trips(
            parts in (Just("v1".to_owned()), prop::sample::select(vec!["rt", "param", "cmd"]), segment(), segment()),
            device_unit in prop::option::of(segment()),
            component in prop::option::of(segment()),
        ) {
            let component = device_unit.as_ref().and(component);
            let original = StorageTopic {
                version: parts.0,
                message_type: parts.1.to_owned(),
                application: parts.2,
                group_id: parts.3,
                device_unit,
                component,
            };
            let text = build_topic(&original).unwrap();
            prop_assert_eq!(StorageProfile::default().parse_topic(&text), Some(original));
        }

        #[test]
        fn parse_then_build_gives_the_topic_back(text in "[a-z/+#]{0,30}") {
            let mut text = text;
            text.insert_str(0, "v1/rt/");
            if let Some(parsed) = StorageProfile::default().parse_topic(&text) {
                prop_assert_eq!(build_topic(&parsed).unwrap(), text);
            }
        }

        #[test]
        fn arbitrary_payload_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(payload) = parse_payload(&bytes) {
                let _ = numeric_points(&payload);
            }
        }

        #[test]
        fn serialized_payloads_parse_back(keys in prop::collection::vec("[a-z]{1,3}", 0..6), quarters in any::<i32>()) {
            // Quarters are exact in decimal, so the float survives serde_json's default parser.
            let n = f64::from(quarters) / 4.0;
            let mut d = Map::new();
            for key in keys {
                d.insert(key, json!({"n": n, "a": [n, "s", true]}));
            }
            let payload = StoragePayload { t: 0, ns: Some("ns".into()), code: None, s: None, te: None, d };
            let bytes = serde_json::to_vec(&payload).unwrap();
            prop_assert_eq!(parse_payload(&bytes).unwrap(), payload);
        }
    }
}
