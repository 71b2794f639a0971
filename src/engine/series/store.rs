//! Every series the engine keeps, bounded per series (retention, sample cap) and overall (a
//! byte budget: over it, the oldest samples across all series go first).

use std::collections::{BTreeMap, BTreeSet};

use super::key::SeriesKey;
use super::samples::{SAMPLE_BYTES, SampleSource, Series};

/// Bounds of the series store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesLimits {
    /// By sample time, against the series' newest sample (default 1 hour).
    pub retention_ms: i64,
    /// Per series (default 1,000,000).
    pub max_samples: usize,
    /// Across all series: what the store charges (default 128 MiB).
    pub total_bytes: usize,
}

impl Default for SeriesLimits {
    fn default() -> Self {
        SeriesLimits { retention_ms: 3_600_000, max_samples: 1_000_000, total_bytes: 128 * 1024 * 1024 }
    }
}

/// What the store holds and what it let go of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeriesStats {
    pub series: usize,
    pub samples: usize,
    pub bytes: usize,
    /// Samples whose time the series already held.
    pub dropped_duplicates: u64,
    /// Samples older than their series' retention.
    pub dropped_retention: u64,
    /// Samples past a series' sample cap.
    pub dropped_cap: u64,
    /// Samples given up for the byte budget.
    pub dropped_budget: u64,
}

/// Over the budget, the store frees this share of it more than it must, so a store at its
/// budget does not search for a cut-off on every insert.
const BUDGET_SLACK_DIVISOR: usize = 64;

#[derive(Debug, Default)]
pub struct SeriesStore {
    series: BTreeMap<SeriesKey, Series>,
    limits: SeriesLimits,
    /// Retention set per series (kept for a series not seen yet, and across its removal).
    retention: BTreeMap<SeriesKey, i64>,
    /// Path series being fed: topic → pointers.
    tracked: BTreeMap<String, BTreeSet<String>>,
    bytes: usize,
    stats: SeriesStats,
}

/// What a series costs besides its samples: the map entry and the key's text.
fn fixed_bytes(key: &SeriesKey) -> usize {
    let text = match key {
        SeriesKey::Point { pk, dev, sub, pid } => pk.len() + dev.len() + sub.len() + pid.len(),
        SeriesKey::Meter { pk, dev, sub, register } => pk.len() + dev.len() + sub.len() + register.len(),
        SeriesKey::Path { topic, pointer } => topic.len() + pointer.len(),
    };
    size_of::<Series>() + size_of::<SeriesKey>() + 64 + text
}

impl SeriesStore {
    pub fn new(limits: SeriesLimits) -> Self {
        SeriesStore { limits, ..Self::default() }
    }

    pub fn get(&self, key: &SeriesKey) -> Option<&Series> {
        self.series.get(key)
    }

    /// Every series' key, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// What the store charges against [`SeriesLimits::total_bytes`].
    pub fn memory_bytes(&self) -> usize {
        self.bytes
    }

    pub fn limits(&self) -> &SeriesLimits {
        &self.limits
    }

    pub fn stats(&self) -> SeriesStats {
        SeriesStats { series: self.series.len(), samples: self.series.values().map(Series::len).sum(), bytes: self.bytes, ..self.stats }
    }

    /// Makes the series of `key` when missing (the key is cloned only then).
    fn ensure(&mut self, key: &SeriesKey) {
        if !self.series.contains_key(key) {
            let retention = self.retention.get(key).copied().unwrap_or(self.limits.retention_ms);
            self.bytes += fixed_bytes(key);
            self.series.insert(key.clone(), Series::new(retention, self.limits.max_samples));
        }
    }

    /// Adds one sample; false when it was not kept (a duplicate time, or already past retention).
    pub fn insert(&mut self, key: &SeriesKey, t: i64, v: f64, q: u8, source: SampleSource) -> bool {
        self.ensure(key);
        let Some(series) = self.series.get_mut(key) else { return false };
        let before = series.len();
        if !series.insert(t, v, q, source.is_history()) {
            self.stats.dropped_duplicates += 1;
            return false;
        }
        let kept = self.settle(key, before);
        kept > before
    }

    /// Adds a batch of samples (a history back-fill) in one merge; returns how many were kept.
    pub fn insert_batch(&mut self, key: &SeriesKey, samples: Vec<(i64, f64, u8)>, source: SampleSource) -> usize {
        if samples.is_empty() {
            return 0;
        }
        self.ensure(key);
        let Some(series) = self.series.get_mut(key) else { return 0 };
        let before = series.len();
        let (_, duplicates) = series.insert_batch(samples, source.is_history());
        self.stats.dropped_duplicates += duplicates as u64;
        self.settle(key, before).saturating_sub(before)
    }

    /// After `key` grew from `before` samples: trims it, charges it, keeps the budget; returns its
    /// length now.
    fn settle(&mut self, key: &SeriesKey, before: usize) -> usize {
        let Some(series) = self.series.get_mut(key) else { return 0 };
        let trimmed = series.trim();
        self.stats.dropped_retention += trimmed.retention as u64;
        self.stats.dropped_cap += trimmed.cap as u64;
        let after = series.len();
        self.bytes = (self.bytes + after * SAMPLE_BYTES).saturating_sub(before * SAMPLE_BYTES);
        if after == 0 {
            self.remove(key);
        }
        self.keep_budget();
        self.series.get(key).map_or(0, Series::len)
    }

    /// Sets a series' retention (also for one not seen yet) and trims it.
    pub fn set_retention(&mut self, key: &SeriesKey, retention_ms: i64) {
        self.retention.insert(key.clone(), retention_ms.max(1));
        if let Some(series) = self.series.get_mut(key) {
            let before = series.len();
            series.set_retention(retention_ms);
            self.settle(key, before);
        }
    }

    /// Forgets a series and its samples.
    pub fn remove(&mut self, key: &SeriesKey) -> bool {
        let Some(series) = self.series.remove(key) else { return false };
        self.bytes = self.bytes.saturating_sub(fixed_bytes(key) + series.len() * SAMPLE_BYTES);
        true
    }

    /// Starts feeding the path series (topic, pointer); false when it already was.
    pub fn track_path(&mut self, topic: &str, pointer: &str) -> bool {
        self.tracked.entry(topic.to_owned()).or_default().insert(pointer.to_owned())
    }

    /// Stops feeding the path series and forgets its samples.
    pub fn untrack_path(&mut self, topic: &str, pointer: &str) -> bool {
        let Some(pointers) = self.tracked.get_mut(topic) else { return false };
        let was = pointers.remove(pointer);
        if pointers.is_empty() {
            self.tracked.remove(topic);
        }
        self.remove(&SeriesKey::path(topic, pointer));
        was
    }

    /// The pointers tracked on `topic`.
    pub fn tracked_pointers(&self, topic: &str) -> Option<&BTreeSet<String>> {
        self.tracked.get(topic)
    }

    pub fn is_tracked(&self, topic: &str, pointer: &str) -> bool {
        self.tracked.get(topic).is_some_and(|p| p.contains(pointer))
    }

    pub fn tracks_any_path(&self) -> bool {
        !self.tracked.is_empty()
    }

    /// Every tracked (topic, pointer).
    pub fn tracked_paths(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tracked.iter().flat_map(|(topic, pointers)| pointers.iter().map(move |p| (topic.as_str(), p.as_str())))
    }

    /// Over the budget, drops the oldest samples across all series: every sample before one
    /// cut-off time, the earliest that frees enough. That is "the series with the oldest first
    /// sample gives up its oldest samples", repeated, in one pass.
    fn keep_budget(&mut self) {
        if self.bytes <= self.limits.total_bytes {
            return;
        }
        let target = self.limits.total_bytes - self.limits.total_bytes / BUDGET_SLACK_DIVISOR;
        let need = (self.bytes - target).div_ceil(SAMPLE_BYTES);
        let freed_before = |cutoff: i64| -> usize { self.series.values().map(|s| s.count_before(cutoff)).sum() };
        let (Some(mut lo), Some(last)) = (self.series.values().filter_map(Series::first_ms).min(), self.series.values().filter_map(Series::last_ms).max())
        else {
            return;
        };
        // Smallest cut-off freeing `need` samples; past the newest sample everything goes.
        let mut hi = last.saturating_add(1);
        if freed_before(hi) >= need {
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if freed_before(mid) >= need { hi = mid } else { lo = mid + 1 }
            }
        }
        let mut emptied = Vec::new();
        for (key, series) in &mut self.series {
            let n = series.count_before(hi);
            series.drop_front(n);
            self.bytes = self.bytes.saturating_sub(n * SAMPLE_BYTES);
            self.stats.dropped_budget += n as u64;
            if series.is_empty() {
                emptied.push(key.clone());
            }
        }
        for key in emptied {
            self.remove(&key);
        }
    }
}
