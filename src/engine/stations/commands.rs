//! Control commands to a station (§11): sent with a fresh `code`, answered on the same topic
//! with the same `code` and `te: "resp"`, or timed out. Other masters' commands seen on the
//! broker are logged too, so their answers are not taken for stray ones.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use crate::protocol::storage::place::StoragePlace;

/// What a face asks: send `d` to `place` on `session`.
#[derive(Debug, Clone)]
pub struct StorageCommandSpec {
    pub session: u32,
    pub place: StoragePlace,
    /// The version segment; `None`: the one the station last used, else the profile's first.
    pub version: Option<String>,
    pub d: Map<String, Value>,
    /// `None`: the profile's answer timeout.
    pub timeout: Option<Duration>,
}

/// Who sent a command seen on the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CommandOrigin {
    Ours,
    Other,
}

/// Where a command stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum CommandState {
    Waiting,
    /// Answered: `result` 0 done, anything else refused with `msg` the reason.
    Answered { result: i64, msg: String, latency_ms: i64, d: Map<String, Value> },
    TimedOut { after_ms: i64 },
    /// Never left: no such session, a read-only or replay session, a closed link.
    NotSent { reason: String },
}

impl CommandState {
    /// `done`, `refused`, `timeout`, `not sent` or `waiting`: the one-word verdict faces print.
    pub fn verdict(&self) -> &'static str {
        match self {
            CommandState::Waiting => "waiting",
            CommandState::Answered { result: 0, .. } => "done",
            CommandState::Answered { .. } => "refused",
            CommandState::TimedOut { .. } => "timeout",
            CommandState::NotSent { .. } => "not sent",
        }
    }
}

/// One command in a station's log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRecord {
    pub code: String,
    pub place: StoragePlace,
    pub topic: String,
    pub d: Map<String, Value>,
    pub origin: CommandOrigin,
    pub sent_ms: i64,
    #[serde(flatten)]
    pub state: CommandState,
    /// Answers after the first (a station that answers twice).
    pub extra_answers: u32,
}

/// How a command of ours ended, for the face that sent it.
pub type StorageCommandOutcome = CommandRecord;

/// A command of ours waiting for its answer.
#[derive(Debug)]
pub(super) struct Pending {
    pub station: StoragePlace,
    pub code: String,
    pub deadline: std::time::Instant,
    pub reply: Option<oneshot::Sender<StorageCommandOutcome>>,
}

/// The `code` of an answer or request as text (it may be a string or a number).
pub fn code_text(code: &Value) -> String {
    match code {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `result` and `msg` of an answer's `d`; a missing or non-integer `result` reads as refused
/// (-1), since nothing says it was done.
pub(super) fn answer_of(d: &Map<String, Value>) -> (i64, String) {
    let result = d.get("result").and_then(Value::as_i64).unwrap_or(-1);
    let msg = match d.get("msg") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None if result == -1 => "the answer has no integer `result`".to_owned(),
        None => String::new(),
    };
    (result, msg)
}
