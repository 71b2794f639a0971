//! The product model editor: several models open in tabs, forms per section and the raw JSON
//! side by side (one `serde_json::Value` is the truth; both edit it), live validation, undo,
//! point-table import, and "simulate this model".
//!
//! - `doc`: one open model (value, raw text, undo, validation, the text a save writes).
//! - `files`: the path prompt, reads and writes on a thread, the recent list.
//! - `review`: the diff before a save and the guard against losing changes.
//! - `raw_json`, `problems`: the raw pane and the problem list.
//! - `forms`: a form per section. `import_dialog`: point tables. `simulate`: what a simulated
//!   gateway serves for the edited model.

use std::path::PathBuf;

use egui::{CentralPanel, Panel, ScrollArea, Ui};

pub mod doc;
pub mod files;
pub mod forms;
pub mod import_dialog;
mod problems;
mod raw_json;
mod review;
pub mod simulate;
mod table_export;
mod toolbar;

use doc::EditorDoc;
use files::{FileDone, FileRow, PromptFor, remember};
use forms::{FormCtx, Section, section_ui};
use import_dialog::ImportDialog;
use review::{Choice, Loss, SaveReview, discard_ui};
use crate::protocol::model::templates::template_text;
use crate::protocol::storage::metric_map::BUILTIN_ESS_MAP;

/// The template name of a new metric map (energy-storage metric names, units and ranges).
pub const METRIC_MAP_TEMPLATE: &str = "metric-map";
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// An open model and the id that names its tab while tabs come and go.
#[derive(Debug)]
struct Open {
    id: u64,
    doc: EditorDoc,
}

/// The Models tab.
#[derive(Debug, Default)]
pub struct ModelEditor {
    open: Vec<Open>,
    active: usize,
    next_id: u64,
    files: FileRow,
    review: Option<SaveReview>,
    guard: Option<Loss>,
    /// Close this tab once its save succeeds ("save and close").
    close_after_save: Option<u64>,
    /// Quitting was confirmed: the window may close.
    quit_confirmed: bool,
    import: ImportDialog,
    export: table_export::TableExport,
    /// Product keys the running simulation took from the editor, when one runs.
    simulating: Option<Vec<String>>,
    /// (what happened, an error?).
    said: Option<(String, bool)>,
}

impl ModelEditor {
    /// Opens `path` in a new tab (read on a thread), or shows its tab when already open.
    pub fn open_path(&mut self, path: PathBuf) {
        if let Some(i) = self.open.iter().position(|o| o.doc.path.as_deref() == Some(path.as_path())) {
            self.active = i;
            return;
        }
        if let Err(e) = self.files.read(path) {
            self.said = Some((e, true));
        }
    }

    /// A new model from template `name`.
    pub fn new_from_template(&mut self, name: &str) {
        if name == METRIC_MAP_TEMPLATE {
            return self.push(EditorDoc::from_template(name, BUILTIN_ESS_MAP));
        }
        match template_text(name) {
            Some(text) => self.push(EditorDoc::from_template(name, text)),
            None => self.said = Some((format!("no template {name}"), true)),
        }
    }

    fn push(&mut self, doc: EditorDoc) {
        self.next_id += 1;
        self.open.push(Open { id: self.next_id, doc });
        self.active = self.open.len() - 1;
    }

    /// The open models, in tab order.
    pub fn docs(&self) -> impl Iterator<Item = &EditorDoc> {
        self.open.iter().map(|o| &o.doc)
    }

    /// The model of the shown tab.
    pub fn active_doc(&self) -> Option<&EditorDoc> {
        self.open.get(self.active).map(|o| &o.doc)
    }

    /// True while files are read or written.
    pub fn is_busy(&self) -> bool {
        self.files.is_busy()
    }

    /// Titles of the tabs with unsaved changes.
    pub fn unsaved(&self) -> Vec<String> {
        self.open.iter().filter(|o| o.doc.is_dirty()).map(|o| o.doc.title()).collect()
    }

    /// The window was asked to close: true when it may (nothing unsaved, or the user agreed);
    /// else the guard is shown.
    pub fn may_quit(&mut self) -> bool {
        let unsaved = self.unsaved();
        if self.quit_confirmed || unsaved.is_empty() {
            return true;
        }
        self.guard = Some(Loss::Quit(unsaved));
        false
    }

    /// The simulation stopped or failed to start.
    pub fn simulation_ended(&mut self) {
        self.simulating = None;
    }

    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext, commands: &mut Vec<UiCommand>, recent: &mut Vec<String>) {
        self.finish_jobs(ui.ctx(), view, recent, commands);
        self.toolbar_ui(ui, view, commands, recent);
        if let Some((what, path)) = self.files.prompt_ui(ui, view) {
            match what {
                PromptFor::Open => self.open_path(path),
                PromptFor::SaveAs(id) => self.review_save(id, Some(path)),
            }
        }
        if let Some(open) = self.open.get(self.active)
            && let Some(done) = self.export.ui(ui, view, open.doc.value())
        {
            self.said = Some(done);
        }
        if let Some((text, error)) = &self.said {
            let color = if *error { ui.visuals().error_fg_color } else { ui.visuals().weak_text_color() };
            ui.colored_label(color, text.as_str());
        }
        self.tabs_ui(ui, view);
        ui.separator();
        self.dialogs_ui(ui.ctx(), view, commands);
        if let Some(open) = self.open.get_mut(self.active) {
            if let Some(done) = self.import.ui(ui.ctx(), view.lang, open.doc.value()) {
                open.doc.replace_value(done.value);
                self.said = Some((done.summary, false));
            }
            body_ui(ui, view, open);
        } else {
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                ui.label(view.tr("No model open. Start from a template (New model), open a file, or pick a recent one."));
                ui.weak(view.tr("cems-workbench gui --edit FILE opens the editor on a file."));
            });
        }
    }

    /// The row of open models.
    fn tabs_ui(&mut self, ui: &mut Ui, view: &ViewContext) {
        let mut close = None;
        ui.horizontal_wrapped(|ui| {
            for (i, open) in self.open.iter().enumerate() {
                let mark = if open.doc.is_dirty() { " ●" } else { "" };
                let label = ui.selectable_label(i == self.active, format!("{}{mark}", open.doc.title()));
                let hover = open.doc.path.as_ref().map_or_else(|| view.tr("Not saved yet").to_owned(), |p| p.display().to_string());
                if label.on_hover_text(hover).clicked() {
                    self.active = i;
                }
                let name = format!("{} {}", view.tr("Close"), open.doc.title());
                if ui.add(egui::Button::new("×").small().frame(false)).accessible_name(&name).on_hover_text(&name).clicked() {
                    close = Some(open.id);
                }
            }
        });
        if let Some(id) = close {
            match self.open.iter().find(|o| o.id == id) {
                Some(o) if o.doc.is_dirty() => self.guard = Some(Loss::CloseTab(id)),
                Some(_) => self.close(id),
                None => {}
            }
        }
    }

    fn close(&mut self, id: u64) {
        self.open.retain(|o| o.id != id);
        self.active = self.active.min(self.open.len().saturating_sub(1));
    }

    /// Save the active model: to its file, or ask where first.
    fn save_active(&mut self) {
        let Some(open) = self.open.get(self.active) else { return };
        let id = open.id;
        match open.doc.path.clone() {
            Some(path) => self.review_save(id, Some(path)),
            None => self.files.ask(PromptFor::SaveAs(id), None),
        }
    }

    /// Shows what a save of doc `id` to `path` changes, to be confirmed.
    fn review_save(&mut self, id: u64, path: Option<PathBuf>) {
        let Some(open) = self.open.iter().find(|o| o.id == id) else { return };
        let Some(path) = path.or_else(|| open.doc.path.clone()) else { return };
        let same_file = open.doc.path.as_deref() == Some(path.as_path());
        // The diff and the on-disk guard are against the file as opened, when it is that file.
        let old = if same_file { open.doc.base_text().to_owned() } else { String::new() };
        let base = same_file.then(|| open.doc.base_text().to_owned());
        let problems = open.doc.errors().len();
        self.review = Some(SaveReview::new(id, path, &old, open.doc.text_to_save(), base, problems));
    }

    fn dialogs_ui(&mut self, ctx: &egui::Context, view: &ViewContext, commands: &mut Vec<UiCommand>) {
        if let Some(review) = &self.review {
            match review.ui(ctx, view) {
                Choice::Pending => {}
                Choice::Cancel => {
                    self.review = None;
                    self.close_after_save = None;
                }
                Choice::Confirm => {
                    if let Some(r) = self.review.take()
                        && let Err(e) = self.files.write(r.doc, r.path, r.text, r.base)
                    {
                        self.said = Some((e, true));
                    }
                }
            }
        }
        let Some(loss) = self.guard.clone() else { return };
        let title = match &loss {
            Loss::CloseTab(id) => self.open.iter().find(|o| o.id == *id).map(|o| o.doc.title()).unwrap_or_default(),
            Loss::Quit(_) => String::new(),
        };
        match discard_ui(ctx, view, &loss, &title) {
            Choice::Pending => {}
            Choice::Cancel => self.guard = None,
            Choice::Confirm => {
                self.guard = None;
                match loss {
                    Loss::CloseTab(id) => self.close(id),
                    Loss::Quit(_) => {
                        self.quit_confirmed = true;
                        commands.push(UiCommand::Quit);
                    }
                }
            }
        }
    }

    /// Reads and writes that finished since the last frame.
    fn finish_jobs(&mut self, ctx: &egui::Context, view: &ViewContext, recent: &mut Vec<String>, commands: &mut Vec<UiCommand>) {
        for done in self.files.poll() {
            match done {
                FileDone::Read(path, Ok(text)) => {
                    remember(recent, &path);
                    let doc = EditorDoc::opened(&path, text);
                    if let Some(e) = doc.raw_error() {
                        self.said = Some((format!("{}: {} {e}", path.display(), view.tr("not JSON:")), true));
                    } else {
                        self.said = None;
                    }
                    self.push(doc);
                }
                FileDone::Read(_, Err(e)) => self.said = Some((e, true)),
                FileDone::Written(id, path, text, Ok(())) => {
                    remember(recent, &path);
                    self.said = Some((fill(view.tr("Saved {path}"), &[("path", &path.display().to_string())]), false));
                    let pk = self.open.iter_mut().find(|o| o.id == id).map(|o| {
                        o.doc.saved(path, text);
                        o.doc.product_key().unwrap_or_default().to_owned()
                    });
                    if self.close_after_save.take() == Some(id) {
                        self.close(id);
                    }
                    let restart = pk.is_some_and(|pk| self.simulating.as_ref().is_some_and(|keys| keys.contains(&pk)));
                    if restart {
                        // The simulated gateway serves what was just saved.
                        self.simulate(view, commands);
                    }
                }
                FileDone::Written(_, _, _, Err(e)) => {
                    self.close_after_save = None;
                    self.said = Some((e, true));
                }
            }
        }
        let checking = self.open.iter_mut().fold(false, |any, o| {
            o.doc.poll_check();
            any || o.doc.is_checking()
        });
        if self.files.is_busy() || checking {
            // A job's end comes without an input event.
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    /// Starts (or restarts) the simulated gateway for the active model.
    fn simulate(&mut self, view: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(target) = self.open.get(self.active).and_then(|o| o.doc.checked_document()) else {
            self.said = Some((view.tr("Fix the model's problems before simulating it.").to_owned(), true));
            return;
        };
        let others: Vec<_> = self.open.iter().enumerate().filter(|(i, _)| *i != self.active).filter_map(|(_, o)| o.doc.checked_document()).collect();
        match simulate::plan(&target, &others, view.models) {
            Ok(plan) => {
                self.simulating = Some(plan.edited.clone());
                self.said = Some((fill(view.tr("Simulating {pk} as {dev}"), &[("pk", &plan.gateway_pk), ("dev", &plan.dev)]), false));
                commands.push(UiCommand::SimulateModel(Box::new(plan)));
            }
            Err(e) => self.said = Some((e, true)),
        }
    }
}

/// Forms (with their section tabs) in the middle, raw JSON on the right, problems below.
fn body_ui(ui: &mut Ui, view: &ViewContext, open: &mut Open) {
    let id = open.id;
    let doc = &mut open.doc;
    Panel::bottom(egui::Id::NULL.with(("model_problems_panel", id))).resizable(true).default_size(110.0).size_range(60.0..=400.0).show(ui, |ui| {
        problems::problems_ui(ui, view, doc, id);
    });
    Panel::right(egui::Id::NULL.with(("model_raw_panel", id))).resizable(true).default_size(ui.available_width() * 0.32).size_range(200.0..=1200.0).show(ui, |ui| {
        raw_json::raw_json_ui(ui, view, doc, id);
    });
    CentralPanel::no_frame().show(ui, |ui| {
        if doc.is_metric_map() {
            return metric_map_area_ui(ui, view, doc, id);
        }
        ui.horizontal_wrapped(|ui| {
            for section in Section::ALL {
                let errors = doc.errors().iter().filter(|e| Section::of_path(&e.path) == section).count();
                let title = view.tr(section.title());
                let label = if errors > 0 { format!("{title} ({errors})") } else { title.to_owned() };
                if ui.selectable_label(doc.section == section, label).clicked() {
                    doc.section = section;
                }
            }
        });
        ui.separator();
        let known: Vec<String> = view.models.iter().map(|m| m.product_key().to_owned()).collect();
        let read_only = doc.raw_error().is_some();
        if read_only {
            ui.colored_label(ui.visuals().warn_fg_color, view.tr("The raw JSON does not parse: fix it there first (the forms show the last good model)."));
        }
        let errors = doc.errors().to_vec();
        let focus = doc.focus.take();
        let section = doc.section;
        ScrollArea::vertical().id_salt(("model_form", id)).auto_shrink([false, false]).show(ui, |ui| {
            ui.add_enabled_ui(!read_only, |ui| {
                let cx = FormCtx { lang: view.lang, focus: focus.as_deref(), errors: &errors, known_product_keys: &known };
                let edit = section_ui(ui, section, doc.form_value(), &cx);
                doc.form_edited(&edit);
            });
        });
    });
}

/// A metric map's one form: its metrics as a table.
fn metric_map_area_ui(ui: &mut Ui, view: &ViewContext, doc: &mut EditorDoc, id: u64) {
    ui.strong(view.tr("Metric map (energy storage)"));
    ui.weak(view.tr("Names, units and ranges of a storage station's metrics. A key is a metric's dotted path, a pattern with * for one segment, or a bare name."));
    ui.separator();
    let read_only = doc.raw_error().is_some();
    if read_only {
        ui.colored_label(ui.visuals().warn_fg_color, view.tr("The raw JSON does not parse: fix it there first (the forms show the last good model)."));
    }
    let errors = doc.errors().to_vec();
    let focus = doc.focus.take();
    ScrollArea::vertical().id_salt(("metric_map_form", id)).auto_shrink([false, false]).show(ui, |ui| {
        ui.add_enabled_ui(!read_only, |ui| {
            let cx = FormCtx { lang: view.lang, focus: focus.as_deref(), errors: &errors, known_product_keys: &[] };
            let edit = forms::metric_map_ui(ui, doc.form_value(), &cx);
            doc.form_edited(&edit);
        });
    });
}
