//! The chart of one plot panel: its series grouped by unit (or enum label set), either one
//! chart per group sharing the time axis (stacked) or one chart with an axis per group. The
//! panel owns the view (which time range, whether it follows); this draws it and tells what the
//! user did to it (pan, zoom, double-click).

use std::collections::BTreeMap;

use egui::{Id, Ui};
use egui_plot::{AxisHints, HPlacement, Plot, PlotBounds, PlotMemory};

use super::axes::{UnitScale, quarter_grid, step_label, time_grid, time_label, value_grid, value_label};
use super::backfill::HistoryBackfill;
use super::draw::{Drawn, NearSample, add_items, prepare, series_color};
use super::hover::readout_ui;
use super::meta::SeriesMeta;
use crate::engine::series::gap_threshold_ms;
use crate::ui::ViewContext;

/// The series of one axis: a unit, or the label set of step series.
struct Group<'m> {
    key: String,
    /// (colour index in the panel, series).
    members: Vec<(usize, &'m SeriesMeta)>,
}

fn groups<'m>(series: &[(usize, &'m SeriesMeta)]) -> Vec<Group<'m>> {
    let mut groups: Vec<Group<'m>> = Vec::new();
    for (i, meta) in series {
        let key = meta.axis_group();
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push((*i, meta)),
            None => groups.push(Group { key, members: vec![(*i, meta)] }),
        }
    }
    groups
}

/// What the chart reports back to its panel after a frame.
#[derive(Debug, Default)]
pub struct ChartOutcome {
    /// The time range the user panned or zoomed to (the panel pauses on it).
    pub moved_x: Option<(f64, f64)>,
    /// Y ranges the user set, by axis group.
    pub moved_y: Vec<(String, (f64, f64))>,
    /// A double-click: back to following with automatic Y.
    pub reset: bool,
    /// (series colour index, runs drawn, points drawn), for the panel's counters and tests.
    pub drawn: Vec<(usize, usize, usize)>,
    /// Samples held in the drawn range across the series.
    pub in_range: usize,
    /// Stored samples the point history's runs stand for, across the series.
    pub stored: u64,
    /// Some series wanted the point history (its range reaches before their memory).
    pub history_wanted: bool,
}

/// How to draw: the time range, the user's Y ranges, and whether groups get a chart each.
pub struct ChartView<'a> {
    pub id: Id,
    pub x: (f64, f64),
    pub y_manual: &'a BTreeMap<String, (f64, f64)>,
    pub stacked: bool,
    pub with_gateway: bool,
}

/// Draws the series of one panel in the space left in `ui`, with what `backfill` has of the
/// point history before the series' memory.
pub fn chart_ui(ui: &mut Ui, view: &ViewContext, chart: &ChartView, series: &[(usize, &SeriesMeta)], backfill: &mut HistoryBackfill) -> ChartOutcome {
    let groups = groups(series);
    let stacked = chart.stacked && groups.len() > 1;
    let charts: Vec<Vec<&Group>> = if stacked { groups.iter().map(|g| vec![g]).collect() } else { vec![groups.iter().collect()] };
    let ids: Vec<Id> = (0..charts.len()).map(|i| chart.id.with(("chart", i))).collect();

    // The previous frame's transforms say how wide each chart is (columns) and where the
    // pointer's time is; the store is read once for the whole panel, then let go.
    let ppp = ui.ctx().pixels_per_point();
    let pointer = ui.input(|i| i.pointer.hover_pos());
    let mut columns = (ui.available_width() * ppp).max(1.0) as usize;
    let mut hover_ms = None;
    let mut ms_per_px = 0.0;
    for id in &ids {
        if let Some(memory) = PlotMemory::load(ui.ctx(), *id) {
            let transform = memory.transform();
            columns = (transform.frame().width() * ppp).max(1.0) as usize;
            ms_per_px = transform.dvalue_dpos()[0].abs();
            if let Some(pos) = pointer.filter(|p| transform.frame().contains(*p)) {
                hover_ms = Some(transform.value_from_position(pos).x.round() as i64);
            }
        }
    }
    let metas: Vec<&SeriesMeta> = series.iter().map(|(_, m)| *m).collect();
    let (from_ms, to_ms) = (chart.x.0.floor() as i64, chart.x.1.ceil() as i64);
    let mut prepared = {
        let store = view.state.series();
        prepare(&store, &metas, from_ms, to_ms, columns, hover_ms)
    };
    // After the store's lock is let go: the history adds what it has cached, reads run elsewhere.
    let mut history_wanted = false;
    for (meta, p) in metas.iter().zip(prepared.iter_mut()) {
        history_wanted |= backfill.fill(ui.ctx(), meta, p, from_ms, to_ms, columns);
    }
    let prepared_of = |meta: &SeriesMeta| series.iter().position(|(_, m)| std::ptr::eq(*m, meta)).map(|i| &prepared[i]);

    let mut outcome = ChartOutcome {
        drawn: series.iter().zip(&prepared).map(|((i, _), p)| (*i, p.lines.runs.len() + p.lines.history_runs.len(), p.lines.points)).collect(),
        in_range: prepared.iter().map(|p| p.in_range).sum(),
        stored: prepared.iter().map(|p| p.stored).sum(),
        history_wanted,
        ..ChartOutcome::default()
    };
    let gap = 4.0;
    let height_each = ((ui.available_height() - gap * (charts.len() as f32 - 1.0)) / charts.len() as f32).max(60.0);
    for (n, (groups, id)) in charts.iter().zip(&ids).enumerate() {
        let last = n + 1 == charts.len();
        let drawn: Vec<Vec<Drawn>> = groups
            .iter()
            .map(|g| {
                g.members
                    .iter()
                    .filter_map(|(i, meta)| {
                        let prepared = prepared_of(meta)?;
                        Some(Drawn { meta, prepared, color: series_color(*i), scale: None, name: meta.legend(chart.with_gateway) })
                    })
                    .collect()
            })
            .collect();
        one_chart(ui, chart, *id, groups, drawn, height_each, last, &mut outcome);
        if !last {
            ui.add_space(gap);
        }
    }
    // One time across the stacked charts: every series' sample at it.
    // A sample far from the pointer (in a gap, past the data) is not the value there.
    let close = |meta: &SeriesMeta, sample: &NearSample| {
        let reach = (12.0 * ms_per_px).max(meta.period_ms.map_or(0, gap_threshold_ms) as f64);
        hover_ms.is_some_and(|t| ((sample.t_ms - t) as f64).abs() <= reach)
    };
    let near: Vec<(usize, &SeriesMeta, NearSample)> =
        series.iter().zip(&prepared).filter_map(|((i, m), p)| p.near.filter(|s| close(m, s)).map(|s| (*i, *m, s))).collect();
    if let (Some(t), false) = (hover_ms, near.is_empty()) {
        readout_ui(ui, view, chart.id, t, &near, chart.with_gateway);
    }
    outcome
}

/// The automatic Y range of a group: its data (and a step series' labels) with a margin.
fn auto_y(group: &Group, drawn: &[Drawn]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for d in drawn {
        if let Some((a, b)) = d.prepared.y_range() {
            lo = lo.min(a);
            hi = hi.max(b);
        }
    }
    for (_, meta) in &group.members {
        for (v, _) in &meta.labels {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let steps = group.members.iter().all(|(_, m)| m.steps);
    let margin = if steps { 0.3 } else if hi - lo > 0.0 { (hi - lo) * 0.08 } else { lo.abs().max(1.0) * 0.05 };
    (lo - margin, hi + margin)
}

/// One egui_plot chart of `groups`.
#[allow(clippy::too_many_arguments)]
fn one_chart(ui: &mut Ui, chart: &ChartView, id: Id, groups: &[&Group], mut drawn: Vec<Vec<Drawn>>, height: f32, show_time: bool, outcome: &mut ChartOutcome) {
    let shared = groups.len() > 1;
    // Several units on one chart: each unit's range mapped to 0..1 with an axis of its own.
    let mut y = (0.0, 1.0);
    let mut axes: Vec<AxisHints> = Vec::new();
    for (gi, (group, drawn)) in groups.iter().zip(drawn.iter_mut()).enumerate() {
        let unit = group.members.first().map(|(_, m)| m.unit.clone()).unwrap_or_default();
        let labels = group.members.iter().find(|(_, m)| m.steps && !m.labels.is_empty()).map(|(_, m)| m.labels.clone());
        let range = chart.y_manual.get(&group.key).copied().filter(|_| !shared).unwrap_or_else(|| auto_y(group, drawn));
        if shared {
            let scale = UnitScale::around(range.0, range.1);
            drawn.iter_mut().for_each(|d| d.scale = Some(scale));
            let placement = if gi == 0 { HPlacement::Left } else { HPlacement::Right };
            let hints = AxisHints::new_y().label(unit).placement(placement);
            axes.push(match labels {
                Some(labels) => hints.formatter(move |m, _| step_label(&labels, scale.from_plot(m.value))),
                None => hints.formatter(move |m, _| value_label(scale.from_plot(m.value))),
            });
        } else {
            y = range;
            let hints = AxisHints::new_y().label(unit);
            axes.push(match labels {
                Some(labels) => hints.formatter(move |m, _| step_label(&labels, m.value)),
                None => hints.formatter(|m, _| value_label(m.value)),
            });
        }
    }
    if shared {
        y = (-0.05, 1.05);
    }
    let mut plot = Plot::new(id)
        .id(id)
        .height(height)
        .show_x(true)
        .show_y(false)
        .link_cursor(chart.id, [true, false])
        .x_grid_spacer(time_grid)
        .custom_x_axes(vec![AxisHints::new_x().formatter(|m, _| time_label(m))])
        .custom_y_axes(axes)
        .show_axes([show_time, true])
        .allow_double_click_reset(false);
    if shared {
        // The units' scales are recomputed each frame: only time moves.
        plot = plot.y_grid_spacer(quarter_grid).allow_drag([true, false]).allow_zoom([true, false]).allow_scroll([true, false]);
    } else {
        plot = plot.y_grid_spacer(value_grid);
    }
    let x = chart.x;
    let response = plot.show(ui, |plot_ui| {
        plot_ui.set_plot_bounds(PlotBounds::from_min_max([x.0, y.0], [x.1, y.1]));
        for drawn in &drawn {
            add_items(plot_ui, drawn);
        }
    });
    let bounds = response.transform.bounds();
    let tolerance = |a: f64, b: f64, span: f64| (a - b).abs() > span.abs().max(1e-9) * 1e-6;
    let (x0, x1) = (bounds.min()[0], bounds.max()[0]);
    if tolerance(x0, x.0, x.1 - x.0) || tolerance(x1, x.1, x.1 - x.0) {
        outcome.moved_x = Some((x0, x1));
    }
    let (y0, y1) = (bounds.min()[1], bounds.max()[1]);
    if !shared && let Some(group) = groups.first() && (tolerance(y0, y.0, y.1 - y.0) || tolerance(y1, y.1, y.1 - y.0)) {
        outcome.moved_y.push((group.key.clone(), (y0, y1)));
    }
    if response.response.double_clicked() {
        outcome.reset = true;
    }
}
