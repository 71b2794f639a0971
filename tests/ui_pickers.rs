//! Every file picker has a typed path (issue 11): the firmware image, the file to send, where a
//! fetched file goes, and the TLS files. With no file dialog on the system (as under Xvfb), "…"
//! says so and hands the keyboard to the path field; the typed path then does the whole job.
//! Dialogs are turned off for the whole file: a test must never pop a real one.

mod device_bench;

use std::path::Path;
use std::sync::Arc;

use cems_workbench::config::profiles::{NoKeyring, ProfileStore};
use cems_workbench::protocol::digest::sha256_hex;
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::engine::{Engine, EngineConfig, EngineHandle};
use cems_workbench::transport::LinkConfig;
use cems_workbench::ui::connections::ConnectionsPanel;
use cems_workbench::ui::file_dialog::{Backend, backend, turn_dialogs_off};
use cems_workbench::ui::{Sessions, UiCommand, ViewContext};
use device_bench::{has_text, open_tab, replace_text, run_until, serve_until, start};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const NO_DIALOG: &str = "No file dialog can open here";

fn no_dialogs() {
    turn_dialogs_off(true);
    assert_eq!(backend(), Backend::None);
}

#[test]
fn the_firmware_image_is_typed_when_no_dialog_opens() {
    no_dialogs();
    let (mut harness, bench) = start("GW-PICK-FW", |_| {});
    let key = bench.key();
    open_tab(&mut harness, &key, "Firmware");
    run_until(&mut harness, "the module list", |h| h.query_by_label_contains("the version the module runs now").is_some());

    assert!(!has_text(&harness, NO_DIALOG));
    harness.get_by_role_and_label(Role::Button, "Choose a firmware image").click();
    harness.run_steps(3);
    harness.get_by_label_contains(NO_DIALOG);
    assert!(harness.get_by_label("Firmware image path").is_focused(), "the path field takes the keyboard");

    let image = b"firmware 9.9.9".to_vec();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fw-9.9.9.bin");
    std::fs::write(&path, &image).unwrap();
    harness.get_by_label("Firmware image path").type_text(&path.display().to_string());
    run_until(&mut harness, "the image read", |h| h.query_by_label(&sha256_hex(&image)).is_some());
    assert!(!has_text(&harness, NO_DIALOG), "the message goes once a path is typed");
    replace_text(&mut harness, "New version", "9.9.9");
    harness.get_by_role_and_label(Role::Button, "Start upgrade").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::StartOta(spec)] = commands.as_slice() else { panic!("expected one StartOta, got {commands:?}") };
    assert_eq!((spec.image.as_ref(), spec.version.as_str()), (&image[..], "9.9.9"));
}

#[test]
fn the_file_to_send_is_typed_when_no_dialog_opens() {
    no_dialogs();
    let (mut harness, bench) = start("GW-PICK-SEND", |_| {});
    let key = bench.key();
    open_tab(&mut harness, &key, "Files");
    harness.get_by_role_and_label(Role::Button, "Choose a file to send").click();
    harness.run_steps(3);
    harness.get_by_label_contains(NO_DIALOG);
    assert!(harness.get_by_label("Local file path").is_focused());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.cfg");
    std::fs::write(&path, b"rate=5\n").unwrap();
    harness.get_by_label("Local file path").type_text(&path.display().to_string());
    run_until(&mut harness, "the file read", |h| h.query_by_label(&sha256_hex(b"rate=5\n")).is_some());
    harness.get_by_role_and_label(Role::Button, "Send file").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::StartFileDownload(spec)] = commands.as_slice() else { panic!("expected one StartFileDownload, got {commands:?}") };
    assert_eq!((spec.name.as_str(), spec.data.as_ref()), ("site.cfg", &b"rate=5\n"[..]));
}

#[test]
fn a_fetched_file_goes_to_a_typed_path_when_no_dialog_opens() {
    no_dialogs();
    let (mut harness, bench) = start("GW-PICK-FETCH", |_| {});
    std::fs::write(bench.files.path().join("notes.txt"), b"hello from the gateway\n").unwrap();
    let key = bench.key();
    open_tab(&mut harness, &key, "Files");
    harness.get_by_role_and_label(Role::Button, "Refresh list").click();
    serve_until(&mut harness, &bench, "the file list", |h| h.query_by_label("notes.txt").is_some());

    // Fetch… opens the form with a proposed path, the field ready for typing.
    harness.get_by_role_and_label(Role::Button, "Fetch…").click();
    harness.run_steps(3);
    let proposed = harness.get_by_label("Save the fetched file as").value().unwrap_or_default();
    assert!(proposed.ends_with("notes.txt"), "{proposed}");
    assert!(harness.get_by_label("Save the fetched file as").is_focused());
    assert!(harness.state().commands.is_empty(), "nothing is fetched before the user says where");

    harness.get_by_role_and_label(Role::Button, "Choose where to save the file").click();
    harness.run_steps(3);
    harness.get_by_label_contains(NO_DIALOG);
    assert!(harness.get_by_label("Save the fetched file as").is_focused());

    // A folder that does not exist is refused before anything is asked of the gateway.
    let local = tempfile::tempdir().unwrap();
    let missing = local.path().join("no-such-folder").join("notes.txt");
    replace_text(&mut harness, "Save the fetched file as", &missing.display().to_string());
    harness.get_by_label_contains("does not exist");
    harness.get_by_role_and_label(Role::Button, "Fetch").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty(), "{:?}", harness.state().commands);

    // A folder: the file keeps its name inside it.
    replace_text(&mut harness, "Save the fetched file as", &local.path().display().to_string());
    assert!(!has_text(&harness, "does not exist"));
    harness.get_by_role_and_label(Role::Button, "Fetch").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::StartFileUpload(spec)] = commands.as_slice() else { panic!("expected one StartFileUpload, got {commands:?}") };
    assert_eq!((spec.name.as_str(), spec.dest.as_path()), ("notes.txt", local.path().join("notes.txt").as_path()));
    assert!(harness.query_by_label("Save the fetched file as").is_none(), "the form closes once the fetch starts");
    harness.state().engine.start_file_upload(spec.clone()).expect("engine");
    run_until(&mut harness, "the file saved", |_| std::fs::read(local.path().join("notes.txt")).is_ok_and(|b| b == b"hello from the gateway\n"));

    // The next fetch proposes the folder the last one went to.
    harness.get_by_role_and_label(Role::Button, "Fetch…").click();
    harness.run_steps(2);
    let proposed = harness.get_by_label("Save the fetched file as").value().unwrap_or_default();
    assert_eq!(Path::new(&proposed), local.path().join("notes.txt"));
    harness.get_by_role_and_label(Role::Button, "Cancel").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Save the fetched file as").is_none());
}

struct Connections {
    panel: ConnectionsPanel,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

#[test]
fn the_tls_files_are_typed_paths() {
    no_dialogs();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("runtime");
    let dir = tempfile::tempdir().unwrap();
    let state = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let store = ProfileStore::open_with_keyring(dir.path(), Arc::new(NoKeyring));
        let panel = ConnectionsPanel::with_profile_store(store);
        Connections { panel, commands: Vec::new(), sessions: Sessions::new(), engine, models: ModelSet::builtin(), profile: TopicProfile::builtin() }
    };
    let mut harness = Harness::builder().with_size(egui::vec2(640.0, 1400.0)).with_context_setup(cems_workbench::ui::fonts::install).build_ui_state(
        |ui, s: &mut Connections| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.panel.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    harness.run();
    let mut type_into = |label: &str, text: &str| {
        let field = harness.get_by_role_and_label(Role::TextInput, label);
        field.set_text_value_accesskit("");
        harness.run();
        let field = harness.get_by_role_and_label(Role::TextInput, label);
        field.focus();
        field.type_text(text);
        harness.run();
    };
    type_into("Broker URL", "mqtts://broker.example:8883");
    type_into("CA certificate", "/etc/cems/ca.pem");
    type_into("Client certificate", "/etc/cems/wb.crt");
    type_into("Client key", "/etc/cems/wb.key");
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let [UiCommand::Connect { config: LinkConfig::Mqtt(config), .. }] = commands.as_slice() else { panic!("expected one MQTT Connect, got {commands:?}") };
    assert_eq!(config.ca_file.as_deref(), Some(Path::new("/etc/cems/ca.pem")));
    assert_eq!(config.client_cert.as_deref(), Some(Path::new("/etc/cems/wb.crt")));
    assert_eq!(config.client_key.as_deref(), Some(Path::new("/etc/cems/wb.key")));
    // "…" with no dialog on the system says so instead of staying silent.
    harness.get_by_role_and_label(Role::Button, "Choose the CA certificate").click();
    harness.run();
    assert!(harness.query_all_by_label_contains("No file dialog can open here").next().is_some(), "the user is told to type the path");
}
