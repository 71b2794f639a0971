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

/// Epoch ms as `2024-05-01 12:00:03 UTC`: the machine-read form (exports, the CLI) and what a
/// local time shows on hover.
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

/// Epoch ms to the millisecond, UTC: `2023-11-14 22:13:20.000 UTC`.
pub fn format_utc_ms(ms: i64) -> String {
    let (date, time) = utc_parts(ms);
    format!("{date} {time} UTC")
}

/// `22:13:20.000` (UTC) of epoch ms.
pub fn format_utc_time_of_day(ms: i64) -> String {
    utc_parts(ms).1
}

/// The laptop's offset from UTC at `ms`, in seconds east (daylight saving counts at that
/// instant); 0 when the system cannot tell, which the `+00:00` shown then makes plain.
pub fn local_offset_secs(ms: i64) -> i32 {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|at| time::UtcOffset::local_offset_at(at).ok())
        .map_or(0, time::UtcOffset::whole_seconds)
}

/// Epoch ms in the laptop's time with its offset: `2026-12-03 14:05:09 +08:00`.
pub fn format_local(ms: i64) -> String {
    format_at_offset(ms, local_offset_secs(ms))
}

/// Epoch ms to the millisecond in the laptop's time: `2026-12-03 14:05:09.123 +08:00`.
pub fn format_local_ms(ms: i64) -> String {
    format_at_offset_ms(ms, local_offset_secs(ms))
}

/// `14:05:09.123` of epoch ms in the laptop's time (lists, where the date and offset would be
/// noise; [`local_and_utc`] gives them on hover).
pub fn format_time_of_day(ms: i64) -> String {
    utc_parts(ms + i64::from(local_offset_secs(ms)) * 1000).1
}

/// The local time with its offset over the UTC time: what hovering a drawn time shows.
pub fn local_and_utc(ms: i64) -> String {
    format!("{}\n{}", format_local_ms(ms), format_utc_ms(ms))
}

/// The UTC time over the age: the hover of a local time drawn in a list.
pub fn utc_and_ago(lang: Lang, now_ms: i64, ms: i64) -> String {
    format!("{}\n{}", format_utc_ms(ms), format_ago(lang, now_ms, ms))
}

/// Epoch ms at a fixed offset (seconds east of UTC), to the second.
pub fn format_at_offset(ms: i64, offset_secs: i32) -> String {
    let (date, time) = utc_parts(ms + i64::from(offset_secs) * 1000);
    format!("{date} {} {}", &time[..8], offset_text(offset_secs))
}

/// Epoch ms at a fixed offset (seconds east of UTC), to the millisecond.
pub fn format_at_offset_ms(ms: i64, offset_secs: i32) -> String {
    let (date, time) = utc_parts(ms + i64::from(offset_secs) * 1000);
    format!("{date} {time} {}", offset_text(offset_secs))
}

/// `+08:00`, `-03:30`, `+00:00`.
fn offset_text(offset_secs: i32) -> String {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let minutes = offset_secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A time drawn in the laptop's time with its offset, UTC on hover: `ui.add(LocalTime::new(ms))`.
#[derive(Debug, Clone, Copy)]
pub struct LocalTime {
    ms: i64,
    millis: bool,
    monospace: bool,
}

impl LocalTime {
    /// To the second.
    pub fn new(ms: i64) -> Self {
        LocalTime { ms, millis: false, monospace: false }
    }

    /// To the millisecond.
    pub fn ms(ms: i64) -> Self {
        LocalTime { ms, millis: true, monospace: false }
    }

    pub fn monospace(mut self) -> Self {
        self.monospace = true;
        self
    }

    /// What the label reads.
    pub fn text(&self) -> String {
        if self.millis { format_local_ms(self.ms) } else { format_local(self.ms) }
    }
}

impl egui::Widget for LocalTime {
    fn ui(self, ui: &mut egui::Ui) -> egui::Response {
        let mut text = egui::RichText::new(self.text());
        if self.monospace {
            text = text.monospace();
        }
        let utc = if self.millis { format_utc_ms(self.ms) } else { format_utc(self.ms) };
        ui.label(text).on_hover_text(utc)
    }
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
        assert_eq!(format_utc_time_of_day(1_700_000_000_123), "22:13:20.123");
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

    #[test]
    fn local_times_carry_their_offset() {
        // 2026-12-03 06:05:09.123 UTC.
        let ms = 1_796_277_909_123;
        assert_eq!(format_utc_ms(ms), "2026-12-03 06:05:09.123 UTC");
        assert_eq!(format_at_offset(ms, 8 * 3600), "2026-12-03 14:05:09 +08:00");
        assert_eq!(format_at_offset_ms(ms, 8 * 3600), "2026-12-03 14:05:09.123 +08:00");
        assert_eq!(format_at_offset(ms, 0), "2026-12-03 06:05:09 +00:00");
        // West of UTC the date goes back; half-hour zones keep their minutes.
        assert_eq!(format_at_offset(ms, -(7 * 3600)), "2026-12-02 23:05:09 -07:00");
        assert_eq!(format_at_offset(ms, -(3 * 3600 + 1800)), "2026-12-03 02:35:09 -03:30");
        assert_eq!(format_at_offset(ms, 5 * 3600 + 2700), "2026-12-03 11:50:09 +05:45");
        // Across the end of a year.
        assert_eq!(format_at_offset(1_798_761_600_000 - 1_000, 9 * 3600), "2027-01-01 08:59:59 +09:00");
    }

    #[test]
    fn the_local_forms_agree_with_the_laptops_offset() {
        let ms = 1_796_277_909_123;
        let offset = local_offset_secs(ms);
        assert_eq!(format_local(ms), format_at_offset(ms, offset));
        assert_eq!(format_local_ms(ms), format_at_offset_ms(ms, offset));
        assert!(format_local_ms(ms).contains(&format_time_of_day(ms)));
        assert_eq!(local_and_utc(ms), format!("{}\n2026-12-03 06:05:09.123 UTC", format_local_ms(ms)));
    }
}
