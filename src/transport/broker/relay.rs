//! One client's connection, relayed to rumqttd and back. On the way in the relay reads the
//! client's MQTT packets, to enforce what rumqttd does not: the packet limit with a log line
//! that names the client, topic and size (rumqttd would just drop the connection), and the
//! ledger's caps on retained messages, topics and filters. On the way out it passes rumqttd's
//! bytes through and slips in, between packets, the answers it gives itself (a PUBACK for a
//! publish it dropped, a refusing SUBACK), so that no client waits forever.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::ledger::{Ledger, Verdict, WillVerdict};

const BUFFER_BYTES: usize = 64 * 1024;
/// Answers waiting to be slipped into the client's stream; the relay's reads wait beyond this.
const INJECT_CAPACITY: usize = 64;
/// How long a refused client gets to send its CONNECT and read the refusal.
const REFUSAL_GRACE: Duration = Duration::from_secs(2);

const CONNECT: u8 = 1;
const PUBLISH: u8 = 3;
const SUBSCRIBE: u8 = 8;

/// What every relay of one broker shares.
#[derive(Debug)]
pub struct Shared {
    pub internal: SocketAddr,
    pub max_packet_bytes: usize,
    pub max_connections: usize,
    pub ledger: Mutex<Ledger>,
    /// Connections relayed now.
    active: AtomicUsize,
}

impl Shared {
    pub fn new(internal: SocketAddr, max_packet_bytes: usize, max_connections: usize, ledger: Ledger) -> Shared {
        Shared { internal, max_packet_bytes, max_connections, ledger: Mutex::new(ledger), active: AtomicUsize::new(0) }
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

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's place under `max_connections`, given back when the relay ends.
pub struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why the client's side ended.
enum End {
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

pub async fn relay(client: TcpStream, peer: SocketAddr, slot: Slot) {
    let shared = slot.0.clone();
    let upstream = match TcpStream::connect(shared.internal).await {
        Ok(stream) => stream,
        Err(e) => {
            warn!("embedded broker: cannot reach rumqttd on {} for {peer}: {e}", shared.internal);
            return;
        }
    };
    // MQTT is chatty with small packets; Nagle would add latency to every ack.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (broker_read, broker_write) = upstream.into_split();
    let (inject_tx, inject_rx) = mpsc::channel(INJECT_CAPACITY);
    let inbound = inbound(
        BufReader::with_capacity(BUFFER_BYTES, client_read),
        BufWriter::with_capacity(BUFFER_BYTES, broker_write),
        inject_tx,
        &shared,
        peer,
    );
    let outbound = outbound(broker_read, client_write, inject_rx);
    // Either side ending ends both: dropping the halves closes both sockets.
    tokio::select! {
        end = inbound => match end {
            End::Refused(reason) => warn!("embedded broker: closing {peer}: {reason}"),
            End::Io(e) => debug!("embedded broker: {peer} ended: {e}"),
            End::Eof => debug!("embedded broker: {peer} done"),
        },
        result = outbound => debug!("embedded broker: rumqttd ended {peer}'s connection: {result:?}"),
    }
    drop(slot);
}

/// Answers a client over `max_connections` with CONNACK "server unavailable", after reading
/// its CONNECT (closing with unread data would reset the connection before it reads the answer).
pub async fn refuse(mut client: TcpStream, peer: SocketAddr, max_connections: usize) {
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
    warn!("embedded broker: refused {peer}: {max_connections} connections already ({answered:?})");
}

/// Client to rumqttd, packet by packet.
async fn inbound(
    mut from: BufReader<OwnedReadHalf>,
    mut to: BufWriter<OwnedWriteHalf>,
    inject: mpsc::Sender<Vec<u8>>,
    shared: &Shared,
    peer: SocketAddr,
) -> End {
    let mut first = true;
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
        // Anything else first (a TLS ClientHello starts 0x16) is not for us: close at once,
        // as rumqttd would, rather than pass on what we would misread.
        if std::mem::take(&mut first) && byte1 != CONNECT << 4 {
            return End::Refused(format!("not MQTT: the first packet starts {byte1:#04x}, not CONNECT"));
        }
        let result = match byte1 >> 4 {
            PUBLISH => publish(&mut from, &mut to, &inject, shared, peer, byte1, remaining).await,
            _ if remaining > shared.max_packet_bytes => Err(End::Refused(format!(
                "a {remaining}-byte packet (type {}) is over the {}-byte packet limit",
                byte1 >> 4,
                shared.max_packet_bytes
            ))),
            CONNECT => connect(&mut from, &mut to, shared, peer, byte1, remaining).await,
            SUBSCRIBE => subscribe(&mut from, &mut to, &inject, shared, peer, byte1, remaining).await,
            _ => forward(&mut from, &mut to, byte1, remaining).await,
        };
        if let Err(end) = result {
            return end;
        }
    }
}

async fn forward(from: &mut BufReader<OwnedReadHalf>, to: &mut BufWriter<OwnedWriteHalf>, byte1: u8, remaining: usize) -> Result<(), End> {
    write_header(to, byte1, remaining).await?;
    pass_through(from, to, remaining).await?;
    Ok(())
}

fn malformed(what: &str) -> End {
    End::Refused(format!("malformed {what}"))
}

async fn publish(
    from: &mut BufReader<OwnedReadHalf>,
    to: &mut BufWriter<OwnedWriteHalf>,
    inject: &mpsc::Sender<Vec<u8>>,
    shared: &Shared,
    peer: SocketAddr,
    byte1: u8,
    remaining: usize,
) -> Result<(), End> {
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
    let verdict = shared.ledger().publish(peer, &topic, retain, payload_len);
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
            skip(from, payload_len).await?;
            return match qos {
                0 => Ok(()),
                // Acknowledged by us, so the client does not resend it forever.
                1 => inject.send(vec![0x40, 0x02, packet_id[0], packet_id[1]]).await.map_err(|_| End::Eof),
                _ => Err(End::Refused(format!("a QoS 2 publish to {topic}, a new topic beyond the topic limit"))),
            };
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

/// Reads a u16-prefixed field at `*at` in `body`, moving past it.
fn field<'a>(body: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::from(u16::from_be_bytes([*body.get(*at)?, *body.get(*at + 1)?]));
    let value = body.get(*at + 2..*at + 2 + len)?;
    *at += 2 + len;
    Some(value)
}

async fn connect(
    from: &mut BufReader<OwnedReadHalf>,
    to: &mut BufWriter<OwnedWriteHalf>,
    shared: &Shared,
    peer: SocketAddr,
    byte1: u8,
    remaining: usize,
) -> Result<(), End> {
    let mut body = vec![0u8; remaining];
    from.read_exact(&mut body).await?;
    if let Some(will) = find_will(&body) {
        let verdict = shared.ledger().will(peer, &will.topic, will.flags & 0x20 != 0, will.message_len);
        apply_will(&mut body, &will, verdict);
    }
    write_header(to, byte1, body.len()).await?;
    to.write_all(&body).await?;
    Ok(())
}

/// Where a CONNECT body's will is.
#[derive(Debug, PartialEq, Eq)]
struct Will {
    flags_at: usize,
    flags: u8,
    /// The will topic's and message's bytes: `start..end`.
    start: usize,
    end: usize,
    topic: String,
    message_len: usize,
}

/// Protocol name, level, flags, keep-alive, client id, then the will if flagged. None without a
/// will or when the body cannot be read: it then goes on as it is, for rumqttd to refuse.
fn find_will(body: &[u8]) -> Option<Will> {
    let mut at = 0;
    field(body, &mut at)?;
    let flags_at = at + 1;
    let flags = *body.get(flags_at)?;
    at = flags_at + 3;
    field(body, &mut at)?;
    if flags & 0x04 == 0 {
        return None;
    }
    let start = at;
    let topic = std::str::from_utf8(field(body, &mut at)?).ok()?.to_string();
    let message_len = field(body, &mut at)?.len();
    Some(Will { flags_at, flags, start, end: at, topic, message_len })
}

fn apply_will(body: &mut Vec<u8>, will: &Will, verdict: WillVerdict) {
    match verdict {
        WillVerdict::Keep => {}
        WillVerdict::NotRetained => {
            if let Some(flags) = body.get_mut(will.flags_at) {
                *flags = will.flags & !0x20;
            }
        }
        WillVerdict::Remove => {
            // No will flag, QoS or retain; the will's topic and message go.
            if let Some(flags) = body.get_mut(will.flags_at) {
                *flags = will.flags & !(0x04 | 0x18 | 0x20);
            }
            body.drain(will.start..will.end);
        }
    }
}

async fn subscribe(
    from: &mut BufReader<OwnedReadHalf>,
    to: &mut BufWriter<OwnedWriteHalf>,
    inject: &mpsc::Sender<Vec<u8>>,
    shared: &Shared,
    peer: SocketAddr,
    byte1: u8,
    remaining: usize,
) -> Result<(), End> {
    let mut body = vec![0u8; remaining];
    from.read_exact(&mut body).await?;
    let mut filters = Vec::new();
    let mut at = 2;
    while at < body.len() {
        let Some(filter) = field(&body, &mut at) else { break };
        filters.push(String::from_utf8_lossy(filter).into_owned());
        at += 1; // requested QoS
    }
    if body.len() < 2 || shared.ledger().subscribe(peer, &filters) {
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
async fn outbound(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut inject: mpsc::Receiver<Vec<u8>>) -> io::Result<()> {
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

/// Follows packet boundaries in a byte stream (fixed header, then the remaining length).
#[derive(Debug, Default)]
struct Framer {
    /// Fixed-header bytes of the packet starting, until complete.
    header: Vec<u8>,
    /// Body bytes of the current packet still to come.
    body_left: usize,
}

impl Framer {
    fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.body_left == 0
    }

    fn advance(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let step = self.body_left.min(bytes.len());
                self.body_left -= step;
                bytes = bytes.get(step..).unwrap_or_default();
                continue;
            }
            let Some((&byte, rest)) = bytes.split_first() else { break };
            bytes = rest;
            self.header.push(byte);
            if self.header.len() > 5 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "rumqttd sent a remaining length over 4 bytes"));
            }
            if self.header.len() >= 2 && byte & 0x80 == 0 {
                self.body_left = decode_length(self.header.get(1..).unwrap_or_default());
                self.header.clear();
            }
        }
        Ok(())
    }
}

fn decode_length(bytes: &[u8]) -> usize {
    bytes.iter().enumerate().fold(0, |len, (i, b)| len | (usize::from(b & 0x7F) << (7 * i)))
}

fn encode_length(mut len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(4);
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            return out;
        }
    }
}

/// The fixed header: (first byte, remaining length), or None at a clean end of stream.
async fn read_header<R: AsyncRead + Unpin>(from: &mut BufReader<R>) -> io::Result<Option<(u8, usize)>> {
    let mut first = [0u8; 1];
    if from.read(&mut first).await? == 0 {
        return Ok(None);
    }
    let mut length = 0usize;
    for i in 0..4 {
        let byte = from.read_u8().await?;
        length |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((first[0], length)));
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidData, "remaining length over 4 bytes"))
}

async fn write_header<W: AsyncWrite + Unpin>(to: &mut W, byte1: u8, remaining: usize) -> io::Result<()> {
    to.write_all(&[byte1]).await?;
    to.write_all(&encode_length(remaining)).await
}

/// Copies `len` bytes through the reader's own buffer, without holding a whole packet. Before
/// waiting for the client, what is buffered for rumqttd goes: earlier packets must not wait for
/// the rest of this one.
async fn pass_through<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(from: &mut BufReader<R>, to: &mut W, mut len: usize) -> io::Result<()> {
    while len > 0 {
        if from.buffer().is_empty() {
            to.flush().await?;
        }
        let chunk = from.fill_buf().await?;
        if chunk.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let step = len.min(chunk.len());
        to.write_all(chunk.get(..step).unwrap_or_default()).await?;
        from.consume(step);
        len -= step;
    }
    Ok(())
}

async fn skip<R: AsyncRead + Unpin>(from: &mut BufReader<R>, mut len: usize) -> io::Result<()> {
    while len > 0 {
        let chunk = from.fill_buf().await?;
        if chunk.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let step = len.min(chunk.len());
        from.consume(step);
        len -= step;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CONNECT body: MQTT 3.1.1, clean session, a will (QoS 1, retained) and a username.
    fn connect_body() -> Vec<u8> {
        let mut body = vec![0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02 | 0x04 | 0x08 | 0x20 | 0x80, 0x00, 0x1E];
        for field in [&b"gw"[..], b"w/t", b"gone", b"user"] {
            body.extend_from_slice(&(field.len() as u16).to_be_bytes());
            body.extend_from_slice(field);
        }
        body
    }

    #[test]
    fn a_will_is_found_and_rewritten() {
        let body = connect_body();
        let Some(will) = find_will(&body) else { panic!("no will found") };
        assert_eq!((will.topic.as_str(), will.message_len, will.start, will.end), ("w/t", 4, 14, 25));
        let mut kept = body.clone();
        apply_will(&mut kept, &will, WillVerdict::NotRetained);
        assert_eq!(kept[7], 0x02 | 0x04 | 0x08 | 0x80);
        let mut removed = body.clone();
        apply_will(&mut removed, &will, WillVerdict::Remove);
        assert_eq!(removed[7], 0x02 | 0x80);
        assert_eq!(&removed[10..], &[0x00, 0x02, b'g', b'w', 0x00, 0x04, b'u', b's', b'e', b'r']);
        assert!(find_will(&removed).is_none());
        assert!(find_will(&body[..12]).is_none());
    }

    #[test]
    fn lengths_round_trip_and_the_framer_finds_boundaries() {
        for len in [0, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455] {
            assert_eq!(decode_length(&encode_length(len)), len);
        }
        let mut framer = Framer::default();
        // PUBACK, then a PUBLISH with a 200-byte body split across reads.
        framer.advance(&[0x40, 0x02, 0x00]).unwrap();
        assert!(!framer.at_boundary());
        framer.advance(&[0x01, 0x30]).unwrap();
        assert!(!framer.at_boundary());
        framer.advance(&[0xC8]).unwrap();
        framer.advance(&[0x01]).unwrap();
        framer.advance(&[0u8; 199]).unwrap();
        assert!(!framer.at_boundary());
        framer.advance(&[0u8; 1]).unwrap();
        assert!(framer.at_boundary());
        assert!(framer.advance(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]).is_err());
    }
}
