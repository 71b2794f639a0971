//! The engine task: one loop that owns the sessions and handles every command and link event
//! in one place, so no state is shared with the callers but the store and the gateway table.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::discovery::Discovery;
use super::gateways::GatewayKey;
use super::requests::{Finished, PendingRequests, ReplySource, RequestFailure, RequestSpec, SessionId};
use super::tasks::{SessionInfo, TaskAction, TaskKind, TransferPhase, TransferTasks};
use super::transfers::{TransferKind, TransferService};
use super::api::{EngineCommand, EngineConfig, EngineEvent, SessionOptions, SharedState};
use super::notice::{self, NoticeText};
use super::history::{HistoryBatch, alarms_of};
use super::recording::{RecordOptions, RecordingMeta, RecordingOutcome};
use super::taps::{Taps, recording_ended_notice};
use super::series::feed::engine_side as series_feed;
use super::stations::{StationService, StorageCommandOutcome, StorageCommandSpec};
use crate::protocol::codes;
use crate::protocol::envelope::{Envelope, IdGenerator, Reply, Request, parse_envelope};
use crate::protocol::payload::{self, Payload};
use crate::protocol::time::now_ms;
use crate::protocol::topic::{CemsTopic, Dir, publish_qos};
use crate::transport::{LinkCommand, LinkConfig, LinkEvent, LinkHandle, LinkKind, LinkState, Message, spawn_link};

/// Link events waiting for the engine; beyond this the links wait (backpressure).
const LINK_QUEUE: usize = 8192;
/// Link events handled before a batch is flushed, so the GUI sees progress under load.
const BATCH_LIMIT: usize = 1024;
/// Event batches the faces may leave unread (a GUI drains every frame; a stalled `watch` does not).
pub(super) const EVENT_BATCHES: usize = 256;
/// Events held while the channel is full, besides forwarded messages (dropped) and gateway
/// changes (kept once each).
const HELD_EVENTS: usize = 100_000;
/// Payload bytes of forwarded messages on their way to a reader.
const FORWARD_BUDGET_BYTES: u64 = 64 * 1024 * 1024;

/// Payload bytes of the forwarded messages in `batch`, as the budget counts them.
pub(super) fn forwarded_bytes(batch: &[EngineEvent]) -> u64 {
    batch.iter().map(|e| if let EngineEvent::Message { message, .. } = e { message.payload.len() as u64 } else { 0 }).sum()
}

struct Session {
    link: LinkHandle,
    state: LinkState,
    attempts: u32,
    forwarder: JoinHandle<()>,
    /// Only the master's duties are published (`SessionOptions::read_only`).
    read_only: bool,
}

pub(super) struct EngineCore {
    config: EngineConfig,
    state: SharedState,
    sessions: HashMap<SessionId, Session>,
    pending: PendingRequests,
    link_tx: mpsc::Sender<(SessionId, LinkEvent)>,
    link_rx: mpsc::Receiver<(SessionId, LinkEvent)>,
    events: mpsc::Sender<Vec<EngineEvent>>,
    batch: Vec<EngineEvent>,
    changed_gateways: BTreeSet<GatewayKey>,
    notify: Box<dyn Fn() + Send + Sync>,
    ids: Arc<IdGenerator>,
    transfers: TransferService,
    /// Gateways already asked for their info and versions in this engine's life.
    discovery: Discovery,
    /// Events a full channel could not take yet, oldest first.
    held: VecDeque<EngineEvent>,
    /// Events dropped since the reader last kept up.
    dropped_events: u64,
    /// Payload bytes of forwarded messages the reader has not taken yet (it subtracts them).
    forwarded_in_flight: Arc<AtomicU64>,
    tasks: TransferTasks,
    /// Work done off the loop (atomic file writes) reports back here.
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: mpsc::UnboundedReceiver<Internal>,
    /// Any path series is tracked: only then are messages looked up in the series store.
    tracking_paths: bool,
    /// The MCAP recording and the point history, fed from the loop.
    taps: Taps,
    /// Energy-storage stations and the commands sent to them.
    stations: StationService,
}

/// Results of work the loop handed to other threads.
enum Internal {
    Written { id: String, result: Result<(), String> },
    /// The recording thread of `path` ended.
    RecordingEnded { path: std::path::PathBuf, outcome: RecordingOutcome },
}

impl EngineCore {
    pub(super) fn new(
        config: EngineConfig,
        state: SharedState,
        ids: Arc<IdGenerator>,
        (events, forwarded_in_flight): (mpsc::Sender<Vec<EngineEvent>>, Arc<AtomicU64>),
        notify: Box<dyn Fn() + Send + Sync>,
    ) -> Self {
        let (link_tx, link_rx) = mpsc::channel(LINK_QUEUE);
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let tasks = TransferTasks::new(ids.clone());
        let stations = StationService::new(config.storage_profile.clone());
        EngineCore {
            config,
            state,
            sessions: HashMap::new(),
            pending: PendingRequests::default(),
            link_tx,
            link_rx,
            events,
            batch: Vec::new(),
            held: VecDeque::new(),
            forwarded_in_flight,
            dropped_events: 0,
            changed_gateways: BTreeSet::new(),
            notify,
            ids,
            discovery: Discovery::new(Instant::now()),
            transfers: TransferService::default(),
            tasks,
            internal_tx,
            internal_rx,
            tracking_paths: false,
            taps: Taps::default(),
            stations,
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<EngineCommand>) {
        loop {
            let deadline = [self.pending.next_deadline(), self.tasks.next_deadline(), self.discovery.next_deadline(), self.stations.next_deadline()]
                .into_iter()
                .flatten()
                .min();
            let keep_going = tokio::select! {
                command = commands.recv() => match command {
                    Some(c) => self.handle_command(c),
                    None => false,
                },
                Some((session, event)) = self.link_rx.recv() => {
                    self.handle_link_event(session, event);
                    true
                },
                Some(internal) = self.internal_rx.recv() => {
                    self.handle_internal(internal);
                    true
                },
                () = sleep_until(deadline) => true,
            };
            if !keep_going {
                break;
            }
            // Take what is already queued before flushing: one batch per burst, not per message.
            for _ in 0..BATCH_LIMIT {
                let Ok((session, event)) = self.link_rx.try_recv() else { break };
                self.handle_link_event(session, event);
            }
            let expired = self.pending.expire(Instant::now());
            self.deliver(expired);
            let unanswered = self.stations.expire(&self.state.stations, Instant::now(), now_ms());
            self.storage_commands_done(unanswered);
            let timed_out = self.tasks.on_tick(Instant::now());
            self.apply(timed_out);
            for (session, key) in self.discovery.due(Instant::now()) {
                self.ask_identity(session, &key);
            }
            if let Some(text) = self.taps.flush() {
                self.emit(EngineEvent::Notice { session: None, text });
            }
            self.flush();
        }
        for session in self.sessions.values() {
            session.link.close();
        }
        self.flush();
    }

    fn emit(&mut self, event: EngineEvent) {
        self.batch.push(event);
    }

    /// Hands the batch to the faces. The channel is bounded ([`EVENT_BATCHES`]): a consumer that
    /// stops reading (`watch` with its stdout stalled) must not grow our memory. While it is full
    /// the batch is held; forwarded messages are dropped and counted (the topic store has them),
    /// a gateway's change is kept once, and everything else is kept up to [`HELD_EVENTS`].
    fn flush(&mut self) {
        let changed = std::mem::take(&mut self.changed_gateways);
        self.batch.extend(changed.into_iter().map(EngineEvent::GatewayChanged));
        self.batch.extend(self.stations.take_changed().into_iter().map(EngineEvent::StationChanged));
        if self.batch.is_empty() && self.held.is_empty() {
            return;
        }
        let mut batch: Vec<EngineEvent> = self.held.drain(..).collect();
        if self.dropped_events > 0 {
            let text = NoticeText::new(notice::EVENTS_DROPPED, vec![("n", self.dropped_events.to_string().into())]);
            batch.push(EngineEvent::Notice { session: None, text });
        }
        batch.append(&mut self.batch);
        match self.events.try_send(batch) {
            Ok(()) => {
                self.dropped_events = 0;
                (self.notify)();
            }
            Err(mpsc::error::TrySendError::Full(batch)) => self.hold(batch),
            // Nobody listening is fine: a script may only want the shared state.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Keeps what a full channel could not take, within [`HELD_EVENTS`].
    fn hold(&mut self, batch: Vec<EngineEvent>) {
        let mut changed = BTreeSet::new();
        for event in batch {
            match event {
                EngineEvent::Message { message, .. } => {
                    self.dropped_events += 1;
                    self.forwarded_in_flight.fetch_sub(message.payload.len() as u64, Ordering::Relaxed);
                }
                // The notice is made again, with the new count, when the reader is back.
                EngineEvent::Notice { session: None, ref text } if text.key() == notice::EVENTS_DROPPED => {}
                EngineEvent::GatewayChanged(key) => {
                    if !changed.insert(key) {
                        self.dropped_events += 1;
                    }
                }
                other if self.held.len() < HELD_EVENTS => self.held.push_back(other),
                _ => self.dropped_events += 1,
            }
        }
        self.held.extend(changed.into_iter().map(EngineEvent::GatewayChanged));
    }

    fn deliver(&mut self, finished: Vec<Finished>) {
        for (outcome, reply) in finished {
            let actions = self.tasks.on_request_done(&outcome, Instant::now());
            self.state.gateways.write().unwrap_or_else(|e| e.into_inner()).log_request(&outcome, now_ms());
            self.changed_gateways.insert(GatewayKey { pk: outcome.pk.clone(), dev: outcome.dev.clone() });
            if let Some(tx) = reply {
                // The caller may have given up waiting; the event still carries the outcome.
                let _ = tx.send(outcome.clone());
            }
            self.emit(EngineEvent::RequestDone(outcome));
            self.apply(actions);
        }
    }

    /// Carries out what the transfer tasks decided.
    fn apply(&mut self, actions: Vec<TaskAction>) {
        for action in actions {
            match action {
                TaskAction::Request { spec, id } => {
                    // A request never stops the engine.
                    self.handle_command(EngineCommand::Request { spec, id, reply: None });
                }
                TaskAction::Offer { kind, id, data, chunk_size } => self.transfers.offer(kind, id, data, chunk_size),
                TaskAction::Withdraw { kind, id } => {
                    self.transfers.withdraw(kind, &id);
                }
                TaskAction::Status { status, event } => {
                    if event && status.kind == TaskKind::Ota && status.phase == TransferPhase::Done {
                        self.refresh_identity(status.session, &status.gateway);
                    }
                    self.state.transfers.write().unwrap_or_else(|e| e.into_inner()).update(status.clone());
                    if event {
                        self.emit(EngineEvent::Transfer(status));
                    }
                }
                TaskAction::Write { id, dest, data } => {
                    let tx = self.internal_tx.clone();
                    // fsync and rename can take long on a slow disk: not on the loop.
                    tokio::task::spawn_blocking(move || {
                        let result = crate::disk::write_atomic(&dest, &data).map_err(|e| e.to_string());
                        // The engine may have stopped meanwhile; nobody is left to tell.
                        let _ = tx.send(Internal::Written { id, result });
                    });
                }
            }
        }
    }

    fn handle_internal(&mut self, internal: Internal) {
        match internal {
            Internal::Written { id, result } => {
                let actions = self.tasks.on_written(&id, result, Instant::now());
                self.apply(actions);
            }
            Internal::RecordingEnded { path, outcome } => {
                self.taps.recording_ended(&path);
                self.emit(EngineEvent::Notice { session: None, text: recording_ended_notice(&path, &outcome) });
            }
        }
    }

    fn start_recording(&mut self, path: std::path::PathBuf, meta: RecordingMeta, options: RecordOptions) {
        let tx = self.internal_tx.clone();
        let ended_path = path.clone();
        // The engine may have stopped by the time the file is finished; nobody is left to tell.
        let ended = move |outcome| drop(tx.send(Internal::RecordingEnded { path: ended_path, outcome }));
        if let Err(text) = self.taps.start_recording(path, (meta, options), self.state.recording.clone(), ended) {
            self.emit(EngineEvent::Notice { session: None, text });
        }
    }

    fn session_info(&self, session: SessionId) -> Option<SessionInfo> {
        self.sessions.get(&session).map(|s| SessionInfo { kind: s.link.kind, up: s.state == LinkState::Up })
    }

    /// Returns false to stop the engine.
    fn handle_command(&mut self, command: EngineCommand) -> bool {
        match command {
            EngineCommand::Connect { session, config, options } => self.connect(session, config, options),
            EngineCommand::Disconnect { session } => self.disconnect(session),
            EngineCommand::Publish { session, message } => {
                if self.is_replay(session) {
                    let args = vec![("topic", message.topic.as_str().into()), ("session", session.to_string().into())];
                    let text = NoticeText::new("not sent: {topic}: session {session} is a replay, and a replay does not publish", args);
                    self.emit(EngineEvent::Notice { session: Some(session), text });
                } else if self.is_read_only(session) {
                    let args = vec![("topic", message.topic.as_str().into()), ("session", session.to_string().into())];
                    let text = NoticeText::new("not sent: {topic}: session {session} is read-only", args);
                    self.emit(EngineEvent::Notice { session: Some(session), text });
                } else {
                    let topic = message.topic.clone();
                    if let Err(reason) = self.link(session).and_then(|l| l.publish(message).map_err(|e| e.to_string())) {
                        let text = NoticeText::new("not sent: {topic}: {reason}", vec![("topic", topic.into()), ("reason", reason.into())]);
                        self.emit(EngineEvent::Notice { session: Some(session), text });
                    }
                }
            }
            EngineCommand::Subscribe { session, filter, qos } => {
                self.link_command(session, LinkCommand::Subscribe(crate::transport::Subscription::new(filter, qos)))
            }
            EngineCommand::Unsubscribe { session, filter } => self.link_command(session, LinkCommand::Unsubscribe(filter)),
            EngineCommand::ReplayControl { session, control } => self.link_command(session, LinkCommand::Replay(control)),
            EngineCommand::Request { spec, id, reply } => {
                let session = spec.session;
                if let Some(superseded) = self.pending.insert(id.clone(), spec, Instant::now(), reply) {
                    self.deliver(vec![superseded]);
                }
                match self.send_request(&id) {
                    Ok(topic) => self.emit(EngineEvent::RequestSent { session, id, topic }),
                    Err(failure) => {
                        let finished = self.pending.fail(&id, failure, Instant::now());
                        self.deliver(finished.into_iter().collect());
                    }
                }
            }
            EngineCommand::OfferImage { kind, id, data, chunk_size } => self.transfers.offer(kind, id, data, chunk_size),
            EngineCommand::WithdrawImage { kind, id } => {
                self.transfers.withdraw(kind, &id);
            }
            EngineCommand::StartOta(spec) => {
                let actions = self.tasks.start_ota(spec.clone(), self.session_info(spec.session), Instant::now());
                self.apply(actions);
            }
            EngineCommand::StartFileDownload(spec) => {
                let actions = self.tasks.start_download(spec.clone(), self.session_info(spec.session), Instant::now());
                self.apply(actions);
            }
            EngineCommand::StartFileUpload(spec) => {
                let actions = self.tasks.start_upload(spec.clone(), self.session_info(spec.session), Instant::now());
                self.apply(actions);
            }
            EngineCommand::CancelTransfer { id } => {
                let actions = self.tasks.cancel(&id, Instant::now());
                self.apply(actions);
            }
            EngineCommand::SetMasterDuties(on) => self.config.master_duties = on,
            EngineCommand::SetForwardMessages(on) => self.config.forward_messages = on,
            EngineCommand::ClearStore => self.state.store.write().unwrap_or_else(|e| e.into_inner()).clear(),
            EngineCommand::PinTopics { prefix, pinned } => {
                let mut store = self.state.store.write().unwrap_or_else(|e| e.into_inner());
                if pinned { store.pin(&prefix) } else { store.unpin(&prefix) };
            }
            EngineCommand::TrackPath { topic, pointer } => self.tracking_paths = series_feed::track(&self.state, &topic, &pointer),
            EngineCommand::UntrackPath { topic, pointer } => self.tracking_paths = series_feed::untrack(&self.state, &topic, &pointer),
            EngineCommand::SetRetention { key, retention_ms } => series_feed::set_retention(&self.state, &key, retention_ms),
            EngineCommand::StartRecording { path, meta, options } => self.start_recording(path, meta, options),
            EngineCommand::AttachHistory(handle) => {
                let (old, shared) = self.taps.attach_history(*handle);
                *self.state.history.write().unwrap_or_else(|e| e.into_inner()) = Some(shared);
                // Closing waits for its queue: not on the loop.
                if let Some(old) = old {
                    tokio::task::spawn_blocking(move || drop(old));
                }
            }
            EngineCommand::DetachHistory => {
                *self.state.history.write().unwrap_or_else(|e| e.into_inner()) = None;
                if let Some(old) = self.taps.detach_history() {
                    tokio::task::spawn_blocking(move || drop(old));
                }
            }
            EngineCommand::StopRecording => self.taps.stop_recording(),
            EngineCommand::StorageCommand { spec, reply } => self.storage_command(spec, reply),
            EngineCommand::Shutdown => {
                // What is queued is written before the engine ends.
                self.taps.shutdown();
                return false;
            }
        }
        true
    }

    /// Read-only by its options, or a replay (which publishes nothing at all, see `is_replay`).
    fn is_read_only(&self, session: SessionId) -> bool {
        self.sessions.get(&session).is_some_and(|s| s.read_only || s.link.kind == LinkKind::Replay)
    }

    /// A recording played back: no acknowledgements, answers, discovery or requests go out.
    fn is_replay(&self, session: SessionId) -> bool {
        self.sessions.get(&session).is_some_and(|s| s.link.kind == LinkKind::Replay)
    }

    fn link(&self, session: SessionId) -> Result<&LinkHandle, String> {
        self.sessions.get(&session).map(|s| &s.link).ok_or_else(|| format!("session {session} does not exist"))
    }

    fn link_command(&mut self, session: SessionId, command: LinkCommand) {
        if let Err(error) = self.link(session).and_then(|l| l.send(command).map_err(|e| e.to_string())) {
            let text = NoticeText::new("the link did not take the command: {error}", vec![("error", error.into())]);
            self.emit(EngineEvent::Notice { session: Some(session), text });
        }
    }

    fn connect(&mut self, session: SessionId, mut config: LinkConfig, options: SessionOptions) {
        if let LinkConfig::Mqtt(mqtt) = &mut config {
            for filter in options.subscriptions {
                if !mqtt.subscriptions.contains(&filter) {
                    mqtt.subscriptions.push(filter);
                }
            }
        }
        let (link, mut events) = spawn_link(config);
        let tx = self.link_tx.clone();
        let forwarder = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if tx.send((session, event)).await.is_err() {
                    break;
                }
            }
        });
        let state = LinkState::Connecting { attempt: 0 };
        self.emit(EngineEvent::SessionState { session, state: state.clone(), attempts: 0 });
        self.sessions.insert(session, Session { link, state, attempts: 0, forwarder, read_only: options.read_only });
    }

    fn disconnect(&mut self, session: SessionId) {
        let Some(s) = self.sessions.remove(&session) else { return };
        s.link.close();
        s.forwarder.abort();
        let finished = self.pending.fail_session(session, "session closed", Instant::now());
        self.deliver(finished);
        let actions = self.tasks.on_session_closed(session, Instant::now());
        self.apply(actions);
        self.emit(EngineEvent::SessionState { session, state: LinkState::Closed, attempts: s.attempts });
    }

    fn handle_link_event(&mut self, session: SessionId, event: LinkEvent) {
        match event {
            LinkEvent::State(state) => {
                let Some(s) = self.sessions.get_mut(&session) else { return };
                if let LinkState::Connecting { attempt } = state {
                    s.attempts = attempt;
                }
                s.state = state.clone();
                let attempts = s.attempts;
                if state == LinkState::Closed {
                    self.sessions.remove(&session);
                    let finished = self.pending.fail_session(session, "link closed", Instant::now());
                    self.deliver(finished);
                    let actions = self.tasks.on_session_closed(session, Instant::now());
                    self.apply(actions);
                } else {
                    self.tasks.on_link(session, state == LinkState::Up, Instant::now());
                }
                self.emit(EngineEvent::SessionState { session, state, attempts });
            }
            LinkEvent::FramesDropped { total } => self.emit(EngineEvent::FramesDropped { session, total }),
            // A publish the link had to give up on (too big for a serial frame, or one the
            // broker kept closing the connection over): the user must hear of it.
            LinkEvent::PublishDropped { topic, reason } => {
                let text = NoticeText::new("not sent: {topic}: {reason}", vec![("topic", topic.into()), ("reason", reason.into())]);
                self.emit(EngineEvent::Notice { session: Some(session), text });
            }
            LinkEvent::Message(message) => self.handle_message(session, message),
            LinkEvent::Recorded { message, received_ms } => self.handle_message_at(session, message, received_ms),
            // A replay went back to its start: what it stored goes, the replay fills it again.
            LinkEvent::Rewound => {
                let removed = self.state.store.write().unwrap_or_else(|e| e.into_inner()).remove_source(session);
                tracing::debug!(session, removed, "replay rewound: its messages left the topic store");
            }
        }
    }

    fn handle_message(&mut self, session: SessionId, message: Message) {
        self.handle_message_at(session, message, now_ms());
    }

    /// A message received at `received_ms`: now for a live link, the recorded time for a replay.
    fn handle_message_at(&mut self, session: SessionId, message: Message, received_ms: i64) {
        self.taps.message(&message, received_ms);
        if let Some(bytes) = message.skipped_bytes {
            // Over the packet limit: the link kept the connection and passed on only a mark.
            self.state.store.write().unwrap_or_else(|e| e.into_inner()).insert_skipped(&message.topic, received_ms, message.qos, message.retain, bytes, session);
            let args = vec![("topic", message.topic.as_str().into()), ("bytes", bytes.to_string().into()), ("limit", crate::transport::MAX_PACKET_BYTES.to_string().into())];
            let text = NoticeText::new("{topic}: a {bytes}-byte message over the {limit}-byte packet limit was skipped", args);
            self.emit(EngineEvent::Notice { session: Some(session), text });
            return;
        }
        self.state.store.write().unwrap_or_else(|e| e.into_inner()).insert(
            &message.topic,
            received_ms,
            message.qos,
            message.retain,
            message.payload.clone(),
            session,
        );
        if self.tracking_paths {
            series_feed::message(&self.state, &message.topic, &message.payload, received_ms);
        }
        let Ok(topic) = self.config.profile.parse(&message.topic) else {
            if let Some(applied) = self.stations.on_message(&self.state.stations, session, &message, received_ms) {
                if let (Some(topic), true) = (&applied.feed_topic, self.tracking_paths) {
                    series_feed::message(&self.state, topic, &message.payload, received_ms);
                }
                self.storage_commands_done(applied.finished);
            }
            self.forward(session, received_ms, message);
            return;
        };
        // Our own downlinks and other masters' come back when watching `cems/v1/#`: stored, no more.
        if topic.dir == Dir::Up {
            self.handle_uplink(session, &topic, &message.payload, received_ms);
        } else if topic.reply && topic.action == "report" && matches!(topic.class.as_str(), "alarm" | "history") {
            self.alarm_ack_seen(&topic, &message.payload);
        }
        self.forward(session, received_ms, message);
    }

    fn forward(&mut self, session: SessionId, received_ms: i64, message: Message) {
        if !self.config.forward_messages {
            return;
        }
        // Messages are what a stalled reader piles up: past the budget they are dropped here
        // (counted, and said in a notice), while the topic store keeps them.
        let bytes = message.payload.len() as u64;
        if self.forwarded_in_flight.load(Ordering::Relaxed).saturating_add(bytes) > FORWARD_BUDGET_BYTES {
            self.dropped_events += 1;
            return;
        }
        self.forwarded_in_flight.fetch_add(bytes, Ordering::Relaxed);
        self.emit(EngineEvent::Message { session, received_ms, message });
    }

    fn handle_uplink(&mut self, session: SessionId, topic: &CemsTopic, payload: &[u8], received_ms: i64) {
        let key = GatewayKey { pk: topic.pk.clone(), dev: topic.dev.clone() };
        let replay = self.is_replay(session);
        let mut gateways = self.state.gateways.write().unwrap_or_else(|e| e.into_inner());
        // A recording usually starts after its gateways announced themselves: in a replay (the
        // user's own file, not anyone on a broker) a gateway that reports is taken as announced.
        if gateways.seen(&key, session, received_ms) || (replay && gateways.announce(&key, session, received_ms)) {
            self.changed_gateways.insert(key.clone());
        }
        drop(gateways);
        let envelope = match parse_envelope(payload) {
            Ok(e) => e,
            Err(err) => {
                let text = NoticeText::new("{what}: bad envelope: {reason}", vec![("what", topic.class_action().into()), ("reason", err.reason.clone().into())]);
                self.emit(EngineEvent::Notice { session: Some(session), text });
                // A request we are meant to answer gets code 3 when its id can be read (§3).
                if let Some(id) = err.id
                    && self.is_our_duty(topic)
                {
                    self.reply(session, topic, Reply::error(id, codes::BAD_FORMAT, err.reason));
                }
                return;
            }
        };
        match envelope {
            Envelope::Reply(reply) if topic.reply => self.handle_reply(session, &key, topic, reply, received_ms),
            Envelope::Request(request) if !topic.reply => self.handle_report(session, &key, topic, request, received_ms),
            _ => {
                let text = NoticeText::new("{what}: envelope shape does not match the topic (reply vs request)", vec![("what", topic.class_action().into())]);
                self.emit(EngineEvent::Notice { session: Some(session), text });
            }
        }
    }

    fn is_our_duty(&self, topic: &CemsTopic) -> bool {
        self.config.master_duties
            && !topic.reply
            && matches!((topic.class.as_str(), topic.action.as_str()), ("alarm", "report") | ("history", "report") | ("time", "sync"))
    }

    /// A reply counts only as the answer to a pending request of its id that went to this gateway,
    /// class and action over this link. Anything else (the id on another gateway's reply topic, a
    /// reply nobody asked for) stays in the topic store only: no other client on the broker can
    /// complete our requests or write a gateway's record by guessing or copying an id.
    fn handle_reply(&mut self, session: SessionId, key: &GatewayKey, topic: &CemsTopic, reply: Reply, received_ms: i64) {
        let from = ReplySource { session, pk: &topic.pk, dev: &topic.dev, class: &topic.class, action: &topic.action };
        let Some(finished) = self.pending.complete(&reply.id, &from, reply.code, reply.msg, reply.data, Instant::now()) else {
            tracing::debug!(id = %reply.id, gateway = %key, "{}/reply answers no pending request: ignored ({} so far)", topic.class_action(), self.pending.unmatched());
            return;
        };
        // Recorded only now that it is known to answer our request.
        if let Ok(answer) = &finished.0.result {
            self.record_reply_data(session, key, topic, &answer.data, answer.code, received_ms);
            if answer.code == codes::OK {
                self.note_alarm_facts(key, topic, &reply.id, &answer.data, received_ms);
            }
        }
        self.deliver(vec![finished]);
    }

    /// What the alarm rows and recalls learn from a reply: active alarms (`alarm/get`, their
    /// acknowledgement unknown) and how many batches a recall (`history/get`) will send.
    fn note_alarm_facts(&mut self, key: &GatewayKey, topic: &CemsTopic, id: &str, data: &Value, now: i64) {
        let typed = match (topic.class.as_str(), topic.action.as_str()) {
            ("alarm", "get") | ("history", "get") => payload::decode(&topic.class, &topic.action, true, data).typed,
            _ => return,
        };
        let mut gateways = self.state.gateways.write().unwrap_or_else(|e| e.into_inner());
        match typed {
            Ok(Payload::Alarms(a)) => gateways.note_alarms(key, &a.alarms, None, false, now),
            Ok(Payload::HistoryGetReply(h)) => gateways.recall_announced(key, id, h.batches, now),
            _ => return,
        }
        drop(gateways);
        self.changed_gateways.insert(key.clone());
    }

    /// A reply to a gateway's `alarm/report` or `history/report` (whose alarms are acknowledged
    /// with their batch) seen on its downlink: ours coming back, or another master's (the window
    /// subscribes to these replies for this).
    fn alarm_ack_seen(&mut self, topic: &CemsTopic, payload: &[u8]) {
        let Ok(Envelope::Reply(reply)) = parse_envelope(payload) else { return };
        // A refusal acknowledges nothing: the gateway keeps the report and sends it again (§5).
        if reply.code != codes::OK {
            return;
        }
        let key = GatewayKey { pk: topic.pk.clone(), dev: topic.dev.clone() };
        self.state.gateways.write().unwrap_or_else(|e| e.into_inner()).alarm_ack_seen(&key, &reply.id);
        self.taps.history(|| HistoryBatch::ack(&key.pk, &key.dev, &reply.id, now_ms()));
        self.changed_gateways.insert(key);
    }

    /// Feeds the series with a decoded payload's samples and hands them, with its alarms, to the
    /// point history: one extraction for both, and only for a gateway the table knows.
    fn keep_samples(&mut self, key: &GatewayKey, action: &str, report_id: Option<&str>, payload: &Payload, now: i64) {
        let alarms = alarms_of(payload);
        let wanted = self.taps.keeps_history() && !alarms.is_empty();
        let Some(samples) = series_feed::payload(&self.state, key, payload, wanted) else { return };
        self.taps.history(|| HistoryBatch::of_samples(&key.pk, &key.dev, action, report_id, samples, alarms, now));
    }

    /// Keeps what a successful reply says about its gateway, as a report of the same fact would.
    fn record_reply_data(&mut self, session: SessionId, key: &GatewayKey, topic: &CemsTopic, data: &Value, code: i64, now: i64) {
        if code != codes::OK {
            return;
        }
        let Ok(typed) = payload::decode(&topic.class, &topic.action, true, data).typed else { return };
        self.keep_samples(key, &topic.action, None, &typed, now);
        if self.state.gateways.write().unwrap_or_else(|e| e.into_inner()).apply_on(key, typed, session, now)
        {
            self.changed_gateways.insert(key.clone());
        }
    }

    fn handle_report(&mut self, session: SessionId, key: &GatewayKey, topic: &CemsTopic, request: Request, now: i64) {
        if topic.action == "chunk/get" {
            let kind = match topic.class.as_str() {
                "ota" => TransferKind::Ota,
                "file" => TransferKind::File,
                _ => return,
            };
            self.serve_chunk(session, topic, kind, request);
            return;
        }
        let decoded = payload::decode(&topic.class, &topic.action, false, &request.data);
        let typed = match decoded.typed {
            Ok(t) => t,
            Err(err) => {
                let args = vec![("gateway", key.to_string().into()), ("what", topic.class_action().into()), ("error", err.to_string().into())];
                self.emit(EngineEvent::Notice { session: Some(session), text: NoticeText::new("{gateway}/{what}: {error}", args) });
                if self.is_our_duty(topic) {
                    self.reply(session, topic, Reply::error(request.id, codes::BAD_PARAM, err.to_string()));
                }
                return;
            }
        };
        let now_instant = Instant::now();
        let actions = match &typed {
            Payload::OtaProgress(p) => self.tasks.on_ota_progress(key, p, now_instant),
            Payload::FileDownloadResult(r) => self.tasks.on_download_result(key, r, now_instant),
            Payload::Versions(v) => self.tasks.on_versions(key, &v.modules, now_instant),
            _ => Vec::new(),
        };
        self.apply(actions);
        // Only a gateway that announces itself is asked who it is, and at a bounded rate.
        let announces = matches!(typed, Payload::Status(ref s) if s.online) || matches!(typed, Payload::Info(_));
        // A replay acknowledges nothing: the gateway was answered (or not) when it was recorded.
        let answer = if self.config.master_duties && !self.is_replay(session) { duty_answer(topic, &request.id, &typed, now) } else { None };
        let acked = answer.is_some();
        // The acknowledgement goes out first: it is what the gateway waits for.
        if let Some(reply) = answer {
            self.reply(session, topic, reply);
        }
        let alarms = match &typed {
            Payload::Alarms(a) => Some(a.alarms.clone()),
            Payload::HistoryReport(h) => h.alarms.clone(),
            _ => None,
        };
        self.keep_samples(key, &topic.action, Some(&request.id), &typed, now);
        if acked && alarms.is_some() {
            self.taps.history(|| HistoryBatch::ack(&key.pk, &key.dev, &request.id, now));
        }
        let mut gateways = self.state.gateways.write().unwrap_or_else(|e| e.into_inner());
        let known = gateways.apply_on(key, typed, session, now);
        if let Some(alarms) = alarms {
            // Both reports are acknowledged by their own id: the alarms of a batch with the batch.
            gateways.note_alarms(key, &alarms, Some(request.id.as_str()), acked, now);
        }
        drop(gateways);
        if known {
            self.changed_gateways.insert(key.clone());
            if announces {
                self.discover(session, key);
            }
        }
    }

    /// Answers a chunk request from the image by offset, only for what this engine announced:
    /// code 7 for a task it withdrew, silence for one it never announced (another workbench on
    /// the broker may own it), master duties or not.
    fn serve_chunk(&mut self, session: SessionId, topic: &CemsTopic, kind: TransferKind, request: Request) {
        use super::transfers::ChunkAnswer;
        let task_id = request.data.get(kind.id_field()).and_then(Value::as_str).map(str::to_owned);
        // A request naming no id could be anyone's: only a master on duty tells it so.
        if task_id.is_none() && !self.config.master_duties {
            return;
        }
        let (reply, served) = match self.transfers.respond(kind, &request.data) {
            // Never announced here: another master on the broker may own it (contract §8).
            ChunkAnswer::Silent => return,
            ChunkAnswer::Serve(data) => {
                let mut served = None;
                if let Some(id) = &task_id
                    && let Some(image) = self.transfers.get(kind, id)
                {
                    let (bytes_served, high_water, size) = (image.bytes_served, image.high_water, image.data.len() as u64);
                    served = Some(image.counters());
                    self.emit(EngineEvent::ChunkServed { kind, id: id.clone(), bytes_served, high_water, size });
                }
                (Reply::ok(request.id, data), served)
            }
            ChunkAnswer::Refuse(refusal) => (Reply::error(request.id, refusal.code, refusal.msg), None),
        };
        // Replied before the task hears of it, so a status event never runs ahead of the chunk.
        self.reply(session, topic, reply);
        if let Some(id) = task_id {
            let actions = self.tasks.on_chunk_request(kind, &id, served, Instant::now());
            self.apply(actions);
        }
    }

    /// Queues a newly announced gateway to be asked what it announced when it connected (its
    /// reports of that went out maybe long before we did); asked at the discovery rate.
    fn discover(&mut self, session: SessionId, key: &GatewayKey) {
        // Asking is not a duty: a read-only session only listens.
        if self.config.discover && !self.is_read_only(session) {
            self.discovery.want(session, key);
        }
    }

    /// Asks a queued gateway for its identity, unless it has told it by now.
    fn ask_identity(&mut self, session: SessionId, key: &GatewayKey) {
        let has_info = self.state.gateways().get(key).is_some_and(|g| g.info.is_some() && !g.versions.is_empty());
        if !has_info {
            self.refresh_identity(session, key);
        }
    }

    /// Asks a gateway for its info and module versions: after an upgrade both have changed, and a
    /// gateway that does not announce itself again would otherwise show the old firmware.
    fn refresh_identity(&mut self, session: SessionId, key: &GatewayKey) {
        if self.is_read_only(session) {
            return;
        }
        for (class, action) in [("info", "get"), ("ota", "version/get")] {
            let id = self.ids.next_id();
            let mut spec = RequestSpec::new(session, &key.pk, &key.dev, class, action, json!({}));
            // Discovery yields to acknowledgements and the user's requests on a busy link.
            spec.bulk = true;
            self.handle_command(EngineCommand::Request { spec, id, reply: None });
        }
    }

    fn reply(&mut self, session: SessionId, topic: &CemsTopic, reply: Reply) {
        // Every answer of the master's (acks, time, bad formats, chunks) comes here; a replay's
        // gateway is not listening, and its answers are in the recording when it had any.
        if self.is_replay(session) {
            return;
        }
        let result = self
            .config
            .profile
            .build(&topic.reply_topic())
            .map_err(|e| e.to_string())
            .and_then(|t| reply.to_bytes().map(|p| (t, p)).map_err(|e| e.to_string()))
            .and_then(|(t, p)| {
                let qos = publish_qos(&topic.class, &topic.action, true);
                self.link(session)?.publish(Message::new(t, p, qos, false)).map_err(|e| e.to_string())
            });
        if let Err(text) = result {
            let text = NoticeText::new("cannot reply to {what}: {error}", vec![("what", topic.class_action().into()), ("error", text.into())]);
            self.emit(EngineEvent::Notice { session: Some(session), text });
        }
    }

    /// Publishes a command to a storage station, or says at once why it cannot go.
    fn storage_command(&mut self, spec: StorageCommandSpec, reply: Option<tokio::sync::oneshot::Sender<StorageCommandOutcome>>) {
        let session = spec.session;
        let refusal = if !self.sessions.contains_key(&session) {
            Some(format!("no session {session}"))
        } else if self.is_replay(session) {
            Some(format!("session {session} is a replay, and a replay does not publish"))
        } else if self.is_read_only(session) {
            Some(format!("session {session} is read-only"))
        } else {
            None
        };
        let prepared = match self.stations.prepare(&self.state.stations, spec, reply, now_ms()) {
            Ok(prepared) => prepared,
            Err(finished) => return self.storage_commands_done(vec![*finished]),
        };
        let sent = match refusal {
            Some(reason) => Err(reason),
            None => self.link(session).and_then(|l| l.publish(prepared.message).map_err(|e| e.to_string())),
        };
        if let Err(reason) = sent {
            let finished = self.stations.not_sent(&self.state.stations, &prepared.station, &prepared.code, reason);
            self.storage_commands_done(finished.into_iter().collect());
        }
    }

    fn storage_commands_done(&mut self, finished: Vec<super::stations::Finished>) {
        for (outcome, reply) in finished {
            if let Some(tx) = reply {
                // The caller may have given up waiting; the event still carries the outcome.
                let _ = tx.send(outcome.clone());
            }
            self.emit(EngineEvent::StorageCommandDone(outcome));
        }
    }

    /// Publishes a request already in the pending table; returns its topic.
    fn send_request(&mut self, id: &str) -> Result<String, RequestFailure> {
        let Some(spec) = self.pending.spec(id).cloned() else {
            return Err(RequestFailure::Encode(format!("request {id} is not pending")));
        };
        let session = self.sessions.get(&spec.session).ok_or(RequestFailure::NoSession(spec.session))?;
        // Refused here, so the refusal is an outcome in the request log like any other failure.
        if session.link.kind == LinkKind::Replay {
            return Err(RequestFailure::Encode(format!("session {} is a replay, and a replay does not publish", spec.session)));
        }
        if session.read_only {
            return Err(RequestFailure::ReadOnly(spec.session));
        }
        let link = session.link.clone();
        let topic = CemsTopic::new(&spec.pk, &spec.dev, Dir::Down, &spec.class, &spec.action);
        let topic_text = self.config.profile.build(&topic).map_err(|e| RequestFailure::Encode(e.to_string()))?;
        // t1 of a time/get is when it goes to the link (§9), not when a form built it.
        let request = Request::new(id, super::clock::stamp_send_time(&spec.class, &spec.action, spec.data));
        let payload = request.to_bytes().map_err(|e| RequestFailure::Encode(e.to_string()))?;
        let qos = publish_qos(&spec.class, &spec.action, false);
        let message = Message::new(topic_text.clone(), payload, qos, false);
        let sent = if spec.bulk { link.publish_bulk(message) } else { link.publish(message) };
        sent.map_err(|e| RequestFailure::LinkClosed(e.to_string()))?;
        Ok(topic_text)
    }
}

/// The master's answer to a report it must acknowledge or a request it must answer (§6.9,
/// §6.12, §6.13), made before the payload is handed on.
fn duty_answer(topic: &CemsTopic, id: &str, typed: &Payload, received_ms: i64) -> Option<Reply> {
    match typed {
        Payload::Alarms(_) => Some(Reply::ok(id.to_owned(), json!({}))),
        Payload::HistoryReport(h) => Some(Reply::ok(id.to_owned(), json!({ "batchId": h.batch_id }))),
        // t2 is when the request arrived, t3 when the answer leaves (§9).
        Payload::TimeRequest(t) if topic.class == "time" => Some(Reply::ok(id.to_owned(), json!({ "t1": t.t1, "t2": received_ms, "t3": now_ms() }))),
        _ => None,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
