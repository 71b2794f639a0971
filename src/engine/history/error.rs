//! What can go wrong with the history file, said so a field engineer knows what to do.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Another workbench holds the lock file next to the database.
    #[error("history database {path} is in use by another workbench (close it, or use another data folder)")]
    InUse { path: PathBuf },
    #[error("no history database at {path}")]
    Missing { path: PathBuf },
    #[error("cannot open history database {path}: {cause}")]
    Open { path: PathBuf, cause: String },
    #[error("history database {path} is corrupted and could not be moved aside: {cause}")]
    MoveAside { path: PathBuf, cause: String },
    #[error("cannot write history database {path}: {cause}")]
    Write { path: PathBuf, cause: String },
    #[error("cannot read history database {path}: {cause}")]
    Read { path: PathBuf, cause: String },
    /// The writer's thread could not start, or has stopped.
    #[error("history writer for {path}: {cause}")]
    Writer { path: PathBuf, cause: String },
}

impl HistoryError {
    pub fn open(path: &Path, cause: impl std::fmt::Display) -> Self {
        HistoryError::Open { path: path.to_owned(), cause: cause.to_string() }
    }

    pub(super) fn write(path: &Path, e: &rusqlite::Error) -> Self {
        HistoryError::Write { path: path.to_owned(), cause: cause(e) }
    }

    pub(super) fn read(path: &Path, e: &rusqlite::Error) -> Self {
        HistoryError::Read { path: path.to_owned(), cause: cause(e) }
    }

    /// True for "the disk is full": writing cannot go on until space is freed.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, HistoryError::Write { cause, .. } if cause.starts_with(DISK_FULL))
    }
}

const DISK_FULL: &str = "disk full";

/// SQLite's words with the plain reason in front for the faults a user can fix.
pub(super) fn cause(e: &rusqlite::Error) -> String {
    let plain = match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Some(DISK_FULL),
        Some(ErrorCode::ReadOnly) => Some("read-only file or folder"),
        Some(ErrorCode::CannotOpen) => Some("cannot create or open the file (folder missing or not writable?)"),
        Some(ErrorCode::PermissionDenied) => Some("permission denied"),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Some("locked by another program"),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Some("the file is corrupted"),
        _ => None,
    };
    match plain {
        Some(p) => format!("{p} ({e})"),
        None => e.to_string(),
    }
}

/// True for the errors that say the file is not a usable database.
pub(super) fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt))
}
