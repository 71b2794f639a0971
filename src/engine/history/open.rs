//! Opening the history file: the writer's lock, the schema, and a corrupted file moved aside.

use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::{HistoryError, cause, is_corruption};

/// The layout this code writes (`meta.schema_version`). A file of a newer one is not touched.
pub const SCHEMA_VERSION: i64 = 1;

/// A writer waits this long for a reader's brief lock (a checkpoint) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What opening found, for the window's notice or the CLI's stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// The file was corrupted and moved here (its -wal and -shm beside it); a fresh one was made.
    pub moved_aside: Option<PathBuf>,
    /// Retention on open failed (the database is usable; writing may fail the same way).
    pub prune_error: Option<String>,
}

/// `history.db` → `history.db.lock`: held by the writer for its whole life.
pub fn lock_path(db: &Path) -> PathBuf {
    with_suffix(db, ".lock")
}

/// `history.db` → `history.db.corrupt-1767225600000`.
pub fn corrupt_path(db: &Path, epoch_ms: i64) -> PathBuf {
    with_suffix(db, &format!(".corrupt-{epoch_ms}"))
}

/// `history.db` → `history.db-wal`: SQLite's write-ahead log.
pub(super) fn wal_path(db: &Path) -> PathBuf {
    with_suffix(db, "-wal")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Takes the writer's lock next to `db`; another writer holding it gives `InUse`.
pub(super) fn take_lock(db: &Path) -> Result<File, HistoryError> {
    let lock = lock_path(db);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| HistoryError::open(db, format!("cannot create lock file {}: {e}", lock.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(HistoryError::InUse { path: db.to_owned() }),
        Err(TryLockError::Error(e)) => Err(HistoryError::open(db, format!("cannot lock {}: {e}", lock.display()))),
    }
}

/// Why a file could not be used as it is.
pub(super) enum Unusable {
    /// Not a database, or its check failed: move it aside.
    Corrupt(String),
    /// Anything else (permissions, a newer schema, a full disk): say it.
    Failed(String),
}

impl From<rusqlite::Error> for Unusable {
    fn from(e: rusqlite::Error) -> Self {
        if is_corruption(&e) { Unusable::Corrupt(cause(&e)) } else { Unusable::Failed(cause(&e)) }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('point', 'meter')),
    pk TEXT NOT NULL, dev TEXT NOT NULL, sub TEXT NOT NULL,
    pid TEXT NOT NULL, -- the point id, or the meter's register
    UNIQUE (kind, pk, dev, sub, pid)
);
-- Keyed by the sample's own time: a clock jump on our side cannot reorder, a resent batch is stored once.
CREATE TABLE IF NOT EXISTS samples (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    source INTEGER NOT NULL, -- 0 report, 1 change, 2 history
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
    pk TEXT NOT NULL, dev TEXT NOT NULL, sub TEXT NOT NULL,
    alarm_id TEXT NOT NULL,
    state TEXT NOT NULL, -- raised | cleared
    ts INTEGER NOT NULL,
    pid TEXT,
    code TEXT NOT NULL, -- the alarm's type
    level INTEGER NOT NULL,
    text TEXT,
    value REAL,
    threshold REAL,
    report_id TEXT,
    received_ms INTEGER NOT NULL,
    acked_ms INTEGER,
    PRIMARY KEY (pk, dev, alarm_id, state, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alarms_by_ts ON alarms (ts);
CREATE INDEX IF NOT EXISTS alarms_by_report ON alarms (pk, dev, report_id);
";

/// The writer's connection to `path`: WAL, synchronous=NORMAL, checked and with the schema.
pub(super) fn connect_writer(path: &Path) -> Result<Connection, Unusable> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Only takes effect on a new file (before its first table): pruning can then give pages back.
    conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Samples of many series arrive interleaved, each to its own part of the table: a larger page
    // cache keeps those leaves in memory (32 MiB; the default 2 MiB has the writer reading pages
    // back from the file all day).
    conn.pragma_update(None, "cache_size", -32_768)?;
    let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Unusable::Corrupt(format!("integrity check: {check}")));
    }
    if let Some(version) = schema_version(&conn)?
        && version > SCHEMA_VERSION
    {
        return Err(Unusable::Failed(format!("written by a newer workbench (schema {version}, this one knows {SCHEMA_VERSION})")));
    }
    conn.execute_batch(&format!("BEGIN; {SCHEMA} INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'); COMMIT;"))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// A reader's connection: no lock file, no writes; sees what a running writer committed (WAL).
pub(super) fn connect_reader(path: &Path) -> Result<Connection, HistoryError> {
    if !path.is_file() {
        return Err(HistoryError::Missing { path: path.to_owned() });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| HistoryError::open(path, cause(&e)))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| HistoryError::open(path, cause(&e)))?;
    match schema_version(&conn) {
        Ok(Some(_)) => Ok(conn),
        Ok(None) => Err(HistoryError::open(path, "not a workbench history database (no schema version)")),
        Err(e) => Err(HistoryError::open(path, cause(&e))),
    }
}

fn schema_version(conn: &Connection) -> Result<Option<i64>, rusqlite::Error> {
    let has_meta: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')", [], |r| r.get(0))?;
    if !has_meta {
        return Ok(None);
    }
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    Ok(text.and_then(|t| t.parse().ok()))
}

/// Moves a corrupted `db` (and its -wal, -shm) to `NAME.corrupt-<ms>`; never deletes anything.
pub(super) fn move_aside(db: &Path, epoch_ms: i64) -> Result<PathBuf, HistoryError> {
    let aside = corrupt_path(db, epoch_ms);
    std::fs::rename(db, &aside).map_err(|e| HistoryError::MoveAside { path: db.to_owned(), cause: format!("rename to {}: {e}", aside.display()) })?;
    for suffix in ["-wal", "-shm"] {
        let from = with_suffix(db, suffix);
        if from.exists() {
            let to = with_suffix(&aside, suffix);
            std::fs::rename(&from, &to)
                .map_err(|e| HistoryError::MoveAside { path: db.to_owned(), cause: format!("rename {} to {}: {e}", from.display(), to.display()) })?;
        }
    }
    Ok(aside)
}
