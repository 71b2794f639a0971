//! Where passwords live: the OS keyring (Secret Service, macOS Keychain, Windows Credential
//! Manager) behind [`SecretBackend`], with in-memory and "none" backends for tests and headless
//! machines. Keyring calls can block (D-Bus activation, an unlock prompt), so [`Worker`] makes
//! them in order on one thread and hands back their outcomes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, mpsc};

/// Keyring service name of every saved password.
pub const KEYRING_SERVICE: &str = "cems-workbench";
/// Keyring user of the entry written and removed again to check that the keyring works.
const PROBE_USER: &str = "__cems-workbench-probe__";

/// A password kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(***)")
    }
}

/// A place to keep passwords. Calls may block; the store makes them on its worker thread.
pub trait SecretBackend: Send + Sync {
    /// Ok when passwords can be written and read back.
    fn probe(&self) -> Result<(), String>;
    fn set(&self, user: &str, secret: &str) -> Result<(), String>;
    /// `None` when there is no entry for `user`.
    fn get(&self, user: &str) -> Result<Option<String>, String>;
    /// Removing an entry that is not there succeeds.
    fn delete(&self, user: &str) -> Result<(), String>;
}

/// The platform's keyring (Secret Service over D-Bus, macOS Keychain, Windows Credential Manager).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(user: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(KEYRING_SERVICE, user).map_err(|e| e.to_string())
    }
}

impl SecretBackend for OsKeyring {
    fn probe(&self) -> Result<(), String> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(e.to_string());
        }
        // A store can be created on a machine where no keyring daemon answers: write, read back
        // and remove an entry to know for sure.
        let entry = Self::entry(PROBE_USER)?;
        entry.set_password("probe").map_err(|e| e.to_string())?;
        let back = entry.get_password().map_err(|e| e.to_string());
        // The probe entry is ours; a failure to remove it does not make the keyring unusable.
        let _ = entry.delete_credential();
        match back? {
            text if text == "probe" => Ok(()),
            _ => Err("the keyring returned something else than what was stored".into()),
        }
    }

    fn set(&self, user: &str, secret: &str) -> Result<(), String> {
        Self::entry(user)?.set_password(secret).map_err(|e| e.to_string())
    }

    fn get(&self, user: &str) -> Result<Option<String>, String> {
        match Self::entry(user)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn delete(&self, user: &str) -> Result<(), String> {
        match Self::entry(user)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// No keyring at all (a headless machine, or tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoKeyring;

impl SecretBackend for NoKeyring {
    fn probe(&self) -> Result<(), String> {
        Err("no keyring configured".into())
    }
    fn set(&self, _: &str, _: &str) -> Result<(), String> {
        Err("no keyring configured".into())
    }
    fn get(&self, _: &str) -> Result<Option<String>, String> {
        Err("no keyring configured".into())
    }
    fn delete(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

/// A keyring in memory (tests, demos).
#[derive(Default)]
pub struct MemoryKeyring {
    entries: Mutex<BTreeMap<String, String>>,
}

impl MemoryKeyring {
    /// The stored secret of `user`, for checking.
    pub fn peek(&self, user: &str) -> Option<String> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).get(user).cloned()
    }
}

impl SecretBackend for MemoryKeyring {
    fn probe(&self) -> Result<(), String> {
        Ok(())
    }
    fn set(&self, user: &str, secret: &str) -> Result<(), String> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).insert(user.to_owned(), secret.to_owned());
        Ok(())
    }
    fn get(&self, user: &str) -> Result<Option<String>, String> {
        Ok(self.peek(user))
    }
    fn delete(&self, user: &str) -> Result<(), String> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(user);
        Ok(())
    }
}

/// What is known of the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringStatus {
    /// The probe has not answered yet.
    Checking,
    Available,
    /// Why not (shown to the user).
    Unavailable(String),
}

pub(super) enum Job {
    Probe,
    Set { profile: String, secret: Secret },
    Get { profile: String },
    Delete { profile: String },
}

#[derive(Debug)]
pub(super) enum JobDone {
    Probed(Result<(), String>),
    Set { profile: String, result: Result<(), String> },
    Got { profile: String, result: Result<Option<Secret>, String> },
    Deleted { result: Result<(), String> },
}

/// One thread making keyring calls in the order they were asked for.
#[derive(Debug)]
pub(super) struct Worker {
    jobs: mpsc::Sender<Job>,
    pub(super) done: mpsc::Receiver<JobDone>,
    pub(super) outstanding: usize,
}

impl Worker {
    pub(super) fn start(backend: Arc<dyn SecretBackend>) -> std::io::Result<Worker> {
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::Builder::new().name("keyring".into()).spawn(move || {
            // Ends when the store (the job sender) is dropped.
            for job in jobs_rx {
                let done = match job {
                    Job::Probe => JobDone::Probed(backend.probe()),
                    Job::Set { profile, secret } => {
                        let result = backend.set(&profile, secret.expose());
                        JobDone::Set { profile, result }
                    }
                    Job::Get { profile } => {
                        let result = backend.get(&profile).map(|s| s.map(Secret));
                        JobDone::Got { profile, result }
                    }
                    Job::Delete { profile } => JobDone::Deleted { result: backend.delete(&profile) },
                };
                if done_tx.send(done).is_err() {
                    break;
                }
            }
        })?;
        Ok(Worker { jobs: jobs_tx, done: done_rx, outstanding: 0 })
    }

    pub(super) fn submit(&mut self, job: Job) -> bool {
        let sent = self.jobs.send(job).is_ok();
        if sent {
            self.outstanding += 1;
        }
        sent
    }
}

