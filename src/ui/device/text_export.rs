//! A tab's "export what is shown" row: a typed path (file dialogs are not everywhere), a button,
//! and the text written atomically on a thread, so the window never waits for a disk. The tab
//! says what the rows are called and makes the text; this file owns the path, the write and its
//! outcome.

use std::path::PathBuf;

use egui::{Button, TextEdit};

use super::local_file::POLL_EVERY;
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::widgets::fill;

/// The catalogue keys a tab's export row shows.
#[derive(Debug, Clone, Copy)]
pub struct ExportLabels {
    /// The path field's hint (`"Path of the export (.jsonl)"`).
    pub hint: &'static str,
    pub button: &'static str,
    pub hover: &'static str,
    /// With `{n}` and `{path}`.
    pub written: &'static str,
}

/// The path typed, the write under way and how the last one ended.
#[derive(Debug, Default)]
pub struct ExportState {
    pub path: String,
    writing: Option<(PathBuf, usize, Pending<std::io::Result<()>>)>,
    last: Option<Result<(PathBuf, usize), String>>,
}

impl ExportState {
    fn poll(&mut self) {
        let Some((path, count, pending)) = &self.writing else { return };
        let done = match pending.poll() {
            Poll::Waiting => return,
            Poll::Ready(Ok(())) => Ok((path.clone(), *count)),
            Poll::Ready(Err(e)) => Err(format!("{}: {e}", path.display())),
            Poll::Lost => Err(format!("{}: the writing thread ended", path.display())),
        };
        self.last = Some(done);
        self.writing = None;
    }

    fn start(&mut self, count: usize, text: String) {
        let path = PathBuf::from(self.path.trim());
        let dest = path.clone();
        match Pending::spawn("export-rows", move || crate::disk::write_atomic(&dest, text.as_bytes())) {
            Ok(pending) => {
                self.writing = Some((path, count, pending));
                self.last = None;
            }
            Err(e) => self.last = Some(Err(e.to_string())),
        }
    }

    /// The path field, the button and the last export's result; `text` makes what `count` rows
    /// write, called only when the button is pressed.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, labels: ExportLabels, count: usize, text: impl FnOnce() -> String) {
        self.poll();
        ui.horizontal(|ui| {
            let field = TextEdit::singleline(&mut self.path).hint_text(ctx.tr(labels.hint)).desired_width(260.0);
            ui.add(field).accessible_name(ctx.tr("Export path"));
            let can = self.writing.is_none() && !self.path.trim().is_empty() && count > 0;
            if ui.add_enabled(can, Button::new(ctx.tr(labels.button))).on_hover_text(ctx.tr(labels.hover)).clicked() {
                self.start(count, text());
            }
        });
        match &self.last {
            _ if self.writing.is_some() => {
                ui.ctx().request_repaint_after(POLL_EVERY);
                ui.weak(ctx.tr("Writing…"));
            }
            Some(Ok((path, n))) => {
                ui.weak(fill(ctx.tr(labels.written), &[("n", &n.to_string()), ("path", &path.display().to_string())]));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Export failed: {error}"), &[("error", e)]));
            }
            None => {}
        }
    }
}
