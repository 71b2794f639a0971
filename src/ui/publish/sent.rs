//! What the panel sent, newest first: each message with Resend and Edit; a CEMS request also
//! with Retry (the same id, contract §3) and its reply from the engine's request log beside it
//! (code and name, latency, the data by the model).

use egui::{RichText, ScrollArea, Ui};
use serde_json::Value;

use crate::engine::gateways::RequestRecord;
use crate::engine::{GatewayKey, RequestSpec, SessionId, new_request_id};
use crate::protocol::model::ParamDef;
use crate::transport::Message;
use crate::ui::format::format_time_of_day;
use crate::ui::forms::{outcome_ui, reply_data_ui};
use crate::ui::ViewContext;

/// A request sent through the engine's request path, so its reply is correlated and logged.
#[derive(Debug, Clone, PartialEq)]
pub struct SentRequest {
    pub key: GatewayKey,
    pub class: String,
    pub action: String,
    pub id: String,
    pub data: Value,
}

impl SentRequest {
    /// The engine's request for it, on `session`, with this id.
    pub fn spec(&self, session: SessionId) -> RequestSpec {
        let mut spec = RequestSpec::new(session, &self.key.pk, &self.key.dev, &self.class, &self.action, self.data.clone());
        spec.id = Some(self.id.clone());
        spec
    }

    /// The same request with a fresh id and, if it carries one, a fresh `t1` (a Resend).
    pub fn renewed(&self, now_ms: i64) -> SentRequest {
        SentRequest { id: new_request_id(), data: stamp_t1(self.data.clone(), now_ms), ..self.clone() }
    }
}

/// `data` with its `t1` (a `time/get`'s send time, §9) set to `now_ms`; the engine stamps it
/// again as the request goes to the link.
pub fn stamp_t1(mut data: Value, now_ms: i64) -> Value {
    if let Some(t1) = data.as_object_mut().and_then(|o| o.get_mut("t1")) {
        *t1 = Value::from(now_ms);
    }
    data
}

/// One sent message.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub session: SessionId,
    /// What went out (for a request, the envelope as the engine builds it, give or take `ts`).
    pub message: Message,
    pub sent_ms: i64,
    /// Set when it went as a CEMS request.
    pub request: Option<SentRequest>,
}

/// What the user asked of a row.
pub enum RowAction {
    Resend(usize),
    Retry(usize),
    Edit(usize),
}

/// The finished request of each row (a retry's own, not its first try's), under one lock.
fn replies(ctx: &ViewContext, sent: &[&SentMessage]) -> Vec<Option<RequestRecord>> {
    let gateways = ctx.state.gateways();
    sent.iter()
        .map(|s| {
            let r = s.request.as_ref()?;
            gateways.get(&r.key)?.requests.iter().rev().find(|rec| rec.id == r.id && rec.done_ms >= s.sent_ms).cloned()
        })
        .collect()
}

/// The model's outputs of the command a request ran, to render its reply.
fn command_outputs(ctx: &ViewContext, r: &SentRequest) -> Vec<ParamDef> {
    if r.class != "command" {
        return Vec::new();
    }
    let cmd = r.data.get("cmd").and_then(Value::as_str).unwrap_or_default();
    ctx.models.iter().flat_map(|d| d.model().commands.iter()).find(|c| c.id == cmd).map(|c| c.output.clone()).unwrap_or_default()
}

/// Draws the list; returns what was clicked.
pub fn sent_list_ui<'a>(ui: &mut Ui, ctx: &ViewContext, sent: impl Iterator<Item = &'a SentMessage>) -> Option<RowAction> {
    let sent: Vec<&SentMessage> = sent.collect();
    let replies = replies(ctx, &sent);
    let mut action = None;
    ScrollArea::vertical().id_salt("publish_sent").auto_shrink([false, true]).show(ui, |ui| {
        for (i, (entry, reply)) in sent.iter().zip(&replies).enumerate() {
            ui.horizontal(|ui| {
                if ui.button(ctx.tr("Resend")).on_hover_text(ctx.tr("Send again with a fresh id and time")).clicked() {
                    action = Some(RowAction::Resend(i));
                }
                if entry.request.is_some() && ui.button(ctx.tr("Retry")).on_hover_text(ctx.tr("Send again with the same id (a retry, contract §3)")).clicked() {
                    action = Some(RowAction::Retry(i));
                }
                if ui.button(ctx.tr("Edit")).on_hover_text(ctx.tr("Copy into the editor")).clicked() {
                    action = Some(RowAction::Edit(i));
                }
                let m = &entry.message;
                let mut text = format!("{}  {}  {} B  QoS {}", format_time_of_day(entry.sent_ms), m.topic, m.payload.len(), m.qos);
                if m.retain {
                    text = format!("{text}  {}", ctx.tr("retained"));
                }
                ui.add(egui::Label::new(RichText::new(text).monospace()).truncate()).on_hover_text(String::from_utf8_lossy(&m.payload[..m.payload.len().min(2048)]));
            });
            if let Some(request) = &entry.request {
                ui.indent(("publish_reply", i), |ui| {
                    ui.weak(format!("id {}", request.id));
                    outcome_ui(ui, ctx, Some(&request.id), reply.as_ref());
                    if let Some(r) = reply.as_ref().filter(|r| r.data.as_object().is_some_and(|o| !o.is_empty())) {
                        reply_data_ui(ui, ctx, ("publish_reply_data", i), &command_outputs(ctx, request), &r.data);
                    }
                });
            }
        }
    });
    action
}
