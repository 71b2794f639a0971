//! One firmware or file transfer as the gateway pulls it (contract §8), without I/O or the rest
//! of the gateway's state: what arrived, which chunks to ask for next, progress. `downloads`
//! drives it over the simulator's state.
//!
//! Up to `window` chunk requests are outstanding at once; the master answers each by offset, so
//! replies may come in any order. Chunks that arrive ahead of a gap wait in `early` until the gap
//! fills, so the image is still written in order; a chunk given up on is asked again from the
//! last good offset it left open.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::api::{Fail, TaskRecord};
use crate::protocol::codes;
use crate::protocol::payload::{CHUNK_SIZES, FileChunk, FileDownload, MAX_CHUNK_WINDOW, OtaChunk, OtaStep, OtaUpgrade};

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
    /// Bytes asked for per chunk: the announced `chunkSize`, less when the link needs it.
    pub chunk_size: u32,
    /// Chunk requests outstanding at most, 1..=[`MAX_CHUNK_WINDOW`].
    pub window: usize,
    /// The image written in order so far; its length is the last good offset.
    pub data: Vec<u8>,
    /// Chunks that arrived ahead of a gap, by offset; held until the gap fills.
    early: BTreeMap<u64, Vec<u8>>,
    /// Chunks asked for and not answered yet: offset → length.
    asked: BTreeMap<u64, u32>,
    pub reported_percent: f64,
    /// Chunk requests given up on since the last good chunk (each asked again with a new id).
    pub rounds: u32,
}

/// What a chunk reply did to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The bytes were taken (written, or held until a gap before them fills).
    Taken,
    /// Not a chunk this transfer is waiting for (a late or repeated answer): ignored.
    Stale,
}

impl Transfer {
    /// A transfer for an accepted `ota/upgrade`, asking `chunk_size` bytes at a time.
    pub fn ota(req: &OtaUpgrade, chunk_size: u32, window: usize) -> Transfer {
        let version = Some(req.version.clone());
        Transfer { version, ..Transfer::new(true, &req.task_id, &req.module, req.size, &req.sha256, chunk_size, window) }
    }

    /// A transfer for an accepted `file/download`, asking `chunk_size` bytes at a time.
    pub fn file(req: &FileDownload, chunk_size: u32, window: usize) -> Transfer {
        Transfer::new(false, &req.file_id, &req.name, req.size, &req.sha256, chunk_size, window)
    }

    fn new(ota: bool, id: &str, target: &str, size: u64, sha256: &str, chunk_size: u32, window: usize) -> Transfer {
        Transfer {
            ota,
            id: id.to_owned(),
            target: target.to_owned(),
            version: None,
            size,
            sha256: sha256.to_ascii_lowercase(),
            chunk_size: chunk_size.max(1),
            window: window.clamp(1, MAX_CHUNK_WINDOW),
            data: Vec::new(),
            early: BTreeMap::new(),
            asked: BTreeMap::new(),
            reported_percent: 0.0,
            rounds: 0,
        }
    }

    /// The last good offset: everything before it is written.
    pub fn offset(&self) -> u64 {
        self.data.len() as u64
    }

    pub fn percent(&self) -> f64 {
        if self.size == 0 {
            return 100.0;
        }
        ((self.offset() as f64 / self.size as f64) * 1000.0).floor() / 10.0
    }

    pub fn is_complete(&self) -> bool {
        self.offset() >= self.size
    }

    /// Offsets asked for and not answered yet.
    pub fn outstanding(&self) -> usize {
        self.asked.len()
    }

    /// Chunks held ahead of a gap.
    pub fn held(&self) -> usize {
        self.early.len()
    }

    /// The (offset, length) of each new chunk request that fits the window now, marked as asked.
    /// Held chunks count against the window too, so memory stays at `window` chunks whatever
    /// the master does. Asks fill the holes after the last good offset, lowest first.
    pub fn next_asks(&mut self) -> Vec<(u64, u32)> {
        let mut covered: Vec<(u64, u64)> = self.asked.iter().map(|(&o, &l)| (o, o + u64::from(l))).collect();
        covered.extend(self.early.iter().map(|(&o, b)| (o, o + b.len() as u64)));
        covered.sort_unstable();
        let mut asks = Vec::new();
        let mut pos = self.offset();
        let mut next_covered = covered.into_iter().peekable();
        while self.asked.len() + self.early.len() < self.window && pos < self.size {
            // Skip what is asked or held at or before `pos`.
            while let Some(&(start, end)) = next_covered.peek() {
                if start > pos {
                    break;
                }
                pos = pos.max(end);
                next_covered.next();
            }
            if pos >= self.size {
                break;
            }
            let hole_end = next_covered.peek().map_or(self.size, |&(start, _)| start);
            let length = (hole_end - pos).min(u64::from(self.chunk_size));
            // length ≤ chunk_size, a u32.
            let length = u32::try_from(length).unwrap_or(self.chunk_size);
            self.asked.insert(pos, length);
            asks.push((pos, length));
            pos += u64::from(length);
        }
        asks
    }

    /// The chunk request's (class, action, data) for a chunk at `offset` of `length` bytes.
    pub fn chunk_request(&self, offset: u64, length: u32) -> (&'static str, &'static str, Value) {
        let data = if self.ota {
            json!({"taskId": self.id, "offset": offset, "length": length})
        } else {
            json!({"fileId": self.id, "offset": offset, "length": length})
        };
        (if self.ota { "ota" } else { "file" }, "chunk/get", data)
    }

    /// Takes the data of a code-0 reply to the chunk request at `offset`; an error is a reply
    /// that cannot be right (another id or offset, not base64, empty or longer than asked), which
    /// fails the transfer.
    pub fn on_chunk(&mut self, offset: u64, reply_data: &Value) -> Result<Arrival, String> {
        let Some(&asked) = self.asked.get(&offset) else {
            return Ok(Arrival::Stale);
        };
        let (id, at, bytes) = chunk_data(self.ota, reply_data)?;
        if id != self.id {
            return Err(format!("chunk for \"{id}\", expected \"{}\"", self.id));
        }
        if at != offset {
            return Err(format!("chunk at offset {at}, asked for {offset}"));
        }
        if bytes.is_empty() || bytes.len() > asked as usize {
            return Err(format!("chunk at {offset} has {} bytes, asked for {asked}", bytes.len()));
        }
        self.asked.remove(&offset);
        self.rounds = 0;
        // A short chunk leaves a hole after it, which `next_asks` asks for.
        self.early.insert(offset, bytes);
        while let Some(bytes) = self.early.remove(&self.offset()) {
            self.data.extend_from_slice(&bytes);
        }
        Ok(Arrival::Taken)
    }

    /// The request for the chunk at `offset` went unanswered: it is asked again (a new id) by
    /// the next [`Transfer::next_asks`]. True when the master has been silent for
    /// [`MAX_ROUNDS`] rounds and the transfer should fail.
    pub fn on_gave_up(&mut self, offset: u64) -> bool {
        if self.asked.remove(&offset).is_none() {
            return false;
        }
        self.rounds += 1;
        self.rounds >= MAX_ROUNDS
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
fn chunk_data(ota: bool, data: &Value) -> Result<(String, u64, Vec<u8>), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 13 % 251) as u8).collect()
    }

    fn transfer(size: usize, chunk: u32, window: usize) -> Transfer {
        let req = FileDownload { file_id: "f".into(), name: "x.bin".into(), size: size as u64, sha256: "0".repeat(64), chunk_size: chunk };
        Transfer::file(&req, chunk, window)
    }

    fn reply(img: &[u8], offset: u64, length: u32) -> Value {
        let end = (offset as usize + length as usize).min(img.len());
        json!({"fileId": "f", "offset": offset, "data": BASE64.encode(&img[offset as usize..end])})
    }

    #[test]
    fn a_window_of_asks_answered_out_of_order_is_written_in_order() {
        let img = image(10_000);
        let mut t = transfer(img.len(), 1_000, 4);
        let asks = t.next_asks();
        assert_eq!(asks, [(0, 1000), (1000, 1000), (2000, 1000), (3000, 1000)]);
        assert!(t.next_asks().is_empty(), "the window is full");
        // The last first: held, nothing written until the gap before it fills.
        assert_eq!(t.on_chunk(3000, &reply(&img, 3000, 1000)), Ok(Arrival::Taken));
        assert_eq!(t.on_chunk(1000, &reply(&img, 1000, 1000)), Ok(Arrival::Taken));
        assert_eq!((t.offset(), t.held()), (0, 2));
        assert!(t.next_asks().is_empty(), "held chunks count against the window");
        assert_eq!(t.on_chunk(0, &reply(&img, 0, 1000)), Ok(Arrival::Taken));
        assert_eq!((t.offset(), t.held()), (2000, 1));
        // A repeated answer is stale.
        assert_eq!(t.on_chunk(0, &reply(&img, 0, 1000)), Ok(Arrival::Stale));
        assert_eq!(t.next_asks(), [(4000, 1000), (5000, 1000)]);
        assert_eq!(t.on_chunk(2000, &reply(&img, 2000, 1000)), Ok(Arrival::Taken));
        assert_eq!(t.offset(), 4000);
        for offset in [5000, 4000] {
            t.on_chunk(offset, &reply(&img, offset, 1000)).unwrap();
        }
        while !t.is_complete() {
            for (offset, length) in t.next_asks().into_iter().rev() {
                t.on_chunk(offset, &reply(&img, offset, length)).unwrap();
            }
        }
        assert_eq!(t.data, img);
        assert_eq!((t.outstanding(), t.held()), (0, 0));
    }

    #[test]
    fn a_lost_chunk_is_asked_again_from_the_gap_and_a_short_one_leaves_a_hole() {
        let img = image(5_000);
        let mut t = transfer(img.len(), 1_000, 3);
        assert_eq!(t.next_asks().len(), 3);
        t.on_chunk(1000, &reply(&img, 1000, 1000)).unwrap();
        // The chunk at 0 is never answered: given up, it is asked again, before anything new.
        assert!(!t.on_gave_up(0));
        assert_eq!(t.rounds, 1);
        assert_eq!(t.next_asks(), [(0, 1000)]);
        // A short answer (600 of 1000 bytes) is taken; the 400 bytes after it are asked next.
        t.on_chunk(0, &reply(&img, 0, 600)).unwrap();
        assert_eq!((t.offset(), t.rounds), (600, 0));
        assert_eq!(t.next_asks(), [(600, 400)]);
        for (offset, length) in [(2000, 1000), (600, 400)] {
            t.on_chunk(offset, &reply(&img, offset, length)).unwrap();
        }
        assert_eq!(t.offset(), 3000);
        assert_eq!(t.next_asks(), [(3000, 1000), (4000, 1000)]);
        // Only known offsets count as given up; MAX_ROUNDS silent rounds fail the transfer.
        assert!(!t.on_gave_up(123));
        let mut failed = false;
        for _ in 0..MAX_ROUNDS {
            failed = t.on_gave_up(3000);
            t.next_asks();
        }
        assert!(failed);
    }

    #[test]
    fn a_window_of_one_pulls_one_chunk_at_a_time_and_bad_replies_are_errors() {
        let img = image(2_500);
        let mut t = transfer(img.len(), 1_000, 1);
        assert_eq!(t.next_asks(), [(0, 1000)]);
        assert!(t.next_asks().is_empty());
        t.on_chunk(0, &reply(&img, 0, 1000)).unwrap();
        assert_eq!(t.next_asks(), [(1000, 1000)]);
        assert!(t.on_chunk(1000, &json!({"fileId": "other", "offset": 1000, "data": "AAAA"})).unwrap_err().contains("other"));
        assert!(t.on_chunk(1000, &json!({"fileId": "f", "offset": 0, "data": "AAAA"})).is_err());
        assert!(t.on_chunk(1000, &json!({"fileId": "f", "offset": 1000, "data": ""})).is_err());
        assert!(t.on_chunk(1000, &json!({"fileId": "f", "offset": 1000, "data": "%%"})).is_err());
        assert!(t.on_chunk(1000, &reply(&image(5_000), 1000, 2000)).is_err(), "longer than asked");
        assert_eq!(transfer(10, 256, 0).window, 1);
        assert_eq!(transfer(10, 256, 99).window, MAX_CHUNK_WINDOW);
    }
}
