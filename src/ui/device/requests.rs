//! The device page's Requests tab: every request the workbench sent to this gateway and how it
//! ended (code and name, or why there was no reply), its latency, and for a partly failed
//! `property/set` or `port/set` the items that were not applied (contract §3). Read from the
//! engine's request log in the gateway record; newest first.

use egui::{Grid, RichText, TextEdit};

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::ui::format::{format_ago, format_time_of_day};
use crate::ui::widgets::{fill, ok_color};
use crate::ui::{UiCommand, ViewContext};

/// The Requests tab of one gateway.
#[derive(Debug, Default)]
pub struct RequestsTab {
    /// Only requests whose class/action contains this text.
    pub filter: String,
    /// Only requests that did not fully succeed.
    pub failures_only: bool,
}

impl RequestsTab {
    /// The requests shown, newest first.
    pub fn visible<'a>(&self, requests: impl DoubleEndedIterator<Item = &'a RequestRecord>) -> Vec<&'a RequestRecord> {
        let needle = self.filter.trim().to_lowercase();
        requests
            .rev()
            .filter(|r| !self.failures_only || !succeeded(r))
            .filter(|r| needle.is_empty() || format!("{}/{}", r.class, r.action).to_lowercase().contains(&needle))
            .collect()
    }
}

/// Code 0 with nothing listed as failed.
fn succeeded(r: &RequestRecord) -> bool {
    matches!(r.end, RequestEnd::Replied { code: 0, .. }) && r.failed.is_empty()
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
        ui.horizontal(|ui| {
            ui.add(TextEdit::singleline(&mut self.filter).hint_text(ctx.tr("Filter: class/action")).desired_width(200.0));
            ui.checkbox(&mut self.failures_only, ctx.tr("Failures only"));
        });
        let rows = self.visible(requests.iter());
        ui.weak(fill(ctx.tr("{shown} of {total} requests"), &[("shown", &rows.len().to_string()), ("total", &requests.len().to_string())]));
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
                ui.label(RichText::new(format_time_of_day(r.done_ms)).monospace()).on_hover_text(format_ago(ctx.lang, ctx.now_ms, r.done_ms));
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
        RequestEnd::Failed(why) => (visuals.error_fg_color, why.clone()),
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
mod tests {
    use super::*;

    fn record(class: &str, action: &str, code: i64, failed: &[&str]) -> RequestRecord {
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
    fn newest_first_filtered_by_text_and_failures() {
        let log = [record("info", "get", 0, &[]), record("property", "set", 4, &["reportPeriod: 4 bad_param"]), record("time", "get", 0, &[])];
        let mut tab = RequestsTab::default();
        let ids: Vec<&str> = tab.visible(log.iter()).iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["time-get", "property-set", "info-get"]);
        tab.failures_only = true;
        let ids: Vec<&str> = tab.visible(log.iter()).iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["property-set"], "a partial failure is a failure, whatever else it applied");
        tab.failures_only = false;
        tab.filter = " TIME/".into();
        assert_eq!(tab.visible(log.iter()).len(), 1);
        assert!(!succeeded(&record("port", "set", 0, &["COM9: 2 not_found"])), "code 0 with failed items is not a success");
    }
}
