//! Pushes: a firmware image (`ota/upgrade`) or a file (`file/download`) offered to a gateway
//! that pulls it by offset; the task then follows the gateway's reports to its verdict.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

use super::{
    ota_target,     FileDownloadSpec, GatewayKey, OtaSpec, SessionInfo, Step, Task, TaskAction, TaskKind, TransferKind, TransferPhase, TransferProgress,
    TransferStatus, TransferTasks, check_chunk_size,
};
use crate::protocol::digest::is_sha256_hex;
use crate::protocol::ids::is_safe_file_name;
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
