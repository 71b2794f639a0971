//! MQTT 3.1.1 link over rumqttc (contract §4): connects, keeps its subscriptions across
//! reconnects, queues publishes while the broker is away, and reports its state as events.
//!
//! rumqttc's `EventLoop` owns the socket and reconnects when it is polled again after an error.
//! This task polls it, feeds its small request channel from our own bounded queue, and never
//! drops a `poll` future of a live connection half-way: a cancelled poll can lose the packet it
//! was writing.
//!
//! Publishes wait in two lanes (`queue.rs`): essential ones go first and bulk traffic cannot push
//! them out. A packet from the broker over our limit is skipped, not fatal: rumqttc reads up to
//! MQTT's own maximum and the link passes on only a mark (`Message::skipped_bytes`), so one
//! oversized retained message on a broker with a larger limit cannot keep the link reconnecting.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rumqttc::{
    AsyncClient, ClientError, ConnectReturnCode, ConnectionError, Event, EventLoop, Incoming, LastWill, MqttOptions,
    NetworkOptions, Outgoing, QoS, Request, StateError, SubscribeFilter, SubscribeReasonCode, TlsConfiguration,
    TlsError, Transport,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use self::queue::{OutQueue, Outbound, Pending, message_from};
use super::lane::Priority;
use super::link::{
    LINK_EVENT_CAPACITY, LinkCommand, LinkCounters, LinkEvent, LinkHandle, LinkKind, LinkState, MAX_PACKET_BYTES,
    Message, Subscription, TransportError,
};

mod queue;
mod tls;

/// Port of `mqtt://` when the URL names none.
pub const DEFAULT_PORT: u16 = 1883;
/// Port of `mqtts://` when the URL names none.
pub const DEFAULT_TLS_PORT: u16 = 8883;
/// Default largest MQTT packet (`MqttConfig::max_packet_bytes`): the embedded broker's limit.
pub const DEFAULT_MAX_PACKET_BYTES: usize = MAX_PACKET_BYTES;
/// MQTT 3.1.1's largest remaining length. rumqttc reads packets up to this, so that one over our
/// own limit is skipped by the link instead of being a connection error (which would repeat on
/// every reconnect while the broker keeps it retained).
const MQTT_MAX_REMAINING_LENGTH: usize = 268_435_455;

const BACKOFF_INITIAL: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// TCP connect, TLS handshake and CONNACK together; also rumqttc's flush timeout.
const CONNECT_TIMEOUT_SECS: u64 = 5;
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `Close` waits for queued publishes and the DISCONNECT to go out.
const CLOSE_FLUSH: Duration = Duration::from_secs(2);
/// rumqttc's own request channel; kept small so unsent requests stay in our bounded queue.
const REQUEST_CHANNEL_CAPACITY: usize = 16;
/// MQTT fixed header (≤ 5 bytes), topic length (2) and packet id (2).
const PUBLISH_OVERHEAD_BYTES: usize = 9;
/// Connection losses right after sending a publish before it is dropped. Some brokers (AWS IoT,
/// HiveMQ) refuse a publish (ACL deny, payload over their limit) by closing the connection;
/// re-sent first after every reconnect, it would keep the link going up and down forever.
pub const MAX_PUBLISH_STRIKES: u32 = 3;
/// How long a suspect publish, sent alone after a reconnect, waits for its acknowledgement
/// before the rest of the queue goes anyway.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest payload a publish on `topic` can carry under `max_packet_bytes`.
pub fn max_payload_bytes(max_packet_bytes: usize, topic: &str) -> usize {
    max_packet_bytes.saturating_sub(PUBLISH_OVERHEAD_BYTES + topic.len())
}

/// How to reach a broker.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub url: String,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub insecure: bool,
    pub keep_alive_secs: u16,
    /// Sent by the broker when this client vanishes (a gateway's `status` offline).
    pub will: Option<Message>,
    /// Subscribed on every ConnAck.
    pub subscriptions: Vec<String>,
    /// Largest packet (remaining length) sent or passed on; a larger one received is skipped.
    pub max_packet_bytes: usize,
    /// MQTT clean session; `false` asks the broker to keep the session (needs a client id).
    pub clean_session: bool,
    /// Called before every connection attempt for a fresh (username, password): a device's
    /// signature carries a timestamp that a broker accepts for ±300 s only (contract §6).
    pub fresh_credentials: Option<CredentialSource>,
    /// Called before every connection attempt for a fresh will, replacing `will`: a will is an
    /// envelope whose id must not repeat (contract §3) and whose ts should be recent.
    pub fresh_will: Option<WillSource>,
}

/// Makes (username, password) for one connection attempt.
#[derive(Clone)]
pub struct CredentialSource(pub Arc<dyn Fn() -> (String, String) + Send + Sync>);

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialSource(..)")
    }
}

/// Makes the will for one connection attempt.
#[derive(Clone)]
pub struct WillSource(pub Arc<dyn Fn() -> Message + Send + Sync>);

impl std::fmt::Debug for WillSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WillSource(..)")
    }
}

impl MqttConfig {
    pub fn new(url: impl Into<String>, client_id: impl Into<String>) -> Self {
        MqttConfig {
            url: url.into(),
            client_id: client_id.into(),
            username: None,
            password: None,
            ca_file: None,
            client_cert: None,
            client_key: None,
            insecure: false,
            keep_alive_secs: 30,
            will: None,
            subscriptions: Vec::new(),
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
            clean_session: true,
            fresh_credentials: None,
            fresh_will: None,
        }
    }
}

/// A parsed broker address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    /// Host name or IP address, without the brackets of an IPv6 literal.
    pub host: String,
    pub port: u16,
}

impl BrokerUrl {
    /// `host:port`, with an IPv6 literal in brackets.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}", self.host_port())
    }
}

/// Parses `mqtt://host[:port]`, `mqtts://host[:port]` or a bare `host[:port]` (plain MQTT).
pub fn parse_broker_url(url: &str) -> Result<BrokerUrl, TransportError> {
    let bad = |problem: String| TransportError::BadUrl { url: url.to_string(), problem };
    let trimmed = url.trim();
    let (tls, rest) = match trimmed.split_once("://") {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "mqtt" => (false, rest),
            "mqtts" => (true, rest),
            other => {
                return Err(bad(format!("unsupported scheme {other:?}, expected mqtt:// or mqtts://")));
            }
        },
        None => (false, trimmed),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if let Some(index) = authority.find(['/', '?', '#']) {
        return Err(bad(format!("unexpected {:?} after the host and port", &authority[index..])));
    }
    if authority.contains('@') {
        return Err(bad("credentials in the URL are not supported, set the username and password instead".into()));
    }
    let (host, port_text) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((host, tail)) = inner.split_once(']') else {
            return Err(bad("IPv6 host has no closing ']'".into()));
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad(format!("bad IPv6 address {host:?}")));
        }
        let port = match tail {
            "" => None,
            _ => match tail.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err(bad(format!("unexpected {tail:?} after the IPv6 address"))),
            },
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad("empty host".into()));
    }
    let is_ipv6 = host.contains(':');
    if !is_ipv6 && !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return Err(bad(format!("bad host {host:?}")));
    }
    let port = match port_text {
        None => {
            if tls {
                DEFAULT_TLS_PORT
            } else {
                DEFAULT_PORT
            }
        }
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port != 0 => port,
            _ => return Err(bad(format!("bad port {text:?}, expected 1 to 65535"))),
        },
    };
    Ok(BrokerUrl { tls, host: host.to_string(), port })
}

/// Starts an MQTT link task on the current tokio runtime.
pub fn spawn(config: MqttConfig) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::channel(LINK_EVENT_CAPACITY);
    let label = parse_broker_url(&config.url).map_or_else(|_| config.url.clone(), |url| url.to_string());
    let counters = Arc::new(LinkCounters::default());
    tokio::spawn(run(config, command_rx, event_tx, counters.clone()));
    (LinkHandle::new(LinkKind::Mqtt, label, command_tx, counters), event_rx)
}

async fn run(
    config: MqttConfig,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    events: mpsc::Sender<LinkEvent>,
    counters: Arc<LinkCounters>,
) {
    let mut link = Link::new(&config, commands, events, counters);
    // A configuration that can never work ends the link instead of retrying forever.
    let setup = parse_broker_url(&config.url).and_then(|url| {
        let options = mqtt_options(&config, &url)?;
        Ok((url, options))
    });
    match setup {
        Ok((url, options)) => {
            let (client, mut eventloop) = AsyncClient::new(options, REQUEST_CHANNEL_CAPACITY);
            let mut network = NetworkOptions::new();
            network.set_connection_timeout(CONNECT_TIMEOUT_SECS);
            // Request/reply traffic is small packets waiting on each other: Nagle's delay would
            // cost every chunk of a firmware transfer a round trip's worth of waiting.
            network.set_tcp_nodelay(true);
            eventloop.set_network_options(network);
            link.run(&url, &client, &mut eventloop).await;
        }
        Err(error) => {
            warn!(url = %config.url, "MQTT link not started: {error}");
            link.emit_state(LinkState::Down { reason: error.to_string() }).await;
        }
    }
    // Refuse commands before saying Closed, so that a handle fails as soon as it is reported.
    link.commands.close();
    link.emit_state(LinkState::Closed).await;
}

fn mqtt_options(config: &MqttConfig, url: &BrokerUrl) -> Result<MqttOptions, TransportError> {
    // rumqttc joins host and port with ':' before resolving, so an IPv6 literal needs brackets.
    let host = if url.host.contains(':') { format!("[{}]", url.host) } else { url.host.clone() };
    let mut options = MqttOptions::new(config.client_id.clone(), host, url.port);
    // rumqttc refuses keep-alives under a second, except 0 (off); u16 seconds are all fine.
    options.set_keep_alive(Duration::from_secs(u64::from(config.keep_alive_secs)));
    // A persistent session needs a client id (rumqttc panics otherwise).
    let clean_session = config.clean_session || config.client_id.is_empty();
    if clean_session != config.clean_session {
        warn!(url = %url, "clean_session = false needs a client id; using a clean session");
    }
    options.set_clean_session(clean_session);
    // Incoming up to MQTT's maximum: over-limit publishes are skipped in `arrived`, not fatal.
    options.set_max_packet_size(MQTT_MAX_REMAINING_LENGTH.max(config.max_packet_bytes), config.max_packet_bytes);
    match (&config.username, &config.password) {
        (Some(user), password) => {
            options.set_credentials(user.clone(), password.clone().unwrap_or_default());
        }
        (None, Some(_)) => warn!(url = %url, "password given without a username; not sent"),
        (None, None) => {}
    }
    if let Some(will) = &config.will {
        options.set_last_will(last_will(will));
    }
    if url.tls {
        let tls = tls::tls_config(&tls_files(config), &url.to_string())?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(tls))));
    }
    Ok(options)
}

/// The TLS part of a link's settings.
fn tls_files(config: &MqttConfig) -> tls::TlsFiles<'_> {
    tls::TlsFiles {
        ca_file: config.ca_file.as_deref(),
        client_cert: config.client_cert.as_deref(),
        client_key: config.client_key.as_deref(),
        insecure: config.insecure,
    }
}

fn last_will(will: &Message) -> LastWill {
    LastWill::new(will.topic.clone(), will.payload.to_vec(), qos(will.qos), will.retain)
}

fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        2 => QoS::ExactlyOnce,
        _ => QoS::AtLeastOnce,
    }
}

/// A suspect publish (out when a connection was lost) sent alone: nothing else goes until it is
/// acknowledged, the connection is lost again (one more strike against it alone) or
/// `PROBE_TIMEOUT` passes.
#[derive(Debug)]
struct Probe {
    message: Message,
    strikes: u32,
    /// Its packet id, once rumqttc has sent it.
    pkid: Option<u16>,
    deadline: Instant,
}

/// A publish's remaining length, as a broker and rumqttc compare it with their limits.
fn remaining_length(topic: &str, payload_len: usize, qos: u8) -> usize {
    2 + topic.len() + payload_len + if qos > 0 { 2 } else { 0 }
}

/// How a connected spell ended.
enum UpEnd {
    Closed,
    Lost(String),
}

struct Link {
    label: String,
    events: mpsc::Sender<LinkEvent>,
    commands: mpsc::UnboundedReceiver<LinkCommand>,
    /// False once every handle is gone: the task then winds down.
    commands_open: bool,
    /// Re-subscribed on every ConnAck, in the order they were added, each at its QoS.
    filters: Vec<Subscription>,
    queue: OutQueue,
    attempt: u32,
    max_packet_bytes: usize,
    fresh_credentials: Option<CredentialSource>,
    fresh_will: Option<WillSource>,
    probe: Option<Probe>,
    /// Publishes given up on, to report as `PublishDropped` from async code: (topic, reason).
    dropped: Vec<(String, String)>,
}

impl Link {
    fn new(
        config: &MqttConfig,
        commands: mpsc::UnboundedReceiver<LinkCommand>,
        events: mpsc::Sender<LinkEvent>,
        counters: Arc<LinkCounters>,
    ) -> Link {
        let mut link = Link {
            label: config.url.clone(),
            events,
            commands,
            commands_open: true,
            filters: Vec::new(),
            queue: OutQueue::new(counters),
            attempt: 0,
            max_packet_bytes: config.max_packet_bytes,
            fresh_credentials: config.fresh_credentials.clone(),
            fresh_will: config.fresh_will.clone(),
            probe: None,
            dropped: Vec::new(),
        };
        for filter in &config.subscriptions {
            link.add_filter(Subscription::from(filter.as_str()));
        }
        link
    }

    async fn emit(&self, event: LinkEvent) {
        // Nobody listening is not an error: a handle may be used only to publish.
        let _ = self.events.send(event).await;
    }

    async fn emit_state(&self, state: LinkState) {
        debug!(link = %self.label, ?state, "MQTT link state");
        self.emit(LinkEvent::State(state)).await;
    }

    /// Records a publish the link will never send, for `report_dropped`.
    fn drop_publish(&mut self, topic: String, reason: String) {
        warn!(link = %self.label, "dropping a publish to {topic}: {reason}");
        self.dropped.push((topic, reason));
    }

    async fn report_dropped(&mut self) {
        for (topic, reason) in std::mem::take(&mut self.dropped) {
            self.emit(LinkEvent::PublishDropped { topic, reason }).await;
        }
    }

    async fn run(&mut self, url: &BrokerUrl, client: &AsyncClient, eventloop: &mut EventLoop) {
        let mut backoff = BACKOFF_INITIAL;
        loop {
            self.attempt = self.attempt.saturating_add(1);
            self.emit_state(LinkState::Connecting { attempt: self.attempt }).await;
            if let Some(source) = &self.fresh_credentials {
                let (username, password) = (source.0)();
                eventloop.mqtt_options.set_credentials(username, password);
            }
            if let Some(source) = &self.fresh_will {
                eventloop.mqtt_options.set_last_will(last_will(&(source.0)()));
            }
            let connected = match self.until_close(resolve(url)).await {
                None => return,
                Some(Err(reason)) => Err(reason),
                // Cancelling a poll that is still connecting is safe: no session exists yet.
                Some(Ok(())) => match self.until_close(eventloop.poll()).await {
                    None => return,
                    Some(Ok(Event::Incoming(Incoming::ConnAck(_)))) => Ok(()),
                    Some(Ok(other)) => Err(format!("{} answered {other:?} instead of CONNACK", url.host_port())),
                    Some(Err(error)) => Err(describe_error(&error, url, false, MQTT_MAX_REMAINING_LENGTH)),
                },
            };
            match connected {
                Ok(()) => {
                    backoff = BACKOFF_INITIAL;
                    info!(link = %self.label, "connected to {url}");
                    if self.queue.bulk_dropped_since_up > 0 {
                        warn!(link = %self.label, "{} bulk publishes were dropped while the link was down", self.queue.bulk_dropped_since_up);
                        self.queue.bulk_dropped_since_up = 0;
                    }
                    self.emit_state(LinkState::Up).await;
                    // Subscriptions go first so replies to queued requests are not missed.
                    self.queue.reset_control(&self.filters);
                    match self.run_up(url, client, eventloop).await {
                        UpEnd::Closed => return,
                        UpEnd::Lost(reason) => {
                            self.reclaim(eventloop);
                            info!(link = %self.label, "{reason}");
                            self.emit_state(LinkState::Down { reason }).await;
                            self.report_dropped().await;
                        }
                    }
                }
                Err(reason) => {
                    debug!(link = %self.label, "{reason}");
                    self.emit_state(LinkState::Down { reason }).await;
                }
            }
            if self.until_close(tokio::time::sleep(backoff)).await.is_none() {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Runs `future` while taking commands; `None` when the link is to close (Close, or every
    /// handle dropped). Only for futures that may be cancelled: no live connection.
    async fn until_close<F: Future>(&mut self, future: F) -> Option<F::Output> {
        tokio::pin!(future);
        loop {
            tokio::select! {
                biased;
                output = &mut future => return Some(output),
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(LinkCommand::Close) => return None,
                    Some(command) => {
                        self.handle_command(command, false);
                        self.report_dropped().await;
                    }
                    None => {
                        self.commands_open = false;
                        return None;
                    }
                },
            }
        }
    }

    /// Drives a live connection until it is lost or closed.
    async fn run_up(&mut self, url: &BrokerUrl, client: &AsyncClient, eventloop: &mut EventLoop) -> UpEnd {
        let mut closing: Option<Instant> = None;
        let mut disconnect_sent = false;
        loop {
            let polled = {
                let poll = eventloop.poll();
                tokio::pin!(poll);
                loop {
                    self.feed(client);
                    if closing.is_some() && self.queue.is_empty() && !disconnect_sent {
                        disconnect_sent = client.try_disconnect().is_ok();
                    }
                    let deadline = closing.unwrap_or_else(|| Instant::now() + CLOSE_FLUSH);
                    let probe_deadline = self.probe.as_ref().map(|p| p.deadline);
                    tokio::select! {
                        biased;
                        result = &mut poll => break Some(result),
                        command = self.commands.recv(), if self.commands_open && closing.is_none() => match command {
                            Some(LinkCommand::Close) => closing = Some(Instant::now() + CLOSE_FLUSH),
                            Some(command) => {
                                self.handle_command(command, true);
                                // Waits only when the event channel is full; the poll resumes after.
                                self.report_dropped().await;
                            }
                            None => {
                                self.commands_open = false;
                                closing = Some(Instant::now() + CLOSE_FLUSH);
                            }
                        },
                        // Past the deadline, dropping a half-done poll no longer matters.
                        _ = tokio::time::sleep_until(deadline), if closing.is_some() => break None,
                        // Kept, but not acknowledged: not proof of a refusal, let the queue go on.
                        _ = sleep_until_some(probe_deadline), if probe_deadline.is_some() => {
                            if let Some(probe) = self.probe.take() {
                                debug!(link = %self.label, "no acknowledgement for a re-sent publish to {} yet; sending the rest", probe.message.topic);
                            }
                        }
                    }
                }
            };
            let Some(result) = polled else {
                warn!(link = %self.label, "closing without a clean DISCONNECT: the broker did not take the queued packets in time");
                return UpEnd::Closed;
            };
            match result {
                Ok(Event::Incoming(Incoming::Publish(publish))) => {
                    let message = self.arrived(publish);
                    self.emit(LinkEvent::Message(message)).await;
                }
                Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                    let refused = ack.return_codes.iter().filter(|c| matches!(c, SubscribeReasonCode::Failure)).count();
                    if refused > 0 {
                        warn!(link = %self.label, "broker refused {refused} of {} subscription filters", ack.return_codes.len());
                    }
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => return UpEnd::Closed,
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                    // Only the probe is out among acknowledged publishes (QoS 0 ones have pkid 0).
                    if let Some(probe) = &mut self.probe
                        && probe.pkid.is_none()
                        && pkid != 0
                    {
                        probe.pkid = Some(pkid);
                    }
                }
                Ok(Event::Incoming(Incoming::PubAck(rumqttc::PubAck { pkid }) | Incoming::PubRec(rumqttc::PubRec { pkid }))) => {
                    if self.probe.as_ref().is_some_and(|p| p.pkid == Some(pkid)) {
                        self.probe = None;
                    }
                }
                Ok(_) => {}
                Err(error) if closing.is_some() => {
                    debug!(link = %self.label, "connection ended while closing: {error}");
                    return UpEnd::Closed;
                }
                Err(error) => return UpEnd::Lost(describe_error(&error, url, true, MQTT_MAX_REMAINING_LENGTH)),
            }
        }
    }

    fn handle_command(&mut self, command: LinkCommand, online: bool) {
        match command {
            LinkCommand::Publish(message) => self.enqueue_publish(message, Priority::Essential),
            LinkCommand::PublishBulk(message) => self.enqueue_publish(message, Priority::Bulk),
            LinkCommand::Subscribe(subscription) => {
                if self.add_filter(subscription.clone()) && online {
                    self.queue.push_control(Outbound::Subscribe(vec![subscription]));
                }
            }
            LinkCommand::Unsubscribe(filter) => {
                let before = self.filters.len();
                self.filters.retain(|f| f.filter != filter);
                if self.filters.len() != before && online {
                    self.queue.push_control(Outbound::Unsubscribe(vec![filter]));
                }
            }
            // Handled by the callers, which know whether a session must be wound down.
            LinkCommand::Close => {}
            // Only a replay link has a position to move.
            LinkCommand::Replay(_) => {}
        }
    }

    /// Adds a valid, new filter, or changes the QoS of one held (a SUBSCRIBE to the same filter
    /// replaces it, MQTT 3.1.1 §3.8.4); false when it was refused or is already held so.
    fn add_filter(&mut self, subscription: Subscription) -> bool {
        if !crate::protocol::topic_filter::is_valid_filter(&subscription.filter) {
            warn!(link = %self.label, "ignoring invalid subscription filter {:?}", subscription.filter);
            return false;
        }
        match self.filters.iter_mut().find(|f| f.filter == subscription.filter) {
            Some(held) if held.qos == subscription.qos => false,
            Some(held) => {
                held.qos = subscription.qos;
                true
            }
            None => {
                self.filters.push(subscription);
                true
            }
        }
    }

    fn enqueue_publish(&mut self, message: Message, priority: Priority) {
        // A bad topic or an oversized packet would make rumqttc or the broker drop the whole
        // connection, and the reconnect would send it again: refuse it here instead.
        if crate::protocol::topic_filter::check_topic_name(&message.topic).is_err() {
            self.drop_publish(message.topic, "not a valid MQTT topic name".into());
            return;
        }
        let size = message.topic.len() + message.payload.len() + PUBLISH_OVERHEAD_BYTES;
        if size > self.max_packet_bytes {
            let reason = format!("a {size}-byte publish is over the {}-byte packet limit", self.max_packet_bytes);
            self.drop_publish(message.topic, reason);
            return;
        }
        let pushed_out = self.queue.push_publish(message, priority);
        self.drop_essential(pushed_out);
    }

    /// Essential publishes the queue's caps pushed out: each is reported.
    fn drop_essential(&mut self, pushed_out: Vec<Message>) {
        for message in pushed_out {
            let reason = format!(
                "more than {} essential publishes (or {} MiB) waiting while the link could not send: dropped the oldest",
                super::link::MAX_PENDING_ESSENTIAL,
                super::link::MAX_PENDING_ESSENTIAL_BYTES / (1024 * 1024)
            );
            self.drop_publish(message.topic, reason);
        }
    }

    /// A received publish as a message, or only its mark when it is over our packet limit: a
    /// broker with a larger limit passed it on, and keeping it would defeat the limit.
    fn arrived(&self, publish: rumqttc::Publish) -> Message {
        let length = remaining_length(&publish.topic, publish.payload.len(), publish.qos as u8);
        if length <= self.max_packet_bytes {
            return message_from(publish);
        }
        let bytes = publish.payload.len();
        warn!(
            link = %self.label,
            "skipped a {bytes}-byte message on {}: over the {}-byte packet limit (sent by the broker, not by us)",
            publish.topic,
            self.max_packet_bytes
        );
        Message { payload: Bytes::new(), skipped_bytes: Some(bytes), ..message_from(publish) }
    }

    /// Moves queued requests into rumqttc's channel while it has room. A suspect publish goes
    /// alone: nothing follows it until it is resolved (see `Probe`).
    fn feed(&mut self, client: &AsyncClient) {
        while self.probe.is_none()
            && let Some(item) = self.queue.pop()
        {
            let (strikes, priority) = match &item {
                Outbound::Publish(p) => (p.strikes, p.priority),
                _ => (0, Priority::Essential),
            };
            let result = match item {
                Outbound::Publish(Pending { message: m, strikes: s, .. }) => {
                    if s > 0 {
                        self.probe =
                            Some(Probe { message: m.clone(), strikes: s, pkid: None, deadline: Instant::now() + PROBE_TIMEOUT });
                    }
                    client.try_publish(m.topic, qos(m.qos), m.retain, Vec::from(m.payload))
                }
                Outbound::Subscribe(filters) => {
                    client.try_subscribe_many(filters.into_iter().map(|f| SubscribeFilter::new(f.filter, qos(f.qos))))
                }
                Outbound::Unsubscribe(filters) => {
                    let mut result = Ok(());
                    for filter in filters {
                        result = client.try_unsubscribe(filter);
                        if result.is_err() {
                            break;
                        }
                    }
                    result
                }
            };
            if let Err(ClientError::TryRequest(request) | ClientError::Request(request)) = result {
                // Full: keep it, in order, for the next round (a probe is not out yet).
                if strikes > 0 {
                    self.probe = None;
                }
                if let Some(item) = Outbound::from_request(request, strikes, priority) {
                    self.queue.put_back(item);
                }
                return;
            }
        }
    }

    /// After a lost connection, takes back the publishes rumqttc held (unacknowledged or still
    /// in its channel): a clean-session reconnect would discard them. Those that were out
    /// unacknowledged (they have a packet id) get a strike; one that was out alone as the probe
    /// gets one more, and at `MAX_PUBLISH_STRIKES` it is dropped.
    fn reclaim(&mut self, eventloop: &mut EventLoop) {
        let probe = self.probe.take();
        let requests: Vec<Request> = eventloop.pending.drain(..).collect();
        let mut taken: Vec<Pending> = Vec::new();
        for request in requests {
            let Request::Publish(p) = request else { continue };
            let sent = p.pkid != 0;
            let message = message_from(p);
            let earlier = probe.as_ref().filter(|probe| probe.message == message).map_or(0, |probe| probe.strikes);
            let strikes = if sent { earlier + 1 } else { earlier };
            if strikes >= MAX_PUBLISH_STRIKES {
                let reason = format!("dropped after the broker closed the connection {strikes} times right after it");
                self.drop_publish(message.topic, reason);
                continue;
            }
            taken.push(Pending { message, strikes, priority: Priority::Essential });
        }
        let pushed_out = self.queue.reclaim(taken);
        self.drop_essential(pushed_out);
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Resolves the broker's name first, so that a DNS failure is reported as one.
async fn resolve(url: &BrokerUrl) -> Result<(), String> {
    if url.host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    match tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((url.host.as_str(), url.port))).await {
        Err(_) => Err(format!("DNS: no answer for {} within {} s", url.host, DNS_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("DNS: cannot resolve {}: {e}", url.host)),
        Ok(Ok(mut addrs)) => match addrs.next() {
            Some(_) => Ok(()),
            None => Err(format!("DNS: {} has no address", url.host)),
        },
    }
}

/// A human reason for a failed attempt (`connected` false) or a lost connection.
fn describe_error(error: &ConnectionError, url: &BrokerUrl, connected: bool, max_incoming: usize) -> String {
    let target = url.host_port();
    let lost = |detail: String| {
        if connected {
            format!("connection to {target} lost: {detail}")
        } else {
            format!("cannot connect to {target}: {detail}")
        }
    };
    match error {
        ConnectionError::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection refused by {target}")
        }
        // TLS 1.3 ends the handshake before a broker checks the client certificate, so its
        // refusal comes back as an I/O error carrying the TLS alert: label it as TLS all the same.
        ConnectionError::Io(e) if e.to_string().contains("fatal alert") => format!("TLS: {target} refused: {e}"),
        ConnectionError::Io(e) => lost(e.to_string()),
        ConnectionError::NetworkTimeout => format!("no answer from {target} within {CONNECT_TIMEOUT_SECS} s"),
        ConnectionError::FlushTimeout => lost(format!("could not send for {CONNECT_TIMEOUT_SECS} s")),
        ConnectionError::Tls(e) => format!("TLS: {}", tls_detail(e, url)),
        ConnectionError::ConnectionRefused(code) => refused_reason(*code, &target),
        ConnectionError::NotConnAck(_) => format!("{target} did not answer CONNECT with CONNACK"),
        ConnectionError::RequestsDone => "link stopped".into(),
        ConnectionError::MqttState(state) => match state {
            StateError::ConnectionAborted => lost("closed by the broker".into()),
            StateError::AwaitPingResp => lost("the broker stopped answering pings".into()),
            StateError::Io(e) => lost(e.to_string()),
            StateError::Deserialization(rumqttc::Error::Io(e)) => lost(e.to_string()),
            // Only past MQTT's own maximum (see `MQTT_MAX_REMAINING_LENGTH`): a broken broker.
            StateError::Deserialization(rumqttc::Error::PayloadSizeLimitExceeded(size)) => {
                lost(format!("the broker sent a {size}-byte packet, over MQTT's largest ({max_incoming} bytes)"))
            }
            StateError::Deserialization(rumqttc::Error::OutgoingPacketTooLarge { pkt_size, max }) => {
                lost(format!("a {pkt_size}-byte packet of ours is over the {max}-byte limit"))
            }
            other => lost(other.to_string()),
        },
    }
}

fn tls_detail(error: &TlsError, url: &BrokerUrl) -> String {
    match error {
        // rustls reports handshake failures (bad certificate, not TLS) through I/O errors.
        TlsError::Io(e) => match e.get_ref() {
            Some(inner) => format!("handshake with {} failed: {inner}", url.host_port()),
            None => format!("handshake with {} failed: {e}", url.host_port()),
        },
        TlsError::DNSName(_) => format!("{:?} is not a valid TLS server name", url.host),
        other => other.to_string(),
    }
}

fn refused_reason(code: ConnectReturnCode, target: &str) -> String {
    match code {
        ConnectReturnCode::NotAuthorized => "broker rejected credentials (not authorized)".into(),
        ConnectReturnCode::BadUserNamePassword => "broker rejected credentials (bad username or password)".into(),
        ConnectReturnCode::BadClientId => format!("{target} rejected the client id"),
        ConnectReturnCode::ServiceUnavailable => format!("{target} refused the connection: service unavailable"),
        ConnectReturnCode::RefusedProtocolVersion => format!("{target} does not speak MQTT 3.1.1"),
        ConnectReturnCode::Success => format!("{target} refused the connection"),
    }
}

#[cfg(test)]
mod tests;
