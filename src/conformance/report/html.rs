//! The commissioning report as one self-contained HTML file: inline CSS, no scripts or external
//! resources, every text escaped. Renders the [`Document`] model.

use std::fmt::Write as _;

use super::doc::{Block, Document, Row, Table, TableKind, Tone};
use crate::conformance::model::RunReport;
use crate::protocol::model::Lang;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#eee}.banner{background:#b00020;color:#fff;padding:.6em 1em;font-size:1.3em;font-weight:bold}details{margin:.2em 0}pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:.85em}.sign td{height:2.5em;min-width:14em}";

/// The verdicts' classes, in the colours the PDF uses too.
fn tone_css() -> String {
    let mut css = String::new();
    for tone in [Tone::Passed, Tone::Failed, Tone::Inconclusive, Tone::NotRun] {
        if let (Some(class), Some(([r, g, b], bold))) = (class(tone), tone.look()) {
            let _ = write!(css, ".{class}{{color:#{r:02x}{g:02x}{b:02x}{}}}", if bold { ";font-weight:bold" } else { "" });
        }
    }
    css
}

/// The CSS class of a coloured cell.
fn class(tone: Tone) -> Option<&'static str> {
    match tone {
        Tone::Plain => None,
        Tone::Passed => Some("Passed"),
        Tone::Failed => Some("Failed"),
        Tone::Inconclusive => Some("Inconclusive"),
        Tone::NotRun => Some("NotRun"),
    }
}

/// The whole report.
pub fn render(report: &RunReport, lang: Lang) -> String {
    render_document(&Document::build(report, lang))
}

pub fn render_document(doc: &Document) -> String {
    let mut h = String::new();
    let lang = if doc.lang == Lang::Zh { "zh" } else { "en" };
    let _ = write!(h, "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{} — {}</title><style>{CSS}{}</style></head><body>\n", escape(&doc.title), escape(&doc.subject), tone_css());
    for block in &doc.blocks {
        match block {
            Block::Banner(text) => {
                let _ = writeln!(h, "<div class=\"banner\">{}</div>", escape(text));
            }
            Block::Title(text) => {
                let _ = writeln!(h, "<h1>{}</h1>", escape(text));
            }
            Block::Heading(text) => {
                let _ = writeln!(h, "<h2>{}</h2>", escape(text));
            }
            Block::Paragraph { lead, text } => {
                h.push_str("<p>");
                if let Some(lead) = lead {
                    let _ = write!(h, "<b>{}</b> ", escape(lead));
                }
                let _ = writeln!(h, "{}</p>", escape(text));
            }
            Block::Facts(facts) => {
                h.push_str("<table>\n");
                for (label, value) in facts {
                    let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(label), escape(value));
                }
                h.push_str("</table>\n");
            }
            Block::Table(table) => write_table(&mut h, table),
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(h, "<li>{}</li>", escape(item));
                }
                h.push_str("</ul>\n");
            }
        }
    }
    h.push_str("</body></html>\n");
    h
}

fn write_table(h: &mut String, table: &Table) {
    h.push_str(if table.kind == TableKind::SignOff { "<table class=\"sign\">\n" } else { "<table>\n" });
    h.push_str("<tr>");
    for label in &table.header {
        let _ = write!(h, "<th>{}</th>", escape(label));
    }
    h.push_str("</tr>\n");
    for row in &table.rows {
        write_row(h, row);
    }
    h.push_str("</table>\n");
}

fn write_row(h: &mut String, row: &Row) {
    h.push_str("<tr>");
    let last = row.cells.len().saturating_sub(1);
    for (i, cell) in row.cells.iter().enumerate() {
        match class(cell.tone) {
            Some(class) => {
                let _ = write!(h, "<td class=\"{class}\">");
            }
            None => h.push_str("<td>"),
        }
        h.push_str(&escape(&cell.text));
        // The messages open under the last cell, so the table stays readable when they are closed.
        if let (true, Some(messages)) = (i == last, &row.messages) {
            if !cell.text.is_empty() {
                h.push_str("<br>");
            }
            let _ = write!(h, "<details><summary>{}</summary><pre>", escape(&messages.summary));
            for line in &messages.lines {
                let _ = writeln!(h, "{} {}", escape(&line.head), escape(&line.body));
            }
            h.push_str("</pre></details>");
        }
        h.push_str("</td>");
    }
    h.push_str("</tr>\n");
}
