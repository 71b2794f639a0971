//! Checks a value sent to a device (command parameter, property, point setpoint) against what the
//! model declares: type, range, length, enum keys, struct fields and array items. A failure is a
//! message naming the field: a gateway answers code 4 (`bad_param`) with it, a master shows it
//! next to the field before sending.

use serde_json::{Map, Value};

use crate::protocol::envelope::kind_of;
use super::types::{ParamDef, PointDef, PropertyDef, ValueSpec, ValueType};

/// What a value must look like: its spec, and for a struct or array its members.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    pub spec: &'a ValueSpec,
    pub fields: &'a [ParamDef],
    pub items: Option<&'a ParamDef>,
}

impl<'a> Rule<'a> {
    pub fn param(def: &'a ParamDef) -> Rule<'a> {
        Rule { spec: &def.spec, fields: &def.fields, items: def.items.as_deref() }
    }

    pub fn property(def: &'a PropertyDef) -> Rule<'a> {
        Rule { spec: &def.spec, fields: &[], items: None }
    }

    pub fn point(def: &'a PointDef) -> Rule<'a> {
        Rule { spec: &def.spec, fields: &[], items: None }
    }
}

/// Checks `value` against `rule`; `name` prefixes the message (`params.delay`).
pub fn check(rule: &Rule<'_>, value: &Value, name: &str) -> Result<(), String> {
    match (rule.spec.value_type, value) {
        (ValueType::Int, Value::Number(n)) => {
            let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) else {
                return Err(format!("{name}: expected an integer, found {n}"));
            };
            check_range(rule, f, name)?;
            check_labels(rule, &format!("{}", f as i64), name)
        }
        (ValueType::Float, Value::Number(n)) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            check_range(rule, f, name)?;
            check_labels(rule, &n.to_string(), name)
        }
        (ValueType::Bool, Value::Bool(_)) => Ok(()),
        (ValueType::Enum, Value::String(s)) => check_labels(rule, s, name),
        // An enum of numeric keys may be sent as the number.
        (ValueType::Enum, Value::Number(n)) => check_labels(rule, &n.to_string(), name),
        (ValueType::String, Value::String(s)) => match rule.spec.max_length {
            Some(max) if s.chars().count() as u64 > max => {
                Err(format!("{name}: {} characters, at most {max} allowed", s.chars().count()))
            }
            _ => Ok(()),
        },
        (ValueType::Struct, Value::Object(obj)) => check_fields(rule.fields, obj, name).map(|_| ()),
        (ValueType::Array, Value::Array(items)) => match rule.items {
            Some(item) => {
                let item_rule = Rule::param(item);
                items.iter().enumerate().try_for_each(|(i, v)| check(&item_rule, v, &format!("{name}[{i}]")))
            }
            None => Ok(()),
        },
        (expected, found) => Err(format!("{name}: expected {}, found {}", expected.as_str(), kind_of(found))),
    }
}

fn check_range(rule: &Rule<'_>, v: f64, name: &str) -> Result<(), String> {
    if !v.is_finite() {
        return Err(format!("{name}: not a finite number"));
    }
    if let Some(min) = rule.spec.min
        && v < min
    {
        return Err(format!("{name}: {v} is below the minimum {min}"));
    }
    if let Some(max) = rule.spec.max
        && v > max
    {
        return Err(format!("{name}: {v} is above the maximum {max}"));
    }
    Ok(())
}

fn check_labels(rule: &Rule<'_>, key: &str, name: &str) -> Result<(), String> {
    match rule.spec.enum_labels.as_ref() {
        Some(labels) if !labels.is_empty() && labels.get(key).is_none() => {
            let keys: Vec<&str> = labels.iter().map(|(k, _)| k).collect();
            Err(format!("{name}: {key:?} is not one of {}", keys.join(", ")))
        }
        _ => Ok(()),
    }
}

/// Checks `given` against the declared `defs`: each present value, each missing one without a
/// default, and no undeclared key. Returns the parameters with defaults filled in.
pub fn check_fields(defs: &[ParamDef], given: &Map<String, Value>, name: &str) -> Result<Map<String, Value>, String> {
    let prefix = |id: &str| if name.is_empty() { id.to_owned() } else { format!("{name}.{id}") };
    if let Some(unknown) = given.keys().find(|k| !defs.iter().any(|d| &d.id == *k)) {
        return Err(format!("{}: not a declared parameter", prefix(unknown)));
    }
    let mut out = Map::new();
    for def in defs {
        match (given.get(&def.id), &def.default) {
            (Some(v), _) => {
                check(&Rule::param(def), v, &prefix(&def.id))?;
                out.insert(def.id.clone(), v.clone());
            }
            (None, Some(default)) => {
                out.insert(def.id.clone(), default.clone());
            }
            (None, None) => return Err(format!("{}: missing", prefix(&def.id))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::document::ModelSet;
    use serde_json::json;

    #[test]
    fn command_params() {
        let set = ModelSet::builtin();
        let gw = set.get("PK-GW-01").unwrap().model();
        let reboot = gw.command("reboot").unwrap();
        let ok = check_fields(&reboot.params, json!({"delay": 5}).as_object().unwrap(), "params").unwrap();
        assert_eq!(ok["delay"], 5);
        let filled = check_fields(&reboot.params, &Map::new(), "params").unwrap();
        assert_eq!(filled["delay"], 0);
        let err = check_fields(&reboot.params, json!({"delay": 601}).as_object().unwrap(), "params").unwrap_err();
        assert_eq!(err, "params.delay: 601 is above the maximum 600");
        let err = check_fields(&reboot.params, json!({"delay": 1.5}).as_object().unwrap(), "params").unwrap_err();
        assert!(err.contains("expected an integer"), "{err}");
        let err = check_fields(&reboot.params, json!({"delay": "5"}).as_object().unwrap(), "params").unwrap_err();
        assert_eq!(err, "params.delay: expected int, found string");
        let err = check_fields(&reboot.params, json!({"wait": 1}).as_object().unwrap(), "params").unwrap_err();
        assert!(err.contains("not a declared"), "{err}");

        let pcs = set.get("PK-PCS-100").unwrap().model();
        let schedule = pcs.command("schedule").unwrap();
        let good = json!({"slots": [{"start": "08:00", "power": 50.0}]});
        assert!(check_fields(&schedule.params, good.as_object().unwrap(), "params").is_ok());
        let bad = json!({"slots": [{"start": "08:00", "power": 500.0}]});
        let err = check_fields(&schedule.params, bad.as_object().unwrap(), "params").unwrap_err();
        assert_eq!(err, "params.slots[0].power: 500 is above the maximum 100");
        let stop = pcs.command("stop").unwrap();
        let err = check_fields(&stop.params, json!({"mode": "fast"}).as_object().unwrap(), "params").unwrap_err();
        assert!(err.contains("not one of normal, emergency"), "{err}");
    }

    #[test]
    fn enum_points_take_their_keys() {
        let set = ModelSet::builtin();
        let pcs = set.get("PK-PCS-100").unwrap().model();
        let breaker = Rule::point(pcs.point("gridSwitch").unwrap());
        assert!(check(&breaker, &json!(1), "value").is_ok());
        assert!(check(&breaker, &json!(2), "value").is_err());
    }
}
