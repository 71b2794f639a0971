//! Numbers in JSON the way people write them: a whole `f64` goes out as an integer, so a model
//! saved back says `500`, not `500.0`.

use serde::Serializer;

/// Largest magnitude written as an integer; beyond it an `f64` no longer holds every integer.
const WHOLE_LIMIT: f64 = 9.0e15;

/// Serializes `Some(500.0)` as `500` and `Some(0.5)` as `0.5` (for `serialize_with`).
pub fn ser_opt_num<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(f) if is_whole(*f) => serializer.serialize_i64(*f as i64),
        Some(f) => serializer.serialize_f64(*f),
        None => serializer.serialize_none(),
    }
}

/// True for a finite number without a fraction that an `i64` holds exactly.
pub fn is_whole(f: f64) -> bool {
    f.fract() == 0.0 && f.abs() < WHOLE_LIMIT
}

/// `1.0` as "1", `1.5` as "1.5".
pub fn whole_or_decimal(f: f64) -> String {
    if is_whole(f) { format!("{}", f as i64) } else { f.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_lose_their_fraction_only() {
        assert_eq!(whole_or_decimal(2.0), "2");
        assert_eq!(whole_or_decimal(1.5), "1.5");
        assert!(!is_whole(f64::NAN));
        assert!(!is_whole(1e16));
    }
}

/// `8388608` as `8,388,608`: counts and sizes in messages people read.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod thousands_tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
