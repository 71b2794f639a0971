//! Recording from the engine (what the window's record button does): every message of a live
//! session goes to the MCAP file through the recording thread, its counts are shared while it
//! runs, its end is a notice, and a file that cannot be written stops it with a message.

mod common;

use std::time::Duration;

use cems_workbench::engine::recording::{RecordOptions, RecordingMeta, recover_unfinished};
use cems_workbench::engine::{EngineCommand, EngineEvent};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use common::{engine, engine_ready, eventually, wait_for};

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-REC";

fn meta() -> RecordingMeta {
    RecordingMeta { link: "mqtt://127.0.0.1".into(), workbench_version: "test".into(), models: Vec::new() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_engine_records_a_live_gateway_until_told_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.mcap");
    let broker = common::broker().await;
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-rec")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    engine.send(EngineCommand::StartRecording { path: path.clone(), meta: meta(), options: RecordOptions::default() }).unwrap();
    eventually(Duration::from_secs(5), "the recording to start", || engine.state.recording().active).await;

    let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), dir.path().to_path_buf());
    config.report_period_ms = Some(200);
    let sim = sim::spawn(config).unwrap();
    let topic_prefix = format!("cems/v1/{PK}/{DEV}/up/");
    // Counts come while it runs (the status bar reads them).
    eventually(Duration::from_secs(20), "recorded messages counted", || engine.state.recording().stats.messages >= 10).await;
    engine.send(EngineCommand::StopRecording).unwrap();
    let text = wait_for(&mut events, Duration::from_secs(10), "the recording's end", |e| match e {
        EngineEvent::Notice { session: None, text } if text.starts_with("recording saved") => Some(text.to_string()),
        _ => None,
    })
    .await;
    sim.stop().await;
    let status = engine.state.recording();
    assert!(!status.active && status.error.is_none(), "{status:?}");
    assert!(text.contains("live.mcap"), "{text}");

    let bytes = std::fs::read(&path).unwrap();
    assert!(mcap::Summary::read(&bytes).unwrap().is_some(), "a finished file has its summary");
    let messages: Vec<_> = mcap::MessageStream::new(&bytes).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(messages.len() as u64, status.stats.messages);
    assert!(messages.iter().any(|m| m.channel.topic.starts_with(&topic_prefix)), "the gateway's uplinks are in the file");
    // Receive times never run back within the file.
    assert!(messages.windows(2).all(|w| w[0].log_time <= w[1].log_time));
    // A finished recording is not touched by the next start's recovery.
    assert!(recover_unfinished(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_that_cannot_be_written_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder should be: nothing can be created under it, as root too.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let (engine, mut events) = engine();
    let path = blocker.join("x.mcap");
    engine.send(EngineCommand::StartRecording { path, meta: meta(), options: RecordOptions::default() }).unwrap();
    let text = wait_for(&mut events, Duration::from_secs(10), "the failed recording's notice", |e| match e {
        EngineEvent::Notice { session: None, text } if text.starts_with("recording to") => Some(text.to_string()),
        _ => None,
    })
    .await;
    assert!(text.contains("not-a-folder") && text.contains("stopped"), "{text}");
    let status = engine.state.recording();
    assert!(!status.active);
    assert!(status.error.as_deref().is_some_and(|e| e.contains("x.mcap")), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_started_after_the_gateway_announced_itself_replays_its_gateway() {
    use cems_workbench::engine::recording::Recorder;
    use cems_workbench::transport::Message;
    use cems_workbench::transport::replay::{ReplayConfig, ReplaySpeed};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mid-session.mcap");
    // No status, no info: only what the gateway sent after the recording began.
    let mut recorder = Recorder::create(&path, meta()).unwrap();
    for i in 0..5i64 {
        let ts = 1_700_000_000_000 + i * 1000;
        let payload = format!(r#"{{"id":"p{i}","ts":{ts},"ver":"1.0","data":{{"points":[{{"sub":"meter-1","pid":"Ua","v":230.{i},"ts":{ts},"q":0}}]}}}}"#);
        recorder.write(&Message::new("cems/v1/PK-GW-01/GW-MID/up/point/report", payload, 1, false), ts).unwrap();
    }
    recorder.finish().unwrap();
    let (engine, _events) = engine();
    let config = ReplayConfig::new(&path).with_speed(ReplaySpeed::Max);
    let progress = config.progress.clone();
    let mut options = engine.default_session_options("replay");
    options.read_only = true;
    engine.connect(LinkConfig::Replay(config), options).unwrap();
    eventually(Duration::from_secs(10), "the replay played", || progress.snapshot().finished).await;
    let key = cems_workbench::engine::GatewayKey { pk: "PK-GW-01".into(), dev: "GW-MID".into() };
    eventually(Duration::from_secs(5), "the gateway and its points in the table", || {
        engine.state.gateways().get(&key).is_some_and(|g| g.point_count() == 1)
    })
    .await;
    assert_eq!(engine.state.gateways().refused().unannounced, 0);
}
