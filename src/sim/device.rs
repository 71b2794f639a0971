//! One simulated device: the gateway itself or one instance of a sub-product. Holds its points,
//! the alarms that watch them and its energy registers.

use std::sync::Arc;

use indexmap::IndexMap;
use rand::RngExt;
use rand::rngs::StdRng;

use super::alarms::AlarmWatch;
use super::values::PointSim;
use crate::protocol::ids::{IdKind, check_id};
use crate::protocol::model::{ProductModel, ValueType};
use crate::protocol::payload::{Alarm, PointV, PointValue, Reading};

/// Freeze period of meters that do not say, ms.
const DEFAULT_METER_PERIOD_MS: u64 = 900_000;

/// One energy register.
#[derive(Debug, Clone, PartialEq)]
struct MeterSim {
    id: String,
    int: bool,
    value: f64,
    rate_per_hour: f64,
}

/// What one sampling step of a device produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceSample {
    /// Analog and accumulator points that were due (`point/report`).
    pub report: Vec<PointValue>,
    /// Digital points that changed state (`point/change`).
    pub changes: Vec<PointValue>,
    /// Alarms raised or cleared.
    pub alarms: Vec<Alarm>,
    /// A meter freeze, when one was due.
    pub reading: Option<Reading>,
}

/// One device instance.
#[derive(Debug, Clone)]
pub struct DeviceSim {
    /// `sub` in payloads: the gateway's own dev id, or `meter-1`, `pcs-1`, ….
    pub sub: String,
    pub model: Arc<ProductModel>,
    pub points: Vec<PointSim>,
    watches: Vec<(usize, AlarmWatch)>,
    meters: Vec<MeterSim>,
    meter_period_ms: Option<u64>,
    next_meter_ms: i64,
    last_meter_ms: i64,
}

impl DeviceSim {
    pub fn new(sub: &str, model: Arc<ProductModel>, now_ms: i64, rng: &mut StdRng) -> DeviceSim {
        let points: Vec<PointSim> = model.points.iter().map(|def| PointSim::new(def, now_ms, rng)).collect();
        let watches = model
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, def)| AlarmWatch::for_point(sub, def, &model).map(|w| (i, w)))
            .collect();
        let meters = model
            .meters
            .iter()
            .map(|m| MeterSim {
                id: m.id.clone(),
                int: m.value_type == ValueType::Int,
                value: rng.random_range(1_000.0..50_000.0_f64).round(),
                rate_per_hour: rng.random_range(20.0..200.0),
            })
            .collect();
        let meter_period_ms = model.meters.iter().filter_map(|m| m.period).filter(|p| *p > 0.0).map(|p| (p * 1000.0) as u64).min();
        DeviceSim { sub: sub.to_owned(), model, points, watches, meters, meter_period_ms, next_meter_ms: now_ms, last_meter_ms: now_ms }
    }

    pub fn has_meters(&self) -> bool {
        !self.meters.is_empty()
    }

    /// The point `pid`.
    pub fn point(&self, pid: &str) -> Option<&PointSim> {
        self.points.iter().find(|p| p.pid == pid)
    }

    /// Every point's current value.
    pub fn values(&self) -> Vec<PointValue> {
        self.points.iter().map(|p| p.to_value(&self.sub)).collect()
    }

    /// The current meter registers, frozen at `now_ms`.
    pub fn reading(&self, now_ms: i64) -> Option<Reading> {
        if self.meters.is_empty() {
            return None;
        }
        let values: IndexMap<String, f64> = self
            .meters
            .iter()
            .map(|m| (m.id.clone(), if m.int { m.value.floor() } else { (m.value * 100.0).floor() / 100.0 }))
            .collect();
        Some(Reading { sub: self.sub.clone(), ts: now_ms, values })
    }

    /// Moves every point on to `now_ms` and collects what is due. A point's period is
    /// `override_ms` when set, else its own, else `default_period_ms`; `all` reports every
    /// point and the meters (right after connecting).
    pub fn tick(&mut self, now_ms: i64, override_ms: Option<u64>, default_period_ms: u64, all: bool, rng: &mut StdRng, seq: &mut u64) -> DeviceSample {
        let mut sample = DeviceSample::default();
        for (i, point) in self.points.iter_mut().enumerate() {
            let period_ms = override_ms.or(point.model_period_ms).unwrap_or(default_period_ms).max(1);
            let watch_it = if point.is_periodic() {
                if now_ms < point.next_due_ms && !all {
                    continue;
                }
                point.advance(now_ms, period_ms, rng);
                point.next_due_ms = now_ms.saturating_add(i64::try_from(period_ms).unwrap_or(i64::MAX));
                sample.report.push(point.to_value(&self.sub));
                true
            } else {
                // Digital points are watched every tick: a change of state goes out at once.
                let changed = point.advance(now_ms, period_ms, rng);
                if changed {
                    sample.changes.push(point.to_value(&self.sub));
                } else if all {
                    sample.report.push(point.to_value(&self.sub));
                }
                changed
            };
            if watch_it && let Some((_, watch)) = self.watches.iter_mut().find(|(p, _)| *p == i) {
                sample.alarms.extend(watch.check(&point.value, now_ms, seq));
            }
        }
        self.advance_meters(now_ms, rng);
        if now_ms >= self.next_meter_ms || all {
            let period_ms = override_ms.or(self.meter_period_ms).unwrap_or(DEFAULT_METER_PERIOD_MS).max(1);
            self.next_meter_ms = now_ms.saturating_add(i64::try_from(period_ms).unwrap_or(i64::MAX));
            sample.reading = self.reading(now_ms);
        }
        sample
    }

    fn advance_meters(&mut self, now_ms: i64, rng: &mut StdRng) {
        let hours = (now_ms - self.last_meter_ms).max(0) as f64 / 3_600_000.0;
        self.last_meter_ms = now_ms;
        for meter in &mut self.meters {
            meter.value += meter.rate_per_hour * hours * rng.random_range(0.5..1.5);
        }
    }

    /// Sets point `pid` (already checked) and returns the change and alarm events it causes.
    pub fn set_point(&mut self, pid: &str, value: PointV, now_ms: i64, seq: &mut u64) -> DeviceSample {
        let mut sample = DeviceSample::default();
        let Some(i) = self.points.iter().position(|p| p.pid == pid) else {
            return sample;
        };
        let point = &mut self.points[i];
        point.set(value, now_ms);
        if !point.is_periodic() {
            sample.changes.push(point.to_value(&self.sub));
        }
        if let Some((_, watch)) = self.watches.iter_mut().find(|(p, _)| *p == i) {
            sample.alarms.extend(watch.check(&point.value, now_ms, seq));
        }
        sample
    }

    /// Resets every energy register to zero (the meter's `clearEnergy` command).
    pub fn clear_meters(&mut self) {
        for meter in &mut self.meters {
            meter.value = 0.0;
        }
    }
}

/// Sub-device ids for a gateway's `subProducts`: `PK-METER-3P` → `meter-1`, a second one
/// `meter-2`; anything that would not be a valid dev id becomes `sub-N`.
pub fn sub_ids(sub_products: &[String]) -> Vec<String> {
    let mut counts: IndexMap<String, usize> = IndexMap::new();
    sub_products
        .iter()
        .enumerate()
        .map(|(i, pk)| {
            let trimmed = pk.strip_prefix("PK-").or_else(|| pk.strip_prefix("PK_")).unwrap_or(pk);
            let stem = trimmed.split(['-', '_', '.']).find(|s| !s.is_empty()).unwrap_or("").to_ascii_lowercase();
            let stem = if stem.is_empty() || check_id(IdKind::Device, &stem).is_err() { "sub".to_owned() } else { stem };
            let n = counts.entry(stem.clone()).or_insert(0);
            *n += 1;
            let id = format!("{stem}-{n}");
            if check_id(IdKind::Device, &id).is_ok() { id } else { format!("sub-{}", i + 1) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ModelSet;
    use crate::protocol::payload::AlarmState;
    use rand::SeedableRng;

    fn meter() -> (DeviceSim, StdRng) {
        let mut rng = StdRng::seed_from_u64(9);
        let set = ModelSet::builtin();
        let model = Arc::new(set.get("PK-METER-3P").unwrap().model().clone());
        (DeviceSim::new("meter-1", model, 0, &mut rng), rng)
    }

    #[test]
    fn sub_ids_are_short_and_valid() {
        let subs: Vec<String> = ["PK-METER-3P", "PK-PCS-100", "PK-METER-3P", "+weird+", "X"].iter().map(|s| s.to_string()).collect();
        assert_eq!(sub_ids(&subs), ["meter-1", "pcs-1", "meter-2", "sub-1", "x-1"]);
    }

    #[test]
    fn forced_excursion_raises_then_clears_an_alarm() {
        let (mut dev, mut rng) = meter();
        let mut seq = 0;
        let first = dev.tick(0, Some(1_000), 60_000, true, &mut rng, &mut seq);
        assert_eq!(first.report.len(), dev.points.len());
        assert!(first.reading.is_some());
        let ua = dev.points.iter().position(|p| p.pid == "Ua").unwrap();
        assert!(dev.points[ua].force_excursion(true, 1_000, 30_000));
        let mut events = Vec::new();
        for i in 1..200 {
            let s = dev.tick(i * 1_000, Some(1_000), 60_000, false, &mut rng, &mut seq);
            events.extend(s.alarms.into_iter().filter(|a| a.pid.as_deref() == Some("Ua")));
        }
        let states: Vec<(AlarmState, &str)> = events.iter().map(|a| (a.state, a.alarm_type.as_str())).collect();
        assert_eq!(states[..2], [(AlarmState::Raised, "overVoltage"), (AlarmState::Cleared, "overVoltage")], "{states:?}");
        assert_eq!(events[0].alarm_id, events[1].alarm_id);
        assert_eq!(events[0].threshold, Some(253.0));
    }

    #[test]
    fn a_short_forced_excursion_raises_at_once_and_clears_when_it_ends() {
        // The walk's pull alone needs seconds to reach the threshold: a forced one must not wait.
        let (mut dev, mut rng) = meter();
        let mut seq = 0;
        dev.tick(0, Some(200), 60_000, true, &mut rng, &mut seq);
        let ua = dev.points.iter().position(|p| p.pid == "Ua").unwrap();
        assert!(dev.points[ua].force_excursion(true, 0, 1_500));
        let events: Vec<Alarm> = (1..20)
            .flat_map(|i| dev.tick(i * 200, Some(200), 60_000, false, &mut rng, &mut seq).alarms)
            .filter(|a| a.pid.as_deref() == Some("Ua"))
            .collect();
        let timeline: Vec<(AlarmState, i64)> = events.iter().map(|a| (a.state, a.ts)).collect();
        assert_eq!(timeline, [(AlarmState::Raised, 200), (AlarmState::Cleared, 1_600)]);
    }

    #[test]
    fn meters_grow_and_report_on_their_period() {
        let (mut dev, mut rng) = meter();
        let mut seq = 0;
        let mut last: Option<Reading> = None;
        let mut readings = 0;
        for i in 0..100 {
            let s = dev.tick(i * 60_000, None, 60_000, i == 0, &mut rng, &mut seq);
            if let Some(r) = s.reading {
                readings += 1;
                if let Some(prev) = &last {
                    for (k, v) in &r.values {
                        assert!(*v >= prev.values[k], "{k} went back");
                    }
                    assert!(r.values["EpImp"] > prev.values["EpImp"]);
                }
                last = Some(r);
            }
        }
        // 900 s freezes over 99 minutes, plus the first.
        assert_eq!(readings, 1 + 99 * 60 / 900);
    }

    #[test]
    fn a_demo_sees_threshold_alarms_within_two_minutes() {
        let set = ModelSet::builtin();
        let mut quick = 0;
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut devices: Vec<DeviceSim> = ["PK-GW-01", "PK-METER-3P", "PK-PCS-100"]
                .iter()
                .map(|pk| DeviceSim::new("d", Arc::new(set.get(pk).unwrap().model().clone()), 0, &mut rng))
                .collect();
            let mut seq = 0;
            // The model's own periods, sampled every 250 ms like the runtime does.
            let seen = (0..120 * 4).any(|i| {
                devices.iter_mut().any(|d| d.tick(i * 250, None, 60_000, i == 0, &mut rng, &mut seq).alarms.iter().any(|a| a.threshold.is_some()))
            });
            quick += usize::from(seen);
        }
        assert!(quick >= 15, "{quick}/20 demos saw a threshold alarm within 2 minutes");
    }
}
