//! The Plots tab: several plot panels stacked, each with its series, time window, follow/pause,
//! zoom and exports; the whole set is a [`Layout`] (kept in the settings, saved to and opened
//! from layout files). The series live in the engine's store; a panel decimates what it shows
//! to its pixel width every frame; before a series' memory the point history fills in
//! (`backfill.rs`).

pub mod axes;
pub mod backfill;
pub mod chart;
pub mod draw;
pub mod export;
pub mod hover;
pub mod layout_io;
pub mod meta;
pub mod panel;

use egui::{Frame, ScrollArea, Ui};

pub use panel::{DrawnStats, PlotPanel};

use crate::engine::notice::NoticeText;
use crate::engine::series::{Layout, PlotLayout, PlotWindow, SeriesKey};
use crate::ui::ViewContext;
use crate::ui::widgets::fill;
use backfill::HistoryBackfill;
use layout_io::LayoutIo;

/// The layout shipped for a first start: the demo gateway's phase voltages, power and state of
/// charge.
pub const DEMO_LAYOUT: &str = include_str!("../../../assets/layouts/demo.json");
/// Plots the tab holds at most (as a layout file may).
pub const MAX_PLOTS: usize = 64;
/// A panel is never squeezed below this; more panels than fit scroll.
const MIN_PANEL_HEIGHT: f32 = 260.0;

/// The demo layout (an empty one should the bundled file ever not parse: a test checks it does).
pub fn demo_layout() -> Layout {
    Layout::from_json(DEMO_LAYOUT).unwrap_or(Layout { version: 1, plots: Vec::new() })
}

/// The plots to start with: `--layout FILE` when it reads, else the saved ones, else the demo
/// layout; with the notice to show when the file would not read.
pub fn startup_layout(saved: Option<&Layout>, file: Option<&std::path::Path>) -> (Layout, Option<NoticeText>) {
    let fallback = || saved.cloned().unwrap_or_else(demo_layout);
    match file.map(Layout::load) {
        None => (fallback(), None),
        Some(Ok(layout)) => (layout, None),
        Some(Err(e)) => (fallback(), Some(NoticeText::new("--layout: {error}", vec![("error", format!("{e:#}").into())]))),
    }
}

/// The Plots tab's state.
#[derive(Debug, Default)]
pub struct PlotsTab {
    panels: Vec<PlotPanel>,
    next_uid: u64,
    /// Where a series goes when no plot is named.
    last_used: Option<usize>,
    changed: bool,
    layout_io: LayoutIo,
    /// The point history's runs, shared by every panel.
    backfill: HistoryBackfill,
}

impl PlotsTab {
    pub fn new(layout: &Layout) -> PlotsTab {
        let mut tab = PlotsTab::default();
        tab.set_layout(layout);
        tab.changed = false;
        tab
    }

    /// Replaces every panel with those of `layout`.
    pub fn set_layout(&mut self, layout: &Layout) {
        self.panels.clear();
        for plot in layout.plots.iter().take(MAX_PLOTS) {
            let uid = self.uid();
            self.panels.push(PlotPanel::new(uid, plot));
        }
        self.last_used = None;
        self.changed = true;
    }

    pub fn layout(&self) -> Layout {
        Layout { version: 1, plots: self.panels.iter().map(PlotPanel::layout).collect() }
    }

    fn uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    pub fn panels(&self) -> &[PlotPanel] {
        &self.panels
    }

    pub fn panels_mut(&mut self) -> &mut [PlotPanel] {
        &mut self.panels
    }

    /// Shows `text` as an error beside the layout buttons (a `--layout` file that did not read).
    pub fn say_problem(&mut self, text: String) {
        self.layout_io.say_problem(text);
    }

    /// True once after the layout changed (series, plots, titles, windows): to be persisted.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Adds an empty plot at the end; its index, or None when the tab is full.
    pub fn new_plot(&mut self, lang_title: &str) -> Option<usize> {
        if self.panels.len() >= MAX_PLOTS {
            return None;
        }
        let uid = self.uid();
        let title = format!("{lang_title} {}", self.panels.len() + 1);
        self.panels.push(PlotPanel::new(uid, &PlotLayout { title, window: PlotWindow::Min5, series: Vec::new(), stacked: false }));
        self.changed = true;
        Some(self.panels.len() - 1)
    }

    /// Adds `key` to plot `plot` (see `UiCommand::PlotSeries`); the index of the plot it is in,
    /// or None when no plot can take it (the tab or the plot is full).
    pub fn add_series(&mut self, key: SeriesKey, plot: Option<usize>, new_title: &str) -> Option<usize> {
        let target = match plot.or(self.last_used) {
            Some(i) if i < self.panels.len() => i,
            _ => self.new_plot(new_title)?,
        };
        let panel = &mut self.panels[target];
        if panel.series.contains(&key) {
            self.last_used = Some(target);
            return Some(target);
        }
        if !panel.add(key) {
            return None;
        }
        self.last_used = Some(target);
        self.changed = true;
        Some(target)
    }

    /// The path series of every plot: the engine tracks them.
    pub fn path_series(&self) -> Vec<(String, String)> {
        let mut paths: Vec<(String, String)> = self
            .panels
            .iter()
            .flat_map(|p| &p.series)
            .filter_map(|k| match k {
                SeriesKey::Path { topic, pointer } => Some((topic.clone(), pointer.clone())),
                _ => None,
            })
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// The point history's reads, for tests and the status of the tab.
    pub fn backfill(&self) -> &HistoryBackfill {
        &self.backfill
    }

    /// Draws the tab: its toolbar, the layout row, then the panels sharing the height.
    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext) {
        let history = view.state.history().map(|(path, _)| path);
        self.backfill.begin_frame(ui.ctx(), history.as_deref());
        ui.horizontal(|ui| {
            if ui.add_enabled(self.panels.len() < MAX_PLOTS, egui::Button::new(view.tr("+ New plot"))).clicked() {
                self.last_used = self.new_plot(view.tr("Plot"));
            }
            ui.separator();
            self.layout_io.buttons_ui(ui, view);
            ui.separator();
            let samples: usize = self.panels.iter().map(|p| p.stats().in_range).sum();
            let stored: u64 = self.panels.iter().map(|p| p.stats().from_history).sum();
            let store = view.state.series().stats();
            let text = if stored > 0 {
                view.tr("{plots} plots · {shown} samples in view + {stored} from history · {series} series kept")
            } else {
                view.tr("{plots} plots · {shown} samples in view · {series} series kept")
            };
            ui.weak(fill(text, &[
                ("plots", &self.panels.len().to_string()),
                ("shown", &samples.to_string()),
                ("stored", &stored.to_string()),
                ("series", &store.series.to_string()),
            ]));
        });
        let panels = &self.panels;
        if let Some(layout) = self.layout_io.row_ui(ui, view, || Layout { version: 1, plots: panels.iter().map(PlotPanel::layout).collect() }) {
            self.set_layout(&layout);
        }
        ui.separator();
        if self.panels.is_empty() {
            ui.weak(view.tr("No plots yet: + New plot adds one, and the 📈 buttons of a device page add a series to the last plot used."));
            return;
        }
        let gap = 8.0;
        let n = self.panels.len() as f32;
        let each = ((ui.available_height() - gap * (n - 1.0)) / n).max(MIN_PANEL_HEIGHT);
        let mut close = None;
        let count = self.panels.len();
        let backfill = &mut self.backfill;
        ScrollArea::vertical().id_salt("plots_scroll").auto_shrink([false, false]).show(ui, |ui| {
            for (i, panel) in self.panels.iter_mut().enumerate() {
                // A little short of the full width: the frame's right edge stays clear of the
                // scroll bar.
                let width = ui.available_width() - 4.0;
                let outcome = ui
                    .allocate_ui(egui::vec2(width, each), |ui| {
                        Frame::group(ui.style())
                            .inner_margin(6.0)
                            .show(ui, |ui| {
                                ui.set_min_size(egui::vec2(width - 14.0, each - 14.0));
                                ui.set_max_height(each - 14.0);
                                panel.ui(ui, view, backfill)
                            })
                            .inner
                    })
                    .inner;
                if outcome.close {
                    close = Some(i);
                }
                if outcome.used {
                    self.last_used = Some(i);
                }
                self.changed |= outcome.changed;
                if i + 1 < count {
                    ui.add_space(gap);
                }
            }
        });
        if let Some(i) = close {
            self.panels.remove(i);
            self.last_used = match self.last_used {
                Some(j) if j == i => None,
                Some(j) if j > i => Some(j - 1),
                other => other,
            };
            self.changed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_layout_parses_and_plots_the_demo_gateway() {
        let layout = Layout::from_json(DEMO_LAYOUT).expect("demo layout");
        assert!(!layout.plots.is_empty());
        let keys: Vec<String> = layout.plots.iter().flat_map(|p| &p.series).map(SeriesKey::label).collect();
        for pid in ["meter-1/Ua", "meter-1/Ub", "meter-1/Uc", "pcs-1/SOC"] {
            assert!(keys.iter().any(|k| k.ends_with(pid) && k.starts_with("PK-GW-01/GW-DEMO-01/")), "{pid} missing from {keys:?}");
        }
    }

    #[test]
    fn a_series_goes_to_the_plot_named_or_the_last_used_or_a_new_one() {
        let mut tab = PlotsTab::new(&Layout { version: 1, plots: Vec::new() });
        let a = SeriesKey::point("PK", "D", "s", "a");
        let b = SeriesKey::point("PK", "D", "s", "b");
        assert_eq!(tab.add_series(a.clone(), None, "Plot"), Some(0));
        assert_eq!(tab.add_series(b.clone(), None, "Plot"), Some(0));
        assert_eq!(tab.add_series(a.clone(), Some(usize::MAX), "Plot"), Some(1));
        assert_eq!(tab.add_series(b, Some(0), "Plot"), Some(0));
        assert_eq!(tab.panels()[0].series.len(), 2);
        assert_eq!(tab.panels()[1].series, vec![a]);
        assert!(tab.take_changed());
        assert!(!tab.take_changed());
    }
}
