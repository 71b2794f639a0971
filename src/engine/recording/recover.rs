//! Completing a recording cut short (a killed process, a pulled cable): its records are read
//! front to back up to the first one that is incomplete or damaged, written again as a whole
//! MCAP with summary and footer, and moved over the cut file.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use mcap::records::{MessageHeader, Record};

use super::{RecordError, RecordOptions, write_options};
use crate::transport::replay::{RECORD_FRAMING, salvage_cut_chunk};

/// What [`recover`] found and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverReport {
    pub path: PathBuf,
    /// The file already had its summary and footer: nothing was rewritten.
    pub was_complete: bool,
    pub messages_kept: u64,
    pub attachments_kept: u64,
    pub metadata_kept: u64,
    /// Size of the file before and after.
    pub original_bytes: u64,
    pub new_bytes: u64,
    /// Bytes from the first cut or damaged record to the end (whole messages at the start of a
    /// cut uncompressed chunk are kept all the same).
    pub bytes_cut: u64,
    /// Why reading stopped where it did (`None` for a complete file).
    pub damage: Option<String>,
}

/// Record framing: opcode (1) and body length (8).
const RECORD_HEAD: usize = RECORD_FRAMING as usize;

/// Completes the MCAP file at `path` in place (atomically), keeping every message up to the
/// damage; a complete file is left as it is.
pub fn recover(path: impl AsRef<Path>) -> Result<RecoverReport, RecordError> {
    let path = path.as_ref();
    let data = std::fs::read(path).map_err(|source| RecordError::Read { path: path.to_path_buf(), source })?;
    if !data.starts_with(mcap::MAGIC) {
        return Err(RecordError::NotMcap { path: path.to_path_buf(), reason: "it does not begin with the MCAP magic bytes".into() });
    }
    let err = |e| RecordError::writing(path, e);
    let mut out = Copier::new(write_options(RecordOptions::default().chunk_bytes).create(Cursor::new(Vec::new())).map_err(err)?);
    let mut pos = mcap::MAGIC.len();
    let mut complete = false;
    let damage = loop {
        let Some(head) = data.get(pos..pos + RECORD_HEAD) else {
            break (pos < data.len()).then(|| format!("a record cut at byte {pos}"));
        };
        let op = head[0];
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&head[1..]);
        let body_len = usize::try_from(u64::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
        let Some(body) = pos.checked_add(RECORD_HEAD).and_then(|start| Some(start..start.checked_add(body_len)?)).and_then(|r| data.get(r))
        else {
            if op == mcap::records::op::CHUNK {
                // A chunk cut mid-way: its whole messages are what a streaming reader shows.
                out.salvage_chunk(data.get(pos + RECORD_HEAD..).unwrap_or_default());
            }
            break Some(format!("a record cut at byte {pos}"));
        };
        let record = match mcap::parse_record(op, body) {
            Ok(r) => r,
            Err(e) => break Some(format!("a damaged record at byte {pos}: {e}")),
        };
        if let Record::Footer(_) = record {
            let end = pos + RECORD_HEAD + body_len;
            complete = data.get(end..) == Some(mcap::MAGIC);
            pos = end;
            break (!complete).then(|| format!("a footer at byte {pos} not followed by the closing magic"));
        }
        if let Err(reason) = out.copy(record) {
            break Some(format!("at byte {pos}: {reason}"));
        }
        pos += RECORD_HEAD + body_len;
    };
    let original_bytes = data.len() as u64;
    let mut report = RecoverReport {
        path: path.to_path_buf(),
        was_complete: complete,
        messages_kept: out.messages,
        attachments_kept: out.attachments,
        metadata_kept: out.metadata,
        original_bytes,
        new_bytes: original_bytes,
        bytes_cut: 0,
        damage,
    };
    if complete {
        return Ok(report);
    }
    out.writer.finish().map_err(err)?;
    let bytes = out.writer.into_inner().into_inner();
    crate::disk::write_atomic(path, &bytes).map_err(|source| RecordError::Write { path: path.to_path_buf(), source })?;
    report.new_bytes = bytes.len() as u64;
    report.bytes_cut = original_bytes - pos.min(data.len()) as u64;
    Ok(report)
}

/// True when the file ends with MCAP's closing magic, as a finished recording does (reads its last
/// bytes only).
pub fn is_complete(path: &Path) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let tail = mcap::MAGIC.len() as u64;
    if len < 2 * tail {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - tail))?;
    let mut end = vec![0u8; mcap::MAGIC.len()];
    file.read_exact(&mut end)?;
    Ok(end == mcap::MAGIC)
}

/// Completes every unfinished recording (`*.mcap`) directly in `dir` that no workbench is writing
/// now (a writer holds a lock on its file). One entry per file it tried; a missing folder is none.
pub fn recover_unfinished(dir: &Path) -> Vec<(PathBuf, Result<RecoverReport, RecordError>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for path in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        if path.extension().is_none_or(|ext| !ext.eq_ignore_ascii_case("mcap")) || !path.is_file() {
            continue;
        }
        match is_complete(&path) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(source) => {
                out.push((path.clone(), Err(RecordError::Read { path, source })));
                continue;
            }
        }
        if in_use(&path) {
            continue;
        }
        let result = recover(&path);
        out.push((path, result));
    }
    out
}

/// Another process holds the file's lock: a recording in progress.
fn in_use(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    // The probe's own lock ends when `file` is dropped here, before the file is rewritten.
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// Writes the data records of a cut file into a new one, renumbering schemas and channels.
struct Copier {
    writer: mcap::Writer<Cursor<Vec<u8>>>,
    schemas: HashMap<u16, u16>,
    channels: HashMap<u16, u16>,
    messages: u64,
    attachments: u64,
    metadata: u64,
}

impl Copier {
    fn new(writer: mcap::Writer<Cursor<Vec<u8>>>) -> Copier {
        Copier { writer, schemas: HashMap::new(), channels: HashMap::new(), messages: 0, attachments: 0, metadata: 0 }
    }

    /// Copies the whole records at the start of an uncompressed chunk's cut body (a compressed
    /// one cannot be read in part), as the replay's reader salvages them.
    fn salvage_chunk(&mut self, body: &[u8]) {
        for record in salvage_cut_chunk(body) {
            if self.copy(record).is_err() {
                return;
            }
        }
    }

    /// Copies one record; a whole chunk counts whole or not at all.
    fn copy(&mut self, record: Record<'_>) -> Result<(), String> {
        match record {
            Record::Chunk { header, data } => {
                let inner: Vec<Record<'_>> = mcap::read::ChunkReader::new(header, &data)
                    .and_then(|reader| reader.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("a damaged chunk: {e}"))?;
                inner.into_iter().try_for_each(|r| self.copy(r))
            }
            Record::Schema { header, data } => {
                let id = self.writer.add_schema(&header.name, &header.encoding, &data).map_err(|e| e.to_string())?;
                self.schemas.insert(header.id, id);
                Ok(())
            }
            Record::Channel(channel) => {
                let schema = if channel.schema_id == 0 { 0 } else { self.schemas.get(&channel.schema_id).copied().unwrap_or(0) };
                let id = self.writer.add_channel(schema, &channel.topic, &channel.message_encoding, &channel.metadata).map_err(|e| e.to_string())?;
                self.channels.insert(channel.id, id);
                Ok(())
            }
            Record::Message { header, data } => {
                let Some(&channel_id) = self.channels.get(&header.channel_id) else {
                    return Err(format!("a message on channel {} that was never declared", header.channel_id));
                };
                let header = MessageHeader { channel_id, ..header };
                self.writer.write_to_known_channel(&header, &data).map_err(|e| e.to_string())?;
                self.messages += 1;
                Ok(())
            }
            Record::Metadata(metadata) => {
                self.writer.write_metadata(&metadata).map_err(|e| e.to_string())?;
                self.metadata += 1;
                Ok(())
            }
            Record::Attachment { header, data, .. } => {
                let attachment = mcap::Attachment {
                    log_time: header.log_time,
                    create_time: header.create_time,
                    name: header.name,
                    media_type: header.media_type,
                    data,
                };
                self.writer.attach(&attachment).map_err(|e| e.to_string())?;
                self.attachments += 1;
                Ok(())
            }
            // The header is written anew; indexes, statistics and the rest of a summary are rebuilt.
            _ => Ok(()),
        }
    }
}

