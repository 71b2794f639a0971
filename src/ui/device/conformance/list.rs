//! The case list: before a run the cases the filter selects, during and after one the cases
//! planned with their verdicts as they arrive (the case running marked). A case's id is a
//! button that opens its evidence.

use egui::{Color32, Grid, Label, RichText};

use super::record::RunRecord;
use crate::conformance::{CaseDef, Verdict, runner};
use crate::engine::GatewayKey;
use crate::ui::ViewContext;
use crate::ui::widgets::ok_color;

/// The word shown for a verdict, in the UI language.
pub fn verdict_word(ctx: &ViewContext, verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => ctx.tr("Passed"),
        Verdict::Failed { .. } => ctx.tr("Failed"),
        Verdict::Inconclusive { .. } => ctx.tr("Inconclusive"),
        Verdict::NotRun { .. } => ctx.tr("Not run"),
    }
}

/// Green, red, amber, grey.
pub fn verdict_color(visuals: &egui::Visuals, verdict: &Verdict) -> Color32 {
    match verdict {
        Verdict::Passed => ok_color(visuals),
        Verdict::Failed { .. } => visuals.error_fg_color,
        Verdict::Inconclusive { .. } => visuals.warn_fg_color,
        Verdict::NotRun { .. } => visuals.weak_text_color(),
    }
}

/// Why a case is not run with these choices, in the UI language (the runner's own rule).
pub fn not_run_reason(ctx: &ViewContext, def: &CaseDef, allow_changes: bool, read_only: bool) -> Option<String> {
    runner::not_run_reason(def, allow_changes, read_only).map(|text| text.get(ctx.lang).to_owned())
}

/// A verdict's reason in the UI language.
pub fn reason_text(ctx: &ViewContext, verdict: &Verdict) -> Option<String> {
    verdict.reason_in(ctx.lang).map(str::to_owned)
}

/// What the list is drawn from.
pub struct ListInput<'a> {
    pub key: &'a GatewayKey,
    /// The cases in order.
    pub cases: Vec<&'a CaseDef>,
    /// The run under way or last finished, when its cases are the ones listed.
    pub record: Option<&'a RunRecord>,
    /// The choices the verdicts were given under (a run's) or will be (the form's).
    pub allow_changes: bool,
    pub read_only: bool,
    pub running: bool,
}

/// Draws the list; the id clicked, if one was.
pub fn case_list_ui(ui: &mut egui::Ui, ctx: &ViewContext, input: &ListInput<'_>, selected: Option<&str>) -> Option<String> {
    let mut clicked = None;
    // Titles and reasons wrap in their columns so the list fits a laptop's width.
    // The marker, id and clause columns, the spacing and the scroll bar.
    let fixed = 240.0;
    let free = (ui.available_width() - fixed).max(300.0);
    let (title_width, verdict_width) = (free * 0.55, free * 0.45);
    Grid::new(("conformance_cases", input.key)).num_columns(5).striped(true).min_col_width(12.0).spacing([10.0, 4.0]).show(ui, |ui| {
        ui.label("");
        ui.strong(ctx.tr("Case"));
        ui.strong(ctx.tr("Clause"));
        ui.strong(ctx.tr("Title"));
        ui.strong(ctx.tr("Verdict"));
        ui.end_row();
        for def in &input.cases {
            let current = input.record.and_then(|r| r.current.as_deref()) == Some(def.id.as_str());
            if current {
                ui.label(RichText::new("▶").strong()).on_hover_text(ctx.tr("Running now"));
            } else {
                ui.label("");
            }
            let id = ui.selectable_label(selected == Some(def.id.as_str()), RichText::new(&def.id).monospace()).on_hover_text(ctx.tr("Show the messages exchanged"));
            if id.clicked() {
                clicked = Some(def.id.clone());
            }
            ui.label(&def.clause);
            ui.vertical(|ui| {
                ui.set_max_width(title_width);
                ui.add(Label::new(def.title.get(ctx.lang)).wrap());
                ui.horizontal_wrapped(|ui| {
                    if def.mandatory {
                        ui.label(RichText::new(ctx.tr("mandatory")).small().strong());
                    }
                    if def.changes {
                        ui.label(RichText::new(ctx.tr("changes the gateway")).small().color(ui.visuals().warn_fg_color));
                    }
                    if def.manual.is_some() {
                        ui.label(RichText::new(ctx.tr("manual step")).small().weak());
                    }
                });
            });
            ui.vertical(|ui| {
                ui.set_max_width(verdict_width);
                verdict_cell(ui, ctx, def, input, current);
            });
            ui.end_row();
        }
    });
    clicked
}

fn verdict_cell(ui: &mut egui::Ui, ctx: &ViewContext, def: &CaseDef, input: &ListInput<'_>, current: bool) {
    let result = input.record.and_then(|r| r.results.get(&def.id));
    match result {
        Some(result) => {
            let color = verdict_color(ui.visuals(), &result.verdict);
            ui.label(RichText::new(verdict_word(ctx, &result.verdict)).strong().color(color));
            if let Some(reason) = reason_text(ctx, &result.verdict) {
                ui.add(Label::new(RichText::new(reason).small().color(color)).wrap());
            }
        }
        None if current => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak(ctx.tr("Running…"));
            });
        }
        None if input.running => {
            ui.weak(ctx.tr("Waiting"));
        }
        None if input.record.is_some_and(RunRecord::finished) => {
            let color = ui.visuals().weak_text_color();
            ui.label(RichText::new(ctx.tr("Not run")).strong().color(color));
            ui.add(Label::new(RichText::new(ctx.tr("The run was cancelled before this case.")).small().color(color)).wrap());
        }
        None => {
            if let Some(reason) = not_run_reason(ctx, def, input.allow_changes, input.read_only) {
                ui.add(Label::new(RichText::new(reason).small().weak()).wrap());
            }
        }
    }
}
