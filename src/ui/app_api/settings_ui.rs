//! The App API part of the Settings popup: the switch, where to listen, the apps file, and what
//! the server is doing.

use egui::RichText;

use super::serve::Serving;
use crate::ui::settings::Settings;
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

pub fn settings_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, serving: &Serving, commands: &mut Vec<UiCommand>) {
    ui.label(RichText::new(view.tr("App API (GB/T 35031.5)")).strong());
    let mut on = settings.api_serve;
    if ui.checkbox(&mut on, view.tr("Serve the App API from this window")).changed() {
        commands.push(UiCommand::ServeAppApi(on));
    }
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("Listen on"));
        ui.add(egui::TextEdit::singleline(&mut settings.api_listen).hint_text("127.0.0.1:8686").desired_width(160.0)).labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("Apps file"));
        let hint = crate::api::apps::default_apps_path().map_or_else(String::new, |p| p.display().to_string());
        ui.add(egui::TextEdit::singleline(&mut settings.api_apps_file).hint_text(hint).desired_width(220.0)).labelled_by(label.id).on_hover_text(view.tr(
            "JSON: {\"apps\": [{\"appId\",\"secret\",\"cems\":[…],\"rateLimit\"}], \"sites\": [{\"cemsId\",\"name\",\"timezone\",\"gateways\"}]}",
        ));
    });
    super::sites_ui::sites_ui(ui, view, &mut settings.api_sites);
    if settings.api_serve && ui.button(view.tr("Restart the App API with these settings")).clicked() {
        commands.push(UiCommand::ServeAppApi(true));
    }
    status_ui(ui, view, serving);
}

/// "App API serving on …", starting, or why not.
pub fn status_ui(ui: &mut egui::Ui, view: &ViewContext, serving: &Serving) {
    match serving {
        Serving::Off => {
            ui.label(RichText::new(view.tr("The App API is not served from this window.")).weak());
        }
        Serving::Starting { .. } => {
            ui.label(view.tr("Starting the App API…"));
        }
        Serving::On { url, running } => {
            ui.label(fill(view.tr("App API serving on {url}"), &[("url", url)]));
            if let Some(warning) = &running.warning {
                ui.label(RichText::new(warning).color(ui.visuals().warn_fg_color));
            }
        }
        Serving::Failed(message) => {
            ui.label(RichText::new(fill(view.tr("The App API is not served: {error}"), &[("error", message)])).color(ui.visuals().error_fg_color));
        }
    }
}
