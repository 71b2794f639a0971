//! The gateways panel under egui_kittest, fed by a real engine: the embedded broker, the
//! simulator serving the built-in energy gateway as GW-UI, frames run in a loop while the
//! engine and the simulator work on their runtime.

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::gateways::GatewaysPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-UI";

/// What the harness draws: the list, or the device page of one gateway.
#[derive(Clone, PartialEq)]
enum Show {
    List,
    Page(GatewayKey),
}

struct State {
    panel: GatewaysPanel,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
    lang: Lang,
    show: Show,
    /// The page drawn for `Show::Page`, made when first shown.
    page: Option<DevicePage>,
}

/// Everything that must outlive the frames: the runtime last.
struct Bench {
    _sim: SimHandle,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start(width: f32) -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let files = tempfile::tempdir().unwrap();
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-test")), engine.default_session_options("lab")).expect("connect");
        assert_eq!(session, 1);
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State {
        panel: GatewaysPanel::default(),
        commands: Vec::new(),
        sessions,
        engine,
        models: ModelSet::builtin(),
        profile: TopicProfile::builtin(),
        lang: Lang::En,
        show: Show::List,
        page: None,
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(width, 2400.0))
        .with_context_setup(cems_workbench::ui::fonts::install)
        .build_ui_state(
            |ui, s: &mut State| {
                let ctx = ViewContext { lang: s.lang, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
                match s.show.clone() {
                    Show::List => s.panel.ui(ui, &ctx, &mut s.commands),
                    Show::Page(key) => {
                        let page = s.page.get_or_insert_with(|| DevicePage::new(key.clone()));
                        if *page.key() != key {
                            *page = DevicePage::new(key);
                        }
                        page.ui(ui, &ctx, &mut s.commands);
                    }
                }
            },
            state,
        );
    (harness, Bench { _sim: sim, _broker: broker, _files: files, rt })
}

/// Runs frames, letting the engine and the simulator work in between, until `done` holds.
fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run();
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// The gateway reported its status, info, versions and the meter's points.
fn announced(h: &Harness<'static, State>) -> bool {
    let gateways = h.state().engine.state.gateways();
    gateways.get(&key()).is_some_and(|g| {
        g.online == Some(true) && g.info.is_some() && !g.versions.is_empty() && g.subs.get("meter-1").is_some_and(|m| m.points.contains_key("Ua"))
    })
}

#[test]
fn the_list_shows_the_simulated_gateway_and_opens_its_page() {
    let (mut harness, bench) = start(1000.0);
    run_until(&mut harness, "GW-UI online with info, versions and meter points", announced);

    // The wide list is a table: pk/dev, state, vendor / model, …
    harness.get_by_role_and_label(Role::Button, "PK-GW-01/GW-UI");
    harness.get_by_label("online");
    harness.get_by_label("Example Energy Technology Co., Ltd. / EG-2000");
    assert!(harness.query_by_label("just now").is_some() || harness.query_by_label_contains(" s ago").is_some());
    // The filter hides what does not match.
    let filter = harness.get_by_label("Filter gateways");
    filter.focus();
    filter.type_text("nothing-like-this");
    harness.run();
    assert!(harness.query_by_label("PK-GW-01/GW-UI").is_none());
    harness.get_by_label("Filter gateways").set_text_value_accesskit("example energy");
    harness.run();

    harness.get_by_role_and_label(Role::Button, "PK-GW-01/GW-UI").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    assert!(matches!(commands.as_slice(), [UiCommand::OpenGateway(k)] if *k == key()), "{commands:?}");
    assert_eq!(harness.state().panel.selected(), Some(&key()));

    // The device page: identity, module versions, sub-devices with names from the models.
    harness.state_mut().show = Show::Page(key());
    run_until(&mut harness, "the page", |h| h.query_by_label("Phase A voltage").is_some());
    harness.get_by_label("PK-GW-01/GW-UI");
    harness.get_by_label("Module versions");
    harness.get_by_label("firmware");
    harness.get_by_label("Example Energy Technology Co., Ltd.");
    harness.get_by_label_contains("meter-1: Three-phase");
    harness.get_by_label("Ua");
    harness.get_by_label_contains("pcs-1: ");
    harness.get_by_label("CPU load");

    harness.get_by_role_and_label(Role::Button, "Refresh versions").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Refresh info").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let requests: Vec<_> = commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Request(spec) => Some((spec.session, spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(requests, vec![(1, PK, DEV, "ota", "version/get"), (1, PK, DEV, "info", "get")]);
    drop(harness);
    drop(bench.rt);
}

#[test]
fn a_narrow_column_lists_the_gateway_on_two_lines_in_chinese() {
    let (mut harness, _bench) = start(300.0);
    harness.state_mut().lang = Lang::Zh;
    run_until(&mut harness, "GW-UI online", announced);
    let node = harness.get_by_role_and_label(Role::Button, "PK-GW-01/GW-UI");
    assert!(node.rect().max.x <= 300.0, "{:?}", node.rect());
    harness.get_by_label("在线");
    harness.get_by_label_contains("个子设备");

    harness.state_mut().show = Show::Page(key());
    run_until(&mut harness, "the page in Chinese", |h| h.query_by_label("A相电压").is_some());
    harness.get_by_label("模块版本");
}

#[test]
fn an_unknown_gateway_page_says_so() {
    let (mut harness, _bench) = start(800.0);
    harness.state_mut().show = Show::Page(GatewayKey { pk: "PK-NONE".into(), dev: "nobody".into() });
    harness.run();
    harness.get_by_label("This gateway has not been seen on any session.");
}
