//! The choices before a run: which cases (the filter of `check --cases`), whether changes to
//! the gateway are allowed (and then which cases make them, listed before anything is sent),
//! the site's name for the report, and an optional firmware image for the upgrade cases.

use egui::{CollapsingHeader, Grid, Label, RichText, TextEdit};

use super::super::local_file::FileLoader;
use super::super::view::DeviceView;
use crate::conformance::{Catalogue, FirmwareImage};
use crate::ui::ViewContext;
use crate::ui::widgets::fill;

#[derive(Debug, Default)]
pub struct RunForm {
    /// Ids, id prefixes or clauses, comma-separated; empty for all.
    pub filter: String,
    pub allow_changes: bool,
    pub site: String,
    pub image: FileLoader,
    pub module: String,
    pub version: String,
}

impl RunForm {
    /// The filter to run with; None for every case.
    pub fn filter(&self) -> Option<&str> {
        Some(self.filter.trim()).filter(|f| !f.is_empty())
    }

    pub fn filter_text(&self) -> &str {
        self.filter.trim()
    }

    pub fn site(&self) -> Option<String> {
        Some(self.site.trim().to_owned()).filter(|s| !s.is_empty())
    }

    /// The image for the upgrade cases, once read, with its module and version.
    pub fn firmware(&self) -> Option<FirmwareImage> {
        let file = self.image.file()?;
        let (module, version) = (self.module.trim(), self.version.trim());
        (!module.is_empty() && !version.is_empty()).then(|| FirmwareImage { module: module.to_owned(), version: version.to_owned(), image: file.data.clone() })
    }

    /// Why the form cannot start a run: an image named but not usable yet.
    pub fn problem(&self, ctx: &ViewContext) -> Option<String> {
        if self.image.path.trim().is_empty() {
            return None;
        }
        if self.image.file().is_none() {
            return Some(ctx.tr("The firmware image is not ready: wait for it to be read, correct its path, or clear it.").to_owned());
        }
        if self.module.trim().is_empty() || self.version.trim().is_empty() {
            return Some(ctx.tr("Enter the module and the image's version.").to_owned());
        }
        None
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, page: &DeviceView, ctx: &ViewContext, catalogue: &Catalogue, read_only: bool) {
        if self.image.poll() {
            ui.ctx().request_repaint_after(super::super::local_file::POLL_EVERY);
        }
        if self.module.is_empty()
            && let Some(first) = page.versions.first()
        {
            self.module = first.module.clone();
        }
        Grid::new(("conformance_form", &page.key)).num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            ui.label(ctx.tr("Cases"));
            ui.vertical(|ui| {
                let hint = ctx.tr("all; or ids, prefixes, clauses: TC-4.2,TC-6.4-01,6.9");
                ui.add(TextEdit::singleline(&mut self.filter).hint_text(hint).desired_width(320.0)).accessible_name(ctx.tr("Cases to run"));
                let selected = catalogue.select(self.filter());
                ui.weak(fill(ctx.tr("{n} of {m} cases selected"), &[("n", &selected.len().to_string()), ("m", &catalogue.cases.len().to_string())]));
            });
            ui.end_row();
            ui.label(ctx.tr("Site"));
            ui.add(TextEdit::singleline(&mut self.site).hint_text(ctx.tr("for the report (optional)")).desired_width(320.0)).accessible_name(ctx.tr("Site name"));
            ui.end_row();
        });
        let selected = catalogue.select(self.filter());
        if read_only {
            let listening = selected.iter().filter(|c| !c.sends).count();
            let text = fill(
                ctx.tr("Read-only session: only the cases that listen run ({n} of {m}); the others are listed as not run."),
                &[("n", &listening.to_string()), ("m", &selected.len().to_string())],
            );
            ui.add(Label::new(RichText::new(text).color(ui.visuals().warn_fg_color)).wrap());
        } else {
            ui.checkbox(&mut self.allow_changes, ctx.tr("Allow changes to the gateway"))
                .on_hover_text(ctx.tr("Firmware, clock, setpoint, property, file and log level: the cases put back what the contract lets them"));
            let changing: Vec<_> = selected.iter().filter(|c| c.changes).collect();
            if self.allow_changes {
                if changing.is_empty() {
                    ui.weak(ctx.tr("None of the selected cases changes the gateway."));
                } else {
                    ui.colored_label(ui.visuals().warn_fg_color, fill(ctx.tr("These {n} cases will change the gateway:"), &[("n", &changing.len().to_string())]));
                    ui.indent("conformance_changes", |ui| {
                        for case in &changing {
                            ui.add(Label::new(format!("{}  {}", case.id, case.title.get(ctx.lang))).wrap());
                        }
                    });
                }
            } else if !changing.is_empty() {
                ui.weak(fill(ctx.tr("{n} selected cases change the gateway and will not run."), &[("n", &changing.len().to_string())]));
            }
        }
        CollapsingHeader::new(ctx.tr("Firmware image for the upgrade cases (optional)")).id_salt(("conformance_firmware", &page.key)).show(ui, |ui| {
            ui.add(Label::new(RichText::new(ctx.tr("TC-6.7-02 and TC-6.7-05 upgrade with it; without one they are Inconclusive.")).weak()).wrap());
            Grid::new(("conformance_firmware_form", &page.key)).num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                ui.label(ctx.tr("Image"));
                self.image.path_ui(ui, ctx, ctx.tr("Firmware image path"), ctx.tr("Choose a firmware image"));
                ui.end_row();
                ui.label("");
                ui.vertical(|ui| self.image.status_ui(ui, ctx));
                ui.end_row();
                ui.label(ctx.tr("Module"));
                ui.add(TextEdit::singleline(&mut self.module).hint_text(ctx.tr("e.g. firmware")).desired_width(200.0)).accessible_name(ctx.tr("Module"));
                ui.end_row();
                ui.label(ctx.tr("Version"));
                ui.add(TextEdit::singleline(&mut self.version).desired_width(200.0)).accessible_name(ctx.tr("The image's version"));
                ui.end_row();
            });
        });
    }
}
