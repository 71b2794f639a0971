//! The value labels of an item (`enum`: value key → text in Chinese and English): rename a key,
//! edit its labels, add and remove values.

use egui::{Button, Grid, Ui};
use serde_json::{Map, Value, json};

use super::fields::Form;
use crate::protocol::model::push_key;
use super::shape::{nested_ui};
use crate::protocol::model::Lang;

/// A key not yet used: the next integer (digital states are "0", "1", …).
fn new_key(labels: &Map<String, Value>) -> String {
    (0..).map(|n: u32| n.to_string()).find(|k| !labels.contains_key(k)).unwrap_or_default()
}

/// `labels` with key `old` renamed `new`, in place; None when `new` is taken.
fn renamed(labels: &Map<String, Value>, old: &str, new: &str) -> Option<Map<String, Value>> {
    if labels.contains_key(new) {
        return None;
    }
    Some(labels.iter().map(|(k, v)| (if k == old { new.to_owned() } else { k.clone() }, v.clone())).collect())
}

/// The `enum` of the item `map` at `path`.
pub(super) fn enum_labels_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    let enum_path = format!("{path}.enum");
    ui.label(form.tr("Value labels"));
    nested_ui(ui, form, map, "enum", |ui, form, labels| {
        let mut rename: Option<(String, String)> = None;
        let mut remove: Option<String> = None;
        Grid::new("enum_labels").num_columns(4).spacing([8.0, 4.0]).show(ui, |ui| {
            ui.strong(form.tr("Value"));
            ui.strong(form.tr("Label (中文)"));
            ui.strong(form.tr("Label (English)"));
            ui.end_row();
            let keys: Vec<String> = labels.keys().cloned().collect();
            for (i, key) in keys.iter().enumerate() {
                let label_path = push_key(&enum_path, key);
                ui.push_id(i, |ui| {
                    let mut typed = key.clone();
                    let response = ui.add(egui::TextEdit::singleline(&mut typed).desired_width(80.0)).accessible_name(form.tr("Value"));
                    if response.changed() && !typed.is_empty() {
                        rename = Some((key.clone(), typed));
                    }
                    form.decorate(ui, response, &label_path);
                    form.localized(ui, labels, key, &label_path, Lang::Zh, form.tr("Label (中文)"), 140.0, true);
                    form.localized(ui, labels, key, &label_path, Lang::En, form.tr("Label (English)"), 140.0, true);
                    let name = form.tr("Remove");
                    if ui.add(Button::new("✖").small()).accessible_name(name).on_hover_text(name).clicked() {
                        remove = Some(key.clone());
                    }
                });
                ui.end_row();
            }
        });
        if let Some((old, new)) = rename {
            // A key already used is refused: two values cannot share a key.
            if let Some(next) = renamed(labels, &old, &new) {
                *labels = next;
                form.typed(&push_key(&enum_path, &new));
            }
        }
        if let Some(key) = remove {
            labels.shift_remove(&key);
            form.structural();
        }
        if ui.button(form.tr("➕ Add value")).clicked() {
            let key = new_key(labels);
            labels.insert(key.clone(), json!({"zh": key, "en": key}));
            form.structural();
        }
    });
}
