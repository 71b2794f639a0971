//! Properties: id, names, type, unit, range, step, access and default on the row; description,
//! string length, value labels and `x-` keys under the table.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::enum_labels::enum_labels_ui;
use super::fields::{Form, text_of};
use super::shape::{extensions_ui, not_object_ui};
use super::points::{SCALAR_TYPES, description_ui, id_and_names_ui, range_ui, strings};
use super::table::{Column, ListSpec, ids, table_ui, unique_id, with_list};
use super::units::unit_ui;

const ACCESS: &[&str] = &["ro", "rw", "wo"];

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Name (中文)", width: 130.0 },
    Column { title: "Name (English)", width: 130.0 },
    Column { title: "Type", width: 70.0 },
    Column { title: "Unit", width: 80.0 },
    Column { title: "Min", width: 60.0 },
    Column { title: "Max", width: 60.0 },
    Column { title: "Step", width: 50.0 },
    Column { title: "Access", width: 60.0 },
    Column { title: "Default", width: 100.0 },
];

fn new_property(items: &[Value]) -> Value {
    let id = unique_id("property", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}, "type": "int", "access": "rw"})
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "properties", |list, _| {
        let spec = ListSpec { key: "properties", columns: COLUMNS, new_item: &new_property };
        table_ui(ui, form, list, &spec, row_ui, details_ui);
    });
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    id_and_names_ui(ui, form, map, path);
    form.combo(ui, map, "type", &format!("{path}.type"), form.tr("Type"), &strings(SCALAR_TYPES), 62.0, false);
    unit_ui(ui, form, map, path, 50.0);
    range_ui(ui, form, map, path);
    form.combo(ui, map, "access", &format!("{path}.access"), form.tr("Access"), &strings(ACCESS), 52.0, false);
    default_ui(ui, form, map, &format!("{path}.default"), 92.0);
}

/// The default value: text for string and enum types, else JSON when it parses (60, true),
/// else the text typed. Emptied, the key goes.
pub(super) fn default_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str, width: f32) {
    let as_text = matches!(map.get("type").and_then(Value::as_str), Some("string" | "enum"));
    let parse = |text: &str| {
        if text.is_empty() {
            None
        } else if as_text {
            Some(Value::String(text.to_owned()))
        } else {
            Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
        }
    };
    form.parsed(ui, map, "default", path, form.tr("Default"), width, &|v| text_of(v), &parse);
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Property"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    description_ui(ui, form, map, path);
    ui.horizontal(|ui| {
        ui.label(form.tr("Max length"));
        form.number(ui, map, "maxLength", &format!("{path}.maxLength"), form.tr("Max length"), 60.0);
    });
    if map.get("type").and_then(Value::as_str) == Some("enum") || map.contains_key("enum") {
        enum_labels_ui(ui, form, map, path);
    }
    extensions_ui(ui, form, map);
}
