//! One client's connection, relayed to rumqttd and back. On the way in the relay reads the
//! client's MQTT packets, to enforce what rumqttd does not: the packet limit with a log line
//! that names the client, topic and size (rumqttd would just drop the connection), and the
//! ledger's caps on retained messages, topics and filters. On the way out it passes rumqttd's
//! bytes through and slips in, between packets, the answers it gives itself (a PUBACK for a
//! publish it dropped, a refusing SUBACK), so that no client waits forever. With a devices
//! file the door (`door.rs`) decides at the CONNECT, read before rumqttd hears of the client,
//! who it is and what it may publish and subscribe to.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::door::{Counted, Role};
use super::entry::{BUFFER_BYTES, CONNECT, End, Opened, REFUSAL_GRACE, Shared, Slot, answer_refusal, open};
use super::ledger::Verdict;
use super::wire::{Framer, encode_length, field, pass_through, read_header, skip, write_header};

/// Answers waiting to be slipped into the client's stream; the relay's reads wait beyond this.
const INJECT_CAPACITY: usize = 64;
/// How long a client has to send its CONNECT: rumqttd's own `connection_timeout_ms`.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

const PUBLISH: u8 = 3;
const SUBSCRIBE: u8 = 8;

/// One connection as the relay knows it once its CONNECT went through.
struct Conn<'a> {
    shared: &'a Shared,
    peer: SocketAddr,
    client_id: String,
    role: Role,
    /// Packets of this connection the door denied, for a log line once and then every 1000.
    denied: u64,
}

impl Conn<'_> {
    fn who(&self) -> String {
        let (client, peer) = (&self.client_id, self.peer);
        match &self.role {
            Role::Device(acl) => format!("device {}/{} ({peer})", acl.pk, acl.dev),
            Role::Master(user) => format!("master {user:?} (client {client:?}, {peer})"),
            Role::Open => format!("client {client:?} ({peer})"),
        }
    }

    /// Counts a denial; true when it is worth a log line.
    fn deny(&mut self, what: Counted) -> bool {
        self.shared.door.count(what);
        self.denied += 1;
        self.denied % 1000 == 1
    }
}

/// Relays one client, given as the two halves of its stream (plain TCP or TLS), to rumqttd.
pub async fn relay<R, W>(client_read: R, mut client_write: W, peer: SocketAddr, slot: Slot)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let shared = slot.shared();
    let mut from = BufReader::with_capacity(BUFFER_BYTES, client_read);
    // The CONNECT first, before rumqttd hears of the client: one the door refuses never reaches it.
    let (packet, client_id, role) = match tokio::time::timeout(CONNECT_WAIT, open(&mut from, &shared, peer)).await {
        Ok(Ok(Opened::Admitted { packet, client_id, role })) => (packet, client_id, role),
        Ok(Ok(Opened::Refused(code))) => {
            if let Some(code) = code {
                let answered = tokio::time::timeout(REFUSAL_GRACE, answer_refusal(&mut from, &mut client_write, code)).await;
                debug!("embedded broker: refusal of {peer}: {answered:?}");
            }
            return;
        }
        Ok(Err(end)) => return log_end(peer, end),
        Err(_) => return debug!("embedded broker: {peer} sent no CONNECT within {} s", CONNECT_WAIT.as_secs()),
    };
    let upstream = match TcpStream::connect(shared.internal).await {
        Ok(stream) => stream,
        Err(e) => {
            warn!("embedded broker: cannot reach rumqttd on {} for {peer}: {e}", shared.internal);
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let (broker_read, broker_write) = upstream.into_split();
    let mut to = BufWriter::with_capacity(BUFFER_BYTES, broker_write);
    // Buffered only: the inbound loop flushes before it first waits for the client.
    if let Err(e) = to.write_all(&packet).await {
        return debug!("embedded broker: rumqttd did not take {peer}'s CONNECT: {e}");
    }
    let (inject_tx, inject_rx) = mpsc::channel(INJECT_CAPACITY);
    let mut conn = Conn { shared: &shared, peer, client_id, role, denied: 0 };
    let inbound = inbound(from, to, inject_tx, &mut conn);
    let outbound = outbound(broker_read, client_write, inject_rx);
    // Either side ending ends both: dropping the halves closes both sockets.
    tokio::select! {
        end = inbound => log_end(peer, end),
        result = outbound => debug!("embedded broker: rumqttd ended {peer}'s connection: {result:?}"),
    }
    drop(slot);
}

fn log_end(peer: SocketAddr, end: End) {
    match end {
        End::Refused(reason) => warn!("embedded broker: closing {peer}: {reason}"),
        End::Io(e) => debug!("embedded broker: {peer} ended: {e}"),
        End::Eof => debug!("embedded broker: {peer} done"),
    }
}

/// Client to rumqttd, packet by packet.
async fn inbound<R: AsyncRead + Unpin>(
    mut from: BufReader<R>,
    mut to: BufWriter<OwnedWriteHalf>,
    inject: mpsc::Sender<Vec<u8>>,
    conn: &mut Conn<'_>,
) -> End {
    let max_packet_bytes = conn.shared.max_packet_bytes;
    loop {
        // About to wait for the client: what is buffered for rumqttd goes now.
        if from.buffer().is_empty()
            && let Err(e) = to.flush().await
        {
            return End::Io(e);
        }
        let (byte1, remaining) = match read_header(&mut from).await {
            Ok(Some(header)) => header,
            Ok(None) => return End::Eof,
            Err(e) => return End::Io(e),
        };
        let result = match byte1 >> 4 {
            PUBLISH => publish(&mut from, &mut to, &inject, conn, byte1, remaining).await,
            // MQTT 3.1.1 §3.1: a second CONNECT is a protocol violation; it would also be a
            // second identity the door never checked.
            CONNECT => Err(End::Refused(format!("a second CONNECT from {}", conn.who()))),
            _ if remaining > max_packet_bytes => Err(End::Refused(format!(
                "a {remaining}-byte packet (type {}) is over the {max_packet_bytes}-byte packet limit",
                byte1 >> 4
            ))),
            SUBSCRIBE => subscribe(&mut from, &mut to, &inject, conn, byte1, remaining).await,
            _ => forward(&mut from, &mut to, byte1, remaining).await,
        };
        if let Err(end) = result {
            // Packets before the refused one still go; the connection ends after them.
            if matches!(end, End::Refused(_)) {
                let _ = to.flush().await;
            }
            return end;
        }
    }
}

async fn forward<R: AsyncRead + Unpin>(from: &mut BufReader<R>, to: &mut BufWriter<OwnedWriteHalf>, byte1: u8, remaining: usize) -> Result<(), End> {
    write_header(to, byte1, remaining).await?;
    pass_through(from, to, remaining).await?;
    Ok(())
}

fn malformed(what: &str) -> End {
    End::Refused(format!("malformed {what}"))
}

async fn publish<R: AsyncRead + Unpin>(
    from: &mut BufReader<R>,
    to: &mut BufWriter<OwnedWriteHalf>,
    inject: &mpsc::Sender<Vec<u8>>,
    conn: &mut Conn<'_>,
    byte1: u8,
    remaining: usize,
) -> Result<(), End> {
    let shared = conn.shared;
    let qos = (byte1 >> 1) & 0x03;
    let retain = byte1 & 0x01 != 0;
    let id_len = if qos > 0 { 2 } else { 0 };
    if remaining < 2 + id_len {
        return Err(malformed("PUBLISH"));
    }
    let topic_len = usize::from(from.read_u16().await?);
    if 2 + topic_len + id_len > remaining {
        return Err(malformed("PUBLISH (topic longer than the packet)"));
    }
    let mut topic = vec![0u8; topic_len];
    from.read_exact(&mut topic).await?;
    let Ok(topic) = String::from_utf8(topic) else { return Err(malformed("PUBLISH (topic not UTF-8)")) };
    if remaining > shared.max_packet_bytes {
        return Err(End::Refused(format!(
            "a {remaining}-byte PUBLISH to {topic} is over the {}-byte packet limit",
            shared.max_packet_bytes
        )));
    }
    let mut packet_id = [0u8; 2];
    if qos > 0 {
        from.read_exact(&mut packet_id).await?;
    }
    let payload_len = remaining - 2 - topic_len - id_len;
    if !conn.role.may_publish(&topic) {
        if conn.deny(Counted::DeniedPublish) {
            warn!(
                "embedded broker: dropped a publish from {} to {topic}: a device publishes under its own {} only ({} denied on this connection)",
                conn.who(),
                conn.role.up(),
                conn.denied
            );
        }
        let qos2 = format!("a QoS 2 publish to {topic}, outside its own {}", conn.role.up());
        return drop_publish(from, to, inject, qos, packet_id, payload_len, qos2).await;
    }
    let verdict = shared.ledger().publish(conn.peer, &topic, retain, payload_len);
    let byte1 = match verdict {
        Verdict::Forward => byte1,
        Verdict::NotRetained { clear_old } => {
            if clear_old {
                // QoS 0, retained, empty payload: rumqttd forgets the topic's retained message.
                write_header(to, (PUBLISH << 4) | 0x01, 2 + topic_len).await?;
                to.write_all(&(topic_len as u16).to_be_bytes()).await?;
                to.write_all(topic.as_bytes()).await?;
            }
            byte1 & !0x01
        }
        Verdict::Drop => {
            let qos2 = format!("a QoS 2 publish to {topic}, a new topic beyond the topic limit");
            return drop_publish(from, to, inject, qos, packet_id, payload_len, qos2).await;
        }
    };
    write_header(to, byte1, remaining).await?;
    to.write_all(&(topic_len as u16).to_be_bytes()).await?;
    to.write_all(topic.as_bytes()).await?;
    if qos > 0 {
        to.write_all(&packet_id).await?;
    }
    pass_through(from, to, payload_len).await?;
    Ok(())
}

/// Skips a publish's payload instead of passing it on. A QoS 1 one is acknowledged by us, so
/// the client does not resend it forever (MQTT 3.1.1 has no negative PUBACK); QoS 2 has no
/// such way out and closes the connection with `qos2_reason`.
async fn drop_publish<R: AsyncRead + Unpin>(
    from: &mut BufReader<R>,
    to: &mut BufWriter<OwnedWriteHalf>,
    inject: &mpsc::Sender<Vec<u8>>,
    qos: u8,
    packet_id: [u8; 2],
    payload_len: usize,
    qos2_reason: String,
) -> Result<(), End> {
    to.flush().await?;
    skip(from, payload_len).await?;
    match qos {
        0 => Ok(()),
        1 => inject.send(vec![0x40, 0x02, packet_id[0], packet_id[1]]).await.map_err(|_| End::Eof),
        _ => Err(End::Refused(qos2_reason)),
    }
}

async fn subscribe<R: AsyncRead + Unpin>(
    from: &mut BufReader<R>,
    to: &mut BufWriter<OwnedWriteHalf>,
    inject: &mpsc::Sender<Vec<u8>>,
    conn: &mut Conn<'_>,
    byte1: u8,
    remaining: usize,
) -> Result<(), End> {
    let mut body = vec![0u8; remaining];
    from.read_exact(&mut body).await?;
    if body.len() < 2 {
        // No packet id: malformed, for rumqttd to close.
        write_header(to, byte1, remaining).await?;
        to.write_all(&body).await?;
        return Ok(());
    }
    let mut filters = Vec::new();
    // Every filter read as rumqttd will read it: the door must see exactly what goes on.
    let mut readable = true;
    let mut at = 2;
    while at < body.len() {
        let Some(filter) = field(&body, &mut at) else {
            readable = false;
            break;
        };
        readable &= std::str::from_utf8(filter).is_ok();
        filters.push(String::from_utf8_lossy(filter).into_owned());
        at += 1; // requested QoS
    }
    readable &= at == body.len();
    let outside = match conn.role {
        Role::Device(_) => filters.iter().find(|f| !conn.role.may_subscribe(f)).cloned().or_else(|| (!readable).then(|| "(unreadable)".to_string())),
        Role::Open | Role::Master(_) => None,
    };
    if let Some(filter) = &outside
        && conn.deny(Counted::DeniedSubscribe)
    {
        warn!(
            "embedded broker: refused a SUBSCRIBE from {} to {filter}: a device subscribes within its own {} only ({} denied on this connection)",
            conn.who(),
            conn.role.down(),
            conn.denied
        );
    }
    if outside.is_none() && conn.shared.ledger().subscribe(conn.peer, &filters) {
        write_header(to, byte1, remaining).await?;
        to.write_all(&body).await?;
        return Ok(());
    }
    // SUBACK with "failure" for each filter, for the same packet id.
    let mut suback = vec![0x90];
    suback.extend(encode_length(2 + filters.len()));
    suback.extend_from_slice(&body[..2]);
    suback.extend(std::iter::repeat_n(0x80, filters.len()));
    inject.send(suback).await.map_err(|_| End::Eof)
}

/// rumqttd to the client: bytes as they come, with our own answers slipped in between packets.
async fn outbound<W: AsyncWrite + Unpin>(mut from: OwnedReadHalf, mut to: W, mut inject: mpsc::Receiver<Vec<u8>>) -> io::Result<()> {
    let mut buffer = vec![0u8; BUFFER_BYTES];
    let mut framer = Framer::default();
    let mut injecting = true;
    loop {
        tokio::select! {
            read = from.read(&mut buffer) => {
                let count = read?;
                if count == 0 {
                    return Ok(());
                }
                to.write_all(buffer.get(..count).unwrap_or_default()).await?;
                framer.advance(buffer.get(..count).unwrap_or_default())?;
            }
            // Only between packets, so an answer never lands inside one of rumqttd's.
            packet = inject.recv(), if injecting && framer.at_boundary() => match packet {
                Some(packet) => to.write_all(&packet).await?,
                None => injecting = false,
            },
        }
    }
}
