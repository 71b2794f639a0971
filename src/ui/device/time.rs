//! Time (§6.9): the gateway's clock offset and round trip by the four timestamps, N `time/get`
//! exchanges one after another with the medians shown (`engine::clock`, the same arithmetic as
//! the CLI), "Set to laptop time" (`time/set`, then measured again), and the gateway's own
//! `time/sync` requests with our answers.

use egui::Grid;
use serde_json::json;

use super::DeviceTab;
use super::view::DeviceView;
use crate::engine::clock::{ClockMeasurement, DEFAULT_SAMPLES, MAX_SAMPLES, TimeSyncEntry, sample_of_exchange};
use crate::engine::gateways::RequestEnd;
use crate::engine::{GatewayKey, RequestSpec};
use crate::protocol::time::{TimeSample, now_ms};
use crate::ui::format::{LocalTime, format_ago, format_local_ms, format_utc_ms};
use crate::ui::forms::{find_request, outcome_ui, send_button_ui};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// A measurement under way: one exchange at a time, so each is timed alone.
#[derive(Debug, Clone, Default)]
struct Run {
    left: usize,
    pending: Option<String>,
    samples: Vec<TimeSample>,
    /// Measuring the result of a set.
    after_set: bool,
}

/// The Time tab. View state only; the exchanges are in the gateway's request log.
#[derive(Debug)]
pub struct TimeTab {
    pub samples_wanted: usize,
    run: Option<Run>,
    last: Option<ClockMeasurement>,
    /// The `time/set` sent, and the offset measured after it.
    set_id: Option<String>,
    after: Option<ClockMeasurement>,
    error: Option<String>,
}

impl Default for TimeTab {
    fn default() -> Self {
        TimeTab { samples_wanted: DEFAULT_SAMPLES, run: None, last: None, set_id: None, after: None, error: None }
    }
}

impl TimeTab {
    fn start(&mut self, after_set: bool) {
        self.error = None;
        self.run = Some(Run { left: self.samples_wanted.clamp(1, MAX_SAMPLES), pending: None, samples: Vec::new(), after_set });
    }

    /// Moves the measurement on from the request log: takes a finished exchange, sends the next.
    fn advance(&mut self, ctx: &ViewContext, key: &GatewayKey, session: u32, commands: &mut Vec<UiCommand>) {
        let Some(run) = self.run.as_mut() else { return };
        if let Some(id) = run.pending.clone() {
            let Some(done) = find_request(ctx, key, &id) else { return };
            run.pending = None;
            let recorded = ctx.state.gateways().get(key).and_then(|g| g.clock);
            let sample = match &done.end {
                RequestEnd::Replied { code: 0, .. } => sample_of_exchange(&done.data, done.done_ms, recorded),
                RequestEnd::Replied { code, name, msg } => Err(format!("time/get: {code} {name}{}", msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default())),
                RequestEnd::Failed(why) => Err(format!("time/get: {why}")),
            };
            match sample {
                Ok(s) => run.samples.push(s),
                Err(e) => {
                    self.error = Some(e);
                    self.run = None;
                    return;
                }
            }
        }
        if run.left == 0 {
            let after_set = run.after_set;
            let result = ClockMeasurement::from_samples(std::mem::take(&mut run.samples));
            self.run = None;
            if after_set { self.after = result } else { self.last = result }
            return;
        }
        if let Err(why) = ctx.can_send(session) {
            self.error = Some(ctx.tr(why).to_owned());
            self.run = None;
            return;
        }
        // t1 is stamped by the engine as the request goes to the link.
        let spec = RequestSpec::new(session, &key.pk, &key.dev, "time", "get", json!({})).with_fresh_id();
        run.pending = spec.id.clone();
        run.left -= 1;
        commands.push(UiCommand::Request(spec));
    }
}

fn measurement_ui(ui: &mut egui::Ui, ctx: &ViewContext, salt: &str, m: &ClockMeasurement) {
    Grid::new(("clock", salt)).num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
        ui.label(ctx.tr("Offset (gateway − ours)"));
        ui.strong(format!("{:+.0} ms", m.offset_ms));
        ui.end_row();
        ui.label(ctx.tr("Round trip"));
        ui.label(format!("{:.0} ms", m.round_trip_ms));
        ui.end_row();
        ui.label(ctx.tr("Samples"));
        let each: Vec<String> = m.samples.iter().map(|s| format!("{:+.0}/{}", s.offset_ms(), s.round_trip_ms())).collect();
        ui.label(format!("{} ({})", m.samples.len(), each.join(", "))).on_hover_text(ctx.tr("Each exchange"));
        ui.end_row();
    });
}

fn syncs_ui(ui: &mut egui::Ui, ctx: &ViewContext, syncs: &[TimeSyncEntry]) {
    ui.strong(ctx.tr("The gateway's time/sync requests"));
    if syncs.is_empty() {
        ui.weak(ctx.tr("None yet."));
        return;
    }
    Grid::new("time_syncs").num_columns(3).striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        ui.strong(ctx.tr("Gateway sent (its clock)"));
        ui.strong(ctx.tr("Answered at (ours)"));
        ui.strong(ctx.tr("Gateway − ours, one way"));
        ui.end_row();
        for s in syncs.iter().rev() {
            ui.add(LocalTime::ms(s.t1));
            ui.label(format!("{} · {}", format_local_ms(s.received_ms), format_ago(ctx.lang, ctx.now_ms, s.received_ms))).on_hover_text(format_utc_ms(s.received_ms));
            ui.label(format!("{:+} ms", s.t1.saturating_sub(s.received_ms)));
            ui.end_row();
        }
    });
}

impl DeviceTab for TimeTab {
    fn id(&self) -> &'static str {
        "time"
    }

    fn title(&self) -> &'static str {
        "Time"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.advance(ctx, &page.key, page.session, commands);
        let set_done = self.set_id.as_deref().and_then(|id| find_request(ctx, &page.key, id));
        // A set that succeeded is measured again, once.
        if let Some(done) = &set_done
            && matches!(done.end, RequestEnd::Replied { code: 0, .. })
            && self.after.is_none()
            && self.run.is_none()
            && self.error.is_none()
        {
            self.start(true);
            self.advance(ctx, &page.key, page.session, commands);
        }
        ui.horizontal(|ui| {
            ui.label(ctx.tr("Exchanges"));
            ui.add(egui::DragValue::new(&mut self.samples_wanted).range(1..=MAX_SAMPLES));
            if self.run.is_some() {
                ui.spinner();
                ui.weak(ctx.tr("Measuring…"));
            } else if send_button_ui(ui, ctx, page.session, "Measure") {
                self.start(false);
                self.advance(ctx, &page.key, page.session, commands);
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        match &self.last {
            Some(m) => measurement_ui(ui, ctx, "last", m),
            None => {
                ui.weak(ctx.tr("Not measured yet"));
            }
        }
        ui.separator();
        ui.horizontal(|ui| {
            if send_button_ui(ui, ctx, page.session, "Set to laptop time") {
                let spec = RequestSpec::new(page.session, &page.key.pk, &page.key.dev, "time", "set", json!({ "time": now_ms() })).with_fresh_id();
                self.set_id = spec.id.clone();
                self.after = None;
                self.error = None;
                commands.push(UiCommand::Request(spec));
            }
            if let Some(id) = &self.set_id {
                outcome_ui(ui, ctx, Some(id), set_done.as_ref());
            }
        });
        if let Some(before) = set_done.as_ref().and_then(|d| d.data.get("before")).and_then(serde_json::Value::as_i64) {
            ui.label(fill(ctx.tr("Gateway time before the set: {time}"), &[("time", &format_local_ms(before))]));
        }
        if let Some(m) = &self.after {
            ui.strong(ctx.tr("Offset after the set"));
            measurement_ui(ui, ctx, "after", m);
        }
        ui.separator();
        let syncs: Vec<TimeSyncEntry> = ctx.state.gateways().get(&page.key).map(|g| g.time_syncs.iter().copied().collect()).unwrap_or_default();
        syncs_ui(ui, ctx, &syncs);
    }
}
