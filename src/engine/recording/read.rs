//! A recording's messages, one at a time, for an export or a check: the transport's streaming
//! reader (the one a replay plays from), with times in epoch ms. What is readable before damage
//! is handed out; the damage comes back in the report, not as an error.

use std::ops::ControlFlow;
use std::path::Path;

use bytes::Bytes;

use super::RecordError;
use crate::transport::replay::{McapReader, ReplayError};

/// One recorded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMessage {
    pub topic: String,
    pub payload: Bytes,
    /// When it was received (MCAP `log_time`).
    pub log_ms: i64,
    /// The envelope's `ts` when it had one, else the receive time (MCAP `publish_time`).
    pub publish_ms: i64,
}

/// What [`read_messages`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Messages handed to the callback (the one it stopped at included).
    pub messages: u64,
    /// "recording damaged after N messages at byte B: …" when the file is cut or corrupted.
    pub damage: Option<String>,
    /// Earliest and latest receive time among them.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// Calls `each` with every message of the recording at `path` in file order, until it returns
/// `Break` or the data ends. An error only when the file cannot be opened or is not MCAP.
pub fn read_messages(path: &Path, mut each: impl FnMut(RecordedMessage) -> ControlFlow<()>) -> Result<ReadReport, RecordError> {
    let mut reader = open_recording(path)?;
    let mut report = ReadReport::default();
    loop {
        let message = match reader.next_message() {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(damage) => {
                report.damage = Some(damage.to_string());
                break;
            }
        };
        let log_ms = message.log_ms();
        report.messages += 1;
        report.first_ms = Some(report.first_ms.map_or(log_ms, |f| f.min(log_ms)));
        report.last_ms = Some(report.last_ms.map_or(log_ms, |l| l.max(log_ms)));
        let publish_ms = message.publish_ms();
        let recorded = RecordedMessage { topic: message.channel.topic.clone(), payload: message.data, log_ms, publish_ms };
        if each(recorded).is_break() {
            break;
        }
    }
    Ok(report)
}

/// The streaming reader on `path`, its faults said as a recording's.
pub(super) fn open_recording(path: &Path) -> Result<McapReader, RecordError> {
    McapReader::open(path).map_err(|e| match e {
        ReplayError::Open { path, source } => RecordError::Read { path, source },
        ReplayError::NotMcap { path, reason } => RecordError::NotMcap { path, reason },
    })
}
