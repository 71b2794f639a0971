//! Recording a session to an MCAP file, as Foxglove and PlotJuggler open it.
//!
//! One channel per topic (schemaless; `json` when the payload is JSON, raw bytes otherwise; a
//! topic seen with another QoS or retained flag gets a channel of its own, with `qos` and
//! `retain` in its metadata, so a replay republishes each message as it came),
//! `log_time` the receive time and `publish_time` the CEMS envelope's `ts` where there is one.
//! A metadata record `cems-workbench` names the link and the workbench version; the product
//! models in use travel as attachments. Chunks are closed and handed to the OS at least every
//! second, so a killed process leaves a file a streaming reader reads up to its last flushed
//! chunk, and [`recover`] completes such a file. Nothing here knows about egui.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod cut;
mod read;
mod recorder;
mod recover;
mod sink;
mod task;

pub use cut::{CutReport, cut};
pub use read::{ReadReport, RecordedMessage, read_messages};
pub use recorder::{MessageFlags, Recorder};
pub use recover::{RecoverReport, is_complete, recover, recover_unfinished};
pub use task::{RecordingOutcome, RecordingStatus, RecordingTask, SharedRecordingStatus};

/// The metadata record's name, and the library name in the MCAP header.
pub const METADATA_NAME: &str = "cems-workbench";
/// Message encoding of a channel whose payloads are JSON.
pub const JSON_ENCODING: &str = "json";
/// Message encoding of a channel whose payloads are not JSON (binary serial frames, text).
pub const RAW_ENCODING: &str = "application/octet-stream";
/// Media type of a product-model attachment.
pub const MODEL_MEDIA_TYPE: &str = "application/json";

/// What a recording says about where it came from.
#[derive(Debug, Clone, Default)]
pub struct RecordingMeta {
    /// The broker URL or serial port, without credentials.
    pub link: String,
    pub workbench_version: String,
    /// Product models in use: (file name, JSON text).
    pub models: Vec<(String, Vec<u8>)>,
}

/// How a recording is written.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Past this size the file is finished and `name-1.mcap`, `name-2.mcap`… continue.
    pub max_bytes: Option<u64>,
    /// The longest a received message waits in memory before its chunk goes to the OS.
    pub flush_interval: Duration,
    /// Target size of one chunk before it is closed (also closed at each flush).
    pub chunk_bytes: u64,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions { max_bytes: None, flush_interval: Duration::from_secs(1), chunk_bytes: 1024 * 1024 }
    }
}

/// Counts of a recording so far, for a status bar or the CLI's last line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Messages written (all files of a rotation).
    pub messages: u64,
    /// Bytes handed to the OS (all files).
    pub bytes: u64,
    /// The file being written now (the last one after `finish`).
    pub file: PathBuf,
    /// Every file of this recording, in order.
    pub files: Vec<PathBuf>,
    /// Messages left out because the link had discarded their oversized payload.
    pub skipped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Mcap { path: PathBuf, source: mcap::McapError },
    #[error("{}: not an MCAP file: {reason}", path.display())]
    NotMcap { path: PathBuf, reason: String },
    #[error("recording to {} stopped after an earlier error: {reason}", path.display())]
    Stopped { path: PathBuf, reason: String },
}

impl RecordError {
    /// An error of the MCAP writer on `path`; an I/O fault (full disk) is said as one.
    fn writing(path: &Path, error: mcap::McapError) -> RecordError {
        match error {
            mcap::McapError::Io(source) => RecordError::Write { path: path.to_path_buf(), source },
            source => RecordError::Mcap { path: path.to_path_buf(), source },
        }
    }
}

/// The options both the recorder and `recover` write with: chunked, uncompressed, appended only
/// (no seeking back), so what is on disk is always a readable prefix.
fn write_options(chunk_bytes: u64) -> mcap::WriteOptions {
    mcap::WriteOptions::new()
        .compression(None)
        .library(format!("{METADATA_NAME} {}", env!("CARGO_PKG_VERSION")))
        .use_chunks(true)
        .chunk_size(Some(chunk_bytes.max(1024)))
        .disable_seeking(true)
}

/// A payload's channel encoding and its publish time in ns: the envelope's `ts` (ms) when the
/// payload is a JSON object with a numeric one, else `receive_ns`.
pub fn classify(payload: &[u8], receive_ns: u64) -> (&'static str, u64) {
    #[derive(Deserialize)]
    struct TsProbe {
        #[serde(default)]
        ts: Option<serde_json::Number>,
    }
    match serde_json::from_slice::<TsProbe>(payload) {
        Ok(probe) => (JSON_ENCODING, probe.ts.and_then(|ts| ms_number_to_ns(&ts)).unwrap_or(receive_ns)),
        // Valid JSON that is no object (or whose `ts` is no number) is still JSON.
        Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_ok() => (JSON_ENCODING, receive_ns),
        Err(_) => (RAW_ENCODING, receive_ns),
    }
}

fn ms_number_to_ns(ts: &serde_json::Number) -> Option<u64> {
    if let Some(ms) = ts.as_u64() {
        return ms.checked_mul(1_000_000);
    }
    let ms = ts.as_f64()?;
    let ns = ms * 1e6;
    // The cast saturates; a value past u64 is not a time.
    (ns.is_finite() && ns >= 0.0 && ns < u64::MAX as f64).then_some(ns as u64)
}

/// Epoch ms (ours, possibly negative on a broken clock) as MCAP's unsigned ns.
pub fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// A broker URL without `user:password@`, as a recording names its link; a serial port as it is.
pub fn link_without_credentials(link: &str) -> String {
    match link.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            match path {
                Some(p) => format!("{scheme}://{host}/{p}"),
                None => format!("{scheme}://{host}"),
            }
        }
        None => link.to_owned(),
    }
}

/// The `n`th file of a rotation: `dir/name.mcap`, then `dir/name-1.mcap`, `dir/name-2.mcap`…
pub fn rotation_path(base: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return base.to_path_buf();
    }
    let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    base.with_file_name(name)
}

#[cfg(test)]
mod tests;
