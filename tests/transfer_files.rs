//! File transfers end to end, engine and simulator: a file pushed to the gateway
//! (`file/download`), fetched back (`file/upload` + `file/read`, digest checked, written
//! atomically) and listed, over the embedded broker and over a serial pty pair; hostile names
//! refused before anything is sent.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cems_workbench::engine::{
    EngineEvent, EngineEvents, EngineHandle, FileDownloadSpec, FileUploadSpec, GatewayKey, RequestSpec, SessionId, TransferPhase, TransferStatus,
};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::LinkConfig;
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use common::{engine, engine_ready, eventually, wait_for};
use serde_json::json;

const PK: &str = "PK-GW-01";

fn content(len: usize, seed: u8) -> Bytes {
    Bytes::from((0..len).map(|i| ((i * 31 + usize::from(seed)) % 253) as u8).collect::<Vec<_>>())
}

fn sim_config(link: LinkConfig, dev: &str, files: &Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, link, files.to_path_buf());
    config.report_period_ms = Some(5_000);
    config
}

async fn final_status(events: &mut EngineEvents, id: &str, timeout: Duration) -> TransferStatus {
    wait_for(events, timeout, "the transfer to end", |e| match e {
        EngineEvent::Transfer(s) if s.id == id && s.phase.is_final() => Some(s.clone()),
        _ => None,
    })
    .await
}

async fn gateway_online(engine: &EngineHandle, dev: &str) {
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    eventually(Duration::from_secs(20), "gateway online", || engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true))).await;
}

/// Put, list, get back: the same bytes on both sides, no temporary file left anywhere.
async fn round_trip(engine: &EngineHandle, events: &mut EngineEvents, session: SessionId, dev: &str, gateway_dir: &Path, size: usize, chunk_size: u32) {
    let data = content(size, 3);
    let mut spec = FileDownloadSpec::new(session, PK, dev, "meters.csv", data.clone());
    spec.chunk_size = chunk_size;
    let id = engine.start_file_download(spec).unwrap();
    let status = final_status(events, &id, Duration::from_secs(60)).await;
    assert_eq!(status.phase, TransferPhase::Done, "{status:?}");
    assert!(status.progress.bytes_moved >= size as u64 && status.progress.bytes_moved as f64 <= 1.1 * size as f64);
    assert_eq!(std::fs::read(gateway_dir.join("meters.csv")).unwrap(), data);

    let listing = engine.call(RequestSpec::new(session, PK, dev, "file", "list", json!({}))).await.unwrap();
    let files = listing.result.unwrap().data["files"].clone();
    assert!(files.as_array().unwrap().iter().any(|f| f["name"] == "meters.csv" && f["size"] == size), "{files}");

    let local = tempfile::tempdir().unwrap();
    let dest = local.path().join("copy.csv");
    std::fs::write(&dest, b"an older copy").unwrap();
    let id = engine.start_file_upload(FileUploadSpec::new(session, PK, dev, "meters.csv", dest.clone())).unwrap();
    let status = final_status(events, &id, Duration::from_secs(60)).await;
    assert_eq!(status.phase, TransferPhase::Done, "{status:?}");
    assert_eq!(status.sha256, cems_workbench::protocol::digest::sha256_hex(&data));
    assert_eq!(std::fs::read(&dest).unwrap(), data, "written and replaced");
    let left: Vec<_> = std::fs::read_dir(local.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("copy.csv")], "no temporary file left");

    // A file the gateway does not have: refused with code 7, nothing written.
    let missing = local.path().join("missing.bin");
    let id = engine.start_file_upload(FileUploadSpec::new(session, PK, dev, "missing.bin", missing.clone())).unwrap();
    let status = final_status(events, &id, Duration::from_secs(20)).await;
    assert!(matches!(status.phase, TransferPhase::Refused { code: 7, .. }), "{status:?}");
    assert!(!missing.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn put_list_get_over_the_broker() {
    let started = Instant::now();
    let broker = common::broker().await;
    let gateway_dir = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-files")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-F-M", gateway_dir.path())).unwrap();
    gateway_online(&engine, "GW-F-M").await;
    round_trip(&engine, &mut events, session, "GW-F-M", gateway_dir.path(), 1024 * 1024 + 17, 65_536).await;
    eprintln!("broker round trip took {:.1} s", started.elapsed().as_secs_f64());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn put_list_get_over_serial() {
    let started = Instant::now();
    let gateway_dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = tokio_serial::SerialStream::pair().expect("pty pair");
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Serial(SerialConfig::stream(ours)), engine.default_session_options("serial")).unwrap();
    let sim = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(theirs)), "GW-F-S", gateway_dir.path())).unwrap();
    gateway_online(&engine, "GW-F-S").await;
    round_trip(&engine, &mut events, session, "GW-F-S", gateway_dir.path(), 2 * 1024 * 1024 + 5, 32_768).await;
    eprintln!("serial round trip took {:.1} s", started.elapsed().as_secs_f64());
    sim.stop().await;
}

fn sim_answered(sim: &SimHandle) -> u64 {
    sim.snapshot().counters.requests_answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_names_are_refused_before_anything_is_sent() {
    let broker = common::broker().await;
    let gateway_dir = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-hostile")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-F-H", gateway_dir.path())).unwrap();
    gateway_online(&engine, "GW-F-H").await;
    // Let discovery requests settle so the count below only moves if we send something.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered = sim_answered(&sim);
    let local = tempfile::tempdir().unwrap();
    for name in ["../x", "/etc/passwd", "a/b", ""] {
        let id = engine.start_file_download(FileDownloadSpec::new(session, PK, "GW-F-H", name, Bytes::from_static(b"evil"))).unwrap();
        let status = final_status(&mut events, &id, Duration::from_secs(5)).await;
        assert!(matches!(&status.phase, TransferPhase::Invalid { msg } if msg.contains("plain file name")), "{name:?}: {status:?}");
        let id = engine.start_file_upload(FileUploadSpec::new(session, PK, "GW-F-H", name, local.path().join("out"))).unwrap();
        let status = final_status(&mut events, &id, Duration::from_secs(5)).await;
        assert!(matches!(&status.phase, TransferPhase::Invalid { .. }), "{name:?}: {status:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim_answered(&sim), answered, "nothing reached the gateway");
    assert_eq!(std::fs::read_dir(local.path()).unwrap().count(), 0);

    // Sent anyway, by hand: the gateway refuses them too (code 4) and writes nothing outside.
    for name in ["../x", "/etc/passwd", "a/b", ""] {
        let data = json!({"fileId": "h1", "name": name, "size": 4, "sha256": "0".repeat(64), "chunkSize": 256});
        let out = engine.call(RequestSpec::new(session, PK, "GW-F-H", "file", "download", data)).await.unwrap();
        assert_eq!(out.code(), Some(4), "{name:?}");
        let out = engine.call(RequestSpec::new(session, PK, "GW-F-H", "file", "upload", json!({"fileId": "h2", "name": name}))).await.unwrap();
        assert_eq!(out.code(), Some(4), "{name:?}");
    }
    assert!(!gateway_dir.path().parent().unwrap().join("x").exists());
    sim.stop().await;
}
