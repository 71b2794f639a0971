//! [`WorkbenchApp::apply`]: the one place where the panels' commands become engine commands or
//! view changes.

use super::{Tab, WorkbenchApp, egui_theme};
use crate::engine::notice::NoticeText;
use crate::engine::recording::{RecordingMeta, link_without_credentials};
use crate::engine::{EngineCommand, GatewayKey, SessionId};
use crate::transport::{LinkConfig, LinkState};
use crate::ui::device::DevicePage;
use crate::ui::model_source::ModelSource;
use crate::ui::{SessionView, UiCommand};

impl WorkbenchApp {
    /// Opens a session and lists it; None (with a notice) when the engine refused.
    pub(super) fn open_session(&mut self, config: LinkConfig, label: String, profile: Option<String>, read_only: bool) -> Option<SessionId> {
        let target = config.target();
        let kind = config.kind();
        let replay = match &config {
            LinkConfig::Replay(c) => Some(crate::ui::replay::ReplayLink(c.progress.clone())),
            _ => None,
        };
        let mut options = self.engine.default_session_options(label.clone());
        options.read_only = read_only;
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
                    read_only,
                    replay,
                };
                self.sessions.insert(id, view);
                Some(id)
            }
            Err(e) => {
                self.notice(None, NoticeText::new("{target}: {error}", vec![("target", target.into()), ("error", NoticeText::from(e).into())]));
                None
            }
        }
    }

    /// Starts recording into a new file of the recordings folder, naming the open links and
    /// carrying the product models in use.
    fn start_recording(&mut self) {
        let path = match crate::ui::recording::next_recording_path(&self.settings) {
            Ok(p) => p,
            Err(text) => return self.notice(None, text),
        };
        let links: Vec<String> = self.sessions.values().filter(|s| s.state != LinkState::Closed).map(|s| link_without_credentials(&s.target)).collect();
        let meta = RecordingMeta {
            link: links.join("; "),
            workbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            models: self.models.iter().map(|d| (format!("{}.json", d.product_key()), d.original_text().as_bytes().to_vec())).collect(),
        };
        let options = crate::ui::recording::record_options(&self.settings);
        if let Err(e) = self.engine.send(EngineCommand::StartRecording { path, meta, options }) {
            self.notice(None, e);
        }
    }

    /// The one place where commands become engine commands or view changes.
    pub fn apply(&mut self, commands: Vec<UiCommand>) {
        for command in commands {
            match command {
                UiCommand::RestartLocal => self.restart_local(),
                UiCommand::Connect { config, label, profile, read_only } => {
                    self.open_session(config, label, profile, read_only);
                }
                UiCommand::Disconnect(session) => {
                    if let Err(e) = self.engine.disconnect(session) {
                        self.notice(Some(session), e);
                    }
                    self.closing.insert(session);
                }
                UiCommand::Subscribe { session, filter, qos } => {
                    if let Err(e) = self.engine.send(EngineCommand::Subscribe { session, filter, qos }) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::Unsubscribe { session, filter } => {
                    if let Err(e) = self.engine.send(EngineCommand::Unsubscribe { session, filter }) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::Publish { session, message } => {
                    if let Err(e) = self.engine.publish(session, message) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::Request(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.request(spec) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::RunConformance(launch) => launch.start(&self.engine, self.runtime.as_ref()),
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
                        self.notice(None, e);
                    }
                    self.rate.reset();
                }
                UiCommand::PinTopics { prefix, pinned } => {
                    if let Err(e) = self.engine.send(EngineCommand::PinTopics { prefix, pinned }) {
                        self.notice(None, e);
                    }
                }
                UiCommand::StartOta(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_ota(spec) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::StartFileDownload(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_file_download(spec) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::StartFileUpload(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.start_file_upload(spec) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::CancelTransfer(id) => {
                    if let Err(e) = self.engine.cancel_transfer(&id) {
                        self.notice(None, e);
                    }
                }
                UiCommand::PlotSeries { key, plot } => {
                    if let Some(problem) = key.problem() {
                        self.notice(None, NoticeText::new("Cannot plot {series}: {problem}", vec![("series", key.label().into()), ("problem", problem.into())]));
                        continue;
                    }
                    let label = key.label();
                    let title = crate::ui::i18n::tr(self.settings.lang, "Plot");
                    if self.plots.add_series(key, plot, title).is_none() {
                        self.notice(None, NoticeText::new("Cannot plot {series}: the plot is full", vec![("series", label.into())]));
                    }
                    self.active_tab = Tab::Plots;
                }
                UiCommand::StorageCommand(spec) => {
                    let session = spec.session;
                    if let Err(e) = self.engine.send(EngineCommand::StorageCommand { spec, reply: None }) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::SimulateModel(plan) => self.simulate_model(*plan),
                UiCommand::DemoStation(run) => self.demo_station(run),
                UiCommand::StopSimulation => {
                    if let Some(local) = &self.local {
                        local.stop_simulation();
                    }
                }
                UiCommand::Quit => self.egui_ctx.send_viewport_cmd(egui::ViewportCommand::Close),
                UiCommand::ServeAppApi(on) => {
                    self.settings.api_serve = on;
                    if on {
                        let request = crate::ui::app_api::serve::ServeRequest {
                            listen: &self.settings.api_listen,
                            apps_file: &self.settings.api_apps_file,
                            sites: &self.settings.api_sites,
                            state: &self.engine.state,
                            models: &self.models,
                            history: crate::ui::history::history_path(&self.settings),
                        };
                        self.app_api.start_serving(request);
                    } else {
                        self.app_api.serving.stop();
                    }
                }
                UiCommand::StartRecording => self.start_recording(),
                UiCommand::ReplayControl { session, control } => {
                    if let Err(e) = self.engine.send(EngineCommand::ReplayControl { session, control }) {
                        self.notice(Some(session), e);
                    }
                }
                UiCommand::StopRecording => {
                    if let Err(e) = self.engine.send(EngineCommand::StopRecording) {
                        self.notice(None, e);
                    }
                }
                UiCommand::ReloadModels => {
                    let dirs = ModelSource::folders_to_read(&self.settings.models_dir, &self.model_dirs);
                    let ctx = self.egui_ctx.clone();
                    self.model_source.reload(dirs, move || ctx.request_repaint());
                }
            }
        }
    }

    /// Starts the model editor's simulated gateway; the window decodes with its models and shows
    /// its device page.
    fn simulate_model(&mut self, plan: crate::ui::model_editor::simulate::SimulationPlan) {
        let Some(local) = &self.local else {
            self.editor.simulation_ended();
            self.notice(None, NoticeText::new("Cannot simulate: no embedded broker (the window was opened on a link)", vec![]));
            return;
        };
        match local.simulate(plan.models.clone(), &plan.gateway_pk, &plan.dev) {
            Ok(()) => {
                for doc in plan.models.iter().filter(|d| plan.edited.iter().any(|pk| pk == d.product_key()) || d.product_key() == plan.gateway_pk) {
                    self.models.insert(doc.clone());
                }
                let text = NoticeText::new("Simulating {pk}/{dev}", vec![("pk", plan.gateway_pk.clone().into()), ("dev", plan.dev.clone().into())]);
                self.notice(None, text);
                self.apply(vec![UiCommand::OpenGateway(GatewayKey { pk: plan.gateway_pk, dev: plan.dev })]);
            }
            Err(e) => {
                self.editor.simulation_ended();
                self.notice(None, NoticeText::new("Cannot simulate: {error}", vec![("error", e.into())]));
            }
        }
    }

    /// Starts or stops the demo energy-storage station on the embedded broker.
    fn demo_station(&mut self, run: bool) {
        let Some(local) = &self.local else {
            self.notice(None, NoticeText::new("Cannot start the demo station: no embedded broker (the window was opened on a link)", vec![]));
            return;
        };
        if !run {
            local.stop_station();
            self.stations.set_demo_running(false);
            return self.notice(None, NoticeText::new("Demo storage station stopped", vec![]));
        }
        match local.start_station() {
            Ok(()) => {
                self.stations.set_demo_running(true);
                self.notice(None, NoticeText::new("Demo storage station ess/station-1 started", vec![]));
            }
            Err(e) => self.notice(None, NoticeText::new("Cannot start the demo station: {error}", vec![("error", e.into())])),
        }
    }

    /// After a change of the plots: persists their layout in the settings and has the engine
    /// track exactly the path series they hold.
    pub(super) fn sync_plots(&mut self) {
        if self.plots.take_changed() {
            self.settings.plot_layout = Some(self.plots.layout());
            self.track_plot_paths();
        }
    }

    /// Asks the engine to track the plots' path series (and to stop those no plot holds).
    pub(super) fn track_plot_paths(&mut self) {
        let wanted = self.plots.path_series();
        let track: Vec<(String, String)> = wanted.iter().filter(|p| !self.tracked_paths.contains(p)).cloned().collect();
        let untrack: Vec<(String, String)> = self.tracked_paths.iter().filter(|p| !wanted.contains(p)).cloned().collect();
        for (topic, pointer) in &track {
            if let Err(e) = self.engine.track_path(topic, pointer) {
                self.notice(None, e);
            }
        }
        for (topic, pointer) in &untrack {
            if let Err(e) = self.engine.untrack_path(topic, pointer) {
                self.notice(None, e);
            }
        }
        self.tracked_paths = wanted;
    }
}
