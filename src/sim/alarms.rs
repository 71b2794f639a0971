//! Alarms from point values: an analog point's `alarm.hi`/`alarm.lo` thresholds (raised when
//! crossed, cleared `deadband` back inside) and digital points that an alarm type of the model
//! watches (raised in state 0 / false).

use crate::protocol::model::{Lang, PointDef, PointKind, ProductModel};
use crate::protocol::payload::{Alarm, AlarmState, PointV};

/// Level of alarms the model does not name.
const DEFAULT_LEVEL: u8 = 3;

/// The alarm type reported for one condition.
#[derive(Debug, Clone, PartialEq)]
struct AlarmType {
    id: String,
    level: u8,
    desc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    High,
    Low,
    State,
}

#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Threshold { hi: Option<f64>, lo: Option<f64>, deadband: f64, high: AlarmType, low: AlarmType },
    /// Raised while the point is in state 0 / false.
    State(AlarmType),
}

/// Watches one point of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmWatch {
    pub sub: String,
    pub pid: String,
    rule: Rule,
    active: Option<(Side, String)>,
}

impl AlarmWatch {
    /// The watch for point `def` of a device of `model`, when anything watches it.
    pub fn for_point(sub: &str, def: &PointDef, model: &ProductModel) -> Option<AlarmWatch> {
        let types: Vec<(Side, AlarmType)> = model
            .alarms
            .iter()
            .filter(|a| a.pid.as_deref() == Some(def.id.as_str()))
            .map(|a| {
                let name = a.name.get(Lang::En);
                let alarm_type = AlarmType { id: a.id.clone(), level: a.level, desc: (!name.is_empty()).then(|| name.to_owned()) };
                (side_of(&a.id), alarm_type)
            })
            .collect();
        let rule = match (def.kind, &def.alarm) {
            (PointKind::Analog, Some(alarm)) if alarm.hi.is_some() || alarm.lo.is_some() => {
                let pick = |side: Side, suffix: &str| {
                    let named = types.iter().find(|(s, _)| *s == side).map(|(_, t)| t.clone());
                    // A single type that says no direction (frequencyDeviation) covers both.
                    let neutral = types.iter().find(|(s, _)| *s == Side::State).map(|(_, t)| t.clone());
                    named.or(neutral).unwrap_or_else(|| AlarmType { id: format!("{}{suffix}", def.id), level: DEFAULT_LEVEL, desc: None })
                };
                Rule::Threshold {
                    hi: alarm.hi,
                    lo: alarm.lo,
                    deadband: alarm.deadband.unwrap_or(0.0).max(0.0),
                    high: pick(Side::High, "High"),
                    low: pick(Side::Low, "Low"),
                }
            }
            (PointKind::Digital, _) => Rule::State(types.first()?.1.clone()),
            _ => return None,
        };
        Some(AlarmWatch { sub: sub.to_owned(), pid: def.id.clone(), rule, active: None })
    }

    /// The id of the alarm this watch has raised and not cleared.
    #[cfg(test)]
    pub fn active_id(&self) -> Option<&str> {
        self.active.as_ref().map(|(_, id)| id.as_str())
    }

    /// Feeds a new value sampled at `ts`; returns the alarms cleared and raised, in that order.
    /// `seq` numbers the alarm ids of this simulator.
    pub fn check(&mut self, value: &PointV, ts: i64, seq: &mut u64) -> Vec<Alarm> {
        let mut events = Vec::new();
        let wanted = self.condition(value);
        if let Some((side, id)) = self.active.clone()
            && wanted != Some(side)
            && self.cleared(side, value)
        {
            events.push(self.alarm(side, id, AlarmState::Cleared, value, ts));
            self.active = None;
        }
        if self.active.is_none()
            && let Some(side) = wanted
        {
            *seq += 1;
            let id = format!("{}.{}.{}", self.sub, self.pid, seq);
            events.push(self.alarm(side, id.clone(), AlarmState::Raised, value, ts));
            self.active = Some((side, id));
        }
        events
    }

    /// Which condition `value` is in, before hysteresis.
    fn condition(&self, value: &PointV) -> Option<Side> {
        match &self.rule {
            Rule::Threshold { hi, lo, .. } => {
                let v = value.as_f64()?;
                if hi.is_some_and(|h| v > h) {
                    Some(Side::High)
                } else if lo.is_some_and(|l| v < l) {
                    Some(Side::Low)
                } else {
                    None
                }
            }
            Rule::State(_) => is_off(value).then_some(Side::State),
        }
    }

    /// True when an alarm on `side` may clear: back inside by the deadband.
    fn cleared(&self, side: Side, value: &PointV) -> bool {
        match (&self.rule, side) {
            (Rule::Threshold { hi: Some(h), deadband, .. }, Side::High) => value.as_f64().is_some_and(|v| v <= h - deadband),
            (Rule::Threshold { lo: Some(l), deadband, .. }, Side::Low) => value.as_f64().is_some_and(|v| v >= l + deadband),
            (Rule::State(_), _) => !is_off(value),
            _ => true,
        }
    }

    fn alarm(&self, side: Side, alarm_id: String, state: AlarmState, value: &PointV, ts: i64) -> Alarm {
        let (alarm_type, threshold) = match (&self.rule, side) {
            (Rule::Threshold { hi, high, .. }, Side::High) => (high, *hi),
            (Rule::Threshold { lo, low, .. }, _) => (low, *lo),
            (Rule::State(t), _) => (t, None),
        };
        Alarm {
            alarm_id,
            sub: self.sub.clone(),
            pid: Some(self.pid.clone()),
            alarm_type: alarm_type.id.clone(),
            level: alarm_type.level,
            state,
            value: Some(value.clone()),
            threshold,
            ts,
            desc: alarm_type.desc.clone(),
        }
    }
}

/// Which way an alarm type points, from its id (`overVoltage`, `socLow`, `link4gDown`).
fn side_of(id: &str) -> Side {
    let id = id.to_ascii_lowercase();
    if ["under", "low"].iter().any(|w| id.contains(w)) {
        Side::Low
    } else if ["over", "high"].iter().any(|w| id.contains(w)) {
        Side::High
    } else {
        Side::State
    }
}

fn is_off(value: &PointV) -> bool {
    match value {
        PointV::Bool(b) => !b,
        PointV::Number(n) => *n == 0.0,
        PointV::Text(t) => t == "0" || t == "false",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::model::ModelSet;

    fn watch(pk: &str, pid: &str) -> AlarmWatch {
        let set = ModelSet::builtin();
        let model = set.get(pk).unwrap().model();
        AlarmWatch::for_point("dev-1", model.point(pid).unwrap(), model).unwrap()
    }

    #[test]
    fn threshold_raised_then_cleared_by_deadband() {
        let mut w = watch("PK-METER-3P", "Ua");
        let mut seq = 0;
        assert!(w.check(&PointV::Number(240.0), 1, &mut seq).is_empty());
        let raised = w.check(&PointV::Number(255.0), 2, &mut seq);
        assert_eq!(raised.len(), 1);
        assert_eq!(raised[0].state, AlarmState::Raised);
        assert_eq!(raised[0].alarm_type, "overVoltage");
        assert_eq!(raised[0].threshold, Some(253.0));
        assert_eq!(raised[0].level, 2);
        // Inside the threshold but within the deadband: still raised.
        assert!(w.check(&PointV::Number(252.5), 3, &mut seq).is_empty());
        assert!(w.active_id().is_some());
        let cleared = w.check(&PointV::Number(251.9), 4, &mut seq);
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].state, AlarmState::Cleared);
        assert_eq!(cleared[0].alarm_id, raised[0].alarm_id);
        assert!(w.active_id().is_none());
        // Straight from high to low: cleared, then the other side raised.
        w.check(&PointV::Number(260.0), 5, &mut seq);
        let both = w.check(&PointV::Number(150.0), 6, &mut seq);
        assert_eq!(both.iter().map(|a| (a.state, a.alarm_type.as_str())).collect::<Vec<_>>(),
                   [(AlarmState::Cleared, "overVoltage"), (AlarmState::Raised, "underVoltage")]);
    }

    #[test]
    fn types_follow_the_model_or_fall_back() {
        let mut w = watch("PK-METER-3P", "F");
        let mut seq = 0;
        assert_eq!(w.check(&PointV::Number(49.0), 1, &mut seq)[0].alarm_type, "frequencyDeviation");
        let mut w = watch("PK-GW-01", "cpuLoad");
        assert_eq!(w.check(&PointV::Number(95.0), 1, &mut seq)[0].alarm_type, "cpuLoadHigh");
        let mut w = watch("PK-GW-01", "link4g");
        let raised = w.check(&PointV::Number(0.0), 1, &mut seq);
        assert_eq!(raised[0].alarm_type, "link4gDown");
        assert_eq!(w.check(&PointV::Number(1.0), 2, &mut seq)[0].state, AlarmState::Cleared);
        let set = ModelSet::builtin();
        let meter = set.get("PK-METER-3P").unwrap().model();
        assert!(AlarmWatch::for_point("m", meter.point("Ia").unwrap(), meter).is_none());
    }
}
