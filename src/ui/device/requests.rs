//! The device page's Requests tab: every request the workbench sent to this gateway and how it
//! ended (code and name, or why there was no reply), its latency, and for a partly failed
//! `property/set` or `port/set` the items that were not applied (contract §3). Read from the
//! engine's request log in the gateway record; newest first; filtered by class and outcome and
//! exported as JSON lines (`requests_export.rs`).

use egui::{ComboBox, Grid, RichText, TextEdit};

use super::outcome_kind::OutcomeKind;
use super::requests_export::json_lines;
use super::text_export::{ExportLabels, ExportState};
use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::ui::format::{format_ago, format_local_ms, format_time_of_day, utc_and_ago};
use crate::ui::widgets::{fill, ok_color};
use crate::ui::{UiCommand, ViewContext};

/// The Requests tab of one gateway.
#[derive(Debug, Default)]
pub struct RequestsTab {
    /// Only requests whose class/action contains this text.
    pub filter: String,
    /// Only requests of this class.
    pub class: Option<String>,
    /// Only requests that ended so.
    pub outcome: Option<OutcomeKind>,
    export: ExportState,
}

impl RequestsTab {
    /// The requests shown, newest first.
    pub fn visible<'a>(&self, requests: impl DoubleEndedIterator<Item = &'a RequestRecord>) -> Vec<&'a RequestRecord> {
        let needle = self.filter.trim().to_lowercase();
        requests
            .rev()
            .filter(|r| self.class.as_ref().is_none_or(|c| *c == r.class))
            .filter(|r| self.outcome.is_none_or(|o| o == OutcomeKind::of(r)))
            .filter(|r| needle.is_empty() || format!("{}/{}", r.class, r.action).to_lowercase().contains(&needle))
            .collect()
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, requests: &[RequestRecord]) {
        let mut classes: Vec<&str> = requests.iter().map(|r| r.class.as_str()).collect();
        classes.sort_unstable();
        classes.dedup();
        ui.horizontal(|ui| {
            ui.add(TextEdit::singleline(&mut self.filter).hint_text(ctx.tr("Filter: class/action")).desired_width(160.0));
            let shown = self.class.as_deref().unwrap_or(ctx.tr("All classes")).to_owned();
            ComboBox::new("requests_class", ctx.tr("Class")).selected_text(shown).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.class, None, ctx.tr("All classes"));
                for class in classes {
                    ui.selectable_value(&mut self.class, Some(class.to_owned()), class);
                }
            });
            let shown = self.outcome.map_or(ctx.tr("All outcomes"), |o| ctx.tr(o.label()));
            ComboBox::new("requests_outcome", ctx.tr("Outcome")).selected_text(shown).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.outcome, None, ctx.tr("All outcomes"));
                for kind in OutcomeKind::ALL {
                    ui.selectable_value(&mut self.outcome, Some(kind), ctx.tr(kind.label()));
                }
            });
        });
    }
}

impl DeviceTab for RequestsTab {
    fn id(&self) -> &'static str {
        "requests"
    }

    fn title(&self) -> &'static str {
        "Requests"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, _commands: &mut Vec<UiCommand>) {
        // Copy out under the read lock, then draw.
        let requests: Vec<RequestRecord> = ctx.state.gateways().get(&page.key).map(|g| g.requests.iter().cloned().collect()).unwrap_or_default();
        self.filters_ui(ui, ctx, &requests);
        let rows = self.visible(requests.iter());
        ui.weak(fill(ctx.tr("{shown} of {total} requests"), &[("shown", &rows.len().to_string()), ("total", &requests.len().to_string())]));
        let labels = ExportLabels {
            hint: "Path of the export (.jsonl)",
            button: "Export JSON lines",
            hover: "Writes the requests shown, one JSON object a line.",
            written: "{n} requests written to {path}",
        };
        self.export.ui(ui, ctx, labels, rows.len(), || json_lines(&page.key, rows.iter().copied()));
        if rows.is_empty() {
            ui.weak(ctx.tr("No request sent to this gateway yet."));
            return;
        }
        Grid::new(("requests", &page.key)).striped(true).num_columns(4).show(ui, |ui| {
            for header in ["Time", "Request", "Outcome", "Latency"] {
                ui.label(RichText::new(ctx.tr(header)).strong());
            }
            ui.end_row();
            for r in rows {
                ui.label(RichText::new(format_time_of_day(r.done_ms)).monospace()).on_hover_text(format!("{}\n{}", format_local_ms(r.done_ms), utc_and_ago(ctx.lang, ctx.now_ms, r.done_ms)));
                ui.label(RichText::new(format!("{}/{}", r.class, r.action)).monospace()).on_hover_text(&r.id);
                let (color, text) = outcome(ui.visuals(), ctx, r);
                ui.colored_label(color, text);
                ui.label(match r.end {
                    RequestEnd::Replied { .. } => format!("{:.0} ms", r.latency_ms),
                    RequestEnd::Failed(_) => "–".to_owned(),
                });
                ui.end_row();
                for item in &r.failed {
                    ui.label("");
                    ui.label("");
                    ui.colored_label(ui.visuals().warn_fg_color, format!("✗ {item}"));
                    ui.label("");
                    ui.end_row();
                }
            }
        });
    }
}

/// The outcome of a request in its colour: code and name, its message, and how many items of a
/// set failed.
fn outcome(visuals: &egui::Visuals, ctx: &ViewContext, r: &RequestRecord) -> (egui::Color32, String) {
    match &r.end {
        RequestEnd::Replied { code: 0, name, .. } if r.failed.is_empty() => (ok_color(visuals), format!("0 {name}")),
        RequestEnd::Replied { code, name, msg } => {
            let msg = msg.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
            let partial = if r.failed.is_empty() { String::new() } else { format!(" · {}", fill(ctx.tr("{n} items not applied"), &[("n", &r.failed.len().to_string())])) };
            (visuals.error_fg_color, format!("{code} {name}{msg}{partial}"))
        }
        RequestEnd::Failed(why) => (visuals.error_fg_color, why.to_string()),
    }
}

/// One line for the last request of a tab (Logs, …), with the items a set could not apply.
pub fn request_outcome_ui(ui: &mut egui::Ui, ctx: &ViewContext, r: &RequestRecord) {
    let (color, text) = outcome(ui.visuals(), ctx, r);
    let ago = format_ago(ctx.lang, ctx.now_ms, r.done_ms);
    let latency = match r.end {
        RequestEnd::Replied { .. } => format!(" · {:.0} ms", r.latency_ms),
        RequestEnd::Failed(_) => String::new(),
    };
    ui.colored_label(color, format!("{}/{}: {text}{latency} · {ago}", r.class, r.action));
    for item in &r.failed {
        ui.colored_label(ui.visuals().warn_fg_color, format!("  ✗ {item}"));
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::ui::device) fn record(class: &str, action: &str, code: i64, failed: &[&str]) -> RequestRecord {
        RequestRecord {
            id: format!("{class}-{action}"),
            class: class.into(),
            action: action.into(),
            end: RequestEnd::Replied { code, name: "x", msg: None },
            failed: failed.iter().map(|s| (*s).to_owned()).collect(),
            latency_ms: 12.0,
            done_ms: 1,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn newest_first_filtered_by_text_class_and_outcome() {
        let mut timeout = record("time", "get", 0, &[]);
        timeout.id = "timeout".into();
        timeout.end = RequestEnd::Failed(crate::engine::RequestFailure::Timeout { after_ms: 10_000 });
        let mut closed = record("info", "get", 0, &[]);
        closed.id = "closed".into();
        closed.end = RequestEnd::Failed(crate::engine::RequestFailure::LinkClosed("gone".into()));
        let log = [record("info", "get", 0, &[]), record("property", "set", 4, &["reportPeriod: 4 bad_param"]), record("time", "get", 0, &[]), timeout, closed, record("command", "request", 2, &[])];
        let ids = |tab: &RequestsTab| tab.visible(log.iter()).iter().map(|r| r.id.as_str()).collect::<Vec<_>>();
        let mut tab = RequestsTab::default();
        assert_eq!(ids(&tab), ["command-request", "closed", "timeout", "time-get", "property-set", "info-get"]);
        tab.outcome = Some(OutcomeKind::Partial);
        assert_eq!(ids(&tab), ["property-set"], "a partial failure is its own outcome, whatever its code");
        tab.outcome = Some(OutcomeKind::Timeout);
        assert_eq!(ids(&tab), ["timeout"]);
        tab.outcome = Some(OutcomeKind::Error);
        assert_eq!(ids(&tab), ["command-request", "closed"]);
        tab.outcome = Some(OutcomeKind::Ok);
        assert_eq!(ids(&tab), ["time-get", "info-get"]);
        tab.class = Some("info".into());
        assert_eq!(ids(&tab), ["info-get"]);
        tab.outcome = None;
        assert_eq!(ids(&tab), ["closed", "info-get"]);
        tab.class = None;
        tab.filter = " TIME/".into();
        assert_eq!(ids(&tab), ["timeout", "time-get"]);
        assert_eq!(OutcomeKind::of(&record("port", "set", 0, &["COM9: 2 not_found"])), OutcomeKind::Partial, "code 0 with failed items is not a success");
    }
}
