//! The device page's Logs tab (contract §6.11): the gateway's log entries as a table (from
//! `log/report` and `log/get`, kept in the engine's gateway record), filtered by level and
//! text; fetching a period with `log/get`; and the gateway's log settings with `log/config`.

use egui::{Button, ComboBox, Grid, RichText, TextEdit};
use serde_json::json;

use super::tab::DeviceTab;
use super::requests::request_outcome_ui;
use super::transfers::session_of;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::protocol::payload::LogEntry;
use crate::protocol::time::now_ms;
use crate::ui::format::format_utc_ms;
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// Levels of the contract's log entries, most severe first.
pub const LEVELS: [&str; 4] = ["error", "warn", "info", "debug"];
/// Rows drawn at most (the newest); the record keeps more.
pub const ROWS_SHOWN: usize = 500;
/// The periods `log/get` can ask for: (catalogue key, length in ms).
const PERIODS: [(&str, i64); 4] = [("Last 15 min", 15 * 60_000), ("Last hour", 3_600_000), ("Last 24 h", 86_400_000), ("Last 7 days", 7 * 86_400_000)];

/// The Logs tab of one gateway.
#[derive(Debug)]
pub struct LogsTab {
    /// Show entries at this level or more severe (an index into [`LEVELS`]).
    pub show_level: usize,
    pub filter: String,
    /// The period fetched with `log/get` (an index into `PERIODS`).
    pub period: usize,
    /// What `log/config` sets.
    pub config_level: usize,
    pub config_upload: bool,
}

impl Default for LogsTab {
    fn default() -> Self {
        LogsTab { show_level: 3, filter: String::new(), period: 1, config_level: 2, config_upload: true }
    }
}

/// Index of `level` in [`LEVELS`]; an unknown level counts as `info`.
fn severity(level: &str) -> usize {
    LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level)).unwrap_or(2)
}

impl LogsTab {
    /// The entries shown: at or above the level, matching the filter, newest first, at most
    /// [`ROWS_SHOWN`]; and how many matched in all.
    pub fn visible<'a>(&self, entries: impl DoubleEndedIterator<Item = &'a LogEntry>) -> (Vec<&'a LogEntry>, usize) {
        let needle = self.filter.trim().to_lowercase();
        let mut matched = 0;
        let mut rows = Vec::new();
        for e in entries.rev() {
            let text_ok = needle.is_empty() || e.msg.to_lowercase().contains(&needle) || e.module.to_lowercase().contains(&needle);
            if severity(&e.level) <= self.show_level && text_ok {
                matched += 1;
                if rows.len() < ROWS_SHOWN {
                    rows.push(e);
                }
            }
        }
        (rows, matched)
    }
}

impl DeviceTab for LogsTab {
    fn id(&self) -> &'static str {
        "logs"
    }

    fn title(&self) -> &'static str {
        "Logs"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let key = &page.key;
        let (usable, _) = session_of(ctx, page.session);
        let closed = ctx.tr("The session this gateway was seen on is closed.");
        // Copied out so the engine's lock is not held while drawing.
        let (entries, last_request) = match ctx.state.gateways().get(key) {
            Some(g) => (g.logs.iter().cloned().collect::<Vec<_>>(), g.requests.iter().rev().find(|r| r.class == "log").cloned()),
            None => (Vec::new(), None),
        };

        ui.horizontal_wrapped(|ui| {
            ComboBox::from_id_salt(("log_period", key)).selected_text(ctx.tr(PERIODS[self.period].0)).show_ui(ui, |ui| {
                for (i, (name, _)) in PERIODS.iter().enumerate() {
                    ui.selectable_value(&mut self.period, i, ctx.tr(name));
                }
            });
            let fetch = ui.add_enabled(usable, Button::new(ctx.tr("Fetch logs"))).on_hover_text(ctx.tr("Ask the gateway for log/get")).on_disabled_hover_text(closed);
            if fetch.clicked() {
                let to = now_ms();
                let data = json!({"from": to - PERIODS[self.period].1, "to": to});
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &key.pk, &key.dev, "log", "get", data)));
            }
            ui.separator();
            ui.label(ctx.tr("Gateway log level"));
            ComboBox::from_id_salt(("log_config_level", key)).selected_text(LEVELS[self.config_level]).show_ui(ui, |ui| {
                for (i, level) in LEVELS.iter().enumerate() {
                    ui.selectable_value(&mut self.config_level, i, *level);
                }
            });
            ui.checkbox(&mut self.config_upload, ctx.tr("Upload as log/report"));
            let apply = ui.add_enabled(usable, Button::new(ctx.tr("Apply"))).on_hover_text(ctx.tr("Send log/config to the gateway")).on_disabled_hover_text(closed);
            if apply.clicked() {
                let data = json!({"level": LEVELS[self.config_level], "upload": self.config_upload});
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &key.pk, &key.dev, "log", "config", data)));
            }
        });
        if let Some(r) = &last_request {
            request_outcome_ui(ui, ctx, r);
        }
        ui.separator();

        ui.horizontal_wrapped(|ui| {
            ui.label(ctx.tr("Show"));
            ComboBox::from_id_salt(("log_show_level", key)).selected_text(LEVELS[self.show_level]).show_ui(ui, |ui| {
                for (i, level) in LEVELS.iter().enumerate() {
                    ui.selectable_value(&mut self.show_level, i, *level);
                }
            });
            ui.add(TextEdit::singleline(&mut self.filter).hint_text(ctx.tr("Filter: module or message")).desired_width(220.0))
                .accessible_name(ctx.tr("Filter log entries"));
        });
        let (rows, matched) = self.visible(entries.iter());
        ui.weak(fill(
            ctx.tr("{shown} of {matched} matching, {total} entries kept"),
            &[("shown", &rows.len().to_string()), ("matched", &matched.to_string()), ("total", &entries.len().to_string())],
        ));
        if entries.is_empty() {
            ui.weak(ctx.tr("No log entry yet: the gateway sends them as log/report, or use Fetch logs."));
            return;
        }
        Grid::new(("log_entries", key)).num_columns(4).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in [ctx.tr("Time"), ctx.tr("Level"), ctx.tr("Module"), ctx.tr("Message")] {
                ui.strong(title);
            }
            ui.end_row();
            for e in rows {
                ui.monospace(format_utc_ms(e.ts));
                let color = match severity(&e.level) {
                    0 => ui.visuals().error_fg_color,
                    1 => ui.visuals().warn_fg_color,
                    _ => ui.visuals().text_color(),
                };
                ui.colored_label(color, RichText::new(&e.level).strong());
                ui.label(&e.module);
                ui.label(&e.msg);
                ui.end_row();
            }
        });
    }
}

/// How the last request of this tab ended: the code and its name, the latency, when.
#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts: i64, level: &str, module: &str, msg: &str) -> LogEntry {
        LogEntry { ts, level: level.into(), module: module.into(), msg: msg.into() }
    }

    #[test]
    fn entries_are_filtered_by_level_and_text_newest_first() {
        let entries = [entry(1, "debug", "modbus", "poll"), entry(2, "error", "modbus", "timeout on COM1"), entry(3, "info", "ota", "started")];
        let mut tab = LogsTab::default();
        let (rows, matched) = tab.visible(entries.iter());
        assert_eq!(matched, 3);
        assert_eq!(rows.iter().map(|e| e.ts).collect::<Vec<_>>(), [3, 2, 1]);
        tab.show_level = severity("warn");
        let (rows, _) = tab.visible(entries.iter());
        assert_eq!(rows.iter().map(|e| e.ts).collect::<Vec<_>>(), [2]);
        tab.show_level = severity("debug");
        tab.filter = " OTA ".into();
        let (rows, matched) = tab.visible(entries.iter());
        assert_eq!((rows.len(), matched, rows[0].ts), (1, 1, 3));
        // A level the contract does not name is shown as info.
        assert_eq!(severity("NOTICE"), 2);
    }

    #[test]
    fn at_most_rows_shown_are_drawn_but_all_are_counted() {
        let entries: Vec<_> = (0..ROWS_SHOWN as i64 + 20).map(|ts| entry(ts, "info", "m", "x")).collect();
        let (rows, matched) = LogsTab::default().visible(entries.iter());
        assert_eq!(rows.len(), ROWS_SHOWN);
        assert_eq!(matched, ROWS_SHOWN + 20);
        assert_eq!(rows[0].ts, ROWS_SHOWN as i64 + 19);
    }
}
