//! The transfer tasks of one gateway as the Firmware and Files tabs show them: progress, rate,
//! ETA, the device's step, Cancel, and the outcome in words with the code's name.

use egui::{ProgressBar, RichText};

use crate::engine::tasks::{TaskKind, TransferPhase, TransferStatus};
use crate::engine::{GatewayKey, SessionId};
use crate::protocol::codes;
use crate::protocol::model::Lang;
use crate::protocol::payload::OtaStep;
use crate::transport::{LinkKind, LinkState};
use crate::ui::format::format_bytes;
use crate::ui::i18n::tr;
use crate::ui::widgets::{fill, ok_color};
use crate::ui::{UiCommand, ViewContext};

/// Whether the gateway's session can carry a task, and whether it is a serial link.
pub fn session_of(ctx: &ViewContext, session: SessionId) -> (bool, bool) {
    match ctx.sessions.get(&session) {
        Some(s) => (s.state != LinkState::Closed, s.kind == LinkKind::Serial),
        None => (false, false),
    }
}

fn phase_text(lang: Lang, phase: &TransferPhase) -> &'static str {
    match phase {
        TransferPhase::Announcing => tr(lang, "Announcing"),
        TransferPhase::Running => tr(lang, "Transferring"),
        TransferPhase::Verifying => tr(lang, "Verifying"),
        TransferPhase::Installing => tr(lang, "Installing"),
        TransferPhase::Done => tr(lang, "Done"),
        TransferPhase::Invalid { .. } => tr(lang, "Not started"),
        TransferPhase::Refused { .. } => tr(lang, "Refused"),
        TransferPhase::Failed { .. } => tr(lang, "Failed"),
        TransferPhase::TimedOut { .. } => tr(lang, "Timed out"),
        TransferPhase::Aborted { .. } => tr(lang, "Aborted"),
        TransferPhase::Cancelled => tr(lang, "Cancelled"),
    }
}

fn step_text(lang: Lang, step: OtaStep) -> &'static str {
    match step {
        OtaStep::Accepted => tr(lang, "accepted"),
        OtaStep::Downloading => tr(lang, "downloading"),
        OtaStep::Verifying => tr(lang, "verifying"),
        OtaStep::Installing => tr(lang, "installing"),
        OtaStep::Done => tr(lang, "done"),
        OtaStep::Failed => tr(lang, "failed"),
    }
}

/// A code with its name and meaning in the UI language, and the gateway's message.
fn code_text(lang: Lang, code: i64, msg: &str) -> String {
    let msg_opt = (!msg.is_empty()).then_some(msg);
    let described = codes::meaning(code, msg_opt).describe(lang == Lang::Zh);
    match msg_opt {
        Some(m) if !described.contains(m) => format!("{described}: {m}"),
        _ => described,
    }
}

/// The final outcome of a task, for a person.
fn outcome_text(ctx: &ViewContext, s: &TransferStatus) -> Option<String> {
    let text = match &s.phase {
        TransferPhase::Done => match s.kind {
            TaskKind::Ota => fill(ctx.tr("The gateway installed {target}."), &[("target", &s.target)]),
            TaskKind::FileDownload => fill(ctx.tr("The gateway stored {target}."), &[("target", &s.target)]),
            TaskKind::FileUpload => {
                let dest = s.dest.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
                fill(ctx.tr("Saved to {path}."), &[("path", &dest)])
            }
        },
        TransferPhase::Invalid { msg } => fill(ctx.tr("Not started: {msg}"), &[("msg", msg)]),
        TransferPhase::Refused { code, msg, .. } => fill(ctx.tr("Refused by the gateway: {code}"), &[("code", &code_text(ctx.lang, *code, msg))]),
        TransferPhase::Failed { code, msg, .. } => fill(ctx.tr("Failed: {code}"), &[("code", &code_text(ctx.lang, *code, msg))]),
        TransferPhase::TimedOut { after, waiting_for } => fill(
            ctx.tr("The gateway was silent for {n} s (waiting for {what})."),
            &[("n", &after.as_secs().to_string()), ("what", waiting_for)],
        ),
        TransferPhase::Aborted { msg } => fill(ctx.tr("Aborted: {msg}"), &[("msg", msg)]),
        TransferPhase::Cancelled => ctx.tr("Cancelled by the user.").to_owned(),
        TransferPhase::Announcing | TransferPhase::Running | TransferPhase::Verifying | TransferPhase::Installing => return None,
    };
    Some(text)
}

/// The tasks of `kinds` on gateway `key`, newest first, each with its progress bar, rate, ETA,
/// the device's step, Cancel while it runs and its outcome once final. True while one runs.
pub fn transfers_ui(ui: &mut egui::Ui, ctx: &ViewContext, key: &GatewayKey, kinds: &[TaskKind], commands: &mut Vec<UiCommand>) -> bool {
    // Copy out and let go of the lock before drawing.
    let mut list: Vec<TransferStatus> = ctx.state.transfers().iter().filter(|s| s.gateway == *key && kinds.contains(&s.kind)).cloned().collect();
    list.reverse();
    if list.is_empty() {
        ui.weak(ctx.tr("No task yet."));
        return false;
    }
    let mut running = false;
    for s in &list {
        running |= !s.phase.is_final();
        ui.group(|ui| status_ui(ui, ctx, s, commands));
    }
    running
}

fn status_ui(ui: &mut egui::Ui, ctx: &ViewContext, s: &TransferStatus, commands: &mut Vec<UiCommand>) {
    let final_ = s.phase.is_final();
    let color = match &s.phase {
        TransferPhase::Done => ok_color(ui.visuals()),
        TransferPhase::Cancelled => ui.visuals().warn_fg_color,
        p if p.is_final() => ui.visuals().error_fg_color,
        _ => ui.visuals().text_color(),
    };
    ui.horizontal_wrapped(|ui| {
        let what = match s.kind {
            TaskKind::Ota => fill(ctx.tr("Upgrade {target}"), &[("target", &s.target)]),
            TaskKind::FileDownload => fill(ctx.tr("Send {target}"), &[("target", &s.target)]),
            TaskKind::FileUpload => fill(ctx.tr("Fetch {target}"), &[("target", &s.target)]),
        };
        ui.strong(what).on_hover_text(&s.id);
        ui.colored_label(color, RichText::new(phase_text(ctx.lang, &s.phase)).strong());
        if !final_ && ui.button(ctx.tr("Cancel")).on_hover_text(ctx.tr("Cancel this transfer")).clicked() {
            commands.push(UiCommand::CancelTransfer(s.id.clone()));
        }
    });
    let p = &s.progress;
    let device = p.device_percent.map(|d| (d / 100.0).clamp(0.0, 1.0));
    let fraction = match (&s.phase, device) {
        (TransferPhase::Done, _) => 1.0,
        (TransferPhase::Verifying | TransferPhase::Installing, Some(d)) => d,
        _ => (p.percent() / 100.0).clamp(0.0, 1.0),
    };
    let bar_text = fill(ctx.tr("{done} of {size}"), &[("done", &format_bytes(p.position.min(p.size))), ("size", &format_bytes(p.size))]);
    ui.add(ProgressBar::new(fraction as f32).text(format!("{bar_text} · {:.0}%", fraction * 100.0)).animate(!final_));
    ui.horizontal_wrapped(|ui| {
        if !final_ || p.rate_bps > 0.0 {
            ui.weak(fill(ctx.tr("{rate} KiB/s"), &[("rate", &format!("{:.1}", p.rate_bps / 1024.0))]));
        }
        if !final_ && let Some(eta) = p.eta {
            ui.weak(fill(ctx.tr("ETA {n} s"), &[("n", &eta.as_secs().to_string())]));
        }
        if let Some(step) = p.device_step {
            let percent = p.device_percent.map(|d| format!(" {d:.0}%")).unwrap_or_default();
            ui.weak(fill(ctx.tr("Device: {step}"), &[("step", &format!("{}{percent}", step_text(ctx.lang, step)))]));
        }
        ui.weak(fill(ctx.tr("{n} s elapsed"), &[("n", &s.elapsed.as_secs().to_string())]));
    });
    if !s.sha256.is_empty() {
        ui.weak(RichText::new(format!("SHA-256 {}", s.sha256)).monospace().small());
    }
    if let Some(text) = outcome_text(ctx, s) {
        ui.colored_label(color, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_keeps_its_name_and_message() {
        let text = code_text(Lang::En, 0, "");
        assert!(text.contains("ok"), "{text}");
        let zh = code_text(Lang::Zh, 0, "x");
        assert!(zh.ends_with(": x"), "{zh}");
    }
}
