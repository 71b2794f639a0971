//! Tests of the transfer tasks (built only under #[cfg(test)]).
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use super::*;
use super::types::KEEP_FINISHED;
use crate::protocol::digest::sha256_hex;
use crate::protocol::payload::{FileDownloadResult, ModuleVersion, OtaProgress, OtaStep};
use crate::disk::write_atomic;
use crate::engine::requests::{ReplyInfo, RequestFailure};
use crate::engine::transfers::{ChunkAnswer, ServedCounters, TransferService};

const S: SessionId = 1;
const MQTT_UP: Option<SessionInfo> = Some(SessionInfo { kind: LinkKind::Mqtt, up: true });

fn tasks() -> TransferTasks {
    TransferTasks::new(Arc::new(IdGenerator::new("t")))
}

fn image(len: usize) -> Bytes {
    Bytes::from((0..len).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>())
}

fn ota_spec(id: &str, len: usize) -> OtaSpec {
    let mut spec = OtaSpec::new(S, "PK", "GW", "firmware", "2.0.0", image(len));
    spec.task_id = id.into();
    spec.chunk_size = 1024;
    spec
}

/// The request among `actions` (there is at most one).
fn request(actions: &[TaskAction]) -> Option<(RequestSpec, String)> {
    actions.iter().find_map(|a| match a {
        TaskAction::Request { spec, id } => Some((spec.clone(), id.clone())),
        _ => None,
    })
}

/// The last status among `actions`.
fn status(actions: &[TaskAction]) -> Option<TransferStatus> {
    actions.iter().rev().find_map(|a| match a {
        TaskAction::Status { status, .. } => Some(status.clone()),
        _ => None,
    })
}

fn outcome(spec: &RequestSpec, id: &str, result: Result<ReplyInfo, RequestFailure>) -> RequestOutcome {
    RequestOutcome {
        id: id.into(),
        session: spec.session,
        pk: spec.pk.clone(),
        dev: spec.dev.clone(),
        class: spec.class.clone(),
        action: spec.action.clone(),
        result,
        latency_ms: 1.0,
    }
}

fn reply(code: i64, data: Value) -> Result<ReplyInfo, RequestFailure> {
    Ok(ReplyInfo { code, name: codes::code_name(code), msg: (code != 0).then(|| "nope".to_owned()), data })
}

fn key() -> GatewayKey {
    GatewayKey { pk: "PK".into(), dev: "GW".into() }
}

/// The service's counters after serving `bytes` in `chunks`, every byte below `end` once.
fn pulled(bytes: u64, chunks: u64, end: u64) -> Option<ServedCounters> {
    Some(ServedCounters { bytes_served: bytes, chunks, high_water: end, covered: end, first_missing: Some(end) })
}

fn progress(id: &str, step: OtaStep, code: i64) -> OtaProgress {
    OtaProgress { task_id: id.into(), step, percent: 0.0, code, msg: (code != 0).then(|| "bad".into()) }
}

#[test]
fn chunk_sizes_follow_the_contract_and_the_serial_frame() {
    assert!(check_chunk_size(256, false).is_ok());
    assert!(check_chunk_size(65_536, false).is_ok());
    assert!(check_chunk_size(255, false).is_err());
    assert!(check_chunk_size(65_537, false).is_err());
    assert!(check_chunk_size(SERIAL_MAX_CHUNK, true).is_ok());
    let err = check_chunk_size(SERIAL_MAX_CHUNK + 1, true).unwrap_err();
    assert!(err.contains("serial"), "{err}");
    // The largest serial chunk reply fits a frame: base64 plus envelope, ids and topic.
    let b64 = (SERIAL_MAX_CHUNK as usize).div_ceil(3) * 4;
    assert!(b64 + 64 * 3 + 200 + 7 < crate::protocol::frame::MAX_FRAME_LEN);
}

#[test]
fn ota_offers_then_announces_and_follows_progress_to_done() {
    let mut t = tasks();
    let t0 = Instant::now();
    let actions = t.start_ota(ota_spec("u1", 3000), MQTT_UP, t0);
    assert!(matches!(&actions[1], TaskAction::Offer { kind: TransferKind::Ota, chunk_size: 1024, .. }), "offer before the announcement: {actions:?}");
    let (spec, id) = request(&actions).unwrap();
    assert_eq!((spec.class.as_str(), spec.action.as_str()), ("ota", "upgrade"));
    assert_eq!(spec.data["size"], 3000);
    assert_eq!(spec.data["chunkSize"], 1024);
    assert_eq!(spec.data["sha256"], sha256_hex(&image(3000)));
    assert_eq!(status(&actions).unwrap().phase, TransferPhase::Announcing);

    let accepted = t.on_request_done(&outcome(&spec, &id, reply(0, json!({}))), t0);
    assert_eq!(status(&accepted).unwrap().phase, TransferPhase::Running);
    let served = t.on_chunk_request(TransferKind::Ota, "u1", pulled(2048, 2, 2048), t0 + Duration::from_millis(500));
    let st = status(&served).unwrap();
    assert_eq!((st.progress.bytes_moved, st.progress.position, st.progress.size), (2048, 2048, 3000));
    assert!(t.on_chunk_request(TransferKind::File, "u1", pulled(1, 1, 1), t0).is_empty(), "another kind's id is not this task");
    t.on_chunk_request(TransferKind::Ota, "u1", Some(ServedCounters { bytes_served: 3000, chunks: 3, high_water: 3000, covered: 3000, first_missing: None }), t0);
    let v = t.on_ota_progress(&key(), &progress("u1", OtaStep::Verifying, 0), t0);
    assert_eq!(status(&v).unwrap().phase, TransferPhase::Verifying);
    let other = GatewayKey { pk: "PK".into(), dev: "OTHER".into() };
    assert!(t.on_ota_progress(&other, &progress("u1", OtaStep::Done, 0), t0).is_empty(), "another gateway's report");
    let done = t.on_ota_progress(&key(), &progress("u1", OtaStep::Done, 0), t0);
    assert!(matches!(&done[0], TaskAction::Withdraw { kind: TransferKind::Ota, id } if id == "u1"));
    let st = status(&done).unwrap();
    assert_eq!(st.phase, TransferPhase::Done);
    assert_eq!(st.progress.device_step, Some(OtaStep::Done));
    assert!(t.tasks.is_empty() && t.requests.is_empty() && t.next_deadline().is_none());
}

#[test]
fn refusal_failure_and_checksum_codes_are_kept() {
    let mut t = tasks();
    let t0 = Instant::now();
    let actions = t.start_ota(ota_spec("r1", 100), MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    let refused = t.on_request_done(&outcome(&spec, &id, reply(11, json!({}))), t0);
    assert!(matches!(status(&refused).unwrap().phase, TransferPhase::Refused { code: 11, name: "same_version", .. }));
    assert!(refused.iter().any(|a| matches!(a, TaskAction::Withdraw { .. })));

    t.start_ota(ota_spec("c1", 100), MQTT_UP, t0);
    let failed = t.on_ota_progress(&key(), &progress("c1", OtaStep::Failed, 9), t0);
    let TransferPhase::Failed { code, name, msg } = status(&failed).unwrap().phase else { panic!("{failed:?}") };
    assert_eq!((code, name, msg.as_str()), (9, "checksum", "bad"));
    // A failure without a code is still a failure.
    t.start_ota(ota_spec("c2", 100), MQTT_UP, t0);
    let failed = t.on_ota_progress(&key(), &progress("c2", OtaStep::Failed, 0), t0);
    assert!(matches!(status(&failed).unwrap().phase, TransferPhase::Failed { code: 1, .. }));
}

#[test]
fn bad_starts_are_invalid_without_sending_anything() {
    let mut t = tasks();
    let t0 = Instant::now();
    let serial = Some(SessionInfo { kind: LinkKind::Serial, up: true });
    let mut big = ota_spec("s1", 100);
    big.chunk_size = 65_536;
    let cases = [
        t.start_ota(big.clone(), serial, t0),
        t.start_ota(ota_spec("s2", 100), None, t0),
        t.start_ota(ota_spec("", 100), MQTT_UP, t0),
        t.start_ota(OtaSpec { sha256: "abc".into(), ..ota_spec("s3", 100) }, MQTT_UP, t0),
        t.start_ota(ota_spec("s4", 0), MQTT_UP, t0),
    ];
    for actions in &cases {
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert!(matches!(status(actions).unwrap().phase, TransferPhase::Invalid { .. }));
    }
    assert!(t.start_ota(big, MQTT_UP, t0).len() > 1, "64 KiB is fine over MQTT");
    let again = t.start_ota(ota_spec("s1", 100), MQTT_UP, t0);
    assert!(matches!(status(&again).unwrap().phase, TransferPhase::Invalid { ref msg } if msg.contains("already running")));

    for name in ["../x", "/etc/passwd", "a/b", "", ".", "..", "a\\b"] {
        let mut spec = FileDownloadSpec::new(S, "PK", "GW", name, image(10));
        spec.file_id = format!("d-{name}");
        let actions = t.start_download(spec, MQTT_UP, t0);
        assert!(matches!(status(&actions).unwrap().phase, TransferPhase::Invalid { .. }), "{name:?}");
        let mut spec = FileUploadSpec::new(S, "PK", "GW", name, PathBuf::from("/tmp/x"));
        spec.file_id = format!("u-{name}");
        let actions = t.start_upload(spec, MQTT_UP, t0);
        assert!(matches!(status(&actions).unwrap().phase, TransferPhase::Invalid { .. }), "{name:?}");
    }
}

#[test]
fn silence_times_out_restarts_on_life_and_pauses_while_the_link_is_down() {
    let mut t = tasks();
    let t0 = Instant::now();
    let mut spec = ota_spec("q1", 5000);
    spec.silence_timeout = Duration::from_secs(60);
    t.start_ota(spec, MQTT_UP, t0);
    assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(60)));
    t.on_chunk_request(TransferKind::Ota, "q1", pulled(1024, 1, 1024), t0 + Duration::from_secs(30));
    assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(90)));
    // A refused chunk request is life too.
    t.on_chunk_request(TransferKind::Ota, "q1", None, t0 + Duration::from_secs(40));
    assert!(t.on_tick(t0 + Duration::from_secs(95)).is_empty());
    t.on_link(S, false, t0 + Duration::from_secs(96));
    assert_eq!(t.next_deadline(), None);
    assert!(t.on_tick(t0 + Duration::from_secs(500)).is_empty(), "our link down: not the gateway's silence");
    t.on_link(S, true, t0 + Duration::from_secs(500));
    let out = t.on_tick(t0 + Duration::from_secs(560));
    let TransferPhase::TimedOut { after, waiting_for } = status(&out).unwrap().phase else { panic!("{out:?}") };
    assert_eq!(after, Duration::from_secs(60));
    assert!(waiting_for.contains("ota/upgrade"), "the announce was never answered: {waiting_for}");
    assert!(out.iter().any(|a| matches!(a, TaskAction::Withdraw { .. })));
}

#[test]
fn unanswered_announcements_are_resent_with_the_same_id_until_the_silence_ends() {
    let mut t = tasks();
    let t0 = Instant::now();
    let actions = t.start_ota(ota_spec("a1", 100), MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    assert_eq!(spec.timeout, DEFAULT_TIMEOUT);
    let timeout = || Err(RequestFailure::Timeout { after_ms: 10_000 });
    let retry = t.on_request_done(&outcome(&spec, &id, timeout()), t0 + Duration::from_secs(10));
    let (again, again_id) = request(&retry).unwrap();
    assert_eq!(again_id, id);
    assert_eq!(again.data, spec.data);
    let gone = t.on_request_done(&outcome(&spec, &id, timeout()), t0 + Duration::from_secs(61));
    assert!(matches!(status(&gone).unwrap().phase, TransferPhase::TimedOut { .. }));
    // A link failure is not a silence.
    let actions = t.start_ota(ota_spec("a2", 100), MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    let out = t.on_request_done(&outcome(&spec, &id, Err(RequestFailure::LinkClosed("gone".into()))), t0);
    assert!(matches!(status(&out).unwrap().phase, TransferPhase::Aborted { .. }));
}

#[test]
fn cancel_withdraws_the_image_so_the_gateway_gets_code_7() {
    let mut t = tasks();
    let mut service = TransferService::default();
    let t0 = Instant::now();
    let mut spec = FileDownloadSpec::new(S, "PK", "GW", "meters.csv", image(4000));
    spec.file_id = "f1".into();
    spec.chunk_size = 1024;
    let mut all = t.start_download(spec, MQTT_UP, t0);
    all.extend(t.cancel("f1", t0));
    for action in all {
        match action {
            TaskAction::Offer { kind, id, data, chunk_size } => service.offer(kind, id, data, chunk_size),
            TaskAction::Withdraw { kind, id } => {
                service.withdraw(kind, &id);
            }
            TaskAction::Status { status, .. } => assert!(matches!(status.phase, TransferPhase::Announcing | TransferPhase::Cancelled)),
            _ => {}
        }
    }
    let ChunkAnswer::Refuse(refusal) = service.respond(TransferKind::File, &json!({"fileId": "f1", "offset": 0, "length": 10})) else {
        panic!("a cancelled file is refused, not served nor ignored")
    };
    assert_eq!(refusal.code, codes::NOT_FOUND);
    assert!(t.cancel("f1", t0).is_empty(), "cancelling twice does nothing");
}

#[test]
fn file_download_is_verifying_once_all_is_served_and_done_on_result_0() {
    let mut t = tasks();
    let t0 = Instant::now();
    let mut spec = FileDownloadSpec::new(S, "PK", "GW", "a.bin", image(2048));
    spec.file_id = "d1".into();
    spec.chunk_size = 1024;
    t.start_download(spec, MQTT_UP, t0);
    // The gateway pulled before its reply to the announcement arrived.
    let out = t.on_chunk_request(TransferKind::File, "d1", pulled(1024, 1, 1024), t0);
    assert_eq!(status(&out).unwrap().phase, TransferPhase::Running);
    let out = t.on_chunk_request(TransferKind::File, "d1", pulled(2048, 2, 2048), t0);
    assert_eq!(status(&out).unwrap().phase, TransferPhase::Verifying);
    let out = t.on_download_result(&key(), &FileDownloadResult { file_id: "d1".into(), code: 10, msg: Some("full".into()) }, t0);
    assert!(matches!(status(&out).unwrap().phase, TransferPhase::Failed { code: 10, name: "no_space", .. }));
}

#[test]
fn progress_events_are_rate_limited_but_phase_changes_are_not() {
    let mut t = tasks();
    let t0 = Instant::now();
    t.start_ota(ota_spec("e1", 1_000_000), MQTT_UP, t0);
    t.on_ota_progress(&key(), &progress("e1", OtaStep::Accepted, 0), t0);
    let mut events = 0;
    for i in 1..=100u64 {
        let at = t0 + Duration::from_millis(i * 10);
        for a in t.on_chunk_request(TransferKind::Ota, "e1", pulled(i * 1024, i, i * 1024), at) {
            if let TaskAction::Status { event: true, .. } = a {
                events += 1;
            }
        }
    }
    assert!((9..=11).contains(&events), "about 10 per second over 1 s: {events}");
    let st = t.tasks.get_mut("e1").unwrap().status_action(t0 + Duration::from_secs(1), false);
    let TaskAction::Status { status, .. } = st else { panic!() };
    assert!((status.progress.rate_bps - 102_400.0).abs() < 5_000.0, "{}", status.progress.rate_bps);
    assert!(status.progress.eta.is_some());
}

/// Plays a gateway serving `content` to an upload task, corrupting nothing; returns the actions.
fn run_upload(t: &mut TransferTasks, dest: &Path, content: &[u8], announced_sha: &str) -> Vec<TaskAction> {
    let t0 = Instant::now();
    let mut spec = FileUploadSpec::new(S, "PK", "GW", "log.txt", dest.to_path_buf());
    spec.file_id = "up1".into();
    spec.read_size = 1000;
    let actions = t.start_upload(spec, MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    assert_eq!((spec.action.as_str(), spec.data["name"].as_str()), ("upload", Some("log.txt")));
    let mut actions = t.on_request_done(&outcome(&spec, &id, reply(0, json!({"size": content.len(), "sha256": announced_sha}))), t0);
    let mut all = Vec::new();
    while let Some((spec, id)) = request(&actions) {
        assert_eq!(spec.action, "read");
        let offset = spec.data["offset"].as_u64().unwrap() as usize;
        let length = spec.data["length"].as_u64().unwrap() as usize;
        assert!(length <= 1000);
        let chunk = &content[offset..(offset + length).min(content.len())];
        let data = json!({"fileId": "up1", "offset": offset, "data": BASE64.encode(chunk)});
        all.append(&mut actions);
        actions = t.on_request_done(&outcome(&spec, &id, reply(0, data)), t0);
    }
    all.extend(actions);
    all
}

#[test]
fn upload_checks_the_digest_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.txt");
    let content = image(4321);
    let mut t = tasks();
    let all = run_upload(&mut t, &dest, &content, &sha256_hex(&content).to_uppercase());
    let write = all.iter().find_map(|a| match a {
        TaskAction::Write { id, dest, data } => Some((id.clone(), dest.clone(), data.clone())),
        _ => None,
    });
    let (id, path, data) = write.expect("a write once the digest matched");
    assert_eq!((id.as_str(), path.as_path(), data.as_slice()), ("up1", dest.as_path(), &content[..]));
    assert_eq!(status(&all).unwrap().phase, TransferPhase::Verifying);
    write_atomic(&path, &data).unwrap();
    let done = t.on_written("up1", Ok(()), Instant::now());
    let st = status(&done).unwrap();
    assert_eq!(st.phase, TransferPhase::Done);
    assert_eq!((st.progress.position, st.progress.size, st.progress.chunks), (4321, 4321, 5));
    assert_eq!(std::fs::read(&dest).unwrap(), &content[..]);

    let mut t = tasks();
    let other = dir.path().join("other.txt");
    let all = run_upload(&mut t, &other, &content, &"0".repeat(64));
    assert!(!all.iter().any(|a| matches!(a, TaskAction::Write { .. })));
    let TransferPhase::Failed { code, name, msg } = status(&all).unwrap().phase else { panic!() };
    assert_eq!((code, name), (9, "checksum"));
    assert!(msg.contains("nothing written"), "{msg}");
    assert!(!other.exists());
}

#[test]
fn upload_read_errors_and_bad_replies_fail_the_task() {
    let mut t = tasks();
    let t0 = Instant::now();
    let mut spec = FileUploadSpec::new(S, "PK", "GW", "a.txt", PathBuf::from("/nonexistent/a.txt"));
    spec.file_id = "u9".into();
    let actions = t.start_upload(spec, MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    let out = t.on_request_done(&outcome(&spec, &id, reply(0, json!({"size": 10, "sha256": "zz"}))), t0);
    assert!(matches!(status(&out).unwrap().phase, TransferPhase::Failed { code: 1, .. }));

    let mut spec = FileUploadSpec::new(S, "PK", "GW", "a.txt", PathBuf::from("/nonexistent/a.txt"));
    spec.file_id = "u10".into();
    let actions = t.start_upload(spec, MQTT_UP, t0);
    let (spec, id) = request(&actions).unwrap();
    let out = t.on_request_done(&outcome(&spec, &id, reply(0, json!({"size": 10, "sha256": "a".repeat(64)}))), t0);
    let (read, read_id) = request(&out).unwrap();
    // A chunk for another offset is refused, not appended.
    let out = t.on_request_done(&outcome(&read, &read_id, reply(0, json!({"fileId": "u10", "offset": 5, "data": "AAAA"}))), t0);
    assert!(matches!(status(&out).unwrap().phase, TransferPhase::Failed { ref msg, .. } if msg.contains("offset 5")));
}

#[test]
fn the_table_keeps_a_bounded_history() {
    let mut table = TransferTable::default();
    let base = TransferStatus {
        id: String::new(),
        kind: TaskKind::Ota,
        session: S,
        gateway: key(),
        target: "x".into(),
        sha256: String::new(),
        chunk_size: 1024,
        dest: None,
        phase: TransferPhase::Done,
        progress: TransferProgress::default(),
        elapsed: Duration::ZERO,
    };
    table.update(TransferStatus { id: "running".into(), phase: TransferPhase::Running, ..base.clone() });
    for i in 0..150 {
        table.update(TransferStatus { id: format!("t{i}"), ..base.clone() });
    }
    assert_eq!(table.len(), KEEP_FINISHED + 1);
    assert!(table.get("running").is_some() && table.get("t0").is_none() && table.get("t149").is_some());
}

#[test]
fn a_claim_of_success_without_the_whole_image_pulled_fails() {
    let mut t = tasks();
    let t0 = Instant::now();
    // Done without a byte pulled.
    t.start_ota(ota_spec("n1", 8 * 1024 * 1024), MQTT_UP, t0);
    let out = t.on_ota_progress(&key(), &progress("n1", OtaStep::Done, 0), t0);
    assert!(out.iter().any(|a| matches!(a, TaskAction::Withdraw { .. })));
    let TransferPhase::Failed { code, msg, .. } = status(&out).unwrap().phase else { panic!("{out:?}") };
    assert_eq!(code, codes::FAILED);
    assert!(msg.starts_with("the gateway reported done after pulling 0 of 8,388,608 bytes"), "{msg}");
    // All but one chunk, the last byte served (the high-water mark is full, the coverage not).
    t.start_ota(ota_spec("n2", 3000), MQTT_UP, t0);
    let hole = ServedCounters { bytes_served: 2000, chunks: 2, high_water: 3000, covered: 1976, first_missing: Some(1024) };
    t.on_chunk_request(TransferKind::Ota, "n2", Some(hole), t0);
    let out = t.on_ota_progress(&key(), &progress("n2", OtaStep::Done, 0), t0);
    let TransferPhase::Failed { msg, .. } = status(&out).unwrap().phase else { panic!("{out:?}") };
    assert!(msg.contains("pulling 1,976 of 3,000 bytes") && msg.contains("offset 1,024"), "{msg}");
    // The new version announced after half the image.
    t.start_ota(ota_spec("n3", 4096), MQTT_UP, t0);
    t.on_chunk_request(TransferKind::Ota, "n3", pulled(2048, 2, 2048), t0);
    t.on_ota_progress(&key(), &progress("n3", OtaStep::Verifying, 0), t0);
    let out = t.on_versions(&key(), &[ModuleVersion { module: "firmware".into(), version: "2.0.0".into() }], t0);
    let TransferPhase::Failed { msg, .. } = status(&out).unwrap().phase else { panic!("{out:?}") };
    assert!(msg.contains("firmware 2.0.0 installed after pulling 2,048 of 4,096 bytes"), "{msg}");
    // A file download result 0 without a byte pulled; the same with everything pulled is done.
    for (id, counters, done) in [("f1", None, false), ("f2", pulled(2048, 2, 2048), true)] {
        let mut spec = FileDownloadSpec::new(S, "PK", "GW", "a.bin", image(2048));
        spec.file_id = id.into();
        spec.chunk_size = 1024;
        t.start_download(spec, MQTT_UP, t0);
        if counters.is_some() {
            t.on_chunk_request(TransferKind::File, id, counters, t0);
        }
        let out = t.on_download_result(&key(), &FileDownloadResult { file_id: id.into(), code: 0, msg: None }, t0);
        let phase = status(&out).unwrap().phase;
        assert_eq!(phase == TransferPhase::Done, done, "{id}: {phase:?}");
        if !done {
            assert!(matches!(&phase, TransferPhase::Failed { msg, .. } if msg.contains("result 0") && msg.contains("pulling 0 of 2,048 bytes")), "{phase:?}");
        }
    }
    assert!(t.tasks.is_empty());
}

#[test]
fn thousands_are_grouped() {
    assert_eq!(crate::protocol::json_num::thousands(0), "0");
    assert_eq!(crate::protocol::json_num::thousands(999), "999");
    assert_eq!(crate::protocol::json_num::thousands(1000), "1,000");
    assert_eq!(crate::protocol::json_num::thousands(8_388_608), "8,388,608");
    assert_eq!(crate::protocol::json_num::thousands(u64::MAX), "18,446,744,073,709,551,615");
}
