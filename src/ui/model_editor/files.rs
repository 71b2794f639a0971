//! Reading and writing model files for the editor: the path prompt (typed path or the file
//! dialog), the read or write on a thread, and the recent-files list.

use std::path::{Path, PathBuf};

use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{DialogRequest, start_dir_of};
use crate::ui::path_prompt::{PathPrompt, proposed};
use crate::ui::ViewContext;

/// Files kept in the recent list.
pub const RECENT_CAPACITY: usize = 10;
/// A model file larger than this is refused before it is read (the biggest real ones are a few MB).
pub const MAX_MODEL_BYTES: u64 = 64 * 1024 * 1024;

/// What the path prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptFor {
    Open,
    /// Save the tab with this doc id under a new name.
    SaveAs(u64),
}

/// A read or write under way.
#[derive(Debug)]
pub enum FileJob {
    Read(PathBuf, Pending<Result<String, String>>),
    /// Doc id, path, the text written.
    Write(u64, PathBuf, String, Pending<Result<(), String>>),
}

/// What a finished job gave.
#[derive(Debug)]
pub enum FileDone {
    Read(PathBuf, Result<String, String>),
    Written(u64, PathBuf, String, Result<(), String>),
}

/// Reads a model file's text: refuses what is too big or not UTF-8 (with a BOM allowed).
pub fn read_model_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{}: not a file", path.display()));
    }
    if meta.len() > MAX_MODEL_BYTES {
        return Err(format!("{}: {} MB is larger than a model can be ({} MB)", path.display(), meta.len() >> 20, MAX_MODEL_BYTES >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text (byte {}): a model file is UTF-8 JSON", path.display(), e.utf8_error().valid_up_to()))
}

/// Writes `text` to `path` atomically, unless the file changed on disk since it was read as
/// `base` (someone else's edit would be lost): then it says so and writes nothing.
pub fn write_model_text(path: &Path, text: &str, base: Option<&str>) -> Result<(), String> {
    if let Some(base) = base {
        match std::fs::read(path) {
            Ok(now) if now != base.as_bytes() => {
                return Err(format!("{}: the file changed on disk since it was opened; nothing was written (Save as… keeps both)", path.display()));
            }
            _ => {}
        }
    }
    crate::disk::write_atomic(path, text.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Puts `path` first in `recent`, once, keeping [`RECENT_CAPACITY`].
pub fn remember(recent: &mut Vec<String>, path: &Path) {
    let text = path.display().to_string();
    recent.retain(|p| *p != text);
    recent.insert(0, text);
    recent.truncate(RECENT_CAPACITY);
}

/// The prompt row and the jobs of the editor.
#[derive(Debug, Default)]
pub struct FileRow {
    prompt: Option<(PromptFor, PathPrompt)>,
    pub jobs: Vec<FileJob>,
}

fn model_filters(view: &ViewContext) -> Vec<(String, Vec<String>)> {
    vec![(view.tr("Product models").to_owned(), vec!["json".to_owned()])]
}

impl FileRow {
    pub fn ask(&mut self, what: PromptFor, proposal: Option<&Path>) {
        let path = proposal.map_or_else(|| proposed("model.json"), |p| p.display().to_string());
        self.prompt = Some((what, PathPrompt::new(path)));
    }

    pub fn is_busy(&self) -> bool {
        !self.jobs.is_empty()
    }

    /// Starts reading `path`.
    pub fn read(&mut self, path: PathBuf) -> Result<(), String> {
        let p = path.clone();
        let job = Pending::spawn("model-read", move || read_model_text(&p)).map_err(|e| format!("cannot start reading: {e}"))?;
        self.jobs.push(FileJob::Read(path, job));
        Ok(())
    }

    /// Starts writing `text` for doc `id`; `base` guards against a file changed on disk.
    pub fn write(&mut self, id: u64, path: PathBuf, text: String, base: Option<String>) -> Result<(), String> {
        let (p, t) = (path.clone(), text.clone());
        let job = Pending::spawn("model-write", move || write_model_text(&p, &t, base.as_deref())).map_err(|e| format!("cannot start writing: {e}"))?;
        self.jobs.push(FileJob::Write(id, path, text, job));
        Ok(())
    }

    /// Jobs that have finished since the last call.
    pub fn poll(&mut self) -> Vec<FileDone> {
        let mut done = Vec::new();
        self.jobs.retain(|job| {
            let finished = match job {
                FileJob::Read(path, pending) => match pending.poll() {
                    Poll::Waiting => None,
                    Poll::Ready(r) => Some(FileDone::Read(path.clone(), r)),
                    Poll::Lost => Some(FileDone::Read(path.clone(), Err("the read stopped unexpectedly".into()))),
                },
                FileJob::Write(id, path, text, pending) => match pending.poll() {
                    Poll::Waiting => None,
                    Poll::Ready(r) => Some(FileDone::Written(*id, path.clone(), text.clone(), r)),
                    Poll::Lost => Some(FileDone::Written(*id, path.clone(), text.clone(), Err("the write stopped unexpectedly".into()))),
                },
            };
            match finished {
                Some(d) => {
                    done.push(d);
                    false
                }
                None => true,
            }
        });
        done
    }

    /// The prompt row while one is open; what it was for and the path when the user acted.
    pub fn prompt_ui(&mut self, ui: &mut egui::Ui, view: &ViewContext) -> Option<(PromptFor, PathBuf)> {
        let (what, prompt) = self.prompt.as_mut()?;
        let what = *what;
        let (label, action) = match what {
            PromptFor::Open => (view.tr("Open model"), view.tr("Open")),
            PromptFor::SaveAs(_) => (view.tr("Save model as"), view.tr("Save")),
        };
        let filters = model_filters(view);
        let mut cancel = false;
        let chosen = ui
            .horizontal(|ui| {
                let chosen = prompt.ui(ui, view, label, action, |typed| match what {
                    PromptFor::Open => DialogRequest::Open { title: label.to_owned(), start_dir: start_dir_of(typed), filters },
                    PromptFor::SaveAs(_) => {
                        let name = Path::new(typed.trim()).file_name().map_or_else(|| "model.json".to_owned(), |n| n.to_string_lossy().into_owned());
                        DialogRequest::Save { title: label.to_owned(), start_dir: start_dir_of(typed), file_name: name }
                    }
                });
                cancel = ui.button(view.tr("Cancel")).clicked();
                chosen
            })
            .inner;
        if cancel || chosen.is_some() {
            self.prompt = None;
        }
        chosen.map(|p| (what, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_one_of_each_newest_first_and_bounded() {
        let mut recent = Vec::new();
        for i in 0..15 {
            remember(&mut recent, Path::new(&format!("m{i}.json")));
        }
        remember(&mut recent, Path::new("m10.json"));
        assert_eq!(recent.len(), RECENT_CAPACITY);
        assert_eq!(recent[0], "m10.json");
        assert_eq!(recent.iter().filter(|p| *p == "m10.json").count(), 1);
    }

    #[test]
    fn a_file_changed_on_disk_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(&path, "{\"a\": 1}").unwrap();
        let err = write_model_text(&path, "{\"a\": 2}", Some("{\"a\": 0}")).unwrap_err();
        assert!(err.contains("changed on disk"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}");
        write_model_text(&path, "{\"a\": 2}", Some("{\"a\": 1}")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 2}");
    }

    #[test]
    fn binary_and_missing_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(read_model_text(&path).unwrap_err().contains("not UTF-8"));
        assert!(read_model_text(&dir.path().join("none.json")).is_err());
        assert!(read_model_text(dir.path()).unwrap_err().contains("not a file"));
    }
}
