//! The gateways seen on every session: a sortable, filterable list. Choosing one opens its
//! device page (`ui::device`).
//!
//! Rows are copied out of the engine's state under its read lock (see [`rows`]) and drawn after
//! it is released, so the engine is never held up by a frame.

use egui::{Grid, RichText, TextEdit};

use super::format::{format_ago, local_and_utc};
use super::widgets::{fill, ok_color, state_dot_ui};
use super::explorer::pins;
use super::{UiCommand, ViewContext};
use crate::engine::GatewayKey;

pub mod rows;

use rows::{GatewayRow, Online, SortBy};

/// Below this width the list shows each gateway on two lines instead of a table.
const TABLE_MIN_WIDTH: f32 = 720.0;

/// The gateways panel. Its list fits a narrow column (from about 220 points: two lines per
/// gateway) and becomes a table from 720 points.
#[derive(Debug, Default)]
pub struct GatewaysPanel {
    filter: String,
    sort: SortBy,
    descending: bool,
    selected: Option<GatewayKey>,
}

impl GatewaysPanel {
    /// The gateway last chosen in the list.
    pub fn selected(&self) -> Option<&GatewayKey> {
        self.selected.as_ref()
    }

    /// The list of gateways seen. Choosing one pushes [`UiCommand::OpenGateway`].
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let mut rows: Vec<GatewayRow> = ctx.state.gateways().iter().map(GatewayRow::of).collect();
        let total = rows.len();
        rows.retain(|r| r.matches(&self.filter));
        rows::sort_rows(&mut rows, self.sort, self.descending);

        ui.horizontal_wrapped(|ui| {
            ui.heading(ctx.tr("Gateways"));
            ui.weak(fill(ctx.tr("{shown} of {total}"), &[("shown", &rows.len().to_string()), ("total", &total.to_string())]));
        });
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 60.0).clamp(100.0, 260.0);
            ui.add(TextEdit::singleline(&mut self.filter).hint_text(ctx.tr("Filter: pk, dev, vendor, model")).desired_width(width))
                .accessible_name(ctx.tr("Filter gateways"));
            if !self.filter.is_empty() && ui.small_button(ctx.tr("Clear")).on_hover_text(ctx.tr("Clear the filter")).clicked() {
                self.filter.clear();
            }
        });
        if total == 0 {
            ui.weak(ctx.tr("No gateway seen yet. Connect to a broker or a serial port; gateways appear as they report."));
            return;
        }
        let mut chosen = None;
        let pins = ctx.state.store().pinned().to_vec();
        if ui.available_width() >= TABLE_MIN_WIDTH {
            egui::ScrollArea::both().id_salt("gateways_scroll").auto_shrink([false, false]).show(ui, |ui| {
                Grid::new("gateways_grid").num_columns(7).striped(true).spacing([12.0, 6.0]).show(ui, |ui| {
                    self.sort_header_ui(ui, ctx.tr("Gateway"), SortBy::Key);
                    ui.strong(ctx.tr("State"));
                    ui.strong(ctx.tr("Vendor / model"));
                    ui.strong(ctx.tr("Firmware"));
                    self.sort_header_ui(ui, ctx.tr("Last seen"), SortBy::LastSeen);
                    ui.strong(ctx.tr("Sub-devices"));
                    ui.strong(ctx.tr("Alarms"));
                    ui.end_row();
                    for row in &rows {
                        if self.table_row_ui(ui, ctx, row, &pins, commands) {
                            chosen = Some(row.key.clone());
                        }
                        ui.end_row();
                    }
                });
            });
        } else {
            ui.horizontal_wrapped(|ui| {
                ui.weak(ctx.tr("Sort by"));
                self.sort_header_ui(ui, ctx.tr("Gateway"), SortBy::Key);
                self.sort_header_ui(ui, ctx.tr("Last seen"), SortBy::LastSeen);
            });
            egui::ScrollArea::vertical().id_salt("gateways_scroll").auto_shrink([false, false]).show(ui, |ui| {
                for row in &rows {
                    ui.separator();
                    if self.compact_row_ui(ui, ctx, row, &pins, commands) {
                        chosen = Some(row.key.clone());
                    }
                }
            });
        }
        if let Some(key) = chosen {
            self.selected = Some(key.clone());
            commands.push(UiCommand::OpenGateway(key));
        }
    }

    /// A column title that sorts by `by`; clicking it again reverses the order.
    fn sort_header_ui(&mut self, ui: &mut egui::Ui, title: &str, by: SortBy) {
        let active = self.sort == by;
        let arrow = match (active, self.descending) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        };
        if ui.selectable_label(active, RichText::new(format!("{title}{arrow}")).strong()).clicked() {
            if active {
                self.descending = !self.descending;
            } else {
                self.sort = by;
                // Most recent first is what one wants from "last seen".
                self.descending = by == SortBy::LastSeen;
            }
        }
    }

    /// The clickable pk/dev of a row, with its state dot; true when clicked.
    /// Its right-click menu pins the gateway's topics in the store (or takes the pin back).
    fn key_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow, pins: &[String], commands: &mut Vec<UiCommand>) -> bool {
        ui.horizontal(|ui| {
            state_dot_ui(ui, online_color(ui.visuals(), &row.online));
            let response =
                ui.selectable_label(self.selected.as_ref() == Some(&row.key), row.key.to_string()).on_hover_text(ctx.tr("Open the device page"));
            // The prefix is worked out only where it is needed: with pins held, or for the menu.
            let subtree = || ctx.profile.gateway_prefix(&row.key.pk, &row.key.dev).map(|p| p.trim_end_matches('/').to_owned());
            let cover = |subtree: &str| pins::cover(pins, subtree, true);
            if ctx.sessions.get(&row.session).is_some_and(|s| s.kind == crate::transport::LinkKind::Replay) {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("▶ replay")).on_hover_text(ctx.tr("Heard in a replay of a recording, not live"));
            }
            if !pins.is_empty() && subtree().is_some_and(|s| cover(&s).is_some()) {
                ui.label("📌").on_hover_text(ctx.tr("This gateway's topics are pinned: kept when the store is full."));
            }
            response.context_menu(|ui| {
                let Some(subtree) = subtree() else { return };
                if let Some((prefix, pinned)) = pins::menu_ui(ui, ctx, &subtree, true, cover(&subtree).as_ref()) {
                    commands.push(UiCommand::PinTopics { prefix, pinned });
                }
            });
            response.clicked()
        })
        .inner
    }

    /// One gateway as table cells; true when it was chosen.
    fn table_row_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow, pins: &[String], commands: &mut Vec<UiCommand>) -> bool {
        let chosen = self.key_ui(ui, ctx, row, pins, commands);
        ui.colored_label(online_color(ui.visuals(), &row.online), row.online.text(ctx.lang));
        vendor_model_ui(ui, row);
        firmware_ui(ui, ctx, row);
        last_seen_ui(ui, ctx, row.last_seen_ms);
        subs_count_ui(ui, ctx, row, false);
        alarms_count_ui(ui, ctx, row, false);
        chosen
    }

    /// One gateway on two lines, for a narrow column; true when it was chosen.
    fn compact_row_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow, pins: &[String], commands: &mut Vec<UiCommand>) -> bool {
        let chosen = self.key_ui(ui, ctx, row, pins, commands);
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(online_color(ui.visuals(), &row.online), row.online.text(ctx.lang));
            vendor_model_ui(ui, row);
            firmware_ui(ui, ctx, row);
            last_seen_ui(ui, ctx, row.last_seen_ms);
            subs_count_ui(ui, ctx, row, true);
            alarms_count_ui(ui, ctx, row, true);
        });
        chosen
    }
}

fn vendor_model_ui(ui: &mut egui::Ui, row: &GatewayRow) {
    if row.vendor.is_empty() && row.model.is_empty() {
        ui.weak("-");
    } else {
        ui.label(format!("{} / {}", row.vendor, row.model));
    }
}

/// The firmware version; the module versions in its tooltip.
fn firmware_ui(ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow) {
    let fw = if row.fw_version.is_empty() { "-".to_owned() } else { row.fw_version.clone() };
    let fw = ui.label(fw);
    if !row.versions.is_empty() {
        fw.on_hover_ui(|ui| {
            ui.strong(ctx.tr("Module versions"));
            Grid::new(("module_versions_tip", &row.key)).num_columns(2).show(ui, |ui| {
                for m in &row.versions {
                    ui.label(&m.module);
                    ui.monospace(&m.version);
                    ui.end_row();
                }
            });
        });
    }
}

fn last_seen_ui(ui: &mut egui::Ui, ctx: &ViewContext, last_seen_ms: i64) {
    let seen = ui.label(format_ago(ctx.lang, ctx.now_ms, last_seen_ms));
    if last_seen_ms > 0 {
        seen.on_hover_text(local_and_utc(last_seen_ms));
    }
}

/// The number of sub-devices (with a word in the compact list); their ids in the tooltip.
fn subs_count_ui(ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow, with_word: bool) {
    let n = row.subs.len().to_string();
    let text = if with_word { fill(ctx.tr("{n} sub-devices"), &[("n", &n)]) } else { n };
    let subs = ui.label(text);
    if !row.subs.is_empty() {
        subs.on_hover_text(row.subs.join("\n"));
    }
}

/// Active alarms, red when there are any.
fn alarms_count_ui(ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow, with_word: bool) {
    let n = row.alarms.to_string();
    let text = if with_word { fill(ctx.tr("{n} alarms"), &[("n", &n)]) } else { n };
    if row.alarms > 0 {
        ui.colored_label(ui.visuals().error_fg_color, RichText::new(text).strong());
    } else {
        ui.weak(text);
    }
}

pub fn online_color(visuals: &egui::Visuals, online: &Online) -> egui::Color32 {
    match online {
        Online::Online => ok_color(visuals),
        Online::Offline(_) => visuals.error_fg_color,
        Online::Unknown => visuals.weak_text_color(),
    }
}

