//! The reads, their cache and their failures, against a real history file.

use super::*;
use crate::engine::history::{HistoryBatch, HistoryOptions, HistorySource, SeriesSamples};

#[test]
fn a_cached_read_serves_a_little_pan_but_not_a_zoom() {
    let key = SeriesKey::point("PK", "D", "s", "Ua");
    let q = |from_ms, to_ms, buckets| Query { path: PathBuf::from("h.db"), key: key.clone(), from_ms, to_ms, buckets };
    let have = q(0, 99_999, 1000); // 100 ms a bucket
    assert!(have.serves(&q(250, 100_249, 1000)));
    assert!(!have.serves(&q(500, 100_499, 1000)), "moved by 5 buckets");
    assert!(have.serves(&q(0, 99_999, 1050)), "5 % more columns (a wider window)");
    assert!(!have.serves(&q(0, 99_999, 1250)), "20 % more columns");
    assert!(!have.serves(&q(0, 104_999, 1000)), "a 5 % zoom moves an end by 50 buckets");
    assert!(!have.serves(&Query { path: PathBuf::from("other.db"), ..have.clone() }));
}

fn land(backfill: &mut HistoryBackfill, ctx: &egui::Context, path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    backfill.begin_frame(ctx, Some(path));
    while backfill.in_flight() > 0 {
        assert!(Instant::now() < deadline, "the read never landed");
        std::thread::sleep(Duration::from_millis(5));
        backfill.begin_frame(ctx, Some(path));
    }
}

#[test]
fn a_read_lands_is_drawn_and_is_not_read_again_for_a_small_move() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    let key = SeriesKey::point("PK", "D", "meter-1", "Ua");
    let mut db = HistoryDb::open(&path, HistoryOptions::default()).unwrap();
    let samples = (0..600).map(|i| (i * 1_000, 230.0 + (i % 7) as f64, 0)).collect();
    db.write(&[HistoryBatch { series: vec![SeriesSamples { key: key.clone(), source: HistorySource::Report, samples }], ..HistoryBatch::default() }]).unwrap();
    drop(db);
    let ctx = egui::Context::default();
    let meta = SeriesMeta::bare(&key);
    let mut backfill = HistoryBackfill::default();
    backfill.begin_frame(&ctx, Some(&path));
    let mut first = Prepared::empty();
    assert!(backfill.fill(&ctx, &meta, &mut first, 0, 599_999, 300));
    assert!(first.lines.history_runs.is_empty(), "nothing before the read lands");
    assert_eq!(backfill.in_flight(), 1);
    assert!(backfill.fill(&ctx, &meta, &mut Prepared::empty(), 0, 599_999, 300));
    assert_eq!(backfill.in_flight(), 1, "one read per series");
    land(&mut backfill, &ctx, &path);
    let mut drawn = Prepared::empty();
    backfill.fill(&ctx, &meta, &mut drawn, 1_000, 600_999, 300);
    assert_eq!(backfill.in_flight(), 0, "a move of half a bucket is served from the cache");
    assert_eq!(drawn.lines.history_runs.len(), 1);
    assert!(drawn.lines.points > 300 && drawn.lines.points <= 600, "{} points", drawn.lines.points);
    assert_eq!(drawn.stored, 600, "the buckets reaching into the range, whole");
    assert_eq!(drawn.y_range(), Some((230.0, 236.0)));
    // Memory from 300 s on: only what is before it is asked for (and drawn meanwhile).
    let mut half = Prepared { first_ms: Some(300_000), ..Prepared::empty() };
    backfill.fill(&ctx, &meta, &mut half, 0, 599_999, 300);
    assert_eq!(backfill.in_flight(), 1);
    land(&mut backfill, &ctx, &path);
    let mut half = Prepared { first_ms: Some(300_000), ..Prepared::empty() };
    backfill.fill(&ctx, &meta, &mut half, 0, 599_999, 300);
    assert_eq!(half.stored, 300);
    assert!(half.lines.history_runs.iter().flatten().all(|p| p[0] < 300_000.0));
    // Memory covering the range: nothing wanted.
    assert!(!backfill.fill(&ctx, &meta, &mut Prepared { first_ms: Some(0), ..Prepared::empty() }, 0, 599_999, 300));
}

#[test]
fn an_unreadable_file_is_said_and_not_read_again_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.db");
    let ctx = egui::Context::default();
    let meta = SeriesMeta::bare(&SeriesKey::point("PK", "D", "s", "Ua"));
    let mut backfill = HistoryBackfill::default();
    backfill.begin_frame(&ctx, Some(&path));
    backfill.fill(&ctx, &meta, &mut Prepared::empty(), 0, 1_000, 100);
    land(&mut backfill, &ctx, &path);
    let problem = backfill.problem().expect("the failure is kept");
    assert!(problem.contains("gone.db"), "{problem}");
    for _ in 0..10 {
        backfill.begin_frame(&ctx, Some(&path));
        backfill.fill(&ctx, &meta, &mut Prepared::empty(), 0, 1_000, 100);
        assert_eq!(backfill.in_flight(), 0, "no read while resting");
    }
    // Another file (or none): the failure goes with the old one.
    backfill.begin_frame(&ctx, None);
    assert!(backfill.problem().is_none());
}

#[test]
fn the_cache_keeps_the_most_recently_drawn() {
    let mut backfill = HistoryBackfill::default();
    for i in 0..(MAX_CACHED as i64 + 10) {
        let key = SeriesKey::point("PK", "D", "s", &format!("p{i}"));
        backfill.frame = i as u64;
        backfill.remember(Cached { query: Query { path: PathBuf::from("h.db"), key, from_ms: 0, to_ms: 1, buckets: 1 }, buckets: Vec::new(), used: i as u64 });
    }
    assert_eq!(backfill.cached, MAX_CACHED);
    assert_eq!(backfill.cache.values().map(Vec::len).sum::<usize>(), MAX_CACHED);
    assert!(!backfill.cache.contains_key(&SeriesKey::point("PK", "D", "s", "p9")));
    assert!(backfill.cache.contains_key(&SeriesKey::point("PK", "D", "s", "p10")));
}
