//! The vocabulary every link speaks, whatever carries it: messages, states, events, commands and
//! the handle. Below the MQTT and serial links and the layer's face (`mod.rs`), so neither
//! imports the other.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::replay_control::{ReplayControl, ReplayProgress};

/// Capacity of a link's event channel.
pub const LINK_EVENT_CAPACITY: usize = 4096;

/// The largest MQTT packet, as its remaining length (what rumqttd and rumqttc compare): the
/// embedded broker refuses more, and an MQTT link neither sends more nor passes more on (it
/// skips it, see [`Message::skipped_bytes`]). One number for both, so that our broker never
/// stores what our clients cannot take. Big enough for a firmware image in one piece.
pub const MAX_PACKET_BYTES: usize = 16 * 1024 * 1024;

/// Bulk publishes (discovery and other traffic that can be sent again later) a link keeps while
/// it cannot send them; beyond this the oldest bulk ones are dropped and counted.
pub const MAX_PENDING_BULK: usize = 1_000;
/// Bytes of bulk publishes (topic and payload) a link keeps.
pub const MAX_PENDING_BULK_BYTES: usize = 32 * 1024 * 1024;
/// Essential publishes (acknowledgements, replies, user requests) a link keeps. Bulk traffic
/// never pushes them out; beyond this the oldest essential ones are dropped, each reported as
/// [`LinkEvent::PublishDropped`].
pub const MAX_PENDING_ESSENTIAL: usize = 100_000;
/// Bytes of essential publishes (topic and payload) a link keeps.
pub const MAX_PENDING_ESSENTIAL_BYTES: usize = 256 * 1024 * 1024;

/// Why a transport operation failed; the message names what was wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A broker URL that cannot be used; `problem` says which part is wrong.
    #[error("bad broker URL {url:?}: {problem}")]
    BadUrl { url: String, problem: String },
    /// The embedded broker cannot listen on an address (taken, or not ours).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The embedded broker failed to start.
    #[error("embedded broker: {0}")]
    Broker(String),
    /// TLS settings that cannot be used (unreadable CA file, key without certificate, …).
    #[error("TLS: {0}")]
    Tls(String),
}

/// One (topic, payload) pair, as carried by MQTT or by a serial frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    /// 0 or 1 (serial ignores it).
    pub qos: u8,
    pub retain: bool,
    /// `Some(n)`: a message with an `n`-byte payload arrived over the link's packet limit
    /// (another broker with a larger limit passed it on). Its payload was discarded on arrival,
    /// so `payload` is empty: a mark for the user, never data. Always `None` on what we send.
    pub skipped_bytes: Option<usize>,
}

impl Message {
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>, qos: u8, retain: bool) -> Self {
        Message { topic: topic.into(), payload: payload.into(), qos, retain, skipped_bytes: None }
    }

    /// Topic and payload bytes: what a link's pending-publish byte caps count.
    pub fn size(&self) -> usize {
        self.topic.len() + self.payload.len()
    }
}

/// Where a link stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Trying to connect; `attempt` counts from 1 and grows with every reconnect.
    Connecting { attempt: u32 },
    Up,
    /// Lost or refused; the link retries by itself unless it was closed.
    Down { reason: String },
    /// Closed on request; the task has ended.
    Closed,
}

/// What a link reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    State(LinkState),
    Message(Message),
    /// Serial frames dropped (bad COBS, length or CRC) since the link started.
    FramesDropped { total: u64 },
    /// A publish the link gave up on and will never send: too large for a serial frame, refused
    /// by the broker closing the connection each time it was sent, or an essential publish
    /// pushed out of a full queue (more than `MAX_PENDING_ESSENTIAL`). `reason` is a sentence
    /// for the user.
    PublishDropped { topic: String, reason: String },
    /// A replayed message with the time it was received when it was recorded (epoch ms).
    Recorded { message: Message, received_ms: i64 },
    /// A replay went back to the start of its file (a seek back): what this session stored
    /// before is to be forgotten, the messages up to the seek's target follow at once.
    Rewound,
}

/// What a link is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkCommand {
    /// An essential publish: sent before any queued bulk one and never dropped to make room for
    /// bulk traffic (see [`MAX_PENDING_ESSENTIAL`]).
    Publish(Message),
    /// A bulk publish: sent after the essential ones; while the link is down or slow the oldest
    /// bulk ones are dropped beyond [`MAX_PENDING_BULK`] and counted
    /// ([`LinkHandle::dropped_publishes`]), without an event each.
    PublishBulk(Message),
    /// Kept and re-sent on every (re)connect; serial links accept everything and ignore it.
    /// Subscribing to a filter already held changes its QoS (MQTT 3.1.1 §3.8.4).
    Subscribe(Subscription),
    Unsubscribe(String),
    /// Pause, resume, speed and seek of a replay link; other links ignore it.
    Replay(ReplayControl),
    Close,
}

/// A topic filter and the QoS asked for it: the broker delivers each message at the lower of
/// this and the QoS it was published with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Subscription {
    pub filter: String,
    #[serde(default = "Subscription::default_qos")]
    pub qos: u8,
}

impl Subscription {
    pub fn new(filter: impl Into<String>, qos: u8) -> Self {
        Subscription { filter: filter.into(), qos }
    }

    /// QoS 1, what the workbench's own filters ask for: replies and alarms are QoS 1 (contract §4).
    pub const fn default_qos() -> u8 {
        1
    }
}

impl From<String> for Subscription {
    /// At QoS 1.
    fn from(filter: String) -> Self {
        Subscription { filter, qos: Subscription::default_qos() }
    }
}

impl From<&str> for Subscription {
    /// At QoS 1.
    fn from(filter: &str) -> Self {
        Subscription::from(filter.to_owned())
    }
}

/// Which kind of link a handle drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Mqtt,
    Serial,
    /// An MCAP recording played back (`transport::replay`): never publishes.
    Replay,
}

/// The link task has ended; nothing more can be sent through this handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("link {0} is closed")]
pub struct LinkClosed(pub String);

/// Publishes a link dropped from its queue while it could not send them, by priority, since it
/// started. A publish refused outright (bad topic, too large) is reported as
/// [`LinkEvent::PublishDropped`] instead and not counted here.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DropCounts {
    pub bulk: u64,
    pub essential: u64,
}

/// Shared between a link task and its handles: the task counts, a handle reads.
#[derive(Debug, Default)]
pub struct LinkCounters {
    bulk: AtomicU64,
    essential: AtomicU64,
}

impl LinkCounters {
    pub fn add_bulk(&self, n: u64) {
        self.bulk.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_essential(&self, n: u64) {
        self.essential.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> DropCounts {
        DropCounts { bulk: self.bulk.load(Ordering::Relaxed), essential: self.essential.load(Ordering::Relaxed) }
    }
}

/// Sends commands to a running link task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LinkHandle {
    pub kind: LinkKind,
    /// Human-readable target: `mqtt://127.0.0.1:1883` or `/dev/ttyUSB0`.
    pub label: String,
    commands: mpsc::UnboundedSender<LinkCommand>,
    counters: Arc<LinkCounters>,
    replay: Option<Arc<ReplayProgress>>,
}

impl LinkHandle {
    pub fn new(kind: LinkKind, label: String, commands: mpsc::UnboundedSender<LinkCommand>, counters: Arc<LinkCounters>) -> Self {
        LinkHandle { kind, label, commands, counters, replay: None }
    }

    pub(super) fn with_replay_progress(mut self, progress: Arc<ReplayProgress>) -> Self {
        self.replay = Some(progress);
        self
    }

    /// A replay link's position, range and state; `None` for other links.
    pub fn replay_progress(&self) -> Option<&Arc<ReplayProgress>> {
        self.replay.as_ref()
    }

    pub fn send(&self, command: LinkCommand) -> Result<(), LinkClosed> {
        self.commands.send(command).map_err(|_| LinkClosed(self.label.clone()))
    }

    /// An essential publish (acknowledgement, reply, user request): see [`LinkCommand::Publish`].
    pub fn publish(&self, message: Message) -> Result<(), LinkClosed> {
        self.send(LinkCommand::Publish(message))
    }

    /// A bulk publish (discovery, anything that may be dropped under a flood and sent again
    /// later): see [`LinkCommand::PublishBulk`].
    pub fn publish_bulk(&self, message: Message) -> Result<(), LinkClosed> {
        self.send(LinkCommand::PublishBulk(message))
    }

    /// What the link dropped from its queue so far.
    pub fn dropped_publishes(&self) -> DropCounts {
        self.counters.get()
    }

    /// A filter (QoS 1) or a [`Subscription`].
    pub fn subscribe(&self, subscription: impl Into<Subscription>) -> Result<(), LinkClosed> {
        self.send(LinkCommand::Subscribe(subscription.into()))
    }

    pub fn close(&self) {
        // A link that already ended is closed too: nothing to report.
        let _ = self.commands.send(LinkCommand::Close);
    }
}
