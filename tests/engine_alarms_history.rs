//! Alarm acknowledgement state and history recalls, engine against the simulator over the
//! embedded broker: our acknowledgement seen back (`us`), another master's (`other`), that of
//! the `history/report` batch an alarm stored offline came in, and a
//! recall overlapping what is held counted as new vs duplicates and totalled (issue 10).

mod common;
#[path = "sim_support/mod.rs"]
mod sim_support;

use std::time::Duration;

use cems_workbench::engine::gateways::alarm_log::{AckState, AlarmRow, Recall};
use cems_workbench::engine::{EngineCommand, EngineEvent, EngineHandle, GatewayKey, RequestSpec, SessionId};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::time::now_ms;
use cems_workbench::protocol::envelope::Envelope;
use cems_workbench::sim::{self, Outage, SimConfig, SimHandle};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkState};
use common::{engine, eventually, wait_for};
use serde_json::json;

const PK: &str = "PK-GW-01";

fn sim_config(url: &str, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Mqtt(MqttConfig::new(url, "ignored")), files.to_path_buf());
    config.report_period_ms = Some(200);
    config.seed = 11;
    config
}

async fn connect(url: &str, name: &str) -> (EngineHandle, SessionId) {
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url, name)), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "engine up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    (engine, session)
}

/// Pushes the meter's `Ua` past its upper threshold: the simulator raises `overVoltage`.
fn raise_over_voltage(sim: &SimHandle) {
    let forced = sim.with_state(|s| {
        let now = s.now_ms();
        let dev = s.devices.iter_mut().find(|d| d.sub == "meter-1")?;
        let ua = dev.points.iter_mut().find(|p| p.pid == "Ua")?;
        Some(ua.force_excursion(true, now, 60_000))
    });
    assert_eq!(forced, Some(true), "the simulator's meter-1 has a Ua with a threshold");
}

async fn wait_online(engine: &EngineHandle, key: &GatewayKey) {
    eventually(Duration::from_secs(10), "gateway online", || engine.state.gateways().get(key).is_some_and(|g| g.online == Some(true) && g.point_count() > 5)).await;
}

fn reports_over_voltage(envelope: &Envelope) -> bool {
    let Envelope::Request(r) = envelope else { return false };
    r.data["alarms"].as_array().is_some_and(|alarms| alarms.iter().any(|a| a["type"] == "overVoltage"))
}

/// The latest overVoltage row: the one the test forced.
fn over_voltage(engine: &EngineHandle, key: &GatewayKey) -> Option<AlarmRow> {
    let g = engine.state.gateways();
    g.get(key)?.alarm_log.rows.iter().rev().find(|r| r.alarm_type == "overVoltage").cloned()
}

fn ack_of(engine: &EngineHandle, key: &GatewayKey) -> Option<AckState> {
    over_voltage(engine, key).map(|r| r.ack)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_we_acknowledge_is_ack_us() {
    let (_broker, url) = sim_support::broker().await;
    let (engine, _session) = connect(&url, "wb-alarm-us").await;
    let files = tempfile::tempdir().unwrap();
    let sim = sim::spawn(sim_config(&url, "gw-ack-us", files.path())).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "gw-ack-us".into() };
    wait_online(&engine, &key).await;
    raise_over_voltage(&sim);
    eventually(Duration::from_secs(10), "overVoltage acknowledged by us", || ack_of(&engine, &key) == Some(AckState::Us)).await;
    let row = over_voltage(&engine, &key).unwrap();
    assert!(row.active() && row.start_ts.is_some() && row.report_id.is_some(), "{row:?}");
    assert_eq!(row.sub, "meter-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_by_another_master_is_ack_other() {
    let (_broker, url) = sim_support::broker().await;
    let (engine, _session) = connect(&url, "wb-alarm-other").await;
    // We only watch: the other master acknowledges.
    engine.send(EngineCommand::SetMasterDuties(false)).unwrap();
    let mut other = sim_support::Master::connect(&url, "gw-ack-other").await;
    let files = tempfile::tempdir().unwrap();
    let sim = sim::spawn(sim_config(&url, "gw-ack-other", files.path())).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "gw-ack-other".into() };
    wait_online(&engine, &key).await;
    raise_over_voltage(&sim);
    // The bare master answers only while it waits, so it waits for the overVoltage report
    // itself: the gateway raises other alarms of its own (link4gDown) that would end it sooner.
    other.wait("the overVoltage alarm/report", 15, |t, reply, env, _| (t == "alarm/report" && !reply && reports_over_voltage(env)).then_some(())).await;
    eventually(Duration::from_secs(10), "overVoltage acknowledged by the other master", || ack_of(&engine, &key) == Some(AckState::Other)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_sent_in_a_history_batch_is_acknowledged_with_its_batch() {
    let (_broker, url) = sim_support::broker().await;
    let (engine, _session) = connect(&url, "wb-alarm-batch").await;
    let files = tempfile::tempdir().unwrap();
    let mut config = sim_config(&url, "gw-ack-batch", files.path());
    config.outage = Some(Outage { at_secs: 2.0, for_secs: 2.5 });
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "gw-ack-batch".into() };
    wait_online(&engine, &key).await;
    // Raised and cleared while offline: the gateway keeps both for its history batches (§5).
    eventually(Duration::from_secs(10), "the gateway's outage", || !sim.snapshot().online).await;
    let forced = sim.with_state(|s| {
        let now = s.now_ms();
        let dev = s.devices.iter_mut().find(|d| d.sub == "meter-1")?;
        Some(dev.points.iter_mut().find(|p| p.pid == "Ua")?.force_excursion(true, now, 500))
    });
    assert_eq!(forced, Some(true));
    eventually(Duration::from_secs(15), "the overVoltage of the batch cleared and acknowledged by us", || {
        over_voltage(&engine, &key).is_some_and(|r| !r.active() && r.ack == AckState::Us)
    })
    .await;
    let row = over_voltage(&engine, &key).unwrap();
    assert!(row.duration_ms().is_some_and(|d| d > 0) && row.report_id.is_some(), "{row:?}");
    // Our acknowledgement may come back to us before the gateway has counted it.
    eventually(Duration::from_secs(5), "the gateway's count of acknowledged batches", || sim.snapshot().counters.history_batches_acked >= 1).await;
}

fn recall_of(engine: &EngineHandle, key: &GatewayKey, id: &str) -> Option<Recall> {
    engine.state.gateways().get(key)?.alarm_log.recall(id).cloned()
}

async fn recall(engine: &EngineHandle, session: SessionId, key: &GatewayKey, from: i64, to: i64) -> Recall {
    let spec = RequestSpec::new(session, PK, &key.dev, "history", "get", json!({"from": from, "to": to})).with_fresh_id();
    let id = spec.id.clone().unwrap();
    let out = engine.call(spec).await.unwrap();
    let reply = out.result.unwrap();
    assert_eq!(reply.code, 0, "{:?}", reply.msg);
    let batches = reply.data["batches"].as_u64().unwrap();
    assert!(batches > 0, "the recall sends batches");
    eventually(Duration::from_secs(15), "every batch of the recall", || recall_of(engine, key, &id).is_some_and(|r| r.done())).await;
    let r = recall_of(engine, key, &id).unwrap();
    assert_eq!(r.expected, Some(batches));
    assert_eq!(r.received, batches);
    assert_eq!(r.batches.iter().map(|b| b.new).sum::<u64>(), r.new);
    assert_eq!(r.batches.iter().map(|b| b.duplicates).sum::<u64>(), r.duplicates);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_recall_with_overlap_counts_new_and_duplicates() {
    let (_broker, url) = sim_support::broker().await;
    let files = tempfile::tempdir().unwrap();
    let start = now_ms();
    // The gateway reports for a while before we listen: those samples are new to a recall.
    let _sim = sim::spawn(sim_config(&url, "gw-recall", files.path())).unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (engine, session) = connect(&url, "wb-recall").await;
    let key = GatewayKey { pk: PK.into(), dev: "gw-recall".into() };
    wait_online(&engine, &key).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mid = now_ms();
    let first = recall(&engine, session, &key, start - 60_000, mid).await;
    assert!(first.new > 0, "samples from before we listened are new: {first:?}");
    assert!(first.duplicates > 0, "samples we saw live are duplicates: {first:?}");
    // The second recall covers the first: everything it sent is now held.
    let second = recall(&engine, session, &key, start - 60_000, now_ms()).await;
    assert!(second.duplicates >= first.new + first.duplicates, "first {first:?}, second {second:?}");
    assert_eq!(second.new, 0, "nothing in the overlap is new: {second:?}");
}
