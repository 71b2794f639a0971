//! Every gateway seen: online state from `status`, info, module versions, last seen,
//! sub-devices, the latest value of each point and a bounded, deduplicated series per point.
//!
//! A plain data structure (no tokio): the engine feeds it decoded messages, the GUI and the CLI
//! read it. History rows are deduplicated on (dev, sub, pid, ts) as the contract asks (§5), so a
//! batch sent twice, or a report replayed after a reconnect, is stored once.

use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::protocol::payload::{Alarm, AlarmState, Info, ModuleVersion, PointV, PointValue, Reading};

/// Samples kept per point for plotting.
pub const SERIES_CAPACITY: usize = 10_000;
/// Samples kept across all points (about 100 MB): beyond it, a series gives up its oldest
/// sample for each new one, so many points cannot outgrow memory.
pub const SAMPLE_BUDGET: usize = 2_000_000;
/// Dedup keys remembered; the oldest are forgotten first. Keys are 64-bit hashes of the row
/// (a collision among a million rows has odds near 1 in 30 million), so this costs ~32 MB at most.
pub const DEDUP_CAPACITY: usize = 1_000_000;

/// Identifies a gateway: product key and device id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GatewayKey {
    pub pk: String,
    pub dev: String,
}

impl std::fmt::Display for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.pk, self.dev)
    }
}

/// One sample of a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: i64,
    pub v: PointV,
    pub q: u8,
}

/// A point of a sub-device: its latest sample and a bounded series ordered by `ts`.
#[derive(Debug, Clone, Default)]
pub struct PointTrack {
    pub latest: Option<Sample>,
    pub series: VecDeque<Sample>,
}

/// What is known of one device behind a gateway (or of the gateway itself when `sub == dev`).
#[derive(Debug, Clone, Default)]
pub struct SubDevice {
    pub points: BTreeMap<String, PointTrack>,
    pub meters: BTreeMap<String, (i64, f64)>,
    pub last_seen_ms: i64,
}

/// Everything known of one gateway.
#[derive(Debug, Clone)]
pub struct GatewayRecord {
    pub key: GatewayKey,
    /// From the retained `status`; `None` until one is seen.
    pub online: Option<bool>,
    pub status_reason: Option<String>,
    pub info: Option<Info>,
    pub versions: Vec<ModuleVersion>,
    pub last_seen_ms: i64,
    /// The session that last carried a message of this gateway: requests go there.
    pub session: u32,
    pub subs: BTreeMap<String, SubDevice>,
    /// Active alarms by alarm id.
    pub alarms: BTreeMap<String, Alarm>,
    /// Time of the last event applied per alarm id.
    alarm_last_ts: BTreeMap<String, i64>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub messages: u64,
}

impl GatewayRecord {
    fn new(key: GatewayKey, session: u32) -> Self {
        GatewayRecord {
            key,
            online: None,
            status_reason: None,
            info: None,
            versions: Vec::new(),
            last_seen_ms: 0,
            session,
            subs: BTreeMap::new(),
            alarms: BTreeMap::new(),
            alarm_last_ts: BTreeMap::new(),
            properties: serde_json::Map::new(),
            messages: 0,
        }
    }

    /// Number of (sub, pid) pairs seen.
    pub fn point_count(&self) -> usize {
        self.subs.values().map(|s| s.points.len()).sum()
    }
}

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

    pub fn set_status(&mut self, key: &GatewayKey, online: bool, reason: Option<String>) {
        if let Some(r) = self.records.get_mut(key) {
            r.online = Some(online);
            r.status_reason = reason;
        }
    }

    pub fn set_info(&mut self, key: &GatewayKey, info: Info) {
        if let Some(r) = self.records.get_mut(key) {
            r.info = Some(info);
        }
    }

    pub fn set_versions(&mut self, key: &GatewayKey, versions: Vec<ModuleVersion>) {
        if let Some(r) = self.records.get_mut(key) {
            r.versions = versions;
        }
    }

    pub fn merge_properties(&mut self, key: &GatewayKey, props: serde_json::Map<String, serde_json::Value>) {
        if let Some(r) = self.records.get_mut(key) {
            r.properties.extend(props);
        }
    }

    /// Records point values; returns how many were new rows (the rest were duplicates).
    pub fn add_points(&mut self, key: &GatewayKey, points: &[PointValue], now_ms: i64) -> usize {
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

    /// Records meter readings (latest value per register).
    pub fn add_readings(&mut self, key: &GatewayKey, readings: &[Reading], now_ms: i64) {
        let Some(record) = self.records.get_mut(key) else { return };
        for r in readings {
            let sub = record.subs.entry(r.sub.clone()).or_default();
            sub.last_seen_ms = now_ms;
            for (meter, value) in &r.values {
                let slot = sub.meters.entry(meter.clone()).or_insert((r.ts, *value));
                if slot.0 <= r.ts {
                    *slot = (r.ts, *value);
                }
            }
        }
    }

    /// Applies raised and cleared alarms to the active set. An event older than the last one
    /// applied for the same alarm is ignored: a raise replayed from history after the live
    /// clear must not bring the alarm back.
    pub fn apply_alarms(&mut self, key: &GatewayKey, alarms: &[Alarm]) {
        let Some(record) = self.records.get_mut(key) else { return };
        for a in alarms {
            let last = record.alarm_last_ts.entry(a.alarm_id.clone()).or_insert(i64::MIN);
            if a.ts < *last {
                continue;
            }
            *last = a.ts;
            match a.state {
                AlarmState::Raised => {
                    record.alarms.insert(a.alarm_id.clone(), a.clone());
                }
                AlarmState::Cleared => {
                    record.alarms.remove(&a.alarm_id);
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(sub: &str, pid: &str, v: f64, ts: i64) -> PointValue {
        PointValue { sub: sub.into(), pid: pid.into(), v: PointV::Number(v), q: 0, ts }
    }

    #[test]
    fn duplicates_are_stored_once() {
        let mut g = Gateways::new();
        g.touch("PK", "GW", 1, 0);
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        let batch = [pv("m1", "Ua", 230.0, 10), pv("m1", "Ua", 231.0, 20), pv("m1", "Ub", 229.0, 10)];
        assert_eq!(g.add_points(&key, &batch, 0), 3);
        assert_eq!(g.add_points(&key, &batch, 0), 0);
        assert_eq!(g.history_stats(), HistoryStats { rows_stored: 3, duplicates: 3 });
        let track = &g.get(&key).unwrap().subs["m1"].points["Ua"];
        assert_eq!(track.series.len(), 2);
        assert_eq!(track.latest.as_ref().unwrap().ts, 20);
    }

    #[test]
    fn late_history_is_inserted_in_time_order_and_latest_stays_latest() {
        let mut g = Gateways::new();
        g.touch("PK", "GW", 1, 0);
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        g.add_points(&key, &[pv("m1", "P", 1.0, 100), pv("m1", "P", 3.0, 300)], 0);
        g.add_points(&key, &[pv("m1", "P", 2.0, 200)], 0);
        let track = &g.get(&key).unwrap().subs["m1"].points["P"];
        let ts: Vec<_> = track.series.iter().map(|s| s.ts).collect();
        assert_eq!(ts, vec![100, 200, 300]);
        assert_eq!(track.latest.as_ref().unwrap().v, PointV::Number(3.0));
    }

    #[test]
    fn alarms_raise_and_clear() {
        let mut g = Gateways::new();
        g.touch("PK", "GW", 1, 0);
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        let mut a = Alarm {
            alarm_id: "a1".into(), sub: "m1".into(), pid: None, alarm_type: "overVoltage".into(), level: 2,
            state: AlarmState::Raised, value: None, threshold: None, ts: 1, desc: None,
        };
        g.apply_alarms(&key, std::slice::from_ref(&a));
        assert_eq!(g.get(&key).unwrap().alarms.len(), 1);
        a.state = AlarmState::Cleared;
        a.ts = 5;
        g.apply_alarms(&key, std::slice::from_ref(&a));
        assert!(g.get(&key).unwrap().alarms.is_empty());
        // The raise at ts 1, replayed from history after the clear, stays cleared.
        a.state = AlarmState::Raised;
        a.ts = 1;
        g.apply_alarms(&key, &[a]);
        assert!(g.get(&key).unwrap().alarms.is_empty());
    }

    #[test]
    fn series_is_bounded() {
        let mut series = VecDeque::new();
        for ts in 0..(SERIES_CAPACITY as i64 + 10) {
            insert_ordered(&mut series, Sample { ts, v: PointV::Number(0.0), q: 0 }, false);
        }
        assert_eq!(series.len(), SERIES_CAPACITY);
        assert_eq!(series.front().unwrap().ts, 10);
    }
}
