//! Recording from the window: the top bar's record button, where recordings go (settings), the
//! status bar's line while one runs, and completing the window's own recordings that a crash cut
//! short, on a thread at start-up.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};

use egui::RichText;

use super::format::{format_at_offset, format_bytes, local_offset_secs};
use super::settings::Settings;
use super::widgets::fill;
use super::{UiCommand, ViewContext};
use crate::engine::notice::NoticeText;
use crate::engine::recording::{RecordOptions, recover_unfinished};
use crate::protocol::time::now_ms;

/// The record / stop button of the top bar.
pub fn record_button_ui(ui: &mut egui::Ui, view: &ViewContext, commands: &mut Vec<UiCommand>) {
    let status = view.state.recording();
    if status.active {
        let text = RichText::new(format!("⏹ {}", view.tr("Stop recording"))).color(ui.visuals().error_fg_color);
        let hover = fill(view.tr("Recording every message to {file}"), &[("file", &status.stats.file.display().to_string())]);
        if ui.button(text).on_hover_text(hover).clicked() {
            commands.push(UiCommand::StopRecording);
        }
    } else {
        let hover = view.tr("Record every message of every link to an MCAP file (opens in Foxglove and PlotJuggler; replay it from Connections)");
        if ui.button(format!("⏺ {}", view.tr("Record"))).on_hover_text(hover).clicked() {
            commands.push(UiCommand::StartRecording);
        }
    }
}

/// The recordings part of the settings popup: the folder (typed: file dialogs are not
/// everywhere) and the size at which a new file is started.
pub fn settings_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings) {
    ui.label(RichText::new(view.tr("Recordings")).strong());
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("Folder"));
        let hint = recordings_folder(settings).map_or_else(String::new, |p| p.display().to_string());
        let edit = egui::TextEdit::singleline(&mut settings.recordings_dir).hint_text(hint).desired_width(220.0);
        ui.add(edit).labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("New file every"));
        ui.add(egui::DragValue::new(&mut settings.recording_max_mb).range(0.0..=1_000_000.0).speed(16.0).suffix(" MiB")).labelled_by(label.id);
        ui.label(RichText::new(view.tr("(0: one file)")).weak());
    });
}

/// The status bar's line while a recording runs (or when the last one stopped on an error).
pub fn status_ui(ui: &mut egui::Ui, view: &ViewContext) {
    let status = view.state.recording();
    if status.active {
        ui.separator();
        let text = format!("⏺ {} {} · {} {}", view.tr("REC"), format_bytes(status.stats.bytes), status.stats.messages, view.tr("messages"));
        let mut hover = status.stats.file.display().to_string();
        if status.stats.files.len() > 1 {
            hover.push_str(&format!("\n{} {}", status.stats.files.len(), view.tr("files (rotated by size)")));
        }
        let colour = ui.visuals().error_fg_color;
        if status.refused > 0 {
            hover.push_str(&format!("\n{} {}", status.refused, view.tr("messages not recorded: the disk did not keep up")));
        }
        ui.colored_label(colour, text).on_hover_text(hover);
    } else if let Some(error) = &status.error {
        ui.separator();
        ui.colored_label(ui.visuals().warn_fg_color, format!("⏺ {}", view.tr("recording stopped"))).on_hover_text(error);
    }
}

/// The folder recordings go to: the settings' one, else `<data dir>/recordings`.
pub fn recordings_folder(settings: &Settings) -> Option<PathBuf> {
    let typed = settings.recordings_dir.trim();
    if typed.is_empty() { crate::config::data_dir::recordings_dir() } else { Some(PathBuf::from(typed)) }
}

/// How the settings say a recording is written.
pub fn record_options(settings: &Settings) -> RecordOptions {
    let max_bytes = (settings.recording_max_mb.is_finite() && settings.recording_max_mb > 0.0).then_some((settings.recording_max_mb * 1024.0 * 1024.0) as u64);
    RecordOptions { max_bytes, ..RecordOptions::default() }
}

/// A new file in the recordings folder named after the laptop's time,
/// `session-20261204-101502.mcap` (`-2`, `-3`… when taken); the folder is created.
pub fn next_recording_path(settings: &Settings) -> Result<PathBuf, NoticeText> {
    let Some(folder) = recordings_folder(settings) else {
        return Err(NoticeText::new("no folder for recordings: set one in Settings", Vec::new()));
    };
    std::fs::create_dir_all(&folder).map_err(|e| {
        NoticeText::new("cannot create the recordings folder {folder}: {error}", vec![("folder", folder.display().to_string().into()), ("error", e.to_string().into())])
    })?;
    let now = now_ms();
    let digits: String = format_at_offset(now, local_offset_secs(now)).chars().take(19).filter(char::is_ascii_digit).collect();
    let stem = format!("session-{}-{}", &digits[..8.min(digits.len())], &digits[8.min(digits.len())..]);
    Ok(free_name(&folder, &stem))
}

fn free_name(folder: &Path, stem: &str) -> PathBuf {
    let first = folder.join(format!("{stem}.mcap"));
    if !first.exists() {
        return first;
    }
    (2..).map(|n| folder.join(format!("{stem}-{n}.mcap"))).find(|p| !p.exists()).unwrap_or(first)
}

/// Completes the window's recordings a crash cut short, on a thread; the receiver gives one
/// notice per file it touched.
pub fn recover_at_start(folder: PathBuf) -> Receiver<Vec<NoticeText>> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("recover-recordings".into()).spawn(move || {
        let notices = recover_unfinished(&folder)
            .into_iter()
            .map(|(path, result)| match result {
                Ok(report) => NoticeText::new(
                    "completed the recording {file} cut short: {messages} messages kept, {cut} bytes at its end dropped",
                    vec![("file", path.display().to_string().into()), ("messages", report.messages_kept.to_string().into()), ("cut", report.bytes_cut.to_string().into())],
                ),
                Err(e) => NoticeText::new("cannot complete the recording {file}: {error}", vec![("file", path.display().to_string().into()), ("error", e.to_string().into())]),
            })
            .collect();
        // The window may have closed meanwhile: nobody is left to tell.
        let _ = tx.send(notices);
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the recovery of recordings: {e}");
    }
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let first = free_name(dir.path(), "session-x");
        assert_eq!(first.file_name().unwrap(), "session-x.mcap");
        std::fs::write(&first, b"x").unwrap();
        assert_eq!(free_name(dir.path(), "session-x").file_name().unwrap(), "session-x-2.mcap");
    }

    #[test]
    fn the_size_limit_is_optional() {
        let mut settings = Settings::default();
        assert_eq!(record_options(&settings).max_bytes, None);
        settings.recording_max_mb = 2.0;
        assert_eq!(record_options(&settings).max_bytes, Some(2 * 1024 * 1024));
    }
}
