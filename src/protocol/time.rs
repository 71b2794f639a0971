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

#[cfg(test)]
mod tests {
    use super::*;

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
