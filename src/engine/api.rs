//! The engine's vocabulary: what it is told ([`EngineCommand`]), what it reports
//! ([`EngineEvent`]), how it is set up, and the state it shares with its faces. Below both the
//! engine task (`core.rs`) and the handle (`mod.rs`), so neither imports the other's types.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use tokio::sync::oneshot;

use super::gateways::{GatewayKey, Gateways};
use super::requests::{RequestOutcome, RequestSpec, SessionId};
use super::history::{HistoryHandle, HistoryMonitor, WriterStats};
use super::recording::{RecordOptions, RecordingMeta, RecordingStatus, SharedRecordingStatus};
use super::series::{SeriesKey, SeriesLimits, SeriesStore};
use super::store::{MessageStore, StoreLimits};
use super::tasks::{FileDownloadSpec, FileUploadSpec, OtaSpec, TransferStatus, TransferTable};
use super::transfers;
use crate::protocol::topic::TopicProfile;
use crate::transport::{LinkConfig, LinkState, Message};

/// How a session behaves besides carrying messages.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// MQTT filters subscribed on every connect (serial ignores them). Default: the profile's
    /// master filter, which covers gateways' uplinks and the replies to our requests.
    pub subscriptions: Vec<String>,
    /// Shown in the GUI and logs.
    pub label: String,
    /// At a live site: nothing is published on this session but the master's duties
    /// (acknowledgements, `time/sync` answers); requests and publishes are refused.
    pub read_only: bool,
}

/// What the engine is told to do. Each variant is handled in one place (`core.rs`).
#[derive(Debug)]
pub enum EngineCommand {
    /// Open a link as session `session` (ids come from [`EngineHandle::connect`]).
    Connect { session: SessionId, config: LinkConfig, options: SessionOptions },
    Disconnect { session: SessionId },
    Publish { session: SessionId, message: Message },
    /// Adds a filter at `qos` to the session (or changes its QoS); kept across reconnects.
    /// Serial sessions ignore it: a cable carries everything.
    Subscribe { session: SessionId, filter: String, qos: u8 },
    Unsubscribe { session: SessionId, filter: String },
    /// Pause, resume, speed or seek of a replay session (`LinkConfig::Replay`); others ignore it.
    ReplayControl { session: SessionId, control: crate::transport::replay::ReplayControl },
    /// Publish a request and follow it; the outcome comes as an event and, when given, on `reply`.
    Request { spec: RequestSpec, id: String, reply: Option<oneshot::Sender<RequestOutcome>> },
    /// Serve an image to gateways pulling it with `ota/chunk/get` or `file/chunk/get`.
    OfferImage { kind: transfers::TransferKind, id: String, data: bytes::Bytes, chunk_size: u32 },
    WithdrawImage { kind: transfers::TransferKind, id: String },
    /// Upgrade a gateway's module: announce `ota/upgrade`, serve the image, follow
    /// `ota/progress` to `done` or `failed`. Progress comes as [`EngineEvent::Transfer`].
    StartOta(OtaSpec),
    /// Push a file to a gateway (`file/download`) and wait for its `file/download/result`.
    StartFileDownload(FileDownloadSpec),
    /// Pull a file from a gateway (`file/upload`, `file/read`), check its digest, write it.
    StartFileUpload(FileUploadSpec),
    /// Stop a task; a push's image is withdrawn, so the gateway's next chunk request gets code 7.
    CancelTransfer { id: String },
    /// Acknowledge `alarm/report` and `history/report` and answer `time/sync` (on by default).
    SetMasterDuties(bool),
    /// Forward every received message as an event (the `watch` command wants them; the GUI reads
    /// the store instead).
    SetForwardMessages(bool),
    ClearStore,
    /// Pin (or unpin) every stored topic starting with `prefix`, e.g. a gateway's
    /// `cems/v1/{pk}/{dev}/`: kept from eviction up to a share of the store's budget.
    PinTopics { prefix: String, pinned: bool },
    /// Start a path series (fed from then on, and at once from the topic store's held messages
    /// of that topic): the number (or bool as 0/1) at JSON pointer `pointer` of each payload on
    /// exactly `topic`.
    TrackPath { topic: String, pointer: String },
    /// Stop a path series and forget its samples.
    UntrackPath { topic: String, pointer: String },
    /// Retention of one series by sample time (also for one not seen yet).
    SetRetention { key: SeriesKey, retention_ms: i64 },
    /// Record every message of every session to an MCAP file from now on (one recording at a
    /// time: a running one is finished first). Its counts are in [`SharedState::recording`];
    /// its end comes as a notice.
    StartRecording { path: std::path::PathBuf, meta: RecordingMeta, options: RecordOptions },
    /// Finish the recording in progress (summary and footer written).
    StopRecording,
    /// Keep every point, meter sample and alarm of live sessions in this point history from now
    /// on (a replaced one is closed after writing its queue). Boxed: it is large.
    AttachHistory(Box<HistoryHandle>),
    /// Close the point history after writing what is queued.
    DetachHistory,
    /// Send a control command to a storage station and follow it to its answer or timeout; the
    /// outcome comes as [`EngineEvent::StorageCommandDone`] and, when given, on `reply`.
    StorageCommand { spec: super::stations::StorageCommandSpec, reply: Option<oneshot::Sender<super::stations::StorageCommandOutcome>> },
    Shutdown,
}

/// What the engine reports, in batches.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    SessionState { session: SessionId, state: LinkState, attempts: u32 },
    FramesDropped { session: SessionId, total: u64 },
    /// Only when forwarding is on.
    Message { session: SessionId, received_ms: i64, message: Message },
    RequestSent { session: SessionId, id: String, topic: String },
    RequestDone(RequestOutcome),
    /// A chunk of an offered image was served.
    ChunkServed { kind: transfers::TransferKind, id: String, bytes_served: u64, high_water: u64, size: u64 },
    /// A transfer task changed phase, or made progress (at most ten times a second per task).
    Transfer(TransferStatus),
    /// A gateway's record changed (status, info, versions, points).
    GatewayChanged(GatewayKey),
    /// A storage station's record changed (a message, a command, a problem).
    StationChanged(crate::protocol::storage::place::StoragePlace),
    /// A control command of ours to a storage station was answered, timed out or not sent.
    StorageCommandDone(super::stations::StorageCommandOutcome),
    /// Something worth telling the user that is not an error of a request.
    /// Its text reads as English; the window shows it in its language.
    Notice { session: Option<SessionId>, text: super::notice::NoticeText },
}

/// Shared, read-mostly state: the GUI reads it every frame, the engine writes it briefly.
#[derive(Debug, Clone)]
pub struct SharedState {
    pub(super) store: Arc<RwLock<MessageStore>>,
    pub(super) gateways: Arc<RwLock<Gateways>>,
    pub(super) transfers: Arc<RwLock<TransferTable>>,
    pub(super) series: Arc<RwLock<SeriesStore>>,
    pub(super) recording: SharedRecordingStatus,
    /// The attached point history's file and counters.
    pub(super) history: Arc<RwLock<Option<(std::path::PathBuf, HistoryMonitor)>>>,
    pub(super) stations: Arc<RwLock<super::stations::Stations>>,
    /// The energy-storage profile the engine reads stations with (fixed at start).
    storage_profile: Arc<crate::protocol::storage::StorageProfile>,
}

impl SharedState {
    /// Empty stores sized by `config`.
    pub(super) fn new(config: &EngineConfig) -> SharedState {
        SharedState {
            store: Arc::new(RwLock::new(MessageStore::new(config.store_limits.clone()))),
            gateways: Arc::new(RwLock::new(Gateways::new())),
            transfers: Arc::new(RwLock::new(TransferTable::default())),
            series: Arc::new(RwLock::new(SeriesStore::new(config.series_limits.clone()))),
            recording: Arc::default(),
            history: Arc::default(),
            stations: Arc::default(),
            storage_profile: Arc::new(config.storage_profile.clone()),
        }
    }

    /// Reads the message store. A poisoned lock (a panic elsewhere) still gives the data.
    pub fn store(&self) -> RwLockReadGuard<'_, MessageStore> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn gateways(&self) -> RwLockReadGuard<'_, Gateways> {
        self.gateways.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The latest status of every transfer task (running ones and recent finished ones).
    pub fn transfers(&self) -> RwLockReadGuard<'_, TransferTable> {
        self.transfers.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The series of points, meter registers and tracked paths, for plots and exports.
    pub fn series(&self) -> RwLockReadGuard<'_, SeriesStore> {
        self.series.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The attached point history: its file and its writer's counters.
    pub fn history(&self) -> Option<(std::path::PathBuf, WriterStats)> {
        self.history.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|(path, monitor)| (path.clone(), monitor.stats()))
    }

    /// The energy-storage stations seen.
    pub fn stations(&self) -> RwLockReadGuard<'_, super::stations::Stations> {
        self.stations.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The energy-storage profile the stations are read with.
    pub fn storage_profile(&self) -> &crate::protocol::storage::StorageProfile {
        &self.storage_profile
    }

    /// The recording in progress, or how the last one ended.
    pub fn recording(&self) -> RecordingStatus {
        self.recording.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Settings of an engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub profile: TopicProfile,
    /// The energy-storage profile's topics (§11).
    pub storage_profile: crate::protocol::storage::StorageProfile,
    pub store_limits: StoreLimits,
    pub series_limits: SeriesLimits,
    pub master_duties: bool,
    pub forward_messages: bool,
    /// Ask a newly seen online gateway for `info/get` and `ota/version/get`: its reports of
    /// those went out when it connected, maybe long before we did.
    pub discover: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig { profile: TopicProfile::builtin(), storage_profile: crate::protocol::storage::StorageProfile::builtin(), store_limits: StoreLimits::default(), series_limits: SeriesLimits::default(), master_duties: true, forward_messages: false, discover: true }
    }
}
