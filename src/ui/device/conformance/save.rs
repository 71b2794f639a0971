//! Saving the report: a typed path with the "…" dialog beside it, the rendering and the write
//! on a thread of their own (the window never waits for a disk), and how it ended, a full disk
//! or a bad path included.

use std::path::PathBuf;

use super::super::local_file::POLL_EVERY;
use crate::conformance::RunReport;
use crate::protocol::model::Lang;
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{DialogRequest, start_dir_of};
use crate::ui::path_prompt::{PathPrompt, proposed};
use crate::ui::widgets::fill;

/// Makes a report's file in a language.
pub type Render = fn(&RunReport, Lang) -> Result<Vec<u8>, String>;

/// One format's save row.
#[derive(Debug)]
pub struct ReportSaver {
    extension: &'static str,
    render: Render,
    pub prompt: PathPrompt,
    writing: Option<(PathBuf, Pending<Result<(), String>>)>,
    last: Option<Result<PathBuf, String>>,
    /// The report the proposed path was made for.
    proposed_for: Option<(String, i64)>,
}

impl ReportSaver {
    pub fn new(extension: &'static str, render: Render) -> ReportSaver {
        ReportSaver { extension, render, prompt: PathPrompt::default(), writing: None, last: None, proposed_for: None }
    }

    fn poll(&mut self) {
        let Some((path, pending)) = &self.writing else { return };
        let end = match pending.poll() {
            Poll::Waiting => return,
            Poll::Ready(Ok(())) => Ok(path.clone()),
            Poll::Ready(Err(e)) => Err(e),
            Poll::Lost => Err(format!("{}: the writing thread ended", path.display())),
        };
        self.last = Some(end);
        self.writing = None;
    }

    fn start(&mut self, path: PathBuf, report: &RunReport, lang: Lang) {
        let (report, render, dest) = (report.clone(), self.render, path.clone());
        let work = move || {
            let bytes = render(&report, lang)?;
            crate::disk::write_atomic(&dest, &bytes).map_err(|e| format!("{}: {e}", dest.display()))
        };
        match Pending::spawn("conformance-report", work) {
            Ok(pending) => {
                self.writing = Some((path, pending));
                self.last = None;
            }
            Err(e) => self.last = Some(Err(e.to_string())),
        }
    }

    /// The row: `label`, the path, "…", the `action` button, then the outcome.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, report: &RunReport, label: &str, action: &str) {
        self.poll();
        let this_report = (report.dev.clone(), report.started_ms);
        if self.proposed_for.as_ref() != Some(&this_report) {
            // A new report: a new name, in the folder last written to.
            let name = format!("conformance-{}-{}-{}.{}", report.pk, report.dev, report.started_ms / 1000, self.extension);
            self.prompt.path = match start_dir_of(&self.prompt.path) {
                Some(dir) => dir.join(&name).display().to_string(),
                None => proposed(&name),
            };
            self.proposed_for = Some(this_report);
        }
        let title = action.to_owned();
        let file_name = format!("conformance-{}.{}", report.dev, self.extension);
        let chosen = self.prompt.ui(ui, ctx, label, action, |typed| DialogRequest::Save { title, start_dir: start_dir_of(typed), file_name });
        if let Some(path) = chosen
            && self.writing.is_none()
        {
            self.start(path, report, ctx.lang);
        }
        match &self.last {
            _ if self.writing.is_some() => {
                ui.ctx().request_repaint_after(POLL_EVERY);
                ui.weak(ctx.tr("Writing…"));
            }
            Some(Ok(path)) => {
                ui.weak(fill(ctx.tr("Report written to {path}"), &[("path", &path.display().to_string())]));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Cannot write the report: {error}"), &[("error", e)]));
            }
            None => {}
        }
    }
}
