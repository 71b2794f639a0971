//! The explorer's right-click menus: copy a topic, a payload or a whole message as JSON through
//! egui's clipboard, and delete a retained message after a confirmation naming topic and session
//! (an empty retained publish, refused on a read-only session).

mod ui_explorer_bench;

use cems_workbench::engine::store::StoreLimits;
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::ui::{Sessions, UiCommand};
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::{Value, json};
use ui_explorer_bench::*;

/// The label of the `nth` history row (newest first) whose text contains `part`.
fn history_row(harness: &egui_kittest::Harness<'_, State>, part: &str, nth: usize) -> String {
    harness
        .query_all_by_label_contains(part)
        .filter_map(|n| n.accesskit_node().label())
        // Rows start with the time of day; the message's details line with "·".
        .filter(|label| label.starts_with(|c: char| c.is_ascii_digit()))
        .nth(nth)
        .unwrap_or_else(|| panic!("history row {nth} with {part:?}"))
}

/// Right-clicks the node labelled `label` and picks `item` in its menu; returns what was copied.
fn menu_pick(harness: &mut egui_kittest::Harness<'_, State>, label: &str, item: &str) -> Vec<String> {
    harness.get_by_label(label).click_secondary();
    harness.run();
    harness.get_by_label(item).click();
    harness.run();
    assert!(harness.query_by_label(item).is_none(), "the menu closed after {item}");
    std::mem::take(&mut harness.state_mut().2)
}

#[test]
fn right_click_copies_topic_payload_and_message_as_json() {
    let bench = Bench::start(StoreLimits::default(), &[]);
    bench.publish(POINT_TOPIC, point_report("r1", 231.5), false);
    bench.publish(POINT_TOPIC, point_report("r2", 232.25), false);
    bench.publish("plain/proto", &[0x08u8, 0x96, 0x01][..], false);
    bench.wait_for(POINT_TOPIC, 2);
    bench.wait_for("plain/proto", 1);
    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.set_open("plain", true);
    harness.state_mut().0.select(POINT_TOPIC);
    harness.run();
    assert!(harness.state().2.is_empty());

    // On a tree row: the topic, and its latest message.
    assert_eq!(menu_pick(&mut harness, "report  (1/2)", "Copy topic"), [POINT_TOPIC]);
    let payload = menu_pick(&mut harness, "report  (1/2)", "Copy payload");
    let latest: Value = serde_json::from_str(&payload[0]).expect("the payload is the JSON sent");
    assert_eq!(latest["id"], "r2");
    let message = menu_pick(&mut harness, "report  (1/2)", "Copy message as JSON");
    let message: Value = serde_json::from_str(&message[0]).expect("JSON");
    assert_eq!((&message["topic"], &message["qos"], &message["retain"]), (&json!(POINT_TOPIC), &json!(1), &json!(false)));
    assert_eq!(message["payload"]["data"]["points"][0]["v"], 232.25, "the payload embedded as JSON");
    assert!(message["received"].as_str().is_some_and(|t| t.ends_with(" UTC")));

    // A level without messages of its own has only its topic to copy.
    harness.get_by_label("GW-T  (1/2)").click_secondary();
    harness.run();
    assert!(harness.query_by_label("Copy payload").is_none());
    harness.get_by_label("Copy topic").click();
    harness.run();
    assert_eq!(std::mem::take(&mut harness.state_mut().2), ["cems/v1/PK-GW-01/GW-T"]);

    // On a history row: that message, not the latest.
    let older = history_row(&harness, "QoS 1", 1);
    let copied = menu_pick(&mut harness, &older, "Copy payload");
    let first: Value = serde_json::from_str(&copied[0]).expect("JSON");
    assert_eq!(first["id"], "r1");
    assert_eq!(menu_pick(&mut harness, &older, "Copy topic"), [POINT_TOPIC]);

    // Binary: the payload in hex, the message with its bytes in base64.
    assert_eq!(menu_pick(&mut harness, "proto  (1/1)", "Copy payload"), ["08 96 01"]);
    let message: Value = serde_json::from_str(&menu_pick(&mut harness, "proto  (1/1)", "Copy message as JSON")[0]).expect("JSON");
    assert_eq!(message["payloadBase64"], "CJYB");
    assert!(harness.state().1.is_empty(), "copying sends nothing");
}

#[test]
fn deleting_a_retained_message_asks_first_then_publishes_an_empty_retained_payload() {
    let bench = Bench::start(StoreLimits::default(), &[(STATUS_TOPIC, report("s1", json!({"online": true})))]);
    bench.publish(INFO_TOPIC, report("i1", json!({"vendor": "ACME"})), false);
    bench.wait_for(STATUS_TOPIC, 1);
    bench.wait_for(INFO_TOPIC, 1);
    let (models, profile) = (ModelSet::builtin(), TopicProfile::builtin());
    let sessions = bench.sessions(false);
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.set_open("cems/v1/PK-GW-01/GW-T/up", true);
    harness.run();

    // Only a retained message can be deleted.
    harness.get_by_label("report  (1/1)").click_secondary();
    harness.run();
    assert!(has(&harness, "Copy topic") && !has(&harness, "Delete retained message…"));
    harness.key_press(egui::Key::Escape);
    harness.run();

    // Asked, then cancelled: nothing sent.
    let question = format!("Delete the retained message on {STATUS_TOPIC} (session {SESSION_LABEL})?");
    harness.get_by_label("status  (1/1)").click_secondary();
    harness.run();
    harness.get_by_label("Delete retained message…").click();
    harness.run();
    assert!(has(&harness, &question), "the confirmation names topic and session");
    assert!(harness.state().1.is_empty(), "nothing is sent before the confirmation");
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(!has(&harness, &question) && harness.state().0.pending_delete().is_none());
    assert!(harness.state().1.is_empty());

    // Asked from the message's own menu, then confirmed: an empty retained publish on the session.
    harness.state_mut().0.select(STATUS_TOPIC);
    harness.run();
    let row = history_row(&harness, "QoS 1  retained", 0);
    harness.get_by_label(&row).click_secondary();
    harness.run();
    harness.get_by_label("Delete retained message…").click();
    harness.run();
    assert!(has(&harness, &question));
    harness.get_by_label("Delete retained message").click();
    harness.run();
    assert!(!has(&harness, &question), "answered");
    let commands = std::mem::take(&mut harness.state_mut().1);
    let [UiCommand::Publish { session, message }] = commands.as_slice() else { panic!("one publish: {commands:?}") };
    assert_eq!(*session, bench.session);
    assert_eq!((message.topic.as_str(), message.payload.len(), message.retain), (STATUS_TOPIC, 0, true));

    // Sent for real, the broker passes the empty message on: the topic's latest is empty.
    bench.engine.publish(*session, message.clone()).expect("engine runs");
    bench.wait_for(STATUS_TOPIC, 2);
    let latest_len = {
        let store = bench.engine.state.store();
        store.find(STATUS_TOPIC).and_then(|id| store.latest(id)).map(|m| m.payload.len())
    };
    assert_eq!(latest_len, Some(0));
}

#[test]
fn a_read_only_session_refuses_to_delete_a_retained_message() {
    let bench = Bench::start(StoreLimits::default(), &[(STATUS_TOPIC, report("s1", json!({"online": true})))]);
    bench.wait_for(STATUS_TOPIC, 1);
    let (models, profile) = (ModelSet::builtin(), TopicProfile::builtin());
    let sessions = bench.sessions(true);
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.select(STATUS_TOPIC);
    harness.run();
    harness.get_by_label("status  (1/1)").click_secondary();
    harness.run();
    harness.get_by_label("Delete retained message…").click();
    harness.run();
    assert!(has(&harness, &format!("Delete the retained message on {STATUS_TOPIC} (session {SESSION_LABEL})?")));
    assert!(has(&harness, "Read-only session: nothing is sent."));
    assert!(harness.get_by_label("Delete retained message").accesskit_node().is_disabled());
    harness.get_by_label("Delete retained message").click();
    harness.run();
    assert!(harness.state().1.is_empty(), "nothing is published on a read-only session");
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(harness.state().0.pending_delete().is_none());
    assert!(harness.state().1.is_empty());
}

#[test]
fn right_click_pins_a_subtree_in_the_store_and_unpins_it() {
    use cems_workbench::engine::EngineCommand;
    let bench = Bench::start(StoreLimits::default(), &[]);
    bench.publish(POINT_TOPIC, point_report("r1", 231.5), false);
    bench.wait_for(POINT_TOPIC, 1);
    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.select(POINT_TOPIC);
    harness.run();

    harness.get_by_label("GW-T  (1/1)").click_secondary();
    harness.run();
    harness.get_by_label("Pin this subtree (keep when the store is full)").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().1);
    let [UiCommand::PinTopics { prefix, pinned: true }] = commands.as_slice() else { panic!("one pin: {commands:?}") };
    assert_eq!(prefix, "cems/v1/PK-GW-01/GW-T/", "a subtree pin ends at its level, not a sibling's");

    // Applied by the engine, the store holds the pin and the tree marks the rows under it.
    bench.engine.send(EngineCommand::PinTopics { prefix: prefix.clone(), pinned: true }).expect("engine runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bench.engine.state.store().pinned().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the engine applies the pin");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    harness.run();
    assert!(harness.query_all_by_label("📌").count() >= 2, "the pinned level and the topic under it are marked");

    // Under the pin, a topic says who pins it; the level itself offers Unpin.
    harness.get_by_label("report  (1/1)").click_secondary();
    harness.run();
    assert!(has(&harness, "Pinned by cems/v1/PK-GW-01/GW-T/"));
    harness.key_press(egui::Key::Escape);
    harness.run();
    harness.get_by_label("GW-T  (1/1)").click_secondary();
    harness.run();
    harness.get_by_label("Unpin").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().1);
    assert!(matches!(commands.as_slice(), [UiCommand::PinTopics { pinned: false, .. }]), "{commands:?}");
}

