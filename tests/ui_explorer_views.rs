//! The explorer's search (matches marked in the tree and the payload, counts narrowed to what
//! matched, the count pluralised) and its generic views of payloads of no known profile: JSON,
//! text, and binary as a bounded hex dump.

mod ui_explorer_bench;

use cems_workbench::engine::store::StoreLimits;
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::ui::Sessions;
use egui_kittest::kittest::Queryable;
use serde_json::json;
use ui_explorer_bench::*;

fn is_marked(harness: &egui_kittest::Harness<'_, State>, whole: impl Fn(&str) -> bool, part: &str) -> bool {
    marked(harness).iter().any(|(w, p)| whole(w) && p == part)
}

#[test]
fn search_marks_its_matches_and_counts_only_what_matched() {
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
    assert!(has(&harness, "cems  (3/4)"));
    assert!(marked(&harness).is_empty(), "nothing is marked without a search");

    // A search by topic: the counts are those of the matching topic, its name is marked.
    harness.state_mut().0.set_search("point");
    harness.run();
    assert!(has(&harness, "1 matching topic"), "singular");
    assert!(has(&harness, "cems  (1/2)") && !has(&harness, "cems  (3/4)"), "counts narrowed to what matched");
    assert!(has(&harness, "up  (1/2)"));
    assert!(is_marked(&harness, |w| w == "point  (1/2)", "point"), "{:?}", marked(&harness));
    assert!(!is_marked(&harness, |w| w == "report  (1/2)", "point"));
    // The row's payload preview marks `"points"` too.
    assert!(is_marked(&harness, |w| w.starts_with("{\"id\":\"r2\"") && w.contains("\"points\""), "point"), "{:?}", marked(&harness));

    // The selected topic's payload: the topic, the JSON tree's key, the raw text.
    harness.state_mut().0.select(POINT_TOPIC);
    harness.run();
    assert!(is_marked(&harness, |w| w == POINT_TOPIC, "point"));
    assert!(is_marked(&harness, |w| w.starts_with("points [1]"), "point"), "{:?}", marked(&harness));
    harness.get_by_label("Raw").click();
    harness.run();
    // Longer than the tree's 80-character preview: the raw text itself.
    assert!(is_marked(&harness, |w| w.starts_with("{\"id\":\"r2\"") && w.chars().count() > 90, "point"), "{:?}", marked(&harness));

    // A search by payload, in another case than the payload's.
    harness.state_mut().0.set_search("acme");
    harness.state_mut().0.select(INFO_TOPIC);
    harness.run();
    harness.get_by_label("JSON").click();
    harness.run();
    assert!(has(&harness, "1 matching topic") && has(&harness, "info  (1/1)") && has(&harness, "cems  (1/1)"));
    assert!(is_marked(&harness, |w| w.starts_with("vendor: \"ACME\""), "ACME"), "{:?}", marked(&harness));

    // Two matches: plural; and the counts follow new messages.
    harness.state_mut().0.set_search("report");
    harness.run();
    assert!(has(&harness, "2 matching topics") && has(&harness, "cems  (2/3)"));
    bench.publish(POINT_TOPIC, point_report("r3", 229.0), false);
    bench.wait_for(POINT_TOPIC, 3);
    // Another spelling of the same search: searched again at once.
    harness.state_mut().0.set_search("REPORT");
    harness.run();
    assert!(has(&harness, "cems  (2/4)"), "a new message of a matching topic counts");

    // Cleared: whole-subtree counts and no marks.
    harness.state_mut().0.set_search("");
    harness.run();
    assert!(has(&harness, "cems  (3/5)"));
    assert!(marked(&harness).is_empty());
}

#[test]
fn matching_count_is_pluralised_in_chinese_too() {
    let bench = Bench::start(StoreLimits::default(), &[]);
    bench.publish(POINT_TOPIC, point_report("r1", 231.5), false);
    bench.publish(INFO_TOPIC, report("i1", json!({"vendor": "ACME"})), false);
    bench.wait_for(POINT_TOPIC, 1);
    bench.wait_for(INFO_TOPIC, 1);
    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness_with(&bench, &models, &profile, &sessions, Lang::Zh, egui::vec2(1280.0, 860.0));
    harness.state_mut().0.set_search("point");
    harness.run();
    assert!(has(&harness, "1 个匹配的主题"));
    harness.state_mut().0.set_search("report");
    harness.run();
    assert!(has(&harness, "2 个匹配的主题"));
    harness.state_mut().0.set_search("nothing at all");
    harness.run();
    assert!(has(&harness, "0 个匹配的主题"));
}

#[test]
fn other_payloads_get_json_text_and_bounded_hex_views() {
    let limits = StoreLimits { per_topic_bytes: 64 * 1024 * 1024, max_payload_bytes: 16 * 1024 * 1024, ..StoreLimits::default() };
    let bench = Bench::start(limits, &[]);
    const BIG: usize = 10 * 1024 * 1024;
    bench.publish("plain/text", &b"hello world, not JSON"[..], false);
    bench.publish("plain/json", &b"{\"temperature\": 21.5}"[..], false);
    // Protobuf: field 1 varint 150, field 2 string "abc".
    bench.publish("plain/proto", &[0x08u8, 0x96, 0x01, 0x12, 0x03, b'a', b'b', b'c'][..], false);
    bench.publish("plain/big", vec![0xabu8; BIG], false);
    for topic in ["plain/text", "plain/json", "plain/proto", "plain/big"] {
        bench.wait_for(topic, 1);
    }
    let (models, profile, sessions) = (ModelSet::builtin(), TopicProfile::builtin(), Sessions::new());
    let mut harness = harness(&bench, &models, &profile, &sessions);
    harness.state_mut().0.set_open("plain", true);
    harness.run();
    assert!(has_text(&harness, "08 96 01 12 03 61 62 63"), "a binary payload's row preview is hex");
    assert!(has_text(&harness, "ab ab ab ab"));

    // Text of no profile is just text: no "Not JSON" error.
    harness.state_mut().0.select("plain/text");
    harness.run();
    assert!(has_text(&harness, "hello world, not JSON"));
    assert!(!has_text(&harness, "Not JSON"));
    harness.state_mut().0.select("plain/json");
    harness.run();
    assert!(has(&harness, "temperature: 21.5"));

    // Binary is hex in the JSON tab already.
    harness.state_mut().0.select("plain/proto");
    harness.run();
    assert!(has(&harness, "Binary payload (8 bytes), shown as hex."));
    assert!(has_text(&harness, "00000000  08 96 01 12 03 61 62 63"));

    // Ten megabytes: the first 64 KiB, only the lines on screen laid out, more on request.
    harness.state_mut().0.select("plain/big");
    harness.run();
    assert!(has(&harness, &format!("Binary payload ({BIG} bytes), shown as hex.")));
    assert!(has(&harness, &format!("Showing the first 65536 of {BIG} bytes")));
    assert!(has_text(&harness, "00000000  ab ab"));
    let dump_lines = || harness.query_all_by_label_contains("  ab ab ab ab ab ab ab ab  ab").count();
    let on_screen = dump_lines();
    assert!(on_screen > 0 && on_screen < 200, "{on_screen} hex lines laid out");
    harness.get_by_label("Show more").click();
    harness.run();
    assert!(has(&harness, &format!("Showing the first 131072 of {BIG} bytes")));
    harness.get_by_label("Hex").click();
    harness.run();
    assert!(has(&harness, &format!("Showing the first 131072 of {BIG} bytes")), "the Hex tab shows as much");
    assert!(harness.query_all_by_label_contains("  ab ab ab ab ab ab ab ab  ab").count() < 200);
    // A diff of two such payloads stays bounded too.
    bench.publish("plain/big", vec![0xacu8; BIG], false);
    bench.wait_for("plain/big", 2);
    harness.run();
    harness.get_all_by_label("A").next().expect("row A").click();
    harness.run();
    harness.get_all_by_label("B").nth(1).expect("row B").click();
    harness.run();
    assert!(has(&harness, "Binary: hex dump diff, A → B"));
    assert!(has_text(&harness, "- 00000000  ac ac") || has_text(&harness, "+ 00000000  ac ac"), "hex lines compared");
}
