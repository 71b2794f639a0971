//! The publish panel: send any (topic, payload) over a session, with a helper that fills a CEMS
//! request for a gateway from the contract's table, a live JSON check, QoS 0/1 (the links do not
//! support 2), retain, and the last sent messages to resend.

use std::collections::VecDeque;

use egui::{Button, ComboBox, RichText, ScrollArea, TextEdit, Ui, vec2};
use serde_json::{Value, json};

use super::explorer::annotate::JsonError;
use super::format::format_time_of_day;
use super::{UiCommand, ViewContext};
use crate::engine::SessionId;
use crate::protocol::envelope::{MAX_PAYLOAD_BYTES, PROTOCOL_VERSION};
use crate::protocol::topic::{CemsTopic, Dir, MESSAGES, MessageSpec, publish_qos};
use crate::transport::Message;

/// Sent messages kept for resending.
pub const MAX_SENT_HISTORY: usize = 50;
/// Smallest size the panel is usable at.
pub const MIN_SIZE: egui::Vec2 = vec2(360.0, 420.0);

/// One sent message.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub session: SessionId,
    pub message: Message,
    pub sent_ms: i64,
}

/// What the payload editor holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonCheck {
    /// Nothing but whitespace: an empty payload.
    Empty,
    Valid,
    /// Not JSON; it can still be sent as raw text.
    Invalid(JsonError),
}

pub fn check_json(text: &str) -> JsonCheck {
    if text.trim().is_empty() {
        return JsonCheck::Empty;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(_) => JsonCheck::Valid,
        Err(e) => JsonCheck::Invalid(JsonError::from_serde(&e)),
    }
}

/// Why a topic cannot be published to, as a catalogue key.
pub fn check_topic(topic: &str) -> Result<(), &'static str> {
    use crate::protocol::topic_filter::{TopicNameProblem, check_topic_name};
    match check_topic_name(topic) {
        Err(TopicNameProblem::Empty) => Err("Enter a topic."),
        Err(TopicNameProblem::Wildcard) => Err("A topic to publish to cannot hold the wildcards + or #."),
        Err(TopicNameProblem::Nul) => Err("A topic cannot hold a NUL character."),
        Err(TopicNameProblem::TooLong) => Err("A topic is at most 65535 bytes."),
        Ok(()) => Ok(()),
    }
}

/// The contract's rows the master sends (`down`): requests and downlink reports.
pub fn downlink_messages() -> impl Iterator<Item = &'static MessageSpec> {
    MESSAGES.iter().filter(|m| m.dir == Dir::Down)
}

/// A `data` skeleton for a downlink of the contract (§2 table), with times around `now_ms`.
pub fn data_template(class: &str, action: &str, now_ms: i64) -> Value {
    let hour_ago = now_ms - 3_600_000;
    match (class, action) {
        ("command", "request") => json!({"cmd": "", "params": {}}),
        ("message", "down") => json!({"type": "", "content": ""}),
        ("port", "set") => json!({"ports": [{"portId": "", "params": {}}]}),
        ("point", "get") => json!({"pids": []}),
        ("point", "set") => json!({"sub": "", "pid": "", "value": 0}),
        ("meter", "get") | ("log", "get") | ("history", "get") => json!({"from": hour_ago, "to": now_ms}),
        ("property", "get") => json!({"keys": []}),
        ("property", "set") => json!({"props": {}}),
        ("ota", "upgrade") => json!({"taskId": "", "module": "", "version": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "download") => json!({"fileId": "", "name": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "upload") => json!({"fileId": "", "name": ""}),
        ("file", "read") => json!({"fileId": "", "offset": 0, "length": 4096}),
        ("time", "get") => json!({"t1": now_ms}),
        ("time", "set") => json!({"time": now_ms}),
        ("log", "config") => json!({"level": "info", "upload": true}),
        _ => json!({}),
    }
}

/// A request envelope `{"id", "ts", "ver", "data"}`, pretty-printed for editing.
pub fn envelope_skeleton(id: &str, ts: i64, data: Value) -> String {
    let envelope = json!({"id": id, "ts": ts, "ver": PROTOCOL_VERSION, "data": data});
    serde_json::to_string_pretty(&envelope).unwrap_or_else(|_| envelope.to_string())
}

/// The publish panel.
#[derive(Debug)]
pub struct PublishPanel {
    /// The chosen session; the context's default while none is chosen or it went away.
    session: Option<SessionId>,
    topic: String,
    payload: String,
    qos: u8,
    retain: bool,
    /// Newest first.
    sent: VecDeque<SentMessage>,
    helper_pk: String,
    helper_dev: String,
    /// Index into [`downlink_messages`].
    helper_request: usize,
    helper_error: Option<String>,
    /// Makes filled ids unique within one millisecond.
    filled: u64,
}

impl Default for PublishPanel {
    fn default() -> Self {
        PublishPanel {
            session: None,
            topic: String::new(),
            payload: String::new(),
            qos: 1,
            retain: false,
            sent: VecDeque::new(),
            helper_pk: String::new(),
            helper_dev: String::new(),
            helper_request: 0,
            helper_error: None,
            filled: 0,
        }
    }
}

impl PublishPanel {
    pub fn ui(&mut self, ui: &mut Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let session = self.session_ui(ui, ctx);
        egui::CollapsingHeader::new(ctx.tr("CEMS request helper"))
            .id_salt("publish_helper")
            .default_open(true)
            .show(ui, |ui| self.helper_ui(ui, ctx));
        ui.separator();
        self.editor_ui(ui, ctx, session, commands);
        ui.separator();
        self.sent_ui(ui, ctx, session, commands);
    }

    /// Sent messages, newest first.
    pub fn sent(&self) -> impl Iterator<Item = &SentMessage> {
        self.sent.iter()
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// Fills the editor, e.g. from a topic selected in the explorer.
    pub fn set_message(&mut self, topic: &str, payload: &str, qos: u8, retain: bool) {
        topic.clone_into(&mut self.topic);
        payload.clone_into(&mut self.payload);
        self.qos = qos.min(1);
        self.retain = retain;
    }

    /// Sets the helper's gateway (pk and dev), e.g. from the gateway panel.
    pub fn set_gateway(&mut self, pk: &str, dev: &str) {
        pk.clone_into(&mut self.helper_pk);
        dev.clone_into(&mut self.helper_dev);
    }

    fn session_ui(&mut self, ui: &mut Ui, ctx: &ViewContext) -> Option<SessionId> {
        if self.session.is_some_and(|s| !ctx.sessions.contains_key(&s)) {
            self.session = None;
        }
        let current = self.session.or_else(|| ctx.default_session());
        let text_of = |id: SessionId| {
            ctx.sessions.get(&id).map_or_else(String::new, |s| format!("{} ({})", s.label, s.target))
        };
        ui.horizontal(|ui| {
            if ctx.sessions.is_empty() {
                ui.label(ctx.tr("Session"));
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("No session: connect first."));
                return;
            }
            ComboBox::new("publish_session", ctx.tr("Session"))
                .selected_text(current.map(text_of).unwrap_or_default())
                .show_ui(ui, |ui| {
                    for (id, view) in ctx.sessions {
                        let text = format!("{} ({})", view.label, view.target);
                        if ui.selectable_label(current == Some(*id), text).clicked() {
                            self.session = Some(*id);
                        }
                    }
                });
        });
        current
    }

    fn helper_ui(&mut self, ui: &mut Ui, ctx: &ViewContext) {
        let known: Vec<(String, String)> = ctx.state.gateways().iter().map(|g| (g.key.pk.clone(), g.key.dev.clone())).collect();
        ui.horizontal_wrapped(|ui| {
            if !known.is_empty() {
                ComboBox::new("publish_gateway", ctx.tr("Gateway"))
                    .selected_text(format!("{}/{}", self.helper_pk, self.helper_dev))
                    .show_ui(ui, |ui| {
                        for (pk, dev) in &known {
                            let chosen = self.helper_pk == *pk && self.helper_dev == *dev;
                            if ui.selectable_label(chosen, format!("{pk}/{dev}")).clicked() {
                                self.set_gateway(pk, dev);
                            }
                        }
                    });
            }
            let label = ui.label("pk");
            ui.add(TextEdit::singleline(&mut self.helper_pk).id_salt("publish_pk").desired_width(110.0).hint_text(ctx.tr("product key")))
                .labelled_by(label.id);
            let label = ui.label("dev");
            ui.add(TextEdit::singleline(&mut self.helper_dev).id_salt("publish_dev").desired_width(110.0).hint_text(ctx.tr("device id")))
                .labelled_by(label.id);
        });
        ui.horizontal_wrapped(|ui| {
            let requests: Vec<&MessageSpec> = downlink_messages().collect();
            let name = |m: &MessageSpec| format!("{} {}/{}", m.section, m.class, m.action);
            let current = requests.get(self.helper_request).map(|m| name(m)).unwrap_or_default();
            ComboBox::new("publish_request", ctx.tr("Request"))
                .selected_text(current)
                .height(400.0)
                .show_ui(ui, |ui| {
                    for (i, m) in requests.iter().enumerate() {
                        ui.selectable_value(&mut self.helper_request, i, name(m));
                    }
                });
            if ui.button(ctx.tr("Fill topic and payload")).clicked() {
                self.fill_request(ctx);
            }
        });
        if let Some(error) = &self.helper_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    }

    /// Fills topic, payload, QoS and retain for the helper's gateway and request.
    fn fill_request(&mut self, ctx: &ViewContext) {
        let Some(spec) = downlink_messages().nth(self.helper_request) else { return };
        let topic = CemsTopic::new(self.helper_pk.trim(), self.helper_dev.trim(), Dir::Down, spec.class, spec.action);
        match ctx.profile.build(&topic) {
            Ok(topic) => {
                self.filled += 1;
                let id = format!("wb-{}-{}", ctx.now_ms, self.filled);
                self.topic = topic;
                self.payload = envelope_skeleton(&id, ctx.now_ms, data_template(spec.class, spec.action, ctx.now_ms));
                self.qos = publish_qos(spec.class, spec.action, false).min(1);
                self.retain = false;
                self.helper_error = None;
            }
            Err(e) => self.helper_error = Some(e.to_string()),
        }
    }

    fn editor_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, session: Option<SessionId>, commands: &mut Vec<UiCommand>) {
        let label = ui.label(ctx.tr("Topic"));
        ui.add(
            TextEdit::singleline(&mut self.topic)
                .id_salt("publish_topic")
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace)
                .hint_text("cems/v1/{pk}/{dev}/down/{class}/{action}"),
        )
        .labelled_by(label.id);
        let topic_check = check_topic(&self.topic);
        if let Err(key) = topic_check {
            ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(key));
        }

        let label = ui.label(ctx.tr("Payload"));
        ScrollArea::vertical().id_salt("publish_payload_scroll").max_height(260.0).show(ui, |ui| {
            ui.add(
                TextEdit::multiline(&mut self.payload)
                    .id_salt("publish_payload")
                    .code_editor()
                    .desired_rows(8)
                    .desired_width(f32::INFINITY)
                    .hint_text(ctx.tr("JSON or any text")),
            )
            .labelled_by(label.id);
        });
        match check_json(&self.payload) {
            JsonCheck::Empty => {
                ui.weak(ctx.tr("Empty payload"));
            }
            JsonCheck::Valid => {
                ui.weak(ctx.tr("Valid JSON"));
            }
            JsonCheck::Invalid(e) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    ctx.tr("Not valid JSON: {message} (line {line}, column {column}). It can still be published as raw text.")
                        .replace("{message}", &e.message)
                        .replace("{line}", &e.line.to_string())
                        .replace("{column}", &e.column.to_string()),
                );
            }
        }
        if self.payload.len() > MAX_PAYLOAD_BYTES {
            ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("Larger than the contract's 256 KiB payload limit."));
        }

        ui.horizontal(|ui| {
            ui.label(ctx.tr("QoS"));
            ui.radio_value(&mut self.qos, 0, "0");
            ui.radio_value(&mut self.qos, 1, "1");
            ui.checkbox(&mut self.retain, ctx.tr("Retain"));
        });
        ui.horizontal(|ui| {
            let ready = session.is_some() && topic_check.is_ok();
            let publish = ui.add_enabled(ready, Button::new(RichText::new(ctx.tr("Publish")).strong()));
            if publish.clicked()
                && let Some(session) = session
            {
                let message = Message::new(self.topic.clone(), self.payload.clone().into_bytes(), self.qos, self.retain);
                self.send(session, message, ctx.now_ms, commands);
            }
            if session.is_none() {
                ui.weak(ctx.tr("No session: connect first."));
            }
        });
    }

    fn send(&mut self, session: SessionId, message: Message, now_ms: i64, commands: &mut Vec<UiCommand>) {
        commands.push(UiCommand::Publish { session, message: message.clone() });
        self.sent.push_front(SentMessage { session, message, sent_ms: now_ms });
        self.sent.truncate(MAX_SENT_HISTORY);
    }

    fn sent_ui(&mut self, ui: &mut Ui, ctx: &ViewContext, session: Option<SessionId>, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            ui.strong(ctx.tr("Sent"));
            ui.weak(ctx.tr("{n} kept, newest first").replace("{n}", &self.sent.len().to_string()));
        });
        if self.sent.is_empty() {
            ui.weak(ctx.tr("Nothing sent yet."));
            return;
        }
        let mut resend = None;
        let mut edit = None;
        ScrollArea::vertical().id_salt("publish_sent").auto_shrink([false, true]).show(ui, |ui| {
            for (i, sent) in self.sent.iter().enumerate() {
                ui.horizontal(|ui| {
                    if ui.button(ctx.tr("Resend")).clicked() {
                        resend = Some(i);
                    }
                    if ui.button(ctx.tr("Edit")).on_hover_text(ctx.tr("Copy into the editor")).clicked() {
                        edit = Some(i);
                    }
                    let m = &sent.message;
                    let mut text = format!("{}  {}  {} B  QoS {}", format_time_of_day(sent.sent_ms), m.topic, m.payload.len(), m.qos);
                    if m.retain {
                        text = format!("{text}  {}", ctx.tr("retained"));
                    }
                    ui.add(egui::Label::new(RichText::new(text).monospace()).truncate())
                        .on_hover_text(String::from_utf8_lossy(&m.payload[..m.payload.len().min(2048)]));
                });
            }
        });
        if let Some(entry) = resend.and_then(|i| self.sent.get(i)).cloned() {
            // To the session it went to, if that is still open; else to the current one.
            let target = Some(entry.session).filter(|s| ctx.sessions.contains_key(s)).or(session);
            if let Some(target) = target {
                self.send(target, entry.message, ctx.now_ms, commands);
            }
        }
        if let Some(entry) = edit.and_then(|i| self.sent.get(i)).cloned() {
            let payload = String::from_utf8_lossy(&entry.message.payload).into_owned();
            self.set_message(&entry.message.topic, &payload, entry.message.qos, entry.message.retain);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_check_gives_line_and_column() {
        assert_eq!(check_json("  \n"), JsonCheck::Empty);
        assert_eq!(check_json("{\"a\": [1, 2]}"), JsonCheck::Valid);
        let JsonCheck::Invalid(e) = check_json("{\n  \"a\": 1,\n}") else { panic!("invalid") };
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("trailing comma"), "{}", e.message);
        assert!(matches!(check_json("reboot now"), JsonCheck::Invalid(_)));
    }

    #[test]
    fn topics_with_wildcards_are_refused() {
        assert!(check_topic("cems/v1/PK/GW/down/info/get").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a/+/b").is_err());
        assert!(check_topic("a/#").is_err());
        assert!(check_topic("a\0").is_err());
    }

    #[test]
    fn skeleton_is_an_envelope_in_contract_order() {
        let text = envelope_skeleton("wb-1", 5, data_template("time", "get", 5));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value, json!({"id": "wb-1", "ts": 5, "ver": "1.0", "data": {"t1": 5}}));
        assert!(text.find("\"id\"") < text.find("\"data\""));
        assert!(crate::protocol::envelope::parse_envelope(text.as_bytes()).is_ok());
    }

    #[test]
    fn helper_offers_only_downlinks() {
        let all: Vec<String> = downlink_messages().map(|m| format!("{}/{}", m.class, m.action)).collect();
        assert!(all.contains(&"point/get".to_owned()) && all.contains(&"ota/upgrade".to_owned()));
        assert!(!all.contains(&"point/report".to_owned()) && !all.contains(&"status/".to_owned()));
        for m in downlink_messages() {
            let data = data_template(m.class, m.action, 0);
            let decoded = crate::protocol::payload::decode(m.class, m.action, false, &data);
            // Empty strings may be refused later by a gateway, but the shape fits the contract.
            assert!(decoded.typed.is_ok(), "{}/{}: {:?}", m.class, m.action, decoded.typed);
        }
    }
}
