//! A metric map's metrics as a table: key, names in both languages, unit, range; add, rename
//! and remove keep the file's order.

use egui::{Grid, TextEdit, Ui};
use serde_json::{Map, Value, json};

use super::fields::Form;
use super::shape::not_object_ui;
use super::units::unit_ui;

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    for (key, what) in [("name", form.tr("Name")), ("description", form.tr("Description"))] {
        ui.horizontal(|ui| {
            ui.label(what);
            form.text(ui, root, key, &format!("$.{key}"), what, 420.0, false);
        });
    }
    ui.add_space(6.0);
    let Some(metrics) = root.get_mut("metrics").and_then(Value::as_object_mut) else {
        ui.colored_label(ui.visuals().error_fg_color, form.tr("`metrics` must be an object: fix it in the raw JSON."));
        return;
    };
    let mut rename: Option<(String, String)> = None;
    let mut remove: Option<String> = None;
    Grid::new("metric_map_table").striped(true).num_columns(7).show(ui, |ui| {
        for title in ["Key", "Name (English)", "Name (中文)", "Unit", "Min", "Max", ""] {
            ui.strong(if title.is_empty() { "" } else { form.tr(title) });
        }
        ui.end_row();
        let keys: Vec<String> = metrics.keys().cloned().collect();
        for key in keys {
            let path = format!("$.metrics.{key}");
            let mut typed = key.clone();
            let response = ui.add(TextEdit::singleline(&mut typed).desired_width(130.0)).accessible_name(form.tr("Key"));
            let response = form.decorate(ui, response, &path);
            // A key is renamed when the field is left, so typing does not reorder rows.
            if response.lost_focus() && typed != key && !typed.is_empty() && !metrics.contains_key(&typed) {
                rename = Some((key.clone(), typed.clone()));
            }
            match metrics.get_mut(&key) {
                Some(Value::Object(info)) => {
                    form.text(ui, info, "en", &format!("{path}.en"), form.tr("Name (English)"), 150.0, false);
                    form.text(ui, info, "zh", &format!("{path}.zh"), form.tr("Name (中文)"), 120.0, false);
                    unit_ui(ui, form, info, &path, 60.0);
                    form.number(ui, info, "min", &format!("{path}.min"), form.tr("Min"), 60.0);
                    form.number(ui, info, "max", &format!("{path}.max"), form.tr("Max"), 60.0);
                }
                Some(other) => {
                    not_object_ui(ui, form, other);
                    for _ in 0..4 {
                        ui.label("");
                    }
                }
                None => {}
            }
            if ui.small_button("🗑").on_hover_text(form.tr("Remove")).clicked() {
                remove = Some(key.clone());
            }
            ui.end_row();
        }
    });
    if ui.button(format!("+ {}", form.tr("Add metric"))).clicked() {
        let key = (1..).map(|n| format!("metric_{n}")).find(|k| !metrics.contains_key(k)).unwrap_or_default();
        metrics.insert(key, json!({"en": "", "unit": ""}));
        form.structural();
    }
    if let Some(key) = remove {
        metrics.shift_remove(&key);
        form.structural();
    }
    if let Some((old, new)) = rename {
        let renamed: Map<String, Value> = std::mem::take(metrics).into_iter().map(|(k, v)| if k == old { (new.clone(), v) } else { (k, v) }).collect();
        *metrics = renamed;
        form.structural();
    }
}
