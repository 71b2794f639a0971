//! Where the value at a JSON path (`$.points[3].min`) sits in a model text.

use std::ops::Range;

use super::scan::{self, Kind, Node};

/// Byte range of the value at `path` in `text` (`$` is the whole document). Keys are written
/// `.key` or `["any key"]` (as error paths spell them). When the path goes past what exists, the
/// range of the deepest value that does exist; None when `text` is not JSON or `path` does not
/// start with `$`.
pub fn locate(text: &str, path: &str) -> Option<Range<usize>> {
    let start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let root = scan::scan(text, start)?;
    let segments = parse_path(path)?;
    let mut node: &Node = &root;
    for segment in &segments {
        let child = match (&node.kind, segment) {
            (Kind::Object(c), Segment::Key(key)) => c.entries.iter().rev().find(|m| m.key == *key).map(|m| &m.value),
            (Kind::Array(c), Segment::Index(i)) => c.entries.get(*i).map(|item| &item.value),
            // `$.points.0` or `$.enum[0]`: tolerate the other spelling of a segment.
            (Kind::Object(c), Segment::Index(i)) => {
                let key = i.to_string();
                c.entries.iter().rev().find(|m| m.key == key).map(|m| &m.value)
            }
            (Kind::Array(c), Segment::Key(key)) => key.parse::<usize>().ok().and_then(|i| c.entries.get(i)).map(|item| &item.value),
            (Kind::Scalar, _) => None,
        };
        match child {
            Some(child) => node = child,
            None => break,
        }
    }
    Some(node.span.clone())
}

#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `$.a[2]["b c"].x-y` → [Key a, Index 2, Key "b c", Key x-y].
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            segments.push(Segment::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            if after.starts_with('"') {
                let (key, used) = quoted(after)?;
                segments.push(Segment::Key(key));
                rest = after[used..].strip_prefix(']')?;
            } else {
                let end = after.find(']')?;
                segments.push(Segment::Index(after[..end].trim().parse().ok()?));
                rest = &after[end + 1..];
            }
        } else {
            return None;
        }
    }
    Some(segments)
}

/// The JSON string at the start of `s` and how many bytes it takes.
fn quoted(s: &str) -> Option<(String, usize)> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return serde_json::from_str(&s[..=i]).ok().map(|k| (k, i + 1)),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_in_both_key_spellings() {
        let key = |k: &str| Segment::Key(k.into());
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(parse_path("$.points[3].min"), Some(vec![key("points"), Segment::Index(3), key("min")]));
        assert_eq!(parse_path("$[\"a b\"][\"x\\\"y\"]"), Some(vec![key("a b"), key("x\"y")]));
        assert_eq!(parse_path("$.x-vendor-notes.todo[0]"), Some(vec![key("x-vendor-notes"), key("todo"), Segment::Index(0)]));
        assert_eq!(parse_path("points"), None);
        assert_eq!(parse_path("$[oops"), None);
    }
}
