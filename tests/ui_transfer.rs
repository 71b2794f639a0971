//! The device page's Firmware and Files tabs under egui_kittest, fed by a real engine: the
//! embedded broker and the simulator serving the built-in energy gateway as GW-XFER. The
//! commands the tabs push are checked, then carried out through the engine, and the tabs follow
//! the tasks to their end.

use std::time::{Duration, Instant};

use cems_workbench::protocol::digest::sha256_hex;
use cems_workbench::engine::{Engine, EngineConfig, EngineHandle, GatewayKey};
use cems_workbench::protocol::model::{Lang, ModelSet};
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::topic::TopicProfile;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkKind, LinkState};
use cems_workbench::ui::device::DevicePage;
use cems_workbench::ui::{SessionView, Sessions, UiCommand, ViewContext};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-XFER";

struct State {
    page: DevicePage,
    commands: Vec<UiCommand>,
    sessions: Sessions,
    engine: EngineHandle,
    models: ModelSet,
    profile: TopicProfile,
}

/// Everything that must outlive the frames: the runtime last.
struct Bench {
    _sim: SimHandle,
    _broker: EmbeddedBroker,
    /// The simulated gateway's file folder.
    gateway_files: tempfile::TempDir,
    /// Local files the user picks.
    local: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

fn key() -> GatewayKey {
    GatewayKey { pk: PK.into(), dev: DEV.into() }
}

fn start() -> (Harness<'static, State>, Bench) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime");
    let broker = rt.block_on(EmbeddedBroker::start(BrokerConfig::ephemeral())).expect("embedded broker");
    let url = broker.url();
    let gateway_files = tempfile::tempdir().unwrap();
    std::fs::write(gateway_files.path().join("notes.txt"), b"hello from the gateway\n").unwrap();
    let local = tempfile::tempdir().unwrap();
    let (engine, sim) = {
        let _entered = rt.enter();
        let (engine, _events) = Engine::spawn_with(EngineConfig::default(), || {}).expect("engine");
        let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "wb-ui-xfer")), engine.default_session_options("lab")).expect("connect");
        assert_eq!(session, 1);
        let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), gateway_files.path().to_path_buf());
        config.report_period_ms = Some(200);
        (engine, sim::spawn(config).expect("simulator"))
    };
    let mut sessions = Sessions::new();
    sessions.insert(1, SessionView { id: 1, label: "lab".into(), target: url, kind: LinkKind::Mqtt, state: LinkState::Up, attempts: 1, frames_dropped: 0, profile: None, read_only: false, replay: None });
    let state = State {
        page: DevicePage::new(key()),
        commands: Vec::new(),
        sessions,
        engine,
        models: ModelSet::builtin(),
        profile: TopicProfile::builtin(),
    };
    let harness = Harness::builder()
        .with_size(egui::vec2(1000.0, 1600.0))
        .with_context_setup(cems_workbench::ui::fonts::install)
        .build_ui_state(
            |ui, s: &mut State| {
                let ctx = ViewContext {
                    lang: Lang::En,
                    state: &s.engine.state,
                    sessions: &s.sessions,
                    models: &s.models,
                    profile: &s.profile,
                    now_ms: now_ms(),
                };
                s.page.ui(ui, &ctx, &mut s.commands);
            },
            state,
        );
    (harness, Bench { _sim: sim, _broker: broker, gateway_files, local, rt })
}

/// Runs frames, letting the engine, the simulator and background reads work in between, until
/// `done` holds.
fn run_until(harness: &mut Harness<'static, State>, what: &str, done: impl Fn(&Harness<'static, State>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            harness.run_steps(2);
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn announced(h: &Harness<'static, State>) -> bool {
    h.state().engine.state.gateways().get(&key()).is_some_and(|g| g.online == Some(true) && !g.versions.is_empty())
}

#[test]
fn the_firmware_tab_shows_the_digest_starts_an_upgrade_and_follows_it_to_done() {
    let (mut harness, bench) = start();
    run_until(&mut harness, "GW-XFER online with its versions", announced);
    harness.get_by_role_and_label(Role::Button, "Firmware").click();
    harness.run_steps(2);
    assert_eq!(harness.state().page.active_tab_id(), "firmware");

    let image: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let digest = sha256_hex(&image);
    let path = bench.local.path().join("fw-2.1.0.bin");
    std::fs::write(&path, &image).unwrap();
    let field = harness.get_by_label("Firmware image path");
    field.focus();
    field.type_text(&path.display().to_string());
    run_until(&mut harness, "the image's sha256", |h| h.query_by_label(&digest).is_some());
    harness.get_by_label_contains("10000 bytes");
    // The version defaults to the module's current one, which the gateway would refuse.
    harness.get_by_label_contains("This is the version the module runs now");
    harness.get_by_label("New version").set_text_value_accesskit("2.1.0");
    harness.run_steps(2);
    harness.get_by_label("Now at 1.0.0");

    harness.get_by_role_and_label(Role::Button, "Start upgrade").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let spec = match commands.as_slice() {
        [UiCommand::StartOta(spec)] => spec.clone(),
        other => panic!("expected one StartOta, got {other:?}"),
    };
    assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str()), (1, PK, DEV));
    assert_eq!((spec.module.as_str(), spec.version.as_str(), spec.chunk_size), ("firmware", "2.1.0", 4096));
    assert_eq!(spec.sha256, digest);
    assert_eq!(spec.image.len(), image.len());

    // Carried out for real: the tab follows the task to the gateway's verdict.
    harness.state().engine.start_ota(spec).expect("engine");
    run_until(&mut harness, "a progress bar", |h| h.query_by_role(Role::ProgressIndicator).is_some());
    run_until(&mut harness, "the upgrade done", |h| h.query_by_label("The gateway installed firmware 2.1.0.").is_some());
    harness.get_by_label("Done");
    harness.get_by_role(Role::ProgressIndicator);
    assert!(harness.query_by_role_and_label(Role::Button, "Cancel").is_none());
    drop(harness);
    drop(bench.rt);
}

#[test]
fn the_files_tab_lists_refuses_hostile_names_and_sends_a_file() {
    let (mut harness, bench) = start();
    run_until(&mut harness, "GW-XFER online", announced);
    harness.get_by_role_and_label(Role::Button, "Files").click();
    harness.run_steps(2);
    harness.get_by_label("No file list yet: use Refresh list.");

    harness.get_by_role_and_label(Role::Button, "Refresh list").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let spec = match commands.as_slice() {
        [UiCommand::Request(spec)] => spec.clone(),
        other => panic!("expected one Request, got {other:?}"),
    };
    assert_eq!((spec.session, spec.pk.as_str(), spec.dev.as_str(), spec.class.as_str(), spec.action.as_str()), (1, PK, DEV, "file", "list"));
    // Through the engine, which keeps the reply in the gateway's record for the tab to read.
    let outcome = bench.rt.block_on(harness.state().engine.call(spec)).expect("engine");
    assert_eq!(outcome.code(), Some(0), "{outcome:?}");
    run_until(&mut harness, "the file list", |h| h.query_by_label("notes.txt").is_some());
    harness.get_by_role_and_label(Role::Button, "Fetch…");

    // A local file: its name is the default, a hostile one is refused.
    let path = bench.local.path().join("report.csv");
    std::fs::write(&path, b"a,b\n1,2\n").unwrap();
    let field = harness.get_by_label("Local file path");
    field.focus();
    field.type_text(&path.display().to_string());
    run_until(&mut harness, "the local file read", |h| h.query_by_label(&sha256_hex(b"a,b\n1,2\n")).is_some());
    assert_eq!(harness.state().page.active_tab_id(), "files");
    harness.get_by_label("Name on the gateway").set_text_value_accesskit("../etc/passwd");
    harness.run_steps(2);
    harness.get_by_label_contains("“../etc/passwd” is not a plain file name");
    harness.get_by_role_and_label(Role::Button, "Send file").click();
    harness.run_steps(2);
    assert!(harness.state().commands.is_empty(), "{:?}", harness.state().commands);

    harness.get_by_label("Name on the gateway").set_text_value_accesskit("report.csv");
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("is not a plain file name").is_none());
    harness.get_by_role_and_label(Role::Button, "Send file").click();
    harness.run_steps(2);
    let commands = std::mem::take(&mut harness.state_mut().commands);
    let spec = match commands.as_slice() {
        [UiCommand::StartFileDownload(spec)] => spec.clone(),
        other => panic!("expected one StartFileDownload, got {other:?}"),
    };
    assert_eq!((spec.name.as_str(), spec.data.as_ref()), ("report.csv", &b"a,b\n1,2\n"[..]));
    harness.state().engine.start_file_download(spec).expect("engine");
    run_until(&mut harness, "the file stored", |h| h.query_by_label("The gateway stored report.csv.").is_some());
    harness.get_by_role(Role::ProgressIndicator);
    assert_eq!(std::fs::read(bench.gateway_files.path().join("report.csv")).unwrap(), b"a,b\n1,2\n");
    drop(harness);
    drop(bench.rt);
}
