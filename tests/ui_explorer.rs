//! The topic explorer against a real engine: an embedded broker, the engine subscribed to
//! everything, and a raw MQTT client standing in for a gateway. Clicks by label (kittest).

mod ui_explorer_bench;

use std::time::{Duration, Instant};

use cems_workbench::engine::EngineCommand;
use cems_workbench::engine::store::StoreLimits;
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::ui::{Sessions, UiCommand};
use egui_kittest::kittest::Queryable;
use serde_json::json;
use ui_explorer_bench::*;

#[test]
fn tree_search_selection_annotation_hex_and_diff() {
    let bench = Bench::start(StoreLimits::default(), &[(STATUS_TOPIC, report("s1", json!({"online": true})))]);
    bench.publish(POINT_TOPIC, point_report("r1", 231.5), false);
    bench.publish(POINT_TOPIC, point_report("r2", 232.25), false);
    bench.publish(INFO_TOPIC, report("i1", json!({"vendor": "ACME"})), false);
    bench.wait_for(POINT_TOPIC, 2);
    bench.wait_for(INFO_TOPIC, 1);
    bench.wait_for(STATUS_TOPIC, 1);

    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.run();

    // Single-child levels unfold by themselves; counts are per subtree (topics/messages).
    assert!(has(&harness, "cems  (3/4)"));
    assert!(has(&harness, "GW-T  (3/4)"));
    assert!(has(&harness, "up  (3/4)"));
    assert!(!has(&harness, "status  (1/1)"), "`up` has three children and starts closed");
    assert!(has(&harness, "0 messages evicted / 0 truncated"));
    harness.get_by_label("⏵").click();
    harness.run();
    assert!(has(&harness, "point  (1/2)"));
    assert!(has(&harness, "report  (1/2)"), "single child of point, open by itself");
    assert!(has(&harness, "info  (1/1)"));
    assert!(has(&harness, "status  (1/1)"));
    assert_eq!(harness.query_all_by_label("retained").count(), 2, "status and the probe are retained");

    // Live search narrows to matching topics and their ancestors; Esc clears it.
    harness.get_by_label("Search").click();
    harness.run();
    harness.get_by_label("Search").type_text("POINT");
    harness.run();
    assert!(has(&harness, "1 matching topic"));
    assert!(has(&harness, "point  (1/2)"));
    assert!(!has(&harness, "info  (1/1)") && !has(&harness, "status  (1/1)"));
    harness.get_by_label("Search").type_text("-nothing");
    harness.run();
    assert!(has(&harness, "No topic matches the search."));
    harness.key_press(egui::Key::Escape);
    harness.run();
    assert_eq!(harness.state().0.search_text(), "");
    assert!(has(&harness, "status  (1/1)"), "the tree is back");

    // Search reaches payloads too.
    harness.get_by_label("Search").click();
    harness.run();
    harness.get_by_label("Search").type_text("acme");
    harness.run();
    assert!(has(&harness, "info  (1/1)") && !has(&harness, "point  (1/2)"));
    harness.key_press(egui::Key::Escape);
    harness.run();

    // Selecting the point report shows its newest message, annotated from the meter's model
    // found through the gateway's subProducts.
    harness.get_by_label("report  (1/2)").click();
    harness.run();
    assert_eq!(harness.state().0.selected(), Some(POINT_TOPIC));
    assert!(has_text(&harness, "Ua: 232.25 V (A相电压 / Phase A voltage, quality good)"));
    assert!(has_text(&harness, "CEMS report point/report"));

    // Hex.
    harness.get_by_label("Hex").click();
    harness.run();
    assert!(has_text(&harness, "00000000  7b 22 69 64 22 3a 22 72  32 22"), "hex of {{\"id\":\"r2\"");

    // Two messages picked as A and B give a structural diff.
    harness.get_all_by_label("A").next().expect("row A").click();
    harness.run();
    harness.get_all_by_label("B").nth(1).expect("row B").click();
    harness.run();
    assert!(has_text(&harness, "~ meter-1/Ua: 232.25 → 231.5 V"), "the point by its sub-device, id and model unit");
    assert!(!has_text(&harness, "data.points[0]"));
    assert!(has_text(&harness, "~ id: \"r2\" → \"r1\""));

    // New topics that sort before the selected one do not move the selection.
    bench.publish("cems/v1/PK-GW-01/A-EARLY/up/info/report", report("e1", json!({})), false);
    bench.publish("cems/v1/AAA/X/up/status", report("e2", json!({"online": true})), true);
    bench.publish(POINT_TOPIC, point_report("r3", 229.0), false);
    bench.wait_for("cems/v1/AAA/X/up/status", 1);
    bench.wait_for("cems/v1/PK-GW-01/A-EARLY/up/info/report", 1);
    bench.wait_for(POINT_TOPIC, 3);
    // A frame with the new rows first: a click goes where the last frame put the widget.
    harness.run();
    harness.get_by_label("JSON").click();
    harness.run();
    assert_eq!(harness.state().0.selected(), Some(POINT_TOPIC));
    assert!(has(&harness, "report  (1/3)"));
    assert!(has(&harness, POINT_TOPIC), "the message view still shows the selected topic");
    assert!(has_text(&harness, "3 held, newest first"));
    assert!(has_text(&harness, "Ua: 229.0 V (A相电压 / Phase A voltage, quality good)"), "follows the newest message");
    assert!(has(&harness, "cems  (5/7)"));
}

#[test]
fn store_limits_clears_selection_by_path_and_energy_storage() {
    let limits = StoreLimits { per_topic_count: 2, max_payload_bytes: 300, ..StoreLimits::default() };
    let bench = Bench::start(limits, &[]);
    let topic = "cems/v1/PK-GW-01/GW-T/up/log/report";
    let long_entry = json!({"entries": [{"ts": 1, "level": "info", "module": "m", "msg": "x".repeat(400)}]});
    bench.publish(topic, report("l1", json!({"entries": []})), false);
    bench.publish(topic, report("l2", json!({"entries": []})), false);
    bench.publish(topic, report("l3", long_entry), false);
    let storage = "v1/rt/ess/group1/unit1";
    let storage_payload = json!({"t": now_ms(), "ns": "bms", "s": "METRIC", "d": {"soc": 87.5, "cell": {"maxV": 3.41}}});
    bench.publish(storage, serde_json::to_vec(&storage_payload).expect("json"), false);
    bench.wait_for(storage, 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while bench.engine.state.store().stats().truncated < 1 {
        assert!(Instant::now() < deadline, "the long message arrives");
        std::thread::sleep(Duration::from_millis(20));
    }

    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.select(topic);
    harness.run();
    assert!(has(&harness, "1 messages evicted / 1 truncated"));
    assert!(has(&harness, "report  (1/2)"), "select() opened the levels above the topic");
    assert!(has_text(&harness, "Truncated by the store: 300 of"));
    assert!(has_text(&harness, "Not JSON: EOF while parsing"), "a truncated payload says where it stops being JSON");

    // Clear: the selection stays by path and says nothing is held, then picks up new messages.
    harness.get_by_label("Clear messages").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().1);
    assert!(matches!(commands.as_slice(), [UiCommand::ClearStore]));
    bench.engine.send(EngineCommand::ClearStore).expect("engine runs");
    let deadline = Instant::now() + Duration::from_secs(5);
    while bench.engine.state.store().stats().messages > 0 {
        assert!(Instant::now() < deadline, "store cleared");
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run();
    assert_eq!(harness.state().0.selected(), Some(topic));
    assert!(has(&harness, "No messages held"));
    assert!(has(&harness, "No messages yet."));
    bench.publish(topic, report("l4", json!({"entries": []})), false);
    bench.wait_for(topic, 1);
    harness.run();
    assert!(has_text(&harness, "1 held, newest first"));

    // Energy-storage payloads show their numeric points.
    bench.publish(storage, serde_json::to_vec(&storage_payload).expect("json"), false);
    bench.wait_for(storage, 1);
    harness.state_mut().0.select(storage);
    harness.run();
    assert!(has_text(&harness, "Energy storage v1 rt (realtime data) · ess/group1/unit1"));
    assert!(has(&harness, "Numeric points (2)"));
    assert!(has(&harness, "bms.cell.maxV"));
}

#[test]
fn narrow_window_stacks_the_views_and_speaks_chinese() {
    let bench = Bench::start(StoreLimits::default(), &[]);
    bench.publish(POINT_TOPIC, point_report("r1", 231.5), false);
    bench.publish("cems/v1/PK-GW-01/GW-T/up/point/get/reply", report_reply("q1", 7), false);
    bench.wait_for(POINT_TOPIC, 1);
    bench.wait_for("cems/v1/PK-GW-01/GW-T/up/point/get/reply", 1);
    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness_with(&bench, &models, &profile, &sessions, Lang::Zh, egui::vec2(560.0, 900.0));
    harness.state_mut().0.select(POINT_TOPIC);
    harness.run();
    assert!(has(&harness, "已淘汰 0 条消息 / 已截断 0 条"));
    assert!(has(&harness, "report  (1/1)"));
    assert!(has_text(&harness, "Ua: 231.5 V (A相电压 / Phase A voltage, 品质 正常)"));
    let tree_bottom = harness.get_by_label("report  (1/1)").rect().bottom();
    let history_top = harness.get_by_label("历史").rect().top();
    assert!(history_top > tree_bottom, "the message view is below the tree");

    // A reply's code is named in the history row and explained in the UI language.
    harness.state_mut().0.select("cems/v1/PK-GW-01/GW-T/up/point/get/reply");
    harness.run();
    assert!(has_text(&harness, "QoS 1  7 not_found"));
    assert!(has_text(&harness, "7 not_found (子设备、测点、文件或任务不存在)"));
}
