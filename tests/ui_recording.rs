//! Recording and replay from the window, under egui_kittest: the top bar's Record button starts
//! and stops a recording into the settings' folder with its line in the status bar, and a
//! recording opened as a replay gets its bar (pause, seek) and a replay label, and fills the
//! gateway table without publishing.

use std::time::{Duration, Instant};

use cems_workbench::engine::recording::{Recorder, RecordingMeta};
use cems_workbench::engine::{Engine, EngineConfig, GatewayKey};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::transport::replay::{ReplayConfig, ReplaySpeed};
use cems_workbench::transport::{LinkConfig, LinkKind, Message};
use cems_workbench::ui::UiCommand;
use cems_workbench::ui::app::{Startup, WorkbenchApp};
use cems_workbench::ui::repaint::RepaintSignal;
use cems_workbench::ui::settings::Settings;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(2).build().expect("test runtime")
}

fn app(rt: &tokio::runtime::Runtime, settings: Settings) -> Harness<'static, WorkbenchApp> {
    let _entered = rt.enter();
    let repaint = RepaintSignal::default();
    let notify = repaint.clone();
    let (engine, events) = Engine::spawn_with(EngineConfig::default(), move || notify.request()).expect("engine");
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_eframe(move |cc| {
        repaint.set(&cc.egui_ctx);
        WorkbenchApp::new(&cc.egui_ctx, engine, events, ModelSet::builtin(), settings, Startup::default())
    })
}

fn run_until(harness: &mut Harness<'static, WorkbenchApp>, what: &str, done: impl Fn(&Harness<'static, WorkbenchApp>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        harness.run_steps(2);
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn english(dir: &std::path::Path) -> Settings {
    Settings { lang: cems_workbench::protocol::model::Lang::En, recordings_dir: dir.display().to_string(), ..Settings::default() }
}

#[test]
fn record_starts_and_stops_from_the_top_bar() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut harness = app(&rt, english(dir.path()));
    harness.run();
    harness.get_by_label("⏺ Record").click();
    run_until(&mut harness, "the recording to start", |h| h.state().engine().state.recording().active);
    harness.run();
    assert!(harness.query_by_label_contains("REC").is_some(), "the status bar shows the recording");
    harness.get_by_label("⏹ Stop recording").click();
    run_until(&mut harness, "the recording to end", |h| !h.state().engine().state.recording().active);
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("session-") && name.ends_with(".mcap"), "{name}");
    let bytes = std::fs::read(&files[0]).unwrap();
    assert!(mcap::Summary::read(&bytes).unwrap().is_some(), "a finished file");
    run_until(&mut harness, "the saved notice", |h| h.state().notices().any(|n| n.text.starts_with("recording saved")));
}

#[test]
fn a_replay_gets_its_bar_and_label_and_fills_the_gateways_without_publishing() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field.mcap");
    let mut recorder = Recorder::create(&path, RecordingMeta::default()).unwrap();
    let status = r#"{"id":"st","ts":1700000000000,"ver":"1.0","data":{"online":true}}"#;
    recorder.write(&Message::new("cems/v1/PK-GW-01/GW-FIELD/up/status", status, 1, true), 1_700_000_000_000).unwrap();
    for i in 0..20i64 {
        let ts = 1_700_000_000_000 + (i + 1) * 1000;
        let alarm = format!(r#"{{"id":"a{i}","ts":{ts},"ver":"1.0","data":{{"alarms":[]}}}}"#);
        recorder.write(&Message::new("cems/v1/PK-GW-01/GW-FIELD/up/alarm/report", alarm, 1, false), ts).unwrap();
    }
    recorder.finish().unwrap();

    let mut harness = app(&rt, english(dir.path()));
    harness.run();
    // Ten times the recorded pace: 20 s of recording play in about two.
    let config = ReplayConfig::new(&path).with_speed(ReplaySpeed::Factor(10.0));
    let progress = config.progress.clone();
    let label = cems_workbench::ui::replay::replay_label(&config);
    harness.state_mut().apply(vec![UiCommand::Connect { config: LinkConfig::Replay(config), label: label.clone(), profile: None, read_only: true }]);
    run_until(&mut harness, "the replay to open", |_| progress.snapshot().opened);
    harness.run();
    assert!(harness.query_by_label("REPLAY").is_some(), "the replay bar");
    assert!(harness.query_all_by_label(&label).count() >= 1, "the session is named a replay");
    harness.get_by_label("Pause").click();
    run_until(&mut harness, "the replay to pause", |_| progress.snapshot().paused);
    harness.run();
    harness.get_by_label("Resume").click();
    run_until(&mut harness, "the replay to end", |_| progress.snapshot().finished);
    let key = GatewayKey { pk: "PK-GW-01".into(), dev: "GW-FIELD".into() };
    run_until(&mut harness, "the replayed gateway in the table", |h| h.state().engine().state.gateways().get(&key).is_some());
    harness.run();
    assert!(harness.query_by_label("▶ replay").is_some(), "the gateway's row says it came from a replay");
    let session = harness.state().sessions().values().find(|s| s.kind == LinkKind::Replay).map(|s| s.id).unwrap();
    // Nothing was published: no acknowledgement of the twenty alarm reports left the replay.
    assert!(harness.state().engine().state.store().stats().received >= 21);
    assert!(
        !harness.state().notices().any(|n| n.session == Some(session) && n.text.starts_with("not sent")),
        "nothing was even tried"
    );
}
