//! The station's task: owns the link, steps the physics and publishes `rt` on a timer,
//! publishes `param` at every link-up and on change, and answers commands.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::commands::{Outcome, RESULT_BAD_REQUEST, RESULT_DONE, Request, answer_data, execute, read_request};
use super::physics::{BMS_UNIT, PCS_UNITS, RACKS};
use super::reports;
use super::{LinkStatus, Shared, StationConfig, StationError, StationFault};
use crate::protocol::storage::place::place_of;
use crate::protocol::storage::profile::MessageRole;
use crate::protocol::storage::{SERVICE_METRIC, StoragePayload, StorageProfile, StorageTopic, TopicMatch, build_topic};
use crate::protocol::time::now_ms;
use crate::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};

/// How long a stop waits for queued answers to go out.
const STOP_FLUSH: Duration = Duration::from_secs(3);

/// Every topic the station publishes on.
struct Topics {
    pcs_realtime: Vec<String>,
    bms_realtime: String,
    /// The group topic: the racks report here, placed by `ns`.
    group_realtime: String,
    pcs_param: Vec<String>,
}

pub(super) struct Runtime {
    shared: Arc<Mutex<Shared>>,
    profile: StorageProfile,
    application: String,
    group: String,
    interval: Duration,
    faults: Vec<StationFault>,
    topics: Topics,
    link: Option<LinkHandle>,
    events: Option<mpsc::Receiver<LinkEvent>>,
    link_up: bool,
    status: watch::Sender<LinkStatus>,
    /// Answers held back by `SlowAnswer`; dropped (aborted) with the runtime.
    delayed: JoinSet<()>,
    last_step: Instant,
}

impl Runtime {
    /// Builds the station's topics, subscribes to its command topics and opens the link.
    pub(super) fn new(config: StationConfig, shared: Arc<Mutex<Shared>>) -> Result<(Runtime, watch::Receiver<LinkStatus>), StationError> {
        let StationConfig { link, profile, application, group, interval_ms, faults, .. } = config;
        let version = profile.versions.first().cloned().unwrap_or_default();
        let topic = |message_type: &str, unit: Option<&str>| {
            build_topic(&StorageTopic {
                version: version.clone(),
                message_type: message_type.to_owned(),
                application: application.clone(),
                group_id: group.clone(),
                device_unit: unit.map(str::to_owned),
                component: None,
            })
        };
        let topics = Topics {
            pcs_realtime: PCS_UNITS.iter().map(|u| topic(&profile.realtime, Some(u))).collect::<Result<_, _>>()?,
            bms_realtime: topic(&profile.realtime, Some(BMS_UNIT))?,
            group_realtime: topic(&profile.realtime, None)?,
            pcs_param: PCS_UNITS.iter().map(|u| topic(&profile.parameter, Some(u))).collect::<Result<_, _>>()?,
        };
        let mut link = link;
        if let LinkConfig::Mqtt(mqtt) = &mut link {
            if mqtt.client_id.is_empty() {
                mqtt.client_id = format!("ess-sim.{application}.{group}");
            }
            for version in &profile.versions {
                let group_topic = build_topic(&StorageTopic {
                    version: version.clone(),
                    message_type: profile.command.clone(),
                    application: application.clone(),
                    group_id: group.clone(),
                    device_unit: None,
                    component: None,
                })?;
                // `{group}/#` also matches the group topic itself (MQTT 3.1.1 §4.7.1.2); a second
                // filter for it would have some brokers deliver a group command twice.
                let filter = format!("{group_topic}/#");
                if !mqtt.subscriptions.contains(&filter) {
                    mqtt.subscriptions.push(filter);
                }
            }
        }
        let (handle, events) = spawn_link(link);
        let (status, status_rx) = watch::channel(LinkStatus {
            label: handle.label.clone(),
            state: LinkState::Connecting { attempt: 0 },
            connects: 0,
            ended: false,
            in_outage: false,
        });
        let runtime = Runtime {
            shared,
            profile,
            application,
            group,
            interval: Duration::from_millis(interval_ms.max(1)),
            faults,
            topics,
            link: Some(handle),
            events: Some(events),
            link_up: false,
            status,
            delayed: JoinSet::new(),
            last_step: Instant::now(),
        };
        Ok((runtime, status_rx))
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                event = next_event(&mut self.events) => self.on_event(event),
                _ = ticker.tick() => self.on_tick(),
            }
        }
        self.shutdown().await;
    }

    fn on_event(&mut self, event: Option<LinkEvent>) {
        let Some(event) = event else {
            self.events = None;
            self.link_up = false;
            self.shared().online = false;
            self.status.send_modify(|s| s.ended = true);
            return;
        };
        match event {
            LinkEvent::State(LinkState::Up) => {
                self.link_up = true;
                let connects = {
                    let mut shared = self.shared();
                    shared.online = true;
                    shared.counters.connects += 1;
                    shared.counters.connects
                };
                self.status.send_modify(|s| {
                    s.state = LinkState::Up;
                    s.connects = connects;
                });
                // Nothing is retained (§11): a master that connected meanwhile learns the
                // parameters from this.
                for index in 0..PCS_UNITS.len() {
                    self.publish_param(index);
                }
            }
            LinkEvent::State(state) => {
                self.link_up = false;
                self.shared().online = false;
                let closed = state == LinkState::Closed;
                self.status.send_modify(|s| {
                    s.state = state;
                    s.ended |= closed;
                });
            }
            LinkEvent::Message(message) => self.on_message(&message),
            LinkEvent::FramesDropped { .. } | LinkEvent::PublishDropped { .. } | LinkEvent::Recorded { .. } | LinkEvent::Rewound => {}
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.last_step).as_secs_f64();
        self.last_step = now;
        // Finished slow answers are reaped here so the set does not grow.
        while self.delayed.try_join_next().is_some() {}
        let messages = {
            let mut shared = self.shared();
            shared.station.step(dt);
            if !self.link_up {
                return;
            }
            let station = &shared.station;
            let mut messages: Vec<(String, Option<String>, Map<String, Value>)> = Vec::with_capacity(PCS_UNITS.len() + 1 + RACKS.len());
            for (index, topic) in self.topics.pcs_realtime.iter().enumerate() {
                messages.push((topic.clone(), None, reports::pcs_realtime(station, index)));
            }
            messages.push((self.topics.bms_realtime.clone(), None, reports::bms_realtime(station)));
            for (index, rack) in RACKS.iter().enumerate() {
                let ns = format!("{}.{BMS_UNIT}.{rack}", self.group);
                messages.push((self.topics.group_realtime.clone(), Some(ns), reports::rack_realtime(station, index)));
            }
            messages
        };
        let qos = self.profile.qos_of(&self.profile.realtime);
        let mut sent = 0;
        for (topic, ns, d) in messages {
            sent += u64::from(self.publish_metric(&topic, ns, d, qos));
        }
        self.shared().counters.realtime_sent += sent;
    }

    fn publish_param(&mut self, index: usize) {
        let Some(topic) = self.topics.pcs_param.get(index).cloned() else { return };
        let d = reports::pcs_parameters(&self.shared().station, index);
        let qos = self.profile.qos_of(&self.profile.parameter);
        if self.publish_metric(&topic, None, d, qos) {
            self.shared().counters.param_sent += 1;
        }
    }

    /// Publishes a `METRIC` report; false when it did not go out.
    fn publish_metric(&self, topic: &str, ns: Option<String>, d: Map<String, Value>, qos: u8) -> bool {
        let payload = StoragePayload { t: now_ms(), ns, code: None, s: Some(SERVICE_METRIC.to_owned()), te: None, d };
        match serde_json::to_vec(&payload) {
            Ok(bytes) => self.send(Message::new(topic, bytes, qos, false)),
            Err(e) => {
                tracing::warn!(topic, "report not sent: {e}");
                false
            }
        }
    }

    fn send(&self, message: Message) -> bool {
        match &self.link {
            Some(link) => link.publish(message).inspect_err(|e| tracing::debug!("{e}")).is_ok(),
            None => false,
        }
    }

    fn on_message(&mut self, message: &Message) {
        let TopicMatch::Storage(topic) = self.profile.match_topic(&message.topic) else { return };
        if self.profile.role_of(&topic.message_type) != Some(MessageRole::Command) || topic.application != self.application || topic.group_id != self.group {
            return;
        }
        match read_request(&message.payload) {
            Request::Response => self.shared().counters.responses_ignored += 1,
            Request::Unreadable(reason) => {
                tracing::debug!(topic = %message.topic, "command ignored: {reason}");
                self.shared().counters.malformed_ignored += 1;
            }
            Request::Broken { request, reason } => {
                self.shared().counters.commands_refused += 1;
                self.answer(&message.topic, &request, &Outcome::refused(RESULT_BAD_REQUEST, reason));
            }
            Request::Command(request) => {
                let place = place_of(&topic, request.ns.as_deref()).place;
                let outcome = {
                    let mut shared = self.shared();
                    let outcome = execute(&mut shared.station, &self.group, place.unit.as_deref(), place.component.as_deref(), &request.d);
                    if outcome.result == RESULT_DONE {
                        shared.counters.commands_done += 1;
                    } else {
                        shared.counters.commands_refused += 1;
                    }
                    outcome
                };
                self.answer(&message.topic, &request, &outcome);
                for &index in &outcome.params_changed {
                    self.publish_param(index);
                }
            }
        }
    }

    /// Answers `request` on `topic`, as the faults allow.
    fn answer(&mut self, topic: &str, request: &StoragePayload, outcome: &Outcome) {
        if self.faults.contains(&StationFault::NoAnswer) {
            self.shared().counters.answers_withheld += 1;
            return;
        }
        let copies = if self.faults.contains(&StationFault::AnswerTwice) { 2 } else { 1 };
        let delay_ms = self.faults.iter().find_map(|f| match f {
            StationFault::SlowAnswer(ms) => Some(*ms),
            _ => None,
        });
        let reply = request.reply_to(now_ms(), answer_data(outcome.result, &outcome.msg));
        let qos = self.profile.qos_of(&self.profile.command);
        match (delay_ms, &self.link) {
            (Some(ms), Some(link)) if ms > 0 => {
                let (link, shared, topic) = (link.clone(), self.shared.clone(), topic.to_owned());
                self.delayed.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    // Stamped when it leaves, as a slow device would.
                    let reply = StoragePayload { t: now_ms(), ..reply };
                    let Ok(bytes) = serde_json::to_vec(&reply) else { return };
                    for _ in 0..copies {
                        if link.publish(Message::new(topic.clone(), bytes.clone(), qos, false)).is_ok() {
                            shared.lock().unwrap_or_else(PoisonError::into_inner).counters.answers_sent += 1;
                        }
                    }
                });
            }
            _ => {
                let bytes = match serde_json::to_vec(&reply) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        tracing::warn!(topic, "answer not sent: {e}");
                        return;
                    }
                };
                let sent = (0..copies).filter(|_| self.send(Message::new(topic, bytes.clone(), qos, false))).count();
                self.shared().counters.answers_sent += sent as u64;
            }
        }
    }

    async fn shutdown(&mut self) {
        self.delayed.abort_all();
        self.shared().online = false;
        if let Some(link) = self.link.take() {
            link.close();
        }
        // Let the link flush what is queued before its task ends.
        if let Some(mut events) = self.events.take() {
            let deadline = Instant::now() + STOP_FLUSH;
            while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
                if event == LinkEvent::State(LinkState::Closed) {
                    break;
                }
            }
        }
        self.link_up = false;
        self.status.send_modify(|s| s.state = LinkState::Closed);
    }
}

async fn next_event(events: &mut Option<mpsc::Receiver<LinkEvent>>) -> Option<LinkEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
