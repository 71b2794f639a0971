//! Saved profiles: the keyring's state, the list with Connect / Edit / Delete, and the prompt
//! for a password that is not kept.

use egui::{Button, RichText, TextEdit};

use super::{ConnectionsPanel, KeyringStatus, Notice, PasswordPlace, Secret, StoreProblem, Tone, push_connect};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

impl ConnectionsPanel {
    pub(super) fn profiles_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.heading(ctx.tr("Saved profiles"));
        let warn = ui.visuals().warn_fg_color;
        match self.store.keyring_status() {
            KeyringStatus::Checking => {
                ui.weak(ctx.tr("Checking the OS keyring…"));
            }
            KeyringStatus::Available => {
                ui.weak(ctx.tr("Passwords are kept in the OS keyring."));
            }
            KeyringStatus::Unavailable(reason) => {
                // The reason (a D-Bus error on a headless machine) is for the curious: a tooltip.
                let text = egui::RichText::new(ctx.tr("No OS keyring: passwords are asked for when connecting, unless you choose to store them obfuscated.")).color(warn);
                ui.add(egui::Label::new(text).wrap()).on_hover_text(reason.as_str());
            }
        }
        if !self.store.problems().is_empty() {
            let error_color = ui.visuals().error_fg_color;
            for problem in self.store.problems() {
                ui.colored_label(error_color, problem_text(ctx, problem));
            }
            if ui.button(ctx.tr("Dismiss")).clicked() {
                self.store.dismiss_problems();
            }
        }
        if let Some(dir) = self.store.dir() {
            ui.weak(fill(ctx.tr("Folder: {path}"), &[("path", &dir.display().to_string())]));
        }
        self.password_prompt_ui(ui, ctx, commands);

        if self.store.profiles().is_empty() {
            ui.weak(ctx.tr("No saved profiles yet."));
            return;
        }
        let mut connect = None;
        let mut edit = None;
        let mut delete = None;
        let waiting = self.awaiting_password.clone();
        for profile in self.store.profiles() {
            let name = profile.name.as_str();
            ui.separator();
            ui.horizontal_wrapped(|ui| {
                ui.strong(name);
                let busy = waiting.as_deref() == Some(name);
                let button = ui.add_enabled(!busy, Button::new(ctx.tr("Connect"))).accessible_name(format!("{} {name}", ctx.tr("Connect")));
                if button.clicked() {
                    connect = Some(name.to_owned());
                }
                if ui.button(ctx.tr("Edit")).accessible_name(format!("{} {name}", ctx.tr("Edit"))).clicked() {
                    edit = Some(name.to_owned());
                }
                if self.confirm_delete.as_deref() == Some(name) {
                    let really = RichText::new(ctx.tr("Really delete")).color(ui.visuals().error_fg_color);
                    if ui.button(really).accessible_name(format!("{} {name}", ctx.tr("Really delete"))).clicked() {
                        delete = Some(name.to_owned());
                    }
                    if ui.button(ctx.tr("Keep")).clicked() {
                        self.confirm_delete = None;
                    }
                } else if ui.button(ctx.tr("Delete")).accessible_name(format!("{} {name}", ctx.tr("Delete"))).clicked() {
                    self.confirm_delete = Some(name.to_owned());
                }
            });
            ui.horizontal_wrapped(|ui| {
                let kind = match profile.link {
                    crate::config::profiles::ProfileLink::Mqtt(_) => ctx.tr("MQTT broker"),
                    crate::config::profiles::ProfileLink::Serial(_) => ctx.tr("Serial cable"),
                };
                ui.weak(format!("{kind}: {}", profile.target()));
                match profile.password_place() {
                    PasswordPlace::None => {}
                    PasswordPlace::Keyring => {
                        ui.weak(ctx.tr("password in keyring"));
                    }
                    PasswordPlace::Ask => {
                        ui.weak(ctx.tr("password asked"));
                    }
                    PasswordPlace::Obfuscated => {
                        ui.colored_label(warn, ctx.tr("password obfuscated (NOT secure)"));
                    }
                }
            });
        }
        if let Some(name) = connect {
            self.connect_profile(&name, ctx, commands);
        }
        if let Some(name) = edit
            && let Some(profile) = self.store.get(&name)
        {
            self.form.load_profile(profile);
            self.profile_name = name.clone();
            self.editing = Some(name);
            self.store_obfuscated = profile.password_place() == PasswordPlace::Obfuscated;
            self.open_form = true;
        }
        if let Some(name) = delete {
            self.confirm_delete = None;
            self.notice = Some(match self.store.delete(&name) {
                Ok(()) => Notice { tone: Tone::Info, text: fill(ctx.tr("Profile {name} deleted."), &[("name", &name)]) },
                Err(e) => Notice { tone: Tone::Error, text: fill(ctx.tr("Could not delete the profile: {error}"), &[("error", &e.to_string())]) },
            });
            if self.editing.as_deref() == Some(&name) {
                self.editing = None;
            }
        }
    }

    fn password_prompt_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(prompt) = &mut self.prompt else { return };
        let mut done = false;
        let mut connect = false;
        ui.group(|ui| {
            let title = ui.label(fill(ctx.tr("Password for profile {name}"), &[("name", &prompt.profile)]));
            if let Some(note) = &prompt.note {
                ui.weak(note);
            }
            ui.horizontal(|ui| {
                let field = ui.add(TextEdit::singleline(&mut prompt.password).password(true).desired_width(200.0)).labelled_by(title.id);
                let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button(ctx.tr("Connect with this password")).clicked() || entered {
                    connect = true;
                }
                if ui.button(ctx.tr("Cancel")).clicked() {
                    done = true;
                }
            });
        });
        if connect {
            let secret = Secret::new(std::mem::take(&mut prompt.password));
            if let Some(profile) = self.store.get(&prompt.profile) {
                push_connect(profile, Some(&secret), commands);
            }
            done = true;
        }
        if done {
            self.prompt = None;
        }
    }
}

fn problem_text(ctx: &ViewContext, problem: &StoreProblem) -> String {
    match problem {
        StoreProblem::NoConfigDir => ctx.tr("This system has no configuration folder: profiles are kept until the workbench closes.").to_owned(),
        StoreProblem::Unreadable { path, error, backup: Some(backup) } => fill(
            ctx.tr("{path} could not be read ({error}). It was moved to {backup}; the profile list starts empty."),
            &[("path", &path.display().to_string()), ("error", error), ("backup", &backup.display().to_string())],
        ),
        StoreProblem::Unreadable { path, error, backup: None } => fill(
            ctx.tr("{path} could not be read ({error}). It is left as it is and will not be overwritten."),
            &[("path", &path.display().to_string()), ("error", error)],
        ),
        StoreProblem::WriteFailed { path, error } => {
            fill(ctx.tr("Could not write {path}: {error}"), &[("path", &path.display().to_string()), ("error", error)])
        }
    }
}
