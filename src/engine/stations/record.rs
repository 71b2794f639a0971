//! What is known of one storage station: its units and components with their latest metrics and
//! parameters, its message rate, its commands and the problems of its messages.

use std::collections::{BTreeMap, VecDeque};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use super::commands::CommandRecord;
use crate::protocol::storage::decode::StorageMessage;
use crate::protocol::storage::place::StoragePlace;
use crate::protocol::storage::profile::MessageRole;

/// Problems kept per station, and for messages that could not be placed.
pub const PROBLEMS_KEPT: usize = 100;
/// Commands kept in a station's log (ours and other masters' seen on the broker).
pub const COMMANDS_KEPT: usize = 200;
/// The window of the message rate.
const RATE_WINDOW_S: usize = 10;

/// The latest value of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub value: f64,
    /// The payload's `t`.
    pub t_ms: i64,
    pub received_ms: i64,
    /// JSON pointer of the field in the payload, for a plot of it.
    pub pointer: String,
}

/// The latest `param` report of a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParamReport {
    pub t_ms: i64,
    pub received_ms: i64,
    pub d: Map<String, Value>,
}

/// A station itself, a device unit or a component.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StationNode {
    pub place: StoragePlace,
    /// The topic a plot of this node's metrics follows: its `rt` topic with the unit and
    /// component in it, even when they came in `ns` (the engine feeds that topic's series).
    pub plot_topic: String,
    pub metrics: IndexMap<String, Metric>,
    /// Fields of the latest `rt` that are not numbers (text states, flags), as sent.
    pub other_fields: IndexMap<String, Value>,
    pub param: Option<ParamReport>,
    pub messages: u64,
    pub last_ms: i64,
}

/// A message that could not be read, or an answer nobody asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub received_ms: i64,
    pub topic: String,
    pub reason: String,
}

/// A station: application and group.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Station {
    pub place: StoragePlace,
    /// The version segment it last used (commands go out with it).
    pub version: String,
    /// The session it was last seen on.
    pub session: u32,
    pub first_ms: i64,
    pub last_ms: i64,
    pub messages: u64,
    /// Keyed by the unit/component below the station (`None` is the station itself).
    pub nodes: BTreeMap<Option<String>, StationNode>,
    pub commands: VecDeque<CommandRecord>,
    pub problems: VecDeque<Problem>,
    pub problem_count: u64,
    #[serde(skip)]
    rate: RateMeter,
}

impl Station {
    pub(super) fn new(place: StoragePlace, version: &str, session: u32, received_ms: i64) -> Station {
        Station {
            place,
            version: version.to_owned(),
            session,
            first_ms: received_ms,
            last_ms: received_ms,
            messages: 0,
            nodes: BTreeMap::new(),
            commands: VecDeque::new(),
            problems: VecDeque::new(),
            problem_count: 0,
            rate: RateMeter::default(),
        }
    }

    /// Messages per second over the last ten seconds before `now_ms`.
    pub fn rate(&self, now_ms: i64) -> f64 {
        self.rate.per_second(now_ms)
    }

    pub(super) fn seen(&mut self, version: &str, session: u32, received_ms: i64) {
        version.clone_into(&mut self.version);
        self.session = session;
        self.last_ms = self.last_ms.max(received_ms);
        self.messages += 1;
        self.rate.count(received_ms);
    }

    /// Takes in a readable `rt`, `param` or other report (not a command).
    pub(super) fn apply_report(&mut self, message: &StorageMessage, plot_topic: String, received_ms: i64) {
        let place = &message.placed.place;
        let node = self.nodes.entry(place.below_station()).or_insert_with(|| StationNode {
            place: place.clone(),
            plot_topic: plot_topic.clone(),
            metrics: IndexMap::new(),
            other_fields: IndexMap::new(),
            param: None,
            messages: 0,
            last_ms: received_ms,
        });
        node.messages += 1;
        node.last_ms = node.last_ms.max(received_ms);
        let t_ms = message.payload.t;
        match message.role {
            MessageRole::Realtime => {
                node.plot_topic = plot_topic;
                for point in &message.points {
                    let metric = Metric { value: point.value, t_ms, received_ms, pointer: point.pointer.clone() };
                    node.metrics.insert(point.name.clone(), metric);
                }
                for (key, value) in &message.payload.d {
                    if matches!(value, Value::String(_) | Value::Bool(_) | Value::Null) {
                        node.other_fields.insert(format!("{}{key}", message.placed.metric_prefix), value.clone());
                    }
                }
            }
            MessageRole::Parameter | MessageRole::Other => {
                node.param = Some(ParamReport { t_ms, received_ms, d: message.payload.d.clone() });
            }
            MessageRole::Command => {}
        }
    }

    pub(super) fn problem(&mut self, problem: Problem) {
        self.problem_count += 1;
        push_bounded(&mut self.problems, problem, PROBLEMS_KEPT);
    }

    pub(super) fn command_mut(&mut self, code: &str) -> Option<&mut CommandRecord> {
        self.commands.iter_mut().rev().find(|c| c.code == code)
    }

    pub(super) fn log_command(&mut self, record: CommandRecord) {
        push_bounded(&mut self.commands, record, COMMANDS_KEPT);
    }
}

pub(super) fn push_bounded<T>(queue: &mut VecDeque<T>, item: T, limit: usize) {
    if queue.len() >= limit {
        queue.pop_front();
    }
    queue.push_back(item);
}

/// Messages per whole second over the last [`RATE_WINDOW_S`] seconds.
#[derive(Debug, Clone, Default)]
struct RateMeter {
    /// (epoch second, messages in it), oldest first.
    seconds: VecDeque<(i64, u32)>,
}

impl RateMeter {
    fn count(&mut self, received_ms: i64) {
        let second = received_ms.div_euclid(1000);
        match self.seconds.back_mut() {
            Some((last, count)) if *last == second => *count += 1,
            Some((last, _)) if *last > second => {} // an older message (a replay's seek): not a rate
            _ => self.seconds.push_back((second, 1)),
        }
        while self.seconds.front().is_some_and(|(s, _)| *s <= second - RATE_WINDOW_S as i64) {
            self.seconds.pop_front();
        }
    }

    fn per_second(&self, now_ms: i64) -> f64 {
        let now = now_ms.div_euclid(1000);
        let total: u32 = self.seconds.iter().filter(|(s, _)| *s > now - RATE_WINDOW_S as i64 && *s <= now).map(|(_, c)| c).sum();
        f64::from(total) / RATE_WINDOW_S as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_the_last_ten_seconds() {
        let mut meter = RateMeter::default();
        for i in 0..50 {
            meter.count(100_000 + i * 200); // 5 a second for 10 s
        }
        assert_eq!(meter.per_second(109_999), 5.0);
        assert_eq!(meter.per_second(125_000), 0.0);
        assert!(meter.seconds.len() <= RATE_WINDOW_S);
    }
}
