//! The simulated station's physics, without I/O: two PCS units on one DC bus fed by a BMS with
//! two racks. Power follows each PCS's setpoint within the BMS's limits, the racks' state of
//! charge integrates the DC power, and cell voltages and temperatures follow from SOC and
//! current. Seeded, so the same seed gives the same walk.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The PCS units, as named in topics.
pub const PCS_UNITS: [&str; 2] = ["pcs1", "pcs2"];
/// The BMS unit.
pub const BMS_UNIT: &str = "bms1";
/// The BMS's racks, its components.
pub const RACKS: [&str; 2] = ["rack1", "rack2"];
/// Cells reported per rack: the rack's monitored module.
pub(super) const CELLS_REPORTED: usize = 16;
/// Cells in series in a rack: its voltage is their mean times this.
const CELLS_IN_SERIES: f64 = 240.0;
const RACK_CAPACITY_KWH: f64 = 500.0;
/// Rated active power of each PCS, kW.
pub(super) const PCS_RATED_KW: f64 = 250.0;
pub(super) const SOC_MIN: f64 = 5.0;
pub(super) const SOC_MAX: f64 = 95.0;
/// Within this many % of SOC_MIN (SOC_MAX) the BMS tapers its discharge (charge) limit to 0.
const LIMIT_TAPER_SOC: f64 = 5.0;
/// How fast a running PCS moves towards its setpoint, kW/s (full power in 2 s).
const RAMP_KW_PER_S: f64 = 125.0;
/// AC-DC conversion efficiency of a PCS.
const EFFICIENCY: f64 = 0.97;
/// Internal resistance of one cell, Ω.
const CELL_RESISTANCE: f64 = 0.000_25;
const NOMINAL_PHASE_VOLTAGE: f64 = 230.0;
const NOMINAL_FREQUENCY: f64 = 50.0;
const AMBIENT_C: f64 = 25.0;

/// One power conversion system.
#[derive(Debug, Clone)]
pub(super) struct Pcs {
    pub(super) running: bool,
    /// Active power setpoint, kW; positive discharges.
    pub(super) pset: f64,
    /// Active power now, kW; positive discharges.
    pub(super) p: f64,
    pub(super) q: f64,
    pub(super) phase_voltages: [f64; 3],
    pub(super) phase_currents: [f64; 3],
    /// Per-phase current imbalance, fixed.
    imbalance: [f64; 3],
    pub(super) dc_voltage: f64,
    pub(super) dc_current: f64,
    pub(super) module_temp: f64,
    /// Energy charged and discharged since commissioning, kWh.
    pub(super) energy_charged: f64,
    pub(super) energy_discharged: f64,
}

/// One battery rack of the BMS.
#[derive(Debug, Clone)]
pub(super) struct Rack {
    pub(super) soc: f64,
    pub(super) soh: f64,
    pub(super) voltage: f64,
    /// Positive while discharging, A.
    pub(super) current: f64,
    /// The rack's mean temperature, °C.
    temp: f64,
    /// Each reported cell's fixed deviation from the rack: voltage (V) and temperature (°C).
    cell_offsets: Vec<(f64, f64)>,
    /// The reported cells now: voltage (V) and temperature (°C).
    pub(super) cells: Vec<(f64, f64)>,
}

impl Rack {
    pub(super) fn cell_voltage_range(&self) -> (f64, f64) {
        range(self.cells.iter().map(|c| c.0))
    }

    pub(super) fn cell_temp_range(&self) -> (f64, f64) {
        range(self.cells.iter().map(|c| c.1))
    }
}

/// The whole station.
#[derive(Debug)]
pub(super) struct Station {
    pub(super) pcs: Vec<Pcs>,
    pub(super) racks: Vec<Rack>,
    pub(super) frequency: f64,
    rng: StdRng,
}

impl Station {
    /// A station in operation: SOC between 40 and 70 %, pcs1 discharging, pcs2 charging.
    pub(super) fn new(seed: u64) -> Station {
        let mut rng = StdRng::seed_from_u64(seed);
        let soc = rng.random_range(40.0..70.0);
        let racks = RACKS
            .iter()
            .map(|_| {
                let cell_offsets = (0..CELLS_REPORTED).map(|_| (rng.random_range(-0.006..0.006), rng.random_range(-1.2..1.2))).collect();
                Rack {
                    soc: soc + rng.random_range(-1.5..1.5),
                    soh: rng.random_range(96.0..99.5),
                    voltage: 0.0,
                    current: 0.0,
                    temp: AMBIENT_C + rng.random_range(1.0..4.0),
                    cell_offsets,
                    cells: Vec::new(),
                }
            })
            .collect();
        let pcs = [120.0, -60.0]
            .into_iter()
            .map(|pset| Pcs {
                running: true,
                pset,
                p: pset,
                q: 0.0,
                phase_voltages: [NOMINAL_PHASE_VOLTAGE; 3],
                phase_currents: [0.0; 3],
                imbalance: [rng.random_range(-0.01..0.01), rng.random_range(-0.01..0.01), rng.random_range(-0.01..0.01)],
                dc_voltage: 0.0,
                dc_current: 0.0,
                module_temp: AMBIENT_C + 10.0,
                energy_charged: rng.random_range(5_000.0..50_000.0),
                energy_discharged: rng.random_range(5_000.0..50_000.0),
            })
            .collect();
        let mut station = Station { pcs, racks, frequency: NOMINAL_FREQUENCY, rng };
        // The first step gives the racks their voltages, the second the PCS units their DC side.
        station.step(0.0);
        station.step(0.0);
        station
    }

    /// The BMS's state of charge: the racks' mean (they hold the same energy).
    pub(super) fn soc(&self) -> f64 {
        mean(self.racks.iter().map(|r| r.soc))
    }

    pub(super) fn soh(&self) -> f64 {
        self.racks.iter().map(|r| r.soh).fold(f64::INFINITY, f64::min)
    }

    /// What the BMS lets the PCS units discharge together, kW: tapered to 0 at SOC_MIN.
    pub(super) fn discharge_limit_kw(&self) -> f64 {
        self.rated_kw() * ((self.soc() - SOC_MIN) / LIMIT_TAPER_SOC).clamp(0.0, 1.0)
    }

    /// What the BMS lets the PCS units charge together, kW: tapered to 0 at SOC_MAX.
    pub(super) fn charge_limit_kw(&self) -> f64 {
        self.rated_kw() * ((SOC_MAX - self.soc()) / LIMIT_TAPER_SOC).clamp(0.0, 1.0)
    }

    fn rated_kw(&self) -> f64 {
        PCS_RATED_KW * self.pcs.len() as f64
    }

    /// Advances the station by `dt_s` seconds.
    pub(super) fn step(&mut self, dt_s: f64) {
        let dt_s = if dt_s.is_finite() { dt_s.max(0.0) } else { 0.0 };
        let units = self.pcs.len().max(1) as f64;
        let (dis_share, chg_share) = (self.discharge_limit_kw() / units, self.charge_limit_kw() / units);
        self.frequency += (NOMINAL_FREQUENCY - self.frequency) * lag(dt_s, 10.0) + noise(&mut self.rng, 0.004);
        self.frequency = self.frequency.clamp(NOMINAL_FREQUENCY - 0.2, NOMINAL_FREQUENCY + 0.2);
        let dc_bus = mean(self.racks.iter().map(|r| r.voltage)).max(1.0);
        let mut dc_power_kw = 0.0;
        for pcs in &mut self.pcs {
            step_pcs(pcs, dt_s, (dis_share, chg_share), &mut self.rng);
            pcs.dc_voltage = dc_bus;
            let dc = if pcs.p >= 0.0 { pcs.p / EFFICIENCY } else { pcs.p * EFFICIENCY };
            pcs.dc_current = dc * 1000.0 / dc_bus;
            dc_power_kw += dc;
        }
        let rack_share_kw = dc_power_kw / self.racks.len().max(1) as f64;
        for rack in &mut self.racks {
            step_rack(rack, rack_share_kw, dt_s, &mut self.rng);
        }
    }
}

fn step_pcs(pcs: &mut Pcs, dt_s: f64, (discharge_limit, charge_limit): (f64, f64), rng: &mut StdRng) {
    for u in &mut pcs.phase_voltages {
        *u += (NOMINAL_PHASE_VOLTAGE - *u) * lag(dt_s, 20.0) + noise(rng, 0.3);
        *u = u.clamp(NOMINAL_PHASE_VOLTAGE * 0.95, NOMINAL_PHASE_VOLTAGE * 1.05);
    }
    if pcs.running {
        let target = pcs.pset.clamp(-charge_limit, discharge_limit);
        let max_move = RAMP_KW_PER_S * dt_s;
        pcs.p += (target - pcs.p).clamp(-max_move, max_move);
        // A real PCS holds its setpoint only within a fraction of a kW.
        if pcs.p.abs() > 1.0 {
            pcs.p += noise(rng, 0.2);
        }
        pcs.q += -pcs.q * lag(dt_s, 5.0) + noise(rng, 0.4);
        pcs.q = pcs.q.clamp(-5.0, 5.0);
    } else {
        // Stopping opens the contactor: no power at once.
        pcs.p = 0.0;
        pcs.q = 0.0;
    }
    pcs.energy_discharged += pcs.p.max(0.0) * dt_s / 3600.0;
    pcs.energy_charged += (-pcs.p).max(0.0) * dt_s / 3600.0;
    let apparent_kva = pcs.p.hypot(pcs.q);
    for ((current, voltage), imbalance) in pcs.phase_currents.iter_mut().zip(pcs.phase_voltages).zip(pcs.imbalance) {
        *current = apparent_kva * 1000.0 / (3.0 * voltage) * (1.0 + imbalance);
    }
    let heat_target = AMBIENT_C + 8.0 + 22.0 * pcs.p.abs() / PCS_RATED_KW;
    pcs.module_temp += (heat_target - pcs.module_temp) * lag(dt_s, 120.0) + noise(rng, 0.02);
}

fn step_rack(rack: &mut Rack, power_kw: f64, dt_s: f64, rng: &mut StdRng) {
    rack.soc -= power_kw * dt_s / 3600.0 / RACK_CAPACITY_KWH * 100.0;
    rack.soc = rack.soc.clamp(0.0, 100.0);
    let ocv = open_circuit_voltage(rack.soc);
    // The current from the open-circuit voltage: close enough for a 0.25 mΩ cell.
    rack.current = power_kw * 1000.0 / (ocv * CELLS_IN_SERIES);
    let heat_target = AMBIENT_C + 2.0 + 8.0 * (rack.current.abs() / 200.0).min(1.5);
    rack.temp += (heat_target - rack.temp) * lag(dt_s, 300.0) + noise(rng, 0.01);
    let sag = rack.current * CELL_RESISTANCE;
    rack.cells = rack
        .cell_offsets
        .iter()
        .map(|(du, dt)| {
            let u = (ocv + du - sag + noise(rng, 0.0005)).clamp(2.5, 3.65);
            let t = rack.temp + dt + noise(rng, 0.05);
            (u, t)
        })
        .collect();
    rack.voltage = mean(rack.cells.iter().map(|c| c.0)) * CELLS_IN_SERIES;
}

/// An LFP cell's open-circuit voltage at `soc` %: a flat plateau with steep ends.
pub(super) fn open_circuit_voltage(soc: f64) -> f64 {
    let soc = soc.clamp(0.0, 100.0);
    let plateau = 3.22 + 0.12 * soc / 100.0;
    let low_knee = if soc < 10.0 { -0.25 * (10.0 - soc) / 10.0 } else { 0.0 };
    let high_knee = if soc > 90.0 { 0.08 * (soc - 90.0) / 10.0 } else { 0.0 };
    plateau + low_knee + high_knee
}

/// The fraction a first-order lag of time constant `tau_s` moves in `dt_s`.
fn lag(dt_s: f64, tau_s: f64) -> f64 {
    1.0 - (-dt_s / tau_s).exp()
}

/// Roughly normal noise of standard deviation about `sigma`.
fn noise(rng: &mut StdRng, sigma: f64) -> f64 {
    let sum: f64 = (0..3).map(|_| rng.random_range(-1.0..1.0)).sum();
    sum * sigma
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(station: &mut Station, seconds: u32) {
        for _ in 0..seconds {
            station.step(1.0);
        }
    }

    #[test]
    fn discharging_lowers_soc_and_charging_raises_it() {
        let mut station = Station::new(1);
        for pcs in &mut station.pcs {
            pcs.pset = 200.0;
        }
        let before = station.soc();
        run(&mut station, 600);
        let after = station.soc();
        // 400 kW AC for 10 min from 1000 kWh: about 6.9 % of SOC, a little more with losses.
        assert!((6.5..7.5).contains(&(before - after)), "{before} → {after}");
        assert!(station.racks.iter().all(|r| r.current > 0.0));

        for pcs in &mut station.pcs {
            pcs.pset = -200.0;
        }
        run(&mut station, 600);
        assert!(station.soc() > after + 6.0, "{after} → {}", station.soc());
        assert!(station.racks.iter().all(|r| r.current < 0.0));
    }

    #[test]
    fn stopped_units_hold_soc_and_give_no_power() {
        let mut station = Station::new(2);
        for pcs in &mut station.pcs {
            pcs.running = false;
        }
        station.step(0.5);
        assert!(station.pcs.iter().all(|p| p.p == 0.0 && p.phase_currents == [0.0; 3]));
        let before = station.soc();
        run(&mut station, 3600);
        assert_eq!(station.soc(), before);
    }

    #[test]
    fn power_follows_the_setpoint_at_the_ramp_rate() {
        let mut station = Station::new(3);
        station.pcs[0].pset = -250.0;
        station.step(1.0);
        // From +120 kW towards -250 kW at 125 kW/s: one second gets about halfway.
        assert!((-10.0..0.0).contains(&station.pcs[0].p), "{}", station.pcs[0].p);
        run(&mut station, 3);
        assert!((station.pcs[0].p + 250.0).abs() < 2.0, "{}", station.pcs[0].p);
    }

    #[test]
    fn soc_stays_within_its_limits_and_power_stops_at_them() {
        let mut station = Station::new(4);
        for pcs in &mut station.pcs {
            pcs.pset = PCS_RATED_KW;
        }
        // Ten hours at full discharge would empty the battery five times over.
        for _ in 0..3600 {
            station.step(10.0);
            assert!((0.0..=100.0).contains(&station.soc()));
        }
        assert!(station.soc() > SOC_MIN - 0.5 && station.soc() <= SOC_MIN + 0.5, "{}", station.soc());
        assert!(station.discharge_limit_kw() < 10.0);
        assert!(station.pcs.iter().all(|p| p.p < 10.0), "{:?}", station.pcs.iter().map(|p| p.p).collect::<Vec<_>>());

        for pcs in &mut station.pcs {
            pcs.pset = -PCS_RATED_KW;
        }
        for _ in 0..3600 {
            station.step(10.0);
            assert!((0.0..=100.0).contains(&station.soc()));
        }
        assert!(station.soc() < SOC_MAX + 0.5 && station.soc() >= SOC_MAX - 0.5, "{}", station.soc());
        // A huge step or a broken clock cannot push SOC out of range either.
        station.pcs[0].pset = PCS_RATED_KW;
        station.step(1e9);
        station.step(f64::NAN);
        station.step(-5.0);
        assert!(station.racks.iter().all(|r| (0.0..=100.0).contains(&r.soc)));
    }

    #[test]
    fn cells_are_plausible_and_bracketed_by_the_rack_extremes() {
        let mut station = Station::new(5);
        run(&mut station, 30);
        for rack in &station.racks {
            assert_eq!(rack.cells.len(), CELLS_REPORTED);
            let (lo, hi) = rack.cell_voltage_range();
            assert!(2.5 <= lo && lo < hi && hi <= 3.65, "{lo} {hi}");
            assert!(hi - lo < 0.05, "cells vary around the rack's value: {lo} {hi}");
            let (tlo, thi) = rack.cell_temp_range();
            assert!(15.0 < tlo && thi < 45.0 && thi - tlo < 5.0, "{tlo} {thi}");
            assert!((700.0..850.0).contains(&rack.voltage), "{}", rack.voltage);
        }
        assert!((station.frequency - 50.0).abs() < 0.2);
        let pcs = &station.pcs[0];
        assert!((400.0..900.0).contains(&pcs.dc_voltage));
        let fresh = Station::new(6);
        assert!(fresh.pcs.iter().all(|p| (700.0..850.0).contains(&p.dc_voltage) && p.dc_current.abs() < 400.0), "a new station is consistent at once");
        assert!(pcs.phase_currents.iter().all(|i| (150.0..200.0).contains(i)), "{:?}", pcs.phase_currents);
    }

    #[test]
    fn the_same_seed_gives_the_same_walk() {
        let (mut a, mut b) = (Station::new(9), Station::new(9));
        run(&mut a, 20);
        run(&mut b, 20);
        assert_eq!(a.soc(), b.soc());
        assert_eq!(a.racks[1].cells, b.racks[1].cells);
        assert_ne!(Station::new(10).soc(), Station::new(9).soc());
    }

    #[test]
    fn ocv_is_monotonic_and_in_range() {
        let values: Vec<f64> = (0..=100).map(|s| open_circuit_voltage(f64::from(s))).collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]));
        assert!(values[0] > 2.5 && values[100] < 3.65);
    }
}
