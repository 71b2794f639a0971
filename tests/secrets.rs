//! Secrets at rest: passwords saved through the real `ProfileStore` (an in-memory keyring, a
//! keyring that refuses, no keyring with and without the obfuscated fallback) never reach a file
//! of the profile folder in plain text; `secrets.json` and its backups stay private; TLS
//! verification is on unless asked off.
//!
//! The MQTT password is the only secret the workbench keeps: a client key is a PEM path (no
//! passphrase is supported), and the store has no data folder besides its config folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use cems_workbench::config::link_args::LinkArgs;
use cems_workbench::config::profiles::{
    MemoryKeyring, MqttProfile, NoKeyring, PROFILES_FILE, PasswordLookup, PasswordPlace, Profile, ProfileLink, ProfileStore, SECRETS_FILE, SavedPassword,
    Secret, SecretBackend, StoreProblem,
};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;

/// Distinctive enough that finding it anywhere can only mean a leak.
const PASSWORD: &str = "Plain-Pa55word-9f3a-cems";
const NEW_PASSWORD: &str = "Second-Pa55word-41c7-cems";

fn mqtt_profile(name: &str) -> Profile {
    Profile {
        name: name.into(),
        link: ProfileLink::Mqtt(MqttProfile {
            url: "mqtts://broker.example:8883".into(),
            client_id: "cems-wb-secrets".into(),
            username: Some("engineer".into()),
            password: PasswordPlace::None,
            ca_file: Some("/etc/cems/ca.pem".into()),
            client_cert: Some("/etc/cems/client.pem".into()),
            client_key: Some("/etc/cems/client.key".into()),
            insecure: false,
            keep_alive_secs: 30,
            subscriptions: Vec::new(),
        }),
        read_only: false,
    }
}

fn open(dir: &Path, keyring: Arc<dyn SecretBackend>) -> ProfileStore {
    let mut store = ProfileStore::open_with_keyring(dir, keyring);
    store.wait_idle(Duration::from_secs(5));
    store
}

/// Every file under `dir`, hidden ones (temporary files) and backups included.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { todo.push(path) } else { out.push(path) }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Fails naming the file when any file under `dir` holds one of the passwords in plain text.
fn assert_no_plain_password(dir: &Path, what: &str) -> usize {
    let files = files_under(dir);
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for secret in [PASSWORD, NEW_PASSWORD] {
            assert!(!contains(&bytes, secret.as_bytes()), "{what}: {} holds the password in plain text", path.display());
        }
    }
    files.len()
}

/// Saves, edits, adds and deletes profiles with passwords, reopens the folder and returns the
/// reopened store; every step's files are checked.
fn exercise(dir: &Path, keyring: Arc<dyn SecretBackend>, allow_obfuscated: bool, what: &str) -> (ProfileStore, SavedPassword) {
    let mut store = open(dir, keyring.clone());
    let saved = store.save(mqtt_profile("lab"), Some(PASSWORD), allow_obfuscated).unwrap();
    let events = store.wait_idle(Duration::from_secs(5));
    assert!(!format!("{events:?}").contains(PASSWORD), "{what}: an event shows the password: {events:?}");
    assert_no_plain_password(dir, what);
    // A second profile, then the first one edited with a new password, then one kept as it was.
    store.save(mqtt_profile("plant"), Some(PASSWORD), allow_obfuscated).unwrap();
    store.save(mqtt_profile("lab"), Some(NEW_PASSWORD), allow_obfuscated).unwrap();
    store.save(mqtt_profile("plant"), None, allow_obfuscated).unwrap();
    store.wait_idle(Duration::from_secs(5));
    assert_no_plain_password(dir, what);
    store.save(mqtt_profile("gone"), Some(PASSWORD), allow_obfuscated).unwrap();
    store.wait_idle(Duration::from_secs(5));
    store.delete("gone").unwrap();
    store.wait_idle(Duration::from_secs(5));
    assert!(!format!("{store:?}").contains(PASSWORD) && !format!("{store:?}").contains(NEW_PASSWORD), "{what}: the store's Debug shows a password");
    drop(store);
    let again = open(dir, keyring);
    assert!(again.problems().is_empty(), "{what}: {:?}", again.problems());
    let count = assert_no_plain_password(dir, what);
    assert!(count >= 1, "{what}: profiles.json was written");
    let profiles = std::fs::read(dir.join(PROFILES_FILE)).unwrap();
    // profiles.json holds neither the password nor its obfuscated form: only where it is.
    for secret in [PASSWORD, NEW_PASSWORD] {
        assert!(!contains(&profiles, base64::engine::general_purpose::STANDARD.encode(secret).as_bytes()), "{what}: profiles.json holds a password's base64");
    }
    (again, saved)
}

#[test]
fn with_a_keyring_passwords_stay_out_of_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let (mut store, saved) = exercise(dir.path(), keyring.clone(), false, "memory keyring");
    assert_eq!(saved, SavedPassword::ToKeyring);
    // Not vacuous: the passwords were saved, in the keyring.
    assert_eq!((keyring.peek("lab").as_deref(), keyring.peek("plant").as_deref(), keyring.peek("gone")), (Some(NEW_PASSWORD), Some(PASSWORD), None));
    assert_eq!(store.password("lab"), PasswordLookup::Pending);
    assert!(!dir.path().join(SECRETS_FILE).exists(), "no secrets.json with a working keyring");
}

#[test]
fn with_the_obfuscated_fallback_passwords_are_never_plain_and_the_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, saved) = exercise(dir.path(), Arc::new(NoKeyring), true, "obfuscated fallback");
    assert_eq!(saved, SavedPassword::Obfuscated);
    // Not vacuous: they were saved and come back.
    assert_eq!(store.password("lab"), PasswordLookup::Ready(Secret::new(NEW_PASSWORD)));
    assert_eq!(store.password("plant"), PasswordLookup::Ready(Secret::new(PASSWORD)));
    let secrets = std::fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
    assert!(secrets.contains("NOT encrypted"), "the file says what it is: {secrets}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(SECRETS_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secrets.json is private");
    }
}

#[test]
fn without_a_keyring_and_without_opting_in_no_password_is_written_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, saved) = exercise(dir.path(), Arc::new(NoKeyring), false, "no keyring");
    assert_eq!(saved, SavedPassword::WillAsk);
    assert_eq!(store.password("lab"), PasswordLookup::Ask);
    assert!(!dir.path().join(SECRETS_FILE).exists());
}

/// Answers the probe, refuses every write: the store falls back to asking.
struct Refusing;

impl SecretBackend for Refusing {
    fn probe(&self) -> Result<(), String> {
        Ok(())
    }
    fn set(&self, _: &str, _: &str) -> Result<(), String> {
        Err("the keyring is locked".into())
    }
    fn get(&self, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
    fn delete(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_keyring_that_refuses_does_not_push_the_password_into_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = exercise(dir.path(), Arc::new(Refusing), true, "refusing keyring");
    assert_eq!(store.get("lab").map(Profile::password_place), Some(PasswordPlace::Ask));
    assert!(!dir.path().join(SECRETS_FILE).exists());
}

#[cfg(unix)]
#[test]
fn a_corrupt_secrets_file_is_moved_aside_still_private() {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(dir.path().join(SECRETS_FILE)).unwrap();
    std::io::Write::write_all(&mut file, b"{\"version\": 1, \"secrets\": {\"lab\": \"UGxh").unwrap();
    drop(file);
    let store = open(dir.path(), Arc::new(NoKeyring));
    let [StoreProblem::Unreadable { backup: Some(backup), .. }] = store.problems() else { panic!("{:?}", store.problems()) };
    assert_eq!(std::fs::metadata(backup).unwrap().permissions().mode() & 0o777, 0o600, "the backup of secrets.json is as private as it was");
}

#[test]
fn tls_verification_is_on_by_default() {
    assert!(!MqttConfig::new("mqtts://broker.example:8883", "c").insecure, "MqttConfig::new verifies certificates");
    assert!(!LinkArgs::default().insecure, "LinkArgs::default verifies certificates");

    // As the command line parses it with no --insecure, and the link it builds.
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        link: LinkArgs,
    }
    let cli = <Cli as clap::Parser>::try_parse_from(["x", "--broker", "mqtts://broker.example:8883"]).unwrap();
    assert!(!cli.link.insecure);
    let LinkConfig::Mqtt(config) = cli.link.to_link_config("c").unwrap() else { panic!("an MQTT link") };
    assert!(!config.insecure, "--broker mqtts://… alone verifies certificates");
    let cli = <Cli as clap::Parser>::try_parse_from(["x", "--broker", "mqtts://broker.example:8883", "--insecure"]).unwrap();
    assert!(cli.link.insecure, "only --insecure turns it off");

    // A saved profile without the field, and the window's empty form.
    let profile: MqttProfile = serde_json::from_str(r#"{"url": "mqtts://broker.example:8883", "clientId": "c"}"#).unwrap();
    assert!(!profile.insecure, "a profile that does not say verifies certificates");
    let LinkConfig::Mqtt(config) = Profile { name: "p".into(), link: ProfileLink::Mqtt(profile), read_only: false }.to_link_config(None) else { panic!() };
    assert!(!config.insecure);
    assert!(!cems_workbench::ui::connections::form::MqttForm::default().insecure, "the connection form starts verifying certificates");
}
