//! `port/get`, `port/set` and `property/set`: the gateway's ports and properties. A set names
//! several items; the ones that can be applied are, and each one that cannot is listed in
//! `failed` with its own code and msg, the reply's code being that of the first (contract §3).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::sim::api::{Answer, bad_param, not_found};
use crate::protocol::codes;
use crate::protocol::model::Access;
use crate::protocol::payload::{PortFailure, PortGet, PortSet, PortSetReply, Ports, PropertyFailure, PropertySetReply, Props, to_data};
use crate::sim::api::Fail;
use crate::sim::log::Level;
use crate::sim::state::{Outgoing, PortState, SimState};
use crate::protocol::model::value_check::{Rule, check};

pub(super) fn port_get(state: &SimState, req: &PortGet) -> Result<Value, Fail> {
    if let Some(ids) = &req.port_ids
        && let Some(unknown) = ids.iter().find(|id| !state.ports.iter().any(|p| &p.def.id == *id))
    {
        return Err(not_found(format!("no port \"{unknown}\"")));
    }
    let ports = state.ports.iter().filter(|p| req.port_ids.as_ref().is_none_or(|ids| ids.contains(&p.def.id))).map(PortState::to_port).collect();
    Ok(to_data(&Ports { ports }))
}

pub(super) fn port_set(state: &mut SimState, req: &PortSet, out: &mut Vec<Outgoing>) -> Answer {
    let mut failed = Vec::new();
    let mut changed = Vec::new();
    for item in &req.ports {
        let Some(port) = state.ports.iter_mut().find(|p| p.def.id == item.port_id) else {
            failed.push(PortFailure { port_id: item.port_id.clone(), code: codes::NOT_FOUND, msg: Some(format!("no port \"{}\"", item.port_id)) });
            continue;
        };
        match apply_port_params(port, &item.params) {
            Ok(()) => changed.push(port.to_port()),
            Err(msg) => {
                let now = state.now_ms();
                state.log.push(now, Level::Info, "port", format!("{}: {msg}", item.port_id));
                failed.push(PortFailure { port_id: item.port_id.clone(), code: codes::BAD_PARAM, msg: Some(msg) });
            }
        }
    }
    if !changed.is_empty() {
        out.push(Outgoing::Other { class: "port", action: "report", data: to_data(&Ports { ports: changed }) });
    }
    let first = failed.first().map(|f| (f.code, format!("{}: {}", f.port_id, f.msg.as_deref().unwrap_or_default())));
    partial(first, failed.len(), req.ports.len(), "ports", &PortSetReply { failed })
}

/// Overlays `params` on a port's settings; `protocol` switches among the model's protocols.
fn apply_port_params(port: &mut PortState, params: &Map<String, Value>) -> Result<(), String> {
    let mut merged = match serde_json::to_value(&port.params) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut protocol = port.protocol.clone();
    for (key, value) in params {
        if key == "protocol" {
            let Some(p) = value.as_str() else { return Err("protocol: expected a string".into()) };
            let allowed = port.def.protocols.iter().any(|x| x == p) || port.def.protocol.as_deref() == Some(p);
            if !allowed {
                return Err(format!("protocol \"{p}\" is not one this port speaks"));
            }
            protocol = p.to_owned();
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    let parsed: crate::protocol::port::PortParams = serde_json::from_value(Value::Object(merged)).map_err(|e| e.to_string())?;
    if let Some(key) = parsed.other.keys().next() {
        return Err(format!("{key}: not a setting of this port"));
    }
    parsed.check()?;
    port.params = parsed;
    port.protocol = protocol;
    Ok(())
}

pub(super) fn property_set(state: &mut SimState, props: Map<String, Value>, out: &mut Vec<Outgoing>) -> Answer {
    let model = state.devices[0].model.clone();
    let total = props.len();
    let mut failed = Vec::new();
    let mut applied = Map::new();
    for (key, value) in props {
        let outcome = match model.property(&key) {
            None => Err(Fail { code: codes::UNSUPPORTED, msg: format!("no property \"{key}\"") }),
            Some(def) if !def.access.writable() => Err(Fail { code: codes::DENIED, msg: format!("{key} is read-only") }),
            Some(def) => check(&Rule::property(def), &value, &key).map_err(bad_param).map(|()| def.access),
        };
        match outcome {
            Ok(access) => {
                apply_property(state, &key, &value);
                state.props.insert(key.clone(), value.clone());
                if access != Access::Wo {
                    applied.insert(key, value);
                }
            }
            Err(f) => failed.push(PropertyFailure { key, code: f.code, msg: Some(f.msg) }),
        }
    }
    if !applied.is_empty() {
        out.push(Outgoing::Other { class: "property", action: "report", data: to_data(&Props { props: applied }) });
    }
    let first = failed.first().map(|f| (f.code, f.msg.clone().unwrap_or_default()));
    partial(first, failed.len(), total, "properties", &PropertySetReply { failed })
}

/// The answer to a set of several items: code 0 when none failed, else the code and msg of the
/// `first` failure; `reply` (its `failed` list) goes out either way.
fn partial(first: Option<(i64, String)>, failures: usize, total: usize, items: &str, reply: &impl Serialize) -> Answer {
    let data = to_data(reply);
    match first {
        None => Answer { code: codes::OK, msg: None, data },
        Some((code, msg)) => Answer { code, msg: Some(format!("{failures} of {total} {items} not set; first: {msg}")), data },
    }
}

/// Properties the simulator itself obeys.
fn apply_property(state: &mut SimState, key: &str, value: &Value) {
    match key {
        "reportPeriod" => {
            if let Some(secs) = value.as_u64() {
                state.period_override_ms = Some(secs.saturating_mul(1000));
            }
        }
        "logLevel" => {
            if let Some(level) = value.as_str().and_then(Level::parse) {
                state.log.level = level;
            }
        }
        _ => {}
    }
}
