//! What is known of one gateway: one record, filled only by [`super::Gateways::apply`] from
//! decoded payloads (reports and replies alike) and by the request log.

use std::collections::{BTreeMap, VecDeque};

use super::limits::{MAX_ALARMS, MAX_METERS, MAX_PORTS, MAX_PROPERTIES, MAX_SUBS, Refused, cap_reply_data, cap_value, cut_text, valid_id};
use crate::engine::requests::{RequestFailure, RequestOutcome};
use crate::protocol::codes;
use crate::protocol::ids::IdKind;
use crate::protocol::payload::{self, Alarm, AlarmState, FileEntry, Info, LogEntry, ModuleVersion, Payload, Port, PointV, Reading, VendorMessage};
use crate::protocol::time::TimeSample;

/// Log entries kept per gateway (oldest dropped first).
pub const LOG_CAPACITY: usize = 5_000;
/// Vendor messages (`message/up`) kept per gateway.
pub const MESSAGE_CAPACITY: usize = 500;
/// Finished requests kept per gateway, for the request log.
pub const REQUEST_LOG_CAPACITY: usize = 200;

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

/// A point of a sub-device: its latest sample. Its series is in the engine's series store
/// (`crate::engine::series`), keyed `SeriesKey::Point`.
#[derive(Debug, Clone, Default)]
pub struct PointTrack {
    pub latest: Option<Sample>,
}

/// What is known of one device behind a gateway (or of the gateway itself when `sub == dev`).
#[derive(Debug, Clone, Default)]
pub struct SubDevice {
    pub points: BTreeMap<String, PointTrack>,
    /// Latest reading of each energy register: (freeze time, value).
    pub meters: BTreeMap<String, (i64, f64)>,
    pub last_seen_ms: i64,
}

/// The gateway's clock against ours, from a `time/get` exchange (contract §9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockOffset {
    /// Gateway clock minus ours.
    pub offset_ms: f64,
    pub round_trip_ms: i64,
    /// When it was measured (our clock).
    pub measured_ms: i64,
}

/// The gateway's file list from its last `file/list` reply.
#[derive(Debug, Clone, PartialEq)]
pub struct FileListing {
    pub files: Vec<FileEntry>,
    pub received_ms: i64,
}

/// `time/sync` exchanges kept per gateway.
pub const TIME_SYNC_CAPACITY: usize = 50;

/// One `time/sync` request of the gateway and our answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSyncEntry {
    /// The gateway's send time (its clock).
    pub t1: i64,
    /// When it arrived (our clock): the `t2` we answered.
    pub received_ms: i64,
}

/// How a finished request ended, for the request log.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestEnd {
    /// The gateway replied with this code (its name from the contract table) and message.
    Replied { code: i64, name: &'static str, msg: Option<String> },
    /// No reply: why (kept as the engine's own reason, so a page tells a timeout from a closed
    /// link without reading the text).
    Failed(RequestFailure),
}

/// One finished request to the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub id: String,
    pub class: String,
    pub action: String,
    pub end: RequestEnd,
    /// The items a `property/set` or `port/set` reply lists in `data.failed`, each as
    /// "key: code msg" (or "portId: …"). A non-zero code there means only these were not
    /// applied; the request's other items were (contract §3), so the page must not read the
    /// code alone as "nothing changed".
    pub failed: Vec<String>,
    pub latency_ms: f64,
    /// When it finished (our clock).
    pub done_ms: i64,
    /// The reply's data (capped like every kept value), for the page that sent the request to
    /// render by the model; `null` when no reply came.
    pub data: serde_json::Value,
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
    /// Ports by id, from `port/report` and `port/get`.
    pub ports: BTreeMap<String, Port>,
    /// Log entries ordered by `ts`, from `log/report` and `log/get`, without repeats.
    pub logs: VecDeque<LogEntry>,
    /// `message/up` messages as (received at, message), oldest first.
    pub vendor_messages: VecDeque<(i64, VendorMessage)>,
    pub files: Option<FileListing>,
    pub clock: Option<ClockOffset>,
    /// The gateway's own `time/sync` requests, oldest first, bounded.
    pub time_syncs: VecDeque<TimeSyncEntry>,
    /// Alarm rows (raise and clear paired, with acknowledgement) and history recalls.
    pub alarm_log: super::alarm_log::AlarmLog,
    /// Finished requests, oldest first.
    pub requests: VecDeque<RequestRecord>,
    /// Messages received from this gateway.
    pub messages: u64,
}

impl GatewayRecord {
    pub(super) fn new(key: GatewayKey, session: u32) -> Self {
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
            ports: BTreeMap::new(),
            logs: VecDeque::new(),
            vendor_messages: VecDeque::new(),
            files: None,
            clock: None,
            time_syncs: VecDeque::new(),
            alarm_log: super::alarm_log::AlarmLog::default(),
            requests: VecDeque::new(),
            messages: 0,
        }
    }

    /// Number of (sub, pid) pairs seen.
    pub fn point_count(&self) -> usize {
        self.subs.values().map(|s| s.points.len()).sum()
    }

    /// The product key the gateway gives for sub-device `sub` (`Info.subs`), if it gives one.
    pub fn sub_product(&self, sub: &str) -> Option<&str> {
        let subs = self.info.as_ref()?.subs.as_ref()?;
        subs.iter().find(|s| s.sub == sub).map(|s| s.product_key.as_str())
    }

    /// The sub-device `sub`, created when its id is valid and the gateway has room for it.
    pub(super) fn sub_mut(&mut self, sub: &str, refused: &mut Refused) -> Option<&mut SubDevice> {
        if !self.subs.contains_key(sub) {
            if !valid_id(IdKind::Device, sub) {
                refused.bad_ids += 1;
                return None;
            }
            if self.subs.len() >= MAX_SUBS {
                refused.subs += 1;
                return None;
            }
        }
        Some(self.subs.entry(sub.to_owned()).or_default())
    }

    /// Records meter readings (latest value per register).
    pub(super) fn add_readings(&mut self, readings: &[Reading], now_ms: i64, refused: &mut Refused) {
        for r in readings {
            let Some(sub) = self.sub_mut(&r.sub, refused) else { continue };
            sub.last_seen_ms = now_ms;
            for (meter, value) in &r.values {
                if !sub.meters.contains_key(meter) {
                    if !valid_id(IdKind::Point, meter) {
                        refused.bad_ids += 1;
                        continue;
                    }
                    if sub.meters.len() >= MAX_METERS {
                        refused.meters += 1;
                        continue;
                    }
                }
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
    pub(super) fn apply_alarms(&mut self, alarms: &[Alarm], refused: &mut Refused) {
        for a in alarms {
            // The contract gives alarmId no charset of its own; its length is a device id's.
            if a.alarm_id.is_empty() || a.alarm_id.len() > 64 || !valid_id(IdKind::Device, &a.sub) {
                refused.bad_ids += 1;
                continue;
            }
            if !self.alarm_last_ts.contains_key(&a.alarm_id) && self.alarm_last_ts.len() >= 4 * MAX_ALARMS {
                self.forget_cleared_alarms();
            }
            let last = self.alarm_last_ts.entry(a.alarm_id.clone()).or_insert(i64::MIN);
            if a.ts < *last {
                continue;
            }
            *last = a.ts;
            match a.state {
                AlarmState::Raised => {
                    if !self.alarms.contains_key(&a.alarm_id) && self.alarms.len() >= MAX_ALARMS {
                        refused.alarms += 1;
                        continue;
                    }
                    let mut alarm = a.clone();
                    if let Some(desc) = alarm.desc.as_mut()
                        && cut_text(desc)
                    {
                        refused.cut += 1;
                    }
                    self.alarms.insert(a.alarm_id.clone(), alarm);
                }
                AlarmState::Cleared => {
                    self.alarms.remove(&a.alarm_id);
                }
            }
        }
    }

    /// Forgets the order of the oldest half of the cleared alarms: a late replay of one of them
    /// could then come back, which is better than remembering every id ever seen.
    fn forget_cleared_alarms(&mut self) {
        let mut cleared: Vec<(i64, String)> =
            self.alarm_last_ts.iter().filter(|(id, _)| !self.alarms.contains_key(*id)).map(|(id, ts)| (*ts, id.clone())).collect();
        cleared.sort_unstable();
        let forget = cleared.len().div_ceil(2);
        for (_, id) in cleared.into_iter().take(forget) {
            self.alarm_last_ts.remove(&id);
        }
    }

    /// Keeps reported properties, each key checked and each value bounded.
    pub(super) fn add_properties(&mut self, props: serde_json::Map<String, serde_json::Value>, refused: &mut Refused) {
        for (key, value) in props {
            if !self.properties.contains_key(&key) {
                if !valid_id(IdKind::Point, &key) {
                    refused.bad_ids += 1;
                    continue;
                }
                if self.properties.len() >= MAX_PROPERTIES {
                    refused.properties += 1;
                    continue;
                }
            }
            let (value, cut) = cap_value(value);
            refused.cut += u64::from(cut);
            self.properties.insert(key, value);
        }
    }

    /// Keeps reported ports by id.
    pub(super) fn add_ports(&mut self, ports: Vec<Port>, refused: &mut Refused) {
        for port in ports {
            if !self.ports.contains_key(&port.port_id) {
                if !valid_id(IdKind::Device, &port.port_id) {
                    refused.bad_ids += 1;
                    continue;
                }
                if self.ports.len() >= MAX_PORTS {
                    refused.ports += 1;
                    continue;
                }
            }
            self.ports.insert(port.port_id.clone(), port);
        }
    }

    /// Adds log entries in time order; an entry already held (a `log/get` repeating what was
    /// reported) is kept once.
    pub(super) fn add_logs(&mut self, entries: Vec<LogEntry>, refused: &mut Refused) {
        for mut entry in entries {
            if cut_text(&mut entry.msg) | cut_text(&mut entry.module) | cut_text(&mut entry.level) {
                refused.cut += 1;
            }
            let at = self.logs.partition_point(|e| e.ts <= entry.ts);
            let same_ts = self.logs.range(..at).rev().take_while(|e| e.ts == entry.ts);
            if same_ts.into_iter().any(|e| *e == entry) {
                continue;
            }
            self.logs.insert(at, entry);
            if self.logs.len() > LOG_CAPACITY {
                self.logs.pop_front();
            }
        }
    }

    pub(super) fn add_vendor_message(&mut self, mut message: VendorMessage, now_ms: i64, refused: &mut Refused) {
        let (content, cut) = cap_value(std::mem::take(&mut message.content));
        message.content = content;
        refused.cut += u64::from(cut | cut_text(&mut message.message_type));
        self.vendor_messages.push_back((now_ms, message));
        if self.vendor_messages.len() > MESSAGE_CAPACITY {
            self.vendor_messages.pop_front();
        }
    }

    /// The offset from a `time/get` reply received at `t4` (our clock).
    pub(super) fn set_clock(&mut self, t1: i64, t2: i64, t3: i64, t4: i64) {
        let sample = TimeSample { t1, t2, t3, t4 };
        self.clock = Some(ClockOffset { offset_ms: sample.offset_ms(), round_trip_ms: sample.round_trip_ms(), measured_ms: t4 });
    }

    /// A `time/sync` request of the gateway sent at `t1` (its clock), received at `received_ms`.
    pub(super) fn add_time_sync(&mut self, t1: i64, received_ms: i64) {
        self.time_syncs.push_back(TimeSyncEntry { t1, received_ms });
        if self.time_syncs.len() > TIME_SYNC_CAPACITY {
            self.time_syncs.pop_front();
        }
    }

    pub(super) fn log_request(&mut self, outcome: &RequestOutcome, now_ms: i64) {
        let (end, failed, data) = match &outcome.result {
            Ok(reply) => {
                let failed = failed_items(&outcome.class, &outcome.action, &reply.data);
                (RequestEnd::Replied { code: reply.code, name: reply.name, msg: reply.msg.clone() }, failed, cap_reply_data(reply.data.clone()))
            }
            Err(failure) => (RequestEnd::Failed(failure.clone()), Vec::new(), serde_json::Value::Null),
        };
        self.requests.push_back(RequestRecord {
            id: outcome.id.clone(),
            class: outcome.class.clone(),
            action: outcome.action.clone(),
            end,
            failed,
            latency_ms: outcome.latency_ms,
            done_ms: now_ms,
            data,
        });
        if self.requests.len() > REQUEST_LOG_CAPACITY {
            self.requests.pop_front();
        }
    }
}

/// The `failed` list of a reply to a request naming several items, as "item: code msg"; empty
/// for any other reply, or one whose list cannot be read.
fn failed_items(class: &str, action: &str, data: &serde_json::Value) -> Vec<String> {
    // Only these two name several items; decoding every reply again (a long log/get) would be waste.
    if !matches!((class, action), ("property" | "port", "set")) {
        return Vec::new();
    }
    let line = |item: &str, code: i64, msg: Option<&str>| format!("{item}: {code} {}", msg.unwrap_or(codes::code_name(code)));
    match payload::decode(class, action, true, data).typed {
        Ok(Payload::PropertySetReply(r)) => r.failed.iter().map(|f| line(&f.key, f.code, f.msg.as_deref())).collect(),
        Ok(Payload::PortSetReply(r)) => r.failed.iter().map(|f| line(&f.port_id, f.code, f.msg.as_deref())).collect(),
        _ => Vec::new(),
    }
}
