//! The publish helper's templates: the contract's `data` skeletons (§2 table), filled from the
//! gateway's product model where one is known (the first command with its defaults, every
//! property key, the sub-devices and their points), and the checks of what the editor holds.

use serde_json::{Map, Value, json};

use super::super::explorer::annotate::JsonError;
use crate::engine::GatewayKey;
use crate::engine::gateways::Gateways;
use crate::protocol::envelope::PROTOCOL_VERSION;
use crate::protocol::model::{Access, ModelSet, ParamDef, ProductModel, ValueSpec, ValueType};
use crate::protocol::topic::{Dir, MESSAGES, MessageSpec};
use crate::ui::device::view::sub_model;

/// What the editor holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonCheck {
    /// Nothing but whitespace: an empty payload.
    Empty,
    Valid,
    /// Not JSON; it can still be sent as raw text.
    Invalid(JsonError),
}

pub fn check_json(text: &str) -> JsonCheck {
    if text.trim().is_empty() {
        return JsonCheck::Empty;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(_) => JsonCheck::Valid,
        Err(e) => JsonCheck::Invalid(JsonError::from_serde(&e)),
    }
}

/// Why a topic cannot be published to, as a catalogue key.
pub fn check_topic(topic: &str) -> Result<(), &'static str> {
    use crate::protocol::topic_filter::{TopicNameProblem, check_topic_name};
    match check_topic_name(topic) {
        Err(TopicNameProblem::Empty) => Err("Enter a topic."),
        Err(TopicNameProblem::Wildcard) => Err("A topic to publish to cannot hold the wildcards + or #."),
        Err(TopicNameProblem::Nul) => Err("A topic cannot hold a NUL character."),
        Err(TopicNameProblem::TooLong) => Err("A topic is at most 65535 bytes."),
        Ok(()) => Ok(()),
    }
}

/// The contract's rows the master sends (`down`): requests and downlink reports.
pub fn downlink_messages() -> impl Iterator<Item = &'static MessageSpec> {
    MESSAGES.iter().filter(|m| m.dir == Dir::Down)
}

/// A `data` skeleton for a downlink of the contract (§2 table), with times around `now_ms`.
pub fn data_template(class: &str, action: &str, now_ms: i64) -> Value {
    let hour_ago = now_ms - 3_600_000;
    match (class, action) {
        ("command", "request") => json!({"cmd": "", "params": {}}),
        ("message", "down") => json!({"type": "", "content": ""}),
        ("port", "set") => json!({"ports": [{"portId": "", "params": {}}]}),
        ("point", "get") => json!({"pids": []}),
        ("point", "set") => json!({"sub": "", "pid": "", "value": 0}),
        ("meter", "get") | ("log", "get") | ("history", "get") => json!({"from": hour_ago, "to": now_ms}),
        ("property", "get") => json!({"keys": []}),
        ("property", "set") => json!({"props": {}}),
        ("ota", "upgrade") => json!({"taskId": "", "module": "", "version": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "download") => json!({"fileId": "", "name": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "upload") => json!({"fileId": "", "name": ""}),
        ("file", "read") => json!({"fileId": "", "offset": 0, "length": 4096}),
        ("time", "get") => json!({"t1": now_ms}),
        ("time", "set") => json!({"time": now_ms}),
        ("log", "config") => json!({"level": "info", "upload": true}),
        _ => json!({}),
    }
}

/// A request envelope `{"id", "ts", "ver", "data"}`, pretty-printed for editing.
pub fn envelope_skeleton(id: &str, ts: i64, data: Value) -> String {
    let envelope = json!({"id": id, "ts": ts, "ver": PROTOCOL_VERSION, "data": data});
    serde_json::to_string_pretty(&envelope).unwrap_or_else(|_| envelope.to_string())
}

/// What the helper knows of one gateway, copied out of the record: its model, its current
/// properties, and its sub-devices with their models (declared in `Info.subs` or seen).
#[derive(Debug, Clone, Default)]
pub struct GatewayFacts {
    pub model: Option<ProductModel>,
    pub properties: Map<String, Value>,
    pub subs: Vec<(String, Option<ProductModel>)>,
}

impl GatewayFacts {
    /// Reads `key`'s record (under the lock the caller holds) and the models.
    pub fn of(gateways: &Gateways, models: &ModelSet, key: &GatewayKey) -> GatewayFacts {
        let model = models.get(&key.pk).map(|d| d.model().clone());
        let Some(record) = gateways.get(key) else { return GatewayFacts { model, ..GatewayFacts::default() } };
        let mut subs: Vec<(String, Option<ProductModel>)> = Vec::new();
        for sub in record.info.iter().flat_map(|i| i.subs.iter().flatten()) {
            subs.push((sub.sub.clone(), models.get(&sub.product_key).map(|d| d.model().clone())));
        }
        for (id, sub) in &record.subs {
            if id != &key.dev && !subs.iter().any(|(s, _)| s == id) {
                subs.push((id.clone(), sub_model(models, record, id, sub).cloned()));
            }
        }
        GatewayFacts { model, properties: record.properties.clone(), subs }
    }

    fn sub_model(&self, sub: Option<&str>) -> Option<&ProductModel> {
        match sub {
            Some(s) => self.subs.iter().find(|(id, _)| id == s).and_then(|(_, m)| m.as_ref()),
            None => self.model.as_ref(),
        }
    }
}

/// The `data` of `class/action` filled from the facts: `sub` is the sub-device chosen (the first
/// one when `None`); falls back to [`data_template`] where the model says nothing.
pub fn model_template(class: &str, action: &str, facts: &GatewayFacts, sub: Option<&str>, now_ms: i64) -> Value {
    let sub = sub.filter(|s| !s.is_empty()).map(str::to_owned).or_else(|| facts.subs.first().map(|(id, _)| id.clone()));
    let hour_ago = now_ms - 3_600_000;
    let filled = match (class, action) {
        ("command", "request") => first_command(facts),
        ("property", "get") => facts.model.as_ref().filter(|m| !m.properties.is_empty()).map(|m| json!({"keys": m.properties.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()})),
        ("property", "set") => facts.model.as_ref().map(|m| {
            let props: Map<String, Value> = m
                .properties
                .iter()
                .filter(|p| p.access != Access::Ro)
                .map(|p| (p.id.clone(), facts.properties.get(&p.id).cloned().or_else(|| p.default.clone()).unwrap_or_else(|| spec_default(&p.spec))))
                .collect();
            json!({"props": props})
        }),
        ("point", "get") => sub.as_deref().map(|s| {
            let pids: Vec<&str> = facts.sub_model(Some(s)).map(|m| m.points.iter().map(|p| p.id.as_str()).collect()).unwrap_or_default();
            json!({"sub": s, "pids": pids})
        }),
        ("point", "set") => sub.as_deref().map(|s| {
            let point = facts.sub_model(Some(s)).and_then(|m| m.points.iter().find(|p| p.writable));
            match point {
                Some(p) => json!({"sub": s, "pid": p.id, "value": spec_default(&p.spec)}),
                None => json!({"sub": s, "pid": "", "value": 0}),
            }
        }),
        ("meter", "get") => sub.as_deref().map(|s| json!({"sub": s, "from": hour_ago, "to": now_ms})),
        _ => None,
    };
    filled.unwrap_or_else(|| data_template(class, action, now_ms))
}

/// The first command of the gateway's model, else of a sub-device's (then naming it), with each
/// parameter at its default.
fn first_command(facts: &GatewayFacts) -> Option<Value> {
    let own = facts.model.as_ref().and_then(|m| m.commands.first()).map(|c| (None, c));
    let of_sub = || facts.subs.iter().find_map(|(id, m)| m.as_ref().and_then(|m| m.commands.first()).map(|c| (Some(id.as_str()), c)));
    let (sub, command) = own.or_else(of_sub)?;
    let params: Map<String, Value> = command.params.iter().map(|p| (p.id.clone(), param_default(p))).collect();
    let mut data = json!({"cmd": command.id, "params": params});
    if let (Some(sub), Some(obj)) = (sub, data.as_object_mut()) {
        obj.insert("sub".into(), json!(sub));
    }
    Some(data)
}

/// A parameter's default, else a value of its type (members and items likewise).
pub fn param_default(def: &ParamDef) -> Value {
    if let Some(v) = &def.default {
        return v.clone();
    }
    match def.spec.value_type {
        ValueType::Struct => Value::Object(def.fields.iter().map(|f| (f.id.clone(), param_default(f))).collect()),
        _ => spec_default(&def.spec),
    }
}

/// A value a spec accepts when nothing better is known: its first choice, else its minimum
/// (clamped to zero where zero is in range), false or "".
pub fn spec_default(spec: &ValueSpec) -> Value {
    let number = |v: f64| spec.min.filter(|min| *min > v).or(spec.max.filter(|max| *max < v)).unwrap_or(v);
    if let Some(first) = spec.enum_labels.as_ref().and_then(|l| l.0.keys().next()) {
        return match spec.value_type {
            ValueType::Int => first.parse::<i64>().map_or_else(|_| json!(first), |n| json!(n)),
            ValueType::Float => first.parse::<f64>().map_or_else(|_| json!(first), |n| json!(n)),
            _ => json!(first),
        };
    }
    match spec.value_type {
        ValueType::Int => json!(number(0.0) as i64),
        ValueType::Float => json!(number(0.0)),
        ValueType::Bool => json!(false),
        ValueType::Struct => json!({}),
        ValueType::Array => json!([]),
        ValueType::Enum | ValueType::String => json!(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_check_gives_line_and_column() {
        assert_eq!(check_json("  \n"), JsonCheck::Empty);
        assert_eq!(check_json("{\"a\": [1, 2]}"), JsonCheck::Valid);
        let JsonCheck::Invalid(e) = check_json("{\n  \"a\": 1,\n}") else { panic!("invalid") };
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("trailing comma"), "{}", e.message);
        assert!(matches!(check_json("reboot now"), JsonCheck::Invalid(_)));
    }

    #[test]
    fn topics_with_wildcards_are_refused() {
        assert!(check_topic("cems/v1/PK/GW/down/info/get").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a/+/b").is_err());
        assert!(check_topic("a/#").is_err());
        assert!(check_topic("a\0").is_err());
    }

    #[test]
    fn skeleton_is_an_envelope_in_contract_order() {
        let text = envelope_skeleton("wb-1", 5, data_template("time", "get", 5));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value, json!({"id": "wb-1", "ts": 5, "ver": "1.0", "data": {"t1": 5}}));
        assert!(text.find("\"id\"") < text.find("\"data\""));
        assert!(crate::protocol::envelope::parse_envelope(text.as_bytes()).is_ok());
    }

    #[test]
    fn helper_offers_only_downlinks() {
        let all: Vec<String> = downlink_messages().map(|m| format!("{}/{}", m.class, m.action)).collect();
        assert!(all.contains(&"point/get".to_owned()) && all.contains(&"ota/upgrade".to_owned()));
        assert!(!all.contains(&"point/report".to_owned()) && !all.contains(&"status/".to_owned()));
        for m in downlink_messages() {
            let data = data_template(m.class, m.action, 0);
            let decoded = crate::protocol::payload::decode(m.class, m.action, false, &data);
            // Empty strings may be refused later by a gateway, but the shape fits the contract.
            assert!(decoded.typed.is_ok(), "{}/{}: {:?}", m.class, m.action, decoded.typed);
        }
    }

    #[test]
    fn model_templates_fit_the_contract() {
        let models = ModelSet::builtin();
        let gateway = models.iter().find(|d| !d.model().commands.is_empty()).map(|d| d.model().clone());
        let meter = models.iter().find(|d| !d.model().points.is_empty()).map(|d| d.model().clone());
        let facts = GatewayFacts { model: gateway, properties: Map::new(), subs: vec![("M1".into(), meter)] };
        for m in downlink_messages() {
            let data = model_template(m.class, m.action, &facts, None, 0);
            let decoded = crate::protocol::payload::decode(m.class, m.action, false, &data);
            assert!(decoded.typed.is_ok(), "{}/{}: {data} {:?}", m.class, m.action, decoded.typed);
        }
        let command = model_template("command", "request", &facts, None, 0);
        assert!(command["cmd"].as_str().is_some_and(|c| !c.is_empty()), "{command}");
        assert_eq!(model_template("point", "get", &facts, None, 0)["sub"], "M1");
    }
}
