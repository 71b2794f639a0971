//! The simulator, as a gateway, against the contract's transfer and time rules with the test as a
//! raw master: a window of chunk requests answered out of order, with a reply lost and one
//! repeated; a window of 1; 32 KiB chunks over serial; a retried `time/sync`; the announcement
//! after an upgrade.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cems_workbench::protocol::envelope::{Envelope, Reply, parse_envelope};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::topic::{CemsTopic, Dir, TopicProfile};
use cems_workbench::sim::{self, SimConfig, SimTuning};
use cems_workbench::transport::serial::{self, SerialConfig};
use cems_workbench::transport::{LinkConfig, LinkEvent, Message};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod sim_support;

use sim_support::{Master, PK, broker, data, sim_config};

fn image(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How the master answers chunk requests in [`serve_pull`].
#[derive(Clone, Copy)]
struct Serving {
    /// Answer as soon as this many requests wait (or the gateway has gone quiet), last first.
    batch: usize,
    /// Leave the first request for this chunk index unanswered.
    drop_chunk: Option<u64>,
    /// Answer the request for this chunk index twice.
    repeat_chunk: Option<u64>,
}

/// What the gateway did while pulling.
#[derive(Default)]
struct Pull {
    /// Most chunk requests outstanding at once (distinct offsets asked, not yet answered).
    max_in_flight: usize,
    largest_length: u64,
    /// Request ids seen per offset.
    ids: HashMap<u64, Vec<String>>,
    /// `ota/progress` steps, or the `file/download/result` code.
    steps: Vec<String>,
    result_code: Option<i64>,
}

/// Serves the chunk requests of transfer `id` (`ota` or `file`) from `image` until the gateway
/// reports the end (`done`/`failed` or a download result).
async fn serve_pull(master: &mut Master, ota: bool, id: &str, image: &[u8], chunk: u64, serving: Serving) -> Pull {
    let (class, id_field) = if ota { ("ota", "taskId") } else { ("file", "fileId") };
    let reply_topic = master.profile.build(&CemsTopic::new(PK, &master.dev, Dir::Up, class, "chunk/get").reply_topic()).unwrap();
    let mut pull = Pull::default();
    let mut waiting: Vec<(String, u64, u64)> = Vec::new();
    let mut outstanding = BTreeSet::new();
    let mut answered = BTreeSet::new();
    let (mut dropped, mut repeated) = (false, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "the pull did not end: {} chunks answered", answered.len());
        // A quiet gateway is waiting on what is held: answer it.
        let event = tokio::time::timeout(Duration::from_millis(50), master.events.recv()).await;
        let quiet = event.is_err();
        if let Ok(event) = event {
            let Some(LinkEvent::Message(message)) = event else { continue };
            let Ok(topic) = master.profile.parse(&message.topic) else { continue };
            if topic.dev != master.dev || topic.dir != Dir::Up || topic.reply {
                continue;
            }
            let Ok(Envelope::Request(request)) = parse_envelope(&message.payload) else { continue };
            match topic.class_action().as_str() {
                what if what == format!("{class}/chunk/get") => {
                    assert_eq!(request.data[id_field], id);
                    let offset = request.data["offset"].as_u64().unwrap();
                    let length = request.data["length"].as_u64().unwrap();
                    assert!(!answered.contains(&offset), "chunk at {offset} asked again after its answer");
                    pull.largest_length = pull.largest_length.max(length);
                    pull.ids.entry(offset).or_default().push(request.id.clone());
                    outstanding.insert(offset);
                    pull.max_in_flight = pull.max_in_flight.max(outstanding.len());
                    if !waiting.iter().any(|(i, _, _)| *i == request.id) {
                        waiting.push((request.id, offset, length));
                    }
                }
                "ota/progress" => {
                    let step = request.data["step"].as_str().unwrap().to_owned();
                    let end = matches!(step.as_str(), "done" | "failed");
                    pull.steps.push(step);
                    if end {
                        return pull;
                    }
                }
                "file/download/result" => {
                    pull.result_code = request.data["code"].as_i64();
                    return pull;
                }
                _ => {}
            }
        }
        if waiting.is_empty() || (!quiet && waiting.len() < serving.batch) {
            continue;
        }
        for (request_id, offset, length) in waiting.drain(..).rev() {
            let index = offset / chunk;
            if serving.drop_chunk == Some(index) && !dropped {
                dropped = true;
                continue;
            }
            let end = (offset + length).min(image.len() as u64) as usize;
            let reply = Reply::ok(&request_id, json!({id_field: id, "offset": offset, "data": BASE64.encode(&image[offset as usize..end])}));
            let times = if serving.repeat_chunk == Some(index) && !repeated { 2 } else { 1 };
            repeated |= times == 2;
            for _ in 0..times {
                master.link.publish(Message::new(reply_topic.clone(), reply.to_bytes().unwrap(), 1, false)).unwrap();
            }
            outstanding.remove(&offset);
            answered.insert(offset);
        }
    }
}

/// The next `what` report of the gateway (after `serve_pull`, which leaves the rest unread).
async fn next_report(master: &mut Master, what: &str) -> Value {
    let wanted = what.to_owned();
    master.wait(what, 10, |t, reply, env, _| (!reply && t == wanted).then(|| data(env).clone())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_of_8_pulls_an_ota_out_of_order_with_a_reply_lost_and_one_repeated() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url, "GW-WIN-8").await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = SimTuning { chunk_window: 8, retry_after: Duration::from_millis(500) };
    let sim = sim::spawn_with(sim_config(&url, "GW-WIN-8", dir.path()), tuning).unwrap();
    master.wait("the announcement", 10, |t, _, _, _| (t == "ota/version").then_some(())).await;

    const CHUNK: u64 = 16 * 1024;
    let img = image(1024 * 1024 + 123);
    let upgrade = json!({"taskId": "win-1", "module": "firmware", "version": "2.0.0", "size": img.len(), "sha256": sha256(&img), "chunkSize": CHUNK});
    assert_eq!(master.call("ota/upgrade", "up-w1", upgrade).await.code, 0);
    let serving = Serving { batch: 4, drop_chunk: Some(3), repeat_chunk: Some(5) };
    let pull = serve_pull(&mut master, true, "win-1", &img, CHUNK, serving).await;

    // Verified against the announced sha256 and installed, despite the order and the losses.
    assert!(pull.steps.ends_with(&["verifying".into(), "installing".into(), "done".into()]), "{:?}", pull.steps);
    assert!((2..=8).contains(&pull.max_in_flight), "a window of up to 8: {}", pull.max_in_flight);
    assert!(pull.largest_length <= CHUNK);
    let lost = &pull.ids[&(3 * CHUNK)];
    assert!(lost.len() >= 2 && lost.iter().all(|id| *id == lost[0]), "the lost chunk is asked again with its id: {lost:?}");
    // The upgrade is announced as after a reboot: info with the new firmware, then versions.
    let info = next_report(&mut master, "info/report").await;
    assert_eq!((info["fwVersion"].as_str(), info["serial"].as_str()), (Some("2.0.0"), Some("GW-WIN-8")), "{info}");
    let versions = next_report(&mut master, "ota/version").await;
    assert_eq!(versions["modules"][0], json!({"module": "firmware", "version": "2.0.0"}));
    assert_eq!(sim.snapshot().tasks.last().map(|t| (t.id.as_str(), t.code)), Some(("win-1", 0)));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_of_1_downloads_a_file_one_chunk_at_a_time() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url, "GW-WIN-1").await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = SimTuning { chunk_window: 1, ..SimTuning::default() };
    let sim = sim::spawn_with(sim_config(&url, "GW-WIN-1", dir.path()), tuning).unwrap();
    master.wait("the announcement", 10, |t, _, _, _| (t == "ota/version").then_some(())).await;

    const CHUNK: u64 = 8 * 1024;
    let img = image(300_001);
    let download = json!({"fileId": "f-1", "name": "table.bin", "size": img.len(), "sha256": sha256(&img), "chunkSize": CHUNK});
    assert_eq!(master.call("file/download", "dl-1", download).await.code, 0);
    let pull = serve_pull(&mut master, false, "f-1", &img, CHUNK, Serving { batch: 1, drop_chunk: None, repeat_chunk: None }).await;
    assert_eq!(pull.result_code, Some(0));
    assert_eq!(pull.max_in_flight, 1);
    assert_eq!(pull.ids.len(), img.len().div_ceil(CHUNK as usize), "each chunk asked once");
    let stored = std::fs::read(dir.path().join("table.bin")).unwrap();
    assert_eq!(sha256(&stored), sha256(&img));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_serial_chunks_are_at_most_32_kib_both_ways() {
    let (sim_end, master_end) = tokio::io::duplex(1 << 20);
    let dir = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(ModelSet::builtin(), PK, "GW-SER-32", LinkConfig::Serial(SerialConfig::stream(sim_end)), dir.path().to_path_buf());
    config.report_period_ms = Some(60_000);
    let sim = sim::spawn(config).unwrap();
    let (link, events) = serial::spawn(SerialConfig::stream(master_end));
    let mut master = Master { link, events, profile: TopicProfile::builtin(), dev: "GW-SER-32".into(), answer_time_sync: true, seen: Vec::new() };
    master.wait("the announcement", 10, |t, _, _, _| (t == "ota/version").then_some(())).await;

    // The master announces 64 KiB chunks; over serial the gateway asks for 32 KiB at most.
    let img = image(200_000);
    let download = json!({"fileId": "f-s", "name": "big.bin", "size": img.len(), "sha256": sha256(&img), "chunkSize": 65_536});
    assert_eq!(master.call("file/download", "dl-s", download).await.code, 0);
    let pull = serve_pull(&mut master, false, "f-s", &img, 32_768, Serving { batch: 1, drop_chunk: None, repeat_chunk: None }).await;
    assert_eq!(pull.result_code, Some(0));
    assert_eq!(pull.largest_length, 32_768);
    assert_eq!(sha256(&std::fs::read(dir.path().join("big.bin")).unwrap()), sha256(&img));

    // And a file/read asking for more is refused as a bad parameter naming the limit.
    let too_big = master.call("file/read", "rd-1", json!({"fileId": "big.bin", "offset": 0, "length": 40_000})).await;
    assert_eq!(too_big.code, 4, "{too_big:?}");
    assert!(too_big.msg.as_deref().is_some_and(|m| m.contains("serial")), "{too_big:?}");
    let fits = master.call("file/read", "rd-2", json!({"fileId": "big.bin", "offset": 0, "length": 32_768})).await;
    assert_eq!(fits.code, 0);
    assert_eq!(BASE64.decode(fits.data["data"].as_str().unwrap()).unwrap(), img[..32_768]);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_time_sync_carries_a_new_id_and_a_fresh_t1() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url, "GW-TIME").await;
    master.answer_time_sync = false;
    let dir = tempfile::tempdir().unwrap();
    let tuning = SimTuning { retry_after: Duration::from_secs(1), ..SimTuning::default() };
    let sim = sim::spawn_with(sim_config(&url, "GW-TIME", dir.path()), tuning).unwrap();
    let time_sync = |t: &str, reply: bool, env: &Envelope| match env {
        Envelope::Request(r) if t == "time/sync" && !reply => Some((r.id.clone(), r.data["t1"].as_i64().unwrap())),
        _ => None,
    };
    // The first goes unanswered.
    let (first_id, first_t1) = master.wait("a time/sync", 10, |t, reply, env, _| time_sync(t, reply, env)).await;
    let (second_id, second_t1) = master.wait("the time/sync again", 10, |t, reply, env, _| time_sync(t, reply, env)).await;
    assert_ne!(first_id, second_id, "a new request, not a resend the master would answer from its cache");
    assert!(second_t1 > first_t1, "a fresh t1: {first_t1} then {second_t1}");
    let now = cems_workbench::protocol::time::now_ms();
    master.reply("time/sync", Reply::ok(&second_id, json!({"t1": second_t1, "t2": now, "t3": now})));

    // Same host, same clock: the offset is near 0 and the round trip short, not half and all
    // of the retry wait.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let offset = loop {
        if let Some(offset) = sim.snapshot().master_offset_ms {
            break offset;
        }
        assert!(tokio::time::Instant::now() < deadline, "the answer was not taken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(offset.abs() < 250.0, "offset {offset} ms");
    let log = master.call("log/get", "lg-1", json!({"from": 0, "to": i64::MAX})).await;
    let line = log.data["entries"].as_array().unwrap().iter().filter_map(|e| e["msg"].as_str()).find(|m| m.starts_with("time/sync: master clock")).unwrap().to_owned();
    let round_trip: i64 = line.rsplit("round trip ").next().and_then(|r| r.trim_end_matches(" ms").parse().ok()).unwrap_or_else(|| panic!("{line}"));
    assert!(round_trip < 500, "{line}");
    sim.stop().await;
}
