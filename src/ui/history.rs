//! The point history in the window: opened at start on a thread (checking a large file takes
//! seconds) and handed to the engine, which keeps every live point, meter sample and alarm in
//! it; its settings; and its line in the status bar.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};

use egui::RichText;

use super::settings::Settings;
use super::widgets::fill;
use super::ViewContext;
use crate::engine::history::{HistoryDb, HistoryError, HistoryOptions, HistoryWriter};
use crate::engine::notice::NoticeText;
use crate::engine::{EngineCommand, EngineHandle};

/// The history file the settings name: theirs, else `<data dir>/history.db`.
pub fn history_path(settings: &Settings) -> Option<PathBuf> {
    let typed = settings.history_path.trim();
    if typed.is_empty() { crate::config::data_dir::default_history_path() } else { Some(PathBuf::from(typed)) }
}

/// Retention as the settings say (whole days, GiB).
pub fn history_options(settings: &Settings) -> HistoryOptions {
    let days = settings.history_days.clamp(1, 3650);
    let gib = if settings.history_max_gib.is_finite() && settings.history_max_gib > 0.0 { settings.history_max_gib.min(1024.0) } else { 2.0 };
    HistoryOptions { max_age_ms: i64::from(days) * 86_400_000, max_bytes: (gib * 1024.0 * 1024.0 * 1024.0) as u64 }
}

/// Opens the history on a thread and attaches it to `engine`; the receiver gives what to tell
/// the user (a file moved aside, another workbench writing it, a folder that cannot be made).
/// None when the settings keep no history.
pub fn open_at_start(engine: EngineHandle, settings: &Settings) -> Option<Receiver<Vec<NoticeText>>> {
    if !settings.keep_history {
        return None;
    }
    let path = history_path(settings)?;
    let options = history_options(settings);
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("history-open".into()).spawn(move || {
        // The window may have closed meanwhile: nobody is left to tell.
        let _ = tx.send(open_and_attach(&engine, path, options));
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start opening the point history: {e}");
        return None;
    }
    Some(rx)
}

fn open_and_attach(engine: &EngineHandle, path: PathBuf, options: HistoryOptions) -> Vec<NoticeText> {
    let file = || path.display().to_string();
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(folder)
    {
        return vec![NoticeText::new("no point history kept: cannot create {folder}: {error}", vec![("folder", folder.display().to_string().into()), ("error", e.to_string().into())])];
    }
    let db = match HistoryDb::open(&path, options) {
        Ok(db) => db,
        Err(HistoryError::InUse { .. }) => {
            return vec![NoticeText::new("no point history kept in this window: another workbench is writing {file}", vec![("file", file().into())])];
        }
        Err(e) => return vec![NoticeText::new("no point history kept: {error}", vec![("error", e.to_string().into())])],
    };
    let mut notices = Vec::new();
    if let Some(aside) = &db.open_report().moved_aside {
        let args = vec![("file", file().into()), ("aside", aside.display().to_string().into())];
        notices.push(NoticeText::new("the point history {file} was damaged: kept as {aside}, a new one started", args));
    }
    match HistoryWriter::spawn(db) {
        Ok(handle) => {
            if engine.send(EngineCommand::AttachHistory(Box::new(handle))).is_err() {
                // The engine stopped first: the handle was dropped with the command, its queue empty.
                return notices;
            }
        }
        Err(e) => notices.push(NoticeText::new("no point history kept: {error}", vec![("error", e.to_string().into())])),
    }
    notices
}

/// The history part of the settings popup, applied at the next start.
pub fn settings_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings) {
    ui.label(RichText::new(view.tr("Point history")).strong());
    ui.checkbox(&mut settings.keep_history, view.tr("Keep every point, meter sample and alarm of live links (SQLite)"));
    ui.add_enabled_ui(settings.keep_history, |ui| {
        ui.horizontal(|ui| {
            let label = ui.label(view.tr("File"));
            let hint = crate::config::data_dir::default_history_path().map_or_else(String::new, |p| p.display().to_string());
            ui.add(egui::TextEdit::singleline(&mut settings.history_path).hint_text(hint).desired_width(220.0)).labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label(view.tr("Keep"));
            ui.add(egui::DragValue::new(&mut settings.history_days).range(1..=3650).suffix(view.tr(" days"))).labelled_by(label.id);
            let label = ui.label(view.tr("at most"));
            ui.add(egui::DragValue::new(&mut settings.history_max_gib).range(0.1..=1024.0).speed(0.1).suffix(" GiB")).labelled_by(label.id);
        });
    });
    if let Some((path, _)) = view.state.history() {
        ui.label(RichText::new(fill(view.tr("Writing {file}"), &[("file", &path.display().to_string())])).weak());
    }
    ui.label(RichText::new(view.tr("Applied at the next start.")).weak());
}

/// The status bar's line: samples kept, or why the history stopped.
pub fn status_ui(ui: &mut egui::Ui, view: &ViewContext) {
    let Some((path, stats)) = view.state.history() else { return };
    ui.separator();
    let mut hover = path.display().to_string();
    hover.push_str(&format!("\n{} {}", stats.samples_duplicate, view.tr("samples seen before (not stored twice)")));
    hover.push_str(&format!("\n{} {}", stats.alarms_written, view.tr("alarm events")));
    if stats.refused + stats.lost > 0 {
        hover.push_str(&format!("\n{} {}", stats.refused + stats.lost, view.tr("items not stored: the disk did not keep up or failed")));
    }
    if stats.stopped {
        let error = stats.last_error.map_or_else(String::new, |e| e.to_string());
        ui.colored_label(ui.visuals().warn_fg_color, view.tr("History stopped")).on_hover_text(format!("{hover}\n{error}"));
    } else {
        ui.label(fill(view.tr("History {n} samples"), &[("n", &stats.samples_written.to_string())])).on_hover_text(hover);
    }
}
