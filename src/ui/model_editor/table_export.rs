//! "Export table…": one section of the model written as a point table (CSV or XLSX, by the
//! extension typed), on a thread.

use std::path::PathBuf;

use serde_json::Value;

use crate::config::point_table::{Section as TableSection, export_table};
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{DialogRequest, start_dir_of};
use crate::ui::path_prompt::{PathPrompt, proposed};
use crate::ui::widgets::fill;

/// The export row: which section, where, and the write under way.
#[derive(Debug, Default)]
pub struct TableExport {
    prompt: Option<PathPrompt>,
    section: TableSection,
    job: Option<(PathBuf, Pending<Result<(), String>>)>,
}

/// The catalogue key naming a table section.
pub fn section_title(section: TableSection) -> &'static str {
    match section {
        TableSection::Points => "Points",
        TableSection::Meters => "Meters",
        TableSection::Properties => "Properties",
    }
}

impl TableExport {
    pub fn start(&mut self) {
        self.prompt = Some(PathPrompt::new(proposed("point-table.xlsx")));
    }

    pub fn is_busy(&self) -> bool {
        self.job.is_some()
    }

    /// The row while open; what to say when an export ended (text, an error?).
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &ViewContext, model: &Value) -> Option<(String, bool)> {
        let mut said = None;
        if let Some((path, job)) = &self.job {
            match job.poll() {
                Poll::Waiting => ui.ctx().request_repaint_after(std::time::Duration::from_millis(50)),
                Poll::Ready(Ok(())) => said = Some((fill(view.tr("Exported the table to {path}"), &[("path", &path.display().to_string())]), false)),
                Poll::Ready(Err(e)) => said = Some((e, true)),
                Poll::Lost => said = Some((view.tr("The export stopped unexpectedly.").to_owned(), true)),
            }
            if said.is_some() {
                self.job = None;
            }
        }
        let Some(prompt) = self.prompt.as_mut() else { return said };
        let mut chosen = None;
        let mut cancel = false;
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("model_export_section").selected_text(view.tr(section_title(self.section))).show_ui(ui, |ui| {
                for section in TableSection::ALL {
                    ui.selectable_value(&mut self.section, section, view.tr(section_title(section)));
                }
            });
            let label = view.tr("Export table to (.csv or .xlsx)");
            chosen = prompt.ui(ui, view, label, view.tr("Export"), |typed| DialogRequest::Save {
                title: label.to_owned(),
                start_dir: start_dir_of(typed),
                file_name: "point-table.xlsx".to_owned(),
            });
            cancel = ui.button(view.tr("Cancel")).clicked();
        });
        if cancel {
            self.prompt = None;
        }
        if let Some(path) = chosen {
            self.prompt = None;
            let (value, section, p) = (model.clone(), self.section, path.clone());
            match Pending::spawn("table-export", move || export_table(&value, section, &p).map(|_| ()).map_err(|e| e.to_string())) {
                Ok(job) => self.job = Some((path, job)),
                Err(e) => said = Some((format!("cannot start the export: {e}"), true)),
            }
        }
        said
    }
}
