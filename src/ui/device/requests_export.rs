//! The Requests tab's export: the rows shown, one JSON object a line, written atomically on a
//! thread to a typed path (the window never waits for a disk).

use std::path::PathBuf;

use egui::{Button, TextEdit};
use serde_json::{Value, json};

use super::local_file::POLL_EVERY;
use super::outcome_kind::OutcomeKind;
use crate::engine::GatewayKey;
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::ui::ViewContext;
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::widgets::fill;

/// One request as a line of the export.
pub fn json_line(key: &GatewayKey, r: &RequestRecord) -> Value {
    let mut line = json!({
        "id": r.id,
        "pk": key.pk,
        "dev": key.dev,
        "class": r.class,
        "action": r.action,
        "outcome": OutcomeKind::of(r).name(),
        "doneMs": r.done_ms,
        "latencyMs": r.latency_ms,
    });
    let Some(obj) = line.as_object_mut() else { return line };
    match &r.end {
        RequestEnd::Replied { code, name, msg } => {
            obj.insert("code".into(), json!(code));
            obj.insert("codeName".into(), json!(name));
            if let Some(msg) = msg {
                obj.insert("msg".into(), json!(msg));
            }
            obj.insert("data".into(), r.data.clone());
        }
        RequestEnd::Failed(why) => {
            obj.insert("error".into(), json!(why.to_string()));
        }
    }
    if !r.failed.is_empty() {
        obj.insert("failed".into(), json!(r.failed));
    }
    line
}

/// The export text: one line per request, in the order given, each ending in a newline.
pub fn json_lines<'a>(key: &GatewayKey, rows: impl IntoIterator<Item = &'a RequestRecord>) -> String {
    rows.into_iter().map(|r| format!("{}\n", json_line(key, r))).collect()
}

/// The path typed, the write under way and how the last one ended.
#[derive(Debug, Default)]
pub struct ExportState {
    pub path: String,
    writing: Option<(PathBuf, usize, Pending<std::io::Result<()>>)>,
    last: Option<Result<(PathBuf, usize), String>>,
}

impl ExportState {
    fn poll(&mut self) {
        let Some((path, count, pending)) = &self.writing else { return };
        let done = match pending.poll() {
            Poll::Waiting => return,
            Poll::Ready(Ok(())) => Ok((path.clone(), *count)),
            Poll::Ready(Err(e)) => Err(format!("{}: {e}", path.display())),
            Poll::Lost => Err(format!("{}: the writing thread ended", path.display())),
        };
        self.last = Some(done);
        self.writing = None;
    }

    fn start(&mut self, key: &GatewayKey, rows: &[&RequestRecord]) {
        let path = PathBuf::from(self.path.trim());
        let text = json_lines(key, rows.iter().copied());
        let dest = path.clone();
        match Pending::spawn("export-requests", move || crate::disk::write_atomic(&dest, text.as_bytes())) {
            Ok(pending) => {
                self.writing = Some((path, rows.len(), pending));
                self.last = None;
            }
            Err(e) => self.last = Some(Err(e.to_string())),
        }
    }

    /// The path field, the button and the last export's result.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, key: &GatewayKey, rows: &[&RequestRecord]) {
        self.poll();
        ui.horizontal(|ui| {
            let field = TextEdit::singleline(&mut self.path).hint_text(ctx.tr("Path of the export (.jsonl)")).desired_width(260.0);
            ui.add(field).accessible_name(ctx.tr("Export path"));
            let can = self.writing.is_none() && !self.path.trim().is_empty() && !rows.is_empty();
            if ui.add_enabled(can, Button::new(ctx.tr("Export JSON lines"))).on_hover_text(ctx.tr("Writes the requests shown, one JSON object a line.")).clicked() {
                self.start(key, rows);
            }
        });
        match &self.last {
            _ if self.writing.is_some() => {
                ui.ctx().request_repaint_after(POLL_EVERY);
                ui.weak(ctx.tr("Writing…"));
            }
            Some(Ok((path, n))) => {
                ui.weak(fill(ctx.tr("{n} requests written to {path}"), &[("n", &n.to_string()), ("path", &path.display().to_string())]));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Export failed: {error}"), &[("error", e)]));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_how_the_request_ended() {
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        let mut r = super::super::requests::tests::record("property", "set", 4, &["a: 4 bad_param"]);
        r.data = json!({"failed": [{"key": "a", "code": 4}]});
        let line = json_line(&key, &r);
        assert_eq!(line["outcome"], "partial");
        assert_eq!((line["code"].clone(), line["codeName"].clone()), (json!(4), json!("x")));
        assert_eq!(line["failed"], json!(["a: 4 bad_param"]));
        r.end = RequestEnd::Failed(crate::engine::RequestFailure::Timeout { after_ms: 10_000 });
        let text = json_lines(&key, [&r, &r]);
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["outcome"], "timeout");
        assert_eq!(lines[0]["error"], "no reply within 10000 ms");
        assert!(lines[0].get("code").is_none());
    }
}
