//! The shipped fonts cover what the report prints, and odd input does not break the writer.

use super::*;
use crate::conformance::catalogue::{BUILTIN, CaseText};
use crate::conformance::model::{AlarmTested, CaseResult, Deficiency, Evidence, EvidenceKind, Identity, PointRow, TransferResult, Verdict};
use crate::conformance::report::doc::Block;

fn text(en: &str, zh: &str) -> CaseText {
    CaseText { en: en.into(), zh: zh.into() }
}

/// A report with something in every section, every verdict, and `complete` as given.
fn sample(complete: bool, failed: bool) -> RunReport {
    let case = |id: &str, verdict: Verdict| CaseResult {
        id: id.into(),
        clause: "6.4".into(),
        title: text("Reply within the timeout", "超时时间内应答"),
        mandatory: true,
        changes: false,
        verdict,
        evidence: vec![Evidence { at_ms: 12, kind: EvidenceKind::Received, topic: "/PK/DEV/up/reply".into(), excerpt: "{\"id\":\"1\",\"code\":0}".into(), latency_ms: Some(3.5) }],
        duration_ms: 40.0,
    };
    let mut cases = vec![case("TC-6.4-01", Verdict::Passed), case("TC-6.4-02", Verdict::inconclusive(text("no model", "无模型"))), case("TC-6.4-03", Verdict::NotRun { reason: text("read-only", "只读会话") })];
    if failed {
        cases.push(case("TC-6.4-04", Verdict::failed(text("wrong topic", "应答主题错误"))));
    }
    RunReport {
        catalogue: "cems-v1".into(),
        catalogue_version: "1".into(),
        pk: "PK".into(),
        dev: "DEV".into(),
        link: "mqtt://127.0.0.1:1883".into(),
        site: Some("一号站".into()),
        started_ms: 1_700_000_000_000,
        finished_ms: 1_700_000_060_000,
        complete,
        allow_changes: true,
        read_only: false,
        identity: Identity { vendor: Some("ACME".into()), versions_before: vec![("firmware".into(), "1.0".into())], versions_after: vec![("firmware".into(), "1.1".into())], ..Default::default() },
        clock_offset_ms: Some(-12.0),
        clock_round_trip_ms: Some(4),
        points: vec![PointRow { sub: "meter-1".into(), pid: "Ua".into(), name_en: Some("Voltage A".into()), name_zh: Some("A相电压".into()), unit: Some("V".into()), value: "230.1".into(), q: 0, ts: 1_700_000_000_000 }],
        alarms: vec![AlarmTested { alarm_id: "a1".into(), sub: "meter-1".into(), alarm_type: "overVoltage".into(), level: 2, raised: true, cleared: true, ack: "us".into() }],
        transfers: vec![TransferResult { case_id: "TC-6.9-01".into(), kind: "ota".into(), target: "firmware".into(), bytes: 20_000, outcome: "done".into() }],
        restored: vec!["clock put back".into()],
        deficiencies: if failed { vec![Deficiency { id: "TC-6.4-04".into(), title: text("Reply topic", "应答主题"), mandatory: true, reason: text("wrong topic", "应答主题错误") }] } else { Vec::new() },
        cases,
    }
}

/// Every text a document prints.
fn printed(doc: &Document) -> String {
    let mut out = format!("{}\n{}\n{}\n", doc.title, doc.subject, doc.incomplete_mark.clone().unwrap_or_default());
    out.push_str(&super::super::doc::page_of(doc.lang, 1, 2));
    for block in &doc.blocks {
        match block {
            Block::Banner(t) | Block::Title(t) | Block::Heading(t) => out.push_str(t),
            Block::Paragraph { lead, text } => {
                out.push_str(lead.as_deref().unwrap_or_default());
                out.push_str(text);
            }
            Block::Facts(facts) => facts.iter().for_each(|(k, v)| out.push_str(&format!("{k}{v}"))),
            Block::List(items) => items.iter().for_each(|i| out.push_str(i)),
            Block::Table(t) => {
                t.header.iter().for_each(|h| out.push_str(h));
                for row in &t.rows {
                    row.cells.iter().for_each(|c| out.push_str(&c.text));
                    if let Some(m) = &row.messages {
                        out.push_str(&m.summary);
                        m.lines.iter().for_each(|l| out.push_str(&format!("{}{}", l.head, l.body)));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_shipped_fonts_cover_the_catalogue_and_every_label() {
    assert_eq!(uncovered(BUILTIN).unwrap(), Vec::<char>::new(), "characters of assets/conformance/cems-v1.json with no glyph: rerun assets/fonts/subset.sh");
    for lang in [Lang::Zh, Lang::En] {
        for (complete, failed) in [(true, false), (false, true)] {
            let doc = Document::build(&sample(complete, failed), lang);
            assert_eq!(uncovered(&printed(&doc)).unwrap(), Vec::<char>::new(), "{lang:?}: report labels with no glyph");
        }
    }
}

#[test]
fn a_character_no_font_has_prints_as_the_replacement_and_does_not_panic() {
    let fonts = fonts::Fonts::load().unwrap();
    // U+20BB7 (a hanzi outside GB2312), an emoji, a private-use character, a control character.
    let odd = "𠮷😀\u{e000}\u{7}";
    assert_eq!(uncovered(odd).unwrap(), vec!['\u{e000}', '😀', '𠮷']);
    let glyphs = fonts.shape(odd, false);
    assert_eq!(glyphs.len(), 4);
    assert!(glyphs.iter().all(|g| g.ch == REPLACEMENT), "{glyphs:?}");
    let mut report = sample(true, false);
    report.points[0].name_zh = Some(format!("测点{odd}"));
    report.site = Some(odd.repeat(200));
    let pdf = render(&report, Lang::Zh).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    let report = sample(false, true);
    assert_eq!(render(&report, Lang::En).unwrap(), render(&report, Lang::En).unwrap());
}
