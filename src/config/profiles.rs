//! Saved connection profiles and their passwords.
//!
//! Profiles live in `<config dir>/profiles.json`, written atomically (temp file + rename) and
//! never holding a password: each MQTT profile only says where its password is
//! ([`PasswordPlace`]). Passwords go to the OS keyring (service [`KEYRING_SERVICE`], user = the
//! profile's name) when one works; without one they are asked for on every connect, unless the
//! user opted in to `secrets.json` (base64-obfuscated, mode 0600, NOT secure).
//!
//! Keyring calls can block (D-Bus activation, an unlock prompt), so they run in order on one
//! worker thread; [`ProfileStore::poll`] collects their outcomes once per frame. The small JSON
//! files are read and written in place: they are tiny and local.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

pub use super::secrets::{KEYRING_SERVICE, KeyringStatus, MemoryKeyring, NoKeyring, OsKeyring, Secret, SecretBackend};
use super::secrets::{Job, JobDone, Worker};
use crate::transport::{LinkConfig, Subscription};
use crate::transport::mqtt::MqttConfig;
use crate::transport::serial::{Parity, SerialConfig, SerialSettings};

/// File name of the profile list inside the profile folder.
pub const PROFILES_FILE: &str = "profiles.json";
/// File name of the obfuscated passwords (only when the user opted in).
pub const SECRETS_FILE: &str = "secrets.json";
const FORMAT_VERSION: u32 = 1;
const SECRETS_WARNING: &str = "Passwords in this file are only base64-obfuscated, NOT encrypted: anyone who can read it can read them.";

/// Where an MQTT profile's password is; the password itself is never in `profiles.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordPlace {
    /// The profile has no password.
    #[default]
    None,
    /// In the OS keyring.
    Keyring,
    /// In `secrets.json`, base64-obfuscated (the user opted in).
    Obfuscated,
    /// Not saved: asked for on every connect.
    Ask,
}

/// One saved link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    #[serde(flatten)]
    pub link: ProfileLink,
    /// A live site: the session publishes only the master's duties. Absent in older files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ProfileLink {
    Mqtt(MqttProfile),
    Serial(SerialProfile),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MqttProfile {
    pub url: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub password: PasswordPlace,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default = "default_keep_alive_secs")]
    pub keep_alive_secs: u16,
    /// Filters the user added for this profile's sessions, besides the workbench's own ones;
    /// subscribed when a session of it opens. Absent in older files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
}

fn default_keep_alive_secs() -> u16 {
    30
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SerialProfile {
    pub path: String,
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Profile {
    /// The broker URL or the serial port.
    pub fn target(&self) -> &str {
        match &self.link {
            ProfileLink::Mqtt(m) => &m.url,
            ProfileLink::Serial(s) => &s.path,
        }
    }

    /// Where the password is (serial profiles have none).
    pub fn password_place(&self) -> PasswordPlace {
        match &self.link {
            ProfileLink::Mqtt(m) => m.password,
            ProfileLink::Serial(_) => PasswordPlace::None,
        }
    }

    /// The user's subscriptions (serial profiles have none: a cable carries everything).
    pub fn subscriptions(&self) -> &[Subscription] {
        match &self.link {
            ProfileLink::Mqtt(m) => &m.subscriptions,
            ProfileLink::Serial(_) => &[],
        }
    }

    /// The link this profile opens, with `password` when it has one.
    pub fn to_link_config(&self, password: Option<&Secret>) -> LinkConfig {
        match &self.link {
            ProfileLink::Mqtt(m) => {
                let mut config = MqttConfig::new(m.url.clone(), m.client_id.clone());
                config.username = m.username.clone();
                config.password = password.map(|p| p.expose().to_owned());
                config.ca_file = m.ca_file.clone();
                config.client_cert = m.client_cert.clone();
                config.client_key = m.client_key.clone();
                config.insecure = m.insecure;
                config.keep_alive_secs = m.keep_alive_secs;
                LinkConfig::Mqtt(config)
            }
            ProfileLink::Serial(s) => {
                let mut config = SerialConfig::path(s.path.clone());
                config.settings = SerialSettings { baud: s.baud, data_bits: s.data_bits, parity: s.parity, stop_bits: s.stop_bits };
                LinkConfig::Serial(config)
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ProfilesFile {
    version: u32,
    profiles: Vec<Profile>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SecretsFile {
    version: u32,
    #[serde(default)]
    warning: String,
    /// Profile name → base64 of the password.
    secrets: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// The store

/// Something wrong with the profile folder, for the panel to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreProblem {
    /// The platform has no config folder: profiles last for this run only.
    NoConfigDir,
    /// A file could not be read or parsed. With `backup`, it was moved there and the list starts
    /// empty; without, it is left alone and not overwritten.
    Unreadable { path: PathBuf, error: String, backup: Option<PathBuf> },
    /// A file could not be written.
    WriteFailed { path: PathBuf, error: String },
}

/// Why an action on the store was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("a profile needs a name")]
    EmptyName,
    #[error("no profile named {0:?}")]
    NoSuchProfile(String),
    #[error("{path} is unreadable and was not moved aside; not overwriting it", path = .0.display())]
    NotWritable(PathBuf),
    #[error("cannot write {path}: {error}", path = .path.display())]
    Write { path: PathBuf, error: String },
}

/// What happened to the password of a saved profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedPassword {
    /// The profile has no password.
    None,
    /// Being written to the keyring; [`StoreEvent::PasswordStored`] or `PasswordNotStored` follows.
    ToKeyring,
    /// Written to `secrets.json`, obfuscated.
    Obfuscated,
    /// Not saved: it will be asked for when connecting.
    WillAsk,
    /// The password saved before is kept (the field was left empty).
    Kept,
}

/// How to get the password of a profile for connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordLookup {
    NotNeeded,
    Ready(Secret),
    /// Asked from the keyring: [`StoreEvent::PasswordFound`] or `PasswordMissing` follows.
    Pending,
    /// Ask the user.
    Ask,
}

/// Outcomes of background keyring work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    KeyringChecked,
    PasswordStored { profile: String },
    /// The keyring refused the password; the profile now asks for it.
    PasswordNotStored { profile: String, error: String },
    PasswordFound { profile: String, password: Secret },
    /// No password in the keyring (or it failed, with `error`): ask the user.
    PasswordMissing { profile: String, error: Option<String> },
    KeyringError { error: String },
}

/// Obfuscated passwords by profile name, kept out of `Debug`.
#[derive(Default)]
struct Obfuscated(BTreeMap<String, Secret>);

impl fmt::Debug for Obfuscated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The saved profiles of one folder and the passwords that go with them.
#[derive(Debug)]
pub struct ProfileStore {
    /// `None` when the platform has no config folder: nothing is written then.
    dir: Option<PathBuf>,
    profiles: Vec<Profile>,
    obfuscated: Obfuscated,
    problems: Vec<StoreProblem>,
    profiles_writable: bool,
    secrets_writable: bool,
    keyring: KeyringStatus,
    worker: Option<Worker>,
}

impl ProfileStore {
    /// `<config dir>/` of `ProjectDirs::from("org", "cems", "cems-workbench")`.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("org", "cems", "cems-workbench").map(|d| d.config_dir().to_path_buf())
    }

    /// The platform's profile folder with the OS keyring.
    pub fn open_default() -> ProfileStore {
        match Self::default_dir() {
            Some(dir) => Self::open(dir),
            None => {
                let mut store = Self::build(None, Arc::new(OsKeyring));
                store.problems.push(StoreProblem::NoConfigDir);
                store
            }
        }
    }

    /// The profiles of `dir` with the OS keyring (probed in the background).
    pub fn open(dir: impl Into<PathBuf>) -> ProfileStore {
        Self::open_with_keyring(dir, Arc::new(OsKeyring))
    }

    /// The profiles of `dir` with passwords in `keyring` (probed in the background).
    pub fn open_with_keyring(dir: impl Into<PathBuf>, keyring: Arc<dyn SecretBackend>) -> ProfileStore {
        Self::build(Some(dir.into()), keyring)
    }

    fn build(dir: Option<PathBuf>, keyring: Arc<dyn SecretBackend>) -> ProfileStore {
        let mut store = ProfileStore {
            dir,
            profiles: Vec::new(),
            obfuscated: Obfuscated::default(),
            problems: Vec::new(),
            profiles_writable: true,
            secrets_writable: true,
            keyring: KeyringStatus::Checking,
            worker: None,
        };
        store.load();
        match Worker::start(keyring) {
            Ok(mut worker) => {
                worker.submit(Job::Probe);
                store.worker = Some(worker);
            }
            Err(e) => store.keyring = KeyringStatus::Unavailable(format!("cannot start the keyring thread: {e}")),
        }
        store
    }

    fn load(&mut self) {
        let Some(dir) = self.dir.clone() else { return };
        let (file, problem, writable) = load_json::<ProfilesFile>(&dir.join(PROFILES_FILE));
        self.profiles_writable = writable;
        self.problems.extend(problem);
        if let Some(file) = file {
            self.profiles = file.profiles;
        }
        let (secrets, problem, writable) = load_json::<SecretsFile>(&dir.join(SECRETS_FILE));
        self.secrets_writable = writable;
        self.problems.extend(problem);
        if let Some(secrets) = secrets {
            for (name, encoded) in secrets.secrets {
                // An entry that does not decode is treated as absent: the password is asked for.
                if let Some(text) = BASE64.decode(encoded.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok()) {
                    self.obfuscated.0.insert(name, Secret::new(text));
                }
            }
        }
    }

    /// The folder profiles are saved in.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    pub fn problems(&self) -> &[StoreProblem] {
        &self.problems
    }

    pub fn dismiss_problems(&mut self) {
        self.problems.clear();
    }

    pub fn keyring_status(&self) -> &KeyringStatus {
        &self.keyring
    }

    /// Keyring calls are still running.
    pub fn is_busy(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.outstanding > 0)
    }

    /// Whether `profile` has a password saved somewhere (an edit may leave it unchanged).
    pub fn has_saved_password(&self, profile: &str) -> bool {
        self.get(profile).is_some_and(|p| matches!(p.password_place(), PasswordPlace::Keyring | PasswordPlace::Obfuscated))
    }

    /// Saves `profile` (replacing one of the same name) with `password`; an empty password keeps
    /// the one saved before. Without a keyring the password is only saved, obfuscated, when
    /// `allow_obfuscated`; otherwise it will be asked for.
    pub fn save(&mut self, mut profile: Profile, password: Option<&str>, allow_obfuscated: bool) -> Result<SavedPassword, StoreError> {
        profile.name = profile.name.trim().to_owned();
        if profile.name.is_empty() {
            return Err(StoreError::EmptyName);
        }
        // Refused before anything changes: a profile kept in the list (or a password sent to
        // the keyring) that the file cannot take would look saved and vanish on restart.
        self.check_profiles_writable()?;
        let name = profile.name.clone();
        let previous = self.get(&name).map(Profile::password_place).unwrap_or_default();
        let password = password.filter(|p| !p.is_empty());
        let (place, saved) = match &mut profile.link {
            ProfileLink::Serial(_) => (PasswordPlace::None, SavedPassword::None),
            ProfileLink::Mqtt(mqtt) => {
                let (place, saved) = match password {
                    None if mqtt.username.is_some() && previous != PasswordPlace::None => (previous, SavedPassword::Kept),
                    None => (PasswordPlace::None, SavedPassword::None),
                    Some(secret) => {
                        // While the probe runs, try the keyring: a refusal turns the profile to Ask.
                        let keyring_usable = matches!(self.keyring, KeyringStatus::Available | KeyringStatus::Checking);
                        let queued = keyring_usable
                            && self.worker.as_mut().is_some_and(|w| w.submit(Job::Set { profile: name.clone(), secret: Secret::new(secret) }));
                        if queued {
                            (PasswordPlace::Keyring, SavedPassword::ToKeyring)
                        } else if allow_obfuscated {
                            (PasswordPlace::Obfuscated, SavedPassword::Obfuscated)
                        } else {
                            (PasswordPlace::Ask, SavedPassword::WillAsk)
                        }
                    }
                };
                mqtt.password = place;
                (place, saved)
            }
        };
        if previous == PasswordPlace::Keyring && place != PasswordPlace::Keyring {
            self.forget_in_keyring(&name);
        }
        let secrets_changed = match (place, password) {
            (PasswordPlace::Obfuscated, Some(secret)) => {
                self.obfuscated.0.insert(name.clone(), Secret::new(secret));
                true
            }
            (PasswordPlace::Obfuscated, None) => false,
            _ => self.obfuscated.0.remove(&name).is_some(),
        };
        if secrets_changed {
            self.write_secrets()?;
        }
        let before = self.profiles.clone();
        match self.profiles.iter_mut().find(|p| p.name == name) {
            Some(slot) => *slot = profile,
            None => self.profiles.push(profile),
        }
        if let Err(e) = self.write_profiles() {
            // The list shows what the file holds, not what failed to reach it.
            self.profiles = before;
            return Err(e);
        }
        Ok(saved)
    }

    /// Replaces the user's subscriptions of the MQTT profile `name` and writes the file; the
    /// password stays where it is. A serial profile keeps none.
    pub fn set_subscriptions(&mut self, name: &str, subscriptions: Vec<Subscription>) -> Result<(), StoreError> {
        let Some(index) = self.profiles.iter().position(|p| p.name == name) else {
            return Err(StoreError::NoSuchProfile(name.to_owned()));
        };
        self.check_profiles_writable()?;
        let ProfileLink::Mqtt(mqtt) = &mut self.profiles[index].link else { return Ok(()) };
        let before = std::mem::replace(&mut mqtt.subscriptions, subscriptions);
        if let Err(e) = self.write_profiles() {
            // The list shows what the file holds.
            if let ProfileLink::Mqtt(mqtt) = &mut self.profiles[index].link {
                mqtt.subscriptions = before;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Removes the profile and its saved password.
    pub fn delete(&mut self, name: &str) -> Result<(), StoreError> {
        let Some(index) = self.profiles.iter().position(|p| p.name == name) else {
            return Err(StoreError::NoSuchProfile(name.to_owned()));
        };
        self.check_profiles_writable()?;
        let removed = self.profiles.remove(index);
        if let Err(e) = self.write_profiles() {
            // Still in the file, so still in the list, with its password where it was.
            self.profiles.insert(index, removed);
            return Err(e);
        }
        if removed.password_place() == PasswordPlace::Keyring {
            self.forget_in_keyring(name);
        }
        if self.obfuscated.0.remove(name).is_some() {
            self.write_secrets()?;
        }
        Ok(())
    }

    /// `NotWritable` when `profiles.json` was unreadable and could not be moved aside.
    fn check_profiles_writable(&self) -> Result<(), StoreError> {
        match &self.dir {
            Some(dir) if !self.profiles_writable => Err(StoreError::NotWritable(dir.join(PROFILES_FILE))),
            _ => Ok(()),
        }
    }

    /// The password to connect `name` with.
    pub fn password(&mut self, name: &str) -> PasswordLookup {
        let Some(place) = self.get(name).map(Profile::password_place) else { return PasswordLookup::Ask };
        match place {
            PasswordPlace::None => PasswordLookup::NotNeeded,
            PasswordPlace::Ask => PasswordLookup::Ask,
            PasswordPlace::Obfuscated => self.obfuscated.0.get(name).cloned().map_or(PasswordLookup::Ask, PasswordLookup::Ready),
            PasswordPlace::Keyring => match (&self.keyring, self.worker.as_mut()) {
                (KeyringStatus::Unavailable(_), _) | (_, None) => PasswordLookup::Ask,
                (_, Some(worker)) => {
                    if worker.submit(Job::Get { profile: name.to_owned() }) {
                        PasswordLookup::Pending
                    } else {
                        PasswordLookup::Ask
                    }
                }
            },
        }
    }

    /// Outcomes of keyring work finished since the last call; never waits.
    pub fn poll(&mut self) -> Vec<StoreEvent> {
        let mut events = Vec::new();
        while let Some(worker) = self.worker.as_mut() {
            match worker.done.try_recv() {
                Ok(done) => self.handle(done, &mut events),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.worker_lost(&mut events);
                    break;
                }
            }
        }
        events
    }

    /// Waits up to `timeout` for the keyring work under way (tests and scripts; not the UI).
    pub fn wait_idle(&mut self, timeout: Duration) -> Vec<StoreEvent> {
        let deadline = std::time::Instant::now() + timeout;
        let mut events = Vec::new();
        while let Some(worker) = self.worker.as_mut() {
            if worker.outstanding == 0 {
                break;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match worker.done.recv_timeout(left) {
                Ok(done) => self.handle(done, &mut events),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.worker_lost(&mut events);
                    break;
                }
            }
        }
        events
    }

    fn worker_lost(&mut self, events: &mut Vec<StoreEvent>) {
        self.worker = None;
        self.keyring = KeyringStatus::Unavailable("the keyring thread stopped".into());
        events.push(StoreEvent::KeyringChecked);
    }

    fn handle(&mut self, done: JobDone, events: &mut Vec<StoreEvent>) {
        if let Some(worker) = self.worker.as_mut() {
            worker.outstanding = worker.outstanding.saturating_sub(1);
        }
        match done {
            JobDone::Probed(result) => {
                self.keyring = match result {
                    Ok(()) => KeyringStatus::Available,
                    Err(reason) => KeyringStatus::Unavailable(reason),
                };
                events.push(StoreEvent::KeyringChecked);
            }
            JobDone::Set { profile, result: Ok(()) } => events.push(StoreEvent::PasswordStored { profile }),
            JobDone::Set { profile, result: Err(error) } => {
                // Saying "in the keyring" when it is not would lose the password silently.
                if let Some(ProfileLink::Mqtt(m)) = self.profiles.iter_mut().find(|p| p.name == profile).map(|p| &mut p.link)
                    && m.password == PasswordPlace::Keyring
                {
                    m.password = PasswordPlace::Ask;
                    if let Err(e) = self.write_profiles() {
                        events.push(StoreEvent::KeyringError { error: e.to_string() });
                    }
                }
                events.push(StoreEvent::PasswordNotStored { profile, error });
            }
            JobDone::Got { profile, result: Ok(Some(password)) } => events.push(StoreEvent::PasswordFound { profile, password }),
            JobDone::Got { profile, result: Ok(None) } => events.push(StoreEvent::PasswordMissing { profile, error: None }),
            JobDone::Got { profile, result: Err(error) } => events.push(StoreEvent::PasswordMissing { profile, error: Some(error) }),
            JobDone::Deleted { result: Ok(()) } => {}
            JobDone::Deleted { result: Err(error) } => events.push(StoreEvent::KeyringError { error }),
        }
    }

    fn forget_in_keyring(&mut self, name: &str) {
        if let Some(worker) = self.worker.as_mut() {
            worker.submit(Job::Delete { profile: name.to_owned() });
        }
    }

    fn write_profiles(&mut self) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let path = dir.join(PROFILES_FILE);
        if !self.profiles_writable {
            return Err(StoreError::NotWritable(path));
        }
        let file = ProfilesFile { version: FORMAT_VERSION, profiles: self.profiles.clone() };
        self.write_json(&path, &file, false)
    }

    fn write_secrets(&mut self) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let path = dir.join(SECRETS_FILE);
        if !self.secrets_writable {
            return Err(StoreError::NotWritable(path));
        }
        if self.obfuscated.0.is_empty() {
            return match std::fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.write_failed(&path, e.to_string())),
            };
        }
        let secrets = self.obfuscated.0.iter().map(|(name, secret)| (name.clone(), BASE64.encode(secret.expose()))).collect();
        let file = SecretsFile { version: FORMAT_VERSION, warning: SECRETS_WARNING.into(), secrets };
        self.write_json(&path, &file, true)
    }

    fn write_json(&mut self, path: &Path, value: &impl Serialize, private: bool) -> Result<(), StoreError> {
        let text = serde_json::to_vec_pretty(value).map_err(|e| self.write_failed(path, e.to_string()))?;
        let written = std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).and_then(|()| {
            if private { crate::disk::write_atomic_private(path, &text) } else { crate::disk::write_atomic(path, &text) }
        });
        written.map_err(|e| self.write_failed(path, e.to_string()))
    }

    fn write_failed(&mut self, path: &Path, error: String) -> StoreError {
        self.problems.push(StoreProblem::WriteFailed { path: path.to_path_buf(), error: error.clone() });
        StoreError::Write { path: path.to_path_buf(), error }
    }
}

/// Reads a JSON file of ours: `(content, problem, may be overwritten)`. A missing file is an
/// empty one. A file that does not parse (cut short, random bytes, not UTF-8, JSON of another
/// shape) is moved aside to a free `<name>.corrupt-<secs>[-n]` so that nothing the user had is
/// lost; if it cannot be moved, it is not overwritten either.
fn load_json<T: serde::de::DeserializeOwned + VersionedFile>(path: &Path) -> (Option<T>, Option<StoreProblem>, bool) {
    // Bytes, not a string: a file that is not UTF-8 is as corrupt as one that is not JSON, and
    // must be moved aside like one rather than block every later save.
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None, true),
        Err(e) => return (None, Some(StoreProblem::Unreadable { path: path.to_path_buf(), error: e.to_string(), backup: None }), false),
    };
    let error = match serde_json::from_slice::<T>(&bytes) {
        Ok(file) if file.version() <= FORMAT_VERSION => return (Some(file), None, true),
        // A newer workbench wrote it: leave it be rather than lose what we do not understand.
        Ok(file) => {
            let error = format!("format version {} is newer than this workbench's ({FORMAT_VERSION})", file.version());
            return (None, Some(StoreProblem::Unreadable { path: path.to_path_buf(), error, backup: None }), false);
        }
        Err(e) => e.to_string(),
    };
    match move_aside(path, crate::protocol::time::now_ms() / 1000) {
        Ok(backup) => (None, Some(StoreProblem::Unreadable { path: path.to_path_buf(), error, backup: Some(backup) }), true),
        Err(e) => {
            let error = format!("{error}; moving it aside failed: {e}");
            (None, Some(StoreProblem::Unreadable { path: path.to_path_buf(), error, backup: None }), false)
        }
    }
}

/// Renames `path` to the first free backup name, so that an older backup (a second corruption
/// within the same second) is never replaced.
fn move_aside(path: &Path, epoch_secs: i64) -> std::io::Result<PathBuf> {
    let first = backup_path(path, epoch_secs);
    for n in 0..1000u32 {
        let mut candidate = first.clone().into_os_string();
        if n > 0 {
            candidate.push(format!("-{n}"));
        }
        let candidate = PathBuf::from(candidate);
        match std::fs::symlink_metadata(&candidate) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::rename(path, &candidate)?;
                return Ok(candidate);
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{}: every backup name up to -999 is taken", first.display())))
}

trait VersionedFile {
    fn version(&self) -> u32;
}

impl VersionedFile for ProfilesFile {
    fn version(&self) -> u32 {
        self.version
    }
}

impl VersionedFile for SecretsFile {
    fn version(&self) -> u32 {
        self.version
    }
}

/// `profiles.json` → `profiles.json.corrupt-<secs>`.
pub fn backup_path(path: &Path, epoch_secs: i64) -> PathBuf {
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{name}.corrupt-{epoch_secs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqtt_profile(name: &str) -> Profile {
        Profile {
            name: name.into(),
            link: ProfileLink::Mqtt(MqttProfile {
                url: "mqtts://broker.example:8883".into(),
                client_id: "cems-wb-1".into(),
                username: Some("engineer".into()),
                password: PasswordPlace::None,
                ca_file: Some("/etc/ca.pem".into()),
                client_cert: None,
                client_key: None,
                insecure: false,
                keep_alive_secs: 30,
                subscriptions: Vec::new(),
            }),
            read_only: false,
        }
    }

    fn serial_profile(name: &str) -> Profile {
        Profile {
            name: name.into(),
            link: ProfileLink::Serial(SerialProfile { path: "/dev/ttyUSB0".into(), baud: 9600, data_bits: 8, parity: Parity::Even, stop_bits: 1 }),
            read_only: false,
        }
    }

    fn store(dir: &Path, keyring: Arc<dyn SecretBackend>) -> ProfileStore {
        let mut store = ProfileStore::open_with_keyring(dir, keyring);
        store.wait_idle(Duration::from_secs(5));
        store
    }

    fn read(dir: &Path, file: &str) -> String {
        std::fs::read_to_string(dir.join(file)).unwrap()
    }

    #[test]
    fn profiles_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        s.save(mqtt_profile("lab"), None, false).unwrap();
        s.save(serial_profile("bench"), None, false).unwrap();
        let text = read(dir.path(), PROFILES_FILE);
        assert!(text.contains("\"kind\": \"mqtt\""), "{text}");
        assert!(text.contains("\"parity\": \"even\""), "{text}");
        let again = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(again.profiles(), s.profiles());
        assert!(again.problems().is_empty());
        // No temp file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from(PROFILES_FILE)]);
    }

    #[test]
    fn subscriptions_are_kept_in_the_file_and_old_files_load_without_them() {
        let dir = tempfile::tempdir().unwrap();
        // A file written before subscriptions were kept.
        let old = r#"{"version": 1, "profiles": [{"name": "lab", "kind": "mqtt", "url": "mqtt://b:1883", "clientId": "wb", "password": "none", "insecure": false, "keepAliveSecs": 30}]}"#;
        std::fs::write(dir.path().join(PROFILES_FILE), old).unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert!(s.problems().is_empty(), "{:?}", s.problems());
        assert_eq!(s.get("lab").unwrap().subscriptions(), &[] as &[Subscription]);

        let subs = vec![Subscription::new("plant/meter/#", 0), Subscription::new("#", 1)];
        s.set_subscriptions("lab", subs.clone()).unwrap();
        let text = read(dir.path(), PROFILES_FILE);
        assert!(text.contains("\"filter\": \"plant/meter/#\"") && text.contains("\"qos\": 0"), "{text}");
        let again = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(again.get("lab").unwrap().subscriptions(), subs.as_slice());
        // A serial profile keeps none; an unknown one is an error.
        s.save(serial_profile("bench"), None, false).unwrap();
        s.set_subscriptions("bench", subs).unwrap();
        assert!(s.get("bench").unwrap().subscriptions().is_empty());
        assert_eq!(s.set_subscriptions("nope", Vec::new()), Err(StoreError::NoSuchProfile("nope".into())));
        // Emptied, the field leaves the file again.
        s.set_subscriptions("lab", Vec::new()).unwrap();
        assert!(!read(dir.path(), PROFILES_FILE).contains("subscriptions"));
    }

    #[test]
    fn without_a_keyring_the_password_is_asked_for_and_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert!(matches!(s.keyring_status(), KeyringStatus::Unavailable(_)));
        assert_eq!(s.save(mqtt_profile("lab"), Some("s3cret-pw"), false).unwrap(), SavedPassword::WillAsk);
        assert!(!read(dir.path(), PROFILES_FILE).contains("s3cret"));
        assert!(!dir.path().join(SECRETS_FILE).exists());
        assert_eq!(s.password("lab"), PasswordLookup::Ask);
    }

    #[test]
    fn opting_in_obfuscates_into_a_private_secrets_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(s.save(mqtt_profile("lab"), Some("s3cret-pw"), true).unwrap(), SavedPassword::Obfuscated);
        assert!(!read(dir.path(), PROFILES_FILE).contains("s3cret"));
        let secrets = read(dir.path(), SECRETS_FILE);
        assert!(!secrets.contains("s3cret"));
        assert!(secrets.contains(&BASE64.encode("s3cret-pw")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(SECRETS_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut again = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(again.password("lab"), PasswordLookup::Ready(Secret::new("s3cret-pw")));
        // Saving again with an empty password keeps it; deleting the profile removes it.
        assert_eq!(again.save(mqtt_profile("lab"), None, false).unwrap(), SavedPassword::Kept);
        assert_eq!(again.password("lab"), PasswordLookup::Ready(Secret::new("s3cret-pw")));
        again.delete("lab").unwrap();
        assert!(!dir.path().join(SECRETS_FILE).exists());
    }

    #[test]
    fn a_working_keyring_gets_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryKeyring::default());
        let mut s = store(dir.path(), keyring.clone());
        assert_eq!(s.keyring_status(), &KeyringStatus::Available);
        assert_eq!(s.save(mqtt_profile("lab"), Some("s3cret-pw"), false).unwrap(), SavedPassword::ToKeyring);
        assert_eq!(s.wait_idle(Duration::from_secs(5)), vec![StoreEvent::PasswordStored { profile: "lab".into() }]);
        assert_eq!(keyring.peek("lab").as_deref(), Some("s3cret-pw"));
        assert!(read(dir.path(), PROFILES_FILE).contains("\"password\": \"keyring\""));
        assert!(!read(dir.path(), PROFILES_FILE).contains("s3cret"));
        assert_eq!(s.password("lab"), PasswordLookup::Pending);
        assert_eq!(
            s.wait_idle(Duration::from_secs(5)),
            vec![StoreEvent::PasswordFound { profile: "lab".into(), password: Secret::new("s3cret-pw") }]
        );
        s.delete("lab").unwrap();
        s.wait_idle(Duration::from_secs(5));
        assert_eq!(keyring.peek("lab"), None);
    }

    /// A keyring that answers the probe but refuses to store.
    struct Refusing;
    impl SecretBackend for Refusing {
        fn probe(&self) -> Result<(), String> {
            Ok(())
        }
        fn set(&self, _: &str, _: &str) -> Result<(), String> {
            Err("locked".into())
        }
        fn get(&self, _: &str) -> Result<Option<String>, String> {
            Ok(None)
        }
        fn delete(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn a_refused_keyring_write_turns_the_profile_to_ask() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), Arc::new(Refusing));
        s.save(mqtt_profile("lab"), Some("pw"), false).unwrap();
        let events = s.wait_idle(Duration::from_secs(5));
        assert_eq!(events, vec![StoreEvent::PasswordNotStored { profile: "lab".into(), error: "locked".into() }]);
        assert_eq!(s.get("lab").unwrap().password_place(), PasswordPlace::Ask);
        assert!(read(dir.path(), PROFILES_FILE).contains("\"password\": \"ask\""));
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROFILES_FILE), "{ this is not json").unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert!(s.profiles().is_empty());
        let [StoreProblem::Unreadable { backup: Some(backup), .. }] = s.problems() else {
            panic!("{:?}", s.problems());
        };
        assert_eq!(std::fs::read_to_string(backup).unwrap(), "{ this is not json");
        // Saving starts a fresh file.
        s.save(serial_profile("bench"), None, false).unwrap();
        assert!(read(dir.path(), PROFILES_FILE).contains("bench"));
    }

    #[test]
    fn a_newer_format_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROFILES_FILE), r#"{"version": 99, "profiles": []}"#).unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(s.problems().len(), 1);
        assert!(matches!(s.save(serial_profile("bench"), None, false), Err(StoreError::NotWritable(_))));
        assert!(read(dir.path(), PROFILES_FILE).contains("99"));
    }

    #[test]
    fn names_are_required_and_profiles_build_links() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        assert_eq!(s.save(serial_profile("  "), None, false), Err(StoreError::EmptyName));
        let LinkConfig::Mqtt(m) = mqtt_profile("lab").to_link_config(Some(&Secret::new("pw"))) else { panic!() };
        assert_eq!((m.url.as_str(), m.password.as_deref(), m.ca_file.is_some()), ("mqtts://broker.example:8883", Some("pw"), true));
        let LinkConfig::Serial(c) = serial_profile("b").to_link_config(None) else { panic!() };
        assert_eq!((c.path.as_str(), c.settings.baud, c.settings.parity), ("/dev/ttyUSB0", 9600, Parity::Even));
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(***)");
    }

    /// Touches the real keyring, so only on request: `cargo test --lib os_keyring -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn os_keyring_probe_answers() {
        let started = std::time::Instant::now();
        let result = OsKeyring.probe();
        println!("OS keyring probe after {:?}: {result:?}", started.elapsed());
    }

    #[test]
    fn backup_names_keep_the_file_name() {
        assert_eq!(backup_path(Path::new("/x/profiles.json"), 12), PathBuf::from("/x/profiles.json.corrupt-12"));
    }

    #[test]
    fn a_second_backup_in_the_same_second_keeps_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PROFILES_FILE);
        std::fs::write(&path, "first").unwrap();
        let a = move_aside(&path, 7).unwrap();
        std::fs::write(&path, "second").unwrap();
        let b = move_aside(&path, 7).unwrap();
        assert_eq!((a.file_name().unwrap(), b.file_name().unwrap()), ("profiles.json.corrupt-7".as_ref(), "profiles.json.corrupt-7-1".as_ref()));
        assert_eq!((std::fs::read_to_string(a).unwrap(), std::fs::read_to_string(b).unwrap()), ("first".into(), "second".into()));
        assert!(!path.exists());
    }

    #[test]
    fn a_file_that_is_not_utf8_is_moved_aside_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROFILES_FILE), [0xff, 0xfe, 0x00, 0x80]).unwrap();
        let mut s = store(dir.path(), Arc::new(NoKeyring));
        let [StoreProblem::Unreadable { backup: Some(backup), .. }] = s.problems() else { panic!("{:?}", s.problems()) };
        assert_eq!(std::fs::read(backup).unwrap(), [0xff, 0xfe, 0x00, 0x80]);
        s.save(serial_profile("bench"), None, false).unwrap();
    }
}
