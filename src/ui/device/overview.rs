//! The device page's first tab: identity, status, module versions, sub-devices with their latest
//! values and meters, active alarms and properties, with buttons that ask the gateway again for
//! its info and versions.

use egui::{Button, Grid};
use serde_json::json;

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::ui::format::{format_ago, format_uptime, local_and_utc};
use crate::ui::gateways::online_color;
use crate::ui::widgets::{fill, link_state_color, link_state_text, pairs_ui, section_ui, state_dot_ui};
use crate::ui::{UiCommand, ViewContext};

/// The overview of one gateway; it keeps no state of its own.
#[derive(Debug, Default)]
pub struct OverviewTab;

impl DeviceTab for OverviewTab {
    fn id(&self) -> &'static str {
        "overview"
    }

    fn title(&self) -> &'static str {
        "Overview"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            let session_usable = ctx.sessions.get(&page.session).is_some_and(|s| s.state != crate::transport::LinkState::Closed);
            let why = ctx.tr("The session this gateway was seen on is closed.");
            if ui.add_enabled(session_usable, Button::new(ctx.tr("Refresh info"))).on_hover_text(ctx.tr("Ask the gateway for info/get")).on_disabled_hover_text(why).clicked() {
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "info", "get", json!({}))));
            }
            if ui
                .add_enabled(session_usable, Button::new(ctx.tr("Refresh versions")))
                .on_hover_text(ctx.tr("Ask the gateway for ota/version/get"))
                .on_disabled_hover_text(why)
                .clicked()
            {
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "ota", "version/get", json!({}))));
            }
        });
        ui.separator();
        identity_ui(ui, ctx, page);
        status_ui(ui, ctx, page);
        versions_ui(ui, ctx, page);
        subs_ui(ui, ctx, page);
        alarms_ui(ui, ctx, page);
        properties_ui(ui, ctx, page);
    }
}

fn identity_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
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
            (ctx.tr("Uptime"), text(|i| format_uptime(i.uptime))),
        ];
        pairs_ui(ui, "identity_grid", &pairs);
        if info.is_none() {
            ui.weak(ctx.tr("No info/report received yet: use Refresh info."));
        }
    });
}

fn status_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
    section_ui(ui, ctx.tr("Status"), "status", |ui| {
        Grid::new("status_grid").num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
            ui.weak(ctx.tr("State"));
            ui.colored_label(online_color(ui.visuals(), &page.online), page.online.text(ctx.lang));
            ui.end_row();
            ui.weak(ctx.tr("Last seen"));
            let seen = ui.label(format_ago(ctx.lang, ctx.now_ms, page.last_seen_ms));
            if page.last_seen_ms > 0 {
                seen.on_hover_text(local_and_utc(page.last_seen_ms));
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
            ui.weak(ctx.tr("Messages received"));
            ui.label(page.messages.to_string());
            ui.end_row();
        });
    });
}

fn versions_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
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

fn subs_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
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
            // The table lists points and meters: the header counts both, as the rows show them.
            let header = if sub.meters.is_empty() {
                fill(ctx.tr("{sub}: {product}, {n} points"), &[("sub", &who), ("product", &product), ("n", &sub.points.len().to_string())])
            } else {
                fill(
                    ctx.tr("{sub}: {product}, {n} points, {m} meters"),
                    &[("sub", &who), ("product", &product), ("n", &sub.points.len().to_string()), ("m", &sub.meters.len().to_string())],
                )
            };
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
                        ui.weak(format_ago(ctx.lang, ctx.now_ms, p.ts)).on_hover_text(local_and_utc(p.ts));
                        ui.end_row();
                    }
                    for m in &sub.meters {
                        ui.label(&m.name);
                        ui.monospace(&m.id);
                        ui.label(if m.unit.is_empty() { m.value.clone() } else { format!("{} {}", m.value, m.unit) });
                        ui.weak(format_ago(ctx.lang, ctx.now_ms, m.ts)).on_hover_text(local_and_utc(m.ts));
                        ui.end_row();
                    }
                });
            });
        }
    });
}

fn alarms_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
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
                ui.label(format_ago(ctx.lang, ctx.now_ms, a.ts)).on_hover_text(local_and_utc(a.ts));
                ui.label(a.desc.as_deref().unwrap_or(""));
                ui.end_row();
            }
        });
    });
}

fn properties_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView) {
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
