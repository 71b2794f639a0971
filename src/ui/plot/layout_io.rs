//! "Open layout…" and "Save layout…": a path row (typed path or the file dialog) and the file
//! read or written on a thread; what happened is said beside the buttons.

use std::path::{Path, PathBuf};

use egui::Ui;

use crate::ui::path_prompt::{PathPrompt, proposed};
use crate::engine::series::Layout;
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::file_dialog::{DialogRequest, start_dir_of};
use crate::ui::widgets::fill;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Open,
    Save,
}

/// A read or a write under way.
#[derive(Debug)]
enum Job {
    Read(Pending<Result<Layout, String>>),
    Write(Pending<Result<(), String>>),
}

/// The layout file row of the Plots tab.
#[derive(Debug, Default)]
pub struct LayoutIo {
    prompt: Option<(Direction, PathPrompt)>,
    /// The last path used, proposed next time.
    last_path: Option<PathBuf>,
    job: Option<(PathBuf, Job)>,
    /// (what to say, an error?).
    said: Option<(String, bool)>,
}

fn layout_filters(view: &ViewContext) -> Vec<(String, Vec<String>)> {
    vec![(view.tr("Layout files").to_owned(), vec!["json".to_owned()])]
}

impl LayoutIo {
    fn start_prompt(&mut self, direction: Direction) {
        let path = self.last_path.as_ref().map_or_else(|| proposed("cems-layout.json"), |p| p.display().to_string());
        self.prompt = Some((direction, PathPrompt::new(path)));
        self.said = None;
    }

    /// The path field while a prompt is open (tests type into it through the UI instead).
    pub fn is_prompting(&self) -> bool {
        self.prompt.is_some()
    }

    pub fn say_problem(&mut self, text: String) {
        self.said = Some((text, true));
    }

    /// The buttons (drawn in the tab's toolbar).
    pub fn buttons_ui(&mut self, ui: &mut Ui, view: &ViewContext) {
        let idle = self.job.is_none();
        if ui.add_enabled(idle, egui::Button::new(view.tr("Open layout…"))).on_hover_text(view.tr("Replace the plots with a layout file")).clicked() {
            self.start_prompt(Direction::Open);
        }
        if ui.add_enabled(idle, egui::Button::new(view.tr("Save layout…"))).on_hover_text(view.tr("Write the plots and their series to a layout file")).clicked() {
            self.start_prompt(Direction::Save);
        }
    }

    /// The prompt and the outcome; a layout read from a file when one arrives.
    pub fn row_ui(&mut self, ui: &mut Ui, view: &ViewContext, current: impl FnOnce() -> Layout) -> Option<Layout> {
        let loaded = self.poll(ui, view);
        if let Some((direction, prompt)) = &mut self.prompt {
            let direction = *direction;
            let (label, action) = match direction {
                Direction::Open => (view.tr("Open layout from"), view.tr("Open")),
                Direction::Save => (view.tr("Save layout to"), view.tr("Save")),
            };
            let title = label.to_owned();
            let filters = layout_filters(view);
            let mut cancel = false;
            let chosen = ui
                .horizontal(|ui| {
                    let chosen = prompt.ui(ui, view, label, action, |typed| match direction {
                        Direction::Open => DialogRequest::Open { title, start_dir: start_dir_of(typed), filters },
                        Direction::Save => DialogRequest::Save {
                            title,
                            start_dir: start_dir_of(typed),
                            file_name: Path::new(typed.trim()).file_name().map_or_else(|| "cems-layout.json".to_owned(), |n| n.to_string_lossy().into_owned()),
                        },
                    });
                    cancel = ui.button(view.tr("Cancel")).clicked();
                    chosen
                })
                .inner;
            if cancel {
                self.prompt = None;
            } else if let Some(path) = chosen {
                self.prompt = None;
                self.start(direction, path, current());
            }
        }
        match &self.said {
            _ if self.job.is_some() => {
                ui.weak(view.tr("Working…"));
            }
            Some((text, true)) => {
                ui.colored_label(ui.visuals().error_fg_color, text);
            }
            Some((text, false)) => {
                ui.weak(text);
            }
            None => {}
        }
        loaded
    }

    fn start(&mut self, direction: Direction, path: PathBuf, layout: Layout) {
        self.last_path = Some(path.clone());
        let target = path.clone();
        let spawned = match direction {
            Direction::Open => Pending::spawn("layout-read", move || Layout::load(&target).map_err(|e| format!("{e:#}"))).map(Job::Read),
            Direction::Save => Pending::spawn("layout-write", move || layout.save(&target).map_err(|e| format!("{e:#}"))).map(Job::Write),
        };
        match spawned {
            Ok(job) => self.job = Some((path, job)),
            Err(e) => self.said = Some((e.to_string(), true)),
        }
    }

    fn poll(&mut self, ui: &Ui, view: &ViewContext) -> Option<Layout> {
        let (path, job) = self.job.as_ref()?;
        let shown = path.display().to_string();
        let mut loaded = None;
        let said = match job {
            Job::Read(pending) => match pending.poll() {
                Poll::Waiting => None,
                Poll::Ready(Ok(layout)) => {
                    loaded = Some(layout);
                    Some((fill(view.tr("Opened {path}"), &[("path", &shown)]), false))
                }
                Poll::Ready(Err(e)) => Some((e, true)),
                Poll::Lost => Some((format!("{shown}: the reading thread ended"), true)),
            },
            Job::Write(pending) => match pending.poll() {
                Poll::Waiting => None,
                Poll::Ready(Ok(())) => Some((fill(view.tr("Saved {path}"), &[("path", &shown)]), false)),
                Poll::Ready(Err(e)) => Some((e, true)),
                Poll::Lost => Some((format!("{shown}: the writing thread ended"), true)),
            },
        };
        match said {
            None => ui.ctx().request_repaint_after(std::time::Duration::from_millis(50)),
            Some(said) => {
                self.said = Some(said);
                self.job = None;
            }
        }
        loaded
    }
}
