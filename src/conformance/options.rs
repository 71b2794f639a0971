//! How a run is asked for and followed: its options, manual steps, cancelling and progress; the
//! vocabulary the runner, the cases and the faces share.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tokio::sync::{Notify, oneshot};

use super::catalogue::{CaseText, Catalogue};
use super::model::CaseResult;
use crate::protocol::model::ModelSet;

/// A manual step to ask a person for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualPrompt {
    pub case_id: String,
    pub text: CaseText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualAnswer {
    /// The person did it (the case then observes the gateway).
    Done,
    Skipped,
}

/// Asks a person (the GUI's dialog, a terminal prompt, a test); the answer comes later.
pub type ManualHandler = Arc<dyn Fn(ManualPrompt) -> oneshot::Receiver<ManualAnswer> + Send + Sync>;

/// A firmware image to upgrade with (TC-6.7-02 and -05); without one those cases are Inconclusive.
#[derive(Debug, Clone)]
pub struct FirmwareImage {
    pub module: String,
    pub version: String,
    pub image: Bytes,
}

/// How to run.
#[derive(Clone)]
pub struct RunOptions {
    pub catalogue: Catalogue,
    /// Names and units for the point snapshot, writable points and read-only properties.
    pub models: ModelSet,
    /// Ids, id prefixes or clauses, comma-separated (`Catalogue::select`); all when `None`.
    pub cases: Option<String>,
    /// Run the cases that change the gateway.
    pub allow_changes: bool,
    /// Send nothing: only the cases that listen run.
    pub read_only: bool,
    pub interactive: Option<ManualHandler>,
    /// A reply's timeout (contract §3: 10 s).
    pub reply_timeout: Duration,
    /// Silence allowed in a transfer (contract §3: 60 s).
    pub transfer_timeout: Duration,
    /// Multiplies every case's `timeoutS` (tests shorten the waits for reports).
    pub time_scale: f64,
    /// The largest clock offset accepted, ms.
    pub clock_limit_ms: f64,
    pub firmware: Option<FirmwareImage>,
    /// The session runs over a serial cable (TC-10-01).
    pub serial: bool,
    /// The link's label and the site's name, for the report.
    pub link_label: String,
    pub site: Option<String>,
}

impl RunOptions {
    pub fn new(catalogue: Catalogue, models: ModelSet) -> RunOptions {
        RunOptions {
            catalogue,
            models,
            cases: None,
            allow_changes: false,
            read_only: false,
            interactive: None,
            reply_timeout: crate::engine::DEFAULT_TIMEOUT,
            transfer_timeout: Duration::from_secs(60),
            time_scale: 1.0,
            clock_limit_ms: 1000.0,
            firmware: None,
            serial: false,
            link_label: String::new(),
            site: None,
        }
    }
}

/// Stops a run between (or inside) cases; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<(AtomicBool, Notify)>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// What a run says as it goes (the GUI's list fills from it).
#[derive(Debug, Clone)]
pub enum Progress {
    /// The cases selected, in order, and those that will not run with the reason.
    Planned { cases: Vec<(String, Option<CaseText>)> },
    Started { id: String },
    Finished(CaseResult),
    Done { complete: bool },
}

/// `{}` as the data of a request without parameters.
pub(crate) fn empty() -> serde_json::Value {
    json!({})
}
