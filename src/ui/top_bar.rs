//! The top bar: the title on the left; language, theme and the settings popup on the right. The
//! popup holds what applies at the next start and where product models are read from.

use std::net::SocketAddr;

use egui::containers::{Popup, PopupCloseBehavior};
use egui::{Align, Layout, RichText};

use super::model_source::ModelSource;
use super::replay::ReplayOpener;
use super::settings::Settings;
use super::widgets::fill;
use super::{ThemeChoice, UiCommand, ViewContext};
use crate::config::models::user_models_dir;
use crate::protocol::model::Lang;

/// Problems listed in the popup; the rest are counted.
const PROBLEMS_SHOWN: usize = 6;

/// What the top bar shows besides the settings it edits.
pub struct TopBarInfo<'a> {
    pub broker_addr: Option<SocketAddr>,
    pub models: &'a ModelSource,
    /// The window's App API server, for its settings section.
    pub app_api: &'a super::app_api::serve::Serving,
}

pub fn top_bar_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, info: &TopBarInfo, replay: &mut ReplayOpener, commands: &mut Vec<UiCommand>) {
    ui.horizontal(|ui| {
        ui.heading(view.tr("CEMS Workbench"));
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let button = ui.button(view.tr("Settings"));
            Popup::menu(&button).close_behavior(PopupCloseBehavior::CloseOnClickOutside).show(|ui| {
                ui.set_min_width(320.0);
                // Taller than a small window once sections open (the App API's sites): it scrolls.
                let room = (ui.ctx().content_rect().height() - 60.0).max(200.0);
                egui::ScrollArea::vertical().id_salt("settings_popup").max_height(room).min_scrolled_height(room).show(ui, |ui| {
                    start_section_ui(ui, view, settings, info.broker_addr);
                    ui.separator();
                    broker_section_ui(ui, view, settings, info.broker_addr.is_some(), commands);
                    ui.separator();
                    models_section_ui(ui, view, settings, info.models, commands);
                    ui.separator();
                    super::recording::settings_section_ui(ui, view, settings);
                    ui.separator();
                    super::history::settings_section_ui(ui, view, settings);
                    ui.separator();
                    super::app_api::settings_ui::settings_section_ui(ui, view, settings, info.app_api, commands);
                });
            });
            super::recording::record_button_ui(ui, view, commands);
            replay.ui(ui, view, settings, commands);
            ui.separator();
            for (theme, label) in [(ThemeChoice::Light, view.tr("Light")), (ThemeChoice::Dark, view.tr("Dark"))] {
                if ui.selectable_label(settings.theme == theme, label).clicked() && settings.theme != theme {
                    commands.push(UiCommand::SetTheme(theme));
                }
            }
            ui.separator();
            // Each language names itself, so it can be found in either.
            for (lang, name) in [(Lang::En, "English"), (Lang::Zh, "中文")] {
                if ui.selectable_label(settings.lang == lang, name).clicked() && settings.lang != lang {
                    commands.push(UiCommand::SetLanguage(lang));
                }
            }
        });
    });
}

fn start_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, broker_addr: Option<SocketAddr>) {
    ui.label(RichText::new(view.tr("At start")).strong());
    ui.checkbox(&mut settings.start_broker, view.tr("Start the embedded broker"));
    ui.add_enabled(settings.start_broker, egui::Checkbox::new(&mut settings.start_demo, view.tr("Start the demo gateway")));
    ui.label(RichText::new(view.tr("Applied at the next start.")).weak());
    if let Some(addr) = broker_addr {
        ui.separator();
        ui.label(format!("{} {addr}", view.tr("Embedded broker listening on")));
    }
}

/// Who the embedded broker admits and whether it speaks TLS, applied by a restart (or at the
/// next start when it is not running).
fn broker_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, running: bool, commands: &mut Vec<UiCommand>) {
    ui.label(RichText::new(view.tr("Embedded broker")).strong());
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("Devices file"));
        let edit = egui::TextEdit::singleline(&mut settings.broker_devices_file).hint_text(view.tr("none: open on 127.0.0.1")).desired_width(220.0);
        ui.add(edit).labelled_by(label.id).on_hover_text(view.tr(
            "JSON: {\"devices\": [{\"pk\",\"dev\",\"secret\"}], \"masters\": [{\"user\",\"password\"}]}. Only listed devices signing per §6 and listed masters get in; the window and the demo gateway get credentials made up for the run.",
        ));
    });
    ui.checkbox(&mut settings.broker_tls, view.tr("TLS (self-signed certificate kept in the config folder)"));
    if settings.broker_tls
        && let Some(dir) = crate::config::profiles::ProfileStore::default_dir()
    {
        let cert = dir.join(crate::config::broker_tls::CERT_FILE);
        ui.label(RichText::new(fill(view.tr("Clients trust it with this CA file: {path}"), &[("path", &cert.display().to_string())])).weak());
    }
    if running {
        if ui.button(view.tr("Restart the embedded broker")).clicked() {
            commands.push(UiCommand::RestartLocal);
        }
    } else {
        ui.label(RichText::new(view.tr("Applied at the next start.")).weak());
    }
}

/// The models folder to read (typed: file dialogs are not everywhere), a reload, and what the
/// last load found.
fn models_section_ui(ui: &mut egui::Ui, view: &ViewContext, settings: &mut Settings, models: &ModelSource, commands: &mut Vec<UiCommand>) {
    ui.label(RichText::new(view.tr("Product models")).strong());
    ui.horizontal(|ui| {
        let label = ui.label(view.tr("Folder"));
        let edit = egui::TextEdit::singleline(&mut settings.models_dir).hint_text(view.tr("a folder of *.json model files")).desired_width(220.0);
        let response = ui.add(edit).labelled_by(label.id);
        let enter = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let reload = ui.add_enabled(!models.reloading(), egui::Button::new(view.tr("Reload"))).clicked();
        if reload || enter {
            commands.push(UiCommand::ReloadModels);
        }
    });
    let bundled = view.models.iter().filter(|d| d.source_name().starts_with("builtin:")).count();
    let count = fill(view.tr("{n} models loaded ({bundled} bundled)"), &[("n", &view.models.len().to_string()), ("bundled", &bundled.to_string())]);
    ui.label(if models.reloading() { view.tr("Reading the models…").to_owned() } else { count });
    for (dir, n) in &models.folders {
        ui.label(RichText::new(fill(view.tr("{n} from {folder}"), &[("n", &n.to_string()), ("folder", &dir.display().to_string())])).weak());
    }
    if let Some(dir) = user_models_dir() {
        ui.label(RichText::new(fill(view.tr("Your models folder: {folder}"), &[("folder", &dir.display().to_string())])).weak())
            .on_hover_text(view.tr("Read at every start when it exists; a model there replaces the bundled one of the same product key."));
    }
    if !models.problems.is_empty() {
        let colour = ui.visuals().warn_fg_color;
        ui.label(RichText::new(fill(view.tr("Problems ({n}):"), &[("n", &models.problems.len().to_string())])).color(colour));
        for line in models.problems.iter().take(PROBLEMS_SHOWN) {
            ui.label(RichText::new(line).small().color(colour));
        }
        if models.problems.len() > PROBLEMS_SHOWN {
            ui.label(RichText::new(fill(view.tr("and {n} more"), &[("n", &(models.problems.len() - PROBLEMS_SHOWN).to_string())])).small());
        }
    }
}
