use super::*;

fn limits() -> SeriesLimits {
    SeriesLimits::default()
}

fn series_of(times: &[i64]) -> Series {
    let mut s = Series::new(i64::MAX, usize::MAX);
    for &t in times {
        s.insert(t, t as f64, 0, false);
    }
    s
}

#[test]
fn appends_in_order_and_drops_duplicates() {
    let mut s = Series::new(i64::MAX, usize::MAX);
    assert!(s.insert(10, 1.0, 0, false));
    assert!(s.insert(20, 2.0, 0, false));
    assert!(!s.insert(20, 9.0, 0, false), "same time twice");
    assert!(s.insert(15, 1.5, 2, true), "late sample goes in order");
    let w = s.all();
    assert_eq!(w.times, &[10, 15, 20]);
    assert_eq!(w.values, &[1.0, 1.5, 2.0]);
    assert_eq!(w.quality, &[0, 2, 0]);
    assert_eq!(w.history, &[false, true, false]);
    assert_eq!((s.first_ms(), s.last_ms()), (Some(10), Some(20)));
}

#[test]
fn history_backfill_merges_in_time_order_without_duplicates() {
    let mut store = SeriesStore::new(limits());
    let key = SeriesKey::point("PK", "GW", "m1", "Ua");
    for t in [1_000, 2_000, 5_000, 6_000] {
        store.insert(&key, t, 1.0, 0, SampleSource::Live);
    }
    // Unsorted, with a repeat inside the batch and one of a held time.
    let batch = vec![(4_000, 4.0, 0), (3_000, 3.0, 0), (2_000, 9.0, 0), (4_000, 4.5, 0), (500, 0.5, 0)];
    assert_eq!(store.insert_batch(&key, batch, SampleSource::History), 3);
    let s = store.get(&key).unwrap();
    assert_eq!(s.all().times, &[500, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000]);
    assert_eq!(s.all().values[2], 1.0, "the live sample held at 2000 stays");
    assert_eq!(s.all().history, &[true, false, false, true, true, false, false]);
    assert_eq!(store.stats().dropped_duplicates, 2);
    // The same batch again adds nothing.
    assert_eq!(store.insert_batch(&key, vec![(3_000, 3.0, 0), (4_000, 4.0, 0)], SampleSource::History), 0);
}

#[test]
fn retention_is_by_sample_time_against_the_newest() {
    let mut store = SeriesStore::new(SeriesLimits { retention_ms: 1_000, ..limits() });
    let key = SeriesKey::path("t", "/v");
    for t in (0..=5_000).step_by(100) {
        store.insert(&key, t, 0.0, 0, SampleSource::Live);
    }
    let s = store.get(&key).unwrap();
    assert_eq!(s.first_ms(), Some(4_000));
    assert_eq!(s.len(), 11);
    // History older than retention is not kept.
    assert!(!store.insert(&key, 100, 0.0, 0, SampleSource::History));
    store.set_retention(&key, 200);
    assert_eq!(store.get(&key).unwrap().len(), 3);
    assert!(store.stats().dropped_retention > 0);
}

#[test]
fn retention_set_before_a_series_exists_applies_when_it_does() {
    let mut store = SeriesStore::new(limits());
    let key = SeriesKey::meter("PK", "GW", "m1", "EpImp");
    store.set_retention(&key, 10);
    store.insert(&key, 0, 0.0, 0, SampleSource::Live);
    store.insert(&key, 100, 0.0, 0, SampleSource::Live);
    assert_eq!(store.get(&key).unwrap().retention_ms(), 10);
    assert_eq!(store.get(&key).unwrap().len(), 1);
}

#[test]
fn sample_cap_drops_the_oldest_and_front_removal_compacts() {
    let mut s = Series::new(i64::MAX, 3_000);
    for t in 0..10_000 {
        s.insert(t, t as f64, 0, false);
        s.trim();
    }
    assert_eq!(s.len(), 3_000);
    assert_eq!(s.first_ms(), Some(7_000));
    assert_eq!(s.window(7_000, 7_002).values, &[7_000.0, 7_001.0, 7_002.0]);
    // Decimating the compacted series equals decimating its plain slices.
    let w = s.all();
    let plain = SeriesWindow::new(w.times, w.values, w.quality, w.history);
    assert_eq!(decimate(&w, 7_000, 9_999, 37, None), decimate(&plain, 7_000, 9_999, 37, None));
}

#[test]
fn budget_takes_the_oldest_samples_across_series() {
    let per_series_fixed = {
        let mut probe = SeriesStore::new(limits());
        probe.insert(&SeriesKey::path("a", "/v"), 0, 0.0, 0, SampleSource::Live);
        probe.memory_bytes() - SAMPLE_BYTES
    };
    let total = 2 * per_series_fixed + 2_000 * SAMPLE_BYTES;
    let mut store = SeriesStore::new(SeriesLimits { total_bytes: total, ..limits() });
    let (old, new) = (SeriesKey::path("a", "/v"), SeriesKey::path("b", "/v"));
    for t in 0..1_500 {
        store.insert(&old, t, 0.0, 0, SampleSource::Live);
    }
    for t in 10_000..11_000 {
        store.insert(&new, t, 0.0, 0, SampleSource::Live);
    }
    assert!(store.memory_bytes() <= total, "{} > {total}", store.memory_bytes());
    assert!(store.stats().dropped_budget > 0);
    assert_eq!(store.get(&new).unwrap().len(), 1_000, "the series with the newer samples keeps them all");
    assert!(store.get(&old).unwrap().first_ms().unwrap() > 0);
    // Charged = what is held.
    let samples = store.stats().samples;
    assert_eq!(store.memory_bytes(), 2 * per_series_fixed + samples * SAMPLE_BYTES);
}

#[test]
fn an_emptied_series_is_removed_and_uncharged() {
    let mut store = SeriesStore::new(limits());
    let key = SeriesKey::path("a", "/v");
    store.insert(&key, 1, 0.0, 0, SampleSource::Live);
    assert!(store.remove(&key));
    assert_eq!(store.memory_bytes(), 0);
    assert!(store.is_empty());
}

#[test]
fn nearest_and_typical_interval() {
    let s = series_of(&[0, 1_000, 2_000, 3_000, 10_000]);
    let w = s.all();
    assert_eq!(w.nearest(-50), Some(0));
    assert_eq!(w.nearest(1_400), Some(1));
    assert_eq!(w.nearest(1_600), Some(2));
    assert_eq!(w.nearest(99_999), Some(4));
    assert_eq!(SeriesWindow::new(&[], &[], &[], &[]).nearest(5), None);
    assert_eq!(s.typical_interval_ms(), Some(1_000));
    assert_eq!(series_of(&[5]).typical_interval_ms(), None);
    assert_eq!(gap_threshold_ms(1_000), 3_000);
}

#[test]
fn window_is_inclusive_slices() {
    let s = series_of(&[0, 10, 20, 30]);
    assert_eq!(s.window(10, 20).times, &[10, 20]);
    assert!(s.window(21, 29).is_empty());
    assert!(s.window(40, 10).is_empty());
}
