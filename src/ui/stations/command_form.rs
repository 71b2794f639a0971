//! The command form of the selected place (§11 `cmd`): Start and Stop, a power setpoint, and a
//! raw JSON `d`. The engine gives each command a fresh `code` and follows it to its answer; the
//! outcome is read from the station's command log, not kept here.

use egui::TextEdit;
use serde_json::{Map, Value, json};

use crate::engine::stations::StorageCommandSpec;
use crate::protocol::storage::place::StoragePlace;
use crate::ui::widgets::{fill, section_ui};
use crate::ui::{UiCommand, ViewContext};

/// What the form holds between frames.
#[derive(Debug, Default)]
pub struct CommandForm {
    pub setpoint: String,
    pub raw: String,
    /// The last thing the form said: (is an error, text).
    note: Option<(bool, String)>,
}

/// Why `text` is not a setpoint in kW, or the `d` that sets it.
pub fn setpoint_d(text: &str) -> Result<Map<String, Value>, String> {
    let trimmed = text.trim();
    match trimmed.parse::<f64>() {
        // A whole number goes as one (`900`, not `900.0`): stations parse integers most reliably.
        Ok(kw) if kw.is_finite() && kw.fract() == 0.0 && kw.abs() < 1e15 => Ok(object(json!({ "Pset": kw as i64 }))),
        Ok(kw) if kw.is_finite() => Ok(object(json!({ "Pset": kw }))),
        _ => Err(trimmed.to_owned()),
    }
}

/// The raw editor's text as a command's `d`, or why it is not one (a message in English; the
/// form puts it in the UI language).
pub fn raw_d(text: &str) -> Result<Map<String, Value>, RawProblem> {
    if text.trim().is_empty() {
        return Err(RawProblem::Empty);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(d)) if d.is_empty() => Err(RawProblem::Empty),
        Ok(Value::Object(d)) => Ok(d),
        Ok(_) => Err(RawProblem::NotAnObject),
        Err(e) => Err(RawProblem::Invalid(e.to_string())),
    }
}

/// Why the raw `d` cannot go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawProblem {
    Invalid(String),
    NotAnObject,
    Empty,
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl CommandForm {
    /// The form for `place` of a station last heard on `session`.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, place: &StoragePlace, session: u32, commands: &mut Vec<UiCommand>) {
        section_ui(ui, ctx.tr("Send a command (cmd)"), "station_command_form", |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.weak(ctx.tr("Target"));
                ui.monospace(place.to_string());
            });
            let refusal = ctx.can_send(session).err();
            if let Some(reason) = refusal {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(reason));
            }
            let enabled = refusal.is_none();
            let mut send = None;
            ui.horizontal_wrapped(|ui| {
                if ui.add_enabled(enabled, egui::Button::new(ctx.tr("Start"))).on_hover_text("{\"cmd\": \"start\"}").clicked() {
                    send = Some(object(json!({"cmd": "start"})));
                }
                if ui.add_enabled(enabled, egui::Button::new(ctx.tr("Stop"))).on_hover_text("{\"cmd\": \"stop\"}").clicked() {
                    send = Some(object(json!({"cmd": "stop"})));
                }
                ui.separator();
                ui.label(ctx.tr("Power setpoint"));
                let field = TextEdit::singleline(&mut self.setpoint).hint_text("kW").desired_width(80.0);
                ui.add(field).accessible_name(ctx.tr("Power setpoint (kW)"));
                ui.label("kW");
                if ui.add_enabled(enabled, egui::Button::new(ctx.tr("Send setpoint"))).on_hover_text("{\"Pset\": kW}").clicked() {
                    match setpoint_d(&self.setpoint) {
                        Ok(d) => send = Some(d),
                        Err(text) => self.note = Some((true, fill(ctx.tr("Not a power in kW: “{text}”; nothing sent."), &[("text", &text)]))),
                    }
                }
            });
            ui.label(ctx.tr("Command d (JSON object)"));
            let editor = TextEdit::multiline(&mut self.raw).code_editor().desired_rows(3).desired_width((ui.available_width() - 16.0).clamp(200.0, 640.0)).hint_text("{\"Pset\": 100}");
            ui.add(editor).accessible_name(ctx.tr("Command d (JSON)"));
            if ui.add_enabled(enabled, egui::Button::new(ctx.tr("Send JSON"))).clicked() {
                match raw_d(&self.raw) {
                    Ok(d) => send = Some(d),
                    Err(problem) => self.note = Some((true, raw_problem_text(ctx, &problem))),
                }
            }
            if let Some(d) = send {
                let shown = Value::Object(d.clone()).to_string();
                commands.push(UiCommand::StorageCommand(StorageCommandSpec { session, place: place.clone(), version: None, d, timeout: None }));
                self.note = Some((false, fill(ctx.tr("Sent {d} to {place}: its answer shows in the log below."), &[("d", &shown), ("place", &place.to_string())])));
            }
            match &self.note {
                Some((true, text)) => {
                    ui.colored_label(ui.visuals().error_fg_color, text);
                }
                Some((false, text)) => {
                    ui.weak(text);
                }
                None => {}
            }
        });
    }
}

fn raw_problem_text(ctx: &ViewContext, problem: &RawProblem) -> String {
    match problem {
        RawProblem::Invalid(error) => fill(ctx.tr("Invalid JSON: {error}; nothing sent."), &[("error", error)]),
        RawProblem::NotAnObject => ctx.tr("A command's d must be a JSON object, in braces { }; nothing sent.").to_owned(),
        RawProblem::Empty => ctx.tr("Type a JSON object with the command first; nothing sent.").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setpoints_and_raw_d_are_checked_before_anything_goes() {
        assert_eq!(setpoint_d(" 120.5 ").unwrap()["Pset"], 120.5);
        assert_eq!(serde_json::to_string(&setpoint_d("-50").unwrap()).unwrap(), r#"{"Pset":-50}"#);
        assert_eq!(setpoint_d("fast"), Err("fast".to_owned()));
        assert!(setpoint_d("NaN").is_err() && setpoint_d("inf").is_err() && setpoint_d("").is_err());
        assert_eq!(raw_d(r#"{"cmd":"start"}"#).unwrap()["cmd"], "start");
        assert!(matches!(raw_d(r#"{"Pset": }"#), Err(RawProblem::Invalid(_))));
        assert_eq!(raw_d("[1]"), Err(RawProblem::NotAnObject));
        assert_eq!(raw_d("{}"), Err(RawProblem::Empty));
        assert_eq!(raw_d("  "), Err(RawProblem::Empty));
    }
}
