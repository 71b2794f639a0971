//! The devices file (`broker --devices FILE`): who the embedded broker's door admits.
//!
//! ```json
//! {"devices": [{"pk": "PK01", "dev": "GW-0001", "secret": "s3cr3t"}],
//!  "masters": [{"user": "scada", "password": "long random words"}]}
//! ```
//!
//! Every mistake is named as `file: JSON pointer: reason`, so a typo in the fortieth device is
//! found without reading the whole file. Secrets and passwords never reach `Debug` or a log.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::protocol::ids::{IdKind, check_id};

type HmacSha256 = Hmac<Sha256>;

/// A parsed devices file; cheap to clone (the broker's config is cloned per start).
#[derive(Clone)]
pub struct Devices {
    inner: Arc<Inner>,
}

struct Inner {
    /// The file it came from, for messages.
    source: String,
    /// (pk, dev) → device secret.
    devices: HashMap<(String, String), String>,
    /// Master user → HMAC of its password under `key`: comparing two MACs with `verify_slice`
    /// takes the same time wherever they differ, and hides the password's length too.
    masters: HashMap<String, Vec<u8>>,
    key: [u8; 16],
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Counts only: a Debug print of the broker's config must not show a secret.
        f.debug_struct("Devices")
            .field("source", &self.inner.source)
            .field("devices", &self.inner.devices.len())
            .field("masters", &self.inner.masters.len())
            .finish()
    }
}

/// Why a devices file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DevicesError {
    #[error("{file}: cannot read: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}: not JSON: {reason}")]
    Json { file: String, reason: String },
    /// `path` is a JSON pointer to the value at fault, `/` for the whole file.
    #[error("{file}: {path}: {reason}")]
    Invalid { file: String, path: String, reason: String },
}

impl Devices {
    /// Reads and checks a devices file.
    pub fn load(path: &Path) -> Result<Devices, DevicesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DevicesError::Read { file: file.clone(), source })?;
        Devices::from_json(&text, &file)
    }

    /// Checks a devices file's text; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Devices, DevicesError> {
        let root: Value = serde_json::from_str(text).map_err(|e| DevicesError::Json { file: file.into(), reason: e.to_string() })?;
        let invalid = |path: String, reason: String| DevicesError::Invalid { file: file.into(), path, reason };
        let Some(root) = root.as_object() else {
            return Err(invalid("/".into(), "expected an object {\"devices\": [...], \"masters\": [...]}".into()));
        };
        if let Some(key) = root.keys().find(|k| !matches!(k.as_str(), "devices" | "masters")) {
            return Err(invalid(format!("/{key}"), "unknown key (expected \"devices\" or \"masters\")".into()));
        }
        let key = rand::random::<u128>().to_le_bytes();
        let mut devices = HashMap::new();
        let mut first_at: HashMap<(String, String), usize> = HashMap::new();
        for (i, entry) in list(root, "devices").map_err(|r| invalid("/devices".into(), r))?.iter().enumerate() {
            let at = format!("/devices/{i}");
            let [pk, dev, secret] = strings(entry, &["pk", "dev", "secret"]).map_err(|(field, r)| invalid(format!("{at}{field}"), r))?;
            check_id(IdKind::ProductKey, pk).map_err(|e| invalid(format!("{at}/pk"), e.to_string()))?;
            check_id(IdKind::Device, dev).map_err(|e| invalid(format!("{at}/dev"), e.to_string()))?;
            if secret.is_empty() {
                return Err(invalid(format!("{at}/secret"), "empty secret: anyone could sign for this device".into()));
            }
            let id = (pk.to_string(), dev.to_string());
            if let Some(first) = first_at.get(&id) {
                return Err(invalid(at, format!("duplicate device pk {pk:?} dev {dev:?}, first at /devices/{first}")));
            }
            first_at.insert(id.clone(), i);
            devices.insert(id, secret.to_string());
        }
        let mut masters = HashMap::new();
        let mut first_master: HashMap<String, usize> = HashMap::new();
        for (i, entry) in list(root, "masters").map_err(|r| invalid("/masters".into(), r))?.iter().enumerate() {
            let at = format!("/masters/{i}");
            let [user, password] = strings(entry, &["user", "password"]).map_err(|(field, r)| invalid(format!("{at}{field}"), r))?;
            if user.is_empty() {
                return Err(invalid(format!("{at}/user"), "empty user".into()));
            }
            if password.is_empty() {
                return Err(invalid(format!("{at}/password"), "empty password: anyone could log in as this master".into()));
            }
            if let Some(first) = first_master.get(user) {
                return Err(invalid(at, format!("duplicate master user {user:?}, first at /masters/{first}")));
            }
            first_master.insert(user.to_string(), i);
            masters.insert(user.to_string(), mac(&key, password.as_bytes()));
        }
        if devices.is_empty() && masters.is_empty() {
            return Err(invalid("/".into(), "lists no devices and no masters: the broker would admit nobody".into()));
        }
        Ok(Devices { inner: Arc::new(Inner { source: file.into(), devices, masters, key }) })
    }

    /// The same list plus a master kept in memory only (the window's own sessions log in as one
    /// made up for the run). Replaces a listed master of the same name.
    pub fn with_master(&self, user: &str, password: &str) -> Devices {
        let mut inner = self.inner.copy();
        inner.masters.insert(user.to_string(), mac(&inner.key, password.as_bytes()));
        Devices { inner: Arc::new(inner) }
    }

    /// The same list plus a device kept in memory only (the window's demo gateway).
    pub fn with_device(&self, pk: &str, dev: &str, secret: &str) -> Devices {
        let mut inner = self.inner.copy();
        inner.devices.insert((pk.to_string(), dev.to_string()), secret.to_string());
        Devices { inner: Arc::new(inner) }
    }

    pub fn device_count(&self) -> usize {
        self.inner.devices.len()
    }

    pub fn master_count(&self) -> usize {
        self.inner.masters.len()
    }

    /// The file the list came from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// `2 devices and 1 master`, for the `broker` command and logs.
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
        format!("{} and {}", plural(self.device_count(), "device"), plural(self.master_count(), "master"))
    }

    /// The secret of a listed device.
    pub(super) fn secret(&self, pk: &str, dev: &str) -> Option<&str> {
        self.inner.devices.get(&(pk.to_string(), dev.to_string())).map(String::as_str)
    }

    /// None when `user` is no master; otherwise whether `password` is its password.
    pub(super) fn master(&self, user: &str, password: &[u8]) -> Option<bool> {
        let stored = self.inner.masters.get(user)?;
        let mut given = HmacSha256::new_from_slice(&self.inner.key).ok()?;
        given.update(password);
        Some(given.verify_slice(stored).is_ok())
    }
}

impl Inner {
    fn copy(&self) -> Inner {
        Inner { source: self.source.clone(), devices: self.devices.clone(), masters: self.masters.clone(), key: self.key }
    }
}

fn mac(key: &[u8], bytes: &[u8]) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(bytes);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; an empty tag then matches no password.
        Err(_) => Vec::new(),
    }
}

/// The array under `key`, empty when absent.
fn list<'a>(root: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match root.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err("expected an array".into()),
    }
}

/// The string fields `names` of an entry, exactly those; the error is (pointer suffix, reason).
fn strings<'a, const N: usize>(entry: &'a Value, names: &[&str; N]) -> Result<[&'a str; N], (String, String)> {
    let wanted = || names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
    let Some(object) = entry.as_object() else {
        return Err((String::new(), format!("expected an object with {}", wanted())));
    };
    if let Some(key) = object.keys().find(|k| !names.contains(&k.as_str())) {
        return Err((format!("/{key}"), format!("unknown key (expected {})", wanted())));
    }
    let mut out = [""; N];
    for (slot, name) in out.iter_mut().zip(names) {
        *slot = match object.get(*name) {
            None => return Err((String::new(), format!("missing {name:?}"))),
            Some(Value::String(text)) => text,
            Some(_) => return Err((format!("/{name}"), "expected a string".into())),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Devices::from_json(text, "devices.json").unwrap_err().to_string()
    }

    #[test]
    fn a_good_file_lists_devices_and_masters() {
        let text = r#"{"devices": [{"pk": "PK01", "dev": "GW-0001", "secret": "s"}, {"pk": "PK01", "dev": "GW-0002", "secret": "t"}],
                       "masters": [{"user": "scada", "password": "pw"}]}"#;
        let devices = Devices::from_json(text, "devices.json").unwrap();
        assert_eq!(devices.summary(), "2 devices and 1 master");
        assert_eq!(devices.secret("PK01", "GW-0002"), Some("t"));
        assert_eq!(devices.secret("PK01", "GW-0003"), None);
        assert_eq!(devices.master("scada", b"pw"), Some(true));
        assert_eq!(devices.master("scada", b"pw "), Some(false));
        assert_eq!(devices.master("scada", b""), Some(false));
        assert_eq!(devices.master("nobody", b"pw"), None);
        let debug = format!("{devices:?}");
        assert!(!debug.contains("\"s\"") && !debug.contains("pw"), "{debug}");
        let masters_only = Devices::from_json(r#"{"masters": [{"user": "m", "password": "p"}]}"#, "f").unwrap();
        assert_eq!(masters_only.summary(), "0 devices and 1 master");
        let widened = masters_only.with_master("window", "w").with_device("PK02", "GW-9", "z");
        assert_eq!(widened.summary(), "1 device and 2 masters");
        assert_eq!(widened.master("window", b"w"), Some(true));
        assert_eq!(widened.master("m", b"p"), Some(true), "the file's masters stay");
        assert_eq!(widened.secret("PK02", "GW-9"), Some("z"));
        assert_eq!(masters_only.master("window", b"w"), None, "the original is unchanged");
    }

    #[test]
    fn each_mistake_is_named_by_file_pointer_and_reason() {
        let cases = [
            ("[]", "devices.json: /: expected an object"),
            ("{", "devices.json: not JSON: EOF while parsing an object at line 1 column 1"),
            (r#"{"device": []}"#, "devices.json: /device: unknown key"),
            (r#"{"devices": {}}"#, "devices.json: /devices: expected an array"),
            (r#"{"devices": [], "masters": []}"#, "devices.json: /: lists no devices and no masters"),
            (r#"{"devices": ["PK01"]}"#, "devices.json: /devices/0: expected an object with \"pk\", \"dev\", \"secret\""),
            (r#"{"devices": [{"pk": "PK01", "dev": "GW"}]}"#, "devices.json: /devices/0: missing \"secret\""),
            (r#"{"devices": [{"pk": "PK01", "dev": "GW", "secret": ""}]}"#, "devices.json: /devices/0/secret: empty secret"),
            (r#"{"devices": [{"pk": "PK01", "dev": "GW", "secret": 7}]}"#, "devices.json: /devices/0/secret: expected a string"),
            (r#"{"devices": [{"pk": "PK/1", "dev": "GW", "secret": "s"}]}"#, "devices.json: /devices/0/pk: pk \"PK/1\" contains '/'"),
            (r#"{"devices": [{"pk": "PK01", "dev": "", "secret": "s"}]}"#, "devices.json: /devices/0/dev: dev is empty"),
            (r#"{"devices": [{"pk": "PK01", "dev": "GW", "secret": "s", "name": "x"}]}"#, "devices.json: /devices/0/name: unknown key"),
            (
                r#"{"devices": [{"pk": "PK01", "dev": "GW", "secret": "s"}, {"pk": "PK02", "dev": "GW", "secret": "s"}, {"pk": "PK01", "dev": "GW", "secret": "t"}]}"#,
                "devices.json: /devices/2: duplicate device pk \"PK01\" dev \"GW\", first at /devices/0",
            ),
            (r#"{"masters": [{"user": "m", "password": ""}]}"#, "devices.json: /masters/0/password: empty password"),
            (r#"{"masters": [{"user": "", "password": "p"}]}"#, "devices.json: /masters/0/user: empty user"),
            (
                r#"{"masters": [{"user": "m", "password": "p"}, {"user": "m", "password": "q"}]}"#,
                "devices.json: /masters/1: duplicate master user \"m\", first at /masters/0",
            ),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(message.starts_with(expected), "{text}\n  gave  {message}\n  wanted {expected}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.json");
        let message = Devices::load(&path).unwrap_err().to_string();
        assert!(message.starts_with(&format!("{}: cannot read: ", path.display())), "{message}");
    }
}
