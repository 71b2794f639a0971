//! Reading the history: a series' samples in a range (whole or as min/max buckets for the
//! plots' scroll-back), the series held, the alarms of a period, and the file's figures.

use std::path::PathBuf;

use rusqlite::{Connection, params};

use super::HistorySource;
use super::db::{HistoryDb, series_id};
use super::error::HistoryError;
use crate::engine::series::SeriesKey;

/// (ts epoch ms, value (NaN where none was stored), quality, source), ordered by ts.
pub type SampleRow = (i64, f64, u8, HistorySource);

/// The samples of one time bucket of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The bucket's start: `from + index * width`.
    pub start_ms: i64,
    pub width_ms: i64,
    /// NaN when every sample of the bucket had no value.
    pub min: f64,
    pub max: f64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub count: u64,
}

/// One stored series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesInfo {
    pub key: SeriesKey,
    pub samples: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// One stored alarm event (a raise or a clear).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEntry {
    pub pk: String,
    pub dev: String,
    pub sub: String,
    pub alarm_id: String,
    /// `raised` or `cleared`.
    pub state: String,
    pub ts: i64,
    pub pid: Option<String>,
    /// The alarm's type.
    pub code: String,
    pub level: u8,
    pub text: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub report_id: Option<String>,
    pub received_ms: i64,
    /// When an acknowledgement of its report was seen; `None`: none seen.
    pub acked_ms: Option<i64>,
}

/// The history file's figures (`cems-workbench history-db stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbStats {
    pub path: PathBuf,
    pub samples: u64,
    pub series: u64,
    pub alarms: u64,
    /// The database file's size on disk.
    pub db_bytes: u64,
    /// The write-ahead log's size (not yet copied into the database).
    pub wal_bytes: u64,
    /// Pages in use (what the size limit counts).
    pub used_bytes: u64,
    pub oldest_ms: Option<i64>,
    pub newest_ms: Option<i64>,
}

impl HistoryDb {
    fn read_err(&self, e: rusqlite::Error) -> HistoryError {
        HistoryError::read(&self.path, &e)
    }

    /// The samples of `key` with from_ms <= ts <= to_ms, ordered by ts.
    pub fn range(&self, key: &SeriesKey, from_ms: i64, to_ms: i64) -> Result<Vec<SampleRow>, HistoryError> {
        let Some(id) = series_id(&self.conn, key, false).map_err(|e| self.read_err(e))? else { return Ok(Vec::new()) };
        let mut select = self
            .conn
            .prepare_cached("SELECT ts, value, quality, source FROM samples WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 ORDER BY ts")
            .map_err(|e| self.read_err(e))?;
        let rows = select
            .query_map(params![id, from_ms, to_ms], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN), r.get::<_, u8>(2)?, HistorySource::from_code(r.get(3)?)))
            })
            .map_err(|e| self.read_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.read_err(e))
    }

    /// At most `buckets` min/max buckets of `key` over [from_ms, to_ms] (the span of its
    /// samples there when from/to reach further), empty buckets left out; ordered.
    pub fn range_decimated(&self, key: &SeriesKey, from_ms: i64, to_ms: i64, buckets: usize) -> Result<Vec<Bucket>, HistoryError> {
        let Some(id) = series_id(&self.conn, key, false).map_err(|e| self.read_err(e))? else { return Ok(Vec::new()) };
        if buckets == 0 || from_ms > to_ms {
            return Ok(Vec::new());
        }
        // Bounds from the data, so `ts - from` cannot overflow into floating point in SQL.
        let bounds: (Option<i64>, Option<i64>) = self
            .conn
            .query_row("SELECT MIN(ts), MAX(ts) FROM samples WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3", params![id, from_ms, to_ms], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.read_err(e))?;
        let (Some(first), Some(last)) = bounds else { return Ok(Vec::new()) };
        let from = from_ms.max(first);
        let to = to_ms.min(last);
        let span = i128::from(to) - i128::from(from) + 1;
        let width = i64::try_from((span + buckets as i128 - 1) / buckets as i128).unwrap_or(i64::MAX).max(1);
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT (ts - ?2) / ?4 AS b, MIN(value), MAX(value), MIN(ts), MAX(ts), COUNT(*) FROM samples
                 WHERE series_id = ?1 AND ts BETWEEN ?2 AND ?3 GROUP BY b ORDER BY b",
            )
            .map_err(|e| self.read_err(e))?;
        let rows = select
            .query_map(params![id, from, to, width], |r| {
                let index: i64 = r.get(0)?;
                Ok(Bucket {
                    start_ms: from.saturating_add(index.saturating_mul(width)),
                    width_ms: width,
                    min: r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                    max: r.get::<_, Option<f64>>(2)?.unwrap_or(f64::NAN),
                    first_ms: r.get(3)?,
                    last_ms: r.get(4)?,
                    count: r.get::<_, i64>(5)?.max(0) as u64,
                })
            })
            .map_err(|e| self.read_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.read_err(e))
    }

    /// Every stored series with its sample count and first and last sample time, by key.
    pub fn series(&self) -> Result<Vec<SeriesInfo>, HistoryError> {
        let mut select = self
            .conn
            .prepare(
                "SELECT kind, pk, dev, sub, pid,
                        (SELECT COUNT(*) FROM samples WHERE series_id = s.id),
                        (SELECT MIN(ts) FROM samples WHERE series_id = s.id),
                        (SELECT MAX(ts) FROM samples WHERE series_id = s.id)
                 FROM series s",
            )
            .map_err(|e| self.read_err(e))?;
        let rows = select
            .query_map([], |r| {
                let (kind, pk, dev, sub, pid): (String, String, String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
                let key = if kind == "meter" { SeriesKey::meter(&pk, &dev, &sub, &pid) } else { SeriesKey::point(&pk, &dev, &sub, &pid) };
                Ok(SeriesInfo { key, samples: r.get::<_, i64>(5)?.max(0) as u64, first_ms: r.get(6)?, last_ms: r.get(7)? })
            })
            .map_err(|e| self.read_err(e))?;
        let mut all: Vec<SeriesInfo> = rows.collect::<Result<_, _>>().map_err(|e| self.read_err(e))?;
        all.retain(|s| s.samples > 0);
        all.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    /// Alarm events with from_ms <= ts <= to_ms, ordered by ts.
    pub fn alarms(&self, from_ms: i64, to_ms: i64) -> Result<Vec<AlarmEntry>, HistoryError> {
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT pk, dev, sub, alarm_id, state, ts, pid, code, level, text, value, threshold, report_id, received_ms, acked_ms
                 FROM alarms WHERE ts BETWEEN ?1 AND ?2 ORDER BY ts, pk, dev, alarm_id",
            )
            .map_err(|e| self.read_err(e))?;
        let rows = select
            .query_map(params![from_ms, to_ms], |r| {
                Ok(AlarmEntry {
                    pk: r.get(0)?,
                    dev: r.get(1)?,
                    sub: r.get(2)?,
                    alarm_id: r.get(3)?,
                    state: r.get(4)?,
                    ts: r.get(5)?,
                    pid: r.get(6)?,
                    code: r.get(7)?,
                    level: r.get(8)?,
                    text: r.get(9)?,
                    value: r.get(10)?,
                    threshold: r.get(11)?,
                    report_id: r.get(12)?,
                    received_ms: r.get(13)?,
                    acked_ms: r.get(14)?,
                })
            })
            .map_err(|e| self.read_err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.read_err(e))
    }

    /// Rows, sizes and the oldest and newest sample. Counting the samples reads the whole
    /// table (about a second per GB): for the CLI, not for every frame.
    pub fn stats(&self) -> Result<DbStats, HistoryError> {
        let count = |sql: &str| self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n.max(0) as u64).map_err(|e| self.read_err(e));
        let samples = count("SELECT COUNT(*) FROM samples")?;
        let series = count("SELECT COUNT(*) FROM series s WHERE EXISTS (SELECT 1 FROM samples WHERE series_id = s.id)")?;
        let alarms = count("SELECT COUNT(*) FROM alarms")?;
        let (oldest_ms, newest_ms) = bounds(&self.conn).map_err(|e| self.read_err(e))?;
        let file_len = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        Ok(DbStats {
            path: self.path.clone(),
            samples,
            series,
            alarms,
            db_bytes: file_len(self.path.clone()),
            wal_bytes: file_len(super::open::wal_path(&self.path)),
            used_bytes: used_bytes(&self.conn).map_err(|e| self.read_err(e))?,
            oldest_ms,
            newest_ms,
        })
    }
}

/// The oldest and newest sample time over all series, each found through the primary key.
pub(super) fn bounds(conn: &Connection) -> rusqlite::Result<(Option<i64>, Option<i64>)> {
    conn.query_row(
        "SELECT MIN((SELECT MIN(ts) FROM samples WHERE series_id = s.id)), MAX((SELECT MAX(ts) FROM samples WHERE series_id = s.id)) FROM series s",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Bytes of the pages in use (the file's pages less the free list).
pub(super) fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(((pages - free).max(0) as u64).saturating_mul(size.max(0) as u64))
}
