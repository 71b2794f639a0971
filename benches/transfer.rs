//! Transfer figures, printed (no harness): run with `cargo bench --bench transfer`.
//!
//! 1. OTA throughput of an 8 MiB image, engine → simulator through the embedded broker, against
//!    a raw stream of the same bytes (same chunk size, QoS 1) through the same broker in the
//!    same run: the ratio is what pulling chunk by chunk costs (the simulator keeps its default
//!    window of chunk requests outstanding, `SimTuning::default().chunk_window`, 4; base64 in
//!    JSON). The "ms per chunk" figure is the image's time over its chunk count, so with a
//!    window it is not one request's round trip.
//! 2. The same OTA over a serial pty pair, with the bytes on the wire counted, and the framing's
//!    payload efficiency: image bytes / wire bytes (and per frame, split into base64 + JSON and
//!    COBS + header + CRC).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use cems_workbench::engine::{Engine, EngineConfig, EngineEvent, EngineEvents, EngineHandle, GatewayKey, OtaSpec, SessionId, TransferPhase};
use cems_workbench::protocol::envelope::Reply;
use cems_workbench::protocol::frame::{self, Frame};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig, SimHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::serial::SerialConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PK: &str = "PK-GW-01";
const IMAGE_BYTES: usize = 8 * 1024 * 1024;
const MQTT_CHUNK: u32 = 64 * 1024;
const SERIAL_CHUNK: u32 = 32 * 1024;

fn image() -> Bytes {
    let mut x: u32 = 0x9e37_79b9;
    Bytes::from(
        (0..IMAGE_BYTES)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect::<Vec<u8>>(),
    )
}

fn mib_per_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs
}

async fn wait_up(events: &mut tokio::sync::mpsc::Receiver<LinkEvent>) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => bail!("link ended"),
            Err(_) => bail!("link not up within 10 s"),
        }
    }
}

/// The same bytes, cut at the same chunk size, published QoS 1 by one client and received by
/// another: the broker's and the links' own throughput.
async fn raw_publish(url: &str, data: &Bytes) -> anyhow::Result<f64> {
    let topic = "bench/raw";
    let mut sub_config = MqttConfig::new(url, "bench-raw-sub");
    sub_config.subscriptions.push(topic.into());
    let (_sub, mut sub_events) = spawn_link(LinkConfig::Mqtt(sub_config));
    let (publisher, mut pub_events) = spawn_link(LinkConfig::Mqtt(MqttConfig::new(url, "bench-raw-pub")));
    wait_up(&mut sub_events).await?;
    wait_up(&mut pub_events).await?;
    // Let the subscription reach the broker (Up comes with the ConnAck, before the SubAck).
    let probe = Message::new(topic, "probe", 1, false);
    loop {
        publisher.publish(probe.clone())?;
        let got = tokio::time::timeout(Duration::from_millis(300), async {
            while let Some(e) = sub_events.recv().await {
                if matches!(e, LinkEvent::Message(ref m) if m.payload.as_ref() == b"probe") {
                    return true;
                }
            }
            false
        })
        .await;
        if got == Ok(true) {
            break;
        }
    }
    // Drain stray probes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while sub_events.try_recv().is_ok() {}

    let started = Instant::now();
    for chunk in data.chunks(MQTT_CHUNK as usize) {
        publisher.publish(Message::new(topic, Bytes::copy_from_slice(chunk), 1, false))?;
    }
    let mut received = 0usize;
    while received < data.len() {
        match tokio::time::timeout(Duration::from_secs(60), sub_events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.payload.as_ref() != b"probe" => received += m.payload.len(),
            Ok(Some(_)) => {}
            Ok(None) => bail!("subscriber link ended"),
            Err(_) => bail!("raw stream stalled at {received} bytes"),
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

fn sim_config(link: LinkConfig, dev: &str, files: &std::path::Path) -> SimConfig {
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, link, files.to_path_buf());
    config.report_period_ms = Some(10_000);
    config
}

async fn gateway_online(engine: &EngineHandle, dev: &str) -> anyhow::Result<()> {
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    let deadline = Instant::now() + Duration::from_secs(20);
    let online = || engine.state.gateways().get(&key).is_some_and(|g| g.online == Some(true));
    while !online() {
        if Instant::now() > deadline {
            bail!("gateway {dev} never came online");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Runs one OTA to the end; returns (seconds, bytes served).
async fn ota(engine: &EngineHandle, events: &mut EngineEvents, session: SessionId, dev: &str, data: &Bytes, chunk: u32, version: &str) -> anyhow::Result<(f64, u64)> {
    let mut spec = OtaSpec::new(session, PK, dev, "firmware", version, data.clone());
    spec.chunk_size = chunk;
    let started = Instant::now();
    let id = engine.start_ota(spec)?;
    loop {
        let batch = tokio::time::timeout(Duration::from_secs(120), events.next_batch()).await.context("OTA stalled")?.context("engine stopped")?;
        for event in batch {
            if let EngineEvent::Transfer(s) = event
                && s.id == id
                && s.phase.is_final()
            {
                if s.phase != TransferPhase::Done {
                    bail!("OTA ended {:?}", s.phase);
                }
                return Ok((started.elapsed().as_secs_f64(), s.progress.bytes_moved));
            }
        }
    }
}

async fn mqtt_figures(data: &Bytes) -> anyhow::Result<()> {
    let broker = EmbeddedBroker::start(BrokerConfig::ephemeral()).await?;
    let url = broker.url();
    let raw_secs = raw_publish(&url, data).await?;

    let files = tempfile::tempdir()?;
    let (engine, mut events) = Engine::spawn_with(EngineConfig::default(), || {})?;
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "bench-engine")), engine.default_session_options("bench"))?;
    let sim = sim::spawn(sim_config(LinkConfig::Mqtt(MqttConfig::new(url.clone(), "x")), "GW-BENCH-M", files.path()))?;
    gateway_online(&engine, "GW-BENCH-M").await?;
    let (ota_secs, served) = ota(&engine, &mut events, session, "GW-BENCH-M", data, MQTT_CHUNK, "2.0.0").await?;
    let chunks = data.len().div_ceil(MQTT_CHUNK as usize);

    println!("MQTT, embedded broker, {} MiB image, {} KiB chunks ({chunks} chunks)", data.len() >> 20, MQTT_CHUNK >> 10);
    println!("  raw publish, QoS 1:  {:8.3} s  {:8.2} MiB/s", raw_secs, mib_per_s(data.len(), raw_secs));
    let window = sim::SimTuning::default().chunk_window;
    println!(
        "  OTA (pull, base64):  {:8.3} s  {:8.2} MiB/s  ({served} bytes served, {:.1} ms per chunk, {window} requests outstanding)",
        ota_secs,
        mib_per_s(data.len(), ota_secs),
        ota_secs * 1000.0 / chunks as f64
    );
    println!("  ratio OTA / raw:     {:8.3}", raw_secs / ota_secs);
    stop(sim).await;
    engine.shutdown();
    broker.stop().await;
    Ok(())
}

async fn stop(sim: SimHandle) {
    sim.stop().await;
}

/// One chunk reply as it goes on the wire over serial: (chunk bytes, MQTT-level payload bytes,
/// wire bytes of the frame).
fn serial_frame_figures(chunk: u32) -> anyhow::Result<(usize, usize, usize)> {
    let data = vec![0xA5u8; chunk as usize];
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &data);
    let reply = Reply::ok("wb-0123abcd-4567", json!({"taskId": "wb-0123abcd-89", "offset": 4_194_304u64, "data": encoded}));
    let payload = reply.to_bytes()?;
    let topic = format!("cems/v1/{PK}/GW-BENCH-S/down/ota/chunk/get/reply");
    let wire = frame::encode(&Frame::publish(topic, payload.clone()))?;
    Ok((data.len(), payload.len(), wire.len()))
}

async fn serial_figures(data: &Bytes) -> anyhow::Result<()> {
    // engine ⇄ pty ⇄ counting relay ⇄ pty ⇄ simulator
    let (engine_end, relay_a) = tokio_serial::SerialStream::pair()?;
    let (relay_b, sim_end) = tokio_serial::SerialStream::pair()?;
    let down_bytes = Arc::new(AtomicU64::new(0));
    let up_bytes = Arc::new(AtomicU64::new(0));
    let (a_read, a_write) = tokio::io::split(relay_a);
    let (b_read, b_write) = tokio::io::split(relay_b);
    type Pipe = (Box<dyn tokio::io::AsyncRead + Send + Unpin>, Box<dyn tokio::io::AsyncWrite + Send + Unpin>, Arc<AtomicU64>);
    let pipes: [Pipe; 2] = [(Box::new(a_read), Box::new(b_write), down_bytes.clone()), (Box::new(b_read), Box::new(a_write), up_bytes.clone())];
    for (mut from, mut to, count) in pipes {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0 || to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        });
    }
    let files = tempfile::tempdir()?;
    let (engine, mut events) = Engine::spawn_with(EngineConfig::default(), || {})?;
    let session = engine.connect(LinkConfig::Serial(SerialConfig::stream(engine_end)), engine.default_session_options("bench"))?;
    let sim = sim::spawn(sim_config(LinkConfig::Serial(SerialConfig::stream(sim_end)), "GW-BENCH-S", files.path()))?;
    gateway_online(&engine, "GW-BENCH-S").await?;
    // Quiet the line before counting: only the transfer's bytes (and a few reports) are measured.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (down0, up0) = (down_bytes.load(Ordering::Relaxed), up_bytes.load(Ordering::Relaxed));
    let (secs, served) = ota(&engine, &mut events, session, "GW-BENCH-S", data, SERIAL_CHUNK, "3.0.0").await?;
    let down = down_bytes.load(Ordering::Relaxed) - down0;
    let up = up_bytes.load(Ordering::Relaxed) - up0;
    let (chunk, payload, wire) = serial_frame_figures(SERIAL_CHUNK)?;

    println!("Serial, pty pair (no baud limit), {} MiB image, {} KiB chunks", data.len() >> 20, SERIAL_CHUNK >> 10);
    println!("  OTA:                 {:8.3} s  {:8.2} MiB/s  ({served} bytes served)", secs, mib_per_s(data.len(), secs));
    println!("  wire bytes:          {down} to the gateway, {up} from it");
    println!("  payload efficiency:  {:.3} (image / wire bytes to the gateway), {:.3} (image / wire bytes both ways)", data.len() as f64 / down as f64, data.len() as f64 / (down + up) as f64);
    println!(
        "  one {chunk}-byte chunk reply: {payload} bytes of JSON payload, {wire} on the wire: base64+JSON {:.3}, COBS+header+topic+CRC {:.4}, together {:.3}",
        chunk as f64 / payload as f64,
        payload as f64 / wire as f64,
        chunk as f64 / wire as f64
    );
    println!("  at 115200 baud 8N1 (11 520 bytes/s) that is about {:.0} s for the image", down as f64 / 11_520.0);
    stop(sim).await;
    engine.shutdown();
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags: run only
    // for a bench run, so a test run does not spend a minute here.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let data = image();
        mqtt_figures(&data).await?;
        serial_figures(&data).await
    })
}
