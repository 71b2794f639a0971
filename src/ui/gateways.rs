//! The gateways seen on every session: a sortable, filterable list, and the device page of one
//! gateway with three tabs: its overview (identity, status, module versions, sub-devices with
//! their latest values, active alarms, properties), Firmware ([`firmware`]: upgrade a module) and
//! Files ([`files`]: the gateway's files, sending and fetching them).
//!
//! Rows and pages are copied out of the engine's state under its read lock (see [`rows`]) and
//! drawn after it is released, so the engine is never held up by a frame.

use egui::{Button, Grid, RichText, TextEdit};
use serde_json::json;

use super::connections::{fill, link_state_color, link_state_text, ok_color, state_dot_ui};
use super::{UiCommand, ViewContext};
use crate::engine::{GatewayKey, RequestSpec};

pub mod files;
pub mod firmware;
pub mod rows;

use rows::{DevicePage, GatewayRow, Online, SortBy, format_ago, format_utc};

/// Below this width the list shows each gateway on two lines instead of a table.
const TABLE_MIN_WIDTH: f32 = 720.0;

/// The gateways panel. Its list fits a narrow column (from about 220 points: two lines per
/// gateway) and becomes a table from 720 points; the device page reads well from 600.
#[derive(Debug, Default)]
pub struct GatewaysPanel {
    filter: String,
    sort: SortBy,
    descending: bool,
    selected: Option<GatewayKey>,
    /// The view state of each device page opened.
    pages: std::collections::BTreeMap<GatewayKey, PageState>,
}

/// The tabs of a device page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageTab {
    #[default]
    Overview,
    Firmware,
    Files,
}

/// What one device page remembers between frames.
#[derive(Debug, Default)]
struct PageState {
    tab: PageTab,
    firmware: firmware::FirmwareTab,
    files: files::FilesTab,
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
                        if self.table_row_ui(ui, ctx, row) {
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
                    if self.compact_row_ui(ui, ctx, row) {
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
    fn key_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow) -> bool {
        ui.horizontal(|ui| {
            state_dot_ui(ui, online_color(ui.visuals(), &row.online));
            ui.selectable_label(self.selected.as_ref() == Some(&row.key), row.key.to_string()).on_hover_text(ctx.tr("Open the device page")).clicked()
        })
        .inner
    }

    /// One gateway as table cells; true when it was chosen.
    fn table_row_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow) -> bool {
        let chosen = self.key_ui(ui, ctx, row);
        ui.colored_label(online_color(ui.visuals(), &row.online), row.online.text(ctx.lang));
        vendor_model_ui(ui, row);
        firmware_ui(ui, ctx, row);
        last_seen_ui(ui, ctx, row.last_seen_ms);
        subs_count_ui(ui, ctx, row, false);
        alarms_count_ui(ui, ctx, row, false);
        chosen
    }

    /// One gateway on two lines, for a narrow column; true when it was chosen.
    fn compact_row_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext, row: &GatewayRow) -> bool {
        let chosen = self.key_ui(ui, ctx, row);
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

    /// The tab shown on the device page of `key`.
    pub fn page_tab(&self, key: &GatewayKey) -> PageTab {
        self.pages.get(key).map(|p| p.tab).unwrap_or_default()
    }

    /// The device page of gateway `key`: a tab bar, then the overview (identity, status, module
    /// versions, sub-devices with their latest values, active alarms and properties, with
    /// buttons that ask the gateway again for its info and versions), the Firmware tab or the
    /// Files tab.
    pub fn device_page_ui(&mut self, ui: &mut egui::Ui, key: &GatewayKey, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        // Copy what the page shows and let go of the lock before drawing.
        let page = ctx.state.gateways().get(key).map(|record| DevicePage::of(record, ctx.models, ctx.lang));
        let Some(page) = page else {
            ui.heading(key.to_string());
            ui.weak(ctx.tr("This gateway has not been seen on any session."));
            return;
        };
        let color = online_color(ui.visuals(), &page.online);
        ui.horizontal(|ui| {
            state_dot_ui(ui, color);
            ui.heading(key.to_string());
            ui.colored_label(color, page.online.text(ctx.lang));
            if let Some(name) = &page.product_name {
                ui.weak(name);
            }
        });
        let state = self.pages.entry(key.clone()).or_default();
        ui.horizontal(|ui| {
            for (tab, title) in [(PageTab::Overview, ctx.tr("Overview")), (PageTab::Firmware, ctx.tr("Firmware")), (PageTab::Files, ctx.tr("Files"))] {
                ui.selectable_value(&mut state.tab, tab, RichText::new(title).strong());
            }
        });
        ui.separator();
        match state.tab {
            PageTab::Overview => {}
            PageTab::Firmware => {
                egui::ScrollArea::vertical().id_salt(("device_firmware", key)).auto_shrink([false, false]).show(ui, |ui| {
                    state.firmware.ui(ui, ctx, &page, commands);
                });
                return;
            }
            PageTab::Files => {
                egui::ScrollArea::vertical().id_salt(("device_files", key)).auto_shrink([false, false]).show(ui, |ui| {
                    state.files.ui(ui, ctx, &page, commands);
                });
                return;
            }
        }
        ui.horizontal(|ui| {
            let session_usable = ctx.sessions.get(&page.session).is_some_and(|s| s.state != crate::transport::LinkState::Closed);
            let why = ctx.tr("The session this gateway was seen on is closed.");
            if ui.add_enabled(session_usable, Button::new(ctx.tr("Refresh info"))).on_hover_text(ctx.tr("Ask the gateway for info/get")).on_disabled_hover_text(why).clicked() {
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &key.pk, &key.dev, "info", "get", json!({}))));
            }
            if ui
                .add_enabled(session_usable, Button::new(ctx.tr("Refresh versions")))
                .on_hover_text(ctx.tr("Ask the gateway for ota/version/get"))
                .on_disabled_hover_text(why)
                .clicked()
            {
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &key.pk, &key.dev, "ota", "version/get", json!({}))));
            }
        });
        ui.separator();
        egui::ScrollArea::vertical().id_salt(("device_page", key)).auto_shrink([false, false]).show(ui, |ui| {
            identity_ui(ui, ctx, &page);
            status_ui(ui, ctx, &page);
            versions_ui(ui, ctx, &page);
            subs_ui(ui, ctx, &page);
            alarms_ui(ui, ctx, &page);
            properties_ui(ui, ctx, &page);
        });
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
        seen.on_hover_text(format_utc(last_seen_ms));
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

fn online_color(visuals: &egui::Visuals, online: &Online) -> egui::Color32 {
    match online {
        Online::Online => ok_color(visuals),
        Online::Offline(_) => visuals.error_fg_color,
        Online::Unknown => visuals.weak_text_color(),
    }
}

fn section_ui(ui: &mut egui::Ui, title: &str, salt: &str, add: impl FnOnce(&mut egui::Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong()).id_salt(salt).default_open(true).show(ui, add);
}

/// A two-column grid of (label, value) pairs; empty values show as "-".
fn pairs_ui(ui: &mut egui::Ui, salt: &str, pairs: &[(&str, String)]) {
    Grid::new(salt).num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
        for (label, value) in pairs {
            ui.weak(*label);
            if value.is_empty() {
                ui.weak("-");
            } else {
                ui.label(value);
            }
            ui.end_row();
        }
    });
}

fn identity_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    section_ui(ui, ctx.tr("Identity"), "identity", |ui| {
        let info = page.info.as_ref();
        let text = |f: fn(&crate::protocol::payload::Info) -> String| info.map(f).unwrap_or_default();
        let pairs = [
            (ctx.tr("Product key"), page.key.pk.clone()),
            (ctx.tr("Device id"), page.key.dev.clone()),
            (ctx.tr("Product"), page.product_name.clone().unwrap_or_default()),
            (ctx.tr("Vendor"), text(|i| i.vendor.clone())),
            (ctx.tr("Model"), text(|i| i.model.clone())),
            (ctx.tr("Serial number"), text(|i| i.serial.clone())),
            (ctx.tr("Hardware version"), text(|i| i.hw_version.clone())),
            (ctx.tr("Firmware version"), text(|i| i.fw_version.clone())),
            (ctx.tr("Software version"), text(|i| i.sw_version.clone())),
            (ctx.tr("MAC address"), text(|i| i.mac.clone().unwrap_or_default())),
            (ctx.tr("IP address"), text(|i| i.ip.clone().unwrap_or_default())),
            (ctx.tr("Uptime"), text(|i| rows::format_uptime(i.uptime))),
        ];
        pairs_ui(ui, "identity_grid", &pairs);
        if info.is_none() {
            ui.weak(ctx.tr("No info/report received yet: use Refresh info."));
        }
    });
}

fn status_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    section_ui(ui, ctx.tr("Status"), "status", |ui| {
        Grid::new("status_grid").num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
            ui.weak(ctx.tr("State"));
            ui.colored_label(online_color(ui.visuals(), &page.online), page.online.text(ctx.lang));
            ui.end_row();
            ui.weak(ctx.tr("Last seen"));
            let seen = ui.label(format_ago(ctx.lang, ctx.now_ms, page.last_seen_ms));
            if page.last_seen_ms > 0 {
                seen.on_hover_text(format_utc(page.last_seen_ms));
            }
            ui.end_row();
            ui.weak(ctx.tr("Session"));
            match ctx.sessions.get(&page.session) {
                Some(s) => {
                    ui.horizontal(|ui| {
                        let color = link_state_color(ui.visuals(), &s.state);
                        state_dot_ui(ui, color);
                        ui.label(format!("#{} {}", s.id, s.label));
                        ui.colored_label(color, link_state_text(ctx.lang, &s.state));
                    });
                }
                None => {
                    ui.label(format!("#{}", page.session));
                }
            }
            ui.end_row();
            ui.weak(ctx.tr("Messages"));
            ui.label(page.messages.to_string());
            ui.end_row();
        });
    });
}

fn versions_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    section_ui(ui, ctx.tr("Module versions"), "versions", |ui| {
        if page.versions.is_empty() {
            ui.weak(ctx.tr("No ota/version received yet: use Refresh versions."));
            return;
        }
        Grid::new("versions_grid").num_columns(2).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
            ui.strong(ctx.tr("Module"));
            ui.strong(ctx.tr("Version"));
            ui.end_row();
            for m in &page.versions {
                ui.label(&m.module);
                ui.monospace(&m.version);
                ui.end_row();
            }
        });
    });
}

fn subs_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    let count = page.subs.iter().filter(|s| !s.is_gateway).count();
    let title = fill(ctx.tr("Sub-devices ({n})"), &[("n", &count.to_string())]);
    section_ui(ui, &title, "subs", |ui| {
        if page.subs.is_empty() {
            ui.weak(ctx.tr("No point values received yet."));
            return;
        }
        for sub in &page.subs {
            let product = sub.product.as_ref().map(|(pk, name)| format!("{name} ({pk})")).unwrap_or_else(|| ctx.tr("unknown product").to_owned());
            let who = if sub.is_gateway { format!("{} ({})", sub.id, ctx.tr("the gateway itself")) } else { sub.id.clone() };
            let header = fill(
                ctx.tr("{sub}: {product}, {n} points"),
                &[("sub", &who), ("product", &product), ("n", &sub.points.len().to_string())],
            );
            egui::CollapsingHeader::new(header).id_salt(("sub", &sub.id)).default_open(true).show(ui, |ui| {
                ui.weak(fill(ctx.tr("Last seen {ago}"), &[("ago", &format_ago(ctx.lang, ctx.now_ms, sub.last_seen_ms))]));
                Grid::new(("sub_points", &sub.id)).num_columns(4).striped(true).spacing([16.0, 3.0]).show(ui, |ui| {
                    ui.strong(ctx.tr("Point"));
                    ui.strong(ctx.tr("Id"));
                    ui.strong(ctx.tr("Value"));
                    ui.strong(ctx.tr("Time"));
                    ui.end_row();
                    for p in &sub.points {
                        ui.label(&p.name);
                        ui.monospace(&p.pid);
                        let value = if p.unit.is_empty() { p.value.clone() } else { format!("{} {}", p.value, p.unit) };
                        let value = if p.quality == 0 { ui.label(value) } else { ui.colored_label(ui.visuals().warn_fg_color, value) };
                        if p.quality != 0 {
                            value.on_hover_text(fill(ctx.tr("Quality {q} (not good)"), &[("q", &p.quality.to_string())]));
                        }
                        ui.weak(format_ago(ctx.lang, ctx.now_ms, p.ts)).on_hover_text(format_utc(p.ts));
                        ui.end_row();
                    }
                    for m in &sub.meters {
                        ui.label(&m.name);
                        ui.monospace(&m.id);
                        ui.label(if m.unit.is_empty() { m.value.clone() } else { format!("{} {}", m.value, m.unit) });
                        ui.weak(format_ago(ctx.lang, ctx.now_ms, m.ts)).on_hover_text(format_utc(m.ts));
                        ui.end_row();
                    }
                });
            });
        }
    });
}

fn alarms_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    let title = fill(ctx.tr("Active alarms ({n})"), &[("n", &page.alarms.len().to_string())]);
    section_ui(ui, &title, "alarms", |ui| {
        if page.alarms.is_empty() {
            ui.weak(ctx.tr("No active alarm."));
            return;
        }
        let red = ui.visuals().error_fg_color;
        let amber = ui.visuals().warn_fg_color;
        Grid::new("alarms_grid").num_columns(6).striped(true).spacing([16.0, 3.0]).show(ui, |ui| {
            for title in [ctx.tr("Level"), ctx.tr("Type"), ctx.tr("Device"), ctx.tr("Value / threshold"), ctx.tr("Since"), ctx.tr("Description")] {
                ui.strong(title);
            }
            ui.end_row();
            for a in &page.alarms {
                // Level 1 is the most severe.
                ui.colored_label(if a.level <= 2 { red } else { amber }, a.level.to_string());
                ui.label(&a.kind).on_hover_text(&a.id);
                ui.label(match &a.pid {
                    Some(pid) => format!("{} / {pid}", a.sub),
                    None => a.sub.clone(),
                });
                ui.label(format!("{} / {}", a.value.as_deref().unwrap_or("-"), a.threshold.as_deref().unwrap_or("-")));
                ui.label(format_ago(ctx.lang, ctx.now_ms, a.ts)).on_hover_text(format_utc(a.ts));
                ui.label(a.desc.as_deref().unwrap_or(""));
                ui.end_row();
            }
        });
    });
}

fn properties_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage) {
    section_ui(ui, ctx.tr("Properties"), "properties", |ui| {
        if page.properties.is_empty() {
            ui.weak(ctx.tr("No properties received yet."));
            return;
        }
        Grid::new("properties_grid").num_columns(3).striped(true).spacing([16.0, 3.0]).show(ui, |ui| {
            for (id, name, value) in &page.properties {
                ui.label(name);
                ui.monospace(id);
                ui.label(value);
                ui.end_row();
            }
        });
    });
}
