//! The device page's Conformance tab (issue 18): the catalogue's cases and a filter (the
//! syntax of `check --cases`), changes to the gateway opt-in and listed before the run, an
//! optional firmware image for the upgrade cases, then the run with its progress, the list
//! filling with verdicts, manual steps asked in a dialog, each case's messages one click away,
//! and the report saved as HTML or PDF. The run itself is in `run.rs`.

mod evidence;
mod form;
mod list;
mod manual;
mod record;
pub mod run;
mod save;

use egui::{Button, ProgressBar, RichText};

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::conformance::{Catalogue, RunOptions, report_html, report_pdf};
use crate::transport::{LinkKind, LinkState};
use crate::ui::widgets::{fill, ok_color};
use crate::ui::{UiCommand, ViewContext};
use form::RunForm;
use list::{ListInput, case_list_ui};
use manual::{ManualChoice, manual_dialog};
use record::RunRecord;
use run::{ActiveRun, is_running};
use save::ReportSaver;

pub use run::ConformanceLaunch;

/// How often the tab looks again while a run is under way (events also wake it).
const POLL_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The Conformance tab of one gateway.
#[derive(Debug)]
pub struct ConformanceTab {
    /// Shared, so each frame's drawing takes a handle instead of copying every case's texts.
    catalogue: Result<std::sync::Arc<Catalogue>, String>,
    pub form: RunForm,
    active: Option<ActiveRun>,
    /// The run under way or the last one, with the choices it ran under.
    record: Option<(RunRecord, RunChoices)>,
    /// The case whose evidence window is open.
    selected: Option<String>,
    html: ReportSaver,
    pdf: ReportSaver,
    /// Why the last Run did not start.
    refused: Option<String>,
}

/// The choices a run was made with, for the reasons shown against its verdicts.
#[derive(Debug, Clone, Copy)]
struct RunChoices {
    allow_changes: bool,
    read_only: bool,
}

fn html_bytes(report: &crate::conformance::RunReport, lang: crate::protocol::model::Lang) -> Result<Vec<u8>, String> {
    Ok(report_html::render(report, lang).into_bytes())
}

fn pdf_bytes(report: &crate::conformance::RunReport, lang: crate::protocol::model::Lang) -> Result<Vec<u8>, String> {
    report_pdf::render(report, lang).map_err(|e| format!("cannot make the PDF: {e:#}"))
}

impl Default for ConformanceTab {
    fn default() -> Self {
        ConformanceTab {
            catalogue: Catalogue::builtin().map(std::sync::Arc::new).map_err(|e| e.to_string()),
            form: RunForm::default(),
            active: None,
            record: None,
            selected: None,
            html: ReportSaver::new("html", html_bytes),
            pdf: ReportSaver::new("pdf", pdf_bytes),
            refused: None,
        }
    }
}

impl DeviceTab for ConformanceTab {
    fn id(&self) -> &'static str {
        "conformance"
    }

    fn title(&self) -> &'static str {
        "Conformance"
    }

    fn badge(&self, _ctx: &ViewContext, _key: &crate::engine::GatewayKey) -> usize {
        // A manual step waiting is worth seeing from another tab.
        self.active.as_ref().map_or(0, |a| a.manual.waiting())
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        // The run's news was taken in by `overlay`, which the page calls first.
        let catalogue = match &self.catalogue {
            Ok(c) => c.clone(),
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("The conformance catalogue cannot be used: {error}"), &[("error", e)]));
                return;
            }
        };
        let session = ctx.sessions.get(&page.session);
        let read_only = session.is_some_and(|s| s.read_only);
        let running = self.active.is_some();

        ui.add_enabled_ui(!running, |ui| self.form.ui(ui, page, ctx, &catalogue, read_only));
        let selection = catalogue.select(self.form.filter());
        let problem = self.run_problem(ctx, page, selection.is_empty());
        ui.horizontal(|ui| {
            if running {
                let cancelling = self.active.as_ref().is_some_and(ActiveRun::cancelling);
                if ui.add_enabled(!cancelling, Button::new(ctx.tr("Cancel"))).on_hover_text(ctx.tr("Stop the run; the report covers what ran")).clicked()
                    && let Some(active) = &self.active
                {
                    active.cancel();
                }
                if cancelling {
                    ui.spinner();
                    ui.weak(ctx.tr("Cancelling: the case under way stops, then the report is made."));
                }
            } else {
                let run = ui.add_enabled(problem.is_none(), Button::new(RichText::new(ctx.tr("Run")).strong()));
                if let Some(why) = &problem {
                    run.on_disabled_hover_text(why.as_str());
                    ui.weak(why.as_str());
                } else if run.clicked() {
                    self.start(ui.ctx(), page, ctx, &catalogue, read_only, commands);
                }
            }
        });
        if let Some(why) = &self.refused {
            ui.colored_label(ui.visuals().error_fg_color, why.as_str());
        }
        if running {
            ui.ctx().request_repaint_after(POLL_EVERY);
        }
        self.progress_ui(ui, ctx);
        ui.separator();

        // The run's own cases while it runs and after; the form's selection before any.
        let (cases, record, choices) = match &self.record {
            Some((record, choices)) if !record.planned.is_empty() => (record.planned.iter().filter_map(|id| catalogue.get(id)).collect(), Some(record), *choices),
            _ => (selection, None, RunChoices { allow_changes: self.form.allow_changes, read_only }),
        };
        let input = ListInput { key: &page.key, cases, record, allow_changes: choices.allow_changes, read_only: choices.read_only, running };
        if let Some(id) = case_list_ui(ui, ctx, &input, self.selected.as_deref()) {
            self.selected = if self.selected.as_deref() == Some(id.as_str()) { None } else { Some(id) };
        }

        if let Some(id) = self.selected.clone() {
            let record = self.record.as_ref().map(|(r, _)| r);
            let evidence = evidence::EvidenceInput {
                key: &page.key,
                def: catalogue.get(&id),
                result: record.and_then(|r| r.results.get(&id)),
                started_ms: record.and_then(|r| r.started_ms.get(&id).copied()),
            };
            if !evidence::evidence_window(ui.ctx(), ctx, &id, &evidence) {
                self.selected = None;
            }
        }
    }

    fn overlay(&mut self, egui_ctx: &egui::Context, ctx: &ViewContext) {
        self.poll();
        self.manual_ui(egui_ctx, ctx);
    }
}

impl ConformanceTab {
    /// Takes in what the run said since the last frame.
    fn poll(&mut self) {
        let Some(active) = &mut self.active else { return };
        let (events, gone) = active.drain();
        if let Some((record, _)) = &mut self.record {
            for event in events {
                record.apply(event);
            }
            if gone && !record.finished() {
                record.error = Some("the run ended without a report".to_owned());
            }
        }
        if gone || self.record.as_ref().is_some_and(|(r, _)| r.finished()) {
            self.active = None;
        }
    }

    /// Why Run cannot be clicked now, if it cannot.
    fn run_problem(&self, ctx: &ViewContext, page: &DeviceView, nothing_selected: bool) -> Option<String> {
        let Some(session) = ctx.sessions.get(&page.session) else {
            return Some(ctx.tr("The session this gateway was seen on is closed.").to_owned());
        };
        if session.state != LinkState::Up {
            return Some(ctx.tr("The session is not connected.").to_owned());
        }
        if nothing_selected {
            return Some(fill(ctx.tr("No case matches “{filter}”."), &[("filter", self.form.filter_text())]));
        }
        if is_running(&page.key) {
            return Some(ctx.tr("A run against this gateway is still under way.").to_owned());
        }
        self.form.problem(ctx)
    }

    fn start(&mut self, egui_ctx: &egui::Context, page: &DeviceView, ctx: &ViewContext, catalogue: &Catalogue, read_only: bool, commands: &mut Vec<UiCommand>) {
        let Some(session) = ctx.sessions.get(&page.session) else { return };
        let mut options = RunOptions::new(catalogue.clone(), ctx.models.clone());
        options.cases = self.form.filter().map(str::to_owned);
        options.read_only = read_only;
        options.allow_changes = self.form.allow_changes && !read_only;
        options.firmware = self.form.firmware();
        options.serial = session.kind == LinkKind::Serial;
        options.link_label = session.label.clone();
        options.site = self.form.site();
        let choices = RunChoices { allow_changes: options.allow_changes, read_only };
        match ActiveRun::prepare(page.session, &page.key, options, egui_ctx) {
            Some((active, launch)) => {
                self.active = Some(active);
                self.record = Some((RunRecord::default(), choices));
                self.selected = None;
                self.refused = None;
                commands.push(UiCommand::RunConformance(Box::new(launch)));
            }
            None => self.refused = Some(ctx.tr("A run against this gateway is still under way.").to_owned()),
        }
    }

    /// The progress bar while running; the summary and the save rows after.
    fn progress_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        let Some((record, _)) = &self.record else { return };
        if let Some(error) = &record.error {
            ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("The run failed: {error}"), &[("error", error)]));
        }
        let (done, total) = record.counts();
        if self.active.is_some() {
            let fraction = if total == 0 { 0.0 } else { done as f32 / total as f32 };
            let text = fill(ctx.tr("{n} of {m} cases"), &[("n", &done.to_string()), ("m", &total.to_string())]);
            ui.add(ProgressBar::new(fraction).text(text).animate(true));
        }
        let Some(report) = &record.report else { return };
        let s = report.summary();
        ui.horizontal_wrapped(|ui| {
            let verdict = if report.passed() { RichText::new(ctx.tr("PASS")).color(ok_color(ui.visuals())) } else { RichText::new(ctx.tr("FAIL")).color(ui.visuals().error_fg_color) };
            ui.label(verdict.strong().size(18.0));
            let counts = fill(
                ctx.tr("{passed} passed, {failed} failed ({mandatory} mandatory), {inconclusive} inconclusive, {not_run} not run"),
                &[
                    ("passed", &s.passed.to_string()),
                    ("failed", &s.failed.to_string()),
                    ("mandatory", &s.failed_mandatory.to_string()),
                    ("inconclusive", &s.inconclusive.to_string()),
                    ("not_run", &s.not_run.to_string()),
                ],
            );
            ui.label(counts);
            if !report.complete {
                ui.colored_label(ui.visuals().warn_fg_color, RichText::new(ctx.tr("Incomplete: the run was cancelled")).strong());
            }
        });
        self.html.ui(ui, ctx, report, ctx.tr("HTML report"), ctx.tr("Save report (HTML)"));
        self.pdf.ui(ui, ctx, report, ctx.tr("PDF report"), ctx.tr("Save report (PDF)"));
    }

    fn manual_ui(&self, egui_ctx: &egui::Context, ctx: &ViewContext) {
        let (Some(active), Ok(catalogue)) = (&self.active, &self.catalogue) else { return };
        let Some(prompt) = active.manual.front_prompt() else { return };
        match manual_dialog(egui_ctx, ctx, &prompt, catalogue.get(&prompt.case_id)) {
            Some(ManualChoice::Answer(answer)) => active.manual.answer_front(answer),
            Some(ManualChoice::CancelRun) => {
                active.cancel();
                active.manual.answer_front(crate::conformance::ManualAnswer::Skipped);
            }
            None => {}
        }
    }
}
