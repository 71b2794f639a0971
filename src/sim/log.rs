//! The simulator's own log: a bounded ring served by `log/get`, uploaded with `log/report` when
//! the master asks (`log/config`), and mirrored to `tracing`.

use std::collections::VecDeque;

use crate::protocol::payload::{LogEntry, PointV};

/// Entries kept for `log/get`.
const RING_CAPACITY: usize = 1_000;
/// Entries waiting for upload at most; older ones are dropped if the link is slow.
const UPLOAD_CAPACITY: usize = 500;

/// Log levels, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text.to_ascii_lowercase().as_str() {
            "error" => Some(Level::Error),
            "warn" | "warning" => Some(Level::Warn),
            "info" => Some(Level::Info),
            "debug" => Some(Level::Debug),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// A point value as a person writes it in a log line: `0`, `230.5`, `true`, `"text"`.
pub fn value_text(value: &PointV) -> String {
    match value {
        PointV::Text(text) => format!("\"{text}\""),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct SimLog {
    dev: String,
    entries: VecDeque<LogEntry>,
    /// Entries at or above this level are kept.
    pub level: Level,
    /// Upload new entries with `log/report`.
    pub upload: bool,
    unsent: VecDeque<LogEntry>,
}

impl SimLog {
    pub fn new(dev: &str) -> SimLog {
        SimLog { dev: dev.to_owned(), entries: VecDeque::new(), level: Level::Info, upload: false, unsent: VecDeque::new() }
    }

    /// Records one entry at sim time `ts`.
    pub fn push(&mut self, ts: i64, level: Level, module: &str, msg: impl Into<String>) {
        let msg = msg.into();
        match level {
            Level::Error => tracing::error!(dev = %self.dev, module, "{msg}"),
            Level::Warn => tracing::warn!(dev = %self.dev, module, "{msg}"),
            Level::Info => tracing::info!(dev = %self.dev, module, "{msg}"),
            Level::Debug => tracing::debug!(dev = %self.dev, module, "{msg}"),
        }
        if level > self.level {
            return;
        }
        let entry = LogEntry { ts, level: level.as_str().into(), module: module.into(), msg };
        if self.upload {
            if self.unsent.len() == UPLOAD_CAPACITY {
                self.unsent.pop_front();
            }
            self.unsent.push_back(entry.clone());
        }
        if self.entries.len() == RING_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// Entries in `[from, to]` at `level` or more severe, oldest first.
    pub fn query(&self, from: i64, to: i64, level: Option<Level>) -> Vec<LogEntry> {
        self.entries
            .iter()
            .filter(|e| (from..=to).contains(&e.ts))
            .filter(|e| level.is_none_or(|l| Level::parse(&e.level).is_some_and(|el| el <= l)))
            .cloned()
            .collect()
    }

    /// Entries waiting for `log/report`.
    pub fn take_unsent(&mut self) -> Vec<LogEntry> {
        self.unsent.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_filtered() {
        let mut log = SimLog::new("gw");
        for i in 0..1_500 {
            log.push(i, if i % 2 == 0 { Level::Warn } else { Level::Info }, "test", format!("entry {i}"));
        }
        assert_eq!(log.len(), RING_CAPACITY);
        assert_eq!(log.query(0, 10_000, None).first().unwrap().ts, 500);
        assert!(log.query(0, 10_000, Some(Level::Warn)).iter().all(|e| e.level == "warn"));
        log.push(2_000, Level::Debug, "test", "hidden");
        assert!(log.query(2_000, 2_000, None).is_empty());
        log.upload = true;
        log.push(2_001, Level::Error, "test", "sent");
        assert_eq!(log.take_unsent().len(), 1);
        assert!(log.take_unsent().is_empty());
    }
}
