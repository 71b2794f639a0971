//! What the engine copies its traffic to besides its own state: the MCAP recording (every
//! received message) and the point history (every sample and alarm). Offers gather during a
//! burst of link events and [`Taps::flush`] hands them over once per burst, so the threads
//! behind wake once per burst rather than once per message. Nothing here blocks the loop.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::history::{HistoryBatch, HistoryHandle, HistoryMonitor};
use super::notice::NoticeText;
use super::series::SeriesKey;
use super::recording::{RecordOptions, RecordingMeta, RecordingOutcome, RecordingTask, SharedRecordingStatus};
use crate::transport::Message;

#[derive(Default)]
pub(super) struct Taps {
    recording: Option<RecordingTask>,
    history: Option<HistoryHandle>,
    /// What this burst gives the history.
    history_pending: HistoryBatch,
    /// The history writer's stop was said already.
    history_stop_said: bool,
    /// Series keys handed to the history, shared: the writer's thread then frees no key.
    interned: HashSet<Arc<SeriesKey>>,
}

/// Keys interned at most; past it the set starts again (old keys live on in queued batches).
const MAX_INTERNED: usize = 200_000;

impl Taps {
    /// A message received at `received_ms`, for the recording.
    pub(super) fn message(&mut self, message: &Message, received_ms: i64) {
        if let Some(recording) = &mut self.recording {
            recording.offer(message, received_ms);
        }
    }

    /// A history is attached: samples and alarms are worth taking out of payloads for it.
    pub(super) fn keeps_history(&self) -> bool {
        self.history.is_some()
    }

    /// Adds to what goes to the point history at the end of this burst (nothing without one).
    pub(super) fn history(&mut self, batch: impl FnOnce() -> HistoryBatch) {
        if self.history.is_none() {
            return;
        }
        let batch = batch();
        for series in batch.series {
            let key = match self.interned.get(&series.key) {
                Some(key) => key.clone(),
                None => {
                    if self.interned.len() >= MAX_INTERNED {
                        self.interned.clear();
                    }
                    let key = Arc::new(series.key);
                    self.interned.insert(key.clone());
                    key
                }
            };
            let source = series.source;
            self.history_pending.keyed.extend(series.samples.iter().map(|&(ts, v, q)| (key.clone(), source, ts, v, q)));
        }
        let pending = &mut self.history_pending;
        pending.keyed.extend(batch.keyed);
        pending.alarms.extend(batch.alarms);
        pending.acks.extend(batch.acks);
    }

    /// Hands the burst over; a notice, once, when the history writer has stopped (disk full,
    /// folder gone): what it wrote before is kept.
    pub(super) fn flush(&mut self) -> Option<NoticeText> {
        if let Some(recording) = &mut self.recording {
            recording.flush();
        }
        let history = self.history.as_ref()?;
        if self.history_pending.is_empty() || history.offer(std::mem::take(&mut self.history_pending)) || self.history_stop_said {
            return None;
        }
        let error = history.last_error()?;
        self.history_stop_said = true;
        let args = vec![("file", history.path().display().to_string().into()), ("error", error.to_string().into())];
        Some(NoticeText::new("the point history {file} stopped writing: {error}; what was written before is kept", args))
    }

    /// Starts recording to `path` (a running recording is finished first); `ended` hears how it
    /// ended, from the recording's thread. A thread that cannot start is said at once.
    pub(super) fn start_recording(
        &mut self,
        path: PathBuf,
        (meta, options): (RecordingMeta, RecordOptions),
        status: SharedRecordingStatus,
        ended: impl FnOnce(RecordingOutcome) + Send + 'static,
    ) -> Result<(), NoticeText> {
        self.stop_recording();
        match RecordingTask::start(path.clone(), meta, options, status, ended) {
            Ok(task) => {
                self.recording = Some(task);
                Ok(())
            }
            Err(e) => Err(recording_ended_notice(&path, &Err(format!("cannot start the recording thread: {e}")))),
        }
    }

    /// Finishes the recording in progress (its thread writes what is queued, then the footer).
    pub(super) fn stop_recording(&mut self) {
        if let Some(recording) = self.recording.take() {
            recording.stop();
        }
    }

    /// The recording of `path` ended by itself (an error): it is no longer offered messages.
    pub(super) fn recording_ended(&mut self, path: &Path) {
        if self.recording.as_ref().is_some_and(|r| r.path() == path) {
            self.recording = None;
        }
    }

    /// Attaches a history writer; gives back the one it replaces, to be closed off the loop (its
    /// close waits for its queue). What this burst gathered goes to the one it was gathered for.
    pub(super) fn attach_history(&mut self, handle: HistoryHandle) -> (Option<HistoryHandle>, (PathBuf, HistoryMonitor)) {
        self.flush();
        self.history_stop_said = false;
        let shared = (handle.path().to_path_buf(), handle.monitor());
        (self.history.replace(handle), shared)
    }

    /// Detaches the history writer, to be closed off the loop.
    pub(super) fn detach_history(&mut self) -> Option<HistoryHandle> {
        self.flush();
        self.history.take()
    }

    /// At the engine's end: the recording finished, the history's queue written (this waits).
    pub(super) fn shutdown(&mut self) {
        self.stop_recording();
        self.flush();
        drop(self.history.take());
    }
}

/// "Recording saved: FILE (N messages, B bytes)", or why it stopped.
pub(super) fn recording_ended_notice(path: &Path, outcome: &RecordingOutcome) -> NoticeText {
    match outcome {
        Ok(stats) => {
            let args = vec![
                ("file", stats.file.display().to_string().into()),
                ("messages", stats.messages.to_string().into()),
                ("files", stats.files.len().to_string().into()),
                ("bytes", stats.bytes.to_string().into()),
            ];
            NoticeText::new("recording saved: {file} ({messages} messages, {bytes} bytes, {files} file(s))", args)
        }
        Err(reason) => {
            let args = vec![("file", path.display().to_string().into()), ("reason", reason.as_str().into())];
            NoticeText::new("recording to {file} stopped: {reason}; what was written before stays readable", args)
        }
    }
}
