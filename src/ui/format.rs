//! How the window writes numbers, sizes and times: one convention each, shared by every panel.

use crate::protocol::model::Lang;
use crate::protocol::time::civil_from_days;

use super::i18n::tr;

/// Sizes in powers of 1024 with their IEC names: `12 B`, `1.5 KiB`, `340 KiB`, `3.0 MiB`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 100.0 { format!("{value:.1} {}", UNITS[unit]) } else { format!("{value:.0} {}", UNITS[unit]) }
}

/// Epoch ms as `2024-05-01 12:00:03 UTC`.
pub fn format_utc(ms: i64) -> String {
    let (date, time) = utc_parts(ms);
    format!("{date} {} UTC", &time[..8])
}

/// Epoch ms as ISO 8601 to the second, `2024-05-01T12:00:03Z`: what a time field shows and
/// `protocol::time::parse_time` reads back.
pub fn format_iso(ms: i64) -> String {
    let (date, time) = utc_parts(ms);
    format!("{date}T{}Z", &time[..8])
}

/// Epoch ms to the millisecond, for message times: `2023-11-14 22:13:20.000 UTC`.
pub fn format_utc_ms(ms: i64) -> String {
    let (date, time) = utc_parts(ms);
    format!("{date} {time} UTC")
}

/// `22:13:20.000` (UTC) of epoch ms.
pub fn format_time_of_day(ms: i64) -> String {
    utc_parts(ms).1
}

/// (`2023-11-14`, `22:13:20.000`) of epoch ms, UTC.
fn utc_parts(ms: i64) -> (String, String) {
    let (days, day_ms) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let secs = day_ms / 1000;
    (format!("{y:04}-{m:02}-{d:02}"), format!("{:02}:{:02}:{:02}.{:03}", secs / 3_600, secs % 3_600 / 60, secs % 60, day_ms % 1000))
}

/// "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" for a zero time.
pub fn format_ago(lang: Lang, now_ms: i64, then_ms: i64) -> String {
    if then_ms <= 0 {
        return tr(lang, "never").to_owned();
    }
    let secs = (now_ms - then_ms).max(0) / 1000;
    let (template, n) = match secs {
        0 => return tr(lang, "just now").to_owned(),
        1..=59 => (tr(lang, "{n} s ago"), secs),
        60..=3_599 => (tr(lang, "{n} min ago"), secs / 60),
        3_600..=86_399 => (tr(lang, "{n} h ago"), secs / 3_600),
        _ => (tr(lang, "{n} d ago"), secs / 86_400),
    };
    template.replace("{n}", &n.to_string())
}

/// Seconds as "3 d 04:05:06" (days only when there are some).
pub fn format_uptime(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", rest / 3_600, rest % 3_600 / 60, rest % 60);
    if days > 0 { format!("{days} d {clock}") } else { clock }
}

/// A number without noise: integers as such, others with at most 3 decimals.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{n:.0}");
    }
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_person_writes_them() {
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(340 * 1024), "340 KiB");
        assert_eq!(format_bytes(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(format_bytes(512 * 1024 * 1024), "512 MiB");
        assert_eq!(format_bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn utc_to_the_second_and_to_the_millisecond() {
        assert_eq!(format_utc(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc_ms(1_700_000_000_123), "2023-11-14 22:13:20.123 UTC");
        assert_eq!(format_time_of_day(1_700_000_000_123), "22:13:20.123");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(format_utc_ms(-1), "1969-12-31 23:59:59.999 UTC");
        assert_eq!(format_utc_ms(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(format_utc(1_714_564_803_000), "2024-05-01 12:00:03 UTC");
    }

    #[test]
    fn ages_read_naturally() {
        let now = 1_000_000_000;
        assert_eq!(format_ago(Lang::En, now, 0), "never");
        assert_eq!(format_ago(Lang::En, now, now - 300), "just now");
        assert_eq!(format_ago(Lang::En, now, now + 5_000), "just now");
        assert_eq!(format_ago(Lang::En, now, now - 12_000), "12 s ago");
        assert_eq!(format_ago(Lang::En, now, now - 5 * 60_000), "5 min ago");
        assert_eq!(format_ago(Lang::En, now, now - 3 * 3_600_000), "3 h ago");
        assert_eq!(format_ago(Lang::En, now, now - 2 * 86_400_000), "2 d ago");
        assert_eq!(format_ago(Lang::Zh, now, now - 12_000), "12 秒前");
    }

    #[test]
    fn times_and_numbers_are_formatted() {
        assert_eq!(format_uptime(59), "00:00:59");
        assert_eq!(format_uptime(3 * 86_400 + 4 * 3_600 + 5 * 60 + 6), "3 d 04:05:06");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_714_564_803_000), "2024-05-01 12:00:03 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_number(230.0), "230");
        assert_eq!(format_number(230.12345), "230.123");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(-1.25), "-1.25");
    }
}
