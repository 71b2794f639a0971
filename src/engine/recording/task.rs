//! A recording running beside the engine: the engine hands each message over a bounded channel
//! to a thread that owns the [`Recorder`], so a slow disk never stalls the engine's loop. The
//! thread flushes on a timer (a quiet link still reaches the disk within a second), publishes
//! its counts for a status bar and reports once when it ends.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use std::collections::HashSet;

use bytes::Bytes;

use super::{MessageFlags, RecordOptions, RecordStats, Recorder, RecordingMeta};
use crate::protocol::time::now_ms;
use crate::transport::Message;

/// Groups of messages waiting for the disk (the engine hands over one group per burst it took
/// in, up to about a thousand). Payloads are shared `Bytes`: this costs topics and handles.
const QUEUE: usize = 256;
/// How often the thread wakes with nothing to write, to flush and to publish its counts.
const TICK: Duration = Duration::from_millis(200);
/// Messages written between two updates of the shared status.
const STATUS_EVERY: u64 = 512;

/// What the window's status bar and the CLI read about the recording in progress (or the last one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingStatus {
    /// A recording is being written now.
    pub active: bool,
    pub stats: RecordStats,
    /// Epoch ms the recording started.
    pub started_ms: i64,
    /// Messages the disk could not keep up with (the queue was full): not in the file.
    pub refused: u64,
    /// Why the recording stopped early (full disk, folder gone); what was flushed stays readable.
    pub error: Option<String>,
}

/// Shared between the recording thread (writer) and the faces (readers).
pub type SharedRecordingStatus = Arc<RwLock<RecordingStatus>>;

/// How a recording ended: its final counts, or why it stopped.
pub type RecordingOutcome = Result<RecordStats, String>;

/// A message as the thread takes it: the topic shared (interned by the engine's side), so the
/// thread frees no per-message copy of it.
type Queued = (Arc<str>, Bytes, MessageFlags, i64);

enum Item {
    Messages(Vec<Queued>),
    Stop,
}

/// Topics interned at most; past it the set starts again.
const MAX_TOPICS: usize = 100_000;

/// The engine's side of a running recording.
pub struct RecordingTask {
    tx: SyncSender<Item>,
    status: SharedRecordingStatus,
    path: PathBuf,
    /// Offered since the last [`RecordingTask::flush`]: one hand-over per burst, so the thread
    /// is woken once per burst rather than once per message.
    pending: Vec<Queued>,
    topics: HashSet<Arc<str>>,
}

impl RecordingTask {
    /// Starts writing `path` on a new thread; `ended` is called once from that thread with the
    /// outcome (also when the file could not be created).
    pub fn start(
        path: PathBuf,
        meta: RecordingMeta,
        options: RecordOptions,
        status: SharedRecordingStatus,
        ended: impl FnOnce(RecordingOutcome) + Send + 'static,
    ) -> std::io::Result<RecordingTask> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        set(&status, RecordingStatus { active: true, started_ms: now_ms(), stats: RecordStats { file: path.clone(), ..RecordStats::default() }, ..RecordingStatus::default() });
        let thread_status = status.clone();
        let thread_path = path.clone();
        std::thread::Builder::new().name("recording".into()).spawn(move || {
            let outcome = run(thread_path, meta, options, rx, &thread_status);
            let mut s = thread_status.write().unwrap_or_else(|e| e.into_inner());
            s.active = false;
            match &outcome {
                Ok(stats) => s.stats = stats.clone(),
                Err(reason) => s.error = Some(reason.clone()),
            }
            drop(s);
            ended(outcome);
        })?;
        Ok(RecordingTask { tx, status, path, pending: Vec::new(), topics: HashSet::new() })
    }

    /// Takes one message for the recording; it goes to the thread at the next [`Self::flush`].
    pub fn offer(&mut self, message: &Message, received_ms: i64) {
        let topic = match self.topics.get(message.topic.as_str()) {
            Some(topic) => topic.clone(),
            None => {
                if self.topics.len() >= MAX_TOPICS {
                    self.topics.clear();
                }
                let topic: Arc<str> = Arc::from(message.topic.as_str());
                self.topics.insert(topic.clone());
                topic
            }
        };
        let flags = MessageFlags { qos: message.qos, retain: message.retain, skipped: message.skipped_bytes.is_some() };
        self.pending.push((topic, message.payload.clone(), flags, received_ms));
    }

    /// Hands what was offered to the thread; `false` when it was refused (the disk is behind and
    /// the queue full: counted in the status, or the recording already stopped on an error).
    pub fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        match self.tx.try_send(Item::Messages(std::mem::take(&mut self.pending))) {
            Ok(()) => true,
            Err(TrySendError::Full(Item::Messages(refused))) => {
                self.status.write().unwrap_or_else(|e| e.into_inner()).refused += refused.len() as u64;
                false
            }
            Err(_) => false,
        }
    }

    /// The file this recording started with.
    pub fn path(&self) -> &PathBuf {
        &self.path
    }

    /// Asks the thread to write what is queued, finish the file and end. Never blocks: a full
    /// queue gets the stop from a helper thread once there is room.
    pub fn stop(mut self) {
        self.flush();
        if let Err(TrySendError::Full(item)) = self.tx.try_send(Item::Stop) {
            let tx = self.tx.clone();
            // The thread is draining the queue; it takes the stop after what is queued.
            let _ = std::thread::Builder::new().name("recording-stop".into()).spawn(move || {
                let _ = tx.send(item);
            });
        }
    }
}

fn set(status: &SharedRecordingStatus, value: RecordingStatus) {
    *status.write().unwrap_or_else(|e| e.into_inner()) = value;
}

fn run(path: PathBuf, meta: RecordingMeta, options: RecordOptions, rx: mpsc::Receiver<Item>, status: &SharedRecordingStatus) -> RecordingOutcome {
    let mut recorder = Recorder::create_with(&path, meta, options).map_err(|e| e.to_string())?;
    let mut since_status = 0u64;
    let mut last_status = Instant::now();
    loop {
        let item = match rx.recv_timeout(TICK) {
            Ok(item) => Some(item),
            Err(RecvTimeoutError::Timeout) => None,
            // The engine is gone without a stop: finish the file all the same.
            Err(RecvTimeoutError::Disconnected) => Some(Item::Stop),
        };
        match item {
            Some(Item::Messages(messages)) => {
                for (topic, payload, flags, received_ms) in &messages {
                    recorder.write_parts(topic, payload, *flags, *received_ms).map_err(|e| e.to_string())?;
                }
                since_status += messages.len() as u64;
                if since_status < STATUS_EVERY && last_status.elapsed() < TICK {
                    continue;
                }
            }
            Some(Item::Stop) => return recorder.finish().map_err(|e| e.to_string()),
            None => recorder.flush_if_due().map_err(|e| e.to_string())?,
        }
        since_status = 0;
        last_status = Instant::now();
        status.write().unwrap_or_else(|e| e.into_inner()).stats = recorder.stats();
    }
}
