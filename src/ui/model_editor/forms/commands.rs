//! Commands: id and names on the row; under the table the selected command's description and
//! its parameter and output trees (a `struct` has `fields`, an `array` has `items`), with add,
//! remove, duplicate and reorder at every level.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::enum_labels::enum_labels_ui;
use super::fields::{Form, insert};
use super::shape::{extensions_ui, not_object_ui, wrong_shape_ui};
use super::points::{description_ui, id_and_names_ui, range_ui, strings};
use super::properties::default_ui;
use super::table::{Column, ListSpec, apply, ids, row_buttons_ui, table_ui, unique_id, with_list};
use super::units::unit_ui;
use crate::ui::widgets::fill;

const VALUE_TYPES: &[&str] = &["int", "float", "bool", "enum", "string", "struct", "array"];
/// Nesting drawn at most; deeper parts are left to the raw JSON.
const MAX_DEPTH: usize = 8;

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Name (中文)", width: 130.0 },
    Column { title: "Name (English)", width: 130.0 },
    Column { title: "Parameters", width: 80.0 },
    Column { title: "Output", width: 80.0 },
];

fn new_command(items: &[Value]) -> Value {
    let id = unique_id("command", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}})
}

fn new_param(items: &[Value]) -> Value {
    let id = unique_id("param", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}, "type": "int"})
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "commands", |list, _| {
        let spec = ListSpec { key: "commands", columns: COLUMNS, new_item: &new_command };
        table_ui(ui, form, list, &spec, row_ui, details_ui);
    });
}

fn count_text(map: &Map<String, Value>, key: &str) -> String {
    match map.get(key) {
        None => "0".to_owned(),
        Some(Value::Array(items)) => items.len().to_string(),
        Some(_) => "?".to_owned(),
    }
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    id_and_names_ui(ui, form, map, path);
    ui.add_sized([80.0, ui.spacing().interact_size.y], egui::Label::new(count_text(map, "params")));
    ui.add_sized([80.0, ui.spacing().interact_size.y], egui::Label::new(count_text(map, "output")));
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Command"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    description_ui(ui, form, map, path);
    for (key, title) in [("params", "Parameters"), ("output", "Output")] {
        ui.add_space(4.0);
        ui.strong(form.tr(title));
        ui.push_id(key, |ui| params_ui(ui, form, map, key, path, 0));
    }
    extensions_ui(ui, form, map);
}

/// The list `owner[key]` (a command's params or output, a struct's fields) at `owner_path`.
fn params_ui(ui: &mut Ui, form: &mut Form, owner: &mut Map<String, Value>, key: &str, owner_path: &str, depth: usize) {
    let list_path = format!("{owner_path}.{key}");
    if depth > MAX_DEPTH {
        wrong_shape_ui(ui, form.tr("Nested too deep to show: edit it in the raw JSON.").to_owned());
        return;
    }
    let mut action = None;
    match owner.get_mut(key) {
        None => {}
        Some(Value::Array(items)) => {
            let len = items.len();
            for (i, param) in items.iter_mut().enumerate() {
                let path = format!("{list_path}[{i}]");
                ui.push_id(i, |ui| {
                    ui.horizontal(|ui| {
                        param_row_ui(ui, form, param, &path, true);
                        if let Some(a) = row_buttons_ui(ui, form, i, len) {
                            action = Some(a);
                        }
                    });
                    if let Some(map) = param.as_object_mut() {
                        ui.indent("nested", |ui| nested_ui(ui, form, map, &path, depth));
                    }
                });
            }
        }
        Some(_) => {
            wrong_shape_ui(ui, fill(form.tr("`{key}` is not a list: fix it in the raw JSON."), &[("key", key)]));
            return;
        }
    }
    if let Some(a) = action
        && let Some(Value::Array(items)) = owner.get_mut(key)
    {
        apply(items, a);
        if items.is_empty() {
            owner.shift_remove(key);
        }
        form.structural();
    }
    let add = if key == "fields" { form.tr("➕ Add field") } else { form.tr("➕ Add parameter") };
    if ui.button(add).clicked() {
        let mut items = match owner.shift_remove(key) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        items.push(new_param(&items));
        insert(owner, key, Value::Array(items));
        form.structural();
    }
}

/// One parameter's line: id (not for an array's items), names, type, unit, range, default.
fn param_row_ui(ui: &mut Ui, form: &mut Form, param: &mut Value, path: &str, with_id: bool) {
    let Some(map) = param.as_object_mut() else {
        not_object_ui(ui, form, param);
        return;
    };
    if with_id {
        id_and_names_ui(ui, form, map, path);
    }
    form.combo(ui, map, "type", &format!("{path}.type"), form.tr("Type"), &strings(VALUE_TYPES), 62.0, false);
    let numeric = matches!(map.get("type").and_then(Value::as_str), Some("int" | "float"));
    if numeric || map.contains_key("unit") || map.contains_key("min") || map.contains_key("max") {
        unit_ui(ui, form, map, path, 50.0);
        range_ui(ui, form, map, path);
    }
    let compound = matches!(map.get("type").and_then(Value::as_str), Some("struct" | "array"));
    if !compound || map.contains_key("default") {
        ui.label(form.tr("Default"));
        default_ui(ui, form, map, &format!("{path}.default"), 80.0);
    }
}

/// What sits under a parameter: a struct's fields, an array's item type, an enum's labels.
fn nested_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str, depth: usize) {
    let ty = map.get("type").and_then(Value::as_str).map(str::to_owned);
    if ty.as_deref() == Some("struct") || map.contains_key("fields") {
        ui.weak(form.tr("Fields"));
        params_ui(ui, form, map, "fields", path, depth + 1);
    }
    if ty.as_deref() == Some("array") || map.contains_key("items") {
        items_ui(ui, form, map, path, depth + 1);
    }
    if ty.as_deref() == Some("enum") || map.contains_key("enum") {
        enum_labels_ui(ui, form, map, path);
    }
}

/// An array's item type (`items`, one value spec whose id may be left out).
fn items_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str, depth: usize) {
    let items_path = format!("{path}.items");
    if depth > MAX_DEPTH {
        wrong_shape_ui(ui, form.tr("Nested too deep to show: edit it in the raw JSON.").to_owned());
        return;
    }
    let mut remove = false;
    match map.get_mut("items") {
        None => {
            if ui.button(form.tr("➕ Add item type")).clicked() {
                insert(map, "items", json!({"type": "int"}));
                form.structural();
            }
            return;
        }
        Some(items) => {
            ui.push_id("items", |ui| {
                ui.horizontal(|ui| {
                    ui.weak(form.tr("Items"));
                    param_row_ui(ui, form, items, &items_path, false);
                    let name = form.tr("Remove");
                    if ui.add(egui::Button::new("✖").small()).accessible_name(name).on_hover_text(name).clicked() {
                        remove = true;
                    }
                });
                if let Some(inner) = items.as_object_mut() {
                    ui.indent("nested", |ui| nested_ui(ui, form, inner, &items_path, depth));
                }
            });
        }
    }
    if remove {
        map.shift_remove("items");
        form.structural();
    }
}
