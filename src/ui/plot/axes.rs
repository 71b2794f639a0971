//! The plot's axes: time on X (grid at round local times, labels in the laptop's time), numbers
//! or enum labels on Y, and the mapping that lets series of several units share one plot, each
//! with its own axis.

use egui_plot::{GridInput, GridMark};

use crate::ui::format::{format_local, format_number, format_time_of_day, local_offset_secs};

/// Grid steps of the time axis, ms: round seconds, minutes, hours and days.
const TIME_STEPS_MS: [f64; 26] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1_800e3, 3_600e3, 7_200e3,
    21_600e3, 43_200e3, 86_400e3,
];

/// The first step of the list at or above `at_least` that `step` divides: the next, stronger
/// level of grid lines.
fn coarser(step: f64, at_least: f64) -> f64 {
    TIME_STEPS_MS.iter().copied().find(|s| *s >= at_least && (s / step).fract().abs() < 1e-9).unwrap_or(at_least)
}

/// Marks at round local times: the step just above `base_step_size`, and two coarser levels
/// (each at least four times the one below, and a multiple of it) drawn stronger and labelled.
pub fn time_grid(input: GridInput) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    if !(min.is_finite() && max.is_finite()) || max <= min || input.base_step_size <= 0.0 {
        return Vec::new();
    }
    let fine = TIME_STEPS_MS.iter().copied().find(|s| *s >= input.base_step_size).unwrap_or(input.base_step_size);
    let middle = coarser(fine, fine * 4.0);
    let coarse = coarser(middle, middle * 4.0);
    let offset_ms = f64::from(local_offset_secs(((min + max) / 2.0) as i64)) * 1000.0;
    let mut marks: Vec<GridMark> = Vec::new();
    for step in [coarse, middle, fine] {
        let start = ((min + offset_ms) / step).ceil() as i64;
        let end = ((max + offset_ms) / step).floor() as i64;
        // A bounded number of marks whatever the zoom.
        if end - start > 2_000 {
            continue;
        }
        for k in start..=end {
            let value = k as f64 * step - offset_ms;
            if !marks.iter().any(|m| (m.value - value).abs() < step * 0.1) {
                marks.push(GridMark { value, step_size: step });
            }
        }
    }
    marks
}

/// A time tick's label: as precise as its grid step asks (`14:05`, `14:05:10`, `14:05:10.250`),
/// the date with it on day steps.
pub fn time_label(mark: GridMark) -> String {
    let ms = mark.value.round() as i64;
    let full = format_time_of_day(ms);
    if mark.step_size >= 86_400e3 {
        format_local(ms).chars().take(10).collect()
    } else if mark.step_size >= 60e3 {
        full.chars().take(5).collect()
    } else if mark.step_size >= 1e3 {
        full.chars().take(8).collect()
    } else {
        full
    }
}

/// Where the values of one unit sit on a plot shared with other units: `lo` at 0, `hi` at 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitScale {
    pub lo: f64,
    pub hi: f64,
}

impl UnitScale {
    /// Round bounds around `min..=max` that split into four round steps, so every unit's axis
    /// labels fall on the same grid lines.
    pub fn around(min: f64, max: f64) -> UnitScale {
        let (min, max) = if min.is_finite() && max.is_finite() && min <= max { (min, max) } else { (0.0, 1.0) };
        let span = if max - min > f64::EPSILON * max.abs().max(1.0) { max - min } else { min.abs().max(1.0) * 0.1 };
        let mut step = nice_step(span / 4.0);
        loop {
            let lo = (min / step).floor() * step;
            if lo + 4.0 * step >= max || step > span * 100.0 {
                return UnitScale { lo, hi: lo + 4.0 * step };
            }
            step = nice_step(step * 1.01);
        }
    }

    pub fn to_plot(&self, value: f64) -> f64 {
        (value - self.lo) / (self.hi - self.lo)
    }

    pub fn from_plot(&self, y: f64) -> f64 {
        self.lo + y * (self.hi - self.lo)
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw * (1.0 - 1e-12)).unwrap_or(10.0 * power)
}

/// Y grid of ordinary values on 1-2-5 steps, so a short chart still gets a few labels (the
/// default's powers of ten leave one).
pub fn value_grid(input: GridInput) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    if !(min.is_finite() && max.is_finite()) || max <= min || input.base_step_size <= 0.0 {
        return Vec::new();
    }
    let fine = nice_125(input.base_step_size);
    let next = |s: f64| if mantissa_is_one(s) { s * 2.0 } else if mantissa_is_two(s) { s * 5.0 } else { s * 2.0 };
    let middle = next(fine);
    let coarse = next(middle);
    let mut marks: Vec<GridMark> = Vec::new();
    for step in [coarse, middle, fine] {
        let start = (min / step).ceil() as i64;
        let end = (max / step).floor() as i64;
        if end - start > 1_000 {
            continue;
        }
        for k in start..=end {
            let value = k as f64 * step;
            if !marks.iter().any(|m| (m.value - value).abs() < step * 0.1) {
                marks.push(GridMark { value, step_size: step });
            }
        }
    }
    marks
}

fn mantissa(step: f64) -> f64 {
    step / 10f64.powf(step.log10().floor())
}

fn mantissa_is_one(step: f64) -> bool {
    (mantissa(step) - 1.0).abs() < 1e-6
}

fn mantissa_is_two(step: f64) -> bool {
    (mantissa(step) - 2.0).abs() < 1e-6
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `raw`.
fn nice_125(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|s| *s >= raw * (1.0 - 1e-12)).unwrap_or(10.0 * power)
}

/// Grid of a shared plot: quarters of each unit's range (and finer when zoomed in).
pub fn quarter_grid(input: GridInput) -> Vec<GridMark> {
    let (min, max) = input.bounds;
    if !(min.is_finite() && max.is_finite()) || max <= min {
        return Vec::new();
    }
    let mut step = 0.25;
    while step / 2.0 >= input.base_step_size.max(1e-6) * 2.0 && step > 1e-4 {
        step /= 2.0;
    }
    let start = (min / step).ceil() as i64;
    let end = (max / step).floor() as i64;
    (start..=end.min(start + 500)).map(|k| GridMark { value: k as f64 * step, step_size: if k % 4 == 0 { 1.0 } else { step } }).collect()
}

/// A Y tick of a step series: its enum label at a listed value, nothing between them.
pub fn step_label(labels: &[(f64, String)], y: f64) -> String {
    labels.iter().find(|(v, _)| (*v - y).abs() < 1e-6).map(|(_, l)| l.clone()).unwrap_or_default()
}

/// A Y tick of an ordinary series.
pub fn value_label(y: f64) -> String {
    // Grid values carry float noise (0.30000000000000004); the step is never finer than 1e-9.
    format_number((y * 1e9).round() / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_scale_holds_its_data_in_four_round_steps() {
        let s = UnitScale::around(187.3, 241.9);
        assert!(s.lo <= 187.3 && s.hi >= 241.9, "{s:?}");
        let step = (s.hi - s.lo) / 4.0;
        assert_eq!(nice_step(step), step);
        assert!((s.from_plot(s.to_plot(230.0)) - 230.0).abs() < 1e-9);
        let flat = UnitScale::around(50.0, 50.0);
        assert!(flat.lo <= 50.0 && flat.hi >= 50.0 && flat.hi > flat.lo);
        let bad = UnitScale::around(f64::NAN, 1.0);
        assert!(bad.hi > bad.lo);
    }

    #[test]
    fn the_time_grid_falls_on_round_steps_and_stays_bounded() {
        let marks = time_grid(GridInput { bounds: (0.0, 300_000.0), base_step_size: 9_000.0 });
        assert!(!marks.is_empty() && marks.len() < 100, "{}", marks.len());
        assert!(marks.iter().all(|m| m.step_size >= 10_000.0));
        // Labelled levels are multiples of the finer ones: 10 s, 1 min, 5 min.
        let mut steps: Vec<f64> = marks.iter().map(|m| m.step_size).collect();
        steps.sort_by(f64::total_cmp);
        steps.dedup();
        assert_eq!(steps, [10_000.0, 60_000.0, 300_000.0]);
        assert!(time_grid(GridInput { bounds: (1.0, 0.0), base_step_size: 1.0 }).is_empty());
    }

    #[test]
    fn the_value_grid_steps_by_one_two_five() {
        let marks = value_grid(GridInput { bounds: (-8.5, 0.7), base_step_size: 0.6 });
        let mut steps: Vec<f64> = marks.iter().map(|m| m.step_size).collect();
        steps.sort_by(f64::total_cmp);
        steps.dedup();
        assert_eq!(steps, [1.0, 2.0, 10.0]);
        assert!(marks.iter().any(|m| m.value == -8.0));
    }

    #[test]
    fn step_ticks_read_as_their_labels() {
        let labels = vec![(0.0, "off".to_owned()), (1.0, "on".to_owned())];
        assert_eq!(step_label(&labels, 1.0), "on");
        assert_eq!(step_label(&labels, 0.5), "");
        assert_eq!(value_label(0.30000000000000004), "0.3");
    }
}
