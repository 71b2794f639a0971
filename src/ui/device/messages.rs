//! The device page's Messages tab (contract §6.2): the gateway's free vendor messages
//! (`message/up`, kept in the engine's record) as a table, newest first, filtered by type; and a
//! form to send `message/down`. A `message/down` is a report (no reply), so the tab shows when it
//! went, not an outcome.

use egui::{Button, Grid, RichText, TextEdit};
use serde_json::{Value, json};

use super::tab::DeviceTab;
use super::view::DeviceView;
use crate::engine::{GatewayKey, new_request_id};
use crate::protocol::envelope::PROTOCOL_VERSION;
use crate::protocol::payload::VendorMessage;
use crate::protocol::topic::{CemsTopic, Dir, TopicProfile, publish_qos};
use crate::transport::Message;
use crate::ui::format::{format_ago, format_local_ms, utc_and_ago};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// Rows drawn at most (the newest); the record keeps more.
pub const ROWS_SHOWN: usize = 300;
/// Characters of a message's content shown in its cell; the whole is on hover.
const CONTENT_SHOWN: usize = 160;

/// The Messages tab of one gateway.
#[derive(Debug, Default)]
pub struct MessagesTab {
    /// Only messages whose type contains this text.
    pub filter: String,
    /// The `message/down` form.
    pub down_type: String,
    pub down_content: String,
    /// The last `message/down` sent: (id, when).
    pub last_sent: Option<(String, i64)>,
}

/// A `message/down`'s content: JSON when it parses, else the text as a string.
pub fn content_value(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The `message/down` publish for `key`: topic, envelope (a fresh id), QoS from the contract.
pub fn message_down(profile: &TopicProfile, key: &GatewayKey, message_type: &str, content: Value, now_ms: i64) -> Result<(String, Message), String> {
    let topic = profile.build(&CemsTopic::new(&key.pk, &key.dev, Dir::Down, "message", "down")).map_err(|e| e.to_string())?;
    let id = new_request_id();
    let envelope = json!({"id": id, "ts": now_ms, "ver": PROTOCOL_VERSION, "data": {"type": message_type, "content": content}});
    let payload = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
    Ok((id, Message::new(topic, payload, publish_qos("message", "down", false), false)))
}

impl MessagesTab {
    /// The messages shown, newest first, at most [`ROWS_SHOWN`]; and how many matched.
    pub fn visible<'a>(&self, messages: impl DoubleEndedIterator<Item = &'a (i64, VendorMessage)>) -> (Vec<&'a (i64, VendorMessage)>, usize) {
        let needle = self.filter.trim().to_lowercase();
        let matched: Vec<_> = messages.rev().filter(|(_, m)| needle.is_empty() || m.message_type.to_lowercase().contains(&needle)).collect();
        let total = matched.len();
        (matched.into_iter().take(ROWS_SHOWN).collect(), total)
    }

    fn send_ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.strong(ctx.tr("Send message/down"));
        ui.horizontal(|ui| {
            let label = ui.label(ctx.tr("Message type"));
            ui.add(TextEdit::singleline(&mut self.down_type).id_salt(("message_down_type", &page.key)).desired_width(160.0)).labelled_by(label.id);
        });
        let label = ui.label(ctx.tr("Content (JSON or text)"));
        ui.add(TextEdit::multiline(&mut self.down_content).id_salt(("message_down_content", &page.key)).code_editor().desired_rows(3).desired_width(f32::INFINITY))
            .labelled_by(label.id);
        ui.horizontal(|ui| {
            let allowed = ctx.can_send(page.session);
            let typed = !self.down_type.trim().is_empty();
            let send = ui.add_enabled(allowed.is_ok() && typed, Button::new(RichText::new(ctx.tr("Send message")).strong()));
            if let Err(key) = allowed {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(key));
            } else if !typed {
                ui.weak(ctx.tr("Enter the message's type."));
            }
            if send.clicked() && allowed.is_ok() && typed {
                match message_down(ctx.profile, &page.key, self.down_type.trim(), content_value(&self.down_content), ctx.now_ms) {
                    Ok((id, message)) => {
                        commands.push(UiCommand::Publish { session: page.session, message });
                        self.last_sent = Some((id, ctx.now_ms));
                    }
                    Err(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                }
            }
        });
        if let Some((id, at)) = &self.last_sent {
            ui.weak(fill(ctx.tr("Sent {id} {ago} (a report: the gateway does not reply)"), &[("id", id), ("ago", &format_ago(ctx.lang, ctx.now_ms, *at))]));
        }
    }
}

impl DeviceTab for MessagesTab {
    fn id(&self) -> &'static str {
        "messages"
    }

    fn title(&self) -> &'static str {
        "Messages"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.send_ui(ui, page, ctx, commands);
        ui.separator();
        // Copied out so the engine's lock is not held while drawing.
        let messages: Vec<(i64, VendorMessage)> = ctx.state.gateways().get(&page.key).map(|g| g.vendor_messages.iter().cloned().collect()).unwrap_or_default();
        ui.horizontal(|ui| {
            ui.strong(ctx.tr("Messages from the gateway (message/up)"));
            ui.add(TextEdit::singleline(&mut self.filter).id_salt(("message_filter", &page.key)).hint_text(ctx.tr("Filter: type")).desired_width(160.0))
                .accessible_name(ctx.tr("Filter messages by type"));
        });
        let (rows, matched) = self.visible(messages.iter());
        ui.weak(fill(
            ctx.tr("{shown} of {matched} matching, {total} messages kept"),
            &[("shown", &rows.len().to_string()), ("matched", &matched.to_string()), ("total", &messages.len().to_string())],
        ));
        if messages.is_empty() {
            ui.weak(ctx.tr("No message from the gateway yet."));
            return;
        }
        Grid::new(("vendor_messages", &page.key)).num_columns(3).striped(true).spacing([12.0, 3.0]).show(ui, |ui| {
            for title in [ctx.tr("Time"), ctx.tr("Type"), ctx.tr("Content")] {
                ui.label(RichText::new(title).strong());
            }
            ui.end_row();
            for (at, m) in rows {
                ui.label(RichText::new(format_local_ms(*at)).monospace()).on_hover_text(utc_and_ago(ctx.lang, ctx.now_ms, *at));
                ui.label(RichText::new(&m.message_type).monospace());
                let text = match &m.content {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let shown: String = text.chars().take(CONTENT_SHOWN).collect();
                let shown = if shown.len() < text.len() { format!("{shown}…") } else { shown };
                ui.label(RichText::new(shown).monospace()).on_hover_text(text);
                ui.end_row();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_json_when_it_parses() {
        assert_eq!(content_value(r#"{"a": 1}"#), json!({"a": 1}));
        assert_eq!(content_value("reboot at 3"), json!("reboot at 3"));
    }

    #[test]
    fn message_down_is_a_report_envelope_on_the_contract_topic() {
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        let (id, m) = message_down(&TopicProfile::builtin(), &key, "note", json!("hi"), 5).expect("built");
        assert_eq!(m.topic, "cems/v1/PK/GW/down/message/down");
        let v: Value = serde_json::from_slice(&m.payload).expect("json");
        assert_eq!(v, json!({"id": id, "ts": 5, "ver": "1.0", "data": {"type": "note", "content": "hi"}}));
    }
}
