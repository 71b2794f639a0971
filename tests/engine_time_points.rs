//! The device clock and monitoring points against the simulator, over the embedded broker: the
//! offset of a skewed gateway measured by the four-timestamp method, `time/set` bringing it back,
//! `time/sync` kept in the record, a point set read back, and the CLI's `time` line.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use cems_workbench::engine::clock;
use cems_workbench::engine::{EngineEvent, EngineHandle, GatewayKey, RequestSpec, SessionId};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkState};
use common::{engine, eventually, wait_for};
use serde_json::{Value, json};

const PK: &str = "PK-GW-01";
const SKEW_MS: i64 = 5_000;

struct Bench {
    engine: EngineHandle,
    session: SessionId,
    _sim: SimHandle,
    key: GatewayKey,
    _files: tempfile::TempDir,
}

async fn bench(url: &str, dev: &str, skew_ms: i64) -> Bench {
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url, format!("wb-{dev}"))), engine.default_session_options("test")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "engine up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(url, "ignored")), files.path().to_path_buf());
    config.report_period_ms = Some(200);
    config.clock_skew_ms = skew_ms;
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    let k = key.clone();
    eventually(Duration::from_secs(10), "gateway online with points", || {
        engine.state.gateways().get(&k).is_some_and(|r| r.online == Some(true) && r.point_count() > 5)
    })
    .await;
    Bench { engine, session, _sim: sim, key, _files: files }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skewed_gateway_offset_is_measured_and_set_brings_it_back() {
    let broker = common::broker().await;
    let b = bench(&format!("mqtt://{}", broker.local_addr()), "GW-SKEW", SKEW_MS).await;
    let m = clock::measure(&b.engine, b.session, &b.key, 5, Duration::from_secs(5)).await.unwrap();
    assert_eq!(m.samples.len(), 5);
    assert!((m.offset_ms - SKEW_MS as f64).abs() <= 200.0, "offset {} ms, expected {SKEW_MS} ± 200", m.offset_ms);
    assert!(m.round_trip_ms >= 0.0 && m.round_trip_ms < 1_000.0, "round trip {}", m.round_trip_ms);
    // The engine stamped t1 as the request left: it is after the form's placeholder of 0.
    let sent = b.engine.call(RequestSpec::new(b.session, PK, &b.key.dev, "time", "get", json!({"t1": 0}))).await.unwrap();
    let echoed = sent.result.unwrap().data["t1"].as_i64().unwrap();
    assert!(echoed > 1_600_000_000_000, "t1 {echoed} was not stamped at send");
    let rec = b.engine.state.gateways().get(&b.key).and_then(|g| g.clock).unwrap();
    assert!((rec.offset_ms - SKEW_MS as f64).abs() <= 200.0, "record offset {}", rec.offset_ms);

    let before = clock::set_to_our_time(&b.engine, b.session, &b.key, Duration::from_secs(5)).await.unwrap();
    assert!((before - cems_workbench::protocol::time::now_ms() - SKEW_MS).abs() <= 500, "before {before}");
    let after = clock::measure(&b.engine, b.session, &b.key, 3, Duration::from_secs(5)).await.unwrap();
    assert!(after.offset_ms.abs() <= 200.0, "offset after set {}", after.offset_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_time_sync_requests_are_kept_in_the_record() {
    let broker = common::broker().await;
    let b = bench(&format!("mqtt://{}", broker.local_addr()), "GW-SYNC", SKEW_MS).await;
    let k = b.key.clone();
    eventually(Duration::from_secs(10), "a time/sync in the record", || b.engine.state.gateways().get(&k).is_some_and(|g| !g.time_syncs.is_empty())).await;
    let entry = b.engine.state.gateways().get(&k).unwrap().time_syncs[0];
    // The gateway's t1 runs ahead of our receive time by its skew.
    assert!((entry.t1 - entry.received_ms - SKEW_MS).abs() <= 500, "{entry:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn point_set_is_read_back_equal_to_the_target() {
    let broker = common::broker().await;
    let b = bench(&format!("mqtt://{}", broker.local_addr()), "GW-SET", 0).await;
    let set = b.engine.call(RequestSpec::new(b.session, PK, &b.key.dev, "point", "set", json!({"sub": "pcs-1", "pid": "Pset", "value": 42.5}))).await.unwrap();
    let reply = set.result.unwrap();
    assert_eq!(reply.code, 0, "{:?}", reply.msg);
    let got = b.engine.call(RequestSpec::new(b.session, PK, &b.key.dev, "point", "get", json!({"sub": "pcs-1", "pids": ["Pset"]}))).await.unwrap();
    let data = got.result.unwrap().data;
    let point = data["points"].as_array().unwrap().iter().find(|p| p["pid"] == "Pset").cloned().unwrap_or(Value::Null);
    assert_eq!(point["v"].as_f64(), Some(42.5), "{data}");
    // The record holds the read-back value too (a reply lands where a report would).
    let k = b.key.clone();
    eventually(Duration::from_secs(5), "Pset 42.5 in the record", || {
        let g = b.engine.state.gateways();
        g.get(&k).and_then(|r| r.subs.get("pcs-1")?.points.get("Pset")?.latest.clone()).is_some_and(|s| s.v.as_f64() == Some(42.5))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_time_prints_the_median_line() {
    let broker = common::broker().await;
    let url = format!("mqtt://{}", broker.local_addr());
    let _b = bench(&url, "GW-CLIT", -3_000).await;
    let bin = env!("CARGO_BIN_EXE_cems-workbench");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin).args(["time", "PK-GW-01/GW-CLIT", "--samples", "3", "--broker", &url, "--timeout", "5"]).stderr(Stdio::piped()).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(line["samples"], 3);
    assert!(line["roundTripMs"].is_number(), "{line}");
    assert!((line["offsetMs"].as_f64().unwrap() + 3_000.0).abs() <= 200.0, "{line}");
    let obj = line.as_object().unwrap();
    assert_eq!(obj.len(), 3, "{line}");
    // Usage errors exit 2.
    let bad = Command::new(bin).args(["time", "PK-GW-01/GW-CLIT", "--samples", "0"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_points_prints_names_units_labels_and_quality_then_watches_reports() {
    let broker = common::broker().await;
    let url = format!("mqtt://{}", broker.local_addr());
    let _b = bench(&url, "GW-CLIP", 0).await;
    let bin = env!("CARGO_BIN_EXE_cems-workbench");
    let u = url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin).args(["points", "PK-GW-01/GW-CLIP", "--sub", "pcs-1", "--broker", &u, "--timeout", "5"]).stderr(Stdio::piped()).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_str(stdout.trim()).unwrap();
    let points = line["points"].as_array().unwrap();
    assert!(points.iter().all(|p| p["sub"] == "pcs-1"), "{line}");
    let run = points.iter().find(|p| p["pid"] == "runState").expect("runState");
    assert_eq!(run["name"], "Run state");
    assert!(run["label"].is_string(), "{run}");
    assert_eq!(run["quality"], "good");
    let p = points.iter().find(|p| p["pid"] == "P").expect("P");
    assert_eq!(p["unit"], "kW");

    // --watch: a line per report after the read (the reader stops after three lines).
    let out = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut child = Command::new(bin).args(["points", "PK-GW-01/GW-CLIP", "--watch", "--broker", &url, "--timeout", "5"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let lines: Vec<String> = std::io::BufReader::new(child.stdout.take().unwrap()).lines().take(3).map(Result::unwrap).collect();
        child.kill().unwrap();
        child.wait().unwrap();
        lines
    })
    .await
    .unwrap();
    let report: Value = serde_json::from_str(&out[2]).unwrap();
    assert!(report["receivedMs"].is_number(), "{report}");
    assert!(report["points"].as_array().is_some_and(|p| !p.is_empty()), "{report}");
    // An unusable target is a usage error.
    let bad = Command::new(bin).args(["points", "nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
