//! The metric map the page names metrics with: the shipped one, or a file the user loads. A file
//! is read on a thread (no file I/O in a frame); a bad file is reported and the old map kept.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};

use egui::{RichText, TextEdit};

use crate::config::storage::read_metric_map;
use crate::protocol::storage::metric_map::MetricMap;
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

/// A file being read: its path and where the result comes.
type Loading = (PathBuf, Receiver<Result<MetricMap, String>>);

/// The map in use and the load field.
#[derive(Debug)]
pub struct MapState {
    map: MetricMap,
    /// The file it came from; `None`: the shipped map.
    path: Option<PathBuf>,
    path_text: String,
    error: Option<String>,
    loading: Option<Loading>,
}

impl MapState {
    /// The shipped map, and `path` (the saved setting) read on a thread when given.
    pub fn new(path: Option<&Path>) -> MapState {
        let mut state = MapState {
            map: MetricMap::builtin(),
            path: None,
            path_text: path.map(|p| p.display().to_string()).unwrap_or_default(),
            error: None,
            loading: None,
        };
        if let Some(path) = path {
            state.start_loading(path.to_path_buf());
        }
        state
    }

    pub fn map(&self) -> &MetricMap {
        &self.map
    }

    /// The file of the map in use; `None` for the shipped map.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Why the last file could not be used.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn start_loading(&mut self, path: PathBuf) {
        let (tx, rx) = std::sync::mpsc::channel();
        let read = path.clone();
        std::thread::spawn(move || {
            // The window may be gone by then; nobody to tell.
            let _ = tx.send(read_metric_map(Some(&read)).map_err(|e| format!("{e:#}")));
        });
        self.loading = Some((path, rx));
    }

    /// Takes in a finished read; a good map goes into `setting` (persisted with the settings).
    pub fn poll(&mut self, setting: &mut Option<PathBuf>) {
        let Some((path, rx)) = &self.loading else { return };
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err(format!("cannot read metric map {}: the reading thread stopped", path.display())),
        };
        let path = path.clone();
        self.loading = None;
        match result {
            Ok(map) => {
                self.map = map;
                self.path = Some(path.clone());
                self.error = None;
                *setting = Some(path);
            }
            Err(error) => self.error = Some(error),
        }
    }

    /// One line: the map in use, the path field and Load; the error of the last load below it.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, setting: &mut Option<PathBuf>) {
        self.poll(setting);
        ui.horizontal_wrapped(|ui| {
            ui.weak(ctx.tr("Metric map"));
            let name = if self.map.name.is_empty() { ctx.tr("(unnamed)") } else { self.map.name.as_str() };
            let source = match &self.path {
                Some(path) => path.display().to_string(),
                None => ctx.tr("shipped with the workbench").to_owned(),
            };
            ui.label(RichText::new(name).strong()).on_hover_text(&self.map.description);
            ui.weak(format!("({source}, {})", fill(ctx.tr("{n} metrics"), &[("n", &self.map.metrics.len().to_string())])));
            let field = TextEdit::singleline(&mut self.path_text).hint_text(ctx.tr("Metric map file (empty: the shipped map)")).desired_width(280.0);
            let response = ui.add(field).accessible_name(ctx.tr("Metric map file"));
            let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let load = ui.add_enabled(self.loading.is_none(), egui::Button::new(ctx.tr("Load"))).on_hover_text(ctx.tr("Read the metric map file; the map in use stays if it is bad"));
            if load.clicked() || enter {
                self.load_typed(setting);
            }
            if self.loading.is_some() {
                ui.spinner();
            }
        });
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Metric map not loaded: {error}"), &[("error", error)]));
        }
    }

    /// The typed path: read on a thread, or back to the shipped map when empty.
    fn load_typed(&mut self, setting: &mut Option<PathBuf>) {
        let text = self.path_text.trim();
        if text.is_empty() {
            self.map = MetricMap::builtin();
            self.path = None;
            self.error = None;
            *setting = None;
            return;
        }
        self.start_loading(PathBuf::from(text));
    }
}
