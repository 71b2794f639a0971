//! A figure for `cems-workbench bench`: samples per second through the writer, batched as the
//! engine batches them (one message of 20 points per batch, 100 series).

use std::path::Path;
use std::time::Instant;

use super::batch::{HistoryBatch, SeriesSamples};
use super::db::HistoryDb;
use super::error::HistoryError;
use super::writer::HistoryWriter;
use super::{HistoryOptions, HistorySource};
use crate::engine::series::SeriesKey;

const SERIES: usize = 100;
const POINTS_PER_MESSAGE: usize = 20;

/// Writes `samples` samples into a history at `db_path` (best a fresh file) through
/// [`HistoryWriter`] and returns samples per second, from the first offer to the last commit.
pub fn bench_inserts(db_path: &Path, samples: usize) -> Result<f64, HistoryError> {
    let db = HistoryDb::open(db_path, HistoryOptions { max_age_ms: i64::MAX, max_bytes: u64::MAX })?;
    let keys: Vec<SeriesKey> = (0..SERIES).map(|i| SeriesKey::point("PK-BENCH", "GW-BENCH", &format!("dev-{}", i / 10), &format!("p{i}"))).collect();
    let handle = HistoryWriter::spawn(db)?;
    let base_ms = 1_767_225_600_000_i64;
    let started = Instant::now();
    let mut sent = 0;
    let mut message = 0usize;
    while sent < samples {
        let n = POINTS_PER_MESSAGE.min(samples - sent);
        // Each message reports 20 of the series at one time; the 100 series get a new second every 5 messages.
        let ts = base_ms + (message / (SERIES / POINTS_PER_MESSAGE)) as i64 * 1_000;
        let first = (message * POINTS_PER_MESSAGE) % SERIES;
        let series = (first..first + n)
            .map(|i| SeriesSamples { key: keys[i % SERIES].clone(), source: HistorySource::Report, samples: vec![(ts, i as f64 * 0.5, 0)] })
            .collect();
        if !handle.send_waiting(HistoryBatch { series, ..HistoryBatch::default() }) {
            break;
        }
        sent += n;
        message += 1;
    }
    handle.flush();
    let secs = started.elapsed().as_secs_f64();
    let stats = handle.stats();
    if let Some(e) = stats.last_error {
        return Err(e);
    }
    drop(handle);
    Ok(stats.samples_written as f64 / secs.max(1e-9))
}
