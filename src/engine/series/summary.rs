//! A min/max pyramid over a series' samples, so a frame decimates a million samples by visiting
//! a few dozen nodes per pixel column instead of every sample.
//!
//! Level 0 nodes cover [`BLOCK`] samples (by physical index in the series' columns); each level
//! above pairs two nodes of the one below. A node keeps, of the samples it covers: the first and
//! last with a finite value, the (earliest) smallest and largest, the longest interval into each
//! of its samples from the one before (for gap detection; the interval into its first sample
//! included, so adjacent nodes need no look at the samples between them), and whether those
//! samples and the one before it are live or history.
//! It is kept up to date on append (O(levels)) and rebuilt from a changed index onwards after a
//! merge or a compaction (O(samples after it)).

use crate::engine::prefetch::prefetch_all;

/// Samples per level-0 node.
pub const BLOCK: usize = 16;
const BLOCK_SHIFT: u32 = BLOCK.trailing_zeros();
/// "No finite sample here".
pub const NONE: u32 = u32::MAX;
pub const HAS_LIVE: u8 = 1;
pub const HAS_HISTORY: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub first: u32,
    pub last: u32,
    pub min: u32,
    pub max: u32,
    /// The values at `min` and `max`, kept here so merging and decimating read no sample.
    pub lo: f64,
    pub hi: f64,
    /// Longest interval into any of the node's samples from the sample before it, ms (saturated).
    pub max_gap: u32,
    pub flags: u8,
}

/// The columns a summary is computed from (physical indices).
#[derive(Clone, Copy)]
pub struct Columns<'a> {
    pub times: &'a [i64],
    pub values: &'a [f64],
    pub history: &'a [bool],
}

impl Columns<'_> {
    fn len(&self) -> usize {
        self.times.len()
    }

    fn flag(&self, i: usize) -> u8 {
        if self.history[i] { HAS_HISTORY } else { HAS_LIVE }
    }

    fn gap(&self, i: usize) -> u32 {
        // Times are strictly increasing; saturate rather than wrap for absurd spans.
        u32::try_from(self.times[i].saturating_sub(self.times[i - 1])).unwrap_or(u32::MAX)
    }
}

impl Node {
    fn of_sample(c: Columns, i: usize) -> Node {
        let v = c.values[i];
        let (at, lo, hi) = if v.is_finite() { (i as u32, v, v) } else { (NONE, f64::INFINITY, f64::NEG_INFINITY) };
        let (max_gap, before) = if i > 0 { (c.gap(i), c.flag(i - 1)) } else { (0, 0) };
        Node { first: at, last: at, min: at, max: at, lo, hi, max_gap, flags: c.flag(i) | before }
    }

    /// Adds sample `i`, which directly follows the node's last sample.
    fn push(&mut self, c: Columns, i: usize) {
        self.max_gap = self.max_gap.max(c.gap(i));
        self.flags |= c.flag(i);
        let v = c.values[i];
        if !v.is_finite() {
            return;
        }
        let at = i as u32;
        if self.first == NONE {
            *self = Node { first: at, last: at, min: at, max: at, lo: v, hi: v, ..*self };
            return;
        }
        self.last = at;
        if v < self.lo {
            (self.min, self.lo) = (at, v);
        }
        if v > self.hi {
            (self.max, self.hi) = (at, v);
        }
    }

    /// `self` followed by `right`.
    pub fn merge(self, right: Node) -> Node {
        // Ties keep the earlier sample, as a scan would; a node without finite samples has
        // lo = +inf and hi = -inf, so it never wins.
        let (min, lo) = if right.first != NONE && (self.first == NONE || right.lo < self.lo) { (right.min, right.lo) } else { (self.min, self.lo) };
        let (max, hi) = if right.first != NONE && (self.first == NONE || right.hi > self.hi) { (right.max, right.hi) } else { (self.max, self.hi) };
        Node {
            first: if self.first == NONE { right.first } else { self.first },
            last: if right.last == NONE { self.last } else { right.last },
            min,
            max,
            lo,
            hi,
            max_gap: self.max_gap.max(right.max_gap),
            flags: self.flags | right.flags,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// `levels[k][j]` covers physical samples `[j << (BLOCK_SHIFT + k), (j + 1) << (BLOCK_SHIFT + k))`.
    levels: Vec<Vec<Node>>,
}

impl Summary {
    pub fn shift(level: usize) -> u32 {
        BLOCK_SHIFT + level as u32
    }

    pub fn levels(&self) -> usize {
        self.levels.len()
    }

    pub fn node(&self, level: usize, index: usize) -> Option<&Node> {
        self.levels.get(level)?.get(index)
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }

    /// Starts loading the nodes a column edge at physical index `p` reads, on the levels whose
    /// nodes hold at most `span` samples (the column's size: larger nodes are never read).
    pub fn prefetch_around(&self, p: usize, span: usize) {
        for (k, level) in self.levels.iter().enumerate() {
            if (1usize << Self::shift(k)) > span.max(BLOCK) {
                break;
            }
            // A column ending at `p` ends with the node before `p`'s; one starting there starts
            // with the first node at or after `p` (`p`'s own only when `p` is aligned).
            let shift = Self::shift(k);
            let node = |j: usize| level.get(j..=j);
            prefetch_all(node((p >> shift).wrapping_sub(1)));
            prefetch_all(node(p.div_ceil(1 << shift)));
        }
    }

    /// Takes in the sample just appended at the last physical index.
    pub fn push(&mut self, c: Columns) {
        let Some(i) = c.len().checked_sub(1) else { return };
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        for (k, level) in self.levels.iter_mut().enumerate() {
            let j = i >> Self::shift(k);
            if j == level.len() {
                level.push(Node::of_sample(c, i));
            } else if let Some(node) = level.last_mut() {
                node.push(c, i);
            }
        }
        self.grow();
    }

    /// Adds levels until the top one has a single node.
    fn grow(&mut self) {
        while let Some(top) = self.levels.last()
            && top.len() > 1
        {
            let above = Self::pair_up(top, 0);
            self.levels.push(above);
        }
    }

    /// Nodes of level `k + 1` from index `from` on, made from `below` (level `k`).
    fn pair_up(below: &[Node], from: usize) -> Vec<Node> {
        (from..below.len().div_ceil(2))
            .map(|j| match below.get(2 * j + 1) {
                Some(right) => below[2 * j].merge(*right),
                None => below[2 * j],
            })
            .collect()
    }

    /// Recomputes every node covering physical index `from` or later (after samples from
    /// `from` on changed, or the columns were shortened).
    pub fn rebuild_from(&mut self, c: Columns, from: usize) {
        let n = c.len();
        if n == 0 {
            self.levels.clear();
            return;
        }
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let mut start = from.min(n) >> BLOCK_SHIFT;
        let level0 = &mut self.levels[0];
        level0.truncate(start);
        let mut j = start;
        while (j << BLOCK_SHIFT) < n {
            let lo = j << BLOCK_SHIFT;
            let hi = (lo + BLOCK).min(n);
            let mut node = Node::of_sample(c, lo);
            for i in lo + 1..hi {
                node.push(c, i);
            }
            level0.push(node);
            j += 1;
        }
        let mut k = 0;
        while self.levels[k].len() > 1 {
            start /= 2;
            let rebuilt = Self::pair_up(&self.levels[k], start);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            let above = &mut self.levels[k + 1];
            above.truncate(start);
            above.extend(rebuilt);
            k += 1;
        }
        self.levels.truncate(k + 1);
    }
}
