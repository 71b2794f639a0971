//! One frame of one chart: the series decimated to the chart's pixel columns under the series
//! store's read lock (copied out, then the lock is let go), then drawn: live runs solid, history
//! runs (from `history/report` batches, and those the point history adds: `backfill.rs`) dashed
//! and lighter, steps for digital and enum points, the model's alarm thresholds as
//! horizontal lines.

use egui::Color32;
use egui_plot::{HLine, Line, LineStyle, PlotPoints, PlotUi};

use super::axes::UnitScale;
use super::meta::SeriesMeta;
use crate::engine::series::{Decimated, SeriesStore, decimate, decimate_steps, gap_threshold_ms, hold_last};
use crate::protocol::time::now_ms;

/// The sample nearest the pointer's time, for the hover readout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearSample {
    pub t_ms: i64,
    pub value: f64,
    pub quality: u8,
    pub history: bool,
}

/// What one series gives one frame, copied out of the store.
#[derive(Debug)]
pub struct Prepared {
    pub lines: Decimated,
    pub near: Option<NearSample>,
    /// Samples held in the drawn range, for "no data" hints.
    pub in_range: usize,
    /// The series' oldest sample in memory; None: memory holds none. Before it, the point
    /// history fills in (`backfill.rs`).
    pub first_ms: Option<i64>,
    /// The gap that breaks its runs, when known (model period or sampling interval).
    pub gap_ms: Option<i64>,
    /// Stored samples the point history's runs added to `lines` stand for.
    pub stored: u64,
}

impl Prepared {
    /// A series memory holds nothing of.
    pub fn empty() -> Prepared {
        Prepared { lines: Decimated::default(), near: None, in_range: 0, first_ms: None, gap_ms: None, stored: 0 }
    }

    /// Lowest and highest finite value drawn.
    pub fn y_range(&self) -> Option<(f64, f64)> {
        let ys = self.lines.runs.iter().chain(&self.lines.history_runs).flatten().map(|p| p[1]).filter(|y| y.is_finite());
        ys.fold(None, |acc, y| Some(acc.map_or((y, y), |(lo, hi): (f64, f64)| (lo.min(y), hi.max(y)))))
    }
}

/// Decimates `series` over `[from_ms, to_ms]` into `columns` columns, and finds the sample
/// nearest `hover_ms`. Holds `store` only for this: the caller passes the guard and drops it
/// right after.
pub fn prepare(store: &SeriesStore, series: &[&SeriesMeta], from_ms: i64, to_ms: i64, columns: usize, hover_ms: Option<i64>) -> Vec<Prepared> {
    series
        .iter()
        .map(|meta| {
            let Some(s) = store.get(&meta.key) else { return Prepared::empty() };
            let window = s.window(from_ms, to_ms);
            let held = holds_state(meta);
            let gap_ms = if held { None } else { meta.period_ms.or_else(|| s.typical_interval_ms()).map(gap_threshold_ms) };
            let mut lines = if meta.steps { decimate_steps(&s.all(), from_ms, to_ms, columns, gap_ms) } else { decimate(&s.all(), from_ms, to_ms, columns, gap_ms) };
            if held {
                hold_last(&mut lines, to_ms.min(now_ms()));
            }
            // A sample further from the pointer than a gap is not "at" that time: none is said.
            let near = hover_ms
                .and_then(|t| window.nearest(t).filter(|i| gap_ms.is_none_or(|gap| (window.times[*i] - t).abs() <= gap)))
                .map(|i| NearSample { t_ms: window.times[i], value: window.values[i], quality: window.quality[i], history: window.history[i] });
            Prepared { lines, near, in_range: window.len(), first_ms: s.first_ms(), gap_ms, stored: 0 }
        })
        .collect()
}

/// A state reported on change (a step series without a period in the model) holds until the
/// next change: no gap breaks it, and its last value runs on to the window's end.
pub fn holds_state(meta: &SeriesMeta) -> bool {
    meta.steps && meta.period_ms.is_none()
}

/// The colour of the `i`th series of a plot: distinct on dark and light backgrounds alike.
pub fn series_color(i: usize) -> Color32 {
    const PALETTE: [Color32; 10] = [
        Color32::from_rgb(31, 119, 180),
        Color32::from_rgb(255, 127, 14),
        Color32::from_rgb(44, 160, 44),
        Color32::from_rgb(214, 39, 40),
        Color32::from_rgb(148, 103, 189),
        Color32::from_rgb(140, 86, 75),
        Color32::from_rgb(227, 119, 194),
        Color32::from_rgb(127, 127, 127),
        Color32::from_rgb(188, 189, 34),
        Color32::from_rgb(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

/// History is the same colour, fainter.
fn history_color(color: Color32) -> Color32 {
    color.gamma_multiply(0.55)
}

/// One series to draw on a chart.
pub struct Drawn<'p> {
    pub meta: &'p SeriesMeta,
    pub prepared: &'p Prepared,
    pub color: Color32,
    /// Its unit's place on a chart shared by several units; None: values as they are.
    pub scale: Option<UnitScale>,
    /// The legend's text (also the name every run of it carries).
    pub name: String,
}

/// Adds the runs and the alarm lines of `drawn` to the chart.
pub fn add_items(plot_ui: &mut PlotUi<'_>, drawn: &[Drawn<'_>]) {
    for d in drawn {
        let map = |run: &Vec<[f64; 2]>| -> Vec<[f64; 2]> {
            match d.scale {
                Some(scale) => run.iter().map(|p| [p[0], scale.to_plot(p[1])]).collect(),
                None => run.clone(),
            }
        };
        for run in &d.prepared.lines.runs {
            plot_ui.line(Line::new(d.name.clone(), PlotPoints::new(map(run))).color(d.color).width(1.6).allow_hover(false));
        }
        for run in &d.prepared.lines.history_runs {
            let line = Line::new(d.name.clone(), PlotPoints::new(map(run))).color(history_color(d.color)).width(1.6).style(LineStyle::dashed_dense()).allow_hover(false);
            plot_ui.line(line);
        }
        for threshold in [d.meta.alarm_hi, d.meta.alarm_lo].into_iter().flatten() {
            let y = d.scale.map_or(threshold, |s| s.to_plot(threshold));
            // No name: thresholds are not series and stay out of the legend.
            plot_ui.hline(HLine::new("", y).color(d.color.gamma_multiply(0.7)).width(1.0).style(LineStyle::dotted_loose()).allow_hover(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawn_range_skips_what_cannot_be_drawn() {
        let lines = Decimated { runs: vec![vec![[0.0, 2.0], [1.0, f64::NAN]]], history_runs: vec![vec![[2.0, -1.0]]], points: 3 };
        let p = Prepared { lines, in_range: 3, ..Prepared::empty() };
        assert_eq!(p.y_range(), Some((-1.0, 2.0)));
        assert_eq!(Prepared::empty().y_range(), None);
    }
}
