//! Time synchronisation (contract §9): clock offset and round trip from four timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// The four timestamps of one exchange, epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSample {
    /// Requester send time (requester clock).
    pub t1: i64,
    /// Responder receive time (responder clock).
    pub t2: i64,
    /// Responder send time (responder clock).
    pub t3: i64,
    /// Requester receive time (requester clock).
    pub t4: i64,
}

impl TimeSample {
    /// How far the responder's clock is ahead of the requester's, ms:
    /// `((t2 − t1) + (t3 − t4)) / 2`. Negative when the responder is behind.
    pub fn offset_ms(&self) -> f64 {
        // i128 because differences of extreme i64 timestamps overflow i64.
        let sum = (i128::from(self.t2) - i128::from(self.t1)) + (i128::from(self.t3) - i128::from(self.t4));
        sum as f64 / 2.0
    }

    /// Time spent on the network, excluding the responder's processing, ms:
    /// `(t4 − t1) − (t3 − t2)`. Saturates at the `i64` bounds for absurd inputs.
    pub fn round_trip_ms(&self) -> i64 {
        let round_trip = (i128::from(self.t4) - i128::from(self.t1)) - (i128::from(self.t3) - i128::from(self.t2));
        i64::try_from(round_trip).unwrap_or(if round_trip < 0 { i64::MIN } else { i64::MAX })
    }
}

/// The local clock, epoch ms; 0 when the clock is set before 1970.
pub fn now_ms() -> i64 {
    let Ok(since_epoch) = SystemTime::now().duration_since(UNIX_EPOCH) else {
        return 0;
    };
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's civil-from-days), for showing epoch times without a calendar crate.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (year, month as u32, day as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of [`civil_from_days`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A time typed by a user: epoch ms (`1767225600000`) or ISO 8601 (`2026-01-01`,
/// `2026-01-01T08:00`, `2026-01-01T08:00:00.5+08:00`, `…Z`; no zone means UTC), as epoch ms.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    parse_iso(text).ok_or_else(|| format!("{text:?}: expected epoch ms or ISO 8601 (2026-01-31T08:00:00Z)"))
}

fn parse_iso(text: &str) -> Option<i64> {
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, ""),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || date.len() != 10 {
        return None;
    }
    // The zone: Z, ±HH:MM, ±HHMM or ±HH after the clock time.
    let (clock, offset_min) = match rest.find(['Z', 'z', '+', '-']) {
        Some(at) => {
            let zone = &rest[at..];
            let offset = if zone.eq_ignore_ascii_case("z") {
                0
            } else {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
                let (h, m) = match digits.len() {
                    2 => (digits.parse::<i64>().ok()?, 0),
                    4 => (digits[..2].parse::<i64>().ok()?, digits[2..].parse::<i64>().ok()?),
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                sign * (h * 60 + m)
            };
            (&rest[..at], offset)
        }
        None => (rest, 0),
    };
    let mut ms_of_day = 0i64;
    if !clock.is_empty() {
        let mut fields = clock.splitn(3, ':');
        let h: i64 = fields.next()?.parse().ok()?;
        let m: i64 = fields.next()?.parse().ok()?;
        let (s, frac) = match fields.next() {
            Some(sec) => match sec.split_once(['.', ',']) {
                Some((s, f)) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
                    // Milliseconds from the first three fraction digits.
                    let f3: String = f.chars().chain("000".chars()).take(3).collect();
                    (s.parse::<i64>().ok()?, f3.parse::<i64>().ok()?)
                }
                Some(_) => return None,
                None => (sec.parse::<i64>().ok()?, 0),
            },
            None => (0, 0),
        };
        if h > 23 || m > 59 || s > 60 {
            return None;
        }
        ms_of_day = ((h * 60 + m) * 60 + s) * 1_000 + frac;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000 + ms_of_day - offset_min * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_in_epoch_ms_or_iso_8601() {
        assert_eq!(parse_time("1767225600000"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01T08:00:00+08:00"), Ok(1_767_225_600_000));
        assert_eq!(parse_time("2026-01-01 08:30"), Ok(1_767_225_600_000 + 8 * 3_600_000 + 30 * 60_000));
        assert_eq!(parse_time("2025-12-31T23:00:00.25-0100"), Ok(1_767_225_600_000 + 250));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        for bad in ["", "yesterday", "2026-13-01", "2026-01-01T25:00", "2026-1-1", "2026-01-01T08:00+8:0:0"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn calendar_dates_of_epoch_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
    use proptest::prelude::*;

    #[test]
    fn symmetric_delay_with_synchronised_clocks() {
        // 20 ms each way, responder spends 5 ms.
        let sample = TimeSample { t1: 1_000, t2: 1_020, t3: 1_025, t4: 1_045 };
        assert_eq!(sample.offset_ms(), 0.0);
        assert_eq!(sample.round_trip_ms(), 40);
    }

    #[test]
    fn responder_clock_ahead() {
        // Responder 500 ms ahead, 30 ms each way, 10 ms processing.
        let sample = TimeSample { t1: 10_000, t2: 10_530, t3: 10_540, t4: 10_070 };
        assert_eq!(sample.offset_ms(), 500.0);
        assert_eq!(sample.round_trip_ms(), 60);
    }

    #[test]
    fn responder_clock_behind_with_asymmetric_delay() {
        // Responder 2 s behind; 10 ms out, 31 ms back: the asymmetry shows as a half-difference error.
        let sample = TimeSample { t1: 50_000, t2: 48_010, t3: 48_012, t4: 50_043 };
        assert_eq!(sample.offset_ms(), -2_010.5);
        assert_eq!(sample.round_trip_ms(), 41);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let sample = TimeSample { t1: i64::MIN, t2: i64::MAX, t3: i64::MAX, t4: i64::MIN };
        assert!(sample.offset_ms() > 1e19);
        assert_eq!(sample.round_trip_ms(), 0);
        let sample = TimeSample { t1: i64::MIN, t2: i64::MAX, t3: i64::MIN, t4: i64::MAX };
        assert_eq!(sample.round_trip_ms(), i64::MAX);
        let sample = TimeSample { t1: i64::MAX, t2: i64::MIN, t3: i64::MAX, t4: i64::MIN };
        assert_eq!(sample.round_trip_ms(), i64::MIN);
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_ms() > 1_577_836_800_000);
    }

    proptest! {
        #[test]
        fn offset_and_round_trip_recover_the_simulated_link(
            t1 in -1_000_000_000_000i64..4_000_000_000_000,
            offset in -100_000_000i64..100_000_000,
            delay in 0i64..10_000,
            processing in 0i64..10_000,
        ) {
            let t2 = t1 + delay + offset;
            let t3 = t2 + processing;
            let t4 = t3 - offset + delay;
            let sample = TimeSample { t1, t2, t3, t4 };
            prop_assert_eq!(sample.offset_ms(), offset as f64);
            prop_assert_eq!(sample.round_trip_ms(), 2 * delay);
        }

        #[test]
        fn never_panics(t1 in any::<i64>(), t2 in any::<i64>(), t3 in any::<i64>(), t4 in any::<i64>()) {
            let sample = TimeSample { t1, t2, t3, t4 };
            let _ = (sample.offset_ms(), sample.round_trip_ms());
        }
    }
}
