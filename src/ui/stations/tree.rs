//! The left part of the page: every station seen, each a collapsible tree of its device units
//! and components. Clicking one selects it.

use egui::{Color32, RichText};

use super::view::{TreeStation, TreeUnit};
use crate::protocol::storage::place::StoragePlace;
use crate::ui::ViewContext;
use crate::ui::format::{format_ago, local_and_utc};
use crate::ui::widgets::{fill, ok_color, state_dot_ui};

/// Heard from within this long: live (green).
const LIVE_MS: i64 = 15_000;
/// Within this long: quiet (amber); longer: silent (grey).
const QUIET_MS: i64 = 120_000;

/// Green when the station was heard lately, amber when it went quiet, grey when silent.
pub fn liveness_color(visuals: &egui::Visuals, now_ms: i64, last_ms: i64) -> Color32 {
    match now_ms - last_ms {
        age if age <= LIVE_MS => ok_color(visuals),
        age if age <= QUIET_MS => visuals.warn_fg_color,
        _ => visuals.weak_text_color(),
    }
}

/// "1.2 msg/s".
pub fn rate_text(ctx: &ViewContext, rate: f64) -> String {
    fill(ctx.tr("{rate} msg/s"), &[("rate", &format!("{rate:.1}"))])
}

/// Draws the tree; the place clicked, if any.
pub fn tree_ui(ui: &mut egui::Ui, ctx: &ViewContext, stations: &[TreeStation], selected: Option<&StoragePlace>) -> Option<StoragePlace> {
    let mut chosen = None;
    for station in stations {
        ui.horizontal(|ui| {
            state_dot_ui(ui, liveness_color(ui.visuals(), ctx.now_ms, station.last_ms));
            let name = RichText::new(station.place.to_string()).strong();
            let response = ui.selectable_label(selected == Some(&station.place), name).on_hover_text(ctx.tr("Show the station"));
            if response.clicked() {
                chosen = Some(station.place.clone());
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.add_space(16.0);
            ui.weak(rate_text(ctx, station.rate));
            ui.weak(format_ago(ctx.lang, ctx.now_ms, station.last_ms)).on_hover_text(local_and_utc(station.last_ms));
            if station.problems > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, fill(ctx.tr("{n} problems"), &[("n", &station.problems.to_string())]));
            }
        });
        let id = ui.make_persistent_id(("station_tree", &station.place));
        egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, true).show_header(ui, |ui| {
            ui.weak(fill(ctx.tr("{n} units"), &[("n", &station.units.len().to_string())]));
        })
        .body(|ui| {
            for unit in &station.units {
                if let Some(place) = unit_ui(ui, unit, selected) {
                    chosen = Some(place);
                }
            }
        });
        ui.separator();
    }
    chosen
}

/// A unit and, below it, its components; the place clicked.
fn unit_ui(ui: &mut egui::Ui, unit: &TreeUnit, selected: Option<&StoragePlace>) -> Option<StoragePlace> {
    let name = unit.place.unit.clone().unwrap_or_default();
    let mut chosen = None;
    if unit.components.is_empty() {
        if ui.selectable_label(selected == Some(&unit.place), &name).clicked() {
            chosen = Some(unit.place.clone());
        }
        return chosen;
    }
    let id = ui.make_persistent_id(("unit_tree", &unit.place));
    egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, true)
        .show_header(ui, |ui| {
            if ui.selectable_label(selected == Some(&unit.place), &name).clicked() {
                chosen = Some(unit.place.clone());
            }
        })
        .body(|ui| {
            for component in &unit.components {
                let label = component.component.clone().unwrap_or_default();
                if ui.selectable_label(selected == Some(component), label).on_hover_text(component.to_string()).clicked() {
                    chosen = Some(component.clone());
                }
            }
        });
    chosen
}
