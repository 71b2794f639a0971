//! The device page's Commands tab (contract §6.1, `command/request` `{cmd, sub?, params}`): one
//! form per command of the gateway's model and of its sub-products' models, a command of a
//! sub-product sent to one of the record's sub-devices of that product, each form closed under its
//! command's name until opened. Under each form the outcome and the reply's outputs by the
//! command's `output` spec. A gateway without a model gets one generic form, marked unchecked.

use std::collections::BTreeMap;

use egui::{CollapsingHeader, ComboBox, RichText, TextEdit};
use serde_json::{Map, Value, json};

use super::tab::DeviceTab;
use super::view::{DeviceView, sub_model};
use crate::engine::RequestSpec;
use crate::protocol::model::{CommandDef, ProductModel};
use crate::ui::forms::{ParamsForm, RawJsonForm, find_request, outcome_ui, params_form_ui, raw_json_ui, reply_data_ui, send_button_ui};
use crate::ui::{UiCommand, ViewContext};

/// One command's form and what it last sent.
#[derive(Debug, Clone)]
pub struct CommandForm {
    pub params: ParamsForm,
    /// The sub-device chosen, for a command of a sub-product.
    pub sub: Option<String>,
    /// The id of the last request sent from this form.
    pub sent: Option<String>,
}

/// The generic form: any `cmd`, raw params.
#[derive(Debug, Clone, Default)]
pub struct GenericCommand {
    pub cmd: String,
    pub sub: String,
    pub params: RawJsonForm,
    pub sent: Option<String>,
}

/// The Commands tab of one gateway.
#[derive(Debug, Default)]
pub struct CommandsTab {
    /// Forms by (product key, command id), made when first drawn.
    forms: BTreeMap<(String, String), CommandForm>,
    generic: GenericCommand,
}

/// A product whose commands the page offers, and the sub-devices they go to (`None`: the
/// gateway itself).
struct Target<'m> {
    model: &'m ProductModel,
    subs: Option<Vec<String>>,
}

/// The gateway's model, then each sub-product's (declared by the model or matched to a
/// sub-device of the record), with the record's sub-devices of that product.
fn targets<'m>(ctx: &ViewContext<'m>, page: &DeviceView) -> Vec<Target<'m>> {
    let models: &'m crate::protocol::model::ModelSet = ctx.models;
    let mut by_product: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(record) = ctx.state.gateways().get(&page.key) {
        for (id, sub) in &record.subs {
            if id == &page.key.dev {
                continue;
            }
            if let Some(m) = sub_model(models, record, id, sub) {
                by_product.entry(m.product_key.clone()).or_default().push(id.clone());
            }
        }
    }
    let mut out = Vec::new();
    let gateway = models.get(&page.key.pk).map(|d| d.model());
    if let Some(gw) = gateway {
        out.push(Target { model: gw, subs: None });
    }
    let mut products: Vec<String> = gateway.map(|g| g.sub_products.clone()).unwrap_or_default();
    products.extend(by_product.keys().filter(|k| !products.contains(k)).cloned().collect::<Vec<_>>());
    for pk in products {
        if pk == page.key.pk {
            continue;
        }
        if let Some(doc) = models.get(&pk) {
            out.push(Target { model: doc.model(), subs: Some(by_product.remove(&pk).unwrap_or_default()) });
        }
    }
    out
}

impl DeviceTab for CommandsTab {
    fn id(&self) -> &'static str {
        "commands"
    }

    fn title(&self) -> &'static str {
        "Commands"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let targets = targets(ctx, page);
        if targets.is_empty() {
            ui.weak(ctx.tr("No product model describes this gateway: commands are sent unchecked."));
            self.generic_ui(ui, page, ctx, commands);
            return;
        }
        if targets.iter().all(|t| t.model.commands.is_empty()) {
            ui.weak(ctx.tr("The model of this gateway defines no command."));
        }
        for target in &targets {
            for def in &target.model.commands {
                let key = (target.model.product_key.clone(), def.id.clone());
                let form = self.forms.entry(key).or_insert_with(|| CommandForm { params: ParamsForm::new(&def.params, None), sub: None, sent: None });
                let product = target.model.name.get(ctx.lang);
                let title = format!("{} · {}", def.name.get(ctx.lang), product);
                collapsed_section_ui(ui, &title, &format!("command:{}:{}", target.model.product_key, def.id), |ui| {
                    command_ui(ui, page, ctx, def, target, form, commands);
                });
            }
        }
        collapsed_section_ui(ui, ctx.tr("Other command (unchecked)"), "command:generic", |ui| self.generic_ui(ui, page, ctx, commands));
    }
}

/// A command's form under its name, closed until opened: a gateway with its sub-products has a
/// dozen commands, and the list of names is what one scans for the one to send.
fn collapsed_section_ui(ui: &mut egui::Ui, title: &str, salt: &str, add: impl FnOnce(&mut egui::Ui)) {
    CollapsingHeader::new(RichText::new(title).strong()).id_salt(salt).default_open(false).show(ui, add);
}

fn command_ui(ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, def: &CommandDef, target: &Target<'_>, form: &mut CommandForm, commands: &mut Vec<UiCommand>) {
    if let Some(d) = &def.description {
        ui.weak(d.get(ctx.lang));
    }
    let salt = (target.model.product_key.as_str(), def.id.as_str());
    if let Some(subs) = &target.subs {
        // A sub-device that left the record is no longer a choice.
        if form.sub.as_ref().is_some_and(|s| !subs.contains(s)) {
            form.sub = None;
        }
        if form.sub.is_none() && subs.len() == 1 {
            form.sub = subs.first().cloned();
        }
        ui.horizontal(|ui| {
            let label = ui.label(ctx.tr("Sub-device"));
            if subs.is_empty() {
                ui.weak(ctx.tr("No sub-device of this product has been seen."));
            } else {
                let shown = form.sub.clone().unwrap_or_else(|| "—".to_owned());
                ComboBox::from_id_salt(("command_sub", salt))
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        for s in subs {
                            ui.selectable_value(&mut form.sub, Some(s.clone()), s);
                        }
                    })
                    .response
                    .labelled_by(label.id);
            }
        });
    }
    params_form_ui(ui, ctx, salt, &mut form.params);
    ui.horizontal(|ui| {
        if send_button_ui(ui, ctx, page.session, "Send") {
            form.params.attempted = true;
            let sub_ok = target.subs.is_none() || form.sub.is_some();
            if let (Ok(params), true) = (form.params.build(), sub_ok) {
                let mut data = json!({ "cmd": def.id, "params": Value::Object(params) });
                if let (Some(sub), Some(obj)) = (&form.sub, data.as_object_mut()) {
                    obj.insert("sub".into(), Value::String(sub.clone()));
                }
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "command", "request", data).with_fresh_id();
                form.sent = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
        }
        if target.subs.is_some() && form.sub.is_none() && form.params.attempted {
            ui.colored_label(ui.visuals().error_fg_color, ctx.tr("Pick a sub-device first."));
        }
    });
    let done = form.sent.as_deref().and_then(|id| find_request(ctx, &page.key, id));
    outcome_ui(ui, ctx, form.sent.as_deref(), done.as_ref());
    if let Some(r) = &done {
        reply_data_ui(ui, ctx, ("command_reply", salt), &def.output, &r.data);
    }
}

impl CommandsTab {
    fn generic_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let g = &mut self.generic;
        ui.horizontal(|ui| {
            let label = ui.label(ctx.tr("Command"));
            ui.add(TextEdit::singleline(&mut g.cmd).desired_width(160.0)).labelled_by(label.id);
            let label = ui.label(ctx.tr("Sub-device (optional)"));
            ui.add(TextEdit::singleline(&mut g.sub).desired_width(160.0)).labelled_by(label.id);
        });
        raw_json_ui(ui, ctx, "command_generic", &mut g.params);
        ui.horizontal(|ui| {
            let cmd = g.cmd.trim().to_owned();
            if send_button_ui(ui, ctx, page.session, "Send unchecked")
                && !cmd.is_empty()
                && let Ok(params) = g.params.build()
            {
                let mut data = Map::new();
                data.insert("cmd".into(), Value::String(cmd.clone()));
                if !g.sub.trim().is_empty() {
                    data.insert("sub".into(), Value::String(g.sub.trim().to_owned()));
                }
                data.insert("params".into(), Value::Object(params));
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "command", "request", Value::Object(data)).with_fresh_id();
                g.sent = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            if cmd.is_empty() {
                ui.weak(ctx.tr("Type the command's name."));
            }
        });
        let done = g.sent.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        outcome_ui(ui, ctx, g.sent.as_deref(), done.as_ref());
        if let Some(r) = &done {
            reply_data_ui(ui, ctx, "command_generic_reply", &[], &r.data);
        }
    }
}
