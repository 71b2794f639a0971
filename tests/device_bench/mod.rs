//! A device page under egui_kittest fed by a real engine: the embedded broker, one session on it,
//! and the simulator serving the built-in energy gateway. Shared by the device-tab tests; each
//! test file names its own gateway so two running at once never meet.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey, RequestSpec};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkKind, LinkState, spawn_link};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

pub const PK: &str = "PK-GW-01";

pub struct State {
    pub page: DevicePage,
    pub commands: Vec<UiCommand>,
    pub sessions: Sessions,
    pub engine: EngineHandle,
    pub models: ModelSet,
    pub profile: TopicProfile,
    pub lang: Lang,
}

/// Everything that must outlive the frames: the runtime last.
pub struct Bench {
    pub sim: SimHandle,
    pub broker: EmbeddedBroker,
    pub files: tempfile::TempDir,
    pub url: String,
    pub dev: String,
    pub rt: tokio::runtime::Runtime,
}

impl Bench {
    pub fn key(&self) -> GatewayKey {
        GatewayKey { pk: PK.into(), dev: self.dev.clone() }
    }

    /// Carries out a request as the window's command loop would, and waits for its end.
    pub fn call(&self, harness: &Harness<'static, State>, spec: RequestSpec) -> Option<i64> {
        self.rt.block_on(harness.state().engine.call(spec)).expect("engine").code()
    }
}

/// The page of gateway `dev`, the simulator adjusted by `sim_setup` before it starts.
pub fn start(dev: &str, sim_setup: impl FnOnce(&mut SimConfig)) -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("broker");
    let url = broker.url();
    let files = tempfile::tempdir().expect("tempdir");
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), format!("wb-{dev}"))), engine.default_session_options("lab")).expect("connect");
        let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        sim_setup(&mut config);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url.clone(), kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    let state = State { page: DevicePage::new(key), commands: Vec::new(), sessions, engine, models: ModelSet::builtin(), profile: TopicProfile::builtin(), lang: Lang::En };
    let harness = Harness::builder().with_size(egui::vec2(1200.0, 1800.0)).with_context_setup(cems_workbench::ui::fonts::install).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: s.lang, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.page.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    (harness, Bench { sim, broker, files, url, dev: dev.into(), rt })
}

/// Runs frames until `done`, failing after 20 s with `what`.
pub fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

pub fn has_text(harness: &Harness<'static, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

/// Waits for the gateway online with its info, then opens tab `title`.
pub fn open_tab(harness: &mut Harness<'static, State>, key: &GatewayKey, title: &str) {
    run_until(harness, "the gateway online with its info", |h| h.state().engine.state.gateways().get(key).is_some_and(|g| g.online == Some(true) && g.info.is_some()));
    harness.get_by_role_and_label(Role::Button, title).click();
    harness.run_steps(2);
}

/// Types `text` into the field labelled `label`, replacing what it held.
pub fn replace_text(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

/// The requests pushed since the last call, taken.
pub fn take_requests(harness: &mut Harness<'static, State>) -> Vec<RequestSpec> {
    std::mem::take(&mut harness.state_mut().commands)
        .into_iter()
        .filter_map(|c| match c {
            UiCommand::Request(spec) => Some(spec),
            _ => None,
        })
        .collect()
}

/// Carries out every request the page pushed, as the window would, until `done`.
pub fn serve_until(harness: &mut Harness<'static, State>, bench: &Bench, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        for spec in take_requests(harness) {
            let engine = harness.state().engine.clone();
            bench.rt.spawn(async move {
                let _ = engine.call(spec).await;
            });
        }
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Types `text` into the field labelled `label` (appending to what it holds).
pub fn type_into(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

/// A second client on the broker, speaking for the gateway or for another master (the broker
/// has no ACL here); its events are drained so it never waits on the test.
pub fn raw_link(bench: &Bench, client_id: &str) -> LinkHandle {
    let _entered = bench.rt.enter();
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(bench.url.clone(), client_id)));
    bench.rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                Ok(Some(LinkEvent::State(LinkState::Up))) => break,
                Ok(Some(_)) => {}
                other => panic!("the raw link {client_id} did not connect: {other:?}"),
            }
        }
    });
    bench.rt.spawn(async move { while events.recv().await.is_some() {} });
    link
}
