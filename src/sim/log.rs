//! The simulator's own log: a bounded ring served by `log/get`, uploaded with `log/report` when
//! the master asks (`log/config`), and mirrored to `tracing`.
//!
//! Bounded by count and by bytes, and every entry's text is cut to [`MAX_MSG_CHARS`]: a master
//! that sends big vendor messages or bad requests must not grow the gateway's memory.

use std::collections::VecDeque;

use crate::protocol::payload::{LogEntry, PointV};

/// Entries kept for `log/get`.
const RING_CAPACITY: usize = 1_000;
/// Bytes the ring holds at most (see [`entry_bytes`]), whatever the count.
pub const RING_MAX_BYTES: usize = 512 * 1024;
/// Entries waiting for upload at most; older ones are dropped if the link is slow.
const UPLOAD_CAPACITY: usize = 500;
/// Bytes waiting for upload at most.
const UPLOAD_MAX_BYTES: usize = 256 * 1024;
/// Characters of one entry's `msg`; a longer text is cut and ends with "…".
pub const MAX_MSG_CHARS: usize = 512;
/// Characters of one entry's `module`.
const MAX_MODULE_CHARS: usize = 32;

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

/// `text` itself when it has at most `max_chars` characters, else its first `max_chars - 1`
/// and "…": what a log line or a reply quotes of something a peer sent.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some(_) => {
            let cut = text.char_indices().nth(max_chars.saturating_sub(1)).map_or(text.len(), |(i, _)| i);
            format!("{}…", &text[..cut])
        }
    }
}

/// What one entry costs the ring: its texts and a little for the rest.
fn entry_bytes(entry: &LogEntry) -> usize {
    entry.msg.len() + entry.module.len() + entry.level.len() + 16
}

/// A queue of entries bounded by count and by bytes, dropping the oldest.
#[derive(Debug, Clone)]
struct Ring {
    entries: VecDeque<LogEntry>,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
}

impl Ring {
    fn new(max_len: usize, max_bytes: usize) -> Ring {
        Ring { entries: VecDeque::new(), bytes: 0, max_len, max_bytes }
    }

    fn push(&mut self, entry: LogEntry) {
        let size = entry_bytes(&entry);
        while !self.entries.is_empty() && (self.entries.len() >= self.max_len || self.bytes + size > self.max_bytes) {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= entry_bytes(&old);
            }
        }
        self.bytes += size;
        self.entries.push_back(entry);
    }

    fn drain(&mut self) -> Vec<LogEntry> {
        self.bytes = 0;
        self.entries.drain(..).collect()
    }
}

#[derive(Debug, Clone)]
pub struct SimLog {
    dev: String,
    entries: Ring,
    /// Entries at or above this level are kept.
    pub level: Level,
    /// Upload new entries with `log/report`.
    pub upload: bool,
    unsent: Ring,
}

impl SimLog {
    pub fn new(dev: &str) -> SimLog {
        SimLog {
            dev: dev.to_owned(),
            entries: Ring::new(RING_CAPACITY, RING_MAX_BYTES),
            level: Level::Info,
            upload: false,
            unsent: Ring::new(UPLOAD_CAPACITY, UPLOAD_MAX_BYTES),
        }
    }

    /// Records one entry at sim time `ts`, its text cut to [`MAX_MSG_CHARS`].
    pub fn push(&mut self, ts: i64, level: Level, module: &str, msg: impl Into<String>) {
        let mut msg = msg.into();
        if msg.len() > MAX_MSG_CHARS {
            msg = excerpt(&msg, MAX_MSG_CHARS);
        }
        match level {
            Level::Error => tracing::error!(dev = %self.dev, module, "{msg}"),
            Level::Warn => tracing::warn!(dev = %self.dev, module, "{msg}"),
            Level::Info => tracing::info!(dev = %self.dev, module, "{msg}"),
            Level::Debug => tracing::debug!(dev = %self.dev, module, "{msg}"),
        }
        if level > self.level {
            return;
        }
        let entry = LogEntry { ts, level: level.as_str().into(), module: excerpt(module, MAX_MODULE_CHARS), msg };
        if self.upload {
            self.unsent.push(entry.clone());
        }
        self.entries.push(entry);
    }

    /// Entries in `[from, to]` at `level` or more severe, oldest first (by `ts`, then as
    /// logged: a `time/set` may have moved the clock back).
    pub fn query(&self, from: i64, to: i64, level: Option<Level>) -> Vec<LogEntry> {
        let mut found: Vec<LogEntry> = self
            .entries
            .entries
            .iter()
            .filter(|e| (from..=to).contains(&e.ts))
            .filter(|e| level.is_none_or(|l| Level::parse(&e.level).is_some_and(|el| el <= l)))
            .cloned()
            .collect();
        found.sort_by_key(|e| e.ts);
        found
    }

    /// The oldest entries of [`SimLog::query`] whose JSON, as array elements, takes at most
    /// `budget` bytes, and whether some were left out. A cut page ends at a whole millisecond,
    /// so that asking again from the last `ts` + 1 misses nothing (unless one millisecond alone
    /// is more than a page: then the page is that millisecond's first entries).
    pub fn page(&self, from: i64, to: i64, level: Option<Level>, budget: usize) -> (Vec<LogEntry>, bool) {
        let mut page = self.query(from, to, level);
        let mut used = 0;
        let mut fit = page.len();
        for (i, entry) in page.iter().enumerate() {
            // +1 for the comma between elements.
            used += serde_json::to_vec(entry).map_or(budget, |v| v.len()) + 1;
            if used > budget {
                fit = i;
                break;
            }
        }
        if fit == page.len() {
            return (page, false);
        }
        let cut_ts = page[fit].ts;
        let whole = page[..fit].iter().rposition(|e| e.ts != cut_ts).map_or(0, |i| i + 1);
        page.truncate(if whole > 0 { whole } else { fit });
        (page, true)
    }

    /// Entries waiting for `log/report`.
    pub fn take_unsent(&mut self) -> Vec<LogEntry> {
        self.unsent.drain()
    }

    pub fn len(&self) -> usize {
        self.entries.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.entries.is_empty()
    }

    /// Bytes the ring holds now, as counted against [`RING_MAX_BYTES`].
    pub fn bytes(&self) -> usize {
        self.entries.bytes
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

    #[test]
    fn huge_texts_are_cut_and_the_ring_is_bounded_by_bytes() {
        let mut log = SimLog::new("gw");
        let huge = "é".repeat(100_000);
        for i in 0..300 {
            log.push(i, Level::Warn, &"m".repeat(1_000), huge.clone());
        }
        let entries = log.query(0, i64::MAX, None);
        assert!(entries.iter().all(|e| e.msg.chars().count() == MAX_MSG_CHARS && e.msg.ends_with('…')), "cut to {MAX_MSG_CHARS} characters");
        assert!(entries.iter().all(|e| e.module.chars().count() <= MAX_MODULE_CHARS));
        let held: usize = entries.iter().map(entry_bytes).sum();
        assert!(held <= RING_MAX_BYTES, "{held} bytes held");
        assert_eq!(held, log.bytes());
        // Many entries just under the cut: the byte bound, not the count, keeps the ring small.
        for i in 0..2_000 {
            log.push(1_000 + i, Level::Info, "t", "ü".repeat(MAX_MSG_CHARS - 1));
        }
        assert!(log.bytes() <= RING_MAX_BYTES && log.len() < RING_CAPACITY, "{} entries, {} bytes", log.len(), log.bytes());
        assert_eq!(log.query(0, i64::MAX, None).last().map(|e| e.ts), Some(2_999), "the newest is kept");
    }

    #[test]
    fn excerpts_cut_on_character_boundaries() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("abcdef", 4), "abc…");
        assert_eq!(excerpt("电能电能电能", 3), "电能…");
        assert_eq!(excerpt("abc", 3), "abc");
    }

    #[test]
    fn pages_end_at_a_whole_millisecond_and_continue_from_the_next() {
        let mut log = SimLog::new("gw");
        // Three entries per millisecond.
        for i in 0..900 {
            log.push(i / 3, Level::Info, "t", format!("entry {i:04} {}", "x".repeat(200)));
        }
        let mut from = 0;
        let mut seen = Vec::new();
        for _ in 0..100 {
            let (page, truncated) = log.page(from, i64::MAX, None, 16 * 1024);
            let bytes = serde_json::to_vec(&page).unwrap().len();
            assert!(bytes <= 16 * 1024 + 1, "{bytes}");
            seen.extend(page.iter().map(|e| e.msg[6..10].parse::<usize>().unwrap()));
            if !truncated {
                break;
            }
            from = page.last().unwrap().ts + 1;
        }
        let all: Vec<usize> = (900 - log.len()..900).collect();
        assert_eq!(seen, all, "every entry once, in order");
        // A millisecond larger than a page: its first entries, marked as cut.
        let mut crowded = SimLog::new("gw");
        for _ in 0..100 {
            crowded.push(5, Level::Info, "t", "y".repeat(300));
        }
        let (page, truncated) = crowded.page(0, i64::MAX, None, 4_096);
        assert!(truncated && !page.is_empty() && page.len() < 100);
    }
}
