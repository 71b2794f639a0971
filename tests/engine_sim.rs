//! The engine and the gateway simulator, end to end: every `down` request of the contract and
//! every `up` report or request, over the embedded broker, over a serial pty pair, and against
//! Debian's mosquitto when it is installed.

mod common;

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use cems_workbench::engine::transfers::TransferKind;
use cems_workbench::engine::{EngineCommand, EngineEvent, EngineHandle, GatewayKey, RequestOutcome, RequestSpec, SessionId};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::time::now_ms;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use cems_workbench::transport::{LinkConfig, LinkState};
use common::{engine, eventually, wait_for};
use serde_json::{Value, json};
use sha2::Digest;

const PK: &str = "PK-GW-01";

struct Bench {
    engine: EngineHandle,
    session: SessionId,
    sim: SimHandle,
    dev: String,
    _files: tempfile::TempDir,
}

impl Bench {
    fn key(&self) -> GatewayKey {
        GatewayKey { pk: PK.into(), dev: self.dev.clone() }
    }

    async fn call(&self, class_action: &str, data: Value) -> RequestOutcome {
        let (class, action) = class_action.split_once('/').unwrap();
        let spec = RequestSpec::new(self.session, PK, &self.dev, class, action, data);
        self.engine.call(spec).await.unwrap()
    }

    /// Calls and checks the reply code; returns the reply data.
    async fn expect(&self, class_action: &str, data: Value, code: i64) -> Value {
        let out = self.call(class_action, data.clone()).await;
        let reply = out.result.unwrap_or_else(|e| panic!("{class_action} {data}: {e}"));
        assert_eq!(reply.code, code, "{class_action} {data}: {:?} {}", reply.msg, reply.data);
        reply.data
    }
}

fn sim_config(link: LinkConfig, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, link, files.to_path_buf());
    config.report_period_ms = Some(200);
    config.seed = 7;
    config
}

async fn mqtt_bench(url: &str, dev: &str) -> Bench {
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url, format!("wb-{dev}"))), engine.default_session_options("test")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "engine up", |e| {
        matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())
    })
    .await;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(url, "ignored")), dev, files.path())).unwrap();
    Bench { engine, session, sim, dev: dev.into(), _files: files }
}

async fn serial_bench(dev: &str) -> Bench {
    let files = tempfile::tempdir().unwrap();
    let (ours, theirs) = tokio_serial::SerialStream::pair().expect("pty pair");
    let (engine, _events) = engine();
    let session = engine.connect(LinkConfig::Serial(SerialConfig::stream(ours)), engine.default_session_options("serial")).unwrap();
    let sim = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(theirs)), dev, files.path())).unwrap();
    Bench { engine, session, sim, dev: dev.into(), _files: files }
}

/// The gateway announced itself (status, info, versions) and reports points.
async fn wait_online(b: &Bench) {
    let key = b.key();
    eventually(Duration::from_secs(10), "gateway online with info, versions and points", || {
        let g = b.engine.state.gateways();
        g.get(&key).is_some_and(|r| r.online == Some(true) && r.info.is_some() && !r.versions.is_empty() && r.point_count() > 10)
    })
    .await;
}

/// Every `down` request of the contract, with its expected codes, and the `up` traffic it causes.
async fn exercise_contract(b: &mut Bench) {
    wait_online(b).await;
    let key = b.key();
    let now = now_ms();

    // 6.1 command/request
    b.expect("command/request", json!({"cmd": "reread", "params": {"sub": "meter-1"}}), 0).await;
    b.expect("command/request", json!({"cmd": "selfDestruct", "params": {}}), 2).await;
    b.expect("command/request", json!({"cmd": "start", "sub": "nobody", "params": {}}), 7).await;
    b.expect("command/request", json!({"cmd": "reboot", "params": {"delay": 100000}}), 4).await;
    // 6.2 message/down is a report: no reply, the gateway logs it.
    b.engine
        .publish(b.session, cems_workbench::transport::Message::new(
            format!("cems/v1/{PK}/{}/down/message/down", b.dev),
            serde_json::to_vec(&json!({"id": "m-1", "ts": now, "ver": "1.0", "data": {"type": "note", "content": "hello"}})).unwrap(), 0, false))
        .unwrap();
    // 6.3 ports
    let ports = b.expect("port/get", json!({}), 0).await;
    let port_id = ports["ports"][0]["portId"].as_str().unwrap().to_owned();
    // One of two ports failed: the reply's code is that failure's (contract §3).
    let set = b.expect("port/set", json!({"ports": [{"portId": port_id, "params": {"baud": 19200}}, {"portId": "NOPE", "params": {}}]}), 7).await;
    assert_eq!((&set["failed"][0]["portId"], &set["failed"][0]["code"]), (&json!("NOPE"), &json!(7)), "{set}");
    assert_eq!(set["failed"].as_array().map(Vec::len), Some(1));
    // 6.4 points
    let pts = b.expect("point/get", json!({"sub": "meter-1", "pids": ["Ua"]}), 0).await;
    assert_eq!(pts["points"][0]["pid"], "Ua");
    b.expect("point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": 20}), 0).await;
    b.expect("point/set", json!({"sub": "meter-1", "pid": "Ua", "value": 230}), 8).await;
    b.expect("point/set", json!({"sub": "pcs-1", "pid": "Pset", "value": 5000}), 4).await;
    b.expect("point/set", json!({"sub": "pcs-1", "pid": "nothing", "value": 1}), 7).await;
    // 6.5 meters
    b.expect("meter/get", json!({"from": 0, "to": now_ms() + 60_000}), 0).await;
    // 6.6 properties
    let props = b.expect("property/get", json!({}), 0).await;
    assert!(props["props"].get("reportPeriod").is_some(), "{props}");
    let failed = b.expect("property/set", json!({"props": {"reportPeriod": 30, "nonsense": 1}}), 2).await;
    assert_eq!(failed["failed"][0]["key"], "nonsense");
    // 6.7 OTA: the engine serves the image, the gateway pulls, verifies and installs.
    let versions = b.expect("ota/version/get", json!({}), 0).await;
    let module = versions["modules"][0]["module"].as_str().unwrap().to_owned();
    let image: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = hex::encode(sha2::Sha256::digest(&image));
    b.engine
        .send(EngineCommand::OfferImage { kind: TransferKind::Ota, id: "task-1".into(), data: Bytes::from(image.clone()), chunk_size: 4096 })
        .unwrap();
    b.expect("ota/upgrade", json!({"taskId": "task-1", "module": module, "version": "9.9.9", "size": image.len(), "sha256": sha, "chunkSize": 4096}), 0).await;
    eventually(Duration::from_secs(15), "OTA done and the new version reported", || {
        b.engine.state.gateways().get(&key).is_some_and(|g| g.versions.iter().any(|m| m.module == module && m.version == "9.9.9"))
    })
    .await;
    b.expect("ota/upgrade", json!({"taskId": "task-2", "module": module, "version": "9.9.9", "size": 1, "sha256": sha, "chunkSize": 4096}), 11).await;
    b.expect("ota/upgrade", json!({"taskId": "task-3", "module": module, "version": "1.0.1", "size": 1, "sha256": sha, "chunkSize": 100}), 4).await;
    // 6.8 files: download to the gateway, list, upload back, read, hostile names.
    let file: Vec<u8> = b"site commissioning notes\n".repeat(300);
    let file_sha = hex::encode(sha2::Sha256::digest(&file));
    b.engine
        .send(EngineCommand::OfferImage { kind: TransferKind::File, id: "f-1".into(), data: Bytes::from(file.clone()), chunk_size: 1024 })
        .unwrap();
    b.expect("file/download", json!({"fileId": "f-1", "name": "notes.txt", "size": file.len(), "sha256": file_sha, "chunkSize": 1024}), 0).await;
    b.expect("file/download", json!({"fileId": "f-2", "name": "../x", "size": 1, "sha256": file_sha, "chunkSize": 1024}), 4).await;
    eventually(Duration::from_secs(10), "file written on the gateway", || b.sim.snapshot().files.iter().any(|f| f.name == "notes.txt")).await;
    let list = b.expect("file/list", json!({}), 0).await;
    assert!(list["files"].as_array().unwrap().iter().any(|f| f["name"] == "notes.txt" && f["size"] == file.len()));
    let up = b.expect("file/upload", json!({"fileId": "u-1", "name": "notes.txt"}), 0).await;
    assert_eq!(up["sha256"], file_sha.as_str());
    let chunk = b.expect("file/read", json!({"fileId": "u-1", "offset": 0, "length": 100}), 0).await;
    let bytes = base64::engine::general_purpose::STANDARD.decode(chunk["data"].as_str().unwrap()).unwrap();
    assert_eq!(&bytes[..], &file[..100]);
    b.expect("file/upload", json!({"fileId": "u-2", "name": "missing.bin"}), 7).await;
    // 6.9 time
    let t = b.expect("time/get", json!({"t1": now_ms()}), 0).await;
    assert!(t["t2"].is_i64() && t["t3"].is_i64());
    let before = b.expect("time/set", json!({"time": now_ms() + 5_000}), 0).await;
    assert!(before["before"].is_i64());
    // 6.10 info
    let info = b.expect("info/get", json!({}), 0).await;
    assert!(info["vendor"].is_string());
    // 6.11 log
    b.expect("log/config", json!({"level": "debug", "upload": true}), 0).await;
    let log = b.expect("log/get", json!({"from": 0, "to": now_ms() + 60_000}), 0).await;
    assert!(!log["entries"].as_array().unwrap().is_empty());
    // 6.12 alarms
    let alarms = b.expect("alarm/get", json!({}), 0).await;
    assert!(alarms["alarms"].is_array());
    // 6.13 history recall: batches follow and the engine acknowledges them.
    let acked_before = b.sim.snapshot().counters.history_batches_acked;
    let recall = b.expect("history/get", json!({"from": 0, "to": now_ms() + 60_000}), 0).await;
    let batches = recall["batches"].as_u64().unwrap();
    assert!(batches >= 1, "{recall}");
    eventually(Duration::from_secs(10), "recalled history batches acknowledged", || {
        b.sim.snapshot().counters.history_batches_acked >= acked_before + batches
    })
    .await;
    // Unknown class: unsupported.
    b.expect("teleport/now", json!({}), 2).await;

    // The `up` side: reports seen by the engine, and the sim's requests answered by it.
    let snap = b.sim.snapshot();
    assert!(snap.counters.reports_sent > 0 && snap.counters.meter_reports_sent > 0);
    assert!(snap.master_offset_ms.is_some(), "time/sync answered by the engine");
    let g = b.engine.state.gateways().get(&key).cloned().unwrap();
    assert!(!g.properties.is_empty(), "property/report seen");
    assert!(g.subs.contains_key("meter-1") && g.subs.contains_key("pcs-1"));
    assert!(g.subs["meter-1"].meters.len() >= 2, "meter/report seen");
    for topic in ["status", "info/report", "ota/version", "point/report", "meter/report", "property/report", "port/report", "ota/progress", "file/download/result", "time/sync", "ota/chunk/get", "file/chunk/get", "log/report"] {
        let full = format!("cems/v1/{PK}/{}/up/{topic}", b.dev);
        eventually(Duration::from_secs(5), &full, || {
            let store = b.engine.state.store();
            store.find(&full).is_some_and(|n| !store.history(n).is_empty())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_over_the_embedded_broker() {
    let broker = common::broker().await;
    let mut b = mqtt_bench(&broker.url(), "GW-MQTT").await;
    exercise_contract(&mut b).await;
    // Stopping the gateway publishes its retained status offline.
    let key = b.key();
    b.sim.stop().await;
    eventually(Duration::from_secs(5), "status offline after stop", || {
        b.engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(false) && g.status_reason.as_deref() == Some("stopped"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_over_a_serial_pty_pair() {
    let mut b = serial_bench("GW-SERIAL").await;
    exercise_contract(&mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_against_mosquitto() {
    let Some(mosquitto) = common::Mosquitto::start() else {
        common::skip_or_fail("mosquitto not found");
        return;
    };
    let mut b = mqtt_bench(&mosquitto.url(), "GW-MOSQ").await;
    exercise_contract(&mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_engine_many_sessions_broker_and_serial() {
    let broker = common::broker().await;
    let files_a = tempfile::tempdir().unwrap();
    let files_b = tempfile::tempdir().unwrap();
    let (engine, _events) = engine();
    let mqtt = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-multi")), engine.default_session_options("broker")).unwrap();
    let (ours, theirs) = tokio_serial::SerialStream::pair().unwrap();
    let serial = engine.connect(LinkConfig::Serial(SerialConfig::stream(ours)), engine.default_session_options("cable")).unwrap();
    assert_ne!(mqtt, serial);
    let sim_a = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-A", files_a.path())).unwrap();
    let sim_b = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(theirs)), "GW-B", files_b.path())).unwrap();
    let a = GatewayKey { pk: PK.into(), dev: "GW-A".into() };
    let b = GatewayKey { pk: PK.into(), dev: "GW-B".into() };
    eventually(Duration::from_secs(10), "both gateways online, each on its own session", || {
        let g = engine.state.gateways();
        g.get(&a).is_some_and(|r| r.online == Some(true) && r.session == mqtt) && g.get(&b).is_some_and(|r| r.online == Some(true) && r.session == serial)
    })
    .await;
    // Requests go out on the session given; the other gateway is not reachable there.
    let out = engine.call(RequestSpec::new(serial, PK, "GW-B", "info", "get", json!({}))).await.unwrap();
    assert_eq!(out.code(), Some(0));
    let mut spec = RequestSpec::new(mqtt, PK, "GW-B", "info", "get", json!({}));
    spec.timeout = Duration::from_millis(500);
    assert!(engine.call(spec).await.unwrap().result.is_err(), "GW-B is not on the broker");
    sim_a.stop().await;
    sim_b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_reuses_the_id_and_the_gateway_replays_its_reply() {
    let broker = common::broker().await;
    let b = mqtt_bench(&broker.url(), "GW-RETRY").await;
    wait_online(&b).await;
    let spec = RequestSpec::new(b.session, PK, &b.dev, "point", "set", json!({"sub": "pcs-1", "pid": "Pset", "value": 12}));
    let first = b.engine.call(spec).await.unwrap();
    assert_eq!(first.code(), Some(0));
    let replays = b.sim.snapshot().counters.duplicates_replayed;
    let again = b.engine.call(first.retry_spec(json!({"sub": "pcs-1", "pid": "Pset", "value": 12}), Duration::from_secs(5))).await.unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.result.as_ref().unwrap().data, first.result.as_ref().unwrap().data);
    assert_eq!(b.sim.snapshot().counters.duplicates_replayed, replays + 1, "treated as a duplicate, not done twice");
}
