//! The product models the window decodes with, and their reload: the bundled examples, the
//! user's models folder and the folder of the settings (or `--models`). A reload reads files on
//! a thread, so a slow network folder never stalls a frame.

use std::path::PathBuf;
use std::sync::mpsc;

use crate::config::models::{LoadedModels, load_models, user_models_dir};
use crate::protocol::model::ModelSet;

/// What the window knows about where its models came from.
#[derive(Debug, Default)]
pub struct ModelSource {
    /// Folders read after the bundled examples, in order (user folder, settings, `--models`).
    pub folders: Vec<(PathBuf, usize)>,
    /// Faults of the last load, one line each.
    pub problems: Vec<String>,
    pending: Option<mpsc::Receiver<LoadedModels>>,
}

impl ModelSource {
    /// The state after a load done before the window opened.
    pub fn from_loaded(loaded: &LoadedModels) -> Self {
        ModelSource { folders: loaded.folders.clone(), problems: loaded.problem_lines(), pending: None }
    }

    /// The folders a load reads besides the user's: the settings' folder, then `--models`.
    pub fn folders_to_read(settings_dir: &str, args_dirs: &[PathBuf]) -> Vec<PathBuf> {
        let typed = settings_dir.trim();
        let mut dirs: Vec<PathBuf> = if typed.is_empty() { Vec::new() } else { vec![PathBuf::from(typed)] };
        dirs.extend(args_dirs.iter().cloned());
        dirs
    }

    /// Reads the models again on a thread; `on_done` wakes the window.
    pub fn reload(&mut self, dirs: Vec<PathBuf>, on_done: impl FnOnce() + Send + 'static) {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("model-reload".into()).spawn(move || {
            let loaded = load_models(&dirs, user_models_dir().as_deref());
            // The window may have closed meanwhile: nobody to tell then.
            let _ = tx.send(loaded);
            on_done();
        });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(e) => self.problems = vec![format!("cannot start reading the models: {e}")],
        }
    }

    /// True while a reload runs.
    pub fn reloading(&self) -> bool {
        self.pending.is_some()
    }

    /// The new models when a reload has finished.
    pub fn poll(&mut self) -> Option<ModelSet> {
        let result = self.pending.as_ref()?.try_recv();
        match result {
            Ok(loaded) => {
                self.pending = None;
                self.folders = loaded.folders.clone();
                self.problems = loaded.problem_lines();
                Some(loaded.set)
            }
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                self.pending = None;
                self.problems = vec!["reading the models stopped unexpectedly".into()];
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_reads_the_typed_folder_on_a_thread() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.json"), r#"{"modelVersion":"1.0","productKey":"PK-X","kind":"device","name":"x"}"#).unwrap();
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        let mut source = ModelSource::default();
        let dirs = ModelSource::folders_to_read(&format!("  {}  ", dir.path().display()), &[]);
        source.reload(dirs, || {});
        assert!(source.reloading());
        let set = loop {
            if let Some(set) = source.poll() {
                break set;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(set.get("PK-X").is_some() && set.get("PK-GW-01").is_some());
        assert!(!source.reloading());
        assert_eq!(source.problems.len(), 1, "{:?}", source.problems);
        assert!(source.folders.iter().any(|(d, n)| d == dir.path() && *n == 1));
        assert!(ModelSource::folders_to_read(" ", &[]).is_empty());
    }
}
