//! The conformance checker against the simulator: clean, every mandatory case passes; with each
//! fault switched on, exactly the cases that check it fail; a gateway gone silent mid-run and a
//! cancelled run still end with verdicts and a report.

mod conformance_support;

use std::time::Duration;

use cems_workbench::conformance::{CancelToken, Catalogue, ManualAnswer, ManualHandler, Progress, Verdict, report_html};
use cems_workbench::protocol::model::Lang;
use cems_workbench::sim::{Outage, SimFault};
use conformance_support::{bench, failed_ids, options, verdicts};
use std::sync::Arc;

/// Cases that need a person, an outage or a cable: Inconclusive in a plain run.
const NEEDS_MORE: [&str; 4] = ["TC-4.3-02", "TC-6.7-05", "TC-6.13-02", "TC-10-01"];

#[test]
fn the_catalogue_covers_every_class() {
    let catalogue = Catalogue::builtin().unwrap();
    let clauses: std::collections::BTreeSet<&str> = catalogue.cases.iter().map(|c| c.clause.as_str()).collect();
    for clause in ["4.2", "4.3", "4.6", "6.1", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8", "6.9", "6.10", "6.11", "6.12", "6.13", "10"] {
        assert!(clauses.contains(clause), "no case for clause {clause}");
    }
    assert!(catalogue.cases.iter().filter(|c| c.changes).all(|c| c.sends), "a case that changes the gateway must send");
    assert!(catalogue.cases.iter().any(|c| c.manual.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clean_simulator_passes_every_mandatory_case() {
    let b = bench("gw-clean", Vec::new(), None).await;
    let started = std::time::Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (opts, cancel) = (options(), CancelToken::new());
    let run = b.run(&opts, &cancel, Some(tx));
    // An alarm shortly after the run starts, for TC-6.12-02.
    let alarm = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.raise_alarm();
    };
    let (report, ()) = tokio::join!(run, alarm);
    println!("full catalogue against the simulator: {:.1} s", started.elapsed().as_secs_f64());
    let all = verdicts(&report);
    assert!(report.complete);
    assert!(failed_ids(&report).is_empty(), "{all}");
    for case in &report.cases {
        if !NEEDS_MORE.contains(&case.id.as_str()) {
            assert_eq!(case.verdict, Verdict::Passed, "{all}");
        }
    }
    assert!(report.passed());
    assert_eq!(report.cases.len(), Catalogue::builtin().unwrap().cases.len());
    assert!(report.identity.vendor.is_some() && !report.identity.versions_before.is_empty());
    assert!(report.identity.versions_after.iter().any(|(m, v)| m == "firmware" && v == "9.9.9-test"), "{:?}", report.identity.versions_after);
    assert!(report.clock_offset_ms.is_some());
    assert!(report.points.iter().any(|p| p.unit.is_some() && p.name_zh.is_some()));
    assert!(!report.alarms.is_empty() && !report.transfers.is_empty());
    assert!(report.restored.iter().any(|r| r.contains("clock")), "{:?}", report.restored);
    // Progress: planned, each case started and finished, done.
    let mut finished = 0;
    while let Ok(p) = rx.try_recv() {
        if matches!(p, Progress::Finished(_)) {
            finished += 1;
        }
    }
    assert_eq!(finished, report.cases.len());
    let html = report_html::render(&report, Lang::Zh);
    assert!(html.contains("通过") && !html.contains("INCOMPLETE") && html.contains("<details>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_changes_allowed_the_changing_cases_do_not_run() {
    let b = bench("gw-readonly", Vec::new(), None).await;
    let mut opts = options();
    opts.allow_changes = false;
    opts.cases = Some("6.9,6.6,4.3-01".into());
    let report = b.run(&opts, &CancelToken::new(), None).await;
    let all = verdicts(&report);
    for case in &report.cases {
        let expect_not_run = case.changes;
        assert_eq!(matches!(case.verdict, Verdict::NotRun { .. }), expect_not_run, "{all}");
    }
    opts.read_only = true;
    let report = b.run(&opts, &CancelToken::new(), None).await;
    assert!(report.cases.iter().all(|c| c.id == "TC-4.3-01" || matches!(c.verdict, Verdict::NotRun { .. })), "{}", verdicts(&report));
}

async fn faulty(dev: &str, fault: SimFault, expected: &[&str]) {
    let b = bench(dev, vec![fault.clone()], None).await;
    let mut opts = options();
    // The alarm and outage cases wait for something that does not come here: keep them short.
    opts.time_scale = 0.08;
    let report = b.run(&opts, &CancelToken::new(), None).await;
    let mut failed = failed_ids(&report);
    failed.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(failed, expected, "{fault:?}:\n{}", verdicts(&report));
    assert!(!report.passed());
    assert_eq!(report.deficiencies.len(), expected.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_on_the_wrong_topic_fails_the_cases_that_use_it() {
    faulty("gw-topic", SimFault::WrongReplyTopic { what: Some("time/get".into()) }, &["TC-4.2-03", "TC-6.9-01", "TC-6.9-02"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_without_dedup_fails_the_duplicate_case() {
    faulty("gw-dedup", SimFault::NoDedup, &["TC-4.2-03"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_reply_fails_its_case() {
    faulty("gw-slow", SimFault::SlowReply { what: Some("log/get".into()), delay_ms: 3000 }, &["TC-6.11-01"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_checksum_failure_with_the_wrong_code_fails() {
    faulty("gw-sum", SimFault::BadChecksumCode, &["TC-6.7-03"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wrong_code_for_an_unknown_action_fails() {
    faulty("gw-code", SimFault::WrongCodeUnknownAction, &["TC-4.6-02"]).await;
}

/// A "person" who answers Done at once; the simulator's configured outage is the disconnection.
fn outage_person() -> ManualHandler {
    Arc::new(|_prompt| {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = tx.send(ManualAnswer::Done);
        rx
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_will_is_checked_when_a_person_disconnects_the_gateway() {
    for (dev, faults, expect_pass) in [("gw-will", Vec::new(), true), ("gw-nowill", vec![SimFault::NoWill], false)] {
        let b = bench(dev, faults, Some(Outage { at_secs: 3.0, for_secs: 2.0 })).await;
        let mut opts = options();
        opts.cases = Some("TC-4.3-02".into());
        opts.time_scale = 0.1;
        opts.interactive = Some(outage_person());
        let report = b.run(&opts, &CancelToken::new(), None).await;
        let verdict = &report.cases[0].verdict;
        if expect_pass {
            assert_eq!(verdict, &Verdict::Passed, "{}", verdicts(&report));
        } else {
            assert!(verdict.is_failed(), "{}", verdicts(&report));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_gone_silent_mid_run_gets_verdicts_not_a_hang() {
    let mut b = bench("gw-silent", Vec::new(), None).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = options();
    let sim = b.sim.take().unwrap();
    let stopper = async move {
        // Stop the gateway once a few cases are done.
        let mut done = 0;
        while let Some(p) = rx.recv().await {
            if matches!(p, Progress::Finished(_)) {
                done += 1;
                if done == 4 {
                    sim.stop().await;
                    break;
                }
            }
        }
    };
    let cancel = CancelToken::new();
    let (report, ()) = tokio::join!(b.run(&opts, &cancel, Some(tx)), stopper);
    let all = verdicts(&report);
    assert_eq!(report.cases.len(), Catalogue::builtin().unwrap().cases.len(), "{all}");
    assert!(report.complete);
    assert!(!failed_ids(&report).is_empty(), "{all}");
    assert!(report.cases.iter().any(|c| c.verdict.reason().is_some_and(|r| r.contains("unanswered"))), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_run_writes_an_incomplete_report() {
    let b = bench("gw-cancel", Vec::new(), None).await;
    let cancel = CancelToken::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let canceller = {
        let cancel = cancel.clone();
        async move {
            while let Some(p) = rx.recv().await {
                if matches!(p, Progress::Finished(_)) {
                    cancel.cancel();
                    break;
                }
            }
        }
    };
    let opts = options();
    let (mut report, ()) = tokio::join!(b.run(&opts, &cancel, Some(tx)), canceller);
    assert!(!report.complete);
    assert!(report.cases.len() < Catalogue::builtin().unwrap().cases.len());
    // Hostile texts from a gateway or a user end up escaped.
    report.site = Some("<script>alert(1)</script>".into());
    report.identity.vendor = Some("\"Evil & <Co>\"".into());
    let html = report_html::render(&report, Lang::En);
    assert!(html.contains("INCOMPLETE"));
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;Evil &amp; &lt;Co&gt;&quot;"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<link") && !html.contains("src="), "self-contained");
    assert_eq!(html.matches("<details>").count(), html.matches("</details>").count());
    assert_eq!(html.matches("<table").count(), html.matches("</table>").count());
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_answering_garbage_fails_those_cases_and_the_run_goes_on() {
    faulty("gw-garbage", SimFault::GarbageReply { what: Some("time/get".into()) }, &["TC-4.2-03", "TC-6.9-01", "TC-6.9-02"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_answering_twice_gets_verdicts_not_a_hang() {
    let b = bench("gw-twice", vec![SimFault::DoubleReply { what: None }], None).await;
    let mut opts = options();
    opts.time_scale = 0.08;
    let report = tokio::time::timeout(Duration::from_secs(240), b.run(&opts, &CancelToken::new(), None)).await.expect("the run ends");
    let all = verdicts(&report);
    assert!(report.complete, "{all}");
    assert_eq!(report.cases.len(), Catalogue::builtin().unwrap().cases.len(), "{all}");
    // A second copy of a reply is the transport's repetition, not a deviation: nothing fails.
    assert!(failed_ids(&report).is_empty(), "{all}");
}
