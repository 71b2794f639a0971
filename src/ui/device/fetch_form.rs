//! Where the Files tab writes a gateway file it fetches: a path typed in a field that is always
//! there, or named in a save dialog. Where no dialog can open the user is told and the cursor
//! goes to the field.

use std::path::{Path, PathBuf};

use egui::{Button, TextEdit};

use super::view::DeviceView;
use crate::engine::tasks::FileUploadSpec;
use crate::ui::file_dialog::{Dialog, DialogEnd, DialogProblem, DialogRequest, start_dir_of};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// The fetch of one gateway file, while the user says where it goes.
#[derive(Debug)]
pub struct FetchForm {
    /// The gateway's plain file name.
    pub name: String,
    /// Where it is written: a file, or a folder to write `name` into.
    pub dest: String,
    dialog: Option<Dialog>,
    problem: Option<DialogProblem>,
    /// The path field takes the keyboard at the next frame.
    focus: bool,
    started: bool,
}

/// The user's downloads folder, else the home folder.
fn default_folder() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}

impl FetchForm {
    /// The form for gateway file `name`, proposing `folder` (the last one used) or the
    /// downloads folder.
    pub fn new(name: &str, folder: Option<&Path>) -> Self {
        let folder = folder.map(Path::to_path_buf).or_else(default_folder);
        let dest = folder.map_or_else(|| name.to_owned(), |f| f.join(name).display().to_string());
        FetchForm { name: name.to_owned(), dest, dialog: None, problem: None, focus: true, started: false }
    }

    /// The file to write: the typed path, or `name` inside it when it names a folder.
    pub fn target(&self) -> PathBuf {
        let typed = PathBuf::from(self.dest.trim());
        if typed.is_dir() { typed.join(&self.name) } else { typed }
    }

    /// The folder the file went to, for the next fetch.
    pub fn folder(&self) -> Option<PathBuf> {
        self.target().parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf)
    }

    /// True once the fetch was handed to the engine: the form has done its work.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Why Fetch cannot be clicked yet, if it cannot.
    fn problem(&self, ctx: &ViewContext) -> Option<String> {
        if self.dest.trim().is_empty() {
            return Some(ctx.tr("Enter where to save the file.").to_owned());
        }
        match self.target().parent() {
            Some(folder) if !folder.as_os_str().is_empty() && !folder.is_dir() => {
                Some(fill(ctx.tr("The folder {folder} does not exist."), &[("folder", &folder.display().to_string())]))
            }
            _ => None,
        }
    }

    fn start(&mut self, page: &DeviceView, commands: &mut Vec<UiCommand>) {
        let spec = FileUploadSpec::new(page.session, &page.key.pk, &page.key.dev, &self.name, self.target());
        commands.push(UiCommand::StartFileUpload(spec));
        self.started = true;
    }

    /// Takes in the save dialog's answer: a path starts the fetch at once (the dialog was the
    /// confirmation). True while the dialog is open.
    pub fn poll(&mut self, page: &DeviceView, commands: &mut Vec<UiCommand>) -> bool {
        let Some(dialog) = &self.dialog else { return false };
        match dialog.poll() {
            DialogEnd::Waiting => return true,
            DialogEnd::Chosen(path) => {
                self.dest = path.display().to_string();
                self.start(page, commands);
            }
            DialogEnd::NothingChosen(problem) => {
                self.focus = problem.is_some();
                self.problem = problem;
            }
        }
        self.dialog = None;
        false
    }

    fn open_dialog(&mut self, ctx: &ViewContext) {
        let request = DialogRequest::Save { title: ctx.tr("Save the gateway's file as").to_owned(), start_dir: start_dir_of(&self.dest), file_name: self.name.clone() };
        match Dialog::open(request) {
            Ok(dialog) => {
                self.dialog = Some(dialog);
                self.problem = None;
            }
            Err(problem) => {
                self.problem = Some(problem);
                self.focus = true;
            }
        }
    }

    /// Draws the form; false when the user closed it.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, usable: bool, page: &DeviceView, commands: &mut Vec<UiCommand>) -> bool {
        let mut open = true;
        ui.separator();
        ui.strong(fill(ctx.tr("Fetch {name}"), &[("name", &self.name)]));
        ui.horizontal(|ui| {
            ui.label(ctx.tr("Save as"));
            let width = (ui.available_width() - 40.0).clamp(120.0, 520.0);
            let field = ui.add(TextEdit::singleline(&mut self.dest).hint_text(ctx.tr("Path of a local file")).desired_width(width)).accessible_name(ctx.tr("Save the fetched file as"));
            if std::mem::take(&mut self.focus) {
                field.request_focus();
            }
            let choose = ctx.tr("Choose where to save the file");
            if ui.add_enabled(self.dialog.is_none(), Button::new("…")).on_hover_text(choose).accessible_name(choose).clicked() {
                self.open_dialog(ctx);
            }
        });
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem.message(ctx.lang));
        }
        let problem = if usable { self.problem(ctx) } else { Some(ctx.tr("The session this gateway was seen on is closed.").to_owned()) };
        match &problem {
            Some(why) => {
                ui.weak(why.as_str());
            }
            None if self.target().is_file() => {
                ui.weak(fill(ctx.tr("{path} exists: the fetch replaces it."), &[("path", &self.target().display().to_string())]));
            }
            None => {}
        }
        ui.horizontal(|ui| {
            let fetch = ui.add_enabled(problem.is_none() && self.dialog.is_none(), Button::new(ctx.tr("Fetch")));
            if fetch.clicked() {
                self.start(page, commands);
            }
            if ui.button(ctx.tr("Cancel")).clicked() {
                open = false;
            }
        });
        open
    }
}
