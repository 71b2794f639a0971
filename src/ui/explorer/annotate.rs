//! What a received message means: its topic taken apart (CEMS or energy-storage profile), its
//! envelope and `data` checked, and notes for JSON paths from the contract and the product
//! models (point names, units, enum labels, quality, return codes, failed items, times). The
//! model-derived notes come from `protocol::model::describe`, which the CLI's `notes` share.
//! Pure: the message view calls [`annotate`] once per message and caches the result.

use std::collections::HashMap;

use serde_json::Value;

use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, MAX_PAYLOAD_BYTES, parse_envelope_value};
use crate::protocol::model::describe::{self, DataRef, pointer_push};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::{SubRef, decode};
use crate::protocol::storage::{StoragePoint, StorageProfile, StorageTopic, numeric_points, parse_payload};
use crate::protocol::topic::{CemsTopic, MessageKind, TopicProfile};
use crate::ui::i18n;

/// How a note is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    /// Something an engineer should look at: unknown point, bad quality, failure code.
    Warn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub text: String,
    pub tone: Tone,
}

impl Note {
    fn info(text: impl Into<String>) -> Self {
        Note { text: text.into(), tone: Tone::Info }
    }

    fn warn(text: impl Into<String>) -> Self {
        Note { text: text.into(), tone: Tone::Warn }
    }
}

/// Where a payload stops being JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl JsonError {
    pub fn from_serde(e: &serde_json::Error) -> Self {
        let text = e.to_string();
        // serde_json appends " at line L column C"; the position is kept in its own fields.
        let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(head, _)| head).to_owned();
        JsonError { line: e.line(), column: e.column(), message }
    }
}

/// Which profile a topic belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Protocol {
    Cems(CemsTopic),
    Storage(StorageTopic),
    Other,
}

/// A message with its meaning attached.
#[derive(Debug, Clone)]
pub struct Annotated {
    pub protocol: Protocol,
    pub json: Result<Value, JsonError>,
    /// Lines shown above the payload: kind, gateway, id, return code.
    pub summary: Vec<Note>,
    /// Parse errors of the envelope, `data` or energy-storage payload: which field, where.
    pub errors: Vec<String>,
    /// Notes by JSON pointer (`/data/points/0`).
    pub notes: HashMap<String, Note>,
    /// The numeric points of an energy-storage payload's `d`.
    pub storage_points: Vec<StoragePoint>,
}

/// The catalogue in one language, called as `t.tr(key)` so the catalogue test sees every key.
#[derive(Debug, Clone, Copy)]
struct Texts(Lang);

impl Texts {
    fn tr(self, key: &'static str) -> &'static str {
        i18n::tr(self.0, key)
    }
}

// The model-derived notes live in protocol, shared with the CLI; these two are re-exported for
// the explorer's other views.
pub use crate::protocol::model::describe::{both_names, short_value};

/// Keys whose integer values are epoch ms in the contract's and the storage profile's payloads.
const TIME_KEYS: &[&str] = &["ts", "t", "from", "to", "time", "t1", "t2", "t3", "before", "mtime"];

/// Epoch ms between 1973 and 5138: anything else under a time key is not shown as a date.
fn plausible_epoch_ms(value: &Value) -> Option<i64> {
    value.as_i64().filter(|ms| (100_000_000_000..100_000_000_000_000).contains(ms))
}

/// Annotates one message of `topic`.
/// `declared`: the product keys the gateway gave for its sub-devices (`Info.subs`), if known.
pub fn annotate(topic: &str, payload: &[u8], profile: &TopicProfile, models: &ModelSet, declared: &[SubRef], lang: Lang) -> Annotated {
    let json = serde_json::from_slice::<Value>(payload).map_err(|e| JsonError::from_serde(&e));
    let protocol = match profile.parse(topic) {
        Ok(cems) => Protocol::Cems(cems),
        Err(_) => StorageProfile::default().parse_topic(topic).map_or(Protocol::Other, Protocol::Storage),
    };
    let mut out = Annotated {
        protocol: protocol.clone(),
        json: json.clone(),
        summary: Vec::new(),
        errors: Vec::new(),
        notes: HashMap::new(),
        storage_points: Vec::new(),
    };
    let t = Texts(lang);
    match &protocol {
        Protocol::Cems(cems) => annotate_cems(cems, payload.len(), json.as_ref().ok(), models, declared, lang, &mut out),
        Protocol::Storage(storage) => {
            out.summary.push(Note::info(storage_summary(storage, t)));
            match parse_payload(payload) {
                Ok(p) => {
                    let mut parts = Vec::new();
                    if let Some(ns) = &p.ns {
                        parts.push(format!("ns {ns}"));
                    }
                    if let Some(s) = &p.s {
                        parts.push(format!("s {s}"));
                    }
                    if let Some(te) = &p.te {
                        parts.push(format!("te {te}"));
                    }
                    if let Some(code) = &p.code {
                        parts.push(format!("code {code}"));
                    }
                    if !parts.is_empty() {
                        out.summary.push(Note::info(parts.join(" · ")));
                    }
                    out.storage_points = numeric_points(&p);
                }
                Err(e) => out.errors.push(format!("{}: {e}", t.tr("Energy-storage payload"))),
            }
        }
        Protocol::Other => {}
    }
    if let Ok(value) = &json {
        time_notes(value, "", None, &mut out.notes);
    }
    out
}

fn storage_summary(s: &StorageTopic, t: Texts) -> String {
    let kind = match s.message_type.as_str() {
        "rt" => t.tr("realtime data"),
        "param" => t.tr("parameter configuration"),
        "cmd" => t.tr("control command"),
        _ => "",
    };
    let mut place = vec![s.application.as_str(), s.group_id.as_str()];
    place.extend(s.device_unit.as_deref());
    place.extend(s.component.as_deref());
    let kind = if kind.is_empty() { s.message_type.clone() } else { format!("{} ({kind})", s.message_type) };
    format!("{} {} {kind} · {}", t.tr("Energy storage"), s.version, place.join("/"))
}

fn kind_text(cems: &CemsTopic, t: Texts) -> &'static str {
    if cems.reply {
        return t.tr("reply");
    }
    match cems.spec().map(|s| s.kind) {
        Some(MessageKind::Status) => t.tr("status"),
        Some(MessageKind::Report) => t.tr("report"),
        Some(MessageKind::Request) => t.tr("request"),
        None => t.tr("not in the contract"),
    }
}

fn annotate_cems(cems: &CemsTopic, size: usize, json: Option<&Value>, models: &ModelSet, declared: &[SubRef], lang: Lang, out: &mut Annotated) {
    let t = Texts(lang);
    let known = if cems.spec().is_some() { Tone::Info } else { Tone::Warn };
    out.summary.push(Note {
        text: format!("CEMS {} {} · {} {}/{}", kind_text(cems, t), cems.class_action(), t.tr("gateway"), cems.pk, cems.dev),
        tone: known,
    });
    let gateway = GatewayModels::new(models, &cems.pk, declared);
    if gateway.gateway.is_none() {
        out.summary.push(Note::warn(format!("{} {}", t.tr("No product model loaded for"), cems.pk)));
    }
    let Some(json) = json else { return };
    if size > MAX_PAYLOAD_BYTES {
        out.errors.push(format!("{}: {size} B > {MAX_PAYLOAD_BYTES} B", t.tr("Envelope")));
        return;
    }
    let envelope = match parse_envelope_value(json.clone()) {
        Ok(envelope) => envelope,
        Err(e) => {
            out.errors.push(format!("{}: {}", t.tr("Envelope"), e.reason));
            return;
        }
    };
    out.summary.push(Note::info(format!("id {}", envelope.id())));
    let reply = matches!(envelope, Envelope::Reply(_));
    match &envelope {
        Envelope::Reply(r) => {
            let meaning = codes::meaning(r.code, r.msg.as_deref()).describe(lang == Lang::Zh);
            let note = if r.code == codes::OK { Note::info(meaning) } else { Note::warn(meaning) };
            out.summary.push(Note { text: format!("{} {}", t.tr("code"), note.text), tone: note.tone });
            out.notes.insert("/code".into(), note);
            if !cems.reply {
                out.errors.push(t.tr("Envelope: a reply (it has a code) on a topic that is not a reply topic").to_owned());
            }
        }
        Envelope::Request(r) => {
            if cems.reply {
                out.errors.push(t.tr("Envelope: a reply topic carries no code").to_owned());
            }
            if r.ver != crate::protocol::envelope::PROTOCOL_VERSION {
                out.notes.insert("/ver".into(), Note::warn(t.tr("unexpected protocol version")));
            }
        }
    }
    let data = envelope.data();
    // A failed reply carries no result (`Reply::error` sends `{}`), except where the contract has
    // it list the failed items (`property/set`, `port/set`, §3): those are typed like successes.
    let failed = matches!(&envelope, Envelope::Reply(r) if r.code != codes::OK);
    if cems.spec().is_some()
        && (!failed || describe::reply_lists_failures(&cems.class, &cems.action))
        && let Err(e) = decode(&cems.class, &cems.action, reply, data).typed
    {
        out.errors.push(format!("{e}"));
    }
    let msg = DataRef::new(&cems.class, &cems.action, reply, &cems.dev, data);
    for note in describe::describe_data(&msg, &gateway, lang) {
        let shown = if note.warn { Note::warn(note.text) } else { Note::info(note.text) };
        if note.pointer == "/data/failed" {
            // "2 failed" belongs with the code above the payload, where a failure is looked for.
            out.summary.push(shown.clone());
        }
        out.notes.insert(note.pointer, shown);
    }
    quality_notes(data, lang, &mut out.notes);
}

/// The quality of each point in words, on its `q` (the point's own note has it too, but an
/// engineer scanning for a bad `q` looks at the field).
fn quality_notes(data: &Value, lang: Lang, notes: &mut HashMap<String, Note>) {
    let Some(points) = data.get("points").and_then(Value::as_array) else { return };
    for (i, point) in points.iter().enumerate() {
        if point.get("pid").is_none() || point.get("v").is_none() {
            continue;
        }
        if let Some(q) = point.get("q").and_then(Value::as_u64) {
            let quality = describe::quality_words(q, lang);
            notes.insert(format!("/data/points/{i}/q"), if q == 0 { Note::info(quality) } else { Note::warn(quality) });
        }
    }
}

/// A date note on every time field, unless a more specific note is already there.
fn time_notes(value: &Value, pointer: &str, key: Option<&str>, notes: &mut HashMap<String, Note>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                time_notes(v, &pointer_push(pointer, k), Some(k), notes);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                time_notes(v, &format!("{pointer}/{i}"), None, notes);
            }
        }
        _ => {
            if key.is_some_and(|k| TIME_KEYS.contains(&k))
                && let Some(ms) = plausible_epoch_ms(value)
            {
                notes.entry(pointer.to_owned()).or_insert_with(|| Note::info(crate::ui::format::format_utc_ms(ms)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(topic: &str, payload: &Value, lang: Lang) -> Annotated {
        let bytes = serde_json::to_vec(payload).expect("json");
        annotate(topic, &bytes, &TopicProfile::builtin(), &ModelSet::builtin(), &[], lang)
    }

    #[test]
    fn point_of_a_sub_device_is_found_through_the_gateway_sub_products() {
        let payload = json!({"id": "r1", "ts": 1_700_000_000_000i64, "ver": "1.0", "data": {"points": [
            {"sub": "meter-1", "pid": "Ua", "v": 231.5, "q": 0, "ts": 1_700_000_000_000i64},
            {"sub": "pcs-1", "pid": "runState", "v": 2, "q": 2, "ts": 1_700_000_000_000i64},
            {"sub": "GW-T", "pid": "cpuLoad", "v": 12, "q": 0, "ts": 1},
            {"sub": "meter-1", "pid": "nope", "v": 1, "q": 0, "ts": 1}]}});
        let a = run("cems/v1/PK-GW-01/GW-T/up/point/report", &payload, Lang::En);
        assert!(matches!(a.protocol, Protocol::Cems(_)));
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        let note = |p: &str| a.notes.get(p).cloned().unwrap_or_else(|| panic!("no note at {p}: {:?}", a.notes));
        assert_eq!(note("/data/points/0"), Note::info("Ua: 231.5 V (A相电压 / Phase A voltage, quality good)"));
        assert_eq!(note("/data/points/1").tone, Tone::Warn, "stale quality");
        assert!(note("/data/points/1").text.starts_with("runState: 2 = Discharging ("), "{:?}", note("/data/points/1"));
        assert!(note("/data/points/2").text.starts_with("cpuLoad: 12 %"), "{:?}", note("/data/points/2"));
        assert_eq!(note("/data/points/3").tone, Tone::Warn);
        assert_eq!(note("/data/points/0/q").text, "good");
        assert_eq!(note("/ts").text, "2023-11-14 22:13:20.000 UTC");
        assert!(!a.notes.contains_key("/data/points/2/ts"), "1 ms is not shown as a date");
        assert!(a.summary[0].text.contains("report point/report"), "{:?}", a.summary);

        let zh = run("cems/v1/PK-GW-01/GW-T/up/point/report", &payload, Lang::Zh);
        assert_eq!(zh.notes["/data/points/0"].text, "Ua: 231.5 V (A相电压 / Phase A voltage, 品质 正常)");
    }

    #[test]
    fn reply_code_is_named_in_the_ui_language() {
        let payload = json!({"id": "q1", "ts": 1, "code": 7, "msg": "no such point", "data": {}});
        let a = run("cems/v1/PK-GW-01/GW-T/up/point/get/reply", &payload, Lang::En);
        assert_eq!(a.notes["/code"], Note::warn("7 not_found (sub-device, point, file or task unknown)"));
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        let zh = run("cems/v1/PK-GW-01/GW-T/up/point/get/reply", &payload, Lang::Zh);
        assert_eq!(zh.notes["/code"].text, "7 not_found (子设备、测点、文件或任务不存在)");
    }

    #[test]
    fn malformed_envelopes_and_data_say_which_field() {
        let a = run("cems/v1/PK-GW-01/GW-T/up/point/report", &json!({"id": "1", "ts": "soon", "ver": "1.0", "data": {}}), Lang::En);
        assert_eq!(a.errors, ["Envelope: ts: expected integer epoch ms, found string"]);
        let a = run(
            "cems/v1/PK-GW-01/GW-T/up/point/report",
            &json!({"id": "1", "ts": 1, "ver": "1.0", "data": {"points": [{"sub": "m", "pid": "Ua", "v": [1], "ts": 1}]}}),
            Lang::En,
        );
        assert_eq!(a.errors.len(), 1);
        assert!(a.errors[0].starts_with("data.points[0].v: "), "{:?}", a.errors);
        let bad = annotate("cems/v1/PK-GW-01/GW-T/up/info/report", b"{\"id\": 1,", &TopicProfile::builtin(), &ModelSet::builtin(), &[], Lang::En);
        let Err(e) = &bad.json else { panic!("not JSON") };
        assert_eq!((e.line, e.column), (1, 9));
        assert!(!e.message.contains("at line"));
    }

    #[test]
    fn storage_payloads_show_their_numeric_points() {
        let payload = json!({"t": 1_700_000_000_000i64, "ns": "bms", "s": "METRIC", "d": {"soc": 87.5, "cell": {"maxV": 3.41}, "mode": "run"}});
        let a = run("v1/rt/ess/group1/unit1", &payload, Lang::En);
        assert!(matches!(a.protocol, Protocol::Storage(_)));
        let names: Vec<_> = a.storage_points.iter().map(|p| (p.name.as_str(), p.value)).collect();
        assert_eq!(names, [("bms.soc", 87.5), ("bms.cell.maxV", 3.41)]);
        assert!(a.summary[0].text.contains("realtime data"), "{:?}", a.summary);
        assert_eq!(a.notes["/t"].text, "2023-11-14 22:13:20.000 UTC");
        let bad = run("v1/rt/ess/group1", &json!({"d": {}}), Lang::En);
        assert_eq!(bad.errors, ["Energy-storage payload: payload field `t`: missing"]);
        assert!(matches!(run("plain/topic", &json!({}), Lang::En).protocol, Protocol::Other));
    }

    #[test]
    fn other_cems_items_are_named() {
        let a = run(
            "cems/v1/PK-GW-01/GW-T/up/meter/report",
            &json!({"id": "1", "ts": 1, "ver": "1.0", "data": {"readings": [{"sub": "meter-1", "ts": 1, "values": {"EpImp": 12.5}}]}}),
            Lang::En,
        );
        assert!(a.notes["/data/readings/0/values/EpImp"].text.starts_with("EpImp: 12.5 kWh ("));
        let a = run(
            "cems/v1/PK-GW-01/GW-T/down/command/request",
            &json!({"id": "1", "ts": 1, "ver": "1.0", "data": {"cmd": "reboot", "params": {}}}),
            Lang::En,
        );
        assert_eq!(a.notes["/data/cmd"].tone, Tone::Info);
        let a = run("cems/v1/PK-GW-01/GW-T/up/status", &json!({"id": "1", "ts": 1, "ver": "1.0", "data": {"online": false}}), Lang::En);
        assert_eq!(a.notes["/data/online"], Note::warn("offline"));
    }

    #[test]
    fn a_partly_failed_set_names_each_failed_item() {
        let payload = json!({"id": "s1", "ts": 1, "code": 4, "msg": "1 of 2 failed", "data": {"failed": [
            {"key": "reportPeriod", "code": 4, "msg": "above max 3600"}]}});
        let a = run("cems/v1/PK-GW-01/GW-T/up/property/set/reply", &payload, Lang::En);
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        assert_eq!(a.notes["/code"].tone, Tone::Warn);
        let item = &a.notes["/data/failed/0"];
        assert_eq!(item.tone, Tone::Warn);
        assert!(item.text.starts_with("failed: reportPeriod (") && item.text.ends_with("— 4 bad_param: above max 3600"), "{item:?}");
        assert!(a.summary.iter().any(|n| n.text == "1 failed"), "{:?}", a.summary);
        // The failed list is typed, so a malformed one is reported by field.
        let bad = json!({"id": "s1", "ts": 1, "code": 4, "data": {"failed": [{"key": "x"}]}});
        let a = run("cems/v1/PK-GW-01/GW-T/up/property/set/reply", &bad, Lang::En);
        assert_eq!(a.errors.len(), 1, "{:?}", a.errors);
        assert!(a.errors[0].starts_with("data.failed[0]"), "{:?}", a.errors);
        // Other failed replies carry no result and are not typed.
        let a = run("cems/v1/PK-GW-01/GW-T/up/point/get/reply", &json!({"id": "q", "ts": 1, "code": 7, "data": {}}), Lang::En);
        assert!(a.errors.is_empty(), "{:?}", a.errors);
    }
}
