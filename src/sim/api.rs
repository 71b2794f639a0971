//! The simulator's vocabulary: how it is set up, how it fails, what it counts and what a
//! snapshot of it says, and how a handler answers. Below the state, the handlers and the runtime, so none of them imports
//! the module's face (`mod.rs`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::protocol::auth::AuthError;
use crate::protocol::codes;
use crate::protocol::ids::IdError;
use crate::protocol::model::ModelSet;
use crate::protocol::payload::{Alarm, FileEntry, ModuleVersion, OtaStep, PointValue};
use crate::protocol::topic::{TopicError, TopicProfile};
use crate::transport::{LinkConfig, LinkState};

/// The simulator's window unless tuned: enough to hide a broker round trip per chunk.
pub const DEFAULT_WINDOW: usize = 4;

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
    /// How far the gateway's clock runs from ours at start, ms (its `ts` and `time/get`
    /// answers), so a master's offset measurement has something to find.
    pub clock_skew_ms: i64,
    /// Deliberate contract breaches, for testing a checker; empty by default.
    pub faults: Vec<super::faults::SimFault>,
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
            clock_skew_ms: 0,
            faults: Vec::new(),
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
        SimTuning { chunk_window: DEFAULT_WINDOW, retry_after: super::outbox::RETRY_AFTER }
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

/// What a handler answers: the reply's code, msg and data. Only a partial failure (some items of
/// a set failed) carries data with a code other than 0.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub(crate) code: i64,
    pub(crate) msg: Option<String>,
    pub(crate) data: Value,
}

impl Answer {
    pub(crate) fn fail(fail: Fail) -> Answer {
        Answer { code: fail.code, msg: Some(fail.msg), data: json!({}) }
    }
}

impl From<Result<Value, Fail>> for Answer {
    fn from(result: Result<Value, Fail>) -> Answer {
        match result {
            Ok(data) => Answer { code: codes::OK, msg: None, data },
            Err(fail) => Answer::fail(fail),
        }
    }
}

pub(crate) fn bad_param(msg: impl Into<String>) -> Fail {
    Fail { code: codes::BAD_PARAM, msg: msg.into() }
}

/// A request's `data` as `T`, or code 4 naming the field at fault (`data.keys[2]: …`).
pub(crate) fn parse<T: serde::de::DeserializeOwned>(data: &Value) -> Result<T, Fail> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { "data".to_owned() } else { format!("data.{path}") };
        bad_param(format!("{at}: {}", e.into_inner()))
    })
}

pub(crate) fn not_found(msg: impl Into<String>) -> Fail {
    Fail { code: codes::NOT_FOUND, msg: msg.into() }
}
