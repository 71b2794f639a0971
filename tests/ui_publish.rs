//! The publish panel: what it sends, its JSON check, the CEMS helper and sending again. The engine
//! runs only to provide the shared state a panel reads; commands are checked, not applied.
//! `ui_publish/templates.rs` checks the helper's templates, `ui_publish/live.rs` replies.

// A test crate's root looks for modules beside it; these live in their own folder.
#[path = "ui_publish/live.rs"]
mod live;
#[path = "ui_publish/templates.rs"]
mod templates;

use cems_workbench::engine::{Engine, EngineConfig, EngineEvents, EngineHandle, RequestSpec};
use cems_workbench::protocol::envelope::{Envelope, Request, parse_envelope};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::{LinkKind, LinkState, Message};
use cems_workbench::ui::publish::PublishPanel;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::json;

const NOW_MS: i64 = 1_700_000_000_000;

thread_local! {
    /// The frame's clock: tests move it to see what is stamped when.
    static NOW: std::cell::Cell<i64> = const { std::cell::Cell::new(NOW_MS) };
}

fn set_now(ms: i64) {
    NOW.with(|n| n.set(ms));
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
    bench_with(ModelSet::builtin())
}

fn bench_with(models: ModelSet) -> Bench {
    set_now(NOW_MS);
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
                replay: None,
            },
        );
    }
    Bench { _runtime: runtime, engine, _events: events, sessions, models, profile: TopicProfile::builtin() }
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

fn click(harness: &mut Harness<'_, State>, label: &str) {
    harness.get_by_label(label).click();
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

fn requests(commands: &[UiCommand]) -> Vec<RequestSpec> {
    commands
        .iter()
        .filter_map(|c| match c {
            UiCommand::Request(spec) => Some(spec.clone()),
            _ => None,
        })
        .collect()
}

fn has_text(harness: &Harness<'_, State>, part: &str) -> bool {
    harness.query_all_by_label_contains(part).next().is_some()
}

fn envelope(payload: &[u8]) -> Request {
    let Ok(Envelope::Request(r)) = parse_envelope(payload) else {
        panic!("a request envelope: {}", String::from_utf8_lossy(payload));
    };
    r
}

/// Picks `request` in the helper and fills the editor; the data of the envelope it wrote.
fn fill(harness: &mut Harness<'_, State>, request: &str) -> serde_json::Value {
    click(harness, "Request");
    click(harness, request);
    click(harness, "Fill topic and payload");
    envelope(harness.state().0.payload().as_bytes()).data
}

#[test]
fn publish_sends_the_typed_message_and_resend_makes_it_a_new_one() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    // A downlink report (not a request): published as typed.
    type_into(&mut harness, "Topic", "cems/v1/PK-GW-01/GW-T/down/message/down");
    type_into(&mut harness, "Payload", r#"{"id":"m1","ts":1,"ver":"1.0","data":{"type":"note"}}"#);
    assert!(has_text(&harness, "Valid JSON"));
    click(&mut harness, "Retain");
    click(&mut harness, "0");
    click(&mut harness, "Publish");
    let typed = Message::new("cems/v1/PK-GW-01/GW-T/down/message/down", br#"{"id":"m1","ts":1,"ver":"1.0","data":{"type":"note"}}"#.to_vec(), 0, true);
    assert_eq!(published(&harness.state().1), [(1, typed.clone())], "to the session that is up, by default");
    assert!(has_text(&harness, "cems/v1/PK-GW-01/GW-T/down/message/down  53 B  QoS 0  retained"));
    assert!(has_text(&harness, "id m1"));

    // Resend: a new message, so a fresh id and time; the rest as it was.
    set_now(NOW_MS + 1_000);
    click(&mut harness, "Resend");
    let sent = published(&harness.state().1);
    assert_eq!(sent.len(), 2);
    let (session, resent) = &sent[1];
    assert_eq!((*session, resent.topic.as_str(), resent.qos, resent.retain), (1, typed.topic.as_str(), 0, true));
    let renewed = envelope(&resent.payload);
    assert_ne!(renewed.id, "m1", "Resend takes a fresh id");
    assert_eq!((renewed.ts, renewed.data), (NOW_MS + 1_000, json!({"type": "note"})));
    assert_eq!(harness.state().0.sent().count(), 2, "a resend is a send: newest first in the list");

    // Retry the first row (now the second): the very same bytes, id included.
    harness.get_all_by_label("Retry").nth(1).expect("the first row's Retry").click();
    harness.run();
    let sent = published(&harness.state().1);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2], (1, typed), "Retry repeats the message byte for byte (contract §3)");
}

#[test]
fn text_that_is_no_envelope_is_resent_as_it_was_and_has_no_retry() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "Topic", "lab/raw");
    type_into(&mut harness, "Payload", "hello");
    click(&mut harness, "Publish");
    assert!(harness.query_by_label("Retry").is_none(), "no id to keep");
    click(&mut harness, "Resend");
    let hello = Message::new("lab/raw", b"hello".to_vec(), 1, false);
    assert_eq!(published(&harness.state().1), [(1, hello.clone()), (1, hello)]);
}

#[test]
fn invalid_json_is_flagged_with_its_position_but_can_still_be_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "Topic", "lab/raw");
    type_into(&mut harness, "Payload", r#"{"a": 1,"#);
    assert!(has_text(&harness, "Not valid JSON: EOF while parsing a value (line 1, column 8). It can still be published as raw text."));
    click(&mut harness, "Publish");
    assert_eq!(published(&harness.state().1), [(1, Message::new("lab/raw", br#"{"a": 1,"#.to_vec(), 1, false))]);
}

#[test]
fn wildcards_in_the_topic_block_publishing() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "Topic", "cems/v1/+/GW/down/#");
    assert!(has_text(&harness, "A topic to publish to cannot hold the wildcards + or #."));
    click(&mut harness, "Publish");
    assert!(published(&harness.state().1).is_empty());
}

#[test]
fn helper_fills_a_cems_request_and_t1_is_stamped_when_it_is_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-GW-01");
    type_into(&mut harness, "dev", "GW-T");
    assert_eq!(fill(&mut harness, "6.9 time/get"), json!({"t1": NOW_MS}));
    let (panel, _) = harness.state();
    assert_eq!(panel.topic(), "cems/v1/PK-GW-01/GW-T/down/time/get");
    let filled = envelope(panel.payload().as_bytes());
    assert_eq!((filled.ts, filled.ver.as_str()), (NOW_MS, "1.0"));

    // The session chooser sends to the chosen session, by the engine's request path.
    click(&mut harness, "Session");
    click(&mut harness, "spare (mqtt://127.0.0.1:1882)");
    set_now(NOW_MS + 5_000);
    click(&mut harness, "Publish");
    assert!(published(&harness.state().1).is_empty(), "a request is not a raw publish");
    let sent = requests(&harness.state().1);
    assert_eq!(sent.len(), 1);
    let spec = &sent[0];
    assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str()), (2, "PK-GW-01", "GW-T", "time", "get"));
    assert_eq!(spec.id.as_deref(), Some(filled.id.as_str()), "the editor's id is the one sent");
    assert_eq!(spec.data, json!({"t1": NOW_MS + 5_000}), "t1 stamped when sent, not when filled");
    let row = harness.state().0.sent().next().expect("a row");
    assert_eq!(row.message.topic, "cems/v1/PK-GW-01/GW-T/down/time/get");
    let kept = envelope(&row.message.payload);
    assert_eq!((kept.id.as_str(), kept.ts, &kept.data), (filled.id.as_str(), NOW_MS + 5_000, &spec.data), "the row holds the envelope as sent");
    assert!(has_text(&harness, "Pending: waiting for the reply"), "pending until the log has its outcome");
}

#[test]
fn resend_is_a_new_request_and_retry_the_same_one() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    type_into(&mut harness, "pk", "PK-GW-01");
    type_into(&mut harness, "dev", "GW-T");
    fill(&mut harness, "6.9 time/get");
    set_now(NOW_MS + 5_000);
    click(&mut harness, "Publish");
    set_now(NOW_MS + 9_000);
    click(&mut harness, "Resend");
    set_now(NOW_MS + 12_000);
    // Rows are newest first: the second is the first send.
    harness.get_all_by_label("Retry").nth(1).expect("the first row's Retry").click();
    harness.run();

    let sent = requests(&harness.state().1);
    assert_eq!(sent.len(), 3);
    let (first, resent, retried) = (&sent[0], &sent[1], &sent[2]);
    assert_eq!(first.data, json!({"t1": NOW_MS + 5_000}));
    assert!(resent.id.as_ref().is_some_and(|id| Some(id) != first.id.as_ref()), "Resend takes a fresh id: {resent:?}");
    assert_eq!(resent.data, json!({"t1": NOW_MS + 9_000}), "and t1 when it is sent again");
    assert_eq!(retried.id, first.id, "Retry reuses the id (contract §3)");
    assert_eq!(retried.data, first.data, "and the data as first sent");
    assert_eq!((retried.session, retried.class.as_str(), retried.action.as_str()), (first.session, "time", "get"));

    // The rows hold what went out: the retry's envelope is the first's but for `ts`.
    let rows: Vec<_> = harness.state().0.sent().collect();
    assert_eq!(rows.len(), 3);
    let (retry_row, first_row) = (rows[0], rows[2]);
    let first_text = String::from_utf8_lossy(&first_row.message.payload).into_owned();
    let stamp = |ms: i64| format!("\"ts\":{ms},");
    assert!(first_text.contains(&stamp(NOW_MS + 5_000)), "{first_text}");
    assert_eq!(String::from_utf8_lossy(&retry_row.message.payload), first_text.replace(&stamp(NOW_MS + 5_000), &stamp(NOW_MS + 12_000)));
    assert_eq!(envelope(&rows[1].message.payload).ts, NOW_MS + 9_000);
}

#[test]
fn a_time_sync_published_as_typed_gets_t1_when_it_is_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    // The workbench standing in for a gateway: its own time/sync request goes out raw.
    type_into(&mut harness, "Topic", "cems/v1/PK-GW-01/GW-T/up/time/sync");
    type_into(&mut harness, "Payload", r#"{"id":"s1","ts":1,"ver":"1.0","data":{"t1":1}}"#);
    set_now(NOW_MS + 3_000);
    click(&mut harness, "Publish");
    set_now(NOW_MS + 7_000);
    click(&mut harness, "Retry");
    set_now(NOW_MS + 8_000);
    harness.get_all_by_label("Resend").nth(1).expect("the first row's Resend").click();
    harness.run();
    let sent = published(&harness.state().1);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].1.payload, br#"{"id":"s1","ts":1,"ver":"1.0","data":{"t1":1700000003000}}"#.to_vec(), "t1 at the send, the rest as typed");
    assert_eq!(sent[1].1.payload, sent[0].1.payload, "a retry repeats it");
    let resent = envelope(&sent[2].1.payload);
    assert_ne!(resent.id, "s1");
    assert_eq!((resent.ts, resent.data), (NOW_MS + 8_000, json!({"t1": NOW_MS + 8_000})));
}

#[test]
fn a_read_only_session_says_so_and_nothing_is_sent() {
    let bench = bench();
    let mut harness = harness(&bench);
    harness.run();
    click(&mut harness, "Session");
    click(&mut harness, "site (mqtt://127.0.0.1:1883)");
    type_into(&mut harness, "Topic", "lab/raw");
    type_into(&mut harness, "Payload", "hello");
    assert!(has_text(&harness, "Read-only session: nothing is sent."));
    click(&mut harness, "Publish");
    assert!(harness.state().1.is_empty(), "nothing pushed on a read-only session");
    assert_eq!(harness.state().0.sent().count(), 0);
}
