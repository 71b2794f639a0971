//! Points: id, names, kind, type, unit, range, step, period, writable on the row; description,
//! string length, threshold alarm, state labels and `x-` keys under the table.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::enum_labels::enum_labels_ui;
use super::fields::{Form};
use super::shape::{extensions_ui, nested_ui, not_object_ui};
use super::table::{Column, ListSpec, ids, table_ui, unique_id, with_list};
use super::units::unit_ui;
use crate::protocol::model::Lang;

pub(super) const KINDS: &[&str] = &["analog", "digital", "accumulator", "text"];
/// Value types of properties and points (struct and array are for command params only).
pub(super) const SCALAR_TYPES: &[&str] = &["int", "float", "bool", "enum", "string"];

pub(super) fn strings(list: &[&str]) -> Vec<Value> {
    list.iter().map(|s| Value::String((*s).to_owned())).collect()
}

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Name (中文)", width: 130.0 },
    Column { title: "Name (English)", width: 130.0 },
    Column { title: "Kind", width: 100.0 },
    Column { title: "Type", width: 70.0 },
    Column { title: "Unit", width: 80.0 },
    Column { title: "Min", width: 60.0 },
    Column { title: "Max", width: 60.0 },
    Column { title: "Step", width: 50.0 },
    Column { title: "Period (s)", width: 60.0 },
    Column { title: "Writable", width: 50.0 },
];

fn new_point(items: &[Value]) -> Value {
    let id = unique_id("point", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}, "kind": "analog", "type": "float"})
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "points", |list, _| {
        let spec = ListSpec { key: "points", columns: COLUMNS, new_item: &new_point };
        table_ui(ui, form, list, &spec, row_ui, details_ui);
    });
}

/// The identity columns every item table starts with: id, name in Chinese and English.
pub(super) fn id_and_names_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    let (id, zh, en) = (form.tr("Id"), form.tr("Name (中文)"), form.tr("Name (English)"));
    form.text(ui, map, "id", &format!("{path}.id"), id, 112.0, true);
    let name_path = format!("{path}.name");
    form.localized(ui, map, "name", &name_path, Lang::Zh, zh, 122.0, true);
    form.localized(ui, map, "name", &name_path, Lang::En, en, 122.0, true);
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    id_and_names_ui(ui, form, map, path);
    form.combo(ui, map, "kind", &format!("{path}.kind"), form.tr("Kind"), &strings(KINDS), 92.0, false);
    form.combo(ui, map, "type", &format!("{path}.type"), form.tr("Type"), &strings(SCALAR_TYPES), 62.0, false);
    unit_ui(ui, form, map, path, 50.0);
    range_ui(ui, form, map, path);
    form.number(ui, map, "period", &format!("{path}.period"), form.tr("Period (s)"), 52.0);
    form.flag(ui, map, "writable", &format!("{path}.writable"), form.tr("Writable"));
}

/// Min, max and step.
pub(super) fn range_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    form.number(ui, map, "min", &format!("{path}.min"), form.tr("Min"), 52.0);
    form.number(ui, map, "max", &format!("{path}.max"), form.tr("Max"), 52.0);
    form.number(ui, map, "step", &format!("{path}.step"), form.tr("Step"), 42.0);
}

/// Description in both languages.
pub(super) fn description_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    let p = format!("{path}.description");
    ui.horizontal(|ui| {
        ui.label(form.tr("Description (中文)"));
        form.localized(ui, map, "description", &p, Lang::Zh, form.tr("Description (中文)"), 260.0, false);
        ui.label(form.tr("Description (English)"));
        form.localized(ui, map, "description", &p, Lang::En, form.tr("Description (English)"), 260.0, false);
    });
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Point"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    description_ui(ui, form, map, path);
    ui.horizontal(|ui| {
        ui.label(form.tr("Max length"));
        form.number(ui, map, "maxLength", &format!("{path}.maxLength"), form.tr("Max length"), 60.0);
    });
    alarm_ui(ui, form, map, path);
    let labelled = map.get("kind").and_then(Value::as_str) == Some("digital") || map.get("type").and_then(Value::as_str) == Some("enum") || map.contains_key("enum");
    if labelled {
        enum_labels_ui(ui, form, map, path);
    }
    extensions_ui(ui, form, map);
}

/// The threshold alarm `{hi, lo, deadband}`; emptied, the key goes.
fn alarm_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    let alarm_path = format!("{path}.alarm");
    nested_ui(ui, form, map, "alarm", |ui, form, alarm| {
        ui.horizontal(|ui| {
            ui.label(form.tr("Alarm"));
            for (key, title) in [("hi", "High"), ("lo", "Low"), ("deadband", "Deadband")] {
                let title = form.tr(title);
                ui.label(title);
                form.number(ui, alarm, key, &format!("{alarm_path}.{key}"), title, 60.0);
            }
        });
    });
}
