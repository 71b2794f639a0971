//! The workbench shell: it drains the engine's events, lays out the panels, and applies every
//! [`UiCommand`] in one place ([`WorkbenchApp::apply`]). Panels only draw and push commands.
//!
//! Layout: a top bar (title, language, theme, settings), the status bar at the very bottom, a
//! resizable left column (connections above, gateways below), a collapsible publish panel under
//! the central area, and the central area with the "Topics" tab and one tab per device page.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use egui::{CentralPanel, Frame, Panel};

mod commands;
mod events;
pub mod notices;
mod rate;

use rate::MessageRate;

use super::app_api::AppApiPage;
use super::connections::ConnectionsPanel;
use super::device::DevicePage;
use super::explorer::ExplorerPanel;
use super::gateways::GatewaysPanel;
use super::local::LocalServices;
use super::model_source::ModelSource;
use super::model_editor::ModelEditor;
use super::plot::PlotsTab;
use super::publish::PublishPanel;
use super::settings::Settings;
use super::stations::StationsPage;
use super::status_bar::status_bar_ui;
use super::top_bar::{TopBarInfo, top_bar_ui};
use super::{Sessions, ThemeChoice, UiCommand, ViewContext, fonts};
use crate::engine::notice::NoticeText;
use crate::engine::{EngineEvent, EngineEvents, EngineHandle, GatewayKey, SessionId};
use crate::protocol::model::ModelSet;
use crate::protocol::time::now_ms;
use crate::transport::LinkConfig;

/// Time spent on engine events per frame; the rest waits for the next frame.
const EVENT_BUDGET: Duration = Duration::from_millis(4);
/// Notices kept (oldest dropped first).
pub const NOTICE_CAPACITY: usize = 200;
/// Notices listed in the status bar's tooltip.
const NOTICES_SHOWN: usize = 12;

/// What to open at start: a link from the command line and/or the local services.
#[derive(Debug, Default)]
pub struct Startup {
    /// A link and its label, opened as the first session.
    pub link: Option<(LinkConfig, String)>,
    /// The embedded broker and demo gateway; the app opens a session on the broker when it is up
    /// and keeps them alive.
    pub local: Option<LocalServices>,
    /// Where the models came from and what was wrong with them.
    pub models: ModelSource,
    /// `--models` folders, read again on every reload.
    pub model_dirs: Vec<std::path::PathBuf>,
    /// `--layout FILE`: the plots to open with (a bad file: a notice, the saved plots instead).
    pub layout: Option<std::path::PathBuf>,
    /// Open on the Plots tab (a first start with the demo layout: a live chart at once).
    pub show_plots: bool,
    /// `--edit FILE`: open the model editor on this file.
    pub edit: Option<std::path::PathBuf>,
    /// Work started with the window (opening the point history, completing recordings cut
    /// short), each reporting its notices once.
    pub background: Vec<std::sync::mpsc::Receiver<Vec<NoticeText>>>,
}

/// Something worth telling the user: engine notices, failed requests, local services.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub at_ms: i64,
    pub session: Option<SessionId>,
    /// Reads as English; [`Notice::text_in`] gives it in the UI language.
    pub text: NoticeText,
}

/// Which central tab is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    Topics,
    Plots,
    Stations,
    AppApi,
    Models,
    Device(GatewayKey),
}

fn egui_theme(theme: ThemeChoice) -> egui::Theme {
    match theme {
        ThemeChoice::Dark => egui::Theme::Dark,
        ThemeChoice::Light => egui::Theme::Light,
    }
}

/// The workbench window's state.
pub struct WorkbenchApp {
    egui_ctx: egui::Context,
    engine: EngineHandle,
    events: EngineEvents,
    /// Events drained but not yet handled (over the frame's budget).
    backlog: VecDeque<EngineEvent>,
    models: ModelSet,
    model_source: ModelSource,
    model_dirs: Vec<std::path::PathBuf>,
    settings: Settings,
    sessions: Sessions,
    /// Sessions the user closed: they leave `sessions` when their link reports `Closed`.
    closing: BTreeSet<SessionId>,
    notices: VecDeque<Notice>,
    rate: MessageRate,
    local: Option<LocalServices>,
    /// The session the window opened on the embedded broker, closed when it restarts.
    local_session: Option<SessionId>,
    connections: ConnectionsPanel,
    gateways: GatewaysPanel,
    explorer: ExplorerPanel,
    publish: PublishPanel,
    /// The open device pages, in tab order; closing one drops its state.
    device_pages: Vec<DevicePage>,
    plots: PlotsTab,
    stations: StationsPage,
    app_api: AppApiPage,
    /// The window's async runtime (taken while it is entered), for work off the UI thread.
    runtime: Option<tokio::runtime::Handle>,
    editor: ModelEditor,
    /// Path series the engine was asked to track for the plots.
    tracked_paths: Vec<(String, String)>,
    active_tab: Tab,
    replay_opener: super::replay::ReplayOpener,
    /// Start-up work not finished yet (see [`Startup::background`]).
    background: Vec<std::sync::mpsc::Receiver<Vec<NoticeText>>>,
}

impl WorkbenchApp {
    /// The app on a running engine. Installs the CJK font and the theme on `egui_ctx` and opens
    /// `startup.link` at once; never blocks. Works the same under eframe and egui_kittest.
    pub fn new(egui_ctx: &egui::Context, engine: EngineHandle, events: EngineEvents, models: ModelSet, settings: Settings, startup: Startup) -> Self {
        fonts::install(egui_ctx);
        egui_ctx.set_theme(egui_theme(settings.theme));
        let (layout, layout_problem) = super::plot::startup_layout(settings.plot_layout.as_ref(), startup.layout.as_deref());
        let stations = StationsPage::new(settings.ess_metric_map.as_deref());
        // Taken now: the runtime is entered while the window is made (tests enter it only then).
        let runtime = tokio::runtime::Handle::try_current().ok();
        let mut app = WorkbenchApp {
            egui_ctx: egui_ctx.clone(),
            engine,
            events,
            backlog: VecDeque::new(),
            models,
            model_source: startup.models,
            model_dirs: startup.model_dirs,
            settings,
            sessions: Sessions::new(),
            closing: BTreeSet::new(),
            notices: VecDeque::new(),
            rate: MessageRate::default(),
            local: startup.local,
            local_session: None,
            connections: ConnectionsPanel::default(),
            gateways: GatewaysPanel::default(),
            explorer: ExplorerPanel::default(),
            publish: PublishPanel::default(),
            device_pages: Vec::new(),
            plots: PlotsTab::new(&layout),
            stations,
            app_api: AppApiPage::new(runtime.clone()),
            runtime,
            editor: ModelEditor::default(),
            tracked_paths: Vec::new(),
            active_tab: if startup.show_plots { Tab::Plots } else { Tab::Topics },
            background: startup.background,
            replay_opener: Default::default(),
        };
        if let Some(text) = layout_problem {
            // Said in the tab too: later notices (the demo starting) would hide it.
            let lang = app.settings.lang;
            app.plots.say_problem(text.render(&|key| super::i18n::tr(lang, key)));
            app.notice(None, text);
        }
        app.track_plot_paths();
        if let Some(path) = startup.edit {
            app.editor.open_path(path);
            app.active_tab = Tab::Models;
        }
        if app.settings.api_serve {
            app.apply(vec![UiCommand::ServeAppApi(true)]);
        }
        if let Some((config, label)) = startup.link {
            app.apply(vec![UiCommand::Connect { config, label, profile: None, read_only: false }]);
        }
        let problems = app.model_source.problems.len();
        if problems > 0 {
            let text = NoticeText::new("{n} problems reading the product models (see Settings)", vec![("n", problems.to_string().into())]);
            app.notice(None, text);
        }
        app
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// Oldest first.
    pub fn notices(&self) -> impl Iterator<Item = &Notice> {
        self.notices.iter()
    }

    pub fn active_tab(&self) -> &Tab {
        &self.active_tab
    }

    /// The open device pages, in tab order.
    pub fn device_pages(&self) -> &[DevicePage] {
        &self.device_pages
    }

    /// The product models the window decodes with.
    pub fn models(&self) -> &ModelSet {
        &self.models
    }

    pub fn model_source(&self) -> &ModelSource {
        &self.model_source
    }

    pub fn explorer(&self) -> &ExplorerPanel {
        &self.explorer
    }

    pub fn plots(&self) -> &PlotsTab {
        &self.plots
    }

    pub fn plots_mut(&mut self) -> &mut PlotsTab {
        &mut self.plots
    }

    pub fn stations(&self) -> &StationsPage {
        &self.stations
    }

    pub fn app_api(&self) -> &AppApiPage {
        &self.app_api
    }

    pub fn app_api_mut(&mut self) -> &mut AppApiPage {
        &mut self.app_api
    }

    pub fn editor(&self) -> &ModelEditor {
        &self.editor
    }

    pub fn editor_mut(&mut self) -> &mut ModelEditor {
        &mut self.editor
    }

    /// Messages per second over the last second or so.
    pub fn message_rate(&self) -> f64 {
        self.rate.per_sec
    }

    /// The embedded broker's address, once it listens.
    pub fn broker_addr(&self) -> Option<SocketAddr> {
        self.local.as_ref().and_then(LocalServices::broker_addr)
    }


}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_local();
        self.poll_background();
        if let Some(models) = self.model_source.poll() {
            let text = NoticeText::new("{n} product models loaded", vec![("n", models.len().to_string().into())]);
            self.models = models;
            self.app_api.serving.set_models(&self.models);
            self.notice(None, text);
        }
        self.app_api.poll(ctx);
        let started = Instant::now();
        self.backlog.extend(self.events.drain());
        while let Some(event) = self.backlog.pop_front() {
            self.on_event(event);
            if started.elapsed() >= EVENT_BUDGET {
                break;
            }
        }
        if !self.backlog.is_empty() {
            ctx.request_repaint();
        }
        let received = self.engine.state.store().stats().received;
        self.rate.update(received, Instant::now());
        // The rate and "last seen" times move even when no event arrives.
        ctx.request_repaint_after(Duration::from_secs(1));
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut commands = Vec::new();
        let info = TopBarInfo { broker_addr: self.broker_addr(), models: &self.model_source, app_api: &self.app_api.serving };
        // Put into words each frame: a switch of language applies to notices already shown.
        let latest: Vec<String> = self.notices.iter().skip(self.notices.len().saturating_sub(NOTICES_SHOWN)).map(|n| n.text_in(self.settings.lang)).collect();
        let latest: Vec<&str> = latest.iter().map(String::as_str).collect();
        let view = ViewContext {
            lang: self.settings.lang,
            state: &self.engine.state,
            sessions: &self.sessions,
            models: &self.models,
            profile: &self.engine.profile,
            now_ms: now_ms(),
        };
        let settings = &mut self.settings;
        // Unsaved models: the window stays open and the editor asks first.
        if ui.ctx().input(|i| i.viewport().close_requested()) && !self.editor.may_quit() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.active_tab = Tab::Models;
        }

        Panel::top("top_bar").show(ui, |ui| top_bar_ui(ui, &view, settings, &info, &mut self.replay_opener, &mut commands));
        if super::replay::open_replays(&view).next().is_some() {
            Panel::top("replay_bar").show(ui, |ui| super::replay::replay_bars_ui(ui, &view, &mut commands));
            // The position moves while the replay plays.
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        Panel::bottom("status_bar").show(ui, |ui| status_bar_ui(ui, &view, self.rate.per_sec, &latest));

        let left = Panel::left("left_column")
            .resizable(true)
            .default_size(settings.left_panel_width)
            .size_range(220.0..=640.0)
            .show(ui, |ui| {
                Panel::top("connections_area")
                    .resizable(true)
                    .default_size(ui.available_height() * 0.5)
                    .size_range(120.0..=(ui.available_height() - 120.0).max(121.0))
                    .frame(Frame::NONE.inner_margin(egui::Margin { bottom: 6, ..egui::Margin::ZERO }))
                    .show(ui, |ui| self.connections.ui(ui, &view, &mut commands));
                CentralPanel::no_frame().show(ui, |ui| {
                    ui.add_space(4.0);
                    self.gateways.ui(ui, &view, &mut commands);
                });
            });
        settings.left_panel_width = left.response.rect.width();

        let mut publish_open = settings.publish_open;
        let mut toggle_publish = false;
        let collapsed = Panel::bottom("publish_collapsed").resizable(false);
        let expanded = Panel::bottom("publish_expanded").resizable(true).default_size(settings.publish_height).size_range(120.0..=640.0);
        let publish = Panel::show_switched(ui, &mut publish_open, collapsed, expanded, |ui, expanded| {
            let arrow = if expanded { "▼" } else { "▲" };
            if ui.selectable_label(expanded, format!("{arrow} {}", view.tr("Publish"))).clicked() {
                toggle_publish = true;
            }
            if expanded {
                // The user sizes the panel; a taller form scrolls inside it.
                egui::ScrollArea::vertical().id_salt("publish_area").auto_shrink([false, false]).show(ui, |ui| {
                    self.publish.ui(ui, &view, &mut commands);
                });
            }
        });
        if publish_open {
            settings.publish_height = publish.response.rect.height();
        }
        settings.publish_open = if toggle_publish { !publish_open } else { publish_open };

        CentralPanel::default().show(ui, |ui| {
            let mut close = None;
            ui.horizontal(|ui| {
                if ui.selectable_label(self.active_tab == Tab::Topics, view.tr("Topics")).clicked() {
                    self.active_tab = Tab::Topics;
                }
                if ui.selectable_label(self.active_tab == Tab::Plots, view.tr("Plots")).clicked() {
                    self.active_tab = Tab::Plots;
                }
                let stations = format!("{} ({})", view.tr("Stations"), view.state.stations().len());
                if ui.selectable_label(self.active_tab == Tab::Stations, stations).clicked() {
                    self.active_tab = Tab::Stations;
                }
                if ui.selectable_label(self.active_tab == Tab::AppApi, view.tr("App API")).clicked() {
                    self.active_tab = Tab::AppApi;
                }
                let unsaved = if self.editor.unsaved().is_empty() { "" } else { " ●" };
                if ui.selectable_label(self.active_tab == Tab::Models, format!("{}{unsaved}", view.tr("Model editor"))).clicked() {
                    self.active_tab = Tab::Models;
                }
                for (i, key) in self.device_pages.iter().map(DevicePage::key).enumerate() {
                    let active = self.active_tab == Tab::Device(key.clone());
                    let tab = ui.selectable_label(active, key.dev.as_str()).on_hover_text(format!("{}/{}", key.pk, key.dev));
                    if tab.clicked() {
                        self.active_tab = Tab::Device(key.clone());
                    }
                    let close_button = egui::Button::new("×").small().frame(false);
                    if ui.add(close_button).on_hover_text(format!("{} {}", view.tr("Close"), key.dev)).clicked() {
                        close = Some(i);
                    }
                }
            });
            ui.separator();
            match &self.active_tab {
                Tab::Topics => self.explorer.ui(ui, &view, &mut commands),
                Tab::Plots => self.plots.ui(ui, &view),
                Tab::Stations => self.stations.ui(ui, &view, &mut settings.ess_metric_map, &mut commands),
                Tab::AppApi => self.app_api.ui(ui, &view),
                Tab::Models => self.editor.ui(ui, &view, &mut commands, &mut settings.recent_models),
                Tab::Device(key) => {
                    if let Some(page) = self.device_pages.iter_mut().find(|p| p.key() == key) {
                        page.ui(ui, &view, &mut commands);
                    }
                }
            }
            if let Some(i) = close {
                let page = self.device_pages.remove(i);
                if self.active_tab == Tab::Device(page.key().clone()) {
                    self.active_tab = self.device_pages.get(i.saturating_sub(1)).map_or(Tab::Topics, |p| Tab::Device(p.key().clone()));
                }
            }
        });
        self.apply(commands);
        self.sync_plots();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.save(storage);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.engine.shutdown();
        // Stops the demo gateway and the embedded broker now rather than at process end.
        self.local = None;
    }
}
