//! Checks a model's JSON value: first the JSON Schema, then the rules a schema cannot say
//! (unique ids, min ≤ max, defaults in range, enum rules, alarm thresholds, gateway-only keys).
//!
//! The semantic checks read the raw value and skip anything of the wrong shape, because the schema
//! has already reported it: each fault is reported once.
//!
//! A file lists at most [`MAX_ERRORS_PER_FILE`](super::MAX_ERRORS_PER_FILE) errors and counts
//! the rest (`schema` says how the schema pass keeps to that).

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::error::{FileErrors, ModelError, push_index, push_key};

mod schema;

pub use schema::SCHEMA_JSON;

/// The schema and semantic errors of a model value, each naming `file` and a JSON path: the
/// first [`MAX_ERRORS_PER_FILE`](super::MAX_ERRORS_PER_FILE), then one line saying how many
/// more there are.
pub fn validate_value(value: &Value, file: &str) -> Vec<ModelError> {
    let mut errors = FileErrors::new(file);
    schema::errors(value, &mut errors);
    // When the schema pass stopped looking, the total is unknown anyway.
    if errors.counting() {
        semantic_errors(value, &mut errors);
    }
    errors.finish()
}

/// Known value types, as spelled on disk; anything else was refused by the schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Int,
    Float,
    Bool,
    Enum,
    Str,
    Struct,
    Array,
}

impl Ty {
    fn of(item: &Map<String, Value>) -> Option<Ty> {
        Some(match item.get("type")?.as_str()? {
            "int" => Ty::Int,
            "float" => Ty::Float,
            "bool" => Ty::Bool,
            "enum" => Ty::Enum,
            "string" => Ty::Str,
            "struct" => Ty::Struct,
            "array" => Ty::Array,
            _ => return None,
        })
    }

    fn numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Bool => "bool",
            Ty::Enum => "enum",
            Ty::Str => "string",
            Ty::Struct => "struct",
            Ty::Array => "array",
        }
    }
}

struct Checker<'a> {
    errors: &'a mut FileErrors,
}

impl Checker<'_> {
    fn add(&mut self, path: String, message: String) {
        self.errors.push(path, message);
    }

    /// Reports ids that repeat within one list.
    fn unique_ids(&mut self, list: &Value, path: &str) {
        let Some(items) = list.as_array() else { return };
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let Some(id) = item.get("id").and_then(Value::as_str) else { continue };
            match first.get(id) {
                Some(&j) => {
                    let at = push_key(&push_index(path, i), "id");
                    self.add(at, format!("duplicate id {id:?} (first at {})", push_index(path, j)));
                }
                None => {
                    first.insert(id, i);
                }
            }
        }
    }

    /// Rules shared by properties, points and command values: limits, type-specific keys, enum, default.
    /// `enum_required` is true for digital points whatever their type.
    fn value_item(&mut self, item: &Map<String, Value>, path: &str, enum_required: bool) {
        let num = |k: &str| item.get(k).and_then(Value::as_f64);
        if let (Some(min), Some(max)) = (num("min"), num("max"))
            && min > max
        {
            self.add(push_key(path, "min"), format!("min {min} is greater than max {max}"));
        }
        let Some(ty) = Ty::of(item) else { return };
        if !ty.numeric() {
            for key in ["min", "max", "step"] {
                if item.contains_key(key) {
                    self.add(push_key(path, key), format!("{key} applies to int and float only, not {}", ty.name()));
                }
            }
        }
        if ty != Ty::Str && item.contains_key("maxLength") {
            self.add(push_key(path, "maxLength"), format!("maxLength applies to string only, not {}", ty.name()));
        }
        let labels = item.get("enum");
        if labels.is_none() && (enum_required || ty == Ty::Enum) {
            let why = if enum_required { "a digital point lists its states" } else { "type enum lists its values" };
            self.add(path.to_owned(), format!("missing \"enum\": {why}"));
        }
        // On a digital point a wrong type is the fault, reported by `point`; not the labels.
        if labels.is_some() && !enum_required && !matches!(ty, Ty::Int | Ty::Bool | Ty::Enum) {
            self.add(push_key(path, "enum"), format!("enum labels apply to int, bool and enum values, not {}", ty.name()));
        }
        if ty == Ty::Struct && item.get("fields").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            self.add(path.to_owned(), "missing \"fields\": a struct lists its members".into());
        }
        if ty != Ty::Struct && item.contains_key("fields") {
            self.add(push_key(path, "fields"), format!("fields applies to struct only, not {}", ty.name()));
        }
        if ty == Ty::Array && !item.contains_key("items") {
            self.add(path.to_owned(), "missing \"items\": an array describes its elements".into());
        }
        if ty != Ty::Array && item.contains_key("items") {
            self.add(push_key(path, "items"), format!("items applies to array only, not {}", ty.name()));
        }
        if let Some(default) = item.get("default") {
            self.default_value(item, ty, default, &push_key(path, "default"));
        }
    }

    /// The default must have the item's type and lie within its limits.
    fn default_value(&mut self, item: &Map<String, Value>, ty: Ty, default: &Value, path: &str) {
        let type_ok = match ty {
            Ty::Int => default.as_f64().is_some_and(|f| f.fract() == 0.0),
            Ty::Float => default.is_number(),
            Ty::Bool => default.is_boolean(),
            Ty::Enum | Ty::Str => default.is_string(),
            Ty::Struct => default.is_object(),
            Ty::Array => default.is_array(),
        };
        if !type_ok {
            self.add(path.to_owned(), format!("default {default} is not a {} value", ty.name()));
            return;
        }
        if let Some(d) = default.as_f64() {
            let min = item.get("min").and_then(Value::as_f64);
            let max = item.get("max").and_then(Value::as_f64);
            if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) {
                let show = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
                self.add(path.to_owned(), format!("default {d} is outside {}..{}", show(min), show(max)));
            }
        }
        if let Some(s) = default.as_str() {
            if ty == Ty::Str
                && let Some(max) = item.get("maxLength").and_then(Value::as_u64)
                && s.chars().count() as u64 > max
            {
                self.add(path.to_owned(), format!("default is {} characters long, maxLength is {max}", s.chars().count()));
            }
            if ty == Ty::Enum
                && let Some(labels) = item.get("enum").and_then(Value::as_object)
                && !labels.contains_key(s)
            {
                self.add(path.to_owned(), format!("default {s:?} is not one of the enum keys"));
            }
        }
    }

    fn point(&mut self, item: &Map<String, Value>, path: &str) {
        let kind = item.get("kind").and_then(Value::as_str);
        let digital = kind == Some("digital");
        self.value_item(item, path, digital);
        let ty = Ty::of(item);
        if let (Some(kind), Some(ty)) = (kind, ty) {
            let (fits, wanted) = match kind {
                "analog" | "accumulator" => (ty.numeric(), "int or float"),
                "digital" => (matches!(ty, Ty::Int | Ty::Bool | Ty::Enum), "int, bool or enum"),
                "text" => (ty == Ty::Str, "string"),
                _ => (true, ""),
            };
            if !fits {
                self.add(push_key(path, "type"), format!("a {kind} point has type {wanted}, not {}", ty.name()));
            }
        }
        if digital && let Some(labels) = item.get("enum").and_then(Value::as_object) {
            for key in labels.keys() {
                if key.parse::<i64>().is_err() {
                    let at = push_key(&push_key(path, "enum"), key);
                    self.add(at, format!("state key {key:?} of a digital point is not an integer"));
                }
            }
        }
        if let Some(alarm) = item.get("alarm").and_then(Value::as_object) {
            let alarm_path = push_key(path, "alarm");
            if let Some(ty) = ty
                && !ty.numeric()
            {
                self.add(alarm_path.clone(), format!("threshold alarms need an int or float point, not {}", ty.name()));
            }
            let lo = alarm.get("lo").and_then(Value::as_f64);
            let hi = alarm.get("hi").and_then(Value::as_f64);
            if let (Some(lo), Some(hi)) = (lo, hi)
                && lo >= hi
            {
                self.add(push_key(&alarm_path, "lo"), format!("alarm lo {lo} must be below hi {hi}"));
            }
        }
    }

    /// Params, outputs, struct fields and array items, recursively.
    fn value_list(&mut self, list: &Value, path: &str) {
        self.unique_ids(list, path);
        let Some(items) = list.as_array() else { return };
        for (i, item) in items.iter().enumerate() {
            self.value_def(item, &push_index(path, i));
        }
    }

    fn value_def(&mut self, item: &Value, path: &str) {
        let Some(map) = item.as_object() else { return };
        self.value_item(map, path, false);
        if let Some(fields) = map.get("fields") {
            self.value_list(fields, &push_key(path, "fields"));
        }
        if let Some(items) = map.get("items") {
            self.value_def(items, &push_key(path, "items"));
        }
    }
}

fn objects<'v>(root: &'v Map<String, Value>, key: &str) -> impl Iterator<Item = (String, &'v Map<String, Value>)> {
    let base = push_key("$", key);
    root.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(move |(i, v)| v.as_object().map(|m| (push_index(&base, i), m)))
}

/// The rules a schema cannot say, into `errors`.
fn semantic_errors(value: &Value, errors: &mut FileErrors) {
    let mut c = Checker { errors };
    let Some(root) = value.as_object() else { return };

    for list in ["ports", "properties", "points", "meters", "commands", "alarms"] {
        if let Some(items) = root.get(list) {
            c.unique_ids(items, &push_key("$", list));
        }
    }
    for (path, item) in objects(root, "properties") {
        c.value_item(item, &path, false);
    }
    for (path, item) in objects(root, "points") {
        c.point(item, &path);
    }
    for (path, item) in objects(root, "commands") {
        for list in ["params", "output"] {
            if let Some(values) = item.get(list) {
                c.value_list(values, &push_key(&path, list));
            }
        }
    }
    let point_ids: Vec<&str> = objects(root, "points").filter_map(|(_, p)| p.get("id")?.as_str()).collect();
    for (path, item) in objects(root, "alarms") {
        if let Some(pid) = item.get("pid").and_then(Value::as_str)
            && !point_ids.contains(&pid)
        {
            c.add(push_key(&path, "pid"), format!("point {pid:?} is not declared in points"));
        }
    }
    if root.get("kind").and_then(Value::as_str) == Some("device")
        && root.get("subProducts").and_then(Value::as_array).is_some_and(|a| !a.is_empty())
    {
        c.add("$.subProducts".into(), "only a gateway carries sub-products (kind is device)".into());
    }
}
