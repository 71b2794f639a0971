//! A path asked for in place: a typed path field that is always there, a "…" button opening the
//! shared file dialog (on its own thread), and the button that acts. Where no dialog can open the
//! user is told and the cursor goes to the field (see `ui::file_dialog`).

use std::path::PathBuf;

use egui::{Button, TextEdit, Ui};

use crate::ui::ViewContext;
use crate::ui::file_dialog::{Dialog, DialogEnd, DialogProblem, DialogRequest};

/// The user's downloads folder, else the home folder: where a new file is proposed.
pub fn default_folder() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(dirs.download_dir().unwrap_or(dirs.home_dir()).to_path_buf())
}

/// `name` in the default folder, as the text a path field starts with.
pub fn proposed(name: &str) -> String {
    default_folder().map_or_else(|| name.to_owned(), |f| f.join(name).display().to_string())
}

/// A file name made of `title`: letters, digits, `-` and `_` kept, the rest `-`.
pub fn file_stem(title: &str) -> String {
    let stem: String = title.trim().chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).take(60).collect();
    if stem.is_empty() { "plot".to_owned() } else { stem }
}

/// The field, its dialog and what went wrong with the dialog.
#[derive(Debug, Default)]
pub struct PathPrompt {
    pub path: String,
    dialog: Option<Dialog>,
    problem: Option<DialogProblem>,
    focus: bool,
}

impl PathPrompt {
    pub fn new(path: String) -> PathPrompt {
        PathPrompt { path, dialog: None, problem: None, focus: true }
    }

    /// Draws `[label] [path] […] [action]`; the path when the user acted (the button, Enter in
    /// the field, or a path chosen in the dialog). `request` makes the dialog's request.
    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext, label: &str, action: &str, request: impl FnOnce(&str) -> DialogRequest) -> Option<PathBuf> {
        let mut chosen = None;
        if let Some(dialog) = &self.dialog {
            match dialog.poll() {
                DialogEnd::Waiting => ui.ctx().request_repaint_after(std::time::Duration::from_millis(100)),
                DialogEnd::Chosen(path) => {
                    self.path = path.display().to_string();
                    self.dialog = None;
                    chosen = Some(path);
                }
                DialogEnd::NothingChosen(problem) => {
                    self.focus = problem.is_some();
                    self.problem = problem;
                    self.dialog = None;
                }
            }
        }
        ui.horizontal(|ui| {
            ui.label(label);
            let width = (ui.available_width() - 200.0).clamp(160.0, 520.0);
            let field = ui.add(TextEdit::singleline(&mut self.path).hint_text(view.tr("Path of a local file")).desired_width(width)).accessible_name(label);
            if std::mem::take(&mut self.focus) {
                field.request_focus();
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let choose = view.tr("Choose a file");
            if ui.add_enabled(self.dialog.is_none(), Button::new("…")).on_hover_text(choose).accessible_name(choose).clicked() {
                match Dialog::open(request(&self.path)) {
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
            let typed = !self.path.trim().is_empty();
            if (ui.add_enabled(typed && self.dialog.is_none(), Button::new(action)).clicked() || (entered && typed)) && chosen.is_none() {
                chosen = Some(PathBuf::from(self.path.trim()));
            }
        });
        if let Some(problem) = &self.problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem.message(view.lang));
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_makes_a_plain_file_name() {
        assert_eq!(file_stem("Phase voltages / meter-1"), "Phase-voltages---meter-1");
        assert_eq!(file_stem("  "), "plot");
    }
}
