//! The sent list, newest first: each message with Resend and Edit, one that carries an id also
//! with Retry, and a CEMS request with its reply from the engine's request log beside it (code
//! and name, latency, the data by the model).

use std::collections::HashMap;

use egui::{RichText, ScrollArea, Ui};
use serde_json::Value;

use super::sent::{SentMessage, SentRequest};
use crate::engine::GatewayKey;
use crate::engine::gateways::{GatewayRecord, Gateways, RequestRecord};
use crate::protocol::model::{ModelSet, ParamDef};
use crate::ui::ViewContext;
use crate::ui::format::format_time_of_day;
use crate::ui::forms::{outcome_ui, reply_data_ui};

/// What the user asked of a row.
pub enum RowAction {
    Resend(usize),
    Retry(usize),
    Edit(usize),
}

/// The finished request of each row (given newest first), with the command outputs to render
/// its data by. Every send of an id ends as one record, in the order sent (a retry first ends
/// the try it supersedes), so the rows of one id take its records in turn, oldest first: a
/// retry shows its own reply, never the "superseded" of the try before it.
fn replies(gateways: &Gateways, models: &ModelSet, sent: &[&SentMessage]) -> Vec<Option<(RequestRecord, Vec<ParamDef>)>> {
    // Oldest first within each (gateway, id).
    let mut rows_of: HashMap<(&GatewayKey, &str), Vec<usize>> = HashMap::new();
    for (i, s) in sent.iter().enumerate().rev() {
        if let Some(r) = &s.request {
            rows_of.entry((&r.key, &r.id)).or_default().push(i);
        }
    }
    let mut found = vec![None; sent.len()];
    for ((key, id), rows) in rows_of {
        let Some(record) = gateways.get(key) else { continue };
        let mut rows = rows.into_iter().peekable();
        for rec in record.requests.iter().filter(|rec| rec.id == id) {
            let Some(&row) = rows.peek() else { break };
            let request = sent[row].request.as_ref();
            if rec.done_ms >= sent[row].sent_ms && request.is_some_and(|r| r.class == rec.class && r.action == rec.action) {
                let outputs = request.map(|r| command_outputs(models, record, r)).unwrap_or_default();
                found[row] = Some((rec.clone(), outputs));
                rows.next();
            }
        }
    }
    found
}

/// The outputs of the command a request ran, from the model of the device it named (its `sub`
/// as the gateway declared it, else the gateway), else any model that has the command.
fn command_outputs(models: &ModelSet, record: &GatewayRecord, r: &SentRequest) -> Vec<ParamDef> {
    if r.class != "command" {
        return Vec::new();
    }
    let cmd = r.data.get("cmd").and_then(Value::as_str).unwrap_or_default();
    let product = match r.data.get("sub").and_then(Value::as_str) {
        Some(sub) => record.info.iter().flat_map(|i| i.subs.iter().flatten()).find(|s| s.sub == sub).map(|s| s.product_key.as_str()),
        None => Some(r.key.pk.as_str()),
    };
    let named = product.and_then(|pk| models.get(pk)).and_then(|d| d.model().command(cmd));
    let any = || models.iter().find_map(|d| d.model().command(cmd));
    named.or_else(any).map(|c| c.output.clone()).unwrap_or_default()
}

/// Draws the list; returns what was clicked.
pub fn sent_list_ui<'a>(ui: &mut Ui, ctx: &ViewContext, sent: impl Iterator<Item = &'a SentMessage>) -> Option<RowAction> {
    let sent: Vec<&SentMessage> = sent.collect();
    // Copied out under the read lock, then drawn.
    let replies = replies(&ctx.state.gateways(), ctx.models, &sent);
    let mut action = None;
    ScrollArea::vertical().id_salt("publish_sent").auto_shrink([false, true]).show(ui, |ui| {
        for (i, (entry, reply)) in sent.iter().zip(&replies).enumerate() {
            ui.horizontal(|ui| {
                if ui.button(ctx.tr("Resend")).on_hover_text(ctx.tr("Send again with a fresh id and time")).clicked() {
                    action = Some(RowAction::Resend(i));
                }
                if entry.id().is_some() && ui.button(ctx.tr("Retry")).on_hover_text(ctx.tr("Send again with the same id (a retry, contract §3)")).clicked() {
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
            let Some(id) = entry.id() else { continue };
            ui.indent(("publish_reply", i), |ui| {
                ui.weak(format!("id {id}"));
                if entry.request.is_none() {
                    return;
                }
                let reply = reply.as_ref();
                outcome_ui(ui, ctx, Some(id), reply.map(|(r, _)| r));
                if let Some((r, outputs)) = reply.filter(|(r, _)| r.data.as_object().is_some_and(|o| !o.is_empty())) {
                    reply_data_ui(ui, ctx, ("publish_reply_data", i), outputs, &r.data);
                }
            });
        }
    });
    action
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::gateways::RequestEnd;
    use crate::engine::requests::ReplyInfo;
    use crate::engine::{RequestFailure, RequestOutcome};
    use crate::transport::Message;

    fn row(id: &str, sent_ms: i64) -> SentMessage {
        let request = SentRequest { key: GatewayKey { pk: "PK".into(), dev: "GW".into() }, class: "info".into(), action: "get".into(), id: id.into(), data: json!({}) };
        SentMessage { session: 1, message: Message::new("t", request.envelope(sent_ms), 1, false), sent_ms, request: Some(request), raw_id: None }
    }

    fn end(gateways: &mut Gateways, id: &str, result: Result<ReplyInfo, RequestFailure>, done_ms: i64) {
        let outcome = RequestOutcome { id: id.into(), session: 1, pk: "PK".into(), dev: "GW".into(), class: "info".into(), action: "get".into(), result, latency_ms: 3.0 };
        gateways.log_request(&outcome, done_ms);
    }

    fn ends(gateways: &Gateways, sent: &[&SentMessage]) -> Vec<Option<RequestEnd>> {
        replies(gateways, &ModelSet::new(), sent).into_iter().map(|r| r.map(|(rec, _)| rec.end)).collect()
    }

    #[test]
    fn each_try_of_an_id_shows_its_own_end() {
        let mut gateways = Gateways::new();
        gateways.announce(&GatewayKey { pk: "PK".into(), dev: "GW".into() }, 1, 0);
        // An older request of the same id, before the panel sent anything, is none of its rows'.
        end(&mut gateways, "a", Err(RequestFailure::Timeout { after_ms: 10 }), 50);
        let (first, retry, other) = (row("a", 100), row("a", 200), row("b", 150));
        let sent = [&retry, &other, &first];
        // The retry went while the first try waited: the first ends superseded, the retry waits.
        end(&mut gateways, "a", Err(RequestFailure::Superseded), 200);
        assert_eq!(ends(&gateways, &sent), [None, None, Some(RequestEnd::Failed(RequestFailure::Superseded))]);
        end(&mut gateways, "a", Ok(ReplyInfo { code: 0, name: "ok", msg: None, data: json!({"fw": "1"}) }), 260);
        let shown = ends(&gateways, &sent);
        assert!(matches!(shown[0], Some(RequestEnd::Replied { code: 0, .. })), "the retry's own reply: {shown:?}");
        assert_eq!(shown[1], None, "another id is not answered by it");
        assert_eq!(shown[2], Some(RequestEnd::Failed(RequestFailure::Superseded)));
    }
}
