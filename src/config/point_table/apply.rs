//! An import plan applied to a model: ids already in the section replaced in place, new ids
//! appended, the section created when absent; then the whole model validated.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::rows::ImportPlan;
use crate::protocol::model::validate_value;

/// The order of an entry's keys, as in the example models; other keys (`x-…`) follow in their order.
const KEY_ORDER: &[&str] =
    &["id", "name", "description", "kind", "type", "unit", "min", "max", "step", "maxLength", "period", "enum", "writable", "access", "default", "alarm"];

/// Keys a table does not carry, kept from the entry an import replaces (when the new entry can hold them).
const KEPT_ON_REPLACE: &[&str] = &["description", "enum", "alarm", "default", "maxLength"];

/// `model` with the plan's accepted rows in its section. Rejected rows are left out: the caller
/// decides (skip or stop) before applying.
pub fn apply_plan(model: &Value, plan: &ImportPlan) -> Value {
    let mut out = model.clone();
    let Some(root) = out.as_object_mut() else { return out };
    let section = root.entry(plan.section.key()).or_insert_with(|| Value::Array(Vec::new()));
    if !section.is_array() {
        *section = Value::Array(Vec::new());
    }
    let Some(items) = section.as_array_mut() else { return out };
    // An index by id: 50,000 rows searched one by one would be quadratic.
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(id) = item.get("id").and_then(Value::as_str) {
            index.entry(id.to_owned()).or_insert(i);
        }
    }
    for row in &plan.accepted {
        match index.get(&row.id) {
            Some(&i) => items[i] = merged(&items[i], &row.entry),
            None => {
                index.insert(row.id.clone(), items.len());
                items.push(row.entry.clone());
            }
        }
    }
    out
}

/// The new entry, with what the table cannot say (alarm thresholds, state labels, a description)
/// kept from the old one when it still fits.
fn merged(old: &Value, new: &Value) -> Value {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else { return new.clone() };
    let mut out = new.clone();
    let numeric = matches!(new.get("type").and_then(Value::as_str), Some("int" | "float"));
    for key in KEPT_ON_REPLACE {
        let fits = match *key {
            "enum" => new.contains_key("enum"),
            "alarm" => numeric,
            _ => true,
        };
        if fits
            && let Some(value) = old.get(*key)
            && (*key == "enum" || !new.contains_key(*key))
        {
            out.insert((*key).to_owned(), value.clone());
        }
    }
    Value::Object(ordered(out))
}

fn ordered(entry: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in KEY_ORDER {
        if let Some(v) = entry.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    for (k, v) in entry {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    out
}

/// The model's validation errors after an import, as `path: message` lines (none when it validates).
pub fn import_errors(model: &Value, file: &str) -> Vec<String> {
    validate_value(model, file).into_iter().map(|e| format!("{}: {}", e.path, e.message)).collect()
}
