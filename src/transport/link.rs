//! The vocabulary every link speaks, whatever carries it: messages, states, events, commands and
//! the handle. Below the MQTT and serial links and the layer's face (`mod.rs`), so neither
//! imports the other.

use bytes::Bytes;
use tokio::sync::mpsc;

/// Capacity of a link's event channel.
pub const LINK_EVENT_CAPACITY: usize = 4096;

/// Publishes a link keeps while it cannot send them; beyond this the oldest are dropped.
pub const MAX_PENDING_PUBLISHES: usize = 1_000;

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
}

impl Message {
    pub fn new(topic: impl Into<String>, payload: impl Into<Bytes>, qos: u8, retain: bool) -> Self {
        Message { topic: topic.into(), payload: payload.into(), qos, retain }
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
    /// A publish the link gave up on and will never send: too large for a serial frame, or
    /// refused by the broker closing the connection each time it was sent. `reason` is a
    /// sentence for the user.
    PublishDropped { topic: String, reason: String },
}

/// What a link is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkCommand {
    Publish(Message),
    /// Kept and re-sent on every (re)connect; serial links accept everything and ignore it.
    Subscribe(String),
    Unsubscribe(String),
    Close,
}

/// Which kind of link a handle drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Mqtt,
    Serial,
}

/// The link task has ended; nothing more can be sent through this handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("link {0} is closed")]
pub struct LinkClosed(pub String);

/// Sends commands to a running link task. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LinkHandle {
    pub kind: LinkKind,
    /// Human-readable target: `mqtt://127.0.0.1:1883` or `/dev/ttyUSB0`.
    pub label: String,
    commands: mpsc::UnboundedSender<LinkCommand>,
}

impl LinkHandle {
    pub fn new(kind: LinkKind, label: String, commands: mpsc::UnboundedSender<LinkCommand>) -> Self {
        LinkHandle { kind, label, commands }
    }

    pub fn send(&self, command: LinkCommand) -> Result<(), LinkClosed> {
        self.commands.send(command).map_err(|_| LinkClosed(self.label.clone()))
    }

    pub fn publish(&self, message: Message) -> Result<(), LinkClosed> {
        self.send(LinkCommand::Publish(message))
    }

    pub fn subscribe(&self, filter: impl Into<String>) -> Result<(), LinkClosed> {
        self.send(LinkCommand::Subscribe(filter.into()))
    }

    pub fn close(&self) {
        // A link that already ended is closed too: nothing to report.
        let _ = self.commands.send(LinkCommand::Close);
    }
}
