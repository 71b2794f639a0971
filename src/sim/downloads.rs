//! Firmware and file transfers over the gateway's state (contract §8): accepting `ota/upgrade`
//! and `file/download`, then feeding each chunk reply to its [`Transfer`], verifying the
//! SHA-256 and installing (a module version) or storing (a file in the gateway's folder).

use serde_json::Value;

use super::api::Fail;
use super::files;
use super::log::Level;
use super::state::{FIRMWARE_MODULE, Outgoing, SimState, SOFTWARE_MODULE};
use super::transfer::{Arrival, PROGRESS_STEP, Transfer, check_common, fail};
use crate::protocol::codes;
use crate::protocol::envelope::Reply;
use crate::protocol::ids::is_safe_file_name;
use crate::protocol::payload::{FileDownload, FileDownloadResult, OtaProgress, OtaStep, OtaUpgrade, to_data};

/// Transfers running at once at most.
const MAX_RUNNING: usize = 4;
/// The gateway's own modules, whose versions `Info` shows (the others are sub-devices').
const GATEWAY_MODULES: [&str; 2] = [FIRMWARE_MODULE, SOFTWARE_MODULE];

fn check_room(state: &SimState, ota: bool, id: &str) -> Result<(), Fail> {
    if state.transfers.iter().any(|t| t.ota == ota && t.id == id) {
        return Err(fail(codes::BUSY, format!("{id} is already running")));
    }
    if state.transfers.len() >= MAX_RUNNING {
        return Err(fail(codes::BUSY, "too many transfers running"));
    }
    Ok(())
}

fn progress(t: &Transfer, step: OtaStep, code: i64, msg: Option<String>) -> Outgoing {
    let data = to_data(&OtaProgress { task_id: t.id.clone(), step, percent: t.percent(), code, msg });
    Outgoing::Other { class: "ota", action: "progress", data }
}

fn file_result(id: &str, code: i64, msg: Option<String>) -> Outgoing {
    let data = to_data(&FileDownloadResult { file_id: id.to_owned(), code, msg });
    Outgoing::Other { class: "file", action: "download/result", data }
}

/// Accepts an `ota/upgrade` or says why not (4, 5, 7, 10, 11); on success the transfer is
/// running and `accepted` progress is returned.
pub fn accept_ota(state: &mut SimState, req: &OtaUpgrade) -> Result<Vec<Outgoing>, Fail> {
    check_common(req.size, &req.sha256, req.chunk_size)?;
    if req.size == 0 || req.version.is_empty() || req.task_id.is_empty() {
        return Err(fail(codes::BAD_PARAM, "size, version and taskId must not be empty"));
    }
    let Some(current) = state.modules.get(&req.module) else {
        let known: Vec<&str> = state.modules.keys().map(String::as_str).collect();
        return Err(fail(codes::NOT_FOUND, format!("module \"{}\" unknown; known: {}", req.module, known.join(", "))));
    };
    if *current == req.version {
        return Err(fail(codes::SAME_VERSION, format!("{} is already at {}", req.module, req.version)));
    }
    if state.transfers.iter().any(|t| t.ota && t.target == req.module) {
        return Err(fail(codes::BUSY, format!("an upgrade of {} is already running", req.module)));
    }
    check_room(state, true, &req.task_id)?;
    let t = Transfer::ota(req, chunk_size(state, req.chunk_size), state.chunk_window);
    let now = state.now_ms();
    let from = state.modules.get(&t.target).cloned().unwrap_or_default();
    state.log.push(now, Level::Info, "ota", format!("task {}: {} {from} → {} ({} bytes, {} per chunk)", t.id, t.target, req.version, t.size, t.chunk_size));
    state.record_task(t.record(OtaStep::Accepted, 0, None));
    let out = vec![progress(&t, OtaStep::Accepted, 0, None)];
    state.transfers.push(t);
    Ok(out)
}

/// Accepts a `file/download` or says why not (4, 5, 10).
pub fn accept_file(state: &mut SimState, req: &FileDownload) -> Result<Vec<Outgoing>, Fail> {
    if !is_safe_file_name(&req.name) {
        return Err(fail(codes::BAD_PARAM, format!("\"{}\" is not a plain file name", req.name)));
    }
    if req.file_id.is_empty() {
        return Err(fail(codes::BAD_PARAM, "fileId must not be empty"));
    }
    check_common(req.size, &req.sha256, req.chunk_size)?;
    check_room(state, false, &req.file_id)?;
    let t = Transfer::file(req, chunk_size(state, req.chunk_size), state.chunk_window);
    let now = state.now_ms();
    state.log.push(now, Level::Info, "file", format!("download {}: {} ({} bytes, {} per chunk)", t.id, t.target, t.size, t.chunk_size));
    state.record_task(t.record(OtaStep::Accepted, 0, None));
    if t.size == 0 {
        // Nothing to pull: verify and store the empty file at once.
        return Ok(finish(state, t));
    }
    state.transfers.push(t);
    Ok(Vec::new())
}

/// The bytes to ask for per chunk: what the master announced, but never more than the link
/// carries in one chunk (32 KiB over serial, contract §8).
fn chunk_size(state: &SimState, announced: u32) -> u32 {
    announced.min(state.chunk_max_bytes)
}

/// A chunk request to send: for transfer `id`, the chunk at `offset`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkAsk {
    pub ota: bool,
    pub id: String,
    pub offset: u64,
    pub class: &'static str,
    pub action: &'static str,
    pub data: Value,
}

/// The chunk requests every running transfer may send now, filling each one's window.
pub fn chunk_asks(state: &mut SimState) -> Vec<ChunkAsk> {
    let mut asks = Vec::new();
    for t in &mut state.transfers {
        for (offset, length) in t.next_asks() {
            let (class, action, data) = t.chunk_request(offset, length);
            asks.push(ChunkAsk { ota: t.ota, id: t.id.clone(), offset, class, action, data });
        }
    }
    asks
}

/// Handles the master's reply to the chunk request at `offset` of transfer `id`.
pub fn on_chunk_reply(state: &mut SimState, ota: bool, id: &str, offset: u64, reply: &Reply) -> Vec<Outgoing> {
    let Some(at) = state.transfers.iter().position(|t| t.ota == ota && t.id == id) else {
        return Vec::new();
    };
    if reply.code != codes::OK {
        // The master will not serve this transfer (code 7 after a cancel): it ends here, whatever
        // else is outstanding.
        let t = state.transfers.remove(at);
        let msg = reply.msg.clone().unwrap_or_else(|| format!("chunk request refused with code {}", reply.code));
        return failed(state, t, reply.code, msg);
    }
    match state.transfers[at].on_chunk(offset, &reply.data) {
        Ok(Arrival::Taken) => {}
        Ok(Arrival::Stale) => return Vec::new(),
        Err(msg) => {
            let t = state.transfers.remove(at);
            return failed(state, t, codes::FAILED, msg);
        }
    }
    let t = &mut state.transfers[at];
    if t.is_complete() {
        let t = state.transfers.remove(at);
        return finish(state, t);
    }
    let percent = t.percent();
    if percent - t.reported_percent >= PROGRESS_STEP {
        t.reported_percent = percent;
        let out = t.ota.then(|| progress(t, OtaStep::Downloading, 0, None));
        let record = t.record(OtaStep::Downloading, 0, None);
        state.record_task(record);
        return out.into_iter().collect();
    }
    Vec::new()
}

/// The chunk request at `offset` went unanswered `MAX_TRIES` times: it is asked again with a
/// new id, unless the master has been silent for `MAX_ROUNDS` rounds.
pub fn on_chunk_gave_up(state: &mut SimState, ota: bool, id: &str, offset: u64) -> Vec<Outgoing> {
    let Some(at) = state.transfers.iter().position(|t| t.ota == ota && t.id == id) else {
        return Vec::new();
    };
    if !state.transfers[at].on_gave_up(offset) {
        return Vec::new();
    }
    let t = state.transfers.remove(at);
    let msg = format!("no answer to chunk requests at offset {}", t.offset());
    failed(state, t, codes::FAILED, msg)
}

/// Everything arrived: verify, then install or store, and report the outcome.
fn finish(state: &mut SimState, t: Transfer) -> Vec<Outgoing> {
    let mut out = Vec::new();
    if t.ota {
        out.push(progress(&t, OtaStep::Verifying, 0, None));
    }
    let actual = crate::protocol::digest::sha256_hex(&t.data);
    if actual != t.sha256 {
        let msg = format!("sha256 mismatch: expected {}, got {actual}", t.sha256);
        let code = if state.faults.bad_checksum_code() { codes::FAILED } else { codes::CHECKSUM };
        out.extend(failed(state, t, code, msg));
        return out;
    }
    let now = state.now_ms();
    if t.ota {
        out.push(progress(&t, OtaStep::Installing, 0, None));
        let version = t.version.clone().unwrap_or_default();
        state.set_version(&t.target, &version);
        state.log.push(now, Level::Info, "ota", format!("task {}: {} is now at {version}", t.id, t.target));
        state.record_task(t.record(OtaStep::Done, 0, None));
        out.push(progress(&t, OtaStep::Done, 0, None));
        if GATEWAY_MODULES.contains(&t.target.as_str()) {
            // A real gateway reboots into what it installed and announces itself again, so a
            // master sees the new fwVersion/swVersion without asking.
            out.push(Outgoing::Other { class: "info", action: "report", data: to_data(&state.info()) });
        }
        out.push(Outgoing::Other { class: "ota", action: "version", data: to_data(&state.versions()) });
        return out;
    }
    match files::write_atomic(&state.files_dir, &t.target, &t.data) {
        Ok(()) => {
            state.log.push(now, Level::Info, "file", format!("download {}: stored {} ({} bytes)", t.id, t.target, t.size));
            state.record_task(t.record(OtaStep::Done, 0, None));
            out.push(file_result(&t.id, codes::OK, None));
        }
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::StorageFull { codes::NO_SPACE } else { codes::FAILED };
            out.extend(failed(state, t, code, format!("cannot store the file: {e}")));
        }
    }
    out
}

fn failed(state: &mut SimState, t: Transfer, code: i64, msg: String) -> Vec<Outgoing> {
    let now = state.now_ms();
    let what = if t.ota { "ota" } else { "file" };
    state.log.push(now, Level::Error, what, format!("{} {}: failed ({code}): {msg}", what, t.id));
    state.record_task(t.record(OtaStep::Failed, code, Some(msg.clone())));
    if t.ota { vec![progress(&t, OtaStep::Failed, code, Some(msg))] } else { vec![file_result(&t.id, code, Some(msg))] }
}

#[cfg(test)]
mod tests;
