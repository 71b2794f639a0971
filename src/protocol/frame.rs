//! Serial-link framing (contract §10): (topic, payload) pairs as COBS frames ending in `0x00`.
//!
//! Decoded layout: `type` (u8) · topic length (u16 BE) · topic (UTF-8) · payload ·
//! CRC-32 IEEE of everything before it (u32 LE).

use thiserror::Error;

/// Largest decoded frame: type, topic length, topic, payload and CRC together.
pub const MAX_FRAME_LEN: usize = 65_536;

/// Largest COBS encoding of a `MAX_FRAME_LEN` frame, without its `0x00` delimiter.
/// COBS adds one code byte per started run of 254 data bytes.
pub const MAX_ENCODED_LEN: usize = MAX_FRAME_LEN + MAX_FRAME_LEN / 254 + 1;

/// Type byte, topic length and CRC: the smallest possible decoded frame.
const HEADER_LEN: usize = 3;
const CRC_LEN: usize = 4;
const MIN_FRAME_LEN: usize = HEADER_LEN + CRC_LEN;

/// The delimiter that ends every encoded frame.
const DELIMITER: u8 = 0x00;

/// What a frame carries; the discriminant is its `type` byte on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameKind {
    /// A (topic, payload) message.
    Publish = 1,
    /// Keep-alive probe; empty topic and payload.
    Ping = 2,
    /// Answer to a ping; empty topic and payload.
    Pong = 3,
}

impl FrameKind {
    /// The kind for a wire `type` byte, `None` when unknown.
    pub fn from_byte(byte: u8) -> Option<FrameKind> {
        match byte {
            1 => Some(FrameKind::Publish),
            2 => Some(FrameKind::Ping),
            3 => Some(FrameKind::Pong),
            _ => None,
        }
    }

    /// The wire `type` byte.
    pub fn as_byte(self) -> u8 {
        self as u8
    }
}

/// One decoded serial frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Publish, ping or pong.
    pub kind: FrameKind,
    /// MQTT-style topic; empty for ping and pong.
    pub topic: String,
    /// Raw payload bytes; empty for ping and pong.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A publish frame carrying `payload` on `topic`.
    pub fn publish(topic: impl Into<String>, payload: impl Into<Vec<u8>>) -> Frame {
        Frame { kind: FrameKind::Publish, topic: topic.into(), payload: payload.into() }
    }

    /// A ping frame.
    pub fn ping() -> Frame {
        Frame { kind: FrameKind::Ping, topic: String::new(), payload: Vec::new() }
    }

    /// A pong frame.
    pub fn pong() -> Frame {
        Frame { kind: FrameKind::Pong, topic: String::new(), payload: Vec::new() }
    }

    /// Size of this frame once decoded (header, topic, payload, CRC).
    pub fn decoded_len(&self) -> usize {
        MIN_FRAME_LEN.saturating_add(self.topic.len()).saturating_add(self.payload.len())
    }
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The topic does not fit the u16 length field.
    #[error("topic is {len} bytes, at most {} fit the length field", u16::MAX)]
    TopicTooLong {
        /// Topic length in bytes.
        len: usize,
    },
    /// The decoded frame is larger than [`MAX_FRAME_LEN`].
    #[error("frame is {len} bytes decoded, at most {MAX_FRAME_LEN} allowed")]
    TooLarge {
        /// Decoded length in bytes.
        len: usize,
    },
    /// The decoded frame cannot even hold the header and the CRC.
    #[error("frame is {len} bytes decoded, shorter than the {MIN_FRAME_LEN}-byte minimum")]
    TooShort {
        /// Decoded length in bytes.
        len: usize,
    },
    /// A ping or pong carries a topic or payload.
    #[error("{kind:?} frame carries a {topic_len}-byte topic and a {payload_len}-byte payload, both must be empty")]
    ControlNotEmpty {
        /// Ping or pong.
        kind: FrameKind,
        /// Topic length in bytes.
        topic_len: usize,
        /// Payload length in bytes.
        payload_len: usize,
    },
    /// A COBS code byte points past the end of the frame.
    #[error("COBS decoding failed: code byte at offset {offset} announces {announced} bytes, only {available} remain")]
    CobsTruncated {
        /// Offset of the code byte in the encoded frame.
        offset: usize,
        /// Data bytes the code announces.
        announced: usize,
        /// Data bytes left in the encoded frame.
        available: usize,
    },
    /// A COBS code byte is zero, which the encoding never produces.
    #[error("COBS decoding failed: zero code byte at offset {offset}")]
    CobsZeroCode {
        /// Offset of the code byte in the encoded frame.
        offset: usize,
    },
    /// More bytes than any valid frame arrived without a delimiter; the rest up to the next
    /// `0x00` is discarded.
    #[error("over {MAX_ENCODED_LEN} encoded bytes without a 0x00 delimiter, discarding up to the next one")]
    Overflow,
    /// The CRC at the end of the frame does not match its content.
    #[error("CRC mismatch: frame carries {carried:08x}, content gives {computed:08x}")]
    CrcMismatch {
        /// CRC read from the frame.
        carried: u32,
        /// CRC computed over the frame.
        computed: u32,
    },
    /// The `type` byte is not 1, 2 or 3.
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// The topic length field points past the CRC.
    #[error("topic length {topic_len} exceeds the {available} bytes before the CRC")]
    TopicLengthOutOfRange {
        /// Value of the topic length field.
        topic_len: usize,
        /// Bytes between the header and the CRC.
        available: usize,
    },
    /// The topic bytes are not UTF-8.
    #[error("topic is not UTF-8: invalid byte at offset {valid_up_to} of the topic")]
    TopicNotUtf8 {
        /// Length of the valid UTF-8 prefix.
        valid_up_to: usize,
    },
}

/// Encodes `frame` for the wire: COBS of the decoded layout, then one `0x00`.
pub fn encode(frame: &Frame) -> Result<Vec<u8>, FrameError> {
    check_control_empty(frame.kind, frame.topic.len(), frame.payload.len())?;
    let Ok(topic_len) = u16::try_from(frame.topic.len()) else {
        return Err(FrameError::TopicTooLong { len: frame.topic.len() });
    };
    let len = frame.decoded_len();
    if len > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge { len });
    }
    let mut decoded = Vec::with_capacity(len);
    decoded.push(frame.kind.as_byte());
    decoded.extend_from_slice(&topic_len.to_be_bytes());
    decoded.extend_from_slice(frame.topic.as_bytes());
    decoded.extend_from_slice(&frame.payload);
    let crc = crc32fast::hash(&decoded);
    decoded.extend_from_slice(&crc.to_le_bytes());

    let mut wire = cobs_encode(&decoded);
    wire.push(DELIMITER);
    Ok(wire)
}

/// Decodes one encoded frame (without its delimiter).
fn decode_one(encoded: &[u8]) -> Result<Frame, FrameError> {
    let decoded = cobs_decode(encoded)?;
    let len = decoded.len();
    if len < MIN_FRAME_LEN {
        return Err(FrameError::TooShort { len });
    }
    if len > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge { len });
    }
    // Checked first: when the CRC fails, every other field is suspect too.
    let (content, crc_bytes) = decoded.split_at(len - CRC_LEN);
    let Ok(crc_bytes) = <[u8; CRC_LEN]>::try_from(crc_bytes) else {
        return Err(FrameError::TooShort { len });
    };
    let carried = u32::from_le_bytes(crc_bytes);
    let computed = crc32fast::hash(content);
    if carried != computed {
        return Err(FrameError::CrcMismatch { carried, computed });
    }

    let (header, body) = content.split_at(HEADER_LEN);
    let &[type_byte, len_hi, len_lo] = header else {
        return Err(FrameError::TooShort { len });
    };
    let Some(kind) = FrameKind::from_byte(type_byte) else {
        return Err(FrameError::UnknownType(type_byte));
    };
    let topic_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if topic_len > body.len() {
        return Err(FrameError::TopicLengthOutOfRange { topic_len, available: body.len() });
    }
    let (topic, payload) = body.split_at(topic_len);
    let topic = match std::str::from_utf8(topic) {
        Ok(topic) => topic.to_owned(),
        Err(err) => return Err(FrameError::TopicNotUtf8 { valid_up_to: err.valid_up_to() }),
    };
    check_control_empty(kind, topic.len(), payload.len())?;
    Ok(Frame { kind, topic, payload: payload.to_vec() })
}

fn check_control_empty(kind: FrameKind, topic_len: usize, payload_len: usize) -> Result<(), FrameError> {
    if kind != FrameKind::Publish && (topic_len > 0 || payload_len > 0) {
        return Err(FrameError::ControlNotEmpty { kind, topic_len, payload_len });
    }
    Ok(())
}

/// Streaming reader: feed it bytes as they arrive, in chunks of any size.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Encoded bytes of the frame in progress; never longer than `MAX_ENCODED_LEN`.
    buffer: Vec<u8>,
    /// Set after an overflow: bytes are ignored until the next delimiter.
    discarding: bool,
    dropped: u64,
    frames_ok: u64,
}

impl FrameDecoder {
    /// A decoder waiting for its first frame.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Consumes `chunk` and returns every frame it completed, in order; bad frames as errors.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Result<Frame, FrameError>> {
        let mut results = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            match rest.iter().position(|&byte| byte == DELIMITER) {
                Some(end) => {
                    let (part, tail) = rest.split_at(end);
                    self.absorb(part, &mut results);
                    self.finish_frame(&mut results);
                    rest = tail.get(1..).unwrap_or_default();
                }
                None => {
                    self.absorb(rest, &mut results);
                    rest = &[];
                }
            }
        }
        results
    }

    /// Frames dropped so far: failed decoding or overflowed the buffer.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Frames decoded successfully so far.
    pub fn frames_ok(&self) -> u64 {
        self.frames_ok
    }

    /// Bytes of an unfinished frame currently held.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    fn absorb(&mut self, part: &[u8], results: &mut Vec<Result<Frame, FrameError>>) {
        if self.discarding || part.is_empty() {
            return;
        }
        if self.buffer.len() + part.len() > MAX_ENCODED_LEN {
            self.buffer.clear();
            self.discarding = true;
            self.dropped += 1;
            results.push(Err(FrameError::Overflow));
            return;
        }
        self.buffer.extend_from_slice(part);
    }

    fn finish_frame(&mut self, results: &mut Vec<Result<Frame, FrameError>>) {
        if self.discarding {
            // The overflowed frame was already counted when it overflowed.
            self.discarding = false;
            return;
        }
        if self.buffer.is_empty() {
            // Two delimiters in a row: senders may use a leading 0x00 to flush a receiver.
            return;
        }
        let result = decode_one(&self.buffer);
        self.buffer.clear();
        match result {
            Ok(_) => self.frames_ok += 1,
            Err(_) => self.dropped += 1,
        }
        results.push(result);
    }
}

/// COBS-encodes `data` (no delimiter); canonical form, without a trailing empty block.
fn cobs_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 254 + 1);
    // `code_index` always points at a placeholder already pushed, so indexing cannot fail.
    let mut code_index = 0;
    out.push(0);
    let mut code: u8 = 1;
    for (index, &byte) in data.iter().enumerate() {
        if byte == 0 {
            out[code_index] = code;
            code_index = out.len();
            out.push(0);
            code = 1;
            continue;
        }
        out.push(byte);
        code += 1;
        let more_follows = index + 1 < data.len();
        if code == 0xFF && more_follows {
            out[code_index] = code;
            code_index = out.len();
            out.push(0);
            code = 1;
        }
    }
    out[code_index] = code;
    out
}

/// Reverses [`cobs_encode`]; `encoded` must not contain the delimiter.
fn cobs_decode(encoded: &[u8]) -> Result<Vec<u8>, FrameError> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut offset = 0;
    while let Some(&code) = encoded.get(offset) {
        if code == 0 {
            return Err(FrameError::CobsZeroCode { offset });
        }
        let announced = usize::from(code) - 1;
        let start = offset + 1;
        let Some(block) = encoded.get(start..start + announced) else {
            let available = encoded.len() - start;
            return Err(FrameError::CobsTruncated { offset, announced, available });
        };
        out.extend_from_slice(block);
        offset = start + announced;
        // A full block (0xFF) carries no implied zero; nor does the last block.
        if code != 0xFF && offset < encoded.len() {
            out.push(0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATUS_TOPIC: &str = "cems/v1/PK01/GW-0001/up/status";
    const STATUS_PAYLOAD: &str = r#"{"id":"1","ts":0,"ver":"1.0","data":{"online":true}}"#;
    const STATUS_WIRE: &str = "0201581e63656d732f76312f504b30312f47572d303030312f75702f7374617475737b226964223a2231222c227473223a302c22766572223a22312e30222c2264617461223a7b226f6e6c696e65223a747275657d7d1aa0161d00";
    const PING_WIRE: &str = "020201057c0dc5fc00";

    fn decode_all(bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        FrameDecoder::new().push(bytes)
    }

    #[test]
    fn contract_vector_publish_encodes_and_decodes() {
        let frame = Frame::publish(STATUS_TOPIC, STATUS_PAYLOAD);
        assert_eq!(hex::encode(encode(&frame).unwrap()), STATUS_WIRE);
        let wire = hex::decode(STATUS_WIRE).unwrap();
        assert_eq!(decode_all(&wire), vec![Ok(frame)]);
    }

    #[test]
    fn contract_vector_ping_encodes_and_decodes() {
        assert_eq!(hex::encode(encode(&Frame::ping()).unwrap()), PING_WIRE);
        let wire = hex::decode(PING_WIRE).unwrap();
        assert_eq!(decode_all(&wire), vec![Ok(Frame::ping())]);
    }

    #[test]
    fn pong_round_trips() {
        let wire = encode(&Frame::pong()).unwrap();
        assert_eq!(decode_all(&wire), vec![Ok(Frame::pong())]);
    }

    #[test]
    fn contract_vectors_byte_by_byte_and_back_to_back() {
        let mut wire = hex::decode(STATUS_WIRE).unwrap();
        wire.extend(hex::decode(PING_WIRE).unwrap());
        let mut decoder = FrameDecoder::new();
        let results: Vec<_> = wire.iter().flat_map(|byte| decoder.push(&[*byte])).collect();
        assert_eq!(results, vec![Ok(Frame::publish(STATUS_TOPIC, STATUS_PAYLOAD)), Ok(Frame::ping())]);
        assert_eq!(decoder.frames_ok(), 2);
        assert_eq!(decoder.dropped(), 0);
    }

    #[test]
    fn cobs_matches_reference_examples() {
        // Examples from the COBS paper / Wikipedia, delimiter excluded.
        assert_eq!(cobs_encode(&[]), vec![0x01]);
        assert_eq!(cobs_encode(&[0x00]), vec![0x01, 0x01]);
        assert_eq!(cobs_encode(&[0x00, 0x00]), vec![0x01, 0x01, 0x01]);
        assert_eq!(cobs_encode(&[0x11, 0x22, 0x00, 0x33]), vec![0x03, 0x11, 0x22, 0x02, 0x33]);
        let run: Vec<u8> = (1..=254).collect();
        let mut expected = vec![0xFF];
        expected.extend(&run);
        assert_eq!(cobs_encode(&run), expected);
        let run: Vec<u8> = (1..=255).collect();
        let mut expected = vec![0xFF];
        expected.extend(1..=254);
        expected.extend([0x02, 0xFF]);
        assert_eq!(cobs_encode(&run), expected);
        for data in [vec![], vec![0], vec![0, 0], vec![1, 0, 2], (0..=255).collect::<Vec<u8>>()] {
            assert_eq!(cobs_decode(&cobs_encode(&data)).unwrap(), data);
        }
    }

    #[test]
    fn max_encoded_len_bounds_a_max_frame_of_non_zero_bytes() {
        let data = vec![0xAB; MAX_FRAME_LEN];
        assert_eq!(cobs_encode(&data).len(), MAX_ENCODED_LEN);
    }

    #[test]
    fn frame_of_exactly_max_len_round_trips_and_one_more_byte_is_refused() {
        let topic = "t/x";
        let payload = vec![0x5A; MAX_FRAME_LEN - MIN_FRAME_LEN - topic.len()];
        let frame = Frame::publish(topic, payload.clone());
        assert_eq!(frame.decoded_len(), MAX_FRAME_LEN);
        let wire = encode(&frame).unwrap();
        assert_eq!(decode_all(&wire), vec![Ok(frame)]);

        let mut too_big = payload;
        too_big.push(1);
        let err = encode(&Frame::publish(topic, too_big)).unwrap_err();
        assert_eq!(err, FrameError::TooLarge { len: MAX_FRAME_LEN + 1 });
    }

    #[test]
    fn topic_longer_than_u16_is_refused() {
        let topic = "a".repeat(usize::from(u16::MAX) + 1);
        let err = encode(&Frame::publish(topic, Vec::new())).unwrap_err();
        assert_eq!(err, FrameError::TopicTooLong { len: 65_536 });
    }

    #[test]
    fn ping_with_payload_is_refused_both_ways() {
        let ping = Frame { kind: FrameKind::Ping, topic: String::new(), payload: vec![1] };
        assert!(matches!(encode(&ping), Err(FrameError::ControlNotEmpty { .. })));
        let mut decoded = vec![2, 0, 0, 1];
        decoded.extend(crc32fast::hash(&decoded).to_le_bytes());
        let mut wire = cobs_encode(&decoded);
        wire.push(0);
        assert!(matches!(decode_all(&wire)[..], [Err(FrameError::ControlNotEmpty { payload_len: 1, .. })]));
    }

    /// Wraps a hand-made decoded frame with a correct CRC, COBS and the delimiter.
    fn wire_for(mut decoded: Vec<u8>) -> Vec<u8> {
        decoded.extend(crc32fast::hash(&decoded).to_le_bytes());
        let mut wire = cobs_encode(&decoded);
        wire.push(0);
        wire
    }

    #[test]
    fn each_decoding_failure_names_its_cause() {
        type Expectation = fn(&FrameError) -> bool;
        let cases: Vec<(Vec<u8>, Expectation)> = vec![
            (vec![0x05, 0x01, 0x00], |e| matches!(e, FrameError::CobsTruncated { offset: 0, announced: 4, available: 1 })),
            (cobs_wire(&[1, 0, 0]), |e| matches!(e, FrameError::TooShort { len: 3 })),
            (wire_for(vec![9, 0, 0]), |e| matches!(e, FrameError::UnknownType(9))),
            (wire_for(vec![1, 0, 5, b'a']), |e| matches!(e, FrameError::TopicLengthOutOfRange { topic_len: 5, available: 1 })),
            (wire_for(vec![1, 0, 2, b'a', 0xFF]), |e| matches!(e, FrameError::TopicNotUtf8 { valid_up_to: 1 })),
            (cobs_wire(&[1, 0, 0, 1, 2, 3, 4]), |e| matches!(e, FrameError::CrcMismatch { carried: 0x0403_0201, .. })),
        ];
        for (wire, expected) in cases {
            let mut decoder = FrameDecoder::new();
            let results = decoder.push(&wire);
            let [Err(err)] = &results[..] else { panic!("{wire:02x?}: {results:?}") };
            assert!(expected(err), "{wire:02x?}: {err}");
            assert!(!err.to_string().is_empty());
            assert_eq!((decoder.dropped(), decoder.frames_ok()), (1, 0));
        }
    }

    fn cobs_wire(decoded: &[u8]) -> Vec<u8> {
        let mut wire = cobs_encode(decoded);
        wire.push(0);
        wire
    }

    #[test]
    fn empty_frames_are_skipped_silently() {
        let mut decoder = FrameDecoder::new();
        let mut wire = vec![0, 0, 0];
        wire.extend(encode(&Frame::ping()).unwrap());
        wire.extend([0, 0]);
        assert_eq!(decoder.push(&wire), vec![Ok(Frame::ping())]);
        assert_eq!((decoder.dropped(), decoder.frames_ok()), (0, 1));
    }

    #[test]
    fn overflow_discards_to_the_next_delimiter_and_counts_once() {
        let mut decoder = FrameDecoder::new();
        let noise = vec![0x42; MAX_ENCODED_LEN * 3];
        let mut results = Vec::new();
        for chunk in noise.chunks(1000) {
            results.extend(decoder.push(chunk));
            assert!(decoder.buffered_len() <= MAX_ENCODED_LEN);
        }
        assert_eq!(results, vec![Err(FrameError::Overflow)]);
        let mut tail = vec![0];
        tail.extend(encode(&Frame::ping()).unwrap());
        assert_eq!(decoder.push(&tail), vec![Ok(Frame::ping())]);
        assert_eq!((decoder.dropped(), decoder.frames_ok()), (1, 1));
    }

    #[test]
    fn a_max_size_frame_fits_the_buffer_exactly() {
        let payload = vec![0x77; MAX_FRAME_LEN - MIN_FRAME_LEN];
        let frame = Frame::publish("", payload);
        let wire = encode(&frame).unwrap();
        assert_eq!(wire.len(), MAX_ENCODED_LEN + 1);
        let mut decoder = FrameDecoder::new();
        assert_eq!(decoder.push(&wire), vec![Ok(frame)]);
    }

    /// Payload sizes: mostly small, sometimes within a few bytes of the maximum.
    #[derive(Debug, Clone)]
    enum PayloadSpec {
        Small(Vec<u8>),
        NearMax { short_by: usize, seed: u64, zero_every: u8 },
    }

    fn payload_spec() -> impl Strategy<Value = PayloadSpec> {
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..600).prop_map(PayloadSpec::Small),
            1 => (0usize..600, any::<u64>(), 1u8..=255).prop_map(|(short_by, seed, zero_every)| {
                PayloadSpec::NearMax { short_by, seed, zero_every }
            }),
        ]
    }

    /// Cheap deterministic bytes (xorshift) so large payloads do not slow shrinking down.
    fn pseudo_random_bytes(len: usize, mut seed: u64, zero_every: u8) -> Vec<u8> {
        seed |= 1;
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let byte = (seed >> 24) as u8;
                if byte.is_multiple_of(zero_every) { 0 } else { byte }
            })
            .collect()
    }

    fn build_payload(spec: &PayloadSpec, topic_len: usize) -> Vec<u8> {
        match spec {
            PayloadSpec::Small(bytes) => bytes.clone(),
            PayloadSpec::NearMax { short_by, seed, zero_every } => {
                let len = (MAX_FRAME_LEN - MIN_FRAME_LEN - topic_len).saturating_sub(*short_by);
                pseudo_random_bytes(len, *seed, *zero_every)
            }
        }
    }

    fn feed_in_chunks(decoder: &mut FrameDecoder, wire: &[u8], sizes: &[usize]) -> Vec<Result<Frame, FrameError>> {
        let mut results = Vec::new();
        let mut rest = wire;
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            results.extend(decoder.push(chunk));
            rest = tail;
        }
        results
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(
            topic in "\\PC{0,200}",
            spec in payload_spec(),
            sizes in prop::collection::vec(1usize..9000, 1..16),
            repeat in 1usize..3,
        ) {
            let frame = Frame::publish(topic.clone(), build_payload(&spec, topic.len()));
            let wire = encode(&frame).unwrap();
            prop_assert!(wire.len() <= MAX_ENCODED_LEN + 1);
            prop_assert_eq!(wire.iter().filter(|b| **b == 0).count(), 1);
            let stream = wire.repeat(repeat);
            let mut decoder = FrameDecoder::new();
            let results = feed_in_chunks(&mut decoder, &stream, &sizes);
            prop_assert_eq!(results, vec![Ok(frame); repeat]);
            prop_assert_eq!(decoder.frames_ok(), repeat as u64);
            prop_assert_eq!(decoder.dropped(), 0);
            prop_assert_eq!(decoder.buffered_len(), 0);
        }

        #[test]
        fn garbage_never_panics(
            garbage in prop::collection::vec(any::<u8>(), 0..4000),
            sizes in prop::collection::vec(1usize..500, 1..8),
        ) {
            let mut decoder = FrameDecoder::new();
            let results = feed_in_chunks(&mut decoder, &garbage, &sizes);
            prop_assert_eq!(results.len() as u64, decoder.dropped() + decoder.frames_ok());
            prop_assert!(decoder.buffered_len() <= MAX_ENCODED_LEN);
        }

        #[test]
        fn garbage_then_delimiter_then_frame_yields_the_frame(
            garbage in prop::collection::vec(any::<u8>(), 0..2000),
            topic in "[a-z/]{0,40}",
            payload in prop::collection::vec(any::<u8>(), 0..300),
            sizes in prop::collection::vec(1usize..700, 1..8),
        ) {
            let frame = Frame::publish(topic, payload);
            let mut stream = garbage;
            stream.push(0);
            stream.extend(encode(&frame).unwrap());
            let mut decoder = FrameDecoder::new();
            let results = feed_in_chunks(&mut decoder, &stream, &sizes);
            prop_assert_eq!(results.last(), Some(&Ok(frame)));
        }

        #[test]
        fn a_flipped_byte_is_caught_and_the_next_frame_survives(
            topic in "\\PC{0,60}",
            payload in prop::collection::vec(any::<u8>(), 0..400),
            position in any::<prop::sample::Index>(),
            mask in 1u8..=255,
            sizes in prop::collection::vec(1usize..700, 1..8),
        ) {
            let frame = Frame::publish(topic, payload);
            let mut wire = encode(&frame).unwrap();
            // Any byte but the delimiter: flipping that merely merges the next frame into this one.
            let index = position.index(wire.len() - 1);
            wire[index] ^= mask;
            let next = Frame::publish("next", b"ok".to_vec());
            wire.extend(encode(&next).unwrap());

            let mut decoder = FrameDecoder::new();
            let results = feed_in_chunks(&mut decoder, &wire, &sizes);
            let (last, damaged) = results.split_last().unwrap();
            prop_assert_eq!(last, &Ok(next));
            prop_assert!(!damaged.is_empty(), "the damage went unnoticed");
            prop_assert!(damaged.iter().all(|r| r.is_err()), "a damaged frame decoded: {:?}", damaged);
            prop_assert_eq!(decoder.frames_ok(), 1);
        }
    }
}
