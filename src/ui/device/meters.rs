//! The device page's Meters tab (contract §6.5): the energy registers of each sub-device, the
//! latest value of each (from `meter/report`, in the engine's record), and a period queried with
//! `meter/get` as a table of readings per sub-device and register, with the model's names and
//! units and each reading's freeze time, or as a chart of the consumption per interval
//! ([`super::meter_chart`]). Each latest register can be sent to the Plots tab.

use egui::{ComboBox, Grid, RichText};
use serde_json::{Value, json};

use super::meter_chart::chart_ui;
use super::plot_actions::{plot_button_ui, plot_menu};
use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::engine::gateways::RequestEnd;
use crate::engine::series::SeriesKey;
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::Reading;
use crate::ui::format::{LocalTime, format_local_ms, format_number, utc_and_ago};
use crate::ui::forms::{find_request, outcome_ui, send_button_ui};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

pub use super::meter_consumption::ReadingRow;

/// The periods `meter/get` can ask for: (catalogue key, length in ms).
const PERIODS: [(&str, i64); 3] = [("Last hour", 3_600_000), ("Last 24 h", 86_400_000), ("Last 7 days", 7 * 86_400_000)];

/// How the readings of a period are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeriodView {
    /// Consumption per interval as bars.
    #[default]
    Chart,
    /// Every reading as a row.
    Table,
}

/// The Meters tab of one gateway.
#[derive(Debug, Default)]
pub struct MetersTab {
    pub view: PeriodView,
    /// The sub-device asked for; `None`: all of them.
    pub sub: Option<String>,
    /// An index into `PERIODS`.
    pub period: usize,
    /// The `meter/get` sent, by id.
    pub sent: Option<String>,
}

/// The readings of a `meter/get` reply's data as rows, by sub-device, register and freeze time,
/// named and with units by the sub-devices' models (`product`: each sub-device's product key).
pub fn reading_rows(data: &Value, product: impl Fn(&str) -> Option<String>, models: &ModelSet, lang: Lang) -> Vec<ReadingRow> {
    let readings: Vec<Reading> = data.get("readings").cloned().and_then(|r| serde_json::from_value(r).ok()).unwrap_or_default();
    let mut rows = Vec::new();
    for r in readings {
        let model = product(&r.sub).and_then(|pk| models.get(&pk)).map(|d| d.model());
        for (register, value) in &r.values {
            let def = model.and_then(|m| m.meters.iter().find(|m| &m.id == register));
            let name = def.map(|d| d.name.get(lang).to_owned()).filter(|n| !n.is_empty()).unwrap_or_else(|| register.clone());
            let unit = def.and_then(|d| d.unit.clone()).unwrap_or_default();
            rows.push(ReadingRow { sub: r.sub.clone(), register: register.clone(), name, unit, ts: r.ts, value: *value });
        }
    }
    rows.sort_by(|a, b| a.sub.cmp(&b.sub).then_with(|| a.register.cmp(&b.register)).then(a.ts.cmp(&b.ts)));
    rows
}

impl MetersTab {
    fn query_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, subs: &[String], commands: &mut Vec<UiCommand>) {
        ui.horizontal_wrapped(|ui| {
            let all = ctx.tr("All sub-devices");
            ComboBox::new(("meter_sub", &page.key), ctx.tr("Sub-device")).selected_text(self.sub.clone().unwrap_or_else(|| all.to_owned())).show_ui(ui, |ui| {
                ui.selectable_value(&mut self.sub, None, all);
                for id in subs {
                    ui.selectable_value(&mut self.sub, Some(id.clone()), id);
                }
            });
            ComboBox::new(("meter_period", &page.key), ctx.tr("Period")).selected_text(ctx.tr(PERIODS[self.period].0)).show_ui(ui, |ui| {
                for (i, (name, _)) in PERIODS.iter().enumerate() {
                    ui.selectable_value(&mut self.period, i, ctx.tr(name));
                }
            });
            if send_button_ui(ui, ctx, page.session, "Query readings") {
                let to = ctx.now_ms;
                let mut data = json!({"from": to - PERIODS[self.period].1, "to": to});
                if let (Some(sub), Some(obj)) = (&self.sub, data.as_object_mut()) {
                    obj.insert("sub".into(), json!(sub));
                }
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "meter", "get", data).with_fresh_id();
                self.sent = spec.id.clone();
                commands.push(UiCommand::Request(spec));
            }
            ui.separator();
            ui.selectable_value(&mut self.view, PeriodView::Chart, ctx.tr("Chart"));
            ui.selectable_value(&mut self.view, PeriodView::Table, ctx.tr("Table"));
        });
    }
}

impl DeviceTab for MetersTab {
    fn id(&self) -> &'static str {
        "meters"
    }

    fn title(&self) -> &'static str {
        "Meters"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let subs: Vec<String> = page.subs.iter().filter(|s| !s.is_gateway).map(|s| s.id.clone()).collect();
        ui.strong(ctx.tr("Latest readings (meter/report)"));
        let with_meters: Vec<_> = page.subs.iter().filter(|s| !s.meters.is_empty()).collect();
        if with_meters.is_empty() {
            ui.weak(ctx.tr("No meter reading yet."));
        } else {
            Grid::new(("meters_latest", &page.key)).num_columns(6).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
                for title in ["", "Sub-device", "Register", "Value", "Unit", "Freeze time"] {
                    ui.label(RichText::new(if title.is_empty() { "" } else { ctx.tr(title) }).strong());
                }
                ui.end_row();
                for sub in with_meters {
                    for m in &sub.meters {
                        let key = SeriesKey::meter(&page.key.pk, &page.key.dev, &sub.id, &m.id);
                        plot_button_ui(ui, ctx, &key, commands);
                        ui.label(RichText::new(&sub.id).monospace());
                        let name = ui.label(&m.name).on_hover_text(&m.id);
                        plot_menu(&name, ctx, &key, commands);
                        ui.label(RichText::new(&m.value).monospace());
                        ui.weak(&m.unit);
                        ui.label(RichText::new(format_local_ms(m.ts)).monospace()).on_hover_text(utc_and_ago(ctx.lang, ctx.now_ms, m.ts));
                        ui.end_row();
                    }
                }
            });
        }
        ui.separator();

        ui.strong(ctx.tr("Readings of a period (meter/get)"));
        self.query_ui(ui, page, ctx, &subs, commands);
        let done = self.sent.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        outcome_ui(ui, ctx, self.sent.as_deref(), done.as_ref());
        // A refused or lost query says so above; only a reply's readings are shown.
        if let Some(r) = done.as_ref().filter(|r| matches!(r.end, RequestEnd::Replied { code: 0, .. })) {
            let product = |sub: &str| page.subs.iter().find(|s| s.id == sub).and_then(|s| s.product.as_ref()).map(|(pk, _)| pk.clone());
            let rows = reading_rows(&r.data, product, ctx.models, ctx.lang);
            ui.weak(fill(ctx.tr("{n} readings"), &[("n", &rows.len().to_string())]));
            match self.view {
                PeriodView::Chart => chart_ui(ui, ctx, &page.key, &rows),
                PeriodView::Table => table_ui(ui, ctx, page, &rows),
            }
        }
    }
}

/// Every reading of the period, a row each.
fn table_ui(ui: &mut egui::Ui, ctx: &ViewContext, page: &DeviceView, rows: &[ReadingRow]) {
    if rows.is_empty() {
        return;
    }
    egui::ScrollArea::vertical().id_salt(("meter_rows", &page.key)).max_height(420.0).show(ui, |ui| {
        Grid::new(("meters_period", &page.key)).num_columns(5).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in ["Sub-device", "Register", "Value", "Unit", "Freeze time"] {
                ui.label(RichText::new(ctx.tr(title)).strong());
            }
            ui.end_row();
            for row in rows {
                ui.label(RichText::new(&row.sub).monospace());
                ui.label(&row.name).on_hover_text(&row.register);
                ui.label(RichText::new(format_number(row.value)).monospace());
                ui.weak(&row.unit);
                ui.add(LocalTime::ms(row.ts).monospace());
                ui.end_row();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_named_and_united_by_the_model() {
        let models = ModelSet::builtin();
        let data = json!({"readings": [
            {"sub": "M1", "ts": 2000, "values": {"EpImp": 12.5}},
            {"sub": "M1", "ts": 1000, "values": {"EpImp": 12.0, "xUnknown": 1.0}},
        ]});
        let rows = reading_rows(&data, |_| Some("PK-METER-3P".into()), &models, Lang::En);
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].register.as_str(), rows[0].ts, rows[1].ts), ("EpImp", 1000, 2000), "by register, then freeze time");
        assert!(!rows[0].unit.is_empty() && rows[0].name != "EpImp", "{:?}", rows[0]);
        assert_eq!((rows[2].name.as_str(), rows[2].unit.as_str()), ("xUnknown", ""));
        assert!(reading_rows(&json!({}), |_| None, &models, Lang::En).is_empty());
    }
}
