//! Firmware upgrades end to end, engine and simulator: an 8 MiB image over the embedded broker
//! and over a serial pty pair, each interrupted half way (broker restarted, cable cut) and
//! finished by the gateway resuming from its last good offset; a corrupted image caught by the
//! gateway's SHA-256 check; refusals, cancel and a silent gateway.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cems_workbench::engine::transfers::TransferKind;
use cems_workbench::engine::{EngineEvent, EngineEvents, EngineHandle, GatewayKey, OtaSpec, SessionId, TransferPhase, TransferStatus};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::payload::OtaStep;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use cems_workbench::transport::{LinkConfig, LinkState};
use common::{engine, engine_ready, eventually, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PK: &str = "PK-GW-01";
const MIB: usize = 1024 * 1024;

/// Deterministic bytes that do not compress to nothing.
fn image(len: usize) -> Bytes {
    let mut x: u32 = 0x1234_5678;
    Bytes::from(
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect::<Vec<u8>>(),
    )
}

fn sim_config(link: LinkConfig, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, link, files.to_path_buf());
    // Few reports: the link carries the image.
    config.report_period_ms = Some(5_000);
    config
}

async fn gateway_online(engine: &EngineHandle, dev: &str) {
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    eventually(Duration::from_secs(20), "gateway online", || engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true))).await;
}

/// Waits for the task's final status.
async fn final_status(events: &mut EngineEvents, id: &str, timeout: Duration) -> TransferStatus {
    wait_for(events, timeout, "the transfer to end", |e| match e {
        EngineEvent::Transfer(s) if s.id == id && s.phase.is_final() => Some(s.clone()),
        _ => None,
    })
    .await
}

/// Waits until the gateway has pulled at least `bytes` of task `id`.
async fn served_past(events: &mut EngineEvents, id: &str, bytes: u64) {
    wait_for(events, Duration::from_secs(30), "half the image served", |e| match e {
        EngineEvent::ChunkServed { kind: TransferKind::Ota, id: i, high_water, .. } if i == id && *high_water >= bytes => Some(()),
        _ => None,
    })
    .await;
}

fn assert_installed(sim: &SimHandle, status: &TransferStatus, size: usize, version: &str) {
    assert_eq!(status.phase, TransferPhase::Done, "{status:?}");
    assert_eq!(status.progress.device_step, Some(OtaStep::Done));
    let snap = sim.snapshot();
    // The simulator installs only after its SHA-256 of the whole image matched.
    assert!(snap.modules.iter().any(|m| m.module == "firmware" && m.version == version), "{:?}", snap.modules);
    let record = snap.tasks.iter().rev().find(|t| t.id == status.id).expect("the sim's task record");
    assert_eq!((record.step, record.code), (OtaStep::Done, 0));
    let served = status.progress.bytes_moved as f64;
    assert!(served >= size as f64 && served <= 1.1 * size as f64, "served {served} bytes for a {size}-byte image");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ota_8_mib_over_the_broker_survives_a_broker_restart_half_way() {
    let started = Instant::now();
    let broker = common::broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ota-restart")), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), "GW-OTA-M", files.path())).unwrap();
    gateway_online(&engine, "GW-OTA-M").await;

    let size = 8 * MIB;
    // 8 KiB chunks, 1,024 round trips: with the simulator's window of 4 a 64 KiB-chunk transfer
    // could end while the broker is being stopped half way, and then nothing would be tested.
    let mut spec = OtaSpec::new(session, PK, "GW-OTA-M", "firmware", "2.0.0", image(size));
    spec.chunk_size = 8 * 1024;
    let id = engine.start_ota(spec).unwrap();
    served_past(&mut events, &id, (size / 2) as u64).await;

    broker.stop().await;
    let at = engine.state.transfers().get(&id).map(|s| s.progress.position).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.restart().await.unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(60)).await;
    eprintln!(
        "broker restart at {:.0} % of {size} bytes; {} bytes served in {} chunks; test took {:.1} s",
        at as f64 * 100.0 / size as f64,
        status.progress.bytes_moved,
        status.progress.chunks,
        started.elapsed().as_secs_f64()
    );
    assert!(at < size as u64, "the restart came before the end");
    assert_installed(&sim, &status, size, "2.0.0");
    // The shared table has the same final status for the GUI.
    assert_eq!(engine.state.transfers().get(&id).map(|s| s.phase.clone()), Some(TransferPhase::Done));
    sim.stop().await;
}

/// engine ⇄ pty pair ⇄ relay ⇄ pty pair ⇄ simulator; while `cut` is set the relay drops every
/// byte, as an unplugged cable would.
async fn serial_through_relay(dev: &str, files: &std::path::Path) -> (EngineHandle, EngineEvents, SessionId, SimHandle, Arc<AtomicBool>) {
    let (engine_end, relay_a) = tokio_serial::SerialStream::pair().expect("pty pair");
    let (relay_b, sim_end) = tokio_serial::SerialStream::pair().expect("pty pair");
    let cut = Arc::new(AtomicBool::new(false));
    let (a_read, a_write) = tokio::io::split(relay_a);
    let (b_read, b_write) = tokio::io::split(relay_b);
    type Pipe = (Box<dyn tokio::io::AsyncRead + Send + Unpin>, Box<dyn tokio::io::AsyncWrite + Send + Unpin>);
    let pipes: [Pipe; 2] = [(Box::new(a_read), Box::new(b_write)), (Box::new(b_read), Box::new(a_write))];
    for (mut from, mut to) in pipes {
        let cut = cut.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if !cut.load(Ordering::SeqCst) && to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
    let (engine, events) = engine();
    let session = engine.connect(LinkConfig::Serial(SerialConfig::stream(engine_end)), engine.default_session_options("serial")).unwrap();
    let sim = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(sim_end)), dev, files)).unwrap();
    (engine, events, session, sim, cut)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ota_8_mib_over_serial_survives_a_cut_cable_half_way() {
    let started = Instant::now();
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events, session, sim, cut) = serial_through_relay("GW-OTA-S", files.path()).await;
    gateway_online(&engine, "GW-OTA-S").await;

    let size = 8 * MIB;
    let mut spec = OtaSpec::new(session, PK, "GW-OTA-S", "firmware", "3.0.0", image(size));
    spec.chunk_size = 32 * 1024;
    let id = engine.start_ota(spec).unwrap();
    served_past(&mut events, &id, (size / 2) as u64).await;
    cut.store(true, Ordering::SeqCst);
    let at = engine.state.transfers().get(&id).map(|s| s.progress.position).unwrap_or(0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    cut.store(false, Ordering::SeqCst);
    let status = final_status(&mut events, &id, Duration::from_secs(60)).await;
    eprintln!(
        "cable cut at {:.0} % of {size} bytes; {} bytes served in {} chunks; test took {:.1} s",
        at as f64 * 100.0 / size as f64,
        status.progress.bytes_moved,
        status.progress.chunks,
        started.elapsed().as_secs_f64()
    );
    assert_installed(&sim, &status, size, "3.0.0");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serial_links_refuse_chunks_too_large_for_a_frame() {
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events, session, sim, _cut) = serial_through_relay("GW-OTA-B", files.path()).await;
    wait_for(&mut events, Duration::from_secs(10), "serial up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let mut spec = OtaSpec::new(session, PK, "GW-OTA-B", "firmware", "3.0.0", image(100_000));
    spec.chunk_size = 65_536;
    let id = engine.start_ota(spec).unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(5)).await;
    assert!(matches!(&status.phase, TransferPhase::Invalid { msg } if msg.contains("serial") && msg.contains("32768")), "{status:?}");
    sim.stop().await;
}

/// An MQTT engine + simulator pair on a fresh broker.
async fn mqtt_pair(dev: &str, files: &std::path::Path) -> (cems_workbench::transport::broker::EmbeddedBroker, EngineHandle, EngineEvents, SessionId, SimHandle) {
    let broker = common::broker().await;
    let (engine, events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), format!("wb-{dev}"))), engine.default_session_options("t")).unwrap();
    engine_ready(&engine, session).await;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), dev, files)).unwrap();
    gateway_online(&engine, dev).await;
    (broker, engine, events, session, sim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupted_image_fails_with_code_9_from_the_gateway() {
    let files = tempfile::tempdir().unwrap();
    let (_broker, engine, mut events, session, sim) = mqtt_pair("GW-OTA-C", files.path()).await;
    let good = image(MIB);
    let mut bad = good.to_vec();
    bad[MIB / 3] ^= 0x40;
    let mut spec = OtaSpec::new(session, PK, "GW-OTA-C", "firmware", "9.9.9", Bytes::from(bad));
    // The digest of the real image is announced; one byte of what is served differs.
    spec.sha256 = cems_workbench::protocol::digest::sha256_hex(&good);
    let id = engine.start_ota(spec).unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(30)).await;
    let TransferPhase::Failed { code, name, msg } = &status.phase else { panic!("{status:?}") };
    assert_eq!((*code, *name), (9, "checksum"));
    assert!(msg.contains("sha256"), "{msg}");
    assert_eq!(status.progress.device_step, Some(OtaStep::Failed));
    assert!(sim.snapshot().modules.iter().any(|m| m.module == "firmware" && m.version != "9.9.9"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_cancel_and_silence() {
    let files = tempfile::tempdir().unwrap();
    let (_broker, engine, mut events, session, sim) = mqtt_pair("GW-OTA-X", files.path()).await;

    // Unknown module: refused with code 7, nothing pulled.
    let id = engine.start_ota(OtaSpec::new(session, PK, "GW-OTA-X", "bootloader", "2.0.0", image(1000))).unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(10)).await;
    assert!(matches!(&status.phase, TransferPhase::Refused { code: 7, name: "not_found", msg } if msg.contains("bootloader")), "{status:?}");

    // Cancel mid-way: the image is withdrawn, the gateway's next chunk request gets code 7.
    let mut spec = OtaSpec::new(session, PK, "GW-OTA-X", "app", "5.0.0", image(4 * MIB));
    spec.chunk_size = 256;
    let id = engine.start_ota(spec).unwrap();
    wait_for(&mut events, Duration::from_secs(10), "some chunks", |e| match e {
        EngineEvent::ChunkServed { id: i, high_water, .. } if *i == id && *high_water >= 10 * 256 => Some(()),
        _ => None,
    })
    .await;
    engine.cancel_transfer(&id).unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(5)).await;
    assert_eq!(status.phase, TransferPhase::Cancelled);
    eventually(Duration::from_secs(10), "the sim's task failed with code 7", || {
        sim.snapshot().tasks.iter().any(|t| t.id == id && t.step == OtaStep::Failed && t.code == 7)
    })
    .await;

    // A gateway that never answers: timed out after the silence, with what was awaited.
    let mut spec = OtaSpec::new(session, PK, "GW-NOBODY", "firmware", "2.0.0", image(1000));
    spec.silence_timeout = Duration::from_secs(2);
    let t0 = Instant::now();
    let id = engine.start_ota(spec).unwrap();
    let status = final_status(&mut events, &id, Duration::from_secs(10)).await;
    assert!(matches!(&status.phase, TransferPhase::TimedOut { after, waiting_for } if after.as_secs() == 2 && waiting_for.contains("ota/upgrade")), "{status:?}");
    assert!(t0.elapsed() < Duration::from_secs(5));
    sim.stop().await;
}
