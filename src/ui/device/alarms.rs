//! The device page's Alarms tab (contract §6.12): active and past alarms, raise and clear paired
//! into one row with its duration, names and descriptions from the models in the UI language,
//! level colours and who acknowledged each report. A raise the user has not looked at yet puts
//! a badge on the tab's title ([`DeviceTab::badge`]).

use egui::{Button, Color32, Grid, RichText};
use serde_json::json;

use super::requests::request_outcome_ui;
use super::tab::DeviceTab;
use super::view::{DeviceView, alarm_description, sub_model};
use crate::engine::gateways::alarm_log::{AckState, AlarmRow};
use crate::engine::{GatewayKey, GatewayRecord, RequestSpec};
use crate::protocol::model::{Lang, ModelSet, ProductModel};
use crate::protocol::payload::PointV;
use crate::ui::format::{LocalTime, format_number, format_uptime};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// One alarm row as the tab shows it, copied out of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRowView {
    pub alarm_id: String,
    /// `sub` or `sub / pid`.
    pub source: String,
    /// The alarm type's name from the model, or its id.
    pub name: String,
    /// The model's description in the UI language, the gateway's own words as sent
    /// ([`alarm_description`]).
    pub description: String,
    pub level: u8,
    pub value: String,
    pub start_ts: Option<i64>,
    pub end_ts: Option<i64>,
    pub ack: AckState,
    pub received_ms: i64,
}

impl AlarmRowView {
    pub fn active(&self) -> bool {
        self.end_ts.is_none()
    }
}

/// The gateway's alarm rows, newest first, named by the models in `lang`.
pub fn alarm_rows(record: &GatewayRecord, models: &ModelSet, lang: Lang) -> Vec<AlarmRowView> {
    let gateway_model = models.get(&record.key.pk).map(|d| d.model());
    record.alarm_log.rows.iter().rev().map(|r| row_view(record, models, gateway_model, r, lang)).collect()
}

fn row_view(record: &GatewayRecord, models: &ModelSet, gateway_model: Option<&ProductModel>, r: &AlarmRow, lang: Lang) -> AlarmRowView {
    let sub = record.subs.get(&r.sub).and_then(|s| sub_model(models, record, &r.sub, s));
    let def = [sub, gateway_model].into_iter().flatten().find_map(|m| m.alarm(&r.alarm_type));
    let value = match (&r.value, r.threshold) {
        (None, None) => String::new(),
        (v, t) => format!("{} / {}", v.as_ref().map_or_else(|| "-".to_owned(), point_text), t.map_or_else(|| "-".to_owned(), format_number)),
    };
    AlarmRowView {
        alarm_id: r.alarm_id.clone(),
        source: r.pid.as_ref().map_or_else(|| r.sub.clone(), |pid| format!("{} / {pid}", r.sub)),
        name: def.map_or_else(|| r.alarm_type.clone(), |d| d.name.get(lang).to_owned()),
        description: alarm_description(def, r.desc.as_deref(), lang).unwrap_or_default(),
        level: r.level,
        value,
        start_ts: r.start_ts,
        end_ts: r.end_ts,
        ack: r.ack,
        received_ms: r.received_ms,
    }
}

fn point_text(v: &PointV) -> String {
    match v {
        PointV::Number(n) => format_number(*n),
        other => other.to_string(),
    }
}

/// Level 1 is the most severe.
pub fn level_color(visuals: &egui::Visuals, level: u8) -> Color32 {
    match level {
        1 => visuals.error_fg_color,
        2 => Color32::from_rgb(0xE0, 0x6C, 0x00),
        3 => visuals.warn_fg_color,
        _ => visuals.weak_text_color(),
    }
}

/// The acknowledgement state in words (catalogue keys).
pub fn ack_text(ack: AckState) -> &'static str {
    match ack {
        AckState::Us => "Acknowledged by us",
        AckState::Other => "Acknowledged by another master",
        AckState::Sent => "Acknowledgement sent",
        AckState::None => "Not acknowledged",
        AckState::Unknown => "Acknowledgement unknown",
    }
}

/// A duration in ms as "00:01:05", or "850 ms" under a second.
pub fn duration_text(ms: i64) -> String {
    if ms < 1_000 { format!("{} ms", ms.max(0)) } else { format_uptime((ms / 1_000) as u64) }
}

/// The Alarms tab of one gateway.
#[derive(Debug, Default)]
pub struct AlarmsTab {
    /// Rows received up to this time (our clock) have been seen by the user.
    pub seen_until_ms: i64,
    pub show_past: bool,
    /// The id of our last `alarm/get`.
    pub pending: Option<String>,
    /// Why the last click sent nothing (a catalogue key).
    pub refused: Option<&'static str>,
}

impl AlarmsTab {
    /// Active alarms raised since the user last looked at the tab.
    fn unseen(&self, rows: &[AlarmRowView]) -> usize {
        rows.iter().filter(|r| r.active() && r.received_ms > self.seen_until_ms).count()
    }
}

impl DeviceTab for AlarmsTab {
    fn id(&self) -> &'static str {
        "alarms"
    }

    fn title(&self) -> &'static str {
        "Alarms"
    }

    fn badge(&self, ctx: &ViewContext, key: &GatewayKey) -> usize {
        let g = ctx.state.gateways();
        let Some(record) = g.get(key) else { return 0 };
        record.alarm_log.rows.iter().filter(|r| r.active() && r.received_ms > self.seen_until_ms).count()
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let key = &page.key;
        let (rows, outcome) = match ctx.state.gateways().get(key) {
            Some(g) => {
                let outcome = self.pending.as_ref().and_then(|id| g.requests.iter().rev().find(|r| &r.id == id).cloned());
                (alarm_rows(g, ctx.models, ctx.lang), outcome)
            }
            None => (Vec::new(), None),
        };
        let unseen = self.unseen(&rows);
        if unseen > 0 {
            let text = fill(ctx.tr("{n} new alarm(s) raised"), &[("n", &unseen.to_string())]);
            ui.colored_label(ui.visuals().error_fg_color, RichText::new(text).strong());
        }
        // Drawn means seen: the badge goes once the rows have been on screen.
        self.seen_until_ms = rows.iter().map(|r| r.received_ms).max().unwrap_or(self.seen_until_ms).max(self.seen_until_ms);
        ui.horizontal(|ui| {
            if ui.add(Button::new(ctx.tr("Get active alarms"))).on_hover_text(ctx.tr("Ask the gateway for alarm/get")).clicked() {
                match ctx.can_send(page.session) {
                    Ok(()) => {
                        let spec = RequestSpec::new(page.session, &key.pk, &key.dev, "alarm", "get", json!({})).with_fresh_id();
                        self.pending = spec.id.clone();
                        self.refused = None;
                        commands.push(UiCommand::Request(spec));
                    }
                    Err(why) => self.refused = Some(why),
                }
            }
            ui.checkbox(&mut self.show_past, ctx.tr("Show cleared alarms"));
        });
        if let Some(why) = self.refused {
            ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(why));
        } else if let Some(r) = &outcome {
            request_outcome_ui(ui, ctx, r);
        } else if self.pending.is_some() {
            ui.weak(ctx.tr("Waiting for the reply…"));
        }
        let active = rows.iter().filter(|r| r.active()).count();
        ui.label(fill(ctx.tr("{active} active, {past} cleared"), &[("active", &active.to_string()), ("past", &(rows.len() - active).to_string())]));
        let shown: Vec<&AlarmRowView> = rows.iter().filter(|r| r.active() || self.show_past).collect();
        if shown.is_empty() {
            ui.weak(ctx.tr("No alarm."));
            return;
        }
        Grid::new(("alarm_rows", key)).num_columns(8).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in ["Level", "Alarm", "Device", "Value / threshold", "Raised", "Cleared", "Duration", "Acknowledgement"] {
                ui.strong(ctx.tr(title));
            }
            ui.end_row();
            for r in shown {
                ui.colored_label(level_color(ui.visuals(), r.level), RichText::new(r.level.to_string()).strong());
                let name = ui.label(&r.name);
                if !r.description.is_empty() {
                    name.on_hover_text(&r.description);
                }
                ui.label(&r.source);
                ui.label(&r.value);
                match r.start_ts {
                    Some(start) => ui.add(LocalTime::new(start)),
                    None => ui.label("-"),
                };
                match r.end_ts {
                    Some(end) => ui.add(LocalTime::new(end)),
                    None => ui.colored_label(level_color(ui.visuals(), r.level), ctx.tr("active")),
                };
                let duration = match (r.start_ts, r.end_ts) {
                    (Some(s), Some(e)) => duration_text(e - s),
                    (Some(s), None) => duration_text(ctx.now_ms - s),
                    _ => "-".to_owned(),
                };
                ui.label(duration);
                ui.label(ctx.tr(ack_text(r.ack)));
                ui.end_row();
            }
        });
    }
}
