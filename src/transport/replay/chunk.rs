//! The records inside a chunk: a whole one through the `mcap` crate (CRC checked, compressed
//! ones when the build has their codec), and the whole records at the start of an uncompressed
//! chunk that a killed recorder left cut short.

use mcap::McapError;
use mcap::records::{ChunkHeader, Record};

/// Opcode and length in front of every record.
pub const RECORD_HEAD: u64 = 9;

/// The chunk's records and, when it is damaged, why. Records read before a structural fault are
/// kept; a CRC mismatch keeps none (any of them may carry the bad bytes).
pub(super) fn records_of_chunk<'a>(header: ChunkHeader, data: &'a [u8]) -> (Vec<Record<'a>>, Option<String>) {
    let compression = header.compression.clone();
    let reader = match mcap::read::ChunkReader::new(header, data) {
        Ok(r) => r,
        Err(McapError::UnsupportedCompression(name)) => {
            return (Vec::new(), Some(format!("a chunk compressed with {name}, which this build does not read")));
        }
        Err(e) => return (Vec::new(), Some(format!("a damaged chunk: {e}"))),
    };
    let mut records = Vec::new();
    for record in reader {
        match record {
            Ok(r) => records.push(r),
            Err(McapError::BadChunkCrc { .. }) => return (Vec::new(), Some("a chunk whose CRC does not match: its bytes were changed".into())),
            Err(e) if compression.is_empty() => return (records, Some(format!("a damaged chunk: {e}"))),
            // What a decompressor gave before failing may be garbage already.
            Err(e) => return (Vec::new(), Some(format!("a damaged {compression} chunk: {e}"))),
        }
    }
    (records, None)
}

/// The whole records at the start of an uncompressed chunk's cut body (a compressed one cannot
/// be read in part). Layout: start and end time, uncompressed size (8 each), CRC (4), the
/// compression's name (4 + its length), the records' length (8), then the records.
pub fn salvage_cut_chunk(body: &[u8]) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    let Some(name_len) = body.get(28..32).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) else { return out };
    if name_len != 0 {
        return out;
    }
    let Some(mut records) = body.get(40..) else { return out };
    let head = RECORD_HEAD as usize;
    while let Some(framing) = records.get(..head) {
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&framing[1..]);
        let Some(record) = usize::try_from(u64::from_le_bytes(len_bytes)).ok().and_then(|len| records.get(head..head.checked_add(len)?))
        else {
            break;
        };
        match mcap::parse_record(framing[0], record) {
            Ok(r) => out.push(r),
            Err(_) => break,
        }
        records = &records[head + record.len()..];
    }
    out
}
