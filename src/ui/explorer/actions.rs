//! What a right-click on a topic or a message offers: copy its topic, its payload or the whole
//! message as JSON (through egui's clipboard), and delete a retained message. Deleting publishes
//! an empty retained payload (the MQTT way to make a broker drop what it keeps) on the session
//! the message came from, after a confirmation naming topic and session; a read-only session
//! refuses it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use egui::{Button, RichText, Ui};
use serde_json::{Value, json};

use super::hex;
use crate::engine::SessionId;
use crate::engine::store::StoredMessage;
use crate::transport::Message;
use crate::ui::format::format_utc_ms;
use crate::ui::{UiCommand, ViewContext};

/// A retained message the user asked to delete, waiting for the confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedDelete {
    pub topic: String,
    /// The session the message came from, else the default one; `None` without any session.
    pub session: Option<SessionId>,
}

/// What "Copy payload" gives: the text, or the bytes in hex for a binary payload.
pub fn payload_text(payload: &[u8]) -> String {
    if hex::looks_binary(payload) { hex::hex_string(payload) } else { String::from_utf8_lossy(payload).into_owned() }
}

/// A message as one JSON object: topic, flags, when it came, and the payload (as JSON when it
/// is JSON, as a string when it is text, as `payloadBase64` when binary).
pub fn message_json(topic: &str, m: &StoredMessage) -> String {
    let mut out = json!({
        "topic": topic,
        "qos": m.qos,
        "retain": m.retain,
        "received": format_utc_ms(m.received_ms),
        "receivedMs": m.received_ms,
        "bytes": m.original_len,
        "truncated": m.truncated,
    });
    let (key, payload) = if hex::looks_binary(&m.payload) {
        ("payloadBase64", Value::String(BASE64.encode(&m.payload)))
    } else {
        match serde_json::from_slice::<Value>(&m.payload) {
            Ok(value) => ("payload", value),
            Err(_) => ("payload", Value::String(String::from_utf8_lossy(&m.payload).into_owned())),
        }
    };
    if let Some(object) = out.as_object_mut() {
        object.insert(key.to_owned(), payload);
    }
    serde_json::to_string_pretty(&out).unwrap_or_default()
}

/// The right-click menu of `topic`, with `message` (the one clicked, or the topic's latest) when
/// there is one. Returns a delete request when the user picked "Delete retained message…".
pub fn menu_ui(ui: &mut Ui, ctx: &ViewContext, topic: &str, message: Option<&StoredMessage>) -> Option<RetainedDelete> {
    if ui.button(ctx.tr("Copy topic")).clicked() {
        ui.ctx().copy_text(topic.to_owned());
        ui.close();
    }
    let message = message?;
    if ui.button(ctx.tr("Copy payload")).clicked() {
        ui.ctx().copy_text(payload_text(&message.payload));
        ui.close();
    }
    if ui.button(ctx.tr("Copy message as JSON")).clicked() {
        ui.ctx().copy_text(message_json(topic, message));
        ui.close();
    }
    if !message.retain {
        return None;
    }
    ui.separator();
    if ui.button(ctx.tr("Delete retained message…")).clicked() {
        ui.close();
        let session = Some(message.source).filter(|s| ctx.sessions.contains_key(s)).or_else(|| ctx.default_session());
        return Some(RetainedDelete { topic: topic.to_owned(), session });
    }
    None
}

/// The confirmation of `pending`. Returns false once it is answered (deleted or cancelled).
pub fn confirm_ui(ui: &mut Ui, ctx: &ViewContext, pending: &RetainedDelete, commands: &mut Vec<UiCommand>) -> bool {
    let session_name = match pending.session.and_then(|id| ctx.sessions.get(&id)) {
        Some(s) => s.label.clone(),
        None => ctx.tr("no session").to_owned(),
    };
    let allowed = match pending.session {
        Some(session) => ctx.can_send(session),
        None => Err("No session: connect first."),
    };
    let mut open = true;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            RichText::new(
                ctx.tr("Delete the retained message on {topic} (session {session})?")
                    .replace("{topic}", &pending.topic)
                    .replace("{session}", &session_name),
            )
            .strong(),
        );
        ui.weak(ctx.tr("An empty retained message is published on the topic: the broker then drops the one it keeps."));
        if let Err(reason) = allowed {
            ui.colored_label(ui.visuals().error_fg_color, ctx.tr(reason));
        }
        ui.horizontal(|ui| {
            let delete = ui.add_enabled(allowed.is_ok(), Button::new(ctx.tr("Delete retained message")));
            if delete.clicked()
                && let Some(session) = pending.session
            {
                let message = Message::new(pending.topic.clone(), Bytes::new(), 1, true);
                commands.push(UiCommand::Publish { session, message });
                open = false;
            }
            if ui.button(ctx.tr("Cancel")).clicked() {
                open = false;
            }
        });
    });
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &'static [u8], retain: bool) -> StoredMessage {
        StoredMessage {
            seq: 1,
            received_ms: 1_700_000_000_123,
            qos: 1,
            retain,
            payload: Bytes::from_static(payload),
            original_len: payload.len(),
            truncated: false,
            source: 3,
        }
    }

    #[test]
    fn message_json_embeds_json_text_or_base64() {
        let json_message: Value = serde_json::from_str(&message_json("a/b", &message(b"{\"v\": 1}", true))).expect("json");
        assert_eq!(
            json_message,
            json!({"topic": "a/b", "qos": 1, "retain": true, "received": "2023-11-14 22:13:20.123 UTC",
                "receivedMs": 1_700_000_000_123i64, "bytes": 8, "truncated": false, "payload": {"v": 1}})
        );
        let text: Value = serde_json::from_str(&message_json("t", &message(b"hello", false))).expect("json");
        assert_eq!(text["payload"], "hello");
        let binary: Value = serde_json::from_str(&message_json("t", &message(&[0x08, 0x96, 0x01], false))).expect("json");
        assert_eq!(binary["payloadBase64"], "CJYB");
        assert!(binary.get("payload").is_none());
    }

    #[test]
    fn payload_text_is_the_text_or_hex() {
        assert_eq!(payload_text(b"{\"v\": 1}"), "{\"v\": 1}");
        assert_eq!(payload_text(&[0x08, 0x96, 0x01]), "08 96 01");
        assert_eq!(payload_text(b""), "");
    }
}
