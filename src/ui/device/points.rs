//! Monitoring points (§6.4): one live table per sub-device (name, value, unit, quality, age, stale
//! past twice the model period), "Read now" (`point/get`), and for a writable point a set with a
//! confirmation and a closed loop: the target, the reply, then the value read back by a
//! `point/get` sent after the reply, shown as "target → current" with the time it took. Each
//! numeric point can be sent to the Plots tab (a "📈" button, a right-click menu, "Plot all").

use std::collections::{BTreeMap, BTreeSet};

use egui::Grid;
use serde_json::{Value, json};

use super::DeviceTab;
use super::plot_actions::{plot_all_commands, plot_button_ui, plot_menu, plottable};
use super::view::{DeviceView, PointView, SubView};
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::engine::series::SeriesKey;
use crate::engine::{GatewayKey, RequestSpec};
use crate::protocol::model::{PointDef, ProductModel};
use crate::ui::format::format_ago;
use crate::ui::forms::{ParamsForm, find_request, outcome_ui, param_of_point, params_form_ui, send_button_ui, value_text};
use crate::ui::widgets::{fill, ok_color};
use crate::ui::{UiCommand, ViewContext};

/// The point being edited, before it is sent.
#[derive(Debug, Clone)]
struct Editing {
    sub: String,
    pid: String,
    form: ParamsForm,
    /// The built value waiting for the user's confirmation.
    confirm: Option<Value>,
}

/// One set and its read-back.
#[derive(Debug, Clone, PartialEq)]
pub struct SetLoop {
    pub sub: String,
    pub pid: String,
    pub target: Value,
    pub step: Option<f64>,
    pub set_id: String,
    pub sent_ms: i64,
    pub readback_id: Option<String>,
}

/// Where a set's loop stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopState {
    /// Waiting for the set's reply.
    Pending,
    /// The set was refused or got no reply.
    Failed(RequestRecord),
    /// The reply came; the read-back is on its way.
    ReadingBack(RequestRecord),
    /// The value read back (absent when the reply did not list the point), and when.
    Done { reply: RequestRecord, current: Option<Value>, took_ms: i64 },
}

/// True when `current` is `target` within `step` (numbers), or equal.
pub fn matches_target(target: &Value, current: &Value, step: Option<f64>) -> bool {
    let num = |v: &Value| v.as_f64().or_else(|| v.as_bool().map(|b| f64::from(u8::from(b))));
    match (num(target), num(current)) {
        (Some(t), Some(c)) => (t - c).abs() <= step.unwrap_or(0.0).max(1e-9),
        _ => target == current,
    }
}

/// The value of `pid` of `sub` in a `point/get` reply's `{points: [PointValue]}`.
pub fn read_back_value(data: &Value, sub: &str, pid: &str) -> Option<Value> {
    data.get("points")?.as_array()?.iter().find(|p| p.get("sub").and_then(Value::as_str) == Some(sub) && p.get("pid").and_then(Value::as_str) == Some(pid)).and_then(|p| p.get("v").cloned())
}

fn succeeded(r: &RequestRecord) -> bool {
    matches!(r.end, RequestEnd::Replied { code: 0, .. })
}

/// The monitoring points tab. View state only: the values live in the engine's record.
#[derive(Debug, Default)]
pub struct PointsTab {
    /// The last "Read now" per sub-device.
    reads: BTreeMap<String, String>,
    editing: Option<Editing>,
    /// The last set per (sub, pid).
    loops: BTreeMap<(String, String), SetLoop>,
}

fn model_of<'m>(ctx: &ViewContext<'m>, sub: &SubView) -> Option<&'m ProductModel> {
    let (pk, _) = sub.product.as_ref()?;
    ctx.models.get(pk).map(|d| d.model())
}

fn point_def<'m>(ctx: &ViewContext<'m>, sub: &SubView, pid: &str) -> Option<&'m PointDef> {
    model_of(ctx, sub).and_then(|m| m.point(pid))
}

/// The points of `sub` a plot can draw (see [`plottable`]), read from the record once a frame.
fn plottable_pids(ctx: &ViewContext, page: &DeviceView, sub: &SubView) -> BTreeSet<String> {
    let gateways = ctx.state.gateways();
    let latest = |pid: &str| gateways.get(&page.key).and_then(|g| g.subs.get(&sub.id)).and_then(|s| s.points.get(pid)).and_then(|t| t.latest.as_ref()).map(|l| l.v.clone());
    sub.points.iter().filter(|p| plottable(point_def(ctx, sub, &p.pid), latest(&p.pid).as_ref())).map(|p| p.pid.clone()).collect()
}

fn series_key(page: &DeviceView, sub: &SubView, pid: &str) -> SeriesKey {
    SeriesKey::point(&page.key.pk, &page.key.dev, &sub.id, pid)
}

fn quality_text(ctx: &ViewContext, q: u8) -> &'static str {
    match q {
        0 => ctx.tr("good"),
        1 => ctx.tr("invalid"),
        2 => ctx.tr("stale"),
        3 => ctx.tr("substituted"),
        _ => ctx.tr("unknown"),
    }
}

impl SetLoop {
    /// Its state from the request log; sends the read-back once the set succeeded.
    pub fn advance(&mut self, ctx: &ViewContext, key: &GatewayKey, session: u32, commands: &mut Vec<UiCommand>) -> LoopState {
        let Some(reply) = find_request(ctx, key, &self.set_id) else { return LoopState::Pending };
        if !succeeded(&reply) {
            return LoopState::Failed(reply);
        }
        let Some(readback_id) = &self.readback_id else {
            // Read by itself after the reply: the value the device really holds now.
            if ctx.can_send(session).is_ok() {
                let spec = RequestSpec::new(session, &key.pk, &key.dev, "point", "get", json!({ "sub": self.sub, "pids": [self.pid] })).with_fresh_id();
                self.readback_id = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            return LoopState::ReadingBack(reply);
        };
        match find_request(ctx, key, readback_id) {
            None => LoopState::ReadingBack(reply),
            Some(back) => {
                let current = if succeeded(&back) { read_back_value(&back.data, &self.sub, &self.pid) } else { None };
                LoopState::Done { reply, current, took_ms: back.done_ms.saturating_sub(self.sent_ms) }
            }
        }
    }
}

impl DeviceTab for PointsTab {
    fn id(&self) -> &'static str {
        "points"
    }

    fn title(&self) -> &'static str {
        "Points"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        if page.subs.is_empty() {
            ui.weak(ctx.tr("No points reported yet."));
        }
        for sub in &page.subs {
            self.sub_ui(ui, page, sub, ctx, commands);
            ui.separator();
        }
    }
}

impl PointsTab {
    fn sub_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, sub: &SubView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let plottable = plottable_pids(ctx, page, sub);
        ui.horizontal(|ui| {
            ui.strong(&sub.id);
            if let Some((_, name)) = &sub.product {
                ui.weak(name);
            }
            if ui.button(ctx.tr("Read now")).clicked() {
                match ctx.can_send(page.session) {
                    Ok(()) => {
                        let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "point", "get", json!({ "sub": sub.id })).with_fresh_id();
                        if let Some(id) = spec.id.clone() {
                            self.reads.insert(sub.id.clone(), id);
                        }
                        commands.push(UiCommand::Request(spec));
                    }
                    Err(key) => {
                        ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(key));
                    }
                }
            }
            if !plottable.is_empty() {
                let text = fill(ctx.tr("Plot all of {sub}"), &[("sub", &sub.id)]);
                if ui.button(text).on_hover_text(ctx.tr("Every numeric point of this device, in a new plot")).clicked() {
                    commands.extend(plot_all_commands(sub.points.iter().filter(|p| plottable.contains(&p.pid)).map(|p| series_key(page, sub, &p.pid))));
                }
            }
            if let Some(id) = self.reads.get(&sub.id) {
                outcome_ui(ui, ctx, Some(id), find_request(ctx, &page.key, id).as_ref());
            }
        });
        Grid::new(("points", &sub.id)).num_columns(8).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for head in ["", "Name", "Value", "Unit", "Quality", "Age", "", ""] {
                ui.strong(if head.is_empty() { "" } else { ctx.tr(head) });
            }
            ui.end_row();
            for point in &sub.points {
                // The plot button, then the name, whose right-click menu plots it too.
                let plot_key = plottable.contains(&point.pid).then(|| series_key(page, sub, &point.pid));
                match &plot_key {
                    Some(key) => plot_button_ui(ui, ctx, key, commands),
                    None => {
                        ui.label("");
                    }
                }
                let name = ui.label(&point.name).on_hover_text(&point.pid);
                if let Some(key) = &plot_key {
                    plot_menu(&name, ctx, key, commands);
                }
                self.row_ui(ui, page, sub, point, ctx, commands);
                ui.end_row();
            }
        });
        self.edit_ui(ui, page, sub, ctx, commands);
    }

    /// A point's row after its plot button and name.
    fn row_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, sub: &SubView, point: &PointView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let stale = point.is_stale(ctx.now_ms);
        if stale {
            ui.colored_label(ui.visuals().warn_fg_color, &point.value).on_hover_text(ctx.tr("Stale: older than twice its report period"));
        } else {
            ui.label(&point.value);
        }
        ui.label(&point.unit);
        if point.quality == 0 {
            ui.label(quality_text(ctx, 0));
        } else {
            ui.colored_label(ui.visuals().warn_fg_color, quality_text(ctx, point.quality));
        }
        ui.horizontal(|ui| {
            if point.ts > 0 {
                ui.label(format_ago(ctx.lang, ctx.now_ms, point.ts));
            }
            if stale {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("stale"));
            }
        });
        if point.writable {
            if ui.button(ctx.tr("Set…")).on_hover_text(&point.pid).clicked() {
                let defs: Vec<_> = point_def(ctx, sub, &point.pid).map(param_of_point).into_iter().collect();
                self.editing = Some(Editing { sub: sub.id.clone(), pid: point.pid.clone(), form: ParamsForm::new(&defs, None), confirm: None });
            }
        } else {
            ui.label("");
        }
        let key = (sub.id.clone(), point.pid.clone());
        match self.loops.get_mut(&key) {
            Some(set) => {
                let state = set.advance(ctx, &page.key, page.session, commands);
                let spec = point_def(ctx, sub, &point.pid).map(|d| &d.spec);
                let target = value_text(spec, &set.target, ctx.lang);
                loop_ui(ui, ctx, &target, set, spec, &state);
            }
            None => {
                ui.label("");
            }
        }
    }

    fn edit_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, sub: &SubView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(editing) = self.editing.as_mut().filter(|e| e.sub == sub.id) else { return };
        let Some(def) = point_def(ctx, sub, &editing.pid) else {
            ui.colored_label(ui.visuals().error_fg_color, ctx.tr("No product model describes this point: it cannot be set from here."));
            return;
        };
        let point_name = format!("{} ({})", def.name.get(ctx.lang), def.id);
        let mut cancel = false;
        let loops = &mut self.loops;
        ui.group(|ui| {
            ui.strong(fill(ctx.tr("Set {point}"), &[("point", &point_name)]));
            params_form_ui(ui, ctx, ("point_set", &editing.sub, &editing.pid), &mut editing.form);
            match editing.confirm.clone() {
                None => {
                    ui.horizontal(|ui| {
                        if send_button_ui(ui, ctx, page.session, "Set value") {
                            editing.form.attempted = true;
                            if let Ok(mut values) = editing.form.build() {
                                editing.confirm = values.remove(&def.id);
                            }
                        }
                        cancel = ui.button(ctx.tr("Cancel")).clicked();
                    });
                }
                Some(value) => {
                    let shown = value_text(Some(&def.spec), &value, ctx.lang);
                    let question = fill(ctx.tr("Set {point} of {device} to {value}?"), &[("point", &point_name), ("device", &sub.id), ("value", &shown)]);
                    ui.colored_label(ui.visuals().warn_fg_color, question);
                    ui.horizontal(|ui| {
                        if ui.button(ctx.tr("Confirm set")).clicked() {
                            if ctx.can_send(page.session).is_ok() {
                                let data = json!({ "sub": sub.id, "pid": def.id, "value": value });
                                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "point", "set", data).with_fresh_id();
                                if let Some(set_id) = spec.id.clone() {
                                    let set = SetLoop { sub: sub.id.clone(), pid: def.id.clone(), target: value.clone(), step: def.spec.step, set_id, sent_ms: ctx.now_ms, readback_id: None };
                                    loops.insert((set.sub.clone(), set.pid.clone()), set);
                                }
                                commands.push(UiCommand::Request(spec));
                            }
                            cancel = true;
                        }
                        if ui.button(ctx.tr("Cancel")).clicked() {
                            cancel = true;
                        }
                    });
                }
            }
        });
        if cancel {
            self.editing = None;
        }
    }
}

/// "target → current": pending, then green when they match within the step, warn otherwise.
fn loop_ui(ui: &mut egui::Ui, ctx: &ViewContext, target: &str, set: &SetLoop, spec: Option<&crate::protocol::model::ValueSpec>, state: &LoopState) {
    ui.horizontal(|ui| match state {
        LoopState::Pending => {
            ui.weak(fill(ctx.tr("{target} → pending"), &[("target", target)]));
        }
        LoopState::Failed(reply) => {
            ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("{target}: not set"), &[("target", target)]));
            outcome_ui(ui, ctx, Some(&set.set_id), Some(reply));
        }
        LoopState::ReadingBack(reply) => {
            ui.weak(fill(ctx.tr("{target} → reading back…"), &[("target", target)]));
            ui.weak(format!("{:.0} ms", reply.latency_ms));
        }
        LoopState::Done { reply, current, took_ms } => {
            let current_text = current.as_ref().map_or_else(|| "–".to_owned(), |c| value_text(spec, c, ctx.lang));
            let ok = current.as_ref().is_some_and(|c| matches_target(&set.target, c, set.step));
            let color = if ok { ok_color(ui.visuals()) } else { ui.visuals().warn_fg_color };
            ui.colored_label(color, format!("{target} → {current_text}"));
            let code = match &reply.end {
                RequestEnd::Replied { code, name, .. } => format!("{code} {name}"),
                RequestEnd::Failed(why) => why.to_string(),
            };
            ui.weak(fill(ctx.tr("reply {code} in {latency} ms, read back after {took} ms"), &[("code", &code), ("latency", &format!("{:.0}", reply.latency_ms)), ("took", &took_ms.to_string())]));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_matches_within_the_step_and_read_back_finds_the_point() {
        assert!(matches_target(&json!(20.0), &json!(20.05), Some(0.1)));
        assert!(!matches_target(&json!(20.0), &json!(20.2), Some(0.1)));
        assert!(matches_target(&json!(1), &json!(true), None));
        assert!(!matches_target(&json!("a"), &json!("b"), None));
        let data = json!({ "points": [{ "sub": "pcs-1", "pid": "P", "v": 1 }, { "sub": "pcs-1", "pid": "Pset", "v": 42.5 }] });
        assert_eq!(read_back_value(&data, "pcs-1", "Pset"), Some(json!(42.5)));
        assert_eq!(read_back_value(&data, "pcs-2", "Pset"), None);
    }
}
