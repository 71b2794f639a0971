//! The workbench shell: it drains the engine's events, lays out the panels, and applies every
//! [`UiCommand`] in one place ([`WorkbenchApp::apply`]). Panels only draw and push commands.
//!
//! Layout: a top bar (title, language, theme, settings), the status bar at the very bottom, a
//! resizable left column (connections above, gateways below), a collapsible publish panel under
//! the central area, and the central area with the "Topics" tab and one tab per device page.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use egui::containers::{Popup, PopupCloseBehavior};
use egui::{Align, CentralPanel, Frame, Layout, Panel, RichText};

use super::connections::ConnectionsPanel;
use super::device::DevicePage;
use super::explorer::ExplorerPanel;
use super::gateways::GatewaysPanel;
use super::local::{LocalEvent, LocalServices, client_id};
use super::publish::PublishPanel;
use super::settings::Settings;
use super::status_bar::status_bar_ui;
use super::{SessionView, Sessions, ThemeChoice, UiCommand, ViewContext, fonts, i18n};
use crate::engine::{EngineCommand, EngineEvent, EngineEvents, EngineHandle, GatewayKey, SessionId};
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::time::now_ms;
use crate::transport::mqtt::MqttConfig;
use crate::transport::{LinkConfig, LinkKind, LinkState};

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
}

/// Something worth telling the user: engine notices, failed requests, local services.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub at_ms: i64,
    pub session: Option<SessionId>,
    pub text: String,
}

/// Which central tab is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    Topics,
    Device(GatewayKey),
}

/// Messages per second over the last ten seconds, from the store's `received` counter sampled
/// about once a second. Gateways report in bursts (every 5 s, say): a one-second window would
/// read 0 most of the time.
#[derive(Debug, Default)]
struct MessageRate {
    samples: std::collections::VecDeque<(Instant, u64)>,
    per_sec: f64,
}

const RATE_WINDOW: Duration = Duration::from_secs(10);

impl MessageRate {
    fn update(&mut self, received: u64, now: Instant) {
        if self.samples.back().is_some_and(|(at, _)| now.duration_since(*at) < Duration::from_secs(1)) {
            return;
        }
        self.samples.push_back((now, received));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW) {
            self.samples.pop_front();
        }
        if let (Some((first_at, first)), Some((last_at, last))) = (self.samples.front(), self.samples.back()) {
            let secs = last_at.duration_since(*first_at).as_secs_f64();
            // A cleared store counts from 0 again: no negative rate.
            self.per_sec = if secs > 0.0 { last.saturating_sub(*first) as f64 / secs } else { 0.0 };
        }
    }

    fn reset(&mut self) {
        *self = MessageRate::default();
    }
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
    settings: Settings,
    sessions: Sessions,
    /// Sessions the user closed: they leave `sessions` when their link reports `Closed`.
    closing: BTreeSet<SessionId>,
    notices: VecDeque<Notice>,
    rate: MessageRate,
    local: Option<LocalServices>,
    connections: ConnectionsPanel,
    gateways: GatewaysPanel,
    explorer: ExplorerPanel,
    publish: PublishPanel,
    /// The open device pages, in tab order; closing one drops its state.
    device_pages: Vec<DevicePage>,
    active_tab: Tab,
}

impl WorkbenchApp {
    /// The app on a running engine. Installs the CJK font and the theme on `egui_ctx` and opens
    /// `startup.link` at once; never blocks. Works the same under eframe and egui_kittest.
    pub fn new(egui_ctx: &egui::Context, engine: EngineHandle, events: EngineEvents, models: ModelSet, settings: Settings, startup: Startup) -> Self {
        fonts::install(egui_ctx);
        egui_ctx.set_theme(egui_theme(settings.theme));
        let mut app = WorkbenchApp {
            egui_ctx: egui_ctx.clone(),
            engine,
            events,
            backlog: VecDeque::new(),
            models,
            settings,
            sessions: Sessions::new(),
            closing: BTreeSet::new(),
            notices: VecDeque::new(),
            rate: MessageRate::default(),
            local: startup.local,
            connections: ConnectionsPanel::default(),
            gateways: GatewaysPanel::default(),
            explorer: ExplorerPanel::default(),
            publish: PublishPanel::default(),
            device_pages: Vec::new(),
            active_tab: Tab::Topics,
        };
        if let Some((config, label)) = startup.link {
            app.apply(vec![UiCommand::Connect { config, label, profile: None }]);
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

    pub fn explorer(&self) -> &ExplorerPanel {
        &self.explorer
    }

    /// Messages per second over the last second or so.
    pub fn message_rate(&self) -> f64 {
        self.rate.per_sec
    }

    /// The embedded broker's address, once it listens.
    pub fn broker_addr(&self) -> Option<SocketAddr> {
        self.local.as_ref().and_then(LocalServices::broker_addr)
    }

    fn tr(&self, key: &'static str) -> &'static str {
        i18n::tr(self.settings.lang, key)
    }

    fn notice(&mut self, session: Option<SessionId>, text: String) {
        if self.notices.len() == NOTICE_CAPACITY {
            self.notices.pop_front();
        }
        self.notices.push_back(Notice { at_ms: now_ms(), session, text });
    }

    /// The one place where commands become engine commands or view changes.
    pub fn apply(&mut self, commands: Vec<UiCommand>) {
        for command in commands {
            match command {
                UiCommand::Connect { config, label, profile } => {
                    let target = config.target();
                    let kind = config.kind();
                    let options = self.engine.default_session_options(label.clone());
                    match self.engine.connect(config, options) {
                        Ok(id) => {
                            let view = SessionView {
                                id,
                                label,
                                target,
                                kind,
                                state: LinkState::Connecting { attempt: 1 },
                                attempts: 0,
                                frames_dropped: 0,
                                profile,
                            };
                            self.sessions.insert(id, view);
                        }
                        Err(e) => self.notice(None, format!("{target}: {e}")),
                    }
                }
                UiCommand::Disconnect(session) => {
                    if let Err(e) = self.engine.disconnect(session) {
                        self.notice(Some(session), e.to_string());
                    }
                    self.closing.insert(session);
                }
                UiCommand::Publish { session, message } => {
                    if let Err(e) = self.engine.publish(session, message) {
                        self.notice(Some(session), e.to_string());
                    }
                }
                UiCommand::Request(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.request(spec) {
                        self.notice(Some(session), e.to_string());
                    }
                }
                UiCommand::SelectTopic(topic) => {
                    self.explorer.select(&topic);
                    self.active_tab = Tab::Topics;
                }
                UiCommand::OpenGateway(key) => {
                    if !self.device_pages.iter().any(|p| *p.key() == key) {
                        self.device_pages.push(DevicePage::new(key.clone()));
                    }
                    self.active_tab = Tab::Device(key);
                }
                UiCommand::SetLanguage(lang) => self.settings.lang = lang,
                UiCommand::SetTheme(theme) => {
                    self.settings.theme = theme;
                    self.egui_ctx.set_theme(egui_theme(theme));
                }
                UiCommand::ClearStore => {
                    if let Err(e) = self.engine.send(EngineCommand::ClearStore) {
                        self.notice(None, e.to_string());
                    }
                    self.rate.reset();
                }
                UiCommand::StartOta(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_ota(spec) {
                        self.notice(Some(session), e.to_string());
                    }
                }
                UiCommand::StartFileDownload(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_file_download(spec) {
                        self.notice(Some(session), e.to_string());
                    }
                }
                UiCommand::StartFileUpload(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_file_upload(spec) {
                        self.notice(Some(session), e.to_string());
                    }
                }
                UiCommand::CancelTransfer(id) => {
                    if let Err(e) = self.engine.cancel_transfer(&id) {
                        self.notice(None, e.to_string());
                    }
                }
            }
        }
    }

    fn on_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::SessionState { session, state, attempts } => {
                if state == LinkState::Closed && self.closing.remove(&session) {
                    self.sessions.remove(&session);
                    return;
                }
                let view = self.sessions.entry(session).or_insert_with(|| SessionView {
                    // A session opened behind the app's back (none today): show what we know.
                    id: session,
                    label: format!("#{session}"),
                    target: String::new(),
                    kind: LinkKind::Mqtt,
                    state: state.clone(),
                    attempts,
                    frames_dropped: 0,
                    profile: None,
                });
                view.state = state;
                view.attempts = attempts;
            }
            EngineEvent::FramesDropped { session, total } => {
                if let Some(view) = self.sessions.get_mut(&session) {
                    view.frames_dropped = total;
                }
            }
            EngineEvent::RequestDone(outcome) => {
                let what = format!("{}/{} {}/{}", outcome.pk, outcome.dev, outcome.class, outcome.action);
                match &outcome.result {
                    Err(failure) => self.notice(Some(outcome.session), format!("{what}: {failure}")),
                    Ok(reply) if reply.code != 0 => {
                        let msg = reply.msg.as_deref().unwrap_or(reply.name);
                        self.notice(Some(outcome.session), format!("{what}: {} {msg}", reply.code));
                    }
                    Ok(_) => {}
                }
            }
            EngineEvent::Notice { session, text } => self.notice(session, text),
            // The panels read gateways, messages and transfers from the shared state.
            EngineEvent::Message { .. }
            | EngineEvent::RequestSent { .. }
            | EngineEvent::ChunkServed { .. }
            | EngineEvent::Transfer(_)
            | EngineEvent::GatewayChanged(_) => {}
        }
    }

    fn poll_local(&mut self) {
        let Some(local) = self.local.as_mut() else { return };
        for event in local.poll() {
            match event {
                LocalEvent::BrokerUp { addr, fallback } => {
                    let url = format!("mqtt://{addr}");
                    let config = LinkConfig::Mqtt(MqttConfig::new(url.clone(), client_id()));
                    self.apply(vec![UiCommand::Connect { config, label: url, profile: None }]);
                    let text = if fallback {
                        format!("{} {addr} {}", self.tr("Embedded broker listening on"), self.tr("(port 1883 was taken)"))
                    } else {
                        format!("{} {addr}", self.tr("Embedded broker listening on"))
                    };
                    self.notice(None, text);
                }
                LocalEvent::BrokerFailed(e) => {
                    let text = format!("{} {e}", self.tr("Embedded broker failed:"));
                    self.notice(None, text);
                }
                LocalEvent::DemoUp { pk, dev } => {
                    let text = format!("{} {pk}/{dev}", self.tr("Demo gateway started:"));
                    self.notice(None, text);
                }
                LocalEvent::DemoFailed(e) => {
                    let text = format!("{} {e}", self.tr("Demo gateway failed:"));
                    self.notice(None, text);
                }
            }
        }
    }
}

impl eframe::App for WorkbenchApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_local();
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
        let broker_addr = self.broker_addr();
        let latest: Vec<&str> = self.notices.iter().skip(self.notices.len().saturating_sub(NOTICES_SHOWN)).map(|n| n.text.as_str()).collect();
        let view = ViewContext {
            lang: self.settings.lang,
            state: &self.engine.state,
            sessions: &self.sessions,
            models: &self.models,
            profile: &self.engine.profile,
            now_ms: now_ms(),
        };
        let settings = &mut self.settings;

        Panel::top("top_bar").show(ui, |ui| top_bar_ui(ui, &view, settings, broker_addr, &mut commands));
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

/// Title on the left; language, theme and the settings popup on the right.
fn top_bar_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, broker_addr: Option<SocketAddr>, commands: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        ui.heading(view.tr("CEMS Workbench"));
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let button = ui.button(view.tr("Settings"));
            Popup::menu(&button).close_behavior(PopupCloseBehavior::CloseOnClickOutside).show(|ui| {
                ui.set_min_width(260.0);
                ui.label(RichText::new(view.tr("At start")).strong());
                ui.checkbox(&mut settings.start_broker, view.tr("Start the embedded broker"));
                ui.add_enabled(settings.start_broker, egui::Checkbox::new(&mut settings.start_demo, view.tr("Start the demo gateway")));
                ui.label(RichText::new(view.tr("Applied at the next start.")).weak());
                if let Some(addr) = broker_addr {
                    ui.separator();
                    ui.label(format!("{} {addr}", view.tr("Embedded broker listening on")));
                }
            });
            ui.separator();
            for (theme, label) in [(ThemeChoice::Light, view.tr("Light")), (ThemeChoice::Dark, view.tr("Dark"))] {
                if ui.selectable_label(settings.theme == theme, label).clicked() && settings.theme != theme {
                    commands.push(UiCommand::SetTheme(theme));
                }
            }
            ui.separator();
            // Each language names itself, so it can be found in either.
            for (lang, name) in [(Lang::En, "English"), (Lang::Zh, "中文")] {
                if ui.selectable_label(settings.lang == lang, name).clicked() && settings.lang != lang {
                    commands.push(UiCommand::SetLanguage(lang));
                }
            }
        });
    });
}
