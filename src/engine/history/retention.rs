//! Retention: by age (samples and alarms) and by size (the oldest samples first).
//!
//! Age is measured against the newest stored sample, or now when that is earlier: a gateway
//! whose clock runs years ahead cannot wipe the rest, and a database reopened after weeks unused
//! is not emptied before anything new arrives. Deletes go series by series through the primary
//! key (no index on `ts` to slow every insert). The file was made with `auto_vacuum =
//! INCREMENTAL`, so after a prune `PRAGMA incremental_vacuum` gives the freed pages back to the
//! file system and the file itself shrinks (a database made elsewhere without it reuses them).

use rusqlite::{Connection, params};

use super::db::HistoryDb;
use super::error::HistoryError;
use super::read::{bounds, used_bytes};
use crate::protocol::time::now_ms;

/// Rounds of size pruning at most, each dropping a sixteenth of what is left's time span.
const SIZE_ROUNDS: usize = 64;
const SIZE_STEP_DIVISOR: i64 = 16;

/// What one prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub samples_by_age: u64,
    pub alarms_by_age: u64,
    pub samples_by_size: u64,
    /// The cut-off of the age rule (samples older than it went), when there were samples.
    pub age_cutoff_ms: Option<i64>,
}

impl PruneReport {
    pub fn removed(&self) -> u64 {
        self.samples_by_age + self.alarms_by_age + self.samples_by_size
    }
}

impl HistoryDb {
    /// Applies retention now (the writer does it on open and every few minutes).
    pub fn prune_now(&mut self) -> Result<PruneReport, HistoryError> {
        self.prune_at(now_ms())
    }

    /// Retention as if it were `now_ms`.
    pub fn prune_at(&mut self, now_ms: i64) -> Result<PruneReport, HistoryError> {
        if self.is_read_only() {
            return Ok(PruneReport::default());
        }
        let path = self.path.clone();
        let options = self.options;
        let report = prune(&mut self.conn, options.max_age_ms, options.max_bytes, now_ms).map_err(|e| HistoryError::write(&path, &e))?;
        if report.removed() > 0 {
            // Series left empty were deleted with their ids; a cached id must not be reused.
            self.series_ids.clear();
        }
        Ok(report)
    }
}

fn prune(conn: &mut Connection, max_age_ms: i64, max_bytes: u64, now_ms: i64) -> rusqlite::Result<PruneReport> {
    let mut report = PruneReport::default();
    if let (_, Some(newest)) = bounds(conn)? {
        let cutoff = newest.min(now_ms).saturating_sub(max_age_ms.max(0));
        report.age_cutoff_ms = Some(cutoff);
        report.samples_by_age = delete_before(conn, cutoff)?;
        report.alarms_by_age = conn.execute("DELETE FROM alarms WHERE ts < ?1", params![cutoff])? as u64;
    }
    for _ in 0..SIZE_ROUNDS {
        if used_bytes(conn)? <= max_bytes {
            break;
        }
        let (Some(oldest), Some(newest)) = bounds(conn)? else { break };
        let step = ((newest - oldest) / SIZE_STEP_DIVISOR).max(1);
        report.samples_by_size += delete_before(conn, oldest.saturating_add(step))?;
    }
    if report.removed() > 0 {
        conn.execute_batch("DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM samples WHERE series_id = series.id); PRAGMA incremental_vacuum;")?;
        // Readers may hold the log: then it is truncated on a later checkpoint.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(report)
}

/// Deletes every sample older than `cutoff`, series by series, in one transaction.
fn delete_before(conn: &mut Connection, cutoff: i64) -> rusqlite::Result<u64> {
    let tx = conn.transaction()?;
    let ids: Vec<i64> = tx.prepare("SELECT id FROM series")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut removed = 0;
    {
        let mut delete = tx.prepare_cached("DELETE FROM samples WHERE series_id = ?1 AND ts < ?2")?;
        for id in ids {
            removed += delete.execute(params![id, cutoff])? as u64;
        }
    }
    tx.commit()?;
    Ok(removed)
}
