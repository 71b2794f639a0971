//! The device page's History tab (contract §6.13): recall a period with `history/get`
//! `{from, to, sub?}`, then the `history/report` batches that answer it (told by `recallId` =
//! the request's id) listed as they arrive, each with how many samples were new to the window
//! and how many it already held (§5 deduplication), and the total when the recall ends. The
//! counting is the engine's (`alarm_log::Recall`, the same numbers as the CLI's `history`).

use egui::{ComboBox, Grid, RichText, TextEdit};
use serde_json::json;

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::engine::gateways::alarm_log::Recall;
use crate::protocol::time::parse_time;
use crate::ui::format::{LocalTime, format_ago, format_iso, local_and_utc};
use crate::ui::forms::{find_request, outcome_ui, send_button_ui};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// Quick periods: (catalogue key, length in ms), ending now.
const PRESETS: [(&str, i64); 3] = [("Last hour", 3_600_000), ("Last 24 h", 86_400_000), ("Last 7 days", 7 * 86_400_000)];
/// A recall with batches missing and none for this long is shown as stalled.
pub const STALLED_AFTER_MS: i64 = 60_000;

/// Where a recall stands, as the table says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecallState {
    /// Sent; the `history/get` reply (how many batches) has not come.
    Announcing,
    /// Batches still to come.
    Receiving,
    /// Batches missing and nothing for [`STALLED_AFTER_MS`].
    Stalled,
    /// Every announced batch arrived.
    Complete,
}

impl RecallState {
    pub fn of(recall: &Recall, now_ms: i64) -> RecallState {
        if recall.done() {
            return RecallState::Complete;
        }
        if now_ms.saturating_sub(recall.last_ms) > STALLED_AFTER_MS {
            RecallState::Stalled
        } else if recall.expected.is_none() {
            RecallState::Announcing
        } else {
            RecallState::Receiving
        }
    }

    /// Its catalogue key.
    pub fn text(self) -> &'static str {
        match self {
            RecallState::Announcing => "Waiting for the reply",
            RecallState::Receiving => "Receiving",
            RecallState::Stalled => "Stalled: batches missing",
            RecallState::Complete => "Complete",
        }
    }
}

/// Why the period typed cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodError {
    From,
    To,
    Order,
}

impl PeriodError {
    /// Its catalogue key.
    pub fn text(self) -> &'static str {
        match self {
            PeriodError::From => "From is not a time: use epoch ms or ISO 8601.",
            PeriodError::To => "To is not a time: use epoch ms or ISO 8601.",
            PeriodError::Order => "From is after To.",
        }
    }
}

/// The History tab of one gateway.
#[derive(Debug)]
pub struct HistoryTab {
    /// Start and end of the period, as typed: epoch ms or ISO 8601.
    pub from: String,
    pub to: String,
    /// The sub-device asked for; `None`: all of them.
    pub sub: Option<String>,
    /// The last `history/get` sent from here (its id is the recall's).
    pub sent: Option<String>,
    /// The recall whose batches are listed.
    pub selected: Option<String>,
}

impl Default for HistoryTab {
    fn default() -> Self {
        let mut tab = HistoryTab { from: String::new(), to: String::new(), sub: None, sent: None, selected: None };
        tab.preset(crate::protocol::time::now_ms(), PRESETS[0].1);
        tab
    }
}

impl HistoryTab {
    /// Fills the period with the `length_ms` ending at `now_ms`.
    pub fn preset(&mut self, now_ms: i64, length_ms: i64) {
        self.from = format_iso(now_ms - length_ms);
        self.to = format_iso(now_ms);
    }

    /// The `history/get` data of the period typed, or why it is not one.
    pub fn request_data(&self) -> Result<serde_json::Value, PeriodError> {
        let from = parse_time(&self.from).map_err(|_| PeriodError::From)?;
        let to = parse_time(&self.to).map_err(|_| PeriodError::To)?;
        if from > to {
            return Err(PeriodError::Order);
        }
        let mut data = json!({"from": from, "to": to});
        if let Some(sub) = &self.sub {
            data["sub"] = json!(sub);
        }
        Ok(data)
    }

    fn request_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let subs: Vec<&str> = page.subs.iter().filter(|s| !s.is_gateway).map(|s| s.id.as_str()).collect();
        ui.horizontal_wrapped(|ui| {
            ui.label(ctx.tr("From"));
            ui.add(TextEdit::singleline(&mut self.from).desired_width(170.0)).accessible_name(ctx.tr("Start of the period")).on_hover_text(ctx.tr("Epoch ms or ISO 8601 (2026-01-31T08:00:00Z; no zone means UTC)"));
            ui.label(ctx.tr("To"));
            ui.add(TextEdit::singleline(&mut self.to).desired_width(170.0)).accessible_name(ctx.tr("End of the period")).on_hover_text(ctx.tr("Epoch ms or ISO 8601 (2026-01-31T08:00:00Z; no zone means UTC)"));
            for (name, length) in PRESETS {
                if ui.small_button(ctx.tr(name)).clicked() {
                    self.preset(ctx.now_ms, length);
                }
            }
        });
        ui.horizontal_wrapped(|ui| {
            let all = ctx.tr("All sub-devices");
            ComboBox::new(("history_sub", &page.key), ctx.tr("Sub-device")).selected_text(self.sub.clone().unwrap_or_else(|| all.to_owned())).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.sub, None, all);
                for id in &subs {
                    ui.selectable_value(&mut self.sub, Some((*id).to_owned()), *id);
                }
            });
            let data = self.request_data();
            if send_button_ui(ui, ctx, page.session, "Recall")
                && let Ok(data) = &data
            {
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "history", "get", data.clone()).with_fresh_id();
                self.sent = spec.id.clone();
                self.selected = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            if let Err(why) = data {
                ui.colored_label(ui.visuals().error_fg_color, ctx.tr(why.text()));
            }
        });
        let done = self.sent.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        outcome_ui(ui, ctx, self.sent.as_deref(), done.as_ref());
    }

    fn recalls_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, recalls: &[Recall]) {
        ui.strong(ctx.tr("Recalls"));
        if recalls.is_empty() {
            ui.weak(ctx.tr("No recall yet: choose a period and press Recall."));
            return;
        }
        Grid::new(("history_recalls", &page.key)).num_columns(6).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in ["Started", "Recall", "Batches", "New", "Duplicates", "State"] {
                ui.strong(ctx.tr(title));
            }
            ui.end_row();
            for r in recalls.iter().rev() {
                ui.label(format_ago(ctx.lang, ctx.now_ms, r.started_ms)).on_hover_text(local_and_utc(r.started_ms));
                let chosen = self.selected.as_deref() == Some(r.recall_id.as_str());
                if ui.selectable_label(chosen, RichText::new(&r.recall_id).monospace()).on_hover_text(ctx.tr("Show its batches")).clicked() {
                    self.selected = Some(r.recall_id.clone());
                }
                ui.label(match r.expected {
                    Some(n) => format!("{} / {n}", r.received),
                    None => format!("{} / ?", r.received),
                });
                ui.label(r.new.to_string());
                ui.label(r.duplicates.to_string());
                let state = RecallState::of(r, ctx.now_ms);
                let color = match state {
                    RecallState::Complete => crate::ui::widgets::ok_color(ui.visuals()),
                    RecallState::Stalled => ui.visuals().warn_fg_color,
                    _ => ui.visuals().text_color(),
                };
                ui.colored_label(color, ctx.tr(state.text()));
                ui.end_row();
            }
        });
    }

    fn batches_ui(ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, recall: &Recall) {
        ui.add_space(6.0);
        ui.strong(fill(ctx.tr("Batches of {recall}"), &[("recall", &recall.recall_id)]));
        if RecallState::of(recall, ctx.now_ms) == RecallState::Complete {
            ui.label(fill(
                ctx.tr("Recall complete: {batches} batches, {new} new samples, {duplicates} duplicates."),
                &[("batches", &recall.received.to_string()), ("new", &recall.new.to_string()), ("duplicates", &recall.duplicates.to_string())],
            ));
        }
        if recall.batches.is_empty() {
            ui.weak(ctx.tr("No batch yet."));
            return;
        }
        Grid::new(("history_batches", &page.key, &recall.recall_id)).num_columns(4).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in ["Received", "Batch", "New", "Duplicates"] {
                ui.strong(ctx.tr(title));
            }
            ui.end_row();
            for b in &recall.batches {
                ui.add(LocalTime::ms(b.received_ms).monospace());
                ui.monospace(&b.batch_id);
                ui.label(b.new.to_string());
                ui.label(b.duplicates.to_string());
                ui.end_row();
            }
        });
        let listed = recall.batches.len() as u64;
        if recall.received > listed {
            ui.weak(fill(ctx.tr("{more} more batches counted, not listed."), &[("more", &(recall.received - listed).to_string())]));
        }
    }
}

impl DeviceTab for HistoryTab {
    fn id(&self) -> &'static str {
        "history"
    }

    fn title(&self) -> &'static str {
        "History"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.request_ui(ui, page, ctx, commands);
        ui.separator();
        // Copied out so the engine's lock is not held while drawing: the rows without their
        // batches (up to 1,000 each), and the batches of the recall shown.
        let (recalls, shown) = ctx.state.gateways().get(&page.key).map_or((Vec::new(), None), |g| {
            let all = &g.alarm_log.recalls;
            let shown = self.selected.as_deref().and_then(|id| all.iter().find(|r| r.recall_id == id)).or(all.back()).cloned();
            (all.iter().map(|r| Recall { batches: Vec::new(), recall_id: r.recall_id.clone(), ..*r }).collect::<Vec<_>>(), shown)
        });
        self.recalls_ui(ui, page, ctx, &recalls);
        if let Some(recall) = &shown {
            Self::batches_ui(ui, page, ctx, recall);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::gateways::alarm_log::BatchCount;

    fn recall(expected: Option<u64>, batches: &[(&str, i64)]) -> Recall {
        Recall {
            recall_id: "r1".into(),
            expected,
            batches: batches.iter().map(|(id, at)| BatchCount { batch_id: (*id).into(), new: 1, duplicates: 0, received_ms: *at }).collect(),
            received: batches.len() as u64,
            new: batches.len() as u64,
            duplicates: 0,
            started_ms: 1_000,
            last_ms: batches.iter().map(|(_, at)| *at).max().unwrap_or(1_000),
        }
    }

    #[test]
    fn a_recall_is_told_waiting_receiving_stalled_or_complete() {
        assert_eq!(RecallState::of(&recall(None, &[]), 2_000), RecallState::Announcing);
        assert_eq!(RecallState::of(&recall(Some(2), &[("b1", 5_000)]), 6_000), RecallState::Receiving);
        assert_eq!(RecallState::of(&recall(Some(2), &[("b1", 5_000)]), 5_000 + STALLED_AFTER_MS + 1), RecallState::Stalled);
        assert_eq!(RecallState::of(&recall(None, &[]), 1_000 + STALLED_AFTER_MS + 1), RecallState::Stalled);
        assert_eq!(RecallState::of(&recall(Some(2), &[("b1", 5_000), ("b2", 5_100)]), 999_999), RecallState::Complete);
    }

    #[test]
    fn the_period_is_checked_before_it_is_sent() {
        let mut tab = HistoryTab { from: "2026-01-31T08:00:00Z".into(), to: "1769850000000".into(), ..HistoryTab::default() };
        assert_eq!(tab.request_data(), Ok(json!({"from": 1_769_846_400_000_i64, "to": 1_769_850_000_000_i64})));
        tab.sub = Some("meter-1".into());
        assert_eq!(tab.request_data().map(|d| d["sub"].clone()), Ok(json!("meter-1")));
        tab.to = "yesterday".into();
        assert_eq!(tab.request_data(), Err(PeriodError::To));
        tab.to = "2026-01-31T07:00:00Z".into();
        assert_eq!(tab.request_data(), Err(PeriodError::Order));
        tab.preset(1_769_850_000_000, 3_600_000);
        assert_eq!(tab.request_data().map(|d| d["to"].clone()), Ok(json!(1_769_850_000_000_i64)), "a preset reads back as the same time");
    }
}
