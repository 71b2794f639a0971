//! Min/max decimation per pixel column: a frame draws a bounded number of points whatever the
//! series' length, and keeps the extremes (a one-sample spike is never hidden). Pure, no egui.
//!
//! Each column keeps its first, smallest, largest and last finite sample, in time order. On a
//! window of a stored series whole blocks are read from the series' summary
//! (`summary.rs`), so a column costs a few dozen steps, not one per sample; a column with a
//! run break inside (a gap, or live and history samples mixed) is scanned sample by sample.

use super::samples::SeriesWindow;
use super::summary::{BLOCK, HAS_HISTORY, HAS_LIVE, NONE, Node, Summary};
use crate::engine::prefetch::prefetch_all;

/// Columns beyond this are taken as this many.
pub const MAX_COLUMNS: usize = 1 << 16;

/// Drawable polyline runs; x = epoch ms as f64, y = value. A gap breaks runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decimated {
    /// Runs of live samples.
    pub runs: Vec<Vec<[f64; 2]>>,
    /// Runs of samples that came from history (drawn dashed or lighter).
    pub history_runs: Vec<Vec<[f64; 2]>>,
    /// Points across all runs.
    pub points: usize,
}

/// Three reporting periods (the contract's rule for "a gap").
pub fn gap_threshold_ms(period_ms: i64) -> i64 {
    period_ms.saturating_mul(3)
}

/// Min/max per pixel column over [from_ms, to_ms] in `columns` columns: each column keeps its
/// first, min, max and last sample in time order; at most 4 points per column and run. NaN and
/// infinite values are skipped. A gap longer than `gap_ms` between two consecutive samples ends a
/// run (None: never break); so does a change between live and history samples (each run is
/// all-live or all-history). Includes one sample just outside each edge when present, so a line
/// reaches the border.
pub fn decimate(window: &SeriesWindow, from_ms: i64, to_ms: i64, columns: usize, gap_ms: Option<i64>) -> Decimated {
    let mut out = Emitter::new(window);
    // More columns than any screen has pixels would only cost time.
    let columns = columns.min(MAX_COLUMNS);
    if columns == 0 || from_ms > to_ms || window.is_empty() {
        return out.finish();
    }
    let times = window.times;
    let first_in = times.partition_point(|&t| t < from_ms);
    let end_in = times.partition_point(|&t| t <= to_ms);
    let gap = gap_ms.unwrap_or(i64::MAX);
    let reader = Reader { window, gap, summary: window.summary };
    // The sample just before the range, as a column of its own.
    if first_in > 0 {
        reader.column(first_in - 1, first_in, &mut out);
    }
    let span = (to_ms - from_ms).max(1) as f64;
    let mut start = first_in;
    // Where the next column ends is guessed from how many samples the last one held: on a
    // steadily reported series the guess is off by a sample or two, so finding the edge touches
    // one cache line of `times` instead of a search path through megabytes of it.
    let mut per_column = (end_in - first_in) / columns;
    for c in 1..=columns {
        let end = if c == columns {
            end_in
        } else {
            let edge = from_ms.saturating_add((span * c as f64 / columns as f64).ceil() as i64);
            seek(times, start, end_in, start + per_column, edge)
        };
        per_column = end - start;
        reader.prefetch_edge(end + 2 * per_column, per_column);
        if end > start {
            reader.column(start, end, &mut out);
        }
        start = end;
    }
    if end_in < times.len() {
        reader.column(end_in, end_in + 1, &mut out);
    }
    out.finish()
}

/// The first index in `lo..hi` whose time is at or after `edge` (`hi` when none is), searched
/// outwards from `guess` in doubling steps: the cost grows with how far off the guess is, not
/// with the length of `times`. `times[lo..hi]` must be sorted.
pub(super) fn seek(times: &[i64], lo: usize, hi: usize, guess: usize, edge: i64) -> usize {
    let hi = hi.min(times.len());
    let lo = lo.min(hi);
    let g = guess.clamp(lo, hi);
    let mut step = 1;
    if g < hi && times[g] < edge {
        // Forward: everything before `a` is known to be before the edge.
        let mut a = g + 1;
        loop {
            let b = g.saturating_add(step).min(hi);
            if b == hi || times[b] >= edge {
                return a + times[a..b].partition_point(|&t| t < edge);
            }
            a = b + 1;
            step *= 2;
        }
    }
    // Backward: everything from `b` on is known to be at or after the edge.
    let mut b = g;
    loop {
        let a = g.saturating_sub(step).max(lo);
        if a == lo || times[a] < edge {
            return a + times[a..b].partition_point(|&t| t < edge);
        }
        b = a;
        step *= 2;
    }
}

/// Same, drawn as steps (digital / enum points): each value holds until the next sample.
pub fn decimate_steps(window: &SeriesWindow, from_ms: i64, to_ms: i64, columns: usize, gap_ms: Option<i64>) -> Decimated {
    let mut lines = decimate(window, from_ms, to_ms, columns, gap_ms);
    let step = |run: &mut Vec<[f64; 2]>| {
        let mut stepped = Vec::with_capacity(run.len() * 2);
        for (i, p) in run.iter().enumerate() {
            if i > 0 {
                stepped.push([p[0], run[i - 1][1]]);
            }
            stepped.push(*p);
        }
        *run = stepped;
    };
    lines.runs.iter_mut().for_each(step);
    lines.history_runs.iter_mut().for_each(step);
    lines.points = lines.runs.iter().chain(&lines.history_runs).map(Vec::len).sum();
    lines
}

/// Draws a state as held until `until_ms`: the run holding the newest sample goes on at its
/// last value (a digital point reported on change keeps its state until the next change).
pub fn hold_last(d: &mut Decimated, until_ms: i64) {
    let until = until_ms as f64;
    let newest = d.runs.iter_mut().chain(d.history_runs.iter_mut()).filter(|r| !r.is_empty()).max_by(|a, b| {
        let (x, y) = (a.last().map_or(f64::MIN, |p| p[0]), b.last().map_or(f64::MIN, |p| p[0]));
        x.total_cmp(&y)
    });
    if let Some(run) = newest
        && let Some(&[x, y]) = run.last()
        && x < until
    {
        run.push([until, y]);
        d.points += 1;
    }
}

/// Collects the runs.
struct Emitter<'w> {
    window: &'w SeriesWindow<'w>,
    runs: Vec<Vec<[f64; 2]>>,
    history_runs: Vec<Vec<[f64; 2]>>,
    run: Vec<[f64; 2]>,
    run_history: bool,
    /// The last sample read (finite or not): breaks are between consecutive samples.
    last: Option<usize>,
}

impl<'w> Emitter<'w> {
    fn new(window: &'w SeriesWindow<'w>) -> Self {
        Emitter { window, runs: Vec::new(), history_runs: Vec::new(), run: Vec::new(), run_history: false, last: None }
    }

    fn end_run(&mut self) {
        let run = std::mem::take(&mut self.run);
        if run.is_empty() {
            return;
        }
        if self.run_history { self.history_runs.push(run) } else { self.runs.push(run) }
    }

    /// Adds a column's kept samples (window indices, any order, repeats allowed).
    fn column(&mut self, mut kept: [usize; 4]) {
        kept.sort_unstable();
        let mut previous = None;
        for &i in kept.iter() {
            if previous != Some(i) {
                self.run.push([self.window.times[i] as f64, self.window.values[i]]);
            }
            previous = Some(i);
        }
    }

    fn finish(mut self) -> Decimated {
        self.end_run();
        let points = self.runs.iter().chain(&self.history_runs).map(Vec::len).sum();
        Decimated { runs: self.runs, history_runs: self.history_runs, points }
    }
}

/// First, min, max and last finite sample of a column part (window indices), with the
/// smallest and largest values (so merging reads no sample).
#[derive(Clone, Copy)]
struct Extremes {
    first: usize,
    min: usize,
    max: usize,
    last: usize,
    lo: f64,
    hi: f64,
}

impl Extremes {
    fn of(i: usize, v: f64) -> Self {
        Extremes { first: i, min: i, max: i, last: i, lo: v, hi: v }
    }

    /// `self` followed by `next`; ties keep the earlier sample.
    fn then(self, next: Extremes) -> Self {
        let (min, lo) = if next.lo < self.lo { (next.min, next.lo) } else { (self.min, self.lo) };
        let (max, hi) = if next.hi > self.hi { (next.max, next.hi) } else { (self.max, self.hi) };
        Extremes { first: self.first, min, max, last: next.last, lo, hi }
    }

    fn kept(self) -> [usize; 4] {
        [self.first, self.min, self.max, self.last]
    }
}

struct Reader<'a> {
    window: &'a SeriesWindow<'a>,
    gap: i64,
    summary: Option<(&'a Summary, usize)>,
}

impl Reader<'_> {
    /// Starts loading what the column edge at window index `i` will read (the samples before
    /// and at it, and its summary nodes), two columns ahead of the one being read.
    fn prefetch_edge(&self, i: usize, span: usize) {
        let w = self.window;
        // The edge is found near `i`, and the samples of its level-0 block are read one by one.
        // Blocks are counted in the series' physical indices.
        let base = self.summary.map_or(0, |(_, base)| base);
        let block = ((base + i) / BLOCK * BLOCK).saturating_sub(base);
        let near = block.min(w.len())..(block + BLOCK).min(w.len());
        prefetch_all(w.times.get(near.clone()));
        prefetch_all(w.values.get(near.clone()));
        prefetch_all(w.history.get(near));
        if let Some((summary, base)) = self.summary {
            summary.prefetch_around(base + i, span);
        }
    }

    /// Breaks between window samples i - 1 and i.
    fn breaks_at(&self, i: usize) -> bool {
        let w = self.window;
        i > 0 && (w.times[i] - w.times[i - 1] > self.gap || w.history[i] != w.history[i - 1])
    }

    /// Reads window samples [a, b) as one column.
    fn column(&self, a: usize, b: usize, out: &mut Emitter) {
        if out.last.is_some_and(|l| l + 1 == a) && self.breaks_at(a) {
            out.end_run();
        }
        if out.run.is_empty() {
            out.run_history = self.window.history[a];
        }
        match self.summarised(a, b) {
            Some(Some(e)) => out.column(e.kept()),
            Some(None) => {}
            None => self.scan(a, b, out),
        }
        out.last = Some(b - 1);
    }

    /// The column's extremes from the summary (`Some(None)`: no finite sample), or `None` when
    /// there is no summary or a run breaks inside the column.
    fn summarised(&self, a: usize, b: usize) -> Option<Option<Extremes>> {
        let (summary, base) = self.summary?;
        let w = self.window;
        let values = w.values;
        let mut acc: Option<Extremes> = None;
        let flags_wanted = if w.history[a] { HAS_HISTORY } else { HAS_LIVE };
        let mut add = |e: Extremes| acc = Some(acc.map_or(e, |acc| acc.then(e)));
        let mut i = a;
        while i < b {
            match node_at(summary, base + i, base + b) {
                Some((node, size)) => {
                    // The node's gap and flags include the interval into its first sample: at the
                    // column's start that is the column's entry, checked by the caller, and a
                    // break there only sends the column to the exact scan.
                    if i64::from(node.max_gap) > self.gap || node.flags != flags_wanted {
                        return None;
                    }
                    if node.first != NONE {
                        let local = |p: u32| p as usize - base;
                        add(Extremes { first: local(node.first), min: local(node.min), max: local(node.max), last: local(node.last), lo: node.lo, hi: node.hi });
                    }
                    i += size;
                }
                None => {
                    if i > a && self.breaks_at(i) {
                        return None;
                    }
                    if values[i].is_finite() {
                        add(Extremes::of(i, values[i]));
                    }
                    i += 1;
                }
            }
        }
        Some(acc)
    }

    /// Sample by sample, breaking runs where they break.
    fn scan(&self, a: usize, b: usize, out: &mut Emitter) {
        let values = self.window.values;
        let mut acc: Option<Extremes> = None;
        for (i, &v) in values.iter().enumerate().take(b).skip(a) {
            if i > a && self.breaks_at(i) {
                if let Some(e) = acc.take() {
                    out.column(e.kept());
                }
                out.end_run();
                out.run_history = self.window.history[i];
            }
            if v.is_finite() {
                let e = Extremes::of(i, v);
                acc = Some(acc.map_or(e, |acc| acc.then(e)));
            }
        }
        if let Some(e) = acc {
            out.column(e.kept());
        }
    }
}

/// The largest summary node starting at physical index `p` and ending by `end`, with its size.
fn node_at(summary: &Summary, p: usize, end: usize) -> Option<(&Node, usize)> {
    let base = Summary::shift(0);
    let room = end.checked_sub(p).filter(|&r| r >> base > 0)?;
    // The level is bounded by p's alignment, by the room left, and by the levels there are.
    let aligned = (p.trailing_zeros()).checked_sub(base)?;
    let fits = (usize::BITS - 1 - room.leading_zeros()) - base;
    let level = aligned.min(fits).min(summary.levels().checked_sub(1)? as u32) as usize;
    let shift = Summary::shift(level);
    summary.node(level, p >> shift).map(|node| (node, 1usize << shift))
}
