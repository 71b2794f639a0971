//! The device page's History and Logs tabs against the simulator (issue 10): a recall of a period
//! listed batch by batch with new and duplicate samples and its total; a period typed wrong never
//! leaves the form; a log fetch that follows the gateway's pages, filtered by module and exported
//! as text.

mod device_bench;

use std::time::Duration;

use cems_workbench::protocol::time::now_ms;
use cems_workbench::transport::Message;
use device_bench::{Bench, PK, has_text, open_tab, raw_link, replace_text, run_until, serve_until, start, take_requests};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use serde_json::json;

fn recalls(harness: &egui_kittest::Harness<'static, device_bench::State>, bench: &Bench) -> Vec<cems_workbench::engine::gateways::alarm_log::Recall> {
    harness.state().engine.state.gateways().get(&bench.key()).map(|g| g.alarm_log.recalls.iter().cloned().collect()).unwrap_or_default()
}

#[test]
fn a_recall_lists_its_batches_with_new_and_duplicates_and_the_total() {
    let (mut harness, bench) = start("GW-HIST", |_| {});
    let key = bench.key();
    open_tab(&mut harness, &key, "History");
    // Let the gateway report for a while: those samples are in its recent history.
    std::thread::sleep(Duration::from_millis(1_500));
    harness.get_by_role_and_label(Role::Button, "Last hour").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    harness.run_steps(2);
    let sent = take_requests(&mut harness);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let spec = &sent[0];
    assert_eq!((spec.class.as_str(), spec.action.as_str(), spec.pk.as_str(), spec.dev.as_str()), ("history", "get", PK, "GW-HIST"));
    let (from, to) = (spec.data["from"].as_i64().unwrap(), spec.data["to"].as_i64().unwrap());
    assert!((to - from - 3_600_000).abs() < 1_000 && (now_ms() - to).abs() < 5_000, "the last hour: {from}..{to}");
    assert!(spec.data.get("sub").is_none(), "all sub-devices");
    let first_id = spec.id.clone().unwrap();
    harness.state_mut().commands.push(cems_workbench::ui::UiCommand::Request(spec.clone()));
    serve_until(&mut harness, &bench, "the first recall complete", |h| has_text(h, "Recall complete:"));
    let first = recalls(&harness, &bench).into_iter().find(|r| r.recall_id == first_id).expect("the recall is the request's id");
    // The window listened all along: the recall brings back what the live reports brought.
    assert!(first.done() && first.received > 0 && first.duplicates > 0, "{first:?}");
    assert!(has_text(&harness, &format!("Recall complete: {} batches, {} new samples, {} duplicates.", first.received, first.new, first.duplicates)));
    assert!(has_text(&harness, &first.batches[0].batch_id), "each batch is listed");

    // The same period again: everything is held, so all of it counts as duplicates.
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    serve_until(&mut harness, &bench, "the second recall complete", |h| recalls(h, &bench).len() == 2 && recalls(h, &bench)[1].done());
    let second = recalls(&harness, &bench).pop().unwrap();
    assert!(second.duplicates >= first.new + first.duplicates, "first {first:?}, second {second:?}");
    assert!(has_text(&harness, &format!("Recall complete: {} batches, {} new samples, {} duplicates.", second.received, second.new, second.duplicates)));
    // Both recalls stay listed; clicking the first shows its batches again.
    harness.get_by_role_and_label(Role::Button, &first_id).click();
    harness.run_steps(2);
    assert!(has_text(&harness, &format!("Batches of {first_id}")));
}

#[test]
fn a_period_typed_wrong_or_backwards_never_leaves_the_form() {
    let (mut harness, bench) = start("GW-HIST-BAD", |_| {});
    open_tab(&mut harness, &bench.key(), "History");
    replace_text(&mut harness, "Start of the period", "yesterday");
    assert!(has_text(&harness, "From is not a time"));
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    harness.run_steps(2);
    assert!(take_requests(&mut harness).is_empty(), "nothing sent");
    replace_text(&mut harness, "Start of the period", "2030-01-01T00:00:00Z");
    assert!(has_text(&harness, "From is after To."));
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    harness.run_steps(2);
    assert!(take_requests(&mut harness).is_empty(), "nothing sent");
    replace_text(&mut harness, "Start of the period", "2026-01-31T08:00:00+08:00");
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    harness.run_steps(2);
    let sent = take_requests(&mut harness);
    assert_eq!(sent.first().map(|s| s.data["from"].clone()), Some(json!(1_769_817_600_000_i64)), "{sent:?}");
}

/// Fills the simulator's log past one reply (256 KiB): each `message/down` it receives is
/// logged as an excerpt of up to 512 characters.
fn fill_the_gateway_log(bench: &Bench, messages: usize) {
    let link = raw_link(bench, "gw-filler");
    let topic = format!("cems/v1/{PK}/{}/down/message/down", bench.dev);
    for i in 0..messages {
        let payload = json!({"id": format!("fill-{i}"), "ts": now_ms(), "ver": "1.0", "data": {"type": "note", "content": format!("{i:05} {}", "z".repeat(600))}});
        link.publish(Message::new(topic.clone(), payload.to_string(), 1, false)).expect("publish");
    }
}

#[test]
fn a_log_fetch_follows_the_pages_and_the_entries_filter_and_export_as_text() {
    let (mut harness, bench) = start("GW-LOGS", |_| {});
    let key = bench.key();
    open_tab(&mut harness, &key, "Logs");
    fill_the_gateway_log(&bench, 700);
    // The simulator has logged them when its log holds more than one reply can carry.
    std::thread::sleep(Duration::from_secs(3));
    harness.get_by_role_and_label(Role::Button, "Fetch logs").click();
    serve_until(&mut harness, &bench, "the fetch to end", |h| has_text(h, "Fetched "));
    let log_gets: Vec<_> = harness.state().engine.state.gateways().get(&key).unwrap().requests.iter().filter(|r| r.class == "log" && r.action == "get").cloned().collect();
    assert!(log_gets.len() >= 2, "the fetch followed the truncated pages: {} requests", log_gets.len());
    let kept = harness.state().engine.state.gateways().get(&key).unwrap().logs.iter().filter(|e| e.module == "message").count();
    assert!(kept >= 600, "entries of every page kept: {kept}");
    assert!(has_text(&harness, &format!("in {} pages.", log_gets.len())));

    // Only the message module, then only one message of it.
    harness.get_by_label("Filter log entries").click();
    harness.run();
    harness.get_by_label("Filter log entries").type_text("00042 ");
    harness.run_steps(2);
    assert!(has_text(&harness, "1 of 1 matching"));
    let path = bench.files.path().join("gateway.log");
    harness.get_by_label("Export path").click();
    harness.run();
    harness.get_by_label("Export path").type_text(&path.display().to_string());
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Export as text").click();
    run_until(&mut harness, "the export written", |h| has_text(h, "1 log entries written to"));
    let text = std::fs::read_to_string(&path).unwrap();
    let fields: Vec<&str> = text.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 4, "{text}");
    assert_eq!((fields[1], fields[2]), ("info", "message"));
    assert!(fields[3].starts_with("note: 00042 zzz"), "{text}");
}

#[test]
fn on_a_read_only_session_the_page_says_so_and_nothing_leaves_it() {
    let (mut harness, bench) = start("GW-HIST-RO", |_| {});
    open_tab(&mut harness, &bench.key(), "History");
    harness.state_mut().sessions.get_mut(&1).unwrap().read_only = true;
    harness.run_steps(2);
    assert!(harness.query_by_label("read-only").is_some(), "the page header marks the session");
    assert!(has_text(&harness, "Read-only session: nothing is sent."));
    harness.get_by_role_and_label(Role::Button, "Recall").click();
    harness.run_steps(2);
    open_tab(&mut harness, &bench.key(), "Logs");
    harness.get_by_role_and_label(Role::Button, "Fetch logs").click();
    harness.get_by_role_and_label(Role::Button, "Apply").click();
    harness.run_steps(2);
    assert!(take_requests(&mut harness).is_empty(), "nothing sent on a read-only session");
}
