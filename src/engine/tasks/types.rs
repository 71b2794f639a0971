//! The vocabulary of transfer tasks: what they move, where they stand, how far they got, and
//! the specs that start them. The state machines that use it are in the sibling files.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;

use crate::engine::gateways::GatewayKey;
use crate::engine::requests::SessionId;
use crate::protocol::codes;
use crate::protocol::digest::sha256_hex;
use crate::protocol::payload::{CHUNK_SIZES, OtaStep, SERIAL_MAX_CHUNK};

/// A gateway silent this long (no chunk request, report or reply) is given up on.
pub const DEFAULT_SILENCE: Duration = Duration::from_secs(60);
/// Largest file pulled from a gateway: it is held in memory until its digest is checked.
pub const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// The chunk size used when none is given: the largest the link carries.
pub fn default_chunk_size(serial: bool) -> u32 {
    if serial { SERIAL_MAX_CHUNK } else { *CHUNK_SIZES.end() }
}

/// Finished tasks kept in the shared table for the GUI.
pub(super) const KEEP_FINISHED: usize = 100;

/// What a task moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// A firmware image to a module (`ota/upgrade`).
    Ota,
    /// A file to the gateway (`file/download`).
    FileDownload,
    /// A file from the gateway (`file/upload` + `file/read`).
    FileUpload,
}

impl TaskKind {
    pub fn label(self) -> &'static str {
        match self {
            TaskKind::Ota => "ota",
            TaskKind::FileDownload => "file-download",
            TaskKind::FileUpload => "file-upload",
        }
    }
}

/// Where a task stands. The last six are final.
#[derive(Debug, Clone, PartialEq)]
pub enum TransferPhase {
    /// Announced (`ota/upgrade`, `file/download`, `file/upload`), waiting for the reply.
    Announcing,
    /// Chunks are flowing.
    Running,
    /// Everything moved; the digest is being checked (by the gateway, or by us for an upload).
    Verifying,
    /// The gateway verified the image and is installing it.
    Installing,
    Done,
    /// The workbench would not start it (bad name, chunk size, no session, id in use).
    Invalid { msg: String },
    /// The gateway refused the announcement.
    Refused { code: i64, name: &'static str, msg: String },
    /// The gateway (or, for an upload, the digest check or the local write) failed it.
    Failed { code: i64, name: &'static str, msg: String },
    /// The gateway went silent for `after`.
    TimedOut { after: Duration, waiting_for: String },
    /// The link was closed under the task.
    Aborted { msg: String },
    Cancelled,
}

impl TransferPhase {
    pub fn is_final(&self) -> bool {
        !matches!(self, TransferPhase::Announcing | TransferPhase::Running | TransferPhase::Verifying | TransferPhase::Installing)
    }

    /// A short name: `announcing`, `running`, …, `timedOut`.
    pub fn label(&self) -> &'static str {
        match self {
            TransferPhase::Announcing => "announcing",
            TransferPhase::Running => "running",
            TransferPhase::Verifying => "verifying",
            TransferPhase::Installing => "installing",
            TransferPhase::Done => "done",
            TransferPhase::Invalid { .. } => "invalid",
            TransferPhase::Refused { .. } => "refused",
            TransferPhase::Failed { .. } => "failed",
            TransferPhase::TimedOut { .. } => "timedOut",
            TransferPhase::Aborted { .. } => "aborted",
            TransferPhase::Cancelled => "cancelled",
        }
    }

    pub(super) fn failed(code: i64, msg: impl Into<String>) -> TransferPhase {
        TransferPhase::Failed { code, name: codes::code_name(code), msg: msg.into() }
    }
}

/// How far a task got.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransferProgress {
    pub size: u64,
    /// Pushes: bytes sent in chunk replies, resends included. Uploads: bytes received.
    pub bytes_moved: u64,
    /// Pushes: distinct bytes of the image served at least once; success needs all of them.
    pub covered: u64,
    pub chunks: u64,
    /// How far the gateway got (highest offset + length served), or how far we read.
    pub position: u64,
    /// Bytes per second over the last few seconds.
    pub rate_bps: f64,
    pub eta: Option<Duration>,
    /// The gateway's last `ota/progress` step and percent.
    pub device_step: Option<OtaStep>,
    pub device_percent: Option<f64>,
}

impl TransferProgress {
    pub fn percent(&self) -> f64 {
        if self.size == 0 { 100.0 } else { self.position as f64 * 100.0 / self.size as f64 }
    }
}

/// The latest state of one task: sent as `EngineEvent::Transfer` and kept in
/// `SharedState::transfers`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferStatus {
    /// `taskId` or `fileId`.
    pub id: String,
    pub kind: TaskKind,
    pub session: SessionId,
    pub gateway: GatewayKey,
    /// `module version` for an upgrade, the file name otherwise.
    pub target: String,
    /// The announced digest (for an upload: the gateway's, once known).
    pub sha256: String,
    pub chunk_size: u32,
    /// Where an upload is written.
    pub dest: Option<PathBuf>,
    pub phase: TransferPhase,
    pub progress: TransferProgress,
    pub elapsed: Duration,
}

/// The statuses of the tasks of this engine's life: running ones and the latest finished.
#[derive(Debug, Default, Clone)]
pub struct TransferTable {
    tasks: IndexMap<String, TransferStatus>,
}

impl TransferTable {
    pub fn get(&self, id: &str) -> Option<&TransferStatus> {
        self.tasks.get(id)
    }

    /// In start order.
    pub fn iter(&self) -> impl Iterator<Item = &TransferStatus> {
        self.tasks.values()
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub(crate) fn update(&mut self, status: TransferStatus) {
        match self.tasks.get_mut(&status.id) {
            Some(slot) => *slot = status,
            None => {
                self.tasks.insert(status.id.clone(), status);
            }
        }
        let finished = self.tasks.values().filter(|s| s.phase.is_final()).count();
        if finished > KEEP_FINISHED
            && let Some(oldest) = self.tasks.iter().find(|(_, s)| s.phase.is_final()).map(|(id, _)| id.clone())
        {
            self.tasks.shift_remove(&oldest);
        }
    }
}

/// A firmware upgrade to start (`EngineCommand::StartOta`).
#[derive(Debug, Clone)]
pub struct OtaSpec {
    pub session: SessionId,
    pub pk: String,
    pub dev: String,
    /// `taskId`; left empty, `EngineHandle::start_ota` picks a fresh one.
    pub task_id: String,
    pub module: String,
    pub version: String,
    pub image: Bytes,
    /// The digest announced: the image's own (tests announce another to see the gateway check).
    pub sha256: String,
    pub chunk_size: u32,
    pub silence_timeout: Duration,
}

impl OtaSpec {
    /// A spec with the image's digest, the MQTT default chunk size and the default silence.
    pub fn new(session: SessionId, pk: &str, dev: &str, module: &str, version: &str, image: Bytes) -> OtaSpec {
        OtaSpec {
            session,
            pk: pk.into(),
            dev: dev.into(),
            task_id: String::new(),
            module: module.into(),
            version: version.into(),
            sha256: sha256_hex(&image),
            image,
            chunk_size: default_chunk_size(false),
            silence_timeout: DEFAULT_SILENCE,
        }
    }
}

/// A file to push to a gateway (`EngineCommand::StartFileDownload`).
#[derive(Debug, Clone)]
pub struct FileDownloadSpec {
    pub session: SessionId,
    pub pk: String,
    pub dev: String,
    /// `fileId`; left empty, the engine handle picks a fresh one.
    pub file_id: String,
    /// The plain name the gateway stores it under.
    pub name: String,
    pub data: Bytes,
    pub sha256: String,
    pub chunk_size: u32,
    pub silence_timeout: Duration,
}

impl FileDownloadSpec {
    pub fn new(session: SessionId, pk: &str, dev: &str, name: &str, data: Bytes) -> FileDownloadSpec {
        FileDownloadSpec {
            session,
            pk: pk.into(),
            dev: dev.into(),
            file_id: String::new(),
            name: name.into(),
            sha256: sha256_hex(&data),
            data,
            chunk_size: default_chunk_size(false),
            silence_timeout: DEFAULT_SILENCE,
        }
    }
}

/// A file to pull from a gateway (`EngineCommand::StartFileUpload`).
#[derive(Debug, Clone)]
pub struct FileUploadSpec {
    pub session: SessionId,
    pub pk: String,
    pub dev: String,
    /// `fileId`; left empty, the engine handle picks a fresh one.
    pub file_id: String,
    /// The gateway's plain file name.
    pub name: String,
    /// The local path to write (the user's choice), replaced atomically.
    pub dest: PathBuf,
    /// Bytes per `file/read` (at most [`SERIAL_MAX_CHUNK`], which fits every link).
    pub read_size: u32,
    pub silence_timeout: Duration,
    /// Larger files are refused before reading.
    pub max_bytes: u64,
}

impl FileUploadSpec {
    pub fn new(session: SessionId, pk: &str, dev: &str, name: &str, dest: PathBuf) -> FileUploadSpec {
        FileUploadSpec {
            session,
            pk: pk.into(),
            dev: dev.into(),
            file_id: String::new(),
            name: name.into(),
            dest,
            read_size: SERIAL_MAX_CHUNK,
            silence_timeout: DEFAULT_SILENCE,
            max_bytes: MAX_UPLOAD_BYTES,
        }
    }
}
