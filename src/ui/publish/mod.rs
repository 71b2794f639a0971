//! The publish panel: send any (topic, payload) over a session, with a helper that fills a CEMS
//! request for a gateway from its product model and record (`fill.rs`, `template.rs`), a live
//! JSON check, QoS 0/1 (the links do not support 2), retain, and the last sent messages with
//! their replies (`sent.rs`, `sent_list.rs`). A CEMS request goes through the engine's request
//! path, so it is in the request log and its reply is shown beside it; anything else is
//! published as typed, but for the `t1` of a time request, stamped when it is sent (§9).

pub mod fill;
pub mod sent;
pub mod sent_list;
pub mod template;

use std::collections::VecDeque;

use egui::{Button, ComboBox, RichText, ScrollArea, TextEdit, Ui, vec2};

pub use fill::{GatewayFacts, SubFacts, model_template, param_default, spec_default};
pub use sent::{SentMessage, SentRequest, renew_raw, stamp_raw_send_time, stamp_send_time};
pub use template::{JsonCheck, check_json, check_topic, data_template, downlink_messages, envelope_skeleton};

use super::{UiCommand, ViewContext};
use crate::engine::{GatewayKey, SessionId, new_request_id};
use crate::protocol::envelope::{Envelope, MAX_PAYLOAD_BYTES, parse_envelope};
use crate::protocol::topic::{CemsTopic, Dir, MessageKind, MessageSpec, TopicProfile, publish_qos};
use crate::transport::Message;
use sent_list::{RowAction, sent_list_ui};

/// Sent messages kept for resending.
pub const MAX_SENT_HISTORY: usize = 50;
/// Smallest size the panel is usable at.
pub const MIN_SIZE: egui::Vec2 = vec2(360.0, 420.0);

/// The request a (topic, payload) is, when the topic is a CEMS downlink request and the payload
/// a request envelope: its id (a fresh one when empty) and data, a time request's `t1` stamped
/// with `now_ms`.
pub fn as_request(profile: &TopicProfile, topic: &str, payload: &str, now_ms: i64) -> Option<SentRequest> {
    let t = profile.parse(topic).ok()?;
    if t.dir != Dir::Down || t.reply || t.spec().is_none_or(|s| s.kind != MessageKind::Request) {
        return None;
    }
    let Ok(Envelope::Request(r)) = parse_envelope(payload.as_bytes()) else { return None };
    let id = if r.id.trim().is_empty() { new_request_id() } else { r.id };
    let data = stamp_send_time(&t.class, &t.action, r.data, now_ms);
    Some(SentRequest { key: GatewayKey { pk: t.pk, dev: t.dev }, class: t.class, action: t.action, id, data })
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
    /// The sub-device a template names (point, meter); empty: the first one.
    helper_sub: String,
    /// Index into [`downlink_messages`].
    helper_request: usize,
    helper_error: Option<String>,
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
            helper_sub: String::new(),
            helper_request: 0,
            helper_error: None,
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
        self.helper_sub.clear();
    }

    fn session_ui(&mut self, ui: &mut Ui, ctx: &ViewContext) -> Option<SessionId> {
        if self.session.is_some_and(|s| !ctx.sessions.contains_key(&s)) {
            self.session = None;
        }
        let current = self.session.or_else(|| ctx.default_session());
        let text_of = |id: SessionId| ctx.sessions.get(&id).map_or_else(String::new, |s| format!("{} ({})", s.label, s.target));
        ui.horizontal(|ui| {
            if ctx.sessions.is_empty() {
                ui.label(ctx.tr("Session"));
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("No session: connect first."));
                return;
            }
            ComboBox::new("publish_session", ctx.tr("Session")).selected_text(current.map(text_of).unwrap_or_default()).show_ui(ui, |ui| {
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

    fn key(&self) -> GatewayKey {
        GatewayKey { pk: self.helper_pk.trim().to_owned(), dev: self.helper_dev.trim().to_owned() }
    }

    fn helper_ui(&mut self, ui: &mut Ui, ctx: &ViewContext) {
        // Copy out under the read lock, then draw.
        let (known, facts) = {
            let gateways = ctx.state.gateways();
            let known: Vec<(String, String)> = gateways.iter().map(|g| (g.key.pk.clone(), g.key.dev.clone())).collect();
            (known, GatewayFacts::of(&gateways, ctx.models, &self.key()))
        };
        ui.horizontal_wrapped(|ui| {
            if !known.is_empty() {
                ComboBox::new("publish_gateway", ctx.tr("Gateway")).selected_text(format!("{}/{}", self.helper_pk, self.helper_dev)).show_ui(ui, |ui| {
                    for (pk, dev) in &known {
                        let chosen = self.helper_pk == *pk && self.helper_dev == *dev;
                        if ui.selectable_label(chosen, format!("{pk}/{dev}")).clicked() {
                            self.set_gateway(pk, dev);
                        }
                    }
                });
            }
            let label = ui.label("pk");
            ui.add(TextEdit::singleline(&mut self.helper_pk).id_salt("publish_pk").desired_width(110.0).hint_text(ctx.tr("product key"))).labelled_by(label.id);
            let label = ui.label("dev");
            ui.add(TextEdit::singleline(&mut self.helper_dev).id_salt("publish_dev").desired_width(110.0).hint_text(ctx.tr("device id"))).labelled_by(label.id);
            if !facts.subs.is_empty() {
                let shown = if self.helper_sub.is_empty() { facts.subs[0].id.clone() } else { self.helper_sub.clone() };
                ComboBox::new("publish_sub", ctx.tr("Sub-device")).selected_text(shown).show_ui(ui, |ui| {
                    for sub in &facts.subs {
                        ui.selectable_value(&mut self.helper_sub, sub.id.clone(), &sub.id);
                    }
                });
            }
        });
        ui.horizontal_wrapped(|ui| {
            let requests: Vec<&MessageSpec> = downlink_messages().collect();
            let name = |m: &MessageSpec| format!("{} {}/{}", m.section, m.class, m.action);
            let current = requests.get(self.helper_request).map(|m| name(m)).unwrap_or_default();
            ComboBox::new("publish_request", ctx.tr("Request")).selected_text(current).height(400.0).show_ui(ui, |ui| {
                for (i, m) in requests.iter().enumerate() {
                    ui.selectable_value(&mut self.helper_request, i, name(m));
                }
            });
            if ui.button(ctx.tr("Fill topic and payload")).clicked() {
                self.fill_request(ctx, &facts);
            }
        });
        if facts.model.is_none() && !self.helper_pk.trim().is_empty() {
            ui.weak(ctx.tr("No product model for this gateway: the template is the contract's skeleton."));
        }
        if let Some(error) = &self.helper_error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
    }

    /// Fills topic, payload, QoS and retain for the helper's gateway and request.
    fn fill_request(&mut self, ctx: &ViewContext, facts: &GatewayFacts) {
        let Some(spec) = downlink_messages().nth(self.helper_request) else { return };
        let topic = CemsTopic::new(self.helper_pk.trim(), self.helper_dev.trim(), Dir::Down, spec.class, spec.action);
        match ctx.profile.build(&topic) {
            Ok(topic) => match model_template(spec.class, spec.action, facts, Some(&self.helper_sub), ctx.now_ms) {
                Some(data) => {
                    self.topic = topic;
                    self.payload = envelope_skeleton(&new_request_id(), ctx.now_ms, data);
                    self.qos = publish_qos(spec.class, spec.action, false).min(1);
                    self.retain = false;
                    self.helper_error = None;
                }
                None => {
                    let request = format!("{}/{}", spec.class, spec.action);
                    self.helper_error = Some(ctx.tr("Nothing known of this gateway names what {request} needs: load its product model, or type the data.").replace("{request}", &request));
                }
            },
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
        let request = as_request(ctx.profile, &self.topic, &self.payload, ctx.now_ms);
        if request.is_some() {
            ui.weak(ctx.tr("A CEMS request: sent by the engine (id kept, ts and t1 stamped when sent), its reply shown below."));
        }

        ui.horizontal(|ui| {
            ui.label(ctx.tr("QoS"));
            ui.radio_value(&mut self.qos, 0, "0");
            ui.radio_value(&mut self.qos, 1, "1");
            ui.checkbox(&mut self.retain, ctx.tr("Retain"));
        });
        ui.horizontal(|ui| {
            let allowed = session.ok_or("No session: connect first.").and_then(|s| ctx.can_send(s));
            let ready = allowed.is_ok() && topic_check.is_ok();
            let publish = ui.add_enabled(ready, Button::new(RichText::new(ctx.tr("Publish")).strong()));
            if publish.clicked()
                && ready
                && let Some(session) = session
            {
                match request {
                    Some(request) => self.send_request(ctx.profile, session, request, ctx.now_ms, commands),
                    None => {
                        let message = Message::new(self.topic.clone(), self.payload.clone().into_bytes(), self.qos, self.retain);
                        self.send(session, stamp_raw_send_time(ctx.profile, message, ctx.now_ms), ctx.now_ms, commands);
                    }
                }
            }
            if let Err(key) = allowed {
                ui.colored_label(ui.visuals().warn_fg_color, ctx.tr(key));
            }
        });
    }

    fn send(&mut self, session: SessionId, message: Message, now_ms: i64, commands: &mut Vec<UiCommand>) {
        commands.push(UiCommand::Publish { session, message: message.clone() });
        self.remember(SentMessage::raw(session, message, now_ms));
    }

    /// Sends `request` through the engine and keeps it with the envelope as the engine builds it.
    fn send_request(&mut self, profile: &TopicProfile, session: SessionId, request: SentRequest, now_ms: i64, commands: &mut Vec<UiCommand>) {
        let spec = request.spec(session);
        let topic = CemsTopic::new(&request.key.pk, &request.key.dev, Dir::Down, &request.class, &request.action);
        let topic = profile.build(&topic).unwrap_or_else(|_| format!("{}/{}/down/{}/{}", request.key.pk, request.key.dev, request.class, request.action));
        let qos = publish_qos(&request.class, &request.action, false).min(1);
        let message = Message::new(topic, request.envelope(now_ms), qos, false);
        commands.push(UiCommand::Request(spec));
        self.remember(SentMessage { session, message, sent_ms: now_ms, request: Some(request), raw_id: None });
    }

    fn remember(&mut self, sent: SentMessage) {
        self.sent.push_front(sent);
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
        let action = sent_list_ui(ui, ctx, self.sent.iter());
        let (i, retry) = match action {
            None => return,
            Some(RowAction::Edit(i)) => {
                if let Some(entry) = self.sent.get(i).cloned() {
                    let payload = String::from_utf8_lossy(&entry.message.payload).into_owned();
                    self.set_message(&entry.message.topic, &payload, entry.message.qos, entry.message.retain);
                }
                return;
            }
            Some(RowAction::Resend(i)) => (i, false),
            Some(RowAction::Retry(i)) => (i, true),
        };
        let Some(entry) = self.sent.get(i).cloned() else { return };
        // To the session it went to, if that is still open; else to the current one.
        let Some(target) = Some(entry.session).filter(|s| ctx.sessions.contains_key(s)).or(session) else { return };
        if let Err(key) = ctx.can_send(target) {
            self.helper_error = Some(ctx.tr(key).to_owned());
            return;
        }
        // A retry is the same request (its id and data, §3); a resend a new one.
        match entry.request {
            Some(request) if retry => self.send_request(ctx.profile, target, request, ctx.now_ms, commands),
            Some(request) => self.send_request(ctx.profile, target, request.renewed(ctx.now_ms), ctx.now_ms, commands),
            None if retry => self.send(target, entry.message, ctx.now_ms, commands),
            None => self.send(target, renew_raw(ctx.profile, entry.message, ctx.now_ms), ctx.now_ms, commands),
        }
    }
}
