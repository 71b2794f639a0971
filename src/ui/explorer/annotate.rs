//! What a received message means: its topic taken apart (CEMS or energy-storage profile), its
//! envelope and `data` checked, and notes for JSON paths from the contract and the product
//! models (point names, units, enum labels, quality, return codes, times). Pure: the message view
//! calls [`annotate`] once per message and caches the result.

use std::collections::HashMap;

use serde_json::Value;

use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, MAX_PAYLOAD_BYTES, parse_envelope_value};
use crate::protocol::model::{Lang, LocalizedText, ModelSet, PointDef};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::payload::{SubRef, decode, quality_text};
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

/// Both languages of a model text when it has both (`A相电压 / Phase A voltage`): an engineer
/// reads the Chinese of the nameplate and the English of the vendor's manual.
pub fn both_names(text: &LocalizedText, lang: Lang) -> String {
    match (text.zh.as_deref(), text.en.as_deref()) {
        (Some(zh), Some(en)) if !zh.is_empty() && !en.is_empty() && zh != en => format!("{zh} / {en}"),
        _ => text.get(lang).to_owned(),
    }
}

/// A JSON value as a short text: strings quoted, long values cut.
pub fn short_value(value: &Value, max_chars: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

/// `Ua: 231.5 V (A相电压 / Phase A voltage, quality good)`; an enum value with its label.
pub fn point_note(pid: &str, v: &Value, q: Option<u64>, def: Option<&PointDef>, lang: Lang) -> Note {
    let t = Texts(lang);
    let mut value = short_value(v, 40);
    let mut inside = Vec::new();
    match def {
        Some(def) => {
            if let Some(label) = def.enum_label(v, lang) {
                value = format!("{value} = {label}");
            } else if let Some(unit) = def.spec.unit.as_deref().filter(|u| !u.is_empty()) {
                value = format!("{value} {unit}");
            }
            inside.push(both_names(&def.name, lang));
        }
        None => inside.push(t.tr("not in the product model").to_owned()),
    }
    if let Some(q) = q {
        let quality = u8::try_from(q).map_or(quality_text(u8::MAX, lang == Lang::Zh), |q| quality_text(q, lang == Lang::Zh));
        inside.push(format!("{} {quality}", t.tr("quality")));
    }
    let text = format!("{pid}: {value} ({})", inside.join(", "));
    if def.is_none() || q.is_some_and(|q| q != 0) { Note::warn(text) } else { Note::info(text) }
}

/// Keys whose integer values are epoch ms in the contract's and the storage profile's payloads.
const TIME_KEYS: &[&str] = &["ts", "t", "from", "to", "time", "t1", "t2", "t3", "before", "mtime"];

/// Epoch ms between 1973 and 5138: anything else under a time key is not shown as a date.
fn plausible_epoch_ms(value: &Value) -> Option<i64> {
    value.as_i64().filter(|ms| (100_000_000_000..100_000_000_000_000).contains(ms))
}

fn pointer_push(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
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
    // A failed reply carries no result (`Reply::error` sends `{}`): only successes are typed.
    let failed = matches!(&envelope, Envelope::Reply(r) if r.code != codes::OK);
    if cems.spec().is_some()
        && !failed
        && let Err(e) = decode(&cems.class, &cems.action, reply, data).typed
    {
        out.errors.push(format!("{e}"));
    }
    annotate_data(cems, data, &gateway, lang, &mut out.notes);
}

/// Notes on `data` from the product models; tolerant of a `data` that failed typing, so what
/// can be read still is.
fn annotate_data(cems: &CemsTopic, data: &Value, models: &GatewayModels<'_>, lang: Lang, notes: &mut HashMap<String, Note>) {
    let t = Texts(lang);
    let dev = cems.dev.as_str();
    if let Some(points) = data.get("points").and_then(Value::as_array) {
        for (i, point) in points.iter().enumerate() {
            let (Some(pid), Some(v)) = (point.get("pid").and_then(Value::as_str), point.get("v")) else { continue };
            let sub = point.get("sub").and_then(Value::as_str);
            let def = models.point(sub, dev, pid);
            let q = point.get("q").and_then(Value::as_u64);
            let pointer = format!("/data/points/{i}");
            notes.insert(pointer.clone(), point_note(pid, v, q, def, lang));
            if let Some(q) = q {
                let quality = u8::try_from(q).map_or(quality_text(u8::MAX, lang == Lang::Zh), |q| quality_text(q, lang == Lang::Zh));
                let note = if q == 0 { Note::info(quality) } else { Note::warn(quality) };
                notes.insert(format!("{pointer}/q"), note);
            }
        }
    }
    // point/set: {sub, pid, value}
    if let (Some(pid), Some(value)) = (data.get("pid").and_then(Value::as_str), data.get("value")) {
        let sub = data.get("sub").and_then(Value::as_str);
        let def = models.point(sub, dev, pid);
        notes.insert("/data/value".into(), point_note(pid, value, None, def, lang));
    }
    if let Some(readings) = data.get("readings").and_then(Value::as_array) {
        for (i, reading) in readings.iter().enumerate() {
            let sub = reading.get("sub").and_then(Value::as_str);
            let Some(values) = reading.get("values").and_then(Value::as_object) else { continue };
            for (id, value) in values {
                let def = models.candidates(sub, dev).into_iter().find_map(|m| m.meter(id));
                let note = match def {
                    Some(def) => {
                        let unit = def.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                        Note::info(format!("{id}: {}{unit} ({})", short_value(value, 40), both_names(&def.name, lang)))
                    }
                    None => Note::warn(format!("{id}: {} ({})", short_value(value, 40), t.tr("not in the product model"))),
                };
                notes.insert(pointer_push(&format!("/data/readings/{i}/values"), id), note);
            }
        }
    }
    if let Some(props) = data.get("props").and_then(Value::as_object) {
        for (key, value) in props {
            let def = models.candidates(None, dev).into_iter().find_map(|m| m.property(key));
            let note = match def {
                Some(def) => {
                    let mut shown = short_value(value, 40);
                    if let Some(label) = def.spec.enum_labels.as_ref().and_then(|e| e.label_of(value, lang)) {
                        shown = format!("{shown} = {label}");
                    } else if let Some(unit) = def.spec.unit.as_deref() {
                        shown = format!("{shown} {unit}");
                    }
                    Note::info(format!("{key}: {shown} ({})", both_names(&def.name, lang)))
                }
                None => Note::warn(format!("{key}: {}", t.tr("not in the product model"))),
            };
            notes.insert(pointer_push("/data/props", key), note);
        }
    }
    if let Some(alarms) = data.get("alarms").and_then(Value::as_array) {
        for (i, alarm) in alarms.iter().enumerate() {
            let Some(kind) = alarm.get("type").and_then(Value::as_str) else { continue };
            let sub = alarm.get("sub").and_then(Value::as_str);
            let name = models
                .candidates(sub, dev)
                .into_iter()
                .find_map(|m| m.alarm(kind))
                .map_or_else(|| t.tr("not in the product model").to_owned(), |def| both_names(&def.name, lang));
            let mut text = format!("{kind} ({name})");
            if let Some(level) = alarm.get("level").and_then(Value::as_u64) {
                text.push_str(&format!(", {} {level}", t.tr("level")));
            }
            let state = alarm.get("state").and_then(Value::as_str);
            match state {
                Some("raised") => text.push_str(&format!(", {}", t.tr("raised"))),
                Some("cleared") => text.push_str(&format!(", {}", t.tr("cleared"))),
                _ => {}
            }
            let note = if state == Some("raised") { Note::warn(text) } else { Note::info(text) };
            notes.insert(format!("/data/alarms/{i}"), note);
        }
    }
    if cems.class == "command"
        && let Some(cmd) = data.get("cmd").and_then(Value::as_str)
    {
        let sub = data.get("sub").and_then(Value::as_str);
        let note = match models.candidates(sub, dev).into_iter().find_map(|m| m.command(cmd)) {
            Some(def) => Note::info(both_names(&def.name, lang)),
            None => Note::warn(t.tr("not in the product model")),
        };
        notes.insert("/data/cmd".into(), note);
    }
    if cems.class == "status"
        && let Some(online) = data.get("online").and_then(Value::as_bool)
    {
        let note = if online { Note::info(t.tr("online")) } else { Note::warn(t.tr("offline")) };
        notes.insert("/data/online".into(), note);
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
}
