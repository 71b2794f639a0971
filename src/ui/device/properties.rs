//! The device page's Properties tab (§6.6): "Get all" asks `property/get` for every key of the
//! gateway's model (the old helper's `{"keys":[]}` asked for none), a table of key, name, value,
//! unit and access, writable keys editable with the model's checks; "Set" sends only the keys
//! changed, shows the keys the gateway refused on their rows, then reads those keys back by
//! itself and shows "target → current" on each row.

use std::collections::BTreeMap;

use egui::{Grid, RichText};
use serde_json::{Map, Value, json};

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::engine::gateways::RequestRecord;
use crate::protocol::model::{PropertyDef, ProductModel};
use crate::ui::forms::{FieldState, RawJsonForm, Reasons, field_ui, find_request, item_failure, outcome_ui, param_of_property, raw_json_ui, same_value, send_button_ui, value_text};
use crate::ui::widgets::ok_color;
use crate::ui::{UiCommand, ViewContext};

/// One `property/set` and the read-back of its keys.
#[derive(Debug, Clone)]
struct SetRound {
    id: String,
    targets: BTreeMap<String, Value>,
    /// The `property/get` of the same keys, sent once the set has ended.
    readback: Option<String>,
}

/// The Properties tab of one gateway.
#[derive(Debug, Default)]
pub struct PropertiesTab {
    /// The keys the user changed, with what was typed.
    edits: BTreeMap<String, FieldState>,
    get: Option<String>,
    set: Option<SetRound>,
    /// The generic editor, where no model describes the gateway.
    raw: RawJsonForm,
    raw_sent: Option<String>,
}

/// The `property/get` data asking for `keys`; all of them when the list is empty (§6.6: an
/// absent `keys` means all, an empty list means none).
pub fn get_data(keys: &[&str]) -> Value {
    if keys.is_empty() { json!({}) } else { json!({ "keys": keys }) }
}

impl DeviceTab for PropertiesTab {
    fn id(&self) -> &'static str {
        "properties"
    }

    fn title(&self) -> &'static str {
        "Properties"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        // Copy out under the read lock, then draw.
        let current: Map<String, Value> = ctx.state.gateways().get(&page.key).map(|g| g.properties.clone()).unwrap_or_default();
        let model = ctx.models.get(&page.key.pk).map(|d| d.model());
        self.readback(page, ctx, commands);
        let keys: Vec<&str> = model.map(|m| m.properties.iter().map(|p| p.id.as_str()).collect()).unwrap_or_default();
        ui.horizontal(|ui| {
            if send_button_ui(ui, ctx, page.session, "Get all") {
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "property", "get", get_data(&keys)).with_fresh_id();
                self.get = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            let done = self.get.as_deref().and_then(|id| find_request(ctx, &page.key, id));
            outcome_ui(ui, ctx, self.get.as_deref(), done.as_ref());
        });
        match model {
            Some(m) if !m.properties.is_empty() => self.model_ui(ui, page, ctx, m, &current, commands),
            _ => self.raw_ui(ui, page, ctx, &current, commands),
        }
    }
}

impl PropertiesTab {
    /// Once the set has ended, reads its keys back (once).
    fn readback(&mut self, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(round) = self.set.as_mut() else { return };
        if round.readback.is_some() || find_request(ctx, &page.key, &round.id).is_none() || ctx.can_send(page.session).is_err() {
            return;
        }
        let keys: Vec<&str> = round.targets.keys().map(String::as_str).collect();
        let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "property", "get", get_data(&keys)).with_fresh_id();
        round.readback = spec.id.clone();
        commands.push(UiCommand::Request(spec));
    }

    fn model_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, model: &ProductModel, current: &Map<String, Value>, commands: &mut Vec<UiCommand>) {
        let set_done = self.set.as_ref().and_then(|r| find_request(ctx, &page.key, &r.id));
        let read_done = self.set.as_ref().and_then(|r| r.readback.as_deref()).and_then(|id| find_request(ctx, &page.key, id));
        let mut reasons = Reasons::new();
        for (key, state) in &self.edits {
            if let Some(def) = model.property(key) {
                state.build(&param_of_property(def), key, &mut reasons);
            }
        }
        Grid::new(("properties", &page.key)).striped(true).num_columns(7).spacing([12.0, 4.0]).show(ui, |ui| {
            for header in ["Key", "Name", "Value", "Unit", "Access", "New value"] {
                ui.label(RichText::new(ctx.tr(header)).strong());
            }
            ui.label("");
            ui.end_row();
            for def in &model.properties {
                self.row_ui(ui, ctx, def, current.get(&def.id), &reasons, set_done.as_ref(), read_done.is_some());
            }
            // Keys the gateway has that its model does not describe, read only.
            for (key, v) in current.iter().filter(|(k, _)| model.property(k).is_none()) {
                ui.label(RichText::new(key).monospace());
                ui.label(key);
                ui.label(value_text(None, v, ctx.lang));
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            if send_button_ui(ui, ctx, page.session, "Set") {
                self.send_set(page, model, &reasons, commands);
            }
            if self.edits.is_empty() {
                ui.weak(ctx.tr("Nothing changed."));
            } else if ui.button(ctx.tr("Discard changes")).clicked() {
                self.edits.clear();
            }
        });
        if let Some(round) = &self.set {
            outcome_ui(ui, ctx, Some(&round.id), set_done.as_ref());
        }
    }

    fn send_set(&mut self, page: &DeviceView, model: &ProductModel, reasons: &Reasons, commands: &mut Vec<UiCommand>) {
        if !reasons.is_empty() || self.edits.is_empty() {
            return;
        }
        let mut props = Map::new();
        for (key, state) in &self.edits {
            let Some(def) = model.property(key) else { continue };
            if let Some(v) = state.build(&param_of_property(def), key, &mut Reasons::new()) {
                props.insert(key.clone(), v);
            }
        }
        if props.is_empty() {
            return;
        }
        let targets = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "property", "set", json!({ "props": props })).with_fresh_id();
        let Some(id) = spec.id.clone() else { return };
        self.set = Some(SetRound { id, targets, readback: None });
        self.edits.clear();
        commands.push(UiCommand::Request(spec));
    }

    #[allow(clippy::too_many_arguments)]
    fn row_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, def: &PropertyDef, value: Option<&Value>, reasons: &Reasons, set_done: Option<&RequestRecord>, read_back: bool) {
        let unit = def.spec.unit.clone().unwrap_or_default();
        ui.label(RichText::new(&def.id).monospace());
        let name = ui.label(def.name.get(ctx.lang));
        if let Some(d) = &def.description {
            name.clone().on_hover_text(d.get(ctx.lang));
        }
        let shown = value.map_or_else(|| "–".to_owned(), |v| value_text(Some(&def.spec), v, ctx.lang));
        ui.label(RichText::new(shown).monospace());
        ui.weak(&unit);
        ui.weak(def.access.as_str());
        if def.access.writable() {
            let param = param_of_property(def);
            let mut state = self.edits.get(&def.id).cloned().unwrap_or_else(|| FieldState::new(&param, value));
            if field_ui(ui, ctx, &param, &mut state, &def.id, reasons, name.id) {
                self.edits.insert(def.id.clone(), state);
            }
        } else {
            ui.label("");
        }
        self.status_ui(ui, ctx, def, value, reasons, set_done, read_back);
        ui.end_row();
    }

    /// The last column: why the typed value cannot be sent, the gateway's refusal, or the
    /// target against the value read back.
    #[allow(clippy::too_many_arguments)]
    fn status_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, def: &PropertyDef, value: Option<&Value>, reasons: &Reasons, set_done: Option<&RequestRecord>, read_back: bool) {
        if let Some(r) = reasons.get(&def.id) {
            ui.colored_label(ui.visuals().error_fg_color, &r.text);
            return;
        }
        let Some(target) = self.set.as_ref().and_then(|r| r.targets.get(&def.id)) else {
            ui.label(if self.edits.contains_key(&def.id) { "✎" } else { "" });
            return;
        };
        if let Some(why) = set_done.and_then(|d| item_failure(d, &def.id)) {
            ui.colored_label(ui.visuals().error_fg_color, format!("✗ {why}"));
            return;
        }
        let target_text = value_text(Some(&def.spec), target, ctx.lang);
        match value.filter(|_| read_back) {
            Some(v) => {
                let color = if same_value(target, v) { ok_color(ui.visuals()) } else { ui.visuals().warn_fg_color };
                ui.colored_label(color, format!("{target_text} → {}", value_text(Some(&def.spec), v, ctx.lang)));
            }
            None => {
                ui.weak(format!("{target_text} → …"));
            }
        }
    }

    fn raw_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, current: &Map<String, Value>, commands: &mut Vec<UiCommand>) {
        Grid::new(("properties_raw", &page.key)).striped(true).num_columns(2).show(ui, |ui| {
            for (key, v) in current {
                ui.label(RichText::new(key).monospace());
                ui.label(value_text(None, v, ctx.lang));
                ui.end_row();
            }
        });
        raw_json_ui(ui, ctx, "raw_props", &mut self.raw);
        if send_button_ui(ui, ctx, page.session, "Set")
            && let Ok(props) = self.raw.build()
        {
            let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "property", "set", json!({ "props": props })).with_fresh_id();
            self.raw_sent = spec.id.clone();
            commands.push(UiCommand::Request(spec));
        }
        let done = self.raw_sent.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        outcome_ui(ui, ctx, self.raw_sent.as_deref(), done.as_ref());
    }
}
