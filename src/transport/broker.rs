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

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream as StdTcpStream};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

use super::link::TransportError;

/// Settings of the embedded broker.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Public address; port 0 picks a free one (see [`EmbeddedBroker::local_addr`]).
    pub listen: SocketAddr,
    pub max_payload_bytes: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)), max_payload_bytes: 16 * 1024 * 1024 }
    }
}

impl BrokerConfig {
    /// 127.0.0.1 on a free port: for tests and demos.
    pub fn ephemeral() -> Self {
        BrokerConfig { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), ..BrokerConfig::default() }
    }
}

const MAX_CONNECTIONS: usize = 1000;
/// Room for the topic and headers on top of the largest payload.
const PACKET_HEADROOM_BYTES: usize = 64 * 1024 + 16;
/// rumqttd keeps each filter's messages in segments; a few small ones bound its memory while a
/// single large payload still fits (a segment may overflow by one message).
const SEGMENT_BYTES: usize = 2 * 1024 * 1024;
const SEGMENT_COUNT: usize = 4;
const RUMQTTD_START_TIMEOUT: Duration = Duration::from_secs(5);
const RUMQTTD_START_TRIES: usize = 3;
const RELAY_BUFFER_BYTES: usize = 64 * 1024;

/// A running broker; dropping it stops the public listener.
pub struct EmbeddedBroker {
    /// The public address actually bound (the real port when 0 was asked).
    listen: SocketAddr,
    /// rumqttd's own listener.
    internal: SocketAddr,
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
            .field("internal", &self.internal)
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
        let max_packet = config.max_payload_bytes.saturating_add(PACKET_HEADROOM_BYTES);
        let internal = tokio::task::spawn_blocking(move || start_rumqttd(max_packet))
            .await
            .map_err(|e| TransportError::Broker(format!("rumqttd start-up failed: {e}")))??;
        info!("embedded MQTT broker on {listen} (rumqttd on {internal})");
        let front = spawn_front(listener, internal);
        Ok(EmbeddedBroker { listen, internal, front: Mutex::new(Some(front)) })
    }

    /// The public address, with the real port when 0 was asked.
    pub fn local_addr(&self) -> SocketAddr {
        self.listen
    }

    /// `mqtt://127.0.0.1:PORT`, ready for [`super::mqtt::MqttConfig::new`].
    pub fn url(&self) -> String {
        format!("mqtt://{}", self.listen)
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
        let front = spawn_front(listener, self.internal);
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

fn spawn_front(listener: TcpListener, internal: SocketAddr) -> Front {
    let (shutdown, shutdown_rx) = oneshot::channel();
    let task = tokio::spawn(run_front(listener, internal, shutdown_rx));
    Front { shutdown, task }
}

async fn run_front(listener: TcpListener, internal: SocketAddr, mut shutdown: oneshot::Receiver<()>) {
    let mut relays = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    relays.spawn(relay(client, peer, internal));
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    warn!("embedded broker: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished relays so the set does not grow with every connection ever made.
            Some(_) = relays.join_next(), if !relays.is_empty() => {}
        }
    }
    drop(listener);
    relays.shutdown().await;
}

async fn relay(mut client: TcpStream, peer: SocketAddr, internal: SocketAddr) {
    let mut upstream = match TcpStream::connect(internal).await {
        Ok(stream) => stream,
        Err(e) => {
            warn!("embedded broker: cannot reach rumqttd on {internal} for {peer}: {e}");
            return;
        }
    };
    // MQTT is chatty with small packets; Nagle would add latency to every ack.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    match tokio::io::copy_bidirectional_with_sizes(&mut client, &mut upstream, RELAY_BUFFER_BYTES, RELAY_BUFFER_BYTES)
        .await
    {
        Ok((up, down)) => debug!("embedded broker: {peer} done ({up} bytes in, {down} out)"),
        Err(e) => debug!("embedded broker: {peer} ended: {e}"),
    }
}

/// Starts rumqttd on a free 127.0.0.1 port and waits until it answers MQTT; blocking.
fn start_rumqttd(max_packet_bytes: usize) -> Result<SocketAddr, TransportError> {
    let mut last_error = String::new();
    for _ in 0..RUMQTTD_START_TRIES {
        // rumqttd cannot report the port it got, so pick one and hand it over; another process
        // may take it in between, hence the retries.
        let internal = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|probe| probe.local_addr())
            .map_err(|e| TransportError::Broker(format!("no free local port for rumqttd: {e}")))?;
        let config = rumqttd_config(internal, max_packet_bytes);
        std::thread::Builder::new()
            .name("rumqttd".into())
            .spawn(move || {
                let mut broker = rumqttd::Broker::new(config);
                if let Err(e) = broker.start() {
                    warn!("rumqttd stopped: {e}");
                }
            })
            .map_err(|e| TransportError::Broker(format!("cannot start a thread for rumqttd: {e}")))?;
        match wait_for_mqtt(internal) {
            Ok(()) => return Ok(internal),
            Err(e) => last_error = e,
        }
    }
    Err(TransportError::Broker(format!("rumqttd did not start: {last_error}")))
}

fn rumqttd_config(internal: SocketAddr, max_packet_bytes: usize) -> rumqttd::Config {
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 10_000,
        max_payload_size: max_packet_bytes,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = rumqttd::ServerSettings {
        name: "embedded-v4".into(),
        listen: internal,
        tls: None,
        next_connection_delay_ms: 0,
        connections,
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: MAX_CONNECTIONS,
            max_outgoing_packet_count: 200,
            max_segment_size: SEGMENT_BYTES,
            max_segment_count: SEGMENT_COUNT,
            custom_segment: None,
            initialized_filters: None,
            shared_subscriptions_strategy: Default::default(),
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        v5: None,
        ws: None,
        cluster: None,
        console: None,
        bridge: None,
        prometheus: None,
        metrics: None,
    }
}

/// Connects to rumqttd as a client (CONNECT, CONNACK, DISCONNECT) until it answers.
fn wait_for_mqtt(addr: SocketAddr) -> Result<(), String> {
    let deadline = std::time::Instant::now() + RUMQTTD_START_TIMEOUT;
    let mut last_error = String::from("no answer");
    while std::time::Instant::now() < deadline {
        match mqtt_handshake(addr) {
            Ok(()) => return Ok(()),
            Err(e) => last_error = format!("{addr}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(last_error)
}

fn mqtt_handshake(addr: SocketAddr) -> std::io::Result<()> {
    use std::io::{Read, Write};
    const CLIENT_ID: &[u8] = b"cems-workbench-probe";
    let mut stream = StdTcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    // MQTT 3.1.1 CONNECT: protocol name, level 4, clean session, keep-alive 10 s, client id.
    let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x0A];
    body.extend_from_slice(&(CLIENT_ID.len() as u16).to_be_bytes());
    body.extend_from_slice(CLIENT_ID);
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend(body);
    stream.write_all(&packet)?;
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack)?;
    if connack != [0x20, 0x02, 0x00, 0x00] {
        return Err(std::io::Error::other(format!("unexpected CONNACK {connack:02x?}")));
    }
    stream.write_all(&[0xE0, 0x00])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
