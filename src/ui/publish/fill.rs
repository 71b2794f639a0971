//! The helper's templates filled from what is known of one gateway: its product model (the first
//! command with its defaults, every property key, its ports) and its record (the sub-devices it
//! declared or was seen with, their models and points, the properties it reported). A template
//! is never an empty shell: where nothing names a command, a key or a target, there is no
//! template and the panel says why.

use serde_json::{Map, Value, json};

use super::template::data_template;
use crate::engine::GatewayKey;
use crate::engine::gateways::Gateways;
use crate::protocol::model::{Access, CommandDef, ModelSet, ParamDef, ProductModel, ValueSpec, ValueType};
use crate::ui::device::view::sub_model;

/// What the helper knows of one gateway, copied out of the record: its model, its current
/// properties and ports, and its sub-devices with their models (declared in `Info.subs` or seen).
#[derive(Debug, Clone, Default)]
pub struct GatewayFacts {
    /// The gateway's device id: the `sub` of its own points.
    pub dev: String,
    pub model: Option<ProductModel>,
    pub properties: Map<String, Value>,
    /// Reported ports as (portId, params).
    pub ports: Vec<(String, Value)>,
    pub subs: Vec<SubFacts>,
}

/// One device behind the gateway.
#[derive(Debug, Clone, Default)]
pub struct SubFacts {
    pub id: String,
    pub model: Option<ProductModel>,
    /// Point ids seen in its reports, for a sub-device without a model.
    pub seen_points: Vec<String>,
}

impl SubFacts {
    pub fn new(id: &str, model: Option<ProductModel>) -> SubFacts {
        SubFacts { id: id.to_owned(), model, seen_points: Vec::new() }
    }

    /// Its point ids: the model's, else those seen.
    fn point_ids(&self) -> Vec<&str> {
        match &self.model {
            Some(m) if !m.points.is_empty() => m.points.iter().map(|p| p.id.as_str()).collect(),
            _ => self.seen_points.iter().map(String::as_str).collect(),
        }
    }
}

impl GatewayFacts {
    /// Reads `key`'s record (under the lock the caller holds) and the models.
    pub fn of(gateways: &Gateways, models: &ModelSet, key: &GatewayKey) -> GatewayFacts {
        let model = models.get(&key.pk).map(|d| d.model().clone());
        let Some(record) = gateways.get(key) else { return GatewayFacts { dev: key.dev.clone(), model, ..GatewayFacts::default() } };
        let mut subs: Vec<SubFacts> = Vec::new();
        for sub in record.info.iter().flat_map(|i| i.subs.iter().flatten()) {
            subs.push(SubFacts::new(&sub.sub, models.get(&sub.product_key).map(|d| d.model().clone())));
        }
        for (id, seen) in &record.subs {
            if id == &key.dev {
                continue;
            }
            let points = seen.points.keys().cloned().collect();
            match subs.iter_mut().find(|s| &s.id == id) {
                Some(known) => known.seen_points = points,
                None => subs.push(SubFacts { id: id.clone(), model: sub_model(models, record, id, seen).cloned(), seen_points: points }),
            }
        }
        let ports = record.ports.values().map(|p| (p.port_id.clone(), serde_json::to_value(&p.params).unwrap_or_else(|_| json!({})))).collect();
        GatewayFacts { dev: key.dev.clone(), model, properties: record.properties.clone(), ports, subs }
    }

    fn sub(&self, id: &str) -> Option<&SubFacts> {
        self.subs.iter().find(|s| s.id == id)
    }
}

/// The `data` of `class/action` filled from the facts. `chosen_sub` is the sub-device the user
/// picked (`None` or empty: the first one that fits). `None` when nothing known names what the
/// request needs (a command, a writable key, point or port): an empty template would only be
/// refused by the gateway.
pub fn model_template(class: &str, action: &str, facts: &GatewayFacts, chosen_sub: Option<&str>, now_ms: i64) -> Option<Value> {
    let chosen = chosen_sub.filter(|s| !s.is_empty()).and_then(|s| facts.sub(s));
    let hour_ago = now_ms - 3_600_000;
    match (class, action) {
        ("command", "request") => first_command(facts, chosen),
        ("property", "get") => Some(property_keys(facts)),
        ("property", "set") => writable_properties(facts),
        ("point", "get") => Some(point_get(facts, chosen)),
        ("point", "set") => point_set(facts, chosen),
        ("port", "set") => first_port(facts),
        ("meter", "get") => {
            let with_meters = || facts.subs.iter().find(|s| s.model.as_ref().is_some_and(|m| !m.meters.is_empty()));
            Some(match chosen.or_else(with_meters).or(facts.subs.first()) {
                Some(sub) => json!({"sub": sub.id, "from": hour_ago, "to": now_ms}),
                None => json!({"from": hour_ago, "to": now_ms}),
            })
        }
        _ => data_template(class, action, now_ms),
    }
}

/// The first command of the chosen sub-device's model, else of the gateway's, else of the first
/// sub-device that has one (naming it in `sub`), with each parameter at its default.
fn first_command(facts: &GatewayFacts, chosen: Option<&SubFacts>) -> Option<Value> {
    fn of_sub(s: &SubFacts) -> Option<(Option<&str>, &CommandDef)> {
        s.model.as_ref().and_then(|m| m.commands.first()).map(|c| (Some(s.id.as_str()), c))
    }
    let own = || facts.model.as_ref().and_then(|m| m.commands.first()).map(|c| (None, c));
    let (sub, command) = chosen.and_then(of_sub).or_else(own).or_else(|| facts.subs.iter().find_map(of_sub))?;
    let params: Map<String, Value> = command.params.iter().map(|p| (p.id.clone(), param_default(p))).collect();
    let mut data = Map::new();
    data.insert("cmd".into(), json!(command.id));
    if let Some(sub) = sub {
        data.insert("sub".into(), json!(sub));
    }
    data.insert("params".into(), Value::Object(params));
    Some(Value::Object(data))
}

/// Every key the model declares, else every key the gateway reported; with neither, no `keys`
/// at all, which the contract reads as "all" (an empty list would ask for none).
fn property_keys(facts: &GatewayFacts) -> Value {
    let declared: Vec<&str> = facts.model.iter().flat_map(|m| m.properties.iter().map(|p| p.id.as_str())).collect();
    let keys: Vec<&str> = if declared.is_empty() { facts.properties.keys().map(String::as_str).collect() } else { declared };
    if keys.is_empty() { json!({}) } else { json!({"keys": keys}) }
}

/// The model's writable properties at their current value (else default), else the reported
/// ones the model does not mark read-only.
fn writable_properties(facts: &GatewayFacts) -> Option<Value> {
    let current = |id: &str| facts.properties.get(id).cloned();
    let mut props: Map<String, Value> = facts
        .model
        .iter()
        .flat_map(|m| m.properties.iter())
        .filter(|p| p.access != Access::Ro)
        .map(|p| (p.id.clone(), current(&p.id).or_else(|| p.default.clone()).unwrap_or_else(|| spec_default(&p.spec))))
        .collect();
    if props.is_empty() {
        let read_only = |key: &str| facts.model.as_ref().is_some_and(|m| m.properties.iter().any(|p| p.id == key && p.access == Access::Ro));
        props = facts.properties.iter().filter(|(k, _)| !read_only(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    (!props.is_empty()).then(|| json!({"props": props}))
}

/// The chosen (else first) sub-device and its points; without sub-devices the gateway's own.
fn point_get(facts: &GatewayFacts, chosen: Option<&SubFacts>) -> Value {
    let (sub, pids) = match chosen.or(facts.subs.first()) {
        Some(s) => (s.id.as_str(), s.point_ids()),
        None => (facts.dev.as_str(), facts.model.iter().flat_map(|m| m.points.iter().map(|p| p.id.as_str())).collect()),
    };
    let mut data = Map::new();
    if !sub.is_empty() {
        data.insert("sub".into(), json!(sub));
    }
    // No point known: no `pids`, every point of the device.
    if !pids.is_empty() {
        data.insert("pids".into(), json!(pids));
    }
    Value::Object(data)
}

/// The first writable point of the chosen sub-device, else of any sub-device, else of the
/// gateway itself, at a value its spec accepts.
fn point_set(facts: &GatewayFacts, chosen: Option<&SubFacts>) -> Option<Value> {
    let writable = |sub: &str, model: Option<&ProductModel>| model.and_then(|m| m.points.iter().find(|p| p.writable)).map(|p| json!({"sub": sub, "pid": p.id, "value": spec_default(&p.spec)}));
    let of_sub = |s: &SubFacts| writable(&s.id, s.model.as_ref());
    chosen.and_then(of_sub).or_else(|| facts.subs.iter().find_map(of_sub)).or_else(|| writable(&facts.dev, facts.model.as_ref()))
}

/// The first port with its current settings as reported, else as the model declares them.
fn first_port(facts: &GatewayFacts) -> Option<Value> {
    let declared = || {
        let port = facts.model.as_ref()?.ports.first()?;
        let params = port.params.as_ref().and_then(|p| serde_json::to_value(p).ok()).unwrap_or_else(|| json!({}));
        Some((port.id.clone(), params))
    };
    let (id, params) = facts.ports.first().cloned().or_else(declared)?;
    Some(json!({"ports": [{"portId": id, "params": params}]}))
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
    use crate::ui::publish::template::downlink_messages;

    fn facts() -> GatewayFacts {
        let models = ModelSet::builtin();
        let model = |pk: &str| models.get(pk).map(|d| d.model().clone());
        GatewayFacts {
            dev: "GW-1".into(),
            model: model("PK-GW-01"),
            subs: vec![SubFacts::new("M1", model("PK-METER-3P")), SubFacts::new("PCS1", model("PK-PCS-100"))],
            ..GatewayFacts::default()
        }
    }

    #[test]
    fn model_templates_fit_the_contract() {
        let facts = facts();
        for m in downlink_messages() {
            let data = model_template(m.class, m.action, &facts, None, 0).unwrap_or_else(|| panic!("{}/{} filled", m.class, m.action));
            let decoded = crate::protocol::payload::decode(m.class, m.action, false, &data);
            assert!(decoded.typed.is_ok(), "{}/{}: {data} {:?}", m.class, m.action, decoded.typed);
        }
        assert_eq!(model_template("point", "get", &facts, None, 0).map(|d| d["sub"].clone()), Some(json!("M1")));
        // The meter has no writable point; the PCS has.
        assert_eq!(model_template("point", "set", &facts, None, 0), Some(json!({"sub": "PCS1", "pid": "Pset", "value": 0.0})));
        let chosen = model_template("command", "request", &facts, Some("PCS1"), 0);
        assert_eq!(chosen, Some(json!({"cmd": "start", "sub": "PCS1", "params": {}})), "the chosen sub-device's first command");
    }

    #[test]
    fn without_a_model_the_record_fills_or_nothing_does() {
        let mut facts = GatewayFacts { dev: "GW-1".into(), ..GatewayFacts::default() };
        assert_eq!(model_template("command", "request", &facts, None, 0), None, "no command known");
        assert_eq!(model_template("property", "set", &facts, None, 0), None);
        assert_eq!(model_template("point", "set", &facts, None, 0), None);
        assert_eq!(model_template("port", "set", &facts, None, 0), None);
        assert_eq!(model_template("property", "get", &facts, None, 0), Some(json!({})), "no keys: all of them");
        assert_eq!(model_template("point", "get", &facts, None, 0), Some(json!({"sub": "GW-1"})));
        facts.properties.insert("period".into(), json!(30));
        facts.ports.push(("COM1".into(), json!({"baud": 9600})));
        facts.subs.push(SubFacts { id: "X1".into(), model: None, seen_points: vec!["Ua".into()] });
        assert_eq!(model_template("property", "get", &facts, None, 0), Some(json!({"keys": ["period"]})));
        assert_eq!(model_template("property", "set", &facts, None, 0), Some(json!({"props": {"period": 30}})));
        assert_eq!(model_template("port", "set", &facts, None, 0), Some(json!({"ports": [{"portId": "COM1", "params": {"baud": 9600}}]})));
        assert_eq!(model_template("point", "get", &facts, None, 0), Some(json!({"sub": "X1", "pids": ["Ua"]})));
    }
}
