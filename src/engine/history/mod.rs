//! The point history: every point and meter sample, and every alarm event with its
//! acknowledgement, kept in one SQLite file (bundled SQLite, WAL mode) so it survives a restart.
//! No egui; the engine hands it decoded payloads, the window and the CLI read it.
//!
//! - [`HistoryDb`] is the file: [`HistoryDb::open`] for the one writer (a lock file next to the
//!   database keeps a second workbench out: [`HistoryError::InUse`]; a corrupted file is moved
//!   aside, never deleted, and said in [`OpenReport`]), [`HistoryDb::open_read_only`] for readers,
//!   which work while a writer runs.
//! - Samples are keyed by (series, the sample's own `ts`) and ordered by it, never by arrival:
//!   a laptop clock jumping back cannot reorder what is stored, and a history batch sent twice
//!   is stored once (`INSERT OR IGNORE` on that key: the contract's dedup on (gateway, sub, pid, ts)).
//! - [`HistoryWriter::spawn`] moves writing off the engine's hot path: [`HistoryHandle::offer`]
//!   never blocks (a full queue is counted as refused) and a thread writes what is queued in one
//!   transaction per tick. A write error (disk full, read-only) stops writing, keeps what is
//!   committed and is kept for the engine to show.
//! - Retention by age and size (defaults 30 days, 2 GiB), on open and every few minutes.

mod app_api;
mod batch;
mod bench;
mod db;
mod error;
mod open;
mod read;
mod retention;
#[cfg(test)]
mod tests;
mod writer;

pub use app_api::{ApiSample, StatRow};
pub use batch::{AlarmAck, AlarmEvents, HistoryBatch, KeyedSample, SeriesSamples, alarms_of};
pub use bench::bench_inserts;
pub use db::{HistoryDb, WriteCounts};
pub use error::HistoryError;
pub use open::{OpenReport, SCHEMA_VERSION, corrupt_path, lock_path};
pub use read::{AlarmEntry, Bucket, DbStats, SampleRow, SeriesInfo};
pub use retention::PruneReport;
pub use writer::{HistoryHandle, HistoryMonitor, HistoryWriter, WriterOptions, WriterStats};

/// 30 days.
pub const DEFAULT_MAX_AGE_MS: i64 = 30 * 86_400_000;
/// 2 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How much history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryOptions {
    /// Samples and alarms older than this, against the newest sample (or now, if earlier), go.
    pub max_age_ms: i64,
    /// Past this many bytes of used pages, the oldest samples go until under it.
    pub max_bytes: u64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions { max_age_ms: DEFAULT_MAX_AGE_MS, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Where a stored sample came from. Stored as its code (0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistorySource {
    /// A live `point/report`, `meter/report` or a `point/get`/`meter/get` reply.
    Report,
    /// A `point/change`.
    Change,
    /// A row of a `history/report` batch (outage back-fill or a recall).
    History,
}

impl HistorySource {
    /// The source of a payload's samples: the series store's [`SampleSource`] refined by the
    /// topic's action (the series store does not tell a change from a report).
    ///
    /// [`SampleSource`]: crate::engine::series::SampleSource
    pub fn of(source: crate::engine::series::SampleSource, action: &str) -> Self {
        if source.is_history() {
            HistorySource::History
        } else if action == "change" {
            HistorySource::Change
        } else {
            HistorySource::Report
        }
    }

    pub fn code(self) -> u8 {
        match self {
            HistorySource::Report => 0,
            HistorySource::Change => 1,
            HistorySource::History => 2,
        }
    }

    /// An unknown code (a newer workbench's) reads as a report.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => HistorySource::Change,
            2 => HistorySource::History,
            _ => HistorySource::Report,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HistorySource::Report => "report",
            HistorySource::Change => "change",
            HistorySource::History => "history",
        }
    }
}
