//! A case's evidence in a window of its own: its verdict and reason, what it expects, and the
//! messages exchanged (direction, local time with its offset, topic, latency, the payload
//! pretty-printed), in a scroll area.

use egui::{Label, RichText, ScrollArea};

use super::list::{reason_text, verdict_color, verdict_word};
use crate::conformance::{CaseDef, CaseResult, EvidenceKind};
use crate::engine::GatewayKey;
use crate::ui::ViewContext;
use crate::ui::format::LocalTime;
use crate::ui::widgets::fill;

/// What the window shows.
pub struct EvidenceInput<'a> {
    pub key: &'a GatewayKey,
    pub def: Option<&'a CaseDef>,
    pub result: Option<&'a CaseResult>,
    /// Epoch ms the case started, when known: its evidence's times count from it.
    pub started_ms: Option<i64>,
}

/// A payload as indented JSON when it parses, after the runner's prefix (`id …: code 0 (ok)`)
/// if there is one; an excerpt cut short does not parse and is shown as it is.
pub fn pretty_payload(excerpt: &str) -> String {
    let indented = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| serde_json::to_string_pretty(&v).ok());
    if let Some(whole) = indented(excerpt) {
        return whole;
    }
    let json_at = excerpt.find(['{', '[']);
    match json_at.and_then(|at| indented(&excerpt[at..]).map(|json| (at, json))) {
        Some((at, json)) => format!("{}\n{json}", excerpt[..at].trim_end()),
        None => excerpt.to_owned(),
    }
}

/// Draws the window of case `id`; false once the user closed it.
pub fn evidence_window(egui_ctx: &egui::Context, ctx: &ViewContext, id: &str, input: &EvidenceInput<'_>) -> bool {
    let mut open = true;
    let title = match input.def {
        Some(def) => format!("{id} · {}", def.title.get(ctx.lang)),
        None => id.to_owned(),
    };
    // At the right, clear of the list's ids, so another case is one click away with it open.
    let screen = egui_ctx.content_rect();
    let width = (screen.width() * 0.5).clamp(360.0, 640.0);
    egui::Window::new(title)
        .id(egui::Id::unique(("conformance_evidence", input.key)))
        .open(&mut open)
        .default_pos([screen.right() - width - 16.0, screen.top() + 80.0])
        .default_size([width, 440.0])
        .max_height(egui_ctx.content_rect().height() * 0.8)
        .resizable(true)
        .collapsible(false)
        .show(egui_ctx, |ui| body_ui(ui, ctx, input));
    open
}

fn body_ui(ui: &mut egui::Ui, ctx: &ViewContext, input: &EvidenceInput<'_>) {
    if let Some(def) = input.def {
        ui.horizontal_wrapped(|ui| {
            ui.weak(fill(ctx.tr("Clause {clause}"), &[("clause", &def.clause)]));
            if def.mandatory {
                ui.weak(ctx.tr("mandatory"));
            }
            if def.changes {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("changes the gateway"));
            }
        });
        ui.add(Label::new(fill(ctx.tr("Expected: {text}"), &[("text", def.expected.get(ctx.lang))])).wrap());
        if let Some(manual) = &def.manual {
            ui.add(Label::new(fill(ctx.tr("Manual step: {text}"), &[("text", manual.get(ctx.lang))])).wrap());
        }
    }
    let Some(result) = input.result else {
        ui.weak(ctx.tr("This case has no result yet."));
        return;
    };
    let color = verdict_color(ui.visuals(), &result.verdict);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(verdict_word(ctx, &result.verdict)).strong().color(color));
        if let Some(reason) = reason_text(ctx, &result.verdict) {
            ui.add(Label::new(RichText::new(reason).color(color)).wrap());
        }
    });
    ui.weak(fill(ctx.tr("Took {ms} ms"), &[("ms", &format!("{:.0}", result.duration_ms))]));
    ui.separator();
    if result.evidence.is_empty() {
        ui.weak(ctx.tr("No message was exchanged in this case."));
        return;
    }
    ui.strong(fill(ctx.tr("{n} messages and notes"), &[("n", &result.evidence.len().to_string())]));
    ScrollArea::vertical().id_salt(("conformance_evidence_list", input.key, &result.id)).auto_shrink([false, true]).show(ui, |ui| {
        for (i, line) in result.evidence.iter().enumerate() {
            if i > 0 {
                ui.separator();
            }
            ui.horizontal_wrapped(|ui| {
                let direction = match line.kind {
                    EvidenceKind::Sent => ctx.tr("→ sent"),
                    EvidenceKind::Received => ctx.tr("← received"),
                    EvidenceKind::Note => ctx.tr("note"),
                };
                ui.strong(direction);
                match input.started_ms {
                    Some(start) => {
                        ui.add(LocalTime::ms(start + line.at_ms).monospace());
                    }
                    None => {
                        ui.monospace(format!("+{} ms", line.at_ms));
                    }
                }
                if !line.topic.is_empty() {
                    ui.monospace(&line.topic);
                }
                if let Some(latency) = line.latency_ms {
                    ui.weak(fill(ctx.tr("after {ms} ms"), &[("ms", &format!("{latency:.0}"))]));
                }
            });
            if line.kind == EvidenceKind::Note {
                ui.add(Label::new(&line.excerpt).wrap());
            } else {
                ui.add(Label::new(RichText::new(pretty_payload(&line.excerpt)).monospace()).wrap());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_is_indented_unless_it_was_cut() {
        assert_eq!(pretty_payload(r#"{"id":"a","code":0}"#), "{\n  \"id\": \"a\",\n  \"code\": 0\n}");
        assert_eq!(pretty_payload(r#"{"id":"a","da…"#), r#"{"id":"a","da…"#);
        assert_eq!(pretty_payload(r#"id a: code 0 (ok) {"n":1}"#), "id a: code 0 (ok)\n{\n  \"n\": 1\n}");
    }
}
