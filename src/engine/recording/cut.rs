//! A smaller recording from a time range of another: the same channels, schemas, metadata and
//! attachments, the messages received within the range, written as a complete MCAP (summary and
//! footer) beside the target and moved over it at the end.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use mcap::records::MessageHeader;

use super::read::open_recording;
use super::{RecordError, RecordOptions, ms_to_ns, write_options};
use crate::transport::replay::McapEntry;

/// What [`cut`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutReport {
    /// Messages in the new file.
    pub messages: u64,
    /// Its size.
    pub bytes: u64,
    /// The input's damage, when it was cut or corrupted: the new file holds what came before.
    pub damage: Option<String>,
}

/// Writes to `out` the messages of `input` received from `from_ms` to `to_ms` (epoch ms, both
/// included), with everything else the input declares.
pub fn cut(input: &Path, from_ms: i64, to_ms: i64, out: &Path) -> Result<CutReport, RecordError> {
    let mut reader = open_recording(input)?.with_attachments(true);
    let temp = temp_beside(out);
    let write_error = |source| RecordError::Write { path: out.to_path_buf(), source };
    let file = File::create(&temp).map_err(write_error)?;
    let result = (|| {
        let err = |e| RecordError::writing(out, e);
        let mut writer = write_options(RecordOptions::default().chunk_bytes).create(BufWriter::new(file)).map_err(err)?;
        let (from_ns, to_ns) = (ms_to_ns(from_ms), ms_to_ns(to_ms).saturating_add(999_999));
        let mut schemas: HashMap<u16, u16> = HashMap::new();
        let mut channels: HashMap<u16, u16> = HashMap::new();
        let mut messages = 0u64;
        let damage = loop {
            let entry = match reader.next_entry() {
                Ok(Some(entry)) => entry,
                Ok(None) => break None,
                Err(damage) => break Some(damage.to_string()),
            };
            match entry {
                McapEntry::Schema { id, name, encoding, data } => {
                    schemas.insert(id, writer.add_schema(&name, &encoding, &data).map_err(err)?);
                }
                McapEntry::Channel(channel) => {
                    let schema = schemas.get(&channel.schema_id).copied().unwrap_or(0);
                    let id = writer.add_channel(schema, &channel.topic, &channel.message_encoding, &channel.metadata).map_err(err)?;
                    channels.insert(channel.id, id);
                }
                McapEntry::Message(message) if (from_ns..=to_ns).contains(&message.log_time_ns) => {
                    // The reader hands out no message before its channel.
                    let Some(&channel_id) = channels.get(&message.channel.id) else { continue };
                    let header = MessageHeader {
                        channel_id,
                        sequence: message.sequence,
                        log_time: message.log_time_ns,
                        publish_time: message.publish_time_ns,
                    };
                    writer.write_to_known_channel(&header, &message.data).map_err(err)?;
                    messages += 1;
                }
                McapEntry::Message(_) => {}
                McapEntry::Metadata(metadata) => writer.write_metadata(&metadata).map_err(err)?,
                McapEntry::Attachment(attachment) => writer.attach(&attachment).map_err(err)?,
            }
        };
        writer.finish().map_err(err)?;
        let file = writer.into_inner().into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        drop(file);
        std::fs::rename(&temp, out).map_err(write_error)?;
        let bytes = std::fs::metadata(out).map_err(write_error)?.len();
        Ok(CutReport { messages, bytes, damage })
    })();
    if result.is_err() {
        // Best effort: nothing half-written is left under any name.
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// `.name.part-PID` in the target's folder, so the final rename stays on one file system.
fn temp_beside(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cut.mcap".into());
    out.with_file_name(format!(".{name}.part-{}", std::process::id()))
}
