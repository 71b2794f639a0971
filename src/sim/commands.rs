//! `command/request` (contract §6.1): the commands of the addressed device's model, parameters
//! checked against the model (code 4), unknown commands refused (2), unknown devices (7). A few
//! commands of the example models act on the simulated device; every other declared command
//! answers with plausible outputs of the declared types.

use serde_json::{Map, Value, json};

use super::log::Level;
use super::state::{Outgoing, SimState};
use crate::protocol::model::value_check::check_fields;
use super::values::state_value;
use super::api::Fail;
use crate::protocol::codes;
use crate::protocol::model::{ParamDef, ValueType};
use crate::protocol::payload::{CommandRequest, to_data};

pub fn handle(state: &mut SimState, req: &CommandRequest, out: &mut Vec<Outgoing>) -> Result<Value, Fail> {
    let sub = req.sub.clone().unwrap_or_else(|| state.dev.clone());
    let Some(index) = state.device_index(&sub) else {
        return Err(Fail { code: codes::NOT_FOUND, msg: format!("no sub-device {sub:?}") });
    };
    let model = state.devices[index].model.clone();
    let Some(def) = model.command(&req.cmd) else {
        let known: Vec<&str> = model.commands.iter().map(|c| c.id.as_str()).collect();
        return Err(Fail { code: codes::UNSUPPORTED, msg: format!("{sub} has no command {:?}; it has: {}", req.cmd, known.join(", ")) });
    };
    let params = check_fields(&def.params, &req.params, "params").map_err(|msg| Fail { code: codes::BAD_PARAM, msg })?;
    let now = state.now_ms();
    state.log.push(now, Level::Info, "command", format!("{sub}: {} {}", req.cmd, Value::Object(params.clone())));

    let mut output: Map<String, Value> = def.output.iter().map(|o| (o.id.clone(), placeholder(o))).collect();
    match req.cmd.as_str() {
        "reread" => {
            // The example gateway re-reads one sub-device, named in its params.
            let target = params.get("sub").and_then(Value::as_str).unwrap_or("");
            let Some(t) = state.device_index(target) else {
                return Err(Fail { code: codes::NOT_FOUND, msg: format!("no sub-device {target:?}") });
            };
            output.insert("points".into(), json!(state.devices[t].points.len()));
            let points = state.devices[t].values();
            out.push(Outgoing::Points { change: false, points });
        }
        "start" | "stop" | "clearFault" => {
            let current = state.devices[index].point("runState").map(|p| p.value.clone());
            let next = match (req.cmd.as_str(), current.as_ref().and_then(|v| v.as_f64())) {
                ("start", _) => Some(1.0),
                ("stop", _) => Some(0.0),
                (_, Some(3.0)) => Some(0.0),
                _ => None,
            };
            if let Some(next) = next {
                out.extend(set_point(state, index, "runState", next));
            }
            if let Some(run) = state.devices[index].point("runState") {
                output.insert("runState".into(), to_data(&run.value));
            }
        }
        "schedule" => {
            let slots = params.get("slots").and_then(Value::as_array).map_or(0, Vec::len);
            output.insert("accepted".into(), json!(slots));
        }
        "clearEnergy" => state.devices[index].clear_meters(),
        "factoryReset" => {
            let keep_network = params.get("keepNetwork").and_then(Value::as_bool).unwrap_or(true);
            for prop in &model.properties {
                let network = prop.id == "brokerAddress" || prop.id == "ntpServer";
                if let Some(default) = &prop.default
                    && !(keep_network && network)
                {
                    state.props.insert(prop.id.clone(), default.clone());
                }
            }
        }
        _ => {}
    }
    output.retain(|k, _| def.output.iter().any(|o| &o.id == k));
    Ok(Value::Object(output))
}

/// Sets a digital point from a command and returns the change it causes.
fn set_point(state: &mut SimState, index: usize, pid: &str, value: f64) -> Vec<Outgoing> {
    let Some(point) = state.devices[index].point(pid) else { return Vec::new() };
    let v = state_value(point.value_type, &format!("{value}"));
    let now = state.now_ms();
    let sample = state.devices[index].set_point(pid, v, now, &mut state.alarm_seq);
    state.record_outgoing_parts(sample.report, sample.changes, sample.alarms, Vec::new())
}

/// A plausible value of a declared output.
fn placeholder(def: &ParamDef) -> Value {
    match def.spec.value_type {
        ValueType::Int => json!(def.spec.min.unwrap_or(0.0).max(0.0) as i64),
        ValueType::Float => json!(def.spec.min.unwrap_or(0.0).max(0.0)),
        ValueType::Bool => Value::Bool(true),
        ValueType::String => Value::String("ok".into()),
        ValueType::Enum => def.spec.enum_labels.as_ref().and_then(|l| l.iter().next()).map_or(Value::Null, |(k, _)| Value::String(k.into())),
        ValueType::Struct => Value::Object(def.fields.iter().map(|f| (f.id.clone(), placeholder(f))).collect()),
        ValueType::Array => Value::Array(Vec::new()),
    }
}
