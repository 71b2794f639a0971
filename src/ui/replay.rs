//! Replaying a recording in the window: the top bar's "Replay…" popup (a typed path beside the
//! file dialog, and the speed), and a bar under the top bar for each open replay with pause,
//! speed, a seek slider and where it stands. A replay is a read-only session that never
//! publishes; its label starts with "▶ replay" wherever sessions are named.

use std::sync::Arc;

use egui::containers::{Popup, PopupCloseBehavior};
use egui::{Button, RichText, Ui};

use super::file_dialog::DialogRequest;
use super::format::{format_local, format_time_of_day, local_and_utc};
use super::path_prompt::PathPrompt;
use super::settings::Settings;
use super::widgets::fill;
use super::{SessionView, UiCommand, ViewContext};
use crate::transport::replay::{ReplayConfig, ReplayControl, ReplayProgress, ReplaySnapshot, ReplaySpeed};
use crate::transport::{LinkConfig, LinkKind, LinkState};

/// The speeds offered; any factor can be typed on the command line.
const SPEEDS: [(ReplaySpeed, &str); 4] = [(ReplaySpeed::Factor(1.0), "1×"), (ReplaySpeed::Factor(10.0), "10×"), (ReplaySpeed::Factor(100.0), "100×"), (ReplaySpeed::Max, "max")];

/// A replay link's progress as a session shows it; equal when it is the same link's.
#[derive(Debug, Clone)]
pub struct ReplayLink(pub Arc<ReplayProgress>);

impl PartialEq for ReplayLink {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The label a replay session goes by: `▶ replay FILE`.
pub fn replay_label(config: &ReplayConfig) -> String {
    let name = config.path.file_name().map_or_else(|| config.path.display().to_string(), |n| n.to_string_lossy().into_owned());
    format!("▶ replay {name}")
}

/// The "Replay…" button and its popup.
#[derive(Debug, Default)]
pub struct ReplayOpener {
    prompt: Option<PathPrompt>,
    speed: usize,
}

impl ReplayOpener {
    pub fn ui(&mut self, ui: &mut Ui, view: &ViewContext, settings: &Settings, commands: &mut Vec<UiCommand>) {
        let button = ui.button(format!("▶ {}", view.tr("Replay…"))).on_hover_text(view.tr("Play an MCAP recording as a read-only session: the explorer, gateways, device pages and plots fill as they did live"));
        let folder = super::recording::recordings_folder(settings);
        Popup::menu(&button).close_behavior(PopupCloseBehavior::CloseOnClickOutside).show(|ui| {
            ui.set_min_width(520.0);
            let prompt = self.prompt.get_or_insert_with(|| PathPrompt::new(folder.as_ref().map_or_else(String::new, |f| format!("{}{}", f.display(), std::path::MAIN_SEPARATOR))));
            ui.horizontal(|ui| {
                ui.label(view.tr("Speed"));
                for (i, (_, name)) in SPEEDS.iter().enumerate() {
                    if ui.selectable_label(self.speed == i, *name).clicked() {
                        self.speed = i;
                    }
                }
            });
            let title = view.tr("Replay a recording");
            let request = |typed: &str| DialogRequest::Open {
                title: title.to_owned(),
                start_dir: super::file_dialog::start_dir_of(typed).or_else(|| folder.clone()),
                filters: vec![("MCAP".to_owned(), vec!["mcap".to_owned()])],
            };
            if let Some(path) = prompt.ui(ui, view, view.tr("Recording"), view.tr("Play"), request) {
                let config = ReplayConfig::new(path).with_speed(SPEEDS[self.speed].0);
                let label = replay_label(&config);
                commands.push(UiCommand::Connect { config: LinkConfig::Replay(config), label, profile: None, read_only: true });
                ui.close();
            }
            ui.label(RichText::new(view.tr("A replay never publishes: no acknowledgements, answers or requests go out.")).weak());
        });
    }
}

/// One bar per open replay: nothing when there is none.
pub fn replay_bars_ui(ui: &mut Ui, view: &ViewContext, commands: &mut Vec<UiCommand>) {
    for session in open_replays(view) {
        if let Some(ReplayLink(progress)) = &session.replay {
            bar_ui(ui, view, session, &progress.snapshot(), commands);
        }
    }
}

/// The replay sessions not closed.
pub fn open_replays<'v>(view: &'v ViewContext) -> impl Iterator<Item = &'v SessionView> {
    view.sessions.values().filter(|s| s.kind == LinkKind::Replay && s.state != LinkState::Closed)
}

/// The recorded time the open replays have reached (the latest of them), which plots follow
/// instead of the laptop's clock; `None` without an open replay.
pub fn replay_clock(view: &ViewContext) -> Option<i64> {
    open_replays(view).filter_map(|s| s.replay.as_ref()).filter_map(|r| {
        let snap = r.0.snapshot();
        snap.position_ms.or(snap.start_ms)
    }).max()
}

fn bar_ui(ui: &mut Ui, view: &ViewContext, session: &SessionView, snap: &ReplaySnapshot, commands: &mut Vec<UiCommand>) {
    let control = |control| UiCommand::ReplayControl { session: session.id, control };
    // Wrapped: on a narrow window the counts go to a second line rather than off the edge.
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(view.tr("REPLAY")).strong().color(ui.visuals().warn_fg_color)).on_hover_text(view.tr("Read-only: a replay never publishes"));
        ui.label(&session.label).on_hover_text(&session.target);
        ui.separator();
        let (symbol, what, next) = if snap.paused { ("▶", view.tr("Resume"), ReplayControl::Resume) } else { ("⏸", view.tr("Pause"), ReplayControl::Pause) };
        let enabled = snap.opened && !snap.finished;
        if ui.add_enabled(enabled, Button::new(symbol)).on_hover_text(what).accessible_name(what).clicked() {
            commands.push(control(next));
        }
        for (speed, name) in SPEEDS {
            if ui.selectable_label(snap.speed == speed, name).clicked() && snap.speed != speed {
                commands.push(control(ReplayControl::Speed(speed)));
            }
        }
        ui.separator();
        seek_ui(ui, view, session, snap, commands);
        status_ui(ui, view, snap);
    });
}

/// The slider over the recording's time: dragging shows the target, letting go seeks.
fn seek_ui(ui: &mut Ui, view: &ViewContext, session: &SessionView, snap: &ReplaySnapshot, commands: &mut Vec<UiCommand>) {
    let (Some(start), Some(end)) = (snap.start_ms, snap.end_ms) else {
        ui.label(RichText::new(view.tr("opening…")).weak());
        return;
    };
    let id = egui::Id::unique(("replay-seek", session.id));
    let shown = snap.seeking_to.or(snap.position_ms).unwrap_or(start).clamp(start, end.max(start));
    let mut value = ui.data(|d| d.get_temp::<i64>(id)).unwrap_or(shown) as f64;
    // Room for what comes before it and the times and counts after it, on one line at 1280 px.
    let width = (ui.ctx().content_rect().width() - 1000.0).clamp(120.0, 600.0);
    ui.spacing_mut().slider_width = width;
    let slider = egui::Slider::new(&mut value, start as f64..=end.max(start + 1) as f64).show_value(false).text("");
    let response = ui.add(slider).on_hover_text(view.tr("Drag to seek; back goes to the start and plays up to there at once"));
    if response.dragged() {
        ui.data_mut(|d| d.insert_temp(id, value as i64));
    }
    if response.drag_stopped() || (response.changed() && !response.dragged()) {
        ui.data_mut(|d| d.remove::<i64>(id));
        commands.push(UiCommand::ReplayControl { session: session.id, control: ReplayControl::Seek { to_ms: value as i64 } });
    }
    let at = value as i64;
    ui.monospace(format!("{} / {}", format_time_of_day(at), format_time_of_day(end))).on_hover_text(format!("{}\n{} → {}", local_and_utc(at), format_local(start), format_local(end)));
}

fn status_ui(ui: &mut Ui, view: &ViewContext, snap: &ReplaySnapshot) {
    let count = match snap.total_messages {
        Some(total) => format!("{} / {total}", snap.messages),
        None => snap.messages.to_string(),
    };
    ui.weak(fill(view.tr("{n} messages"), &[("n", &count)]));
    if let Some(damage) = &snap.damage {
        ui.colored_label(ui.visuals().warn_fg_color, view.tr("damaged file")).on_hover_text(damage);
    } else if snap.finished {
        ui.weak(view.tr("end of recording"));
    } else if snap.seeking_to.is_some() {
        ui.weak(view.tr("seeking…"));
    }
}
