//! Differences between two payloads: structural for JSON (which paths were added, removed or
//! changed; a CEMS payload's points and meter readings matched by sub-device and id), line by
//! line for text, hex line by hex line for binary. Pure; the message view computes a diff once
//! per pair.

use serde_json::Value;

use super::hex;
use super::diff_items::keyed_diff;
pub use super::diff_items::{Change, ItemKind, ItemRef};

/// One line of a line diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOp {
    Same(String),
    Removed(String),
    Added(String),
}

/// How two payloads differ.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadDiff {
    /// Both are JSON.
    Json(Vec<Change>),
    /// Text, not both JSON: compared as (lossy UTF-8) lines.
    Lines(Vec<LineOp>),
    /// At least one is binary: their hex dumps compared line by line.
    Hex(Vec<LineOp>),
}

/// The line diff gives up on finding the shortest edit when the changed middle parts are larger
/// than this (lines of A × lines of B): it then shows all of A's as removed and B's as added.
pub const MAX_LINE_DIFF_CELLS: usize = 1_000_000;
/// Bytes of each text payload compared: a diff of two megabyte logs stays quick.
pub const TEXT_DIFF_LIMIT: usize = 256 * 1024;

/// `items`: the payloads are CEMS envelopes, whose `data.points` and `data.readings` are matched
/// by sub-device and id rather than by index.
pub fn diff_payloads(a: &[u8], b: &[u8], items: bool) -> PayloadDiff {
    if hex::looks_binary(a) || hex::looks_binary(b) {
        let dump = |bytes: &[u8]| -> String {
            (0..hex::line_count(bytes.len(), hex::HEX_VIEW_LIMIT)).map(|line| hex::hex_line(bytes, line) + "\n").collect()
        };
        return PayloadDiff::Hex(line_diff(&dump(a), &dump(b)));
    }
    match (serde_json::from_slice::<Value>(a), serde_json::from_slice::<Value>(b)) {
        (Ok(a), Ok(b)) => PayloadDiff::Json(json_diff(&a, &b, items)),
        _ => {
            let text = |bytes: &[u8]| String::from_utf8_lossy(&bytes[..bytes.len().min(TEXT_DIFF_LIMIT)]).into_owned();
            PayloadDiff::Lines(line_diff(&text(a), &text(b)))
        }
    }
}

/// Paths that differ between `a` and `b`, in document order (A's keys first, then keys only B has).
/// Arrays are compared index by index, except a CEMS payload's items when `items`.
pub fn json_diff(a: &Value, b: &Value, items: bool) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", a, b, items, &mut out);
    out
}

/// `$` for the root, else the path itself.
pub fn display_path(path: &str) -> &str {
    if path.is_empty() { "$" } else { path }
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Value::String(key.to_owned())),
    }
}

// Recursion depth is bounded by serde_json's parse limit (128 levels).
fn walk(path: &str, a: &Value, b: &Value, items: bool, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (key, va) in ma {
                let p = key_path(path, key);
                match mb.get(key) {
                    Some(vb) => walk(&p, va, vb, items, out),
                    None => out.push(Change::Removed { path: p, old: va.clone() }),
                }
            }
            for (key, vb) in mb.iter().filter(|(key, _)| !ma.contains_key(*key)) {
                out.push(Change::Added { path: key_path(path, key), new: vb.clone() });
            }
        }
        (Value::Array(xa), Value::Array(xb)) => {
            if items && keyed_diff(path, xa, xb, out) {
                return;
            }
            for i in 0..xa.len().max(xb.len()) {
                let p = format!("{path}[{i}]");
                match (xa.get(i), xb.get(i)) {
                    (Some(va), Some(vb)) => walk(&p, va, vb, items, out),
                    (Some(va), None) => out.push(Change::Removed { path: p, old: va.clone() }),
                    (None, Some(vb)) => out.push(Change::Added { path: p, new: vb.clone() }),
                    (None, None) => {}
                }
            }
        }
        _ if a == b => {}
        _ => out.push(Change::Changed { path: path.to_owned(), old: a.clone(), new: b.clone() }),
    }
}

/// A shortest line diff (longest common subsequence) of the part between the common prefix and
/// suffix; see [`MAX_LINE_DIFF_CELLS`].
pub fn line_diff(a: &str, b: &str) -> Vec<LineOp> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut out: Vec<LineOp> = a[..prefix].iter().map(|l| LineOp::Same((*l).to_owned())).collect();
    if am.len().saturating_mul(bm.len()) > MAX_LINE_DIFF_CELLS {
        out.extend(am.iter().map(|l| LineOp::Removed((*l).to_owned())));
        out.extend(bm.iter().map(|l| LineOp::Added((*l).to_owned())));
    } else {
        lcs_diff(am, bm, &mut out);
    }
    out.extend(a[a.len() - suffix..].iter().map(|l| LineOp::Same((*l).to_owned())));
    out
}

fn lcs_diff(a: &[&str], b: &[&str], out: &mut Vec<LineOp>) {
    let (n, m) = (a.len(), b.len());
    let width = m + 1;
    // lcs[i * width + j] = length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push(LineOp::Same(a[i].to_owned()));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            out.push(LineOp::Removed(a[i].to_owned()));
            i += 1;
        } else {
            out.push(LineOp::Added(b[j].to_owned()));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| LineOp::Removed((*l).to_owned())));
    out.extend(b[j..].iter().map(|l| LineOp::Added((*l).to_owned())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_diff_lists_added_removed_and_changed_paths() {
        let a = json!({"id": "1", "data": {"points": [{"pid": "Ua", "v": 231.5}, {"pid": "Ub", "v": 1}], "gone": true}});
        let b = json!({"id": "2", "data": {"points": [{"pid": "Ua", "v": 232.0}], "new key": [1]}});
        let changes = json_diff(&a, &b, false);
        assert_eq!(
            changes,
            vec![
                Change::Changed { path: "id".into(), old: json!("1"), new: json!("2") },
                Change::Changed { path: "data.points[0].v".into(), old: json!(231.5), new: json!(232.0) },
                Change::Removed { path: "data.points[1]".into(), old: json!({"pid": "Ub", "v": 1}) },
                Change::Removed { path: "data.gone".into(), old: json!(true) },
                Change::Added { path: "data[\"new key\"]".into(), new: json!([1]) },
            ]
        );
        assert!(json_diff(&a, &a, false).is_empty());
        let root = json_diff(&json!(1), &json!("1"), false);
        assert!(matches!(&root[..], [Change::Changed { path, .. }] if display_path(path) == "$"));
        assert_eq!(json_diff(&json!({"a": 1}), &json!([1]), false).len(), 1, "kind change is one change");
    }

    #[test]
    fn payloads_fall_back_to_lines_when_not_json() {
        assert_eq!(diff_payloads(b"{\"a\":1}", b"{\"a\": 1}", true), PayloadDiff::Json(vec![]));
        assert_eq!(
            diff_payloads(b"one\ntwo\nthree", b"one\n2\nthree\nfour", true),
            PayloadDiff::Lines(vec![
                LineOp::Same("one".into()),
                LineOp::Removed("two".into()),
                LineOp::Added("2".into()),
                LineOp::Same("three".into()),
                LineOp::Added("four".into()),
            ])
        );
        assert!(matches!(diff_payloads(b"{}", b"not json", true), PayloadDiff::Lines(_)));
    }

    #[test]
    fn binary_payloads_are_compared_as_hex_lines() {
        let mut a = vec![0x08u8; 40];
        let mut b = a.clone();
        b[20] = 0x09;
        let PayloadDiff::Hex(ops) = diff_payloads(&a, &b, true) else { panic!("binary gives a hex diff") };
        assert_eq!(ops.len(), 4, "{ops:?}");
        assert!(matches!(&ops[0], LineOp::Same(l) if l.starts_with("00000000  08")));
        assert!(matches!(&ops[1], LineOp::Removed(l) if l.starts_with("00000010  08 08 08 08 08")));
        assert!(matches!(&ops[2], LineOp::Added(l) if l.starts_with("00000010  08 08 08 08 09")));
        // Ten megabytes each: only the first part is dumped and compared.
        a = vec![0xffu8; 10 * 1024 * 1024];
        b = vec![0xfeu8; 10 * 1024 * 1024];
        let PayloadDiff::Hex(ops) = diff_payloads(&a, &b, false) else { panic!("hex") };
        assert_eq!(ops.len(), 2 * hex::HEX_VIEW_LIMIT / hex::BYTES_PER_LINE);
    }

    #[test]
    fn line_diff_is_minimal_and_bounded() {
        let ops = line_diff("a\nb\nc\nd", "a\nc\nd\ne");
        assert_eq!(
            ops,
            vec![
                LineOp::Same("a".into()),
                LineOp::Removed("b".into()),
                LineOp::Same("c".into()),
                LineOp::Same("d".into()),
                LineOp::Added("e".into()),
            ]
        );
        let a: String = (0..2_000).map(|i| format!("a{i}\n")).collect();
        let b: String = (0..2_000).map(|i| format!("b{i}\n")).collect();
        let ops = line_diff(&a, &b);
        assert_eq!(ops.len(), 4_000);
        assert!(matches!(ops[0], LineOp::Removed(_)) && matches!(ops[3_999], LineOp::Added(_)));
        assert!(line_diff("", "").is_empty());
    }
}
