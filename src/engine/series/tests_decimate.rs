//! Decimation, CSV, layout and feed tests (the store's are in tests.rs).
use super::*;
use crate::protocol::payload::{HistoryReport, Payload, PointV, PointValue, Points, Reading, Readings};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn all_points(d: &Decimated) -> Vec<[f64; 2]> {
    d.runs.iter().chain(&d.history_runs).flatten().copied().collect()
}

#[test]
fn a_one_sample_spike_in_a_million_survives_800_columns() {
    let mut s = Series::new(i64::MAX, usize::MAX);
    let mut rng = Lcg(7);
    for t in 0..1_000_000i64 {
        let v = if t == 612_345 { 1e6 } else if t == 98_765 { -1e6 } else { (rng.next() % 100) as f64 };
        s.insert(t * 10, v, 0, false);
    }
    let d = decimate(&s.all(), 0, 9_999_990, 800, None);
    let points = all_points(&d);
    assert!(points.contains(&[6_123_450.0, 1e6]), "the spike is kept");
    assert!(points.contains(&[987_650.0, -1e6]), "the dip is kept");
    assert!(d.points <= 4 * 800 + 2, "{} points", d.points);
    assert_eq!(d.runs.len(), 1);
    // In time order within the run.
    assert!(d.runs[0].windows(2).all(|w| w[0][0] < w[1][0]));
}

#[test]
fn summary_and_plain_scan_agree() {
    // Random data with NaN, infinities, gaps and history stretches: the fast path (summary)
    // must give exactly what a sample-by-sample scan gives.
    let mut rng = Lcg(42);
    let mut s = Series::new(i64::MAX, usize::MAX);
    let mut t = 0;
    for i in 0..50_000 {
        t += if rng.next().is_multiple_of(997) { 5_000 } else { 10 + (rng.next() % 5) as i64 };
        let v = match rng.next() % 500 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            _ => (rng.next() % 1000) as f64 / 10.0,
        };
        s.insert(t, v, 0, (i / 7_000) % 2 == 1);
    }
    // A back-filled batch in the middle rebuilds part of the summary.
    let batch: Vec<_> = (0..500).map(|k| (1 + k * 20, k as f64, 0)).collect();
    s.insert_batch(batch, true);
    let w = s.all();
    let plain = SeriesWindow::new(w.times, w.values, w.quality, w.history);
    for (from, to, columns, gap) in [(0, t, 1000, Some(100)), (12_345, 400_000, 333, None), (-5, t + 5, 7, Some(30)), (100_000, 100_500, 2_000, Some(100))] {
        let fast = decimate(&s.window(i64::MIN, i64::MAX), from, to, columns, gap);
        let slow = decimate(&plain, from, to, columns, gap);
        assert_eq!(fast, slow, "from {from} to {to} in {columns} columns, gap {gap:?}");
    }
}

#[test]
fn empty_single_and_degenerate_inputs() {
    let empty = SeriesWindow::new(&[], &[], &[], &[]);
    assert_eq!(decimate(&empty, 0, 100, 10, None), Decimated::default());
    let one = SeriesWindow::new(&[50], &[1.5], &[0], &[false]);
    let d = decimate(&one, 0, 100, 10, None);
    assert_eq!(d.runs, vec![vec![[50.0, 1.5]]]);
    assert_eq!(d.points, 1);
    assert_eq!(decimate(&one, 0, 100, 0, None).points, 0, "no columns");
    assert_eq!(decimate(&one, 100, 0, 10, None).points, 0, "from after to");
}

#[test]
fn nan_and_infinite_values_are_skipped() {
    let times = [0, 10, 20, 30, 40];
    let values = [1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 2.0];
    let w = SeriesWindow::new(&times, &values, &[0; 5], &[false; 5]);
    let d = decimate(&w, 0, 40, 5, None);
    assert_eq!(all_points(&d), vec![[0.0, 1.0], [40.0, 2.0]]);
    assert!(all_points(&decimate(&w, 0, 40, 1, None)).iter().all(|p| p[1].is_finite()));
}

#[test]
fn a_gap_breaks_the_run() {
    let times = [0, 10, 20, 1_000, 1_010];
    let w = SeriesWindow::new(&times, &[1.0; 5], &[0; 5], &[false; 5]);
    let d = decimate(&w, 0, 1_010, 100, Some(30));
    assert_eq!(d.runs.len(), 2);
    assert_eq!(d.runs[1][0], [1_000.0, 1.0]);
    assert_eq!(decimate(&w, 0, 1_010, 100, None).runs.len(), 1, "None never breaks");
    // A gap inside one column breaks it too.
    assert_eq!(decimate(&w, 0, 1_010, 1, Some(30)).runs.len(), 2);
}

#[test]
fn history_samples_go_to_history_runs() {
    let times = [0, 10, 20, 30, 40, 50];
    let history = [true, true, true, false, false, false];
    let w = SeriesWindow::new(&times, &[1.0; 6], &[0; 6], &history);
    let d = decimate(&w, 0, 50, 50, None);
    assert_eq!(d.history_runs, vec![vec![[0.0, 1.0], [10.0, 1.0], [20.0, 1.0]]]);
    assert_eq!(d.runs, vec![vec![[30.0, 1.0], [40.0, 1.0], [50.0, 1.0]]]);
}

#[test]
fn edges_include_one_sample_outside_each_side() {
    let times = [0, 100, 200, 300];
    let w = SeriesWindow::new(&times, &[0.0, 1.0, 2.0, 3.0], &[0; 4], &[false; 4]);
    let d = decimate(&w, 150, 250, 10, None);
    assert_eq!(all_points(&d), vec![[100.0, 1.0], [200.0, 2.0], [300.0, 3.0]]);
}

#[test]
fn point_budget_holds_for_any_column_count() {
    let mut rng = Lcg(3);
    let mut s = Series::new(i64::MAX, usize::MAX);
    for t in 0..100_000 {
        s.insert(t, (rng.next() % 1000) as f64, 0, false);
    }
    for columns in [1, 2, 10, 799, 5_000] {
        let d = decimate(&s.all(), 10, 99_990, columns, None);
        assert!(d.points <= 4 * columns + 2 * d.runs.len().max(1), "{columns}: {}", d.points);
        assert_eq!(d.points, d.runs.iter().map(Vec::len).sum::<usize>());
    }
}

#[test]
fn steps_go_across_then_up() {
    let w = SeriesWindow::new(&[0, 10, 20], &[0.0, 1.0, 0.0], &[0; 3], &[false; 3]);
    let d = decimate_steps(&w, 0, 20, 100, None);
    assert_eq!(d.runs, vec![vec![[0.0, 0.0], [10.0, 0.0], [10.0, 1.0], [20.0, 1.0], [20.0, 0.0]]]);
    assert_eq!(d.points, 5);
}

#[test]
fn csv_has_the_union_of_times_empty_cells_quoting_and_nan_empty() {
    let mut a = Series::new(i64::MAX, usize::MAX);
    let mut b = Series::new(i64::MAX, usize::MAX);
    a.insert(1_000, 1.5, 0, false);
    a.insert(2_000, f64::NAN, 0, false);
    b.insert(2_000, 0.1, 0, false);
    b.insert(3_000, -2.0, 0, false);
    b.insert(9_000, 7.0, 0, false);
    let columns = vec![("PK/GW/m1/Ua Voltage, A [V]".to_owned(), &a), ("PK/GW/m1/P say \"hi\"".to_owned(), &b)];
    let mut out = Vec::new();
    assert_eq!(write_csv(&mut out, &columns, 0, 5_000).unwrap(), 3);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], r#"time,epoch_ms,"PK/GW/m1/Ua Voltage, A [V]","PK/GW/m1/P say ""hi""""#);
    assert_eq!(lines[1], "1970-01-01T00:00:01.000Z,1000,1.5,");
    assert_eq!(lines[2], "1970-01-01T00:00:02.000Z,2000,,0.1");
    assert_eq!(lines[3], "1970-01-01T00:00:03.000Z,3000,,-2");
    assert_eq!(lines[4], "");
    assert_eq!(iso_utc_ms(1_796_306_700_123), "2026-12-03T14:05:00.123Z");
}

#[test]
fn layout_round_trips_and_names_what_is_wrong() {
    let text = r#"{"version": 1, "plots": [{"title": "Volts", "window": "5m", "series": [
        {"point": {"pk": "PK", "dev": "GW", "sub": "m1", "pid": "Ua"}},
        {"meter": {"pk": "PK", "dev": "GW", "sub": "m1", "register": "EpImp"}},
        {"path": {"topic": "v1/rt/app/g1", "pointer": "/d/soc"}}]}]}"#;
    let layout = Layout::from_json(text).unwrap();
    assert_eq!(layout.plots[0].window, PlotWindow::Min5);
    assert!(!layout.plots[0].stacked);
    assert_eq!(layout.plots[0].series[2], SeriesKey::path("v1/rt/app/g1", "/d/soc"));
    assert_eq!(Layout::from_json(&layout.to_json()).unwrap(), layout);
    assert_eq!(layout.all_series().len(), 3);
    assert_eq!(PlotWindow::ALL.iter().map(|w| w.span_ms()).collect::<Vec<_>>(), vec![Some(60_000), Some(300_000), Some(900_000), Some(3_600_000), None]);

    let err = |t: &str| Layout::from_json(t).unwrap_err();
    assert!(err("{not json").starts_with("not JSON"), "{}", err("{not json"));
    assert!(err(r#"{"version": 2, "plots": []}"#).contains("version 2"));
    assert!(err(r#"{"plots": []}"#).contains("version"));
    let bad_key = err(r#"{"version": 1, "plots": [{"title": "", "window": "5m", "series": [{"pointx": {}}]}]}"#);
    assert!(bad_key.starts_with("plots[0].series[0]"), "{bad_key}");
    let bad_window = err(r#"{"version": 1, "plots": [{"title": "", "window": "2m", "series": []}]}"#);
    assert!(bad_window.contains("plots[0].window"), "{bad_window}");
    let wildcard = err(r#"{"version": 1, "plots": [{"title": "", "window": "1h", "series": [{"path": {"topic": "a/#", "pointer": "/x"}}]}]}"#);
    assert!(wildcard.contains("plots[0].series[0]: topic"), "{wildcard}");
    let many = Layout { version: 1, plots: vec![PlotLayout { title: String::new(), window: PlotWindow::All, series: vec![], stacked: true }; 65] };
    assert!(err(&many.to_json()).contains("65 plots"));
    let key = SeriesKey::point("PK", "GW", "m1", "Ua");
    let wide = Layout { version: 1, plots: vec![PlotLayout { title: String::new(), window: PlotWindow::All, series: vec![key; 65], stacked: false }] };
    assert!(err(&wide.to_json()).contains("65 series"));
    assert!(err(&" ".repeat(1_100_000)).contains("limit"));
}

#[test]
fn layout_files_load_and_save() {
    let dir = std::env::temp_dir().join(format!("series-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l.json");
    let layout = Layout { version: 1, plots: vec![PlotLayout { title: "t".into(), window: PlotWindow::Hour1, series: vec![SeriesKey::point("PK", "GW", "m1", "Ua")], stacked: false }] };
    layout.save(&path).unwrap();
    assert_eq!(Layout::load(&path).unwrap(), layout);
    std::fs::write(&path, "[]").unwrap();
    let e = Layout::load(&path).unwrap_err().to_string();
    assert!(e.contains("l.json"), "{e}");
    assert!(Layout::load(&dir.join("missing.json")).unwrap_err().to_string().contains("missing.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_serialise_as_the_contract_says() {
    let key = SeriesKey::meter("PK", "GW", "m1", "EpImp");
    assert_eq!(serde_json::to_value(&key).unwrap(), serde_json::json!({"meter": {"pk": "PK", "dev": "GW", "sub": "m1", "register": "EpImp"}}));
    assert_eq!(key.label(), "PK/GW/m1/EpImp");
    assert_eq!(SeriesKey::path("a/b", "/d/soc").label(), "a/b#/d/soc");
    assert_eq!(SeriesKey::point("PK", "GW", "m1", "Ua").gateway(), Some(("PK", "GW")));
    assert_eq!(SeriesKey::path("a", "").gateway(), None);
}

fn pv(sub: &str, pid: &str, v: PointV, ts: i64) -> PointValue {
    PointValue { sub: sub.into(), pid: pid.into(), v, q: 0, ts }
}

#[test]
fn feed_takes_numbers_bools_meters_and_history_not_text() {
    let mut store = SeriesStore::new(SeriesLimits::default());
    let points = Payload::Points(Points { points: vec![pv("m1", "Ua", PointV::Number(230.0), 1_000), pv("m1", "Run", PointV::Bool(true), 1_000), pv("m1", "Name", PointV::Text("x".into()), 1_000)] });
    assert_eq!(feed::feed_payload(&mut store, "PK", "GW", &points), 2);
    assert_eq!(store.get(&SeriesKey::point("PK", "GW", "m1", "Run")).unwrap().all().values, &[1.0]);
    assert!(store.get(&SeriesKey::point("PK", "GW", "m1", "Name")).is_none());
    let reading = Reading { sub: "m1".into(), ts: 900, values: [("EpImp".to_owned(), 12.5)].into_iter().collect() };
    assert_eq!(feed::feed_payload(&mut store, "PK", "GW", &Payload::Readings(Readings { readings: vec![reading.clone()] })), 1);
    let history = Payload::HistoryReport(HistoryReport { batch_id: "b".into(), recall_id: None, points: vec![pv("m1", "Ua", PointV::Number(229.0), 500)], readings: Some(vec![Reading { ts: 400, ..reading }]), alarms: None });
    assert_eq!(feed::feed_payload(&mut store, "PK", "GW", &history), 2);
    let ua = store.get(&SeriesKey::point("PK", "GW", "m1", "Ua")).unwrap();
    assert_eq!(ua.all().times, &[500, 1_000]);
    assert_eq!(ua.all().history, &[true, false]);
    assert_eq!(store.get(&SeriesKey::meter("PK", "GW", "m1", "EpImp")).unwrap().all().history, &[true, false]);
}

#[test]
fn paths_take_numbers_at_the_pointer_with_the_payload_time() {
    let mut store = SeriesStore::new(SeriesLimits::default());
    assert!(store.track_path("v1/rt/app/g1", "/d/soc"));
    assert!(!store.track_path("v1/rt/app/g1", "/d/soc"), "tracked once");
    assert_eq!(feed::feed_message(&mut store, "v1/rt/app/g1", br#"{"t": 5000, "d": {"soc": 81.5}}"#, 9), 1);
    assert_eq!(feed::feed_message(&mut store, "v1/rt/app/g1", br#"{"d": {"soc": true}}"#, 6000), 1);
    assert_eq!(feed::feed_message(&mut store, "v1/rt/app/g1", br#"{"d": {"soc": "high"}}"#, 7000), 0);
    assert_eq!(feed::feed_message(&mut store, "v1/rt/app/g1", b"not json", 8000), 0);
    assert_eq!(feed::feed_message(&mut store, "v1/rt/app/other", br#"{"d": {"soc": 1}}"#, 8000), 0);
    let key = SeriesKey::path("v1/rt/app/g1", "/d/soc");
    assert_eq!(store.get(&key).unwrap().all().times, &[5000, 6000]);
    assert_eq!(store.get(&key).unwrap().all().values, &[81.5, 1.0]);
    let held: Vec<(i64, &[u8])> = vec![(100, br#"{"ts": 4000, "data": {"x": 1}}"#), (200, br#"{"ts": 4500, "data": {"x": 2}}"#)];
    store.track_path("cems/t", "/data/x");
    assert_eq!(feed::backfill(&mut store, "cems/t", "/data/x", held.into_iter()), 2);
    assert!(store.untrack_path("v1/rt/app/g1", "/d/soc"));
    assert!(store.get(&key).is_none());
    assert_eq!(store.tracked_paths().collect::<Vec<_>>(), vec![("cems/t", "/data/x")]);
}

#[test]
fn seek_finds_the_edge_from_any_guess() {
    // Irregular times with a long gap: every guess, near or far, gives what a binary search gives.
    let mut rng = Lcg(11);
    let mut times = Vec::new();
    let mut t = 0;
    for i in 0..3_000 {
        t += if i == 1_500 { 100_000 } else { 1 + (rng.next() % 20) as i64 };
        times.push(t);
    }
    for _ in 0..2_000 {
        let edge = (rng.next() % (t as u64 + 100)) as i64 - 50;
        let lo = (rng.next() % 3_000) as usize;
        let hi = lo + (rng.next() % (3_001 - lo as u64)) as usize;
        let guess = (rng.next() % 3_200) as usize;
        let want = lo + times[lo..hi].partition_point(|&x| x < edge);
        assert_eq!(decimate::seek(&times, lo, hi, guess, edge), want, "lo {lo} hi {hi} guess {guess} edge {edge}");
    }
    assert_eq!(decimate::seek(&[], 0, 0, 5, 1), 0, "empty");
    assert_eq!(decimate::seek(&times, 10, 5, 7, 1), 5, "lo past hi is taken as hi");
}

#[test]
fn column_edges_inside_level_0_blocks_keep_first_min_max_last() {
    // One sample per ms, so a column of 1/7 of 1_000 ms ends inside a 16-sample block; the
    // extremes sit right next to the edges, on both sides.
    let mut s = Series::new(i64::MAX, usize::MAX);
    let values: Vec<f64> = (0..1_000).map(|i| match i % 143 { 0 => -5.0, 142 => 9.0, _ => (i % 7) as f64 }).collect();
    for (t, &v) in values.iter().enumerate() {
        s.insert(t as i64, v, 0, false);
    }
    let w = s.all();
    let plain = SeriesWindow::new(w.times, w.values, w.quality, w.history);
    for columns in [7, 13, 61, 333] {
        let fast = decimate(&s.all(), 0, 999, columns, None);
        assert_eq!(fast, decimate(&plain, 0, 999, columns, None), "{columns} columns");
        let points = all_points(&fast);
        for (t, &v) in values.iter().enumerate() {
            if v == -5.0 || v == 9.0 {
                assert!(points.contains(&[t as f64, v]), "{columns} columns: the extreme at {t} is kept");
            }
        }
    }
}

#[test]
fn decimated_runs_never_go_back_in_time() {
    // A digital point flipping faster than the columns: what is drawn must still run left to right.
    let times: Vec<i64> = (0..5000).map(|i| i * 7).collect();
    let values: Vec<f64> = (0..5000).map(|i| f64::from((i * 31 % 3) as u8)).collect();
    let (quality, history) = (vec![0; 5000], vec![false; 5000]);
    let w = SeriesWindow::new(&times, &values, &quality, &history);
    for columns in [10, 333, 850] {
        for d in [decimate(&w, 0, 35_000, columns, None), decimate_steps(&w, 0, 35_000, columns, None)] {
            for run in d.runs.iter().chain(&d.history_runs) {
                assert!(run.windows(2).all(|p| p[0][0] <= p[1][0]), "{columns} columns: x goes back");
            }
        }
    }
}

#[test]
fn a_state_is_held_to_the_end_of_the_window() {
    let w = SeriesWindow::new(&[0, 10], &[1.0, 2.0], &[0; 2], &[false; 2]);
    let mut d = decimate_steps(&w, 0, 100, 100, None);
    hold_last(&mut d, 100);
    assert_eq!(d.runs, vec![vec![[0.0, 1.0], [10.0, 1.0], [10.0, 2.0], [100.0, 2.0]]]);
    assert_eq!(d.points, 4);
    // Nothing to hold, or already at the end: unchanged.
    let mut empty = decimate_steps(&SeriesWindow::new(&[], &[], &[], &[]), 0, 100, 100, None);
    hold_last(&mut empty, 100);
    assert!(empty.runs.is_empty());
    hold_last(&mut d, 50);
    assert_eq!(d.points, 4);
}
