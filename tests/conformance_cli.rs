//! `cems-workbench check` as a user runs it: lines on stderr, the report as JSON and HTML, and
//! the exit code (0 no mandatory failure, 1 a mandatory failure, 2 usage).

mod conformance_support;

use std::process::Command;

use cems_workbench::sim::SimFault;
use conformance_support::{PK, bench};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

fn check(url: &str, dev: &str, cases: &str, report: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .args(["check", &format!("{PK}/{dev}"), "--broker", url, "--cases", cases, "--json", "--lang", "zh", "--timeout", "3", "--report"])
        .arg(report)
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_prints_lines_writes_reports_and_exits_by_mandatory_failures() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let clean = bench("gw-cli", Vec::new(), None).await;
    let url = clean.url.clone();
    let out = tokio::task::spawn_blocking({
        let report = report.clone();
        move || check(&url, "gw-cli", "TC-4.2,TC-6.10-01,TC-6.9-02", &report)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("TC-4.2-03") && stderr.contains("Passed") && stderr.contains("NotRun"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), 5);
    let time_set = json["cases"].as_array().unwrap().iter().find(|c| c["id"] == "TC-6.9-02").unwrap();
    assert_eq!(time_set["verdict"], "notRun", "time/set needs --allow-changes");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("调试与一致性测试报告") && html.contains("gw-cli"));

    let faulty = bench("gw-cli-dedup", vec![SimFault::NoDedup], None).await;
    let url = faulty.url.clone();
    let out = tokio::task::spawn_blocking(move || check(&url, "gw-cli-dedup", "TC-4.2-03", &report)).await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // In the report's language (`--lang zh`), the reason too.
    assert!(stderr.contains("Failed") && stderr.contains("重复的 id 被再次处理"), "{stderr}");

    let usage = Command::new(BIN).args(["check", "PK-GW-01/x", "--cases", "TC-99"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
