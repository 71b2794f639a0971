//! The Meters tab's chart of a queried period: the consumption per interval of each register
//! ([`consumption`]) as bars, one colour per register with a legend, registers sharing a unit
//! side by side in one small chart and each other unit in a chart of its own, on a time axis in
//! the laptop's time. Counter resets and intervals spanning missing readings are said under it.

use std::collections::BTreeMap;

use egui_plot::{Bar, BarChart, Legend, Plot};

use super::meter_consumption::{Consumption, CounterReset, Interval, ReadingRow, RegisterConsumption, consumption};
use crate::engine::GatewayKey;
use crate::ui::ViewContext;
use crate::ui::format::{format_local, format_number, format_time_of_day};
use crate::ui::plot::axes::{time_grid, time_label};
use crate::ui::widgets::fill;

/// The height of one unit's chart, points: small, so several fit beside the table's place.
const CHART_HEIGHT: f32 = 200.0;
/// The share of its slot a bar fills, so neighbours stay apart.
const BAR_FILL: f64 = 0.85;
/// Room above the tallest bar, as a multiple of its height: a bar's three-line hover text is
/// drawn upwards from its top and would be cut off by the chart's edge.
const HOVER_HEADROOM: f64 = 1.45;

/// The chart of `rows` (a `meter/get` reply's readings), or a message saying why there is none.
pub fn chart_ui(ui: &mut egui::Ui, ctx: &ViewContext, gateway: &GatewayKey, rows: &[ReadingRow]) {
    if rows.is_empty() {
        ui.weak(ctx.tr("No reading in this period: nothing to chart."));
        return;
    }
    let period = consumption(rows);
    if period.intervals() == 0 && period.resets.is_empty() {
        ui.weak(ctx.tr("One reading per register in this period: a consumption needs two consecutive readings."));
        return;
    }
    let mut by_unit: BTreeMap<&str, Vec<&RegisterConsumption>> = BTreeMap::new();
    for register in period.registers.iter().filter(|r| !r.intervals.is_empty()) {
        by_unit.entry(register.unit.as_str()).or_default().push(register);
    }
    for (unit, registers) in &by_unit {
        unit_chart_ui(ui, ctx, gateway, unit, registers);
    }
    notes_ui(ui, ctx, &period, by_unit.len());
}

/// One unit's registers, their bars side by side in each interval.
fn unit_chart_ui(ui: &mut egui::Ui, ctx: &ViewContext, gateway: &GatewayKey, unit: &str, registers: &[&RegisterConsumption]) {
    let title = if unit.is_empty() { ctx.tr("Consumption per interval").to_owned() } else { fill(ctx.tr("Consumption per interval [{unit}]"), &[("unit", unit)]) };
    ui.strong(title);
    let tallest = registers.iter().flat_map(|r| &r.intervals).map(|i| i.consumption).fold(0.0, f64::max);
    let charts: Vec<BarChart> = registers.iter().enumerate().map(|(slot, register)| register_bars(ctx, register, slot, registers.len())).collect();
    Plot::new(("meter_chart", gateway, unit))
        .height(CHART_HEIGHT)
        .legend(Legend::default())
        .x_grid_spacer(time_grid)
        .x_axis_formatter(|mark, _| time_label(mark))
        .x_axis_label(ctx.tr("Interval start (local time)"))
        .y_axis_label(unit.to_owned())
        // The tab scrolls: the wheel moves the page, not the chart.
        .allow_scroll(false)
        .include_y(0.0)
        .include_y(tallest * HOVER_HEADROOM)
        .show(ui, |plot| {
            for chart in charts {
                plot.bar_chart(chart);
            }
        });
}

/// The bars of one register: bar `slot` of `slots` in each interval, from its start onwards.
fn register_bars(ctx: &ViewContext, register: &RegisterConsumption, slot: usize, slots: usize) -> BarChart {
    let bars = register
        .intervals
        .iter()
        .map(|interval| {
            let width = (interval.end_ms - interval.start_ms) as f64 / slots as f64;
            let x = interval.start_ms as f64 + width * (slot as f64 + 0.5);
            Bar::new(x, interval.consumption).width(width * BAR_FILL).name(hover_text(ctx, register, interval))
        })
        .collect();
    // The hover shows the bar's own text (interval, register, consumption, unit).
    BarChart::new(register.legend(), bars).element_formatter(Box::new(|bar, _| bar.name.clone()))
}

/// `2026-12-03 14:00:00 +08:00 – 14:15:00`, then the register and its consumption.
fn hover_text(ctx: &ViewContext, register: &RegisterConsumption, interval: &Interval) -> String {
    let amount = if register.unit.is_empty() { format_number(interval.consumption) } else { format!("{} {}", format_number(interval.consumption), register.unit) };
    let gap = if interval.spans_gap { format!("\n{}", ctx.tr("readings missing inside this interval")) } else { String::new() };
    format!("{}\n{}\n{amount}{gap}", interval_text(interval.start_ms, interval.end_ms), register.legend())
}

/// An interval in the laptop's time: the end without its date when it is the start's date.
pub fn interval_text(start_ms: i64, end_ms: i64) -> String {
    let start = format_local(start_ms);
    let end = format_local(end_ms);
    let same_day = start.get(..10) == end.get(..10);
    if same_day {
        let end_time = format_time_of_day(end_ms);
        format!("{start} – {}", end_time.get(..8).unwrap_or(&end_time))
    } else {
        format!("{start} – {end}")
    }
}

/// What the bars leave out or stretch: counter resets, gaps; and how much is drawn.
fn notes_ui(ui: &mut egui::Ui, ctx: &ViewContext, period: &Consumption, charts: usize) {
    let registers = period.registers.iter().filter(|r| !r.intervals.is_empty()).count();
    ui.weak(fill(ctx.tr("{intervals} intervals of {registers} registers in {charts} charts"), &[("intervals", &period.intervals().to_string()), ("registers", &registers.to_string()), ("charts", &charts.to_string())]));
    let gaps = period.gaps();
    if gaps > 0 {
        ui.weak(fill(ctx.tr("{n} intervals span missing readings: their bars cover more than one freeze period."), &[("n", &gaps.to_string())]));
    }
    if !period.resets.is_empty() {
        let text = fill(ctx.tr("{n} counter resets or meter replacements (a reading below the one before): no bar for those intervals."), &[("n", &period.resets.len().to_string())]);
        let details: Vec<String> = period.resets.iter().map(reset_text).collect();
        ui.colored_label(ui.visuals().warn_fg_color, text).on_hover_text(details.join("\n"));
    }
}

fn reset_text(reset: &CounterReset) -> String {
    format!("{} · {}: {} → {}, {}", reset.sub, reset.name, format_number(reset.before), format_number(reset.after), interval_text(reset.from_ms, reset.to_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_within_a_day_names_the_date_once() {
        let text = interval_text(0, 900_000);
        assert_eq!(text.matches(" – ").count(), 1, "{text}");
        let (start, end) = text.split_once(" – ").unwrap_or_default();
        assert!(start.len() > end.len() && end.len() == 8, "{text}");
        let long = interval_text(0, 3 * 86_400_000);
        let (_, end) = long.split_once(" – ").unwrap_or_default();
        assert!(end.len() > 8, "{long}");
    }
}
