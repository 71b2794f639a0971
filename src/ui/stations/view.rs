//! What the page draws, copied out of the engine's station table under its read lock (the lock is
//! let go before drawing, so the engine is never held up by a frame).

use std::collections::BTreeMap;

use crate::engine::stations::{CommandRecord, Problem, StationCounters, StationNode, Stations};
use crate::protocol::storage::place::StoragePlace;

/// One station in the tree.
#[derive(Debug, Clone)]
pub struct TreeStation {
    pub place: StoragePlace,
    pub last_ms: i64,
    pub rate: f64,
    pub messages: u64,
    pub problems: u64,
    pub units: Vec<TreeUnit>,
}

/// A device unit and its components, in name order.
#[derive(Debug, Clone)]
pub struct TreeUnit {
    pub place: StoragePlace,
    pub components: Vec<StoragePlace>,
}

/// The stations seen, for the tree.
pub fn tree(stations: &Stations, now_ms: i64) -> Vec<TreeStation> {
    stations
        .iter()
        .map(|station| {
            // A component may report before (or without) its unit: the unit is listed all the same.
            let mut units: BTreeMap<String, TreeUnit> = BTreeMap::new();
            for node in station.nodes.values() {
                let Some(unit) = &node.place.unit else { continue };
                let entry = units.entry(unit.clone()).or_insert_with(|| TreeUnit {
                    place: StoragePlace { unit: Some(unit.clone()), component: None, ..station.place.clone() },
                    components: Vec::new(),
                });
                if node.place.component.is_some() {
                    entry.components.push(node.place.clone());
                }
            }
            TreeStation {
                place: station.place.clone(),
                last_ms: station.last_ms,
                rate: station.rate(now_ms),
                messages: station.messages,
                problems: station.problem_count,
                units: units.into_values().collect(),
            }
        })
        .collect()
}

/// The selected place and its station, as drawn on the right.
#[derive(Debug, Clone)]
pub struct SelectedView {
    pub place: StoragePlace,
    pub version: String,
    pub session: u32,
    pub station_last_ms: i64,
    pub station_messages: u64,
    pub rate: f64,
    /// The place's own messages; `None` when nothing came from it yet (a unit known only by its
    /// components, or a place typed for a command).
    pub node: Option<StationNode>,
    /// Every command of the station, newest first.
    pub commands: Vec<CommandRecord>,
    /// The station's problems, newest first, and how many there were in all.
    pub problems: Vec<Problem>,
    pub problem_count: u64,
}

/// The selected place's view; `None` when its station is not in the table (any more).
pub fn selected(stations: &Stations, place: &StoragePlace, now_ms: i64) -> Option<SelectedView> {
    let station = stations.get(place)?;
    Some(SelectedView {
        place: place.clone(),
        version: station.version.clone(),
        session: station.session,
        station_last_ms: station.last_ms,
        station_messages: station.messages,
        rate: station.rate(now_ms),
        node: station.nodes.get(&place.below_station()).cloned(),
        commands: station.commands.iter().rev().cloned().collect(),
        problems: station.problems.iter().rev().cloned().collect(),
        problem_count: station.problem_count,
    })
}

/// The counters and the problems no station could hold, newest first.
pub fn overall(stations: &Stations) -> (StationCounters, Vec<Problem>) {
    (stations.counters(), stations.unplaced().iter().rev().cloned().collect())
}
