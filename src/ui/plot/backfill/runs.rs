//! Stored buckets into drawable runs, and which part of a chart's range the history fills.

use crate::engine::history::Bucket;

/// The part of a chart's range [from_ms, to_ms] drawn in `columns` columns that the history
/// fills for a series whose samples in memory start at `memory_first_ms`: (from, to, buckets),
/// the buckets pro rata of the columns. None when memory covers the range.
pub fn needed_range(from_ms: i64, to_ms: i64, columns: usize, memory_first_ms: Option<i64>) -> Option<(i64, i64, usize)> {
    let to = memory_first_ms.map_or(to_ms, |first| to_ms.min(first.saturating_sub(1)));
    if columns == 0 || to < from_ms {
        return None;
    }
    let share = ((to - from_ms) as f64 + 1.0) / ((to_ms - from_ms) as f64 + 1.0);
    let buckets = ((columns as f64 * share).ceil() as usize).clamp(1, columns);
    Some((from_ms, to, buckets))
}

/// Stored buckets as polyline runs, the way the in-memory decimation draws a pixel column: each
/// bucket a vertical stroke from its min to its max at the middle of its samples (entered from
/// the side nearer the previous point). A run breaks at a bucket without a value, and where
/// buckets are missing and the time between the samples on either side is over `gap_ms`
/// (`None`: never, a state held until its next change). Steps (digital, enum) hold each value
/// until the next point.
pub fn bucket_runs(buckets: &[Bucket], gap_ms: Option<i64>, steps: bool) -> Vec<Vec<[f64; 2]>> {
    let mut runs = Vec::new();
    let mut run: Vec<[f64; 2]> = Vec::new();
    let mut prev: Option<&Bucket> = None;
    for b in buckets {
        if !(b.min.is_finite() && b.max.is_finite()) {
            runs.extend(Some(std::mem::take(&mut run)).filter(|r| !r.is_empty()));
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let missing = b.start_ms - p.start_ms > p.width_ms;
            if gap_ms.is_some_and(|gap| missing && b.first_ms - p.last_ms > gap) {
                runs.push(std::mem::take(&mut run));
            }
        }
        let x = (b.first_ms as f64 + b.last_ms as f64) / 2.0;
        let from_top = run.last().is_some_and(|p| p[1] > (b.min + b.max) / 2.0);
        if b.min == b.max {
            run.push([x, b.min]);
        } else if from_top {
            run.extend([[x, b.max], [x, b.min]]);
        } else {
            run.extend([[x, b.min], [x, b.max]]);
        }
        prev = Some(b);
    }
    runs.extend(Some(run).filter(|r| !r.is_empty()));
    if steps {
        for run in &mut runs {
            let mut stepped = Vec::with_capacity(run.len() * 2);
            for (i, p) in run.iter().enumerate() {
                if i > 0 {
                    stepped.push([p[0], run[i - 1][1]]);
                }
                stepped.push(*p);
            }
            *run = stepped;
        }
    }
    runs
}

/// The sampling interval the buckets show: the median spacing inside buckets of several
/// samples, else the smallest spacing between neighbouring buckets. For a series without a
/// model period and nothing in memory.
pub(super) fn interval_of(buckets: &[Bucket]) -> Option<i64> {
    let mut inside: Vec<i64> = buckets.iter().filter(|b| b.count > 1).map(|b| (b.last_ms - b.first_ms) / (b.count as i64 - 1)).collect();
    if !inside.is_empty() {
        let mid = inside.len() / 2;
        return Some(*inside.select_nth_unstable(mid).1);
    }
    buckets.windows(2).map(|w| w[1].first_ms - w[0].last_ms).filter(|d| *d > 0).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(start_ms: i64, width_ms: i64, min: f64, max: f64, first_ms: i64, last_ms: i64, count: u64) -> Bucket {
        Bucket { start_ms, width_ms, min, max, first_ms, last_ms, count }
    }

    #[test]
    fn buckets_become_strokes_and_missing_buckets_over_a_gap_break_the_run() {
        let buckets = [
            bucket(0, 10, 1.0, 3.0, 2, 8, 4),
            bucket(10, 10, 2.0, 2.0, 14, 14, 1),
            // 20..40 empty: 14 → 45 is over a gap of 20.
            bucket(40, 10, 0.0, 5.0, 45, 49, 3),
            bucket(50, 10, f64::NAN, f64::NAN, 51, 52, 2),
            bucket(60, 10, 7.0, 7.0, 60, 60, 1),
        ];
        let runs = bucket_runs(&buckets, Some(20), false);
        assert_eq!(runs, vec![vec![[5.0, 1.0], [5.0, 3.0], [14.0, 2.0]], vec![[47.0, 0.0], [47.0, 5.0]], vec![[60.0, 7.0]]]);
        // Zoomed in past the sampling interval most buckets are empty: under the gap, one run.
        let sparse = [bucket(0, 1, 1.0, 1.0, 0, 0, 1), bucket(10, 1, 2.0, 2.0, 10, 10, 1), bucket(20, 1, 1.0, 1.0, 20, 20, 1)];
        assert_eq!(bucket_runs(&sparse, Some(30), false).len(), 1);
        assert_eq!(bucket_runs(&sparse, Some(0), false).len(), 3, "any missing bucket breaks with no known interval");
        assert_eq!(bucket_runs(&buckets[..3], None, false).len(), 1, "a held state never breaks");
        // A stroke is entered from the side nearer the previous point.
        let down = [bucket(0, 10, 9.0, 9.0, 5, 5, 1), bucket(10, 10, 1.0, 8.0, 11, 19, 5)];
        assert_eq!(bucket_runs(&down, Some(20), false), vec![vec![[5.0, 9.0], [15.0, 8.0], [15.0, 1.0]]]);
        let steps = bucket_runs(&sparse, Some(30), true);
        assert_eq!(steps, vec![vec![[0.0, 1.0], [10.0, 1.0], [10.0, 2.0], [20.0, 2.0], [20.0, 1.0]]]);
        assert!(bucket_runs(&[], Some(0), false).is_empty());
    }

    #[test]
    fn the_history_fills_only_before_the_memory() {
        assert_eq!(needed_range(0, 999, 100, None), Some((0, 999, 100)));
        assert_eq!(needed_range(0, 999, 100, Some(500)), Some((0, 499, 50)));
        assert_eq!(needed_range(0, 999, 100, Some(0)), None);
        assert_eq!(needed_range(0, 999, 100, Some(1)), Some((0, 0, 1)));
        assert_eq!(needed_range(0, 999, 0, None), None);
    }
}
