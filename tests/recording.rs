//! Session recordings: written by `Recorder`, read back with the `mcap` crate's own readers, cut
//! by a kill -9, completed by `recover`, rotated, and recorded by the `record` CLI.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use cems_workbench::engine::recording::{JSON_ENCODING, METADATA_NAME, RAW_ENCODING, RecordOptions, Recorder, RecordingMeta, recover};
use cems_workbench::transport::Message;
use mcap::read::Options;

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");
const CHILD_ENV: &str = "CEMS_RECORDING_CHILD";

fn meta() -> RecordingMeta {
    RecordingMeta {
        link: "mqtt://127.0.0.1:1883".into(),
        workbench_version: "9.9.9".into(),
        models: vec![("PK-GW.json".into(), br#"{"productKey":"PK-GW"}"#.to_vec())],
    }
}

/// Message `i`: mostly CEMS envelopes on a few topics, every fifth a binary serial frame.
fn message(i: u64) -> (Message, i64, Option<u64>) {
    let received = 1_700_000_000_000 + i as i64 * 10;
    if i % 5 == 4 {
        let frame: Vec<u8> = vec![0xAA, 0x00, (i % 256) as u8, 0xFF, 0x13];
        return (Message::new("serial/frame", frame, 0, false), received, None);
    }
    let ts = 1_600_000_000_000 + i;
    let payload = format!(r#"{{"id":"{i}","ts":{ts},"ver":"1.0","data":{{"points":[{{"sub":"m","pid":"P","v":{i}}}]}}}}"#);
    (Message::new(format!("cems/v1/PK/GW-{}/up/point/report", i % 3), payload, 1, false), received, Some(ts))
}

fn read_messages(bytes: &[u8], options: mcap::read::Options) -> (Vec<mcap::Message<'static>>, Option<mcap::McapError>) {
    let mut out = Vec::new();
    let stream = match mcap::MessageStream::new_with_options(bytes, options.into()) {
        Ok(s) => s,
        Err(e) => return (out, Some(e)),
    };
    for m in stream {
        match m {
            Ok(m) => out.push(m),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

#[test]
fn a_thousand_messages_read_back_with_the_mcap_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.mcap");
    let mut recorder = Recorder::create(&path, meta()).unwrap();
    let started = Instant::now();
    for i in 0..1000 {
        let (m, received, _) = message(i);
        recorder.write(&m, received).unwrap();
    }
    let stats = recorder.finish().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    println!("write throughput: {:.0} messages/s ({} bytes)", 1000.0 / elapsed.max(1e-9), stats.bytes);
    assert_eq!(stats.messages, 1000);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(stats.bytes, bytes.len() as u64);
    let (read, error) = read_messages(&bytes, Options::ValidateChunkCrcs);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(read.len(), 1000);
    for (i, got) in read.iter().enumerate() {
        let (m, received, ts) = message(i as u64);
        assert_eq!(got.channel.topic, m.topic);
        assert_eq!(&got.data[..], &m.payload[..], "message {i}");
        assert_eq!(got.log_time, received as u64 * 1_000_000);
        assert_eq!(got.publish_time, ts.map_or(got.log_time, |t| t * 1_000_000));
        assert_eq!(got.channel.message_encoding, if ts.is_some() { JSON_ENCODING } else { RAW_ENCODING });
        assert!(got.channel.schema.is_none());
    }
    let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary");
    assert_eq!(summary.channels.len(), 4, "one channel per topic");
    assert_eq!(summary.stats.as_ref().map(|s| s.message_count), Some(1000));
    assert_eq!(summary.metadata_indexes.len(), 1);
    let metadata = mcap::read::metadata(&bytes, &summary.metadata_indexes[0]).unwrap();
    assert_eq!(metadata.name, METADATA_NAME);
    assert_eq!(metadata.metadata["link"], "mqtt://127.0.0.1:1883");
    assert_eq!(metadata.metadata["version"], "9.9.9");
    assert_eq!(summary.attachment_indexes.len(), 1);
    let attachment = mcap::read::attachment(&bytes, &summary.attachment_indexes[0]).unwrap();
    assert_eq!((attachment.name.as_str(), attachment.media_type.as_str()), ("PK-GW.json", "application/json"));
    assert_eq!(&attachment.data[..], br#"{"productKey":"PK-GW"}"#);
    // A complete file is left as it is.
    let report = recover(&path).unwrap();
    assert!(report.was_complete && report.messages_kept == 1000 && report.bytes_cut == 0, "{report:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// The child of the kill -9 test: records, flushing every 100 messages and saying so, until killed.
#[test]
fn child_records_until_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let mut recorder = Recorder::create(&path, meta()).unwrap();
    for i in 0.. {
        let (m, received, _) = message(i);
        recorder.write(&m, received).unwrap();
        if (i + 1) % 100 == 0 {
            recorder.flush().unwrap();
            println!("flushed {}", i + 1);
        }
        if i > 10_000_000 {
            break;
        }
    }
}

#[test]
fn a_killed_recording_reads_to_its_last_flush_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.mcap");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_records_until_killed", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let flushed: usize = loop {
        let line = lines.next().expect("the child reports flushes").unwrap();
        if let Some(n) = line.strip_prefix("flushed ") {
            let n: usize = n.trim().parse().unwrap();
            if n >= 500 {
                break n;
            }
        }
    };
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (read, error) = read_messages(&bytes, Options::IgnoreEndMagic);
    assert!(read.len() >= flushed, "read {} of {flushed} flushed, then {error:?}", read.len());
    for (i, got) in read.iter().enumerate() {
        assert_eq!(&got.data[..], &message(i as u64).0.payload[..]);
    }
    assert!(mcap::Summary::read(&bytes).is_err() || mcap::Summary::read(&bytes).unwrap().is_none(), "a killed file has no footer");
    let report = recover(&path).unwrap();
    assert!(!report.was_complete);
    assert_eq!(report.messages_kept as usize, read.len(), "recover keeps what the streaming reader reads: {report:?}");
    let fixed = std::fs::read(&path).unwrap();
    let (again, error) = read_messages(&fixed, Options::ValidateChunkCrcs);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(again.len() as u64, report.messages_kept);
    let summary = mcap::Summary::read(&fixed).unwrap().expect("recovered file has a summary");
    assert_eq!(summary.attachment_indexes.len(), 1);
    assert_eq!(summary.metadata_indexes.len(), 1);
}

#[test]
fn cuts_at_any_offset_read_to_the_last_flushed_chunk_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.mcap");
    let mut recorder = Recorder::create(&path, meta()).unwrap();
    // (file size on disk, messages in it) after each flush.
    let mut flushes = vec![];
    for i in 0..600 {
        let (m, received, _) = message(i);
        recorder.write(&m, received).unwrap();
        if (i + 1) % 50 == 0 {
            recorder.flush().unwrap();
            flushes.push((std::fs::metadata(&path).unwrap().len(), i as usize + 1));
        }
    }
    let bytes = std::fs::read(&path).unwrap();
    drop(recorder);
    let mut offsets: Vec<usize> = (0..40).map(|k| 8 + (k * 7919 + k * k * 131) % (bytes.len() - 8)).collect();
    offsets.extend(flushes.iter().map(|&(len, _)| len as usize));
    for cut in offsets {
        let prefix = &bytes[..cut];
        let expected = flushes.iter().filter(|&&(len, _)| len as usize <= cut).map(|&(_, n)| n).max().unwrap_or(0);
        let (read, _) = read_messages(prefix, Options::IgnoreEndMagic);
        // At least up to the last flush; an uncompressed chunk's whole messages past it too.
        assert!(read.len() >= expected, "cut at {cut}: {} of {expected}", read.len());
        assert!(read.iter().enumerate().all(|(i, m)| m.data[..] == message(i as u64).0.payload[..]), "cut at {cut}");
        let expected = read.len();
        let cut_path = dir.path().join(format!("cut-{cut}.mcap"));
        std::fs::write(&cut_path, prefix).unwrap();
        let report = recover(&cut_path).unwrap();
        assert_eq!(report.messages_kept as usize, expected, "cut at {cut}: {report:?}");
        let (again, error) = read_messages(&std::fs::read(&cut_path).unwrap(), Options::ValidateChunkCrcs);
        assert!(error.is_none() && again.len() == expected, "cut at {cut}: {error:?}");
    }
    assert!(recover(dir.path().join("missing.mcap")).unwrap_err().to_string().contains("missing.mcap"));
    std::fs::write(dir.path().join("text.mcap"), "hello").unwrap();
    assert!(recover(dir.path().join("text.mcap")).unwrap_err().to_string().contains("not an MCAP file"));
}

#[test]
fn rotation_continues_in_numbered_files_past_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.mcap");
    let max = 64 * 1024;
    let mut recorder = Recorder::create_with(&path, meta(), RecordOptions { max_bytes: Some(max), ..RecordOptions::default() }).unwrap();
    for i in 0..3000 {
        let (m, received, _) = message(i);
        recorder.write(&m, received).unwrap();
    }
    let stats = recorder.finish().unwrap();
    assert!(stats.files.len() >= 3, "{:?}", stats.files);
    assert_eq!(stats.files[0], path);
    assert_eq!(stats.files[1], dir.path().join("rot-1.mcap"));
    let mut all = Vec::new();
    for file in &stats.files {
        let bytes = std::fs::read(file).unwrap();
        assert!(bytes.len() as u64 <= max + max / 2, "{}: {} bytes", file.display(), bytes.len());
        let (read, error) = read_messages(&bytes, Options::ValidateChunkCrcs);
        assert!(error.is_none(), "{}: {error:?}", file.display());
        let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
        assert_eq!((summary.metadata_indexes.len(), summary.attachment_indexes.len()), (1, 1), "each file stands alone");
        all.extend(read.into_iter().map(|m| m.data.into_owned()));
    }
    assert_eq!(all.len(), 3000);
    assert!(all.iter().enumerate().all(|(i, d)| d[..] == message(i as u64).0.payload[..]), "order kept across files");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_a_clear_error() {
    let error = match Recorder::create(Path::new("/dev/full"), meta()) {
        Err(e) => e,
        Ok(mut r) => {
            let (m, received, _) = message(0);
            r.write(&m, received).and_then(|()| r.flush()).unwrap_err()
        }
    };
    let text = error.to_string();
    assert!(text.contains("/dev/full") && text.contains("space"), "{text}");
    let missing = Recorder::create(Path::new("/nonexistent-folder/x.mcap"), meta()).err().expect("no such folder");
    assert!(missing.to_string().contains("/nonexistent-folder/x.mcap"), "{missing}");
}

struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn record_cli_captures_a_simulated_gateway() {
    let mut broker = Command::new(BIN).args(["broker", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(broker.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _broker = Process(broker);
    let url = format!("mqtt://{}", line.trim().strip_prefix("listening on ").unwrap());
    let _sim = Process(
        Command::new(BIN)
            .args(["sim", "--model", "product-models/energy-gateway.json", "--dev", "GW-REC", "--broker", &url, "--period-ms", "200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("cli.mcap");
    let out = Command::new(BIN).args(["record", "--out", out_path.to_str().unwrap(), "--broker", &url, "--duration", "3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let last: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    let bytes = std::fs::read(&out_path).unwrap();
    assert_eq!(last["file"], out_path.to_str().unwrap());
    assert_eq!(last["bytes"], bytes.len() as u64);
    let (read, error) = read_messages(&bytes, Options::ValidateChunkCrcs);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(last["messages"], read.len() as u64);
    assert!(read.iter().any(|m| m.channel.topic.contains("/GW-REC/") && m.channel.message_encoding == JSON_ENCODING), "the sim's topics");
    let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
    let metadata = mcap::read::metadata(&bytes, &summary.metadata_indexes[0]).unwrap();
    assert_eq!(metadata.metadata["link"], url);
    assert!(!summary.attachment_indexes.is_empty(), "the models in use are attached");
}

#[test]
fn record_cli_exit_codes_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["record"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN).args(["record", "--out", "x.mcap", "--max-mb", "-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let path = dir.path().join("never.mcap");
    let out = Command::new(BIN)
        .args(["record", "--out", path.to_str().unwrap(), "--broker", "mqtt://127.0.0.1:1", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    // --recover on a file cut mid-chunk.
    let cut = dir.path().join("cut.mcap");
    let mut recorder = Recorder::create(&cut, meta()).unwrap();
    for i in 0..10 {
        let (m, received, _) = message(i);
        recorder.write(&m, received).unwrap();
    }
    recorder.flush().unwrap();
    let (m, received, _) = message(10);
    recorder.write(&m, received).unwrap();
    let mut bytes = std::fs::read(&cut).unwrap();
    drop(recorder);
    bytes.extend_from_slice(&[0x06, 0xFF, 0, 0]); // the start of a chunk that never came
    std::fs::write(&cut, &bytes).unwrap();
    let out = Command::new(BIN).args(["record", "--recover", cut.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(out.stdout.trim_ascii()).unwrap();
    assert_eq!((report["messages"].as_u64(), report["bytesCut"].as_u64(), report["complete"].as_bool()), (Some(10), Some(4), Some(false)));
}
