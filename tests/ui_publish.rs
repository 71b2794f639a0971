//! The publish panel: what it sends, its JSON check, the CEMS helper and resending. The engine
//! runs only to provide the shared state a panel reads; commands are checked, not applied.

use cems_workbench::engine::{Engine, EngineConfig, EngineEvents, EngineHandle};
use cems_workbench::protocol::envelope::{Envelope, parse_envelope};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::{LinkKind, LinkState, Message};
use cems_workbench::ui::publish::PublishPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const NOW_MS: i64 = 1_700_000_000_000;

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
    for (id, label, state) in [(1, "lab broker", LinkState::Up), (2, "spare", LinkState::Connecting { attempt: 1 })] {
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
                read_only: false,
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
                now_ms: NOW_MS,
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
    type_into(&mut harness, "Topic", "cems/v1/PK-GW-01/GW-T/down/info/get");
    type_into(&mut harness, "Payload", r#"{"id":"m1","ts":1,"ver":"1.0","data":{}}"#);
    assert!(has_text(&harness, "Valid JSON"));
    harness.get_by_label("Retain").click();
    harness.run();
    harness.get_by_label("0").click();
    harness.run();
    harness.get_by_label("Publish").click();
    harness.run();
    let sent = published(&harness.state().1);
    let expected = Message::new("cems/v1/PK-GW-01/GW-T/down/info/get", br#"{"id":"m1","ts":1,"ver":"1.0","data":{}}"#.to_vec(), 0, true);
    assert_eq!(sent, [(1, expected.clone())], "to the session that is up, by default");
    assert_eq!(harness.state().0.sent().count(), 1);
    assert!(has_text(&harness, "cems/v1/PK-GW-01/GW-T/down/info/get  40 B  QoS 0  retained"));

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

    // The session chooser sends to the chosen session.
    harness.get_by_label("Session").click();
    harness.run();
    harness.get_by_label("spare (mqtt://127.0.0.1:1882)").click();
    harness.run();
    harness.get_by_label("Publish").click();
    harness.run();
    let sent = published(&harness.state().1);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].0, sent[0].1.qos, sent[0].1.retain), (2, 1, false), "QoS from the contract's table");
}
