//! A model file as loaded: original text, JSON value (key order kept) and typed model; the set of
//! models known by product key; checks across files.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::preserve::write_preserving;
use super::types::ProductModel;
use super::error::{push_index, push_key};
use super::validate::validate_value;
use super::error::ModelError;

/// A parsed, valid product model file that can be saved back unchanged or after an edit.
#[derive(Debug, Clone)]
pub struct ModelDocument {
    source: String,
    text: String,
    value: Value,
    model: ProductModel,
    edited: bool,
}

impl ModelDocument {
    /// Parses and validates `text`; `source_name` goes into every error.
    pub fn parse(source_name: &str, text: &str) -> Result<ModelDocument, Vec<ModelError>> {
        // Windows editors may prepend a BOM; it is kept in `text` so saving stays byte-identical.
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value = serde_json::from_str(body).map_err(|e| vec![json_error(source_name, &e)])?;
        let model = typed(source_name, &value)?;
        Ok(ModelDocument { source: source_name.to_owned(), text: text.to_owned(), value, model, edited: false })
    }

    /// Name given at load time (file path, or `builtin:<name>`).
    pub fn source_name(&self) -> &str {
        &self.source
    }

    /// The text as loaded.
    pub fn original_text(&self) -> &str {
        &self.text
    }

    /// The JSON value, in file key order.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The typed model (as of the last successful validation).
    pub fn model(&self) -> &ProductModel {
        &self.model
    }

    /// The product key.
    pub fn product_key(&self) -> &str {
        &self.model.product_key
    }

    /// True once the value has been edited.
    pub fn is_edited(&self) -> bool {
        self.edited
    }

    /// Raw access for an editor; call `revalidate` afterwards to refresh the typed model.
    pub fn value_mut(&mut self) -> &mut Value {
        self.edited = true;
        &mut self.value
    }

    /// Re-checks the value after `value_mut` edits and rebuilds the typed model when it passes.
    pub fn revalidate(&mut self) -> Result<(), Vec<ModelError>> {
        self.model = typed(&self.source, &self.value)?;
        Ok(())
    }

    /// Replaces the content with `model`, keeping the file's key order, x- keys and plain-string
    /// names where the model did not change them. On errors the document is left as it was.
    pub fn replace_model(&mut self, model: &ProductModel) -> Result<(), Vec<ModelError>> {
        let new = serde_json::to_value(model).map_err(|e| {
            vec![ModelError { file: self.source.clone(), path: "$".into(), message: format!("cannot serialise: {e}") }]
        })?;
        let merged = merge(&self.value, new);
        let model = typed(&self.source, &merged)?;
        self.value = merged;
        self.model = model;
        self.edited = true;
        Ok(())
    }

    /// The file text: the original bytes when unedited, else the value written over the original
    /// text so that only the edited parts change (see [`write_preserving`]).
    pub fn to_text(&self) -> String {
        if !self.edited {
            return self.text.clone();
        }
        write_preserving(&self.text, &self.value)
    }
}

/// One error for malformed JSON, with its line and column.
fn json_error(file: &str, e: &serde_json::Error) -> ModelError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full);
    ModelError {
        file: file.to_owned(),
        path: "$".into(),
        message: format!("malformed JSON at line {}, column {}: {reason}", e.line(), e.column()),
    }
}

/// Validates `value` and builds the typed model from it.
fn typed(file: &str, value: &Value) -> Result<ProductModel, Vec<ModelError>> {
    let errors = validate_value(value, file);
    if !errors.is_empty() {
        return Err(errors);
    }
    // Only reachable if the schema and the types disagree; still an error value, with its path.
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = String::from("$");
        for segment in e.path().iter() {
            path = match segment {
                serde_path_to_error::Segment::Seq { index } => push_index(&path, *index),
                serde_path_to_error::Segment::Map { key } => push_key(&path, key),
                serde_path_to_error::Segment::Enum { variant } => push_key(&path, variant),
                serde_path_to_error::Segment::Unknown => path,
            };
        }
        vec![ModelError { file: file.to_owned(), path, message: e.inner().to_string() }]
    })
}

/// Lays `new` over `old`: old key order first, new keys after; list items matched by `id`.
fn merge(old: &Value, new: Value) -> Value {
    match (old, new) {
        (Value::Object(old_map), Value::Object(mut new_map)) => {
            let new_keys: Vec<String> = new_map.keys().cloned().collect();
            let mut out = Map::new();
            for (key, old_value) in old_map {
                match new_map.shift_remove(key) {
                    Some(new_value) => {
                        out.insert(key.clone(), merge(old_value, new_value));
                    }
                    // The typed model drops empty lists and `writable: false`; they mean the same.
                    None if is_default_spelling(key, old_value) => {
                        out.insert(key.clone(), old_value.clone());
                    }
                    None => {}
                }
            }
            // Keys the file lacked go right after the key that precedes them in the model's order.
            let mut after: Option<usize> = None;
            for key in new_keys {
                match new_map.shift_remove(&key) {
                    Some(value) => {
                        let at = after.map_or(0, |i| i + 1);
                        out.shift_insert(at, key, value);
                        after = Some(at);
                    }
                    None => after = out.keys().position(|k| *k == key).or(after),
                }
            }
            Value::Object(out)
        }
        (Value::Array(old_items), Value::Array(new_items)) => Value::Array(
            new_items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match counterpart(old_items, &item, i) {
                    Some(old_item) => merge(old_item, item),
                    None => item,
                })
                .collect(),
        ),
        // A plain string is a `zh`-only text; keep that spelling while the text is unchanged.
        (Value::String(s), Value::Object(map))
            if map.len() == 1 && map.get("zh").and_then(Value::as_str) == Some(s.as_str()) =>
        {
            Value::String(s.clone())
        }
        // 60 and 60.0 are the same limit; keep the file's spelling.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => Value::Number(a.clone()),
        (_, new) => new,
    }
}

fn is_default_spelling(key: &str, value: &Value) -> bool {
    value.as_array().is_some_and(Vec::is_empty) || (key == "writable" && value == &Value::Bool(false))
}

/// The old list item a new one replaces: same `id` if it has one, else the same position.
fn counterpart<'a>(old_items: &'a [Value], item: &Value, index: usize) -> Option<&'a Value> {
    match item.get("id").and_then(Value::as_str) {
        Some(id) => old_items.iter().find(|o| o.get("id").and_then(Value::as_str) == Some(id)),
        None => old_items.get(index),
    }
}

/// A product key defined by more than one of `docs` is reported on each later file.
pub fn check_duplicate_product_keys(docs: &[ModelDocument]) -> Vec<ModelError> {
    let mut first: HashMap<&str, &str> = HashMap::new();
    let mut errors = Vec::new();
    for doc in docs {
        match first.get(doc.product_key()) {
            Some(earlier) => errors.push(ModelError {
                file: doc.source.clone(),
                path: "$.productKey".into(),
                message: format!("product key {:?} is already defined by {earlier}", doc.product_key()),
            }),
            None => {
                first.insert(doc.product_key(), &doc.source);
            }
        }
    }
    errors
}

/// The example models shipped in `product-models/`, compiled in: (source name, text).
const BUILTIN: &[(&str, &str)] = &[
    ("builtin:energy-gateway.json", include_str!("../../../product-models/energy-gateway.json")),
    ("builtin:power-meter-3p.json", include_str!("../../../product-models/power-meter-3p.json")),
    ("builtin:pcs-100.json", include_str!("../../../product-models/pcs-100.json")),
];

/// Models known to the workbench, one per product key, in insertion order.
#[derive(Debug, Clone, Default)]
pub struct ModelSet {
    docs: Vec<ModelDocument>,
}

impl ModelSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The example models compiled into the binary, so it works from any folder.
    pub fn builtin() -> Self {
        let mut set = Self::new();
        // Each example is tested to parse; a broken one is left out rather than panicking.
        for (name, text) in BUILTIN {
            if let Ok(doc) = ModelDocument::parse(name, text) {
                set.insert(doc);
            }
        }
        set
    }

    /// Adds `doc`, returning the model it replaces (same product key), if any.
    pub fn insert(&mut self, doc: ModelDocument) -> Option<ModelDocument> {
        match self.docs.iter_mut().find(|d| d.product_key() == doc.product_key()) {
            Some(slot) => Some(std::mem::replace(slot, doc)),
            None => {
                self.docs.push(doc);
                None
            }
        }
    }

    /// The model of product key `pk`.
    pub fn get(&self, pk: &str) -> Option<&ModelDocument> {
        self.docs.iter().find(|d| d.product_key() == pk)
    }

    /// All models, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &ModelDocument> {
        self.docs.iter()
    }

    /// All models as a slice (for `check_sub_products`).
    pub fn documents(&self) -> &[ModelDocument] {
        &self.docs
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when no model is loaded.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

#[cfg(test)]
pub(super) fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}
