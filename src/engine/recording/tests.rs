use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use super::sink::{Opener, Sink};
use super::*;
use crate::transport::Message;

#[test]
fn payloads_are_classified_and_envelope_times_taken() {
    assert_eq!(classify(br#"{"id":"1","ts":1700000000123,"data":{}}"#, 5), (JSON_ENCODING, 1_700_000_000_123_000_000));
    assert_eq!(classify(br#"{"ts":1.5}"#, 5), (JSON_ENCODING, 1_500_000));
    // JSON, but no usable envelope time.
    for payload in [&br#"{"ts":"x"}"#[..], br#"{"ts":-3}"#, br#"{"ts":1e300}"#, b"[1,2]", b"42", br#"{"a":1}"#] {
        assert_eq!(classify(payload, 5), (JSON_ENCODING, 5), "{}", String::from_utf8_lossy(payload));
    }
    assert_eq!(classify(&[0xff, 0x00, 0x12], 5), (RAW_ENCODING, 5));
    assert_eq!(classify(b"hello", 5), (RAW_ENCODING, 5));
    assert_eq!(ms_to_ns(-1), 0);
}

#[test]
fn rotations_are_numbered_beside_the_first_file() {
    assert_eq!(rotation_path(Path::new("/d/run.mcap"), 0), PathBuf::from("/d/run.mcap"));
    assert_eq!(rotation_path(Path::new("/d/run.mcap"), 2), PathBuf::from("/d/run-2.mcap"));
    assert_eq!(rotation_path(Path::new("run"), 1), PathBuf::from("run-1"));
}

/// A disk that fills up after `room` bytes; what it took stays in `taken`.
struct FullDisk {
    taken: Arc<Mutex<Vec<u8>>>,
    room: usize,
}

impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut taken = self.taken.lock().unwrap();
        let free = self.room.saturating_sub(taken.len());
        if free == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "No space left on device"));
        }
        let n = free.min(buf.len());
        taken.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for FullDisk {
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_full_disk_stops_the_recording_with_a_clear_error_and_keeps_what_was_flushed() {
    let taken = Arc::new(Mutex::new(Vec::new()));
    let disk = taken.clone();
    let open: Opener = Box::new(move |_: &Path| Ok(Box::new(FullDisk { taken: disk.clone(), room: 20_000 }) as Box<dyn Sink>));
    let meta = RecordingMeta { link: "mqtt://h:1883".into(), workbench_version: "t".into(), models: Vec::new() };
    let mut recorder = Recorder::create_on(Path::new("/full/run.mcap"), meta, RecordOptions::default(), open).unwrap();
    let mut flushed = 0;
    let mut error = None;
    for i in 0..1000 {
        let message = Message::new("lab/t", format!(r#"{{"ts":{i},"v":"{}"}}"#, "x".repeat(100)), 0, false);
        if let Err(e) = recorder.write(&message, i).and_then(|()| recorder.flush()) {
            error = Some(e);
            break;
        }
        flushed += 1;
    }
    let error = error.expect("the disk filled up");
    assert!(matches!(error, RecordError::Write { .. }), "{error:?}");
    assert!(error.to_string().contains("/full/run.mcap") && error.to_string().contains("No space"), "{error}");
    let later = recorder.write(&Message::new("lab/t", "{}", 0, false), 1).unwrap_err();
    assert!(matches!(later, RecordError::Stopped { .. }), "{later:?}");
    assert!(recorder.finish().is_err());
    let bytes = taken.lock().unwrap().clone();
    let read = mcap::MessageStream::new_with_options(&bytes, mcap::read::Options::IgnoreEndMagic.into())
        .unwrap()
        .take_while(Result::is_ok)
        .count();
    assert!(flushed > 10 && read >= flushed, "flushed {flushed}, readable {read}");
}

#[test]
fn qos_and_retained_flags_come_back_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flags.mcap");
    let mut recorder = Recorder::create(&path, RecordingMeta::default()).unwrap();
    let sent = [
        Message::new("cems/v1/PK/GW/up/status", &br#"{"id":"s","ts":1,"data":{"online":true}}"#[..], 1, true),
        Message::new("cems/v1/PK/GW/up/status", &br#"{"id":"t","ts":2,"data":{"online":true}}"#[..], 1, false),
        Message::new("lab/raw", &b"\x01\x02"[..], 0, false),
    ];
    for (i, m) in sent.iter().enumerate() {
        recorder.write(m, 1_000 + i as i64).unwrap();
    }
    recorder.finish().unwrap();
    let mut reader = crate::transport::replay::McapReader::open(&path).unwrap();
    let mut back = Vec::new();
    while let Some(m) = reader.next_message().unwrap() {
        back.push(m.to_message());
    }
    assert_eq!(back, sent, "topic, payload, QoS and retained flag as received");
}
