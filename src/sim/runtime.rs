//! The simulator's task: owns the link, feeds received messages to the handlers, samples and
//! reports on a timer, retries its own requests, runs the outage switch, and on every link-up
//! announces the gateway (status, info, versions) and resends what it stored while offline.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::log::Level;
use super::outage::{BATCH_MAX_BYTES, Item, make_batches};
use super::outbox::{Due, Outbox, Purpose};
use super::state::{Outgoing, SimState};
use crate::protocol::payload::{CHUNK_SIZES, SERIAL_MAX_CHUNK};
use super::api::{LinkStatus, Outage, SimConfig, SimError, SimTuning};
use super::handlers;
use crate::protocol::auth;
use crate::protocol::codes;
use crate::protocol::envelope::{IdGenerator, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, Reply, Request};
use crate::protocol::payload::{LogEntries, Points, Props, Readings, to_data};
use crate::protocol::time::now_ms;
use crate::protocol::topic::{CemsTopic, Dir, TopicProfile, publish_qos};
use crate::transport::mqtt::{CredentialSource, WillSource};
use crate::transport::serial::SerialSource;
use crate::transport::{LinkConfig, LinkEvent, LinkHandle, LinkKind, LinkState, Message, spawn_link};
use sizing::{payload_limit, reply_limit, split_to_fit};

/// What `--fault garbage-reply` sends instead of a reply: not UTF-8, not JSON.
const GARBAGE_REPLY: &[u8] = b"\xff\xfe{\"id\": garbage\x00";

mod requests;
mod sizing;

/// Points per `point/report` message at most; messages are also cut to what the link carries.
const POINTS_PER_MESSAGE: usize = 1_000;
/// Tick of the sampling and retry timer when no short report period asks for more.
const TICK_MS: u64 = 250;
/// How long a stop waits for the offline status to go out.
const STOP_FLUSH: Duration = Duration::from_secs(3);

pub(super) struct Runtime {
    shared: Arc<Mutex<SimState>>,
    link_config: LinkConfig,
    secret: Option<String>,
    profile: TopicProfile,
    pk: String,
    dev: String,
    outage: Option<Outage>,
    outage_done: bool,
    in_outage: bool,
    link: Option<LinkHandle>,
    events: Option<mpsc::Receiver<LinkEvent>>,
    kind: LinkKind,
    link_up: bool,
    outbox: Outbox,
    ids: Arc<IdGenerator>,
    status: watch::Sender<LinkStatus>,
    started: Instant,
}

impl Runtime {
    /// Prepares the link with the contract's conventions and opens it.
    pub(super) fn new(config: SimConfig, tuning: SimTuning, shared: Arc<Mutex<SimState>>) -> Result<(Runtime, watch::Receiver<LinkStatus>), SimError> {
        let ids = Arc::new(IdGenerator::new("sim"));
        let kind = match &config.link {
            LinkConfig::Mqtt(_) => LinkKind::Mqtt,
            LinkConfig::Serial(_) => LinkKind::Serial,
            LinkConfig::Replay(_) => LinkKind::Replay,
        };
        let mut link_config = config.link;
        if let LinkConfig::Mqtt(mqtt) = &mut link_config {
            mqtt.client_id = format!("{}.{}", config.pk, config.dev);
            let filter = config.profile.gateway_filter(&config.pk, &config.dev);
            if !mqtt.subscriptions.contains(&filter) {
                mqtt.subscriptions.push(filter);
            }
            let topic = config.profile.status_topic(&config.pk, &config.dev)?;
            mqtt.will = Some(lost_will(&topic, &ids, now_ms()));
            if config.faults.contains(&super::faults::SimFault::NoWill) {
                mqtt.will = None;
            }
            // Each connection gets its own will: the broker may fire any of them, and each is an
            // envelope whose id must be new (contract §3), with the sim's clock as ts.
            let (ids, shared) = (ids.clone(), shared.clone());
            if mqtt.will.is_some() {
                mqtt.fresh_will = Some(WillSource(Arc::new(move || {
                    let ts = shared.lock().unwrap_or_else(PoisonError::into_inner).now_ms();
                    lost_will(&topic, &ids, ts)
                })));
            }
        }
        let history_topic = config.profile.build(&CemsTopic::new(&config.pk, &config.dev, Dir::Up, "history", "report"))?;
        let batch_max_bytes = payload_limit(&link_config, &history_topic).min(BATCH_MAX_BYTES);
        let reply_max_bytes = reply_limit(&link_config, &config.profile, &config.pk, &config.dev);
        {
            let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
            state.batch_max_bytes = batch_max_bytes;
            state.reply_max_bytes = reply_max_bytes;
            state.chunk_max_bytes = if kind == LinkKind::Serial { SERIAL_MAX_CHUNK } else { *CHUNK_SIZES.end() };
        }
        let (status, status_rx) = watch::channel(LinkStatus { label: String::new(), state: LinkState::Connecting { attempt: 0 }, connects: 0, ended: false, in_outage: false });
        let mut runtime = Runtime {
            shared,
            link_config,
            secret: config.secret,
            profile: config.profile,
            pk: config.pk,
            dev: config.dev,
            outage: config.outage,
            outage_done: false,
            in_outage: false,
            link: None,
            events: None,
            kind,
            link_up: false,
            outbox: Outbox::new(tuning.retry_after),
            ids,
            status,
            started: Instant::now(),
        };
        runtime.open_link()?;
        Ok((runtime, status_rx))
    }

    /// Spawns the link; MQTT credentials are signed afresh for every connection attempt (their
    /// ts must be recent), reconnects included.
    fn open_link(&mut self) -> Result<(), SimError> {
        let mut config = self.link_config.clone();
        if let (LinkConfig::Mqtt(mqtt), Some(secret)) = (&mut config, &self.secret) {
            let ts = u64::try_from(now_ms()).unwrap_or(0);
            // Checked once here so bad ids fail at start; the source below cannot fail after that.
            let creds = auth::sign(&self.pk, &self.dev, secret, ts)?;
            mqtt.username = Some(creds.username.clone());
            mqtt.password = Some(creds.password.clone());
            let (pk, dev, secret) = (self.pk.clone(), self.dev.clone(), secret.clone());
            mqtt.fresh_credentials = Some(CredentialSource(Arc::new(move || {
                let ts = u64::try_from(now_ms()).unwrap_or(0);
                match auth::sign(&pk, &dev, &secret, ts) {
                    Ok(c) => (c.username, c.password),
                    Err(_) => (creds.username.clone(), creds.password.clone()),
                }
            })));
        }
        let (handle, events) = spawn_link(config);
        let label = handle.label.clone();
        self.link = Some(handle);
        self.events = Some(events);
        self.status.send_modify(|s| {
            s.label = label;
            s.ended = false;
        });
        Ok(())
    }

    fn online(&self) -> bool {
        self.link_up && !self.in_outage
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        let mut tick_ms = self.tick_ms();
        let mut ticker = interval(tick_ms);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                event = next_event(&mut self.events) => self.on_event(event),
                _ = ticker.tick() => {
                    self.on_tick();
                    let wanted = self.tick_ms();
                    if wanted != tick_ms {
                        tick_ms = wanted;
                        ticker = interval(tick_ms);
                    }
                }
            }
        }
        self.shutdown().await;
    }

    fn tick_ms(&self) -> u64 {
        self.state().period_override_ms.map_or(TICK_MS, |p| (p / 4).clamp(10, TICK_MS))
    }

    fn set_status(&self, state: LinkState) {
        let in_outage = self.in_outage;
        self.status.send_modify(|s| {
            s.state = state;
            s.in_outage = in_outage;
        });
    }

    fn on_event(&mut self, event: Option<LinkEvent>) {
        let Some(event) = event else {
            // The link task is gone; during an outage that was us.
            self.events = None;
            self.link = None;
            self.link_up = false;
            if !self.in_outage {
                self.state().log.push(now_ms(), Level::Error, "link", "the link ended");
                self.status.send_modify(|s| s.ended = true);
            }
            return;
        };
        match event {
            LinkEvent::State(LinkState::Up) => {
                self.link_up = true;
                self.set_status(LinkState::Up);
                if !self.in_outage {
                    self.on_online();
                }
            }
            LinkEvent::State(state) => {
                let was_online = self.online();
                self.link_up = false;
                let closed = state == LinkState::Closed;
                self.set_status(state.clone());
                let shared = self.shared.clone();
                let mut st = shared.lock().unwrap_or_else(PoisonError::into_inner);
                st.online = false;
                self.outbox.hold(Instant::now());
                if was_online {
                    let now = st.now_ms();
                    st.log.push(now, Level::Warn, "link", format!("offline: {}", describe_link_state(&state)));
                }
                if closed && !self.in_outage {
                    self.status.send_modify(|s| s.ended = true);
                }
            }
            LinkEvent::Message(message) => {
                if !self.in_outage {
                    self.on_message(&message);
                }
            }
            LinkEvent::FramesDropped { total } => tracing::debug!(dev = %self.dev, "{total} serial frames dropped so far"),
            LinkEvent::PublishDropped { topic, reason } => self.on_publish_dropped(&topic, &reason),
            // A gateway is not served by a recording.
            LinkEvent::Recorded { .. } | LinkEvent::Rewound => {}
        }
    }

    fn on_message(&mut self, message: &Message) {
        let Ok(topic) = self.profile.parse(&message.topic) else { return };
        if topic.pk != self.pk || topic.dev != self.dev {
            return;
        }
        let shared = self.shared.clone();
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        if topic.reply && topic.request_dir() == Dir::Up {
            self.on_reply(&mut state, &message.payload);
        } else if topic.dir == Dir::Down && !topic.reply {
            let handled = handlers::handle_down(&mut state, &topic, &message.payload);
            if let Some(reply) = handled.reply {
                match self.profile.build(&topic.reply_topic()) {
                    Ok(t) => {
                        let what = topic.class_action();
                        let bytes = if state.faults.garbage_reply(&what) { GARBAGE_REPLY.to_vec() } else { self.fit_reply(&mut state, &t, &reply) };
                        let t = match t.strip_suffix("/reply") {
                            Some(stem) if state.faults.wrong_reply_topic(&what) => format!("{stem}/response"),
                            _ => t,
                        };
                        let copies = if state.faults.double_reply(&what) { 2 } else { 1 };
                        let bytes = Bytes::from(bytes);
                        for _ in 0..copies {
                            match (state.faults.reply_delay_ms(&what), &self.link) {
                                (Some(delay), Some(link)) => delayed_publish(link.clone(), Message::new(t.clone(), bytes.clone(), 1, false), delay),
                                _ => self.send_raw(t.clone(), bytes.clone(), 1, false),
                            }
                        }
                    }
                    Err(e) => tracing::warn!(dev = %self.dev, "reply topic: {e}"),
                }
            }
            for out in handled.out {
                self.emit(&mut state, out);
            }
            self.pump(&mut state);
        }
    }

    /// The bytes of `reply`, or, when the link cannot carry them (the handlers cut replies to
    /// `reply_max_bytes`, so only a bug gets here), a code 1 reply saying so: the master learns
    /// why instead of timing out, and a reply is never dropped.
    fn fit_reply(&self, state: &mut SimState, topic: &str, reply: &Reply) -> Vec<u8> {
        let limit = payload_limit(&self.link_config, topic);
        let msg = match reply.to_bytes() {
            Ok(bytes) if bytes.len() <= limit => return bytes,
            Ok(bytes) => format!("the reply is {} bytes, over the {limit} bytes this link carries in one message", bytes.len()),
            Err(e) => format!("the reply cannot be sent: {e}"),
        };
        state.counters.publishes_dropped += 1;
        let now = state.now_ms();
        state.log.push(now, Level::Warn, "link", format!("reply to {}: {msg}", reply.id));
        let refusal = Reply { id: reply.id.clone(), ts: now, code: codes::FAILED, msg: Some(msg), data: json!({}) };
        refusal.to_bytes().unwrap_or_default()
    }

    /// Everything a gateway does on (re)connecting: announce itself, report everything once,
    /// resend what it stored and what it was waiting on.
    fn on_online(&mut self) {
        let shared = self.shared.clone();
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        state.online = true;
        state.counters.connects += 1;
        let connects = state.counters.connects;
        self.status.send_modify(|s| s.connects = connects);
        let now = state.now_ms();
        state.log.push(now, Level::Info, "link", format!("online (connect #{connects})"));

        self.publish_status(&state, true, None);
        let info = to_data(&state.info());
        self.emit(&mut state, Outgoing::Other { class: "info", action: "report", data: info });
        let versions = to_data(&state.versions());
        self.emit(&mut state, Outgoing::Other { class: "ota", action: "version", data: versions });
        let props = to_data(&Props { props: state.readable_props(None) });
        self.emit(&mut state, Outgoing::Other { class: "property", action: "report", data: props });
        if !state.ports.is_empty() {
            let ports = to_data(&crate::protocol::payload::Ports { ports: state.ports.iter().map(|p| p.to_port()).collect() });
            self.emit(&mut state, Outgoing::Other { class: "port", action: "report", data: ports });
        }
        // A time/sync of an earlier connection is stale: this one starts afresh.
        self.outbox.forget(|p| matches!(p, Purpose::TimeSync { .. }));
        self.send_time_sync(&mut state, 1);

        for out in state.sample(true) {
            self.emit(&mut state, out);
        }
        let stored = state.offline.take_all();
        if !stored.is_empty() {
            let count = stored.len();
            let base = self.ids.next_id();
            let mut n = 0;
            let batches = make_batches(stored, state.batch_max_bytes, None, || {
                n += 1;
                format!("{base}-h{n}")
            });
            state.log.push(now, Level::Info, "history", format!("{count} stored items to resend in {} batches", batches.len()));
            state.history.push(batches);
        }
        for (topic, payload) in self.outbox.resend_all(Instant::now()) {
            self.send_raw(topic, payload, 1, false);
        }
        self.pump(&mut state);
    }

    fn on_tick(&mut self) {
        self.check_outage();
        let shared = self.shared.clone();
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        for out in state.sample(false) {
            self.emit(&mut state, out);
        }
        if self.online() {
            for due in self.outbox.due(Instant::now()) {
                match due {
                    Due::Resend { topic, payload, purpose } => {
                        if matches!(purpose, Purpose::History { .. }) {
                            state.history.sent += 1;
                        }
                        self.send_raw(topic, payload, 1, false);
                    }
                    Due::GaveUp(p) => self.gave_up(&mut state, p.purpose),
                }
            }
            let entries = state.log.take_unsent();
            if !entries.is_empty() {
                let limit = self.topic("log", "report").map_or(MAX_PAYLOAD_BYTES, |t| payload_limit(&self.link_config, &t));
                for run in split_to_fit(entries, "entries", usize::MAX, limit) {
                    self.emit(&mut state, Outgoing::Other { class: "log", action: "report", data: to_data(&LogEntries { entries: run, truncated: false }) });
                }
            }
        } else {
            self.outbox.hold(Instant::now());
        }
        state.online = self.online();
        self.pump(&mut state);
    }

    /// Publishes `out`, or stores it while offline (reports only; the rest is not worth keeping).
    fn emit(&mut self, state: &mut SimState, out: Outgoing) {
        if !self.online() {
            match out {
                Outgoing::Points { points, .. } => points.into_iter().for_each(|p| state.offline.push(Item::Point(p))),
                Outgoing::Readings(readings) => readings.into_iter().for_each(|r| state.offline.push(Item::Reading(r))),
                Outgoing::Alarms(alarms) => alarms.into_iter().for_each(|a| state.offline.push(Item::Alarm(a))),
                Outgoing::Other { .. } => {}
            }
            return;
        }
        match out {
            Outgoing::Points { change, points } => {
                let action = if change { "change" } else { "report" };
                let limit = self.topic("point", action).map_or(MAX_PAYLOAD_BYTES, |t| payload_limit(&self.link_config, &t));
                for run in split_to_fit(points, "points", POINTS_PER_MESSAGE, limit) {
                    self.publish(state, "point", action, to_data(&Points { points: run }));
                    if change {
                        state.counters.changes_sent += 1;
                    } else {
                        state.counters.reports_sent += 1;
                    }
                }
            }
            Outgoing::Readings(readings) => {
                let limit = self.topic("meter", "report").map_or(MAX_PAYLOAD_BYTES, |t| payload_limit(&self.link_config, &t));
                for run in split_to_fit(readings, "readings", usize::MAX, limit) {
                    self.publish(state, "meter", "report", to_data(&Readings { readings: run }));
                    state.counters.meter_reports_sent += 1;
                }
            }
            Outgoing::Alarms(alarms) => {
                self.send_request(state, "alarm", "report", json!({ "alarms": alarms }), Purpose::Alarm);
                state.counters.alarms_sent += 1;
            }
            Outgoing::Other { class, action, data } => self.publish(state, class, action, data),
        }
    }

    fn envelope(&self, state: &SimState, id: String, data: Value) -> Option<Bytes> {
        let request = Request { id, ts: state.now_ms(), ver: PROTOCOL_VERSION.into(), data };
        match request.to_bytes() {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(e) => {
                tracing::warn!(dev = %self.dev, "not sent: {e}");
                None
            }
        }
    }

    fn topic(&self, class: &str, action: &str) -> Option<String> {
        self.profile
            .build(&CemsTopic::new(&self.pk, &self.dev, Dir::Up, class, action))
            .inspect_err(|e| tracing::warn!(dev = %self.dev, "topic {class}/{action}: {e}"))
            .ok()
    }

    /// A report (fire and forget).
    fn publish(&self, state: &mut SimState, class: &str, action: &str, data: Value) {
        let (Some(topic), Some(payload)) = (self.topic(class, action), self.envelope(state, self.ids.next_id(), data)) else {
            return;
        };
        if self.refuse_oversize(state, &topic, payload.len()) {
            return;
        }
        self.send_raw(topic, payload, publish_qos(class, action, false), false);
    }

    fn send_raw(&self, topic: String, payload: Bytes, qos: u8, retain: bool) {
        if let Some(link) = &self.link
            && let Err(e) = link.publish(Message::new(topic, payload, qos, retain))
        {
            tracing::debug!(dev = %self.dev, "{e}");
        }
    }

    fn publish_status(&self, state: &SimState, online: bool, reason: Option<&str>) {
        let Ok(topic) = self.profile.status_topic(&self.pk, &self.dev) else { return };
        let data = match reason {
            Some(r) => json!({"online": online, "reason": r}),
            None => json!({"online": online}),
        };
        if let Some(payload) = self.envelope(state, self.ids.next_id(), data) {
            self.send_raw(topic, payload, 1, true);
        }
    }

    /// Starts or ends the configured outage.
    fn check_outage(&mut self) {
        let Some(outage) = self.outage else { return };
        let elapsed = self.started.elapsed().as_secs_f64();
        if !self.in_outage && !self.outage_done && elapsed >= outage.at_secs {
            self.begin_outage(outage);
        } else if self.in_outage && elapsed >= outage.at_secs + outage.for_secs {
            self.end_outage();
        }
    }

    fn begin_outage(&mut self, outage: Outage) {
        let shared = self.shared.clone();
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let now = state.now_ms();
        state.log.push(now, Level::Warn, "outage", format!("simulated outage: offline for {:.1} s", outage.for_secs));
        if self.reopenable() {
            if self.kind == LinkKind::Mqtt && self.online() && !state.faults.no_will() {
                // Close sends a clean DISCONNECT, after which a broker does not fire the will:
                // say what the will would have said.
                self.publish_status(&state, false, Some("lost"));
            }
            if let Some(link) = self.link.take() {
                link.close();
            }
            self.events = None;
            self.link_up = false;
        }
        // A link that cannot be reopened (a serial stream handed over once) stays open and the
        // gateway stops answering on it; its transport still answers pings.
        self.in_outage = true;
        state.online = false;
        self.outbox.hold(Instant::now());
        self.set_status(LinkState::Down { reason: "simulated outage".into() });
    }

    /// True when the link can be closed and opened again: MQTT, or a serial device path.
    fn reopenable(&self) -> bool {
        match &self.link_config {
            LinkConfig::Mqtt(_) => true,
            LinkConfig::Serial(serial) => matches!(serial.source, SerialSource::Device),
            LinkConfig::Replay(_) => false,
        }
    }

    fn end_outage(&mut self) {
        self.in_outage = false;
        self.outage_done = true;
        {
            let mut state = self.state();
            let now = state.now_ms();
            state.log.push(now, Level::Info, "outage", "simulated outage over");
        }
        if self.link.is_none() {
            if let Err(e) = self.open_link() {
                let mut state = self.state();
                let now = state.now_ms();
                state.log.push(now, Level::Error, "link", format!("cannot reconnect: {e}"));
            }
        } else if self.link_up {
            // The link stayed open: announce again, as after a silence.
            self.set_status(LinkState::Up);
            self.on_online();
        }
    }

    async fn shutdown(&mut self) {
        {
            let shared = self.shared.clone();
            let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
            if self.online() {
                self.publish_status(&state, false, Some("stopped"));
            }
            state.online = false;
            let now = state.now_ms();
            state.log.push(now, Level::Info, "link", "stopped");
        }
        if let Some(link) = self.link.take() {
            link.close();
        }
        // Let the link flush the status before its task ends.
        if let Some(mut events) = self.events.take() {
            let deadline = Instant::now() + STOP_FLUSH;
            while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
                if event == LinkEvent::State(LinkState::Closed) {
                    break;
                }
            }
        }
        self.link_up = false;
        self.set_status(LinkState::Closed);
    }
}

/// Fault `SlowReply`: the reply goes out `delay_ms` later, on a task of its own.
fn delayed_publish(link: LinkHandle, message: Message, delay_ms: u64) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        // A link closed meanwhile loses the late reply, as a real late gateway's would be.
        let _ = link.publish(message);
    });
}

/// The gateway's will (contract §4): status offline, reason "lost", retained, QoS 1.
fn lost_will(topic: &str, ids: &IdGenerator, ts: i64) -> Message {
    let will = Request { id: ids.next_id(), ts, ver: PROTOCOL_VERSION.into(), data: json!({"online": false, "reason": "lost"}) };
    let payload = serde_json::to_vec(&will).unwrap_or_default();
    Message::new(topic, payload, 1, true)
}

/// A link state as a person reads it, for the log.
fn describe_link_state(state: &LinkState) -> String {
    match state {
        LinkState::Connecting { attempt } => format!("connecting (attempt {attempt})"),
        LinkState::Up => "up".into(),
        LinkState::Down { reason } => format!("down: {reason}"),
        LinkState::Closed => "closed".into(),
    }
}

fn interval(ms: u64) -> tokio::time::Interval {
    let mut ticker = tokio::time::interval(Duration::from_millis(ms.max(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker
}

async fn next_event(events: &mut Option<mpsc::Receiver<LinkEvent>>) -> Option<LinkEvent> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
