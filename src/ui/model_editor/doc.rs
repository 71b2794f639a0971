//! One model open in the editor: its JSON value (the single truth the forms and the raw pane
//! both edit), the text of the raw pane, the file it came from, validation and undo.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::forms::{FormEdit, Section};
use crate::protocol::model::{ModelDocument, ModelError, locate, validate_value, write_preserving};
use crate::protocol::storage::metric_map::MetricMap;
use crate::ui::connections::background::{Pending, Poll};

/// Undo steps kept per model; older ones are dropped.
const UNDO_DEPTH: usize = 200;
/// Past this many list items a model is big (a large point-table import): it is checked on a
/// thread, and its raw text is not rewritten on every edit (that takes a second or more for
/// 40,000 points).
pub const BIG_MODEL_ITEMS: usize = 5_000;

/// List items of the model's top-level sections.
fn item_count(value: &Value) -> usize {
    value.as_object().map_or(0, |m| m.values().filter_map(Value::as_array).map(Vec::len).sum())
}

/// A model in an editor tab.
#[derive(Debug)]
pub struct EditorDoc {
    /// The file it is saved to; None until a new model is first saved.
    pub path: Option<PathBuf>,
    /// What the tab calls it when it has no file (the template's name).
    untitled: String,
    /// The text as opened or last saved: the base the save keeps the formatting of, and the
    /// left side of the diff shown before saving.
    base_text: String,
    /// `base_text` parsed, to tell whether anything changed.
    base_value: Option<Value>,
    value: Value,
    /// The value as of the last change: what undo goes back to once the forms edit `value` in place.
    committed: Value,
    raw: String,
    /// Why the raw pane's text is not JSON (the forms are then read-only, so nothing typed is lost).
    raw_error: Option<String>,
    errors: Vec<ModelError>,
    /// A check of a big model running on a thread; a newer edit replaces it.
    checking: Option<Pending<Vec<ModelError>>>,
    /// The raw text is behind the value (a big model): rewritten when it is small again.
    raw_stale: bool,
    /// Unsaved changes, worked out once per change (a deep compare of a big model each frame
    /// would cost milliseconds).
    dirty: bool,
    undo: Vec<Value>,
    redo: Vec<Value>,
    /// The field the last form edit typed into: keystrokes in one field are one undo step.
    typing_in: Option<String>,
    /// The section whose form is shown.
    pub section: Section,
    /// The JSON path chosen in the problem list, shown once by the forms.
    pub focus: Option<String>,
    /// Where in the raw text that path is, for the raw pane to select once.
    pub raw_focus: Option<Range<usize>>,
}

impl EditorDoc {
    /// A model read from `path` with `text`. Malformed JSON opens too: the raw pane shows it with
    /// the reason, so the user can repair it here.
    pub fn opened(path: &Path, text: String) -> EditorDoc {
        let parsed = parse_json(&text);
        let mut doc = EditorDoc::with(Some(path.to_path_buf()), String::new(), text.clone(), parsed.as_ref().ok().cloned());
        doc.raw = text;
        if let Err(e) = parsed {
            doc.raw_error = Some(e);
        }
        doc.revalidate();
        doc
    }

    /// A new model from template `name` (never saved; the first save asks where).
    pub fn from_template(name: &str, text: &str) -> EditorDoc {
        let mut doc = EditorDoc::with(None, name.to_owned(), text.to_owned(), parse_json(text).ok());
        doc.raw = text.to_owned();
        doc.revalidate();
        doc
    }

    fn with(path: Option<PathBuf>, untitled: String, base_text: String, base_value: Option<Value>) -> EditorDoc {
        EditorDoc {
            path,
            untitled,
            value: base_value.clone().unwrap_or(Value::Object(serde_json::Map::new())),
            committed: base_value.clone().unwrap_or(Value::Object(serde_json::Map::new())),
            base_value,
            base_text,
            raw: String::new(),
            raw_error: None,
            errors: Vec::new(),
            checking: None,
            raw_stale: false,
            dirty: false,
            undo: Vec::new(),
            redo: Vec::new(),
            typing_in: None,
            section: Section::Identity,
            focus: None,
            raw_focus: None,
        }
    }

    /// The tab's title: the file name, else the template's name.
    pub fn title(&self) -> String {
        match self.path.as_ref().and_then(|p| p.file_name()) {
            Some(name) => name.to_string_lossy().into_owned(),
            None => format!("{} (new)", self.untitled),
        }
    }

    /// The name errors are reported under.
    fn source_name(&self) -> String {
        self.path.as_ref().map_or_else(|| format!("new {}", self.untitled), |p| p.display().to_string())
    }

    /// A metric map of the energy-storage page (a top-level `metrics` object) rather than a
    /// product model: checked as one, edited in its own form, never simulated.
    pub fn is_metric_map(&self) -> bool {
        MetricMap::looks_like(&self.value)
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn raw_text(&self) -> &str {
        &self.raw
    }

    /// The raw text does not follow the value (a big model is edited in the forms only).
    pub fn raw_is_stale(&self) -> bool {
        self.raw_stale
    }

    /// True while a big model is being checked.
    pub fn is_checking(&self) -> bool {
        self.checking.is_some()
    }

    /// Takes the result of a check that ran on a thread; true when one arrived.
    pub fn poll_check(&mut self) -> bool {
        let Some(pending) = &self.checking else { return false };
        match pending.poll() {
            Poll::Waiting => false,
            Poll::Ready(errors) => {
                self.errors = errors;
                self.checking = None;
                true
            }
            Poll::Lost => {
                self.checking = None;
                false
            }
        }
    }

    /// Why the raw text is not JSON, if it is not.
    pub fn raw_error(&self) -> Option<&str> {
        self.raw_error.as_deref()
    }

    /// Schema and semantic errors of the current value.
    pub fn errors(&self) -> &[ModelError] {
        &self.errors
    }

    /// The product key as typed, if any.
    pub fn product_key(&self) -> Option<&str> {
        self.value.get("productKey").and_then(Value::as_str)
    }

    /// Unsaved: never saved, or different from the file as opened or last saved.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// The value for the forms to edit in place; they must call [`EditorDoc::form_edited`] after.
    pub fn form_value(&mut self) -> &mut Value {
        &mut self.value
    }

    /// After the forms drew: a change becomes an undo step (keystrokes in one field fold into one).
    pub fn form_edited(&mut self, edit: &FormEdit) {
        if !edit.changed {
            return;
        }
        let same_field = edit.field.is_some() && edit.field == self.typing_in;
        let before = std::mem::replace(&mut self.committed, self.value.clone());
        if !same_field {
            self.push_undo(before);
        }
        self.typing_in = edit.field.clone();
        self.redo.clear();
        self.sync_raw();
        self.revalidate();
    }

    /// The raw pane's text was edited: when it is JSON it becomes the value (one undo step).
    pub fn raw_edited(&mut self, text: String) {
        self.raw = text;
        match parse_json(&self.raw) {
            Ok(value) => {
                self.raw_error = None;
                if value != self.value {
                    self.committed = value.clone();
                    let before = std::mem::replace(&mut self.value, value);
                    self.push_undo(before);
                    self.typing_in = None;
                    self.redo.clear();
                    self.revalidate();
                }
            }
            Err(e) => {
                self.raw_error = Some(e);
                self.dirty = true;
            }
        }
    }

    /// Replaces the whole value (an import); one undo step.
    pub fn replace_value(&mut self, value: Value) {
        self.committed = value.clone();
        let before = std::mem::replace(&mut self.value, value);
        self.push_undo(before);
        self.typing_in = None;
        self.redo.clear();
        self.raw_error = None;
        self.sync_raw();
        self.revalidate();
    }

    pub fn undo(&mut self) {
        if let Some(previous) = self.undo.pop() {
            let current = std::mem::replace(&mut self.value, previous);
            self.redo.push(current);
            self.after_history_step();
        }
    }

    pub fn redo(&mut self) {
        if let Some(next) = self.redo.pop() {
            let current = std::mem::replace(&mut self.value, next);
            self.undo.push(current);
            self.after_history_step();
        }
    }

    fn after_history_step(&mut self) {
        self.committed = self.value.clone();
        self.typing_in = None;
        self.raw_error = None;
        self.sync_raw();
        self.revalidate();
    }

    fn push_undo(&mut self, before: Value) {
        if self.undo.len() >= UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push(before);
    }

    /// The raw pane follows the value, keeping its own layout for what did not change.
    fn sync_raw(&mut self) {
        if item_count(&self.value) > BIG_MODEL_ITEMS {
            self.raw_stale = true;
            return;
        }
        let base = if self.raw_stale { &self.base_text } else { &self.raw };
        self.raw = write_preserving(base, &self.value);
        self.raw_stale = false;
    }

    /// After every change of the value (or of where it is saved): dirty again, checked again.
    fn revalidate(&mut self) {
        self.dirty = self.raw_error.is_some() || self.path.is_none() || self.base_value.as_ref() != Some(&self.value);
        let source = self.source_name();
        if self.is_metric_map() {
            self.checking = None;
            let problems = MetricMap::problems_of(&self.value);
            self.errors = problems.into_iter().map(|(path, message)| ModelError { file: source.clone(), path, message }).collect();
            return;
        }
        if item_count(&self.value) <= BIG_MODEL_ITEMS {
            self.checking = None;
            self.errors = validate_value(&self.value, &source);
            return;
        }
        let value = self.value.clone();
        match Pending::spawn("model-check", move || validate_value(&value, &source)) {
            Ok(pending) => self.checking = Some(pending),
            // No thread: check here rather than not at all.
            Err(_) => self.errors = validate_value(&self.value, &self.source_name()),
        }
    }

    /// Takes the user to the field at JSON `path`: its section's form, and the raw text there.
    pub fn go_to(&mut self, path: &str) {
        self.section = Section::of_path(path);
        self.focus = Some(path.to_owned());
        self.raw_focus = if self.raw_stale { None } else { locate(&self.raw, path) };
    }

    /// The text a save writes: the value laid over the text as opened, so unchanged parts keep
    /// their bytes (key order, spacing, number spelling).
    pub fn text_to_save(&self) -> String {
        if self.raw_error.is_none() && self.base_value.as_ref() == Some(&self.value) {
            return self.base_text.clone();
        }
        write_preserving(&self.base_text, &self.value)
    }

    /// The text as opened or last saved.
    pub fn base_text(&self) -> &str {
        &self.base_text
    }

    /// After a successful save of `text` to `path`.
    pub fn saved(&mut self, path: PathBuf, text: String) {
        self.base_value = parse_json(&text).ok();
        self.base_text = text;
        self.path = Some(path);
        self.revalidate();
    }

    /// The model as a checked document, when it has no errors (for simulating it).
    pub fn checked_document(&self) -> Option<ModelDocument> {
        if self.raw_error.is_some() || !self.errors.is_empty() || self.checking.is_some() || self.is_metric_map() {
            return None;
        }
        ModelDocument::parse(&self.source_name(), &self.text_to_save()).ok()
    }
}

/// The JSON value of `text` (a BOM allowed), or where and why it is not JSON.
fn parse_json(text: &str) -> Result<Value, String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(body).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        format!("line {}, column {}: {reason}", e.line(), e.column())
    })
}

#[cfg(test)]
#[path = "doc_tests.rs"]
mod tests;
