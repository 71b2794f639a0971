//! Hex dump lines (offset, 16 bytes in hex, the same bytes as ASCII) and telling binary payloads
//! from text. Computed one line at a time so the view formats only the lines on screen.

/// The hex view shows this many bytes at first, and this many more on each "Show more": a
/// 10 MB payload never costs more than the lines on screen, and scrolling stays meaningful.
pub const HEX_VIEW_LIMIT: usize = 64 * 1024;

pub const BYTES_PER_LINE: usize = 16;

/// Bytes looked at to tell binary from text: enough for any header, cheap for any payload.
const SNIFF_BYTES: usize = 4096;

/// Lines needed for the first `shown` bytes of a payload of `len` bytes.
pub fn line_count(len: usize, shown: usize) -> usize {
    len.min(shown).div_ceil(BYTES_PER_LINE)
}

/// Whether a payload is binary (protobuf, CBOR, firmware) rather than text: its first bytes are
/// not UTF-8, or hold control characters text does not (NUL, 0x01…). Tabs, line ends, form
/// feeds and ANSI escapes are text. A multi-byte character cut by the sample's end still counts
/// as text.
pub fn looks_binary(payload: &[u8]) -> bool {
    let sample = &payload[..payload.len().min(SNIFF_BYTES)];
    let text = match std::str::from_utf8(sample) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            // Only the end was cut mid-character; what is before it is valid.
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return true,
    };
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b'))
}

/// The first `max_bytes` bytes as `08 96 01 …`, for one-line previews.
pub fn hex_preview(bytes: &[u8], max_bytes: usize) -> String {
    let mut out: Vec<String> = bytes.iter().take(max_bytes).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max_bytes {
        out.push("…".to_owned());
    }
    out.join(" ")
}

/// Every byte as hex, space separated: what "copy payload" gives for a binary payload.
pub fn hex_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Line `line` of the dump: `00000010  7b 22 69 64 22 3a 22 31  22 2c 22 74 73 22 3a 30  |{"id":"1","ts":0|`.
/// A short last line is padded so the ASCII column stays aligned; past the end it is empty.
pub fn hex_line(bytes: &[u8], line: usize) -> String {
    let start = line.saturating_mul(BYTES_PER_LINE);
    if start >= bytes.len() {
        return String::new();
    }
    let chunk = &bytes[start..bytes.len().min(start + BYTES_PER_LINE)];
    let mut out = String::with_capacity(80);
    out.push_str(&format!("{start:08x}  "));
    for i in 0..BYTES_PER_LINE {
        if i == BYTES_PER_LINE / 2 {
            out.push(' ');
        }
        match chunk.get(i) {
            Some(b) => out.push_str(&format!("{b:02x} ")),
            None => out.extend([' '; 3]),
        }
    }
    out.extend([' ', '|']);
    out.extend(chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
    out.push('|');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_short_lines() {
        let bytes = b"{\"id\":\"1\",\"ts\":0}\n\x00";
        assert_eq!(hex_line(bytes, 0), "00000000  7b 22 69 64 22 3a 22 31  22 2c 22 74 73 22 3a 30  |{\"id\":\"1\",\"ts\":0|");
        assert_eq!(
            hex_line(bytes, 1),
            "00000010  7d 0a 00                                          |}..|"
        );
        assert_eq!(hex_line(bytes, 0).find('|'), hex_line(bytes, 1).find('|'), "ASCII column aligned");
        assert_eq!(hex_line(bytes, 2), "");
        assert_eq!(line_count(bytes.len(), HEX_VIEW_LIMIT), 2);
    }

    #[test]
    fn view_is_capped() {
        assert_eq!(line_count(0, HEX_VIEW_LIMIT), 0);
        assert_eq!(line_count(16, HEX_VIEW_LIMIT), 1);
        assert_eq!(line_count(17, HEX_VIEW_LIMIT), 2);
        assert_eq!(line_count(10 * 1024 * 1024, HEX_VIEW_LIMIT), HEX_VIEW_LIMIT / 16);
        assert_eq!(line_count(10 * 1024 * 1024, 2 * HEX_VIEW_LIMIT), 2 * HEX_VIEW_LIMIT / 16);
        let big = vec![0xabu8; 70_000];
        assert!(hex_line(&big, line_count(big.len(), HEX_VIEW_LIMIT) - 1).starts_with("0000fff0  ab"));
    }

    #[test]
    fn binary_is_told_from_text() {
        assert!(!looks_binary(b"{\"a\": 1}\r\n\tok"));
        assert!(!looks_binary("温度过高".as_bytes()));
        assert!(!looks_binary(b""));
        assert!(!looks_binary(b"\x1b[31mred\x1b[0m"), "ANSI colours are text");
        // Protobuf: field 1 varint 150, field 2 string "abc".
        assert!(looks_binary(&[0x08, 0x96, 0x01, 0x12, 0x03, b'a', b'b', b'c']));
        assert!(looks_binary(&[0x08, 0x01, 0x12, 0x03, b'a', b'b', b'c']), "valid UTF-8 but control bytes");
        assert!(looks_binary(b"text\0"));
        // A character cut by the sample's end is not binary.
        let mut long = "a".repeat(SNIFF_BYTES - 1).into_bytes();
        long.extend("温".as_bytes());
        assert!(!looks_binary(&long));
        assert!(looks_binary(&[0xffu8; 10 * 1024 * 1024]));
    }

    #[test]
    fn hex_texts() {
        assert_eq!(hex_preview(&[0x08, 0x96, 0x01], 2), "08 96 …");
        assert_eq!(hex_preview(&[0x08], 2), "08");
        assert_eq!(hex_string(&[0x00, 0xff, 0x10]), "00 ff 10");
        assert_eq!(hex_string(&[]), "");
    }
}
