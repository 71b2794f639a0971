//! The connection manager: the open sessions with their link state, a "New connection" form
//! (MQTT or serial), and saved profiles whose passwords live in the OS keyring.
//!
//! The panel only pushes [`UiCommand::Connect`] / [`UiCommand::Disconnect`]; the app opens the
//! links. Anything that may take time (file dialogs, port scans, keyring calls) runs on a
//! thread and is looked at once per frame, so the window never waits.

use std::path::PathBuf;
use std::time::Duration;

use egui::{Button, ComboBox, Grid, Id, RichText, TextEdit};

use super::widgets::{fill, link_state_color, link_state_text, state_dot_ui};
use super::{SessionView, UiCommand, ViewContext};
use crate::transport::serial::Parity;
use crate::transport::{LinkKind, LinkState};

pub mod background;
pub mod form;
pub mod ports;

use background::{Pending, Poll};
pub use form::{ConnectionForm, FormError, LinkChoice};
pub use crate::config::profiles::{KeyringStatus, PasswordPlace, Profile, ProfileStore, SavedPassword, Secret, StoreEvent, StoreProblem};

/// How often to look again while background work runs.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Which TLS file a dialog is choosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFile {
    Ca,
    Cert,
    Key,
}

#[derive(Debug)]
struct FilePick {
    field: TlsFile,
    pending: Pending<Option<PathBuf>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Info,
    Warn,
    Error,
}

/// The outcome of the last action, shown under the form.
#[derive(Debug)]
struct Notice {
    tone: Tone,
    text: String,
}

/// Asking for the password of a profile that does not keep one.
struct PasswordPrompt {
    profile: String,
    password: String,
    /// Why we ask (the keyring failed, …).
    note: Option<String>,
}

impl std::fmt::Debug for PasswordPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPrompt").field("profile", &self.profile).field("note", &self.note).finish_non_exhaustive()
    }
}

/// The connections panel. Needs about 560 × 600 points to show the form without scrolling.
#[derive(Debug)]
pub struct ConnectionsPanel {
    store: ProfileStore,
    form: ConnectionForm,
    profile_name: String,
    /// The profile loaded into the form by "Edit".
    editing: Option<String>,
    /// The user opted in to obfuscated passwords (no keyring).
    store_obfuscated: bool,
    file_pick: Option<FilePick>,
    ports: Vec<String>,
    ports_scan: Option<Pending<Vec<String>>>,
    ports_scanned: bool,
    /// The profile whose password is being read from the keyring, to connect when it arrives.
    awaiting_password: Option<String>,
    prompt: Option<PasswordPrompt>,
    confirm_delete: Option<String>,
    notice: Option<Notice>,
}

impl Default for ConnectionsPanel {
    /// Profiles of the platform's config folder, passwords in the OS keyring.
    fn default() -> Self {
        Self::with_profile_store(ProfileStore::open_default())
    }
}

impl ConnectionsPanel {
    /// A panel over the profiles of `store` (a test folder, another keyring).
    pub fn with_profile_store(store: ProfileStore) -> Self {
        ConnectionsPanel {
            store,
            form: ConnectionForm::default(),
            profile_name: String::new(),
            editing: None,
            store_obfuscated: false,
            file_pick: None,
            ports: Vec::new(),
            ports_scan: None,
            ports_scanned: false,
            awaiting_password: None,
            prompt: None,
            confirm_delete: None,
            notice: None,
        }
    }

    pub fn store(&self) -> &ProfileStore {
        &self.store
    }

    pub fn form(&self) -> &ConnectionForm {
        &self.form
    }

    pub fn form_mut(&mut self) -> &mut ConnectionForm {
        &mut self.form
    }

    /// Background work is under way (a dialog, a port scan, the keyring).
    pub fn is_busy(&self) -> bool {
        self.file_pick.is_some() || self.ports_scan.is_some() || self.store.is_busy()
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.poll_background(ctx, commands);
        egui::ScrollArea::vertical().id_salt("connections_scroll").auto_shrink([false, false]).show(ui, |ui| {
            self.sessions_ui(ui, ctx, commands);
            ui.separator();
            self.form_ui(ui, ctx, commands);
            ui.separator();
            self.profiles_ui(ui, ctx, commands);
        });
        if self.is_busy() {
            ui.ctx().request_repaint_after(POLL_EVERY);
        }
    }

    /// Connects the saved profile `name`, getting its password first (keyring, or the user).
    pub fn connect_profile(&mut self, name: &str, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        let Some(profile) = self.store.get(name).cloned() else { return };
        match self.store.password(name) {
            crate::config::profiles::PasswordLookup::NotNeeded => push_connect(&profile, None, commands),
            crate::config::profiles::PasswordLookup::Ready(secret) => push_connect(&profile, Some(&secret), commands),
            crate::config::profiles::PasswordLookup::Pending => {
                self.awaiting_password = Some(name.to_owned());
                self.notice = Some(Notice { tone: Tone::Info, text: fill(ctx.tr("Reading the password of {name} from the keyring…"), &[("name", name)]) });
            }
            crate::config::profiles::PasswordLookup::Ask => self.prompt = Some(PasswordPrompt { profile: name.to_owned(), password: String::new(), note: None }),
        }
    }

    fn poll_background(&mut self, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        for event in self.store.poll() {
            match event {
                StoreEvent::KeyringChecked => {}
                StoreEvent::PasswordStored { profile } => {
                    let text = fill(ctx.tr("The password of {name} is in the OS keyring."), &[("name", &profile)]);
                    self.notice = Some(Notice { tone: Tone::Info, text });
                }
                StoreEvent::PasswordNotStored { profile, error } => {
                    let text = fill(
                        ctx.tr("The keyring refused the password of {name} ({error}); it will be asked for when connecting."),
                        &[("name", &profile), ("error", &error)],
                    );
                    self.notice = Some(Notice { tone: Tone::Warn, text });
                }
                StoreEvent::PasswordFound { profile, password } => {
                    if self.awaiting_password.as_deref() == Some(&profile) {
                        self.awaiting_password = None;
                        self.notice = None;
                        if let Some(p) = self.store.get(&profile).cloned() {
                            push_connect(&p, Some(&password), commands);
                        }
                    }
                }
                StoreEvent::PasswordMissing { profile, error } => {
                    if self.awaiting_password.as_deref() == Some(&profile) {
                        self.awaiting_password = None;
                        self.notice = None;
                        let note = match error {
                            Some(error) => fill(ctx.tr("The keyring failed: {error}"), &[("error", &error)]),
                            None => ctx.tr("The keyring has no password for this profile.").to_owned(),
                        };
                        self.prompt = Some(PasswordPrompt { profile, password: String::new(), note: Some(note) });
                    }
                }
                StoreEvent::KeyringError { error } => {
                    self.notice = Some(Notice { tone: Tone::Warn, text: fill(ctx.tr("Keyring: {error}"), &[("error", &error)]) });
                }
            }
        }
        if let Some(pick) = &self.file_pick {
            match pick.pending.poll() {
                Poll::Waiting => {}
                Poll::Ready(path) => {
                    if let Some(path) = path {
                        let text = path.display().to_string();
                        match pick.field {
                            TlsFile::Ca => self.form.mqtt.ca_file = text,
                            TlsFile::Cert => self.form.mqtt.client_cert = text,
                            TlsFile::Key => self.form.mqtt.client_key = text,
                        }
                    }
                    self.file_pick = None;
                }
                Poll::Lost => self.file_pick = None,
            }
        }
        if let Some(scan) = &self.ports_scan {
            match scan.poll() {
                Poll::Waiting => {}
                Poll::Ready(ports) => {
                    self.ports = ports;
                    self.ports_scan = None;
                }
                Poll::Lost => self.ports_scan = None,
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Sessions

    fn sessions_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.heading(ctx.tr("Sessions"));
        if ctx.sessions.is_empty() {
            ui.weak(ctx.tr("No open sessions. Connect below."));
            return;
        }
        for session in ctx.sessions.values() {
            ui.push_id(("session", session.id), |ui| session_ui(ui, ctx, session, commands));
        }
    }

    // -----------------------------------------------------------------------------------------
    // The form

    fn form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        match &self.editing {
            Some(name) => ui.heading(fill(ctx.tr("Edit profile {name}"), &[("name", name)])),
            None => ui.heading(ctx.tr("New connection")),
        };
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

        if let Some(notice) = &self.notice {
            let color = match notice.tone {
                Tone::Info => ui.visuals().text_color(),
                Tone::Warn => ui.visuals().warn_fg_color,
                Tone::Error => ui.visuals().error_fg_color,
            };
            ui.colored_label(color, &notice.text);
        }
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

    fn mqtt_form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        let editing_with_password = self.editing.as_deref().is_some_and(|name| self.store.has_saved_password(name));
        let picking = self.file_pick.is_some();
        let mut pick_request = None;
        let error_color = ui.visuals().error_fg_color;
        let warn_color = ui.visuals().warn_fg_color;
        // The left column may be narrow: fields take what is left after the labels.
        let field = (ui.available_width() - 120.0).clamp(120.0, 280.0);
        let m = &mut self.form.mqtt;
        Grid::new("mqtt_form").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
            form_row(ui, ctx.tr("Broker URL"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.url).hint_text("mqtt://host:1883").desired_width(field)).labelled_by(label);
            });
            // Under the field rather than beside it: the column may be narrow.
            if let Some(problem) = form::url_problem(&m.url) {
                ui.label("");
                ui.add(egui::Label::new(RichText::new(format!("{}: {problem}", ctx.tr("Invalid URL"))).color(error_color)).wrap());
                ui.end_row();
            }
            form_row(ui, ctx.tr("Client id"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.client_id).desired_width(field - 50.0)).labelled_by(label);
                if ui.small_button(ctx.tr("New id")).on_hover_text(ctx.tr("New random client id")).clicked() {
                    m.client_id = form::default_client_id();
                }
            });
            form_row(ui, ctx.tr("Username"), |ui, label| {
                ui.add(TextEdit::singleline(&mut m.username).desired_width(field)).labelled_by(label);
            });
            form_row(ui, ctx.tr("Password"), |ui, label| {
                let hint = if editing_with_password { ctx.tr("(saved; leave empty to keep it)") } else { "" };
                ui.add(TextEdit::singleline(&mut m.password).password(true).hint_text(hint).desired_width(field)).labelled_by(label);
            });
            if form::wants_tls(&m.url) {
                let files = [
                    (TlsFile::Ca, ctx.tr("CA certificate"), ctx.tr("Choose the CA certificate"), &mut m.ca_file),
                    (TlsFile::Cert, ctx.tr("Client certificate"), ctx.tr("Choose the client certificate"), &mut m.client_cert),
                    (TlsFile::Key, ctx.tr("Client key"), ctx.tr("Choose the client key"), &mut m.client_key),
                ];
                for (which, name, choose, text) in files {
                    form_row(ui, name, |ui, label| {
                        ui.add(TextEdit::singleline(text).hint_text(ctx.tr("PEM file (optional)")).desired_width(field - 30.0)).labelled_by(label);
                        let button = ui.add_enabled(!picking, Button::new("…")).on_hover_text(choose).accessible_name(choose);
                        if button.clicked() {
                            pick_request = Some(which);
                        }
                    });
                }
            }
            form_row(ui, ctx.tr("Keep-alive"), |ui, label| {
                ui.add(egui::DragValue::new(&mut m.keep_alive_secs).range(0..=3600).suffix(" s")).labelled_by(label);
            });
        });
        // Below the grid, where its long text can wrap.
        if form::wants_tls(&m.url) {
            let text = RichText::new(ctx.tr("⚠ Insecure: accept any server certificate")).color(warn_color);
            ui.add(egui::Checkbox::new(&mut m.insecure, text)).on_hover_text(ctx.tr(
                "Skips checking the broker's certificate and name. Anyone on the network path can then read and change the traffic, passwords included. Use only with a lab broker whose certificate you made yourself.",
            ));
        }
        if let Some(field) = pick_request {
            self.start_file_pick(field, ctx);
        }
    }

    fn start_file_pick(&mut self, field: TlsFile, ctx: &ViewContext) {
        let title = match field {
            TlsFile::Ca => ctx.tr("Choose the CA certificate"),
            TlsFile::Cert => ctx.tr("Choose the client certificate"),
            TlsFile::Key => ctx.tr("Choose the client key"),
        };
        let current = match field {
            TlsFile::Ca => &self.form.mqtt.ca_file,
            TlsFile::Cert => &self.form.mqtt.client_cert,
            TlsFile::Key => &self.form.mqtt.client_key,
        };
        let start_dir = PathBuf::from(current.trim()).parent().filter(|d| d.is_dir()).map(PathBuf::from);
        let title = title.to_owned();
        // rfd's dialog blocks its caller until closed: it gets a thread of its own.
        let pending = Pending::spawn("file-dialog", move || {
            let mut dialog = rfd::FileDialog::new().set_title(title).add_filter("PEM", &["pem", "crt", "cer", "key"]).add_filter("*", &["*"]);
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            dialog.pick_file()
        });
        match pending {
            Ok(pending) => self.file_pick = Some(FilePick { field, pending }),
            Err(e) => {
                self.notice = Some(Notice { tone: Tone::Error, text: fill(ctx.tr("Cannot open a file dialog: {error}"), &[("error", &e.to_string())]) });
            }
        }
    }

    fn serial_form_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext) {
        if !self.ports_scanned {
            self.rescan_ports();
        }
        let scanning = self.ports_scan.is_some();
        let mut rescan = false;
        let field = (ui.available_width() - 120.0).clamp(120.0, 280.0);
        let ports = &self.ports;
        let s = &mut self.form.serial;
        Grid::new("serial_form").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
            form_row(ui, ctx.tr("Port"), |ui, label| {
                let selected = if s.path.is_empty() { ctx.tr("choose…").to_owned() } else { s.path.clone() };
                ComboBox::from_id_salt("serial_port")
                    .selected_text(selected)
                    .width(field - 70.0)
                    .show_ui(ui, |ui| {
                        if ports.is_empty() {
                            ui.weak(ctx.tr("No serial ports found"));
                        }
                        for port in ports {
                            ui.selectable_value(&mut s.path, port.clone(), port);
                        }
                    })
                    .response
                    .labelled_by(label);
                if scanning {
                    ui.spinner();
                } else if ui.button(ctx.tr("Rescan")).on_hover_text(ctx.tr("Look for serial ports again")).clicked() {
                    rescan = true;
                }
            });
            form_row(ui, ctx.tr("Port path"), |ui, label| {
                ui.add(TextEdit::singleline(&mut s.path).hint_text("/dev/ttyUSB0, COM3").desired_width(field)).labelled_by(label);
            });
            form_row(ui, ctx.tr("Baud rate"), |ui, label| {
                ComboBox::from_id_salt("serial_baud")
                    .selected_text(s.baud.to_string())
                    .show_ui(ui, |ui| {
                        for baud in form::COMMON_BAUDS {
                            ui.selectable_value(&mut s.baud, baud, baud.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Data bits"), |ui, label| {
                ComboBox::from_id_salt("serial_data_bits")
                    .selected_text(s.data_bits.to_string())
                    .show_ui(ui, |ui| {
                        for bits in form::DATA_BITS {
                            ui.selectable_value(&mut s.data_bits, bits, bits.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Parity"), |ui, label| {
                ComboBox::from_id_salt("serial_parity")
                    .selected_text(parity_text(ctx, s.parity))
                    .show_ui(ui, |ui| {
                        for parity in Parity::SERIAL_LINE {
                            ui.selectable_value(&mut s.parity, parity, parity_text(ctx, parity));
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            form_row(ui, ctx.tr("Stop bits"), |ui, label| {
                ComboBox::from_id_salt("serial_stop_bits")
                    .selected_text(s.stop_bits.to_string())
                    .show_ui(ui, |ui| {
                        for bits in form::STOP_BITS {
                            ui.selectable_value(&mut s.stop_bits, bits, bits.to_string());
                        }
                    })
                    .response
                    .labelled_by(label);
            });
        });
        if rescan {
            self.rescan_ports();
        }
    }

    fn rescan_ports(&mut self) {
        self.ports_scanned = true;
        // If no thread can be started the list stays as it is; the path field still works.
        self.ports_scan = Pending::spawn("serial-ports", ports::list_ports).ok();
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

    // -----------------------------------------------------------------------------------------
    // Saved profiles

    fn profiles_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
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

/// One label-and-inputs row of a form grid; the inputs are named by the label.
fn form_row<R>(ui: &mut egui::Ui, label: &str, add: impl FnOnce(&mut egui::Ui, Id) -> R) -> R {
    let label = ui.label(label);
    let inner = ui.horizontal(|ui| add(ui, label.id)).inner;
    ui.end_row();
    inner
}

fn push_connect(profile: &Profile, password: Option<&Secret>, commands: &mut Vec<UiCommand>) {
    let (config, label, name) = (profile.to_link_config(password), profile.name.clone(), Some(profile.name.clone()));
    commands.push(UiCommand::Connect { config, label, profile: name, read_only: profile.read_only });
}

/// One session on two lines (it fits a narrow column): dot, name and Disconnect; then the
/// state, the attempts and, for serial, the dropped frames.
fn session_ui(ui: &mut egui::Ui, ctx: &ViewContext, session: &SessionView, commands: &mut Vec<UiCommand>) {
    let color = link_state_color(ui.visuals(), &session.state);
    ui.horizontal(|ui| {
        state_dot_ui(ui, color);
        ui.strong(&session.label).on_hover_text(&session.target);
        if session.read_only {
            ui.colored_label(ui.visuals().warn_fg_color, ctx.tr("read-only")).on_hover_text(ctx.tr("Read-only session: nothing is sent."));
        }
        let open = session.state != LinkState::Closed;
        let button = ui.add_enabled(open, Button::new(ctx.tr("Disconnect"))).accessible_name(format!("{} {}", ctx.tr("Disconnect"), session.label));
        if button.clicked() {
            commands.push(UiCommand::Disconnect(session.id));
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.colored_label(color, link_state_text(ctx.lang, &session.state));
        ui.weak(fill(ctx.tr("Attempts: {n}"), &[("n", &session.attempts.to_string())]));
        if session.kind == LinkKind::Serial {
            let text = fill(ctx.tr("Dropped frames: {n}"), &[("n", &session.frames_dropped.to_string())]);
            if session.frames_dropped > 0 {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            } else {
                ui.weak(text);
            }
        }
        if session.label != session.target {
            ui.weak(&session.target);
        }
    });
    ui.add_space(4.0);
}

fn parity_text(ctx: &ViewContext, parity: Parity) -> &'static str {
    match parity {
        Parity::None => ctx.tr("None"),
        Parity::Odd => ctx.tr("Odd"),
        Parity::Even => ctx.tr("Even"),
        Parity::Mark => ctx.tr("Mark"),
        Parity::Space => ctx.tr("Space"),
    }
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
