//! The history file and its writes: one transaction per call, cached prepared statements.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, params};

use super::batch::HistoryBatch;
use super::error::HistoryError;
use super::open::{OpenReport, Unusable, connect_reader, connect_writer, move_aside, take_lock};
use super::HistoryOptions;
use crate::engine::series::SeriesKey;
use crate::protocol::payload::AlarmState;
use crate::protocol::time::now_ms;

/// One SQLite history file, opened as its one writer or as a reader.
#[derive(Debug)]
pub struct HistoryDb {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    pub(super) options: HistoryOptions,
    /// Held for the writer's whole life; `None` for a reader.
    _lock: Option<File>,
    /// Series ids known committed, so a sample costs one insert.
    pub(super) series_ids: HashMap<SeriesKey, i64>,
    opened: OpenReport,
}

/// What one write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub samples_new: u64,
    /// Samples whose (series, ts) was already stored (a batch sent twice).
    pub samples_duplicate: u64,
    pub alarms_new: u64,
    /// Alarm rows an acknowledgement marked.
    pub alarms_acked: u64,
}

impl HistoryDb {
    /// Opens (or creates) the history at `path` as its one writer, then applies retention. The
    /// parent folder is created. Another workbench writing it gives [`HistoryError::InUse`]; a
    /// corrupted file is moved aside (see [`OpenReport::moved_aside`]) and a fresh one made.
    pub fn open(path: impl AsRef<Path>, options: HistoryOptions) -> Result<HistoryDb, HistoryError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| HistoryError::open(path, format!("cannot create folder {}: {e}", parent.display())))?;
        }
        // The lock first: a file another writer uses is never judged, let alone moved.
        let lock = take_lock(path)?;
        let mut opened = OpenReport::default();
        let conn = match connect_writer(path) {
            Ok(conn) => conn,
            Err(Unusable::Corrupt(why)) => {
                tracing::warn!(path = %path.display(), "history database corrupted ({why}): moving it aside");
                opened.moved_aside = Some(move_aside(path, now_ms())?);
                connect_writer(path).map_err(|e| match e {
                    Unusable::Corrupt(why) | Unusable::Failed(why) => HistoryError::open(path, why),
                })?
            }
            Err(Unusable::Failed(why)) => return Err(HistoryError::open(path, why)),
        };
        let mut db = HistoryDb { conn, path: path.to_owned(), options, _lock: Some(lock), series_ids: HashMap::new(), opened };
        if let Err(e) = db.prune_now() {
            db.opened.prune_error = Some(e.to_string());
        }
        Ok(db)
    }

    /// Opens an existing history for reading only: no lock, works while a writer runs.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<HistoryDb, HistoryError> {
        let path = path.as_ref();
        let conn = connect_reader(path)?;
        Ok(HistoryDb {
            conn,
            path: path.to_owned(),
            options: HistoryOptions::default(),
            _lock: None,
            series_ids: HashMap::new(),
            opened: OpenReport::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> HistoryOptions {
        self.options
    }

    /// What opening found (a corrupted file moved aside, retention failing).
    pub fn open_report(&self) -> &OpenReport {
        &self.opened
    }

    pub fn is_read_only(&self) -> bool {
        self._lock.is_none()
    }

    /// Stores `batches` in one transaction: all of it or, on an error, none of it.
    pub fn write(&mut self, batches: &[HistoryBatch]) -> Result<WriteCounts, HistoryError> {
        if self.is_read_only() {
            return Err(HistoryError::Write { path: self.path.clone(), cause: "opened read-only".to_owned() });
        }
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| HistoryError::write(&path, &e))?;
        let mut new_ids = HashMap::new();
        let counts = write_in(&tx, &self.series_ids, &mut new_ids, batches).map_err(|e| HistoryError::write(&path, &e))?;
        tx.commit().map_err(|e| HistoryError::write(&path, &e))?;
        // Only now are the new series' ids real (a rolled-back id could be given again).
        self.series_ids.extend(new_ids);
        Ok(counts)
    }
}

/// Rows one multi-row insert statement carries (5 parameters each, well under SQLite's limit).
const ROWS_PER_INSERT: usize = 64;

fn write_in(tx: &Transaction, known: &HashMap<SeriesKey, i64>, new_ids: &mut HashMap<SeriesKey, i64>, batches: &[HistoryBatch]) -> rusqlite::Result<WriteCounts> {
    let mut counts = WriteCounts::default();
    // (series id, ts, value, quality, source) of the whole transaction, sorted: the samples of
    // many series arrive interleaved, and inserting each series' run in order touches each leaf
    // page once instead of hopping between them.
    let mut rows: Vec<(i64, i64, f64, u8, u8)> = Vec::new();
    for batch in batches {
        for series in &batch.series {
            let id = match known.get(&series.key).or_else(|| new_ids.get(&series.key)) {
                Some(&id) => id,
                None => {
                    let Some(id) = series_id(tx, &series.key, true)? else { continue };
                    new_ids.insert(series.key.clone(), id);
                    id
                }
            };
            let source = series.source.code();
            rows.extend(series.samples.iter().map(|&(ts, value, quality)| (id, ts, value, quality, source)));
        }
        for (key, source, ts, value, quality) in &batch.keyed {
            let id = match known.get(&**key).or_else(|| new_ids.get(&**key)) {
                Some(&id) => id,
                None => {
                    let Some(id) = series_id(tx, key, true)? else { continue };
                    new_ids.insert(SeriesKey::clone(key), id);
                    id
                }
            };
            rows.push((id, *ts, *value, *quality, source.code()));
        }
    }
    rows.sort_by_key(|r| (r.0, r.1));
    let new = insert_samples(tx, &rows)?;
    counts.samples_new += new;
    counts.samples_duplicate += rows.len() as u64 - new;
    for batch in batches {
        if !batch.alarms.is_empty() {
            counts.alarms_new += write_alarms(tx, batch)?;
        }
        if !batch.acks.is_empty() {
            let mut ack = tx.prepare_cached("UPDATE alarms SET acked_ms = ?4 WHERE pk = ?1 AND dev = ?2 AND report_id = ?3 AND acked_ms IS NULL")?;
            for a in &batch.acks {
                counts.alarms_acked += ack.execute(params![a.pk, a.dev, a.report_id, a.ack_ms])? as u64;
            }
        }
    }
    Ok(counts)
}

/// Inserts `rows` (a sample already stored is left as it is); returns the rows that were new.
/// Many rows per statement: the statement's fixed cost is paid once per 64 samples.
fn insert_samples(tx: &Transaction, rows: &[(i64, i64, f64, u8, u8)]) -> rusqlite::Result<u64> {
    const INSERT: &str = "INSERT OR IGNORE INTO samples (series_id, ts, value, quality, source) VALUES ";
    let values = |n: usize| vec!["(?, ?, ?, ?, ?)"; n].join(", ");
    let mut new = 0;
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if rows.len() >= ROWS_PER_INSERT {
        let mut many = tx.prepare_cached(&format!("{INSERT}{}", values(ROWS_PER_INSERT)))?;
        for chunk in chunks.by_ref() {
            // SQLite keeps NaN as NULL; it reads back as NaN.
            let params: Vec<&dyn rusqlite::ToSql> = chunk.iter().flat_map(|(id, ts, v, q, s)| [id as &dyn rusqlite::ToSql, ts, v, q, s]).collect();
            new += many.execute(params.as_slice())? as u64;
        }
    }
    let mut one = tx.prepare_cached(&format!("{INSERT}{}", values(1)))?;
    for (id, ts, v, q, s) in chunks.remainder() {
        new += one.execute(params![id, ts, v, q, s])? as u64;
    }
    Ok(new)
}

fn write_alarms(tx: &Transaction, batch: &HistoryBatch) -> rusqlite::Result<u64> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO alarms (pk, dev, sub, alarm_id, state, ts, pid, code, level, text, value, threshold, report_id, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut added = 0;
    for events in &batch.alarms {
        for a in &events.alarms {
            let state = match a.state {
                AlarmState::Raised => "raised",
                AlarmState::Cleared => "cleared",
            };
            let value = a.value.as_ref().and_then(|v| v.as_f64());
            added += insert.execute(params![
                events.pk,
                events.dev,
                a.sub,
                a.alarm_id,
                state,
                a.ts,
                a.pid,
                a.alarm_type,
                a.level,
                a.desc,
                value,
                a.threshold,
                events.report_id,
                events.received_ms
            ])? as u64;
        }
    }
    Ok(added)
}

/// (kind, pk, dev, sub, pid) of a point or meter key; `None` for a path series.
pub(super) fn key_columns(key: &SeriesKey) -> Option<(&'static str, &str, &str, &str, &str)> {
    match key {
        SeriesKey::Point { pk, dev, sub, pid } => Some(("point", pk, dev, sub, pid)),
        SeriesKey::Meter { pk, dev, sub, register } => Some(("meter", pk, dev, sub, register)),
        SeriesKey::Path { .. } => None,
    }
}

/// The id of `key`'s series (made when `create`), or `None` (not stored, or a path series).
pub(super) fn series_id(conn: &Connection, key: &SeriesKey, create: bool) -> rusqlite::Result<Option<i64>> {
    let Some((kind, pk, dev, sub, pid)) = key_columns(key) else { return Ok(None) };
    if create {
        conn.prepare_cached("INSERT OR IGNORE INTO series (kind, pk, dev, sub, pid) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![kind, pk, dev, sub, pid])?;
    }
    let mut select = conn.prepare_cached("SELECT id FROM series WHERE kind = ?1 AND pk = ?2 AND dev = ?3 AND sub = ?4 AND pid = ?5")?;
    let mut rows = select.query(params![kind, pk, dev, sub, pid])?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}
