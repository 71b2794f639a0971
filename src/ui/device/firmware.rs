//! The device page's Firmware tab: an image read and hashed off the UI thread (its size and
//! SHA-256 shown before anything is sent), the module and version, the chunk size, and the
//! gateway's upgrade tasks with their progress and outcome (contract §8).

use egui::{Button, ComboBox, Grid, TextEdit};

use super::local_file::{FileLoader, POLL_EVERY};
use super::transfers::{session_of, transfers_ui};
use super::view::DeviceView;
use super::tab::DeviceTab;
use crate::engine::tasks::{self, OtaSpec, TaskKind};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// The chunk sizes offered (contract §8 allows 256..=65536).
pub const CHUNK_CHOICES: [u32; 7] = [1024, 2048, 4096, 8192, 16_384, 32_768, 65_536];
/// The chunk size chosen until the user picks another.
pub const DEFAULT_CHUNK: u32 = 4096;

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

impl DeviceTab for FirmwareTab {
    fn id(&self) -> &'static str {
        "firmware"
    }

    fn title(&self) -> &'static str {
        "Firmware"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
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
        if serial && self.chunk_size > crate::protocol::payload::SERIAL_MAX_CHUNK {
            self.chunk_size = crate::protocol::payload::SERIAL_MAX_CHUNK;
        }

        ui.strong(ctx.tr("Upgrade a module"));
        Grid::new(("firmware_form", &page.key)).num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            ui.label(ctx.tr("Image"));
            self.image.path_ui(ui, ctx, ctx.tr("Firmware image path"), ctx.tr("Choose a firmware image"));
            ui.end_row();
            ui.label("");
            ui.vertical(|ui| self.image.status_ui(ui, ctx));
            ui.end_row();

            let module_label = ui.label(ctx.tr("Module")).id;
            if page.versions.is_empty() {
                ui.add(TextEdit::singleline(&mut self.module).hint_text(ctx.tr("e.g. firmware")).desired_width(200.0)).accessible_name(ctx.tr("Module"));
            } else {
                ComboBox::from_id_salt(("firmware_module", &page.key))
                    .selected_text(self.module.clone())
                    .show_ui(ui, |ui| {
                        for m in &page.versions {
                            ui.selectable_value(&mut self.module, m.module.clone(), format!("{} ({})", m.module, m.version));
                        }
                    })
                    .response
                    .labelled_by(module_label);
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

            let chunk_label = ui.label(ctx.tr("Chunk size")).id;
            ui.vertical(|ui| {
                ComboBox::from_id_salt(("firmware_chunk", &page.key))
                    .selected_text(format!("{} KiB", self.chunk_size / 1024))
                    .show_ui(ui, |ui| {
                        for size in CHUNK_CHOICES {
                            let allowed = tasks::check_chunk_size(size, serial).is_ok();
                            ui.add_enabled_ui(allowed, |ui| ui.selectable_value(&mut self.chunk_size, size, format!("{} KiB", size / 1024)));
                        }
                    })
                    .response
                    .labelled_by(chunk_label);
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
}

impl FirmwareTab {
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

