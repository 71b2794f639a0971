//! The device page's Files tab: the gateway's file list (from its `file/list` reply, kept in the
//! engine's gateway record), fetching a file to a path the user types or picks in a save dialog,
//! sending a local file under a plain name (contract §8), and the file tasks with their progress.

use std::path::Path;

use egui::{Button, Grid, TextEdit};
use serde_json::json;

use super::fetch_form::FetchForm;
use super::tab::DeviceTab;
use super::local_file::{FileLoader, POLL_EVERY};
use super::transfers::{session_of, transfers_ui};
use super::view::DeviceView;
use crate::engine::RequestSpec;
use crate::engine::tasks::{self, FileDownloadSpec, TaskKind};
use crate::protocol::ids::is_safe_file_name;
use crate::ui::format::{LocalTime, format_bytes};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

/// The Files tab of one gateway.
#[derive(Debug, Default)]
pub struct FilesTab {
    /// The local file to send.
    pub local: FileLoader,
    /// The name the gateway stores it under.
    pub name: String,
    /// The path the name was last taken from.
    name_from: String,
    /// The gateway file being fetched and where it goes, once Fetch… was clicked.
    pub fetch: Option<FetchForm>,
    /// The folder the last fetched file went to: the next one is proposed there.
    last_folder: Option<std::path::PathBuf>,
}

impl DeviceTab for FilesTab {
    fn id(&self) -> &'static str {
        "files"
    }

    fn title(&self) -> &'static str {
        "Files"
    }

    fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let key = &page.key;
        let (usable, serial) = session_of(ctx, page.session);
        let mut busy = self.local.poll();
        if let Some(form) = &mut self.fetch {
            busy |= form.poll(page, commands);
            if form.started() {
                self.last_folder = form.folder();
                self.fetch = None;
            }
        }
        // The name follows the chosen file until the user changes the path again.
        let path = self.local.path.trim().to_owned();
        if path != self.name_from {
            if let Some(name) = Path::new(&path).file_name() {
                self.name = name.to_string_lossy().into_owned();
            }
            self.name_from = path;
        }
        let closed = ctx.tr("The session this gateway was seen on is closed.");

        ui.horizontal(|ui| {
            ui.strong(ctx.tr("Files on the gateway"));
            if ui.add_enabled(usable, Button::new(ctx.tr("Refresh list"))).on_hover_text(ctx.tr("Ask the gateway for file/list")).on_disabled_hover_text(closed).clicked() {
                commands.push(UiCommand::Request(RequestSpec::new(page.session, &key.pk, &key.dev, "file", "list", json!({}))));
            }
        });
        // Copied out so the engine's lock is not held while drawing.
        let listing = ctx.state.gateways().get(key).and_then(|g| g.files.clone());
        match listing.map(|l| l.files) {
            None => {
                ui.weak(ctx.tr("No file list yet: use Refresh list."));
            }
            Some(files) if files.is_empty() => {
                ui.weak(ctx.tr("The gateway has no files."));
            }
            Some(files) => {
                Grid::new(("file_list", key)).num_columns(4).striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
                    ui.strong(ctx.tr("Name"));
                    ui.strong(ctx.tr("Size"));
                    ui.strong(ctx.tr("Modified"));
                    ui.label("");
                    ui.end_row();
                    for f in &files {
                        ui.monospace(&f.name);
                        ui.label(format_bytes(f.size)).on_hover_text(fill(ctx.tr("{n} bytes"), &[("n", &f.size.to_string())]));
                        ui.add(LocalTime::new(f.mtime));
                        let fetch = ui
                            .add_enabled(usable, Button::new(ctx.tr("Fetch…")))
                            .on_hover_text(ctx.tr("Fetch this file and save it where you choose"))
                            .on_disabled_hover_text(closed);
                        if fetch.clicked() {
                            self.fetch = Some(FetchForm::new(&f.name, self.last_folder.as_deref()));
                        }
                        ui.end_row();
                    }
                });
            }
        }

        if let Some(form) = &mut self.fetch {
            let open = form.ui(ui, ctx, usable, page, commands);
            if form.started() {
                self.last_folder = form.folder();
            }
            if !open || form.started() {
                self.fetch = None;
            }
        }

        ui.separator();
        ui.strong(ctx.tr("Send a file"));
        Grid::new(("send_file", key)).num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            ui.label(ctx.tr("Local file"));
            self.local.path_ui(ui, ctx, ctx.tr("Local file path"), ctx.tr("Choose a file to send"));
            ui.end_row();
            ui.label("");
            ui.vertical(|ui| self.local.status_ui(ui, ctx));
            ui.end_row();
            ui.label(ctx.tr("Stored as"));
            ui.add(TextEdit::singleline(&mut self.name).desired_width(240.0)).accessible_name(ctx.tr("Name on the gateway"));
            ui.end_row();
        });
        let name = self.name.trim();
        let problem = if !usable {
            Some(closed.to_owned())
        } else if self.local.file().is_none() {
            Some(ctx.tr("Choose a local file first.").to_owned())
        } else if name.is_empty() {
            Some(ctx.tr("Enter the name the gateway stores the file under.").to_owned())
        } else if !is_safe_file_name(name) {
            Some(fill(
                ctx.tr("“{name}” is not a plain file name: no folders, “..”, or special characters. The gateway stores files by plain name only."),
                &[("name", name)],
            ))
        } else {
            None
        };
        if let Some(why) = &problem {
            let hostile = !name.is_empty() && !is_safe_file_name(name);
            if hostile {
                ui.colored_label(ui.visuals().error_fg_color, why.as_str());
            } else {
                ui.weak(why.as_str());
            }
        }
        let send = ui.add_enabled(problem.is_none(), Button::new(ctx.tr("Send file")));
        if problem.is_none()
            && send.clicked()
            && let Some(file) = self.local.file()
        {
            let mut spec = FileDownloadSpec::new(page.session, &key.pk, &key.dev, name, file.data.clone());
            spec.chunk_size = tasks::default_chunk_size(serial);
            commands.push(UiCommand::StartFileDownload(spec));
        }

        ui.separator();
        ui.strong(ctx.tr("File tasks"));
        busy |= transfers_ui(ui, ctx, key, &[TaskKind::FileDownload, TaskKind::FileUpload], commands);
        if busy {
            ui.ctx().request_repaint_after(POLL_EVERY);
        }
    }
}
