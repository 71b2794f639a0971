//! Every gateway seen, and everything learnt about each: online state, info, module versions,
//! sub-devices with the latest value and a bounded, deduplicated series of each point, meters,
//! properties, ports, alarms, logs, vendor messages, the file list, the clock offset and the
//! requests sent to it.
//!
//! A plain data structure (no tokio). The engine hands every decoded payload of a gateway,
//! report or reply, to one function, [`Gateways::apply`]; the GUI and the CLI only read. History
//! rows are deduplicated on (dev, sub, pid, ts) as the contract asks (§5), so a batch sent twice,
//! or a report replayed after a reconnect, is stored once.

use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::engine::requests::RequestOutcome;
use crate::protocol::payload::{Payload, PointValue};

mod record;
#[cfg(test)]
mod tests;

pub use record::{
    ClockOffset, FileListing, GatewayKey, GatewayRecord, LOG_CAPACITY, MESSAGE_CAPACITY, PointTrack, REQUEST_LOG_CAPACITY, RequestEnd,
    RequestRecord, Sample, SubDevice,
};

/// Samples kept per point for plotting.
pub const SERIES_CAPACITY: usize = 10_000;
/// Samples kept across all points (about 100 MB): beyond it, a series gives up its oldest
/// sample for each new one, so many points cannot outgrow memory.
pub const SAMPLE_BUDGET: usize = 2_000_000;
/// Dedup keys remembered; the oldest are forgotten first. Keys are 64-bit hashes of the row
/// (a collision among a million rows has odds near 1 in 30 million), so this costs ~32 MB at most.
pub const DEDUP_CAPACITY: usize = 1_000_000;

/// Counters of the history deduplication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryStats {
    pub rows_stored: u64,
    pub duplicates: u64,
}

/// All gateways, by key, with the dedup set shared between them.
#[derive(Debug, Default)]
pub struct Gateways {
    records: BTreeMap<GatewayKey, GatewayRecord>,
    seen_rows: HashSet<u64>,
    seen_order: VecDeque<u64>,
    stats: HistoryStats,
    total_samples: usize,
}

impl Gateways {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &GatewayKey) -> Option<&GatewayRecord> {
        self.records.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &GatewayRecord> {
        self.records.values()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn history_stats(&self) -> HistoryStats {
        self.stats
    }

    /// The record of a gateway, created on first sight; also marks it seen now.
    pub fn touch(&mut self, pk: &str, dev: &str, session: u32, now_ms: i64) -> &mut GatewayRecord {
        let key = GatewayKey { pk: pk.to_owned(), dev: dev.to_owned() };
        let record = self.records.entry(key.clone()).or_insert_with(|| GatewayRecord::new(key, session));
        record.session = session;
        record.last_seen_ms = now_ms;
        record.messages += 1;
        record
    }

    /// The one way facts reach a gateway's record: a decoded payload of (or about) the
    /// gateway, whether it came as a report or as a successful reply, received at `now_ms`.
    /// Returns false when the payload says nothing the record keeps (requests, acknowledgements,
    /// command outputs: those are shown where they were asked for).
    pub fn apply(&mut self, key: &GatewayKey, payload: Payload, now_ms: i64) -> bool {
        // Points go through the shared dedup set and sample budget, not the record alone.
        match payload {
            Payload::Points(p) => {
                self.add_points(key, &p.points, now_ms);
                return true;
            }
            Payload::HistoryReport(h) => {
                self.add_points(key, &h.points, now_ms);
                if let Some(record) = self.records.get_mut(key) {
                    record.add_readings(h.readings.as_deref().unwrap_or_default(), now_ms);
                    record.apply_alarms(h.alarms.as_deref().unwrap_or_default());
                }
                return true;
            }
            _ => {}
        }
        let Some(record) = self.records.get_mut(key) else { return false };
        match payload {
            Payload::Status(s) => {
                record.online = Some(s.online);
                record.status_reason = s.reason;
            }
            Payload::Info(info) => record.info = Some(info),
            Payload::Versions(v) => record.versions = v.modules,
            Payload::Readings(r) => record.add_readings(&r.readings, now_ms),
            Payload::Props(p) => record.properties.extend(p.props),
            Payload::Alarms(a) => record.apply_alarms(&a.alarms),
            Payload::Ports(p) => record.ports.extend(p.ports.into_iter().map(|port| (port.port_id.clone(), port))),
            Payload::LogEntries(l) => record.add_logs(l.entries),
            Payload::Message(m) => record.add_vendor_message(m, now_ms),
            Payload::FileList(f) => record.files = Some(FileListing { files: f.files, received_ms: now_ms }),
            // Only a reply to our `time/get` has this shape among what reaches a master.
            Payload::TimeReply(t) => record.set_clock(t.t1, t.t2, t.t3, now_ms),
            _ => return false,
        }
        true
    }

    /// Keeps a finished request in its gateway's request log.
    pub fn log_request(&mut self, outcome: &RequestOutcome, now_ms: i64) {
        let key = GatewayKey { pk: outcome.pk.clone(), dev: outcome.dev.clone() };
        if let Some(record) = self.records.get_mut(&key) {
            record.log_request(outcome, now_ms);
        }
    }

    /// Records point values; returns how many were new rows (the rest were duplicates).
    fn add_points(&mut self, key: &GatewayKey, points: &[PointValue], now_ms: i64) -> usize {
        let mut added = 0;
        for p in points {
            if !self.remember_row(&key.dev, &p.sub, &p.pid, p.ts) {
                continue;
            }
            added += 1;
            let Some(record) = self.records.get_mut(key) else { continue };
            let sub = record.subs.entry(p.sub.clone()).or_default();
            sub.last_seen_ms = now_ms;
            let track = sub.points.entry(p.pid.clone()).or_default();
            let sample = Sample { ts: p.ts, v: p.v.clone(), q: p.q };
            if track.latest.as_ref().is_none_or(|l| l.ts <= p.ts) {
                track.latest = Some(sample.clone());
            }
            let over_budget = self.total_samples >= SAMPLE_BUDGET;
            if insert_ordered(&mut track.series, sample, over_budget) {
                self.total_samples += 1;
            }
        }
        added
    }

    /// Samples held across all series.
    pub fn total_samples(&self) -> usize {
        self.total_samples
    }

    /// True when the row is new; counts duplicates.
    fn remember_row(&mut self, dev: &str, sub: &str, pid: &str, ts: i64) -> bool {
        let row = row_hash(dev, sub, pid, ts);
        if self.seen_rows.contains(&row) {
            self.stats.duplicates += 1;
            return false;
        }
        if self.seen_order.len() >= DEDUP_CAPACITY
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen_rows.remove(&old);
        }
        self.seen_rows.insert(row);
        self.seen_order.push_back(row);
        self.stats.rows_stored += 1;
        true
    }
}

fn row_hash(dev: &str, sub: &str, pid: &str, ts: i64) -> u64 {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() has fixed keys: the same row always gives the same hash.
    let mut h = std::hash::DefaultHasher::new();
    (dev, sub, pid, ts).hash(&mut h);
    h.finish()
}

/// Keeps the series ordered by sample time (history batches arrive late) and bounded; returns
/// whether the series grew. `make_room` trades its oldest sample for the new one.
fn insert_ordered(series: &mut VecDeque<Sample>, sample: Sample, make_room: bool) -> bool {
    let at = if series.back().is_none_or(|last| last.ts <= sample.ts) {
        series.len()
    } else {
        series.partition_point(|s| s.ts <= sample.ts)
    };
    series.insert(at, sample);
    if series.len() > SERIES_CAPACITY || (make_room && series.len() > 1) {
        series.pop_front();
        return false;
    }
    true
}

