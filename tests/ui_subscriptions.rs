//! Issue 11: per-session subscriptions and the connection column's layout. Under egui_kittest:
//! a filter added (with its QoS) and removed, an invalid one refused with its reason, the list
//! kept in the profile and subscribed again when a session of it opens, the collapsible form,
//! the wrapping keyring notice, and the left column at 1000 × 700. Against the embedded broker:
//! a non-CEMS topic reaches the store only once subscribed, at the QoS asked, across a restart.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cems_workbench::config::profiles::{NoKeyring, PROFILES_FILE};
use cems_workbench::engine::{EngineCommand, EngineEvent, EngineHandle};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkKind, LinkState, Message, Subscription, spawn_link};
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::connections::{ConnectionForm, ConnectionsPanel, ProfileStore};
use cems_workbench::ui::settings::Settings;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

struct State {
    panel: ConnectionsPanel,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("test runtime")
}

fn store(dir: &Path) -> ProfileStore {
    let mut store = ProfileStore::open_with_keyring(dir, Arc::new(NoKeyring));
    store.wait_idle(Duration::from_secs(5));
    store
}

fn harness(rt: &tokio::runtime::Runtime, store: ProfileStore, width: f32) -> Harness<'static, State> {
    let _entered = rt.enter();
    let (engine, _events) = common::engine();
    let state =
        State { panel: ConnectionsPanel::with_profile_store(store), commands: Vec::new(), sessions: Sessions::new(), engine, models: ModelSet::builtin(), profile: TopicProfile::builtin() };
    Harness::builder().with_size(egui::vec2(width, 1400.0)).build_ui_state(
        |ui, s: &mut State| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.panel.ui(ui, &ctx, &mut s.commands);
        },
        state,
    )
}

fn session(id: u32, kind: LinkKind, profile: Option<&str>) -> SessionView {
    let target = if kind == LinkKind::Mqtt { "mqtt://10.0.0.1:1883" } else { "/dev/ttyUSB0" };
    let label = profile.unwrap_or("lab").to_owned();
    SessionView { id, label, target: target.into(), kind, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: profile.map(str::to_owned), read_only: false, replay: None }
}

fn type_into(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    harness.get_by_role_and_label(Role::TextInput, label).set_text_value_accesskit("");
    harness.run();
    let field = harness.get_by_role_and_label(Role::TextInput, label);
    field.focus();
    field.type_text(text);
    harness.run();
}

fn open_subscriptions(harness: &mut Harness<'static, State>) {
    harness.get_by_label_contains("Subscriptions (").click();
    harness.run();
}

fn take_commands(harness: &mut Harness<'static, State>) -> Vec<UiCommand> {
    std::mem::take(&mut harness.state_mut().commands)
}

/// A saved MQTT profile named `name`.
fn save_profile(store: &mut ProfileStore, name: &str) {
    let profile = ConnectionForm::default().to_profile(name).expect("the default form is valid");
    store.save(profile, None, false).expect("profile saved");
}

#[test]
fn a_filter_is_added_with_its_qos_listed_and_removed() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path()), 640.0);
    harness.state_mut().sessions.insert(1, session(1, LinkKind::Mqtt, None));
    harness.run();
    assert!(take_commands(&mut harness).is_empty(), "a session without a profile subscribes nothing of its own");
    open_subscriptions(&mut harness);
    // The workbench's own filters are listed and marked, without a Remove.
    harness.get_by_label("cems/v1/+/+/up/#");
    assert!(harness.query_all_by_label("workbench").count() >= 1);
    assert!(harness.query_by_role_and_label(Role::Button, "Remove cems/v1/+/+/up/#").is_none());
    harness.get_by_label("Not kept: this session has no saved profile.");

    type_into(&mut harness, "New filter", "plant/meter/#");
    harness.get_by_role_and_label(Role::RadioButton, "QoS 0").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    harness.run();
    let commands = take_commands(&mut harness);
    assert!(
        matches!(commands.as_slice(), [UiCommand::Subscribe { session: 1, filter, qos: 0 }] if filter == "plant/meter/#"),
        "{commands:?}"
    );
    harness.get_by_label("plant/meter/#");
    assert_eq!(harness.state().panel.session_subscriptions(1).map(|s| s.user.clone()), Some(vec![Subscription::new("plant/meter/#", 0)]));
    assert_eq!(harness.get_by_role_and_label(Role::TextInput, "New filter").value().unwrap_or_default(), "", "the field is cleared");

    // `#` is a filter like any other; the QoS chosen last stays chosen.
    type_into(&mut harness, "New filter", "#");
    harness.get_by_role_and_label(Role::RadioButton, "QoS 1").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    harness.run();
    let commands = take_commands(&mut harness);
    assert!(matches!(commands.as_slice(), [UiCommand::Subscribe { filter, qos: 1, .. }] if filter == "#"), "{commands:?}");
    // Listed with their QoS: the meter at 0; `#` and the workbench's six (the master filter, two
    // acknowledgement filters, the energy-storage profile's rt, param and cmd) at 1.
    assert_eq!(harness.query_all_by_role_and_label(Role::Label, "QoS 0").count(), 1);
    assert_eq!(harness.query_all_by_role_and_label(Role::Label, "QoS 1").count(), 7);

    harness.get_by_role_and_label(Role::Button, "Remove plant/meter/#").click();
    harness.run();
    let commands = take_commands(&mut harness);
    assert!(matches!(commands.as_slice(), [UiCommand::Unsubscribe { session: 1, filter }] if filter == "plant/meter/#"), "{commands:?}");
    assert!(harness.query_by_label("plant/meter/#").is_none());
    harness.get_by_role_and_label(Role::Button, "Remove #");
}

#[test]
fn an_invalid_filter_is_refused_with_its_reason_next_to_the_field() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path()), 640.0);
    harness.state_mut().sessions.insert(1, session(1, LinkKind::Mqtt, None));
    harness.run();
    open_subscriptions(&mut harness);
    for (filter, reason) in [
        ("plant/#/meter", "Invalid filter: # may only be the last level."),
        ("plant/meter+", "Invalid filter: + must be a whole level (a/+/b, not a+)."),
        ("cems/v1/+/+/up/#", "The workbench subscribes to this filter already."),
    ] {
        type_into(&mut harness, "New filter", filter);
        let shown = harness.get_by_label(reason).rect();
        let field = harness.get_by_role_and_label(Role::TextInput, "New filter").rect();
        assert!(shown.min.y >= field.max.y && shown.min.y - field.max.y < 60.0, "{reason:?} at {shown:?}, the field at {field:?}");
        let subscribe = harness.get_by_role_and_label(Role::Button, "Subscribe");
        assert!(subscribe.accesskit_node().is_disabled(), "{filter}");
        subscribe.click();
        harness.run();
        assert!(take_commands(&mut harness).is_empty(), "{filter} was sent");
    }
    // Empty is not an error yet, but cannot be subscribed either.
    type_into(&mut harness, "New filter", "");
    assert!(harness.query_by_label_contains("Invalid filter").is_none());
    assert!(harness.get_by_role_and_label(Role::Button, "Subscribe").accesskit_node().is_disabled());
}

#[test]
fn subscriptions_are_kept_in_the_profile_and_subscribed_when_it_connects() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // A profile written before subscriptions were kept still loads and connects.
    let old = r#"{"version": 1, "profiles": [{"name": "site", "kind": "mqtt", "url": "mqtt://10.0.0.9:1883", "clientId": "wb", "password": "none", "insecure": false, "keepAliveSecs": 30}]}"#;
    std::fs::write(dir.path().join(PROFILES_FILE), old).unwrap();
    let mut saved = store(dir.path());
    assert!(saved.problems().is_empty(), "{:?}", saved.problems());
    save_profile(&mut saved, "lab");
    let mut harness = harness(&rt, saved, 640.0);
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Connect site").click();
    harness.run();
    assert!(matches!(take_commands(&mut harness).as_slice(), [UiCommand::Connect { profile: Some(p), .. }] if p == "site"));

    harness.state_mut().sessions.insert(1, session(1, LinkKind::Mqtt, Some("lab")));
    harness.run();
    assert!(take_commands(&mut harness).is_empty());
    open_subscriptions(&mut harness);
    harness.get_by_label("Kept in profile lab and subscribed when it connects.");
    type_into(&mut harness, "New filter", "plant/meter/+");
    harness.get_by_role_and_label(Role::RadioButton, "QoS 0").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Subscribe").click();
    harness.run();
    take_commands(&mut harness);
    let text = std::fs::read_to_string(dir.path().join(PROFILES_FILE)).unwrap();
    assert!(text.contains("plant/meter/+"), "{text}");

    // A fresh window over the same folder: a new session of "lab" subscribes the saved filter.
    let mut again = harness_with_session(&rt, dir.path(), session(7, LinkKind::Mqtt, Some("lab")));
    let commands = take_commands(&mut again);
    assert!(
        matches!(commands.as_slice(), [UiCommand::Subscribe { session: 7, filter, qos: 0 }] if filter == "plant/meter/+"),
        "{commands:?}"
    );
    // Removing it there empties the profile's list.
    open_subscriptions(&mut again);
    again.get_by_role_and_label(Role::Button, "Remove plant/meter/+").click();
    again.run();
    assert!(!std::fs::read_to_string(dir.path().join(PROFILES_FILE)).unwrap().contains("plant/meter/+"));
}

fn harness_with_session(rt: &tokio::runtime::Runtime, dir: &Path, view: SessionView) -> Harness<'static, State> {
    let mut harness = harness(rt, store(dir), 640.0);
    harness.state_mut().sessions.insert(view.id, view);
    harness.run();
    harness
}

#[test]
fn a_serial_session_says_subscriptions_do_not_apply() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness_with_session(&rt, dir.path(), session(3, LinkKind::Serial, None));
    harness.get_by_label_contains("No subscriptions on a serial cable");
    assert!(harness.query_by_label_contains("Subscriptions (").is_none());
    assert!(take_commands(&mut harness).is_empty());
}

#[test]
fn the_form_is_open_without_sessions_and_collapses_once_one_exists() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path()), 640.0);
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, "Broker URL");
    harness.state_mut().sessions.insert(1, session(1, LinkKind::Mqtt, None));
    harness.run();
    assert!(harness.query_by_role_and_label(Role::TextInput, "Broker URL").is_none(), "the form stays open beside a session");
    // The user may open it again; it stays open while the session lasts.
    harness.get_by_label("New connection").click();
    harness.run();
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, "Broker URL");
    // With no session left it is open again.
    harness.state_mut().sessions.clear();
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, "Broker URL");
}

#[test]
fn the_keyring_notice_wraps_and_keeps_the_raw_text_in_a_tooltip() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let width = 240.0;
    let mut harness = harness(&rt, store(dir.path()), width);
    harness.run();
    let notice = harness.get_by_label_contains("No OS keyring");
    let rect = notice.rect();
    assert!(rect.max.x <= width, "clipped at {rect:?}");
    assert!(rect.height() > 30.0, "one line only: {rect:?}");
    assert!(harness.query_by_label_contains("no keyring configured").is_none(), "the raw reason is not in the panel");
    notice.hover();
    harness.run_steps(8);
    harness.get_by_label_contains("no keyring configured");
}

#[test]
fn at_1000_by_700_the_left_column_shows_the_session_and_the_gateways() {
    let rt = runtime();
    let mut harness = {
        let _entered = rt.enter();
        let (engine, events) = common::engine();
        // A broker that is not there: the session exists, going up and down.
        let link = (LinkConfig::Mqtt(MqttConfig::new("mqtt://127.0.0.1:1", "wb-layout")), "lab".to_owned());
        let settings = Settings { lang: Lang::En, ..Settings::default() };
        Harness::builder().with_size(egui::vec2(1000.0, 700.0)).build_eframe(move |cc| {
            WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup { link: Some(link), ..Startup::default() })
        })
    };
    harness.run_steps(4);
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1000.0, 700.0));
    let left = harness.state().settings().left_panel_width;
    let inside = |r: egui::Rect| window.contains_rect(r) && r.max.x <= left + 1.0;
    assert!(harness.query_by_role_and_label(Role::TextInput, "Broker URL").is_none(), "the form is collapsed beside a session");
    let disconnect = harness.get_by_role_and_label(Role::Button, "Disconnect lab").rect();
    let subscriptions = harness.get_by_label_contains("Subscriptions (").rect();
    let form = harness.get_by_label("New connection").rect();
    let gateways = harness.query_all_by_label("Gateways").map(|n| n.rect()).find(|r| r.max.x <= left + 1.0).expect("the gateways list's heading");
    let empty = harness.get_by_label_contains("No gateway seen yet").rect();
    for (what, rect) in [("Disconnect", disconnect), ("Subscriptions", subscriptions), ("New connection", form), ("Gateways", gateways), ("no gateways", empty)] {
        assert!(inside(rect), "{what} at {rect:?} is outside the left column (width {left}) of {window:?}");
    }
    // The connections area ends above the gateways list: the session is not scrolled away.
    assert!(disconnect.max.y < gateways.min.y && form.max.y < gateways.min.y, "{disconnect:?} {form:?} vs {gateways:?}");
}

/// The embedded broker: `plant/meter/1` is stored only after the session subscribes to it, at
/// the QoS asked (0, below the publisher's 1), still after a broker restart, and no more once
/// unsubscribed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_cems_topic_reaches_the_store_only_once_subscribed() {
    let broker = common::broker().await;
    let url = broker.url();
    let (engine, mut events) = common::engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-subs")), engine.default_session_options("lab")).unwrap();
    common::engine_ready(&engine, session).await;
    let (meter, mut meter_events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(url, "meter-1")));
    while !matches!(meter_events.recv().await, Some(LinkEvent::State(LinkState::Up))) {}

    // Not subscribed: a CEMS probe sent after it arrives, the meter's message does not.
    meter.publish(Message::new("plant/meter/1", "before", 1, false)).unwrap();
    meter.publish(Message::new(PROBE, "after", 1, false)).unwrap();
    common::eventually(Duration::from_secs(5), "the probe", || latest(&engine, PROBE).is_some_and(|p| p == "after")).await;
    assert!(engine.state.store().find("plant/meter/1").is_none(), "stored without a subscription");

    engine.send(EngineCommand::Subscribe { session, filter: "plant/meter/#".into(), qos: 0 }).unwrap();
    let stored_qos = |engine: &EngineHandle, payload: &str| {
        let store = engine.state.store();
        let node = store.find("plant/meter/1")?;
        store.latest(node).filter(|m| m.payload == payload).map(|m| m.qos)
    };
    deliver_until(&meter, &engine, "subscribed", &stored_qos).await;
    assert_eq!(stored_qos(&engine, "subscribed"), Some(0), "delivered at the subscription's QoS");

    broker.stop().await;
    common::wait_for(&mut events, Duration::from_secs(10), "the session down", |e| down(e, session)).await;
    broker.restart().await.unwrap();
    common::wait_for(&mut events, Duration::from_secs(15), "the session up again", |e| up(e, session)).await;
    deliver_until(&meter, &engine, "after restart", &stored_qos).await;
    assert_eq!(stored_qos(&engine, "after restart"), Some(0), "subscribed again at QoS 0");

    engine.send(EngineCommand::Unsubscribe { session, filter: "plant/meter/#".into() }).unwrap();
    // The broker takes a connection's packets in order: once the session's own probe, sent after
    // the UNSUBSCRIBE, is back, the unsubscription is in force.
    engine.publish(session, Message::new(PROBE, "unsubscribed", 1, false)).unwrap();
    common::eventually(Duration::from_secs(5), "the session's probe", || latest(&engine, PROBE).is_some_and(|p| p == "unsubscribed")).await;
    meter.publish(Message::new("plant/meter/1", "unsubscribed", 1, false)).unwrap();
    meter.publish(Message::new(PROBE, "last", 1, false)).unwrap();
    common::eventually(Duration::from_secs(5), "the last probe", || latest(&engine, PROBE).is_some_and(|p| p == "last")).await;
    assert_eq!(latest(&engine, "plant/meter/1").as_deref(), Some(&b"after restart"[..]), "stored after the unsubscription");
}

/// Not a CEMS topic (too short) yet under the master filter: proves what went before arrived.
const PROBE: &str = "cems/v1/_/_/up";

fn latest(engine: &EngineHandle, topic: &str) -> Option<bytes::Bytes> {
    let store = engine.state.store();
    store.find(topic).and_then(|node| store.latest(node)).map(|m| m.payload.clone())
}

/// Publishes `payload` to `plant/meter/1` (QoS 1) until the store has it: the SUBSCRIBE goes
/// out after the command, and again after each ConnAck.
async fn deliver_until(meter: &cems_workbench::transport::LinkHandle, engine: &EngineHandle, payload: &str, stored: &impl Fn(&EngineHandle, &str) -> Option<u8>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stored(engine, payload).is_none() {
        // The meter's own link may still be reconnecting after a restart: it queues meanwhile.
        meter.publish(Message::new("plant/meter/1", payload.to_owned(), 1, false)).unwrap();
        assert!(tokio::time::Instant::now() < deadline, "{payload:?} never reached the store");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn down(event: &EngineEvent, session: u32) -> Option<()> {
    matches!(event, EngineEvent::SessionState { session: s, state: LinkState::Down { .. }, .. } if *s == session).then_some(())
}

fn up(event: &EngineEvent, session: u32) -> Option<()> {
    matches!(event, EngineEvent::SessionState { session: s, state: LinkState::Up, .. } if *s == session).then_some(())
}

/// CLI parity: `watch --sub FILTER[:QOS]`, repeatable, each filter at its QoS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_takes_subscriptions_with_their_qos() {
    use std::io::BufRead as _;
    let broker = common::broker().await;
    let url = broker.url();
    // Retained, so the watcher gets them whenever its subscriptions land, at their QoS.
    let (meter, mut meter_events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "meter-2")));
    while !matches!(meter_events.recv().await, Some(LinkEvent::State(LinkState::Up))) {}
    meter.publish(Message::new("plant/meter/1", r#"{"kw":5}"#, 1, true)).unwrap();
    meter.publish(Message::new("lab/x", "text", 1, true)).unwrap();
    meter.publish(Message::new("other/y", "unwatched", 1, true)).unwrap();
    let args: Vec<String> = ["watch", "--broker", &url, "--sub", "plant/meter/#:0", "--sub", "lab/#", "--count", "2"].map(String::from).into();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cems-workbench")).args(args).output().expect("the binary runs")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    lines.sort_by_key(|l| l["topic"].as_str().unwrap_or_default().to_owned());
    let got: Vec<(&str, u64)> = lines.iter().map(|l| (l["topic"].as_str().unwrap_or_default(), l["qos"].as_u64().unwrap_or(9))).collect();
    assert_eq!(got, vec![("lab/x", 1), ("plant/meter/1", 0)]);

    // A bad filter or QoS is a usage error, with its reason.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_cems-workbench")).args(["watch", "--sub", "a/#/b"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("# may only be the last level"));
}
