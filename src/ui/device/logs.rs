//! The device page's Logs tab (contract §6.11): the gateway's log entries as a table (from
//! `log/report` and `log/get`, kept in the engine's gateway record), filtered by level, module
//! and text, and exported as text; fetching a period with `log/get`, following its pages (a reply
//! marked `truncated` holds the oldest entries only: ask again from the last `ts` + 1); and the
//! gateway's log settings with `log/config`.

use egui::{ComboBox, Grid, RichText, TextEdit};
use serde_json::{Value, json};

use super::tab::DeviceTab;
use super::text_export::{ExportLabels, ExportState};
use super::view::DeviceView;
use crate::engine::gateways::{RequestEnd, RequestRecord};
use crate::engine::{GatewayKey, RequestSpec};
use crate::protocol::payload::{LogEntry, MAX_LOG_PAGES};
use crate::ui::format::{LocalTime, format_utc_ms};
use crate::ui::forms::{find_request, outcome_ui, send_button_ui};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// Levels of the contract's log entries, most severe first.
pub const LEVELS: [&str; 4] = ["error", "warn", "info", "debug"];
/// Rows drawn at most (the newest); the record keeps more.
pub const ROWS_SHOWN: usize = 500;
/// The periods `log/get` can ask for: (catalogue key, length in ms).
const PERIODS: [(&str, i64); 4] = [("Last 15 min", 15 * 60_000), ("Last hour", 3_600_000), ("Last 24 h", 86_400_000), ("Last 7 days", 7 * 86_400_000)];

/// A `log/get` of a period under way or ended, page by page.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetch {
    pub to: i64,
    pub level: Option<&'static str>,
    /// The page asked for now.
    pub pending: String,
    pub pages: usize,
    pub entries: usize,
    /// How it ended: `None` while pages come.
    pub ended: Option<FetchEnd>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchEnd {
    /// The last page was not truncated.
    Complete,
    /// [`MAX_LOG_PAGES`] pages and the gateway still had more.
    PageLimit,
    /// A page failed (its outcome is shown).
    Failed,
}

/// What a page's reply says of the next: entries on it, and where the next starts (`None`: the
/// period is done).
pub fn next_page(data: &Value) -> (usize, Option<i64>) {
    let entries = &data["entries"];
    // The request log keeps a large page as a note with its count and last ts.
    let (count, last_ts) = match entries.as_array() {
        Some(list) => (list.len(), list.last().and_then(|e| e["ts"].as_i64())),
        None => (entries["items"].as_u64().unwrap_or(0) as usize, entries["lastTs"].as_i64()),
    };
    let truncated = data["truncated"].as_bool().unwrap_or(false);
    (count, last_ts.filter(|_| truncated && count > 0).map(|ts| ts.saturating_add(1)))
}

/// The Logs tab of one gateway.
#[derive(Debug)]
pub struct LogsTab {
    /// Show entries at this level or more severe (an index into [`LEVELS`]).
    pub show_level: usize,
    /// Only entries of this module.
    pub module: Option<String>,
    pub filter: String,
    /// The period fetched with `log/get` (an index into `PERIODS`).
    pub period: usize,
    /// Ask the gateway only for entries at `show_level` or above.
    pub fetch_at_level: bool,
    pub fetch: Option<Fetch>,
    /// What `log/config` sets, and the id it was sent with.
    pub config_level: usize,
    pub config_upload: bool,
    pub config_sent: Option<String>,
    export: ExportState,
}

impl Default for LogsTab {
    fn default() -> Self {
        LogsTab {
            show_level: 3,
            module: None,
            filter: String::new(),
            period: 1,
            fetch_at_level: false,
            fetch: None,
            config_level: 2,
            config_upload: true,
            config_sent: None,
            export: ExportState::default(),
        }
    }
}

/// Index of `level` in [`LEVELS`]; an unknown level counts as `info`.
fn severity(level: &str) -> usize {
    LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level)).unwrap_or(2)
}

/// One entry as a line of the text export: time, level, module, message, tab-separated.
pub fn text_line(e: &LogEntry) -> String {
    // A message's own line breaks and tabs would break the columns.
    let msg = e.msg.replace(['\n', '\r', '\t'], " ");
    format!("{}\t{}\t{}\t{msg}\n", format_utc_ms(e.ts), e.level, e.module)
}

fn page_request(page: &DeviceView, from: i64, to: i64, level: Option<&str>) -> RequestSpec {
    let mut data = json!({"from": from, "to": to});
    if let Some(level) = level {
        data["level"] = json!(level);
    }
    RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "log", "get", data).with_fresh_id()
}

impl LogsTab {
    /// The entries shown: at or above the level, of the module, matching the filter, newest
    /// first, at most [`ROWS_SHOWN`]; and how many matched in all.
    pub fn visible<'a>(&self, entries: impl DoubleEndedIterator<Item = &'a LogEntry>) -> (Vec<&'a LogEntry>, usize) {
        let needle = self.filter.trim().to_lowercase();
        let mut matched = 0;
        let mut rows = Vec::new();
        for e in entries.rev() {
            if self.matches(e, &needle) {
                matched += 1;
                if rows.len() < ROWS_SHOWN {
                    rows.push(e);
                }
            }
        }
        (rows, matched)
    }

    /// True when `e` passes the level, module and text (`needle`, lowercased) filters.
    fn matches(&self, e: &LogEntry, needle: &str) -> bool {
        let text_ok = needle.is_empty() || e.msg.to_lowercase().contains(needle) || e.module.to_lowercase().contains(needle);
        severity(&e.level) <= self.show_level && self.module.as_ref().is_none_or(|m| *m == e.module) && text_ok
    }

    /// Every entry that matches, oldest first, as the text export writes them.
    pub fn export_text<'a>(&self, entries: impl IntoIterator<Item = &'a LogEntry>) -> String {
        let needle = self.filter.trim().to_lowercase();
        entries.into_iter().filter(|e| self.matches(e, &needle)).map(text_line).collect()
    }

    /// Moves a fetch on when its page's reply is in: the next page, or the end.
    fn advance(&mut self, page: &DeviceView, done: Option<&RequestRecord>, commands: &mut Vec<UiCommand>) {
        let (Some(fetch), Some(done)) = (self.fetch.as_mut(), done) else { return };
        if fetch.ended.is_some() || done.id != fetch.pending {
            return;
        }
        let RequestEnd::Replied { code: 0, .. } = done.end else {
            fetch.ended = Some(FetchEnd::Failed);
            return;
        };
        let (count, next) = next_page(&done.data);
        fetch.pages += 1;
        fetch.entries += count;
        match next {
            None => fetch.ended = Some(FetchEnd::Complete),
            Some(_) if fetch.pages >= MAX_LOG_PAGES => fetch.ended = Some(FetchEnd::PageLimit),
            Some(from) => {
                let spec = page_request(page, from, fetch.to, fetch.level);
                fetch.pending = spec.id.clone().unwrap_or_default();
                commands.push(UiCommand::Request(spec));
            }
        }
    }

    fn fetch_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let key = &page.key;
        ui.horizontal_wrapped(|ui| {
            ComboBox::new(("log_period", key), ctx.tr("Period")).selected_text(ctx.tr(PERIODS[self.period].0)).show_ui(ui, |ui| {
                for (i, (name, _)) in PERIODS.iter().enumerate() {
                    ui.selectable_value(&mut self.period, i, ctx.tr(name));
                }
            });
            ui.checkbox(&mut self.fetch_at_level, ctx.tr("Only the level shown")).on_hover_text(ctx.tr("Send the level filter with log/get"));
            let busy = self.fetch.as_ref().is_some_and(|f| f.ended.is_none());
            if send_button_ui(ui, ctx, page.session, "Fetch logs") && !busy {
                let to = ctx.now_ms;
                let level = self.fetch_at_level.then_some(LEVELS[self.show_level]);
                let spec = page_request(page, to - PERIODS[self.period].1, to, level);
                self.fetch = Some(Fetch { to, level, pending: spec.id.clone().unwrap_or_default(), pages: 0, entries: 0, ended: None });
                commands.push(UiCommand::Request(spec));
            }
        });
        let Some(fetch) = &self.fetch else { return };
        let done = find_request(ctx, key, &fetch.pending);
        let counts = [("pages", fetch.pages.to_string()), ("entries", fetch.entries.to_string())];
        let counts: Vec<(&str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match fetch.ended {
            None => {
                outcome_ui(ui, ctx, Some(&fetch.pending), None);
                if fetch.pages > 0 {
                    ui.weak(fill(ctx.tr("{entries} entries in {pages} pages so far"), &counts));
                }
            }
            Some(FetchEnd::Complete) => {
                ui.label(fill(ctx.tr("Fetched {entries} entries in {pages} pages."), &counts));
            }
            Some(FetchEnd::PageLimit) => {
                ui.colored_label(ui.visuals().warn_fg_color, fill(ctx.tr("Stopped after {pages} pages ({entries} entries): the gateway has more; fetch a shorter period."), &counts));
            }
            Some(FetchEnd::Failed) => outcome_ui(ui, ctx, Some(&fetch.pending), done.as_ref()),
        }
        self.advance(page, done.as_ref(), commands);
    }

    fn config_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let key = &page.key;
        ui.horizontal_wrapped(|ui| {
            ComboBox::new(("log_config_level", key), ctx.tr("Gateway log level")).selected_text(LEVELS[self.config_level]).show_ui(ui, |ui| {
                for (i, level) in LEVELS.iter().enumerate() {
                    ui.selectable_value(&mut self.config_level, i, *level);
                }
            });
            ui.checkbox(&mut self.config_upload, ctx.tr("Upload as log/report"));
            if send_button_ui(ui, ctx, page.session, "Apply") {
                let data = json!({"level": LEVELS[self.config_level], "upload": self.config_upload});
                let spec = RequestSpec::new(page.session, &key.pk, &key.dev, "log", "config", data).with_fresh_id();
                self.config_sent = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
        });
        let done = self.config_sent.as_deref().and_then(|id| find_request(ctx, key, id));
        outcome_ui(ui, ctx, self.config_sent.as_deref(), done.as_ref());
    }

    fn filters_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, key: &GatewayKey, modules: &[String]) {
        ui.horizontal_wrapped(|ui| {
            ComboBox::new(("log_show_level", key), ctx.tr("Level")).selected_text(LEVELS[self.show_level]).show_ui(ui, |ui| {
                for (i, level) in LEVELS.iter().enumerate() {
                    ui.selectable_value(&mut self.show_level, i, *level);
                }
            });
            let all = ctx.tr("All modules");
            ComboBox::new(("log_module", key), ctx.tr("Module")).selected_text(self.module.as_deref().unwrap_or(all)).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.module, None, all);
                for m in modules {
                    ui.selectable_value(&mut self.module, Some(m.to_owned()), m);
                }
            });
            ui.add(TextEdit::singleline(&mut self.filter).hint_text(ctx.tr("Filter: module or message")).desired_width(220.0))
                .accessible_name(ctx.tr("Filter log entries"));
        });
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
        // Filtered under the engine's lock; only the rows drawn (at most ROWS_SHOWN of up to
        // 5,000 kept) are copied out, so the lock is not held while drawing.
        let (rows, matched, total, modules) = match ctx.state.gateways().get(key) {
            Some(g) => {
                let (rows, matched) = self.visible(g.logs.iter());
                let modules: std::collections::BTreeSet<&str> = g.logs.iter().map(|e| e.module.as_str()).collect();
                (rows.into_iter().cloned().collect::<Vec<_>>(), matched, g.logs.len(), modules.into_iter().map(str::to_owned).collect::<Vec<_>>())
            }
            None => (Vec::new(), 0, 0, Vec::new()),
        };
        self.fetch_ui(ui, page, ctx, commands);
        self.config_ui(ui, page, ctx, commands);
        ui.separator();

        self.filters_ui(ui, ctx, key, &modules);
        ui.weak(fill(
            ctx.tr("{shown} of {matched} matching, {total} entries kept"),
            &[("shown", &rows.len().to_string()), ("matched", &matched.to_string()), ("total", &total.to_string())],
        ));
        let labels = ExportLabels {
            hint: "Path of the export (.log)",
            button: "Export as text",
            hover: "Writes the entries that match, oldest first, one a line: time, level, module, message.",
            written: "{n} log entries written to {path}",
        };
        // The export takes every match, not just the rows drawn.
        let mut export = std::mem::take(&mut self.export);
        let this = &*self;
        export.ui(ui, ctx, labels, matched, || ctx.state.gateways().get(key).map(|g| this.export_text(&g.logs)).unwrap_or_default());
        self.export = export;
        if total == 0 {
            ui.weak(ctx.tr("No log entry yet: the gateway sends them as log/report, or use Fetch logs."));
            return;
        }
        Grid::new(("log_entries", key)).num_columns(4).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in [ctx.tr("Time"), ctx.tr("Level"), ctx.tr("Module"), ctx.tr("Message")] {
                ui.strong(title);
            }
            ui.end_row();
            for e in &rows {
                ui.add(LocalTime::ms(e.ts).monospace());
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

    #[test]
    fn the_module_filter_and_the_text_export_take_every_match_oldest_first() {
        let entries = [entry(1, "info", "modbus", "poll\tline\none"), entry(2, "error", "ota", "bad image"), entry(3, "warn", "modbus", "slow")];
        let mut tab = LogsTab { module: Some("modbus".into()), ..LogsTab::default() };
        let (rows, matched) = tab.visible(entries.iter());
        assert_eq!((rows.iter().map(|e| e.ts).collect::<Vec<_>>(), matched), (vec![3, 1], 2));
        let text = tab.export_text(&entries);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], format!("{}\tinfo\tmodbus\tpoll line one", format_utc_ms(1)), "a message's own breaks do not break the columns");
        assert!(lines[1].ends_with("\twarn\tmodbus\tslow"));
        tab.module = None;
        tab.show_level = severity("error");
        assert_eq!(tab.export_text(&entries).lines().count(), 1);
    }

    #[test]
    fn a_truncated_page_says_where_the_next_starts_and_a_last_one_ends_the_fetch() {
        let page = json!({"entries": [{"ts": 5, "level": "info", "module": "m", "msg": "a"}, {"ts": 9, "level": "info", "module": "m", "msg": "b"}], "truncated": true});
        assert_eq!(next_page(&page), (2, Some(10)));
        assert_eq!(next_page(&json!({"entries": [{"ts": 9}]})), (1, None));
        // A page too large to keep whole in the request log is a note with its count and end.
        assert_eq!(next_page(&json!({"entries": {"notKept": true, "items": 300, "lastTs": 77}, "truncated": true})), (300, Some(78)));
        // An empty page that says truncated cannot loop.
        assert_eq!(next_page(&json!({"entries": [], "truncated": true})), (0, None));
    }
}
