//! The connection manager: the open sessions with their link state and subscriptions, a
//! collapsible "New connection" form (MQTT or serial), and saved profiles whose passwords live
//! in the OS keyring.
//!
//! The panel only pushes commands ([`UiCommand::Connect`], `Disconnect`, `Subscribe`,
//! `Unsubscribe`); the app applies them. Anything that may take time (file dialogs, port scans,
//! keyring calls) runs on a thread and is looked at once per frame, so the window never waits.

use std::collections::BTreeMap;
use std::time::Duration;

use egui::{Button, RichText};

use super::widgets::{fill, link_state_color, link_state_text, state_dot_ui};
use super::{SessionView, UiCommand, ViewContext};
use crate::engine::SessionId;
use crate::transport::{LinkKind, LinkState};

pub mod background;
pub mod form;
mod form_ui;
mod link_fields;
pub mod ports;
mod profile_list;
pub mod subscriptions;

use background::{Pending, Poll};
use subscriptions::{Change, SessionSubscriptions};
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
    dialog: crate::ui::file_dialog::Dialog,
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
    /// The user's subscriptions of each open session, filled from its profile when it appears.
    subscriptions: BTreeMap<SessionId, SessionSubscriptions>,
    /// Whether there were no sessions when the form was last opened or closed for it: the form
    /// is open while there are none and collapses once one exists; in between the user decides.
    form_open_for_empty: Option<bool>,
    /// Open the form on the next frame ("Edit" on a profile).
    open_form: bool,
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
            subscriptions: BTreeMap::new(),
            form_open_for_empty: None,
            open_form: false,
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

    /// The user's subscriptions of `session`, as the panel shows them.
    pub fn session_subscriptions(&self, session: SessionId) -> Option<&SessionSubscriptions> {
        self.subscriptions.get(&session)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.poll_background(ctx, commands);
        self.sync_sessions(ctx, commands);
        egui::ScrollArea::vertical().id_salt("connections_scroll").auto_shrink([false, false]).show(ui, |ui| {
            self.sessions_ui(ui, ctx, commands);
            ui.separator();
            self.form_section_ui(ui, ctx, commands);
            self.notice_ui(ui);
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
            use crate::ui::file_dialog::DialogEnd;
            match pick.dialog.poll() {
                DialogEnd::Waiting => {}
                DialogEnd::Chosen(path) => {
                    let text = path.display().to_string();
                    match pick.field {
                        TlsFile::Ca => self.form.mqtt.ca_file = text,
                        TlsFile::Cert => self.form.mqtt.client_cert = text,
                        TlsFile::Key => self.form.mqtt.client_key = text,
                    }
                    self.file_pick = None;
                }
                DialogEnd::NothingChosen(problem) => {
                    if let Some(problem) = problem {
                        self.notice = Some(Notice { tone: Tone::Warn, text: problem.message(ctx.lang) });
                    }
                    self.file_pick = None;
                }
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

    /// Starts following sessions that appeared, subscribing their profile's filters (that is how
    /// a profile's subscriptions are applied on connect), and forgets those that are gone.
    fn sync_sessions(&mut self, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        self.subscriptions.retain(|id, _| ctx.sessions.contains_key(id));
        for session in ctx.sessions.values() {
            if self.subscriptions.contains_key(&session.id) {
                continue;
            }
            let saved = match (&session.profile, session.kind) {
                (Some(name), LinkKind::Mqtt) => self.store.get(name).map(|p| p.subscriptions().to_vec()).unwrap_or_default(),
                _ => Vec::new(),
            };
            for s in &saved {
                commands.push(UiCommand::Subscribe { session: session.id, filter: s.filter.clone(), qos: s.qos });
            }
            self.subscriptions.insert(session.id, SessionSubscriptions::new(saved));
        }
    }

    fn sessions_ui(&mut self, ui: &mut egui::Ui, ctx: &ViewContext, commands: &mut Vec<UiCommand>) {
        ui.heading(ctx.tr("Sessions"));
        if ctx.sessions.is_empty() {
            ui.weak(ctx.tr("No open sessions. Connect below."));
            return;
        }
        let defaults = crate::engine::default_subscriptions(ctx.profile, ctx.state.storage_profile());
        let mut changes = Vec::new();
        for session in ctx.sessions.values() {
            ui.push_id(("session", session.id), |ui| {
                session_ui(ui, ctx, session, commands);
                if session.kind == LinkKind::Serial {
                    ui.weak(ctx.tr("No subscriptions on a serial cable: each side sends everything meant for the other."));
                } else if session.kind == LinkKind::Replay {
                    ui.weak(ctx.tr("A replay plays every message of its recording; the bar under the top bar pauses, speeds and seeks it."));
                } else if let Some(subs) = self.subscriptions.get_mut(&session.id)
                    && let Some(change) = subscriptions::subscriptions_ui(ui, ctx, session, subs, &defaults)
                {
                    changes.push((session, change));
                }
                ui.add_space(4.0);
            });
        }
        for (session, change) in changes {
            self.apply_change(ctx, session, change, commands);
        }
    }

    /// Sends a subscription change and keeps it in the session's profile.
    fn apply_change(&mut self, ctx: &ViewContext, session: &SessionView, change: Change, commands: &mut Vec<UiCommand>) {
        commands.push(match change {
            Change::Added(s) => UiCommand::Subscribe { session: session.id, filter: s.filter, qos: s.qos },
            Change::Removed(filter) => UiCommand::Unsubscribe { session: session.id, filter },
        });
        let (Some(name), Some(subs)) = (&session.profile, self.subscriptions.get(&session.id)) else { return };
        if self.store.get(name).is_none() {
            return;
        }
        let list = subs.user.clone();
        if self.editing.as_deref() == Some(name) {
            // Saving the form later must not bring the old list back.
            self.form.mqtt.subscriptions = list.clone();
        }
        if let Err(e) = self.store.set_subscriptions(name, list) {
            let text = fill(ctx.tr("The subscriptions of {name} could not be saved: {error}"), &[("name", name), ("error", &e.to_string())]);
            self.notice = Some(Notice { tone: Tone::Error, text });
        }
    }

    /// The outcome of the last action, outside the form so that a collapsed form hides nothing.
    fn notice_ui(&self, ui: &mut egui::Ui) {
        if let Some(notice) = &self.notice {
            let color = match notice.tone {
                Tone::Info => ui.visuals().text_color(),
                Tone::Warn => ui.visuals().warn_fg_color,
                Tone::Error => ui.visuals().error_fg_color,
            };
            ui.add(egui::Label::new(RichText::new(&notice.text).color(color)).wrap());
        }
    }
}

fn push_connect(profile: &Profile, password: Option<&Secret>, commands: &mut Vec<UiCommand>) {
    let (config, label, name) = (profile.to_link_config(password), profile.name.clone(), Some(profile.name.clone()));
    commands.push(UiCommand::Connect { config, label, profile: name, read_only: profile.read_only });
}

/// One session on two lines (it fits a narrow column): dot, name and Disconnect; then the
/// state, the attempts and, for serial, the dropped frames.
fn session_ui(ui: &mut egui::Ui, ctx: &ViewContext, session: &SessionView, commands: &mut Vec<UiCommand>) {
    // A replay played to its end is finished, not failed: said plainly, the reason on hover.
    let replay_ended = session.kind == LinkKind::Replay && matches!(session.state, LinkState::Down { .. });
    let color = if replay_ended { ui.visuals().weak_text_color() } else { link_state_color(ui.visuals(), &session.state) };
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
        if replay_ended {
            let reason = if let LinkState::Down { reason } = &session.state { reason.as_str() } else { "" };
            ui.colored_label(color, ctx.tr("replay ended")).on_hover_text(reason);
        } else {
            ui.colored_label(color, link_state_text(ctx.lang, &session.state));
        }
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
}

