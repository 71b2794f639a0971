//! What a case works with: the engine, the target, its budget, and its evidence. Every request
//! and every message a case looks at goes through here, so the evidence is complete.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::catalogue::{CaseDef, CaseText, why};
use super::model::{AlarmTested, Evidence, EvidenceKind, TransferResult};
use super::options::{ManualAnswer, ManualPrompt, RunOptions};
use crate::engine::requests::ReplyInfo;
use crate::engine::{EngineHandle, GatewayKey, RequestFailure, RequestSpec, SessionId, new_request_id};
use crate::protocol::time::now_ms;
use crate::protocol::topic::{CemsTopic, Dir};
use crate::transport::Message;

/// Longest payload excerpt kept in evidence, characters.
const EXCERPT_CHARS: usize = 400;
/// How often waits look at the store again.
const POLL: Duration = Duration::from_millis(50);

/// A message from the topic store.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub topic: String,
    pub received_ms: i64,
    pub retain: bool,
    pub payload: Bytes,
}

impl Seen {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.payload).ok()
    }
}

/// What the run gathers beside the verdicts.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub clock: Option<(f64, i64)>,
    pub alarms: Vec<AlarmTested>,
    pub transfers: Vec<TransferResult>,
    pub restored: Vec<String>,
    /// Requests in a row without a reply: past a few, the gateway is taken as gone.
    pub unanswered_streak: u32,
    /// When the run began (our clock): alarms heard since then count as the run's.
    pub run_started_ms: i64,
}

pub(crate) struct Ctx<'a> {
    pub handle: &'a EngineHandle,
    pub session: SessionId,
    pub key: GatewayKey,
    pub options: &'a RunOptions,
    pub def: &'a CaseDef,
    pub facts: &'a mut Facts,
    pub evidence: Vec<Evidence>,
    started: Instant,
    pub started_ms: i64,
    budget: Duration,
}

impl<'a> Ctx<'a> {
    pub fn new(handle: &'a EngineHandle, session: SessionId, key: GatewayKey, options: &'a RunOptions, def: &'a CaseDef, facts: &'a mut Facts, budget: Duration) -> Self {
        Ctx { handle, session, key, options, def, facts, evidence: Vec::new(), started: Instant::now(), started_ms: now_ms(), budget }
    }

    pub fn pk(&self) -> &str {
        &self.key.pk
    }

    pub fn dev(&self) -> &str {
        &self.key.dev
    }

    /// What is left of the case's budget (waits for reports use it).
    pub fn budget_left(&self) -> Duration {
        self.budget.saturating_sub(self.started.elapsed())
    }

    fn at_ms(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    pub fn note(&mut self, text: impl Into<String>) {
        let at_ms = self.at_ms();
        self.evidence.push(Evidence { at_ms, kind: EvidenceKind::Note, topic: String::new(), excerpt: text.into(), latency_ms: None });
    }

    fn push(&mut self, kind: EvidenceKind, topic: String, excerpt: String, latency_ms: Option<f64>) {
        let at_ms = self.at_ms();
        self.evidence.push(Evidence { at_ms, kind, topic, excerpt: cut(&excerpt), latency_ms });
    }

    /// A topic of this gateway.
    pub fn topic(&self, dir: Dir, class: &str, action: &str) -> String {
        let t = CemsTopic::new(self.pk(), self.dev(), dir, class, action);
        self.handle.profile.build(&t).unwrap_or_else(|_| format!("cems/v1/{}/{}/{}/{class}/{action}", self.pk(), self.dev(), if dir == Dir::Up { "up" } else { "down" }))
    }

    /// Sends a request (fresh id unless `id` is given) and waits for its reply within the
    /// run's reply timeout. The error says why there is no reply, and where a stray answer
    /// with the same id went, if one came on another topic.
    pub async fn request_with_id(&mut self, class_action: &str, data: Value, id: Option<String>, timeout: Option<Duration>) -> (String, Result<ReplyInfo, CaseText>) {
        let (class, action) = class_action.split_once('/').unwrap_or((class_action, ""));
        let id = id.unwrap_or_else(new_request_id);
        let mut spec = RequestSpec::new(self.session, self.pk(), self.dev(), class, action, data.clone());
        spec.timeout = timeout.unwrap_or(self.options.reply_timeout);
        spec.id = Some(id.clone());
        let topic = self.topic(Dir::Down, class, action);
        self.push(EvidenceKind::Sent, topic.clone(), format!("id {id}: {data}"), None);
        let outcome = match self.handle.call(spec).await {
            Ok(outcome) => outcome,
            Err(_) => return (id, Err(engine_stopped(class_action))),
        };
        let reply_topic = format!("{}/reply", self.topic(Dir::Up, class, action));
        match outcome.result {
            Ok(reply) => {
                self.facts.unanswered_streak = 0;
                let excerpt = format!("id {id}: code {} ({}){} {}", reply.code, reply.name, reply.msg.as_deref().map(|m| format!(" {m:?}")).unwrap_or_default(), reply.data);
                self.push(EvidenceKind::Received, reply_topic, excerpt, Some(outcome.latency_ms));
                (id, Ok(reply))
            }
            Err(failure) => {
                if matches!(failure, RequestFailure::Timeout { .. }) {
                    self.facts.unanswered_streak += 1;
                }
                let mut reason = failure_text(class_action, &failure, &reply_topic);
                if let Some(stray) = self.stray_reply(&id, &reply_topic) {
                    let stray_topic = &stray.topic;
                    reason.en.push_str(&format!("; a message with this id came on {stray_topic} instead"));
                    reason.zh.push_str(&format!("；带此 id 的消息却出现在 {stray_topic} 上"));
                    self.push(EvidenceKind::Received, stray.topic.clone(), String::from_utf8_lossy(&stray.payload).into_owned(), None);
                }
                self.note(reason.en.clone());
                (id, Err(reason))
            }
        }
    }

    pub async fn request(&mut self, class_action: &str, data: Value) -> Result<ReplyInfo, CaseText> {
        self.request_with_id(class_action, data, None, None).await.1
    }

    /// A reply the case needs with code 0: its data, or the reason it is not.
    pub async fn request_ok(&mut self, class_action: &str, data: Value) -> Result<Value, CaseText> {
        let reply = self.request(class_action, data).await?;
        if reply.code == 0 {
            Ok(reply.data)
        } else {
            let msg = reply.msg.unwrap_or_default();
            Err(why!("{class_action}: code {code} ({name}) {msg}", "{class_action}：应答代码 {code}（{name}）{msg}", code = reply.code, name = reply.name))
        }
    }

    /// A message carrying `id` anywhere under the gateway's topics but `expected`.
    fn stray_reply(&self, id: &str, expected: &str) -> Option<Seen> {
        let needle = format!("\"{id}\"");
        let root = format!("cems/v1/{}/{}", self.pk(), self.dev());
        self.messages_under(&root, self.started_ms - 1).into_iter().find(|m| m.topic != expected && m.payload.windows(needle.len()).any(|w| w == needle.as_bytes()))
    }

    /// Publishes raw bytes (a malformed envelope).
    pub fn publish_raw(&mut self, topic: &str, payload: Vec<u8>) -> Result<(), CaseText> {
        self.push(EvidenceKind::Sent, topic.to_owned(), String::from_utf8_lossy(&payload).into_owned(), None);
        self.handle.publish(self.session, Message::new(topic, payload, 1, false)).map_err(|_| engine_stopped(topic))
    }

    /// Messages held for exactly `topic`, received at or after `since_ms` (our clock).
    pub fn messages_on(&self, topic: &str, since_ms: i64) -> Vec<Seen> {
        let store = self.handle.state.store();
        let Some(node) = store.find(topic) else { return Vec::new() };
        store
            .history(node)
            .iter()
            .filter(|m| m.received_ms >= since_ms)
            .map(|m| Seen { topic: topic.to_owned(), received_ms: m.received_ms, retain: m.retain, payload: m.payload.clone() })
            .collect()
    }

    /// Messages held under `prefix` (every level below it), received at or after `since_ms`.
    pub fn messages_under(&self, prefix: &str, since_ms: i64) -> Vec<Seen> {
        let store = self.handle.state.store();
        let Some(start) = store.find(prefix) else { return Vec::new() };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            stack.extend(store.children(node));
            let Some(topic) = store.path_of(node) else { continue };
            out.extend(store.history(node).iter().filter(|m| m.received_ms >= since_ms).map(|m| Seen { topic: topic.clone(), received_ms: m.received_ms, retain: m.retain, payload: m.payload.clone() }));
        }
        out
    }

    /// Waits (within the case's budget and `limit`) for a message on `topic` since `since_ms`
    /// that `pick` accepts; records it as evidence.
    pub async fn wait_message(&mut self, topic: &str, since_ms: i64, limit: Duration, mut pick: impl FnMut(&Seen) -> bool) -> Option<Seen> {
        let deadline = Instant::now() + limit.min(self.budget_left());
        loop {
            if let Some(found) = self.messages_on(topic, since_ms).into_iter().find(|m| pick(m)) {
                self.push(EvidenceKind::Received, found.topic.clone(), String::from_utf8_lossy(&found.payload).into_owned(), None);
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls `check` on the gateway table until it gives something, within `limit`.
    pub async fn wait_until<T>(&self, limit: Duration, mut check: impl FnMut(&crate::engine::GatewayRecord) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + limit.min(self.budget_left());
        loop {
            let found = self.handle.state.gateways().get(&self.key).and_then(&mut check);
            if found.is_some() {
                return found;
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Asks the person for the case's manual step; false when nobody is there or it was skipped.
    pub async fn manual(&mut self) -> bool {
        let Some(text) = self.def.manual.clone() else { return true };
        let Some(ask) = self.options.interactive.clone() else {
            self.note("manual step not done: non-interactive run");
            return false;
        };
        self.note(format!("manual step asked: {}", text.en));
        let answer = ask(ManualPrompt { case_id: self.def.id.clone(), text }).await;
        let done = answer == Ok(ManualAnswer::Done);
        self.note(if done { "manual step done" } else { "manual step skipped" });
        done
    }
}

/// `what` could not go out: the engine is gone (the workbench is closing).
pub(crate) fn engine_stopped(what: &str) -> CaseText {
    why!("{what}: the engine has stopped", "{what}：引擎已停止")
}

/// Why a request got no reply, in both languages.
fn failure_text(class_action: &str, failure: &RequestFailure, reply_topic: &str) -> CaseText {
    let zh = match failure {
        RequestFailure::Timeout { after_ms } => format!("{after_ms} ms 内无应答"),
        RequestFailure::NoSession(session) => format!("会话 {session} 不存在"),
        RequestFailure::LinkClosed(msg) => format!("连接已关闭：{msg}"),
        RequestFailure::Encode(msg) => format!("无法发送：{msg}"),
        RequestFailure::Superseded => "已被同一 id 的重发取代".to_owned(),
        RequestFailure::ReadOnly(session) => format!("会话 {session} 为只读：不发送任何消息"),
    };
    why!("{class_action}: {failure} on {reply_topic}", "{class_action}：{zh}（应答主题 {reply_topic}）")
}

/// At most [`EXCERPT_CHARS`] characters, with an ellipsis when cut.
fn cut(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
