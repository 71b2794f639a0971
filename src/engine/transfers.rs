//! Serving firmware images and files to gateways that pull them (contract §8).
//!
//! Each `ota/chunk/get` or `file/chunk/get` is answered from the image by offset alone, so a
//! gateway resumes after any interruption by asking again from its last good offset. The
//! service keeps no per-gateway cursor; it only counts what it served.

use std::collections::HashMap;

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
}

/// A refused chunk request: the reply's code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRefusal {
    pub code: i64,
    pub msg: String,
}

/// The images being served, by kind and id.
#[derive(Debug, Default)]
pub struct TransferService {
    images: HashMap<(TransferKind, String), ServedImage>,
}

impl TransferService {
    pub fn offer(&mut self, kind: TransferKind, id: String, data: Bytes, chunk_size: u32) {
        self.images.insert((kind, id), ServedImage { data, chunk_size, bytes_served: 0, chunks_served: 0, high_water: 0 });
    }

    pub fn withdraw(&mut self, kind: TransferKind, id: &str) -> Option<ServedImage> {
        self.images.remove(&(kind, id.to_owned()))
    }

    pub fn get(&self, kind: TransferKind, id: &str) -> Option<&ServedImage> {
        self.images.get(&(kind, id.to_owned()))
    }

    pub fn knows(&self, kind: TransferKind, id: &str) -> bool {
        self.images.contains_key(&(kind, id.to_owned()))
    }

    /// Answers a chunk request's `data`: the reply data, or the code to refuse it with.
    pub fn answer(&mut self, kind: TransferKind, request: &Value) -> Result<Value, ChunkRefusal> {
        let field = kind.id_field();
        let refuse = |code, msg: String| Err(ChunkRefusal { code, msg });
        let Some(id) = request.get(field).and_then(Value::as_str) else {
            return refuse(codes::BAD_PARAM, format!("{field}: missing or not a string"));
        };
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
        let encoded = base64::engine::general_purpose::STANDARD.encode(&chunk);
        Ok(json!({ field: id, "offset": offset, "data": encoded }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TransferService {
        let mut s = TransferService::default();
        s.offer(TransferKind::Ota, "t1".into(), Bytes::from((0..=255u8).cycle().take(1000).collect::<Vec<_>>()), 256);
        s
    }

    #[test]
    fn chunks_by_offset_with_a_short_last_one() {
        let mut s = service();
        let reply = s.answer(TransferKind::Ota, &json!({"taskId": "t1", "offset": 768, "length": 256})).unwrap();
        let data = base64::engine::general_purpose::STANDARD.decode(reply["data"].as_str().unwrap()).unwrap();
        assert_eq!(data.len(), 232);
        assert_eq!(data[0], (768 % 256) as u8);
        assert_eq!(reply["offset"], 768);
        // Asking again (a resume) is served again and counted.
        s.answer(TransferKind::Ota, &json!({"taskId": "t1", "offset": 768, "length": 256})).unwrap();
        let img = s.get(TransferKind::Ota, "t1").unwrap();
        assert_eq!((img.bytes_served, img.chunks_served, img.high_water), (464, 2, 1000));
    }

    #[test]
    fn bad_requests_get_codes_not_panics() {
        let mut s = service();
        let mut code = |v: Value| s.answer(TransferKind::Ota, &v).unwrap_err().code;
        assert_eq!(code(json!({"taskId": "nope", "offset": 0, "length": 10})), codes::NOT_FOUND);
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
            assert_eq!(s.answer(TransferKind::Ota, &bad).unwrap_err().code, codes::BAD_PARAM, "{bad}");
        }
        assert_eq!(s.answer(TransferKind::File, &json!({"fileId": "t1", "offset": 0, "length": 1})).unwrap_err().code, codes::NOT_FOUND);
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
            match s.answer(TransferKind::Ota, &json!({"taskId": id, "offset": offset, "length": length})) {
                Ok(reply) => {
                    let data = base64::engine::general_purpose::STANDARD.decode(reply["data"].as_str().unwrap()).unwrap();
                    proptest::prop_assert!(known && offset < 1000 && (1..=256).contains(&length));
                    proptest::prop_assert_eq!(data.len() as u64, length.min(1000 - offset));
                    proptest::prop_assert_eq!(data[0], (offset % 256) as u8);
                }
                Err(refusal) => {
                    let expected = if known { codes::BAD_PARAM } else { codes::NOT_FOUND };
                    proptest::prop_assert_eq!(refusal.code, expected);
                }
            }
        }
    }
}
