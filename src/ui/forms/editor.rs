//! Drawing the fields of a form: a text box, a choice of labels, a checkbox, nested members or a
//! list of items per value spec, with the unit and range beside it and the reason it cannot be
//! sent in the error colour. The values themselves are built in `field.rs`.

use std::hash::Hash;

use egui::{Button, ComboBox, Grid, RichText, TextEdit};

use super::field::{FieldState, ParamsForm, RawJsonForm, Reason, Reasons, field_name, has_choices};
use crate::engine::SessionId;
use crate::protocol::model::{Lang, ParamDef, ValueType};
use crate::ui::format::format_number;
use crate::ui::widgets::fill;
use crate::ui::ViewContext;

/// Unit, range, step and length of a spec, as a hint beside its field (`0 … 600 s`).
pub fn spec_hint(def: &ParamDef) -> String {
    let spec = &def.spec;
    let mut parts = Vec::new();
    if spec.value_type.is_numeric() {
        match (spec.min, spec.max) {
            (Some(lo), Some(hi)) => parts.push(format!("{} … {}", format_number(lo), format_number(hi))),
            (Some(lo), None) => parts.push(format!("≥ {}", format_number(lo))),
            (None, Some(hi)) => parts.push(format!("≤ {}", format_number(hi))),
            (None, None) => {}
        }
        if let Some(step) = spec.step {
            parts.push(format!("Δ {}", format_number(step)));
        }
    }
    if let Some(unit) = spec.unit.as_deref().filter(|u| !u.is_empty()) {
        parts.push(unit.to_owned());
    }
    if let Some(max) = spec.max_length {
        parts.push(format!("≤ {max} chars"));
    }
    parts.join(" ")
}

/// The label of enum key `key` in `lang`, with the key when it says something else.
pub fn choice_text(def: &ParamDef, key: &str, lang: Lang) -> String {
    match def.spec.enum_labels.as_ref().and_then(|l| l.get(key)).map(|t| t.get(lang)).filter(|t| !t.is_empty()) {
        Some(label) if label != key => format!("{label} ({key})"),
        _ => key.to_owned(),
    }
}

fn reason_ui(ui: &mut egui::Ui, reason: Option<&Reason>) {
    match reason {
        Some(r) => {
            ui.colored_label(ui.visuals().error_fg_color, &r.text);
        }
        None => {
            ui.label("");
        }
    }
}

/// Draws the editor of one field (without its name); `labelled_by` names it for screen readers
/// and tests. Returns true when the value changed.
pub fn field_ui(ui: &mut egui::Ui, ctx: &ViewContext, def: &ParamDef, state: &mut FieldState, path: &str, reasons: &Reasons, labelled_by: egui::Id) -> bool {
    let id = ui.make_persistent_id(("field", path));
    match state {
        FieldState::Choice(chosen) if has_choices(def) => {
            let selected = chosen.as_deref().map_or_else(|| "—".to_owned(), |k| choice_text(def, k, ctx.lang));
            let mut changed = false;
            let response = ComboBox::from_id_salt(id).selected_text(selected).show_ui(ui, |ui| {
                for (key, _) in def.spec.enum_labels.iter().flat_map(|l| l.iter()) {
                    let text = choice_text(def, key, ctx.lang);
                    if ui.selectable_label(chosen.as_deref() == Some(key), text).clicked() {
                        *chosen = Some(key.to_owned());
                        changed = true;
                    }
                }
            });
            response.response.labelled_by(labelled_by);
            changed
        }
        FieldState::Bool(b) => ui.checkbox(b, "").labelled_by(labelled_by).changed(),
        FieldState::Struct(members) => {
            let mut changed = false;
            ui.vertical(|ui| {
                Grid::new(id).num_columns(4).show(ui, |ui| {
                    for (member_def, member) in def.fields.iter().zip(members.iter_mut()) {
                        changed |= row_ui(ui, ctx, member_def, member, &join(path, &member_def.id), reasons);
                    }
                });
            });
            changed
        }
        FieldState::Array(items) => array_ui(ui, ctx, def, items, path, reasons, labelled_by),
        FieldState::Text(text) | FieldState::Choice(Some(text)) => {
            let width = if def.spec.value_type == ValueType::String { 220.0 } else { 110.0 };
            ui.add(TextEdit::singleline(text).id(id).desired_width(width)).labelled_by(labelled_by).changed()
        }
        FieldState::Choice(None) => {
            // A choice without labels (a model changed under the form): type the key.
            *state = FieldState::Text(String::new());
            true
        }
    }
}

fn join(path: &str, id: &str) -> String {
    if path.is_empty() { id.to_owned() } else { format!("{path}.{id}") }
}

fn array_ui(ui: &mut egui::Ui, ctx: &ViewContext, def: &ParamDef, items: &mut Vec<FieldState>, path: &str, reasons: &Reasons, labelled_by: egui::Id) -> bool {
    let Some(item_def) = def.items.as_deref() else {
        ui.weak(ctx.tr("(no item type in the model)"));
        return false;
    };
    // An array's min/max bound its length, as far as the model gives them.
    let max_items = def.spec.max.map_or(usize::MAX, |m| m.max(0.0) as usize);
    let min_items = def.spec.min.map_or(0, |m| m.max(0.0) as usize);
    let mut changed = false;
    let mut remove = None;
    let can_remove = items.len() > min_items;
    ui.vertical(|ui| {
        for (i, item) in items.iter_mut().enumerate() {
            let item_path = format!("{path}[{i}]");
            ui.horizontal(|ui| {
                let label = ui.label(format!("{}.", i + 1));
                changed |= field_ui(ui, ctx, item_def, item, &item_path, reasons, label.id);
                if ui.add_enabled(can_remove, Button::new("✖")).on_hover_text(ctx.tr("Remove")).clicked() {
                    remove = Some(i);
                }
                reason_ui(ui, reasons.get(&item_path));
            });
        }
        if ui.add_enabled(items.len() < max_items, Button::new(ctx.tr("Add item"))).labelled_by(labelled_by).clicked() {
            items.push(FieldState::new_item(item_def));
            changed = true;
        }
    });
    if let Some(i) = remove {
        items.remove(i);
        changed = true;
    }
    changed
}

/// One grid row: the field's name, its editor, its hint, its reason.
fn row_ui(ui: &mut egui::Ui, ctx: &ViewContext, def: &ParamDef, state: &mut FieldState, path: &str, reasons: &Reasons) -> bool {
    let label = ui.label(field_name(def, ctx.lang));
    if let Some(d) = &def.description {
        label.clone().on_hover_text(d.get(ctx.lang));
    }
    let changed = field_ui(ui, ctx, def, state, path, reasons, label.id);
    ui.weak(spec_hint(def));
    reason_ui(ui, reasons.get(path));
    ui.end_row();
    changed
}

/// Draws every field of `form` in a grid, and the whole-form reason below it.
pub fn params_form_ui(ui: &mut egui::Ui, ctx: &ViewContext, salt: impl Hash + std::fmt::Debug, form: &mut ParamsForm) {
    let reasons = form.visible_reasons();
    if form.defs.is_empty() {
        ui.weak(ctx.tr("No parameters."));
    } else {
        Grid::new(("params_form", salt)).num_columns(4).spacing([12.0, 4.0]).show(ui, |ui| {
            let ParamsForm { defs, states, .. } = form;
            for (def, state) in defs.iter().zip(states.iter_mut()) {
                row_ui(ui, ctx, def, state, &def.id, &reasons);
            }
        });
    }
    if let Some(r) = reasons.get("") {
        ui.colored_label(ui.visuals().error_fg_color, &r.text);
    }
}

/// The generic params editor for what no model describes: marked unchecked, its parse error
/// shown; `build()` refuses invalid JSON, so nothing invalid is sent.
pub fn raw_json_ui(ui: &mut egui::Ui, ctx: &ViewContext, salt: impl Hash + std::fmt::Debug, form: &mut RawJsonForm) {
    ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("Unchecked: no product model describes this, the params are sent as typed."));
    let label = ui.label(ctx.tr("Params (JSON)"));
    ui.add(TextEdit::multiline(&mut form.text).id_salt(("raw_json", salt)).code_editor().desired_rows(3).desired_width(f32::INFINITY)).labelled_by(label.id);
    if let Err(e) = form.build() {
        ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Not valid JSON: {error}"), &[("error", &e)]));
    }
}

/// A send button that asks the session first: disabled, with the reason, on a read-only, absent
/// or down session. True when clicked and allowed; the caller then builds its values.
pub fn send_button_ui(ui: &mut egui::Ui, ctx: &ViewContext, session: SessionId, label: &'static str) -> bool {
    let allowed = ctx.can_send(session);
    let clicked = ui.add_enabled(allowed.is_ok(), Button::new(RichText::new(ctx.tr(label)).strong())).clicked();
    if let Err(key) = allowed {
        ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(key));
    }
    clicked && allowed.is_ok()
}
