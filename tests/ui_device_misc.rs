//! The device page's Messages and Meters tabs, and the overview after an upgrade, under
//! egui_kittest, fed by a real engine: the embedded broker and the simulator serving the
//! built-in energy gateway. The commands the tabs push are checked, then carried out.

mod device_bench;

use cems_workbench::engine::{GatewayKey, RequestSpec};
use cems_workbench::transport::Message;
use cems_workbench::ui::UiCommand;
use device_bench::{Bench, PK, State, has_text, raw_link, run_until, type_into};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::{Value, json};

const DEV: &str = "GW-MISC";

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start() -> (Harness<'static, State>, Bench) {
    device_bench::start(DEV, |_| {})
}

fn online(h: &Harness<'static, State>) -> bool {
    h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.online == Some(true) && g.info.is_some())
}

fn open_tab(harness: &mut Harness<'static, State>, title: &str) {
    device_bench::open_tab(harness, &key(), title);
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
    let link = raw_link(&bench, "gw-raw");
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
