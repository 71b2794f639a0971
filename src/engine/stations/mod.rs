//! The energy-storage stations the engine has seen (contract §11): a table the faces read, and
//! the service in the engine's loop that fills it and follows control commands to their answers.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use serde::Serialize;

pub mod commands;
mod record;

pub use commands::{CommandOrigin, CommandRecord, CommandState, StorageCommandOutcome, StorageCommandSpec, code_text};
pub use record::{COMMANDS_KEPT, Metric, PROBLEMS_KEPT, ParamReport, Problem, Station, StationNode};

use commands::{Pending, answer_of};
use record::push_bounded;
use tokio::sync::oneshot;

use crate::protocol::storage::decode::{Decoded, StorageMessage, decode_message};
use crate::protocol::storage::place::StoragePlace;
use crate::protocol::storage::profile::{MessageRole, StorageProfile};
use crate::protocol::storage::{EXCHANGE_RESPONSE, StoragePayload, build_topic};
use crate::transport::Message;

/// What went wrong across every station, counted since the engine started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StationCounters {
    /// Messages of the profile, readable or not.
    pub messages: u64,
    /// Topics or payloads that could not be read.
    pub unreadable: u64,
    /// An answer to a command already answered.
    pub duplicate_answers: u64,
    /// An answer whose `code` no command seen carried.
    pub unsolicited_answers: u64,
    /// Commands (ours or others') not answered in time.
    pub timeouts: u64,
}

/// Every station seen.
#[derive(Debug, Default)]
pub struct Stations {
    stations: BTreeMap<StoragePlace, Station>,
    /// Problems of messages whose topic could not be read, so no station can hold them.
    unplaced: VecDeque<Problem>,
    counters: StationCounters,
}

impl Stations {
    pub fn iter(&self) -> impl Iterator<Item = &Station> {
        self.stations.values()
    }

    /// A station by its application and group (unit and component are ignored).
    pub fn get(&self, place: &StoragePlace) -> Option<&Station> {
        self.stations.get(&place.station())
    }

    pub fn len(&self) -> usize {
        self.stations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    pub fn counters(&self) -> StationCounters {
        self.counters
    }

    pub fn unplaced(&self) -> &VecDeque<Problem> {
        &self.unplaced
    }

    fn station_mut(&mut self, place: &StoragePlace, version: &str, session: u32, received_ms: i64) -> &mut Station {
        let key = place.station();
        self.stations.entry(key.clone()).or_insert_with(|| Station::new(key, version, session, received_ms))
    }
}

/// The engine loop's part: reads every message of the profile into [`Stations`] and follows
/// commands. Not shared: the faces see only the table.
#[derive(Debug)]
pub(super) struct StationService {
    profile: StorageProfile,
    /// Commands waiting for an answer, ours and other masters', by station and code.
    pending: HashMap<(StoragePlace, String), Pending>,
    sent: u64,
    changed: BTreeSet<StoragePlace>,
}

/// A finished command of ours and whoever waits for it.
pub(super) type Finished = (StorageCommandOutcome, Option<oneshot::Sender<StorageCommandOutcome>>);

/// What one message did.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// The topic whose tracked series this `rt` also feeds: the unit's own `rt` topic when the
    /// unit came in `ns` on a group topic.
    pub feed_topic: Option<String>,
    pub finished: Vec<Finished>,
}

impl StationService {
    pub(super) fn new(profile: StorageProfile) -> StationService {
        StationService { profile, pending: HashMap::new(), sent: 0, changed: BTreeSet::new() }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    /// The stations changed since the last call.
    pub(super) fn take_changed(&mut self) -> BTreeSet<StoragePlace> {
        std::mem::take(&mut self.changed)
    }

    /// Reads `message` if it is the profile's; `None` when it is not.
    pub(super) fn on_message(&mut self, table: &RwLock<Stations>, session: u32, message: &Message, received_ms: i64) -> Option<Applied> {
        let decoded = decode_message(&self.profile, &message.topic, &message.payload);
        if matches!(decoded, Decoded::Foreign) {
            return None;
        }
        let mut stations = table.write().unwrap_or_else(|e| e.into_inner());
        stations.counters.messages += 1;
        let mut applied = Applied::default();
        match decoded {
            Decoded::Foreign => {}
            Decoded::Problem { place, reason } => {
                stations.counters.unreadable += 1;
                let problem = Problem { received_ms, topic: message.topic.clone(), reason };
                match place {
                    None => push_bounded(&mut stations.unplaced, problem, PROBLEMS_KEPT),
                    Some(place) => {
                        // The version is not known without a readable topic; keep the station's.
                        let version = self.profile.versions.first().cloned().unwrap_or_default();
                        let station = stations.station_mut(&place, &version, session, received_ms);
                        station.seen(&station.version.clone(), session, received_ms);
                        station.problem(problem);
                        self.changed.insert(place.station());
                    }
                }
            }
            Decoded::Message(decoded) => {
                let place = decoded.placed.place.clone();
                let station = stations.station_mut(&place, &decoded.topic.version, session, received_ms);
                station.seen(&decoded.topic.version, session, received_ms);
                self.changed.insert(place.station());
                if decoded.role == MessageRole::Command {
                    let counted = self.on_command(station, &decoded, &message.topic, received_ms, &mut applied.finished);
                    if let Some(counter) = counted {
                        match counter {
                            Stray::Duplicate => stations.counters.duplicate_answers += 1,
                            Stray::Unsolicited => stations.counters.unsolicited_answers += 1,
                        }
                    }
                } else {
                    let plot_topic = build_topic(&place.topic(&decoded.topic.version, &self.profile.realtime)).unwrap_or_else(|_| message.topic.clone());
                    if decoded.role == MessageRole::Realtime && plot_topic != message.topic {
                        applied.feed_topic = Some(plot_topic.clone());
                    }
                    station.apply_report(&decoded, plot_topic, received_ms);
                }
            }
        }
        Some(applied)
    }

    /// A request or an answer on a command topic. Returns which counter a stray answer adds to.
    fn on_command(&mut self, station: &mut Station, decoded: &StorageMessage, topic: &str, received_ms: i64, finished: &mut Vec<Finished>) -> Option<Stray> {
        let payload = &decoded.payload;
        let station_place = station.place.clone();
        let Some(code) = payload.code.as_ref().map(code_text) else {
            let reason = "a command message without a `code`: it cannot be matched".to_owned();
            station.problem(Problem { received_ms, topic: topic.to_owned(), reason });
            return None;
        };
        if payload.te.as_deref() != Some(EXCHANGE_RESPONSE) {
            // A request: ours coming back from the broker, or another master's.
            if station.command_mut(&code).is_none() {
                station.log_command(CommandRecord {
                    code: code.clone(),
                    place: decoded.placed.place.clone(),
                    topic: topic.to_owned(),
                    d: payload.d.clone(),
                    origin: CommandOrigin::Other,
                    sent_ms: received_ms,
                    state: CommandState::Waiting,
                    extra_answers: 0,
                });
                let deadline = Instant::now() + Duration::from_secs(u64::from(self.profile.answer_timeout_s));
                self.pending.insert((station_place, code.clone()), Pending { station: station.place.clone(), code, deadline, reply: None });
            }
            return None;
        }
        let (result, msg) = answer_of(&payload.d);
        let Some(record) = station.command_mut(&code) else {
            let reason = format!("an answer with code {code} to no command seen");
            station.problem(Problem { received_ms, topic: topic.to_owned(), reason });
            return Some(Stray::Unsolicited);
        };
        let latency_ms = received_ms - record.sent_ms;
        match record.state {
            CommandState::Waiting => {
                record.state = CommandState::Answered { result, msg, latency_ms, d: payload.d.clone() };
                let outcome = record.clone();
                if let Some(pending) = self.pending.remove(&(station_place, code)) {
                    finished.push((outcome, pending.reply));
                }
                None
            }
            CommandState::TimedOut { after_ms } => {
                record.extra_answers += 1;
                let reason = format!("code {code} answered {latency_ms} ms after it was sent, {after_ms} ms after it timed out");
                station.problem(Problem { received_ms, topic: topic.to_owned(), reason });
                Some(Stray::Duplicate)
            }
            CommandState::Answered { .. } | CommandState::NotSent { .. } => {
                record.extra_answers += 1;
                let n = record.extra_answers + 1;
                let reason = format!("code {code} answered {n} times");
                station.problem(Problem { received_ms, topic: topic.to_owned(), reason });
                Some(Stray::Duplicate)
            }
        }
    }

    /// Builds the message for `spec` and logs it as waiting; or the outcome when it cannot go.
    pub(super) fn prepare(
        &mut self,
        table: &RwLock<Stations>,
        spec: StorageCommandSpec,
        reply: Option<oneshot::Sender<StorageCommandOutcome>>,
        now_ms: i64,
    ) -> Result<Prepared, Box<Finished>> {
        let mut stations = table.write().unwrap_or_else(|e| e.into_inner());
        let version = spec
            .version
            .clone()
            .or_else(|| stations.get(&spec.place).map(|s| s.version.clone()))
            .or_else(|| self.profile.versions.first().cloned())
            .unwrap_or_default();
        self.sent += 1;
        let code = format!("wb-{now_ms}-{}", self.sent);
        let topic = build_topic(&spec.place.topic(&version, &self.profile.command));
        let mut record = CommandRecord {
            code: code.clone(),
            place: spec.place.clone(),
            topic: topic.as_ref().cloned().unwrap_or_default(),
            d: spec.d.clone(),
            origin: CommandOrigin::Ours,
            sent_ms: now_ms,
            state: CommandState::Waiting,
            extra_answers: 0,
        };
        let payload = StoragePayload::command(now_ms, code.clone(), spec.d);
        let built = topic.map_err(|e| e.to_string()).and_then(|t| serde_json::to_vec(&payload).map(|p| (t, p)).map_err(|e| e.to_string()));
        let (topic, bytes) = match built {
            Ok(built) => built,
            Err(reason) => {
                record.state = CommandState::NotSent { reason };
                return Err(Box::new((record, reply)));
            }
        };
        let timeout = spec.timeout.unwrap_or(Duration::from_secs(u64::from(self.profile.answer_timeout_s)));
        let station = stations.station_mut(&spec.place, &version, spec.session, now_ms);
        station.log_command(record);
        self.changed.insert(spec.place.station());
        self.pending.insert((spec.place.station(), code.clone()), Pending { station: spec.place.station(), code: code.clone(), deadline: Instant::now() + timeout, reply });
        let message = Message::new(topic, bytes, self.profile.qos_of(&self.profile.command), false);
        Ok(Prepared { message, station: spec.place.station(), code })
    }

    /// The command `code` to `station` could not be published after all.
    pub(super) fn not_sent(&mut self, table: &RwLock<Stations>, station: &StoragePlace, code: &str, reason: String) -> Option<Finished> {
        let pending = self.pending.remove(&(station.station(), code.to_owned()))?;
        let mut stations = table.write().unwrap_or_else(|e| e.into_inner());
        let record = stations.stations.get_mut(&pending.station)?.command_mut(code)?;
        record.state = CommandState::NotSent { reason };
        Some((record.clone(), pending.reply))
    }

    /// Commands whose answer did not come in time.
    pub(super) fn expire(&mut self, table: &RwLock<Stations>, now: Instant, now_ms: i64) -> Vec<Finished> {
        let due: Vec<(StoragePlace, String)> = self.pending.iter().filter(|(_, p)| p.deadline <= now).map(|(k, _)| k.clone()).collect();
        if due.is_empty() {
            return Vec::new();
        }
        let mut stations = table.write().unwrap_or_else(|e| e.into_inner());
        let mut finished = Vec::new();
        for key in due {
            let Some(pending) = self.pending.remove(&key) else { continue };
            stations.counters.timeouts += 1;
            let Some(station) = stations.stations.get_mut(&pending.station) else { continue };
            let Some(record) = station.command_mut(&pending.code) else { continue };
            record.state = CommandState::TimedOut { after_ms: now_ms - record.sent_ms };
            let outcome = record.clone();
            self.changed.insert(pending.station.clone());
            if outcome.origin == CommandOrigin::Ours {
                finished.push((outcome, pending.reply));
            }
        }
        finished
    }
}

/// A command ready to publish.
#[derive(Debug)]
pub(super) struct Prepared {
    pub message: Message,
    pub station: StoragePlace,
    pub code: String,
}

/// Which counter a stray answer adds to.
enum Stray {
    Duplicate,
    Unsolicited,
}
