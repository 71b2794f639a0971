//! How a connection comes in: what every relay of one broker shares, a slot under
//! `max_connections` (or a refusal beyond it), and the client's first packet, its CONNECT,
//! read before rumqttd hears of the client and put to the door (`door.rs`).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tracing::{debug, warn};

use super::devices::Devices;
use super::door::{self, Counted, DoorCounters, Role};
use super::ledger::{Ledger, WillVerdict};
use super::wire::{apply_will, encode_length, parse_connect, read_header, skip};

/// Bytes buffered on each side of a relayed connection.
pub const BUFFER_BYTES: usize = 64 * 1024;
/// How long a refused client gets to send its CONNECT and read the refusal.
pub const REFUSAL_GRACE: Duration = Duration::from_secs(2);
/// MQTT's CONNECT packet type.
pub const CONNECT: u8 = 1;

/// Why the client's side ended.
pub enum End {
    Eof,
    Io(io::Error),
    /// We closed it; the reason names the packet.
    Refused(String),
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> End {
        End::Io(e)
    }
}

/// What every relay of one broker shares.
#[derive(Debug)]
pub struct Shared {
    pub internal: SocketAddr,
    pub max_packet_bytes: usize,
    pub max_connections: usize,
    pub ledger: Mutex<Ledger>,
    /// The devices file: None leaves the broker open.
    pub devices: Option<Devices>,
    pub door: DoorCounters,
    /// Connections relayed now.
    active: AtomicUsize,
    /// Connections refused so far, for a log line once and then every 1000.
    refused: AtomicU64,
}

impl Shared {
    pub fn new(internal: SocketAddr, max_packet_bytes: usize, max_connections: usize, ledger: Ledger, devices: Option<Devices>) -> Shared {
        Shared {
            internal,
            max_packet_bytes,
            max_connections,
            ledger: Mutex::new(ledger),
            devices,
            door: DoorCounters::default(),
            active: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// A slot for one more connection, or None at `max_connections`.
    pub fn try_enter(self: &Arc<Self>) -> Option<Slot> {
        let taken = self.active.fetch_add(1, Ordering::AcqRel);
        if taken >= self.max_connections {
            self.active.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(self.clone()))
    }

    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's place under `max_connections`, given back when the relay ends.
pub struct Slot(Arc<Shared>);

impl Slot {
    pub fn shared(&self) -> Arc<Shared> {
        self.0.clone()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}


/// A CONNECT read: let through (the packet to send rumqttd, maybe with its will changed), or
/// refused (the CONNACK code to answer, None to just close).
pub enum Opened {
    Admitted { packet: Vec<u8>, client_id: String, role: Role },
    Refused(Option<u8>),
}


/// Reads the client's first packet, which must be a CONNECT, and asks the door about it.
pub async fn open<R: AsyncRead + Unpin>(from: &mut BufReader<R>, shared: &Shared, peer: SocketAddr) -> Result<Opened, End> {
    let (byte1, remaining) = read_header(from).await?.ok_or(End::Eof)?;
    // Anything else first (a TLS ClientHello starts 0x16) is not for us: close at once, as
    // rumqttd would, rather than pass on what we would misread.
    if byte1 != CONNECT << 4 {
        return Err(End::Refused(format!("not MQTT: the first packet starts {byte1:#04x}, not CONNECT")));
    }
    if remaining > shared.max_packet_bytes {
        return Err(End::Refused(format!("a {remaining}-byte CONNECT is over the {}-byte packet limit", shared.max_packet_bytes)));
    }
    let mut body = vec![0u8; remaining];
    from.read_exact(&mut body).await?;
    let connect = parse_connect(&body);
    let now_ms = u64::try_from(crate::protocol::time::now_ms()).unwrap_or(0);
    let role = match door::admit(shared.devices.as_ref(), connect.as_ref(), now_ms) {
        Ok(role) => role,
        Err(refusal) => {
            let total = shared.door.count(Counted::RefusedConnect);
            if let Some(skipped) = shared.door.may_log() {
                let answer = match refusal.code {
                    Some(door::IDENTIFIER_REJECTED) => "CONNACK identifier rejected",
                    Some(door::BAD_USERNAME_OR_PASSWORD) => "CONNACK bad user name or password",
                    Some(door::NOT_AUTHORIZED) => "CONNACK not authorized",
                    _ => "closed",
                };
                let skipped = if skipped > 0 { format!("; {skipped} refusals not logged before this one") } else { String::new() };
                warn!("embedded broker: refused {peer} ({answer}): {} ({total} refused so far{skipped})", refusal.reason);
            }
            return Ok(Opened::Refused(refusal.code));
        }
    };
    let client_id = connect.as_ref().map_or_else(|| "?".to_string(), |c| c.client_id.clone());
    if let Some(will) = connect.as_ref().and_then(|c| c.will.as_ref()) {
        if role.may_publish(&will.topic) {
            let verdict = shared.ledger().will(peer, &will.topic, will.flags & 0x20 != 0, will.message_len);
            apply_will(&mut body, will, verdict);
        } else {
            shared.door.count(Counted::RemovedWill);
            warn!("embedded broker: removed the will of client {client_id:?} ({peer}) on {}: a device's will goes under its own {} only", will.topic, role.up());
            apply_will(&mut body, will, WillVerdict::Remove);
        }
    }
    let mut packet = vec![byte1];
    packet.extend(encode_length(body.len()));
    packet.extend(body);
    Ok(Opened::Admitted { packet, client_id, role })
}

/// CONNACK with `code`, then waits for the client to close: closing with its data unread would
/// reset the connection before it reads the answer.
pub async fn answer_refusal<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(from: &mut BufReader<R>, to: &mut W, code: u8) -> io::Result<()> {
    to.write_all(&[0x20, 0x02, 0x00, code]).await?;
    to.shutdown().await?;
    let mut sink = [0u8; 256];
    while from.read(&mut sink).await? > 0 {}
    Ok(())
}

/// Answers a client over `max_connections` with CONNACK "server unavailable", after reading
/// its CONNECT (closing with unread data would reset the connection before it reads the answer).
pub async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(mut client: S, peer: SocketAddr, shared: Arc<Shared>) {
    let refused = shared.refused.fetch_add(1, Ordering::Relaxed) + 1;
    if refused % 1000 == 1 {
        warn!(
            "embedded broker: refused {peer} (CONNACK server unavailable): {} connections already ({refused} refused so far)",
            shared.max_connections
        );
    }
    let answered = tokio::time::timeout(REFUSAL_GRACE, async {
        {
            let mut reader = BufReader::new(&mut client);
            let (_, remaining) = read_header(&mut reader).await?.ok_or(io::ErrorKind::UnexpectedEof)?;
            if remaining > BUFFER_BYTES {
                return Err(io::Error::other("CONNECT too large to wait for"));
            }
            skip(&mut reader, remaining).await?;
        }
        client.write_all(&[0x20, 0x02, 0x00, 0x03]).await?;
        client.shutdown().await?;
        // Until the client closes, so the answer is not lost to a reset.
        let mut sink = [0u8; 256];
        while client.read(&mut sink).await? > 0 {}
        Ok::<(), io::Error>(())
    })
    .await;
    debug!("embedded broker: refusal of {peer}: {answered:?}");
}
