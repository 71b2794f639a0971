//! rumqttd itself: started on an internal 127.0.0.1 port its relays connect to, with our limits,
//! and waited for until it answers MQTT.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream as StdTcpStream};
use std::time::Duration;

use tracing::warn;

use crate::transport::link::TransportError;

/// What rumqttd enforces itself, from the broker's config.
#[derive(Debug, Clone, Copy)]
pub struct RumqttdLimits {
    pub max_packet_bytes: usize,
    pub max_inflight: usize,
    pub max_connections: usize,
}

/// rumqttd's own connection cap sits above ours: the start-up probe and refusals in progress.
const RUMQTTD_EXTRA_CONNECTIONS: usize = 16;
/// rumqttd keeps each filter's messages in segments; a few small ones bound its memory while a
/// single large payload still fits (a segment may overflow by one message).
const SEGMENT_BYTES: usize = 2 * 1024 * 1024;
const SEGMENT_COUNT: usize = 4;
const RUMQTTD_START_TIMEOUT: Duration = Duration::from_secs(5);
const RUMQTTD_START_TRIES: usize = 3;

/// Starts rumqttd on a free 127.0.0.1 port and waits until it answers MQTT; blocking.
pub fn start_rumqttd(config: &RumqttdLimits) -> Result<SocketAddr, TransportError> {
    let mut last_error = String::new();
    for _ in 0..RUMQTTD_START_TRIES {
        // rumqttd cannot report the port it got, so pick one and hand it over; another process
        // may take it in between, hence the retries.
        let internal = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|probe| probe.local_addr())
            .map_err(|e| TransportError::Broker(format!("no free local port for rumqttd: {e}")))?;
        let config = rumqttd_config(internal, config);
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

fn rumqttd_config(internal: SocketAddr, config: &RumqttdLimits) -> rumqttd::Config {
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 10_000,
        // The relay refuses bigger packets first, with a log line; this is the same number.
        max_payload_size: config.max_packet_bytes,
        max_inflight_count: config.max_inflight,
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
            max_connections: config.max_connections.saturating_add(RUMQTTD_EXTRA_CONNECTIONS),
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
