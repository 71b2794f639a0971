//! Firmware (6.7) and files (6.8): transfers through the engine's tasks, refusals by code.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;

use super::{ensure, expect_code, step};
use crate::conformance::ctx::Ctx;
use crate::conformance::model::{TransferResult, Verdict};
use crate::conformance::options::empty;
use crate::engine::{FileDownloadSpec, FileUploadSpec, OtaSpec, TransferPhase, TransferStatus, new_request_id};
use crate::protocol::codes;
use crate::protocol::digest::sha256_hex;
use crate::protocol::payload::Versions;
use crate::protocol::topic::Dir;

const TEST_FILE: &str = "cems-conformance.txt";
const HOSTILE: &str = "../cems-conformance";

/// Follows a transfer task to its end within the case's budget.
async fn follow(ctx: &mut Ctx<'_>, id: &str) -> Option<TransferStatus> {
    let deadline = Instant::now() + ctx.budget_left();
    loop {
        let status = ctx.handle.state.transfers().get(id).cloned();
        if let Some(s) = &status
            && s.phase.is_final()
        {
            ctx.note(format!("transfer {id}: {} after {} chunks, {} of {} bytes", phase_text(&s.phase), s.progress.chunks, s.progress.covered, s.progress.size));
            return status;
        }
        if Instant::now() >= deadline {
            let _ = ctx.handle.cancel_transfer(id);
            ctx.note(format!("transfer {id}: not finished within the case's time, cancelled"));
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn phase_text(phase: &TransferPhase) -> String {
    match phase {
        TransferPhase::Refused { code, name, msg } | TransferPhase::Failed { code, name, msg } => format!("{} code {code} ({name}) {msg}", phase.label()),
        TransferPhase::Invalid { msg } | TransferPhase::Aborted { msg } => format!("{} {msg}", phase.label()),
        other => other.label().to_owned(),
    }
}

fn record(ctx: &mut Ctx<'_>, kind: &str, target: &str, bytes: u64, status: Option<&TransferStatus>) {
    let outcome = status.map_or_else(|| "not finished".to_owned(), |s| phase_text(&s.phase));
    ctx.facts.transfers.push(TransferResult { case_id: ctx.def.id.clone(), kind: kind.to_owned(), target: target.to_owned(), bytes, outcome });
}

/// The first module the gateway lists and its version.
async fn first_module(ctx: &mut Ctx<'_>) -> Result<(String, String), String> {
    let data = ctx.request_ok("ota/version/get", empty()).await?;
    let versions: Versions = serde_json::from_value(data).map_err(|e| format!("ota/version/get: {e}"))?;
    versions.modules.into_iter().next().map(|m| (m.module, m.version)).ok_or_else(|| "ota/version/get lists no module".to_owned())
}

fn ota_spec(ctx: &Ctx<'_>, module: &str, version: &str, image: Bytes) -> OtaSpec {
    let mut spec = OtaSpec::new(ctx.session, ctx.pk(), ctx.dev(), module, version, image);
    spec.silence_timeout = ctx.options.transfer_timeout;
    spec
}

/// The offsets the gateway asked for in `ota/chunk/get` of task `id`, in arrival order.
fn chunk_offsets(ctx: &Ctx<'_>, id: &str) -> Vec<u64> {
    let topic = ctx.topic(Dir::Up, "ota", "chunk/get");
    ctx.messages_on(&topic, ctx.started_ms).iter().filter_map(|m| m.json()).filter(|v| v["data"]["taskId"] == id).filter_map(|v| v["data"]["offset"].as_u64()).collect()
}

async fn upgrade(ctx: &mut Ctx<'_>) -> Result<(TransferStatus, Vec<u64>), Verdict> {
    let Some(firmware) = ctx.options.firmware.clone() else {
        return Err(Verdict::inconclusive("no firmware image given (--firmware, --module, --version)"));
    };
    let spec = ota_spec(ctx, &firmware.module, &firmware.version, firmware.image.clone());
    let id = ctx.handle.start_ota(spec).map_err(|e| Verdict::failed(e.to_string()))?;
    ctx.note(format!("ota/upgrade {} to {} ({} bytes), task {id}", firmware.module, firmware.version, firmware.image.len()));
    let status = follow(ctx, &id).await;
    record(ctx, "ota", &format!("{} {}", firmware.module, firmware.version), firmware.image.len() as u64, status.as_ref());
    let status = status.ok_or_else(|| Verdict::failed("the upgrade did not end within the case's time"))?;
    Ok((status, chunk_offsets(ctx, &id)))
}

pub(super) async fn ota_upgrade(ctx: &mut Ctx<'_>) -> Verdict {
    let (status, offsets) = match upgrade(ctx).await {
        Ok(done) => done,
        Err(verdict) => return verdict,
    };
    step!(ensure(status.phase == TransferPhase::Done, || format!("the upgrade ended {}", phase_text(&status.phase))));
    step!(ensure(status.progress.covered >= status.progress.size, || format!("done with {} of {} bytes pulled", status.progress.covered, status.progress.size)));
    step!(ensure(offsets.first() == Some(&0), || format!("the first chunk asked was at offset {:?}, not 0", offsets.first())));
    Verdict::Passed
}

pub(super) async fn ota_checksum(ctx: &mut Ctx<'_>) -> Verdict {
    let (module, _) = step!(first_module(ctx).await);
    let image = Bytes::from(vec![0x5a_u8; 4096]);
    let mut spec = ota_spec(ctx, &module, "0.0.0-conformance-bad-digest", image.clone());
    spec.sha256 = sha256_hex(b"not the image");
    let id = step!(ctx.handle.start_ota(spec).map_err(|e| e.to_string()));
    let status = follow(ctx, &id).await;
    record(ctx, "ota (wrong sha256)", &module, image.len() as u64, status.as_ref());
    let Some(status) = status else { return Verdict::failed("no verdict from the gateway within the case's time") };
    match status.phase {
        TransferPhase::Failed { code, .. } if code == codes::CHECKSUM => Verdict::Passed,
        TransferPhase::Failed { code, name, .. } => Verdict::failed(format!("the checksum failure was reported with code {code} ({name}), not 9")),
        other => Verdict::failed(format!("an image with a wrong sha256 ended {}", phase_text(&other))),
    }
}

pub(super) async fn ota_same_version(ctx: &mut Ctx<'_>) -> Verdict {
    let (module, version) = step!(first_module(ctx).await);
    let image = Bytes::from(vec![0xa5_u8; 1024]);
    let id = step!(ctx.handle.start_ota(ota_spec(ctx, &module, &version, image)).map_err(|e| e.to_string()));
    let status = follow(ctx, &id).await;
    let Some(status) = status else { return Verdict::failed("no answer to the announcement within the case's time") };
    match status.phase {
        TransferPhase::Refused { code, .. } if code == codes::SAME_VERSION => Verdict::Passed,
        other => Verdict::failed(format!("an upgrade of {module} to its own version {version} ended {}, not refused with 11", phase_text(&other))),
    }
}

pub(super) async fn ota_resume(ctx: &mut Ctx<'_>) -> Verdict {
    if ctx.options.firmware.is_none() {
        return Verdict::inconclusive("no firmware image given");
    }
    if ctx.options.interactive.is_none() {
        return Verdict::inconclusive("manual step (interrupt the network mid-transfer) not possible in a non-interactive run");
    }
    if !ctx.manual().await {
        return Verdict::inconclusive("manual step skipped");
    }
    let (status, offsets) = match upgrade(ctx).await {
        Ok(done) => done,
        Err(verdict) => return verdict,
    };
    step!(ensure(status.phase == TransferPhase::Done, || format!("the upgrade ended {}", phase_text(&status.phase))));
    let resumed = offsets.windows(2).any(|w| w[1] <= w[0]);
    if !resumed {
        return Verdict::inconclusive("no offset was asked again: the interruption did not fall inside the transfer");
    }
    Verdict::Passed
}

fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name != "." && name != ".." && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub(super) async fn file_list(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("file/list", empty()).await);
    let files = step!(data["files"].as_array().ok_or("file/list: no files array".to_owned()));
    for f in files {
        let name = f["name"].as_str().unwrap_or_default();
        step!(ensure(plain_name(name), || format!("file/list: {name:?} is not a plain file name")));
        step!(ensure(f["size"].is_u64() && f["mtime"].is_i64(), || format!("file/list: {name} lacks a size or an mtime")));
    }
    ctx.note(format!("{} files", files.len()));
    Verdict::Passed
}

pub(super) async fn file_download(ctx: &mut Ctx<'_>) -> Verdict {
    let data = Bytes::from(format!("cems-workbench conformance run, {}\n", crate::protocol::time::now_ms()));
    let mut spec = FileDownloadSpec::new(ctx.session, ctx.pk(), ctx.dev(), TEST_FILE, data.clone());
    spec.silence_timeout = ctx.options.transfer_timeout;
    let id = step!(ctx.handle.start_file_download(spec).map_err(|e| e.to_string()));
    let status = follow(ctx, &id).await;
    record(ctx, "file download", TEST_FILE, data.len() as u64, status.as_ref());
    let Some(status) = status else { return Verdict::failed("the download did not end within the case's time") };
    step!(ensure(status.phase == TransferPhase::Done, || format!("the download ended {}", phase_text(&status.phase))));
    let listed = step!(ctx.request_ok("file/list", empty()).await);
    let size = listed["files"].as_array().and_then(|fs| fs.iter().find(|f| f["name"] == TEST_FILE)).and_then(|f| f["size"].as_u64());
    step!(ensure(size == Some(data.len() as u64), || format!("file/list shows {TEST_FILE} with size {size:?}, not {}", data.len())));
    ctx.facts.restored.push(format!("{TEST_FILE} left on the gateway (the contract has no delete)"));
    Verdict::Passed
}

pub(super) async fn file_upload(ctx: &mut Ctx<'_>) -> Verdict {
    let listed = step!(ctx.request_ok("file/list", empty()).await);
    let Some(name) = listed["files"].as_array().and_then(|fs| fs.iter().filter(|f| f["size"].as_u64().is_some_and(|s| s <= 1024 * 1024)).find_map(|f| f["name"].as_str().map(str::to_owned))) else {
        return Verdict::inconclusive("the gateway lists no file of at most 1 MiB to pull");
    };
    let dest = std::env::temp_dir().join(format!("cems-conformance-{}", new_request_id()));
    let mut spec = FileUploadSpec::new(ctx.session, ctx.pk(), ctx.dev(), &name, dest.clone());
    spec.silence_timeout = ctx.options.transfer_timeout;
    let id = step!(ctx.handle.start_file_upload(spec).map_err(|e| e.to_string()));
    let status = follow(ctx, &id).await;
    let bytes = status.as_ref().map_or(0, |s| s.progress.bytes_moved);
    record(ctx, "file upload", &name, bytes, status.as_ref());
    // Only a copy for the check; the report keeps the digest.
    let _ = std::fs::remove_file(&dest);
    let Some(status) = status else { return Verdict::failed("the upload did not end within the case's time") };
    step!(ensure(status.phase == TransferPhase::Done, || format!("pulling {name} ended {}", phase_text(&status.phase))));
    Verdict::Passed
}

pub(super) async fn hostile_names(ctx: &mut Ctx<'_>) -> Verdict {
    let reply = step!(ctx.request("file/upload", json!({"fileId": new_request_id(), "name": HOSTILE})).await);
    step!(expect_code("file/upload ../", &reply, codes::BAD_PARAM));
    let reply = step!(ctx.request("file/upload", json!({"fileId": new_request_id(), "name": "xConformanceNoSuchFile.bin"})).await);
    step!(expect_code("file/upload of an unknown file", &reply, codes::NOT_FOUND));
    if ctx.options.allow_changes && !ctx.options.read_only {
        let body = b"conformance";
        let data = json!({"fileId": new_request_id(), "name": HOSTILE, "size": body.len(), "sha256": sha256_hex(body), "chunkSize": 1024});
        let reply = step!(ctx.request("file/download", data).await);
        step!(expect_code("file/download ../", &reply, codes::BAD_PARAM));
    } else {
        ctx.note("file/download of a hostile name not tried: changes not allowed");
    }
    Verdict::Passed
}
