//! The plots' scroll-back into the point history: the part of a chart's range older than the
//! series' first sample in memory (all of it when memory holds none) is read from the history
//! file as min/max buckets at the chart's pixel columns, on a thread (never on the UI thread),
//! one read in flight per series. Results are cached with some slack, so a following chart does
//! not read every frame; while a read runs the previous result is drawn. A file that cannot be
//! read is said once in the panel and tried again only after a pause.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::draw::{Prepared, holds_state};
use super::meta::SeriesMeta;
use crate::engine::history::{Bucket, HistoryDb, HistoryError};
use crate::engine::series::{SeriesKey, gap_threshold_ms};
use crate::protocol::time::now_ms;
use crate::ui::connections::background::{Pending, Poll};

mod runs;
#[cfg(test)]
mod tests;

use runs::interval_of;
pub use runs::{bucket_runs, needed_range};

/// A cached read still serves when the wanted range moved by at most this many bucket widths…
const SLACK_BUCKETS: f64 = 3.0;
/// …and the resolution changed by at most this share (a zoom).
const ZOOM_TOLERANCE: f64 = 0.10;
/// Cached reads kept at most, over all series; the least recently drawn goes first.
pub const MAX_CACHED: usize = 256;
/// Reads running at once at most (the others wait for a later frame).
const MAX_IN_FLIGHT: usize = 8;
/// After a failed read, nothing is read for this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// How often a frame comes while reads run, should the thread's wake-up come before its result.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// One read of the history: a series over [from_ms, to_ms] in at most `buckets` buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub path: PathBuf,
    pub key: SeriesKey,
    pub from_ms: i64,
    pub to_ms: i64,
    pub buckets: usize,
}

impl Query {
    fn bucket_ms(&self) -> f64 {
        ((self.to_ms - self.from_ms) as f64 + 1.0) / self.buckets.max(1) as f64
    }

    /// Whether the result of `self` may stand for `wanted`: the same file and series, ends
    /// within a few buckets, and a resolution within 10 %.
    pub fn serves(&self, wanted: &Query) -> bool {
        let (have, want) = (self.bucket_ms(), wanted.bucket_ms());
        let slack = SLACK_BUCKETS * want;
        self.path == wanted.path
            && self.key == wanted.key
            && (have / want - 1.0).abs() <= ZOOM_TOLERANCE
            && ((self.from_ms - wanted.from_ms) as f64).abs() <= slack
            && ((self.to_ms - wanted.to_ms) as f64).abs() <= slack
    }
}

#[derive(Debug)]
struct Cached {
    query: Query,
    buckets: Vec<Bucket>,
    /// The frame it was last drawn in.
    used: u64,
}

#[derive(Debug)]
struct InFlight {
    query: Query,
    pending: Pending<Result<Vec<Bucket>, HistoryError>>,
}

#[derive(Debug)]
struct Failure {
    text: String,
    at: Instant,
}

/// The stored history the plots draw, with its reads in flight and its cache. Owned by the
/// Plots tab, handed to every chart.
#[derive(Debug, Default)]
pub struct HistoryBackfill {
    /// The history the engine writes; None: nothing to read.
    path: Option<PathBuf>,
    cache: HashMap<SeriesKey, Vec<Cached>>,
    cached: usize,
    in_flight: HashMap<SeriesKey, InFlight>,
    /// One read-only connection, kept between reads (opening one checks the schema).
    reader: Arc<Mutex<Option<HistoryDb>>>,
    failure: Option<Failure>,
    frame: u64,
}

impl HistoryBackfill {
    /// Once per frame before the charts: takes in finished reads, and forgets everything when
    /// the history file changed or went.
    pub fn begin_frame(&mut self, ctx: &egui::Context, history: Option<&Path>) {
        self.frame += 1;
        if self.path.as_deref() != history {
            *self = HistoryBackfill { path: history.map(Path::to_path_buf), reader: self.reader.clone(), frame: self.frame, ..HistoryBackfill::default() };
        }
        let mut done = Vec::new();
        for (key, flight) in &self.in_flight {
            match flight.pending.poll() {
                Poll::Waiting => {}
                Poll::Ready(result) => done.push((key.clone(), Some(result))),
                Poll::Lost => done.push((key.clone(), None)),
            }
        }
        for (key, result) in done {
            let Some(flight) = self.in_flight.remove(&key) else { continue };
            match result {
                Some(Ok(buckets)) => {
                    self.failure = None;
                    self.remember(Cached { query: flight.query, buckets, used: self.frame });
                }
                Some(Err(e)) => self.fail(e.to_string()),
                None => self.fail(format!("reading {} stopped unexpectedly", flight.query.path.display())),
            }
        }
        if !self.in_flight.is_empty() {
            ctx.request_repaint_after(POLL_EVERY);
        }
    }

    fn fail(&mut self, text: String) {
        if self.failure.as_ref().is_none_or(|f| f.text != text) {
            tracing::warn!("plots: {text}");
        }
        self.failure = Some(Failure { text, at: Instant::now() });
    }

    fn remember(&mut self, entry: Cached) {
        while self.cached >= MAX_CACHED {
            let oldest = self.cache.iter().flat_map(|(k, v)| v.iter().enumerate().map(move |(i, c)| (c.used, k, i))).min_by_key(|(used, _, _)| *used);
            let Some((_, key, i)) = oldest.map(|(u, k, i)| (u, k.clone(), i)) else { break };
            if let Some(list) = self.cache.get_mut(&key) {
                list.swap_remove(i);
                if list.is_empty() {
                    self.cache.remove(&key);
                }
            }
            self.cached -= 1;
        }
        self.cache.entry(entry.query.key.clone()).or_default().push(entry);
        self.cached += 1;
    }

    /// Why the history could not be read, while that stands.
    pub fn problem(&self) -> Option<&str> {
        self.failure.as_ref().map(|f| f.text.as_str())
    }

    /// Reads running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Adds to `prepared` (one series of a chart drawing [from_ms, to_ms] in `columns` columns)
    /// what the history holds before its samples in memory, as history runs; asks for a read
    /// when no cached one serves. True when the series wants stored history here.
    pub fn fill(&mut self, ctx: &egui::Context, meta: &SeriesMeta, prepared: &mut Prepared, from_ms: i64, to_ms: i64, columns: usize) -> bool {
        let Some(path) = self.path.clone() else { return false };
        if matches!(meta.key, SeriesKey::Path { .. }) {
            return false;
        }
        let Some((from, to, buckets)) = needed_range(from_ms, to_ms, columns, prepared.first_ms) else { return false };
        let wanted = Query { path, key: meta.key.clone(), from_ms: from, to_ms: to, buckets };
        let serving = self.cache.get(&meta.key).and_then(|l| l.iter().position(|c| c.query.serves(&wanted)));
        if serving.is_none() {
            self.ask(ctx, wanted);
        }
        let Some(list) = self.cache.get_mut(&meta.key) else { return true };
        // What serves, else the last drawn (no flicker while the read runs).
        let shown = serving.or_else(|| list.iter().enumerate().max_by_key(|(_, c)| c.used).map(|(i, _)| i));
        let Some(entry) = shown.and_then(|i| list.get_mut(i)) else { return true };
        entry.used = self.frame;
        let first = entry.buckets.partition_point(|b| b.last_ms < from);
        let end = entry.buckets.partition_point(|b| b.first_ms <= to);
        let in_range = entry.buckets.get(first..end).unwrap_or_default();
        let held = holds_state(meta);
        let gap = if held { None } else { Some(prepared.gap_ms.or_else(|| interval_of(in_range).map(gap_threshold_ms)).unwrap_or(0)) };
        let mut runs = bucket_runs(in_range, gap, meta.steps);
        if held && let Some(&[_, y]) = runs.last().and_then(|r| r.last()) {
            // The last stored state holds until memory's first sample (or now).
            let until = to.min(now_ms()) as f64;
            if let Some(run) = runs.last_mut().filter(|r| r.last().is_some_and(|p| p[0] < until)) {
                run.push([until, y]);
            }
        }
        prepared.stored += in_range.iter().map(|b| b.count).sum::<u64>();
        prepared.lines.points += runs.iter().map(Vec::len).sum::<usize>();
        prepared.lines.history_runs.extend(runs);
        true
    }

    /// Starts a read of `query` unless one runs for its series, too many run, or the last
    /// failed a moment ago.
    fn ask(&mut self, ctx: &egui::Context, query: Query) {
        let resting = self.failure.as_ref().is_some_and(|f| f.at.elapsed() < RETRY_AFTER);
        if resting || self.in_flight.len() >= MAX_IN_FLIGHT || self.in_flight.contains_key(&query.key) {
            return;
        }
        let (reader, ctx, read) = (self.reader.clone(), ctx.clone(), query.clone());
        let work = move || {
            let result = read_buckets(&reader, &read);
            ctx.request_repaint();
            result
        };
        match Pending::spawn("plot-history", work) {
            Ok(pending) => {
                self.in_flight.insert(query.key.clone(), InFlight { query, pending });
            }
            Err(e) => self.fail(format!("cannot start reading the point history: {e}")),
        }
    }
}

/// Runs `query` on the shared reader, opening it (again) when it is another file's or a read
/// failed.
fn read_buckets(reader: &Mutex<Option<HistoryDb>>, query: &Query) -> Result<Vec<Bucket>, HistoryError> {
    let mut slot = reader.lock().unwrap_or_else(|e| e.into_inner());
    let db = match slot.take() {
        Some(db) if db.path() == query.path => db,
        _ => HistoryDb::open_read_only(&query.path)?,
    };
    let result = db.range_decimated(&query.key, query.from_ms, query.to_ms, query.buckets);
    if result.is_ok() {
        *slot = Some(db);
    }
    result
}
