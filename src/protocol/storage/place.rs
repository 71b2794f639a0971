//! Where an energy-storage message belongs: application, group, and the device unit and component
//! taken from the topic or from `ns` (`"{group}.{unit}[.{component}]"`; the topic wins, §11).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{StorageError, StorageTopic, check_segment};

/// A station (application + group), or a unit or component of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StoragePlace {
    pub application: String,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
}

/// Where a message belongs, and the prefix its metric names take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub place: StoragePlace,
    /// `ns.` when `ns` is not a place but a namespace grouping the metrics (it does not start with
    /// the topic's group): the metrics are named under it, as the explorer shows them.
    pub metric_prefix: String,
}

/// The place of a message on `topic` whose payload carries `ns`.
pub fn place_of(topic: &StorageTopic, ns: Option<&str>) -> Placed {
    let mut place = StoragePlace {
        application: topic.application.clone(),
        group: topic.group_id.clone(),
        unit: topic.device_unit.clone(),
        component: topic.component.clone(),
    };
    let Some(ns) = ns.filter(|ns| !ns.is_empty()) else {
        return Placed { place, metric_prefix: String::new() };
    };
    let parts: Vec<&str> = ns.split('.').collect();
    let names_a_place = parts.len() <= 3 && parts[0] == topic.group_id && parts.iter().all(|p| check_segment("ns", p).is_ok());
    if !names_a_place {
        return Placed { place, metric_prefix: format!("{ns}.") };
    }
    if place.unit.is_none() {
        place.unit = parts.get(1).map(|u| (*u).to_owned());
        place.component = parts.get(2).map(|c| (*c).to_owned());
    } else if place.component.is_none() && parts.get(1).map(|u| Some(*u) == place.unit.as_deref()).unwrap_or(false) {
        place.component = parts.get(2).map(|c| (*c).to_owned());
    }
    Placed { place, metric_prefix: String::new() }
}

impl StoragePlace {
    /// The station this place belongs to.
    pub fn station(&self) -> StoragePlace {
        StoragePlace { application: self.application.clone(), group: self.group.clone(), unit: None, component: None }
    }

    /// Reads `APP/GROUP[/UNIT[/COMP]]`, as the CLI takes it.
    pub fn parse_path(text: &str) -> Result<StoragePlace, StorageError> {
        let parts: Vec<&str> = text.split('/').collect();
        let names = ["application", "group_id", "device_unit", "component"];
        if !(2..=4).contains(&parts.len()) {
            return Err(StorageError::PayloadField { field: "place", problem: format!("{text:?} is not APP/GROUP[/UNIT[/COMP]]") });
        }
        for (name, part) in names.iter().zip(&parts) {
            check_segment(name, part)?;
        }
        Ok(StoragePlace {
            application: parts[0].to_owned(),
            group: parts[1].to_owned(),
            unit: parts.get(2).map(|u| (*u).to_owned()),
            component: parts.get(3).map(|c| (*c).to_owned()),
        })
    }

    /// The topic of `message_type` at this place.
    pub fn topic(&self, version: &str, message_type: &str) -> StorageTopic {
        StorageTopic {
            version: version.to_owned(),
            message_type: message_type.to_owned(),
            application: self.application.clone(),
            group_id: self.group.clone(),
            device_unit: self.unit.clone(),
            component: self.component.clone(),
        }
    }

    /// The unit and component below the station, `None` for the station itself.
    pub fn below_station(&self) -> Option<String> {
        match (&self.unit, &self.component) {
            (Some(unit), Some(component)) => Some(format!("{unit}/{component}")),
            (Some(unit), None) => Some(unit.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for StoragePlace {
    /// `APP/GROUP[/UNIT[/COMP]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.application, self.group)?;
        if let Some(below) = self.below_station() {
            write!(f, "/{below}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::storage::StorageProfile;

    fn placed(topic: &str, ns: Option<&str>) -> Placed {
        place_of(&StorageProfile::builtin().parse_topic(topic).unwrap(), ns)
    }

    #[test]
    fn unit_and_component_come_from_the_topic() {
        let p = placed("v1/rt/ess/g1/pcs1/dc", None).place;
        assert_eq!(p.to_string(), "ess/g1/pcs1/dc");
        assert_eq!(p.station().to_string(), "ess/g1");
    }

    #[test]
    fn or_from_ns_when_the_topic_has_none() {
        let p = placed("v1/rt/ess/g1", Some("g1.bms1.rack2"));
        assert_eq!(p.place.to_string(), "ess/g1/bms1/rack2");
        assert_eq!(p.metric_prefix, "");
        let p = placed("v1/rt/ess/g1", Some("g1.pcs2"));
        assert_eq!(p.place.to_string(), "ess/g1/pcs2");
    }

    #[test]
    fn the_topic_wins_where_both_say() {
        assert_eq!(placed("v1/rt/ess/g1/pcs1", Some("g1.pcs9.x")).place.to_string(), "ess/g1/pcs1");
        // The same unit in both: the component comes from ns.
        assert_eq!(placed("v1/rt/ess/g1/bms1", Some("g1.bms1.rack3")).place.to_string(), "ess/g1/bms1/rack3");
    }

    #[test]
    fn an_ns_that_is_no_place_names_the_metrics() {
        let p = placed("v1/rt/ess/g1/pcs1", Some("pcs"));
        assert_eq!(p.place.to_string(), "ess/g1/pcs1");
        assert_eq!(p.metric_prefix, "pcs.");
        assert_eq!(placed("v1/rt/ess/g1", Some("g1.a.b.c")).metric_prefix, "g1.a.b.c.");
    }

    #[test]
    fn paths_parse_and_print_back() {
        for text in ["ess/g1", "ess/g1/pcs1", "ess/储能站/bms1/rack2"] {
            assert_eq!(StoragePlace::parse_path(text).unwrap().to_string(), text);
        }
        for bad in ["ess", "ess/g1/a/b/c", "ess//u", "ess/g+"] {
            assert!(StoragePlace::parse_path(bad).is_err(), "{bad}");
        }
    }
}
