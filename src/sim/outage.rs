//! Resume after disconnection (contract §5, §6.13): what the gateway stores while offline, how it
//! cuts that into `history/report` batches of at most 64 KiB (less over a serial link, whose
//! frame must also hold the topic and header), the queue of batches waiting for the master's
//! acknowledgement, and the bounded recent history behind `history/get` and `meter/get`.

use std::collections::VecDeque;

use tokio::time::Instant;

use crate::protocol::envelope::{PROTOCOL_VERSION, Request};
use crate::protocol::payload::{Alarm, HistoryReport, PointValue, Reading, to_data};

/// Largest `history/report` payload, envelope included (contract §5).
pub const BATCH_MAX_BYTES: usize = 64 * 1024;
/// Items stored while offline at most; the oldest go first when it overflows.
const OFFLINE_CAPACITY: usize = 200_000;
/// Recent samples kept for recalls.
const RECENT_POINTS: usize = 30_000;
const RECENT_READINGS: usize = 5_000;
const RECENT_ALARMS: usize = 1_000;

/// One stored sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Point(PointValue),
    Reading(Reading),
    Alarm(Alarm),
}

impl Item {
    pub fn ts(&self) -> i64 {
        match self {
            Item::Point(p) => p.ts,
            Item::Reading(r) => r.ts,
            Item::Alarm(a) => a.ts,
        }
    }

    pub fn sub(&self) -> &str {
        match self {
            Item::Point(p) => &p.sub,
            Item::Reading(r) => &r.sub,
            Item::Alarm(a) => &a.sub,
        }
    }

    fn json_len(&self) -> usize {
        let len = match self {
            Item::Point(p) => serde_json::to_vec(p).map(|v| v.len()),
            Item::Reading(r) => serde_json::to_vec(r).map(|v| v.len()),
            Item::Alarm(a) => serde_json::to_vec(a).map(|v| v.len()),
        };
        // +1 for the comma between array elements.
        len.unwrap_or(BATCH_MAX_BYTES) + 1
    }
}

/// Reports that could not be sent, oldest first.
#[derive(Debug, Clone, Default)]
pub struct OfflineBuffer {
    items: VecDeque<Item>,
    /// Items dropped because the buffer was full.
    pub dropped: u64,
}

impl OfflineBuffer {
    pub fn push(&mut self, item: Item) {
        if self.items.len() >= OFFLINE_CAPACITY {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn take_all(&mut self) -> Vec<Item> {
        self.items.drain(..).collect()
    }
}

/// Cuts `items` into batches, oldest first, each of which fits `max_bytes` (at most
/// `BATCH_MAX_BYTES`; less where the link needs it) as a whole envelope with a request id of up
/// to 64 characters. `batch_id` names each batch; `recall_id` is the `history/get` they answer
/// (none for outage history).
pub fn make_batches(mut items: Vec<Item>, max_bytes: usize, recall_id: Option<&str>, mut batch_id: impl FnMut() -> String) -> Vec<HistoryReport> {
    let max_bytes = max_bytes.min(BATCH_MAX_BYTES);
    items.sort_by_key(Item::ts);
    let mut batches = Vec::new();
    let mut current = Batch::new(batch_id(), recall_id);
    for item in items {
        let len = item.json_len();
        if current.count > 0 && current.bytes + len > max_bytes {
            batches.push(current.report);
            current = Batch::new(batch_id(), recall_id);
        }
        current.add(item, len);
    }
    if current.count > 0 {
        batches.push(current.report);
    }
    batches
}

struct Batch {
    report: HistoryReport,
    bytes: usize,
    count: usize,
}

impl Batch {
    fn new(batch_id: String, recall_id: Option<&str>) -> Batch {
        let recall_id = recall_id.map(str::to_owned);
        let report = HistoryReport { batch_id, recall_id, points: Vec::new(), readings: Some(Vec::new()), alarms: Some(Vec::new()) };
        // The envelope around an empty batch, with the longest request id the contract allows.
        let empty = Request { id: "x".repeat(64), ts: i64::MAX, ver: PROTOCOL_VERSION.into(), data: to_data(&report) };
        let bytes = serde_json::to_vec(&empty).map_or(1_024, |v| v.len());
        Batch { report, bytes, count: 0 }
    }

    fn add(&mut self, item: Item, len: usize) {
        match item {
            Item::Point(p) => self.report.points.push(p),
            Item::Reading(r) => self.report.readings.get_or_insert_with(Vec::new).push(r),
            Item::Alarm(a) => self.report.alarms.get_or_insert_with(Vec::new).push(a),
        }
        self.bytes += len;
        self.count += 1;
    }
}

/// Recent samples, whether they went out live or were buffered.
#[derive(Debug, Clone, Default)]
pub struct RecentHistory {
    points: VecDeque<PointValue>,
    readings: VecDeque<Reading>,
    alarms: VecDeque<Alarm>,
}

fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, cap: usize) {
    if queue.len() >= cap {
        queue.pop_front();
    }
    queue.push_back(item);
}

impl RecentHistory {
    pub fn record(&mut self, item: &Item) {
        match item {
            Item::Point(p) => push_bounded(&mut self.points, p.clone(), RECENT_POINTS),
            Item::Reading(r) => push_bounded(&mut self.readings, r.clone(), RECENT_READINGS),
            Item::Alarm(a) => push_bounded(&mut self.alarms, a.clone(), RECENT_ALARMS),
        }
    }

    /// Meter freezes of `sub` (all subs when `None`) in `[from, to]`.
    pub fn readings(&self, sub: Option<&str>, from: i64, to: i64) -> Vec<Reading> {
        self.readings.iter().filter(|r| sub.is_none_or(|s| r.sub == s) && (from..=to).contains(&r.ts)).cloned().collect()
    }

    /// Everything of `sub` (all when `None`) sampled in `[from, to]`.
    pub fn items(&self, sub: Option<&str>, from: i64, to: i64) -> Vec<Item> {
        let points = self.points.iter().cloned().map(Item::Point);
        let readings = self.readings.iter().cloned().map(Item::Reading);
        let alarms = self.alarms.iter().cloned().map(Item::Alarm);
        points.chain(readings).chain(alarms).filter(|i| sub.is_none_or(|s| i.sub() == s) && (from..=to).contains(&i.ts())).collect()
    }
}

/// A batch waiting for its acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedBatch {
    pub report: HistoryReport,
    /// Set while a request carrying it is outstanding; a resend reuses it.
    pub request_id: Option<String>,
    /// After a refusal, when to try again (with a new request id).
    pub retry_at: Option<Instant>,
}

impl QueuedBatch {
    fn new(report: HistoryReport) -> QueuedBatch {
        QueuedBatch { report, request_id: None, retry_at: None }
    }
}

/// Where a batch comes from, which decides how hard the gateway tries to deliver it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Stored while offline: sent first, deleted only once acknowledged (contract §5).
    Outage,
    /// The answer to a `history/get`: best effort, dropped whole when the master stops
    /// acknowledging or refuses it.
    Recall,
}

/// What an answer to a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// Code 0: deleted.
    Acked,
    /// Outage history refused: tried again later.
    Retry,
    /// A recall batch refused: the recall's `n` remaining batches were dropped.
    RecallDropped(usize),
    /// Not the batch at the front of its lane (a late or stray answer).
    Unknown,
}

/// Batches to send, one outstanding at a time so the master sees them in order: outage history
/// first, oldest first, then the batches of at most one recall.
#[derive(Debug, Clone, Default)]
pub struct HistoryQueue {
    outage: VecDeque<QueuedBatch>,
    recall: VecDeque<QueuedBatch>,
    /// Batch sends, first sends and resends alike.
    pub sent: u64,
    /// Batches acknowledged with code 0 (and deleted).
    pub acked: u64,
    /// Batches deleted unacknowledged: recalls given up or refused, batches the link cannot carry.
    pub dropped: u64,
}

impl HistoryQueue {
    /// Queues outage history.
    pub fn push(&mut self, reports: Vec<HistoryReport>) {
        self.outage.extend(reports.into_iter().map(QueuedBatch::new));
    }

    /// Queues the batches of a recall; the caller refuses a recall while `recall_len` is not 0.
    pub fn push_recall(&mut self, reports: Vec<HistoryReport>) {
        self.recall.extend(reports.into_iter().map(QueuedBatch::new));
    }

    pub fn len(&self) -> usize {
        self.outage.len() + self.recall.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outage.is_empty() && self.recall.is_empty()
    }

    /// Recall batches not yet acknowledged.
    pub fn recall_len(&self) -> usize {
        self.recall.len()
    }

    /// The batch to send now, if any: nothing while one is outstanding; else the front of the
    /// outage lane, or of the recall lane when there is no outage history; not while that batch
    /// waits to retry.
    pub fn next_to_send(&mut self, now: Instant) -> Option<(&mut QueuedBatch, Lane)> {
        let outstanding = |lane: &VecDeque<QueuedBatch>| lane.front().is_some_and(|b| b.request_id.is_some());
        if outstanding(&self.outage) || outstanding(&self.recall) {
            return None;
        }
        let (front, lane) = match self.outage.front_mut() {
            Some(front) => (front, Lane::Outage),
            None => (self.recall.front_mut()?, Lane::Recall),
        };
        if front.retry_at.is_some_and(|at| now < at) {
            return None;
        }
        front.retry_at = None;
        Some((front, lane))
    }

    /// The master answered the batch `batch_id` with `code`: code 0 deletes it; otherwise outage
    /// history waits to retry at `retry_at`, and a recall is dropped.
    pub fn answered(&mut self, batch_id: &str, code: i64, retry_at: Instant) -> Answered {
        let is_front = |lane: &VecDeque<QueuedBatch>| lane.front().is_some_and(|b| b.report.batch_id == batch_id);
        if is_front(&self.outage) {
            if code == 0 {
                self.outage.pop_front();
                self.acked += 1;
                return Answered::Acked;
            }
            if let Some(front) = self.outage.front_mut() {
                front.request_id = None;
                front.retry_at = Some(retry_at);
            }
            return Answered::Retry;
        }
        if is_front(&self.recall) {
            if code == 0 {
                self.recall.pop_front();
                self.acked += 1;
                return Answered::Acked;
            }
            return Answered::RecallDropped(self.give_up_recall());
        }
        Answered::Unknown
    }

    /// Drops every recall batch (nobody acknowledges them); returns how many.
    pub fn give_up_recall(&mut self) -> usize {
        let count = self.recall.len();
        self.recall.clear();
        self.dropped += count as u64;
        count
    }

    /// Deletes batch `batch_id` unacknowledged (the link cannot carry it); false when it is not
    /// the front of a lane.
    pub fn drop_batch(&mut self, batch_id: &str) -> bool {
        for lane in [&mut self.outage, &mut self.recall] {
            if lane.front().is_some_and(|b| b.report.batch_id == batch_id) {
                lane.pop_front();
                self.dropped += 1;
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests;
