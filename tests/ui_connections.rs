//! The connections panel under egui_kittest, without a display: the MQTT form and its checks,
//! the TLS fields of `mqtts://`, the session list, and saved profiles in a temp folder.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cems_workbench::engine::{Engine, EngineConfig, EngineHandle};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::config::profiles::{MemoryKeyring, NoKeyring, PROFILES_FILE, SECRETS_FILE, SecretBackend};
use cems_workbench::ui::connections::{ConnectionsPanel, KeyringStatus, ProfileStore};
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

struct State {
    panel: ConnectionsPanel,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
    lang: Lang,
}

/// The engine only lends the panel its shared state; it needs a runtime to exist.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("test runtime")
}

fn harness(rt: &tokio::runtime::Runtime, store: ProfileStore) -> Harness<'static, State> {
    harness_sized(rt, store, 640.0)
}

fn harness_sized(rt: &tokio::runtime::Runtime, store: ProfileStore, width: f32) -> Harness<'static, State> {
    let _entered = rt.enter();
    let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
    let state = State {
        panel: ConnectionsPanel::with_profile_store(store),
        commands: Vec::new(),
        sessions: Sessions::new(),
        engine,
        models: ModelSet::builtin(),
        profile: TopicProfile::builtin(),
        lang: Lang::En,
    };
    Harness::builder()
        .with_size(egui::vec2(width, 1400.0))
        .with_context_setup(cems_workbench::ui::fonts::install)
        .build_ui_state(
            |ui, s: &mut State| {
                let ctx = ViewContext { lang: s.lang, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
                s.panel.ui(ui, &ctx, &mut s.commands);
            },
            state,
        )
}

fn store(dir: &Path, keyring: Arc<dyn SecretBackend>) -> ProfileStore {
    let mut store = ProfileStore::open_with_keyring(dir, keyring);
    store.wait_idle(Duration::from_secs(5));
    store
}

/// Replaces the text of the input named `label` by typing `text` into it.
fn type_into(harness: &mut Harness<'static, State>, label: &str, text: &str) {
    let field = || harness.query_by_role_and_label(Role::TextInput, label).unwrap_or_else(|| harness.get_by_role_and_label(Role::PasswordInput, label));
    field().set_text_value_accesskit("");
    harness.run();
    let field = || harness.query_by_role_and_label(Role::TextInput, label).unwrap_or_else(|| harness.get_by_role_and_label(Role::PasswordInput, label));
    let field = field();
    field.focus();
    field.type_text(text);
    harness.run();
}

/// Runs frames until the panel's background work (keyring calls) is done.
fn settle(harness: &mut Harness<'static, State>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while harness.state().panel.is_busy() {
        assert!(Instant::now() < deadline, "background work did not finish");
        std::thread::sleep(Duration::from_millis(10));
        harness.run_steps(1);
    }
    harness.run();
}

#[test]
fn the_mqtt_form_connects_with_what_was_typed() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    type_into(&mut harness, "Broker URL", "mqtt://10.1.2.3:1884");
    type_into(&mut harness, "Client id", "wb-field-7");
    type_into(&mut harness, "Username", "engineer");
    type_into(&mut harness, "Password", "s3cret");
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();

    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), label, profile, .. }] = commands.as_slice() else {
        panic!("expected one MQTT Connect, got {commands:?}");
    };
    assert_eq!(config.url, "mqtt://10.1.2.3:1884");
    assert_eq!(config.client_id, "wb-field-7");
    assert_eq!(config.username.as_deref(), Some("engineer"));
    assert_eq!(config.password.as_deref(), Some("s3cret"));
    assert_eq!(label, "mqtt://10.1.2.3:1884");
    assert_eq!(profile, &None);
}

#[test]
fn the_client_id_starts_random() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    let id = harness.get_by_role_and_label(Role::TextInput, "Client id").value().unwrap_or_default();
    assert!(id.starts_with("cems-wb-"), "{id}");
}

#[test]
fn a_bad_url_shows_its_problem_and_cannot_connect() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    type_into(&mut harness, "Broker URL", "mqtt://broker:99999");
    harness.get_by_label_contains("Invalid URL: bad port");
    let connect = harness.get_by_role_and_label(Role::Button, "Connect");
    assert!(connect.accesskit_node().is_disabled());
    connect.click();
    harness.run();
    assert!(harness.state().commands.is_empty(), "{:?}", harness.state().commands);

    // Fixing it enables the button again.
    type_into(&mut harness, "Broker URL", "mqtt://broker:1883");
    assert!(harness.query_by_label_contains("Invalid URL").is_none());
    assert!(!harness.get_by_role_and_label(Role::Button, "Connect").accesskit_node().is_disabled());
}

#[test]
fn mqtts_reveals_the_tls_fields_and_marks_insecure() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    assert!(harness.query_by_role_and_label(Role::TextInput, "CA certificate").is_none());
    assert!(harness.query_by_label_contains("Insecure").is_none());

    type_into(&mut harness, "Broker URL", "mqtts://broker.example");
    for field in ["CA certificate", "Client certificate", "Client key"] {
        harness.get_by_role_and_label(Role::TextInput, field);
    }
    // Each path has its "…" button for the file dialog (not clicked: no display here).
    for button in ["Choose the CA certificate", "Choose the client certificate", "Choose the client key"] {
        harness.get_by_role_and_label(Role::Button, button);
    }
    let insecure = harness.get_by_role_and_label(Role::CheckBox, "⚠ Insecure: accept any server certificate");
    insecure.click();
    type_into(&mut harness, "CA certificate", "/etc/cems/ca.pem");
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), .. }] = commands.as_slice() else { panic!("{commands:?}") };
    assert!(config.insecure);
    assert_eq!(config.ca_file.as_deref(), Some(Path::new("/etc/cems/ca.pem")));
}

fn session(id: u32, label: &str, kind: LinkKind, state: LinkState, attempts: u32, dropped: u64) -> SessionView {
    let target = if kind == LinkKind::Mqtt { "mqtt://10.0.0.1:1883" } else { "/dev/ttyUSB0" };
    SessionView { id, label: label.into(), target: target.into(), kind, state, attempts, frames_dropped: dropped, profile: None, read_only: false, replay: None }
}

#[test]
fn sessions_show_their_state_attempts_and_a_disconnect() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    {
        let sessions = &mut harness.state_mut().sessions;
        sessions.insert(1, session(1, "lab", LinkKind::Mqtt, LinkState::Connecting { attempt: 3 }, 3, 0));
        sessions.insert(2, session(2, "site", LinkKind::Mqtt, LinkState::Down { reason: "connection refused".into() }, 5, 0));
        sessions.insert(3, session(3, "bench", LinkKind::Serial, LinkState::Up, 1, 4));
        sessions.insert(4, session(4, "old", LinkKind::Mqtt, LinkState::Closed, 2, 0));
    }
    harness.run();
    harness.get_by_label("Connecting (attempt 3)");
    harness.get_by_label("Down: connection refused");
    harness.get_by_label("Up");
    harness.get_by_label("Closed");
    harness.get_by_label("Attempts: 5");
    harness.get_by_label("Dropped frames: 4");
    assert!(harness.get_by_role_and_label(Role::Button, "Disconnect old").accesskit_node().is_disabled());

    harness.get_by_role_and_label(Role::Button, "Disconnect site").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    assert!(matches!(commands.as_slice(), [UiCommand::Disconnect(2)]), "{commands:?}");
}

#[test]
fn a_saved_profile_keeps_no_password_in_its_file() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    harness.get_by_label_contains("No OS keyring");
    type_into(&mut harness, "Broker URL", "mqtt://broker.site:1883");
    type_into(&mut harness, "Username", "engineer");
    type_into(&mut harness, "Password", "pa55-w0rd");
    type_into(&mut harness, "Profile name", "site A");
    harness.get_by_role_and_label(Role::Button, "Save as profile").click();
    harness.run();
    settle(&mut harness);

    let text = std::fs::read_to_string(dir.path().join(PROFILES_FILE)).unwrap();
    assert!(text.contains("mqtt://broker.site:1883"), "{text}");
    assert!(text.contains("\"password\": \"ask\""), "{text}");
    assert!(!text.contains("pa55"), "the password leaked into {text}");
    assert!(!dir.path().join(SECRETS_FILE).exists());
    harness.get_by_label_contains("will be asked for when connecting");

    // Connecting the profile asks for the password, then connects with it.
    harness.get_by_role_and_label(Role::Button, "Connect site A").click();
    harness.run();
    type_into(&mut harness, "Password for profile site A", "pa55-w0rd");
    harness.get_by_role_and_label(Role::Button, "Connect with this password").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), label, profile, .. }] = commands.as_slice() else { panic!("{commands:?}") };
    assert_eq!((label.as_str(), profile.as_deref()), ("site A", Some("site A")));
    assert_eq!(config.password.as_deref(), Some("pa55-w0rd"));
}

#[test]
fn opting_in_stores_the_password_obfuscated_apart() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    type_into(&mut harness, "Username", "engineer");
    type_into(&mut harness, "Password", "pa55-w0rd");
    type_into(&mut harness, "Profile name", "lab");
    harness.get_by_role_and_label(Role::CheckBox, "Store the password in the profile file (obfuscated, NOT secure)").click();
    harness.run();
    harness.get_by_label_contains("only base64-obfuscated");
    harness.get_by_role_and_label(Role::Button, "Save as profile").click();
    harness.run();

    let profiles = std::fs::read_to_string(dir.path().join(PROFILES_FILE)).unwrap();
    let secrets = std::fs::read_to_string(dir.path().join(SECRETS_FILE)).unwrap();
    assert!(!profiles.contains("pa55") && !secrets.contains("pa55"));
    harness.get_by_label("password obfuscated (NOT secure)");

    harness.get_by_role_and_label(Role::Button, "Connect lab").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), .. }] = commands.as_slice() else { panic!("{commands:?}") };
    assert_eq!(config.password.as_deref(), Some("pa55-w0rd"));
}

#[test]
fn with_a_keyring_the_password_goes_there_and_comes_back() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let keyring = Arc::new(MemoryKeyring::default());
    let mut harness = harness(&rt, store(dir.path(), keyring.clone()));
    harness.run();
    assert_eq!(harness.state().panel.store().keyring_status(), &KeyringStatus::Available);
    harness.get_by_label("Passwords are kept in the OS keyring.");
    type_into(&mut harness, "Username", "engineer");
    type_into(&mut harness, "Password", "pa55-w0rd");
    type_into(&mut harness, "Profile name", "lab");
    harness.get_by_role_and_label(Role::Button, "Save as profile").click();
    harness.run();
    settle(&mut harness);
    assert_eq!(keyring.peek("lab").as_deref(), Some("pa55-w0rd"));
    let profiles = std::fs::read_to_string(dir.path().join(PROFILES_FILE)).unwrap();
    assert!(!profiles.contains("pa55") && profiles.contains("\"password\": \"keyring\""), "{profiles}");

    harness.get_by_role_and_label(Role::Button, "Connect lab").click();
    harness.run();
    settle(&mut harness);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), .. }] = commands.as_slice() else { panic!("{commands:?}") };
    assert_eq!(config.password.as_deref(), Some("pa55-w0rd"));

    // Edit, then delete (with its confirmation): the keyring entry goes too.
    harness.get_by_role_and_label(Role::Button, "Edit lab").click();
    harness.run();
    harness.get_by_label("Edit profile lab");
    harness.get_by_role_and_label(Role::Button, "Delete lab").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Really delete lab").click();
    harness.run();
    settle(&mut harness);
    assert_eq!(keyring.peek("lab"), None);
    harness.get_by_label("No saved profiles yet.");
}

#[test]
fn a_corrupt_profile_file_gives_a_message_not_a_panic() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(PROFILES_FILE), "{\"version\": 1, \"profiles\": [ {\"name\": ").unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    harness.get_by_label_contains("could not be read");
    harness.get_by_label_contains(".corrupt-");
    let backups = std::fs::read_dir(dir.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".corrupt-")).count();
    assert_eq!(backups, 1);
    harness.get_by_role_and_label(Role::Button, "Dismiss").click();
    harness.run();
    assert!(harness.query_by_label_contains("could not be read").is_none());
}

#[test]
fn the_serial_form_connects_a_typed_port() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.run();
    harness.get_by_role_and_label(Role::RadioButton, "Serial cable").click();
    harness.run();
    settle(&mut harness);
    harness.get_by_label("Baud rate");
    type_into(&mut harness, "Port path", "/dev/ttyUSB7");
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Serial(config), label, .. }] = commands.as_slice() else { panic!("{commands:?}") };
    assert_eq!((config.path.as_str(), config.settings.baud), ("/dev/ttyUSB7", 115_200));
    assert_eq!(label, "/dev/ttyUSB7");
}

#[test]
fn the_panel_reads_in_chinese() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(&rt, store(dir.path(), Arc::new(NoKeyring)));
    harness.state_mut().lang = Lang::Zh;
    harness.state_mut().sessions.insert(1, session(1, "lab", LinkKind::Mqtt, LinkState::Connecting { attempt: 2 }, 2, 0));
    harness.run();
    // Beside a session the form is collapsed: its header opens it.
    harness.get_by_label("新建连接").click();
    harness.run();
    harness.get_by_label("连接中（第 2 次尝试）");
    harness.get_by_role_and_label(Role::TextInput, "代理地址");
}

/// The app puts the panel in a left column from 220 points wide (300 by default).
#[test]
fn the_form_fits_a_narrow_column() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness_sized(&rt, store(dir.path(), Arc::new(NoKeyring)), 300.0);
    harness.state_mut().sessions.insert(1, session(1, "lab", LinkKind::Serial, LinkState::Down { reason: "no such device".into() }, 7, 2));
    harness.run();
    // Beside a session the form is collapsed: its header opens it.
    harness.get_by_label("New connection").click();
    harness.run();
    type_into(&mut harness, "Broker URL", "mqtts://broker.example.com:8883");
    for label in ["Broker URL", "Client id", "CA certificate", "Client key"] {
        let right = harness.get_by_role_and_label(Role::TextInput, label).rect().max.x;
        assert!(right <= 300.0, "{label} ends at {right}");
    }
    assert!(harness.get_by_role_and_label(Role::Button, "Connect").rect().max.x <= 300.0);
    assert!(harness.get_by_role_and_label(Role::Button, "Disconnect lab").rect().max.x <= 300.0);
}
