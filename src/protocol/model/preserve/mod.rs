//! Saving a model so that only what changed changes in the file: unchanged parts are copied byte
//! for byte, changed lists and objects keep their layout (one line or several, indentation,
//! separators), new entries look like their siblings; BOM, line endings and the final newline
//! stay as they were. And the reverse direction for error lists: where a JSON path sits in a text.

mod emit;
mod locate;
mod scan;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use locate::locate;

use emit::{Place, Writer};
use scan::{Kind, Node};

/// The text of `new`, written over `original` so that unchanged parts keep their bytes.
///
/// Object members are matched by key, list items by their `"id"` when they have one, else by
/// position. A number equal in value to the file's keeps the file's spelling (`60`, not `60.0`).
/// When `original` is not JSON (or is nested too deep), the result is 2-space pretty JSON with a
/// final newline.
pub fn write_preserving(original: &str, new: &Value) -> String {
    preserving(original, new).unwrap_or_else(|| pretty(new))
}

fn pretty(value: &Value) -> String {
    // Serialising a Value cannot fail (its keys are strings).
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn preserving(original: &str, new: &Value) -> Option<String> {
    Some(Scanned::of(original)?.write(original, new))
}

/// [`write_preserving`] for one original text and many values (an editor writing its text after
/// every edit): the original is parsed and scanned once.
#[derive(Debug)]
pub struct PreservingWriter {
    original: String,
    /// None when the original is not JSON or nests too deep.
    scanned: Option<Scanned>,
}

#[derive(Debug)]
struct Scanned {
    old: Value,
    root: Node,
    unit: String,
    newline: &'static str,
}

impl PreservingWriter {
    /// Parses and scans `original` once.
    pub fn new(original: &str) -> PreservingWriter {
        PreservingWriter { original: original.to_owned(), scanned: Scanned::of(original) }
    }

    /// The original text this writer keeps the formatting of.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Same as `write_preserving(original, new)`.
    pub fn write(&self, new: &Value) -> String {
        match &self.scanned {
            Some(scanned) => scanned.write(&self.original, new),
            None => pretty(new),
        }
    }
}

impl Scanned {
    fn of(original: &str) -> Option<Scanned> {
        let start = if original.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
        let old: Value = serde_json::from_str(&original[start..]).ok()?;
        let root = scan::scan(original, start)?;
        let newline = if original.contains("\r\n") { "\r\n" } else { "\n" };
        Some(Scanned { old, unit: indent_unit(original, &root), root, newline })
    }

    fn write(&self, original: &str, new: &Value) -> String {
        if depth_exceeds(new, scan::MAX_DEPTH) {
            return pretty(new);
        }
        let mut writer =
            Writer { text: original, out: String::with_capacity(original.len() + 256), unit: self.unit.clone(), newline: self.newline };
        writer.out.push_str(&original[..self.root.span.start]);
        // The root's own line has no indentation: values are written from column 0.
        writer.value(new, Some((&self.root, &self.old)), &Place::Lines { indent: String::new() });
        writer.out.push_str(&original[self.root.span.end..]);
        writer.out
    }
}

/// The indentation step: what the root's first entry is indented by, else 2 spaces.
fn indent_unit(text: &str, root: &Node) -> String {
    let lead = match &root.kind {
        Kind::Object(c) => c.entries.first().map(|m| &m.lead),
        Kind::Array(c) => c.entries.first().map(|i| &i.lead),
        Kind::Scalar => None,
    };
    lead.and_then(|r| {
        let lead = &text[r.clone()];
        let indent = lead.rsplit('\n').next().filter(|_| lead.contains('\n'))?;
        (!indent.is_empty() && indent.chars().all(|c| c == ' ' || c == '\t')).then(|| indent.to_owned())
    })
    .unwrap_or_else(|| "  ".to_owned())
}

/// True when `value` nests deeper than `max` (checked without recursion).
fn depth_exceeds(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth > max {
            return true;
        }
        match v {
            Value::Object(map) => stack.extend(map.values().map(|c| (c, depth + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}
