//! The selected topic's messages: history list (newest first, a right-click menu per message),
//! payload tabs JSON | Raw | Hex | Diff, with the message's meaning from `annotate`. A payload
//! that is not JSON is shown as text, or as hex when binary. Owns only view state: which message
//! is shown, the A/B picks for the diff, how much of the hex dump is shown, and caches keyed by
//! the store's sequence numbers (a sequence number names one message for good, across clears).

use std::collections::{HashMap, VecDeque};

use egui::{Button, RichText, ScrollArea, Ui};
use serde_json::Value;

use super::actions::{self, RetainedDelete};
use super::annotate::{self, Annotated, Protocol};
use super::diff::{PayloadDiff, diff_payloads};
use super::diff_lines::{DiffLines, ItemNames, diff_lines};
use super::{hex, highlight, payload_view};
use crate::engine::store::StoredMessage;
use crate::protocol::codes;
use crate::protocol::model::Lang;
use crate::protocol::model::matching::GatewayModels;
use crate::ui::ViewContext;
use crate::ui::format::{LocalTime, format_time_of_day, local_and_utc};

/// Height of the history list; the payload gets the rest.
const HISTORY_HEIGHT: f32 = 150.0;
/// Reply codes remembered for history rows; the cache is dropped when it grows past this.
const MAX_CACHED_CODES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Json,
    Raw,
    Hex,
    Diff,
}

/// A diff of messages `a` and `b`, drawn in `lang`.
#[derive(Debug)]
struct DiffCache {
    a: u64,
    b: u64,
    lang: Lang,
    diff: PayloadDiff,
    lines: DiffLines,
}

#[derive(Debug, Default)]
pub struct MessageView {
    /// The topic this state belongs to; another topic starts afresh.
    topic: String,
    /// The message shown; `None` follows the newest.
    picked: Option<u64>,
    tab: Tab,
    diff_a: Option<u64>,
    diff_b: Option<u64>,
    annotated: Option<(u64, Lang, Annotated)>,
    diff: Option<DiffCache>,
    /// Bytes of the hex dump shown, for the message of that sequence number.
    hex_shown: Option<(u64, usize)>,
    /// Reply code per message, for the history rows of reply topics.
    codes: HashMap<u64, Option<i64>>,
    /// The JSON pointer of a field the user asked to plot, until the explorer takes it.
    plot_asked: Option<String>,
}

/// One history row: `22:13:20.123  215 B  QoS 1  retained  truncated  0 ok`.
pub fn history_row_text(m: &StoredMessage, code: Option<i64>, retained: &str, truncated: &str) -> String {
    let mut text = format!("{}  {} B  QoS {}", format_time_of_day(m.received_ms), m.original_len, m.qos);
    if m.retain {
        text = format!("{text}  {retained}");
    }
    if m.truncated {
        text = format!("{text}  {truncated}");
    }
    if let Some(code) = code {
        text.push_str(&format!("  {code} {}", codes::code_name(code)));
    }
    text
}

/// A reply's `code`, read without checking the rest of the envelope.
pub fn reply_code(payload: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Value>(payload).ok()?.get("code")?.as_i64()
}

impl MessageView {
    /// Draws `topic`'s messages, `query` (the search) marked. Returns the retained message the
    /// user asked to delete from a message's right-click menu.
    pub fn ui(&mut self, ui: &mut Ui, ctx: &ViewContext, topic: &str, query: &str) -> Option<RetainedDelete> {
        if self.topic != topic {
            *self = MessageView { topic: topic.to_owned(), tab: if self.tab == Tab::Diff { Tab::Json } else { self.tab }, ..Default::default() };
        }
        // Copy what this frame draws and let the lock go: clones of stored messages share
        // their payload buffers, so this is cheap even for a full history.
        let (history, below) = {
            let store = ctx.state.store();
            match store.find(topic) {
                Some(id) => (store.history(id).clone(), store.node(id).map(|n| (n.topics(), n.messages()))),
                None => (VecDeque::new(), None),
            }
        };

        ui.horizontal(|ui| {
            ui.strong(ctx.tr("Topic"));
            let format = egui::TextFormat {
                font_id: egui::TextStyle::Monospace.resolve(ui.style()),
                color: ui.visuals().text_color(),
                ..Default::default()
            };
            let mut job = egui::text::LayoutJob::default();
            highlight::append(&mut job, topic, query, &format, highlight::mark_color(ui.visuals()));
            ui.add(egui::Label::new(job).selectable(true).truncate());
        });
        if history.is_empty() {
            ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("No messages held"));
            match below {
                Some((topics, messages)) if topics > 0 => {
                    ui.weak(
                        ctx.tr("{topics} topics with {messages} messages below this level")
                            .replace("{topics}", &topics.to_string())
                            .replace("{messages}", &messages.to_string()),
                    );
                }
                _ => {
                    ui.weak(ctx.tr("Its messages were evicted by the store's limits, or the store was cleared."));
                }
            }
            return None;
        }

        // Picks of messages that are gone are let go.
        let held = |seq: Option<u64>| seq.filter(|s| history.iter().any(|m| m.seq == *s));
        self.picked = held(self.picked);
        self.diff_a = held(self.diff_a);
        self.diff_b = held(self.diff_b);
        let shown = self.picked.and_then(|s| history.iter().find(|m| m.seq == s)).or(history.back()).cloned()?;

        let delete = self.history_ui(ui, ctx, &history, shown.seq);
        ui.separator();
        self.meta_ui(ui, ctx, &shown);
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Json, "JSON");
            ui.selectable_value(&mut self.tab, Tab::Raw, ctx.tr("Raw"));
            ui.selectable_value(&mut self.tab, Tab::Hex, ctx.tr("Hex"));
            ui.selectable_value(&mut self.tab, Tab::Diff, ctx.tr("Diff"));
        });
        ui.separator();
        let mut hex_shown = match self.hex_shown {
            Some((seq, bytes)) if seq == shown.seq => bytes,
            _ => hex::HEX_VIEW_LIMIT,
        };
        match self.tab {
            Tab::Json => {
                let annotated = self.annotated(ctx, topic, &shown);
                summary_ui(ui, ctx, annotated);
                if let Some(pointer) = json_ui(ui, ctx, annotated, &shown, query, &mut hex_shown) {
                    self.plot_asked = Some(pointer);
                }
            }
            Tab::Raw => {
                let annotated = self.annotated(ctx, topic, &shown);
                errors_ui(ui, ctx, annotated);
                payload_view::raw_ui(ui, ctx, &shown.payload, query);
            }
            Tab::Hex => payload_view::hex_ui(ui, ctx, &shown.payload, &mut hex_shown),
            Tab::Diff => self.diff_ui(ui, ctx, &history),
        }
        self.hex_shown = Some((shown.seq, hex_shown));
        delete
    }

    /// The field the user asked to plot (a JSON pointer into the shown topic's payloads), once.
    pub fn take_plot_request(&mut self) -> Option<String> {
        self.plot_asked.take()
    }

    fn history_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, history: &VecDeque<StoredMessage>, shown: u64) -> Option<RetainedDelete> {
        ui.horizontal(|ui| {
            ui.strong(ctx.tr("History"));
            ui.weak(ctx.tr("{n} held, newest first").replace("{n}", &history.len().to_string()));
            let follow = ui.add_enabled(self.picked.is_some(), Button::new(ctx.tr("Follow latest")));
            if follow.clicked() {
                self.picked = None;
            }
        });
        let is_reply = ctx.profile.parse(&self.topic).is_ok_and(|t| t.reply);
        let row_height = ui.spacing().interact_size.y;
        let count = history.len();
        let (retained, truncated) = (ctx.tr("retained"), ctx.tr("truncated"));
        let mut picked_both = false;
        let mut delete = None;
        ScrollArea::vertical()
            .id_salt("explorer_history")
            .max_height(HISTORY_HEIGHT)
            .auto_shrink([false, true])
            .show_rows(ui, row_height, count, |ui, range| {
                for row in range {
                    // Newest first.
                    let Some(m) = history.get(count - 1 - row) else { continue };
                    let code = if is_reply { self.code_of(m) } else { None };
                    ui.horizontal(|ui| {
                        let mut a = self.diff_a == Some(m.seq);
                        if ui.checkbox(&mut a, "A").on_hover_text(ctx.tr("Compare: first message")).changed() {
                            self.diff_a = a.then_some(m.seq);
                            picked_both = a && self.diff_b.is_some();
                        }
                        let mut b = self.diff_b == Some(m.seq);
                        if ui.checkbox(&mut b, "B").on_hover_text(ctx.tr("Compare: second message")).changed() {
                            self.diff_b = b.then_some(m.seq);
                            picked_both = b && self.diff_a.is_some();
                        }
                        let text = history_row_text(m, code, retained, truncated);
                        let response =
                            ui.selectable_label(m.seq == shown, RichText::new(text).monospace()).on_hover_text(local_and_utc(m.received_ms));
                        if response.clicked() {
                            // Clicking the newest follows new messages; an older one stays put.
                            self.picked = (m.seq != history.back().map_or(0, |l| l.seq)).then_some(m.seq);
                        }
                        response.context_menu(|ui| {
                            if let Some(asked) = actions::menu_ui(ui, ctx, &self.topic, Some(m)) {
                                delete = Some(asked);
                            }
                        });
                    });
                }
            });
        if picked_both {
            self.tab = Tab::Diff;
        }
        delete
    }

    fn code_of(&mut self, m: &StoredMessage) -> Option<i64> {
        if self.codes.len() > MAX_CACHED_CODES {
            self.codes.clear();
        }
        *self.codes.entry(m.seq).or_insert_with(|| reply_code(&m.payload))
    }

    fn meta_ui(&self, ui: &mut Ui, ctx: &ViewContext, m: &StoredMessage) {
        ui.horizontal_wrapped(|ui| {
            ui.weak(ctx.tr("Received"));
            ui.add(LocalTime::ms(m.received_ms));
            ui.weak(format!("· {} B · QoS {}", m.original_len, m.qos));
            if m.retain {
                ui.weak(format!("· {}", ctx.tr("retained")));
            }
        });
        if m.truncated {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                ctx.tr("Truncated by the store: {kept} of {total} bytes kept")
                    .replace("{kept}", &m.payload.len().to_string())
                    .replace("{total}", &m.original_len.to_string()),
            );
        }
    }

    fn annotated(&mut self, ctx: &ViewContext, topic: &str, m: &StoredMessage) -> &Annotated {
        let fresh = matches!(&self.annotated, Some((seq, lang, _)) if *seq == m.seq && *lang == ctx.lang);
        if !fresh {
            self.annotated = None;
        }
        let (_, _, annotated) = self.annotated.get_or_insert_with(|| {
            // The sub-devices' products as the gateway declared them, when it did.
            let declared = ctx.profile.parse(topic).ok().and_then(|t| {
                let key = crate::engine::GatewayKey { pk: t.pk, dev: t.dev };
                ctx.state.gateways().get(&key).and_then(|g| g.info.as_ref()).and_then(|i| i.subs.clone())
            });
            (m.seq, ctx.lang, annotate::annotate(topic, &m.payload, ctx.profile, ctx.models, declared.as_deref().unwrap_or_default(), ctx.lang))
        });
        annotated
    }

    fn diff_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, history: &VecDeque<StoredMessage>) {
        let find = |seq: Option<u64>| seq.and_then(|s| history.iter().find(|m| m.seq == s));
        let (Some(a), Some(b)) = (find(self.diff_a), find(self.diff_b)) else {
            ui.label(ctx.tr("Tick A and B on two messages of the history to compare them."));
            return;
        };
        ui.horizontal_wrapped(|ui| {
            ui.monospace(format!("A  {}  {} B", format_time_of_day(a.received_ms), a.original_len)).on_hover_text(local_and_utc(a.received_ms));
            ui.monospace("→");
            ui.monospace(format!("B  {}  {} B", format_time_of_day(b.received_ms), b.original_len)).on_hover_text(local_and_utc(b.received_ms));
        });
        let fresh = matches!(&self.diff, Some(c) if c.a == a.seq && c.b == b.seq && c.lang == ctx.lang);
        if !fresh {
            self.diff = Some(self.compute_diff(ctx, a, b));
        }
        if let Some(cache) = &self.diff {
            payload_view::diff_ui(ui, ctx, &cache.diff, &cache.lines);
        }
    }

    /// The diff of `a` and `b`; a CEMS topic's points and meters named by the gateway's models.
    fn compute_diff(&self, ctx: &ViewContext, a: &StoredMessage, b: &StoredMessage) -> DiffCache {
        let cems = ctx.profile.parse(&self.topic).ok();
        let diff = diff_payloads(&a.payload, &b.payload, cems.is_some());
        let lines = match &cems {
            Some(t) => {
                let key = crate::engine::GatewayKey { pk: t.pk.clone(), dev: t.dev.clone() };
                let declared = ctx.state.gateways().get(&key).and_then(|g| g.info.as_ref()).and_then(|i| i.subs.clone()).unwrap_or_default();
                let names = ItemNames { models: GatewayModels::new(ctx.models, &t.pk, &declared), dev: &t.dev, lang: ctx.lang };
                diff_lines(&diff, Some(&names))
            }
            None => diff_lines(&diff, None),
        };
        DiffCache { a: a.seq, b: b.seq, lang: ctx.lang, diff, lines }
    }
}

fn summary_ui(ui: &mut Ui, ctx: &ViewContext, annotated: &Annotated) {
    for note in &annotated.summary {
        ui.colored_label(payload_view::note_color(ui, note), &note.text);
    }
    errors_ui(ui, ctx, annotated);
}

/// Parse errors, above the payload: which field and where. A payload of no known profile need
/// not be JSON: its text or bytes are shown without an error.
fn errors_ui(ui: &mut Ui, ctx: &ViewContext, annotated: &Annotated) {
    let color = ui.visuals().error_fg_color;
    if let Err(e) = &annotated.json
        && annotated.protocol != Protocol::Other
    {
        ui.colored_label(
            color,
            ctx.tr("Not JSON: {message} (line {line}, column {column})")
                .replace("{message}", &e.message)
                .replace("{line}", &e.line.to_string())
                .replace("{column}", &e.column.to_string()),
        );
    }
    for error in &annotated.errors {
        ui.colored_label(color, error);
    }
}

/// Returns the JSON pointer of a field the user asked to plot.
fn json_ui(ui: &mut Ui, ctx: &ViewContext, annotated: &Annotated, m: &StoredMessage, query: &str, hex_shown: &mut usize) -> Option<String> {
    match &annotated.json {
        Ok(value) => {
            return ScrollArea::vertical().id_salt("explorer_json").auto_shrink([false, false]).show(ui, |ui| {
                if !annotated.storage_points.is_empty() {
                    egui::CollapsingHeader::new(
                        ctx.tr("Numeric points ({n})").replace("{n}", &annotated.storage_points.len().to_string()),
                    )
                    .id_salt("explorer_storage_points")
                    .default_open(true)
                    .show(ui, |ui| {
                        egui::Grid::new("explorer_storage_points_grid").striped(true).show(ui, |ui| {
                            for point in &annotated.storage_points {
                                ui.monospace(&point.name);
                                ui.colored_label(ui.visuals().hyperlink_color, point.value.to_string());
                                ui.end_row();
                            }
                        });
                    });
                }
                payload_view::json_tree_ui(ui, ctx, value, &annotated.notes, query)
            })
            .inner;
        }
        // Not JSON: any error is already above; the text, or the bytes, is what there is to see.
        Err(_) if hex::looks_binary(&m.payload) => payload_view::binary_ui(ui, ctx, &m.payload, hex_shown),
        Err(_) => payload_view::raw_ui(ui, ctx, &m.payload, query),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn message(payload: &'static [u8], retain: bool, truncated: bool) -> StoredMessage {
        StoredMessage {
            seq: 1,
            received_ms: 1_700_000_000_123,
            qos: 1,
            retain,
            payload: Bytes::from_static(payload),
            original_len: payload.len() + usize::from(truncated) * 10,
            truncated,
            source: 1,
        }
    }

    #[test]
    fn history_rows_say_time_size_qos_flags_and_code() {
        let m = message(b"{\"id\":\"1\",\"ts\":1,\"code\":9,\"data\":{}}", true, true);
        assert_eq!(history_row_text(&m, reply_code(&m.payload), "retained", "truncated"), "22:13:20.123  46 B  QoS 1  retained  truncated  9 checksum");
        let m = message(b"x", false, false);
        assert_eq!(history_row_text(&m, reply_code(&m.payload), "retained", "truncated"), "22:13:20.123  1 B  QoS 1");
    }
}
