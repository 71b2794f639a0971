//! The simulator against the embedded broker, with the test acting as a raw master station:
//! announcement on connect, periodic reports, answers to requests, an OTA image pulled chunk by
//! chunk and verified, and an outage resent as history.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cems_workbench::protocol::envelope::{Envelope, Reply, parse_envelope};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::protocol::topic::{CemsTopic, Dir, TopicProfile};
use cems_workbench::sim::{self, Outage, SimConfig};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, Message, spawn_link};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod sim_support;

use sim_support::{Master, PK, broker, data, sim_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_serves_a_master_over_mqtt() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url, "GW-SIM-1").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = sim::spawn(sim_config(&url, "GW-SIM-1", dir.path())).unwrap();

    // Announcement: status online (retained), then info, then versions.
    let mut order = Vec::new();
    master
        .wait("the announcement", 10, |t, reply, env, _| {
            if !reply && matches!(t, "status" | "info/report" | "ota/version") {
                order.push(t.to_owned());
                if t == "status" {
                    assert_eq!(data(env)["online"], true);
                }
                if t == "info/report" {
                    assert_eq!(data(env)["serial"], "GW-SIM-1");
                }
            }
            (t == "ota/version").then_some(())
        })
        .await;
    assert_eq!(order, ["status", "info/report", "ota/version"]);
    assert_eq!(retained_status(&url, "GW-SIM-1").await["online"], true, "status is retained");

    // Periodic reports of every device, with plausible values.
    let points = master
        .wait("a point report from the meter", 10, |t, _, env, _| {
            let points = data(env)["points"].as_array()?;
            (t == "point/report" && points.iter().any(|p| p["sub"] == "meter-1")).then(|| points.clone())
        })
        .await;
    let ua = points.iter().find(|p| p["sub"] == "meter-1" && p["pid"] == "Ua").unwrap();
    assert!((150.0..300.0).contains(&ua["v"].as_f64().unwrap()), "{ua}");
    assert!(points.iter().any(|p| p["sub"] == "GW-SIM-1"), "the gateway's own points use its dev id");

    // Requests: point/get and a command.
    let reply = master.call("point/get", "pg-1", json!({"sub": "meter-1", "pids": ["Ua", "F"]})).await;
    assert_eq!(reply.code, 0, "{reply:?}");
    assert_eq!(reply.data["points"].as_array().unwrap().len(), 2);
    let reply = master.call("command/request", "cmd-1", json!({"cmd": "start", "sub": "pcs-1", "params": {}})).await;
    assert_eq!((reply.code, &reply.data), (0, &json!({"runState": 1})));
    let reply = master.call("command/request", "cmd-2", json!({"cmd": "reboot", "params": {"delay": 9999}})).await;
    assert_eq!(reply.code, 4);

    // OTA: a 256 KiB image, pulled in 64 KiB chunks that this test serves.
    let image: Vec<u8> = (0..256 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let sha = hex::encode(Sha256::digest(&image));
    let upgrade = json!({"taskId": "ota-1", "module": "firmware", "version": "2.0.0", "size": image.len(), "sha256": sha, "chunkSize": 65536});
    let reply = master.call("ota/upgrade", "up-1", upgrade).await;
    assert_eq!(reply.code, 0, "{reply:?}");
    let mut steps = Vec::new();
    let mut chunks = Vec::new();
    let link = master.link.clone();
    let profile = master.profile.clone();
    master
        .wait("the OTA to finish", 30, |t, reply, env, _| {
            match (t, reply, env) {
                ("ota/chunk/get", false, Envelope::Request(r)) => {
                    let offset = r.data["offset"].as_u64().unwrap() as usize;
                    let length = r.data["length"].as_u64().unwrap() as usize;
                    assert_eq!(r.data["taskId"], "ota-1");
                    assert!(length <= 65536);
                    chunks.push(offset);
                    let end = (offset + length).min(image.len());
                    let answer = Reply::ok(&r.id, json!({"taskId": "ota-1", "offset": offset, "data": BASE64.encode(&image[offset..end])}));
                    let topic = profile.build(&CemsTopic::new(PK, "GW-SIM-1", Dir::Up, "ota", "chunk/get").reply_topic()).unwrap();
                    link.publish(Message::new(topic, answer.to_bytes().unwrap(), 1, false)).unwrap();
                }
                ("ota/progress", false, env) => {
                    let step = data(env)["step"].as_str().unwrap().to_owned();
                    assert_ne!(step, "failed", "{:?}", data(env));
                    steps.push(step);
                }
                _ => {}
            }
            (steps.last().map(String::as_str) == Some("done")).then_some(())
        })
        .await;
    assert_eq!(chunks, [0, 65536, 131072, 196608], "asked in order, each chunk once");
    assert_eq!(steps.first().map(String::as_str), Some("accepted"));
    assert!(steps.ends_with(&["verifying".into(), "installing".into(), "done".into()]), "{steps:?}");
    let versions = master
        .wait("the new version", 10, |t, _, env, _| (t == "ota/version").then(|| data(env)["modules"].clone()))
        .await;
    assert_eq!(versions[0], json!({"module": "firmware", "version": "2.0.0"}));
    let reply = master.call("ota/upgrade", "up-2", json!({"taskId": "ota-2", "module": "firmware", "version": "2.0.0", "size": 10, "sha256": sha, "chunkSize": 1024})).await;
    assert_eq!(reply.code, 11, "same version");

    let snapshot = sim.snapshot();
    assert!(snapshot.online);
    assert!(snapshot.counters.reports_sent > 0);
    assert_eq!(snapshot.counters.requests_answered, 5);
    assert_eq!(snapshot.tasks.last().map(|t| (t.id.as_str(), t.code)), Some(("ota-1", 0)));
    assert!(snapshot.master_offset_ms.is_some(), "time/sync answered");

    sim.stop().await;
    let reason = master
        .wait("status offline", 10, |t, _, env, _| (t == "status" && data(env)["online"] == false).then(|| data(env)["reason"].clone()))
        .await;
    assert_eq!(reason, "stopped");
    assert_eq!(retained_status(&url, "GW-SIM-1").await, json!({"online": false, "reason": "stopped"}));
}

/// The status a client subscribing now receives: the retained one (flag checked).
async fn retained_status(url: &str, dev: &str) -> Value {
    let topic = TopicProfile::builtin().status_topic(PK, dev).unwrap();
    let mut config = MqttConfig::new(url, format!("late-{dev}-{}", cems_workbench::protocol::time::now_ms()));
    config.subscriptions = vec![topic.clone()];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic == topic => {
                assert!(m.retain, "a late subscriber gets the status as a retained message");
                link.close();
                return parse_envelope(&m.payload).unwrap().data().clone();
            }
            Ok(Some(_)) => {}
            other => panic!("no retained status for {dev}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_is_resent_as_history() {
    let (_broker, url) = broker().await;
    let mut master = Master::connect(&url, "GW-SIM-2").await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = sim_config(&url, "GW-SIM-2", dir.path());
    config.outage = Some(Outage { at_secs: 1.0, for_secs: 1.5 });
    let sim = sim::spawn(config).unwrap();

    master.wait("online", 10, |t, _, env, _| (t == "status" && data(env)["online"] == true).then_some(())).await;
    let went_down = master
        .wait("offline", 10, |t, _, env, _| (t == "status" && data(env)["online"] == false).then(|| data(env)["reason"].clone()))
        .await;
    assert_eq!(went_down, "lost");
    let down_at = cems_workbench::protocol::time::now_ms();
    master.wait("online again", 10, |t, _, env, _| (t == "status" && data(env)["online"] == true).then_some(())).await;

    // The first batch is not acknowledged: it must come again with the same request id.
    let (first_id, first_batch) = master
        .wait("a history batch", 10, |t, reply, env, _| match env {
            Envelope::Request(r) if t == "history/report" && !reply => Some((r.id.clone(), r.data.clone())),
            _ => None,
        })
        .await;
    let points = first_batch["points"].as_array().unwrap();
    assert!(!points.is_empty());
    assert!(points.iter().all(|p| p["ts"].as_i64().unwrap() <= down_at + 2_000), "original sample times are kept");
    let mut acked = 0;
    master.reply("history/report", Reply::error(&first_id, 1, "try later"));
    // Then acknowledge everything that comes, until the sim has nothing left.
    let link = master.link.clone();
    let profile = master.profile.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(25);
    while sim.snapshot().history_batches_pending > 0 || acked == 0 {
        assert!(tokio::time::Instant::now() < deadline, "history not drained: {:?}", sim.snapshot().counters);
        let (id, batch_id) = master
            .wait("history batches", 15, |t, reply, env, _| match env {
                Envelope::Request(r) if t == "history/report" && !reply => Some((r.id.clone(), r.data["batchId"].clone())),
                _ => None,
            })
            .await;
        if batch_id == first_batch["batchId"] {
            assert_ne!(id, first_id, "after a refusal the batch goes again under a new request id");
        }
        let topic = profile.build(&CemsTopic::new(PK, "GW-SIM-2", Dir::Up, "history", "report").reply_topic()).unwrap();
        let ack = Reply::ok(&id, json!({"batchId": batch_id}));
        link.publish(Message::new(topic, ack.to_bytes().unwrap(), 1, false)).unwrap();
        acked += 1;
        // The ack of the last batch empties the queue; give the sim a moment to see it.
        for _ in 0..20 {
            if sim.snapshot().history_batches_pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let snapshot = sim.snapshot();
    assert!(snapshot.counters.history_batches_acked >= 1);
    assert_eq!(snapshot.counters.connects, 2);
    assert_eq!(snapshot.buffered_items, 0);
    sim.stop().await;
}

/// A TCP relay in front of the broker for the simulator alone, which the test can cut: the sim's
/// connection vanishes without a DISCONNECT and the broker fires its will, while the master,
/// connected directly, stays up to see it. (Stopping the embedded broker would cut the master
/// too, and the sim's online status on reconnect overwrites the retained will.)
struct Cutter {
    addr: std::net::SocketAddr,
    cut: tokio::sync::broadcast::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Cutter {
    async fn start(target: std::net::SocketAddr) -> Cutter {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, _) = tokio::sync::broadcast::channel(4);
        let cut_tx = cut.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut_rx = cut_tx.subscribe();
                tokio::spawn(async move {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cut_rx.recv() => {}
                    }
                });
            }
        });
        Cutter { addr, cut, task }
    }

    fn cut(&self) {
        let _ = self.cut.send(());
    }
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_gets_a_will_with_a_new_id() {
    let (broker, url) = broker().await;
    let cutter = Cutter::start(broker.local_addr()).await;
    let mut master = Master::connect(&url, "GW-SIM-W").await;
    let dir = tempfile::tempdir().unwrap();
    let sim = sim::spawn(sim_config(&format!("mqtt://{}", cutter.addr), "GW-SIM-W", dir.path())).unwrap();

    let mut lost = Vec::new();
    for round in 0..2 {
        master.wait("online", 10, |t, _, env, _| (t == "status" && data(env)["online"] == true).then_some(())).await;
        cutter.cut();
        let (id, ts) = master
            .wait("the will", 10, |t, _, env, _| match env {
                Envelope::Request(r) if t == "status" && r.data["online"] == false => Some((r.id.clone(), r.ts)),
                _ => None,
            })
            .await;
        assert_eq!(master.seen.last().map(|(_, _, e)| data(e)["reason"].clone()), Some(json!("lost")), "round {round}");
        lost.push((id, ts));
    }
    assert_ne!(lost[0].0, lost[1].0, "each broker-fired lost status carries its own id: {lost:?}");
    assert!(lost[1].1 > lost[0].1, "the second will was made for the second connection: {lost:?}");
    sim.stop().await;
}

/// Over a serial cable a frame holds the topic and header too: recalled history must come in
/// batches that fit a frame (else the link drops them), and a second recall while the first is
/// still being sent is refused as busy rather than queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_over_serial_fits_the_frames_one_recall_at_a_time() {
    use cems_workbench::protocol::payload::{PointV, PointValue};
    use cems_workbench::transport::serial::{self, SerialConfig};

    // A long device id (the contract allows 64 characters) makes a long topic: the frame must
    // hold it besides the payload.
    let dev = &format!("GW-SERIAL-{}", "0".repeat(50));
    let (sim_end, master_end) = tokio::io::duplex(1 << 20);
    let dir = tempfile::tempdir().unwrap();
    let mut config = SimConfig::new(ModelSet::builtin(), PK, dev, LinkConfig::Serial(SerialConfig::stream(sim_end)), dir.path().to_path_buf());
    config.report_period_ms = Some(60_000);
    let sim = sim::spawn(config).unwrap();
    // 5,000 samples in the gateway's recent history: several 64 KiB batches' worth.
    let t0 = 1_700_000_000_000i64;
    let samples: Vec<PointValue> =
        (0..5_000).map(|i| PointValue { sub: "meter-1".into(), pid: format!("P{i}"), v: PointV::Number(230.125), q: 0, ts: t0 + i }).collect();
    sim.with_state(|st| st.record_outgoing_parts(samples, Vec::new(), Vec::new(), Vec::new()));

    let (link, events) = serial::spawn(SerialConfig::stream(master_end));
    let mut master = Master { link, events, profile: TopicProfile::builtin(), dev: dev.into(), answer_time_sync: true, seen: Vec::new() };
    master.wait("the announcement", 10, |t, _, _, _| (t == "ota/version").then_some(())).await;

    let reply = master.call("history/get", "hg-1", json!({"from": t0, "to": t0 + 10_000, "sub": "meter-1"})).await;
    assert_eq!(reply.code, 0, "{reply:?}");
    let batches = reply.data["batches"].as_u64().unwrap();
    assert!(batches >= 5, "{batches} batches");
    let report_topic = master.profile.build(&CemsTopic::new(PK, dev, Dir::Up, "history", "report")).unwrap();
    let (mut points, mut recall_batches) = (0, 0);
    // Acknowledge every batch: what was sampled before the link came up is outage history,
    // and may have come while waiting for the reply.
    let early: Vec<(String, Value)> = master
        .seen
        .iter()
        .filter_map(|(t, reply, env)| match env {
            Envelope::Request(r) if t == "history/report" && !reply => Some((r.id.clone(), r.data["batchId"].clone())),
            _ => None,
        })
        .collect();
    for (id, batch_id) in early {
        master.reply("history/report", Reply::ok(&id, json!({"batchId": batch_id})));
    }
    while recall_batches < batches {
        let (id, batch) = master
            .wait("a history batch", 10, |t, reply, env, _| match env {
                Envelope::Request(r) if t == "history/report" && !reply => Some((r.id.clone(), r.data.clone())),
                _ => None,
            })
            .await;
        let size = cems_workbench::protocol::envelope::Request::new(&id, batch.clone()).to_bytes().unwrap().len();
        assert!(size <= serial::max_payload_bytes(&report_topic), "{size} bytes");
        if batch["batchId"].as_str().unwrap().starts_with("recall-") {
            recall_batches += 1;
            points += batch["points"].as_array().unwrap().len();
            if recall_batches == 1 {
                // One recall at a time.
                let busy = master.call("history/get", "hg-2", json!({"from": t0, "to": t0 + 10_000})).await;
                assert_eq!(busy.code, 5, "{busy:?}");
            }
        }
        master.reply("history/report", Reply::ok(&id, json!({"batchId": batch["batchId"]})));
    }
    assert_eq!(points, 5_000);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.snapshot().history_batches_pending > 0 {
        assert!(tokio::time::Instant::now() < deadline, "recall not drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let snapshot = sim.snapshot();
    assert!(snapshot.counters.history_batches_acked >= batches);
    assert_eq!(snapshot.counters.publishes_dropped, 0);
    assert_eq!(master.call("history/get", "hg-3", json!({"from": t0, "to": t0 + 10})).await.code, 0, "free again");
    sim.stop().await;
}
