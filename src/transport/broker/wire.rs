//! MQTT 3.1.1 on the wire, as little of it as the relay needs: fixed headers and remaining
//! lengths, a packet's body passed through or skipped without holding it whole, a CONNECT's
//! will found and rewritten, and packet boundaries followed in a byte stream.

use std::io;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::ledger::WillVerdict;

/// Reads a u16-prefixed field at `*at` in `body`, moving past it.
pub fn field<'a>(body: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = usize::from(u16::from_be_bytes([*body.get(*at)?, *body.get(*at + 1)?]));
    let value = body.get(*at + 2..*at + 2 + len)?;
    *at += 2 + len;
    Some(value)
}

/// Where a CONNECT body's will is.
#[derive(Debug, PartialEq, Eq)]
pub struct Will {
    pub flags_at: usize,
    pub flags: u8,
    /// The will topic's and message's bytes: `start..end`.
    pub start: usize,
    pub end: usize,
    pub topic: String,
    pub message_len: usize,
}

/// What a CONNECT body says about who is connecting.
#[derive(Debug, PartialEq, Eq)]
pub struct Connect {
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    /// Binary in MQTT; a device's is hex text, a master's anything.
    pub password: Option<Vec<u8>>,
}

/// Protocol name, level, flags, keep-alive, client id, then the will, username and password as
/// flagged. None when any of it cannot be read (or a string is not UTF-8): the door then refuses
/// it, an open broker passes it on for rumqttd to refuse.
pub fn parse_connect(body: &[u8]) -> Option<Connect> {
    let mut at = 0;
    field(body, &mut at)?;
    let flags_at = at + 1;
    let flags = *body.get(flags_at)?;
    at = flags_at + 3;
    let client_id = std::str::from_utf8(field(body, &mut at)?).ok()?.to_string();
    let will = if flags & 0x04 != 0 {
        let start = at;
        let topic = std::str::from_utf8(field(body, &mut at)?).ok()?.to_string();
        let message_len = field(body, &mut at)?.len();
        Some(Will { flags_at, flags, start, end: at, topic, message_len })
    } else {
        None
    };
    let username = match flags & 0x80 {
        0 => None,
        _ => Some(std::str::from_utf8(field(body, &mut at)?).ok()?.to_string()),
    };
    let password = match flags & 0x40 {
        0 => None,
        _ => Some(field(body, &mut at)?.to_vec()),
    };
    Some(Connect { client_id, will, username, password })
}


pub fn apply_will(body: &mut Vec<u8>, will: &Will, verdict: WillVerdict) {
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

/// Follows packet boundaries in a byte stream (fixed header, then the remaining length).
#[derive(Debug, Default)]
pub struct Framer {
    /// Fixed-header bytes of the packet starting, until complete.
    header: Vec<u8>,
    /// Body bytes of the current packet still to come.
    body_left: usize,
}

impl Framer {
    pub fn at_boundary(&self) -> bool {
        self.header.is_empty() && self.body_left == 0
    }

    pub fn advance(&mut self, mut bytes: &[u8]) -> io::Result<()> {
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

pub fn decode_length(bytes: &[u8]) -> usize {
    bytes.iter().enumerate().fold(0, |len, (i, b)| len | (usize::from(b & 0x7F) << (7 * i)))
}

pub fn encode_length(mut len: usize) -> Vec<u8> {
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
pub async fn read_header<R: AsyncRead + Unpin>(from: &mut BufReader<R>) -> io::Result<Option<(u8, usize)>> {
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

pub async fn write_header<W: AsyncWrite + Unpin>(to: &mut W, byte1: u8, remaining: usize) -> io::Result<()> {
    to.write_all(&[byte1]).await?;
    to.write_all(&encode_length(remaining)).await
}

/// Copies `len` bytes through the reader's own buffer, without holding a whole packet. Before
/// waiting for the client, what is buffered for rumqttd goes: earlier packets must not wait for
/// the rest of this one.
pub async fn pass_through<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(from: &mut BufReader<R>, to: &mut W, mut len: usize) -> io::Result<()> {
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

pub async fn skip<R: AsyncRead + Unpin>(from: &mut BufReader<R>, mut len: usize) -> io::Result<()> {
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

    fn find_will(body: &[u8]) -> Option<Will> {
        parse_connect(body)?.will
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
    fn a_connect_names_its_client_username_and_password() {
        let mut body = connect_body();
        body[7] |= 0x40;
        body.extend_from_slice(&[0x00, 0x02, 0xFF, 0x00]);
        let Some(connect) = parse_connect(&body) else { panic!("not parsed") };
        assert_eq!(connect.client_id, "gw");
        assert_eq!(connect.username.as_deref(), Some("user"));
        assert_eq!(connect.password.as_deref(), Some(&[0xFF, 0x00][..]));
        assert_eq!(connect.will.map(|w| w.topic), Some("w/t".to_string()));
        // A password flagged but missing, or a username not UTF-8, is no CONNECT the door reads.
        assert!(parse_connect(&body[..body.len() - 1]).is_none());
        let mut bad = connect_body();
        let user_at = bad.len() - 4;
        bad[user_at] = 0xC3;
        assert!(parse_connect(&bad).is_none());
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
