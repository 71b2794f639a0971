//! The units offered for a unit field; any other text may still be typed.

use egui::Ui;
use serde_json::{Map, Value};

use super::fields::Form;

/// Units of the energy products the models describe, offered first.
pub(super) const UNITS: &[&str] = &[
    "V", "A", "kW", "kvar", "kVA", "kWh", "kvarh", "Hz", "%", "°C", "s", "ms", "min", "h", "Ω", "W", "var", "Wh", "MWh",
    "pu", "mV", "mA",
];

/// `map["unit"]` as a text field with a menu of [`UNITS`].
pub(super) fn unit_ui(ui: &mut Ui, form: &mut Form, map: &mut Map<String, Value>, item_path: &str, width: f32) {
    let path = format!("{item_path}.unit");
    let name = form.tr("Unit");
    form.text_with_menu(ui, map, "unit", &path, name, width, &|| UNITS.iter().map(|u| (*u).to_owned()).collect());
}
