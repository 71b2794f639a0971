//! The "New connection" form in its collapsible section: link kind, the link's fields,
//! read-only, Connect, and saving it as a profile.

use egui::{Button, Id, RichText, TextEdit};

use super::{ConnectionForm, ConnectionsPanel, FormError, KeyringStatus, LinkChoice, Notice, SavedPassword, Tone};
use crate::ui::widgets::fill;
use crate::ui::{UiCommand, ViewContext};

impl ConnectionsPanel {
    /// The form in a collapsible section: open while there is no session, collapsed once one
    /// exists, so that the sessions and the gateways list get the room.
    pub(super) fn form_section_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let empty = ctx.sessions.is_empty();
        let mut open = None;
        if self.form_open_for_empty != Some(empty) {
            self.form_open_for_empty = Some(empty);
            open = Some(empty);
        }
        if std::mem::take(&mut self.open_form) {
            open = Some(true);
        }
        let title = match &self.editing {
            Some(name) => fill(ctx.tr("Edit profile {name}"), &[("name", name)]),
            None => ctx.tr("New connection").to_owned(),
        };
        let title = RichText::new(title).heading();
        egui::CollapsingHeader::new(title).id_salt("connection_form").open(open).show(ui, |ui| self.form_ui(ui, ctx, commands));
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.form.kind, LinkChoice::Mqtt, ctx.tr("MQTT broker"));
            ui.radio_value(&mut self.form.kind, LinkChoice::Serial, ctx.tr("Serial cable"));
        });
        match self.form.kind {
            LinkChoice::Mqtt => self.mqtt_form_ui(ui, ctx),
            LinkChoice::Serial => self.serial_form_ui(ui, ctx),
        }
        ui.checkbox(&mut self.form.read_only, ctx.tr("Read-only (a live site: only acknowledgements and time answers are sent)"));

        let error = self.form.error();
        // The URL's problem is shown under its field already.
        if let Some(e) = &error
            && !matches!(e, FormError::BadUrl(_))
        {
            ui.colored_label(ui.visuals().error_fg_color, form_error_text(ctx, e));
        }
        ui.horizontal(|ui| {
            let mut connect = ui.add_enabled(error.is_none(), Button::new(ctx.tr("Connect")));
            if let Some(e) = &error {
                connect = connect.on_disabled_hover_text(form_error_text(ctx, e));
            }
            if connect.clicked()
                && let Ok(config) = self.form.to_link_config()
            {
                let name = self.profile_name.trim();
                let label = if name.is_empty() { self.form.target() } else { name.to_owned() };
                // Still the profile being edited, if its name was kept.
                let profile = self.editing.clone().filter(|editing| editing == name);
                commands.push(UiCommand::Connect { config, label, profile, read_only: self.form.read_only });
            }
            if ui.button(ctx.tr("Clear form")).clicked() {
                self.form = ConnectionForm { kind: self.form.kind, ..ConnectionForm::default() };
                self.profile_name.clear();
                self.editing = None;
                self.store_obfuscated = false;
            }
        });

        ui.horizontal_wrapped(|ui| {
            let label = ui.label(ctx.tr("Profile name"));
            ui.add(TextEdit::singleline(&mut self.profile_name).desired_width(140.0)).labelled_by(label.id);
            let can_save = error.is_none() && !self.profile_name.trim().is_empty();
            let save = ui.add_enabled(can_save, Button::new(ctx.tr("Save as profile")));
            let save = if error.is_none() { save.on_disabled_hover_text(ctx.tr("Give the profile a name first.")) } else { save };
            if save.clicked() {
                self.save_profile(ctx);
            }
        });
        self.obfuscation_opt_in_ui(ui, ctx);
    }
    /// Without a keyring, a typed password is only kept if the user accepts the risk.
    fn obfuscation_opt_in_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        if !matches!(self.store.keyring_status(), KeyringStatus::Unavailable(_)) || self.form.password().is_none() {
            return;
        }
        let warn = ui.visuals().warn_fg_color;
        ui.checkbox(&mut self.store_obfuscated, RichText::new(ctx.tr("Store the password in the profile file (obfuscated, NOT secure)")).color(warn))
            .on_hover_text(ctx.tr("There is no OS keyring. The password would be written to secrets.json, readable only by you but merely base64-encoded: anyone with access to your files or backups can read it."));
        if self.store_obfuscated {
            ui.colored_label(warn, ctx.tr("⚠ The password will be written to secrets.json, only base64-obfuscated."));
        } else {
            ui.weak(ctx.tr("No keyring: the password is not saved and will be asked for when this profile connects."));
        }
    }

    fn save_profile(&mut self, ctx: &ViewContext) {
        let name = self.profile_name.trim().to_owned();
        let profile = match self.form.to_profile(&name) {
            Ok(profile) => profile,
            Err(e) => {
                self.notice = Some(Notice { tone: Tone::Error, text: form_error_text(ctx, &e) });
                return;
            }
        };
        let (tone, text) = match self.store.save(profile, self.form.password(), self.store_obfuscated) {
            Ok(SavedPassword::None) => (Tone::Info, ctx.tr("Profile {name} saved.")),
            Ok(SavedPassword::ToKeyring) => (Tone::Info, ctx.tr("Profile {name} saved; its password goes to the OS keyring.")),
            Ok(SavedPassword::Obfuscated) => (Tone::Warn, ctx.tr("Profile {name} saved; its password is in secrets.json, obfuscated (NOT secure).")),
            Ok(SavedPassword::WillAsk) => (Tone::Warn, ctx.tr("Profile {name} saved without its password (no keyring): it will be asked for when connecting.")),
            Ok(SavedPassword::Kept) => (Tone::Info, ctx.tr("Profile {name} saved; its saved password is kept.")),
            Err(e) => {
                let text = fill(ctx.tr("Could not save the profile: {error}"), &[("error", &e.to_string())]);
                self.notice = Some(Notice { tone: Tone::Error, text });
                return;
            }
        };
        self.notice = Some(Notice { tone, text: fill(text, &[("name", &name)]) });
        self.editing = Some(name);
    }
}

/// One label-and-inputs row of a form grid; the inputs are named by the label.
pub(super) fn form_row<R>(ui: &mut egui::Ui, label: &str, add: impl FnOnce(&mut egui::Ui, Id) -> R) -> R {
    let label = ui.label(label);
    let inner = ui.horizontal(|ui| add(ui, label.id)).inner;
    ui.end_row();
    inner
}

fn form_error_text(ctx: &ViewContext, error: &FormError) -> String {
    match error {
        FormError::BadUrl(problem) => format!("{}: {problem}", ctx.tr("Invalid URL")),
        FormError::EmptyClientId => ctx.tr("The client id is empty.").to_owned(),
        FormError::PasswordWithoutUser => ctx.tr("MQTT sends a password only with a username.").to_owned(),
        FormError::CertWithoutKey => ctx.tr("A client certificate needs its key.").to_owned(),
        FormError::KeyWithoutCert => ctx.tr("A client key needs its certificate.").to_owned(),
        FormError::NoPort => ctx.tr("Choose a serial port or type its path.").to_owned(),
        FormError::BadDataBits(n) => fill(ctx.tr("{n} data bits: expected 5 to 8."), &[("n", &n.to_string())]),
        FormError::BadStopBits(n) => fill(ctx.tr("{n} stop bits: expected 1 or 2."), &[("n", &n.to_string())]),
        FormError::ZeroBaud => ctx.tr("The baud rate cannot be 0.").to_owned(),
    }
}
