//! Parts of a form around the fields: an object nested in an item, the read-only `x-` keys,
//! and the lines that name a part of the document of the wrong shape (left alone).

use egui::Ui;
use serde_json::{Map, Value};

use super::fields::{Form, insert_in};
use crate::ui::widgets::fill;

/// The `x-` keys of an item, read-only, so the user knows they are kept.
pub(super) fn extensions_ui(ui: &mut Ui, form: &Form, map: &Map<String, Value>) {
    let extensions: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| k.starts_with("x-")).collect();
    if extensions.is_empty() {
        return;
    }
    ui.weak(form.tr("Vendor extensions (kept as they are; edit them in the raw JSON):"));
    for (key, value) in extensions {
        let mut json = value.to_string();
        if json.chars().count() > 200 {
            json = json.chars().take(200).chain(['…']).collect();
        }
        ui.horizontal(|ui| {
            ui.monospace(key.as_str());
            ui.weak(json);
        });
    }
}

/// A line saying a part of the document has the wrong shape and is left alone.
pub(super) fn wrong_shape_ui(ui: &mut Ui, message: String) {
    ui.colored_label(ui.visuals().error_fg_color, message);
}

/// A list item that is not an object, in place of its fields.
pub(super) fn not_object_ui(ui: &mut Ui, form: &Form, item: &Value) {
    let mut json = item.to_string();
    if json.chars().count() > 60 {
        json = json.chars().take(60).chain(['…']).collect();
    }
    wrong_shape_ui(ui, format!("{} {json}", form.tr("Not an object, fix it in the raw JSON:")));
}

/// Edits the object `map[key]` through `f` on a copy, written back only when `f` edited it (an
/// emptied object removes the key). A value of another shape is named and left alone.
pub(super) fn nested_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, key: &str, f: impl FnOnce(&mut Ui, &mut Form, &mut Map<String, Value>)) {
    let mut inner = match map.get(key) {
        None => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            let text = fill(form.tr("`{key}` is not an object: fix it in the raw JSON."), &[("key", key)]);
            wrong_shape_ui(ui, text);
            return;
        }
    };
    let before = form.edits();
    f(ui, form, &mut inner);
    if form.edits() == before {
        return;
    }
    if inner.is_empty() {
        map.shift_remove(key);
    } else {
        insert_in(map, form.order, key, Value::Object(inner));
    }
}
