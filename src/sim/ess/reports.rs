//! What the station reports: the `d` of each unit's and rack's `rt` message and of each PCS's
//! `param` message, with the metric names of `assets/metric-maps/ess-demo.json`.

use serde_json::{Map, Value, json};

use super::physics::{PCS_RATED_KW, SOC_MAX, SOC_MIN, Station};

/// The `mode` a PCS reports: constant active and reactive power.
const MODE: &str = "PQ";
/// `state` of a PCS (metric map: 0 stopped, 1 running, 2 fault).
const STATE_STOPPED: i64 = 0;
const STATE_RUNNING: i64 = 1;

/// `x` rounded to `decimals` places: what a device's registers would give.
fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let rounded = (x * scale).round() / scale;
    // No "-0.0" on the wire.
    if rounded == 0.0 { 0.0 } else { rounded }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `rt` of PCS `index`.
pub(super) fn pcs_realtime(station: &Station, index: usize) -> Map<String, Value> {
    let Some(pcs) = station.pcs.get(index) else { return Map::new() };
    let [ua, ub, uc] = pcs.phase_voltages;
    let [ia, ib, ic] = pcs.phase_currents;
    let apparent = pcs.p.hypot(pcs.q);
    let pf = if apparent < 0.5 { 1.0 } else { pcs.p / apparent };
    object(json!({
        "P": round(pcs.p, 1),
        "Q": round(pcs.q, 1),
        "Ua": round(ua, 1), "Ub": round(ub, 1), "Uc": round(uc, 1),
        "Ia": round(ia, 1), "Ib": round(ib, 1), "Ic": round(ic, 1),
        "Udc": round(pcs.dc_voltage, 1),
        "Idc": round(pcs.dc_current, 1),
        "F": round(station.frequency, 3),
        "PF": round(pf, 3),
        "Tmod": round(pcs.module_temp, 1),
        "state": if pcs.running { STATE_RUNNING } else { STATE_STOPPED },
        "fault": 0,
        "Pset": round(pcs.pset, 1),
        "E_chg": round(pcs.energy_charged, 1),
        "E_dis": round(pcs.energy_discharged, 1),
    }))
}

/// `rt` of the BMS unit.
pub(super) fn bms_realtime(station: &Station) -> Map<String, Value> {
    object(json!({
        "SOC": round(station.soc(), 2),
        "SOH": round(station.soh(), 1),
        "Pchg_max": round(station.charge_limit_kw(), 1),
        "Pdis_max": round(station.discharge_limit_kw(), 1),
    }))
}

/// `rt` of rack `index`, its cells included.
pub(super) fn rack_realtime(station: &Station, index: usize) -> Map<String, Value> {
    let Some(rack) = station.racks.get(index) else { return Map::new() };
    let (u_min, u_max) = rack.cell_voltage_range();
    let (t_min, t_max) = rack.cell_temp_range();
    let cells: Vec<Value> = rack.cells.iter().map(|(u, t)| json!({"U": round(*u, 3), "T": round(*t, 1)})).collect();
    object(json!({
        "SOC": round(rack.soc, 2),
        "SOH": round(rack.soh, 1),
        "U": round(rack.voltage, 1),
        "I": round(rack.current, 1),
        "Ucell_max": round(u_max, 3),
        "Ucell_min": round(u_min, 3),
        "Tcell_max": round(t_max, 1),
        "Tcell_min": round(t_min, 1),
        "cells": cells,
    }))
}

/// `param` of PCS `index`.
pub(super) fn pcs_parameters(station: &Station, index: usize) -> Map<String, Value> {
    let Some(pcs) = station.pcs.get(index) else { return Map::new() };
    object(json!({
        "Pmax": PCS_RATED_KW,
        "Pchg_max": PCS_RATED_KW,
        "Pdis_max": PCS_RATED_KW,
        "SOC_min": SOC_MIN,
        "SOC_max": SOC_MAX,
        "Pset": round(pcs.pset, 1),
        "mode": MODE,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(map: &Map<String, Value>) -> Vec<String> {
        let mut keys: Vec<String> = map.keys().cloned().collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn payloads_carry_the_metric_maps_names() {
        let station = Station::new(7);
        let pcs = keys(&pcs_realtime(&station, 0));
        let mut expected = ["P", "Q", "Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "Udc", "Idc", "F", "PF", "Tmod", "state", "fault", "Pset", "E_chg", "E_dis"];
        expected.sort_unstable();
        assert_eq!(pcs, expected);
        let bms = keys(&bms_realtime(&station));
        assert_eq!(bms, ["Pchg_max", "Pdis_max", "SOC", "SOH"]);
        let rack = rack_realtime(&station, 1);
        let cells = rack["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 16);
        assert!(cells.iter().all(|c| c["U"].is_f64() && c["T"].is_f64()));
        let param = pcs_parameters(&station, 1);
        assert_eq!(param["Pmax"], 250.0);
        assert_eq!(param["Pset"], -60.0);
        assert!(pcs_realtime(&station, 9).is_empty() && rack_realtime(&station, 9).is_empty());
    }

    #[test]
    fn rounding_drops_negative_zero() {
        assert_eq!(round(-0.04, 1).to_string(), "0");
        assert_eq!(round(3.41259, 3), 3.413);
    }
}
