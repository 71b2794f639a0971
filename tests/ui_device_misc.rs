//! The device page's Messages and Meters tabs, and the overview after an upgrade, under
//! egui_kittest, fed by a real engine: the embedded broker and the simulator serving the
//! built-in energy gateway. The commands the tabs push are checked, then carried out.

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey, RequestSpec};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkKind, LinkState, Message, spawn_link};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-MISC";

struct State {
    page: DevicePage,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

struct Bench {
    _sim: SimHandle,
    _broker: EmbeddedBroker,
    _files: tempfile::TempDir,
    url: String,
    rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start() -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("broker");
    let url = broker.url();
    let files = tempfile::tempdir().expect("tempdir");
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-misc")), engine.default_session_options("lab")).expect("connect");
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        config.report_period_ms = Some(200);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url.clone(), kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false });
    let state = State { page: DevicePage::new(key()), commands: Vec::new(), sessions, engine, models: ModelSet::builtin(), profile: TopicProfile::builtin() };
    let harness = Harness::builder().with_size(egui::vec2(1100.0, 1600.0)).with_context_setup(cems_workbench::ui::fonts::install).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.page.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    (harness, Bench { _sim: sim, _broker: broker, _files: files, url, rt })
}

fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
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

fn has_text(harness: &Harness<'static, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

fn online(h: &Harness<'static, State>) -> bool {
    h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.online == Some(true) && g.info.is_some())
}

fn open_tab(harness: &mut Harness<'static, State>, title: &str) {
    harness.get_by_role_and_label(Role::Button, title).click();
    harness.run_steps(2);
}

fn type_into(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

/// A second client speaking for the gateway (the broker has no ACL here).
fn raw_link(bench: &Bench) -> LinkHandle {
    let _entered = bench.rt.enter();
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(bench.url.clone(), "gw-raw")));
    bench.rt.block_on(async {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                Ok(Some(LinkEvent::State(LinkState::Up))) => break,
                Ok(Some(_)) => {}
                other => panic!("the raw link did not connect: {other:?}"),
            }
        }
    });
    // Keep draining its events so the link never waits on us.
    bench.rt.spawn(async move { while events.recv().await.is_some() {} });
    link
}

fn publishes(commands: &[UiCommand]) -> Vec<(u32, Message)> {
    commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Publish { session, message } => Some((*session, message.clone())),
            _ => None,
        })
        .collect()
}

fn requests(commands: &[UiCommand]) -> Vec<RequestSpec> {
    commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Request(spec) => Some(spec.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn messages_tab_lists_message_up_and_sends_message_down_unless_read_only() {
    let (mut harness, bench) = start();
    run_until(&mut harness, "the gateway online", online);
    let link = raw_link(&bench);
    let up = json!({"id": "mu-1", "ts": 1, "ver": "1.0", "data": {"type": "vendor.note", "content": {"text": "door opened"}}});
    link.publish(Message::new(format!("cems/v1/{PK}/{DEV}/up/message/up"), serde_json::to_vec(&up).unwrap(), 0, false)).unwrap();
    open_tab(&mut harness, "Messages");
    run_until(&mut harness, "the message listed", |h| has_text(h, "door opened"));
    assert!(has_text(&harness, "vendor.note"));
    assert!(has_text(&harness, "1 of 1 matching, 1 messages kept"));

    type_into(&mut harness, "Message type", "operator.note");
    type_into(&mut harness, "Content (JSON or text)", r#"{"text": "hello"}"#);
    harness.get_by_label("Send message").click();
    harness.run();
    let sent = publishes(&harness.state().commands);
    assert_eq!(sent.len(), 1);
    let (session, message) = &sent[0];
    assert_eq!((*session, message.topic.as_str()), (1, "cems/v1/PK-GW-01/GW-MISC/down/message/down"));
    let envelope: Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(envelope["data"], json!({"type": "operator.note", "content": {"text": "hello"}}));
    assert_eq!(envelope["ver"], "1.0");
    assert!(envelope["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(has_text(&harness, "a report: the gateway does not reply"));

    // Read-only: the form says so and pushes nothing.
    harness.state_mut().commands.clear();
    harness.state_mut().sessions.get_mut(&1).unwrap().read_only = true;
    harness.run();
    assert!(has_text(&harness, "Read-only session: nothing is sent."));
    harness.get_by_label("Send message").click();
    harness.run();
    assert!(harness.state().commands.is_empty(), "nothing pushed on a read-only session");
    let _ = requests(&[]);
}

#[test]
fn meters_tab_queries_a_period_and_shows_readings_by_the_model() {
    let (mut harness, _bench) = start();
    run_until(&mut harness, "meter readings reported", |h| {
        h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.subs.values().any(|s| !s.meters.is_empty()))
    });
    open_tab(&mut harness, "Meters");
    assert!(has_text(&harness, "Latest readings (meter/report)"));
    assert!(!has_text(&harness, "No meter reading yet."));
    assert!(has_text(&harness, "Chart"), "the chart's place is kept");
    harness.get_by_label("Query readings").click();
    harness.run();
    let sent = requests(&harness.state().commands);
    assert_eq!(sent.len(), 1);
    let spec = &sent[0];
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("meter", "get"));
    let (from, to) = (spec.data["from"].as_i64().unwrap(), spec.data["to"].as_i64().unwrap());
    assert_eq!(to - from, 3_600_000, "the last hour");
    assert!(spec.data.get("sub").is_none(), "all sub-devices");
    assert!(has_text(&harness, "Pending: waiting for the reply"));
    harness.state().engine.request(spec.clone()).unwrap();
    harness.state_mut().commands.clear();
    run_until(&mut harness, "the readings shown", |h| has_text(h, "meter/get: 0 "));
    assert!(harness.query_by_label("0 readings").is_none(), "the simulator had readings in the last hour");
    assert!(has_text(&harness, " readings"));
    // A register's unit from the model is shown (the built-in meter's energy is in kWh).
    assert!(has_text(&harness, "kWh"));

    // Read-only: the query says so and is not sent.
    harness.state_mut().sessions.get_mut(&1).unwrap().read_only = true;
    harness.run();
    assert!(has_text(&harness, "Read-only session: nothing is sent."));
    harness.get_by_label("Query readings").click();
    harness.run();
    assert!(harness.state().commands.is_empty());
}

#[test]
fn after_an_upgrade_the_engine_asks_info_and_versions_again_and_the_overview_shows_them() {
    let (mut harness, _bench) = start();
    run_until(&mut harness, "the gateway with its versions", |h| {
        h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.info.is_some() && !g.versions.is_empty())
    });
    let asked = |h: &Harness<'static, State>, class: &str, action: &str| {
        h.state().engine.state.gateways().get(&key()).map_or(0, |g| g.requests.iter().filter(|r| r.class == class && r.action == action).count())
    };
    let (info_before, versions_before) = (asked(&harness, "info", "get"), asked(&harness, "ota", "version/get"));
    assert!(!has_text(&harness, "2.1.0"));
    let image: Vec<u8> = (0..6_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let spec = cems_workbench::engine::OtaSpec::new(1, PK, DEV, "firmware", "2.1.0", image.into());
    harness.state().engine.start_ota(spec).expect("engine");
    // Nobody asks by hand: the engine does when the task ends done.
    run_until(&mut harness, "info and versions asked again", |h| asked(h, "info", "get") > info_before && asked(h, "ota", "version/get") > versions_before);
    run_until(&mut harness, "the overview showing the new version", |h| has_text(h, "2.1.0"));
    assert_eq!(harness.state().page.active_tab_id(), "overview");
}

#[test]
fn the_request_log_filters_by_class_and_outcome_and_exports_json_lines() {
    let (mut harness, bench) = start();
    run_until(&mut harness, "the gateway online", online);
    // One success and one refusal (an unknown sub-device), through the engine.
    let ok = bench.rt.block_on(harness.state().engine.call(RequestSpec::new(1, PK, DEV, "property", "get", json!({})))).expect("engine");
    assert_eq!(ok.code(), Some(0));
    let bad = bench.rt.block_on(harness.state().engine.call(RequestSpec::new(1, PK, DEV, "point", "get", json!({"sub": "NOPE"})))).expect("engine");
    assert!(bad.code().is_some_and(|c| c != 0), "{bad:?}");
    open_tab(&mut harness, "Requests");
    let total = harness.state().engine.state.gateways().get(&key()).map_or(0, |g| g.requests.len());

    harness.get_by_label("Class").click();
    harness.run();
    harness.get_by_label("point").click();
    harness.run();
    harness.get_by_label(&format!("1 of {total} requests"));
    harness.get_by_label("Class").click();
    harness.run();
    harness.get_all_by_label("All classes").last().expect("the choice").click();
    harness.run();
    // The grid has an "Outcome" column too: the chooser is the combo box of that name.
    harness.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Outcome").click();
    harness.run();
    harness.get_by_label("Errors").click();
    harness.run();
    harness.get_by_label(&format!("1 of {total} requests"));

    // Export what is shown, and read it back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    type_into(&mut harness, "Export path", &path.display().to_string());
    harness.get_by_label("Export JSON lines").click();
    harness.run();
    run_until(&mut harness, "the export written", |h| has_text(h, "1 requests written to"));
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["class"].as_str(), lines[0]["action"].as_str(), lines[0]["outcome"].as_str()), (Some("point"), Some("get"), Some("error")));
    assert_eq!(lines[0]["id"], bad.id.as_str());
    assert_eq!(lines[0]["code"], bad.code().unwrap());
}
