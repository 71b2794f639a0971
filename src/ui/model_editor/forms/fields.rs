//! One-line widgets that edit one key of a JSON object in place. Each is outlined red when a
//! validation error names its path (the messages on hover), and takes the keyboard focus once
//! when the user chose an error at its path. New keys go where the example models put them.

use egui::{Align, Id, Response, Stroke, StrokeKind, TextEdit, Ui};
use serde_json::{Map, Value};

use super::{FormCtx, FormEdit};
use crate::protocol::model::{Lang, ModelError};
use crate::ui::i18n::tr;

/// Top-level keys in the order the example models write them.
pub(super) const TOP_ORDER: &[&str] = &[
    "$schema", "modelVersion", "productKey", "kind", "category", "name", "vendor", "model", "description", "ports",
    "properties", "points", "meters", "commands", "alarms", "subProducts",
];

/// Keys of an item (and of its small objects: names, alarm, port params) in that order.
pub(super) const ITEM_ORDER: &[&str] = &[
    "id", "zh", "en", "name", "description", "kind", "type", "unit", "min", "max", "step", "maxLength", "period",
    "writable", "enum", "access", "default", "alarm", "hi", "lo", "deadband", "level", "pid", "params", "baud",
    "parity", "dataBits", "stopBits", "ip", "netmask", "gateway", "tcpPort", "timeoutMs", "protocol", "protocols",
    "output", "fields", "items",
];

fn rank(order: &[&str], key: &str) -> usize {
    match order.iter().position(|k| *k == key) {
        Some(i) => i,
        None if key.starts_with("x-") => usize::MAX,
        None => order.len(),
    }
}

/// Sets `map[key]`: in place when present, else before the first key that comes after it in `order`.
pub(super) fn insert_in(map: &mut Map<String, Value>, order: &[&str], key: &str, value: Value) {
    if let Some(slot) = map.get_mut(key) {
        *slot = value;
        return;
    }
    let mine = rank(order, key);
    let at = map.keys().position(|k| rank(order, k) > mine).unwrap_or(map.len());
    map.shift_insert(at, key.to_owned(), value);
}

/// `map[key] = value` in item order.
pub(super) fn insert(map: &mut Map<String, Value>, key: &str, value: Value) {
    insert_in(map, ITEM_ORDER, key, value);
}

/// True when `path` is `base` or lies inside it (`base.x`, `base[0]`).
pub(super) fn under(path: &str, base: &str) -> bool {
    path.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// The focus path to act on this frame: `focus` when it was not acted on already (the shell may
/// pass it for one frame or keep passing it).
pub(super) fn new_focus(ui: &Ui, focus: Option<&str>) -> Option<String> {
    let id = Id::unique("model_editor_forms_last_focus");
    let last: Option<String> = ui.data(|d| d.get_temp(id));
    match focus {
        None => {
            if last.is_some() {
                ui.data_mut(|d| d.remove::<String>(id));
            }
            None
        }
        Some(f) if last.as_deref() == Some(f) => None,
        Some(f) => {
            ui.data_mut(|d| d.insert_temp(id, f.to_owned()));
            Some(f.to_owned())
        }
    }
}

/// A value as the text a user types: a string as is, anything else as JSON.
pub(super) fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Typed text as a JSON number when it is one, else as the string typed (the schema then names it).
pub(super) fn number_of(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

/// The drawing state of one frame of a form.
pub(super) struct Form<'f, 'c> {
    pub cx: &'f FormCtx<'c>,
    edit: &'f mut FormEdit,
    /// A newly chosen error's path, until a field (or row) at it takes it.
    pub focus: Option<String>,
    /// Edits made this frame so far, so a caller sees whether its widgets changed something.
    edits: usize,
    /// The errors the widgets drawn now may carry (a row's, while it is drawn).
    pub errors: Vec<&'c ModelError>,
    /// The key order of the object being edited.
    pub order: &'static [&'static str],
}

impl<'f, 'c> Form<'f, 'c> {
    pub fn new(cx: &'f FormCtx<'c>, edit: &'f mut FormEdit, focus: Option<String>) -> Self {
        Form { cx, edit, focus, edits: 0, errors: cx.errors.iter().collect(), order: ITEM_ORDER }
    }

    pub fn tr(&self, key: &'static str) -> &'static str {
        tr(self.cx.lang, key)
    }

    /// Records a keystroke in the field at `path`.
    pub fn typed(&mut self, path: &str) {
        self.edits += 1;
        self.edit.changed = true;
        self.edit.field = Some(path.to_owned());
    }

    /// Records a structural edit (a choice, add, remove, move).
    pub fn structural(&mut self) {
        self.edits += 1;
        self.edit.changed = true;
        self.edit.field = None;
    }

    /// How many edits this frame made so far.
    pub fn edits(&self) -> usize {
        self.edits
    }

    /// Runs `f` with only `errors` in view (a row's), then restores the section's.
    pub fn with_errors<R>(&mut self, errors: Vec<&'c ModelError>, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = std::mem::replace(&mut self.errors, errors);
        let out = f(self);
        self.errors = saved;
        out
    }

    /// True when the pending focus lies at or inside `path`.
    pub fn focus_under(&self, path: &str) -> bool {
        self.focus.as_deref().is_some_and(|f| under(f, path))
    }

    /// Red outline and messages when an error lies at `path`; focus once when one was chosen there.
    pub fn decorate(&mut self, ui: &Ui, response: Response, path: &str) -> Response {
        let mut response = response;
        let messages: Vec<&str> = self.errors.iter().filter(|e| under(&e.path, path)).map(|e| e.message.as_str()).collect();
        if !messages.is_empty() {
            ui.painter().rect_stroke(response.rect.expand(1.0), 2.0, Stroke::new(1.5, ui.visuals().error_fg_color), StrokeKind::Outside);
            response = response.on_hover_text(messages.join("\n"));
        }
        if self.focus_under(path) {
            self.focus = None;
            response.request_focus();
            response.scroll_to_me(Some(Align::Center));
            ui.painter().rect_stroke(response.rect.expand(3.0), 2.0, Stroke::new(2.0, ui.visuals().selection.stroke.color), StrokeKind::Outside);
        }
        response
    }

    /// A text field for `map[key]`; emptied, an optional key is removed.
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, name: &str, width: f32, required: bool) -> Response {
        let mut text = text_of(map.get(key));
        let response = ui.add(TextEdit::singleline(&mut text).desired_width(width)).accessible_name(name);
        if response.changed() {
            if text.is_empty() && !required {
                map.shift_remove(key);
            } else {
                insert_in(map, self.order, key, Value::String(text));
            }
            self.typed(path);
        }
        self.decorate(ui, response, path)
    }

    /// A number field for `map[key]`: a number when the text parses, else the text itself (so the
    /// check names the field); emptied, the key is removed.
    pub fn number(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, name: &str, width: f32) -> Response {
        let parse = |text: &str| (!text.trim().is_empty()).then(|| number_of(text));
        self.parsed(ui, map, key, path, name, width, &|v| text_of(v), &parse)
    }

    /// A field for `map[key]` shown as `show` and stored as `parse` makes of the text (None
    /// removes the key). The text stays as typed while the field has the focus and holds what it
    /// wrote ("1." is not shown back as "1.0", "a, " keeps its comma).
    #[allow(clippy::too_many_arguments)]
    pub fn parsed(
        &mut self,
        ui: &mut Ui,
        map: &mut Map<String, Value>,
        key: &str,
        path: &str,
        name: &str,
        width: f32,
        show: &dyn Fn(Option<&Value>) -> String,
        parse: &dyn Fn(&str) -> Option<Value>,
    ) -> Response {
        let id = ui.make_persistent_id(("typed", key));
        let focused = ui.memory(|m| m.has_focus(id));
        let buffer: Option<(String, u64)> = if focused { ui.data(|d| d.get_temp(id)) } else { None };
        let mut text = match buffer {
            Some((typed, wrote)) if wrote == fingerprint(map.get(key)) => typed,
            _ => show(map.get(key)),
        };
        let response = ui.add(TextEdit::singleline(&mut text).id(id).desired_width(width)).accessible_name(name);
        if response.changed() {
            match parse(&text) {
                Some(value) => insert_in(map, self.order, key, value),
                None => {
                    map.shift_remove(key);
                }
            }
            let wrote = fingerprint(map.get(key));
            ui.data_mut(|d| d.insert_temp(id, (text, wrote)));
            self.typed(path);
        } else if focused && !response.has_focus() {
            ui.data_mut(|d| d.remove::<(String, u64)>(id));
        }
        self.decorate(ui, response, path)
    }

    /// One language of a localized text (`"…"` = Chinese, or `{"zh": …, "en": …}`).
    #[allow(clippy::too_many_arguments)]
    pub fn localized(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, lang: Lang, name: &str, width: f32, required: bool) -> Response {
        let (zh, en) = match map.get(key) {
            None => (String::new(), String::new()),
            Some(Value::String(s)) => (s.clone(), String::new()),
            Some(Value::Object(o)) => (text_of(o.get("zh")), text_of(o.get("en"))),
            Some(other) => (other.to_string(), String::new()),
        };
        let mut text = if lang == Lang::Zh { zh } else { en };
        let response = ui.add(TextEdit::singleline(&mut text).desired_width(width)).accessible_name(name);
        if response.changed() {
            set_localized(map, self.order, key, lang, text, required);
            self.typed(path);
        }
        self.decorate(ui, response, path)
    }

    /// A choice among `choices` (and "—", which removes the key, when optional). A value not
    /// among them is shown as it is, so the user sees what to replace.
    #[allow(clippy::too_many_arguments)]
    pub fn combo(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, name: &str, choices: &[Value], width: f32, optional: bool) -> Response {
        let current = map.get(key);
        let shown = match current {
            None => "—".to_owned(),
            Some(v) => text_of(Some(v)),
        };
        let mut chosen: Option<Option<Value>> = None;
        let inner = egui::ComboBox::from_id_salt(("combo", key)).selected_text(shown).width(width).show_ui(ui, |ui| {
            if optional && ui.selectable_label(current.is_none(), "—").clicked() {
                chosen = Some(None);
            }
            for choice in choices {
                if ui.selectable_label(current == Some(choice), text_of(Some(choice))).clicked() {
                    chosen = Some(Some(choice.clone()));
                }
            }
        });
        match chosen {
            Some(Some(v)) if map.get(key) != Some(&v) => {
                insert_in(map, self.order, key, v);
                self.structural();
            }
            Some(None) if map.contains_key(key) => {
                map.shift_remove(key);
                self.structural();
            }
            _ => {}
        }
        let response = inner.response.accessible_name(name);
        self.decorate(ui, response, path)
    }

    /// A checkbox for a flag that is false when absent: unticked removes the key.
    pub fn flag(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, name: &str) -> Response {
        let mut on = map.get(key).and_then(Value::as_bool).unwrap_or(false);
        let response = ui.checkbox(&mut on, "").accessible_name(name);
        if response.changed() {
            if on {
                insert_in(map, self.order, key, Value::Bool(true));
            } else {
                map.shift_remove(key);
            }
            self.structural();
        }
        self.decorate(ui, response, path)
    }

    /// A text field with a ▼ menu of `options()` (those containing the text typed, at most
    /// [`MENU_MAX`]); free entry allowed. `options` runs only while the menu is open.
    #[allow(clippy::too_many_arguments)]
    pub fn text_with_menu(&mut self, ui: &mut Ui, map: &mut Map<String, Value>, key: &str, path: &str, name: &str, width: f32, options: &dyn Fn() -> Vec<String>) -> Response {
        let response = self.text(ui, map, key, path, name, width, false);
        let typed = text_of(map.get(key));
        let mut picked = None;
        ui.menu_button("▼", |ui| {
            let all = options();
            let matching: Vec<&String> = all.iter().filter(|o| typed.is_empty() || all.contains(&typed) || o.contains(typed.as_str())).take(MENU_MAX).collect();
            egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                for option in matching {
                    if ui.selectable_label(*option == typed, option.as_str()).clicked() {
                        picked = Some(option.clone());
                        ui.close();
                    }
                }
            });
        })
        .response
        .on_hover_text(self.tr("Choose from the list"));
        if let Some(value) = picked {
            insert_in(map, self.order, key, Value::String(value));
            self.structural();
        }
        response
    }
}

/// A short hash of a stored value, to tell whether it is still what a field wrote.
fn fingerprint(value: Option<&Value>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.map(Value::to_string).hash(&mut h);
    h.finish()
}

/// Options shown in a field's menu at most.
pub(super) const MENU_MAX: usize = 200;

/// Writes one language of `map[key]`: a plain string stays plain while only Chinese is given.
fn set_localized(map: &mut Map<String, Value>, order: &[&str], key: &str, lang: Lang, text: String, required: bool) {
    let plain = matches!(map.get(key), None | Some(Value::String(_)));
    if plain && lang == Lang::Zh && map.get(key).is_some() {
        if text.is_empty() && !required {
            map.shift_remove(key);
        } else {
            insert_in(map, order, key, Value::String(text));
        }
        return;
    }
    let mut object = match map.get(key) {
        Some(Value::Object(o)) => o.clone(),
        Some(Value::String(s)) if !s.is_empty() => Map::from_iter([("zh".to_owned(), Value::String(s.clone()))]),
        _ => Map::new(),
    };
    let side = if lang == Lang::Zh { "zh" } else { "en" };
    if text.is_empty() {
        object.shift_remove(side);
    } else {
        insert(&mut object, side, Value::String(text));
    }
    if object.is_empty() && !required {
        map.shift_remove(key);
    } else {
        insert_in(map, order, key, Value::Object(object));
    }
}
