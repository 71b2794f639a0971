//! The simulated gateway's whole state, without I/O: devices and their points, properties, ports,
//! module versions, clock, log, alarms, stored history, transfers and counters. The runtime owns
//! it behind a mutex; the request handlers are plain functions over it.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value};

use super::device::{DeviceSim, sub_ids};
use super::log::SimLog;
use super::outage::{HistoryQueue, Item, OfflineBuffer, RecentHistory};
use super::replay::ReplyCache;
use super::transfer::Transfer;
use super::api::{SimCounters, SimError, SimSnapshot, TaskRecord};
use crate::protocol::ids::{IdKind, check_id};
use crate::protocol::model::{Access, Lang, ModelKind, ModelSet, PortDef, ProductModel, PropertyDef, ValueType};
use crate::protocol::port::PortParams;
use crate::protocol::payload::{Alarm, AlarmState, Info, ModuleVersion, PointValue, Port, PortStatus, Reading, SubRef, Versions};
use crate::protocol::time::now_ms;

/// Report period when neither the model's `reportPeriod` property nor a point says, seconds.
const DEFAULT_REPORT_PERIOD_SECS: u64 = 60;
/// Version every module starts at.
const START_VERSION: &str = "1.0.0";
/// The gateway's main firmware module, whose version is `Info.fwVersion`.
pub const FIRMWARE_MODULE: &str = "firmware";
/// The gateway's software module, whose version is `Info.swVersion`.
pub const SOFTWARE_MODULE: &str = "app";
/// Task records kept for the snapshot.
const TASK_RECORDS: usize = 50;

/// Something the gateway publishes on its own (reports, and its own requests).
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// `point/report` (`change` false) or `point/change`.
    Points { change: bool, points: Vec<PointValue> },
    /// `meter/report`.
    Readings(Vec<Reading>),
    /// `alarm/report` (a request the master acknowledges).
    Alarms(Vec<Alarm>),
    /// Any other message of the table.
    Other { class: &'static str, action: &'static str, data: Value },
}

/// A port of the gateway as configured now.
#[derive(Debug, Clone, PartialEq)]
pub struct PortState {
    pub def: PortDef,
    pub params: PortParams,
    pub protocol: String,
    pub status: PortStatus,
}

impl PortState {
    pub fn to_port(&self) -> Port {
        Port { port_id: self.def.id.clone(), port_type: self.def.port_type, params: self.params.clone(), protocol: self.protocol.clone(), status: self.status.clone() }
    }
}

#[derive(Debug)]
pub struct SimState {
    pub pk: String,
    pub dev: String,
    /// The gateway itself first (`sub` = dev), then one per `subProducts` entry.
    pub devices: Vec<DeviceSim>,
    pub props: Map<String, Value>,
    pub ports: Vec<PortState>,
    /// Module → version, as in `ota/version`.
    pub modules: IndexMap<String, String>,
    /// Set by `time/set`: sim clock = local clock + offset.
    pub clock_offset_ms: i64,
    /// How far the master's clock is ahead of the sim's, from the last `time/sync`.
    pub master_offset_ms: Option<f64>,
    pub files_dir: PathBuf,
    pub log: SimLog,
    pub replies: ReplyCache,
    pub recent: RecentHistory,
    pub offline: OfflineBuffer,
    pub history: HistoryQueue,
    /// Largest `history/report` payload the link carries: 64 KiB, less over serial (set by the
    /// runtime for its link).
    pub batch_max_bytes: usize,
    /// Largest reply payload the link carries: 256 KiB (contract §3), less over serial (set by
    /// the runtime); a reply is cut or refused to fit it.
    pub reply_max_bytes: usize,
    /// Largest chunk the gateway asks for: 64 KiB, 32 KiB over serial (contract §8).
    pub chunk_max_bytes: u32,
    /// Chunk requests each transfer keeps outstanding (contract §8: at most 8).
    pub chunk_window: usize,
    pub active_alarms: Vec<Alarm>,
    pub transfers: Vec<Transfer>,
    pub tasks: VecDeque<TaskRecord>,
    /// `file/upload` ids → file names, for `file/read`.
    pub uploads: VecDeque<(String, String)>,
    pub counters: SimCounters,
    /// Report period forced by the config or by a `reportPeriod` write, ms.
    pub period_override_ms: Option<u64>,
    pub rng: StdRng,
    pub alarm_seq: u64,
    pub online: bool,
    started_ms: i64,
    /// Deliberate contract breaches (conformance tests of the checker); none by default.
    pub faults: super::faults::Faults,
}

impl SimState {
    /// The gateway `pk` of `models` with its sub-devices, as device `dev`.
    pub fn new(models: &ModelSet, pk: &str, dev: &str, files_dir: PathBuf, seed: u64, period_override_ms: Option<u64>) -> Result<SimState, SimError> {
        check_id(IdKind::ProductKey, pk).map_err(SimError::BadId)?;
        check_id(IdKind::Device, dev).map_err(SimError::BadId)?;
        let gateway = models.get(pk).ok_or_else(|| SimError::UnknownProduct(pk.to_owned()))?.model().clone();
        if gateway.kind != ModelKind::Gateway {
            return Err(SimError::NotAGateway(pk.to_owned()));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let now = now_ms();
        let subs = sub_ids(&gateway.sub_products);
        let mut devices = vec![DeviceSim::new(dev, Arc::new(gateway.clone()), now, &mut rng)];
        for (sub_pk, sub) in gateway.sub_products.iter().zip(&subs) {
            let model = models
                .get(sub_pk)
                .ok_or_else(|| SimError::MissingSubProduct { pk: pk.to_owned(), sub_pk: sub_pk.clone() })?
                .model()
                .clone();
            devices.push(DeviceSim::new(sub, Arc::new(model), now, &mut rng));
        }
        let mut modules = IndexMap::new();
        modules.insert(FIRMWARE_MODULE.to_owned(), START_VERSION.to_owned());
        modules.insert(SOFTWARE_MODULE.to_owned(), START_VERSION.to_owned());
        for sub in &subs {
            modules.insert(sub.clone(), START_VERSION.to_owned());
        }
        let ports = gateway
            .ports
            .iter()
            .map(|def| PortState {
                def: def.clone(),
                params: def.params.clone().unwrap_or_default(),
                protocol: def.protocol.clone().unwrap_or_default(),
                status: PortStatus { online: true, tx: 0, rx: 0, errors: 0 },
            })
            .collect();
        let mut state = SimState {
            pk: pk.to_owned(),
            dev: dev.to_owned(),
            props: Map::new(),
            ports,
            modules,
            clock_offset_ms: 0,
            master_offset_ms: None,
            files_dir,
            log: SimLog::new(dev),
            replies: ReplyCache::default(),
            recent: RecentHistory::default(),
            offline: OfflineBuffer::default(),
            history: HistoryQueue::default(),
            batch_max_bytes: super::outage::BATCH_MAX_BYTES,
            reply_max_bytes: crate::protocol::envelope::MAX_PAYLOAD_BYTES,
            chunk_max_bytes: *crate::protocol::payload::CHUNK_SIZES.end(),
            chunk_window: super::api::DEFAULT_WINDOW,
            active_alarms: Vec::new(),
            transfers: Vec::new(),
            tasks: VecDeque::new(),
            uploads: VecDeque::new(),
            counters: SimCounters::default(),
            period_override_ms,
            rng,
            alarm_seq: 0,
            online: false,
            started_ms: now,
            faults: super::faults::Faults::default(),
            devices,
        };
        state.props = gateway.properties.iter().map(|p| (p.id.clone(), state.initial_property(p))).collect();
        Ok(state)
    }

    /// The gateway's own model.
    pub fn gateway_model(&self) -> &ProductModel {
        &self.devices[0].model
    }

    /// The sim's clock, epoch ms.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.clock_offset_ms)
    }

    /// Seconds since the simulator started.
    pub fn uptime_secs(&self) -> u64 {
        u64::try_from((now_ms() - self.started_ms) / 1000).unwrap_or(0)
    }

    /// The device whose `sub` is `sub` (the gateway's own dev id included).
    pub fn device_index(&self, sub: &str) -> Option<usize> {
        self.devices.iter().position(|d| d.sub == sub)
    }

    /// Sub-device ids, the gateway's own excluded.
    pub fn sub_ids(&self) -> Vec<String> {
        self.devices.iter().skip(1).map(|d| d.sub.clone()).collect()
    }

    fn initial_property(&self, def: &PropertyDef) -> Value {
        match def.id.as_str() {
            "fwVersion" => return Value::String(self.modules.get(FIRMWARE_MODULE).cloned().unwrap_or_default()),
            "subDevices" => return Value::String(self.sub_ids().join(",")),
            _ => {}
        }
        if let Some(default) = &def.default {
            return default.clone();
        }
        match def.spec.value_type {
            ValueType::Int | ValueType::Float => {
                // The smallest allowed value, or 0 when the range allows it.
                let v = def.spec.min.unwrap_or(0.0).max(0.0).min(def.spec.max.unwrap_or(f64::MAX));
                if def.spec.value_type == ValueType::Int { serde_json::json!(v as i64) } else { serde_json::json!(v) }
            }
            ValueType::Bool => Value::Bool(false),
            ValueType::Enum => def.spec.enum_labels.as_ref().and_then(|l| l.iter().next()).map_or(Value::Null, |(k, _)| Value::String(k.into())),
            _ => Value::String(String::new()),
        }
    }

    /// Properties `property/get` may return (write-only ones never are).
    pub fn readable_props(&self, keys: Option<&[String]>) -> Map<String, Value> {
        self.gateway_model()
            .properties
            .iter()
            .filter(|p| p.access != Access::Wo && keys.is_none_or(|k| k.contains(&p.id)))
            .filter_map(|p| self.props.get(&p.id).map(|v| (p.id.clone(), v.clone())))
            .collect()
    }

    /// The default report period: the `reportPeriod` property, in ms.
    pub fn default_period_ms(&self) -> u64 {
        let secs = self.props.get("reportPeriod").and_then(Value::as_u64).filter(|s| *s > 0).unwrap_or(DEFAULT_REPORT_PERIOD_SECS);
        secs.saturating_mul(1000)
    }

    pub fn info(&self) -> Info {
        let model = self.gateway_model();
        let vendor = model.vendor.as_ref().map(|v| v.get(Lang::En).to_owned()).filter(|v| !v.is_empty());
        let version = |m: &str| self.modules.get(m).cloned().unwrap_or_default();
        // A locally administered MAC derived from the dev id, stable across runs.
        let hash = self.dev.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        let mac = format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", hash >> 24, (hash >> 16) & 0xff, (hash >> 8) & 0xff, hash & 0xff);
        Info {
            vendor: vendor.unwrap_or_else(|| "CEMS workbench simulator".into()),
            model: model.model.clone().unwrap_or_else(|| self.pk.clone()),
            serial: self.dev.clone(),
            hw_version: "1.0".into(),
            fw_version: version(FIRMWARE_MODULE),
            sw_version: version(SOFTWARE_MODULE),
            mac: Some(mac),
            ip: None,
            uptime: self.uptime_secs(),
            subs: Some(self.devices.iter().skip(1).map(|d| SubRef { sub: d.sub.clone(), product_key: d.model.product_key.clone() }).collect()),
        }
    }

    pub fn versions(&self) -> Versions {
        Versions { modules: self.modules.iter().map(|(m, v)| ModuleVersion { module: m.clone(), version: v.clone() }).collect() }
    }

    /// Sets a module's version after an install, keeping `fwVersion` in step.
    pub fn set_version(&mut self, module: &str, version: &str) {
        self.modules.insert(module.to_owned(), version.to_owned());
        if module == FIRMWARE_MODULE && self.props.contains_key("fwVersion") {
            self.props.insert("fwVersion".into(), Value::String(version.to_owned()));
        }
    }

    /// Samples every device at the sim's clock; `all` reports every point and meter (on
    /// connect). What comes out is recorded for recalls and updates the active alarms.
    pub fn sample(&mut self, all: bool) -> Vec<Outgoing> {
        let now = self.now_ms();
        let default_period = self.default_period_ms();
        let (mut report, mut changes, mut alarms, mut readings) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for device in &mut self.devices {
            let s = device.tick(now, self.period_override_ms, default_period, all, &mut self.rng, &mut self.alarm_seq);
            report.extend(s.report);
            changes.extend(s.changes);
            alarms.extend(s.alarms);
            readings.extend(s.reading);
        }
        if !report.is_empty() {
            for port in &mut self.ports {
                // Field-bus traffic the gateway would have had to read these values.
                port.status.tx += 1;
                port.status.rx += 1;
            }
        }
        self.record_outgoing_parts(report, changes, alarms, readings)
    }

    /// Records events (from sampling, a `point/set` or a command) and turns them into messages.
    pub fn record_outgoing_parts(&mut self, report: Vec<PointValue>, changes: Vec<PointValue>, alarms: Vec<Alarm>, readings: Vec<Reading>) -> Vec<Outgoing> {
        for p in report.iter().chain(&changes) {
            self.recent.record(&Item::Point(p.clone()));
        }
        for r in &readings {
            self.recent.record(&Item::Reading(r.clone()));
        }
        for a in &alarms {
            self.recent.record(&Item::Alarm(a.clone()));
            self.track_alarm(a);
        }
        let mut out = Vec::new();
        if !report.is_empty() {
            out.push(Outgoing::Points { change: false, points: report });
        }
        if !changes.is_empty() {
            out.push(Outgoing::Points { change: true, points: changes });
        }
        if !readings.is_empty() {
            out.push(Outgoing::Readings(readings));
        }
        if !alarms.is_empty() {
            out.push(Outgoing::Alarms(alarms));
        }
        out
    }

    fn track_alarm(&mut self, alarm: &Alarm) {
        match alarm.state {
            AlarmState::Raised => {
                let mut text = format!("alarm {} raised on {}/{}", alarm.alarm_type, alarm.sub, alarm.pid.as_deref().unwrap_or("-"));
                if let Some(value) = &alarm.value {
                    text.push_str(&format!(": {}", super::log::value_text(value)));
                }
                if let Some(threshold) = alarm.threshold {
                    text.push_str(&format!(" (threshold {threshold})"));
                }
                self.log.push(alarm.ts, super::log::Level::Warn, "alarm", text);
                self.active_alarms.push(alarm.clone());
            }
            AlarmState::Cleared => {
                self.log.push(alarm.ts, super::log::Level::Info, "alarm", format!("alarm {} cleared on {}", alarm.alarm_type, alarm.sub));
                self.active_alarms.retain(|a| a.alarm_id != alarm.alarm_id);
            }
        }
    }

    /// Records a finished or progressing task for the snapshot.
    pub fn record_task(&mut self, record: TaskRecord) {
        if let Some(slot) = self.tasks.iter_mut().find(|t| t.id == record.id && t.ota == record.ota) {
            *slot = record;
            return;
        }
        if self.tasks.len() >= TASK_RECORDS {
            self.tasks.pop_front();
        }
        self.tasks.push_back(record);
    }

    pub fn snapshot(&self) -> SimSnapshot {
        let mut counters = self.counters.clone();
        counters.history_batches_sent = self.history.sent;
        counters.history_batches_acked = self.history.acked;
        counters.history_batches_dropped = self.history.dropped;
        counters.offline_dropped = self.offline.dropped;
        SimSnapshot {
            pk: self.pk.clone(),
            dev: self.dev.clone(),
            online: self.online,
            subs: self.devices.iter().skip(1).map(|d| (d.sub.clone(), d.model.product_key.clone())).collect(),
            modules: self.versions().modules,
            points: self.devices.iter().flat_map(DeviceSim::values).collect(),
            alarms: self.active_alarms.clone(),
            files: super::files::list(&self.files_dir).unwrap_or_default(),
            props: self.props.clone(),
            counters,
            tasks: self.tasks.iter().cloned().collect(),
            clock_offset_ms: self.clock_offset_ms,
            master_offset_ms: self.master_offset_ms,
            buffered_items: self.offline.len(),
            history_batches_pending: self.history.len(),
        }
    }
}
