//! The device page's Conformance tab against the simulator (issue 18): a filtered run fills the
//! list with verdicts, a case's messages open in one click, the report saves as HTML and PDF to a typed
//! path (and a bad path says so); a manual step asks in a dialog and Skip leaves the case
//! Inconclusive; a cancelled run is marked incomplete; a read-only session runs only the cases
//! that listen. The tab's run goes out as a command, started here as the window would, with
//! the cases' times scaled down.

mod device_bench;

use cems_workbench::protocol::model::Lang;
use cems_workbench::conformance::Catalogue;
use cems_workbench::sim::SimFault;
use cems_workbench::ui::UiCommand;
use device_bench::{Bench, State, has_text, open_tab, run_until, start, type_into};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

/// Clicks Run (`run_label` in the UI language) and starts the run the tab asked for, its
/// cases' times multiplied by `time_scale`.
fn run_cases(harness: &mut Harness<'static, State>, bench: &Bench, run_label: &str, time_scale: f64) {
    harness.get_by_role_and_label(Role::Button, run_label).click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let mut launch = commands
        .into_iter()
        .find_map(|c| match c {
            UiCommand::RunConformance(launch) => Some(launch),
            _ => None,
        })
        .expect("Run asks the window to start a run");
    assert_eq!(launch.key, bench.key());
    launch.options.time_scale = time_scale;
    launch.start(&harness.state().engine, Some(bench.rt.handle()));
}

fn summary_shown(harness: &Harness<'static, State>) -> bool {
    has_text(harness, " inconclusive, ")
}

/// Types `text` into the text field named `label`, replacing what it held (a path prompt's label
/// and field share the name).
fn replace_field(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    harness.get_by_role_and_label(Role::TextInput, label).click();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, label).type_text(text);
    harness.run();
}

/// The texts shown that contain `part`, for a failure's message.
fn shown(harness: &Harness<'static, State>, part: &str) -> Vec<String> {
    harness.query_all_by_label_contains(part).filter_map(|n| n.accesskit_node().label().or_else(|| n.accesskit_node().value())).collect()
}

#[test]
fn a_filtered_run_fills_the_list_opens_the_evidence_and_saves_the_report() {
    let (mut harness, bench) = start("GW-CONF", |_| {});
    open_tab(&mut harness, &bench.key(), "Conformance");
    type_into(&mut harness, "Cases to run", "TC-4.2,TC-6.4");
    let all = Catalogue::builtin().expect("catalogue").cases.len();
    assert!(has_text(&harness, &format!("6 of {all} cases selected")), "the filter selects TC-4.2-* and TC-6.4-*");
    run_cases(&mut harness, &bench, "Run", 0.1);
    run_until(&mut harness, "the summary", summary_shown);
    // TC-6.4-03 changes a setpoint: without the tick it is listed, not run, and says why.
    assert!(has_text(&harness, "5 passed, 0 failed (0 mandatory), 0 inconclusive, 1 not run"), "every case of a clean simulator passes: {:?}", shown(&harness, "passed"));
    assert!(has_text(&harness, "PASS"));
    assert!(has_text(&harness, "changes the gateway: changes are not allowed in this run (--allow-changes, or the tick in the window)"));
    assert_eq!(harness.query_all_by_label("Passed").count(), 5);

    // One click: the messages the case exchanged.
    harness.get_by_role_and_label(Role::Button, "TC-4.2-01").click();
    harness.run_steps(3);
    assert!(has_text(&harness, "→ sent") && has_text(&harness, "← received"), "the request and its reply are listed");
    assert!(has_text(&harness, &format!("cems/v1/{}/{}/", device_bench::PK, bench.dev)), "with their topics");
    // A second click closes it again.
    harness.get_by_role_and_label(Role::Button, "TC-4.2-01").click();
    harness.run_steps(3);
    assert!(!has_text(&harness, "← received"));

    // The report to a typed path, written off the UI thread.
    let path = bench.files.path().join("commissioning.html");
    replace_field(&mut harness, "HTML report", &path.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Save report (HTML)").click();
    run_until(&mut harness, "the report written", |h| has_text(h, "Report written to"));
    let html = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("the report file {}: {e}; {:?}", path.display(), shown(&harness, "Report written")));
    assert!(html.contains("<html") && html.contains("TC-4.2-01") && html.contains(&bench.dev), "a report of this run");

    // The same report as a PDF.
    let pdf = bench.files.path().join("commissioning.pdf");
    replace_field(&mut harness, "PDF report", &pdf.display().to_string());
    harness.get_by_role_and_label(Role::Button, "Save report (PDF)").click();
    run_until(&mut harness, "the PDF written", |h| shown(h, "Report written to").iter().any(|t| t.ends_with(".pdf")));
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("the PDF {}: {e}", pdf.display()));
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file");

    // A path under a file cannot be written: the tab says so.
    let blocker = bench.files.path().join("plain-file");
    std::fs::write(&blocker, b"x").expect("a file");
    replace_field(&mut harness, "HTML report", &blocker.join("report.html").display().to_string());
    harness.get_by_role_and_label(Role::Button, "Save report (HTML)").click();
    run_until(&mut harness, "the write refused", |h| has_text(h, "Cannot write the report:"));
}

#[test]
fn a_manual_step_asks_in_a_dialog_and_skip_makes_the_case_inconclusive() {
    let (mut harness, bench) = start("GW-CONF-MANUAL", |_| {});
    open_tab(&mut harness, &bench.key(), "Conformance");
    type_into(&mut harness, "Cases to run", "TC-4.3-02");
    run_cases(&mut harness, &bench, "Run", 1.0);
    // On another tab of the page the step is asked all the same.
    harness.get_by_role_and_label(Role::Button, "Overview").click();
    harness.run_steps(2);
    run_until(&mut harness, "the manual step's dialog", |h| has_text(h, "Disconnect the gateway's network (pull its cable) for 30 s"));
    assert!(has_text(&harness, "Manual step"));
    assert!(!summary_shown(&harness), "the run waits for the answer");
    assert!(has_text(&harness, "Identity"), "still on the Overview tab");
    assert!(has_text(&harness, "Conformance (1)"), "the tab's title counts the step waiting");
    harness.get_by_role_and_label(Role::Button, "Skip").click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Conformance").click();
    run_until(&mut harness, "the summary", summary_shown);
    assert!(has_text(&harness, "0 passed, 0 failed (0 mandatory), 1 inconclusive, 0 not run"));
    assert!(has_text(&harness, "the manual step (disconnect the gateway) was not done"), "the reason is shown against the verdict");
    assert!(!has_text(&harness, "Disconnect the gateway's network (pull its cable)"), "the dialog is gone");
}

#[test]
fn a_cancelled_run_still_gives_a_report_marked_incomplete() {
    // point/get answered only after a minute: TC-6.4-01 is still waiting when Cancel is clicked.
    let (mut harness, bench) = start("GW-CONF-CANCEL", |c| c.faults.push(SimFault::parse("slow-reply=point/get:60000").expect("fault")));
    open_tab(&mut harness, &bench.key(), "Conformance");
    type_into(&mut harness, "Cases to run", "TC-6.4-01,TC-6.10-01");
    run_cases(&mut harness, &bench, "Run", 1.0);
    run_until(&mut harness, "TC-6.4-01 running", |h| has_text(h, "Running…"));
    assert!(has_text(&harness, "0 of 2 cases"), "the progress bar counts the cases");
    harness.get_by_role_and_label(Role::Button, "Cancel").click();
    run_until(&mut harness, "the incomplete report", |h| has_text(h, "Incomplete: the run was cancelled"));
    assert!(has_text(&harness, "cancelled while running"), "the case under way is Inconclusive");
    assert!(has_text(&harness, "The run was cancelled before this case."), "TC-6.10-01 never ran");
    assert!(has_text(&harness, "0 passed, 0 failed (0 mandatory), 1 inconclusive, 0 not run"));
    assert!(harness.query_by_label("Save report (HTML)").is_some(), "an incomplete run still has its report");
}

#[test]
fn a_read_only_session_runs_only_the_listening_cases_in_chinese_too() {
    let (mut harness, bench) = start("GW-CONF-RO", |_| {});
    open_tab(&mut harness, &bench.key(), "Conformance");
    harness.state_mut().sessions.get_mut(&1).expect("session").read_only = true;
    type_into(&mut harness, "Cases to run", "TC-6.4-02,TC-4.2-01");
    assert!(has_text(&harness, "Read-only session: only the cases that listen run (1 of 2)"));
    assert!(harness.query_by_label("Allow changes to the gateway").is_none(), "nothing to allow on a read-only session");
    let requests = |h: &Harness<'static, State>| h.state().engine.state.gateways().get(&bench.key()).map_or(0, |g| g.requests.len());
    let before = requests(&harness);
    harness.state_mut().lang = Lang::Zh;
    harness.run_steps(2);
    run_cases(&mut harness, &bench, "开始测试", 0.2);
    run_until(&mut harness, "the summary in Chinese", |h| has_text(h, "，无结论 "));
    assert!(has_text(&harness, "通过 1，不通过 0（必测项 0），无结论 0，未执行 1"), "{:?}", shown(&harness, "未执行"));
    assert!(has_text(&harness, "只读会话：本用例需要发送请求"), "TC-4.2-01 says why it did not run");
    assert_eq!(requests(&harness), before, "the run sent nothing on the read-only session");
}
