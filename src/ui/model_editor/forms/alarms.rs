//! Alarms: id, names, level 1..4 and the point watched (chosen from the model's points, or
//! typed); description and `x-` keys under the table.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::fields::{Form};
use super::shape::{extensions_ui, not_object_ui};
use super::points::{description_ui, id_and_names_ui};
use super::table::{Column, ListSpec, ids, table_ui, unique_id, with_list};

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Name (中文)", width: 130.0 },
    Column { title: "Name (English)", width: 130.0 },
    Column { title: "Level", width: 60.0 },
    Column { title: "Point", width: 150.0 },
];

fn new_alarm(items: &[Value]) -> Value {
    let id = unique_id("alarm", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}, "level": 3})
}

/// The ids of the model's points.
fn point_ids(root: &Map<String, Value>) -> Vec<String> {
    let points = root.get("points").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    points.iter().filter_map(|p| p.get("id").and_then(Value::as_str)).map(str::to_owned).collect()
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "alarms", |list, root| {
        let spec = ListSpec { key: "alarms", columns: COLUMNS, new_item: &new_alarm };
        let pids = || point_ids(root);
        let row = |ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str| row_ui(ui, form, item, path, &pids);
        table_ui(ui, form, list, &spec, row, details_ui);
    });
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str, pids: &dyn Fn() -> Vec<String>) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    id_and_names_ui(ui, form, map, path);
    let levels: Vec<Value> = (1..=4).map(Value::from).collect();
    form.combo(ui, map, "level", &format!("{path}.level"), form.tr("Level"), &levels, 52.0, false).on_hover_text(form.tr("1 is the most severe"));
    form.text_with_menu(ui, map, "pid", &format!("{path}.pid"), form.tr("Point"), 120.0, pids);
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Alarm"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    description_ui(ui, form, map, path);
    extensions_ui(ui, form, map);
}
