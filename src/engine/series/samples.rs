//! One series in columns: times, values, quality and source flags in their own contiguous
//! arrays, ordered by time, each time held once. A window is a binary search and four slices.

use super::summary::{Columns, Summary};

/// Bytes the store charges per sample: the four columns (8 + 8 + 1 + 1) and the summary's
/// share (about two 40-byte nodes per 16 samples).
pub const SAMPLE_BYTES: usize = 8 + 8 + 1 + 1 + 5;
/// Dead slots at the front below which removal does not compact (a short series never moves).
const MIN_COMPACT: usize = 1024;

/// Where a sample came from: drawn differently (history dashed / lighter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleSource {
    Live,
    History,
}

impl SampleSource {
    pub fn is_history(self) -> bool {
        self == SampleSource::History
    }
}

/// Samples with from_ms <= t <= to_ms of one series, as contiguous slices of equal length.
#[derive(Debug, Clone, Copy)]
pub struct SeriesWindow<'a> {
    /// Epoch ms, strictly increasing.
    pub times: &'a [i64],
    /// NaN/inf possible (skipped when drawn).
    pub values: &'a [f64],
    /// The contract's `q` (0 = good).
    pub quality: &'a [u8],
    /// True: came from history/report (back-fill).
    pub history: &'a [bool],
    /// The series' summary and the physical index of `times[0]` in it, when the window is of a
    /// stored series (decimation then skips whole blocks).
    pub(super) summary: Option<(&'a Summary, usize)>,
}

impl<'a> SeriesWindow<'a> {
    /// A window over plain slices (tests, recordings): cut to the shortest of the four.
    pub fn new(times: &'a [i64], values: &'a [f64], quality: &'a [u8], history: &'a [bool]) -> Self {
        let n = times.len().min(values.len()).min(quality.len()).min(history.len());
        SeriesWindow { times: &times[..n], values: &values[..n], quality: &quality[..n], history: &history[..n], summary: None }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The sample nearest to t (for hover readouts); the earlier one on a tie.
    pub fn nearest(&self, t_ms: i64) -> Option<usize> {
        let after = self.times.partition_point(|&t| t < t_ms);
        let before = after.checked_sub(1);
        match (before, (after < self.times.len()).then_some(after)) {
            (Some(b), Some(a)) => Some(if t_ms - self.times[b] <= self.times[a] - t_ms { b } else { a }),
            (b, a) => b.or(a),
        }
    }
}

/// One series. Front removal moves a head offset and compacts once the dead part passes half,
/// so dropping old samples costs O(1) amortised.
#[derive(Debug, Clone)]
pub struct Series {
    head: usize,
    times: Vec<i64>,
    values: Vec<f64>,
    quality: Vec<u8>,
    history: Vec<bool>,
    summary: Summary,
    retention_ms: i64,
    max_samples: usize,
}

/// What trimming a series removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub retention: usize,
    pub cap: usize,
}

impl Series {
    pub fn new(retention_ms: i64, max_samples: usize) -> Self {
        Series {
            head: 0,
            times: Vec::new(),
            values: Vec::new(),
            quality: Vec::new(),
            history: Vec::new(),
            summary: Summary::default(),
            retention_ms: retention_ms.max(1),
            max_samples: max_samples.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.times.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn first_ms(&self) -> Option<i64> {
        self.times.get(self.head).copied()
    }

    pub fn last_ms(&self) -> Option<i64> {
        if self.is_empty() { None } else { self.times.last().copied() }
    }

    pub fn retention_ms(&self) -> i64 {
        self.retention_ms
    }

    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    fn live_times(&self) -> &[i64] {
        &self.times[self.head..]
    }

    /// Samples with from_ms <= t <= to_ms, as contiguous slices (binary search, no copy).
    pub fn window(&self, from_ms: i64, to_ms: i64) -> SeriesWindow<'_> {
        let live = self.live_times();
        let a = self.head + live.partition_point(|&t| t < from_ms);
        let b = (self.head + live.partition_point(|&t| t <= to_ms)).max(a);
        SeriesWindow {
            times: &self.times[a..b],
            values: &self.values[a..b],
            quality: &self.quality[a..b],
            history: &self.history[a..b],
            summary: Some((&self.summary, a)),
        }
    }

    pub fn all(&self) -> SeriesWindow<'_> {
        self.window(i64::MIN, i64::MAX)
    }

    /// Typical interval between samples (median of the last 64 intervals), for gap detection.
    pub fn typical_interval_ms(&self) -> Option<i64> {
        let live = self.live_times();
        let recent = &live[live.len().saturating_sub(65)..];
        let mut intervals: Vec<i64> = recent.windows(2).map(|w| w[1] - w[0]).collect();
        if intervals.is_empty() {
            return None;
        }
        let mid = intervals.len() / 2;
        Some(*intervals.select_nth_unstable(mid).1)
    }

    /// Inserts one sample in time order; false when its time is already held (a duplicate).
    /// Appending a newer sample, the common case, is O(1) amortised.
    pub fn insert(&mut self, t: i64, v: f64, q: u8, history: bool) -> bool {
        if self.last_ms().is_none_or(|last| t > last) {
            self.times.push(t);
            self.values.push(v);
            self.quality.push(q);
            self.history.push(history);
            let columns = Columns { times: &self.times, values: &self.values, history: &self.history };
            self.summary.push(columns);
            return true;
        }
        let at = self.head + self.live_times().partition_point(|&x| x < t);
        if self.times[at] == t {
            return false;
        }
        self.times.insert(at, t);
        self.values.insert(at, v);
        self.quality.insert(at, q);
        self.history.insert(at, history);
        self.summary.rebuild_from(Columns { times: &self.times, values: &self.values, history: &self.history }, at);
        true
    }

    /// Inserts a batch (a history back-fill): sorted, then merged with what is held in one pass
    /// over the samples newer than the batch's oldest. Returns (added, duplicates).
    pub fn insert_batch(&mut self, mut batch: Vec<(i64, f64, u8)>, history: bool) -> (usize, usize) {
        let given = batch.len();
        batch.sort_by_key(|s| s.0);
        batch.dedup_by_key(|s| s.0);
        let mut duplicates = given - batch.len();
        let Some(&(oldest, ..)) = batch.first() else { return (0, duplicates) };
        let at = self.head + self.live_times().partition_point(|&x| x < oldest);
        let tail_times = self.times.split_off(at);
        let tail_values = self.values.split_off(at);
        let tail_quality = self.quality.split_off(at);
        let tail_history = self.history.split_off(at);
        let (mut i, mut j) = (0, 0);
        let mut added = 0;
        while i < tail_times.len() || j < batch.len() {
            let take_held = j >= batch.len() || (i < tail_times.len() && tail_times[i] <= batch[j].0);
            if take_held {
                if j < batch.len() && tail_times[i] == batch[j].0 {
                    duplicates += 1;
                    j += 1;
                }
                self.times.push(tail_times[i]);
                self.values.push(tail_values[i]);
                self.quality.push(tail_quality[i]);
                self.history.push(tail_history[i]);
                i += 1;
            } else {
                let (t, v, q) = batch[j];
                self.times.push(t);
                self.values.push(v);
                self.quality.push(q);
                self.history.push(history);
                added += 1;
                j += 1;
            }
        }
        self.summary.rebuild_from(Columns { times: &self.times, values: &self.values, history: &self.history }, at);
        (added, duplicates)
    }

    /// Drops what retention (by sample time, against the newest sample) and the sample cap no
    /// longer allow.
    pub fn trim(&mut self) -> Trimmed {
        let Some(last) = self.last_ms() else { return Trimmed::default() };
        let cutoff = last.saturating_sub(self.retention_ms);
        let retention = self.live_times().partition_point(|&t| t < cutoff);
        self.drop_front(retention);
        let cap = self.len().saturating_sub(self.max_samples);
        self.drop_front(cap);
        Trimmed { retention, cap }
    }

    pub fn set_retention(&mut self, retention_ms: i64) {
        self.retention_ms = retention_ms.max(1);
    }

    /// Samples with t < cutoff.
    pub fn count_before(&self, cutoff: i64) -> usize {
        self.live_times().partition_point(|&t| t < cutoff)
    }

    /// Drops the `n` oldest samples.
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len());
        if n == 0 {
            return;
        }
        self.head += n;
        if self.head == self.times.len() {
            self.clear();
        } else if self.head >= MIN_COMPACT && self.head > self.times.len() / 2 {
            let head = std::mem::take(&mut self.head);
            self.times.drain(..head);
            self.values.drain(..head);
            self.quality.drain(..head);
            self.history.drain(..head);
            self.summary.rebuild_from(Columns { times: &self.times, values: &self.values, history: &self.history }, 0);
        }
    }

    fn clear(&mut self) {
        self.head = 0;
        self.times.clear();
        self.values.clear();
        self.quality.clear();
        self.history.clear();
        self.summary.clear();
    }
}
