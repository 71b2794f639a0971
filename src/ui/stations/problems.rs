//! What went wrong with stations' messages: the counters across every station, the selected
//! station's problems, and the problems of messages no station could hold (short topics).

use egui::Grid;

use crate::engine::stations::{Problem, StationCounters};
use crate::ui::ViewContext;
use crate::ui::format::{format_time_of_day, local_and_utc};
use crate::ui::widgets::{fill, section_ui};

/// Problems listed per table; the engine keeps up to its own bound.
const PROBLEMS_SHOWN: usize = 50;

/// The counters since the engine started.
pub fn counters_ui(ui: &mut egui::Ui, ctx: &ViewContext, counters: &StationCounters) {
    let counts = [
        (ctx.tr("Unreadable messages"), counters.unreadable),
        (ctx.tr("Answered twice"), counters.duplicate_answers),
        (ctx.tr("Answers without a request"), counters.unsolicited_answers),
        (ctx.tr("Timeouts"), counters.timeouts),
    ];
    ui.horizontal_wrapped(|ui| {
        for (label, n) in counts {
            ui.weak(label);
            if n > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, egui::RichText::new(n.to_string()).strong());
            } else {
                ui.label(n.to_string());
            }
            ui.add_space(10.0);
        }
    });
}

/// A table of problems, newest first.
pub fn problem_list_ui(ui: &mut egui::Ui, ctx: &ViewContext, salt: &str, problems: &[Problem]) {
    Grid::new(salt).num_columns(3).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        for title in ["Time", "Topic", "Reason"] {
            ui.strong(ctx.tr(title));
        }
        ui.end_row();
        for problem in problems.iter().take(PROBLEMS_SHOWN) {
            ui.label(format_time_of_day(problem.received_ms)).on_hover_text(local_and_utc(problem.received_ms));
            ui.monospace(&problem.topic);
            ui.label(&problem.reason);
            ui.end_row();
        }
    });
    if problems.len() > PROBLEMS_SHOWN {
        ui.weak(fill(ctx.tr("{n} older not shown"), &[("n", &(problems.len() - PROBLEMS_SHOWN).to_string())]));
    }
}

/// The Problems section: counters, the station's problems (when one is selected), the unplaced.
pub fn problems_ui(ui: &mut egui::Ui, ctx: &ViewContext, counters: &StationCounters, station: Option<(&[Problem], u64)>, unplaced: &[Problem]) {
    section_ui(ui, ctx.tr("Problems"), "station_problems", |ui| {
        counters_ui(ui, ctx, counters);
        if let Some((problems, count)) = station {
            ui.add_space(4.0);
            ui.strong(fill(ctx.tr("This station: {n} problems"), &[("n", &count.to_string())]));
            if !problems.is_empty() {
                problem_list_ui(ui, ctx, "station_problem_list", problems);
            }
        }
        ui.add_space(4.0);
        ui.strong(fill(ctx.tr("Messages no station could hold: {n}"), &[("n", &unplaced.len().to_string())]));
        if !unplaced.is_empty() {
            problem_list_ui(ui, ctx, "unplaced_problem_list", unplaced);
        }
    });
}
