//! What a series is of: a monitoring point, a meter register, or a numeric field of any JSON
//! payload by its path. The serde form is what layout files hold.

use serde::{Deserialize, Serialize};

/// Identifies one series. Serde: `{"point": {"pk":..,"dev":..,"sub":..,"pid":..}}`,
/// `{"meter": {"pk":..,"dev":..,"sub":..,"register":..}}`, `{"path": {"topic":..,"pointer":"/data/soc"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum SeriesKey {
    Point { pk: String, dev: String, sub: String, pid: String },
    Meter { pk: String, dev: String, sub: String, register: String },
    /// A numeric field of any JSON payload on `topic` (exact topic), by RFC 6901 JSON pointer.
    Path { topic: String, pointer: String },
}

impl SeriesKey {
    pub fn point(pk: &str, dev: &str, sub: &str, pid: &str) -> Self {
        SeriesKey::Point { pk: pk.to_owned(), dev: dev.to_owned(), sub: sub.to_owned(), pid: pid.to_owned() }
    }

    pub fn meter(pk: &str, dev: &str, sub: &str, register: &str) -> Self {
        SeriesKey::Meter { pk: pk.to_owned(), dev: dev.to_owned(), sub: sub.to_owned(), register: register.to_owned() }
    }

    pub fn path(topic: &str, pointer: &str) -> Self {
        SeriesKey::Path { topic: topic.to_owned(), pointer: pointer.to_owned() }
    }

    /// `PK/DEV/SUB/PID` (meters: `PK/DEV/SUB/REGISTER`, paths: `topic#pointer`): the stable id
    /// used in CSV headers before the model's name and unit.
    pub fn label(&self) -> String {
        match self {
            SeriesKey::Point { pk, dev, sub, pid } => format!("{pk}/{dev}/{sub}/{pid}"),
            SeriesKey::Meter { pk, dev, sub, register } => format!("{pk}/{dev}/{sub}/{register}"),
            SeriesKey::Path { topic, pointer } => format!("{topic}#{pointer}"),
        }
    }

    /// (pk, dev) of the gateway a point or meter series belongs to.
    pub fn gateway(&self) -> Option<(&str, &str)> {
        match self {
            SeriesKey::Point { pk, dev, .. } | SeriesKey::Meter { pk, dev, .. } => Some((pk, dev)),
            SeriesKey::Path { .. } => None,
        }
    }

    /// Why the key cannot name a series (an empty id, a wildcard topic, a pointer not starting
    /// with `/`), or `None` when it is fine.
    pub fn problem(&self) -> Option<String> {
        let empty = |what: &str, v: &str| v.is_empty().then(|| format!("{what} is empty"));
        match self {
            SeriesKey::Point { pk, dev, sub, pid } => empty("pk", pk).or(empty("dev", dev)).or(empty("sub", sub)).or(empty("pid", pid)),
            SeriesKey::Meter { pk, dev, sub, register } => {
                empty("pk", pk).or(empty("dev", dev)).or(empty("sub", sub)).or(empty("register", register))
            }
            SeriesKey::Path { topic, pointer } => {
                if topic.is_empty() {
                    Some("topic is empty".to_owned())
                } else if topic.contains(['+', '#']) {
                    Some(format!("topic {topic:?} is a filter: a path series needs one exact topic"))
                } else if !pointer.is_empty() && !pointer.starts_with('/') {
                    Some(format!("pointer {pointer:?} is not a JSON pointer (RFC 6901: it starts with '/')"))
                } else {
                    None
                }
            }
        }
    }
}

impl std::fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}
