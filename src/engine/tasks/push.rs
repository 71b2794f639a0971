//! Pushes: a firmware image (`ota/upgrade`) or a file (`file/download`) offered to a gateway
//! that pulls it by offset; the task then follows the gateway's reports to its verdict. A claim
//! of success (`done`, the new version, download result 0) counts only when the gateway pulled
//! every byte of the image: one that never asked for it cannot have verified or stored it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

use super::{
    FileDownloadSpec, GatewayKey, OtaSpec, SessionInfo, Step, Task, TaskAction, TaskKind, TransferKind, TransferPhase, TransferProgress, TransferStatus,
    TransferTasks, check_chunk_size, ota_target,
};
use crate::engine::transfers::ServedCounters;
use crate::protocol::codes;
use crate::protocol::digest::is_sha256_hex;
use crate::protocol::ids::is_safe_file_name;
use crate::protocol::json_num::thousands;
use crate::protocol::payload::{FileDownloadResult, ModuleVersion, OtaProgress, OtaStep};
use crate::transport::LinkKind;


/// What a push needs besides its status.
struct Push {
    kind: TransferKind,
    image: Bytes,
    chunk_size: u32,
    class: &'static str,
    action: &'static str,
    data: Value,
    silence: Duration,
}

impl TransferTasks {
    pub(crate) fn start_ota(&mut self, spec: OtaSpec, session: Option<SessionInfo>, now: Instant) -> Vec<TaskAction> {
        let status = push_status(&spec.task_id, TaskKind::Ota, spec.session, &spec.pk, &spec.dev, ota_target(&spec.module, &spec.version), &spec.sha256, spec.chunk_size, spec.image.len());
        let checked = self.check_start(&spec.task_id, session, spec.session).and_then(|info| {
            if spec.module.is_empty() || spec.version.is_empty() {
                return Err("module and version must not be empty".to_owned());
            }
            if spec.image.is_empty() {
                return Err("the image is empty".to_owned());
            }
            check_push(info, spec.chunk_size, &spec.sha256).map(|()| info)
        });
        let info = match checked {
            Ok(info) => info,
            Err(msg) => return Self::invalid(status, msg),
        };
        let data = json!({
            "taskId": spec.task_id,
            "module": spec.module,
            "version": spec.version,
            "size": spec.image.len(),
            "sha256": spec.sha256.to_ascii_lowercase(),
            "chunkSize": spec.chunk_size,
        });
        let push = Push { kind: TransferKind::Ota, image: spec.image, chunk_size: spec.chunk_size, class: "ota", action: "upgrade", data, silence: spec.silence_timeout };
        self.start_push(status, push, info, now)
    }

    pub(crate) fn start_download(&mut self, spec: FileDownloadSpec, session: Option<SessionInfo>, now: Instant) -> Vec<TaskAction> {
        let status = push_status(&spec.file_id, TaskKind::FileDownload, spec.session, &spec.pk, &spec.dev, spec.name.clone(), &spec.sha256, spec.chunk_size, spec.data.len());
        let checked = self.check_start(&spec.file_id, session, spec.session).and_then(|info| {
            if !is_safe_file_name(&spec.name) {
                return Err(format!("{:?} is not a plain file name ([A-Za-z0-9._-], 1 to 128, not . or ..)", spec.name));
            }
            check_push(info, spec.chunk_size, &spec.sha256).map(|()| info)
        });
        let info = match checked {
            Ok(info) => info,
            Err(msg) => return Self::invalid(status, msg),
        };
        let data = json!({
            "fileId": spec.file_id,
            "name": spec.name,
            "size": spec.data.len(),
            "sha256": spec.sha256.to_ascii_lowercase(),
            "chunkSize": spec.chunk_size,
        });
        let push = Push { kind: TransferKind::File, image: spec.data, chunk_size: spec.chunk_size, class: "file", action: "download", data, silence: spec.silence_timeout };
        self.start_push(status, push, info, now)
    }

    fn start_push(&mut self, status: TransferStatus, push: Push, info: SessionInfo, now: Instant) -> Vec<TaskAction> {
        let id = status.id.clone();
        let mut task = Task::new(status, push.silence, info.up, now);
        task.served = Some(push.kind);
        // Offered before the announcement goes out: the gateway may ask for the first chunk
        // before its reply to the announcement reaches us.
        let offer = TaskAction::Offer { kind: push.kind, id, data: push.image, chunk_size: push.chunk_size };
        let request = task.request(&self.ids, push.class, push.action, push.data, Step::Announce);
        self.insert(task, vec![offer, request], now)
    }

    /// The gateway asked for a chunk of a task's image; `served` is the image's counters after
    /// answering, or `None` when the request was refused (the gateway is alive all the same).
    pub(crate) fn on_chunk_request(&mut self, kind: TransferKind, id: &str, served: Option<ServedCounters>, now: Instant) -> Vec<TaskAction> {
        let Some(task) = self.tasks.get_mut(id) else { return Vec::new() };
        if task.served != Some(kind) {
            return Vec::new();
        }
        task.alive(now);
        let Some(counters) = served else { return Vec::new() };
        task.pulled = counters;
        task.status.progress.bytes_moved = counters.bytes_served;
        task.status.progress.chunks = counters.chunks;
        task.status.progress.covered = counters.covered;
        task.moved(now, counters.high_water);
        let all_served = counters.covered >= task.status.progress.size;
        let phase = task.status.phase.clone();
        match (phase, task.status.kind) {
            // A gateway that pulls has accepted, whatever became of the announce's reply.
            (TransferPhase::Announcing, _) => self.enter(id, TransferPhase::Running, now),
            // A file download has no `verifying` report: every byte served means the gateway
            // is checking it now.
            (TransferPhase::Running, TaskKind::FileDownload) if all_served => self.enter(id, TransferPhase::Verifying, now),
            _ => vec![task.status_action(now, false)],
        }
    }

    /// The id of the push task of `kind` for `gateway`, when there is one.
    fn push_task(&self, gateway: &GatewayKey, kind: TaskKind, id: &str) -> Option<String> {
        self.tasks.get(id).filter(|t| t.status.kind == kind && t.status.gateway == *gateway).map(|t| t.status.id.clone())
    }

    /// An `ota/progress` report.
    pub(crate) fn on_ota_progress(&mut self, gateway: &GatewayKey, report: &OtaProgress, now: Instant) -> Vec<TaskAction> {
        let Some(id) = self.push_task(gateway, TaskKind::Ota, &report.task_id) else { return Vec::new() };
        let Some(task) = self.tasks.get_mut(&id) else { return Vec::new() };
        task.alive(now);
        task.status.progress.device_step = Some(report.step);
        task.status.progress.device_percent = Some(report.percent);
        let phase = match report.step {
            OtaStep::Accepted | OtaStep::Downloading => TransferPhase::Running,
            OtaStep::Verifying => TransferPhase::Verifying,
            OtaStep::Installing => TransferPhase::Installing,
            OtaStep::Done => verdict(task, "done"),
            OtaStep::Failed => {
                let code = if report.code == codes::OK { codes::FAILED } else { report.code };
                TransferPhase::failed(code, report.msg.clone().unwrap_or_default())
            }
        };
        self.enter(&id, phase, now)
    }

    /// A `file/download/result` report.
    pub(crate) fn on_download_result(&mut self, gateway: &GatewayKey, report: &FileDownloadResult, now: Instant) -> Vec<TaskAction> {
        let Some(id) = self.push_task(gateway, TaskKind::FileDownload, &report.file_id) else { return Vec::new() };
        let Some(task) = self.tasks.get(&id) else { return Vec::new() };
        let phase = if report.code == codes::OK {
            verdict(task, "the file stored (result 0)")
        } else {
            TransferPhase::failed(report.code, report.msg.clone().unwrap_or_default())
        };
        self.finish(&id, phase, now)
    }

    /// An `ota/version` report: a gateway that rebooted into the new image may say so only
    /// this way.
    pub(crate) fn on_versions(&mut self, gateway: &GatewayKey, modules: &[ModuleVersion], now: Instant) -> Vec<TaskAction> {
        let done: Vec<(String, TransferPhase)> = self
            .tasks
            .values()
            .filter(|t| t.status.kind == TaskKind::Ota && t.status.gateway == *gateway)
            .filter(|t| matches!(t.status.phase, TransferPhase::Verifying | TransferPhase::Installing))
            .filter(|t| modules.iter().any(|m| t.status.target == ota_target(&m.module, &m.version)))
            .map(|t| (t.status.id.clone(), verdict(t, &format!("{} installed", t.status.target))))
            .collect();
        done.into_iter().flat_map(|(id, phase)| self.finish(&id, phase, now)).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn push_status(id: &str, kind: TaskKind, session: u32, pk: &str, dev: &str, target: String, sha256: &str, chunk_size: u32, size: usize) -> TransferStatus {
    TransferStatus {
        id: id.to_owned(),
        kind,
        session,
        gateway: GatewayKey { pk: pk.to_owned(), dev: dev.to_owned() },
        target,
        sha256: sha256.to_ascii_lowercase(),
        chunk_size,
        dest: None,
        phase: TransferPhase::Announcing,
        progress: TransferProgress { size: size as u64, ..TransferProgress::default() },
        elapsed: Duration::ZERO,
    }
}

fn check_push(info: SessionInfo, chunk_size: u32, sha256: &str) -> Result<(), String> {
    check_chunk_size(chunk_size, info.kind == LinkKind::Serial)?;
    if !is_sha256_hex(sha256) {
        return Err(format!("sha256 {sha256:?} is not 64 hex digits"));
    }
    Ok(())
}

/// `Done` when the gateway pulled every byte of the image before it claimed success; otherwise
/// a failure saying how much it pulled and where the first hole is.
fn verdict(task: &Task, claim: &str) -> TransferPhase {
    let (size, pulled) = (task.status.progress.size, &task.pulled);
    if pulled.covered >= size {
        return TransferPhase::Done;
    }
    let mut msg = format!("the gateway reported {claim} after pulling {} of {} bytes", thousands(pulled.covered), thousands(size));
    if pulled.covered > 0 {
        let hole = pulled.first_missing.unwrap_or(0);
        msg.push_str(&format!(" (it never asked for the byte at offset {})", thousands(hole)));
    }
    msg.push_str("; it cannot have verified an image it did not have");
    TransferPhase::failed(codes::FAILED, msg)
}

