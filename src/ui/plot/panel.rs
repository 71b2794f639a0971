//! One plot panel: its title, time window, series and view (following live or paused on a range
//! the user panned or zoomed to), the toolbar and series list above the chart, and its exports.

use std::collections::{BTreeMap, BTreeSet};

use egui::{Button, RichText, Ui};

use super::backfill::HistoryBackfill;
use super::chart::{ChartView, chart_ui};
use super::draw::series_color;
use super::export::{ExportKind, ExportRow};
use super::meta::{SeriesMeta, describe};
use crate::engine::series::{PlotLayout, PlotWindow, SeriesKey};
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

/// Series one panel holds at most (as the layout file allows).
pub const MAX_SERIES: usize = 64;

/// What the panel asks of the tab after a frame.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PanelOutcome {
    pub close: bool,
    /// Title, window, series or stacking changed: the layout is saved again.
    pub changed: bool,
    /// The user worked in it: it becomes the plot new series go to.
    pub used: bool,
}

/// Counters of the last frame, for the status line and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrawnStats {
    /// Per series (in panel order, hidden ones left out): (key, runs, points handed to egui_plot).
    pub series: Vec<(SeriesKey, usize, usize)>,
    /// Samples in the drawn range across the series.
    pub in_range: usize,
    /// Stored samples the point history's runs stood for (before the series' memory).
    pub from_history: u64,
    /// The range reached before some series' memory: the point history was asked.
    pub history_wanted: bool,
}

/// One panel of the Plots tab.
#[derive(Debug)]
pub struct PlotPanel {
    /// Stable across reordering and renaming: the egui id of its charts.
    pub(super) uid: u64,
    pub title: String,
    pub window: PlotWindow,
    pub series: Vec<SeriesKey>,
    pub stacked: bool,
    hidden: BTreeSet<SeriesKey>,
    /// None: follows live; Some: paused on this time range (epoch ms).
    paused: Option<(f64, f64)>,
    /// Y ranges the user panned or zoomed to, by axis group; the rest is automatic.
    y_manual: BTreeMap<String, (f64, f64)>,
    renaming: Option<String>,
    pub(super) export: ExportRow,
    /// The time range drawn last frame (epoch ms), for the CSV export.
    visible: Option<(i64, i64)>,
    /// Where the panel was drawn last frame (the PNG's crop).
    rect: Option<egui::Rect>,
    stats: DrawnStats,
}

impl PlotPanel {
    pub fn new(uid: u64, layout: &PlotLayout) -> PlotPanel {
        let mut series: Vec<SeriesKey> = Vec::new();
        for key in &layout.series {
            if !series.contains(key) && series.len() < MAX_SERIES {
                series.push(key.clone());
            }
        }
        PlotPanel {
            uid,
            title: layout.title.clone(),
            window: layout.window,
            series,
            stacked: layout.stacked,
            hidden: BTreeSet::new(),
            paused: None,
            y_manual: BTreeMap::new(),
            renaming: None,
            export: ExportRow::default(),
            visible: None,
            rect: None,
            stats: DrawnStats::default(),
        }
    }

    pub fn layout(&self) -> PlotLayout {
        PlotLayout { title: self.title.clone(), window: self.window, series: self.series.clone(), stacked: self.stacked }
    }

    /// Adds `key` unless it is there already or the panel is full; true when added.
    pub fn add(&mut self, key: SeriesKey) -> bool {
        if self.series.contains(&key) || self.series.len() >= MAX_SERIES {
            return false;
        }
        self.series.push(key);
        true
    }

    pub fn remove(&mut self, key: &SeriesKey) {
        self.series.retain(|k| k != key);
        self.hidden.remove(key);
    }

    /// True while it follows live data (not paused on a range).
    pub fn follows(&self) -> bool {
        self.paused.is_none()
    }

    /// The time range drawn in the last frame, epoch ms.
    pub fn visible_range(&self) -> Option<(i64, i64)> {
        self.visible
    }

    pub fn stats(&self) -> &DrawnStats {
        &self.stats
    }

    /// Stops following and shows [from_ms, to_ms], as a pan or zoom does.
    pub fn pause_on(&mut self, from_ms: i64, to_ms: i64) {
        self.paused = Some((from_ms as f64, to_ms.max(from_ms + 1) as f64));
    }

    /// Back to following live data with automatic Y.
    pub fn reset_view(&mut self) {
        self.paused = None;
        self.y_manual.clear();
    }

    /// The range to draw: the window up to now (or the newest sample when the gateway's clock
    /// runs ahead), everything for "All", or where the user paused.
    fn time_range(&self, view: &ViewContext) -> (f64, f64) {
        if let Some(range) = self.paused {
            return range;
        }
        let (mut first, mut last) = (None::<i64>, None::<i64>);
        {
            let store = view.state.series();
            for key in &self.series {
                if let Some(s) = store.get(key) {
                    first = match (first, s.first_ms()) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    last = match (last, s.last_ms()) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
        }
        // A replay's data is as old as its recording: following means following the replay.
        let end = match crate::ui::replay::replay_clock(view) {
            Some(at) => at,
            None => last.map_or(view.now_ms, |l| l.max(view.now_ms)),
        };
        let start = match self.window.span_ms() {
            Some(span) => end - span,
            None => first.unwrap_or(end - 60_000).min(end - 1_000),
        };
        (start as f64, end as f64)
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, view: &ViewContext, outcome: &mut PanelOutcome) {
        ui.horizontal_wrapped(|ui| {
            match &mut self.renaming {
                Some(text) => {
                    let field = ui.add(egui::TextEdit::singleline(text).desired_width(180.0)).accessible_name(view.tr("Plot title"));
                    let done = ui.button(view.tr("OK")).clicked() || (field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
                    if done {
                        let title = text.trim().to_owned();
                        if !title.is_empty() && title != self.title {
                            self.title = title;
                            outcome.changed = true;
                        }
                        self.renaming = None;
                    } else if ui.button(view.tr("Cancel")).clicked() {
                        self.renaming = None;
                    }
                }
                None => {
                    ui.strong(&self.title);
                    let rename = view.tr("Rename plot");
                    if ui.add(Button::new("✏").small().frame(false)).on_hover_text(rename).accessible_name(rename).clicked() {
                        self.renaming = Some(self.title.clone());
                    }
                }
            }
            // Beside the title, so it never wraps onto a line of its own.
            let close = view.tr("Close plot");
            if ui.add(Button::new("×").frame(false)).on_hover_text(close).accessible_name(close).clicked() {
                outcome.close = true;
            }
            ui.separator();
            let id = egui::Id::NULL.with(("plot_window", self.uid));
            let combo = egui::ComboBox::from_id_salt(id).selected_text(view.tr(self.window.label())).width(70.0).show_ui(ui, |ui| {
                for window in PlotWindow::ALL {
                    if ui.selectable_label(self.window == window, view.tr(window.label())).clicked() && self.window != window {
                        self.window = window;
                        self.paused = None;
                        outcome.changed = true;
                    }
                }
            });
            combo.response.on_hover_text(view.tr("Time window")).accessible_name(view.tr("Time window"));
            if self.paused.is_some() {
                if ui.button(view.tr("▶ Follow")).on_hover_text(view.tr("Follow live data again")).clicked() {
                    self.paused = None;
                }
            } else if ui.button(view.tr("⏸ Pause")).on_hover_text(view.tr("Stop following: panning or zooming pauses too")).clicked() {
                self.paused = self.visible.map(|(a, b)| (a as f64, b as f64));
            }
            if ui.button(view.tr("Reset")).on_hover_text(view.tr("Follow live data with automatic Y (or double-click the chart)")).clicked() {
                self.reset_view();
            }
            if ui.checkbox(&mut self.stacked, view.tr("One chart per unit")).changed() {
                self.y_manual.clear();
                outcome.changed = true;
            }
            ui.separator();
            if ui.button(view.tr("Export CSV…")).on_hover_text(view.tr("The visible range of the visible series")).clicked() {
                self.export.open(ExportKind::Csv, &self.title);
            }
            if ui.button(view.tr("Save PNG…")).on_hover_text(view.tr("A picture of this plot panel")).clicked() {
                self.export.open(ExportKind::Png, &self.title);
            }
        });
    }

    /// The series list: colour, name and unit; a click hides or shows one, × removes it.
    fn series_list_ui(&mut self, ui: &mut Ui, view: &ViewContext, metas: &[SeriesMeta], with_gateway: bool, outcome: &mut PanelOutcome) {
        if metas.is_empty() {
            ui.weak(view.tr("No series yet: add points from a device page or a numeric field from the topic explorer."));
            return;
        }
        let mut remove = None;
        ui.horizontal_wrapped(|ui| {
            for (i, meta) in metas.iter().enumerate() {
                let shown = !self.hidden.contains(&meta.key);
                let color = if shown { series_color(i) } else { ui.visuals().weak_text_color() };
                // Not drawn "selected": the selection fill would hide the series' colour.
                let text = RichText::new(format!("━ {}", meta.legend(with_gateway))).color(color);
                let text = if shown { text } else { text.strikethrough() };
                let chip = ui.selectable_label(false, text).on_hover_text(format!("{}\n{}", meta.key.label(), view.tr("Click to hide or show")));
                if chip.clicked() {
                    if shown {
                        self.hidden.insert(meta.key.clone());
                    } else {
                        self.hidden.remove(&meta.key);
                    }
                }
                let name = fill(view.tr("Remove {name}"), &[("name", &meta.legend(with_gateway))]);
                let x = ui.add(Button::new("×").small().frame(false)).on_hover_text(&name).accessible_name(&name);
                if x.clicked() {
                    remove = Some(meta.key.clone());
                }
                chip.context_menu(|ui| {
                    if ui.button(view.tr("Remove from plot")).clicked() {
                        remove = Some(meta.key.clone());
                        ui.close();
                    }
                });
                ui.add_space(6.0);
            }
        });
        if let Some(key) = remove {
            self.remove(&key);
            outcome.changed = true;
        }
    }

    /// Draws the panel in `ui` (its height is what the tab gave it), before the series' memory
    /// what `backfill` has of the point history.
    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext, backfill: &mut HistoryBackfill) -> PanelOutcome {
        let mut outcome = PanelOutcome::default();
        let panel_rect = ui.max_rect();
        let top = ui.cursor().min;
        self.toolbar_ui(ui, view, &mut outcome);
        let metas = describe(view, &self.series);
        let gateways: BTreeSet<_> = self.series.iter().filter_map(SeriesKey::gateway).collect();
        let with_gateway = gateways.len() > 1;
        self.series_list_ui(ui, view, &metas, with_gateway, &mut outcome);
        let metas = if outcome.changed { describe(view, &self.series) } else { metas };
        self.export.ui(ui, view, &metas, &self.hidden, self.visible, self.rect);

        let x = self.time_range(view);
        self.visible = Some((x.0.floor() as i64, x.1.ceil() as i64));
        let shown: Vec<(usize, &SeriesMeta)> = metas.iter().enumerate().filter(|(_, m)| !self.hidden.contains(&m.key)).collect();
        let chart = ChartView { id: egui::Id::NULL.with(("plot_panel", self.uid)), x, y_manual: &self.y_manual, stacked: self.stacked, with_gateway };
        // Said once, small, above the chart; the reads rest a few seconds after a failure.
        if let Some(problem) = backfill.problem().filter(|_| self.stats.history_wanted) {
            let text = fill(view.tr("Stored history not shown: {error}"), &[("error", problem)]);
            ui.label(RichText::new(text).small().color(ui.visuals().warn_fg_color));
        }
        let drawn = chart_ui(ui, view, &chart, &shown, backfill);
        self.stats = DrawnStats {
            series: drawn.drawn.iter().map(|(i, runs, points)| (metas[*i].key.clone(), *runs, *points)).collect(),
            in_range: drawn.in_range,
            from_history: drawn.stored,
            history_wanted: drawn.history_wanted,
        };
        if let Some(range) = drawn.moved_x {
            self.paused = Some(range);
            outcome.used = true;
        }
        for (group, range) in drawn.moved_y {
            self.y_manual.insert(group, range);
            outcome.used = true;
        }
        if drawn.reset {
            self.reset_view();
        }
        if ui.rect_contains_pointer(panel_rect) && ui.input(|i| i.pointer.any_click()) {
            outcome.used = true;
        }
        self.rect = Some(egui::Rect::from_min_max(top, ui.min_rect().max).expand(4.0));
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panel_holds_each_series_once() {
        let key = SeriesKey::point("PK", "D", "s", "Ua");
        let layout = PlotLayout { title: "t".into(), window: PlotWindow::Min5, series: vec![key.clone(), key.clone()], stacked: false };
        let mut panel = PlotPanel::new(1, &layout);
        assert_eq!(panel.series.len(), 1);
        assert!(!panel.add(key.clone()));
        assert!(panel.add(SeriesKey::point("PK", "D", "s", "Ub")));
        panel.remove(&key);
        assert_eq!(panel.layout().series, vec![SeriesKey::point("PK", "D", "s", "Ub")]);
    }
}
