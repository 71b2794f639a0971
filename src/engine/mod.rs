//! The asynchronous heart of the workbench, with no egui in it.
//!
//! `Engine::spawn(notify)` starts one task that owns every connection (sessions over MQTT or
//! serial links), correlates requests with replies, plays the master's part (acknowledging
//! alarms and history, answering `time/sync`), tracks the gateways it sees and fills the bounded
//! message store. The GUI and the CLI are two faces of it: they send [`EngineCommand`]s through
//! an [`EngineHandle`], read the shared store and gateway table, and drain [`EngineEvent`]s in
//! batches from [`EngineEvents`]; `notify` is called after each batch so a GUI can repaint.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::protocol::envelope::IdGenerator;
use crate::protocol::topic::TopicProfile;
use crate::transport::{LinkConfig, Message};

mod api;
pub mod clock;
mod core;
mod discovery;
pub mod gateways;
pub mod history;
pub mod notice;
pub mod prefetch;
pub mod recording;
pub mod requests;
pub mod series;
pub mod stations;
pub mod store;
mod taps;
pub mod tasks;
pub mod transfers;

pub use gateways::{GatewayKey, GatewayRecord, Gateways};
/// The discovery rate (how fast newly announced gateways are asked who they are).
pub mod discovery_limits {
    pub use super::discovery::{BURST, QUEUE_CAPACITY, RATE_PER_SEC};
}
pub use api::{EngineCommand, EngineConfig, EngineEvent, SessionOptions, SharedState};
pub use requests::{DEFAULT_TIMEOUT, RequestFailure, RequestOutcome, RequestSpec, SessionId, new_request_id};
pub use tasks::{FileDownloadSpec, FileUploadSpec, OtaSpec, TaskKind, TransferPhase, TransferProgress, TransferStatus, TransferTable};

/// The sending side of the engine; cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<EngineCommand>,
    next_session: Arc<AtomicU32>,
    ids: Arc<IdGenerator>,
    pub state: SharedState,
    pub profile: Arc<TopicProfile>,
}

/// The engine's task has ended.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the engine has stopped")]
pub struct EngineStopped;

impl EngineHandle {
    pub fn send(&self, command: EngineCommand) -> Result<(), EngineStopped> {
        self.commands.send(command).map_err(|_| EngineStopped)
    }

    /// Opens a link; the session id is known at once, its state arrives as events.
    pub fn connect(&self, config: LinkConfig, options: SessionOptions) -> Result<SessionId, EngineStopped> {
        let session = self.next_session.fetch_add(1, Ordering::Relaxed);
        self.send(EngineCommand::Connect { session, config, options })?;
        Ok(session)
    }

    /// Default options for a session: [`default_subscriptions`].
    pub fn default_session_options(&self, label: impl Into<String>) -> SessionOptions {
        SessionOptions { subscriptions: default_subscriptions(&self.profile, self.state.storage_profile()), label: label.into(), read_only: false }
    }

    pub fn disconnect(&self, session: SessionId) -> Result<(), EngineStopped> {
        self.send(EngineCommand::Disconnect { session })
    }

    pub fn publish(&self, session: SessionId, message: Message) -> Result<(), EngineStopped> {
        self.send(EngineCommand::Publish { session, message })
    }

    /// Sends a request; returns its id. The outcome arrives as `EngineEvent::RequestDone`.
    pub fn request(&self, spec: RequestSpec) -> Result<String, EngineStopped> {
        let id = spec.id.clone().unwrap_or_else(|| self.ids.next_id());
        self.send(EngineCommand::Request { spec, id: id.clone(), reply: None })?;
        Ok(id)
    }

    /// Sends a request at once and returns a future of its outcome (for scripts and tests; the
    /// GUI never awaits).
    pub fn call(&self, spec: RequestSpec) -> impl Future<Output = Result<RequestOutcome, EngineStopped>> + use<> {
        let id = spec.id.clone().unwrap_or_else(|| self.ids.next_id());
        let (tx, rx) = oneshot::channel();
        let sent = self.send(EngineCommand::Request { spec, id, reply: Some(tx) });
        async move {
            sent?;
            rx.await.map_err(|_| EngineStopped)
        }
    }

    /// Starts an upgrade; returns its `taskId` (a fresh one when the spec's is empty).
    pub fn start_ota(&self, mut spec: OtaSpec) -> Result<String, EngineStopped> {
        if spec.task_id.is_empty() {
            spec.task_id = self.ids.next_id();
        }
        let id = spec.task_id.clone();
        self.send(EngineCommand::StartOta(spec))?;
        Ok(id)
    }

    /// Starts pushing a file; returns its `fileId`.
    pub fn start_file_download(&self, mut spec: FileDownloadSpec) -> Result<String, EngineStopped> {
        if spec.file_id.is_empty() {
            spec.file_id = self.ids.next_id();
        }
        let id = spec.file_id.clone();
        self.send(EngineCommand::StartFileDownload(spec))?;
        Ok(id)
    }

    /// Starts pulling a file; returns its `fileId`.
    pub fn start_file_upload(&self, mut spec: FileUploadSpec) -> Result<String, EngineStopped> {
        if spec.file_id.is_empty() {
            spec.file_id = self.ids.next_id();
        }
        let id = spec.file_id.clone();
        self.send(EngineCommand::StartFileUpload(spec))?;
        Ok(id)
    }

    /// Starts a path series: every message on exactly `topic` with a number at `pointer` (RFC
    /// 6901) feeds it, beginning with those the topic store holds.
    pub fn track_path(&self, topic: &str, pointer: &str) -> Result<(), EngineStopped> {
        self.send(EngineCommand::TrackPath { topic: topic.to_owned(), pointer: pointer.to_owned() })
    }

    /// Stops a path series and forgets its samples.
    pub fn untrack_path(&self, topic: &str, pointer: &str) -> Result<(), EngineStopped> {
        self.send(EngineCommand::UntrackPath { topic: topic.to_owned(), pointer: pointer.to_owned() })
    }

    /// Keeps `retention_ms` of the series (by sample time, against its newest sample).
    pub fn set_retention(&self, key: series::SeriesKey, retention_ms: i64) -> Result<(), EngineStopped> {
        self.send(EngineCommand::SetRetention { key, retention_ms })
    }

    pub fn cancel_transfer(&self, id: &str) -> Result<(), EngineStopped> {
        self.send(EngineCommand::CancelTransfer { id: id.to_owned() })
    }

    pub fn shutdown(&self) {
        // An engine already gone is shut down: nothing to report.
        let _ = self.commands.send(EngineCommand::Shutdown);
    }
}

/// The receiving side of the engine's events.
#[derive(Debug)]
pub struct EngineEvents {
    events: mpsc::Receiver<Vec<EngineEvent>>,
    /// Payload bytes of forwarded messages sent and not yet received here.
    in_flight: Arc<AtomicU64>,
}

impl EngineEvents {
    /// Every batch ready now, without waiting (for the GUI's frame).
    pub fn drain(&mut self) -> Vec<EngineEvent> {
        let mut out = Vec::new();
        while let Ok(batch) = self.events.try_recv() {
            self.received(&batch);
            out.extend(batch);
        }
        out
    }

    /// Waits for the next batch; `None` when the engine has stopped.
    pub async fn next_batch(&mut self) -> Option<Vec<EngineEvent>> {
        let batch = self.events.recv().await?;
        self.received(&batch);
        Some(batch)
    }

    fn received(&self, batch: &[EngineEvent]) {
        let bytes = core::forwarded_bytes(batch);
        if bytes > 0 {
            self.in_flight.fetch_sub(bytes.min(self.in_flight.load(Ordering::Relaxed)), Ordering::Relaxed);
        }
    }
}

/// There is no tokio runtime to run the engine on.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the engine needs a tokio runtime: {0}")]
pub struct NoRuntime(String);

pub struct Engine;

impl Engine {
    /// Starts the engine on the current tokio runtime with default settings.
    pub fn spawn(notify: impl Fn() + Send + Sync + 'static) -> Result<(EngineHandle, EngineEvents), NoRuntime> {
        Self::spawn_with(EngineConfig::default(), notify)
    }

    /// Starts the engine on the current tokio runtime.
    pub fn spawn_with(
        config: EngineConfig,
        notify: impl Fn() + Send + Sync + 'static,
    ) -> Result<(EngineHandle, EngineEvents), NoRuntime> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| NoRuntime(e.to_string()))?;
        let (command_tx, command_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::channel(core::EVENT_BATCHES);
        let state = SharedState::new(&config);
        let profile = Arc::new(config.profile.clone());
        let ids = Arc::new(IdGenerator::new("wb"));
        let in_flight = Arc::new(AtomicU64::new(0));
        let core = core::EngineCore::new(config, state.clone(), ids.clone(), (event_tx, in_flight.clone()), Box::new(notify));
        runtime.spawn(core.run(command_rx));
        let handle = EngineHandle { commands: command_tx, next_session: Arc::new(AtomicU32::new(1)), ids, state, profile };
        Ok((handle, EngineEvents { events: event_rx, in_flight }))
    }
}

/// The filters every session holds (QoS 1): the profile's master filter, for the gateways'
/// uplinks and the replies to our requests, the acknowledgement filters, and the energy-storage
/// profile's topics (§11).
pub fn default_subscriptions(profile: &crate::protocol::topic::TopicProfile, storage: &crate::protocol::storage::StorageProfile) -> Vec<String> {
    let mut subscriptions = vec![profile.master_filter.clone()];
    subscriptions.extend(ack_filters(profile));
    subscriptions.extend(storage.filters());
    subscriptions
}

/// The downlink replies to `alarm/report` and `history/report` of every gateway, so an
/// acknowledgement by another master is seen (issue 10); none for a profile whose gateway filter
/// does not end in `/#`.
fn ack_filters(profile: &crate::protocol::topic::TopicProfile) -> Vec<String> {
    let all = profile.gateway_filter("+", "+");
    let Some(base) = all.strip_suffix('#') else { return Vec::new() };
    ["alarm/report", "history/report"].iter().map(|ca| format!("{base}{ca}/{}", profile.reply_suffix)).collect()
}
