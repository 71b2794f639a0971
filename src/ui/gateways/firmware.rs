//! The device page's Firmware tab: an image read and hashed off the UI thread (its size and
//! SHA-256 shown before anything is sent), the module and version, the chunk size, and the
//! gateway's upgrade tasks with their progress and outcome (contract §8).
//!
//! Also the pieces the Files tab shares: [`FileLoader`] (a local file named by path or picked
//! with a dialog, read on a thread) and [`transfers_ui`] (the tasks of one gateway).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use egui::{Button, ComboBox, Grid, ProgressBar, RichText, TextEdit};

use super::rows::DevicePage;
use crate::engine::tasks::{self, OtaSpec, TaskKind, TransferPhase, TransferStatus};
use crate::engine::{GatewayKey, SessionId};
use crate::protocol::codes;
use crate::protocol::model::Lang;
use crate::protocol::payload::OtaStep;
use crate::transport::{LinkKind, LinkState};
use crate::ui::connections::background::{Pending, Poll};
use crate::ui::connections::{fill, ok_color};
use crate::ui::i18n::tr;
use crate::ui::{UiCommand, ViewContext};

/// How often to look again while a file is read, a dialog is open or a task runs.
pub(super) const POLL_EVERY: Duration = Duration::from_millis(100);
/// Largest local file read into memory to be sent.
pub const MAX_LOCAL_BYTES: u64 = 256 * 1024 * 1024;
/// The chunk sizes offered (contract §8 allows 256..=65536).
pub const CHUNK_CHOICES: [u32; 7] = [1024, 2048, 4096, 8192, 16_384, 32_768, 65_536];
/// The chunk size chosen until the user picks another.
pub const DEFAULT_CHUNK: u32 = 4096;

/// A local file, read and hashed.
#[derive(Debug, Clone)]
pub struct LocalFile {
    /// The path as the user gave it (trimmed).
    pub path: String,
    pub data: Bytes,
    pub sha256: String,
}

/// Why a local file could not be used.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum LoadError {
    NotAFile,
    TooLarge(u64),
    Io(String),
}

fn read_local(path: String) -> Result<LocalFile, LoadError> {
    let meta = std::fs::metadata(&path).map_err(|e| LoadError::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile);
    }
    if meta.len() > MAX_LOCAL_BYTES {
        return Err(LoadError::TooLarge(meta.len()));
    }
    let data = std::fs::read(&path).map_err(|e| LoadError::Io(e.to_string()))?;
    let sha256 = crate::protocol::digest::sha256_hex(&data);
    Ok(LocalFile { path, data: Bytes::from(data), sha256 })
}

/// A local file the user names by typing its path or with a file dialog. Whenever the path
/// changes, a thread reads and hashes the file; the result is polled each frame.
#[derive(Debug, Default)]
pub struct FileLoader {
    pub path: String,
    loaded: Option<LocalFile>,
    loading: Option<(String, Pending<Result<LocalFile, LoadError>>)>,
    failed: Option<(String, LoadError)>,
    pick: Option<Pending<Option<PathBuf>>>,
    /// The dialog or the reading thread could not be started.
    spawn_error: Option<String>,
}

impl FileLoader {
    /// Takes in what the threads finished and starts reading a newly named file. True while
    /// something is under way.
    pub(super) fn poll(&mut self) -> bool {
        if let Some(pick) = &self.pick {
            match pick.poll() {
                Poll::Waiting => {}
                Poll::Ready(path) => {
                    if let Some(path) = path {
                        self.path = path.display().to_string();
                    }
                    self.pick = None;
                }
                Poll::Lost => self.pick = None,
            }
        }
        if let Some((path, pending)) = &self.loading {
            match pending.poll() {
                Poll::Waiting => {}
                Poll::Ready(Ok(file)) => {
                    self.loaded = Some(file);
                    self.loading = None;
                }
                Poll::Ready(Err(e)) => {
                    self.failed = Some((path.clone(), e));
                    self.loading = None;
                }
                Poll::Lost => {
                    self.failed = Some((path.clone(), LoadError::Io("the reading thread ended".into())));
                    self.loading = None;
                }
            }
        }
        let path = self.path.trim().to_owned();
        let known = self.loaded.as_ref().is_some_and(|f| f.path == path)
            || self.loading.as_ref().is_some_and(|(p, _)| *p == path)
            || self.failed.as_ref().is_some_and(|(p, _)| *p == path);
        if !path.is_empty() && !known {
            let for_thread = path.clone();
            match Pending::spawn("read-file", move || read_local(for_thread)) {
                Ok(pending) => {
                    self.loading = Some((path, pending));
                    self.spawn_error = None;
                }
                Err(e) => self.failed = Some((path, LoadError::Io(e.to_string()))),
            }
        }
        self.pick.is_some() || self.loading.is_some()
    }

    /// The file named now, once read.
    pub fn file(&self) -> Option<&LocalFile> {
        self.loaded.as_ref().filter(|f| f.path == self.path.trim())
    }

    /// Opens a file dialog on its own thread (it blocks its caller until closed).
    pub(super) fn pick(&mut self, title: &str) {
        if self.pick.is_some() {
            return;
        }
        let title = title.to_owned();
        let start_dir = PathBuf::from(self.path.trim()).parent().filter(|d| d.is_dir()).map(PathBuf::from);
        let pending = Pending::spawn("file-dialog", move || {
            let mut dialog = rfd::FileDialog::new().set_title(title);
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            dialog.pick_file()
        });
        match pending {
            Ok(p) => self.pick = Some(p),
            Err(e) => self.spawn_error = Some(e.to_string()),
        }
    }

    /// The path field with its "…" button, labelled `name` for assistive technology.
    pub(super) fn path_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, name: &str, dialog_title: &str) {
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 40.0).clamp(120.0, 520.0);
            ui.add(TextEdit::singleline(&mut self.path).hint_text(ctx.tr("Path of a local file")).desired_width(width)).accessible_name(name);
            if ui.add_enabled(self.pick.is_none(), Button::new("…")).on_hover_text(ctx.tr("Choose a file")).clicked() {
                self.pick(dialog_title);
            }
        });
    }

    /// What is known of the file: being read, its size and SHA-256, or why it cannot be used.
    pub(super) fn status_ui(&self, ui: &mut egui::Ui, ctx: &ViewContext) {
        if let Some(e) = &self.spawn_error {
            ui.colored_label(ui.visuals().error_fg_color, fill(ctx.tr("Cannot open a file dialog: {error}"), &[("error", e)]));
        }
        let path = self.path.trim();
        if path.is_empty() {
            return;
        }
        if let Some(file) = self.file() {
            Grid::new(("local_file", path)).num_columns(2).spacing([16.0, 4.0]).show(ui, |ui| {
                ui.weak(ctx.tr("Size"));
                ui.label(fill(ctx.tr("{size} ({bytes} bytes)"), &[("size", &format_bytes(file.data.len() as u64)), ("bytes", &file.data.len().to_string())]));
                ui.end_row();
                ui.weak("SHA-256");
                ui.monospace(&file.sha256);
                ui.end_row();
            });
        } else if let Some((_, e)) = self.failed.as_ref().filter(|(p, _)| p == path) {
            let text = match e {
                LoadError::NotAFile => ctx.tr("Not a file.").to_owned(),
                LoadError::TooLarge(n) => fill(ctx.tr("Too large: {size} (at most 256 MiB)."), &[("size", &format_bytes(*n))]),
                LoadError::Io(e) => fill(ctx.tr("Cannot read the file: {error}"), &[("error", e)]),
            };
            ui.colored_label(ui.visuals().error_fg_color, text);
        } else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak(ctx.tr("Reading and hashing the file…"));
            });
        }
    }
}

/// Whether the gateway's session can carry a task, and whether it is a serial link.
pub(super) fn session_of(ctx: &ViewContext, session: SessionId) -> (bool, bool) {
    match ctx.sessions.get(&session) {
        Some(s) => (s.state != LinkState::Closed, s.kind == LinkKind::Serial),
        None => (false, false),
    }
}

/// The Firmware tab of one gateway.
#[derive(Debug)]
pub struct FirmwareTab {
    pub image: FileLoader,
    pub module: String,
    pub version: String,
    /// The module whose current version was last filled in.
    version_of: Option<String>,
    pub chunk_size: u32,
}

impl Default for FirmwareTab {
    fn default() -> Self {
        FirmwareTab { image: FileLoader::default(), module: String::new(), version: String::new(), version_of: None, chunk_size: DEFAULT_CHUNK }
    }
}

impl FirmwareTab {
    pub(super) fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, page: &DevicePage, commands: &mut Vec<UiCommand>) {
        let busy = self.image.poll();
        let (usable, serial) = session_of(ctx, page.session);
        // Defaults from the gateway's reported versions.
        if self.module.is_empty()
            && let Some(first) = page.versions.first()
        {
            self.module = first.module.clone();
        }
        let current = page.versions.iter().find(|m| m.module == self.module).map(|m| m.version.clone());
        if self.version_of.as_deref() != Some(self.module.as_str())
            && let Some(current) = &current
        {
            self.version = current.clone();
            self.version_of = Some(self.module.clone());
        }
        if serial && self.chunk_size > tasks::SERIAL_MAX_CHUNK {
            self.chunk_size = tasks::SERIAL_MAX_CHUNK;
        }

        ui.strong(ctx.tr("Upgrade a module"));
        Grid::new(("firmware_form", &page.key)).num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            ui.label(ctx.tr("Image"));
            self.image.path_ui(ui, ctx, ctx.tr("Firmware image path"), ctx.tr("Choose a firmware image"));
            ui.end_row();
            ui.label("");
            ui.vertical(|ui| self.image.status_ui(ui, ctx));
            ui.end_row();

            ui.label(ctx.tr("Module"));
            if page.versions.is_empty() {
                ui.add(TextEdit::singleline(&mut self.module).hint_text(ctx.tr("e.g. firmware")).desired_width(200.0)).accessible_name(ctx.tr("Module"));
            } else {
                ComboBox::from_id_salt(("firmware_module", &page.key)).selected_text(self.module.clone()).show_ui(ui, |ui| {
                    for m in &page.versions {
                        ui.selectable_value(&mut self.module, m.module.clone(), format!("{} ({})", m.module, m.version));
                    }
                });
            }
            ui.end_row();

            ui.label(ctx.tr("Version"));
            ui.vertical(|ui| {
                ui.add(TextEdit::singleline(&mut self.version).desired_width(200.0)).accessible_name(ctx.tr("New version"));
                if let Some(current) = &current {
                    if *current == self.version.trim() {
                        ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("This is the version the module runs now: enter the image's version."));
                    } else {
                        ui.weak(fill(ctx.tr("Now at {version}"), &[("version", current)]));
                    }
                }
            });
            ui.end_row();

            ui.label(ctx.tr("Chunk size"));
            ui.vertical(|ui| {
                ComboBox::from_id_salt(("firmware_chunk", &page.key)).selected_text(format!("{} KiB", self.chunk_size / 1024)).show_ui(ui, |ui| {
                    for size in CHUNK_CHOICES {
                        let allowed = tasks::check_chunk_size(size, serial).is_ok();
                        ui.add_enabled_ui(allowed, |ui| ui.selectable_value(&mut self.chunk_size, size, format!("{} KiB", size / 1024)));
                    }
                });
                if serial {
                    ui.weak(ctx.tr("At most 32 KiB on a serial link: a chunk must fit one frame."));
                }
            });
            ui.end_row();
        });

        let problem = self.problem(ctx, usable, serial);
        let start = ui.add_enabled(problem.is_none(), Button::new(ctx.tr("Start upgrade")));
        if let Some(why) = &problem {
            start.on_disabled_hover_text(why.as_str());
            ui.weak(why.as_str());
        } else if start.clicked()
            && let Some(file) = self.image.file()
        {
            let mut spec = OtaSpec::new(page.session, &page.key.pk, &page.key.dev, self.module.trim(), self.version.trim(), file.data.clone());
            spec.chunk_size = self.chunk_size;
            commands.push(UiCommand::StartOta(spec));
        }

        ui.separator();
        ui.strong(ctx.tr("Upgrade tasks"));
        let running = transfers_ui(ui, ctx, &page.key, &[TaskKind::Ota], commands);
        if busy || running {
            ui.ctx().request_repaint_after(POLL_EVERY);
        }
    }

    /// Why Start cannot be clicked yet, if it cannot.
    fn problem(&self, ctx: &ViewContext, usable: bool, serial: bool) -> Option<String> {
        if !usable {
            return Some(ctx.tr("The session this gateway was seen on is closed.").to_owned());
        }
        let Some(file) = self.image.file() else {
            return Some(ctx.tr("Choose a firmware image first.").to_owned());
        };
        if file.data.is_empty() {
            return Some(ctx.tr("The image is empty.").to_owned());
        }
        if self.module.trim().is_empty() || self.version.trim().is_empty() {
            return Some(ctx.tr("Enter the module and the image's version.").to_owned());
        }
        tasks::check_chunk_size(self.chunk_size, serial).err()
    }
}

/// `1.5 KiB`, `12.0 MiB`.
pub fn format_bytes(n: u64) -> String {
    let n_f = n as f64;
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n_f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.1} MiB", n_f / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", n_f / (1024.0 * 1024.0 * 1024.0))
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
pub(super) fn transfers_ui(ui: &mut egui::Ui, ctx: &ViewContext, key: &GatewayKey, kinds: &[TaskKind], commands: &mut Vec<UiCommand>) -> bool {
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
    fn bytes_read_as_a_person_would() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn a_code_keeps_its_name_and_message() {
        let text = code_text(Lang::En, 0, "");
        assert!(text.contains("ok"), "{text}");
        let zh = code_text(Lang::Zh, 0, "x");
        assert!(zh.ends_with(": x"), "{zh}");
    }

    #[test]
    fn a_local_file_is_read_and_hashed_off_the_ui_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img.bin");
        std::fs::write(&path, b"abc").unwrap();
        let mut loader = FileLoader { path: path.display().to_string(), ..FileLoader::default() };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while loader.poll() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        let file = loader.file().unwrap();
        assert_eq!(file.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        loader.path = dir.path().display().to_string();
        while loader.poll() {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(loader.file().is_none());
        assert_eq!(loader.failed.as_ref().map(|(_, e)| e.clone()), Some(LoadError::NotAFile));
    }
}
