//! The point history fed by the engine (what the window does at start): a live gateway's point
//! samples and its alarm with our acknowledgement land in the SQLite file, readable while the
//! writer runs; a replay's samples go in at their recorded times, once however often it plays.

mod common;

use std::time::Duration;

use cems_workbench::engine::history::{HistoryDb, HistoryOptions, HistoryWriter};
use cems_workbench::engine::series::SeriesKey;
use cems_workbench::engine::{EngineCommand, GatewayKey};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::replay::{ReplayConfig, ReplaySpeed};
use common::{engine, engine_ready, eventually};

const PK: &str = "PK-GW-01";
const DEV: &str = "GW-HIST";

fn raise_over_voltage(sim: &SimHandle) {
    let forced = sim.with_state(|s| {
        let now = s.now_ms();
        let dev = s.devices.iter_mut().find(|d| d.sub == "meter-1")?;
        let ua = dev.points.iter_mut().find(|p| p.pid == "Ua")?;
        Some(ua.force_excursion(true, now, 60_000))
    });
    assert_eq!(forced, Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_samples_alarms_and_replays_are_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("history.db");
    let broker = common::broker().await;
    let (engine, _events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-hist")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let db = HistoryDb::open(&db_path, HistoryOptions::default()).unwrap();
    engine.send(EngineCommand::AttachHistory(Box::new(HistoryWriter::spawn(db).unwrap()))).unwrap();
    eventually(Duration::from_secs(5), "the history attached", || engine.state.history().is_some()).await;

    let mut config = SimConfig::new(ModelSet::builtin(), PK, DEV, LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), dir.path().join("files"));
    config.report_period_ms = Some(200);
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: DEV.into() };
    eventually(Duration::from_secs(20), "the gateway online", || engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true))).await;
    raise_over_voltage(&sim);
    eventually(Duration::from_secs(20), "alarm and samples written", || {
        engine.state.history().is_some_and(|(_, s)| s.alarms_written > 0 && s.samples_written > 20)
    })
    .await;

    // A reader sees them while the engine's writer runs.
    let reader = HistoryDb::open_read_only(&db_path).unwrap();
    let ua = SeriesKey::point(PK, DEV, "meter-1", "Ua");
    let rows = reader.range(&ua, 0, i64::MAX).unwrap();
    assert!(!rows.is_empty(), "Ua samples stored");
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "ordered by the sample's time, once each");
    eventually(Duration::from_secs(10), "the alarm's acknowledgement stored", || {
        reader.alarms(0, i64::MAX).unwrap().iter().any(|a| a.dev == DEV && a.code == "overVoltage" && a.acked_ms.is_some())
    })
    .await;
    sim.stop().await;
    engine.disconnect(session).unwrap();

    // A replay of a recording of another gateway, played twice: kept once.
    let recording = dir.path().join("other.mcap");
    let mut recorder = cems_workbench::engine::recording::Recorder::create(&recording, Default::default()).unwrap();
    let status = r#"{"id":"st","ts":1699999999000,"ver":"1.0","data":{"online":true}}"#;
    recorder.write(&cems_workbench::transport::Message::new("cems/v1/PK-GW-01/GW-OTHER/up/status", status, 1, true), 1_699_999_999_000).unwrap();
    for i in 0..50i64 {
        let ts = 1_700_000_000_000 + i * 1000;
        let payload = format!(r#"{{"id":"r{i}","ts":{ts},"ver":"1.0","data":{{"points":[{{"sub":"meter-1","pid":"Ua","v":230.{i},"ts":{ts},"q":0}}]}}}}"#);
        recorder.write(&cems_workbench::transport::Message::new("cems/v1/PK-GW-01/GW-OTHER/up/point/report", payload, 1, false), ts).unwrap();
    }
    recorder.finish().unwrap();
    let other = SeriesKey::point(PK, "GW-OTHER", "meter-1", "Ua");
    for round in 0..2 {
        let replay = ReplayConfig::new(&recording).with_speed(ReplaySpeed::Max);
        let progress = replay.progress.clone();
        let mut options = engine.default_session_options("replay");
        options.read_only = true;
        engine.connect(LinkConfig::Replay(replay), options).unwrap();
        eventually(Duration::from_secs(10), "the replay played", || progress.snapshot().finished).await;
        eventually(Duration::from_secs(5), "the replay's samples in the plots' store", || engine.state.series().get(&other).is_some_and(|s| s.len() == 50)).await;
        if round == 0 {
            eventually(Duration::from_secs(10), "the replay's samples stored", || reader.range(&other, 0, i64::MAX).unwrap().len() == 50).await;
        } else {
            eventually(Duration::from_secs(10), "the second replay's samples seen as stored", || engine.state.history().is_some_and(|(_, s)| s.samples_duplicate >= 50)).await;
        }
        let stored = reader.range(&other, 0, i64::MAX).unwrap();
        assert_eq!(stored.len(), 50, "round {round}: each recorded sample once, at its recorded time");
        assert_eq!(stored[0].0, 1_700_000_000_000);
    }
}
