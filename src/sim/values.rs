//! Point value generation: analog points follow a bounded random walk around a plausible
//! nominal value (with occasional excursions past their alarm thresholds, so a demo shows alarms
//! within a minute or two), accumulators only grow, digital points change state now and then.

use rand::RngExt;
use rand::rngs::StdRng;

use crate::protocol::model::{PointDef, PointKind, ValueType};
use crate::protocol::payload::{PointV, PointValue};

/// Mean time between two threshold excursions of one point with an alarm, seconds. A demo
/// model has about ten such points, so one shows up about every half minute.
const EXCURSION_EVERY_SECS: f64 = 300.0;
/// Mean time a digital point stays in its normal state before changing, seconds.
const DIGITAL_CHANGE_EVERY_SECS: f64 = 120.0;
/// Mean time a digital point stays in an abnormal state before returning to normal, seconds.
const DIGITAL_RETURN_EVERY_SECS: f64 = 20.0;
/// Longest time step one advance takes into account: after a long pause a value moves as if
/// a minute had passed, not a day.
const MAX_STEP_SECS: f64 = 60.0;

/// A threshold excursion under way: the walk is pulled to `target` until `until_ms`.
#[derive(Debug, Clone, PartialEq)]
struct Excursion {
    target: f64,
    until_ms: i64,
    /// Asked for from outside: held at `target` from the first step and back at nominal when
    /// it ends, so it lasts as long as asked (the walk's pull would take seconds to get there).
    forced: bool,
}

/// How a point's value evolves.
#[derive(Debug, Clone, PartialEq)]
enum Behaviour {
    /// Mean-reverting random walk inside `[lo, hi]`.
    Walk { lo: f64, hi: f64, nominal: f64, thresholds: (Option<f64>, Option<f64>), deadband: f64, excursion: Option<Excursion> },
    /// Monotonic counter: `acc` grows by `rate_per_s` on average (exactly, for seconds counters).
    Counter { acc: f64, rate_per_s: f64, exact: bool, max: Option<f64> },
    /// One of `states`; `normal` is where it rests.
    States { states: Vec<PointV>, normal: usize, current: usize },
    /// Written by the master (setpoints, remote controls) or fixed text: never moves by itself.
    Held,
}

/// One simulated point of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSim {
    pub pid: String,
    pub kind: PointKind,
    pub value_type: ValueType,
    pub writable: bool,
    /// The point's own report period from the model, ms.
    pub model_period_ms: Option<u64>,
    /// Current value and its sample time.
    pub value: PointV,
    pub ts: i64,
    /// When this point is next sampled and reported.
    pub next_due_ms: i64,
    last_step_ms: i64,
    resolution: f64,
    behaviour: Behaviour,
}

impl PointSim {
    /// A point starting near its nominal value at `now_ms`.
    pub fn new(def: &PointDef, now_ms: i64, rng: &mut StdRng) -> PointSim {
        let resolution = resolution(def);
        let behaviour = match def.kind {
            PointKind::Digital => states_behaviour(def),
            PointKind::Text => Behaviour::Held,
            PointKind::Accumulator => counter_behaviour(def, rng),
            PointKind::Analog if def.writable => Behaviour::Held,
            PointKind::Analog => walk_behaviour(def),
        };
        let value = match (&behaviour, def.kind) {
            (Behaviour::Walk { nominal, .. }, _) => PointV::Number(round_to(*nominal, resolution)),
            (Behaviour::Counter { acc, .. }, _) => PointV::Number(counter_value(*acc, resolution)),
            (Behaviour::States { states, current, .. }, _) => states.get(*current).cloned().unwrap_or(PointV::Number(0.0)),
            (Behaviour::Held, PointKind::Text) => PointV::Text("ok".into()),
            (Behaviour::Held, _) => PointV::Number(held_start(def, resolution)),
        };
        PointSim {
            pid: def.id.clone(),
            kind: def.kind,
            value_type: def.spec.value_type,
            writable: def.writable,
            model_period_ms: def.period.filter(|p| *p > 0.0).map(|p| (p * 1000.0) as u64),
            value,
            ts: now_ms,
            next_due_ms: now_ms,
            last_step_ms: now_ms,
            resolution,
            behaviour,
        }
    }

    /// True for the points sent in periodic `point/report` (digital ones go in `point/change`).
    pub fn is_periodic(&self) -> bool {
        matches!(self.kind, PointKind::Analog | PointKind::Accumulator)
    }

    /// The current value as a report entry for `sub`.
    pub fn to_value(&self, sub: &str) -> PointValue {
        PointValue { sub: sub.to_owned(), pid: self.pid.clone(), v: self.value.clone(), q: 0, ts: self.ts }
    }

    /// Moves the value on to `now_ms`; `period_ms` is the point's effective report period (an
    /// excursion lasts at least a few of them, so reports see it). True when the value changed.
    pub fn advance(&mut self, now_ms: i64, period_ms: u64, rng: &mut StdRng) -> bool {
        let dt_secs = ((now_ms - self.last_step_ms) as f64 / 1000.0).clamp(0.0, MAX_STEP_SECS);
        self.last_step_ms = now_ms;
        let resolution = self.resolution;
        let new_value = match &mut self.behaviour {
            Behaviour::Walk { lo, hi, nominal, thresholds, deadband, excursion } => {
                let current = self.value.as_f64().unwrap_or(*nominal);
                let ended = excursion.take_if(|e| now_ms >= e.until_ms);
                match (ended, excursion.as_ref()) {
                    // A forced excursion ends as sharply as it began.
                    (Some(e), _) if e.forced => Some(PointV::Number(round_to(*nominal, resolution))),
                    (_, Some(e)) if e.forced => Some(PointV::Number(round_to(e.target, resolution))),
                    _ => {
                        if excursion.is_none() && rng.random_bool(probability(dt_secs, EXCURSION_EVERY_SECS)) {
                            *excursion = plan_excursion(*lo, *hi, *thresholds, *deadband, now_ms, period_ms, rng);
                        }
                        let (target, pull_per_s) = match excursion {
                            Some(e) => (e.target, 0.3),
                            None => (*nominal, 0.05),
                        };
                        let sigma = (*hi - *lo) * 0.004;
                        let pull = 1.0 - (-pull_per_s * dt_secs).exp();
                        let next = current + (target - current) * pull + sigma * dt_secs.sqrt() * gaussian(rng);
                        Some(PointV::Number(round_to(next.clamp(*lo, *hi), resolution)))
                    }
                }
            }
            Behaviour::Counter { acc, rate_per_s, exact, max } => {
                let growth = if *exact { dt_secs } else { *rate_per_s * dt_secs * rng.random_range(0.5..1.5) };
                *acc += growth;
                if let Some(max) = max {
                    *acc = acc.min(*max);
                }
                Some(PointV::Number(counter_value(*acc, resolution)))
            }
            Behaviour::States { states, normal, current } => {
                let mean_secs = if current == normal { DIGITAL_CHANGE_EVERY_SECS } else { DIGITAL_RETURN_EVERY_SECS };
                if states.len() > 1 && !self.writable && rng.random_bool(probability(dt_secs, mean_secs)) {
                    *current = if current != normal { *normal } else { abnormal_state(states.len(), *normal, rng) };
                    states.get(*current).cloned()
                } else {
                    None
                }
            }
            Behaviour::Held => None,
        };
        let changed = new_value.as_ref().is_some_and(|v| *v != self.value);
        if let Some(v) = new_value {
            self.value = v;
        }
        self.ts = now_ms;
        changed
    }

    /// Sets the value from outside (`point/set`, a command); the caller has checked it.
    pub fn set(&mut self, value: PointV, now_ms: i64) {
        if let Behaviour::States { states, current, .. } = &mut self.behaviour
            && let Some(i) = states.iter().position(|s| same_value(s, &value))
        {
            *current = i;
        }
        if let (Behaviour::Counter { acc, .. }, Some(n)) = (&mut self.behaviour, value.as_f64()) {
            *acc = n;
        }
        self.value = value;
        self.ts = now_ms;
    }

    /// Forces an excursion past the upper (`true`) or lower threshold for `duration_ms`, for tests
    /// and demos: the value is past it from the next sample and back at nominal after.
    pub fn force_excursion(&mut self, upper: bool, now_ms: i64, duration_ms: i64) -> bool {
        let Behaviour::Walk { lo, hi, thresholds, deadband, excursion, .. } = &mut self.behaviour else {
            return false;
        };
        let limit = if upper { thresholds.0 } else { thresholds.1 };
        let Some(target) = limit.and_then(|t| excursion_target(*lo, *hi, t, *deadband, upper)) else {
            return false;
        };
        *excursion = Some(Excursion { target, until_ms: now_ms.saturating_add(duration_ms), forced: true });
        true
    }
}

/// Probability that an event with mean interval `mean_secs` happens within `dt_secs`.
fn probability(dt_secs: f64, mean_secs: f64) -> f64 {
    (1.0 - (-dt_secs / mean_secs).exp()).clamp(0.0, 1.0)
}

/// A roughly normal sample (mean 0, sd 1) from three uniforms; no extra crate for a simulator.
fn gaussian(rng: &mut StdRng) -> f64 {
    let sum: f64 = (0..3).map(|_| rng.random_range(-1.0..1.0)).sum();
    sum
}

fn plan_excursion(lo: f64, hi: f64, thresholds: (Option<f64>, Option<f64>), deadband: f64, now_ms: i64, period_ms: u64, rng: &mut StdRng) -> Option<Excursion> {
    let upper = match thresholds {
        (Some(_), Some(_)) => rng.random_bool(0.5),
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => return None,
    };
    let threshold = if upper { thresholds.0 } else { thresholds.1 }?;
    let target = excursion_target(lo, hi, threshold, deadband, upper)?;
    // Long enough for a few reports to see it, short enough to clear within a demo.
    let min_ms = i64::try_from(period_ms.saturating_mul(3)).unwrap_or(i64::MAX);
    let duration_ms = rng.random_range(20_000..60_000).max(min_ms);
    Some(Excursion { target, until_ms: now_ms.saturating_add(duration_ms), forced: false })
}

/// A value clearly past `threshold`, inside `[lo, hi]`; `None` when the range leaves no room.
fn excursion_target(lo: f64, hi: f64, threshold: f64, deadband: f64, upper: bool) -> Option<f64> {
    let margin = (deadband * 2.0).max((hi - lo) * 0.02);
    let target = if upper { (threshold + margin).min(hi) } else { (threshold - margin).max(lo) };
    let beyond = if upper { target > threshold } else { target < threshold };
    beyond.then_some(target)
}

/// The value step the point is reported with.
fn resolution(def: &PointDef) -> f64 {
    match (def.spec.step.filter(|s| *s > 0.0), def.spec.value_type) {
        (Some(step), ValueType::Int) => step.max(1.0).round(),
        (Some(step), _) => step,
        (None, ValueType::Int) => 1.0,
        (None, _) => 0.01,
    }
}

/// Rounds to the resolution's decimal places, so `230.1` goes out as `230.1`, not `230.10000000000002`.
fn round_to(value: f64, resolution: f64) -> f64 {
    if resolution >= 1.0 {
        return (value / resolution).round() * resolution;
    }
    let decimals = (-resolution.log10()).ceil().clamp(0.0, 9.0) as i32;
    let scale = 10f64.powi(decimals);
    let stepped = (value / resolution).round() * resolution;
    (stepped * scale).round() / scale
}

/// Counters are cut down to their resolution, so the reported value never goes back.
fn counter_value(acc: f64, resolution: f64) -> f64 {
    round_to((acc / resolution).floor() * resolution, resolution)
}

fn walk_behaviour(def: &PointDef) -> Behaviour {
    let alarm = def.alarm.clone().unwrap_or_default();
    let nominal = nominal(def);
    let (lo, hi) = walk_range(def, nominal);
    Behaviour::Walk {
        lo,
        hi,
        nominal: nominal.clamp(lo, hi),
        thresholds: (alarm.hi, alarm.lo),
        deadband: alarm.deadband.unwrap_or(0.0).max(0.0),
        excursion: None,
    }
}

/// Where a healthy point rests: grid voltage and frequency at their nominal values, otherwise the
/// middle of the alarm window, else the middle of the range.
fn nominal(def: &PointDef) -> f64 {
    let unit = def.spec.unit.as_deref().unwrap_or("");
    let (min, max) = (def.spec.min, def.spec.max);
    let contains = |x: f64| min.is_none_or(|m| m <= x) && max.is_none_or(|m| x <= m);
    let alarm = def.alarm.clone().unwrap_or_default();
    let inside_alarm = |x: f64| alarm.hi.is_none_or(|h| x < h) && alarm.lo.is_none_or(|l| x > l);
    if unit == "V" && contains(230.0) && inside_alarm(230.0) && max.is_some_and(|m| m < 1000.0) {
        return 230.0;
    }
    if unit == "Hz" && contains(50.0) && inside_alarm(50.0) {
        return 50.0;
    }
    if unit.is_empty() && min == Some(-1.0) && max == Some(1.0) {
        // A power factor.
        return 0.95;
    }
    match (alarm.lo, alarm.hi, min, max) {
        (Some(lo), Some(hi), _, _) => (lo + hi) / 2.0,
        (None, Some(hi), Some(min), _) => min + (hi - min) / 2.0,
        (Some(lo), None, _, Some(max)) => lo + (max - lo) / 2.0,
        (_, _, Some(min), Some(max)) => (min + max) / 2.0,
        (_, _, Some(min), None) => min + 100.0,
        (_, _, None, Some(max)) => max - 100.0,
        (_, _, None, None) => 0.0,
    }
}

/// The walk's bounds: the model's range, or a band around the nominal value when it has none.
fn walk_range(def: &PointDef, nominal: f64) -> (f64, f64) {
    let band = nominal.abs().max(10.0);
    let lo = def.spec.min.unwrap_or(nominal - band);
    let hi = def.spec.max.unwrap_or(nominal + band);
    if lo <= hi { (lo, hi) } else { (hi, lo) }
}

fn counter_behaviour(def: &PointDef, rng: &mut StdRng) -> Behaviour {
    let exact = def.spec.unit.as_deref() == Some("s");
    let start = def.spec.min.unwrap_or(0.0) + if exact { 0.0 } else { rng.random_range(100.0..10_000.0) };
    Behaviour::Counter { acc: start, rate_per_s: rng.random_range(0.5..5.0), exact, max: def.spec.max }
}

fn states_behaviour(def: &PointDef) -> Behaviour {
    let keys: Vec<String> = match &def.spec.enum_labels {
        Some(labels) if !labels.is_empty() => labels.iter().map(|(k, _)| k.to_owned()).collect(),
        _ => vec!["0".into(), "1".into()],
    };
    let states: Vec<PointV> = keys.iter().map(|k| state_value(def.spec.value_type, k)).collect();
    // "1" is the healthy state of most two-state points (link up, breaker closed, running).
    let normal = keys.iter().position(|k| k == "1").unwrap_or(0);
    Behaviour::States { states, normal, current: normal }
}

/// An enum key as the value a point of `value_type` sends.
pub fn state_value(value_type: ValueType, key: &str) -> PointV {
    match value_type {
        ValueType::Bool => PointV::Bool(matches!(key, "1" | "true")),
        ValueType::Int | ValueType::Float => key.parse::<f64>().map_or_else(|_| PointV::Text(key.to_owned()), PointV::Number),
        _ => PointV::Text(key.to_owned()),
    }
}

/// Another state than `normal`; with many states the last (usually "fault") is left out.
fn abnormal_state(len: usize, normal: usize, rng: &mut StdRng) -> usize {
    let usable = if len > 2 { len - 1 } else { len };
    let others: Vec<usize> = (0..usable).filter(|i| *i != normal).collect();
    if others.is_empty() {
        return normal;
    }
    others[rng.random_range(0..others.len())]
}

fn held_start(def: &PointDef, resolution: f64) -> f64 {
    let zero_fits = def.spec.min.is_none_or(|m| m <= 0.0) && def.spec.max.is_none_or(|m| m >= 0.0);
    if zero_fits { 0.0 } else { round_to(nominal(def), resolution) }
}

/// Equal as point values: 1 and 1.0 are the same state.
pub fn same_value(a: &PointV, b: &PointV) -> bool {
    match (a, b) {
        (PointV::Number(x), PointV::Number(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ModelSet;
    use rand::SeedableRng;

    fn point(pk: &str, pid: &str) -> PointDef {
        let set = ModelSet::builtin();
        set.get(pk).unwrap().model().point(pid).unwrap().clone()
    }

    #[test]
    fn analog_stays_in_range_and_starts_near_nominal() {
        let mut rng = StdRng::seed_from_u64(1);
        for (pk, pid) in [("PK-METER-3P", "Ua"), ("PK-METER-3P", "F"), ("PK-METER-3P", "PF"), ("PK-PCS-100", "SOC"), ("PK-GW-01", "rssi4g")] {
            let def = point(pk, pid);
            let mut p = PointSim::new(&def, 0, &mut rng);
            if pid == "Ua" {
                assert_eq!(p.value, PointV::Number(230.0));
            }
            let (min, max) = (def.spec.min.unwrap(), def.spec.max.unwrap());
            for i in 1..5_000 {
                p.advance(i * 5_000, 5_000, &mut rng);
                let v = p.value.as_f64().unwrap();
                assert!((min..=max).contains(&v), "{pid} {v}");
                if def.spec.value_type == ValueType::Int {
                    assert_eq!(v.fract(), 0.0);
                }
            }
        }
    }

    #[test]
    fn accumulators_never_go_back() {
        let mut rng = StdRng::seed_from_u64(2);
        let def = point("PK-GW-01", "uptime");
        let mut p = PointSim::new(&def, 0, &mut rng);
        let mut last = p.value.as_f64().unwrap();
        for i in 1..1_000 {
            p.advance(i * 1_300, 1_000, &mut rng);
            let v = p.value.as_f64().unwrap();
            assert!(v >= last, "{v} < {last}");
            last = v;
        }
        assert!((1_290.0..=1_300.0).contains(&last), "uptime counts seconds: {last}");
        let mut generic = def.clone();
        generic.spec.unit = Some("kWh".into());
        generic.spec.value_type = ValueType::Float;
        let mut p = PointSim::new(&generic, 0, &mut rng);
        let mut last = p.value.as_f64().unwrap();
        for i in 1..1_000 {
            p.advance(i * 200, 200, &mut rng);
            let v = p.value.as_f64().unwrap();
            assert!(v >= last);
            last = v;
        }
    }

    #[test]
    fn digital_points_change_now_and_then_but_not_writable_ones() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut link = PointSim::new(&point("PK-GW-01", "link4g"), 0, &mut rng);
        assert_eq!(link.value, PointV::Number(1.0));
        let changes = (1..2_000).filter(|i| link.advance(i * 5_000, 5_000, &mut rng)).count();
        assert!(changes > 10, "{changes}");
        let mut breaker = PointSim::new(&point("PK-PCS-100", "gridSwitch"), 0, &mut rng);
        assert!((1..2_000).all(|i| !breaker.advance(i * 5_000, 5_000, &mut rng)));
        breaker.set(PointV::Number(0.0), 1);
        assert_eq!(breaker.value, PointV::Number(0.0));
    }

    #[test]
    fn excursions_cross_thresholds_within_a_few_minutes() {
        let mut rng = StdRng::seed_from_u64(4);
        let def = point("PK-METER-3P", "Ua");
        let mut crossed = 0;
        for _ in 0..20 {
            let mut p = PointSim::new(&def, 0, &mut rng);
            // Two hours of 5 s samples: every point should wander past a threshold at least once.
            if (1..1_440).any(|i| {
                p.advance(i * 5_000, 5_000, &mut rng);
                let v = p.value.as_f64().unwrap();
                !(187.0..=253.0).contains(&v)
            }) {
                crossed += 1;
            }
        }
        assert!(crossed >= 15, "{crossed}/20");
    }

    #[test]
    fn rounding_is_clean() {
        assert_eq!(round_to(230.123_456, 0.01), 230.12);
        assert_eq!(round_to(49.987, 0.01).to_string(), "49.99");
        assert_eq!(round_to(0.95432, 0.001).to_string(), "0.954");
        assert_eq!(round_to(-61.4, 1.0), -61.0);
        assert_eq!(counter_value(12.999, 1.0), 12.0);
    }
}
