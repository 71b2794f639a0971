//! Replays of MCAP recordings (issue 14): a recording of a simulated gateway played back into an
//! engine gives the same messages, in the same order, with the same receive times; a replay never
//! publishes; speeds, pause and seeks; damaged and foreign files; `replay --to-broker`; and a cut
//! of a time range that the `mcap` crate opens.

mod common;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cems_workbench::engine::gateways::alarm_log::AckState;
use cems_workbench::engine::recording::{Recorder, RecordingMeta, cut, read_messages};
use cems_workbench::engine::{Engine, EngineCommand, EngineConfig, EngineEvent, EngineEvents, EngineHandle, GatewayKey, RequestSpec, SessionId, SessionOptions};
use cems_workbench::protocol::model::ModelSet;
use cems_workbench::sim::{self, SimConfig};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::replay::{ReplayConfig, ReplayControl, ReplayProgress, ReplaySpeed};
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};
use common::{broker, eventually, wait_for};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");
const BASE_MS: i64 = 1_700_000_000_000;

/// (topic, payload, receive time) of one recorded message.
type Seen = (String, Vec<u8>, i64);

fn meta() -> RecordingMeta {
    RecordingMeta { link: "mqtt://127.0.0.1:1883".into(), workbench_version: "test".into(), models: Vec::new() }
}

fn write_recording(path: &Path, messages: &[Seen]) {
    let mut recorder = Recorder::create(path, meta()).unwrap();
    for (topic, payload, received_ms) in messages {
        recorder.write(&Message::new(topic.clone(), payload.clone(), 0, false), *received_ms).unwrap();
    }
    recorder.finish().unwrap();
}

/// `n` point reports of two gateways, `step_ms` apart.
fn synthetic(n: usize, step_ms: i64) -> Vec<Seen> {
    (0..n)
        .map(|i| {
            let payload = json!({"id": format!("r{i}"), "ts": BASE_MS + i as i64 * step_ms, "ver": "1.0",
                "data": {"points": [{"sub": "M1", "pid": "P", "v": i, "q": 0, "ts": BASE_MS + i as i64 * step_ms}]}});
            (format!("cems/v1/PK01/GW-{}/up/point/report", i % 2), payload.to_string().into_bytes(), BASE_MS + i as i64 * step_ms)
        })
        .collect()
}

fn replay_engine() -> (EngineHandle, EngineEvents) {
    Engine::spawn_with(EngineConfig { forward_messages: true, ..EngineConfig::default() }, || {}).unwrap()
}

fn open_replay(engine: &EngineHandle, path: &Path, speed: ReplaySpeed) -> (SessionId, std::sync::Arc<ReplayProgress>) {
    let config = ReplayConfig::new(path).with_speed(speed);
    let progress = config.progress.clone();
    let options = SessionOptions { subscriptions: Vec::new(), label: "replay".into(), read_only: false };
    (engine.connect(LinkConfig::Replay(config), options).unwrap(), progress)
}

/// The messages a session's replay forwards until it ends (its `Down`), and the other events.
async fn play_to_end(events: &mut EngineEvents, session: SessionId) -> (Vec<Seen>, Vec<EngineEvent>) {
    let (mut seen, mut others) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let batch = tokio::time::timeout_at(deadline, events.next_batch()).await.expect("the replay ends").expect("engine runs");
        for event in batch {
            match event {
                EngineEvent::Message { session: s, message, received_ms } if s == session => {
                    seen.push((message.topic, message.payload.to_vec(), received_ms));
                }
                EngineEvent::SessionState { session: s, state: LinkState::Down { .. }, .. } if s == session => {
                    others.push(event);
                    return (seen, others);
                }
                other => others.push(other),
            }
        }
    }
}

/// A simulated gateway on the embedded broker, recorded from an engine's forwarded messages
/// (what `record` does) for about two seconds.
async fn record_a_simulated_gateway(path: &Path) -> Vec<Seen> {
    let broker = broker().await;
    let files = tempfile::tempdir().unwrap();
    let (engine, mut events) = replay_engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-rec")), engine.default_session_options("rec")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let mut config = SimConfig::new(ModelSet::builtin(), "PK-GW-01", "GW-REPLAY", LinkConfig::Mqtt(MqttConfig::new(broker.url(), "x")), files.path().to_path_buf());
    config.report_period_ms = Some(100);
    let sim = sim::spawn(config).unwrap();
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(batch)) = tokio::time::timeout_at(until, events.next_batch()).await {
        for event in batch {
            if let EngineEvent::Message { session: s, message, received_ms } = event
                && s == session
            {
                seen.push((message.topic, message.payload.to_vec(), received_ms));
            }
        }
    }
    sim.stop().await;
    engine.shutdown();
    assert!(seen.len() >= 20, "the sim reported: {}", seen.len());
    write_recording(path, &seen);
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_replays_with_the_same_messages_order_and_receive_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.mcap");
    let recorded = record_a_simulated_gateway(&path).await;
    let (engine, mut events) = replay_engine();
    let (session, progress) = open_replay(&engine, &path, ReplaySpeed::Max);
    let (replayed, others) = play_to_end(&mut events, session).await;
    assert_eq!(replayed, recorded, "same messages, order and receive times");
    assert!(matches!(others.last(), Some(EngineEvent::SessionState { state: LinkState::Down { reason }, .. }) if reason.starts_with("end of recording (")));
    let snapshot = progress.snapshot();
    assert!(snapshot.finished && snapshot.damage.is_none());
    assert_eq!(snapshot.total_messages, Some(recorded.len() as u64));
    // The topic store holds the recorded receive times, not now.
    let store = engine.state.store();
    let (topic, _, _) = &recorded[recorded.len() / 2];
    let expected: Vec<i64> = recorded.iter().filter(|(t, _, _)| t == topic).map(|(_, _, ms)| *ms).collect();
    let held: Vec<i64> = store.history(store.find(topic).unwrap()).iter().map(|m| m.received_ms).collect();
    assert_eq!(held, expected, "{topic}");
    drop(store);
    // The gateway table filled as it did live.
    let key = GatewayKey { pk: "PK-GW-01".into(), dev: "GW-REPLAY".into() };
    assert!(engine.state.gateways().get(&key).is_some(), "the replayed gateway is known");
    // read_messages (the export's reader) sees the same.
    let mut read = Vec::new();
    let report = read_messages(&path, |m| {
        read.push((m.topic, m.payload.to_vec(), m.log_ms));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(read, recorded);
    assert_eq!((report.messages, report.damage), (recorded.len() as u64, None));
    assert_eq!((report.first_ms, report.last_ms), (recorded.iter().map(|s| s.2).min(), recorded.iter().map(|s| s.2).max()));
}

/// A gateway announcing itself, raising an alarm, sending a history batch, asking for the time
/// and sending a bad envelope: every one a reason for a live master to publish.
fn duties() -> Vec<Seen> {
    let up = |what: &str, payload: Value, at: i64| (format!("cems/v1/PK01/GW-A/up/{what}"), payload.to_string().into_bytes(), BASE_MS + at);
    let alarm = json!({"alarmId": "A1", "sub": "M1", "type": "overvoltage", "level": 2, "state": "raised", "ts": 1});
    vec![
        up("status", json!({"id": "s1", "ts": 1, "ver": "1.0", "data": {"online": true}}), 0),
        up("alarm/report", json!({"id": "al-1", "ts": 1, "ver": "1.0", "data": {"alarms": [alarm.clone()]}}), 10),
        up("history/report", json!({"id": "h-1", "ts": 1, "ver": "1.0", "data": {"batchId": "b1", "points": [], "alarms": [alarm]}}), 20),
        up("time/sync", json!({"id": "t-1", "ts": 1, "ver": "1.0", "data": {"t1": 5}}), 30),
        // An id that can be read in an envelope that cannot: a live master answers code 3.
        ("cems/v1/PK01/GW-A/up/alarm/report".into(), br#"{"id":"bad-1","ts":"x"}"#.to_vec(), BASE_MS + 40),
        up("status", json!({"id": "s2", "ts": 2, "ver": "1.0", "data": {"online": true}}), 50),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_never_publishes_acknowledgements_answers_discovery_or_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("duties.mcap");
    write_recording(&path, &duties());
    // Master duties and discovery on, as in the window.
    let (engine, mut events) = replay_engine();
    let (session, _) = open_replay(&engine, &path, ReplaySpeed::Max);
    let (replayed, mut others) = play_to_end(&mut events, session).await;
    assert_eq!(replayed.len(), 6);
    // A publish reaching the link would come back as a notice a moment after it played.
    while let Ok(Some(batch)) = tokio::time::timeout(Duration::from_millis(500), events.next_batch()).await {
        others.extend(batch);
    }
    // The replay link answers any publish that reaches it with PublishDropped, which the engine
    // turns into a "not sent" notice; discovery would show as a request sent.
    let texts: Vec<String> = others.iter().filter_map(|e| if let EngineEvent::Notice { text, .. } = e { Some(text.to_string()) } else { None }).collect();
    assert!(!texts.iter().any(|t| t.contains("not sent") || t.contains("cannot reply")), "{texts:?}");
    assert!(!others.iter().any(|e| matches!(e, EngineEvent::RequestSent { .. } | EngineEvent::RequestDone(_))), "{others:?}");
    let key = GatewayKey { pk: "PK01".into(), dev: "GW-A".into() };
    let acks: Vec<AckState> = engine.state.gateways().get(&key).expect("the gateway is known").alarm_log.rows.iter().map(|r| r.ack).collect();
    assert!(!acks.is_empty() && !acks.contains(&AckState::Sent), "nothing acknowledged by us: {acks:?}");
    // Asked to, it refuses at once with a clear failure or notice.
    let outcome = engine.call(RequestSpec::new(session, "PK01", "GW-A", "info", "get", json!({}))).await.unwrap();
    let failure = outcome.result.expect_err("refused").to_string();
    assert!(failure.contains("a replay does not publish"), "{failure}");
    engine.publish(session, Message::new("cems/v1/PK01/GW-A/down/info/get", b"{}".to_vec(), 1, false)).unwrap();
    let notice = wait_for(&mut events, Duration::from_secs(5), "a notice", |e| match e {
        EngineEvent::Notice { session: Some(s), text } if *s == session => Some(text.to_string()),
        _ => None,
    }).await;
    assert!(notice.contains("is a replay"), "{notice}");
}

/// Messages forwarded per session until `session` ends.
async fn race(events: &mut EngineEvents, sessions: &[SessionId], until_ends: SessionId) -> Vec<usize> {
    let mut counts = vec![0; sessions.len()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let batch = tokio::time::timeout_at(deadline, events.next_batch()).await.expect("the race ends").expect("engine runs");
        for event in batch {
            match event {
                EngineEvent::Message { session, .. } => {
                    if let Some(i) = sessions.iter().position(|s| *s == session) {
                        counts[i] += 1;
                    }
                }
                EngineEvent::SessionState { session, state: LinkState::Down { .. }, .. } if session == until_ends => return counts,
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faster_speeds_finish_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three-seconds.mcap");
    // 31 messages over 3 s.
    write_recording(&path, &synthetic(31, 100));
    let (engine, mut events) = replay_engine();
    let (one, _) = open_replay(&engine, &path, ReplaySpeed::Factor(1.0));
    let (ten, _) = open_replay(&engine, &path, ReplaySpeed::Factor(10.0));
    let counts = race(&mut events, &[one, ten], ten).await;
    assert_eq!(counts[1], 31, "10× played everything");
    assert!(counts[0] < 31, "1× is still playing when 10× is done: {counts:?}");
    let (max, _) = open_replay(&engine, &path, ReplaySpeed::Max);
    let (ten_again, _) = open_replay(&engine, &path, ReplaySpeed::Factor(10.0));
    let counts = race(&mut events, &[max, ten_again], max).await;
    assert_eq!(counts[0], 31, "max played everything");
    assert!(counts[1] < 31, "10× is still playing when max is done: {counts:?}");
}

/// Every topic's receive times in the store, checked for duplicates.
fn stored_times(engine: &EngineHandle, topics: &[String]) -> Vec<i64> {
    let store = engine.state.store();
    let mut all = Vec::new();
    for topic in topics {
        let Some(id) = store.find(topic) else { continue };
        let times: Vec<i64> = store.history(id).iter().map(|m| m.received_ms).collect();
        let mut unique = times.clone();
        unique.dedup();
        assert_eq!(unique, times, "{topic}: no duplicates");
        all.extend(times);
    }
    all.sort_unstable();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_seeks_forward_and_back_leave_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("thirty-seconds.mcap");
    let recorded = synthetic(300, 100);
    write_recording(&path, &recorded);
    let topics: Vec<String> = vec![recorded[0].0.clone(), recorded[1].0.clone()];
    let (engine, _events) = replay_engine();
    let (session, progress) = open_replay(&engine, &path, ReplaySpeed::Factor(1.0));
    let control = |control| engine.send(EngineCommand::ReplayControl { session, control }).unwrap();
    eventually(Duration::from_secs(5), "playing", || progress.snapshot().messages >= 1).await;
    control(ReplayControl::Pause);
    eventually(Duration::from_secs(5), "paused", || progress.snapshot().paused).await;
    let held = progress.snapshot().messages;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(progress.snapshot().messages <= held + 1, "nothing plays while paused");
    // Forward to 10 s, while paused: played at once, then held.
    control(ReplayControl::Seek { to_ms: BASE_MS + 10_000 });
    eventually(Duration::from_secs(5), "at 10 s", || progress.snapshot().position_ms == Some(BASE_MS + 9_900)).await;
    eventually(Duration::from_secs(5), "stored", || stored_times(&engine, &topics).len() == 100).await;
    // Back to 2 s: the session's messages leave the store and come again up to 2 s.
    control(ReplayControl::Seek { to_ms: BASE_MS + 2_000 });
    eventually(Duration::from_secs(5), "back at 2 s", || progress.snapshot().position_ms == Some(BASE_MS + 1_900)).await;
    eventually(Duration::from_secs(5), "store rebuilt", || stored_times(&engine, &topics).len() == 20).await;
    let times = stored_times(&engine, &topics);
    assert_eq!(times, (0..20).map(|i| BASE_MS + i * 100).collect::<Vec<_>>());
    // Forward again, then resume at max: everything once.
    control(ReplayControl::Seek { to_ms: BASE_MS + 5_000 });
    eventually(Duration::from_secs(5), "at 5 s", || stored_times(&engine, &topics).len() == 50).await;
    control(ReplayControl::Speed(ReplaySpeed::Max));
    control(ReplayControl::Resume);
    eventually(Duration::from_secs(10), "the end", || progress.snapshot().finished).await;
    // The link has sent its last message; the engine stores it a moment later.
    eventually(Duration::from_secs(10), "everything stored", || stored_times(&engine, &topics).len() >= recorded.len()).await;
    let times = stored_times(&engine, &topics);
    assert_eq!(times, recorded.iter().map(|s| s.2).collect::<Vec<_>>());
}

fn run_cli(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn the_cli_prints_every_message_a_cut_file_replays_its_prefix_and_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("whole.mcap");
    let recorded = synthetic(3000, 1);
    write_recording(&path, &recorded);
    let (code, stdout, stderr) = run_cli(&["replay", arg(&path), "--speed", "max"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3001, "a line per message and the summary");
    for (line, (topic, payload, ms)) in lines.iter().zip(&recorded) {
        assert_eq!((line["topic"].as_str(), line["ts"].as_i64()), (Some(topic.as_str()), Some(*ms)));
        assert_eq!(line["payload"], serde_json::from_slice::<Value>(payload).unwrap());
    }
    let summary = &lines[3000];
    assert_eq!((summary["messages"].as_u64(), summary["first"].as_i64(), summary["last"].as_i64()), (Some(3000), Some(BASE_MS), Some(BASE_MS + 2999)));
    assert!(summary["damage"].is_null());

    // The bytes of the recording cut in half.
    let bytes = std::fs::read(&path).unwrap();
    let half = dir.path().join("half.mcap");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let readable = read_messages(&half, |_| ControlFlow::Continue(())).unwrap();
    assert!(readable.messages > 0 && readable.messages < 3000 && readable.damage.is_some(), "{readable:?}");
    let (code, stdout, stderr) = run_cli(&["replay", arg(&half), "--speed", "max"]);
    assert_eq!(code, Some(1), "{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["messages"].as_u64(), Some(readable.messages), "everything readable was played");
    let damage = summary["damage"].as_str().unwrap();
    assert!(damage.starts_with(&format!("recording damaged after {} messages at byte ", readable.messages)), "{damage}");
    assert!(stderr.contains(damage), "{stderr}");

    let garbage = dir.path().join("garbage.mcap");
    std::fs::write(&garbage, "date,value\n1,2\n").unwrap();
    let (code, stdout, stderr) = run_cli(&["replay", arg(&garbage)]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("garbage.mcap: not an MCAP file"), "{stderr}");
    let (code, _, stderr) = run_cli(&["replay", arg(&dir.path().join("missing.mcap"))]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot open recording") && stderr.contains("missing.mcap"), "{stderr}");
    let (code, _, stderr) = run_cli(&["replay", arg(&path), "--speed", "fast"]);
    assert_eq!(code, Some(2), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_broker_republishes_with_the_recorded_timing() {
    let broker = broker().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.mcap");
    // 40 messages over 2 s: at 10× about 0.2 s.
    let recorded = synthetic(40, 50);
    write_recording(&path, &recorded);
    let mut config = MqttConfig::new(broker.url(), "another-tool");
    config.subscriptions = vec!["cems/#".into()];
    let (_client, mut client_events) = spawn_link(LinkConfig::Mqtt(config));
    while !matches!(tokio::time::timeout(Duration::from_secs(5), client_events.recv()).await.unwrap(), Some(LinkEvent::State(LinkState::Up)) | None) {}
    // The subscription goes out right after Up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let args: Vec<String> = ["replay", arg(&path), "--speed", "10", "--to-broker", &broker.url()].map(String::from).to_vec();
    let cli = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().unwrap());
    let mut got: Vec<(String, Vec<u8>)> = Vec::new();
    while got.len() < recorded.len() {
        match tokio::time::timeout(Duration::from_secs(10), client_events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) => got.push((m.topic, m.payload.to_vec())),
            Ok(Some(_)) => {}
            other => panic!("{} of {} seen, then {other:?}", got.len(), recorded.len()),
        }
    }
    let out = cli.await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert_eq!(summary["messages"].as_u64(), Some(40));
    assert_eq!(got, recorded.iter().map(|(t, p, _)| (t.clone(), p.clone())).collect::<Vec<_>>(), "another client sees them in order");
    // A broker that is not there is a link failure.
    let (code, _, stderr) = run_cli(&["replay", arg(&path), "--to-broker", "mqtt://127.0.0.1:1", "--timeout", "1"]);
    assert_eq!(code, Some(3), "{stderr}");
}

#[test]
fn a_cut_keeps_only_its_range_and_opens_with_the_mcap_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.mcap");
    let recorded = synthetic(1000, 10);
    let mut recorder = Recorder::create(&path, RecordingMeta { models: vec![("PK01.json".into(), b"{}".to_vec())], ..meta() }).unwrap();
    for (topic, payload, ms) in &recorded {
        recorder.write(&Message::new(topic.clone(), payload.clone(), 0, false), *ms).unwrap();
    }
    recorder.finish().unwrap();
    let out: PathBuf = dir.path().join("short.mcap");
    let report = cut(&path, BASE_MS + 2_000, BASE_MS + 2_990, &out).unwrap();
    assert_eq!(report.messages, 100);
    assert_eq!(report.damage, None);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(report.bytes, bytes.len() as u64);
    let messages: Vec<mcap::Message<'_>> = mcap::MessageStream::new(&bytes).unwrap().map(Result::unwrap).collect();
    let expected: Vec<&Seen> = recorded.iter().filter(|s| (BASE_MS + 2_000..=BASE_MS + 2_990).contains(&s.2)).collect();
    assert_eq!(messages.len(), expected.len());
    for (got, (topic, payload, ms)) in messages.iter().zip(expected) {
        assert_eq!((&got.channel.topic, &got.data[..], got.log_time), (topic, &payload[..], *ms as u64 * 1_000_000));
    }
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a complete file");
    assert_eq!(summary.channels.len(), 2, "the same channels");
    assert_eq!((summary.metadata_indexes.len(), summary.attachment_indexes.len()), (1, 1), "metadata and models kept");
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains(".part")), "no temporary file left");
    // A range with nothing in it is a valid, empty recording; a foreign file is refused.
    assert_eq!(cut(&path, 0, 10, &dir.path().join("empty.mcap")).unwrap().messages, 0);
    std::fs::write(dir.path().join("text.mcap"), "hello").unwrap();
    assert!(cut(&dir.path().join("text.mcap"), 0, 1, &out).unwrap_err().to_string().contains("not an MCAP file"));
}
