//! Reasons come in both languages, and their Chinese stays inside GB2312 (the embedded font).

use serde_json::json;

use super::{expect_code, step};
use crate::conformance::model::Verdict;
use crate::engine::requests::ReplyInfo;
use crate::protocol::codes;
use crate::protocol::model::Lang;

/// The refusal cases' path: a reply's code checked with `expect_code`, `step!` making it Failed.
fn judge_refusal(reply: &ReplyInfo) -> Verdict {
    step!(expect_code("xconformance/get", reply, codes::UNSUPPORTED));
    Verdict::Passed
}

#[test]
fn a_wrong_code_fails_with_a_reason_in_each_language() {
    let reply = ReplyInfo { code: codes::OK, name: codes::code_name(codes::OK), msg: Some("fine".into()), data: json!({}) };
    let verdict = judge_refusal(&reply);
    assert!(verdict.is_failed(), "{verdict:?}");
    let (en, zh) = (verdict.reason_in(Lang::En).unwrap_or_default(), verdict.reason_in(Lang::Zh).unwrap_or_default());
    assert_eq!(verdict.reason(), Some(en), "reason() stays English");
    assert_eq!(en, "xconformance/get: code 0 (ok) where 2 (unsupported) is expected: fine");
    assert_eq!(zh, "xconformance/get：应答代码为 0（ok），应为 2（unsupported）：fine");
    let right = ReplyInfo { code: codes::UNSUPPORTED, name: codes::code_name(codes::UNSUPPORTED), msg: None, data: json!({}) };
    assert_eq!(judge_refusal(&right), Verdict::Passed);
}

#[test]
fn the_not_run_rule_says_why_in_each_language() {
    let catalogue = crate::conformance::Catalogue::builtin().expect("the built-in catalogue loads");
    let changing = catalogue.cases.iter().find(|c| c.changes && c.sends).expect("a case that changes the gateway");
    let listening = catalogue.cases.iter().find(|c| !c.changes && !c.sends).expect("a case that only listens");
    let rule = crate::conformance::runner::not_run_reason;
    let refused = rule(changing, false, false).expect("changes not allowed");
    assert!(refused.en.contains("--allow-changes") && refused.zh.contains("--allow-changes") && refused.zh.contains("改动"), "{refused:?}");
    let read_only = rule(changing, true, true).expect("a read-only session sends nothing");
    assert!(read_only.en.starts_with("read-only") && read_only.zh.starts_with("只读"), "{read_only:?}");
    assert_eq!(rule(changing, true, false), None);
    assert_eq!(rule(listening, false, true), None);
}

/// Whether `c` is a GB2312 character: its GBK bytes lie in GB2312's rows (symbols 1 to 9, hanzi 16 to 87).
fn in_gb2312(c: char) -> bool {
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    match (unmappable, bytes.as_ref()) {
        (false, [lead, trail]) => (0xA1..=0xFE).contains(trail) && ((0xA1..=0xA9).contains(lead) || (0xB0..=0xF7).contains(lead)),
        _ => false,
    }
}

#[test]
fn the_reasons_chinese_is_in_gb2312() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/conformance");
    let mut files: Vec<_> = ["ctx.rs", "runner.rs", "model.rs"].iter().map(|f| root.join(f)).collect();
    for entry in std::fs::read_dir(root.join("cases")).expect("src/conformance/cases") {
        files.push(entry.expect("a directory entry").path());
    }
    let mut outside = std::collections::BTreeSet::new();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "rs")) {
        let text = std::fs::read_to_string(path).expect("a source file");
        outside.extend(text.chars().filter(|c| !c.is_ascii() && !in_gb2312(*c)).map(|c| (c, path.file_name().map(|n| n.to_string_lossy().into_owned()))));
    }
    assert!(in_gb2312('应') && in_gb2312('：') && !in_gb2312('\u{20BB7}') && !in_gb2312('\u{263A}'), "the check itself");
    assert!(outside.is_empty(), "characters outside GB2312: {outside:?}");
}
