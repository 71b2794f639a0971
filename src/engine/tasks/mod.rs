//! Transfer tasks (contract §8): a firmware image or a file pushed to a gateway, which pulls it
//! chunk by chunk (`ota/upgrade`, `file/download`), and a file pulled from a gateway
//! (`file/upload`, then `file/read`).
//!
//! Each task is a small state machine that the engine loop feeds with what happens (commands,
//! replies, the gateway's reports and chunk requests, a timer) and that answers with
//! [`TaskAction`]s for the loop to carry out. It owns no connection and does no I/O, so every
//! path is unit-tested without a link, and the same code runs over MQTT and serial.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;

use super::gateways::GatewayKey;
use super::requests::{DEFAULT_TIMEOUT, RequestOutcome, RequestSpec, SessionId};
use super::transfers::{ServedCounters, TransferKind};
use crate::protocol::codes;
use crate::protocol::envelope::IdGenerator;
use crate::transport::LinkKind;

mod push;
mod types;
mod upload;

pub use types::{FileDownloadSpec, FileUploadSpec, OtaSpec, TaskKind, TransferPhase, TransferProgress, TransferStatus, TransferTable};


pub use crate::protocol::payload::{CHUNK_SIZES, SERIAL_MAX_CHUNK};
pub use types::{DEFAULT_SILENCE, MAX_UPLOAD_BYTES, default_chunk_size};
/// Status events of one task while chunks flow: at most one per this interval (phase changes
/// always go out at once).
const EVENT_EVERY: Duration = Duration::from_millis(100);

/// Checks a chunk size against the contract and, on serial links, against the frame limit.
pub fn check_chunk_size(chunk_size: u32, serial: bool) -> Result<(), String> {
    if !CHUNK_SIZES.contains(&chunk_size) {
        return Err(format!("chunk size {chunk_size} is outside {}..={} bytes (contract §8)", CHUNK_SIZES.start(), CHUNK_SIZES.end()));
    }
    if serial && chunk_size > SERIAL_MAX_CHUNK {
        return Err(format!(
            "chunk size {chunk_size} is too large for a serial link: a chunk reply, base64-encoded, must fit a 65,536-byte frame; use at most {SERIAL_MAX_CHUNK}"
        ));
    }
    Ok(())
}


/// What the engine loop does for the tasks.
#[derive(Debug)]
pub(crate) enum TaskAction {
    /// Send a request (a retry reuses its id) and route its outcome back here.
    Request { spec: RequestSpec, id: String },
    Offer { kind: TransferKind, id: String, data: Bytes, chunk_size: u32 },
    Withdraw { kind: TransferKind, id: String },
    /// Store the status; `event` says whether it also goes out as an event (rate-limited).
    Status { status: TransferStatus, event: bool },
    /// Write an upload atomically off the engine loop; the result comes back to `on_written`.
    Write { id: String, dest: PathBuf, data: Vec<u8> },
}

/// What the session of a task is, as the engine knows it when the task starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionInfo {
    pub kind: LinkKind,
    pub up: bool,
}

/// A request a task waits on: kept to resend it with the same id.
#[derive(Debug, Clone)]
struct Outstanding {
    id: String,
    class: &'static str,
    action: &'static str,
    data: Value,
    step: Step,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Announce,
    Read { offset: u64, length: u32 },
}

/// Bytes per second over a sliding window.
#[derive(Debug, Default)]
struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    const WINDOW: Duration = Duration::from_secs(3);

    fn record(&mut self, now: Instant, position: u64) {
        self.samples.push_back((now, position));
        self.prune(now);
    }

    fn prune(&mut self, now: Instant) {
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(t, _)| now.saturating_duration_since(*t) > Self::WINDOW) {
            self.samples.pop_front();
        }
    }

    /// Measured up to `now`, so a stall shows as a falling rate.
    fn rate(&mut self, now: Instant) -> f64 {
        self.prune(now);
        let (Some((t0, p0)), Some((_, p1))) = (self.samples.front(), self.samples.back()) else { return 0.0 };
        let secs = now.saturating_duration_since(*t0).as_secs_f64();
        if secs < 0.05 { 0.0 } else { p1.saturating_sub(*p0) as f64 / secs }
    }
}

/// One task.
#[derive(Debug)]
struct Task {
    status: TransferStatus,
    silence: Duration,
    /// When the gateway is given up on; `None` while our own link is down (its silence then is
    /// not the gateway's fault).
    deadline: Option<Instant>,
    started: Instant,
    meter: RateMeter,
    last_event: Option<Instant>,
    request: Option<Outstanding>,
    /// Pushes: the image offered under this kind.
    served: Option<TransferKind>,
    /// Pushes: how much of the image the gateway has pulled, as the service last counted it.
    pulled: ServedCounters,
    upload: Option<Upload>,
}

impl Task {
    fn new(status: TransferStatus, silence: Duration, link_up: bool, now: Instant) -> Task {
        Task {
            status,
            silence,
            deadline: link_up.then(|| now + silence),
            started: now,
            meter: RateMeter::default(),
            last_event: None,
            request: None,
            served: None,
            pulled: ServedCounters::default(),
            upload: None,
        }
    }

    /// The gateway (or our link) showed life: its silence starts over.
    fn alive(&mut self, now: Instant) {
        if self.deadline.is_some() {
            self.deadline = Some(now + self.silence);
        }
    }

    fn moved(&mut self, now: Instant, position: u64) {
        self.status.progress.position = position;
        self.meter.record(now, position);
    }

    /// The status to store; an event too when the phase changed (`force`) or enough time passed.
    fn status_action(&mut self, now: Instant, force: bool) -> TaskAction {
        self.status.elapsed = now.saturating_duration_since(self.started);
        let rate = self.meter.rate(now);
        let progress = &mut self.status.progress;
        progress.rate_bps = rate;
        let left = progress.size.saturating_sub(progress.position);
        progress.eta = (rate > 0.0 && !self.status.phase.is_final()).then(|| Duration::from_secs_f64(left as f64 / rate));
        let event = force || self.last_event.is_none_or(|t| now.saturating_duration_since(t) >= EVENT_EVERY);
        if event {
            self.last_event = Some(now);
        }
        TaskAction::Status { status: self.status.clone(), event }
    }

    /// Sends `class/action` and remembers it for retries and for routing its outcome.
    fn request(&mut self, ids: &IdGenerator, class: &'static str, action: &'static str, data: Value, step: Step) -> TaskAction {
        let id = ids.next_id();
        self.request = Some(Outstanding { id: id.clone(), class, action, data: data.clone(), step });
        TaskAction::Request { spec: self.spec(class, action, data), id }
    }

    fn spec(&self, class: &str, action: &str, data: Value) -> RequestSpec {
        let mut spec = RequestSpec::new(self.status.session, &self.status.gateway.pk, &self.status.gateway.dev, class, action, data);
        spec.timeout = self.try_timeout();
        spec
    }

    /// Each try waits the default reply time; the silence deadline bounds the whole step (a
    /// slow `ota/upgrade` reply is waited for up to the silence timeout, resent meanwhile).
    fn try_timeout(&self) -> Duration {
        DEFAULT_TIMEOUT.min(self.silence)
    }

    /// What the task waits for, for a timeout's message.
    fn waiting_for(&self) -> String {
        match (&self.request, &self.status.phase) {
            (Some(r), _) => format!("a reply to {}/{}", r.class, r.action),
            (None, TransferPhase::Running) => "chunk requests or progress".into(),
            (None, TransferPhase::Verifying | TransferPhase::Installing) => "the gateway's result".into(),
            (None, _) => "the gateway".into(),
        }
    }
}

/// The running tasks of an engine.
pub(crate) struct TransferTasks {
    ids: Arc<IdGenerator>,
    tasks: HashMap<String, Task>,
    /// Request id → task id, for the requests tasks sent.
    requests: HashMap<String, String>,
}

impl TransferTasks {
    pub(crate) fn new(ids: Arc<IdGenerator>) -> TransferTasks {
        TransferTasks { ids, tasks: HashMap::new(), requests: HashMap::new() }
    }

    /// The earliest silence deadline, to wake the loop.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.tasks.values().filter_map(|t| t.deadline).min()
    }

    fn invalid(status: TransferStatus, msg: String) -> Vec<TaskAction> {
        let status = TransferStatus { phase: TransferPhase::Invalid { msg }, ..status };
        vec![TaskAction::Status { status, event: true }]
    }

    /// Common checks of a start; the reason it cannot start otherwise.
    fn check_start(&self, id: &str, session: Option<SessionInfo>, session_id: SessionId) -> Result<SessionInfo, String> {
        if id.is_empty() {
            return Err("the task id is empty".into());
        }
        if self.tasks.contains_key(id) {
            return Err(format!("a task with id {id:?} is already running"));
        }
        session.ok_or_else(|| format!("session {session_id} does not exist"))
    }

    /// Registers a started task and returns its first actions.
    fn insert(&mut self, mut task: Task, mut actions: Vec<TaskAction>, now: Instant) -> Vec<TaskAction> {
        if let Some(r) = &task.request {
            self.requests.insert(r.id.clone(), task.status.id.clone());
        }
        actions.insert(0, task.status_action(now, true));
        self.tasks.insert(task.status.id.clone(), task);
        actions
    }

    /// Ends task `id` with `phase`: the image is withdrawn (later chunk requests get code 7).
    fn finish(&mut self, id: &str, phase: TransferPhase, now: Instant) -> Vec<TaskAction> {
        let Some(mut task) = self.tasks.remove(id) else { return Vec::new() };
        if let Some(r) = task.request.take() {
            self.requests.remove(&r.id);
        }
        task.status.phase = phase;
        task.deadline = None;
        let mut actions = Vec::new();
        if let Some(kind) = task.served {
            actions.push(TaskAction::Withdraw { kind, id: id.to_owned() });
        }
        actions.push(task.status_action(now, true));
        actions
    }

    /// Moves a running task to `phase` (no-op when already there).
    fn enter(&mut self, id: &str, phase: TransferPhase, now: Instant) -> Vec<TaskAction> {
        if phase.is_final() {
            return self.finish(id, phase, now);
        }
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        if task.status.phase == phase {
            return vec![task.status_action(now, false)];
        }
        task.status.phase = phase;
        vec![task.status_action(now, true)]
    }

    pub(crate) fn cancel(&mut self, id: &str, now: Instant) -> Vec<TaskAction> {
        self.finish(id, TransferPhase::Cancelled, now)
    }

    /// A request a task sent has ended.
    pub(crate) fn on_request_done(&mut self, outcome: &RequestOutcome, now: Instant) -> Vec<TaskAction> {
        let Some(task_id) = self.requests.remove(&outcome.id) else { return Vec::new() };
        let Some(task) = self.tasks.get_mut(&task_id) else { return Vec::new() };
        let Some(request) = task.request.take_if(|r| r.id == outcome.id) else { return Vec::new() };
        let reply = match &outcome.result {
            Ok(reply) => reply,
            Err(super::requests::RequestFailure::Timeout { .. }) => {
                let silent_too_long = task.deadline.is_some_and(|d| d <= now);
                if silent_too_long {
                    let phase = TransferPhase::TimedOut { after: task.silence, waiting_for: format!("a reply to {}/{}", request.class, request.action) };
                    return self.finish(&task_id, phase, now);
                }
                // A retry reuses the id (§3): the gateway replays its answer if it had one.
                let spec = outcome.retry_spec(request.data.clone(), task.try_timeout());
                self.requests.insert(request.id.clone(), task_id);
                let id = request.id.clone();
                task.request = Some(request);
                return vec![TaskAction::Request { spec, id }];
            }
            Err(other) => return self.finish(&task_id, TransferPhase::Aborted { msg: format!("{}/{}: {other}", request.class, request.action) }, now),
        };
        task.alive(now);
        match request.step {
            Step::Announce if reply.code != codes::OK => {
                let msg = reply.msg.clone().unwrap_or_default();
                self.finish(&task_id, TransferPhase::Refused { code: reply.code, name: reply.name, msg }, now)
            }
            Step::Announce if task.upload.is_some() => self.upload_accepted(&task_id, &reply.data, now),
            Step::Announce => {
                // Chunk requests or progress may have come first and moved it on already.
                if task.status.phase == TransferPhase::Announcing {
                    self.enter(&task_id, TransferPhase::Running, now)
                } else {
                    Vec::new()
                }
            }
            Step::Read { offset, length } => self.upload_read(&task_id, offset, length, reply.code, reply.msg.clone(), &reply.data, now),
        }
    }

    /// The timer: gateways silent past their deadline are given up on.
    pub(crate) fn on_tick(&mut self, now: Instant) -> Vec<TaskAction> {
        let due: Vec<(String, TransferPhase)> = self
            .tasks
            .values()
            .filter(|t| t.deadline.is_some_and(|d| d <= now))
            .map(|t| (t.status.id.clone(), TransferPhase::TimedOut { after: t.silence, waiting_for: t.waiting_for() }))
            .collect();
        due.into_iter().flat_map(|(id, phase)| self.finish(&id, phase, now)).collect()
    }

    /// Our link went down or came back: a gateway cannot be heard meanwhile, so its silence
    /// does not count; it starts over when the link is up again.
    pub(crate) fn on_link(&mut self, session: SessionId, up: bool, now: Instant) {
        for task in self.tasks.values_mut().filter(|t| t.status.session == session) {
            task.deadline = up.then(|| now + task.silence);
        }
    }

    /// The session is gone: its tasks cannot go on.
    pub(crate) fn on_session_closed(&mut self, session: SessionId, now: Instant) -> Vec<TaskAction> {
        let ids: Vec<String> = self.tasks.values().filter(|t| t.status.session == session).map(|t| t.status.id.clone()).collect();
        ids.into_iter().flat_map(|id| self.finish(&id, TransferPhase::Aborted { msg: format!("session {session} closed") }, now)).collect()
    }

}

/// How an upgrade's target reads: `module version`.
fn ota_target(module: &str, version: &str) -> String {
    format!("{module} {version}")
}

/// The part of an upload's state that pushes do not have.
#[derive(Debug)]
struct Upload {
    data: Vec<u8>,
    hasher: sha2::Sha256,
    read_size: u32,
    max_bytes: u64,
    dest: std::path::PathBuf,
}

#[cfg(test)]
mod tests;
