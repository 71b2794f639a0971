//! A station's command log, newest first: ours and other masters' commands seen on the broker,
//! each with its verdict, the answer's result and message, and its latency.

use egui::{Grid, RichText};
use serde_json::Value;

use crate::engine::stations::{CommandOrigin, CommandRecord, CommandState};
use crate::ui::ViewContext;
use crate::ui::format::{format_time_of_day, local_and_utc};
use crate::ui::widgets::{fill, ok_color, section_ui};

/// Characters of a command's `d` shown in the log (all of it on hover).
const D_SHOWN: usize = 48;

/// The verdict in the UI language (the engine's one-word verdicts are catalogue keys).
pub fn verdict_text(ctx: &ViewContext, state: &CommandState) -> &'static str {
    match state.verdict() {
        "waiting" => ctx.tr("waiting"),
        "done" => ctx.tr("done"),
        "refused" => ctx.tr("refused"),
        "timeout" => ctx.tr("timeout"),
        _ => ctx.tr("not sent"),
    }
}

fn verdict_color(visuals: &egui::Visuals, state: &CommandState) -> egui::Color32 {
    match state {
        CommandState::Waiting => visuals.weak_text_color(),
        CommandState::Answered { result: 0, .. } => ok_color(visuals),
        CommandState::Answered { .. } | CommandState::TimedOut { .. } | CommandState::NotSent { .. } => visuals.error_fg_color,
    }
}

/// The result column: the answer's `result` and `msg`, or why there is none.
fn result_text(ctx: &ViewContext, state: &CommandState) -> String {
    match state {
        CommandState::Waiting => String::new(),
        CommandState::Answered { result, msg, .. } if msg.is_empty() => result.to_string(),
        CommandState::Answered { result, msg, .. } => format!("{result}: {msg}"),
        CommandState::TimedOut { after_ms } => fill(ctx.tr("no answer in {n} ms"), &[("n", &after_ms.to_string())]),
        CommandState::NotSent { reason } => reason.clone(),
    }
}

/// The log of `commands` (newest first).
pub fn command_log_ui(ui: &mut egui::Ui, ctx: &ViewContext, commands: &[CommandRecord]) {
    let title = fill(ctx.tr("Command log ({n})"), &[("n", &commands.len().to_string())]);
    section_ui(ui, &title, "station_command_log", |ui| {
        if commands.is_empty() {
            ui.weak(ctx.tr("No command sent or seen yet."));
            return;
        }
        Grid::new("station_command_grid").num_columns(8).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for title in ["Time", "Code", "Target", "d", "Origin", "Verdict", "Result", "Latency"] {
                ui.strong(ctx.tr(title));
            }
            ui.end_row();
            for record in commands {
                ui.label(format_time_of_day(record.sent_ms)).on_hover_text(local_and_utc(record.sent_ms));
                ui.monospace(&record.code).on_hover_text(&record.topic);
                ui.monospace(record.place.below_station().unwrap_or_else(|| ctx.tr("(station)").to_owned()));
                let d = Value::Object(record.d.clone()).to_string();
                let shown: String = if d.chars().count() > D_SHOWN { d.chars().take(D_SHOWN).chain(['…']).collect() } else { d.clone() };
                ui.monospace(shown).on_hover_text(d);
                match record.origin {
                    CommandOrigin::Ours => ui.label(ctx.tr("ours")),
                    CommandOrigin::Other => ui.label(ctx.tr("other master")),
                };
                let verdict = RichText::new(verdict_text(ctx, &record.state)).color(verdict_color(ui.visuals(), &record.state)).strong();
                if record.extra_answers > 0 {
                    let more = fill(ctx.tr("answered {n} more times"), &[("n", &record.extra_answers.to_string())]);
                    ui.label(verdict).on_hover_text(more);
                } else {
                    ui.label(verdict);
                }
                ui.label(result_text(ctx, &record.state));
                match &record.state {
                    CommandState::Answered { latency_ms, .. } => ui.monospace(format!("{latency_ms} ms")),
                    _ => ui.weak("-"),
                };
                ui.end_row();
            }
        });
    });
}
