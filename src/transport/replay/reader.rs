//! Reading an MCAP file front to back without loading it: one record at a time from a buffered
//! file, one chunk in memory at most. Attachments are skipped unless asked for (a replay never
//! needs them), so a recording of any size plays in a few MiB.
//!
//! Damage (a file cut short, a bad length, a chunk whose CRC fails) ends the reading with a
//! [`ReadDamage`] that says how many messages came before it and at which byte; everything
//! readable up to there has been handed out. Nothing here panics on any input.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use mcap::records::{Metadata, Record, op};

use super::chunk::{RECORD_HEAD, records_of_chunk, salvage_cut_chunk};
use crate::transport::Message;
/// The largest record read into memory (a chunk, a message, an attachment when asked for).
/// Our recorder writes 1 MiB chunks; a larger length is damage, not a reason to allocate it.
pub const MAX_RECORD_BYTES: u64 = 512 * 1024 * 1024;

/// Why a recording cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot open recording {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("{}: not an MCAP file: {reason}", path.display())]
    NotMcap { path: PathBuf, reason: String },
}

/// Where and why reading stopped before the file's end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recording damaged after {messages} messages at byte {byte}: {reason}")]
pub struct ReadDamage {
    /// Messages handed out before the damage.
    pub messages: u64,
    /// Offset of the record that could not be read whole.
    pub byte: u64,
    pub reason: String,
}

/// A channel as the file declares it. QoS and retain come from the channel's `qos`/`retain`
/// metadata (our recorder keeps a channel per topic, QoS and retained flag); without them a
/// message reads as QoS 0, not retained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedChannel {
    pub id: u16,
    pub schema_id: u16,
    pub topic: String,
    pub message_encoding: String,
    pub metadata: BTreeMap<String, String>,
    pub qos: u8,
    pub retain: bool,
}

impl RecordedChannel {
    fn from_record(channel: mcap::records::Channel) -> RecordedChannel {
        let qos = channel.metadata.get("qos").and_then(|q| q.parse::<u8>().ok()).map_or(0, |q| q.min(1));
        let retain = channel.metadata.get("retain").is_some_and(|r| r == "true");
        RecordedChannel {
            id: channel.id,
            schema_id: channel.schema_id,
            topic: channel.topic,
            message_encoding: channel.message_encoding,
            metadata: channel.metadata,
            qos,
            retain,
        }
    }
}

/// One message record, with its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McapMessage {
    pub channel: Arc<RecordedChannel>,
    pub sequence: u32,
    pub log_time_ns: u64,
    pub publish_time_ns: u64,
    pub data: Bytes,
}

impl McapMessage {
    /// The receive time when it was recorded, epoch ms.
    pub fn log_ms(&self) -> i64 {
        ns_to_ms(self.log_time_ns)
    }

    pub fn publish_ms(&self) -> i64 {
        ns_to_ms(self.publish_time_ns)
    }

    /// The message as a link would have delivered it.
    pub fn to_message(&self) -> Message {
        Message::new(self.channel.topic.clone(), self.data.clone(), self.channel.qos, self.channel.retain)
    }
}

/// MCAP's ns as our epoch ms.
pub fn ns_to_ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

/// The records a reader hands out, in file order.
#[derive(Debug)]
pub enum McapEntry {
    Schema { id: u16, name: String, encoding: String, data: Vec<u8> },
    Channel(Arc<RecordedChannel>),
    Message(McapMessage),
    Metadata(Metadata),
    Attachment(mcap::Attachment<'static>),
}

/// Reads one MCAP file front to back; see the module documentation.
pub struct McapReader {
    path: PathBuf,
    file: BufReader<File>,
    file_len: u64,
    /// Offset of the next top-level record.
    pos: u64,
    channels: HashMap<u16, Arc<RecordedChannel>>,
    /// Entries of the chunk being handed out.
    queue: VecDeque<McapEntry>,
    /// Damage found behind the queued entries: (byte, reason), said once they are out.
    damage_after_queue: Option<(u64, String)>,
    messages: u64,
    attachments: bool,
    ended: bool,
}

impl McapReader {
    /// Opens `path` and checks that it is MCAP; attachments are skipped.
    pub fn open(path: &Path) -> Result<McapReader, ReplayError> {
        let open_error = |source| ReplayError::Open { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(open_error)?;
        let file_len = file.metadata().map_err(open_error)?.len();
        let mut file = BufReader::with_capacity(256 * 1024, file);
        let mut magic = [0u8; 8];
        let got = read_full(&mut file, &mut magic).map_err(open_error)?;
        if got < magic.len() || magic != *mcap::MAGIC {
            let reason = if file_len == 0 { "the file is empty".to_owned() } else { "it does not begin with the MCAP magic bytes".to_owned() };
            return Err(ReplayError::NotMcap { path: path.to_path_buf(), reason });
        }
        Ok(McapReader {
            path: path.to_path_buf(),
            file,
            file_len,
            pos: magic.len() as u64,
            channels: HashMap::new(),
            queue: VecDeque::new(),
            damage_after_queue: None,
            messages: 0,
            attachments: false,
            ended: false,
        })
    }

    /// Hands out attachments too (a cut copies them).
    pub fn with_attachments(mut self, on: bool) -> McapReader {
        self.attachments = on;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Messages handed out so far.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// The next record; `Ok(None)` at the end of the data (and after damage was reported once).
    pub fn next_entry(&mut self) -> Result<Option<McapEntry>, ReadDamage> {
        loop {
            if let Some(entry) = self.queue.pop_front() {
                if matches!(entry, McapEntry::Message(_)) {
                    self.messages += 1;
                }
                return Ok(Some(entry));
            }
            if let Some((byte, reason)) = self.damage_after_queue.take() {
                self.ended = true;
                return Err(ReadDamage { messages: self.messages, byte, reason });
            }
            if self.ended {
                return Ok(None);
            }
            if let Err((byte, reason)) = self.read_record() {
                self.damage_after_queue = Some((byte, reason));
            }
        }
    }

    /// The next message, skipping every other record.
    pub fn next_message(&mut self) -> Result<Option<McapMessage>, ReadDamage> {
        while let Some(entry) = self.next_entry()? {
            if let McapEntry::Message(message) = entry {
                return Ok(Some(message));
            }
        }
        Ok(None)
    }

    /// Reads one top-level record into the queue (a chunk gives many entries, an index none).
    fn read_record(&mut self) -> Result<(), (u64, String)> {
        let start = self.pos;
        let mut head = [0u8; RECORD_HEAD as usize];
        let got = read_full(&mut self.file, &mut head).map_err(|e| (start, format!("cannot read: {e}")))?;
        if got == 0 {
            return Err((start, "the file ends without its footer: it was cut short (`record --recover` completes it)".into()));
        }
        if got < head.len() {
            return Err((start, "a record cut short".into()));
        }
        let opcode = head[0];
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&head[1..]);
        let len = u64::from_le_bytes(len_bytes);
        let left = self.left_after(start + RECORD_HEAD);
        if len > left {
            if opcode == op::CHUNK {
                // A chunk cut mid-way (a killed recorder): its whole messages are still good.
                let body = self.read_body(left.min(MAX_RECORD_BYTES)).map_err(|e| (start, format!("cannot read: {e}")))?;
                for record in salvage_cut_chunk(&body) {
                    self.accept(record).map_err(|reason| (start, reason))?;
                }
            }
            return Err((start, format!("a record cut short ({len} bytes announced, {left} left in the file)")));
        }
        self.pos = start + RECORD_HEAD + len;
        let skip = match opcode {
            op::ATTACHMENT => !self.attachments,
            op::MESSAGE_INDEX | op::CHUNK_INDEX | op::ATTACHMENT_INDEX | op::METADATA_INDEX | op::STATISTICS | op::SUMMARY_OFFSET => true,
            _ => false,
        };
        if skip {
            return self.skip(len).map_err(|e| (start, format!("cannot read: {e}")));
        }
        if len > MAX_RECORD_BYTES {
            return Err((start, format!("a record of {len} bytes, more than a replay reads ({MAX_RECORD_BYTES})")));
        }
        let body = self.read_body(len).map_err(|e| (start, format!("cannot read: {e}")))?;
        let record = mcap::parse_record(opcode, &body).map_err(|e| (start, format!("a damaged record (opcode {opcode:#04x}): {e}")))?;
        match record {
            Record::Footer(_) | Record::DataEnd(_) => self.ended = true,
            Record::Chunk { header, data } => {
                let (records, fault) = records_of_chunk(header, &data);
                for record in records {
                    self.accept(record).map_err(|reason| (start, reason))?;
                }
                if let Some(reason) = fault {
                    return Err((start, reason));
                }
            }
            record => self.accept(record).map_err(|reason| (start, reason))?,
        }
        Ok(())
    }

    /// Queues what a record gives; an error for a message on a channel never declared.
    fn accept(&mut self, record: Record<'_>) -> Result<(), String> {
        let entry = match record {
            Record::Schema { header, data } => {
                McapEntry::Schema { id: header.id, name: header.name, encoding: header.encoding, data: data.into_owned() }
            }
            Record::Channel(channel) => {
                let channel = Arc::new(RecordedChannel::from_record(channel));
                self.channels.insert(channel.id, channel.clone());
                McapEntry::Channel(channel)
            }
            Record::Message { header, data } => {
                let Some(channel) = self.channels.get(&header.channel_id) else {
                    return Err(format!("a message on channel {} that was never declared", header.channel_id));
                };
                McapEntry::Message(McapMessage {
                    channel: channel.clone(),
                    sequence: header.sequence,
                    log_time_ns: header.log_time,
                    publish_time_ns: header.publish_time,
                    data: Bytes::copy_from_slice(&data),
                })
            }
            Record::Metadata(metadata) => McapEntry::Metadata(metadata),
            Record::Attachment { header, data, .. } if self.attachments => McapEntry::Attachment(mcap::Attachment {
                log_time: header.log_time,
                create_time: header.create_time,
                name: header.name,
                media_type: header.media_type,
                data: std::borrow::Cow::Owned(data.into_owned()),
            }),
            // Headers, indexes, statistics and records of later MCAP versions: nothing to play.
            _ => return Ok(()),
        };
        self.queue.push_back(entry);
        Ok(())
    }

    /// Bytes left in the file after `offset`. A file still being written grows: asked again.
    fn left_after(&mut self, offset: u64) -> u64 {
        if let Ok(meta) = self.file.get_ref().metadata() {
            self.file_len = self.file_len.max(meta.len());
        }
        self.file_len.saturating_sub(offset)
    }

    fn read_body(&mut self, len: u64) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        (&mut self.file).take(len).read_to_end(&mut body)?;
        Ok(body)
    }

    /// Seeks past a record not needed (an attachment can be large); its length was checked
    /// against the file's.
    fn skip(&mut self, len: u64) -> io::Result<()> {
        let len = i64::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a record longer than any file"))?;
        self.file.seek_relative(len)
    }
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
