//! A local file the user names by typing its path or with a file dialog, read and hashed on a
//! thread so the window never waits for a disk (the Firmware and Files tabs use it). The typed
//! path is always there: where no dialog can open, the user is told and the cursor goes to it.

use std::time::Duration;

use bytes::Bytes;
use egui::{Button, Grid, TextEdit};

use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{Dialog, DialogEnd, DialogProblem, DialogRequest, start_dir_of};
use crate::ui::format::format_bytes;
use crate::ui::widgets::fill;

/// How often to look again while a file is read, a dialog is open or a task runs.
pub const POLL_EVERY: Duration = Duration::from_millis(100);
/// Largest local file read into memory to be sent.
pub const MAX_LOCAL_BYTES: u64 = 256 * 1024 * 1024;

/// A local file, read and hashed.
#[derive(Debug, Clone)]
pub struct LocalFile {
    /// The path as the user gave it (trimmed).
    pub path: String,
    pub data: Bytes,
    pub sha256: String,
}

/// Why a local file could not be used.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    NotAFile,
    TooLarge(u64),
    Io(String),
}

fn read_local(path: String) -> Result<LocalFile, LoadError> {
    let meta = std::fs::metadata(&path).map_err(|e| LoadError::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile);
    }
    if meta.len() > MAX_LOCAL_BYTES {
        return Err(LoadError::TooLarge(meta.len()));
    }
    let data = std::fs::read(&path).map_err(|e| LoadError::Io(e.to_string()))?;
    let sha256 = crate::protocol::digest::sha256_hex(&data);
    Ok(LocalFile { path, data: Bytes::from(data), sha256 })
}

/// A local file the user names by typing its path or with a file dialog. Whenever the path
/// changes, a thread reads and hashes the file; the result is polled each frame.
#[derive(Debug, Default)]
pub struct FileLoader {
    pub path: String,
    loaded: Option<LocalFile>,
    loading: Option<(String, Pending<Result<LocalFile, LoadError>>)>,
    failed: Option<(String, LoadError)>,
    pick: Option<Dialog>,
    /// Why the last dialog gave no path, when the user should know.
    dialog_problem: Option<DialogProblem>,
    /// The path field takes the keyboard at the next frame (after a dialog gave nothing).
    focus_path: bool,
}

impl FileLoader {
    /// Takes in what the threads finished and starts reading a newly named file. True while
    /// something is under way.
    pub fn poll(&mut self) -> bool {
        if let Some(pick) = &self.pick {
            match pick.poll() {
                DialogEnd::Waiting => {}
                DialogEnd::Chosen(path) => {
                    self.path = path.display().to_string();
                    self.pick = None;
                }
                DialogEnd::NothingChosen(problem) => {
                    self.focus_path = problem.is_some();
                    self.dialog_problem = problem;
                    self.pick = None;
                }
            }
        }
        if let Some((path, pending)) = &self.loading {
            match pending.poll() {
                Poll::Waiting => {}
                Poll::Ready(Ok(file)) => {
                    self.loaded = Some(file);
                    self.loading = None;
                }
                Poll::Ready(Err(e)) => {
                    self.failed = Some((path.clone(), e));
                    self.loading = None;
                }
                Poll::Lost => {
                    self.failed = Some((path.clone(), LoadError::Io("the reading thread ended".into())));
                    self.loading = None;
                }
            }
        }
        let path = self.path.trim().to_owned();
        let known = self.loaded.as_ref().is_some_and(|f| f.path == path)
            || self.loading.as_ref().is_some_and(|(p, _)| *p == path)
            || self.failed.as_ref().is_some_and(|(p, _)| *p == path);
        if !path.is_empty() && !known {
            let for_thread = path.clone();
            match Pending::spawn("read-file", move || read_local(for_thread)) {
                Ok(pending) => {
                    self.loading = Some((path, pending));
                    self.dialog_problem = None;
                }
                Err(e) => self.failed = Some((path, LoadError::Io(e.to_string()))),
            }
        }
        self.pick.is_some() || self.loading.is_some()
    }

    /// The file named now, once read.
    pub fn file(&self) -> Option<&LocalFile> {
        self.loaded.as_ref().filter(|f| f.path == self.path.trim())
    }

    /// Opens a file dialog on its own thread, or says why none can open and hands the
    /// keyboard to the path field.
    pub fn pick(&mut self, title: &str) {
        if self.pick.is_some() {
            return;
        }
        let request = DialogRequest::Open { title: title.to_owned(), start_dir: start_dir_of(&self.path), filters: Vec::new() };
        match Dialog::open(request) {
            Ok(dialog) => {
                self.pick = Some(dialog);
                self.dialog_problem = None;
            }
            Err(problem) => {
                self.dialog_problem = Some(problem);
                self.focus_path = true;
            }
        }
    }

    /// The path field with its "…" button, labelled `name` for assistive technology.
    pub fn path_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, name: &str, dialog_title: &str) {
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 40.0).clamp(120.0, 520.0);
            let field = ui.add(TextEdit::singleline(&mut self.path).hint_text(ctx.tr("Path of a local file")).desired_width(width)).accessible_name(name);
            if std::mem::take(&mut self.focus_path) {
                field.request_focus();
            }
            let choose = ctx.tr("Choose a file");
            if ui.add_enabled(self.pick.is_none(), Button::new("…")).on_hover_text(choose).accessible_name(dialog_title).clicked() {
                self.pick(dialog_title);
            }
        });
    }

    /// What is known of the file: being read, its size and SHA-256, or why it cannot be used.
    pub fn status_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext) {
        if let Some(problem) = &self.dialog_problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem.message(ctx.lang));
        }
        let path = self.path.trim();
        if path.is_empty() {
            return;
        }
        if let Some(file) = self.file() {
            Grid::new(("local_file", path)).num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
                ui.weak(ctx.tr("Size"));
                ui.label(fill(ctx.tr("{size} ({bytes} bytes)"), &[("size", &format_bytes(file.data.len() as u64)), ("bytes", &file.data.len().to_string())]));
                ui.end_row();
                ui.weak("SHA-256");
                ui.monospace(&file.sha256);
                ui.end_row();
            });
        } else if let Some((_, e)) = self.failed.as_ref().filter(|(p, _)| p == path) {
            let text = match e {
                LoadError::NotAFile => ctx.tr("Not a file.").to_owned(),
                LoadError::TooLarge(n) => fill(ctx.tr("Too large: {size} (at most 256 MiB)."), &[("size", &format_bytes(*n))]),
                LoadError::Io(e) => fill(ctx.tr("Cannot read the file: {error}"), &[("error", e)]),
            };
            ui.colored_label(ui.visuals().error_fg_color, text);
        } else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak(ctx.tr("Reading and hashing the file…"));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_file_is_read_and_hashed_off_the_ui_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.bin");
        std::fs::write(&path, b"abc").unwrap();
        let mut loader = FileLoader { path: path.display().to_string(), ..FileLoader::default() };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while loader.poll() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        let file = loader.file().unwrap();
        assert_eq!(file.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        loader.path = dir.path().display().to_string();
        while loader.poll() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(loader.file().is_none());
        assert_eq!(loader.failed.as_ref().map(|(_, e)| e.clone()), Some(LoadError::NotAFile));
    }
}
