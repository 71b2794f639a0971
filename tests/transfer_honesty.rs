//! Issue 9, item 5: a push succeeds only when the gateway pulled the whole image (every byte
//! served at least once) and then said done. A raw fake gateway over the embedded broker accepts
//! the announcement, pulls what the test says (nothing, all but one chunk, half) and reports
//! success anyway; the task must end failed, saying how much was pulled, and `ota` / `file put`
//! must exit 1 with that in their JSON line.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use cems_workbench::engine::{EngineEvent, EngineEvents, EngineHandle, FileDownloadSpec, OtaSpec, SessionId, TransferPhase, TransferStatus};
use cems_workbench::protocol::envelope::{Envelope, Reply, Request, parse_envelope};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};
use common::{broker, engine, engine_ready, wait_for};
use serde_json::{Value, json};

const PK: &str = "PK01";
const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

/// Which chunks the fake gateway asks for before it claims success.
#[derive(Debug, Clone, Copy)]
enum Pull {
    Nothing,
    FirstHalf,
    /// Every chunk but the one with this index (the last byte is served, a hole is left).
    AllBut(u64),
    Everything,
}

/// How the fake gateway says an upgrade is done.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// `ota/progress` `verifying`, then `done`.
    ProgressDone,
    /// `ota/progress` `verifying`, then `ota/version` with the new version (a reboot).
    NewVersion,
}

fn image(len: usize) -> Bytes {
    Bytes::from((0..len).map(|i| (i * 31 % 251) as u8).collect::<Vec<_>>())
}

/// A gateway that accepts every `ota/upgrade` and `file/download`, pulls per `pull`, and then
/// reports success whatever it got. Runs until the test ends.
async fn lying_gateway(url: &str, dev: &str, pull: Pull, verdict: Verdict) -> tokio::task::JoinHandle<()> {
    let mut config = MqttConfig::new(url, format!("{PK}.{dev}"));
    config.subscriptions = vec![format!("cems/v1/{PK}/{dev}/down/#")];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let probe = format!("cems/v1/{PK}/{dev}/down/probe/ready");
    let mut up = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) if !up => {
                up = true;
                link.publish(Message::new(probe.clone(), b"{}".to_vec(), 1, false)).unwrap();
            }
            Ok(Some(LinkEvent::Message(m))) if m.topic == probe => break,
            Ok(Some(_)) => {}
            other => panic!("fake gateway did not come up: {other:?}"),
        }
    }
    let dev = dev.to_owned();
    tokio::spawn(async move {
        let up = format!("cems/v1/{PK}/{dev}/up");
        let mut n = 0u64;
        while let Some(event) = events.recv().await {
            let LinkEvent::Message(m) = event else { continue };
            let Ok(Envelope::Request(request)) = parse_envelope(&m.payload) else { continue };
            let (class, id_field) = if m.topic.ends_with("/down/ota/upgrade") {
                ("ota", "taskId")
            } else if m.topic.ends_with("/down/file/download") {
                ("file", "fileId")
            } else {
                continue; // discovery's info/get and ota/version/get go unanswered
            };
            let action = if class == "ota" { "upgrade" } else { "download" };
            link.publish(Message::new(format!("{up}/{class}/{action}/reply"), Reply::ok(&request.id, json!({})).to_bytes().unwrap(), 1, false)).unwrap();
            let data = &request.data;
            let task = data[id_field].as_str().unwrap().to_owned();
            let (size, chunk) = (data["size"].as_u64().unwrap(), data["chunkSize"].as_u64().unwrap());
            let chunks = size.div_ceil(chunk);
            let wanted: Vec<u64> = match pull {
                Pull::Nothing => Vec::new(),
                Pull::FirstHalf => (0..chunks / 2).collect(),
                Pull::AllBut(skip) => (0..chunks).filter(|i| *i != skip).collect(),
                Pull::Everything => (0..chunks).collect(),
            };
            for index in wanted {
                n += 1;
                let id = format!("chunk-{n}");
                let ask = Request::new(&id, json!({id_field: task, "offset": index * chunk, "length": chunk})).to_bytes().unwrap();
                link.publish(Message::new(format!("{up}/{class}/chunk/get"), ask, 1, false)).unwrap();
                // One at a time: the next request waits for this chunk.
                loop {
                    match events.recv().await {
                        Some(LinkEvent::Message(m)) if matches!(parse_envelope(&m.payload), Ok(Envelope::Reply(r)) if r.id == id && r.code == 0) => break,
                        Some(_) => {}
                        None => return,
                    }
                }
            }
            let mut report = |topic: String, data: Value| {
                n += 1;
                link.publish(Message::new(topic, Request::new(format!("rep-{n}"), data).to_bytes().unwrap(), 1, false)).unwrap();
            };
            if class == "file" {
                report(format!("{up}/file/download/result"), json!({"fileId": task, "code": 0}));
                continue;
            }
            report(format!("{up}/ota/progress"), json!({"taskId": task, "step": "verifying", "percent": 100, "code": 0}));
            match verdict {
                Verdict::ProgressDone => report(format!("{up}/ota/progress"), json!({"taskId": task, "step": "done", "percent": 100, "code": 0})),
                Verdict::NewVersion => report(format!("{up}/ota/version"), json!({"modules": [{"module": data["module"], "version": data["version"]}]})),
            }
        }
    })
}

async fn connected_engine(url: &str) -> (EngineHandle, EngineEvents, SessionId) {
    let (engine, mut events) = engine();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url, "wb-honesty")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    (engine, events, session)
}

async fn final_status(events: &mut EngineEvents, id: &str) -> TransferStatus {
    wait_for(events, Duration::from_secs(30), "the transfer to end", |e| match e {
        EngineEvent::Transfer(s) if s.id == id && s.phase.is_final() => Some(s.clone()),
        _ => None,
    })
    .await
}

/// The task failed with code 1 and a message containing every one of `parts`.
fn assert_failed_saying(status: &TransferStatus, parts: &[&str]) {
    let TransferPhase::Failed { code, name, msg } = &status.phase else { panic!("a lie is not a success: {status:?}") };
    assert_eq!((*code, *name), (1, "failed"), "{msg}");
    for part in parts {
        assert!(msg.contains(part), "{msg:?} should say {part:?}");
    }
}

fn ota(session: SessionId, dev: &str, len: usize, chunk_size: u32) -> OtaSpec {
    let mut spec = OtaSpec::new(session, PK, dev, "firmware", "2.0.0", image(len));
    spec.chunk_size = chunk_size;
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_reported_done_without_a_byte_pulled_fails() {
    let broker = broker().await;
    let (engine, mut events, session) = connected_engine(&broker.url()).await;
    let _gw = lying_gateway(&broker.url(), "GW-LAZY", Pull::Nothing, Verdict::ProgressDone).await;
    let id = engine.start_ota(ota(session, "GW-LAZY", 8 * 1024 * 1024, 65_536)).unwrap();
    let status = final_status(&mut events, &id).await;
    assert_failed_saying(&status, &["the gateway reported done after pulling 0 of 8,388,608 bytes"]);
    assert_eq!((status.progress.bytes_moved, status.progress.covered), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_with_one_chunk_never_pulled_fails_though_the_last_byte_was_served() {
    let broker = broker().await;
    let (engine, mut events, session) = connected_engine(&broker.url()).await;
    let _gw = lying_gateway(&broker.url(), "GW-HOLE", Pull::AllBut(5), Verdict::ProgressDone).await;
    let id = engine.start_ota(ota(session, "GW-HOLE", 16 * 1024, 1024)).unwrap();
    let status = final_status(&mut events, &id).await;
    // Everything up to the end was served but bytes 5,120..6,144: a high-water mark would pass it.
    assert_eq!(status.progress.position, 16 * 1024);
    assert_failed_saying(&status, &["pulling 15,360 of 16,384 bytes", "5,120"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_version_announced_after_half_the_image_fails() {
    let broker = broker().await;
    let (engine, mut events, session) = connected_engine(&broker.url()).await;
    let _gw = lying_gateway(&broker.url(), "GW-HALF", Pull::FirstHalf, Verdict::NewVersion).await;
    let id = engine.start_ota(ota(session, "GW-HALF", 8 * 1024, 1024)).unwrap();
    let status = final_status(&mut events, &id).await;
    assert_failed_saying(&status, &["firmware 2.0.0", "pulling 4,096 of 8,192 bytes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_reported_stored_without_a_byte_pulled_fails() {
    let broker = broker().await;
    let (engine, mut events, session) = connected_engine(&broker.url()).await;
    let _gw = lying_gateway(&broker.url(), "GW-FLAZY", Pull::Nothing, Verdict::ProgressDone).await;
    let mut spec = FileDownloadSpec::new(session, PK, "GW-FLAZY", "meters.csv", image(10_000));
    spec.chunk_size = 1024;
    let id = engine.start_file_download(spec).unwrap();
    let status = final_status(&mut events, &id).await;
    assert_failed_saying(&status, &["result 0", "pulling 0 of 10,000 bytes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_pulls_everything_still_succeeds() {
    let broker = broker().await;
    let (engine, mut events, session) = connected_engine(&broker.url()).await;
    let _gw = lying_gateway(&broker.url(), "GW-HONEST", Pull::Everything, Verdict::ProgressDone).await;
    let id = engine.start_ota(ota(session, "GW-HONEST", 10_000, 1024)).unwrap();
    let status = final_status(&mut events, &id).await;
    assert_eq!(status.phase, TransferPhase::Done, "{status:?}");
    assert_eq!(status.progress.covered, 10_000);
    let mut spec = FileDownloadSpec::new(session, PK, "GW-HONEST", "a.bin", image(3000));
    spec.chunk_size = 1024;
    let id = engine.start_file_download(spec).unwrap();
    assert_eq!(final_status(&mut events, &id).await.phase, TransferPhase::Done);
    // The version announcement as the verdict, after everything was pulled.
    let _gw2 = lying_gateway(&broker.url(), "GW-HONEST2", Pull::Everything, Verdict::NewVersion).await;
    let id = engine.start_ota(ota(session, "GW-HONEST2", 5000, 1024)).unwrap();
    assert_eq!(final_status(&mut events, &id).await.phase, TransferPhase::Done);
}

/// Runs the binary off the test's runtime (the broker and the fake gateway live on it).
async fn run(args: Vec<String>) -> (i32, Value, String) {
    let out = tokio::task::spawn_blocking(move || Command::new(BIN).args(&args).output().expect("binary runs")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = stdout.lines().next().map_or(Value::Null, |l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")));
    (out.status.code().unwrap_or(-1), line, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ota_and_file_put_exit_1_when_the_gateway_pulled_nothing() {
    let broker = broker().await;
    let url = broker.url();
    let _gw = lying_gateway(&url, "GW-CLI-LAZY", Pull::Nothing, Verdict::ProgressDone).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fw.bin");
    std::fs::write(&file, image(100_000)).unwrap();
    let file = file.display().to_string();
    let ota: Vec<String> = ["ota", "PK01/GW-CLI-LAZY", "--image", &file, "--module", "firmware", "--version", "2.0.0", "--broker", &url, "--timeout", "10"].map(str::to_owned).to_vec();
    let (code, line, err) = run(ota).await;
    assert_eq!(code, 1, "{line} {err}");
    assert_eq!((line["phase"].as_str(), line["code"].as_i64(), line["bytesMoved"].as_u64()), (Some("failed"), Some(1), Some(0)), "{line}");
    assert!(line["msg"].as_str().is_some_and(|m| m.contains("the gateway reported done after pulling 0 of 100,000 bytes")), "{line}");
    assert!(err.contains("pulling 0 of 100,000 bytes"), "{err}");

    let put: Vec<String> = ["file", "put", "PK01/GW-CLI-LAZY", &file, "--name", "fw.bin", "--broker", &url, "--timeout", "10"].map(str::to_owned).to_vec();
    let (code, line, err) = run(put).await;
    assert_eq!(code, 1, "{line} {err}");
    assert_eq!((line["phase"].as_str(), line["kind"].as_str(), line["bytesCovered"].as_u64()), (Some("failed"), Some("file-download"), Some(0)), "{line}");
    assert!(line["msg"].as_str().is_some_and(|m| m.contains("pulling 0 of 100,000 bytes")), "{line}");
}
