//! Against the simulator through the embedded broker: the request goes by the engine, its
//! reply is shown beside it, Resend takes a fresh id and Retry the same.

use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey, RequestSpec};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::ui::publish::PublishPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-PUB";

struct State {
    panel: PublishPanel,
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
    _rt: tokio::runtime::Runtime,
}

fn start() -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("broker");
    let url = broker.url();
    let files = tempfile::tempdir().expect("tempdir");
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-pub")), engine.default_session_options("lab")).expect("connect");
        let config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), files.path().to_path_buf());
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State { panel: PublishPanel::default(), commands: Vec::new(), sessions, engine, models: ModelSet::builtin(), profile: TopicProfile::builtin() };
    let harness = Harness::builder().with_size(egui::vec2(900.0, 1400.0)).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.panel.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    (harness, Bench { _sim: sim, _broker: broker, _files: files, _rt: rt })
}

fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        if Instant::now() >= deadline {
            let labels: Vec<String> = harness.query_all_by_label_contains("/").filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value())).collect();
            panic!("timed out waiting for {what}: {labels:?}");
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Carries out the requests the panel pushed, as the app would; returns them.
fn apply(harness: &mut Harness<'static, State>) -> Vec<RequestSpec> {
    let state = harness.state_mut();
    let mut sent = Vec::new();
    for command in state.commands.drain(..) {
        if let UiCommand::Request(spec) = command {
            state.engine.request(spec.clone()).expect("engine running");
            sent.push(spec);
        }
    }
    sent
}

fn has_text(harness: &Harness<'static, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

/// The outcome lines of the sent rows that read `class/action: 0 ok · N ms · …`, newest first.
fn answered(harness: &Harness<'static, State>, class_action: &str) -> Vec<String> {
    let prefix = format!("{class_action}: 0 ok · ");
    harness
        .query_all_by_label_contains(&prefix)
        .filter_map(|node| node.accesskit_node().label().or_else(|| node.accesskit_node().value()))
        .filter(|label| label.strip_prefix(&prefix).and_then(|rest| rest.split_once(" ms · ")).is_some_and(|(ms, _)| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit())))
        .collect()
}

fn wait_for_subs(harness: &mut Harness<'static, State>) -> Vec<String> {
    let key = GatewayKey { pk: PK.into(), dev: DEV.into() };
    run_until(harness, "the gateway with its sub-devices", |h| {
        h.state().engine.state.gateways().get(&key).is_some_and(|g| g.info.as_ref().is_some_and(|i| i.subs.as_ref().is_some_and(|s| s.len() >= 2)))
    });
    harness.state_mut().panel.set_gateway(PK, DEV);
    harness.run();
    let info = harness.state().engine.state.gateways().get(&key).and_then(|g| g.info.clone());
    info.and_then(|i| i.subs).expect("subs").into_iter().map(|s| s.sub).collect()
}

fn click(harness: &mut Harness<'static, State>, label: &str) {
    harness.get_by_label(label).click();
    harness.run();
}

#[test]
fn point_get_names_a_sub_device_its_reply_is_shown_and_resend_and_retry_keep_their_ids() {
    let (mut harness, _bench) = start();
    let subs = wait_for_subs(&mut harness);
    click(&mut harness, "Request");
    click(&mut harness, "6.4 point/get");
    click(&mut harness, "Fill topic and payload");
    click(&mut harness, "Publish");
    let sent = apply(&mut harness);
    assert_eq!(sent.len(), 1);
    let first = &sent[0];
    assert_eq!((first.class.as_str(), first.action.as_str()), ("point", "get"));
    assert_eq!(first.data["sub"], subs[0].as_str(), "the sub-device from the gateway's info: {}", first.data);
    let pids: Vec<&str> = first.data["pids"].as_array().map(|p| p.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    assert!(!pids.is_empty(), "the sub-device's points from its model: {}", first.data);

    // The reply beside it: code, its name and the latency, then its data.
    run_until(&mut harness, "the reply shown", |h| answered(h, "point/get").len() == 1);
    let first_id = first.id.clone().expect("an id");
    assert!(has_text(&harness, &format!("id {first_id}")));
    assert!(has_text(&harness, "points[0].pid"), "the reply's data");
    assert!(harness.query_by_label(pids[0]).is_some(), "the first point's id, as the reply gave it");

    click(&mut harness, "Resend");
    let resent = apply(&mut harness);
    assert_eq!(resent.len(), 1);
    assert_ne!(resent[0].id, first.id, "Resend takes a fresh id");
    assert_eq!(resent[0].data, first.data);
    run_until(&mut harness, "the resend answered", |h| answered(h, "point/get").len() == 2);

    // Retry the newest row (the resend): the same id again; the gateway replays its reply.
    let newest = resent[0].id.clone();
    harness.get_all_by_label("Retry").next().expect("a Retry button").click();
    harness.run();
    let retried = apply(&mut harness);
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].id, newest, "Retry reuses the id (contract §3)");
    assert_eq!(retried[0].data, resent[0].data);
    assert_eq!(harness.state().panel.sent().count(), 3);
    run_until(&mut harness, "every row answered", |h| answered(h, "point/get").len() == 3);
}

#[test]
fn a_command_to_the_chosen_sub_device_shows_its_outputs_by_the_model() {
    let (mut harness, _bench) = start();
    let subs = wait_for_subs(&mut harness);
    let models = ModelSet::builtin();
    let gateways = harness.state().engine.state.gateways();
    let key = GatewayKey { pk: PK.into(), dev: DEV.into() };
    let declared = gateways.get(&key).and_then(|g| g.info.clone()).and_then(|i| i.subs).expect("subs");
    drop(gateways);
    let pcs = declared.iter().find(|s| s.product_key == "PK-PCS-100").map(|s| s.sub.clone()).expect("a PCS behind the gateway");
    assert_ne!(subs[0], pcs, "the PCS is not the default choice");
    assert!(models.get("PK-PCS-100").is_some_and(|d| d.model().command("start").is_some()));

    click(&mut harness, "Sub-device");
    click(&mut harness, &pcs);
    click(&mut harness, "Request");
    click(&mut harness, "6.1 command/request");
    click(&mut harness, "Fill topic and payload");
    click(&mut harness, "Publish");
    let sent = apply(&mut harness);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].data, serde_json::json!({"cmd": "start", "sub": pcs, "params": {}}), "the chosen sub-device's first command");
    run_until(&mut harness, "the command's reply", |h| answered(h, "command/request").len() == 1);
    assert!(harness.query_by_label("Run state").is_some(), "the output named by the PCS model");
}
