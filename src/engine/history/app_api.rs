//! Reads for the application-side API (GB/T 35031.5, `crate::api`): samples of a range with
//! paging, and statistics by period with SQL doing the aggregation (one grouped query per
//! series, never a loop over every sample here). Ranges are [from, to): `to` is exclusive.

use rusqlite::params;

use super::db::{HistoryDb, series_id};
use super::error::HistoryError;
use crate::engine::series::SeriesKey;
use crate::protocol::app_api::time::{TzOffset, month_start};
use crate::protocol::app_api::{Period, Stat};

/// One period of a statistic: its aligned start, the value, the samples used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatRow {
    pub start_ms: i64,
    pub value: f64,
    pub count: u64,
}

/// One stored sample: (ts epoch ms, value (`None` where none was stored), quality).
pub type ApiSample = (i64, Option<f64>, u8);

impl HistoryDb {
    /// How many samples `key` has with from_ms <= ts < to_ms.
    pub fn count_in(&self, key: &SeriesKey, from_ms: i64, to_ms: i64) -> Result<u64, HistoryError> {
        let err = |e| HistoryError::read(&self.path, &e);
        let Some(id) = series_id(&self.conn, key, false).map_err(err)? else { return Ok(0) };
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM samples WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3")
            .and_then(|mut s| s.query_row(params![id, from_ms, to_ms], |r| r.get(0)))
            .map_err(err)?;
        Ok(n.max(0) as u64)
    }

    /// At most `limit` samples of `key` with from_ms <= ts < to_ms, after skipping `offset`,
    /// ordered by ts.
    pub fn samples_in(&self, key: &SeriesKey, from_ms: i64, to_ms: i64, offset: u64, limit: u64) -> Result<Vec<ApiSample>, HistoryError> {
        let err = |e| HistoryError::read(&self.path, &e);
        let Some(id) = series_id(&self.conn, key, false).map_err(err)? else { return Ok(Vec::new()) };
        let (offset, limit) = (i64::try_from(offset).unwrap_or(i64::MAX), i64::try_from(limit).unwrap_or(i64::MAX));
        let mut select = self
            .conn
            .prepare_cached("SELECT ts, value, quality FROM samples WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts LIMIT ?4 OFFSET ?5")
            .map_err(err)?;
        let rows = select.query_map(params![id, from_ms, to_ms, limit, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    /// `stat` of `key` over [from_ms, to_ms) by `period` aligned in `tz`, from the samples of
    /// quality 0 with a value; periods without such samples are left out. `delta` sums the
    /// positive steps from the sample before (the last one before the period, also before
    /// `from`), so a meter reset does not count as negative energy.
    pub fn statistic(&self, key: &SeriesKey, from_ms: i64, to_ms: i64, period: Period, stat: Stat, tz: TzOffset) -> Result<Vec<StatRow>, HistoryError> {
        let err = |e| HistoryError::read(&self.path, &e);
        let Some(id) = series_id(&self.conn, key, false).map_err(err)? else { return Ok(Vec::new()) };
        // The period's key in local time: its index for hours and days, `YYYY-MM` for months.
        let bucket = match period {
            Period::Hour => "(ts + ?4) / 3600000",
            Period::Day => "(ts + ?4) / 86400000",
            Period::Month => "strftime('%Y-%m', (ts + ?4) / 1000, 'unixepoch')",
        };
        let sql = match stat {
            Stat::Delta => format!(
                "WITH s AS (
                    SELECT ts, value, LAG(value) OVER (ORDER BY ts) AS prev FROM samples
                    WHERE series_id = ?1 AND quality = 0 AND value IS NOT NULL AND ts < ?3
                      AND ts >= COALESCE((SELECT MAX(ts) FROM samples WHERE series_id = ?1 AND quality = 0
                                          AND value IS NOT NULL AND ts < ?2), ?2))
                 SELECT {bucket} AS b, SUM(CASE WHEN prev IS NOT NULL AND value > prev THEN value - prev ELSE 0 END), COUNT(*)
                 FROM s WHERE ts >= ?2 GROUP BY b ORDER BY MIN(ts)"
            ),
            _ => {
                let aggregate = match stat {
                    Stat::Avg => "AVG(value)",
                    Stat::Min => "MIN(value)",
                    Stat::Max => "MAX(value)",
                    _ => "SUM(value)",
                };
                format!(
                    "SELECT {bucket} AS b, {aggregate}, COUNT(*) FROM samples
                     WHERE series_id = ?1 AND ts >= ?2 AND ts < ?3 AND quality = 0 AND value IS NOT NULL
                     GROUP BY b ORDER BY MIN(ts)"
                )
            }
        };
        let offset = tz.ms();
        let mut select = self.conn.prepare_cached(&sql).map_err(err)?;
        let rows = select
            .query_map(params![id, from_ms, to_ms, offset], |r| Ok((r.get::<_, rusqlite::types::Value>(0)?, r.get::<_, f64>(1)?, r.get::<_, i64>(2)?)))
            .map_err(err)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, value, count) = row.map_err(err)?;
            let start_ms = match (period, key) {
                (Period::Hour, rusqlite::types::Value::Integer(b)) => Some(b * 3_600_000 - offset),
                (Period::Day, rusqlite::types::Value::Integer(b)) => Some(b * 86_400_000 - offset),
                (Period::Month, rusqlite::types::Value::Text(key)) => month_start(&key, tz),
                _ => None,
            };
            // A key SQLite wrote is always one of these forms; a stranger one is skipped.
            if let Some(start_ms) = start_ms {
                out.push(StatRow { start_ms, value, count: count.max(0) as u64 });
            }
        }
        Ok(out)
    }
}
