//! The JSON Schema pass of a model check.
//!
//! The validator collects all its errors before handing out the first, so a top-level list
//! longer than [`WINDOW`] is validated a window of items at a time, the rest of the document once
//! with such lists left empty: memory stays that of one window however many items are wrong, and
//! the pass stops at the first error past the cap. Messages are cut to [`MAX_MESSAGE_CHARS`]: the
//! validator's messages quote the faulty value whole.

use std::collections::HashSet;
use std::sync::LazyLock;

use jsonschema::error::{ValidationError, ValidationErrorKind};
use serde_json::{Map, Value, json};

use super::super::error::{FileErrors, push_index, push_key};

/// The product model JSON Schema (draft 2020-12), as shipped in `assets/schema/`.
pub const SCHEMA_JSON: &str = include_str!("../../../../assets/schema/product-model.schema.json");
use crate::protocol::ids::{IdKind, check_id};

/// Items of a top-level list validated against the schema at once.
const WINDOW: usize = 256;
/// Characters of one error message at most.
const MAX_MESSAGE_CHARS: usize = 512;

/// Compiled once; an `Err` here is a bug in the shipped schema, reported instead of panicking.
static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA_JSON).map_err(|e| e.to_string())?;
    jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
});

/// The top-level keys the schema declares as lists (`points`, `subProducts`, …): the ones
/// checked a window at a time.
static LIST_KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap_or(Value::Null);
    let properties = schema.get("properties").and_then(Value::as_object).into_iter().flatten();
    properties.filter(|(_, p)| p.get("type").and_then(Value::as_str) == Some("array")).map(|(k, _)| k.clone()).collect()
});

/// The schema errors of `value` into `errors`.
pub(super) fn errors(value: &Value, errors: &mut FileErrors) {
    match &*VALIDATOR {
        Ok(validator) => schema_errors(validator, value, errors),
        Err(e) => errors.push("$".into(), format!("internal error: the built-in schema does not compile: {e}")),
    }
}

/// Turns a JSON pointer (`/points/3/min`) into `$.points[3].min`, walking `root` to tell array
/// indexes from object keys that look like numbers (`enum` keys "0", "1").
fn pointer_to_path(root: &Value, pointer: &str) -> String {
    let mut path = String::from("$");
    let mut current = Some(root);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match current {
            Some(Value::Array(items)) => match segment.parse::<usize>() {
                Ok(i) => {
                    path = push_index(&path, i);
                    current = items.get(i);
                }
                Err(_) => {
                    path = push_key(&path, &segment);
                    current = None;
                }
            },
            Some(Value::Object(map)) => {
                path = push_key(&path, &segment);
                current = map.get(&segment);
            }
            _ => {
                path = push_key(&path, &segment);
                current = None;
            }
        }
    }
    path
}

/// Schema errors of `value` into `errors`; a top-level list longer than [`WINDOW`] is checked
/// a window at a time, the rest of the document once with such lists left empty.
fn schema_errors(validator: &jsonschema::Validator, value: &Value, errors: &mut FileErrors) {
    if validator.is_valid(value) {
        return;
    }
    let mut listed = HashSet::new();
    let Some(root) = value.as_object() else {
        return collect(validator, value, value, None, errors, &mut listed);
    };
    let big: Vec<&String> =
        root.iter().filter(|(k, v)| LIST_KEYS.contains(k) && v.as_array().is_some_and(|a| a.len() > WINDOW)).map(|(k, _)| k).collect();
    if big.is_empty() {
        return collect(validator, value, value, None, errors, &mut listed);
    }
    let skeleton: Map<String, Value> = root.iter().map(|(k, v)| (k.clone(), if big.contains(&k) { json!([]) } else { v.clone() })).collect();
    collect(validator, value, &Value::Object(skeleton), None, errors, &mut listed);
    for key in big {
        let Some(items) = root.get(key).and_then(Value::as_array) else { continue };
        let escaped = key.replace('~', "~0").replace('/', "~1");
        for (n, chunk) in items.chunks(WINDOW).enumerate() {
            // The root's required keys, valid, so that only the window's own faults show.
            let mut probe = json!({"modelVersion": "1.0", "productKey": "P", "kind": "gateway", "name": "n"});
            probe[key.as_str()] = Value::Array(chunk.to_vec());
            if !validator.is_valid(&probe) {
                collect(validator, value, &probe, Some((&escaped, n * WINDOW)), errors, &mut listed);
            }
            if !errors.counting() {
                return;
            }
        }
    }
}

/// The errors of `instance` into `errors`, their paths taken in `root`. For a window
/// (`(escaped key, first index)`) only errors under that key count, their indexes shifted back;
/// a window past the cap stops the counting, since checking every later window would cost as
/// much as the whole file (errors of a whole document are in hand already and are counted).
/// `listed` keeps each listed (path, message) once: applicator keywords can reach one spot twice.
fn collect(validator: &jsonschema::Validator, root: &Value, instance: &Value, window: Option<(&str, usize)>, errors: &mut FileErrors, listed: &mut HashSet<(String, String)>) {
    let mut here = HashSet::new();
    for error in validator.iter_errors(instance) {
        let pointer = error.instance_path().as_str();
        let pointer = match window {
            None => pointer.to_owned(),
            Some((key, start)) => match shift(pointer, key, start) {
                Some(p) => p,
                None => continue,
            },
        };
        for (path, message) in describe(&error, pointer_to_path(root, &pointer)) {
            let message = short(message);
            if !here.insert((path.clone(), message.clone())) {
                continue;
            }
            if errors.full() && window.is_some() {
                errors.stop_counting();
                return;
            } else if errors.full() {
                errors.count();
            } else if listed.insert((path.clone(), message.clone())) {
                errors.push(path, message);
            }
        }
    }
}

/// `/key/j/rest` of a window starting at `start` as `/key/(start + j)/rest`; `/key` as is; None
/// for anything outside the key (the probe's own root).
fn shift(pointer: &str, key: &str, start: usize) -> Option<String> {
    let rest = pointer.strip_prefix('/')?.strip_prefix(key)?;
    if rest.is_empty() {
        return Some(pointer.to_owned());
    }
    let rest = rest.strip_prefix('/')?;
    let (index, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
    let index: usize = index.parse().ok()?;
    let tail = if tail.is_empty() { String::new() } else { format!("/{tail}") };
    Some(format!("/{key}/{}{tail}", start + index))
}

/// `message`, or its first characters and "…" when it is longer than [`MAX_MESSAGE_CHARS`].
fn short(message: String) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS - 1) {
        Some((cut, _)) if message.chars().nth(MAX_MESSAGE_CHARS).is_some() => format!("{}…", &message[..cut]),
        _ => message,
    }
}

/// One schema error as (path, message) lines: an unknown key each, a missing key by name.
fn describe(error: &ValidationError<'_>, path: String) -> Vec<(String, String)> {
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            unexpected.iter().map(|key| (push_key(&path, key), format!("unknown key {key:?}"))).collect()
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_owned);
            vec![(path, format!("missing required key {name:?}"))]
        }
        ValidationErrorKind::Pattern { .. } => {
            let message = pattern_message(&path, error.instance()).unwrap_or_else(|| error.to_string());
            vec![(path, message)]
        }
        _ => {
            let message = error.to_string();
            vec![(path, message)]
        }
    }
}

/// A readable reason for a pattern failure, using the contract's id rules.
fn pattern_message(path: &str, instance: &Value) -> Option<String> {
    let text = instance.as_str()?;
    if path == "$.modelVersion" {
        return Some(format!("model version {text:?} is not supported (expected 1.x)"));
    }
    if path == "$.category" {
        return text.parse::<super::super::category::Category>().err();
    }
    let kind = if path == "$.productKey" || path.starts_with("$.subProducts[") { IdKind::ProductKey } else { IdKind::Point };
    check_id(kind, text).err().map(|e| e.to_string())
}


#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_schema_compiles() {
        assert!(VALIDATOR.is_ok(), "{:?}", VALIDATOR.as_ref().err());
    }

    #[test]
    fn window_pointers_shift_back_to_the_file() {
        assert_eq!(shift("/points/3/min", "points", 256).as_deref(), Some("/points/259/min"));
        assert_eq!(shift("/points/0", "points", 512).as_deref(), Some("/points/512"));
        assert_eq!(shift("/points", "points", 256).as_deref(), Some("/points"));
        assert_eq!(shift("", "points", 256), None);
        assert_eq!(shift("/pointsX/1", "points", 256), None);
        assert_eq!(shift("/modelVersion", "points", 256), None);
        assert_eq!(short("é".repeat(600)).chars().count(), MAX_MESSAGE_CHARS);
        assert_eq!(short("ok".into()), "ok");
    }

    #[test]
    fn pointers_become_json_paths() {
        let v = json!({"points": [{"enum": {"0": "a"}}], "x-v": 1});
        assert_eq!(pointer_to_path(&v, ""), "$");
        assert_eq!(pointer_to_path(&v, "/points/0/enum/0"), "$.points[0].enum[\"0\"]");
        assert_eq!(pointer_to_path(&v, "/x-v"), "$[\"x-v\"]");
        assert_eq!(pointer_to_path(&v, "/a~1b/c"), "$[\"a/b\"].c");
    }
}
