//! Identity: format version, product key, kind, category, names, vendor, model designation and
//! description; the top-level `x-` keys listed read-only, so the user knows they are kept.

use egui::{Grid, Ui};
use serde_json::{Map, Value};

use super::fields::{Form, TOP_ORDER};
use super::shape::{extensions_ui};
use super::points::strings;
use crate::protocol::model::{Category, Lang};

pub(super) fn ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    form.order = TOP_ORDER;
    Grid::new("model_identity").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
        let row = |ui: &mut Ui, form: &Form, title: &'static str| {
            ui.label(form.tr(title));
        };
        row(ui, form, "Model version");
        form.text(ui, root, "modelVersion", "$.modelVersion", form.tr("Model version"), 80.0, true);
        ui.end_row();
        row(ui, form, "Product key");
        form.text(ui, root, "productKey", "$.productKey", form.tr("Product key"), 240.0, true);
        ui.end_row();
        row(ui, form, "Kind");
        form.combo(ui, root, "kind", "$.kind", form.tr("Kind"), &strings(&["gateway", "device"]), 120.0, false);
        ui.end_row();
        row(ui, form, "Category");
        ui.horizontal(|ui| category_ui(ui, form, root));
        ui.end_row();
        for (key, title_zh, title_en, required) in [
            ("name", "Name (中文)", "Name (English)", true),
            ("vendor", "Vendor (中文)", "Vendor (English)", false),
            ("description", "Description (中文)", "Description (English)", false),
        ] {
            let path = format!("$.{key}");
            row(ui, form, title_zh);
            form.localized(ui, root, key, &path, Lang::Zh, form.tr(title_zh), 360.0, required);
            ui.end_row();
            row(ui, form, title_en);
            form.localized(ui, root, key, &path, Lang::En, form.tr(title_en), 360.0, required);
            ui.end_row();
        }
        row(ui, form, "Model");
        form.text(ui, root, "model", "$.model", form.tr("Model"), 240.0, false);
        ui.end_row();
    });
    if let Some(schema) = root.get("$schema") {
        ui.horizontal(|ui| {
            ui.monospace("$schema");
            ui.weak(schema.to_string());
        });
    }
    extensions_ui(ui, form, root);
    form.order = super::fields::ITEM_ORDER;
}

/// The standard categories, or a vendor's `x-…` typed beside them.
fn category_ui(ui: &mut Ui, form: &mut Form, root: &mut Map<String, Value>) {
    let current = root.get("category").and_then(Value::as_str).map(str::to_owned);
    let standard: Vec<Value> = Category::STANDARD.iter().map(|c| Value::String(c.as_str().to_owned())).collect();
    let is_vendor = current.as_deref().is_some_and(|c| c.starts_with("x-"));
    let mut choices = standard;
    choices.push(Value::String(if is_vendor { current.clone().unwrap_or_default() } else { "x-vendor".to_owned() }));
    form.combo(ui, root, "category", "$.category", form.tr("Category"), &choices, 140.0, true)
        .on_hover_text(form.tr("Absent: gateway for a gateway, other for a device. A vendor's own category starts with x-."));
    // A vendor's category is typed; so is one neither standard nor x-…, so the user can fix
    // what the check reports.
    let standard = current.as_deref().is_some_and(|c| Category::STANDARD.iter().any(|s| s.as_str() == c));
    if root.contains_key("category") && !standard {
        form.text(ui, root, "category", "$.category", form.tr("Vendor category"), 160.0, false);
    }
}
