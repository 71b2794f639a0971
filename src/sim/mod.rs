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
//! - `api`: the simulator's vocabulary (its config, errors, counters, snapshot), below all of them.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;


mod alarms;
mod api;
mod commands;
mod downloads;
mod device;
pub mod ess;
mod faults;
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

pub use faults::{Faults, SimFault};
pub use handlers::{Handled, handle_down};
pub use api::{Fail, LinkStatus, Outage, SimConfig, SimCounters, SimError, SimSnapshot, SimTuning, TaskRecord};
pub use state::{Outgoing, SimState};

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
    state.clock_offset_ms = config.clock_skew_ms;
    state.faults = faults::Faults(config.faults.clone());
    state.chunk_window = tuning.chunk_window.clamp(1, crate::protocol::payload::MAX_CHUNK_WINDOW);
    let shared = Arc::new(Mutex::new(state));
    let (stop_tx, stop_rx) = oneshot::channel();
    let (runtime_task, status) = runtime::Runtime::new(config, tuning, shared.clone())?;
    let task = runtime.spawn(runtime_task.run(stop_rx));
    Ok(SimHandle { shared, stop: Some(stop_tx), task: Some(task), status })
}
