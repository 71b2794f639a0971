//! Uploads: a file pulled from a gateway with `file/upload` (its size and digest) then
//! `file/read`, one chunk at a time from the next offset; the digest is checked before anything
//! is written, and the file is written atomically (a temporary file renamed over the target).

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{FileUploadSpec, Upload, SERIAL_MAX_CHUNK, SessionInfo, Step, Task, TaskAction, TaskKind, TransferPhase, TransferProgress, TransferStatus, TransferTasks};
use crate::engine::gateways::GatewayKey;
use crate::protocol::codes;
use crate::protocol::ids::is_safe_file_name;
use crate::protocol::payload::{FileChunk, FileUploadReply};

impl TransferTasks {
    pub(crate) fn start_upload(&mut self, spec: FileUploadSpec, session: Option<SessionInfo>, now: Instant) -> Vec<TaskAction> {
        let status = TransferStatus {
            id: spec.file_id.clone(),
            kind: TaskKind::FileUpload,
            session: spec.session,
            gateway: GatewayKey { pk: spec.pk.clone(), dev: spec.dev.clone() },
            target: spec.name.clone(),
            sha256: String::new(),
            chunk_size: spec.read_size,
            dest: Some(spec.dest.clone()),
            phase: TransferPhase::Announcing,
            progress: TransferProgress::default(),
            elapsed: Duration::ZERO,
        };
        let checked = self.check_start(&spec.file_id, session, spec.session).and_then(|info| {
            // The name goes into a request only; still, a hostile one is refused outright.
            if !is_safe_file_name(&spec.name) {
                return Err(format!("{:?} is not a plain file name ([A-Za-z0-9._-], 1 to 128, not . or ..)", spec.name));
            }
            if !(1..=SERIAL_MAX_CHUNK).contains(&spec.read_size) {
                return Err(format!("read size {}: expected 1..={SERIAL_MAX_CHUNK}", spec.read_size));
            }
            if spec.dest.as_os_str().is_empty() || spec.dest.file_name().is_none() {
                return Err(format!("{}: not a file path", spec.dest.display()));
            }
            if spec.dest.is_dir() {
                return Err(format!("{} is a folder; name the file to write", spec.dest.display()));
            }
            Ok(info)
        });
        let info = match checked {
            Ok(info) => info,
            Err(msg) => return Self::invalid(status, msg),
        };
        let mut task = Task::new(status, spec.silence_timeout, info.up, now);
        task.upload = Some(Upload { data: Vec::new(), hasher: Sha256::new(), read_size: spec.read_size, max_bytes: spec.max_bytes, dest: spec.dest });
        let request = task.request(&self.ids, "file", "upload", json!({"fileId": spec.file_id, "name": spec.name}), Step::Announce);
        self.insert(task, vec![request], now)
    }

    /// The gateway's reply to `file/upload`: the size and digest to expect.
    pub(super) fn upload_accepted(&mut self, id: &str, data: &Value, now: Instant) -> Vec<TaskAction> {
        let reply: FileUploadReply = match serde_json::from_value(data.clone()) {
            Ok(r) => r,
            Err(e) => return self.finish(id, TransferPhase::failed(codes::FAILED, format!("file/upload reply: {e}")), now),
        };
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        let Some(upload) = &task.upload else { return Vec::new() };
        if !crate::protocol::digest::is_sha256_hex(&reply.sha256) {
            return self.finish(id, TransferPhase::failed(codes::FAILED, format!("file/upload reply: sha256 {:?} is not 64 hex digits", reply.sha256)), now);
        }
        if reply.size > upload.max_bytes {
            let msg = format!("the file has {} bytes; the workbench takes at most {}", reply.size, upload.max_bytes);
            return self.finish(id, TransferPhase::failed(codes::NO_SPACE, msg), now);
        }
        task.status.sha256 = reply.sha256.to_ascii_lowercase();
        task.status.progress.size = reply.size;
        task.status.phase = TransferPhase::Running;
        let status = task.status_action(now, true);
        let next = self.next_read(id, now);
        std::iter::once(status).chain(next).collect()
    }

    /// Asks for the next chunk, or checks the digest when everything arrived.
    fn next_read(&mut self, id: &str, now: Instant) -> Vec<TaskAction> {
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        let Some(upload) = &task.upload else { return Vec::new() };
        let offset = upload.data.len() as u64;
        let left = task.status.progress.size.saturating_sub(offset);
        if left == 0 {
            return self.verify(id, now);
        }
        let length = u32::try_from(left.min(u64::from(upload.read_size))).unwrap_or(upload.read_size);
        let data = json!({"fileId": id, "offset": offset, "length": length});
        let request = task.request(&self.ids, "file", "read", data, Step::Read { offset, length });
        if let TaskAction::Request { id: request_id, .. } = &request {
            self.requests.insert(request_id.clone(), id.to_owned());
        }
        vec![request]
    }

    /// The reply to the `file/read` at `offset`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn upload_read(&mut self, id: &str, offset: u64, length: u32, code: i64, msg: Option<String>, data: &Value, now: Instant) -> Vec<TaskAction> {
        if code != codes::OK {
            let msg = msg.unwrap_or_else(|| format!("file/read at {offset} refused"));
            return self.finish(id, TransferPhase::failed(code, msg), now);
        }
        let bytes = match read_chunk(id, offset, length, data) {
            Ok(b) => b,
            Err(msg) => return self.finish(id, TransferPhase::failed(codes::FAILED, msg), now),
        };
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        let Some(upload) = &mut task.upload else { return Vec::new() };
        upload.hasher.update(&bytes);
        upload.data.extend_from_slice(&bytes);
        let position = upload.data.len() as u64;
        task.status.progress.bytes_moved += bytes.len() as u64;
        task.status.progress.chunks += 1;
        task.moved(now, position);
        let status = task.status_action(now, false);
        std::iter::once(status).chain(self.next_read(id, now)).collect()
    }

    /// Everything arrived: the digest decides whether it is written.
    fn verify(&mut self, id: &str, now: Instant) -> Vec<TaskAction> {
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        let Some(upload) = &mut task.upload else { return Vec::new() };
        let actual = hex::encode(std::mem::take(&mut upload.hasher).finalize());
        if actual != task.status.sha256 {
            let msg = format!("sha256 mismatch: the gateway announced {}, the bytes read hash to {actual}; nothing written", task.status.sha256);
            return self.finish(id, TransferPhase::failed(codes::CHECKSUM, msg), now);
        }
        let data = std::mem::take(&mut upload.data);
        let dest = upload.dest.clone();
        // Writing is our work, not the gateway's: no silence deadline meanwhile.
        task.deadline = None;
        task.status.phase = TransferPhase::Verifying;
        vec![task.status_action(now, true), TaskAction::Write { id: id.to_owned(), dest, data }]
    }

    /// The atomic write of an upload has ended.
    pub(crate) fn on_written(&mut self, id: &str, result: Result<(), String>, now: Instant) -> Vec<TaskAction> {
        let phase = match result {
            Ok(()) => TransferPhase::Done,
            Err(e) => TransferPhase::failed(codes::FAILED, e),
        };
        self.finish(id, phase, now)
    }
}

/// Checks a `file/read` reply against the request and decodes its bytes.
fn read_chunk(id: &str, offset: u64, length: u32, data: &Value) -> Result<Vec<u8>, String> {
    let chunk: FileChunk = serde_json::from_value(data.clone()).map_err(|e| format!("file/read reply at {offset}: {e}"))?;
    if chunk.file_id != id {
        return Err(format!("file/read reply for {:?}, expected {id:?}", chunk.file_id));
    }
    if chunk.offset != offset {
        return Err(format!("file/read reply at offset {}, asked for {offset}", chunk.offset));
    }
    let bytes = BASE64.decode(chunk.data.as_bytes()).map_err(|e| format!("file/read reply at {offset}: data is not base64: {e}"))?;
    if bytes.is_empty() {
        return Err(format!("file/read at {offset}: no data before the announced end (did the file shrink?)"));
    }
    if bytes.len() > length as usize {
        return Err(format!("file/read at {offset}: {} bytes, asked for {length}", bytes.len()));
    }
    Ok(bytes)
}

