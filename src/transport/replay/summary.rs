//! What a complete file's summary says before anything is played: its time range and message
//! count, for a progress bar. A cut file has none, and that is no error.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use mcap::sans_io::{SummaryReadEvent, SummaryReader, SummaryReaderOptions};

use super::reader::{MAX_RECORD_BYTES, ns_to_ms};

/// The time range and count from a file's statistics record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryFacts {
    pub start_ms: i64,
    pub end_ms: i64,
    pub messages: u64,
}

/// `None` when the file has no summary (cut short), no statistics, or a damaged end.
pub fn read_summary(path: &Path) -> Option<SummaryFacts> {
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let limit = usize::try_from(MAX_RECORD_BYTES).unwrap_or(usize::MAX);
    let mut reader = SummaryReader::new_with_options(SummaryReaderOptions::default().with_file_size(size).with_record_length_limit(limit));
    while let Some(event) = reader.next_event() {
        match event.ok()? {
            SummaryReadEvent::ReadRequest(need) => {
                let read = file.read(reader.insert(need)).ok()?;
                reader.notify_read(read);
            }
            SummaryReadEvent::SeekRequest(to) => reader.notify_seeked(file.seek(to).ok()?),
        }
    }
    let stats = reader.finish()?.stats?;
    Some(SummaryFacts { start_ms: ns_to_ms(stats.message_start_time), end_ms: ns_to_ms(stats.message_end_time), messages: stats.message_count })
}
