//! The payload tabs' contents: JSON as a collapsible tree with notes inline, raw text, hex dump
//! and a diff of two messages. Drawing only; what to draw is computed by `annotate`, `hex` and
//! `diff`.

use std::collections::HashMap;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, RichText, ScrollArea, TextStyle, Ui};
use serde_json::Value;

use super::annotate::{Note, Tone};
use super::diff::{Change, LineOp, PayloadDiff, display_path};
use super::hex;
use crate::ui::ViewContext;

/// The raw tab shows at most this many bytes of text.
pub const RAW_VIEW_LIMIT: usize = 64 * 1024;
/// Children shown per object or array; a note says how many more there are.
const MAX_CHILDREN_SHOWN: usize = 500;
/// Levels open at first (the envelope, `data`, its arrays), so a point's note is on screen.
const DEFAULT_OPEN_DEPTH: usize = 3;
/// Containers larger than this start closed, whatever their depth.
const DEFAULT_OPEN_MAX_LEN: usize = 64;
/// Long strings (base64 chunks) are cut in the tree; the raw tab has them whole.
const MAX_VALUE_CHARS: usize = 300;
/// Diff entries listed; a note says how many more there are.
const MAX_DIFF_ENTRIES: usize = 5_000;

/// Colours and fonts of one frame.
struct Look<'a> {
    notes: &'a HashMap<String, Note>,
    more: &'static str,
    mono: FontId,
    text: Color32,
    weak: Color32,
    string: Color32,
    info: Color32,
    warn: Color32,
}

impl Look<'_> {
    fn note_color(&self, note: &Note) -> Color32 {
        match note.tone {
            Tone::Info => self.info,
            Tone::Warn => self.warn,
        }
    }

    fn append(&self, job: &mut LayoutJob, text: &str, color: Color32) {
        job.append(text, 0.0, TextFormat { font_id: self.mono.clone(), color, ..Default::default() });
    }
}

pub fn note_color(ui: &Ui, note: &Note) -> Color32 {
    match note.tone {
        Tone::Info => ui.visuals().hyperlink_color,
        Tone::Warn => ui.visuals().warn_fg_color,
    }
}

/// The JSON tree of `value`. Objects and arrays are collapsing headers whose ids are their JSON
/// pointers, so open/closed survives new messages of the same shape.
pub fn json_tree_ui(ui: &mut Ui, ctx: &ViewContext, value: &Value, notes: &HashMap<String, Note>) {
    let visuals = ui.visuals();
    let look = Look {
        notes,
        more: ctx.tr("… {n} more"),
        mono: TextStyle::Monospace.resolve(ui.style()),
        text: visuals.text_color(),
        weak: visuals.weak_text_color(),
        string: if visuals.dark_mode { Color32::from_rgb(206, 145, 120) } else { Color32::from_rgb(163, 21, 21) },
        info: visuals.hyperlink_color,
        warn: visuals.warn_fg_color,
    };
    match value {
        Value::Object(_) | Value::Array(_) => children_ui(ui, value, "", 0, &look),
        scalar => leaf_ui(ui, None, scalar, "", &look),
    }
}

fn children_ui(ui: &mut Ui, value: &Value, pointer: &str, depth: usize, look: &Look<'_>) {
    let total = match value {
        Value::Object(map) => {
            for (key, child) in map.iter().take(MAX_CHILDREN_SHOWN) {
                let child_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                node_ui(ui, key, child, &child_pointer, depth, look);
            }
            map.len()
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(MAX_CHILDREN_SHOWN) {
                node_ui(ui, &format!("[{i}]"), child, &format!("{pointer}/{i}"), depth, look);
            }
            items.len()
        }
        _ => 0,
    };
    if total > MAX_CHILDREN_SHOWN {
        ui.weak(look.more.replace("{n}", &(total - MAX_CHILDREN_SHOWN).to_string()));
    }
}

fn node_ui(ui: &mut Ui, key: &str, value: &Value, pointer: &str, depth: usize, look: &Look<'_>) {
    let (len, brackets) = match value {
        Value::Object(map) => (map.len(), ("{", "}")),
        Value::Array(items) => (items.len(), ("[", "]")),
        scalar => return leaf_ui(ui, Some(key), scalar, pointer, look),
    };
    let mut job = LayoutJob::default();
    look.append(&mut job, key, look.text);
    look.append(&mut job, &format!(" {}{len}{}", brackets.0, brackets.1), look.weak);
    if let Some(note) = look.notes.get(pointer) {
        look.append(&mut job, &format!("  {}", note.text), look.note_color(note));
    }
    egui::CollapsingHeader::new(job)
        .id_salt(("json", pointer))
        .default_open(depth < DEFAULT_OPEN_DEPTH && len <= DEFAULT_OPEN_MAX_LEN)
        .show(ui, |ui| children_ui(ui, value, pointer, depth + 1, look));
}

fn leaf_ui(ui: &mut Ui, key: Option<&str>, value: &Value, pointer: &str, look: &Look<'_>) {
    let mut job = LayoutJob::default();
    if let Some(key) = key {
        look.append(&mut job, &format!("{key}: "), look.text);
    }
    let (text, color) = match value {
        Value::String(s) if s.chars().count() > MAX_VALUE_CHARS => {
            let head: String = s.chars().take(MAX_VALUE_CHARS).collect();
            (format!("{:?}… ({} chars)", head, s.chars().count()), look.string)
        }
        Value::String(_) => (value.to_string(), look.string),
        Value::Null => ("null".to_owned(), look.weak),
        other => (other.to_string(), look.info),
    };
    look.append(&mut job, &text, color);
    if let Some(note) = look.notes.get(pointer) {
        look.append(&mut job, &format!("  {}", note.text), look.note_color(note));
    }
    ui.add(egui::Label::new(job).wrap());
}

/// The payload as text, cut at [`RAW_VIEW_LIMIT`] (on a character boundary).
pub fn raw_text(payload: &[u8]) -> (String, bool) {
    let cut = payload.len() > RAW_VIEW_LIMIT;
    let text = String::from_utf8_lossy(&payload[..payload.len().min(RAW_VIEW_LIMIT)]).into_owned();
    (text, cut)
}

pub fn raw_ui(ui: &mut Ui, ctx: &ViewContext, payload: &[u8]) {
    let (text, cut) = raw_text(payload);
    if cut {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            ctx.tr("Showing the first {shown} of {total} bytes").replace("{shown}", &RAW_VIEW_LIMIT.to_string()).replace("{total}", &payload.len().to_string()),
        );
    }
    ScrollArea::vertical().id_salt("explorer_raw").auto_shrink([false, false]).show(ui, |ui| {
        ui.add(egui::Label::new(RichText::new(text).monospace()).selectable(true).wrap());
    });
}

pub fn hex_ui(ui: &mut Ui, ctx: &ViewContext, payload: &[u8]) {
    if payload.len() > hex::HEX_VIEW_LIMIT {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            ctx.tr("Showing the first {shown} of {total} bytes")
                .replace("{shown}", &hex::HEX_VIEW_LIMIT.to_string())
                .replace("{total}", &payload.len().to_string()),
        );
    }
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    ScrollArea::both().id_salt("explorer_hex").auto_shrink([false, false]).show_rows(
        ui,
        row_height,
        hex::line_count(payload.len()),
        |ui, range| {
            for line in range {
                ui.add(egui::Label::new(RichText::new(hex::hex_line(payload, line)).monospace()).extend());
            }
        },
    );
}

pub fn diff_ui(ui: &mut Ui, ctx: &ViewContext, diff: &PayloadDiff) {
    let visuals = ui.visuals();
    let (added, removed, changed) = (Color32::from_rgb(80, 180, 90), visuals.error_fg_color, visuals.warn_fg_color);
    let entries: Vec<(String, Color32)> = match diff {
        PayloadDiff::Json(changes) if changes.is_empty() => {
            ui.label(ctx.tr("The two payloads are the same JSON."));
            return;
        }
        PayloadDiff::Json(changes) => {
            ui.weak(ctx.tr("Structural JSON diff, A → B"));
            changes
                .iter()
                .take(MAX_DIFF_ENTRIES)
                .map(|change| match change {
                    Change::Added { path, new } => (format!("+ {}: {}", display_path(path), short(new)), added),
                    Change::Removed { path, old } => (format!("- {}: {}", display_path(path), short(old)), removed),
                    Change::Changed { path, old, new } => {
                        (format!("~ {}: {} → {}", display_path(path), short(old), short(new)), changed)
                    }
                })
                .collect()
        }
        PayloadDiff::Lines(lines) => {
            ui.weak(ctx.tr("Not JSON: line diff, A → B"));
            lines
                .iter()
                .take(MAX_DIFF_ENTRIES)
                .map(|op| match op {
                    LineOp::Same(l) => (format!("  {l}"), ui.visuals().text_color()),
                    LineOp::Removed(l) => (format!("- {l}"), removed),
                    LineOp::Added(l) => (format!("+ {l}"), added),
                })
                .collect()
        }
    };
    let total = match diff {
        PayloadDiff::Json(changes) => changes.len(),
        PayloadDiff::Lines(lines) => lines.len(),
    };
    if total > MAX_DIFF_ENTRIES {
        ui.weak(ctx.tr("… {n} more").replace("{n}", &(total - MAX_DIFF_ENTRIES).to_string()));
    }
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    ScrollArea::both().id_salt("explorer_diff").auto_shrink([false, false]).show_rows(ui, row_height, entries.len(), |ui, range| {
        for (text, color) in &entries[range] {
            ui.add(egui::Label::new(RichText::new(text).monospace().color(*color)).extend());
        }
    });
}

fn short(value: &Value) -> String {
    super::annotate::short_value(value, 120)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_text_is_capped() {
        assert_eq!(raw_text(b"abc"), ("abc".to_owned(), false));
        let big = vec![b'a'; RAW_VIEW_LIMIT + 1];
        let (text, cut) = raw_text(&big);
        assert!(cut && text.len() == RAW_VIEW_LIMIT);
    }
}
