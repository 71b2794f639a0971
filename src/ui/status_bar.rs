//! The status bar: each link and its state, the message rate, the store's memory use against its
//! budget and what the store dropped or truncated, and the latest notice.

use egui::text::LayoutJob;
use egui::{Color32, RichText, TextFormat};

use super::format::format_bytes;
use super::{SessionView, ViewContext};
use crate::transport::LinkState;

/// Links shown one by one; more are summed up as "+N".
const MAX_LINKS_SHOWN: usize = 4;

/// Draws the status bar (one line). `notices` are the latest notices, oldest first: the newest
/// is shown, all of them on hover.
pub fn status_bar_ui(ui: &mut egui::Ui, ctx: &ViewContext, rate_per_sec: f64, notices: &[&str]) {
    ui.horizontal(|ui| {
        links_ui(ui, ctx);
        ui.separator();
        ui.label(format!("{:.1} {}", rate_per_sec, ctx.tr("msg/s")));
        ui.separator();
        store_ui(ui, ctx);
        refused_ui(ui, ctx);
        super::recording::status_ui(ui, ctx);
        super::history::status_ui(ui, ctx);
        if let Some((last, older)) = notices.split_last() {
            ui.separator();
            let label = ui.add(egui::Label::new(RichText::new(*last).weak()).truncate());
            if !older.is_empty() {
                label.on_hover_ui(|ui| {
                    for notice in notices.iter().rev() {
                        ui.label(*notice);
                    }
                });
            }
        }
    });
}

fn links_ui(ui: &mut egui::Ui, ctx: &ViewContext) {
    let open: Vec<&SessionView> = ctx.sessions.values().filter(|s| s.state != LinkState::Closed).collect();
    if open.is_empty() {
        ui.label(RichText::new(ctx.tr("No links")).weak());
        return;
    }
    for session in open.iter().take(MAX_LINKS_SHOWN) {
        let replay_ended = session.kind == crate::transport::LinkKind::Replay && matches!(session.state, LinkState::Down { .. });
        let (word, detail) = match &session.state {
            _ if replay_ended => (ctx.tr("replay ended"), None),
            LinkState::Up => (ctx.tr("connected"), None),
            LinkState::Connecting { attempt } => (ctx.tr("connecting"), (*attempt > 1).then(|| format!("{} {attempt}", ctx.tr("attempt")))),
            LinkState::Down { reason } => (ctx.tr("down"), Some(reason.clone())),
            LinkState::Closed => (ctx.tr("closed"), None),
        };
        let colour = if replay_ended { ui.visuals().weak_text_color() } else { state_colour(ui, &session.state) };
        let mut job = LayoutJob::default();
        let font = egui::TextStyle::Body.resolve(ui.style());
        job.append("● ", 0.0, TextFormat::simple(font.clone(), colour));
        let text = match &detail {
            Some(detail) if matches!(session.state, LinkState::Connecting { .. }) => format!("{}: {word} ({detail})", session.label),
            _ => format!("{}: {word}", session.label),
        };
        job.append(&text, 0.0, TextFormat::simple(font, ui.visuals().text_color()));
        let response = ui.label(job);
        let mut hover = format!("{}  {}", session.target, ctx.tr("connection attempts:"));
        hover.push_str(&format!(" {}", session.attempts));
        if let LinkState::Down { reason } = &session.state {
            hover.push('\n');
            hover.push_str(reason);
        }
        if session.frames_dropped > 0 {
            hover.push_str(&format!("\n{} {}", ctx.tr("serial frames dropped:"), session.frames_dropped));
        }
        response.on_hover_text(hover);
    }
    if open.len() > MAX_LINKS_SHOWN {
        ui.label(format!("+{}", open.len() - MAX_LINKS_SHOWN));
    }
}

fn store_ui(ui: &mut egui::Ui, ctx: &ViewContext) {
    let (stats, used, budget) = {
        let store = ctx.state.store();
        (store.stats(), store.memory_bytes(), store.limits().total_bytes)
    };
    let share = if budget > 0 { used as f64 / budget as f64 } else { 0.0 };
    let text = format!("{} {} / {}", ctx.tr("Store"), format_bytes(used as u64), format_bytes(budget as u64));
    let colour = if share > 0.9 { Some(warn_colour(ui)) } else { None };
    let label = match colour {
        Some(c) => ui.colored_label(c, text),
        None => ui.label(text),
    };
    label.on_hover_text(format!("{} {} · {} {}", stats.topics, ctx.tr("topics"), stats.messages, ctx.tr("messages")));
    let dropped = format!("{} {}", ctx.tr("Evicted:"), stats.evicted);
    let truncated = format!("{} {}", ctx.tr("Truncated:"), stats.truncated);
    for (text, count) in [(dropped, stats.evicted), (truncated, stats.truncated)] {
        if count > 0 {
            ui.colored_label(warn_colour(ui), text);
        } else {
            ui.label(RichText::new(text).weak());
        }
    }
    series_ui(ui, ctx);
}

/// The plots' series store: its own budget beside the topic store's.
fn series_ui(ui: &mut egui::Ui, ctx: &ViewContext) {
    let (stats, budget) = {
        let series = ctx.state.series();
        (series.stats(), series.limits().total_bytes)
    };
    if stats.series == 0 {
        return;
    }
    let text = format!("{} {} / {}", ctx.tr("Series"), format_bytes(stats.bytes as u64), format_bytes(budget as u64));
    let label = if budget > 0 && stats.bytes as f64 > 0.9 * budget as f64 { ui.colored_label(warn_colour(ui), text) } else { ui.label(text) };
    label.on_hover_text(format!("{} {} · {} {}", stats.series, ctx.tr("series for the plots"), stats.samples, ctx.tr("samples")));
}

/// What the gateway table's caps refused (invented gateways, bad ids, too many points), shown
/// only once something was: a flood is worth knowing about.
fn refused_ui(ui: &mut egui::Ui, ctx: &ViewContext) {
    let r = ctx.state.gateways().refused();
    if r.total() == 0 {
        return;
    }
    ui.separator();
    let rows = [
        (ctx.tr("from gateways that never announced themselves"), r.unannounced),
        (ctx.tr("new gateways over the table's cap"), r.gateways),
        (ctx.tr("sub-devices over a gateway's cap"), r.subs),
        (ctx.tr("points over a sub-device's cap"), r.points),
        (ctx.tr("meters over a sub-device's cap"), r.meters),
        (ctx.tr("alarms over a gateway's cap"), r.alarms),
        (ctx.tr("ports over a gateway's cap"), r.ports),
        (ctx.tr("properties over a gateway's cap"), r.properties),
        (ctx.tr("items with an id outside the contract's charset"), r.bad_ids),
        (ctx.tr("texts and values cut to fit"), r.cut),
    ];
    let detail: Vec<String> = rows.iter().filter(|(_, n)| *n > 0).map(|(what, n)| format!("{n} {what}")).collect();
    ui.colored_label(warn_colour(ui), format!("{} {}", ctx.tr("Refused:"), r.total())).on_hover_text(detail.join("\n"));
}

/// Green for up, amber for connecting, red for down, grey for closed; darker on light themes.
pub fn state_colour(ui: &egui::Ui, state: &LinkState) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match state {
        LinkState::Up if dark => Color32::from_rgb(90, 200, 110),
        LinkState::Up => Color32::from_rgb(20, 130, 50),
        LinkState::Connecting { .. } if dark => Color32::from_rgb(230, 180, 60),
        LinkState::Connecting { .. } => Color32::from_rgb(170, 110, 0),
        LinkState::Down { .. } if dark => Color32::from_rgb(235, 90, 80),
        LinkState::Down { .. } => Color32::from_rgb(190, 30, 30),
        LinkState::Closed => ui.visuals().weak_text_color(),
    }
}

fn warn_colour(ui: &egui::Ui) -> Color32 {
    ui.visuals().warn_fg_color
}
