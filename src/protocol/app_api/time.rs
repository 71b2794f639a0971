//! Times of the API (§2): ISO 8601 extended with milliseconds and an offset
//! (`2026-12-02T13:45:00.000+08:00`), a site's fixed `timezone`, and periods aligned to it.

use crate::protocol::time::{civil_from_days, days_from_civil, parse_time};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// A fixed UTC offset in minutes, written `±HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TzOffset(pub i32);

impl Default for TzOffset {
    /// `+08:00`, the contract's default.
    fn default() -> Self {
        TzOffset(8 * 60)
    }
}

impl TzOffset {
    /// `+08:00`, `-05:30`, `+00:00` (also `Z`); hours at most 14.
    pub fn parse(text: &str) -> Option<TzOffset> {
        if text == "Z" {
            return Some(TzOffset(0));
        }
        let b = text.as_bytes();
        if b.len() != 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
            return None;
        }
        let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse::<i32>().ok()).flatten();
        let hours = digits(&text[1..3])?;
        let minutes = digits(&text[4..6])?;
        if hours > 14 || minutes > 59 {
            return None;
        }
        let sign = if b[0] == b'-' { -1 } else { 1 };
        Some(TzOffset(sign * (hours * 60 + minutes)))
    }

    pub fn ms(self) -> i64 {
        i64::from(self.0) * 60_000
    }
}

impl std::fmt::Display for TzOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { '-' } else { '+' };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// Epoch ms as `2026-12-02T13:45:00.000+08:00` in `tz`.
pub fn format_time(ms: i64, tz: TzOffset) -> String {
    let local = ms.saturating_add(tz.ms());
    let days = local.div_euclid(DAY_MS);
    let of_day = local.rem_euclid(DAY_MS);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, milli) = (of_day / HOUR_MS, of_day / 60_000 % 60, of_day / 1000 % 60, of_day % 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}{tz}")
}

/// A request's time: ISO 8601 with a date and clock time and an offset (`Z` included), any
/// precision of seconds; epoch numbers and times without an offset are refused.
pub fn parse_request_time(text: &str) -> Option<i64> {
    let t_at = text.find('T')?;
    let clock = &text[t_at + 1..];
    let has_zone = clock.ends_with('Z') || clock.contains(['+', '-']);
    if t_at != 10 || !has_zone {
        return None;
    }
    parse_time(text).ok()
}

/// True when `text` is exactly the answers' format: `YYYY-MM-DDTHH:MM:SS.mmm±HH:MM` (what a
/// probe checks every time of an answer against).
pub fn is_answer_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 29 {
        return false;
    }
    let digits_at = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
    let fixed = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')];
    digits_at.iter().all(|&i| b[i].is_ascii_digit())
        && fixed.iter().all(|&(i, c)| b[i] == c)
        && TzOffset::parse(&text[23..]).is_some()
        && parse_time(text).is_ok()
}

/// A statistic's period, aligned to the site's timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Hour,
    Day,
    Month,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        [Period::Hour, Period::Day, Period::Month].into_iter().find(|p| p.as_str() == text)
    }
}

/// The start of the period holding `ms`, aligned in `tz`.
pub fn period_start(ms: i64, period: Period, tz: TzOffset) -> i64 {
    let local = ms.saturating_add(tz.ms());
    let start_local = match period {
        Period::Hour => local - local.rem_euclid(HOUR_MS),
        Period::Day => local - local.rem_euclid(DAY_MS),
        Period::Month => {
            let (y, m, _) = civil_from_days(local.div_euclid(DAY_MS));
            days_from_civil(y, m, 1) * DAY_MS
        }
    };
    start_local - tz.ms()
}

/// The start of the period after the one starting at `start` (a [`period_start`]).
pub fn next_period(start: i64, period: Period, tz: TzOffset) -> i64 {
    match period {
        Period::Hour => start + HOUR_MS,
        Period::Day => start + DAY_MS,
        Period::Month => {
            let local = start + tz.ms();
            let (y, m, _) = civil_from_days(local.div_euclid(DAY_MS));
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(ny, nm, 1) * DAY_MS - tz.ms()
        }
    }
}

/// The start of month `key` (`2026-04`, as SQLite's `strftime('%Y-%m')` of local time) in `tz`.
pub fn month_start(key: &str, tz: TzOffset) -> Option<i64> {
    let (y, m) = key.split_once('-')?;
    let (y, m): (i64, u32) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then(|| days_from_civil(y, m, 1) * DAY_MS - tz.ms())
}
