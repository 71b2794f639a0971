//! Field conditions: a broker that goes away and comes back, a gateway that loses its network
//! and replays history, a serial line full of noise.

mod common;

use std::time::Duration;

use cems_workbench::engine::series::{SeriesKey, SeriesStore};
use cems_workbench::engine::{EngineEvent, GatewayKey, RequestSpec};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, Outage, SimConfig};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use cems_workbench::transport::{LinkConfig, LinkState};
use common::{engine, eventually, wait_for};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PK: &str = "PK-GW-01";

fn sim_config(link: LinkConfig, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, link, files.to_path_buf());
    config.report_period_ms = Some(150);
    config
}

/// Every point series of the gateway holds each sample time once: no duplicate rows.
fn assert_no_duplicate_rows(series: &SeriesStore, key: &GatewayKey) -> usize {
    let mut rows = 0;
    for k in series.keys().filter(|k| matches!(k, SeriesKey::Point { .. }) && k.gateway() == Some((key.pk.as_str(), key.dev.as_str()))) {
        let ts = series.get(k).map(|s| s.all().times.to_vec()).unwrap_or_default();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{k}: duplicate or unordered rows {ts:?}");
        rows += ts.len();
    }
    assert!(rows > 0, "no point series of {key}");
    rows
}

fn samples_of(series: &SeriesStore, key: &GatewayKey, sub: &str, pid: &str) -> Vec<i64> {
    series.get(&SeriesKey::point(&key.pk, &key.dev, sub, pid)).map_or_else(Vec::new, |s| s.all().times.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_session_reconnects_resubscribes_without_duplicate_rows() {
    let broker = common::broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-restart")), engine.default_session_options("t")).unwrap();
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-R", files.path())).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "GW-R".into() };
    eventually(Duration::from_secs(10), "points flowing", || samples_of(&engine.state.series(), &key, "meter-1", "Ua").len() >= 3).await;

    broker.stop().await;
    let reason = wait_for(&mut events, Duration::from_secs(5), "engine link down", |e| match e {
        EngineEvent::SessionState { session: s, state: LinkState::Down { reason }, .. } if *s == session => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(!reason.is_empty());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_restart = samples_of(&engine.state.series(), &key, "meter-1", "Ua").len();
    broker.restart().await.unwrap();
    let attempts = wait_for(&mut events, Duration::from_secs(15), "engine link up again", |e| match e {
        EngineEvent::SessionState { session: s, state: LinkState::Up, attempts } if *s == session => Some(*attempts),
        _ => None,
    })
    .await;
    assert!(attempts >= 2, "reconnect attempts counted: {attempts}");
    // Re-subscribed: new reports arrive, and the gateway answers requests again.
    eventually(Duration::from_secs(10), "reports after the restart", || {
        samples_of(&engine.state.series(), &key, "meter-1", "Ua").len() >= before_restart + 3
    })
    .await;
    let out = engine.call(RequestSpec::new(session, PK, "GW-R", "info", "get", json!({}))).await.unwrap();
    assert_eq!(out.code(), Some(0));
    let rows = assert_no_duplicate_rows(&engine.state.series(), &key);
    assert!(rows > 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_outage_is_replayed_as_history_and_stored_once() {
    let broker = common::broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, _events) = engine();
    engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-outage")), engine.default_session_options("t")).unwrap();
    let mut config = sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-O", files.path());
    config.outage = Some(Outage { at_secs: 1.0, for_secs: 2.0 });
    let sim = sim::spawn(config).unwrap();
    let key = GatewayKey { pk: PK.into(), dev: "GW-O".into() };

    // The broker fires the will: the gateway is seen offline ("lost"), then online again.
    eventually(Duration::from_secs(6), "gateway lost", || {
        engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(false) && g.status_reason.as_deref() == Some("lost"))
    })
    .await;
    eventually(Duration::from_secs(8), "gateway back and history acknowledged", || {
        let snap = sim.snapshot();
        snap.online && snap.counters.history_batches_acked >= 1 && snap.history_batches_pending == 0 && snap.buffered_items == 0
    })
    .await;
    // The samples taken during the outage arrived with their original times: no hole of 2 s.
    let ts = samples_of(&engine.state.series(), &key, "meter-1", "Ua");
    let widest_gap = ts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(i64::MAX);
    assert!(widest_gap < 1000, "a hole of {widest_gap} ms in {ts:?}");
    assert_no_duplicate_rows(&engine.state.series(), &key);
    assert!(engine.state.gateways().history_stats().rows_stored > 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_noise_between_frames_is_dropped_and_counted_while_the_link_survives() {
    // engine ⇄ pty A ⇄ noisy relay ⇄ pty B ⇄ simulator
    let (engine_end, relay_a) = tokio_serial::SerialStream::pair().unwrap();
    let (relay_b, sim_end) = tokio_serial::SerialStream::pair().unwrap();
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Serial(SerialConfig::stream(engine_end)), engine.default_session_options("serial")).unwrap();
    let sim = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(sim_end)), "GW-N", files.path())).unwrap();

    let (mut a_read, mut a_write) = tokio::io::split(relay_a);
    let (mut b_read, mut b_write) = tokio::io::split(relay_b);
    // Engine → gateway: copied as is.
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = a_read.read(&mut buf).await {
            if n == 0 || b_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    // Gateway → engine: after every frame end, a burst of garbage (some with a 0x00, which ends
    // a bogus frame the decoder must drop).
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let mut n_frames = 0u32;
        while let Ok(n) = b_read.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let mut out = Vec::with_capacity(n + 64);
            for &byte in &buf[..n] {
                out.push(byte);
                if byte == 0 {
                    n_frames += 1;
                    if n_frames.is_multiple_of(3) {
                        out.extend_from_slice(&[0x13, 0x37, 0xff, 0x42, 0x00]);
                    }
                }
            }
            if a_write.write_all(&out).await.is_err() {
                break;
            }
        }
    });

    let key = GatewayKey { pk: PK.into(), dev: "GW-N".into() };
    let dropped = wait_for(&mut events, Duration::from_secs(10), "dropped frames counted", |e| match e {
        EngineEvent::FramesDropped { session: s, total } if *s == session && *total >= 3 => Some(*total),
        _ => None,
    })
    .await;
    assert!(dropped >= 3);
    eventually(Duration::from_secs(10), "gateway discovered over the noisy line", || {
        engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true) && g.point_count() > 0)
    })
    .await;
    for _ in 0..5 {
        let out = engine.call(RequestSpec::new(session, PK, "GW-N", "info", "get", json!({}))).await.unwrap();
        assert_eq!(out.code(), Some(0), "{out:?}");
    }
    sim.stop().await;
}
