//! Serving firmware images and files to gateways that pull them (contract §8).
//!
//! Each `ota/chunk/get` or `file/chunk/get` is answered from the image by offset alone, so a
//! gateway resumes after any interruption by asking again from its last good offset. The
//! service keeps no per-gateway cursor; it only counts what it served.
//!
//! A master answers only for what it announced: a withdrawn (cancelled or ended) id is refused
//! with code 7, and an id it never announced gets no answer at all, since another master on the
//! same broker may own it.

use std::collections::{HashMap, HashSet, VecDeque};

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::protocol::codes;

/// Which pull a chunk request belongs to: the id field and topic class differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// `ota/chunk/get` with `taskId`.
    Ota,
    /// `file/chunk/get` with `fileId`.
    File,
}

impl TransferKind {
    pub fn id_field(self) -> &'static str {
        match self {
            TransferKind::Ota => "taskId",
            TransferKind::File => "fileId",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            TransferKind::Ota => "ota",
            TransferKind::File => "file",
        }
    }
}

/// One image offered to gateways.
#[derive(Debug, Clone)]
pub struct ServedImage {
    pub data: Bytes,
    pub chunk_size: u32,
    /// Bytes sent in chunk replies, resends included.
    pub bytes_served: u64,
    pub chunks_served: u64,
    /// Highest offset + length served: how far the gateway has got.
    pub high_water: u64,
    /// Which bytes were served at least once: a push succeeds only when all were.
    pub coverage: Coverage,
}

impl ServedImage {
    /// The counters a transfer task follows.
    pub fn counters(&self) -> ServedCounters {
        ServedCounters {
            bytes_served: self.bytes_served,
            chunks: self.chunks_served,
            high_water: self.high_water,
            covered: self.coverage.covered(),
            first_missing: self.coverage.first_missing(),
        }
    }
}

/// How much of an image has been served, after one more chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServedCounters {
    /// Resends included.
    pub bytes_served: u64,
    pub chunks: u64,
    /// Highest offset + length served.
    pub high_water: u64,
    /// Distinct bytes served at least once.
    pub covered: u64,
    /// The first byte never served; `None` once every byte was.
    pub first_missing: Option<u64>,
}

/// The bytes of an image served at least once, one bit a byte: exact for any offsets and lengths
/// a gateway asks for, and never more than an eighth of the image in memory however it asks (a
/// list of ranges would grow with every hole a hostile client leaves).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    bits: Vec<u64>,
    size: u64,
    covered: u64,
    /// Every byte below it was served; it only moves up, so keeping it costs O(size / 64) in all.
    lowest_missing: u64,
}

impl Coverage {
    pub fn new(size: u64) -> Coverage {
        let words = usize::try_from(size.div_ceil(64)).unwrap_or(usize::MAX);
        Coverage { bits: vec![0; words], size, covered: 0, lowest_missing: 0 }
    }

    /// Marks `start..end` (clamped to the image) as served.
    pub fn mark(&mut self, start: u64, end: u64) {
        let end = end.min(self.size);
        let mut at = start;
        while at < end {
            let (word, bit) = ((at / 64) as usize, at % 64);
            let n = (64 - bit).min(end - at);
            let mask = if n == 64 { u64::MAX } else { ((1u64 << n) - 1) << bit };
            let Some(slot) = self.bits.get_mut(word) else { return };
            self.covered += u64::from((mask & !*slot).count_ones());
            *slot |= mask;
            at += n;
        }
        if start <= self.lowest_missing {
            self.advance();
        }
    }

    /// Moves `lowest_missing` past the bytes served from it on.
    fn advance(&mut self) {
        while self.lowest_missing < self.size {
            let (word, bit) = ((self.lowest_missing / 64) as usize, self.lowest_missing % 64);
            let Some(w) = self.bits.get(word) else { break };
            let run = u64::from((w >> bit).trailing_ones());
            if run == 0 {
                break;
            }
            self.lowest_missing += run;
        }
    }

    /// Distinct bytes served.
    pub fn covered(&self) -> u64 {
        self.covered
    }

    pub fn is_complete(&self) -> bool {
        self.covered >= self.size
    }

    /// The first byte never served, if any: where a gateway's claim of success is shown false.
    pub fn first_missing(&self) -> Option<u64> {
        (self.lowest_missing < self.size).then_some(self.lowest_missing)
    }
}

/// A refused chunk request: the reply's code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRefusal {
    pub code: i64,
    pub msg: String,
}

/// What to do with a chunk request.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkAnswer {
    /// Reply with code 0 and this data.
    Serve(Value),
    /// Reply with this code and text.
    Refuse(ChunkRefusal),
    /// Do not reply: the id was never announced here.
    Silent,
}

/// Withdrawn ids remembered for their code 7, at most; older ones fall silent.
pub const WITHDRAWN_REMEMBERED: usize = 1024;

/// The images being served, by kind and id, and the ids withdrawn lately.
#[derive(Debug, Default)]
pub struct TransferService {
    images: HashMap<(TransferKind, String), ServedImage>,
    /// Oldest first, bounded by [`WITHDRAWN_REMEMBERED`]; `withdrawn_set` mirrors it for lookups.
    withdrawn: VecDeque<(TransferKind, String)>,
    withdrawn_set: HashSet<(TransferKind, String)>,
}

impl TransferService {
    pub fn offer(&mut self, kind: TransferKind, id: String, data: Bytes, chunk_size: u32) {
        let key = (kind, id);
        // Offered again (a retried task): served, no longer withdrawn.
        if self.withdrawn_set.remove(&key) {
            self.withdrawn.retain(|k| *k != key);
        }
        let coverage = Coverage::new(data.len() as u64);
        self.images.insert(key, ServedImage { data, chunk_size, bytes_served: 0, chunks_served: 0, high_water: 0, coverage });
    }

    /// Stops serving `id`; its later chunk requests are refused with code 7.
    pub fn withdraw(&mut self, kind: TransferKind, id: &str) -> Option<ServedImage> {
        let key = (kind, id.to_owned());
        let image = self.images.remove(&key)?;
        if self.withdrawn_set.insert(key.clone()) {
            if self.withdrawn.len() >= WITHDRAWN_REMEMBERED
                && let Some(oldest) = self.withdrawn.pop_front()
            {
                self.withdrawn_set.remove(&oldest);
            }
            self.withdrawn.push_back(key);
        }
        Some(image)
    }

    /// True when `id` was served here and withdrawn lately.
    pub fn withdrew(&self, kind: TransferKind, id: &str) -> bool {
        self.withdrawn_set.contains(&(kind, id.to_owned()))
    }

    pub fn get(&self, kind: TransferKind, id: &str) -> Option<&ServedImage> {
        self.images.get(&(kind, id.to_owned()))
    }

    pub fn knows(&self, kind: TransferKind, id: &str) -> bool {
        self.images.contains_key(&(kind, id.to_owned()))
    }

    /// Answers a chunk request's `data` as a master that owns only what it announced: served
    /// from the image, refused (4 for a bad request, 7 for a withdrawn id), or silence for an id
    /// never announced here.
    pub fn respond(&mut self, kind: TransferKind, request: &Value) -> ChunkAnswer {
        let field = kind.id_field();
        let refuse = |code, msg: String| ChunkAnswer::Refuse(ChunkRefusal { code, msg });
        let Some(id) = request.get(field).and_then(Value::as_str) else {
            return refuse(codes::BAD_PARAM, format!("{field}: missing or not a string"));
        };
        if !self.knows(kind, id) {
            if self.withdrew(kind, id) {
                return refuse(codes::NOT_FOUND, format!("{field} {id:?} was cancelled or has ended; it is no longer served"));
            }
            return ChunkAnswer::Silent;
        }
        match self.serve(kind, id, request) {
            Ok(data) => ChunkAnswer::Serve(data),
            Err(refusal) => ChunkAnswer::Refuse(refusal),
        }
    }

    /// The chunk at the request's offset of image `id`, which is being served.
    fn serve(&mut self, kind: TransferKind, id: &str, request: &Value) -> Result<Value, ChunkRefusal> {
        let field = kind.id_field();
        let refuse = |code, msg: String| Err(ChunkRefusal { code, msg });
        let Some(offset) = request.get("offset").and_then(Value::as_u64) else {
            return refuse(codes::BAD_PARAM, "offset: missing or not a non-negative integer".into());
        };
        let Some(length) = request.get("length").and_then(Value::as_u64) else {
            return refuse(codes::BAD_PARAM, "length: missing or not a non-negative integer".into());
        };
        let Some(image) = self.images.get_mut(&(kind, id.to_owned())) else {
            return refuse(codes::NOT_FOUND, format!("{field} {id:?} is not being served"));
        };
        let size = image.data.len() as u64;
        if length == 0 || length > u64::from(image.chunk_size) {
            return refuse(codes::BAD_PARAM, format!("length {length}: must be 1..={} (the announced chunk size)", image.chunk_size));
        }
        if offset >= size {
            return refuse(codes::BAD_PARAM, format!("offset {offset} is outside the image ({size} bytes)"));
        }
        let end = offset.saturating_add(length).min(size);
        // offset < size ≤ usize::MAX here, so the casts cannot truncate.
        let chunk = image.data.slice(offset as usize..end as usize);
        image.bytes_served += chunk.len() as u64;
        image.chunks_served += 1;
        image.high_water = image.high_water.max(end);
        image.coverage.mark(offset, end);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&chunk);
        Ok(json!({ field: id, "offset": offset, "data": encoded }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(s: &mut TransferService, kind: TransferKind, request: &Value) -> Value {
        match s.respond(kind, request) {
            ChunkAnswer::Serve(data) => data,
            other => panic!("{request} not served: {other:?}"),
        }
    }

    fn refused(s: &mut TransferService, kind: TransferKind, request: &Value) -> ChunkRefusal {
        match s.respond(kind, request) {
            ChunkAnswer::Refuse(refusal) => refusal,
            other => panic!("{request} not refused: {other:?}"),
        }
    }

    fn service() -> TransferService {
        let mut s = TransferService::default();
        s.offer(TransferKind::Ota, "t1".into(), Bytes::from((0..=255u8).cycle().take(1000).collect::<Vec<_>>()), 256);
        s
    }

    #[test]
    fn chunks_by_offset_with_a_short_last_one() {
        let mut s = service();
        let reply = served(&mut s, TransferKind::Ota, &json!({"taskId": "t1", "offset": 768, "length": 256}));
        let data = base64::engine::general_purpose::STANDARD.decode(reply["data"].as_str().unwrap()).unwrap();
        assert_eq!(data.len(), 232);
        assert_eq!(data[0], (768 % 256) as u8);
        assert_eq!(reply["offset"], 768);
        // Asking again (a resume) is served again and counted.
        served(&mut s, TransferKind::Ota, &json!({"taskId": "t1", "offset": 768, "length": 256}));
        let img = s.get(TransferKind::Ota, "t1").unwrap();
        assert_eq!((img.bytes_served, img.chunks_served, img.high_water), (464, 2, 1000));
        // The resend is not counted twice, and the high-water mark is not coverage.
        assert_eq!(img.counters().covered, 232);
        assert_eq!(img.coverage.first_missing(), Some(0));
    }

    #[test]
    fn coverage_counts_each_byte_once_and_finds_the_first_hole() {
        let mut c = Coverage::new(1000);
        c.mark(0, 100);
        c.mark(50, 150);
        c.mark(300, 2000);
        assert_eq!(c.covered(), 150 + 700);
        assert_eq!(c.first_missing(), Some(150));
        c.mark(150, 300);
        assert!(c.is_complete() && c.first_missing().is_none());
        assert_eq!(c.covered(), 1000);
        // Odd offsets across word boundaries.
        let mut c = Coverage::new(200);
        for start in (0..200).step_by(7) {
            c.mark(start, start + 3);
        }
        assert_eq!(c.covered(), (0..200).filter(|b| b % 7 < 3).count() as u64);
        assert_eq!(c.first_missing(), Some(3));
        // Memory is an eighth of the image whatever is asked for.
        assert_eq!(Coverage::new(8 * 1024 * 1024).bits.len(), 8 * 1024 * 1024 / 64);
    }

    #[test]
    fn a_gateway_that_skips_a_chunk_leaves_the_image_uncovered() {
        let mut s = service();
        for offset in [0, 256, 768] {
            served(&mut s, TransferKind::Ota, &json!({"taskId": "t1", "offset": offset, "length": 256}));
        }
        let img = s.get(TransferKind::Ota, "t1").unwrap();
        assert_eq!((img.high_water, img.counters().covered), (1000, 744));
        assert!(!img.coverage.is_complete());
        assert_eq!(img.coverage.first_missing(), Some(512));
    }

    #[test]
    fn bad_requests_get_codes_not_panics() {
        let mut s = service();
        for bad in [
            json!({"taskId": "t1", "offset": 1000, "length": 10}),
            json!({"taskId": "t1", "offset": u64::MAX, "length": 10}),
            json!({"taskId": "t1", "offset": 0, "length": 257}),
            json!({"taskId": "t1", "offset": 0, "length": 0}),
            json!({"taskId": "t1", "offset": -1, "length": 10}),
            json!({"taskId": 5, "offset": 0, "length": 10}),
            json!({"fileId": "t1", "offset": 0, "length": 10}),
        ] {
            assert_eq!(refused(&mut s, TransferKind::Ota, &bad).code, codes::BAD_PARAM, "{bad}");
        }
    }

    #[test]
    fn withdrawn_ids_get_code_7_and_never_announced_ones_silence() {
        let mut s = service();
        let ask = |id: &str| json!({"taskId": id, "offset": 0, "length": 10});
        assert_eq!(s.respond(TransferKind::Ota, &ask("other-masters")), ChunkAnswer::Silent);
        assert!(matches!(s.respond(TransferKind::Ota, &ask("t1")), ChunkAnswer::Serve(_)));
        assert!(s.withdraw(TransferKind::Ota, "t1").is_some());
        let ChunkAnswer::Refuse(refusal) = s.respond(TransferKind::Ota, &ask("t1")) else { panic!("a withdrawn id is refused") };
        assert_eq!(refusal.code, codes::NOT_FOUND);
        assert!(refusal.msg.contains("cancelled"), "{}", refusal.msg);
        // Kinds are apart: a file of the same id was never announced.
        assert_eq!(s.respond(TransferKind::File, &json!({"fileId": "t1", "offset": 0, "length": 10})), ChunkAnswer::Silent);
        // Withdrawing what is not served remembers nothing; offering again serves again.
        assert!(s.withdraw(TransferKind::Ota, "never").is_none());
        assert_eq!(s.respond(TransferKind::Ota, &ask("never")), ChunkAnswer::Silent);
        s.offer(TransferKind::Ota, "t1".into(), Bytes::from_static(b"again"), 256);
        assert!(matches!(s.respond(TransferKind::Ota, &ask("t1")), ChunkAnswer::Serve(_)));
        assert!(!s.withdrew(TransferKind::Ota, "t1"));
    }

    #[test]
    fn the_memory_of_withdrawn_ids_is_bounded() {
        let mut s = TransferService::default();
        for i in 0..WITHDRAWN_REMEMBERED + 10 {
            s.offer(TransferKind::File, format!("f{i}"), Bytes::from_static(b"x"), 256);
            s.withdraw(TransferKind::File, &format!("f{i}"));
        }
        assert_eq!((s.withdrawn.len(), s.withdrawn_set.len()), (WITHDRAWN_REMEMBERED, WITHDRAWN_REMEMBERED));
        assert!(!s.withdrew(TransferKind::File, "f0"), "the oldest fell silent");
        assert!(s.withdrew(TransferKind::File, "f10"));
        assert!(s.withdrew(TransferKind::File, &format!("f{}", WITHDRAWN_REMEMBERED + 9)));
    }

    proptest::proptest! {
        /// Any request is answered with the bytes at its offset or refused with 4 or 7; never a
        /// panic, never a byte outside the image or more than the chunk size.
        #[test]
        fn any_request_is_served_from_the_image_or_refused(offset in proptest::prelude::any::<u64>(), length in proptest::prelude::any::<u64>(), small in 0u64..1200, known in proptest::prelude::any::<bool>()) {
            let mut s = service();
            let offset = if offset % 2 == 0 { small } else { offset };
            let length = if length % 2 == 0 { small % 300 } else { length };
            let id = if known { "t1" } else { "t2" };
            match s.respond(TransferKind::Ota, &json!({"taskId": id, "offset": offset, "length": length})) {
                ChunkAnswer::Serve(reply) => {
                    let data = base64::engine::general_purpose::STANDARD.decode(reply["data"].as_str().unwrap()).unwrap();
                    proptest::prop_assert!(known && offset < 1000 && (1..=256).contains(&length));
                    proptest::prop_assert_eq!(data.len() as u64, length.min(1000 - offset));
                    proptest::prop_assert_eq!(data[0], (offset % 256) as u8);
                }
                ChunkAnswer::Refuse(refusal) => {
                    proptest::prop_assert!(known);
                    proptest::prop_assert_eq!(refusal.code, codes::BAD_PARAM);
                }
                // Never announced: not ours to answer.
                ChunkAnswer::Silent => proptest::prop_assert!(!known),
            }
        }
    }
}
