//! `ota`: upgrade a gateway's module with an image file and follow the gateway to its verdict.
//! A progress bar on a terminal (stderr), one JSON line at the end (stdout). Exit 0 only when
//! the gateway pulled every byte of the image and then reported `done`; 1 when it refused or
//! failed, or claimed done without pulling the whole image (the code, its name and the reason
//! are in the line); 2 for a usage error (unreadable image, chunk size out of range, digest mismatch);
//! 3 when the link could not be opened or stayed down, or the gateway went silent.
//!
//! The transfer helpers here (`follow`, `status_line`, `exit_code`) serve `file` too.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use indicatif::{HumanBytes, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::engine::tasks::{self, TaskKind, TransferPhase, TransferStatus};
use crate::engine::{EngineConfig, EngineEvent, OtaSpec};
use crate::transport::LinkState;

use super::call::split_target;
use crate::config::link_args::LinkArgs;
use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, runtime};

#[derive(Debug, Clone, Args)]
pub struct OtaArgs {
    /// PK/DEV
    pub target: String,
    /// The firmware image file.
    #[arg(long)]
    pub image: PathBuf,
    /// The module to upgrade, as the gateway lists it in ota/version (e.g. firmware).
    #[arg(long)]
    pub module: String,
    /// The version the image carries.
    #[arg(long)]
    pub version: String,
    /// Bytes per chunk, 256 to 65536 (at most 32768 over serial) [default: the largest the link carries].
    #[arg(long)]
    pub chunk_size: Option<u32>,
    /// The image's SHA-256 as published with it: checked before anything is sent.
    #[arg(long)]
    pub sha256: Option<String>,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Seconds to wait for the link, and of gateway silence (or link outage) before giving up.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
}

/// Prints a usage error; exit code 2.
pub(super) fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

/// A positive, finite number of seconds.
pub(super) fn timeout_arg(secs: f64) -> Result<Duration, String> {
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("--timeout {secs}: expected a positive number of seconds"))
    }
}

/// The chunk size asked for, or the link's largest, checked against the contract and the link.
pub(super) fn chunk_size_arg(asked: Option<u32>, link: &LinkArgs) -> Result<u32, String> {
    let serial = link.serial.is_some();
    let size = asked.unwrap_or_else(|| tasks::default_chunk_size(serial));
    tasks::check_chunk_size(size, serial).map_err(|e| format!("--chunk-size: {e}"))?;
    Ok(size)
}

pub fn run(args: &OtaArgs) -> ExitCode {
    let checked = (|| {
        let (pk, dev) = split_target(&args.target, "target")?;
        let timeout = timeout_arg(args.timeout)?;
        let chunk_size = chunk_size_arg(args.chunk_size, &args.link)?;
        if args.module.is_empty() || args.version.is_empty() {
            return Err("--module and --version must not be empty".to_owned());
        }
        let image = std::fs::read(&args.image).map_err(|e| format!("--image {}: {e}", args.image.display()))?;
        if image.is_empty() {
            return Err(format!("--image {}: the file is empty", args.image.display()));
        }
        let digest = crate::protocol::digest::sha256_hex(&image);
        if let Some(expected) = &args.sha256
            && !expected.eq_ignore_ascii_case(&digest)
        {
            return Err(format!("--image {}: sha256 is {digest}, not the published {expected}; the file is not the one published", args.image.display()));
        }
        Ok((pk, dev, timeout, chunk_size, Bytes::from(image)))
    })();
    let (pk, dev, timeout, chunk_size, image) = match checked {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Not the site's master: leave alarm and history acknowledgements to it.
    let config = EngineConfig { master_duties: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "ota", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let mut spec = OtaSpec::new(cli.session, &pk, &dev, &args.module, &args.version, image);
        spec.chunk_size = chunk_size;
        spec.silence_timeout = timeout;
        let size = spec.image.len() as u64;
        let Ok(id) = cli.handle.start_ota(spec) else {
            eprintln!("error: the engine stopped");
            return ExitCode::from(EXIT_LINK);
        };
        let status = follow(&mut cli, &id, size, &format!("{pk}/{dev} {}", args.module), timeout).await;
        cli.handle.shutdown();
        finish(status)
    })
}

/// Prints the final line (and the reason on stderr) and picks the exit code.
pub(super) fn finish(status: Option<TransferStatus>) -> ExitCode {
    let Some(status) = status else {
        eprintln!("error: the engine stopped before the transfer ended");
        return ExitCode::from(EXIT_LINK);
    };
    println!("{}", status_line(&status));
    if let Some(reason) = failure_text(&status) {
        eprintln!("error: {}/{}: {reason}", status.gateway, status.target);
    }
    exit_code(&status.phase)
}

/// 0 done, 1 refused/failed/cancelled, 2 invalid, 3 link or silence.
pub(super) fn exit_code(phase: &TransferPhase) -> ExitCode {
    match phase {
        TransferPhase::Done => ExitCode::SUCCESS,
        TransferPhase::Invalid { .. } => ExitCode::from(EXIT_USAGE),
        TransferPhase::TimedOut { .. } | TransferPhase::Aborted { .. } => ExitCode::from(EXIT_LINK),
        _ => ExitCode::FAILURE,
    }
}

fn failure_text(status: &TransferStatus) -> Option<String> {
    Some(match &status.phase {
        TransferPhase::Refused { code, name, msg } => format!("the gateway refused: code {code} ({name}) {msg}"),
        TransferPhase::Failed { code, name, msg } => format!("failed: code {code} ({name}) {msg}"),
        TransferPhase::Invalid { msg } => msg.clone(),
        TransferPhase::TimedOut { after, waiting_for } => format!("no sign of the gateway for {:.0} s (waiting for {waiting_for})", after.as_secs_f64()),
        TransferPhase::Aborted { msg } => msg.clone(),
        TransferPhase::Cancelled => "cancelled".to_owned(),
        _ => return None,
    })
}

/// The final JSON line of a transfer.
pub(super) fn status_line(status: &TransferStatus) -> Value {
    let (code, name, msg): (Option<i64>, Option<&str>, Option<String>) = match &status.phase {
        TransferPhase::Done => (Some(0), Some("ok"), None),
        TransferPhase::Refused { code, name, msg } | TransferPhase::Failed { code, name, msg } => (Some(*code), Some(name), Some(msg.clone())),
        _ => (None, None, failure_text(status)),
    };
    let progress = &status.progress;
    let secs = status.elapsed.as_secs_f64();
    let mut line = json!({
        "id": status.id,
        "kind": status.kind.label(),
        "gateway": status.gateway.to_string(),
        "target": status.target,
        "phase": status.phase.label(),
        "code": code,
        "name": name,
        "msg": msg,
        "size": progress.size,
        "bytesMoved": progress.bytes_moved,
        "chunks": progress.chunks,
        "chunkSize": status.chunk_size,
        "sha256": status.sha256,
        "elapsedSecs": (secs * 1000.0).round() / 1000.0,
        "rateBps": if secs > 0.0 { (progress.position as f64 / secs).round() } else { 0.0 },
    });
    if status.kind != TaskKind::FileUpload {
        // What the gateway really pulled (each byte once): bytesMoved counts resends too.
        line["bytesCovered"] = json!(progress.covered);
    }
    if status.kind == TaskKind::Ota {
        line["deviceStep"] = json!(progress.device_step);
    }
    if let Some(dest) = &status.dest {
        line["path"] = json!(dest.display().to_string());
    }
    line
}

fn progress_bar(size: u64, prefix: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    // A template error is a bug here; the bar still works with indicatif's default style.
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(prefix.to_owned());
    bar
}

fn bar_message(status: &TransferStatus) -> String {
    let progress = &status.progress;
    let mut text = status.phase.label().to_owned();
    if progress.rate_bps > 0.0 {
        text.push_str(&format!(" {}/s", HumanBytes(progress.rate_bps as u64)));
    }
    if let Some(eta) = progress.eta {
        text.push_str(&format!(" eta {}", HumanDuration(eta)));
    }
    if let Some(step) = progress.device_step {
        let step = serde_json::to_value(step).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        text.push_str(&format!(" · gateway: {step} {:.0}%", progress.device_percent.unwrap_or(0.0)));
    }
    text
}

/// Follows task `id` to its end: a progress bar, Ctrl-C cancels it, and a link down for longer
/// than `link_grace` cancels it too (the engine would wait for the link indefinitely).
/// `None` when the engine stopped.
pub(super) async fn follow(cli: &mut CliSession, id: &str, size: u64, prefix: &str, link_grace: Duration) -> Option<TransferStatus> {
    let bar = progress_bar(size, prefix);
    let mut link_down_since: Option<tokio::time::Instant> = None;
    let mut link_lost: Option<String> = None;
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    loop {
        let check = tokio::time::sleep(Duration::from_millis(500));
        tokio::select! {
            batch = cli.events.next_batch() => {
                let batch = batch?;
                for event in batch {
                    match event {
                        EngineEvent::Transfer(status) if status.id == id => {
                            bar.set_length(status.progress.size.max(1));
                            bar.set_position(status.progress.position);
                            bar.set_message(bar_message(&status));
                            if status.phase.is_final() {
                                bar.finish_and_clear();
                                return Some(with_link_reason(status, link_lost.take()));
                            }
                        }
                        EngineEvent::SessionState { session, state, .. } if session == cli.session => match state {
                            LinkState::Up => link_down_since = None,
                            LinkState::Down { reason } => {
                                link_down_since.get_or_insert_with(tokio::time::Instant::now);
                                bar.set_message(format!("link down: {reason}"));
                            }
                            _ => {}
                        },
                        _ => {}
                    }
                }
            }
            result = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                if result.is_ok() {
                    // Cancelled in the engine: the image is withdrawn, the gateway gets code 7.
                    let _ = cli.handle.cancel_transfer(id);
                }
            }
            () = check => {}
        }
        if link_lost.is_none()
            && let Some(since) = link_down_since
            && since.elapsed() >= link_grace
        {
            link_lost = Some(format!("the link to {} was down for {:.0} s", cli.label, link_grace.as_secs_f64()));
            // The engine keeps the task while its link is down; the command does not wait forever.
            let _ = cli.handle.cancel_transfer(id);
        }
    }
}

/// A task cancelled because the link stayed down ends as `aborted`, with the reason.
fn with_link_reason(status: TransferStatus, link_lost: Option<String>) -> TransferStatus {
    match (link_lost, &status.phase) {
        (Some(msg), TransferPhase::Cancelled) => TransferStatus { phase: TransferPhase::Aborted { msg }, ..status },
        _ => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_defaults_and_limits_depend_on_the_link() {
        let mqtt = LinkArgs::default();
        let serial = LinkArgs { serial: Some("/dev/ttyUSB0".into()), ..LinkArgs::default() };
        assert_eq!(chunk_size_arg(None, &mqtt), Ok(65_536));
        assert_eq!(chunk_size_arg(None, &serial), Ok(32_768));
        assert!(chunk_size_arg(Some(100), &mqtt).is_err());
        assert!(chunk_size_arg(Some(65_536), &serial).unwrap_err().contains("serial"));
        assert!(timeout_arg(0.0).is_err() && timeout_arg(f64::NAN).is_err() && timeout_arg(1.5).is_ok());
    }
}
