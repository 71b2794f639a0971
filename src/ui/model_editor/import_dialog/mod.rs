//! The point-table import dialog: choose a CSV or XLSX file, read it off the UI thread, pick the
//! sheet, the header row and the section, map columns to fields (guessed from the headers), see
//! the first rows and every rejected row with its reason, then import into the open model.

mod grid;
mod jobs;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::config::point_table::{ColumnField, Section, Table, find_header_row, guess_mapping};
use crate::protocol::model::Lang;
use crate::ui::file_dialog::{Dialog, DialogEnd, DialogRequest, start_dir_of};
use crate::ui::i18n;
use crate::ui::widgets::fill;
use jobs::{Job, PlanInput, Planned, start_plan, start_read};

/// What a confirmed import gives the editor.
pub struct ImportDone {
    /// The whole model with the rows in it.
    pub value: Value,
    /// One line saying what was imported.
    pub summary: String,
}

#[derive(Default)]
pub struct ImportDialog {
    open: bool,
    path: String,
    browse: Option<Dialog>,
    problem: Option<String>,
    reading: Option<Job<Result<Table, String>>>,
    table: Option<Arc<Table>>,
    auto_header: bool,
    header_index: usize,
    mapping: Vec<ColumnField>,
    section: Section,
    skip_bad: bool,
    planning: Option<(PlanInput, Job<Planned>)>,
    planned: Option<(PlanInput, Value, Planned)>,
    /// Set when the dialog should read the path on its next frame (it has no context before).
    read_next: bool,
}

impl std::fmt::Debug for ImportDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportDialog").field("open", &self.open).field("path", &self.path).field("section", &self.section).finish_non_exhaustive()
    }
}

impl ImportDialog {
    pub fn new() -> Self {
        ImportDialog { auto_header: true, ..ImportDialog::default() }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Shows the dialog, on `path` when given (else a typed path box and "Browse…").
    pub fn open(&mut self, path: Option<PathBuf>) {
        *self = ImportDialog { open: true, ..ImportDialog::new() };
        if let Some(path) = path {
            self.path = path.display().to_string();
            self.read_next = true;
        }
    }

    /// Draws the dialog while open; the edited model when the user confirms.
    pub fn ui(&mut self, ctx: &egui::Context, lang: Lang, doc: &Value) -> Option<ImportDone> {
        if !self.open {
            return None;
        }
        self.poll(ctx, lang, doc);
        let mut open = true;
        let mut done = None;
        egui::Window::new(i18n::tr(lang, "Import a point table"))
            .open(&mut open)
            .collapsible(false)
            .resizable(true)
            .default_width(760.0)
            .show(ctx, |ui| done = self.body_ui(ui, lang, doc));
        if !open || done.is_some() {
            *self = ImportDialog::new();
        }
        done
    }

    /// Takes in finished reads, plans and file dialogs; starts a plan when its input changed.
    fn poll(&mut self, ctx: &egui::Context, lang: Lang, doc: &Value) {
        if std::mem::take(&mut self.read_next) {
            self.start_reading(ctx, None);
        }
        if let Some(end) = self.browse.as_ref().map(Dialog::poll) {
            match end {
                DialogEnd::Waiting => {}
                DialogEnd::Chosen(path) => {
                    self.browse = None;
                    self.path = path.display().to_string();
                    self.start_reading(ctx, None);
                }
                DialogEnd::NothingChosen(problem) => {
                    self.browse = None;
                    self.problem = problem.map(|p| p.message(lang));
                }
            }
        }
        if let Some(result) = self.reading.as_ref().and_then(Job::poll) {
            self.reading = None;
            match result {
                Ok(Ok(table)) => self.take_table(table),
                Ok(Err(message)) => self.problem = Some(message),
                Err(()) => self.problem = Some(i18n::tr(lang, "Reading the table failed.").to_owned()),
            }
        }
        if let Some(result) = self.planning.as_ref().and_then(|(_, job)| job.poll())
            && let (Some((input, _)), Ok(planned)) = (self.planning.take(), result)
        {
            self.planned = Some((input, doc.clone(), planned));
        }
        let Some(table) = self.table.clone() else { return };
        let input = self.plan_input();
        // The model is compared only when Import is pressed: a deep compare per frame of a model
        // with 50,000 points would cost every frame.
        let current = self.planned.as_ref().is_some_and(|(i, _, _)| *i == input);
        let under_way = self.planning.as_ref().is_some_and(|(i, _)| *i == input);
        if !current && !under_way {
            match start_plan(ctx, table, input.clone(), doc.clone()) {
                Ok(job) => self.planning = Some((input, job)),
                Err(e) => self.problem = Some(e),
            }
        }
    }

    fn start_reading(&mut self, ctx: &egui::Context, sheet: Option<String>) {
        let path = self.path.trim();
        if path.is_empty() {
            return;
        }
        self.problem = None;
        self.planned = None;
        self.planning = None;
        match start_read(ctx, PathBuf::from(path), sheet) {
            Ok(job) => self.reading = Some(job),
            Err(e) => self.problem = Some(e),
        }
    }

    fn take_table(&mut self, table: Table) {
        self.header_index = find_header_row(&table.rows);
        self.mapping = table.rows.get(self.header_index).map(|r| guess_mapping(&r.cells)).unwrap_or_default();
        self.table = Some(Arc::new(table));
        self.planned = None;
    }

    fn plan_input(&self) -> PlanInput {
        PlanInput { header_index: self.header_index, mapping: self.mapping.clone(), section: self.section }
    }

    fn body_ui(&mut self, ui: &mut egui::Ui, lang: Lang, doc: &Value) -> Option<ImportDone> {
        let tr = |key: &'static str| i18n::tr(lang, key);
        ui.horizontal(|ui| {
            ui.label(tr("Table file"));
            let edit = ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(420.0).hint_text("points.xlsx"));
            let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.add_enabled(self.browse.is_none(), egui::Button::new(tr("Browse…"))).clicked() {
                let request = DialogRequest::Open {
                    title: tr("Import a point table").to_owned(),
                    start_dir: start_dir_of(&self.path),
                    filters: vec![(tr("Point tables").to_owned(), ["csv", "xlsx", "xlsm", "xls", "tsv", "txt"].map(String::from).to_vec())],
                };
                match Dialog::open(request) {
                    Ok(dialog) => self.browse = Some(dialog),
                    Err(problem) => self.problem = Some(problem.message(lang)),
                }
            }
            if ui.add_enabled(self.reading.is_none(), egui::Button::new(tr("Read"))).clicked() || entered {
                self.start_reading(ui.ctx(), None);
            }
        });
        if let Some(job) = &self.reading {
            ui.add(egui::ProgressBar::new(job.progress()).show_percentage().text(tr("Reading the table…")));
        }
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().error_fg_color, problem.as_str());
        }
        let table = self.table.clone()?;
        self.settings_ui(ui, lang, &table);
        ui.separator();
        grid::mapping_ui(ui, lang, &table, self.header_index, &mut self.mapping);
        ui.separator();
        self.outcome_ui(ui, lang, doc)
    }

    /// Charset, sheet, header row and section.
    fn settings_ui(&mut self, ui: &mut egui::Ui, lang: Lang, table: &Table) {
        let tr = |key: &'static str| i18n::tr(lang, key);
        let data_rows = table.rows.len().saturating_sub(self.header_index + 1).to_string();
        ui.label(fill(tr("Read as {format}: {rows} rows under the header."), &[("format", &table.encoding), ("rows", &data_rows)]));
        ui.horizontal(|ui| {
            if table.sheets.len() > 1 {
                let current = table.sheet.clone().unwrap_or_default();
                let mut chosen = current.clone();
                egui::ComboBox::from_label(tr("Sheet")).selected_text(chosen.as_str()).show_ui(ui, |ui| {
                    for name in &table.sheets {
                        ui.selectable_value(&mut chosen, name.clone(), name.as_str());
                    }
                });
                if chosen != current {
                    self.start_reading(ui.ctx(), Some(chosen));
                }
            }
            let was_auto = self.auto_header;
            ui.checkbox(&mut self.auto_header, tr("Find the header row"));
            let mut number = table.rows.get(self.header_index).map_or(1, |r| r.number);
            let before = number;
            let last = table.rows.last().map_or(1, |r| r.number);
            ui.add_enabled(!self.auto_header, egui::DragValue::new(&mut number).range(1..=last).prefix(tr("Header row ")));
            let index = if self.auto_header {
                if was_auto { self.header_index } else { find_header_row(&table.rows) }
            } else if number != before {
                table.rows.iter().position(|r| r.number >= number).unwrap_or(self.header_index)
            } else {
                self.header_index
            };
            if index != self.header_index {
                self.header_index = index;
                self.mapping = table.rows.get(index).map(|r| guess_mapping(&r.cells)).unwrap_or_default();
            }
            egui::ComboBox::from_label(tr("Import into")).selected_text(section_name(lang, self.section)).show_ui(ui, |ui| {
                for section in Section::ALL {
                    ui.selectable_value(&mut self.section, section, section_name(lang, section));
                }
            });
        });
    }

    /// Counts, rejected rows, validation, and the Import button.
    fn outcome_ui(&mut self, ui: &mut egui::Ui, lang: Lang, doc: &Value) -> Option<ImportDone> {
        let tr = |key: &'static str| i18n::tr(lang, key);
        let input = self.plan_input();
        let Some((_, base, planned)) = self.planned.as_ref().filter(|(i, _, _)| *i == input) else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr("Checking the rows…"));
            });
            return None;
        };
        let plan = &planned.plan;
        let counts = [
            ("accepted", plan.accepted.len().to_string()),
            ("rejected", plan.rejected.len().to_string()),
            ("replaced", plan.replaced.len().to_string()),
        ];
        let counts: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ui.label(fill(tr("{accepted} rows accepted ({replaced} replace existing ones), {rejected} rejected."), &counts));
        grid::problems_ui(ui, lang, plan, &planned.errors);
        ui.checkbox(&mut self.skip_bad, tr("Skip rejected rows"));
        let blocked = plan.accepted.is_empty() || !planned.errors.is_empty() || (!plan.rejected.is_empty() && !self.skip_bad);
        let mut done = None;
        let mut replan = false;
        ui.horizontal(|ui| {
            let import = ui.add_enabled(!blocked, egui::Button::new(tr("Import"))).clicked();
            if import && base != doc {
                // The model changed since the rows were checked: check them again first.
                replan = true;
            } else if import {
                let file = PathBuf::from(self.path.trim()).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let accepted = plan.accepted.len().to_string();
                let skipped = plan.rejected.len().to_string();
                let replaced = plan.replaced.len().to_string();
                let summary = fill(
                    tr("Imported {accepted} rows into {section} from {file} ({replaced} replaced, {skipped} skipped)."),
                    &[("accepted", &accepted), ("section", section_name(lang, plan.section)), ("file", &file), ("replaced", &replaced), ("skipped", &skipped)],
                );
                done = Some(ImportDone { value: planned.value.clone(), summary });
            }
            if blocked && !plan.rejected.is_empty() && !self.skip_bad {
                ui.weak(tr("Fix the rejected rows in the table, or skip them."));
            }
        });
        if replan {
            self.planned = None;
        }
        done
    }
}

fn section_name(lang: Lang, section: Section) -> &'static str {
    match section {
        Section::Points => i18n::tr(lang, "Points"),
        Section::Meters => i18n::tr(lang, "Meters"),
        Section::Properties => i18n::tr(lang, "Properties"),
    }
}
