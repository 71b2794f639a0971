//! [`Recorder`]: messages in, MCAP files out, with flushes and rotation.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use mcap::records::{MessageHeader, Metadata};

use super::sink::{Counted, Opener, file_opener};
use super::{METADATA_NAME, MODEL_MEDIA_TYPE, RecordError, RecordOptions, RecordStats, RecordingMeta};
use super::{classify, ms_to_ns, rotation_path, write_options};
use crate::transport::Message;

/// Per-record framing of a message in a chunk (opcode, length, channel, sequence, two times).
const MESSAGE_OVERHEAD: u64 = 1 + 8 + 2 + 4 + 8 + 8;

/// How a message came, besides its topic and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFlags {
    pub qos: u8,
    pub retain: bool,
    /// Over the link's packet limit: only a mark arrived, nothing to record.
    pub skipped: bool,
}

/// Writes a session's messages to an MCAP file (and its rotations). Call [`Recorder::finish`]
/// at the end; a recorder dropped without it still finishes its file as best it can.
pub struct Recorder {
    base: PathBuf,
    meta: RecordingMeta,
    options: RecordOptions,
    open: Opener,
    file: Option<OpenFile>,
    stats: RecordStats,
    /// Bytes of the files already finished.
    closed_bytes: u64,
    /// Why writing stopped; every later call says it again.
    failed: Option<String>,
}

struct OpenFile {
    path: PathBuf,
    writer: mcap::Writer<Counted>,
    written: Arc<AtomicU64>,
    /// A channel per (topic, encoding, QoS, retained): a replay republishes each message as it
    /// came. Found by the topic without copying it; a topic has one or two variants.
    channels: HashMap<String, Vec<(&'static str, u8, bool, u16)>>,
    sequence: u32,
    /// Estimated bytes and count of messages not yet flushed.
    pending_bytes: u64,
    pending_messages: u64,
    last_flush: Instant,
}

impl Recorder {
    /// Starts a recording at `path` with default options (no size limit).
    pub fn create(path: impl AsRef<Path>, meta: RecordingMeta) -> Result<Recorder, RecordError> {
        Self::create_with(path, meta, RecordOptions::default())
    }

    pub fn create_with(path: impl AsRef<Path>, meta: RecordingMeta, options: RecordOptions) -> Result<Recorder, RecordError> {
        Self::create_on(path.as_ref(), meta, options, file_opener())
    }

    pub(crate) fn create_on(path: &Path, meta: RecordingMeta, options: RecordOptions, open: Opener) -> Result<Recorder, RecordError> {
        let mut recorder = Recorder {
            base: path.to_path_buf(),
            meta,
            options,
            open,
            file: None,
            stats: RecordStats::default(),
            closed_bytes: 0,
            failed: None,
        };
        let file = recorder.open_file(0)?;
        recorder.file = Some(file);
        Ok(recorder)
    }

    /// Messages and bytes so far, and the file being written.
    pub fn stats(&self) -> RecordStats {
        let mut stats = self.stats.clone();
        stats.bytes = self.closed_bytes + self.file.as_ref().map_or(0, |f| f.written.load(Ordering::Relaxed));
        stats
    }

    /// Records one message received at `receive_time_ms` (epoch ms). Flushes when a second has
    /// passed since the last flush, and rotates past the size limit.
    pub fn write(&mut self, message: &Message, receive_time_ms: i64) -> Result<(), RecordError> {
        let flags = MessageFlags { qos: message.qos, retain: message.retain, skipped: message.skipped_bytes.is_some() };
        self.write_parts(&message.topic, &message.payload, flags, receive_time_ms)
    }

    /// [`Self::write`] of a message given by its parts (the engine's recording thread keeps its
    /// topics shared rather than one copy per message).
    pub fn write_parts(&mut self, topic: &str, payload: &[u8], flags: MessageFlags, receive_time_ms: i64) -> Result<(), RecordError> {
        self.check_running()?;
        if flags.skipped {
            self.stats.skipped += 1;
            return Ok(());
        }
        let result = self.write_inner(topic, payload, flags, receive_time_ms);
        self.note_failure(result)
    }

    /// Flushes if messages have waited for the flush interval; call it on a timer so a quiet
    /// link still gets its last messages to disk.
    pub fn flush_if_due(&mut self) -> Result<(), RecordError> {
        self.check_running()?;
        let due = self.file.as_ref().is_some_and(|f| f.pending_messages > 0 && f.last_flush.elapsed() >= self.options.flush_interval);
        if due { self.flush() } else { Ok(()) }
    }

    /// Closes the open chunk and hands the file's buffer to the OS.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.check_running()?;
        let result = match self.file.as_mut() {
            Some(file) => flush_file(file),
            None => Ok(()),
        };
        self.note_failure(result)
    }

    /// Writes the summary and footer, syncs the file, and returns the final counts.
    pub fn finish(mut self) -> Result<RecordStats, RecordError> {
        self.check_running()?;
        if let Some(file) = self.file.take() {
            let result = self.finish_file(file);
            self.note_failure(result)?;
        }
        Ok(self.stats())
    }

    fn write_inner(&mut self, topic: &str, payload: &[u8], flags: MessageFlags, receive_time_ms: i64) -> Result<(), RecordError> {
        let receive_ns = ms_to_ns(receive_time_ms);
        let (encoding, publish_ns) = classify(payload, receive_ns);
        let Some(file) = self.file.as_mut() else {
            return Err(RecordError::Stopped { path: self.base.clone(), reason: "the recording is finished".into() });
        };
        let MessageFlags { qos, retain, .. } = flags;
        let known = file.channels.get(topic).and_then(|variants| variants.iter().find(|v| (v.0, v.1, v.2) == (encoding, qos, retain))).map(|v| v.3);
        let channel_id = match known {
            Some(id) => id,
            None => {
                let metadata = BTreeMap::from([("qos".to_owned(), qos.to_string()), ("retain".to_owned(), retain.to_string())]);
                let id = file.writer.add_channel(0, topic, encoding, &metadata).map_err(|e| RecordError::writing(&file.path, e))?;
                file.channels.entry(topic.to_owned()).or_default().push((encoding, qos, retain, id));
                id
            }
        };
        let header = MessageHeader { channel_id, sequence: file.sequence, log_time: receive_ns, publish_time: publish_ns };
        file.writer.write_to_known_channel(&header, payload).map_err(|e| RecordError::writing(&file.path, e))?;
        file.sequence = file.sequence.wrapping_add(1);
        file.pending_bytes += MESSAGE_OVERHEAD + payload.len() as u64;
        file.pending_messages += 1;
        self.stats.messages += 1;
        let size = file.written.load(Ordering::Relaxed) + file.pending_bytes;
        if self.options.max_bytes.is_some_and(|max| size >= max) {
            return self.rotate();
        }
        if file.last_flush.elapsed() >= self.options.flush_interval {
            flush_file(file)?;
        }
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), RecordError> {
        let next = self.stats.files.len() as u32;
        if let Some(file) = self.file.take() {
            self.finish_file(file)?;
        }
        let file = self.open_file(next)?;
        self.file = Some(file);
        Ok(())
    }

    fn open_file(&mut self, n: u32) -> Result<OpenFile, RecordError> {
        let path = rotation_path(&self.base, n);
        let sink = (self.open)(&path).map_err(|source| RecordError::Write { path: path.clone(), source })?;
        let (sink, written) = Counted::new(sink);
        let chunk_bytes = match self.options.max_bytes {
            // Chunks wait in memory: keep one well under the limit so a file ends near it.
            Some(max) => self.options.chunk_bytes.min(max / 4),
            None => self.options.chunk_bytes,
        };
        let err = |e| RecordError::writing(&path, e);
        let mut writer = write_options(chunk_bytes).create(sink).map_err(err)?;
        let mut metadata = BTreeMap::new();
        metadata.insert("link".to_owned(), self.meta.link.clone());
        metadata.insert("version".to_owned(), self.meta.workbench_version.clone());
        metadata.insert("part".to_owned(), n.to_string());
        writer.write_metadata(&Metadata { name: METADATA_NAME.to_owned(), metadata }).map_err(err)?;
        let now_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        for (name, json) in &self.meta.models {
            let attachment = mcap::Attachment {
                log_time: now_ns,
                create_time: now_ns,
                name: name.clone(),
                media_type: MODEL_MEDIA_TYPE.to_owned(),
                data: Cow::Borrowed(json),
            };
            writer.attach(&attachment).map_err(err)?;
        }
        writer.flush().map_err(err)?;
        self.stats.file = path.clone();
        self.stats.files.push(path.clone());
        Ok(OpenFile {
            path,
            writer,
            written,
            channels: HashMap::new(),
            sequence: 0,
            pending_bytes: 0,
            pending_messages: 0,
            last_flush: Instant::now(),
        })
    }

    fn finish_file(&mut self, mut file: OpenFile) -> Result<(), RecordError> {
        let err = |e| RecordError::writing(&file.path, e);
        file.writer.finish().map_err(err)?;
        let mut sink = file.writer.into_inner();
        sink.sync().map_err(|source| RecordError::Write { path: file.path.clone(), source })?;
        self.closed_bytes += file.written.load(Ordering::Relaxed);
        Ok(())
    }

    fn check_running(&self) -> Result<(), RecordError> {
        match &self.failed {
            Some(reason) => Err(RecordError::Stopped { path: self.stats.file.clone(), reason: reason.clone() }),
            None => Ok(()),
        }
    }

    /// After a fault the recorder stops: what is on disk stays as the last flush left it.
    fn note_failure<T>(&mut self, result: Result<T, RecordError>) -> Result<T, RecordError> {
        if let Err(e) = &result {
            self.failed = Some(e.to_string());
        }
        result
    }
}

fn flush_file(file: &mut OpenFile) -> Result<(), RecordError> {
    file.writer.flush().map_err(|e| RecordError::writing(&file.path, e))?;
    file.pending_bytes = 0;
    file.pending_messages = 0;
    file.last_flush = Instant::now();
    Ok(())
}
