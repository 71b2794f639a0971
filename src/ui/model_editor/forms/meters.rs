//! Meters: id, names, type (int or float), unit and freeze period; description and `x-` keys
//! under the table.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::fields::{Form};
use super::shape::{extensions_ui, not_object_ui};
use super::points::{description_ui, id_and_names_ui, strings};
use super::table::{Column, ListSpec, ids, table_ui, unique_id, with_list};
use super::units::unit_ui;

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Name (中文)", width: 130.0 },
    Column { title: "Name (English)", width: 130.0 },
    Column { title: "Type", width: 70.0 },
    Column { title: "Unit", width: 80.0 },
    Column { title: "Period (s)", width: 60.0 },
];

fn new_meter(items: &[Value]) -> Value {
    let id = unique_id("meter", &ids(items));
    json!({"id": id, "name": {"zh": id, "en": id}, "type": "float", "unit": "kWh"})
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "meters", |list, _| {
        let spec = ListSpec { key: "meters", columns: COLUMNS, new_item: &new_meter };
        table_ui(ui, form, list, &spec, row_ui, details_ui);
    });
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    id_and_names_ui(ui, form, map, path);
    form.combo(ui, map, "type", &format!("{path}.type"), form.tr("Type"), &strings(&["int", "float"]), 62.0, false);
    unit_ui(ui, form, map, path, 50.0);
    form.number(ui, map, "period", &format!("{path}.period"), form.tr("Period (s)"), 52.0);
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Meter"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    description_ui(ui, form, map, path);
    extensions_ui(ui, form, map);
}
