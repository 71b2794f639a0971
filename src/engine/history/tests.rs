//! Unit tests of the history: what needs the private connection (a real SQLITE_FULL), the
//! extraction from payloads, and bucketing.

use serde_json::json;

use super::*;
use crate::engine::series::SeriesKey;
use crate::protocol::payload::{self, Payload};

fn decoded(class: &str, action: &str, data: serde_json::Value) -> Payload {
    payload::decode(class, action, false, &data).typed.expect("a payload of the contract")
}

fn one_sample(key: &SeriesKey, ts: i64, v: f64) -> HistoryBatch {
    HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples: vec![(ts, v, 0)] }], ..HistoryBatch::default() }
}

#[test]
fn sources_follow_the_topic_and_the_batch() {
    let points = json!({"points": [{"sub": "m1", "pid": "Ua", "v": 230.5, "q": 0, "ts": 1000}, {"sub": "m1", "pid": "txt", "v": "on", "q": 0, "ts": 1000}]});
    let report = HistoryBatch::of_payload("PK", "GW", "report", Some("r1"), &decoded("point", "report", points.clone()), 5);
    assert_eq!(report.series.len(), 1, "a text point is not a series");
    assert_eq!(report.series[0].source, HistorySource::Report);
    assert_eq!(report.series[0].key, SeriesKey::point("PK", "GW", "m1", "Ua"));
    let change = HistoryBatch::of_payload("PK", "GW", "change", None, &decoded("point", "change", points), 5);
    assert_eq!(change.series[0].source, HistorySource::Change);
    let batch = json!({
        "batchId": "b1",
        "points": [{"sub": "m1", "pid": "Ua", "v": 1.0, "q": 2, "ts": 10}],
        "readings": [{"sub": "m1", "ts": 10, "values": {"Ep": 12.5}}],
        "alarms": [{"alarmId": "a1", "sub": "m1", "type": "overVoltage", "level": 2, "state": "raised", "ts": 10}]
    });
    let history = HistoryBatch::of_payload("PK", "GW", "report", Some("h1"), &decoded("history", "report", batch), 5);
    assert!(history.series.iter().all(|s| s.source == HistorySource::History));
    assert!(history.series.iter().any(|s| s.key == SeriesKey::meter("PK", "GW", "m1", "Ep")));
    assert_eq!(history.alarms.len(), 1);
    assert_eq!(history.alarms[0].report_id.as_deref(), Some("h1"));
    assert_eq!(history.items(), 3);
}

#[test]
fn a_full_disk_stops_the_writer_and_keeps_what_was_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = HistoryDb::open(dir.path().join("h.db"), HistoryOptions::default()).unwrap();
    let key = SeriesKey::point("PK", "GW", "m1", "Ua");
    let handle = HistoryWriter::spawn(db).unwrap();
    assert!(handle.offer(one_sample(&key, 1_000, 1.0)));
    assert!(handle.flush());
    let db = handle.close().unwrap();
    // A real SQLITE_FULL: the file may not grow past its current pages.
    let pages: i64 = db.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    db.conn.pragma_update(None, "max_page_count", pages).unwrap();
    let handle = HistoryWriter::spawn(db).unwrap();
    let big = HistoryBatch {
        series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples: (0..20_000).map(|i| (2_000 + i, i as f64, 0)).collect() }],
        ..HistoryBatch::default()
    };
    assert!(handle.offer(big));
    assert!(handle.flush());
    let stats = handle.stats();
    assert!(stats.stopped, "{stats:?}");
    assert_eq!(stats.lost, 20_000);
    let error = handle.last_error().expect("the error is kept");
    assert!(error.is_disk_full(), "{error}");
    assert!(error.to_string().contains("h.db") && error.to_string().contains("disk full"), "{error}");
    // A stopped writer takes nothing more, and says so.
    assert!(!handle.offer(one_sample(&key, 9_000, 9.0)));
    assert_eq!(handle.stats().refused, 1);
    let db = handle.close().unwrap();
    let rows = db.range(&key, i64::MIN, i64::MAX).unwrap();
    assert_eq!(rows, vec![(1_000, 1.0, 0, HistorySource::Report)], "the committed sample is still there, nothing of the failed batch");
}

#[test]
fn buckets_hold_min_and_max_of_their_span() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = HistoryDb::open(dir.path().join("h.db"), HistoryOptions::default()).unwrap();
    let key = SeriesKey::point("PK", "GW", "m1", "Ua");
    // 0..100 s, one a second, value = second; a spike at 42 s.
    let samples = (0..100).map(|s| (s * 1_000, if s == 42 { 1e6 } else { s as f64 }, 0)).collect();
    db.write(&[HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples }], ..HistoryBatch::default() }])
        .unwrap();
    let buckets = db.range_decimated(&key, 0, 99_999, 10).unwrap();
    assert_eq!(buckets.len(), 10);
    assert_eq!(buckets[0].count, 10);
    assert_eq!((buckets[0].min, buckets[0].max), (0.0, 9.0));
    assert_eq!(buckets[4].max, 1e6, "a one-sample spike is never hidden");
    assert_eq!((buckets[9].first_ms, buckets[9].last_ms), (90_000, 99_000));
    assert!(db.range_decimated(&key, 0, 99_999, 0).unwrap().is_empty());
    assert!(db.range_decimated(&SeriesKey::point("PK", "GW", "m1", "none"), 0, 1, 5).unwrap().is_empty());
}

#[test]
fn nan_is_stored_as_null_and_reads_back_as_nan() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = HistoryDb::open(dir.path().join("h.db"), HistoryOptions::default()).unwrap();
    let key = SeriesKey::meter("PK", "GW", "m1", "Ep");
    db.write(&[one_sample(&key, 5, f64::NAN)]).unwrap();
    let rows = db.range(&key, 0, 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1.is_nan());
}
