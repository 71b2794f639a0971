//! Consumption per interval from a period's accumulated meter readings: the difference of
//! consecutive readings of the same (sub-device, register) in freeze-time order. Pure, no egui,
//! so the rules (counter resets, unordered input, gaps, a single reading) are unit-tested.

use std::collections::BTreeMap;

/// One reading of a period, as the table shows it and the chart counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingRow {
    pub sub: String,
    pub register: String,
    /// The register's name from the model, else its id.
    pub name: String,
    pub unit: String,
    /// Freeze time.
    pub ts: i64,
    pub value: f64,
}

/// The energy consumed between two consecutive readings of one register.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Freeze time of the earlier reading.
    pub start_ms: i64,
    /// Freeze time of the later reading.
    pub end_ms: i64,
    pub consumption: f64,
    /// Longer than one and a half typical intervals of the register: readings are missing
    /// inside it, so the bar covers more than one freeze period.
    pub spans_gap: bool,
}

/// One register of one sub-device over the period.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterConsumption {
    pub sub: String,
    pub register: String,
    /// The model's name, else the register id.
    pub name: String,
    pub unit: String,
    /// Readings used (finite, one per freeze time).
    pub readings: usize,
    pub intervals: Vec<Interval>,
}

impl RegisterConsumption {
    /// `meter-1 · Import active energy [kWh]`: the legend's text.
    pub fn legend(&self) -> String {
        if self.unit.is_empty() { format!("{} · {}", self.sub, self.name) } else { format!("{} · {} [{}]", self.sub, self.name, self.unit) }
    }
}

/// A reading lower than the one before it: the counter was reset or the meter replaced. No
/// consumption is shown for that interval (it is not known), never a negative one.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterReset {
    pub sub: String,
    pub register: String,
    pub name: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub before: f64,
    pub after: f64,
}

/// The consumption of a period, by register (ordered by sub-device, then register).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumption {
    pub registers: Vec<RegisterConsumption>,
    pub resets: Vec<CounterReset>,
}

impl Consumption {
    /// The number of intervals with a consumption, over all registers.
    pub fn intervals(&self) -> usize {
        self.registers.iter().map(|r| r.intervals.len()).sum()
    }

    /// The number of intervals that span missing readings.
    pub fn gaps(&self) -> usize {
        self.registers.iter().flat_map(|r| &r.intervals).filter(|i| i.spans_gap).count()
    }
}

/// The consumption per interval of `rows` (any order). Readings that are not finite numbers are
/// skipped; a second reading at the same freeze time as another of its register is ignored
/// (the first one counts).
pub fn consumption(rows: &[ReadingRow]) -> Consumption {
    let mut by_register: BTreeMap<(&str, &str), Vec<&ReadingRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.value.is_finite()) {
        by_register.entry((&row.sub, &row.register)).or_default().push(row);
    }
    let mut out = Consumption::default();
    for ((sub, register), mut readings) in by_register {
        // Stable: of two readings at one time, the first given stays first and is kept.
        readings.sort_by_key(|r| r.ts);
        readings.dedup_by_key(|r| r.ts);
        let typical = typical_interval_ms(&readings);
        let mut register_out = RegisterConsumption {
            sub: sub.to_owned(),
            register: register.to_owned(),
            name: readings.first().map_or_else(|| register.to_owned(), |r| r.name.clone()),
            unit: readings.first().map(|r| r.unit.clone()).unwrap_or_default(),
            readings: readings.len(),
            intervals: Vec::new(),
        };
        for pair in readings.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let difference = after.value - before.value;
            if difference < 0.0 {
                out.resets.push(CounterReset {
                    sub: sub.to_owned(),
                    register: register.to_owned(),
                    name: register_out.name.clone(),
                    from_ms: before.ts,
                    to_ms: after.ts,
                    before: before.value,
                    after: after.value,
                });
                continue;
            }
            let length = after.ts - before.ts;
            let spans_gap = typical.is_some_and(|t| length.saturating_mul(2) > t.saturating_mul(3));
            register_out.intervals.push(Interval { start_ms: before.ts, end_ms: after.ts, consumption: difference, spans_gap });
        }
        out.registers.push(register_out);
    }
    out
}

/// The lower median of the intervals between consecutive readings: the freeze period as the
/// readings show it (robust to a few missing readings).
fn typical_interval_ms(readings: &[&ReadingRow]) -> Option<i64> {
    let mut lengths: Vec<i64> = readings.windows(2).map(|p| p[1].ts - p[0].ts).collect();
    lengths.sort_unstable();
    lengths.get(lengths.len().checked_sub(1)? / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sub: &str, register: &str, ts: i64, value: f64) -> ReadingRow {
        ReadingRow { sub: sub.into(), register: register.into(), name: format!("{register} name"), unit: "kWh".into(), ts, value }
    }

    fn heights(c: &RegisterConsumption) -> Vec<(i64, i64, f64)> {
        c.intervals.iter().map(|i| (i.start_ms, i.end_ms, i.consumption)).collect()
    }

    #[test]
    fn consumption_is_the_difference_of_consecutive_readings_in_time_order() {
        // Given out of order, two registers of two sub-devices mixed.
        let rows = [row("m1", "EpImp", 3_000, 12.5), row("m1", "EpImp", 1_000, 10.0), row("m2", "EpImp", 1_000, 5.0), row("m1", "EpImp", 2_000, 11.0), row("m1", "EqImp", 1_000, 1.0), row("m2", "EpImp", 2_000, 5.0)];
        let c = consumption(&rows);
        let ids: Vec<_> = c.registers.iter().map(|r| (r.sub.as_str(), r.register.as_str())).collect();
        assert_eq!(ids, [("m1", "EpImp"), ("m1", "EqImp"), ("m2", "EpImp")]);
        assert_eq!(heights(&c.registers[0]), [(1_000, 2_000, 1.0), (2_000, 3_000, 1.5)]);
        assert_eq!(c.registers[0].legend(), "m1 · EpImp name [kWh]");
        // One reading: no interval, but the register is there with its count.
        assert_eq!((c.registers[1].readings, c.registers[1].intervals.len()), (1, 0));
        // No consumption is a bar of zero, not a missing one.
        assert_eq!(heights(&c.registers[2]), [(1_000, 2_000, 0.0)]);
        assert!(c.resets.is_empty());
        assert_eq!((c.intervals(), c.gaps()), (3, 0));
    }

    #[test]
    fn a_reading_that_goes_down_is_a_reset_with_no_bar_and_counting_resumes_after_it() {
        let rows = [row("m1", "EpImp", 1_000, 100.0), row("m1", "EpImp", 2_000, 101.0), row("m1", "EpImp", 3_000, 0.5), row("m1", "EpImp", 4_000, 1.5)];
        let c = consumption(&rows);
        assert_eq!(heights(&c.registers[0]), [(1_000, 2_000, 1.0), (3_000, 4_000, 1.0)]);
        assert_eq!(c.resets.len(), 1);
        let reset = &c.resets[0];
        assert_eq!((reset.from_ms, reset.to_ms, reset.before, reset.after), (2_000, 3_000, 101.0, 0.5));
        assert!(c.registers.iter().flat_map(|r| &r.intervals).all(|i| i.consumption >= 0.0));
    }

    #[test]
    fn missing_readings_make_a_longer_interval_marked_as_a_gap() {
        // Every 15 min, then 45 min without a reading.
        let q = 900_000;
        let rows = [row("m1", "EpImp", 0, 1.0), row("m1", "EpImp", q, 2.0), row("m1", "EpImp", 2 * q, 3.0), row("m1", "EpImp", 5 * q, 6.0), row("m1", "EpImp", 6 * q, 7.0)];
        let c = consumption(&rows);
        let gaps: Vec<_> = c.registers[0].intervals.iter().map(|i| i.spans_gap).collect();
        assert_eq!(gaps, [false, false, true, false]);
        assert_eq!(c.registers[0].intervals[2].consumption, 3.0);
        assert_eq!(c.gaps(), 1);
    }

    #[test]
    fn empty_single_duplicate_and_non_finite_readings() {
        assert_eq!(consumption(&[]), Consumption::default());
        let single = consumption(&[row("m1", "EpImp", 1_000, 1.0)]);
        assert_eq!((single.registers.len(), single.intervals()), (1, 0));
        // The same freeze time twice: the first counts; NaN and infinity are skipped.
        let rows = [row("m1", "EpImp", 1_000, 1.0), row("m1", "EpImp", 1_000, 9.0), row("m1", "EpImp", 2_000, f64::NAN), row("m1", "EpImp", 3_000, 2.0), row("m1", "EpImp", 4_000, f64::INFINITY)];
        let c = consumption(&rows);
        assert_eq!(heights(&c.registers[0]), [(1_000, 3_000, 1.0)]);
        assert_eq!(c.registers[0].readings, 2);
    }
}
