//! Hex dump lines: offset, 16 bytes in hex, the same bytes as ASCII. Computed one line at a time
//! so the view formats only the lines on screen.

/// The hex view shows at most this many bytes; a note says when a payload is longer.
pub const HEX_VIEW_LIMIT: usize = 64 * 1024;

pub const BYTES_PER_LINE: usize = 16;

/// Lines needed for the shown part of a payload of `len` bytes.
pub fn line_count(len: usize) -> usize {
    len.min(HEX_VIEW_LIMIT).div_ceil(BYTES_PER_LINE)
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
        assert_eq!(line_count(bytes.len()), 2);
    }

    #[test]
    fn view_is_capped() {
        assert_eq!(line_count(0), 0);
        assert_eq!(line_count(16), 1);
        assert_eq!(line_count(17), 2);
        assert_eq!(line_count(10 * 1024 * 1024), HEX_VIEW_LIMIT / 16);
        let big = vec![0xabu8; 70_000];
        assert!(hex_line(&big, line_count(big.len()) - 1).starts_with("0000fff0  ab"));
    }
}
