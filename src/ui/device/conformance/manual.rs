//! A manual step asked in a modal dialog: the step in the UI language, "Done" or "Skip" (and a
//! way to cancel the whole run). The run waits for the answer on its own thread; the window
//! goes on drawing.

use egui::{Button, Label, RichText};

use crate::conformance::{CaseDef, ManualAnswer, ManualPrompt};
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

/// What the person chose this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualChoice {
    Answer(ManualAnswer),
    CancelRun,
}

/// Draws the dialog for `prompt`; the choice once one is made.
pub fn manual_dialog(egui_ctx: &egui::Context, ctx: &ViewContext, prompt: &ManualPrompt, def: Option<&CaseDef>) -> Option<ManualChoice> {
    let mut choice = None;
    egui::Modal::new(egui::Id::unique(("conformance_manual", &prompt.case_id))).show(egui_ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading(ctx.tr("Manual step"));
        let title = def.map(|d| d.title.get(ctx.lang)).unwrap_or_default();
        ui.label(RichText::new(format!("{} · {title}", prompt.case_id)).strong());
        ui.add_space(6.0);
        ui.add(Label::new(RichText::new(prompt.text.get(ctx.lang)).size(16.0)).wrap());
        ui.add_space(6.0);
        ui.add(Label::new(RichText::new(ctx.tr("The run waits for your answer. Skip makes the case Inconclusive.")).weak()).wrap());
        ui.separator();
        ui.horizontal(|ui| {
            if ui.add(Button::new(RichText::new(ctx.tr("Done")).strong())).on_hover_text(ctx.tr("I did it: the case goes on")).clicked() {
                choice = Some(ManualChoice::Answer(ManualAnswer::Done));
            }
            if ui.button(ctx.tr("Skip")).clicked() {
                choice = Some(ManualChoice::Answer(ManualAnswer::Skipped));
            }
            ui.add_space(24.0);
            if ui.button(ctx.tr("Cancel the run")).clicked() {
                choice = Some(ManualChoice::CancelRun);
            }
        });
        if let Some(def) = def {
            ui.weak(fill(ctx.tr("The case's time: {s} s"), &[("s", &format!("{:.0}", def.timeout_s))]));
        }
    });
    choice
}
