//! The reader against files the `mcap` crate wrote (whole, cut at every offset, corrupted, not
//! MCAP at all) and the player's pacing, controls and refusals.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use mcap::records::MessageHeader;

use super::*;
use crate::transport::{LinkCommand, LinkEvent, LinkState, Message};

const BASE_MS: i64 = 1_700_000_000_000;

/// `n` messages on two channels, `step_ms` apart, in chunks of about `chunk` bytes.
fn recording(n: u64, step_ms: i64, chunk: u64) -> Vec<u8> {
    let options = mcap::WriteOptions::new().compression(None).use_chunks(true).chunk_size(Some(chunk));
    let mut writer = options.create(Cursor::new(Vec::new())).unwrap();
    let mut qos1 = BTreeMap::new();
    qos1.insert("qos".to_owned(), "1".to_owned());
    qos1.insert("retain".to_owned(), "true".to_owned());
    let a = writer.add_channel(0, "lab/a", "json", &BTreeMap::new()).unwrap();
    let b = writer.add_channel(0, "lab/b", "json", &qos1).unwrap();
    for i in 0..n {
        let log_time = ((BASE_MS + i as i64 * step_ms) as u64) * 1_000_000;
        let header = MessageHeader { channel_id: if i % 2 == 0 { a } else { b }, sequence: i as u32, log_time, publish_time: log_time };
        writer.write_to_known_channel(&header, format!("{{\"i\":{i}}}").as_bytes()).unwrap();
    }
    writer.finish().unwrap();
    writer.into_inner().into_inner()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_all(path: &Path) -> (Vec<McapMessage>, Option<ReadDamage>) {
    let mut reader = McapReader::open(path).unwrap();
    let mut out = Vec::new();
    loop {
        match reader.next_message() {
            Ok(Some(m)) => out.push(m),
            Ok(None) => return (out, None),
            Err(d) => {
                assert_eq!(d.messages, out.len() as u64, "the damage counts what came before it");
                assert!(reader.next_message().unwrap().is_none(), "said once, then the end");
                return (out, Some(d));
            }
        }
    }
}

#[test]
fn a_whole_file_reads_in_order_with_its_channels_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "whole.mcap", &recording(500, 10, 4096));
    let (messages, damage) = read_all(&path);
    assert_eq!(damage, None);
    assert_eq!(messages.len(), 500);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(m.log_ms(), BASE_MS + i as i64 * 10);
        assert_eq!(&m.data[..], format!("{{\"i\":{i}}}").as_bytes());
        let wire = m.to_message();
        let (topic, qos, retain) = if i % 2 == 0 { ("lab/a", 0, false) } else { ("lab/b", 1, true) };
        assert_eq!((wire.topic.as_str(), wire.qos, wire.retain), (topic, qos, retain), "qos and retain from the channel's metadata");
    }
    let facts = read_summary(&path).expect("a summary");
    assert_eq!(facts, SummaryFacts { start_ms: BASE_MS, end_ms: BASE_MS + 4990, messages: 500 });
}

#[test]
fn a_file_cut_anywhere_gives_a_prefix_and_says_where_it_broke() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = recording(200, 10, 1024);
    let mut last = 0;
    for cut in (8..bytes.len()).step_by(37) {
        let path = write(dir.path(), "cut.mcap", &bytes[..cut]);
        let (messages, damage) = read_all(&path);
        let Some(damage) = damage else {
            // Cut in the summary, after the data's end: nothing is missing.
            assert_eq!(messages.len(), 200, "cut at {cut}: no damage reported");
            last = 200;
            continue;
        };
        assert!(damage.byte <= cut as u64, "cut at {cut}: {damage}");
        for (i, m) in messages.iter().enumerate() {
            assert_eq!(&m.data[..], format!("{{\"i\":{i}}}").as_bytes(), "cut at {cut}");
        }
        // Further cuts never read less (whole messages of a cut chunk included).
        assert!(messages.len() >= last || messages.len() == 200, "cut at {cut}: {} after {last}", messages.len());
        last = messages.len();
        assert!(damage.to_string().starts_with(&format!("recording damaged after {} messages at byte ", messages.len())), "{damage}");
    }
    assert!(last > 150, "a cut near the end keeps nearly all: {last}");
    // Cut in the middle of the data section's last chunk: the whole messages before the cut come.
    let half = write(dir.path(), "half.mcap", &bytes[..bytes.len() / 2]);
    let (messages, damage) = read_all(&half);
    assert!(!messages.is_empty() && damage.is_some());
}

#[test]
fn a_changed_byte_stops_at_its_chunk_and_a_wild_length_allocates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = recording(300, 10, 1024);
    let whole = read_all(&write(dir.path(), "ok.mcap", &bytes)).0.len();
    // A payload digit in the middle of the file: the chunk's CRC no longer matches.
    let middle = bytes.len() / 2;
    let at = (middle..bytes.len()).find(|&i| bytes[i] == b'"' && bytes[i + 1] == b'i').unwrap() + 4;
    bytes[at] ^= 0x01;
    let (messages, damage) = read_all(&write(dir.path(), "crc.mcap", &bytes));
    let damage = damage.expect("damage");
    assert!(damage.reason.contains("CRC"), "{damage}");
    assert!(messages.len() < whole && !messages.is_empty(), "{} of {whole}", messages.len());
    // A record announcing 2^62 bytes right after the magic.
    let mut wild = mcap::MAGIC.to_vec();
    wild.push(mcap::records::op::CHUNK);
    wild.extend_from_slice(&(1u64 << 62).to_le_bytes());
    wild.extend_from_slice(&[0; 64]);
    let (messages, damage) = read_all(&write(dir.path(), "wild.mcap", &wild));
    assert!(messages.is_empty());
    assert!(damage.expect("damage").to_string().contains("at byte 8: a record cut short"));
}

#[test]
fn a_file_that_is_not_mcap_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("text.mcap", &b"hello, this is not a recording"[..]), ("empty.mcap", b""), ("short.mcap", b"\x89MC")] {
        let error = McapReader::open(&write(dir.path(), name, bytes)).err().expect("refused");
        assert!(error.to_string().contains(name) && error.to_string().contains("not an MCAP file"), "{error}");
    }
    let missing = McapReader::open(&dir.path().join("missing.mcap")).err().expect("refused");
    assert!(missing.to_string().starts_with("cannot open recording") && missing.to_string().contains("missing.mcap"), "{missing}");
}

#[test]
fn speeds_parse_as_max_or_a_bounded_factor() {
    assert_eq!(ReplaySpeed::parse("max"), Ok(ReplaySpeed::Max));
    assert_eq!(ReplaySpeed::parse("MAX"), Ok(ReplaySpeed::Max));
    assert_eq!(ReplaySpeed::parse("10"), Ok(ReplaySpeed::Factor(10.0)));
    assert_eq!(ReplaySpeed::parse("0.5x"), Ok(ReplaySpeed::Factor(0.5)));
    for bad in ["0", "-1", "nan", "inf", "1e9", "fast", ""] {
        assert!(ReplaySpeed::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(ReplaySpeed::Factor(f64::NAN).factor(), Some(1.0));
    assert_eq!(ReplaySpeed::Factor(1e12).factor(), Some(MAX_FACTOR));
    assert_eq!(ReplaySpeed::Max.factor(), None);
}

/// Events until the link is Down (the end) or `limit` passes; the recorded messages and the rest.
async fn until_down(events: &mut tokio::sync::mpsc::Receiver<LinkEvent>, limit: Duration) -> (Vec<(Message, i64)>, Vec<LinkEvent>) {
    let (mut messages, mut others) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + limit;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
        match event {
            LinkEvent::Recorded { message, received_ms } => messages.push((message, received_ms)),
            LinkEvent::State(LinkState::Down { reason }) => {
                others.push(LinkEvent::State(LinkState::Down { reason }));
                break;
            }
            other => others.push(other),
        }
    }
    (messages, others)
}

/// Recorded messages until the one recorded at `at` (inclusive), within 10 s.
async fn until_time(events: &mut tokio::sync::mpsc::Receiver<LinkEvent>, at: i64) -> Vec<i64> {
    let mut times = Vec::new();
    while times.last() != Some(&at) {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(LinkEvent::Recorded { received_ms, .. })) => times.push(received_ms),
            Ok(Some(_)) => {}
            other => panic!("waiting for {at}, after {times:?}: {other:?}"),
        }
    }
    times
}

#[tokio::test]
async fn max_speed_plays_everything_with_recorded_times_then_says_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    // 1000 messages over 100 s of recorded time.
    let path = write(dir.path(), "max.mcap", &recording(1000, 100, 4096));
    let config = ReplayConfig::new(&path).with_speed(ReplaySpeed::Max);
    let (handle, mut events) = spawn(config);
    assert_eq!(handle.kind, LinkKind::Replay);
    let (messages, others) = until_down(&mut events, Duration::from_secs(20)).await;
    assert_eq!(messages.len(), 1000);
    assert!(messages.iter().enumerate().all(|(i, (_, t))| *t == BASE_MS + i as i64 * 100));
    assert_eq!(others.first(), Some(&LinkEvent::State(LinkState::Connecting { attempt: 1 })));
    assert!(others.contains(&LinkEvent::State(LinkState::Up)));
    assert_eq!(others.last(), Some(&LinkEvent::State(LinkState::Down { reason: "end of recording (1,000 messages)".into() })));
    let progress = handle.replay_progress().expect("a replay shows its progress").snapshot();
    assert!(progress.finished && progress.damage.is_none());
    assert_eq!((progress.messages, progress.total_messages, progress.position_ms), (1000, Some(1000), Some(BASE_MS + 99_900)));
    assert_eq!((progress.start_ms, progress.end_ms), (Some(BASE_MS), Some(BASE_MS + 99_900)));
    // A publish is refused by the link itself, never sent anywhere.
    handle.publish(Message::new("cems/v1/PK/GW/down/info/get", "{}", 1, false)).unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.unwrap();
    assert!(matches!(refused, Some(LinkEvent::PublishDropped { ref reason, .. }) if reason == "a replay does not publish"), "{refused:?}");
    handle.close();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), events.recv()).await.unwrap(), Some(LinkEvent::State(LinkState::Closed)));
}

#[tokio::test]
async fn one_times_speed_is_paced_and_pause_seek_and_rewind_follow_commands() {
    let dir = tempfile::tempdir().unwrap();
    // 300 messages over 30 s: at 1× only the first few arrive in the first 300 ms.
    let path = write(dir.path(), "paced.mcap", &recording(300, 100, 4096));
    let (handle, mut events) = spawn(ReplayConfig::new(&path));
    let (early, _) = until_down(&mut events, Duration::from_millis(300)).await;
    assert!(!early.is_empty() && early.len() < 50, "paced: {} in 300 ms", early.len());
    handle.send(LinkCommand::Replay(ReplayControl::Pause)).unwrap();
    // Seek forward while paused: played at once up to the target, then held.
    handle.send(LinkCommand::Replay(ReplayControl::Seek { to_ms: BASE_MS + 20_000 })).unwrap();
    until_time(&mut events, BASE_MS + 19_900).await;
    let (held, _) = until_down(&mut events, Duration::from_millis(300)).await;
    assert!(held.is_empty(), "held at the target while paused: {held:?}");
    assert!(handle.replay_progress().unwrap().snapshot().paused);
    // Back: the link says so first, then plays from the start up to the target.
    handle.send(LinkCommand::Replay(ReplayControl::Seek { to_ms: BASE_MS + 5_000 })).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.unwrap();
    assert_eq!(first, Some(LinkEvent::Rewound));
    let again = until_time(&mut events, BASE_MS + 4_900).await;
    assert_eq!(again, (0..50).map(|i| BASE_MS + i * 100).collect::<Vec<_>>(), "from the start to 5 s");
    let (held, _) = until_down(&mut events, Duration::from_millis(300)).await;
    assert!(held.is_empty(), "held at the target: {held:?}");
    // Resume at Max: the rest comes, and the end.
    handle.send(LinkCommand::Replay(ReplayControl::Speed(ReplaySpeed::Max))).unwrap();
    handle.send(LinkCommand::Replay(ReplayControl::Resume)).unwrap();
    let (rest, others) = until_down(&mut events, Duration::from_secs(20)).await;
    assert_eq!(rest.len(), 250);
    assert!(matches!(others.last(), Some(LinkEvent::State(LinkState::Down { .. }))));
    handle.close();
}

#[tokio::test]
async fn a_damaged_file_plays_its_readable_part_and_garbage_never_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = recording(400, 1, 2048);
    let path = write(dir.path(), "half.mcap", &bytes[..bytes.len() / 2]);
    let (handle, mut events) = spawn(ReplayConfig::new(&path).with_speed(ReplaySpeed::Max));
    let (messages, others) = until_down(&mut events, Duration::from_secs(20)).await;
    let Some(LinkEvent::State(LinkState::Down { reason })) = others.last() else { panic!("{others:?}") };
    assert!(reason.starts_with(&format!("recording damaged after {} messages at byte", messages.len())), "{reason}");
    assert!(!messages.is_empty());
    let progress = handle.replay_progress().unwrap().snapshot();
    assert_eq!(progress.damage.as_deref(), Some(reason.as_str()));
    assert_eq!(progress.total_messages, None, "a cut file has no summary");

    let garbage = write(dir.path(), "garbage.mcap", b"not a recording at all");
    let (_handle, mut events) = spawn(ReplayConfig::new(&garbage));
    let mut states = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        states.push(event);
    }
    assert!(!states.contains(&LinkEvent::State(LinkState::Up)), "{states:?}");
    assert!(matches!(&states[1], LinkEvent::State(LinkState::Down { reason }) if reason.contains("not an MCAP file")), "{states:?}");
    assert_eq!(states.last(), Some(&LinkEvent::State(LinkState::Closed)));
}
