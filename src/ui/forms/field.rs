//! The state of one form field per model value spec (text buffers, a chosen enum key, a checkbox,
//! nested members, list items) and the JSON value it builds, checked by the model's one
//! `value_check`. No egui here: `editor.rs` draws it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::protocol::model::value_check::{Rule, check, check_fields};
use crate::protocol::model::{Lang, ParamDef, PointDef, PropertyDef, ValueType};

/// Why a field cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub text: String,
    /// A required field left empty: shown only once the user tried to send.
    pub missing: bool,
}

/// Reasons by field path (`delay`, `slots[0].power`; `""` for the whole form).
pub type Reasons = BTreeMap<String, Reason>;

/// A property or point as a field: the same checks as a command parameter, without members.
pub fn param_of_property(def: &PropertyDef) -> ParamDef {
    ParamDef { id: def.id.clone(), name: Some(def.name.clone()), description: def.description.clone(), spec: def.spec.clone(), default: None, fields: Vec::new(), items: None, extensions: Default::default() }
}

/// A writable point as a field.
pub fn param_of_point(def: &PointDef) -> ParamDef {
    ParamDef { id: def.id.clone(), name: Some(def.name.clone()), description: def.description.clone(), spec: def.spec.clone(), default: None, fields: Vec::new(), items: None, extensions: Default::default() }
}

/// The field's name in `lang`, else its id.
pub fn field_name(def: &ParamDef, lang: Lang) -> String {
    def.name.as_ref().map(|n| n.get(lang)).filter(|n| !n.is_empty()).map_or_else(|| def.id.clone(), str::to_owned)
}

/// True when the spec lists its values: drawn as a choice whatever its type.
pub fn has_choices(def: &ParamDef) -> bool {
    def.spec.enum_labels.as_ref().is_some_and(|l| !l.is_empty())
}

/// What the user has entered for one field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldState {
    /// int, float or string: the typed text.
    Text(String),
    Bool(bool),
    /// A spec with `enum` labels: the chosen key.
    Choice(Option<String>),
    /// struct: one state per member, in the model's order.
    Struct(Vec<FieldState>),
    /// array: one state per item.
    Array(Vec<FieldState>),
}

/// A wire value as the text a user would type.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The enum key a wire value is listed under (`1`, `1.0` and `true` all mean state "1").
fn key_of(def: &ParamDef, value: &Value) -> Option<String> {
    let labels = def.spec.enum_labels.as_ref()?;
    let candidates = match value {
        Value::Bool(b) => vec![u8::from(*b).to_string(), b.to_string()],
        Value::Number(n) => match n.as_f64() {
            Some(f) if crate::protocol::json_num::is_whole(f) => vec![format!("{}", f as i64), n.to_string()],
            _ => vec![n.to_string()],
        },
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    };
    candidates.into_iter().find(|k| labels.get(k).is_some())
}

impl FieldState {
    /// A field showing `value` (a current value or the default), empty when there is none.
    pub fn new(def: &ParamDef, value: Option<&Value>) -> FieldState {
        let value = value.or(def.default.as_ref());
        if has_choices(def) && !matches!(def.spec.value_type, ValueType::Struct | ValueType::Array) {
            return FieldState::Choice(value.and_then(|v| key_of(def, v)));
        }
        match def.spec.value_type {
            ValueType::Bool => FieldState::Bool(value.and_then(Value::as_bool).unwrap_or(false)),
            ValueType::Struct => {
                let obj = value.and_then(Value::as_object);
                FieldState::Struct(def.fields.iter().map(|f| FieldState::new(f, obj.and_then(|o| o.get(&f.id)))).collect())
            }
            ValueType::Array => {
                let items = value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                match def.items.as_deref() {
                    Some(item) => FieldState::Array(items.iter().map(|v| FieldState::new(item, Some(v))).collect()),
                    None => FieldState::Array(Vec::new()),
                }
            }
            ValueType::Int | ValueType::Float | ValueType::String | ValueType::Enum => FieldState::Text(value.map(text_of).unwrap_or_default()),
        }
    }

    /// An empty item for an array of `item`.
    pub fn new_item(item: &ParamDef) -> FieldState {
        FieldState::new(item, None)
    }

    /// The value this field sends, or `None` when it is left empty (its default then applies)
    /// or wrong (a reason is added under `path`).
    pub fn build(&self, def: &ParamDef, path: &str, reasons: &mut Reasons) -> Option<Value> {
        let value = match (self, def.spec.value_type) {
            (FieldState::Text(text), ValueType::Int) => {
                let t = text.trim();
                if t.is_empty() {
                    return None;
                }
                match (t.parse::<i64>(), t.parse::<f64>()) {
                    (Ok(i), _) => Value::from(i),
                    // A decimal goes to the check, which says "expected an integer".
                    (Err(_), Ok(f)) => serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
                    (Err(_), Err(_)) => return fail(reasons, path, format!("{path}: {t:?} is not a number")),
                }
            }
            (FieldState::Text(text), ValueType::Float) => {
                let t = text.trim();
                if t.is_empty() {
                    return None;
                }
                match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                    Some(n) => Value::Number(n),
                    None => return fail(reasons, path, format!("{path}: {t:?} is not a number")),
                }
            }
            (FieldState::Text(text), _) => {
                // An empty text is "left out" only where a default stands in for it.
                if text.is_empty() && def.default.is_some() {
                    return None;
                }
                Value::String(text.clone())
            }
            (FieldState::Bool(b), _) => Value::Bool(*b),
            (FieldState::Choice(None), _) => return None,
            (FieldState::Choice(Some(key)), kind) => match kind {
                ValueType::Int => key.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(key.clone())),
                ValueType::Float => key.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or_else(|| Value::String(key.clone()), Value::Number),
                ValueType::Bool => Value::Bool(key == "1" || key == "true"),
                _ => Value::String(key.clone()),
            },
            (FieldState::Struct(members), _) => {
                let before = reasons.len();
                let obj = build_members(&def.fields, members, path, reasons);
                if reasons.len() > before {
                    return None;
                }
                Value::Object(obj)
            }
            (FieldState::Array(items), _) => {
                let Some(item_def) = def.items.as_deref() else { return Some(Value::Array(Vec::new())) };
                let before = reasons.len();
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    match item.build(item_def, &item_path, reasons) {
                        Some(v) => out.push(v),
                        None if reasons.len() == before => {
                            reasons.insert(item_path.clone(), Reason { text: format!("{item_path}: missing"), missing: true });
                        }
                        None => {}
                    }
                }
                if reasons.len() > before {
                    return None;
                }
                Value::Array(out)
            }
        };
        match check(&Rule::param(def), &value, path) {
            Ok(()) => Some(value),
            Err(text) => fail(reasons, path, text),
        }
    }
}

fn fail(reasons: &mut Reasons, path: &str, text: String) -> Option<Value> {
    reasons.insert(path.to_owned(), Reason { text, missing: false });
    None
}

fn join(path: &str, id: &str) -> String {
    if path.is_empty() { id.to_owned() } else { format!("{path}.{id}") }
}

/// Builds the members of a struct (or a command's params): present values, a reason for each
/// wrong one and for each empty one without a default.
fn build_members(defs: &[ParamDef], states: &[FieldState], path: &str, reasons: &mut Reasons) -> Map<String, Value> {
    let mut out = Map::new();
    for (def, state) in defs.iter().zip(states) {
        let member = join(path, &def.id);
        let before = reasons.len();
        match state.build(def, &member, reasons) {
            Some(v) => {
                out.insert(def.id.clone(), v);
            }
            None if reasons.len() == before && def.default.is_none() => {
                reasons.insert(member.clone(), Reason { text: format!("{member}: missing"), missing: true });
            }
            None => {}
        }
    }
    out
}

/// The fields of a command's `params` (or any list of parameters), with their definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamsForm {
    pub defs: Vec<ParamDef>,
    pub states: Vec<FieldState>,
    /// The user tried to send: "missing" reasons are shown from now on.
    pub attempted: bool,
}

impl ParamsForm {
    /// A form of `defs`, each field showing its value in `values` or its default.
    pub fn new(defs: &[ParamDef], values: Option<&Map<String, Value>>) -> ParamsForm {
        let states = defs.iter().map(|d| FieldState::new(d, values.and_then(|v| v.get(&d.id)))).collect();
        ParamsForm { defs: defs.to_vec(), states, attempted: false }
    }

    /// The params object to send, defaults filled in, or the reasons it cannot be sent.
    pub fn build(&self) -> Result<Map<String, Value>, Reasons> {
        let mut reasons = Reasons::new();
        let given = build_members(&self.defs, &self.states, "", &mut reasons);
        if !reasons.is_empty() {
            return Err(reasons);
        }
        // The model's check of the whole object is the last word (and fills the defaults).
        check_fields(&self.defs, &given, "").map_err(|text| Reasons::from([(String::new(), Reason { text, missing: false })]))
    }

    /// The reasons to show now: all of them once the user tried to send, else the wrong values.
    pub fn visible_reasons(&self) -> Reasons {
        match self.build() {
            Ok(_) => Reasons::new(),
            Err(r) => r.into_iter().filter(|(_, reason)| self.attempted || !reason.missing).collect(),
        }
    }
}

/// A raw JSON params editor for what no model describes: parsed, never checked against a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct RawJsonForm {
    pub text: String,
}

impl Default for RawJsonForm {
    fn default() -> Self {
        RawJsonForm { text: "{}".to_owned() }
    }
}

impl RawJsonForm {
    /// The parsed object, or where the text stops being JSON.
    pub fn build(&self) -> Result<Map<String, Value>, String> {
        match serde_json::from_str::<Value>(&self.text) {
            Ok(Value::Object(obj)) => Ok(obj),
            Ok(_) => Err("expected a JSON object {…}".to_owned()),
            Err(e) => Err(format!("line {}, column {}: {e}", e.line(), e.column())),
        }
    }
}

#[cfg(test)]
#[path = "field_tests.rs"]
mod tests;
