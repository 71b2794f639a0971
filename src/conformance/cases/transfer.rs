//! Firmware (6.7) and files (6.8): transfers through the engine's tasks, refusals by code.

use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;

use super::{ensure, expect_code, step};
use crate::conformance::catalogue::{CaseText, why};
use crate::conformance::ctx::{Ctx, engine_stopped};
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
            ctx.note(format!("transfer {id}: {} after {} chunks, {} of {} bytes", phase_text(&s.phase).en, s.progress.chunks, s.progress.covered, s.progress.size));
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

/// How a transfer ended (or where it is), with the gateway's code when it gave one.
fn phase_text(phase: &TransferPhase) -> CaseText {
    let label = phase.label();
    let label_zh = match phase {
        TransferPhase::Announcing => "通告中",
        TransferPhase::Running => "传输中",
        TransferPhase::Verifying => "校验中",
        TransferPhase::Installing => "安装中",
        TransferPhase::Done => "完成",
        TransferPhase::Invalid { .. } => "无效",
        TransferPhase::Refused { .. } => "被拒绝",
        TransferPhase::Failed { .. } => "失败",
        TransferPhase::TimedOut { .. } => "超时",
        TransferPhase::Aborted { .. } => "中止",
        TransferPhase::Cancelled => "已取消",
    };
    match phase {
        TransferPhase::Refused { code, name, msg } | TransferPhase::Failed { code, name, msg } => why!("{label} code {code} ({name}) {msg}", "{label_zh}，代码 {code}（{name}）{msg}"),
        TransferPhase::Invalid { msg } | TransferPhase::Aborted { msg } => why!("{label} {msg}", "{label_zh}：{msg}"),
        _ => why!("{label}", "{label_zh}"),
    }
}

fn record(ctx: &mut Ctx<'_>, kind: &str, target: &str, bytes: u64, status: Option<&TransferStatus>) {
    let outcome = status.map_or_else(|| "not finished".to_owned(), |s| phase_text(&s.phase).en);
    ctx.facts.transfers.push(TransferResult { case_id: ctx.def.id.clone(), kind: kind.to_owned(), target: target.to_owned(), bytes, outcome });
}

/// The first module the gateway lists and its version.
async fn first_module(ctx: &mut Ctx<'_>) -> Result<(String, String), CaseText> {
    let data = ctx.request_ok("ota/version/get", empty()).await?;
    let versions: Versions = serde_json::from_value(data).map_err(|e| why!("ota/version/get: {e}", "ota/version/get：应答无法解析：{e}"))?;
    versions.modules.into_iter().next().map(|m| (m.module, m.version)).ok_or_else(|| why!("ota/version/get lists no module", "ota/version/get 未列出任何模块"))
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
        return Err(Verdict::inconclusive(why!("no firmware image given (--firmware, --module, --version)", "未提供固件映像（--firmware、--module、--version）")));
    };
    let spec = ota_spec(ctx, &firmware.module, &firmware.version, firmware.image.clone());
    let id = ctx.handle.start_ota(spec).map_err(|_| Verdict::failed(engine_stopped("ota/upgrade")))?;
    ctx.note(format!("ota/upgrade {} to {} ({} bytes), task {id}", firmware.module, firmware.version, firmware.image.len()));
    let status = follow(ctx, &id).await;
    record(ctx, "ota", &format!("{} {}", firmware.module, firmware.version), firmware.image.len() as u64, status.as_ref());
    let status = status.ok_or_else(|| Verdict::failed(why!("the upgrade did not end within the case's time", "升级未在用例时限内结束")))?;
    Ok((status, chunk_offsets(ctx, &id)))
}

pub(super) async fn ota_upgrade(ctx: &mut Ctx<'_>) -> Verdict {
    let (status, offsets) = match upgrade(ctx).await {
        Ok(done) => done,
        Err(verdict) => return verdict,
    };
    step!(upgrade_done(&status.phase));
    let (covered, size) = (status.progress.covered, status.progress.size);
    step!(ensure(covered >= size, || why!("done with {covered} of {size} bytes pulled", "已完成，但只拉取了 {size} 字节中的 {covered} 字节")));
    let first = offsets.first();
    step!(ensure(first == Some(&0), || why!("the first chunk asked was at offset {first:?}, not 0", "请求的第一个分片偏移为 {first:?}，而不是 0")));
    Verdict::Passed
}

pub(super) async fn ota_checksum(ctx: &mut Ctx<'_>) -> Verdict {
    let (module, _) = step!(first_module(ctx).await);
    let image = Bytes::from(vec![0x5a_u8; 4096]);
    let mut spec = ota_spec(ctx, &module, "0.0.0-conformance-bad-digest", image.clone());
    spec.sha256 = sha256_hex(b"not the image");
    let id = step!(ctx.handle.start_ota(spec).map_err(|_| engine_stopped("ota/upgrade")));
    let status = follow(ctx, &id).await;
    record(ctx, "ota (wrong sha256)", &module, image.len() as u64, status.as_ref());
    let Some(status) = status else { return Verdict::failed(why!("no verdict from the gateway within the case's time", "在用例时限内网关未给出结果")) };
    match status.phase {
        TransferPhase::Failed { code, .. } if code == codes::CHECKSUM => Verdict::Passed,
        TransferPhase::Failed { code, name, .. } => Verdict::failed(why!("the checksum failure was reported with code {code} ({name}), not 9", "校验失败上报的代码为 {code}（{name}），而不是 9")),
        other => {
            let CaseText { en, zh } = phase_text(&other);
            Verdict::failed(why!("an image with a wrong sha256 ended {en}", "sha256 错误的映像结束时的状态：{zh}"))
        }
    }
}

pub(super) async fn ota_same_version(ctx: &mut Ctx<'_>) -> Verdict {
    let (module, version) = step!(first_module(ctx).await);
    let image = Bytes::from(vec![0xa5_u8; 1024]);
    let id = step!(ctx.handle.start_ota(ota_spec(ctx, &module, &version, image)).map_err(|_| engine_stopped("ota/upgrade")));
    let status = follow(ctx, &id).await;
    let Some(status) = status else { return Verdict::failed(why!("no answer to the announcement within the case's time", "在用例时限内升级通告无应答")) };
    match status.phase {
        TransferPhase::Refused { code, .. } if code == codes::SAME_VERSION => Verdict::Passed,
        other => {
            let CaseText { en, zh } = phase_text(&other);
            Verdict::failed(why!(
                "an upgrade of {module} to its own version {version} ended {en}, not refused with 11",
                "将 {module} 升级到其当前版本 {version}，结束时的状态为：{zh}，而不是以 11 拒绝"
            ))
        }
    }
}

pub(super) async fn ota_resume(ctx: &mut Ctx<'_>) -> Verdict {
    if ctx.options.firmware.is_none() {
        return Verdict::inconclusive(why!("no firmware image given", "未提供固件映像"));
    }
    if ctx.options.interactive.is_none() {
        return Verdict::inconclusive(why!(
            "manual step (interrupt the network mid-transfer) not possible in a non-interactive run",
            "非交互运行中无法进行人工步骤（传输中途断开网络）"
        ));
    }
    if !ctx.manual().await {
        return Verdict::inconclusive(why!("manual step skipped", "人工步骤已跳过"));
    }
    let (status, offsets) = match upgrade(ctx).await {
        Ok(done) => done,
        Err(verdict) => return verdict,
    };
    step!(upgrade_done(&status.phase));
    let resumed = offsets.windows(2).any(|w| w[1] <= w[0]);
    if !resumed {
        return Verdict::inconclusive(why!(
            "no offset was asked again: the interruption did not fall inside the transfer",
            "没有偏移被再次请求：中断未发生在传输过程中"
        ));
    }
    Verdict::Passed
}

fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 128 && name != "." && name != ".." && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

pub(super) async fn file_list(ctx: &mut Ctx<'_>) -> Verdict {
    let data = step!(ctx.request_ok("file/list", empty()).await);
    let files = step!(data["files"].as_array().ok_or_else(|| why!("file/list: no files array", "file/list：应答中没有 files 数组")));
    for f in files {
        let name = f["name"].as_str().unwrap_or_default();
        step!(ensure(plain_name(name), || why!("file/list: {name:?} is not a plain file name", "file/list：{name:?} 不是普通文件名")));
        step!(ensure(f["size"].is_u64() && f["mtime"].is_i64(), || why!("file/list: {name} lacks a size or an mtime", "file/list：{name} 缺少 size 或 mtime")));
    }
    ctx.note(format!("{} files", files.len()));
    Verdict::Passed
}

pub(super) async fn file_download(ctx: &mut Ctx<'_>) -> Verdict {
    let data = Bytes::from(format!("cems-workbench conformance run, {}\n", crate::protocol::time::now_ms()));
    let mut spec = FileDownloadSpec::new(ctx.session, ctx.pk(), ctx.dev(), TEST_FILE, data.clone());
    spec.silence_timeout = ctx.options.transfer_timeout;
    let id = step!(ctx.handle.start_file_download(spec).map_err(|_| engine_stopped("file/download")));
    let status = follow(ctx, &id).await;
    record(ctx, "file download", TEST_FILE, data.len() as u64, status.as_ref());
    let Some(status) = status else { return Verdict::failed(why!("the download did not end within the case's time", "下载未在用例时限内结束")) };
    step!(ensure(status.phase == TransferPhase::Done, || {
        let CaseText { en, zh } = phase_text(&status.phase);
        why!("the download ended {en}", "下载结束时的状态：{zh}")
    }));
    let listed = step!(ctx.request_ok("file/list", empty()).await);
    let size = listed["files"].as_array().and_then(|fs| fs.iter().find(|f| f["name"] == TEST_FILE)).and_then(|f| f["size"].as_u64());
    step!(ensure(size == Some(data.len() as u64), || why!("file/list shows {TEST_FILE} with size {size:?}, not {expected}", "file/list 显示 {TEST_FILE} 的大小为 {size:?}，而不是 {expected}", expected = data.len())));
    ctx.facts.restored.push(format!("{TEST_FILE} left on the gateway (the contract has no delete)"));
    Verdict::Passed
}

pub(super) async fn file_upload(ctx: &mut Ctx<'_>) -> Verdict {
    let listed = step!(ctx.request_ok("file/list", empty()).await);
    let Some(name) = listed["files"].as_array().and_then(|fs| fs.iter().filter(|f| f["size"].as_u64().is_some_and(|s| s <= 1024 * 1024)).find_map(|f| f["name"].as_str().map(str::to_owned))) else {
        return Verdict::inconclusive(why!("the gateway lists no file of at most 1 MiB to pull", "网关未列出可拉取的不超过 1 MiB 的文件"));
    };
    let dest = std::env::temp_dir().join(format!("cems-conformance-{}", new_request_id()));
    let mut spec = FileUploadSpec::new(ctx.session, ctx.pk(), ctx.dev(), &name, dest.clone());
    spec.silence_timeout = ctx.options.transfer_timeout;
    let id = step!(ctx.handle.start_file_upload(spec).map_err(|_| engine_stopped("file/upload")));
    let status = follow(ctx, &id).await;
    let bytes = status.as_ref().map_or(0, |s| s.progress.bytes_moved);
    record(ctx, "file upload", &name, bytes, status.as_ref());
    // Only a copy for the check; the report keeps the digest.
    let _ = std::fs::remove_file(&dest);
    let Some(status) = status else { return Verdict::failed(why!("the upload did not end within the case's time", "上传未在用例时限内结束")) };
    step!(ensure(status.phase == TransferPhase::Done, || {
        let CaseText { en, zh } = phase_text(&status.phase);
        why!("pulling {name} ended {en}", "拉取 {name} 结束时的状态：{zh}")
    }));
    Verdict::Passed
}

pub(super) async fn hostile_names(ctx: &mut Ctx<'_>) -> Verdict {
    let reply = step!(ctx.request("file/upload", json!({"fileId": new_request_id(), "name": HOSTILE})).await);
    step!(expect_code("file/upload ../", &reply, codes::BAD_PARAM));
    let reply = step!(ctx.request("file/upload", json!({"fileId": new_request_id(), "name": "xConformanceNoSuchFile.bin"})).await);
    step!(expect_code("file/upload xConformanceNoSuchFile.bin", &reply, codes::NOT_FOUND));
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

/// `Ok` when an upgrade ended done, else how it ended.
fn upgrade_done(phase: &TransferPhase) -> Result<(), CaseText> {
    ensure(*phase == TransferPhase::Done, || {
        let CaseText { en, zh } = phase_text(phase);
        why!("the upgrade ended {en}", "升级结束时的状态：{zh}")
    })
}
