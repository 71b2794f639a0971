//! The publish panel: what it sends, its JSON check, the CEMS helper and resending. The engine
//! runs only to provide the shared state a panel reads; commands are checked, not applied.

use cems_workbench::engine::{Engine, EngineConfig, EngineEvents, EngineHandle, RequestSpec};
use cems_workbench::protocol::envelope::{Envelope, parse_envelope};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::{LinkKind, LinkState, Message};
use cems_workbench::ui::publish::PublishPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const NOW_MS: i64 = 1_700_000_000_000;

thread_local! {
    /// The frame's clock: tests move it to see what is stamped when.
    static NOW: std::cell::Cell<i64> = const { std::cell::Cell::new(NOW_MS) };
}

struct Bench {
    _runtime: tokio::runtime::Runtime,
    engine: EngineHandle,
    _events: EngineEvents,
    sessions: Sessions,
    models: ModelSet,
    profile: TopicProfile,
}

fn bench() -> Bench {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (engine, events) = {
        let _guard = runtime.enter();
        Engine::spawn_with(EngineConfig::default(), || {}).expect("engine")
    };
    let mut sessions = Sessions::new();
    for (id, label, state) in [(1, "lab broker", LinkState::Up), (2, "spare", LinkState::Up), (3, "site", LinkState::Up)] {
        sessions.insert(
            id,
            SessionView {
                id,
                label: label.into(),
                target: format!("mqtt://127.0.0.1:188{id}"),
                kind: LinkKind::Mqtt,
                state,
                attempts: 1,
                frames_dropped: 0,
                profile: None,
                // The live site is read-only.
                read_only: id == 3,
            },
        );
    }
    Bench { _runtime: runtime, engine, _events: events, sessions, models: ModelSet::builtin(), profile: TopicProfile::builtin() }
}

type State = (PublishPanel, Vec<UiCommand>);

fn harness(bench: &Bench) -> Harness<'_, State> {
    Harness::builder().with_size(egui::vec2(700.0, 900.0)).build_ui_state(
        move |ui, (panel, commands): &mut State| {
            let ctx = ViewContext {
                lang: Lang::En,
                state: &bench.engine.state,
                sessions: &bench.sessions,
                models: &bench.models,
                profile: &bench.profile,
                now_ms: NOW.with(std::cell::Cell::get),
            };
            panel.ui(ui, &ctx, commands);
        },
        (PublishPanel::default(), Vec::new()),
    )
}

fn type_into(harness: &mut Harness<'_, State>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.run();
    harness.get_by_label(label).type_text(text);
    harness.run();
}

fn published(commands: &[UiCommand]) -> Vec<(u32, Message)> {
    commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Publish { session, message } => Some((*session, message.clone())),
            _ => None,
        })
        .collect()
}

fn has_text(harness: &Harness<'_, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

#[test]
fn publish_sends_the_typed_message_and_resend_sends_it_again() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    // A downlink report (not a request): published as typed.
    type_into(&mut harness, "Topic", "cems/v1/PK-GW-01/GW-T/down/message/down");
    type_into(&mut harness, "Payload", r#"{"id":"m1","ts":1,"ver":"1.0","data":{}}"#);
    assert!(has_text(&harness, "Valid JSON"));
    harness.get_by_label("Retain").click();
    harness.run();
    harness.get_by_label("0").click();
    harness.run();
    harness.get_by_label("Publish").click();
    harness.run();
    let sent = published(&harness.state().1);
    let expected = Message::new("cems/v1/PK-GW-01/GW-T/down/message/down", br#"{"id":"m1","ts":1,"ver":"1.0","data":{}}"#.to_vec(), 0, true);
    assert_eq!(sent, [(1, expected.clone())], "to the session that is up, by default");
    assert_eq!(harness.state().0.sent().count(), 1);
    assert!(has_text(&harness, "cems/v1/PK-GW-01/GW-T/down/message/down  40 B  QoS 0  retained"));

    harness.get_by_label("Resend").click();
    harness.run();
    let sent = published(&harness.state().1);
    assert_eq!(sent, [(1, expected.clone()), (1, expected)]);
    assert_eq!(harness.state().0.sent().count(), 2, "a resend is a send: newest first in the list");
}

#[test]
fn invalid_json_is_flagged_with_its_position_but_can_still_be_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "Topic", "lab/raw");
    type_into(&mut harness, "Payload", r#"{"a": 1,"#);
    assert!(has_text(&harness, "Not valid JSON: EOF while parsing a value (line 1, column 8). It can still be published as raw text."));
    harness.get_by_label("Publish").click();
    harness.run();
    assert_eq!(published(&harness.state().1), [(1, Message::new("lab/raw", br#"{"a": 1,"#.to_vec(), 1, false))]);
}

#[test]
fn wildcards_in_the_topic_block_publishing() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "Topic", "cems/v1/+/GW/down/#");
    assert!(has_text(&harness, "A topic to publish to cannot hold the wildcards + or #."));
    harness.get_by_label("Publish").click();
    harness.run();
    assert!(published(&harness.state().1).is_empty());
}

#[test]
fn helper_fills_a_cems_request_for_a_gateway() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-GW-01");
    type_into(&mut harness, "dev", "GW-T");
    harness.get_by_label("Request").click();
    harness.run();
    harness.get_by_label("6.9 time/get").click();
    harness.run();
    harness.get_by_label("Fill topic and payload").click();
    harness.run();
    let (panel, _) = harness.state();
    assert_eq!(panel.topic(), "cems/v1/PK-GW-01/GW-T/down/time/get");
    let Ok(Envelope::Request(request)) = parse_envelope(panel.payload().as_bytes()) else {
        panic!("an envelope: {}", panel.payload());
    };
    assert_eq!((request.ts, request.ver.as_str()), (NOW_MS, "1.0"));
    assert_eq!(request.data, serde_json::json!({"t1": NOW_MS}));

    // The session chooser sends to the chosen session, by the engine's request path.
    harness.get_by_label("Session").click();
    harness.run();
    harness.get_by_label("spare (mqtt://127.0.0.1:1882)").click();
    harness.run();
    NOW.with(|n| n.set(NOW_MS + 5_000));
    harness.get_by_label("Publish").click();
    harness.run();
    assert!(published(&harness.state().1).is_empty(), "a request is not a raw publish");
    let sent = requests(&harness.state().1);
    assert_eq!(sent.len(), 1);
    let spec = &sent[0];
    assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str()), (2, "PK-GW-01", "GW-T", "time", "get"));
    assert_eq!(spec.id.as_deref(), Some(request.id.as_str()), "the editor's id is the one sent");
    assert_eq!(spec.data, serde_json::json!({"t1": NOW_MS + 5_000}), "t1 stamped when sent, not when filled");
    let row = harness.state().0.sent().next().expect("a row");
    assert_eq!(row.message.topic, "cems/v1/PK-GW-01/GW-T/down/time/get");
    assert!(has_text(&harness, "Pending: waiting for the reply"), "pending until the log has its outcome");
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

fn fill(harness: &mut Harness<'_, State>, request: &str) -> serde_json::Value {
    harness.get_by_label("Request").click();
    harness.run();
    harness.get_by_label(request).click();
    harness.run();
    harness.get_by_label("Fill topic and payload").click();
    harness.run();
    let Ok(Envelope::Request(r)) = parse_envelope(harness.state().0.payload().as_bytes()) else {
        panic!("an envelope: {}", harness.state().0.payload());
    };
    r.data
}

#[test]
fn helper_templates_come_from_the_gateways_model() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-GW-01");
    type_into(&mut harness, "dev", "GW-T");
    let command = fill(&mut harness, "6.1 command/request");
    assert_eq!(command["cmd"], "reboot", "the model's first command: {command}");
    assert!(command["params"].is_object(), "{command}");
    let keys = fill(&mut harness, "6.6 property/get");
    let model = bench.models.get("PK-GW-01").expect("built-in gateway model").model();
    let all: Vec<&str> = model.properties.iter().map(|p| p.id.as_str()).collect();
    assert!(all.len() > 3);
    assert_eq!(keys, serde_json::json!({"keys": all}), "every property key");
    assert!(!has_text(&harness, "No product model for this gateway"));

    // An unknown product: the contract's skeleton, said so.
    type_into(&mut harness, "pk", "-X");
    let command = fill(&mut harness, "6.1 command/request");
    assert_eq!(command, serde_json::json!({"cmd": "", "params": {}}));
    assert!(has_text(&harness, "No product model for this gateway"));
}

#[test]
fn a_read_only_session_says_so_and_nothing_is_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    harness.get_by_label("Session").click();
    harness.run();
    harness.get_by_label("site (mqtt://127.0.0.1:1883)").click();
    harness.run();
    type_into(&mut harness, "Topic", "lab/raw");
    type_into(&mut harness, "Payload", "hello");
    assert!(has_text(&harness, "Read-only session: nothing is sent."));
    harness.get_by_label("Publish").click();
    harness.run();
    assert!(harness.state().1.is_empty(), "nothing pushed on a read-only session");
    assert_eq!(harness.state().0.sent().count(), 0);
}

mod live {
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
    use egui_kittest::kittest::Queryable;

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
        sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false });
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
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
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

    #[test]
    fn point_get_names_a_sub_device_its_reply_is_shown_and_resend_and_retry_keep_their_ids() {
        let (mut harness, _bench) = start();
        let key = GatewayKey { pk: PK.into(), dev: DEV.into() };
        run_until(&mut harness, "the gateway with its sub-devices", |h| {
            h.state().engine.state.gateways().get(&key).is_some_and(|g| g.info.as_ref().is_some_and(|i| i.subs.as_ref().is_some_and(|s| !s.is_empty())))
        });
        harness.state_mut().panel.set_gateway(PK, DEV);
        harness.run();
        let first_sub = harness.state().engine.state.gateways().get(&key).and_then(|g| g.info.clone()).and_then(|i| i.subs).expect("subs")[0].sub.clone();
        harness.get_by_label("Request").click();
        harness.run();
        harness.get_by_label("6.4 point/get").click();
        harness.run();
        harness.get_by_label("Fill topic and payload").click();
        harness.run();
        harness.get_by_label("Publish").click();
        harness.run();
        let sent = apply(&mut harness);
        assert_eq!(sent.len(), 1);
        let first = &sent[0];
        assert_eq!((first.class.as_str(), first.action.as_str()), ("point", "get"));
        assert_eq!(first.data["sub"], first_sub.as_str(), "the sub-device from the gateway's info: {}", first.data);
        assert!(first.data["pids"].as_array().is_some_and(|p| !p.is_empty()), "the sub-device's points from its model: {}", first.data);

        // The reply beside it: code, name, latency, and its data.
        run_until(&mut harness, "the reply shown", |h| has_text(h, "point/get: 0 "));
        assert!(has_text(&harness, " ms · "), "latency shown");
        let first_id = first.id.clone().expect("an id");
        assert!(has_text(&harness, &format!("id {first_id}")));

        harness.get_by_label("Resend").click();
        harness.run();
        let resent = apply(&mut harness);
        assert_eq!(resent.len(), 1);
        assert_ne!(resent[0].id, first.id, "Resend takes a fresh id");
        assert_eq!(resent[0].data, first.data);

        // Retry the newest row (the resend): the same id again.
        let newest = resent[0].id.clone();
        harness.get_all_by_label("Retry").next().expect("a Retry button").click();
        harness.run();
        let retried = apply(&mut harness);
        assert_eq!(retried.len(), 1);
        assert_eq!(retried[0].id, newest, "Retry reuses the id (contract §3)");
        assert_eq!(harness.state().panel.sent().count(), 3);
        run_until(&mut harness, "every row answered", |h| h.query_all_by_label_contains("point/get: 0 ").count() >= 3);
    }
}
