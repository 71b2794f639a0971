//! The point history in SQLite: dedup, retention, clock jumps, a corrupted file, a second
//! writer, readers beside a writer, alarms and their acknowledgements, and `history-db stats`
//! through the real binary.

use std::process::Command;

use cems_workbench::engine::history::{
    HistoryBatch, HistoryDb, HistoryError, HistoryOptions, HistorySource, HistoryWriter, SeriesSamples, bench_inserts, lock_path,
};
use cems_workbench::engine::series::SeriesKey;
use cems_workbench::protocol::payload::{self, Payload};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn decoded(class: &str, action: &str, data: Value) -> Payload {
    payload::decode(class, action, false, &data).typed.expect("a payload of the contract")
}

fn samples(key: &SeriesKey, rows: impl IntoIterator<Item = (i64, f64)>) -> HistoryBatch {
    let samples = rows.into_iter().map(|(t, v)| (t, v, 0)).collect();
    HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples }], ..HistoryBatch::default() }
}

fn ua() -> SeriesKey {
    SeriesKey::point("PK-GW", "GW-1", "meter-1", "Ua")
}

#[test]
fn a_history_batch_sent_twice_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = HistoryDb::open(dir.path().join("history.db"), HistoryOptions::default()).unwrap();
    let batch = json!({
        "batchId": "b-1",
        "points": [
            {"sub": "meter-1", "pid": "Ua", "v": 230.1, "q": 0, "ts": 1_000},
            {"sub": "meter-1", "pid": "Ua", "v": 230.2, "q": 0, "ts": 2_000},
            {"sub": "meter-1", "pid": "Ub", "v": 229.0, "q": 2, "ts": 1_000}
        ]
    });
    let payload = decoded("history", "report", batch);
    let first = db.write(&[HistoryBatch::of_payload("PK-GW", "GW-1", "report", Some("h-1"), &payload, 5_000)]).unwrap();
    assert_eq!((first.samples_new, first.samples_duplicate), (3, 0));
    // The gateway did not see our acknowledgement and sent the batch again (contract §5).
    let again = db.write(&[HistoryBatch::of_payload("PK-GW", "GW-1", "report", Some("h-2"), &payload, 6_000)]).unwrap();
    assert_eq!((again.samples_new, again.samples_duplicate), (0, 3));
    let rows = db.range(&ua(), 0, 10_000).unwrap();
    assert_eq!(rows, vec![(1_000, 230.1, 0, HistorySource::History), (2_000, 230.2, 0, HistorySource::History)]);
    let ub = db.range(&SeriesKey::point("PK-GW", "GW-1", "meter-1", "Ub"), 0, 10_000).unwrap();
    assert_eq!(ub, vec![(1_000, 229.0, 2, HistorySource::History)], "quality kept");
    let stats = db.stats().unwrap();
    assert_eq!((stats.samples, stats.series), (3, 2));
}

#[test]
fn a_clock_jumping_back_does_not_reorder_stored_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = HistoryDb::open(dir.path().join("history.db"), HistoryOptions::default()).unwrap();
    // Arrival order 2000 then 1000 (the laptop's clock went back between them).
    db.write(&[samples(&ua(), [(2_000, 2.0)])]).unwrap();
    db.write(&[samples(&ua(), [(1_000, 1.0)])]).unwrap();
    let times: Vec<i64> = db.range(&ua(), 0, 5_000).unwrap().iter().map(|r| r.0).collect();
    assert_eq!(times, vec![1_000, 2_000]);
}

#[test]
fn retention_by_age_keeps_the_last_max_age_before_the_newest_sample() {
    let dir = tempfile::tempdir().unwrap();
    let options = HistoryOptions { max_age_ms: 10 * DAY, ..HistoryOptions::default() };
    let mut db = HistoryDb::open(dir.path().join("history.db"), options).unwrap();
    let t0 = 1_767_225_600_000; // 2026-01-01
    db.write(&[samples(&ua(), [(t0, 1.0), (t0 + 5 * DAY, 2.0), (t0 + 12 * DAY, 3.0)])]).unwrap();
    let alarm = json!({"alarms": [{"alarmId": "a1", "sub": "meter-1", "type": "overVoltage", "level": 2, "state": "raised", "ts": t0}]});
    db.write(&[HistoryBatch::of_payload("PK-GW", "GW-1", "report", Some("r1"), &decoded("alarm", "report", alarm), t0)]).unwrap();
    // "Now" is long after: the newest sample is the reference, so a database reopened weeks
    // later is not emptied.
    let report = db.prune_at(t0 + 400 * DAY).unwrap();
    assert_eq!((report.samples_by_age, report.alarms_by_age), (1, 1), "{report:?}");
    let times: Vec<i64> = db.range(&ua(), i64::MIN, i64::MAX).unwrap().iter().map(|r| r.0).collect();
    assert_eq!(times, vec![t0 + 5 * DAY, t0 + 12 * DAY]);
    assert!(db.alarms(i64::MIN, i64::MAX).unwrap().is_empty());
    // A gateway clock years ahead cannot wipe the rest: now is the reference then.
    db.write(&[samples(&ua(), [(t0 + 3_000 * DAY, 9.0)])]).unwrap();
    let report = db.prune_at(t0 + 13 * DAY).unwrap();
    assert_eq!(report.samples_by_age, 0, "{report:?}");
}

#[test]
fn retention_by_size_drops_the_oldest_samples_and_shrinks_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let options = HistoryOptions { max_age_ms: i64::MAX, max_bytes: 256 * 1024 };
    let mut db = HistoryDb::open(&path, options).unwrap();
    let keys: Vec<SeriesKey> = (0..10).map(|i| SeriesKey::point("PK-GW", "GW-1", "meter-1", &format!("p{i}"))).collect();
    let batches: Vec<HistoryBatch> = keys.iter().map(|k| samples(k, (0..10_000).map(|s| (s * 1_000, s as f64)))).collect();
    db.write(&batches).unwrap();
    let before = db.stats().unwrap();
    assert!(before.used_bytes > 4 * options.max_bytes, "the test needs a database well over the limit: {before:?}");
    let report = db.prune_now().unwrap();
    let after = db.stats().unwrap();
    assert!(report.samples_by_size > 0, "{report:?}");
    assert!(after.used_bytes <= options.max_bytes, "{after:?}");
    assert!(after.db_bytes + after.wal_bytes < before.db_bytes + before.wal_bytes, "incremental vacuum gave pages back: {before:?} → {after:?}");
    assert_eq!(after.newest_ms, Some(9_999_000), "the newest samples stay");
    assert!(after.oldest_ms > Some(0), "the oldest went first: {after:?}");
    for key in &keys {
        let rows = db.range(key, i64::MIN, i64::MAX).unwrap();
        assert_eq!(rows.last().map(|r| r.0), Some(9_999_000));
        assert!(rows.windows(2).all(|w| w[1].0 - w[0].0 == 1_000), "what is left is one unbroken tail");
    }
    // Writing goes on after a prune (series ids were re-made where a series went).
    db.write(&[samples(&keys[0], [(10_000_000, 1.0)])]).unwrap();
    assert_eq!(db.range(&keys[0], 10_000_000, 10_000_000).unwrap().len(), 1);
}

#[test]
fn a_corrupted_file_is_moved_aside_and_a_fresh_one_made() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let garbage = b"this is not a database, it is a text file that happens to be here ...................................".repeat(50);
    std::fs::write(&path, &garbage).unwrap();
    let mut db = HistoryDb::open(&path, HistoryOptions::default()).unwrap();
    let aside = db.open_report().moved_aside.clone().expect("the open says it moved the file");
    assert!(aside.file_name().unwrap().to_string_lossy().starts_with("history.db.corrupt-"), "{}", aside.display());
    assert_eq!(std::fs::read(&aside).unwrap(), garbage, "moved, not deleted or changed");
    db.write(&[samples(&ua(), [(1, 1.0)])]).unwrap();
    assert_eq!(db.range(&ua(), 0, 2).unwrap().len(), 1, "the fresh database works");
    drop(db);
    let again = HistoryDb::open(&path, HistoryOptions::default()).unwrap();
    assert_eq!(again.open_report().moved_aside, None, "a good file is left alone");
}

#[test]
fn a_second_writer_is_told_the_database_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let first = HistoryDb::open(&path, HistoryOptions::default()).unwrap();
    assert!(lock_path(&path).exists());
    match HistoryDb::open(&path, HistoryOptions::default()) {
        Err(HistoryError::InUse { path: p }) => assert_eq!(p, path),
        other => panic!("expected InUse, got {other:?}"),
    }
    let text = HistoryError::InUse { path: path.clone() }.to_string();
    assert!(text.contains("in use by another workbench"), "{text}");
    // Readers need no lock.
    assert!(HistoryDb::open_read_only(&path).is_ok());
    drop(first);
    assert!(HistoryDb::open(&path, HistoryOptions::default()).is_ok(), "the lock goes with the writer");
}

#[test]
fn a_reader_sees_what_a_running_writer_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let handle = HistoryWriter::spawn(HistoryDb::open(&path, HistoryOptions::default()).unwrap()).unwrap();
    assert!(handle.offer(samples(&ua(), (0..1_000).map(|s| (s, s as f64)))));
    assert!(handle.flush());
    let reader = HistoryDb::open_read_only(&path).unwrap();
    assert_eq!(reader.range(&ua(), i64::MIN, i64::MAX).unwrap().len(), 1_000);
    assert!(handle.offer(samples(&ua(), (1_000..1_500).map(|s| (s, s as f64)))));
    assert!(handle.flush());
    assert_eq!(reader.range(&ua(), i64::MIN, i64::MAX).unwrap().len(), 1_500, "the reader sees the new commit");
    assert!(reader.is_read_only());
    let series = reader.series().unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!((series[0].samples, series[0].first_ms, series[0].last_ms), (1_500, Some(0), Some(1_499)));
    let stats = handle.stats();
    assert_eq!((stats.samples_written, stats.refused, stats.lost, stats.stopped), (1_500, 0, 0, false));
}

#[test]
fn alarms_are_kept_once_with_their_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = HistoryDb::open(dir.path().join("history.db"), HistoryOptions::default()).unwrap();
    let data = json!({"alarms": [
        {"alarmId": "a1", "sub": "meter-1", "pid": "Ua", "type": "overVoltage", "level": 2, "state": "raised", "value": 260.5, "threshold": 250.0, "ts": 1_000, "desc": "过压, phase A"},
        {"alarmId": "a1", "sub": "meter-1", "type": "overVoltage", "level": 2, "state": "cleared", "ts": 5_000}
    ]});
    let report = HistoryBatch::of_payload("PK-GW", "GW-1", "report", Some("rep-7"), &decoded("alarm", "report", data), 1_100);
    assert_eq!(db.write(std::slice::from_ref(&report)).unwrap().alarms_new, 2);
    assert_eq!(db.write(&[report]).unwrap().alarms_new, 0, "a report resent is stored once");
    let acked = db.write(&[HistoryBatch::ack("PK-GW", "GW-1", "rep-7", 1_200)]).unwrap();
    assert_eq!(acked.alarms_acked, 2);
    let rows = db.alarms(0, 10_000).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].state.as_str(), rows[0].code.as_str(), rows[0].level, rows[0].value), ("raised", "overVoltage", 2, Some(260.5)));
    assert_eq!(rows[0].text.as_deref(), Some("过压, phase A"));
    assert_eq!((rows[0].acked_ms, rows[1].acked_ms), (Some(1_200), Some(1_200)));
    assert_eq!(db.alarms(2_000, 10_000).unwrap().len(), 1, "by time");
}

#[test]
fn an_unusable_folder_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the folder should be: fails for root too (a read-only folder would not).
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("history.db");
    let error = HistoryDb::open(&path, HistoryOptions::default()).unwrap_err();
    assert!(matches!(error, HistoryError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("not-a-folder"), "{error}");
    let missing = HistoryDb::open_read_only(dir.path().join("nothing.db")).unwrap_err();
    assert!(matches!(missing, HistoryError::Missing { .. }), "{missing:?}");
}

#[test]
fn the_bench_hook_writes_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let rate = bench_inserts(&path, 10_000).unwrap();
    assert!(rate > 0.0);
    assert_eq!(HistoryDb::open_read_only(&path).unwrap().stats().unwrap().samples, 10_000);
}

/// The figure for the report: `cargo test --release --test history_db -- --ignored --nocapture`.
#[test]
#[ignore]
fn inserts_per_second_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let rate = bench_inserts(&path, 2_000_000).unwrap();
    println!("history writer: {rate:.0} samples/s (2,000,000 samples, 100 series, 20 per batch)");
    let started = std::time::Instant::now();
    let mut db = HistoryDb::open(&path, HistoryOptions { max_age_ms: i64::MAX, max_bytes: u64::MAX }).unwrap();
    println!("open with quick_check of {} bytes: {:?}", db.stats().unwrap().db_bytes, started.elapsed());
    db.write(&[samples(&ua(), (0..86_400).map(|s| (s * 1_000, s as f64)))]).unwrap();
    let started = std::time::Instant::now();
    let day = db.range(&ua(), 0, 86_400_000).unwrap();
    println!("range of one day at 1 s ({} samples): {:?}", day.len(), started.elapsed());
    let started = std::time::Instant::now();
    let buckets = db.range_decimated(&ua(), 0, 86_400_000, 1_000).unwrap();
    println!("range_decimated of that day into {} buckets: {:?}", buckets.len(), started.elapsed());
}

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cems-workbench"))
}

#[test]
fn history_db_stats_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let handle = HistoryWriter::spawn(HistoryDb::open(&path, HistoryOptions::default()).unwrap()).unwrap();
    let t0 = 1_796_378_400_000; // 2026-12-04T10:00:00Z
    assert!(handle.offer(samples(&ua(), [(t0, 1.0), (t0 + 1_000, 2.0)])));
    assert!(handle.flush());
    // The writer is still running: stats reads beside it.
    let out = binary().args(["history-db", "stats", "--db"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["samples"], 2);
    assert_eq!(line["series"], 1);
    assert_eq!(line["alarms"], 0);
    assert_eq!(line["oldestMs"], t0);
    assert_eq!(line["oldest"], "2026-12-04T10:00:00.000Z");
    assert_eq!(line["newest"], "2026-12-04T10:00:01.000Z");
    assert!(line["bytes"].as_u64().unwrap() > 0);
    assert_eq!(line["path"], path.display().to_string());
    drop(handle);

    let missing = binary().args(["history-db", "stats", "--db"]).arg(dir.path().join("none.db")).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no history database at"), "{}", String::from_utf8_lossy(&missing.stderr));
    assert!(missing.stdout.is_empty());
}
