//! Cell text helpers: full-width to half-width, numbers read from text and written shortest.

use serde_json::{Number, Value};

/// Full-width ASCII (U+FF01..U+FF5E, e.g. （）：，０-９Ａ-Ｚ) and the ideographic space made
/// half-width, so "最小值（min）" and "１２" read like their ASCII spelling.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The shortest text of a number: `1` not `1.0` when integral.
pub fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A cell read as a number (full-width digits and spaces allowed, "0x10" as hex); None when it is not one.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = half_width(text);
    let t = t.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|n| n as f64);
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A number as JSON: an integer when integral, so 500 stays `500` and 0.1 stays `0.1`.
pub fn json_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// "0~500", "0-500", "-40～85", "0..500" as (min, max); None when it is not a range.
pub fn parse_range(text: &str) -> Option<(f64, f64)> {
    let t = half_width(text).replace('～', "~");
    let t = t.trim();
    let split = if let Some(i) = t.find('~') {
        Some((&t[..i], &t[i + 1..]))
    } else if let Some(i) = t.find("..") {
        Some((&t[..i], &t[i + 2..]))
    } else {
        // A '-' that follows a digit or a space separates; a leading one (or one after 'e') is a sign.
        let bytes = t.as_bytes();
        (1..bytes.len())
            .find(|&i| bytes[i] == b'-' && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b' '))
            .map(|i| (&t[..i], &t[i + 1..]))
    };
    let (lo, hi) = split?;
    Some((parse_number(lo)?, parse_number(hi)?))
}
