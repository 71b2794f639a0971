//! The payload tabs' contents: JSON as a collapsible tree with notes inline, raw text, hex dump
//! and a diff of two messages, with the search text marked. Drawing only; what to draw is
//! computed by `annotate`, `hex`, `diff` and `diff_lines`.

use std::collections::HashMap;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, FontId, RichText, ScrollArea, TextStyle, Ui};
use serde_json::Value;

use super::annotate::{Note, Tone};
use super::diff::PayloadDiff;
use super::diff_lines::{self, DiffLines};
use super::{hex, highlight};
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

/// Colours and fonts of one frame.
struct Look<'a> {
    notes: &'a HashMap<String, Note>,
    /// The search text, marked where it occurs.
    query: &'a str,
    mark: Color32,
    more: &'static str,
    mono: FontId,
    text: Color32,
    weak: Color32,
    string: Color32,
    info: Color32,
    warn: Color32,
    /// "Plot this field" of a numeric leaf's menu, as the context menu's text.
    plot_label: &'static str,
    /// The JSON pointer of the leaf the user asked to plot this frame.
    plot_picked: std::cell::RefCell<Option<String>>,
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

    /// Appends `text` with the search's matches marked.
    fn append_searched(&self, job: &mut LayoutJob, text: &str, color: Color32) {
        let format = TextFormat { font_id: self.mono.clone(), color, ..Default::default() };
        highlight::append(job, text, self.query, &format, self.mark);
    }
}

pub fn note_color(ui: &Ui, note: &Note) -> Color32 {
    match note.tone {
        Tone::Info => ui.visuals().hyperlink_color,
        Tone::Warn => ui.visuals().warn_fg_color,
    }
}

/// The JSON tree of `value`, keys and values matching `query` marked. Objects and arrays are
/// collapsing headers whose ids are their JSON pointers, so open/closed survives new messages of
/// the same shape. A numeric (or true/false) leaf's right-click menu offers to plot it: the JSON
/// pointer picked is returned.
pub fn json_tree_ui(ui: &mut Ui, ctx: &ViewContext, value: &Value, notes: &HashMap<String, Note>, query: &str) -> Option<String> {
    let visuals = ui.visuals();
    let look = Look {
        notes,
        query,
        mark: highlight::mark_color(visuals),
        more: ctx.tr("… {n} more"),
        mono: TextStyle::Monospace.resolve(ui.style()),
        text: visuals.text_color(),
        weak: visuals.weak_text_color(),
        string: if visuals.dark_mode { Color32::from_rgb(206, 145, 120) } else { Color32::from_rgb(163, 21, 21) },
        info: visuals.hyperlink_color,
        warn: visuals.warn_fg_color,
        plot_label: ctx.tr("Plot this field"),
        plot_picked: std::cell::RefCell::new(None),
    };
    match value {
        Value::Object(_) | Value::Array(_) => children_ui(ui, value, "", 0, &look),
        scalar => leaf_ui(ui, None, scalar, "", &look),
    }
    look.plot_picked.into_inner()
}

/// The JSON pointer (RFC 6901) of `key` under `pointer`: what "Plot this field" names the field by.
pub fn child_pointer(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn children_ui(ui: &mut Ui, value: &Value, pointer: &str, depth: usize, look: &Look<'_>) {
    let total = match value {
        Value::Object(map) => {
            for (key, child) in map.iter().take(MAX_CHILDREN_SHOWN) {
                node_ui(ui, key, child, &child_pointer(pointer, key), depth, look);
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
    look.append_searched(&mut job, key, look.text);
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
        look.append_searched(&mut job, key, look.text);
        look.append(&mut job, ": ", look.text);
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
    look.append_searched(&mut job, &text, color);
    if let Some(note) = look.notes.get(pointer) {
        look.append(&mut job, &format!("  {}", note.text), look.note_color(note));
    }
    let plottable = matches!(value, Value::Number(_) | Value::Bool(_));
    // The label's own sense (selectable text) takes the secondary click as well.
    let response = ui.add(egui::Label::new(job).wrap());
    if plottable {
        response.context_menu(|ui| {
            if ui.button(look.plot_label).clicked() {
                *look.plot_picked.borrow_mut() = Some(pointer.to_owned());
                ui.close();
            }
        });
    }
}

/// The payload as text, cut at [`RAW_VIEW_LIMIT`] (on a character boundary).
pub fn raw_text(payload: &[u8]) -> (String, bool) {
    let cut = payload.len() > RAW_VIEW_LIMIT;
    let text = String::from_utf8_lossy(&payload[..payload.len().min(RAW_VIEW_LIMIT)]).into_owned();
    (text, cut)
}

/// The payload as text (at most [`RAW_VIEW_LIMIT`] bytes), the search's matches marked.
pub fn raw_ui(ui: &mut Ui, ctx: &ViewContext, payload: &[u8], query: &str) {
    let (text, cut) = raw_text(payload);
    if cut {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            ctx.tr("Showing the first {shown} of {total} bytes").replace("{shown}", &RAW_VIEW_LIMIT.to_string()).replace("{total}", &payload.len().to_string()),
        );
    }
    let format = TextFormat { font_id: TextStyle::Monospace.resolve(ui.style()), color: ui.visuals().text_color(), ..Default::default() };
    let mut job = LayoutJob::default();
    highlight::append(&mut job, &text, query, &format, highlight::mark_color(ui.visuals()));
    ScrollArea::vertical().id_salt("explorer_raw").auto_shrink([false, false]).show(ui, |ui| {
        ui.add(egui::Label::new(job).selectable(true).wrap());
    });
}

/// The hex dump of the first `shown` bytes, only the lines on screen laid out; "Show more"
/// adds [`hex::HEX_VIEW_LIMIT`] bytes to `shown`.
pub fn hex_ui(ui: &mut Ui, ctx: &ViewContext, payload: &[u8], shown: &mut usize) {
    let shown_now = (*shown).min(payload.len());
    if payload.len() > shown_now {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                ctx.tr("Showing the first {shown} of {total} bytes")
                    .replace("{shown}", &shown_now.to_string())
                    .replace("{total}", &payload.len().to_string()),
            );
            if ui.button(ctx.tr("Show more")).clicked() {
                *shown = shown.saturating_add(hex::HEX_VIEW_LIMIT);
            }
        });
    }
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    ScrollArea::both().id_salt("explorer_hex").auto_shrink([false, false]).show_rows(
        ui,
        row_height,
        hex::line_count(payload.len(), shown_now),
        |ui, range| {
            for line in range {
                ui.add(egui::Label::new(RichText::new(hex::hex_line(payload, line)).monospace()).extend());
            }
        },
    );
}

/// A binary payload where JSON or text was expected: said so, then its hex dump.
pub fn binary_ui(ui: &mut Ui, ctx: &ViewContext, payload: &[u8], shown: &mut usize) {
    ui.weak(ctx.tr("Binary payload ({n} bytes), shown as hex.").replace("{n}", &payload.len().to_string()));
    hex_ui(ui, ctx, payload, shown);
}

/// The diff `diff` as its computed `lines`.
pub fn diff_ui(ui: &mut Ui, ctx: &ViewContext, diff: &PayloadDiff, lines: &DiffLines) {
    match diff {
        PayloadDiff::Json(changes) if changes.is_empty() => {
            ui.label(ctx.tr("The two payloads are the same JSON."));
            return;
        }
        PayloadDiff::Json(_) => ui.weak(ctx.tr("Structural JSON diff, A → B")),
        PayloadDiff::Lines(_) => ui.weak(ctx.tr("Not JSON: line diff, A → B")),
        PayloadDiff::Hex(_) => ui.weak(ctx.tr("Binary: hex dump diff, A → B")),
    };
    if lines.more > 0 {
        ui.weak(ctx.tr("… {n} more").replace("{n}", &lines.more.to_string()));
    }
    let visuals = ui.visuals();
    let color = |tone| match tone {
        diff_lines::Tone::Same => visuals.text_color(),
        diff_lines::Tone::Added => Color32::from_rgb(80, 180, 90),
        diff_lines::Tone::Removed => visuals.error_fg_color,
        diff_lines::Tone::Changed => visuals.warn_fg_color,
    };
    let colors: Vec<Color32> = lines.lines.iter().map(|l| color(l.tone)).collect();
    let row_height = ui.text_style_height(&TextStyle::Monospace);
    ScrollArea::both().id_salt("explorer_diff").auto_shrink([false, false]).show_rows(ui, row_height, lines.lines.len(), |ui, range| {
        for (line, color) in lines.lines[range.clone()].iter().zip(&colors[range]) {
            let label = ui.add(egui::Label::new(RichText::new(&line.text).monospace().color(*color)).extend());
            if let Some(hover) = &line.hover {
                label.on_hover_text(hover);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fields_pointer_escapes_slash_and_tilde() {
        assert_eq!(child_pointer("", "bms"), "/bms");
        assert_eq!(child_pointer("/bms", "soc"), "/bms/soc");
        assert_eq!(child_pointer("/d", "a/b~c"), "/d/a~1b~0c");
    }

    #[test]
    fn raw_text_is_capped() {
        assert_eq!(raw_text(b"abc"), ("abc".to_owned(), false));
        let big = vec![b'a'; RAW_VIEW_LIMIT + 1];
        let (text, cut) = raw_text(&big);
        assert!(cut && text.len() == RAW_VIEW_LIMIT);
    }
}
