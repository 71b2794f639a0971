//! The embedded MQTT broker (rumqttd 0.20), for demos, lab benches and tests.
//!
//! rumqttd runs its listener on threads it never stops and cannot report a port chosen with 0.
//! So rumqttd listens on an internal ephemeral 127.0.0.1 port, and our own tokio listener on the
//! public address relays each connection to it, both ways. Stopping closes our listener and
//! every relayed connection: clients see the broker vanish, rumqttd sees them vanish and fires
//! their wills. rumqttd itself, with its retained messages, lives on until the process ends, so
//! `restart` behaves like a broker with persistence.
//!
//! rumqttd logs under the `rumqttd` tracing target (chatty at info); callers filter it out.
//!
//! Limits (`BrokerConfig`): rumqttd enforces the packet size, its in-flight window and (without
//! telling the client) a connection count. It has no limit on retained messages, distinct topics
//! or subscription filters, which it keeps forever: the relay (`broker/relay.rs`) reads each
//! client's packets and enforces those from a ledger shared by all connections
//! (`broker/ledger.rs`), refuses connections beyond the cap with a CONNACK, and closes a client
//! that sends an over-limit packet with a log line naming it. Not bounded by a setting: each
//! subscription filter's log in rumqttd holds up to `SEGMENT_COUNT` × `SEGMENT_BYTES` (`broker/rumqttd.rs`) of recent
//! messages (plus one message per segment), so `max_filters` × that is the ceiling there.
//!
//! The door (`broker/door.rs`): with a devices file (`BrokerConfig::devices`) only listed
//! devices signing their CONNECT per contract §6 and listed masters get in, and a device may
//! publish under its own `…/up/#` and subscribe within its own `…/down/#` only. Without one the
//! broker is open, as it always was (and on loopback unless told otherwise).
//!
//! TLS (`BrokerConfig::tls`, `broker/tls.rs`): the public side speaks TLS and the relay reads
//! MQTT inside it; rumqttd behind it never sees TLS.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{info, warn};

use self::entry::Shared;
use self::ledger::{Caps, Ledger};
use self::tls::TlsDoor;
use super::link::{MAX_PACKET_BYTES, TransportError};

pub use self::devices::{Devices, DevicesError};
pub use self::door::DoorCounts;
pub use self::tls::server_config as tls_server_config;

mod devices;
mod door;
mod entry;
mod ledger;
pub mod noise;
mod relay;
mod rumqttd;
mod tls;
mod wire;

/// Settings of the embedded broker. The defaults keep its memory bounded: at most
/// `max_retained_bytes` of retained messages, `max_topics` topic names remembered, and
/// `max_connections` clients each with at most one packet of `max_packet_bytes` on its way.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Public address; port 0 picks a free one (see [`EmbeddedBroker::local_addr`]).
    pub listen: SocketAddr,
    /// Largest packet accepted (remaining length): the same number our MQTT links use, so that
    /// nothing stored here is too big for them.
    pub max_packet_bytes: usize,
    /// Clients at once; one more is answered CONNACK "server unavailable".
    pub max_connections: usize,
    /// QoS 1 and 2 messages rumqttd has out unacknowledged to one client.
    pub max_inflight: usize,
    /// Retained messages kept; beyond, a new topic's retained message is delivered but not kept.
    pub max_retained_messages: usize,
    /// Bytes (topic and payload) of retained messages kept, likewise.
    pub max_retained_bytes: usize,
    /// Distinct topic names ever published; a publish to a new one beyond is dropped (a QoS 1
    /// one acknowledged by the relay).
    pub max_topics: usize,
    /// Distinct subscription filters ever subscribed; a SUBSCRIBE adding one beyond is refused.
    pub max_filters: usize,
    /// Who may connect and what devices may touch; None: anyone, anything.
    pub devices: Option<Devices>,
    /// TLS on the public side ([`tls_server_config`]); None: plain MQTT.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)),
            max_packet_bytes: MAX_PACKET_BYTES,
            max_connections: 1000,
            max_inflight: 100,
            max_retained_messages: 100_000,
            max_retained_bytes: 256 * 1024 * 1024,
            max_topics: 200_000,
            max_filters: 10_000,
            devices: None,
            tls: None,
        }
    }
}

impl BrokerConfig {
    /// 127.0.0.1 on a free port: for tests and demos.
    pub fn ephemeral() -> Self {
        BrokerConfig { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), ..BrokerConfig::default() }
    }

    /// The limits in one line, for the `broker` command and logs.
    pub fn limits_text(&self) -> String {
        format!(
            "{} packets, {} connections, {} in flight per connection, {} retained messages, {} retained, {} topics, {} subscription filters",
            size_text(self.max_packet_bytes),
            self.max_connections,
            self.max_inflight,
            self.max_retained_messages,
            size_text(self.max_retained_bytes),
            self.max_topics,
            self.max_filters
        )
    }
}

/// `16 MiB`, `10 KiB` or `1000 bytes`.
fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Refusals answered at once beyond `max_connections`; more are closed without an answer.
const MAX_REFUSALS: usize = 64;

/// A running broker; dropping it stops the public listener.
pub struct EmbeddedBroker {
    /// The public address actually bound (the real port when 0 was asked).
    listen: SocketAddr,
    /// rumqttd's own listener, limits and ledger: what every relay shares, across restarts.
    shared: Arc<Shared>,
    /// The TLS handshakes, when the broker speaks TLS; kept across restarts.
    tls: Option<Arc<TlsDoor>>,
    front: Mutex<Option<Front>>,
}

/// The public listener and its relays.
struct Front {
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for EmbeddedBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBroker")
            .field("listen", &self.listen)
            .field("internal", &self.shared.internal)
            .field("running", &self.is_running())
            .finish()
    }
}

impl EmbeddedBroker {
    /// Starts rumqttd and the public listener; the error names the address when it is taken.
    pub async fn start(config: BrokerConfig) -> Result<EmbeddedBroker, TransportError> {
        // Bind the public side first: a taken address fails before rumqttd's threads exist.
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| TransportError::Listen { addr: config.listen, source })?;
        let listen = listener.local_addr().map_err(|source| TransportError::Listen { addr: config.listen, source })?;
        let limits = rumqttd::RumqttdLimits { max_packet_bytes: config.max_packet_bytes, max_inflight: config.max_inflight, max_connections: config.max_connections };
        let internal = tokio::task::spawn_blocking(move || rumqttd::start_rumqttd(&limits))
            .await
            .map_err(|e| TransportError::Broker(format!("rumqttd start-up failed: {e}")))??;
        info!("embedded MQTT broker on {listen} (rumqttd on {internal}); limits: {}", config.limits_text());
        match &config.devices {
            Some(devices) => info!("embedded MQTT broker on {listen} admits {} from {} only", devices.summary(), devices.source()),
            None if !listen.ip().is_loopback() => {
                warn!("embedded MQTT broker on {listen}: reachable from other machines; devices are not authenticated")
            }
            None => {}
        }
        let caps = Caps {
            max_retained_messages: config.max_retained_messages,
            max_retained_bytes: config.max_retained_bytes,
            max_topics: config.max_topics,
            max_filters: config.max_filters,
        };
        let shared = Arc::new(Shared::new(internal, config.max_packet_bytes, config.max_connections, Ledger::new(caps), config.devices.clone()));
        let tls = config.tls.clone().map(|config| Arc::new(TlsDoor::new(config)));
        let front = spawn_front(listener, shared.clone(), tls.clone());
        Ok(EmbeddedBroker { listen, shared, tls, front: Mutex::new(Some(front)) })
    }

    /// The public address, with the real port when 0 was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.listen
    }

    /// `mqtt://127.0.0.1:PORT` (`mqtts://` with TLS), ready for [`super::mqtt::MqttConfig::new`].
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}", self.listen)
    }

    /// What the door has refused, dropped and removed so far (all zero without a devices file).
    pub fn door_counts(&self) -> DoorCounts {
        self.shared.door.snapshot()
    }

    pub fn is_running(&self) -> bool {
        self.front.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Closes the public listener and every relayed connection; idempotent.
    pub async fn stop(&self) {
        let front = self.front.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(front) = front {
            // The front task may already have ended; either way it is gone after the await.
            let _ = front.shutdown.send(());
            let _ = front.task.await;
            info!("embedded MQTT broker on {} stopped", self.listen);
        }
    }

    /// Listens again on the same address; rumqttd's retained messages are still there.
    pub async fn restart(&self) -> Result<(), TransportError> {
        self.stop().await;
        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|source| TransportError::Listen { addr: self.listen, source })?;
        let front = spawn_front(listener, self.shared.clone(), self.tls.clone());
        let previous = self.front.lock().unwrap_or_else(PoisonError::into_inner).replace(front);
        if let Some(previous) = previous {
            // A concurrent restart won the race; keep one front only.
            previous.task.abort();
        }
        info!("embedded MQTT broker on {} restarted", self.listen);
        Ok(())
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        let front = self.front.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(front) = front {
            // Aborting drops the listener and the JoinSet, which aborts every relay.
            front.task.abort();
        }
    }
}

fn spawn_front(listener: TcpListener, shared: Arc<Shared>, tls: Option<Arc<TlsDoor>>) -> Front {
    let (shutdown, shutdown_rx) = oneshot::channel();
    let task = tokio::spawn(run_front(listener, shared, tls, shutdown_rx));
    Front { shutdown, task }
}

/// One accepted connection within its slot: the TLS handshake first when the broker speaks
/// TLS, then the relay.
async fn serve(client: TcpStream, peer: SocketAddr, slot: entry::Slot, tls: Option<Arc<TlsDoor>>) {
    match tls {
        None => {
            let (read, write) = client.into_split();
            relay::relay(read, write, peer, slot).await;
        }
        Some(door) => {
            if let Some(stream) = door.accept(client, peer).await {
                let (read, write) = tokio::io::split(stream);
                relay::relay(read, write, peer, slot).await;
            }
        }
    }
}

/// A connection beyond `max_connections`, answered "server unavailable" (inside TLS when the
/// broker speaks it, or the client would read our answer as a broken handshake).
async fn refuse(client: TcpStream, peer: SocketAddr, shared: Arc<Shared>, tls: Option<Arc<TlsDoor>>) {
    match tls {
        None => entry::refuse(client, peer, shared).await,
        Some(door) => {
            if let Some(stream) = door.accept(client, peer).await {
                entry::refuse(stream, peer, shared).await;
            }
        }
    }
}

/// How often the count of rumqttd's harmless stale-connection lines is said (when it grew).
const NOISE_SAID_EVERY: Duration = Duration::from_secs(30);

async fn run_front(listener: TcpListener, shared: Arc<Shared>, tls: Option<Arc<TlsDoor>>, mut shutdown: oneshot::Receiver<()>) {
    let mut relays = JoinSet::new();
    let mut refusals = JoinSet::new();
    let mut noise_tick = tokio::time::interval(NOISE_SAID_EVERY);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = noise_tick.tick() => noise::say_count(),
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    // MQTT is chatty with small packets; Nagle would add latency to every ack.
                    let _ = client.set_nodelay(true);
                    match shared.try_enter() {
                        Some(slot) => {
                            relays.spawn(serve(client, peer, slot, tls.clone()));
                        }
                        None if refusals.len() < MAX_REFUSALS => {
                            refusals.spawn(refuse(client, peer, shared.clone(), tls.clone()));
                        }
                        None => drop(client),
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    warn!("embedded broker: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished relays so the sets do not grow with every connection ever made.
            Some(_) = relays.join_next(), if !relays.is_empty() => {}
            Some(_) = refusals.join_next(), if !refusals.is_empty() => {}
        }
    }
    drop(listener);
    noise::say_count();
    relays.shutdown().await;
    refusals.shutdown().await;
}


#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// CONNECT as client `x`; returns the 4 bytes of the answer.
    async fn async_handshake(addr: SocketAddr) -> std::io::Result<[u8; 4]> {
        let mut stream = TcpStream::connect(addr).await?;
        let body = [0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x0A, 0x00, 0x01, b'x'];
        let mut packet = vec![0x10, body.len() as u8];
        packet.extend_from_slice(&body);
        stream.write_all(&packet).await?;
        let mut connack = [0u8; 4];
        stream.read_exact(&mut connack).await?;
        Ok(connack)
    }

    #[tokio::test]
    async fn port_zero_gets_a_real_port_and_answers_mqtt() {
        let broker = EmbeddedBroker::start(BrokerConfig::ephemeral()).await.unwrap();
        let addr = broker.local_addr();
        assert_ne!(addr.port(), 0);
        assert_eq!(broker.url(), format!("mqtt://127.0.0.1:{}", addr.port()));
        assert_eq!(async_handshake(addr).await.unwrap(), [0x20, 0x02, 0x00, 0x00]);
    }

    #[tokio::test]
    async fn a_taken_address_is_named_in_the_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let error = EmbeddedBroker::start(BrokerConfig { listen: addr, ..BrokerConfig::default() })
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(&addr.to_string()), "{error}");
    }

    #[tokio::test]
    async fn stop_refuses_connections_and_restart_accepts_them_again() {
        let broker = EmbeddedBroker::start(BrokerConfig::ephemeral()).await.unwrap();
        let addr = broker.local_addr();
        broker.stop().await;
        assert!(!broker.is_running());
        assert!(TcpStream::connect(addr).await.is_err());
        broker.stop().await;
        broker.restart().await.unwrap();
        assert_eq!(async_handshake(addr).await.unwrap(), [0x20, 0x02, 0x00, 0x00]);
    }
}
