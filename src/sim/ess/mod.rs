//! A simulated energy-storage station speaking the storage profile (contract §11): a group with
//! two PCS units `pcs1`, `pcs2` and a BMS `bms1` with racks `rack1`, `rack2` of 16 reported cells.
//! It publishes `rt` every interval (PCS and BMS on their own topics, the racks on the group
//! topic placed by `ns`, so both ways of §11 are exercised), `param` of each PCS at connect and
//! on change, and answers `cmd` requests by their `code`.
//!
//! - `physics`: the station's state and how it moves, without I/O.
//! - `reports`: the `d` of each `rt` and `param` message.
//! - `commands`: the answer to one command.
//! - `runtime`: the task that owns the link.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::LinkStatus;
use crate::protocol::storage::{StorageError, StorageProfile};
use crate::transport::LinkConfig;

mod commands;
mod physics;
mod reports;
mod runtime;

pub use physics::{BMS_UNIT, PCS_UNITS, RACKS};

/// Misbehaviours on demand, for testing a master against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StationFault {
    /// Every answer is sent twice.
    AnswerTwice,
    /// Commands are carried out but never answered.
    NoAnswer,
    /// Every answer is sent this many ms late (the command takes effect at once).
    SlowAnswer(u64),
}

/// How to run a simulated station.
#[derive(Debug, Clone)]
pub struct StationConfig {
    /// For MQTT the station adds its command subscriptions; an empty client id becomes
    /// `ess-sim.{application}.{group}`.
    pub link: LinkConfig,
    pub profile: StorageProfile,
    pub application: String,
    pub group: String,
    /// Period of the `rt` reports, ms.
    pub interval_ms: u64,
    /// Seeds the walk: the same seed gives the same values.
    pub seed: u64,
    pub faults: Vec<StationFault>,
}

impl StationConfig {
    /// The built-in profile, application `ess`, group `station-1`, 1 s reports, seed 0, no faults.
    pub fn new(link: LinkConfig) -> StationConfig {
        StationConfig {
            link,
            profile: StorageProfile::builtin(),
            application: "ess".into(),
            group: "station-1".into(),
            interval_ms: 1000,
            seed: 0,
            faults: Vec::new(),
        }
    }
}

/// Why a station could not start.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error("station topics: {0}")]
    Topic(#[from] StorageError),
    #[error("the report interval must be at least 1 ms")]
    ZeroInterval,
    #[error("the station simulator needs a tokio runtime: {0}")]
    NoRuntime(String),
}

/// What the station has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StationCounters {
    /// Times the link came up.
    pub connects: u64,
    /// `rt` messages published, one per unit or rack and interval.
    pub realtime_sent: u64,
    pub param_sent: u64,
    /// Commands carried out (`result` 0) and refused (any other `result`), answered or not.
    pub commands_done: u64,
    pub commands_refused: u64,
    /// Answers published, second copies of `AnswerTwice` included.
    pub answers_sent: u64,
    /// Answers not sent because of `NoAnswer`.
    pub answers_withheld: u64,
    /// Messages with `te: "resp"` on the command topics: our own answers coming back.
    pub responses_ignored: u64,
    /// Command payloads that could not be read, not even their `code`: nothing to answer.
    pub malformed_ignored: u64,
}

impl StationCounters {
    /// Every message the station published.
    pub fn messages_sent(&self) -> u64 {
        self.realtime_sent + self.param_sent + self.answers_sent
    }
}

/// One PCS unit now.
#[derive(Debug, Clone, PartialEq)]
pub struct PcsSnapshot {
    pub unit: String,
    pub running: bool,
    pub pset_kw: f64,
    pub p_kw: f64,
}

/// A picture of the station for tests, the CLI and the GUI.
#[derive(Debug, Clone, PartialEq)]
pub struct StationSnapshot {
    pub application: String,
    pub group: String,
    pub online: bool,
    /// The BMS's state of charge, %.
    pub soc: f64,
    pub pcs: Vec<PcsSnapshot>,
    pub counters: StationCounters,
}

/// What the runtime and the handle share.
#[derive(Debug)]
struct Shared {
    station: physics::Station,
    counters: StationCounters,
    online: bool,
}

/// A running station; dropping it stops it too (without waiting).
#[derive(Debug)]
pub struct StationHandle {
    shared: Arc<Mutex<Shared>>,
    application: String,
    group: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    status: watch::Receiver<LinkStatus>,
}

impl StationHandle {
    pub fn snapshot(&self) -> StationSnapshot {
        let shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        StationSnapshot {
            application: self.application.clone(),
            group: self.group.clone(),
            online: shared.online,
            soc: shared.station.soc(),
            pcs: PCS_UNITS
                .iter()
                .zip(&shared.station.pcs)
                .map(|(unit, pcs)| PcsSnapshot { unit: (*unit).to_owned(), running: pcs.running, pset_kw: pcs.pset, p_kw: pcs.p })
                .collect(),
            counters: shared.counters.clone(),
        }
    }

    pub fn counters(&self) -> StationCounters {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner).counters.clone()
    }

    /// Follows the link's state.
    pub fn link_status(&self) -> watch::Receiver<LinkStatus> {
        self.status.clone()
    }

    /// Closes the link and waits for the station's task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for StationHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a station on the current tokio runtime.
pub fn spawn_station(config: StationConfig) -> Result<StationHandle, StationError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| StationError::NoRuntime(e.to_string()))?;
    if config.interval_ms == 0 {
        return Err(StationError::ZeroInterval);
    }
    let shared = Arc::new(Mutex::new(Shared { station: physics::Station::new(config.seed), counters: StationCounters::default(), online: false }));
    let (application, group) = (config.application.clone(), config.group.clone());
    let (task, status) = runtime::Runtime::new(config, shared.clone())?;
    let (stop_tx, stop_rx) = oneshot::channel();
    let task = runtime.spawn(task.run(stop_rx));
    Ok(StationHandle { shared, application, group, stop: Some(stop_tx), task: Some(task), status })
}
