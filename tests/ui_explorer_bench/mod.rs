//! The explorer's test bench, shared by the `ui_explorer*` tests: an embedded broker, the engine
//! subscribed to everything, a raw MQTT client standing in for a gateway, and a kittest harness
//! that records what the panel copied to the clipboard.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use cems_workbench::engine::store::StoreLimits;
use cems_workbench::engine::{Engine, EngineConfig, EngineEvent, EngineEvents, EngineHandle, SessionId, SessionOptions};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkKind, LinkState, Message, spawn_link};
use cems_workbench::ui::explorer::ExplorerPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::json;
use tokio::sync::mpsc::Receiver;

pub const POINT_TOPIC: &str = "cems/v1/PK-GW-01/GW-T/up/point/report";
pub const INFO_TOPIC: &str = "cems/v1/PK-GW-01/GW-T/up/info/report";
pub const STATUS_TOPIC: &str = "cems/v1/PK-GW-01/GW-T/up/status";
pub const PROBE_TOPIC: &str = "wb-test/probe";
/// The label of the engine's session in [`Bench::sessions`].
pub const SESSION_LABEL: &str = "bench-broker";

/// A broker, an engine connected to it and a gateway client, on a runtime kept alive here.
pub struct Bench {
    runtime: tokio::runtime::Runtime,
    _broker: EmbeddedBroker,
    pub engine: EngineHandle,
    /// The engine's session on the broker.
    pub session: SessionId,
    _events: EngineEvents,
    gateway: LinkHandle,
    _gateway_events: Receiver<LinkEvent>,
}

impl Bench {
    /// `retained` messages are published before the engine subscribes: MQTT flags a message as
    /// retained only when it is delivered for a new subscription.
    pub fn start(limits: StoreLimits, retained: &[(&str, Vec<u8>)]) -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let (broker, engine, session, events, gateway, gateway_events) = runtime.block_on(async {
            let broker = EmbeddedBroker::start(BrokerConfig::ephemeral()).await.expect("broker");
            let (gateway, mut gateway_events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "PK-GW-01.GW-T")));
            loop {
                match tokio::time::timeout(Duration::from_secs(5), gateway_events.recv()).await {
                    Ok(Some(LinkEvent::State(LinkState::Up))) => break,
                    Ok(Some(_)) => {}
                    other => panic!("gateway client did not connect: {other:?}"),
                }
            }
            // A retained probe tells when the engine's subscription is in place: messages sent
            // before that would be lost.
            for (topic, payload) in retained.iter().chain(&[(PROBE_TOPIC, b"ready".to_vec())]) {
                gateway.publish(Message::new(*topic, payload.clone(), 1, true)).expect("gateway link open");
            }
            // The link does not report acknowledgements; the broker has them well before this.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let config = EngineConfig { store_limits: limits, discover: false, ..EngineConfig::default() };
            let (engine, mut events) = Engine::spawn_with(config, || {}).expect("engine");
            let options = SessionOptions { subscriptions: vec!["#".into()], label: "test".into(), read_only: false };
            let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ui-explorer")), options).expect("connect");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            'up: loop {
                let batch = tokio::time::timeout_at(deadline, events.next_batch()).await.expect("engine session up in time").expect("engine runs");
                for event in batch {
                    if let EngineEvent::SessionState { session: s, state: LinkState::Up, .. } = event
                        && s == session
                    {
                        break 'up;
                    }
                }
            }
            (broker, engine, session, events, gateway, gateway_events)
        });
        let bench = Bench { runtime, _broker: broker, engine, session, _events: events, gateway, _gateway_events: gateway_events };
        bench.wait_for(PROBE_TOPIC, 1);
        bench
    }

    pub fn publish(&self, topic: &str, payload: impl Into<bytes::Bytes>, retain: bool) {
        self.gateway.publish(Message::new(topic, payload, 1, retain)).expect("gateway link open");
    }

    /// Waits until the store holds `count` messages on `topic`.
    pub fn wait_for(&self, topic: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let held = {
                let store = self.engine.state.store();
                store.find(topic).map_or(0, |id| store.history(id).len())
            };
            if held >= count {
                return;
            }
            assert!(Instant::now() < deadline, "{topic}: {held} of {count} messages stored in time");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The engine's session as the UI lists it: up, read-only or not.
    pub fn sessions(&self, read_only: bool) -> Sessions {
        let view = SessionView {
            id: self.session,
            label: SESSION_LABEL.into(),
            target: "mqtt://127.0.0.1".into(),
            kind: LinkKind::Mqtt,
            state: LinkState::Up,
            attempts: 1,
            frames_dropped: 0,
            profile: None,
            read_only,
            replay: None,
        };
        Sessions::from([(self.session, view)])
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        self.engine.shutdown();
        let _guard = self.runtime.enter();
    }
}

pub fn point_report(id: &str, v: f64) -> Vec<u8> {
    let payload = json!({"id": id, "ts": now_ms(), "ver": "1.0", "data": {"points": [
        {"sub": "meter-1", "pid": "Ua", "v": v, "q": 0, "ts": now_ms()}]}});
    serde_json::to_vec(&payload).expect("json")
}

pub fn report(id: &str, data: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "ts": now_ms(), "ver": "1.0", "data": data})).expect("json")
}

pub fn report_reply(id: &str, code: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "ts": now_ms(), "code": code, "msg": "no such point", "data": {}})).expect("json")
}

/// The panel, the commands it pushed, and the texts it copied to the clipboard.
pub type State = (ExplorerPanel, Vec<UiCommand>, Vec<String>);

pub fn harness<'a>(bench: &'a Bench, models: &'a ModelSet, profile: &'a TopicProfile, sessions: &'a Sessions) -> Harness<'a, State> {
    harness_with(bench, models, profile, sessions, Lang::En, egui::vec2(1280.0, 860.0))
}

pub fn harness_with<'a>(
    bench: &'a Bench,
    models: &'a ModelSet,
    profile: &'a TopicProfile,
    sessions: &'a Sessions,
    lang: Lang,
    size: egui::Vec2,
) -> Harness<'a, State> {
    let state = &bench.engine.state;
    Harness::builder()
        .with_size(size)
        .with_context_setup(cems_workbench::ui::fonts::install)
        .build_ui_state(
            move |ui, (panel, commands, copied): &mut State| {
                let ctx = ViewContext { lang, state, sessions, models, profile, now_ms: now_ms() };
                panel.ui(ui, &ctx, commands);
                // The clipboard is a platform output of the frame that copied.
                ui.ctx().output(|o| {
                    copied.extend(o.commands.iter().filter_map(|c| match c {
                        egui::OutputCommand::CopyText(text) => Some(text.clone()),
                        _ => None,
                    }))
                });
            },
            (ExplorerPanel::default(), Vec::new(), Vec::new()),
        )
}

pub fn has(harness: &Harness<'_, State>, label: &str) -> bool {
    harness.query_all_by_label(label).next().is_some()
}

pub fn has_text(harness: &Harness<'_, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

/// (whole text, marked part) of every text drawn in the last frame with a marked background:
/// the search's matches as the user sees them.
pub fn marked(harness: &Harness<'_, State>) -> Vec<(String, String)> {
    fn collect(shape: &egui::Shape, out: &mut Vec<(String, String)>) {
        match shape {
            egui::Shape::Text(text) => {
                let job = &text.galley.job;
                for section in &job.sections {
                    if section.format.background != egui::Color32::TRANSPARENT {
                        out.push((job.text.clone(), job.text[section.byte_range.start.0..section.byte_range.end.0].to_owned()));
                    }
                }
            }
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| collect(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &harness.output().shapes {
        collect(&clipped.shape, &mut out);
    }
    out
}
