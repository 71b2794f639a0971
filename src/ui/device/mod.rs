//! The device page of one gateway: a header and a row of tabs, each a [`DeviceTab`].
//!
//! A tab is one type implementing [`DeviceTab`] in its own file, listed once in [`all_tabs`]
//! (the way egui's demo app lists its demos). A page holds its tabs' view state; closing the
//! page drops it, a loaded firmware image included. What a tab shows comes from the engine's
//! gateway record, copied for the frame ([`DeviceView`]); what it does goes out as
//! [`UiCommand`]s.

use egui::RichText;

use crate::engine::GatewayKey;
use crate::ui::gateways::online_color;
use crate::ui::widgets::state_dot_ui;
use crate::ui::{UiCommand, ViewContext};

pub mod alarms;
pub mod commands;
pub mod conformance;
pub mod fetch_form;
pub mod files;
pub mod firmware;
pub mod history;
pub mod local_file;
pub mod logs;
pub mod messages;
pub mod meter_chart;
pub mod meter_consumption;
pub mod meters;
pub mod outcome_kind;
pub mod overview;
pub mod plot_actions;
pub mod points;
pub mod ports;
pub mod properties;
pub mod requests;
mod requests_export;
mod tab;
mod text_export;
pub mod time;
pub mod transfers;
pub mod view;

pub use tab::DeviceTab;
pub use view::DeviceView;

/// The tabs of every device page, in their order. Adding a tab is one line here.
fn all_tabs() -> Vec<Box<dyn DeviceTab>> {
    vec![
        Box::new(overview::OverviewTab),
        Box::new(commands::CommandsTab::default()),
        Box::new(properties::PropertiesTab::default()),
        Box::new(ports::PortsTab::default()),
        Box::new(points::PointsTab::default()),
        Box::new(firmware::FirmwareTab::default()),
        Box::new(files::FilesTab::default()),
        Box::new(alarms::AlarmsTab::default()),
        Box::new(history::HistoryTab::default()),
        Box::new(logs::LogsTab::default()),
        Box::new(messages::MessagesTab::default()),
        Box::new(meters::MetersTab::default()),
        Box::new(time::TimeTab::default()),
        Box::new(requests::RequestsTab::default()),
        Box::new(conformance::ConformanceTab::default()),
    ]
}

/// The page of one gateway and the view state of its tabs.
pub struct DevicePage {
    key: GatewayKey,
    tabs: Vec<Box<dyn DeviceTab>>,
    active: usize,
}

impl std::fmt::Debug for DevicePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePage").field("key", &self.key).field("active", &self.active_tab_id()).finish()
    }
}

impl DevicePage {
    pub fn new(key: GatewayKey) -> Self {
        DevicePage { key, tabs: all_tabs(), active: 0 }
    }

    pub fn key(&self) -> &GatewayKey {
        &self.key
    }

    /// The id of the tab shown.
    pub fn active_tab_id(&self) -> &'static str {
        self.tabs.get(self.active).map_or("", |t| t.id())
    }

    /// The ids of the tabs, in order.
    pub fn tab_ids(&self) -> Vec<&'static str> {
        self.tabs.iter().map(|t| t.id()).collect()
    }

    /// The header, the tab bar and the active tab.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        // Copy what the page shows and let go of the lock before drawing.
        let view = ctx.state.gateways().get(&self.key).map(|record| DeviceView::of(record, ctx.models, ctx.lang));
        let Some(view) = view else {
            ui.heading(self.key.to_string());
            ui.weak(ctx.tr("This gateway has not been seen on any session."));
            return;
        };
        let color = online_color(ui.visuals(), &view.online);
        ui.horizontal(|ui| {
            state_dot_ui(ui, color);
            ui.heading(self.key.to_string());
            ui.colored_label(color, view.online.text(ctx.lang));
            if let Some(name) = &view.product_name {
                ui.weak(name);
            }
            // A live site's session: said once at the top, not only on each form.
            if ctx.sessions.get(&view.session).is_some_and(|s| s.kind == crate::transport::LinkKind::Replay) {
                ui.colored_label(ui.visuals().warn_fg_color, RichText::new(ctx.tr("▶ replay")).strong())
                    .on_hover_text(ctx.tr("Heard in a replay of a recording, not live"));
            }
            if ctx.sessions.get(&view.session).is_some_and(|s| s.read_only) {
                ui.colored_label(ui.visuals().warn_fg_color, RichText::new(ctx.tr("read-only")).strong())
                    .on_hover_text(ctx.tr("Read-only session: nothing is sent from this page."));
            }
        });
        // Wrapped: fourteen tabs do not fit a laptop's width on one line.
        ui.horizontal_wrapped(|ui| {
            for (i, tab) in self.tabs.iter().enumerate() {
                let badge = tab.badge(ctx, &self.key);
                let title = if badge > 0 {
                    RichText::new(format!("{} ({badge})", ctx.tr(tab.title()))).strong().color(ui.visuals().error_fg_color)
                } else {
                    RichText::new(ctx.tr(tab.title())).strong()
                };
                if ui.selectable_label(self.active == i, title).clicked() {
                    self.active = i;
                }
            }
        });
        ui.separator();
        // Before the active tab, so what an overlay takes in (a run's progress) is drawn this frame.
        for tab in &mut self.tabs {
            tab.overlay(ui.ctx(), ctx);
        }
        if let Some(tab) = self.tabs.get_mut(self.active) {
            egui::ScrollArea::vertical().id_salt(("device_tab", tab.id(), &self.key)).auto_shrink([false, false]).show(ui, |ui| {
                tab.ui(ui, &view, ctx, commands);
            });
        }
    }
}
