//! Every gateway seen, and everything learnt about each: online state, info, module versions,
//! sub-devices with the latest value of each point (their series are in `engine::series`), meters,
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

pub mod alarm_log;
pub mod limits;
mod record;
#[cfg(test)]
mod tests;

use limits::{MAX_GATEWAYS, MAX_POINTS, Refused, cut_text, valid_id};
use crate::protocol::ids::IdKind;

pub use record::{
    ClockOffset, FileListing, GatewayKey, GatewayRecord, LOG_CAPACITY, MESSAGE_CAPACITY, PointTrack, REQUEST_LOG_CAPACITY, RequestEnd,
    RequestRecord, Sample, SubDevice, TIME_SYNC_CAPACITY, TimeSyncEntry,
};

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
    refused: Refused,
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

    /// What the caps refused or cut so far (see [`limits`]).
    pub fn refused(&self) -> Refused {
        self.refused
    }

    /// [`Gateways::apply`] for a payload that came over `session`: a row made by it takes that
    /// session (requests to the gateway go there); true when the gateway has a row afterwards.
    pub fn apply_on(&mut self, key: &GatewayKey, payload: Payload, session: u32, now_ms: i64) -> bool {
        let existed = self.records.contains_key(key);
        self.apply(key, payload, now_ms);
        // A gateway already in the table was marked seen when its message arrived.
        existed || self.seen(key, session, now_ms)
    }

    /// Gives a gateway a row as its online `status` would, seen now on `session`.
    pub fn announce(&mut self, key: &GatewayKey, session: u32, now_ms: i64) -> bool {
        self.apply(key, Payload::Status(crate::protocol::payload::Status { online: true, reason: None }), now_ms);
        self.seen(key, session, now_ms)
    }

    /// Marks a known gateway seen now on `session` (requests to it go there); false for one not
    /// in the table: only its `status` or `info/report` gives a gateway a row.
    pub fn seen(&mut self, key: &GatewayKey, session: u32, now_ms: i64) -> bool {
        let Some(record) = self.records.get_mut(key) else { return false };
        record.session = session;
        record.last_seen_ms = now_ms;
        record.messages += 1;
        true
    }

    /// The one way facts reach a gateway's record: a decoded payload of (or about) the
    /// gateway, whether it came as a report or as a successful reply, received at `now_ms`.
    /// Returns false when the payload says nothing the record keeps (requests, acknowledgements,
    /// command outputs: those are shown where they were asked for).
    pub fn apply(&mut self, key: &GatewayKey, payload: Payload, now_ms: i64) -> bool {
        if !self.records.contains_key(key) {
            // Anyone on the broker can write under any id: a row costs memory, so only a gateway
            // that announces itself gets one; its other traffic stays in the topic store.
            if !matches!(payload, Payload::Status(_) | Payload::Info(_)) {
                self.refused.unannounced += 1;
                return false;
            }
            if self.records.len() >= MAX_GATEWAYS {
                self.refused.gateways += 1;
                return false;
            }
            self.records.insert(key.clone(), GatewayRecord::new(key.clone(), 0));
        }
        // Points go through the shared dedup set, not the record alone.
        match payload {
            Payload::Points(p) => {
                self.add_points(key, &p.points, now_ms);
                return true;
            }
            Payload::HistoryReport(h) => {
                let added = self.add_points(key, &h.points, now_ms) as u64;
                if let Some(record) = self.records.get_mut(key) {
                    if let Some(recall) = &h.recall_id {
                        // Refused rows count with the duplicates: neither is new to the table.
                        let duplicates = (h.points.len() as u64).saturating_sub(added);
                        record.alarm_log.recall_batch(recall, &h.batch_id, added, duplicates, now_ms);
                    }
                    record.add_readings(h.readings.as_deref().unwrap_or_default(), now_ms, &mut self.refused);
                    record.apply_alarms(h.alarms.as_deref().unwrap_or_default(), &mut self.refused);
                }
                return true;
            }
            _ => {}
        }
        let Some(record) = self.records.get_mut(key) else { return false };
        let refused = &mut self.refused;
        match payload {
            Payload::Status(mut s) => {
                record.online = Some(s.online);
                if let Some(reason) = s.reason.as_mut() {
                    refused.cut += u64::from(cut_text(reason));
                }
                record.status_reason = s.reason;
            }
            Payload::Info(info) => record.info = Some(info),
            Payload::Versions(v) => record.versions = v.modules,
            Payload::Readings(r) => record.add_readings(&r.readings, now_ms, refused),
            Payload::Props(p) => record.add_properties(p.props, refused),
            Payload::Alarms(a) => record.apply_alarms(&a.alarms, refused),
            Payload::Ports(p) => record.add_ports(p.ports, refused),
            Payload::LogEntries(l) => record.add_logs(l.entries, refused),
            Payload::Message(m) => record.add_vendor_message(m, now_ms, refused),
            Payload::FileList(f) => record.files = Some(FileListing { files: f.files, received_ms: now_ms }),
            // Only a reply to our `time/get` has this shape among what reaches a master.
            Payload::TimeReply(t) => record.set_clock(t.t1, t.t2, t.t3, now_ms),
            // The gateway's own `time/sync` (the core answers it as master).
            Payload::TimeRequest(t) => record.add_time_sync(t.t1, now_ms),
            _ => return false,
        }
        true
    }

    /// Alarm events of report `report_id` (an `alarm/report`, or the `history/report` batch they
    /// came in; `None`: an `alarm/get` reply) into the gateway's alarm rows; `acked` when our
    /// master duties answered the report.
    pub fn note_alarms(&mut self, key: &GatewayKey, alarms: &[crate::protocol::payload::Alarm], report_id: Option<&str>, acked: bool, now_ms: i64) {
        if let Some(record) = self.records.get_mut(key) {
            record.alarm_log.add(alarms, report_id, acked, now_ms);
        }
    }

    /// An acknowledgement of the `alarm/report` or `history/report` `id` seen on the gateway's
    /// downlink (ours or another master's).
    pub fn alarm_ack_seen(&mut self, key: &GatewayKey, id: &str) {
        if let Some(record) = self.records.get_mut(key) {
            record.alarm_log.ack_seen(id);
        }
    }

    /// The reply to our `history/get` `recall_id`: `batches` batches follow.
    pub fn recall_announced(&mut self, key: &GatewayKey, recall_id: &str, batches: u64, now_ms: i64) {
        if let Some(record) = self.records.get_mut(key) {
            record.alarm_log.recall_announced(recall_id, batches, now_ms);
        }
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
        if !self.records.contains_key(key) {
            return 0;
        }
        let mut added = 0;
        for p in points {
            if !valid_id(IdKind::Point, &p.pid) {
                self.refused.bad_ids += 1;
                continue;
            }
            // Checked before the dedup set remembers the row: a refused point costs nothing.
            let Some(record) = self.records.get_mut(key) else { continue };
            let Some(sub) = record.sub_mut(&p.sub, &mut self.refused) else { continue };
            if !sub.points.contains_key(&p.pid) && sub.points.len() >= MAX_POINTS {
                self.refused.points += 1;
                continue;
            }
            if !self.remember_row(&key.dev, &p.sub, &p.pid, p.ts) {
                continue;
            }
            added += 1;
            let Some(record) = self.records.get_mut(key) else { continue };
            let Some(sub) = record.subs.get_mut(&p.sub) else { continue };
            sub.last_seen_ms = now_ms;
            let track = sub.points.entry(p.pid.clone()).or_default();
            if track.latest.as_ref().is_none_or(|l| l.ts <= p.ts) {
                track.latest = Some(Sample { ts: p.ts, v: p.v.clone(), q: p.q });
            }
        }
        added
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
