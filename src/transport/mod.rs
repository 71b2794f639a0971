//! Links: one abstraction over MQTT, serial and replays of recordings, plus the embedded broker.
//!
//! A link is a task that owns one connection. It takes [`LinkCommand`]s through its
//! [`LinkHandle`] and reports [`LinkEvent`]s (state changes, received messages, dropped frames)
//! on a bounded channel, so a slow consumer slows the link down instead of growing memory.
//! Publishes have two priorities: essential (`LinkHandle::publish`: acknowledgements, replies,
//! user requests) always go before bulk ones (`LinkHandle::publish_bulk`: discovery), and a
//! flood of bulk ones never pushes an essential one out of the queue.
//! Every feature above this layer works the same over MQTT and over a serial cable.

use tokio::sync::mpsc;

pub mod broker;
mod lane;
mod link;
pub mod mqtt;
mod pem;
pub mod replay;
mod replay_control;
pub mod serial;

pub use link::{
    DropCounts, LINK_EVENT_CAPACITY, LinkClosed, LinkCommand, LinkCounters, LinkEvent, LinkHandle, LinkKind, LinkState,
    MAX_PACKET_BYTES, MAX_PENDING_BULK, MAX_PENDING_BULK_BYTES, MAX_PENDING_ESSENTIAL, MAX_PENDING_ESSENTIAL_BYTES, Message,
    Subscription, TransportError,
};

/// How to open a link.
// Built once per connection and moved into its task: boxing the MQTT settings would only make
// every caller's `LinkConfig::Mqtt(config)` longer.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum LinkConfig {
    Mqtt(mqtt::MqttConfig),
    Serial(serial::SerialConfig),
    Replay(replay::ReplayConfig),
}

impl LinkConfig {
    /// `mqtt://host:port` or the serial port's path: what the user knows the link by.
    pub fn target(&self) -> String {
        match self {
            LinkConfig::Mqtt(m) => m.url.clone(),
            LinkConfig::Serial(s) => s.path.clone(),
            LinkConfig::Replay(r) => r.label(),
        }
    }

    pub fn kind(&self) -> LinkKind {
        match self {
            LinkConfig::Mqtt(_) => LinkKind::Mqtt,
            LinkConfig::Serial(_) => LinkKind::Serial,
            LinkConfig::Replay(_) => LinkKind::Replay,
        }
    }
}

/// Starts a link task on the current tokio runtime.
pub fn spawn_link(config: LinkConfig) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
    match config {
        LinkConfig::Mqtt(c) => mqtt::spawn(c),
        LinkConfig::Serial(c) => serial::spawn(c),
        LinkConfig::Replay(c) => replay::spawn(c),
    }
}
