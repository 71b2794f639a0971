//! Issue 10, read-only sessions under egui_kittest: the connection form's flag reaches
//! `UiCommand::Connect`, the session list marks such a session, and profiles keep the flag
//! (older profile files, without it, still load).

use std::time::Duration;

use cems_workbench::config::profiles::{NoKeyring, Profile};
use cems_workbench::engine::{Engine, EngineConfig, EngineHandle};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::transport::{LinkKind, LinkState};
use cems_workbench::ui::connections::{ConnectionsPanel, ProfileStore};
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

struct ConnState {
    panel: ConnectionsPanel,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

#[test]
fn the_connection_form_opens_a_read_only_session_and_the_list_marks_it() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = {
        let _entered = rt.enter();
        Engine::spawn_with(EngineConfig::default(), || {}).unwrap().0
    };
    let mut store = ProfileStore::open_with_keyring(dir.path(), std::sync::Arc::new(NoKeyring));
    store.wait_idle(Duration::from_secs(5));
    let state = ConnState {
        panel: ConnectionsPanel::with_profile_store(store),
        commands: Vec::new(),
        sessions: Sessions::new(),
        engine,
        models: ModelSet::builtin(),
        profile: TopicProfile::builtin(),
    };
    let mut harness = Harness::builder().with_size(egui::vec2(640.0, 1400.0)).build_ui_state(
        |ui, s: &mut ConnState| {
            let ctx = ViewContext { lang: Lang::En, state: &s.engine.state, sessions: &s.sessions, models: &s.models, profile: &s.profile, now_ms: now_ms() };
            s.panel.ui(ui, &ctx, &mut s.commands);
        },
        state,
    );
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    assert!(matches!(commands.as_slice(), [UiCommand::Connect { read_only: false, .. }]), "not read-only unless asked: {commands:?}");
    assert!(harness.query_by_label("read-only").is_none());

    harness.get_by_label_contains("Read-only (a live site").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Connect").click();
    harness.run();
    let commands = std::mem::take(&mut harness.state_mut().commands);
    assert!(matches!(commands.as_slice(), [UiCommand::Connect { read_only: true, .. }]), "the checkbox reaches Connect: {commands:?}");

    let view = SessionView { id: 1, label: "site".into(), target: "mqtt://10.0.0.9:1883".into(), kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: true, replay: None };
    harness.state_mut().sessions.insert(1, view);
    harness.run();
    harness.get_by_label("read-only");
}

#[test]
fn profiles_keep_the_read_only_flag_and_old_files_load_without_it() {
    let old = r#"{"name": "lab", "kind": "serial", "path": "/dev/ttyUSB0", "baud": 9600, "dataBits": 8, "parity": "none", "stopBits": 1}"#;
    let profile: Profile = serde_json::from_str(old).unwrap();
    assert!(!profile.read_only);
    let written = serde_json::to_value(&profile).unwrap();
    assert!(written.get("read_only").is_none(), "{written}");
    let site = Profile { read_only: true, ..profile };
    let back: Profile = serde_json::from_str(&serde_json::to_string(&site).unwrap()).unwrap();
    assert!(back.read_only);
}
