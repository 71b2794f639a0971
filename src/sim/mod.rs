//! A simulated CEMS gateway that serves a product model over any link: the real protocol
//! through a real broker or a serial cable, for the GUI's demo, the integration tests and lab
//! benches.
//!
//! - `state`: everything the gateway knows, without I/O; `handlers`, `commands`, `downloads`:
//!   plain functions over it for every down request of the contract; `transfer`: one pull of
//!   an image, below the state that holds it.
//! - `device`, `values`, `alarms`: the devices, their point values and threshold alarms.
//! - `outage`: what is stored while offline and resent as `history/report`; `outbox`: the
//!   gateway's own requests and their retries; `files`: its file folder; `log`: its log ring.
//! - `runtime`: the task that drives a link and all of the above.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::protocol::auth::AuthError;
use crate::protocol::ids::IdError;
use crate::protocol::model::ModelSet;
use crate::protocol::payload::{Alarm, FileEntry, ModuleVersion, OtaStep, PointValue};
use crate::protocol::topic::{TopicError, TopicProfile};
use crate::transport::{LinkConfig, LinkState};

mod alarms;
mod commands;
mod downloads;
mod device;
mod files;
pub mod handlers;
mod log;
mod outage;
mod outbox;
mod replay;
mod runtime;
pub mod state;
mod transfer;
mod values;

pub use handlers::{Handled, handle_down};
pub use state::{Outgoing, SimState};

/// Go offline `at_secs` after start for `for_secs`, storing reports meanwhile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    pub at_secs: f64,
    pub for_secs: f64,
}

/// How to run one simulated gateway.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The gateway's model and the models of its `subProducts`.
    pub models: ModelSet,
    /// Product key of the gateway model in `models`.
    pub pk: String,
    pub dev: String,
    /// For MQTT the simulator sets the client id, will, subscription and (with `secret`) the
    /// credentials itself.
    pub link: LinkConfig,
    /// Device secret: signs the MQTT username and password (contract §6).
    pub secret: Option<String>,
    pub profile: TopicProfile,
    /// Report period for every point and meter, overriding the model's, ms.
    pub report_period_ms: Option<u64>,
    pub outage: Option<Outage>,
    /// The gateway's own file folder (`file/list`, downloads, uploads).
    pub files_dir: PathBuf,
    /// Seeds the value generator: the same seed gives the same walk.
    pub seed: u64,
}

impl SimConfig {
    /// A config with the built-in topic profile, the model's periods, no outage, seed 0.
    pub fn new(models: ModelSet, pk: impl Into<String>, dev: impl Into<String>, link: LinkConfig, files_dir: PathBuf) -> SimConfig {
        SimConfig {
            models,
            pk: pk.into(),
            dev: dev.into(),
            link,
            secret: None,
            profile: TopicProfile::builtin(),
            report_period_ms: None,
            outage: None,
            files_dir,
            seed: 0,
        }
    }
}

/// How the simulator paces its own requests; the defaults are what it does against a real
/// master, tests shorten the waits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimTuning {
    /// Chunk requests each transfer keeps outstanding, 1..=8 (contract §8); clamped to that.
    pub chunk_window: usize,
    /// How long the gateway waits for the reply to one of its own requests before resending it
    /// (contract §3: 10 s).
    pub retry_after: Duration,
}

impl Default for SimTuning {
    fn default() -> SimTuning {
        SimTuning { chunk_window: transfer::DEFAULT_WINDOW, retry_after: outbox::RETRY_AFTER }
    }
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("no model with product key {0:?} is loaded")]
    UnknownProduct(String),
    #[error("{0:?} is a device model; the simulator serves a gateway model")]
    NotAGateway(String),
    #[error("the model of {sub_pk:?}, a subProduct of {pk:?}, is not loaded")]
    MissingSubProduct { pk: String, sub_pk: String },
    #[error(transparent)]
    BadId(IdError),
    #[error("files folder {path}: {source}")]
    FilesDir { path: PathBuf, source: std::io::Error },
    #[error("device credentials: {0}")]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Topic(#[from] TopicError),
    #[error("the simulator needs a tokio runtime: {0}")]
    NoRuntime(String),
}

/// A refused request: the reply's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub code: i64,
    pub msg: String,
}

/// What the simulator has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimCounters {
    /// Times the link came up (each announces the gateway again).
    pub connects: u64,
    /// Replies sent, replays of duplicates included.
    pub requests_answered: u64,
    pub duplicates_replayed: u64,
    /// Payloads dropped because not even an id could be read from them.
    pub malformed_ignored: u64,
    /// Periodic `point/report` messages.
    pub reports_sent: u64,
    /// `point/change` messages.
    pub changes_sent: u64,
    pub meter_reports_sent: u64,
    /// `alarm/report` requests (first sends).
    pub alarms_sent: u64,
    pub alarms_acked: u64,
    pub alarms_given_up: u64,
    /// `history/report` sends (resends included) and batches acknowledged with code 0.
    pub history_batches_sent: u64,
    pub history_batches_acked: u64,
    /// History batches deleted unacknowledged: recalls nobody acknowledged or the master
    /// refused, batches the link cannot carry. Outage history is never given up otherwise.
    pub history_batches_dropped: u64,
    pub chunk_requests_sent: u64,
    /// Stored items dropped because the offline buffer was full.
    pub offline_dropped: u64,
    /// Messages not sent because the link cannot carry them (over its frame or packet size),
    /// or that the link reported dropped (`LinkEvent::PublishDropped`).
    pub publishes_dropped: u64,
}

/// The state of an OTA task or file download.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// `ota/upgrade` (true) or `file/download`.
    pub ota: bool,
    /// `taskId` or `fileId`.
    pub id: String,
    /// Module or file name.
    pub target: String,
    pub version: Option<String>,
    pub step: OtaStep,
    pub percent: f64,
    pub code: i64,
    pub msg: Option<String>,
}

/// A picture of the simulator for tests and the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSnapshot {
    pub pk: String,
    pub dev: String,
    /// Link up and not in a simulated outage.
    pub online: bool,
    /// (sub id, product key) of each sub-device.
    pub subs: Vec<(String, String)>,
    pub modules: Vec<ModuleVersion>,
    pub points: Vec<PointValue>,
    /// Active alarms.
    pub alarms: Vec<Alarm>,
    pub files: Vec<FileEntry>,
    pub props: Map<String, Value>,
    pub counters: SimCounters,
    pub tasks: Vec<TaskRecord>,
    pub clock_offset_ms: i64,
    /// Master clock minus sim clock from the last `time/sync`, ms.
    pub master_offset_ms: Option<f64>,
    /// Items stored while offline, not yet cut into batches.
    pub buffered_items: usize,
    pub history_batches_pending: usize,
}

/// The link as the simulator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStatus {
    /// `mqtt://host:port` or the serial path.
    pub label: String,
    pub state: LinkState,
    pub connects: u64,
    /// The link task ended without being asked to (a configuration that can never work).
    pub ended: bool,
    pub in_outage: bool,
}

/// A running simulator; dropping it stops it too (without waiting).
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Mutex<SimState>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    status: watch::Receiver<LinkStatus>,
}

impl SimHandle {
    pub fn snapshot(&self) -> SimSnapshot {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner).snapshot()
    }

    /// Follows the link's state.
    pub fn link_status(&self) -> watch::Receiver<LinkStatus> {
        self.status.clone()
    }

    /// Runs `f` on the state (tests force alarms or read internals with it).
    pub fn with_state<T>(&self, f: impl FnOnce(&mut SimState) -> T) -> T {
        f(&mut self.shared.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Publishes status offline (`reason: "stopped"`, retained), closes the link and waits for
    /// the simulator's task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a simulator on the current tokio runtime.
pub fn spawn(config: SimConfig) -> Result<SimHandle, SimError> {
    spawn_with(config, SimTuning::default())
}

/// Starts a simulator on the current tokio runtime, paced by `tuning`.
pub fn spawn_with(config: SimConfig, tuning: SimTuning) -> Result<SimHandle, SimError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| SimError::NoRuntime(e.to_string()))?;
    std::fs::create_dir_all(&config.files_dir).map_err(|source| SimError::FilesDir { path: config.files_dir.clone(), source })?;
    let mut state = SimState::new(&config.models, &config.pk, &config.dev, config.files_dir.clone(), config.seed, config.report_period_ms)?;
    state.chunk_window = tuning.chunk_window.clamp(1, crate::protocol::payload::MAX_CHUNK_WINDOW);
    let shared = Arc::new(Mutex::new(state));
    let (stop_tx, stop_rx) = oneshot::channel();
    let (runtime_task, status) = runtime::Runtime::new(config, tuning, shared.clone())?;
    let task = runtime.spawn(runtime_task.run(stop_rx));
    Ok(SimHandle { shared, stop: Some(stop_tx), task: Some(task), status })
}
