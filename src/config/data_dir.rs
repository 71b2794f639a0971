//! Where the workbench keeps what it collects: `<data dir>` of
//! `ProjectDirs::from("org", "cems", "cems-workbench")` (on Windows
//! `%APPDATA%\cems\cems-workbench\data`, on Linux `~/.local/share/cems-workbench`).

use std::path::PathBuf;

/// The data folder, or `None` where the OS names no home folder.
pub fn data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "cems", "cems-workbench").map(|d| d.data_dir().to_path_buf())
}

/// `<data dir>/recordings`: where the window records sessions unless told otherwise, and where
/// its start-up completes recordings cut short.
pub fn recordings_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("recordings"))
}

/// `<data dir>/history.db`: the persisted point history.
pub fn default_history_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join("history.db"))
}
