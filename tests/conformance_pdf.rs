//! The commissioning report as PDF: a well-formed file (header, page tree, cross-reference
//! table), text that `pdftotext` reads back (Chinese labels and case ids), several pages for a
//! long run with the header of the cases table repeated, and the incomplete mark.

mod common;
mod conformance_support;

use std::process::Command;

use cems_workbench::conformance::catalogue::CaseText;
use cems_workbench::conformance::model::{CaseResult, Evidence, EvidenceKind, Identity};
use cems_workbench::conformance::{CancelToken, RunReport, Verdict, report_pdf};
use cems_workbench::protocol::model::Lang;
use conformance_support::{bench, options};

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Checks the file's frame and returns its page count: the header, `%%EOF`, `startxref`
/// pointing at the `xref` table, each of whose entries points at its `N 0 obj`, and the page
/// tree's `/Count` equal to the number of page objects.
fn check_structure(pdf: &[u8]) -> usize {
    assert!(pdf.starts_with(b"%PDF-1."), "no PDF header");
    assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"), "no %%EOF");
    let at = find(pdf, b"startxref").expect("startxref");
    let tail = String::from_utf8_lossy(&pdf[at + 9..]);
    let xref: usize = tail.split_whitespace().next().expect("xref offset").parse().expect("numeric xref offset");
    assert!(pdf[xref..].starts_with(b"xref"), "startxref does not point at the xref table");
    let table = String::from_utf8_lossy(&pdf[xref..]);
    let mut lines = table.lines().skip(1);
    let header: Vec<usize> = lines.next().expect("subsection").split_whitespace().map(|n| n.parse().expect("number")).collect();
    let (first, objects) = (header[0], header[1]);
    assert_eq!(first, 0);
    for (number, line) in lines.take(objects).enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[2] == "n" {
            let offset: usize = fields[0].parse().expect("offset");
            assert!(pdf[offset..].starts_with(format!("{number} 0 obj").as_bytes()), "xref entry {number} points elsewhere");
        }
    }
    let pages = count(pdf, b"/Type /Page\n");
    let count_at = find(pdf, b"/Count ").expect("page tree count");
    let counted: usize = String::from_utf8_lossy(&pdf[count_at + 7..]).split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    assert_eq!(counted, pages, "/Count of the page tree");
    assert!(pages >= 1);
    pages
}

/// The text `pdftotext` reads from the file, or None (skipped, or failed under CI) when absent.
fn pdftotext(pdf: &[u8]) -> Option<String> {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        common::skip_or_fail("pdftotext not found (poppler-utils)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").arg("-enc").arg("UTF-8").arg(&path).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

fn text(en: &str, zh: &str) -> CaseText {
    CaseText { en: en.into(), zh: zh.into() }
}

/// A run of `cases` cases, each with `messages` long messages.
fn long_run(cases: usize, messages: usize, complete: bool) -> RunReport {
    let payload = format!("{{\"id\":\"req-1\",\"code\":0,\"data\":{{\"points\":[{}]}}}}", (0..60).map(|i| format!("{{\"pid\":\"P{i}\",\"v\":{i}.5,\"q\":0}}")).collect::<Vec<_>>().join(","));
    let cases = (0..cases)
        .map(|i| CaseResult {
            id: format!("TC-6.{}-{:02}", i / 10, i % 10),
            clause: format!("6.{}", i / 10),
            title: text("Every request answered on its reply topic with its id echoed", "每个请求都在其应答主题上应答，并回显其编号"),
            mandatory: i % 2 == 0,
            changes: false,
            verdict: match i % 4 {
                0 => Verdict::Passed,
                1 => Verdict::failed(text("the reply came on …/up/replyx instead of …/up/reply, and its code was 5 where 0 was expected", "应答出现在 …/up/replyx 而不是 …/up/reply，其代码为 5，应为 0")),
                2 => Verdict::inconclusive(text("no alarm within its time", "规定时间内没有告警")),
                _ => Verdict::NotRun { reason: text("changes not allowed", "不允许更改") },
            },
            evidence: (0..messages)
                .map(|m| Evidence { at_ms: m as i64 * 10, kind: if m % 2 == 0 { EvidenceKind::Sent } else { EvidenceKind::Received }, topic: "/PK-GW-01/gw-1/down/request".into(), excerpt: payload.clone(), latency_ms: (m % 2 == 1).then_some(4.2) })
                .collect(),
            duration_ms: 120.0,
        })
        .collect();
    RunReport {
        catalogue: "cems-v1".into(),
        catalogue_version: "1".into(),
        pk: "PK-GW-01".into(),
        dev: "gw-1".into(),
        link: "mqtt://127.0.0.1:1883".into(),
        site: Some("一号监测站".into()),
        started_ms: 1_700_000_000_000,
        finished_ms: 1_700_000_600_000,
        complete,
        allow_changes: false,
        read_only: false,
        identity: Identity { vendor: Some("ACME".into()), model: Some("GW-9".into()), ..Default::default() },
        clock_offset_ms: None,
        clock_round_trip_ms: None,
        points: Vec::new(),
        alarms: Vec::new(),
        transfers: Vec::new(),
        restored: Vec::new(),
        cases,
        deficiencies: Vec::new(),
    }
}

#[test]
fn many_cases_with_long_evidence_make_several_pages_with_the_header_repeated() {
    let short = check_structure(&report_pdf::render(&long_run(3, 1, true), Lang::En).unwrap());
    let pdf = report_pdf::render(&long_run(60, 6, true), Lang::En).unwrap();
    let pages = check_structure(&pdf);
    assert!(pages >= 6 && pages > short, "{pages} pages for 60 cases of 6 long messages ({short} for 3)");
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("TC-6.0-00") && text.contains("TC-6.5-09"), "first and last case ids");
        assert!(text.contains(&format!("Page {pages} of {pages}")));
        // The cases table's header ("Verdict") on each page it runs over.
        assert!(text.matches("Verdict").count() >= pages - 1, "header repeated: {} for {pages} pages", text.matches("Verdict").count());
        assert!(!text.contains("INCOMPLETE"));
    }
}

#[test]
fn a_case_taller_than_a_page_is_split_over_pages() {
    let pdf = report_pdf::render(&long_run(1, 120, true), Lang::Zh).unwrap();
    assert!(check_structure(&pdf) >= 3);
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("+1190 ms"), "the last message is printed");
    }
}

#[test]
fn a_cancelled_run_is_marked_incomplete_on_every_page() {
    let pdf = report_pdf::render(&long_run(40, 4, false), Lang::Zh).unwrap();
    let pages = check_structure(&pdf);
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("未完成：测试被取消"), "the banner");
        assert!(text.matches("未完成").count() > pages, "the banner and each page's mark");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_run_against_the_simulator_reads_back_in_chinese_and_english() {
    let b = bench("gw-pdf", Vec::new(), None).await;
    let mut opts = options();
    opts.cases = Some("4.3,6.4,6.5".into());
    let report = b.run(&opts, &CancelToken::new(), None).await;
    assert!(report.complete && !report.cases.is_empty());
    let zh = report_pdf::render(&report, Lang::Zh).unwrap();
    let en = report_pdf::render(&report, Lang::En).unwrap();
    check_structure(&zh);
    check_structure(&en);
    // The font is embedded as a subset: far smaller than the 1 MB font file.
    assert!(zh.len() < 400_000, "{} bytes", zh.len());
    assert!(count(&zh, b"/FontFile2") >= 1 && count(&zh, b"/ToUnicode") >= 1);
    if let Some(text) = pdftotext(&zh) {
        for label in ["调试与一致性测试报告", "现场与网关", "测点快照", "测试用例", "待复测缺陷", "签字确认", "调试工程师", "客户代表", "通过"] {
            assert!(text.contains(label), "{label} not in the Chinese PDF's text");
        }
        assert!(report.cases.iter().all(|c| text.contains(&c.id)), "every case id");
        assert!(text.contains(&report.points[0].pid));
    }
    if let Some(text) = pdftotext(&en) {
        for label in ["Commissioning and conformance report", "Point snapshot", "Deficiencies for retest", "Sign-off", "Engineer", "Customer"] {
            assert!(text.contains(label), "{label} not in the English PDF's text");
        }
    }
}
