//! Ports: id, type, protocol and the serial settings on the row; names, description, Ethernet
//! settings, the protocols it can switch to and `x-` keys under the table.

use egui::Ui;
use serde_json::{Map, Value, json};

use super::fields::{Form};
use super::shape::{extensions_ui, nested_ui, not_object_ui};
use super::points::{description_ui, strings};
use super::table::{Column, ListSpec, ids, table_ui, unique_id, with_list};
use crate::protocol::model::Lang;

const PORT_TYPES: &[&str] = &["rs485", "rs232", "eth", "can", "di", "do"];
const PARITIES: &[&str] = &["none", "even", "odd", "mark", "space"];

const COLUMNS: &[Column] = &[
    Column { title: "Id", width: 120.0 },
    Column { title: "Type", width: 70.0 },
    Column { title: "Protocol", width: 110.0 },
    Column { title: "Baud", width: 70.0 },
    Column { title: "Parity", width: 70.0 },
    Column { title: "Data bits", width: 50.0 },
    Column { title: "Stop bits", width: 50.0 },
];

fn new_port(items: &[Value]) -> Value {
    let id = unique_id("COM", &ids(items));
    json!({"id": id, "type": "rs485", "params": {"baud": 9600, "parity": "none", "dataBits": 8, "stopBits": 1}, "protocol": "modbus-rtu"})
}

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    with_list(root, "ports", |list, _| {
        let spec = ListSpec { key: "ports", columns: COLUMNS, new_item: &new_port };
        table_ui(ui, form, list, &spec, row_ui, details_ui);
    });
}

fn row_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else {
        not_object_ui(ui, form, item);
        return;
    };
    form.text(ui, map, "id", &format!("{path}.id"), form.tr("Id"), 112.0, true);
    form.combo(ui, map, "type", &format!("{path}.type"), form.tr("Type"), &strings(PORT_TYPES), 62.0, false);
    form.text(ui, map, "protocol", &format!("{path}.protocol"), form.tr("Protocol"), 102.0, false);
    let params = format!("{path}.params");
    nested_ui(ui, form, map, "params", |ui, form, p| {
        form.number(ui, p, "baud", &format!("{params}.baud"), form.tr("Baud"), 62.0);
        form.combo(ui, p, "parity", &format!("{params}.parity"), form.tr("Parity"), &strings(PARITIES), 62.0, true);
        form.number(ui, p, "dataBits", &format!("{params}.dataBits"), form.tr("Data bits"), 42.0);
        let stop_bits = [Value::from(1), Value::from(1.5), Value::from(2)];
        form.combo(ui, p, "stopBits", &format!("{params}.stopBits"), form.tr("Stop bits"), &stop_bits, 42.0, true);
    });
}

fn details_ui(ui: &mut Ui, form: &mut Form, item: &mut Value, path: &str) {
    let Some(map) = item.as_object_mut() else { return };
    ui.strong(format!("{} {}", form.tr("Port"), map.get("id").and_then(Value::as_str).unwrap_or("")));
    let name_path = format!("{path}.name");
    ui.horizontal(|ui| {
        ui.label(form.tr("Name (中文)"));
        form.localized(ui, map, "name", &name_path, Lang::Zh, form.tr("Name (中文)"), 200.0, false);
        ui.label(form.tr("Name (English)"));
        form.localized(ui, map, "name", &name_path, Lang::En, form.tr("Name (English)"), 200.0, false);
    });
    description_ui(ui, form, map, path);
    let params = format!("{path}.params");
    nested_ui(ui, form, map, "params", |ui, form, p| {
        ui.horizontal(|ui| {
            for (key, title, width) in [("ip", "IP address", 110.0), ("netmask", "Netmask", 110.0), ("gateway", "Gateway", 110.0)] {
                let title = form.tr(title);
                ui.label(title);
                form.text(ui, p, key, &format!("{params}.{key}"), title, width, false);
            }
        });
        ui.horizontal(|ui| {
            for (key, title) in [("tcpPort", "TCP port"), ("timeoutMs", "Timeout (ms)")] {
                let title = form.tr(title);
                ui.label(title);
                form.number(ui, p, key, &format!("{params}.{key}"), title, 70.0);
            }
        });
    });
    protocols_ui(ui, form, map, &format!("{path}.protocols"));
    extensions_ui(ui, form, map);
}

/// The protocols a port can switch to, as a comma-separated list.
fn protocols_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, path: &str) {
    let title = form.tr("Protocols (comma-separated)");
    ui.horizontal(|ui| {
        ui.label(title);
        let names_only = match map.get("protocols") {
            None => true,
            Some(Value::Array(items)) => items.iter().all(Value::is_string),
            Some(_) => false,
        };
        if !names_only {
            ui.colored_label(ui.visuals().error_fg_color, form.tr("Not a list of names: fix it in the raw JSON."));
            return;
        }
        let show = |v: Option<&Value>| v.and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        let parse = |text: &str| {
            let names: Vec<Value> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect();
            (!names.is_empty()).then_some(Value::Array(names))
        };
        form.parsed(ui, map, "protocols", path, title, 320.0, &show, &parse);
    });
}
