//! One firmware or file transfer as the gateway pulls it (contract §8), without I/O or the rest
//! of the gateway's state: what arrived, which chunk to ask for next, progress. `downloads`
//! drives it over the simulator's state.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::{Fail, TaskRecord};
use crate::protocol::codes;
use crate::protocol::payload::{FileChunk, OtaChunk, OtaStep};

/// Chunk sizes the contract allows.
pub const CHUNK_SIZES: std::ops::RangeInclusive<u32> = 256..=65_536;
/// Largest image the simulator holds in memory.
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Rounds of unanswered chunk requests (each of `outbox::MAX_TRIES` sends) before failing.
pub const MAX_ROUNDS: u32 = 5;
/// `downloading` progress is reported at most every this many percent.
pub const PROGRESS_STEP: f64 = 5.0;

/// One running transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// `ota/upgrade` (true) or `file/download`.
    pub ota: bool,
    /// `taskId` or `fileId`.
    pub id: String,
    /// The module to install, or the file name to write.
    pub target: String,
    /// The version an OTA installs.
    pub version: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub chunk_size: u32,
    /// What arrived so far; its length is the next offset.
    pub data: Vec<u8>,
    pub reported_percent: f64,
    /// Chunk requests given up on (each retried with a new id from the same offset).
    pub rounds: u32,
}

impl Transfer {
    pub fn offset(&self) -> u64 {
        self.data.len() as u64
    }

    pub fn percent(&self) -> f64 {
        if self.size == 0 {
            return 100.0;
        }
        ((self.offset() as f64 / self.size as f64) * 1000.0).floor() / 10.0
    }

    /// (offset, length) of the next chunk, `None` when everything arrived.
    pub fn next_chunk(&self) -> Option<(u64, u32)> {
        let remaining = self.size.saturating_sub(self.offset());
        (remaining > 0).then(|| (self.offset(), u32::try_from(remaining.min(u64::from(self.chunk_size))).unwrap_or(self.chunk_size)))
    }

    /// The chunk request for the next chunk: (class, action, data, offset).
    pub fn chunk_request(&self) -> Option<(&'static str, &'static str, Value, u64)> {
        let (offset, length) = self.next_chunk()?;
        let data = if self.ota {
            json!({"taskId": self.id, "offset": offset, "length": length})
        } else {
            json!({"fileId": self.id, "offset": offset, "length": length})
        };
        Some((if self.ota { "ota" } else { "file" }, "chunk/get", data, offset))
    }

    pub fn record(&self, step: OtaStep, code: i64, msg: Option<String>) -> TaskRecord {
        TaskRecord {
            ota: self.ota,
            id: self.id.clone(),
            target: self.target.clone(),
            version: self.version.clone(),
            step,
            percent: self.percent(),
            code,
            msg,
        }
    }
}

pub fn fail(code: i64, msg: impl Into<String>) -> Fail {
    Fail { code, msg: msg.into() }
}

pub fn check_common(size: u64, sha256: &str, chunk_size: u32) -> Result<(), Fail> {
    if !CHUNK_SIZES.contains(&chunk_size) {
        return Err(fail(codes::BAD_PARAM, format!("chunkSize {chunk_size} is outside 256..=65536")));
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(fail(codes::BAD_PARAM, "sha256 must be 64 hex digits"));
    }
    if size > MAX_IMAGE_BYTES {
        return Err(fail(codes::NO_SPACE, format!("{size} bytes do not fit: at most {MAX_IMAGE_BYTES}")));
    }
    Ok(())
}

/// (id, offset, bytes) of a chunk reply's data.
pub fn chunk_data(ota: bool, data: &Value) -> Result<(String, u64, Vec<u8>), String> {
    let (id, offset, b64) = if ota {
        let c: OtaChunk = serde_json::from_value(data.clone()).map_err(|e| format!("chunk reply: {e}"))?;
        (c.task_id, c.offset, c.data)
    } else {
        let c: FileChunk = serde_json::from_value(data.clone()).map_err(|e| format!("chunk reply: {e}"))?;
        (c.file_id, c.offset, c.data)
    };
    let bytes = BASE64.decode(b64.as_bytes()).map_err(|e| format!("chunk at {offset}: data is not base64: {e}"))?;
    Ok((id, offset, bytes))
}

