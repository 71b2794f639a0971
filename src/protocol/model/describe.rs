//! What a message's `data` means by the product models: point, meter, property, alarm and
//! command names with their units and enum labels, and each item a partly failed `property/set`
//! or `port/set` lists (contract §3). One source for the explorer's notes and the CLI's `notes`,
//! so the window and a script say the same thing about the same message.
//!
//! Tolerant of a `data` that does not type: what can be read still is. Pointers are JSON
//! pointers into the envelope (`/data/points/0`).

use serde_json::Value;

use super::matching::GatewayModels;
use super::types::{Lang, LocalizedText, ParamDef, PointDef, ValueSpec};
use crate::protocol::codes;
use crate::protocol::payload::quality_text;

/// One note on a part of `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataNote {
    /// JSON pointer into the envelope, e.g. `/data/points/0`.
    pub pointer: String,
    pub text: String,
    /// Something an engineer should look at: unknown item, bad quality, raised alarm, failure.
    pub warn: bool,
}

/// A message's `data` and what it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct DataRef<'a> {
    pub class: &'a str,
    pub action: &'a str,
    pub reply: bool,
    /// The gateway's device id: a `sub` equal to it is the gateway itself.
    pub dev: &'a str,
    pub data: &'a Value,
    /// The request's `data`, when a reply's request is known (a CLI `call`): it names a
    /// command's outputs and counts the items of a set. A topic viewer does not have it.
    pub request: Option<&'a Value>,
}

impl<'a> DataRef<'a> {
    pub fn new(class: &'a str, action: &'a str, reply: bool, dev: &'a str, data: &'a Value) -> Self {
        DataRef { class, action, reply, dev, data, request: None }
    }

    pub fn with_request(self, request: &'a Value) -> Self {
        DataRef { request: Some(request), ..self }
    }
}

/// The few words of these notes in both languages. Protocol owns no catalogue, and the UI's
/// (`ui::i18n`) is out of its reach by the layering rule.
fn word(lang: Lang, en: &'static str) -> &'static str {
    const ZH: &[(&str, &str)] = &[
        ("not in the product model", "产品模型中未定义"),
        ("quality", "品质"),
        ("level", "级别"),
        ("raised", "产生"),
        ("cleared", "消除"),
        ("online", "在线"),
        ("offline", "离线"),
        ("failed", "失败"),
        ("no product model loaded", "未加载产品模型"),
    ];
    match lang {
        Lang::En => en,
        Lang::Zh => ZH.iter().find(|(k, _)| *k == en).map_or(en, |(_, zh)| zh),
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

/// Appends one key to a JSON pointer, escaped (RFC 6901).
pub fn pointer_push(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// A quality code in words; an out-of-range one as "unknown quality".
pub fn quality_words(q: u64, lang: Lang) -> &'static str {
    quality_text(u8::try_from(q).unwrap_or(u8::MAX), lang == Lang::Zh)
}

/// `231.5 V`, or `2 = Discharging` when the spec labels the value.
fn value_text(value: &Value, spec: &ValueSpec, lang: Lang) -> String {
    let shown = short_value(value, 40);
    if let Some(label) = spec.label_of(value, lang) {
        format!("{shown} = {label}")
    } else if let Some(unit) = spec.unit.as_deref().filter(|u| !u.is_empty()) {
        format!("{shown} {unit}")
    } else {
        shown
    }
}

fn note(pointer: String, text: String, warn: bool) -> DataNote {
    DataNote { pointer, text, warn }
}

/// `Ua: 231.5 V (A相电压 / Phase A voltage, quality good)`; an enum value with its label.
pub fn point_note(pointer: String, pid: &str, v: &Value, q: Option<u64>, def: Option<&PointDef>, lang: Lang) -> DataNote {
    let mut inside = Vec::new();
    let value = match def {
        Some(def) => {
            inside.push(both_names(&def.name, lang));
            value_text(v, &def.spec, lang)
        }
        None => {
            inside.push(word(lang, "not in the product model").to_owned());
            short_value(v, 40)
        }
    };
    if let Some(q) = q {
        inside.push(format!("{} {}", word(lang, "quality"), quality_words(q, lang)));
    }
    let warn = def.is_none() || q.is_some_and(|q| q != 0);
    note(pointer, format!("{pid}: {value} ({})", inside.join(", ")), warn)
}

/// A command parameter or output: `delay: 5 s (延时 / Delay)`; unknown ones warn.
fn param_note(pointer: String, key: &str, value: &Value, def: Option<&ParamDef>, lang: Lang) -> DataNote {
    match def {
        Some(def) => {
            let shown = value_text(value, &def.spec, lang);
            match def.name.as_ref().filter(|n| !n.is_empty()) {
                Some(name) => note(pointer, format!("{key}: {shown} ({})", both_names(name, lang)), false),
                None => note(pointer, format!("{key}: {shown}"), false),
            }
        }
        None => note(pointer, format!("{key}: {} ({})", short_value(value, 40), word(lang, "not in the product model")), true),
    }
}

/// Whether a reply of (class, action) lists its failed items in `data.failed` (contract §3), so
/// that a non-zero code still comes with a `data` worth typing.
pub fn reply_lists_failures(class: &str, action: &str) -> bool {
    matches!((class, action), ("property", "set") | ("port", "set"))
}

/// `2 of 3 failed` when the request's item count is known, else `2 failed`.
pub fn failed_summary(failed: usize, total: Option<usize>, lang: Lang) -> String {
    match (total, lang) {
        (Some(total), Lang::En) => format!("{failed} of {total} failed"),
        (Some(total), Lang::Zh) => format!("{total} 项中 {failed} 项失败"),
        (None, Lang::En) => format!("{failed} failed"),
        (None, Lang::Zh) => format!("{failed} 项失败"),
    }
}

/// How many items a `property/set` or `port/set` request names.
fn request_items(class: &str, request: &Value) -> Option<usize> {
    match class {
        "property" => request.get("props").and_then(Value::as_object).map(serde_json::Map::len),
        "port" => request.get("ports").and_then(Value::as_array).map(Vec::len),
        _ => None,
    }
}

/// Notes on `msg.data` from the product models `models`.
pub fn describe_data(msg: &DataRef<'_>, models: &GatewayModels<'_>, lang: Lang) -> Vec<DataNote> {
    let (data, dev) = (msg.data, msg.dev);
    let mut notes = Vec::new();
    if let Some(points) = data.get("points").and_then(Value::as_array) {
        for (i, point) in points.iter().enumerate() {
            let (Some(pid), Some(v)) = (point.get("pid").and_then(Value::as_str), point.get("v")) else { continue };
            let sub = point.get("sub").and_then(Value::as_str);
            let q = point.get("q").and_then(Value::as_u64);
            notes.push(point_note(format!("/data/points/{i}"), pid, v, q, models.point(sub, dev, pid), lang));
        }
    }
    // point/set: {sub, pid, value}; its reply {value} names the point only through the request.
    let point_set = if msg.reply && msg.class == "point" { msg.request.unwrap_or(data) } else { data };
    if let (Some(pid), Some(value)) = (point_set.get("pid").and_then(Value::as_str), data.get("value")) {
        let sub = point_set.get("sub").and_then(Value::as_str);
        notes.push(point_note("/data/value".into(), pid, value, None, models.point(sub, dev, pid), lang));
    }
    if let Some(readings) = data.get("readings").and_then(Value::as_array) {
        for (i, reading) in readings.iter().enumerate() {
            let sub = reading.get("sub").and_then(Value::as_str);
            let Some(values) = reading.get("values").and_then(Value::as_object) else { continue };
            for (id, value) in values {
                let pointer = pointer_push(&format!("/data/readings/{i}/values"), id);
                notes.push(match models.candidates(sub, dev).into_iter().find_map(|m| m.meter(id)) {
                    Some(def) => {
                        let unit = def.unit.as_deref().filter(|u| !u.is_empty()).map(|u| format!(" {u}")).unwrap_or_default();
                        note(pointer, format!("{id}: {}{unit} ({})", short_value(value, 40), both_names(&def.name, lang)), false)
                    }
                    None => note(pointer, format!("{id}: {} ({})", short_value(value, 40), word(lang, "not in the product model")), true),
                });
            }
        }
    }
    if let Some(props) = data.get("props").and_then(Value::as_object) {
        for (key, value) in props {
            let pointer = pointer_push("/data/props", key);
            notes.push(match models.candidates(None, dev).into_iter().find_map(|m| m.property(key)) {
                Some(def) => note(pointer, format!("{key}: {} ({})", value_text(value, &def.spec, lang), both_names(&def.name, lang)), false),
                None => note(pointer, format!("{key}: {}", word(lang, "not in the product model")), true),
            });
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
                .map_or_else(|| word(lang, "not in the product model").to_owned(), |def| both_names(&def.name, lang));
            let mut text = format!("{kind} ({name})");
            if let Some(level) = alarm.get("level").and_then(Value::as_u64) {
                text.push_str(&format!(", {} {level}", word(lang, "level")));
            }
            let state = alarm.get("state").and_then(Value::as_str);
            match state {
                Some("raised") => text.push_str(&format!(", {}", word(lang, "raised"))),
                Some("cleared") => text.push_str(&format!(", {}", word(lang, "cleared"))),
                _ => {}
            }
            notes.push(note(format!("/data/alarms/{i}"), text, state == Some("raised")));
        }
    }
    if msg.class == "command" {
        describe_command(msg, models, lang, &mut notes);
    }
    if msg.class == "status"
        && let Some(online) = data.get("online").and_then(Value::as_bool)
    {
        notes.push(note("/data/online".into(), word(lang, if online { "online" } else { "offline" }).to_owned(), !online));
    }
    if msg.reply && reply_lists_failures(msg.class, msg.action) {
        describe_failures(msg, models, lang, &mut notes);
    }
    if msg.class == "info" {
        describe_subs(data, models, lang, &mut notes);
    }
    notes
}

/// `Info.subs`: the model each declared sub-device is an instance of, with its category.
/// Found through `models`' declarations, so `models` should be built from this same list.
fn describe_subs(data: &Value, models: &GatewayModels<'_>, lang: Lang, notes: &mut Vec<DataNote>) {
    for (i, sub) in data.get("subs").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let (Some(id), Some(pk)) = (sub.get("sub").and_then(Value::as_str), sub.get("productKey").and_then(Value::as_str)) else { continue };
        let pointer = format!("/data/subs/{i}");
        notes.push(match models.declared(id) {
            Some(model) => note(pointer, format!("{id}: {pk} ({}, {})", both_names(&model.name, lang), model.category()), false),
            None => note(pointer, format!("{id}: {pk} ({})", word(lang, "no product model loaded")), true),
        });
    }
}

/// A command request's name and parameters; its reply's outputs when the request is known.
fn describe_command(msg: &DataRef<'_>, models: &GatewayModels<'_>, lang: Lang, notes: &mut Vec<DataNote>) {
    let request = if msg.reply { msg.request } else { Some(msg.data) };
    let Some(request) = request else { return };
    let Some(cmd) = request.get("cmd").and_then(Value::as_str) else { return };
    let sub = request.get("sub").and_then(Value::as_str);
    let def = models.candidates(sub, msg.dev).into_iter().find_map(|m| m.command(cmd));
    if msg.reply {
        // A reply's data is the outputs; an unknown command's outputs have no names to give.
        let (Some(def), Some(outputs)) = (def, msg.data.as_object()) else { return };
        for (key, value) in outputs {
            let out = def.output.iter().find(|o| o.id == *key);
            notes.push(param_note(pointer_push("/data", key), key, value, out, lang));
        }
        return;
    }
    match def {
        Some(def) => {
            notes.push(note("/data/cmd".into(), both_names(&def.name, lang), false));
            for (key, value) in request.get("params").and_then(Value::as_object).into_iter().flatten() {
                notes.push(param_note(pointer_push("/data/params", key), key, value, def.param(key), lang));
            }
        }
        None => notes.push(note("/data/cmd".into(), word(lang, "not in the product model").to_owned(), true)),
    }
}

/// `failed: reportPeriod (上报周期 / Report period) — 4 bad_param: above max 3600` per item of
/// `data.failed`, and a count at `/data/failed`.
fn describe_failures(msg: &DataRef<'_>, models: &GatewayModels<'_>, lang: Lang, notes: &mut Vec<DataNote>) {
    let Some(failed) = msg.data.get("failed").and_then(Value::as_array) else { return };
    if failed.is_empty() {
        return;
    }
    let id_key = if msg.class == "port" { "portId" } else { "key" };
    for (i, item) in failed.iter().enumerate() {
        let id = item.get(id_key).and_then(Value::as_str).unwrap_or("?");
        let name = models.candidates(None, msg.dev).into_iter().find_map(|m| match msg.class {
            "port" => m.port(id).and_then(|p| p.name.clone()),
            _ => m.property(id).map(|p| p.name.clone()),
        });
        let what = match name.filter(|n| !n.is_empty()) {
            Some(name) => format!("{id} ({})", both_names(&name, lang)),
            None => id.to_owned(),
        };
        let msg_text = item.get("msg").and_then(Value::as_str).filter(|m| !m.is_empty());
        let code = match item.get("code").and_then(Value::as_i64) {
            Some(code) => match (codes::lookup(code), msg_text) {
                (_, Some(m)) => format!("{code} {}: {m}", codes::code_name(code)),
                (Some(_), None) => codes::meaning(code, None).describe(lang == Lang::Zh),
                (None, None) => format!("{code} {}", codes::code_name(code)),
            },
            None => msg_text.unwrap_or("?").to_owned(),
        };
        notes.push(note(format!("/data/failed/{i}"), format!("{}: {what} — {code}", word(lang, "failed")), true));
    }
    let total = msg.request.and_then(|r| request_items(msg.class, r));
    notes.push(note("/data/failed".into(), failed_summary(failed.len(), total, lang), true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::document::ModelSet;
    use crate::protocol::payload::SubRef;
    use serde_json::json;

    fn find<'n>(notes: &'n [DataNote], pointer: &str) -> &'n DataNote {
        notes.iter().find(|n| n.pointer == pointer).unwrap_or_else(|| panic!("no note at {pointer}: {notes:#?}"))
    }

    #[test]
    fn points_have_names_units_and_labels_and_unknown_ones_warn() {
        let set = ModelSet::builtin();
        let models = GatewayModels::new(&set, "PK-GW-01", &[]);
        let data = json!({"points": [
            {"sub": "meter-1", "pid": "Ua", "v": 231.5, "q": 0, "ts": 1},
            {"sub": "pcs-1", "pid": "runState", "v": 2, "q": 0, "ts": 1},
            {"sub": "meter-1", "pid": "nope", "v": 1, "q": 2, "ts": 1}]});
        let notes = describe_data(&DataRef::new("point", "report", false, "GW", &data), &models, Lang::En);
        assert_eq!(find(&notes, "/data/points/0"), &note("/data/points/0".into(), "Ua: 231.5 V (A相电压 / Phase A voltage, quality good)".into(), false));
        assert!(find(&notes, "/data/points/1").text.starts_with("runState: 2 = Discharging ("), "{notes:#?}");
        let unknown = find(&notes, "/data/points/2");
        assert!(unknown.warn);
        assert_eq!(unknown.text, "nope: 1 (not in the product model, quality stale)");
        let zh = describe_data(&DataRef::new("point", "report", false, "GW", &data), &models, Lang::Zh);
        assert_eq!(find(&zh, "/data/points/2").text, "nope: 1 (产品模型中未定义, 品质 过期)");
    }

    #[test]
    fn a_declared_sub_device_is_described_by_its_declared_model() {
        let set = ModelSet::builtin();
        // `P` is in the meter and the PCS: the id `meter-7` says meter, the declaration says PCS.
        let data = json!({"points": [{"sub": "meter-7", "pid": "P", "v": 5, "q": 0, "ts": 1}]});
        let msg = DataRef::new("point", "report", false, "GW", &data);
        let declared = [SubRef { sub: "meter-7".into(), product_key: "PK-PCS-100".into() }];
        let notes = describe_data(&msg, &GatewayModels::new(&set, "PK-GW-01", &declared), Lang::En);
        assert_eq!(find(&notes, "/data/points/0").text, "P: 5 kW (交流有功功率 / AC active power, quality good)");
        let by_id = describe_data(&msg, &GatewayModels::new(&set, "PK-GW-01", &[]), Lang::En);
        assert_ne!(find(&by_id, "/data/points/0").text, find(&notes, "/data/points/0").text);
    }

    #[test]
    fn command_outputs_are_named_through_the_request() {
        let set = ModelSet::builtin();
        let models = GatewayModels::new(&set, "PK-GW-01", &[]);
        let request = json!({"cmd": "reread", "params": {"sub": "meter-1", "bogus": 1}});
        let notes = describe_data(&DataRef::new("command", "request", false, "GW", &request), &models, Lang::En);
        assert_eq!(find(&notes, "/data/cmd").text, "重新召测 / Re-read sub-device");
        assert_eq!(find(&notes, "/data/params/sub").text, "sub: \"meter-1\" (下挂设备编号 / Sub-device id)");
        assert!(find(&notes, "/data/params/bogus").warn);
        let reply = json!({"points": 12});
        let notes = describe_data(&DataRef::new("command", "request", true, "GW", &reply).with_request(&request), &models, Lang::En);
        assert_eq!(find(&notes, "/data/points").text, "points: 12 (读取测点数 / Points read)");
        // Without the request a reply's outputs cannot be named.
        assert!(describe_data(&DataRef::new("command", "request", true, "GW", &reply), &models, Lang::En).is_empty());
    }

    #[test]
    fn declared_sub_devices_are_named_with_their_category() {
        let set = ModelSet::builtin();
        let data = json!({"subs": [{"sub": "meter-1", "productKey": "PK-METER-3P"}, {"sub": "x-1", "productKey": "PK-NONE"}]});
        let declared: Vec<SubRef> = serde_json::from_value(data["subs"].clone()).unwrap();
        let notes = describe_data(&DataRef::new("info", "report", false, "GW", &data), &GatewayModels::new(&set, "PK-GW-01", &declared), Lang::En);
        assert_eq!(find(&notes, "/data/subs/0").text, "meter-1: PK-METER-3P (三相多功能电能表 / Three-phase multifunction energy meter, meter)");
        assert!(find(&notes, "/data/subs/1").warn);
    }

    #[test]
    fn failed_items_of_a_set_are_named_with_their_codes() {
        let set = ModelSet::builtin();
        let models = GatewayModels::new(&set, "PK-GW-01", &[]);
        let request = json!({"props": {"reportPeriod": 99999, "colour": 1, "ntpServer": "pool.ntp.org"}});
        let reply = json!({"failed": [{"key": "reportPeriod", "code": 4, "msg": "above max 3600"}, {"key": "colour", "code": 2}]});
        let msg = DataRef::new("property", "set", true, "GW", &reply);
        let notes = describe_data(&msg, &models, Lang::En);
        let first = find(&notes, "/data/failed/0");
        assert!(first.warn);
        assert!(first.text.starts_with("failed: reportPeriod (") && first.text.ends_with(" — 4 bad_param: above max 3600"), "{first:?}");
        assert_eq!(find(&notes, "/data/failed/1").text, "failed: colour — 2 unsupported (class, action, command or property not supported)");
        assert_eq!(find(&notes, "/data/failed").text, "2 failed");
        let notes = describe_data(&msg.with_request(&request), &models, Lang::En);
        assert_eq!(find(&notes, "/data/failed").text, "2 of 3 failed");
        let ports = json!({"failed": [{"portId": "COM1", "code": 8, "msg": "in use"}]});
        let notes = describe_data(&DataRef::new("port", "set", true, "GW", &ports), &models, Lang::Zh);
        assert_eq!(find(&notes, "/data/failed/0").text, "失败: COM1 (串口1（RS-485） / Serial port 1 (RS-485)) — 8 denied: in use");
        assert_eq!(find(&notes, "/data/failed").text, "1 项失败");
    }
}
