//! `history-db stats`: the point history's figures as one JSON object
//! `{"path","samples","series","alarms","bytes","dbBytes","walBytes","usedBytes","oldestMs","oldest","newestMs","newest"}`.
//! Read-only: works while a window is writing the same database. Exit 1 when it cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::config::data_dir::default_history_path;
use crate::engine::history::HistoryDb;
use crate::engine::series::iso_utc_ms;

use super::session::EXIT_USAGE;

#[derive(Debug, Subcommand)]
pub enum HistoryDbCommand {
    /// Rows, size, oldest and newest sample of the point history.
    Stats {
        /// The database [default: history.db in the data folder].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
    },
}

/// `--db`, or the data folder's history; `Err` (exit 2) when neither is known.
pub fn db_path(db: Option<&Path>) -> Result<PathBuf, ExitCode> {
    match db.map(Path::to_owned).or_else(default_history_path) {
        Some(p) => Ok(p),
        None => {
            eprintln!("error: no data folder on this system: give --db PATH");
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// Epoch ms and ISO 8601 of a time, or nulls.
pub fn time_fields(ms: Option<i64>) -> (Value, Value) {
    (json!(ms), ms.map_or(Value::Null, |t| json!(iso_utc_ms(t))))
}

pub fn run(command: &HistoryDbCommand) -> ExitCode {
    let HistoryDbCommand::Stats { db } = command;
    let path = match db_path(db.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let stats = match HistoryDb::open_read_only(&path).and_then(|db| db.stats()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (oldest_ms, oldest) = time_fields(stats.oldest_ms);
    let (newest_ms, newest) = time_fields(stats.newest_ms);
    let line = json!({
        "path": stats.path.display().to_string(),
        "samples": stats.samples,
        "series": stats.series,
        "alarms": stats.alarms,
        "bytes": stats.db_bytes + stats.wal_bytes,
        "dbBytes": stats.db_bytes,
        "walBytes": stats.wal_bytes,
        "usedBytes": stats.used_bytes,
        "oldestMs": oldest_ms,
        "oldest": oldest,
        "newestMs": newest_ms,
        "newest": newest,
    });
    println!("{line}");
    ExitCode::SUCCESS
}
