//! The selected place's facts: its header, the latest `rt` metrics (named, with units and ranges
//! from the metric map, each with a plot button), the fields that are not numbers, and the latest
//! `param` report.

use egui::{Grid, RichText};
use serde_json::Value;

use super::tree::rate_text;
use super::view::SelectedView;
use crate::engine::series::SeriesKey;
use crate::engine::stations::StationNode;
use crate::protocol::model::Lang;
use crate::protocol::storage::metric_map::MetricMap;
use crate::ui::device::plot_actions::{PLOT_ICON, plot_command, plot_menu};
use crate::ui::format::{format_ago, format_number, format_time_of_day, local_and_utc};
use crate::ui::widgets::{fill, pairs_ui, section_ui};
use crate::ui::{UiCommand, ViewContext};

/// Place, version, session, last seen, rate and messages.
pub fn header_ui(ui: &mut egui::Ui, ctx: &ViewContext, view: &SelectedView) {
    let session = ctx.sessions.get(&view.session).map_or_else(|| format!("#{}", view.session), |s| format!("#{} {}", s.id, s.label));
    let (last_ms, messages) = match &view.node {
        Some(node) => (node.last_ms, fill(ctx.tr("{node} (station: {station})"), &[("node", &node.messages.to_string()), ("station", &view.station_messages.to_string())])),
        None => (view.station_last_ms, fill(ctx.tr("none of its own (station: {station})"), &[("station", &view.station_messages.to_string())])),
    };
    ui.heading(view.place.to_string());
    pairs_ui(
        ui,
        "station_header",
        &[
            (ctx.tr("Version"), view.version.clone()),
            (ctx.tr("Session"), session),
            (ctx.tr("Last seen"), format!("{} ({})", format_ago(ctx.lang, ctx.now_ms, last_ms), format_time_of_day(last_ms))),
            (ctx.tr("Station rate"), rate_text(ctx, view.rate)),
            (ctx.tr("Messages"), messages),
        ],
    );
}

/// The metric's name in the UI language, its unit, and whether `value` is out of its range.
fn described<'m>(map: &'m MetricMap, lang: Lang, key: &str, value: Option<f64>) -> (Option<&'m str>, &'m str, bool) {
    match map.lookup(key) {
        Some(info) => (info.name(lang == Lang::Zh), info.unit.as_str(), value.is_some_and(|v| info.out_of_range(v))),
        None => (None, "", false),
    }
}

/// The latest `rt` metrics and the fields that are not numbers.
pub fn metrics_ui(ui: &mut egui::Ui, ctx: &ViewContext, node: &StationNode, map: &MetricMap, commands: &mut Vec<UiCommand>) {
    let title = fill(ctx.tr("Real-time data ({n})"), &[("n", &node.metrics.len().to_string())]);
    section_ui(ui, &title, "station_metrics", |ui| {
        if node.metrics.is_empty() {
            ui.weak(ctx.tr("No real-time data (rt) from this place yet."));
        } else {
            Grid::new(("station_metrics_grid", &node.place)).num_columns(6).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
                for title in ["Name", "Key", "Value", "Unit", "Age"] {
                    ui.strong(ctx.tr(title));
                }
                ui.label("");
                ui.end_row();
                for (key, metric) in &node.metrics {
                    let (name, unit, out_of_range) = described(map, ctx.lang, key, Some(metric.value));
                    match name {
                        Some(name) => ui.label(name),
                        None => ui.weak(key),
                    };
                    ui.monospace(key);
                    let value = RichText::new(format_number(metric.value)).monospace();
                    if out_of_range {
                        ui.colored_label(ui.visuals().error_fg_color, value.strong()).on_hover_text(ctx.tr("Outside the range the metric map gives"));
                    } else {
                        ui.label(value);
                    }
                    ui.label(unit);
                    ui.weak(format_ago(ctx.lang, ctx.now_ms, metric.received_ms)).on_hover_text(local_and_utc(metric.t_ms));
                    let series = SeriesKey::path(&node.plot_topic, &metric.pointer);
                    let response = ui.small_button(PLOT_ICON).on_hover_text(ctx.tr("Add to plot")).accessible_name(format!("{} {key}", ctx.tr("Plot")));
                    if response.clicked() {
                        commands.push(plot_command(series.clone(), false));
                    }
                    plot_menu(&response, ctx, &series, commands);
                    ui.end_row();
                }
            });
        }
        if !node.other_fields.is_empty() {
            ui.add_space(6.0);
            ui.strong(ctx.tr("Other fields"));
            Grid::new(("station_other_fields", &node.place)).num_columns(3).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
                for (key, value) in &node.other_fields {
                    let (name, _, _) = described(map, ctx.lang, key, None);
                    ui.label(name.unwrap_or(key));
                    ui.monospace(key);
                    ui.monospace(value_text(value));
                    ui.end_row();
                }
            });
        }
    });
}

/// The latest `param` report, with its age.
pub fn param_ui(ui: &mut egui::Ui, ctx: &ViewContext, node: &StationNode, map: &MetricMap) {
    section_ui(ui, ctx.tr("Parameters (param)"), "station_param", |ui| {
        let Some(param) = &node.param else {
            ui.weak(ctx.tr("No parameter report (param) from this place yet."));
            return;
        };
        ui.weak(fill(ctx.tr("Reported {ago}"), &[("ago", &format_ago(ctx.lang, ctx.now_ms, param.received_ms))])).on_hover_text(local_and_utc(param.t_ms));
        Grid::new(("station_param_grid", &node.place)).num_columns(4).striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
            for title in ["Key", "Value", "Name", "Unit"] {
                ui.strong(ctx.tr(title));
            }
            ui.end_row();
            for (key, value) in &param.d {
                let (name, unit, out_of_range) = described(map, ctx.lang, key, value.as_f64());
                ui.monospace(key);
                let text = RichText::new(value_text(value)).monospace();
                if out_of_range {
                    ui.colored_label(ui.visuals().error_fg_color, text.strong()).on_hover_text(ctx.tr("Outside the range the metric map gives"));
                } else {
                    ui.label(text);
                }
                ui.label(name.unwrap_or("-"));
                ui.label(unit);
                ui.end_row();
            }
        });
    });
}

/// A JSON value as a field engineer reads it: text without quotes, numbers plain, the rest JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), format_number),
        other => other.to_string(),
    }
}
