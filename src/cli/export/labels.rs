//! Series labels given on the command line, and a gateway table that lets the plot's header
//! function find the models of series read back from the history.

use indexmap::IndexMap;

use crate::engine::series::SeriesKey;
use crate::engine::{GatewayKey, Gateways};
use crate::protocol::payload::{Payload, PointV, PointValue, Points, Reading, Readings};

/// `PK/DEV/SUB/PID`: four non-empty parts.
pub fn check_label(label: &str) -> Result<(), String> {
    let parts: Vec<&str> = label.split('/').collect();
    if parts.len() == 4 && parts.iter().all(|p| !p.is_empty()) {
        Ok(())
    } else {
        Err(format!("--series {label:?}: expected PK/DEV/SUB/PID"))
    }
}

/// A gateway table where each series' sub-device has reported its point or register once: what
/// `series_header` matches models by when no `info` says which product a sub-device is.
pub fn gateways_naming<'a>(keys: impl Iterator<Item = &'a SeriesKey>) -> Gateways {
    let mut gateways = Gateways::new();
    for key in keys {
        let (gateway, payload) = match key {
            SeriesKey::Point { pk, dev, sub, pid } => {
                let point = PointValue { sub: sub.clone(), pid: pid.clone(), v: PointV::Number(0.0), q: 0, ts: 0 };
                (GatewayKey { pk: pk.clone(), dev: dev.clone() }, Payload::Points(Points { points: vec![point] }))
            }
            SeriesKey::Meter { pk, dev, sub, register } => {
                let reading = Reading { sub: sub.clone(), ts: 0, values: IndexMap::from([(register.clone(), 0.0)]) };
                (GatewayKey { pk: pk.clone(), dev: dev.clone() }, Payload::Readings(Readings { readings: vec![reading] }))
            }
            SeriesKey::Path { .. } => continue,
        };
        if gateways.get(&gateway).is_none() {
            gateways.announce(&gateway, 0, 0);
        }
        gateways.apply(&gateway, payload, 0);
    }
    gateways
}
