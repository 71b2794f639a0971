//! The device page's Points tab under egui_kittest, fed by a real engine: the embedded broker and
//! the simulator serving the built-in energy gateway (a meter and a PCS behind it). Stale marking,
//! enum labels, "Read now", and a set that asks for confirmation first and then closes the loop
//! with a read-back.

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
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::json;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-PTS";

struct State {
    page: DevicePage,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
    /// Added to the frame's clock, to see values age.
    later_ms: i64,
}

struct Bench {
    _sim: SimHandle,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start() -> (Harness<'static, State>, Bench) {
    start_skewed(0)
}

fn start_skewed(skew_ms: i64) -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let files = tempfile::tempdir().unwrap();
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-points")), engine.default_session_options("lab")).expect("connect");
        assert_eq!(session, 1);
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        config.clock_skew_ms = skew_ms;
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State { page: DevicePage::new(key()), commands: Vec::new(), sessions, engine, models: ModelSet::builtin(), profile: TopicProfile::builtin(), later_ms: 0 };
    let harness = Harness::builder().with_size(egui::vec2(1400.0, 2400.0)).with_context_setup(cems_workbench::ui::fonts::install).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() + s.later_ms };
            s.page.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    (harness, Bench { _sim: sim, _broker: broker, _files: files, rt })
}

/// Runs frames until `done`, sending what the page pushes when `carry_out` (as the window would).
fn run_until(harness: &mut Harness<'static, State>, what: &str, carry_out: bool, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if carry_out {
            for command in std::mem::take(&mut harness.state_mut().commands) {
                if let UiCommand::Request(spec) = command {
                    harness.state().engine.request(spec).expect("engine");
                }
            }
        }
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn open_points(harness: &mut Harness<'static, State>) {
    run_until(harness, "the PCS's points", false, |h| {
        h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.subs.get("pcs-1").is_some_and(|s| s.points.contains_key("runState")) && g.subs.contains_key("meter-1"))
    });
    harness.get_by_role_and_label(Role::Button, "Points").click();
    harness.run_steps(2);
    assert_eq!(harness.state().page.active_tab_id(), "points");
}

#[test]
fn points_show_enum_labels_are_marked_stale_past_twice_their_period_and_read_now_asks_point_get() {
    let (mut harness, bench) = start();
    open_points(&mut harness);
    harness.get_by_label("Phase A voltage");
    harness.get_by_label("Run state");
    let labelled = ["Standby (0)", "Charging (1)", "Discharging (2)", "Fault (3)"].iter().any(|l| harness.query_by_label(l).is_some());
    assert!(labelled, "runState is shown by its label");
    assert!(harness.query_by_label("stale").is_none(), "fresh values are not stale");

    // A minute later the meter's 5 s points are past 2 × period; a point without one is not.
    harness.state_mut().later_ms = 60_000;
    harness.run_steps(2);
    let stale = harness.query_all_by_label("stale").count();
    let with_period = ["Ua", "Ub", "Uc"].len();
    assert!(stale >= with_period, "stale marks: {stale}");

    harness.state_mut().commands.clear();
    let read = harness.query_all_by_role_and_label(Role::Button, "Read now").next().expect("a Read now button");
    read.click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let spec = match commands.as_slice() {
        [UiCommand::Request(spec)] => spec.clone(),
        other => panic!("expected one Request, got {other:?}"),
    };
    assert_eq!((spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str()), (PK, DEV, "point", "get"));
    let sub = spec.data["sub"].as_str().expect("data.sub").to_owned();
    assert!(sub == DEV || sub == "meter-1" || sub == "pcs-1", "{sub}");
    drop(harness);
    drop(bench.rt);
}

#[test]
fn a_set_asks_for_confirmation_naming_device_point_and_value_then_reads_back() {
    let (mut harness, bench) = start();
    open_points(&mut harness);
    harness.state_mut().commands.clear();
    let set = harness.query_all_by_role_and_label(Role::Button, "Set…").next().expect("a Set… button for Pset");
    set.click();
    harness.run_steps(2);
    harness.get_by_label("Set Active power setpoint (Pset)");
    harness.get_by_role_and_label(Role::TextInput, "Active power setpoint").set_text_value_accesskit("-42.5");
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Set value").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty(), "nothing is sent before confirming: {:?}", harness.state().commands);
    harness.get_by_label("Set Active power setpoint (Pset) of pcs-1 to -42.5?");

    harness.get_by_role_and_label(Role::Button, "Confirm set").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let spec = match commands.as_slice() {
        [UiCommand::Request(spec)] => spec.clone(),
        other => panic!("expected one Request, got {other:?}"),
    };
    assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str()), (1, PK, DEV, "point", "set"));
    assert_eq!(spec.data, json!({ "sub": "pcs-1", "pid": "Pset", "value": -42.5 }));
    assert!(spec.id.is_some(), "a fresh id, so the tab finds the reply");

    // Carried out: the tab reads the point back by itself and shows target → current.
    harness.state().engine.request(spec).expect("engine");
    run_until(&mut harness, "target → current", true, |h| h.query_by_label("-42.5 → -42.5").is_some());
    harness.get_by_label_contains("read back after");
    drop(harness);
    drop(bench.rt);
}

#[test]
fn the_time_tab_measures_a_skewed_gateway_by_the_median_of_five_exchanges_and_sets_it() {
    let (mut harness, bench) = start_skewed(5_000);
    open_points(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Time").click();
    harness.run_steps(2);
    assert_eq!(harness.state().page.active_tab_id(), "time");
    harness.get_by_label("Not measured yet");
    harness.get_by_role_and_label(Role::Button, "Measure").click();
    harness.run_steps(1);
    match harness.state().commands.as_slice() {
        [UiCommand::Request(spec)] => assert_eq!((spec.class.as_str(), spec.action.as_str()), ("time", "get")),
        other => panic!("expected one time/get, got {other:?}"),
    }
    run_until(&mut harness, "five exchanges", true, |h| h.query_by_label_contains("5 (").is_some());
    let offset = harness.query_all_by_role(Role::Label).filter_map(|n| n.value()).find_map(|v| v.strip_suffix(" ms").and_then(|x| x.strip_prefix('+')).and_then(|x| x.parse::<f64>().ok()));
    let offset = offset.expect("an offset label");
    assert!((offset - 5_000.0).abs() <= 200.0, "offset {offset}");

    harness.get_by_role_and_label(Role::Button, "Set to laptop time").click();
    harness.run_steps(1);
    let sent = std::mem::take(&mut harness.state_mut().commands);
    let spec = match sent.as_slice() {
        [UiCommand::Request(spec)] => spec.clone(),
        other => panic!("expected one time/set, got {other:?}"),
    };
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("time", "set"));
    assert!((spec.data["time"].as_i64().expect("data.time") - now_ms()).abs() < 5_000);
    harness.state().engine.request(spec).expect("engine");
    run_until(&mut harness, "the offset after the set", true, |h| h.query_by_label("Offset after the set").is_some());
    drop(harness);
    drop(bench.rt);
}
