//! The gateway's clock against ours (contract §6.9, §9): the arithmetic of several `time/get`
//! exchanges (median offset and round trip), the send-time stamp, and the N-sample measurement
//! the CLI runs (the window drives the same exchanges one by one through the request log).

use std::time::Duration;

use serde_json::{Value, json};

use super::requests::{RequestFailure, RequestSpec, SessionId};
use super::gateways::ClockOffset;
pub use super::gateways::{TIME_SYNC_CAPACITY, TimeSyncEntry};
use super::{EngineHandle, GatewayKey};
use crate::protocol::time::{TimeSample, now_ms};

/// Exchanges per measurement unless told otherwise.
pub const DEFAULT_SAMPLES: usize = 5;
/// The most exchanges one measurement makes.
pub const MAX_SAMPLES: usize = 100;

/// Stamps `t1` of a `time/get` with the moment it is handed to the link, so the offset does not
/// include the time a request waited in a form or a queue. Other requests pass unchanged.
pub fn stamp_send_time(class: &str, action: &str, mut data: Value) -> Value {
    if class == "time" && action == "get" {
        match data.as_object_mut() {
            Some(obj) => {
                obj.insert("t1".into(), json!(now_ms()));
            }
            None => data = json!({ "t1": now_ms() }),
        }
    }
    data
}

/// The median; the mean of the middle two for an even count. `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] })
}

/// The result of several exchanges: medians of offset (gateway clock − ours) and round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockMeasurement {
    pub offset_ms: f64,
    pub round_trip_ms: f64,
    pub samples: Vec<TimeSample>,
}

impl ClockMeasurement {
    /// `None` without samples.
    pub fn from_samples(samples: Vec<TimeSample>) -> Option<ClockMeasurement> {
        let offsets: Vec<f64> = samples.iter().map(TimeSample::offset_ms).collect();
        let trips: Vec<f64> = samples.iter().map(|s| s.round_trip_ms() as f64).collect();
        Some(ClockMeasurement { offset_ms: median(&offsets)?, round_trip_ms: median(&trips)?, samples })
    }
}

/// The sample of a `time/get` reply's data `{t1, t2, t3}` received at `t4` (our clock).
pub fn sample_from_reply(data: &Value, t4: i64) -> Result<TimeSample, String> {
    let field = |name: &str| data.get(name).and_then(Value::as_i64).ok_or_else(|| format!("time/get reply: data.{name}: expected an integer (epoch ms)"));
    Ok(TimeSample { t1: field("t1")?, t2: field("t2")?, t3: field("t3")?, t4 })
}

/// The sample of one finished `time/get` whose reply `data` resolved at `resolved_ms`: `t4` is
/// when the engine took the reply off the link (the record's clock) when `recorded` is this
/// exchange (its t4 yields the same offset), else `resolved_ms`. Used by the CLI and the Time tab.
pub fn sample_of_exchange(data: &Value, resolved_ms: i64, recorded: Option<ClockOffset>) -> Result<TimeSample, String> {
    let fallback = sample_from_reply(data, resolved_ms)?;
    Ok(match recorded {
        Some(c) if c.measured_ms >= fallback.t1 && c.measured_ms <= resolved_ms && TimeSample { t4: c.measured_ms, ..fallback }.offset_ms() == c.offset_ms => TimeSample { t4: c.measured_ms, ..fallback },
        _ => fallback,
    })
}

/// Why a measurement or a set did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    #[error("the engine has stopped")]
    Stopped,
    #[error("{0}")]
    NoReply(RequestFailure),
    #[error("{class_action}: code {code} {name}{}", msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Refused { class_action: String, code: i64, name: &'static str, msg: Option<String> },
    #[error("{0}")]
    BadReply(String),
}

/// Sends one request and returns the successful reply's data and when the call resolved.
async fn ask(handle: &EngineHandle, spec: RequestSpec) -> Result<(Value, i64), ClockError> {
    let class_action = format!("{}/{}", spec.class, spec.action);
    let outcome = handle.call(spec).await.map_err(|_| ClockError::Stopped)?;
    let resolved = now_ms();
    match outcome.result {
        Ok(reply) if reply.code == 0 => Ok((reply.data, resolved)),
        Ok(reply) => Err(ClockError::Refused { class_action, code: reply.code, name: reply.name, msg: reply.msg }),
        Err(failure) => Err(ClockError::NoReply(failure)),
    }
}

/// `samples` `time/get` exchanges one after another (clamped to 1..=[`MAX_SAMPLES`]), medians of
/// the results. `t1` is stamped by the engine as the request goes to the link; `t4` is when the
/// engine took the reply off the link (the gateway record's clock), or when the call resolved
/// if the record does not have this exchange (a gateway without a row yet).
pub async fn measure(handle: &EngineHandle, session: SessionId, key: &GatewayKey, samples: usize, timeout: Duration) -> Result<ClockMeasurement, ClockError> {
    let mut taken = Vec::new();
    for _ in 0..samples.clamp(1, MAX_SAMPLES) {
        let mut spec = RequestSpec::new(session, &key.pk, &key.dev, "time", "get", json!({ "t1": now_ms() }));
        spec.timeout = timeout;
        let (data, resolved) = ask(handle, spec).await?;
        let recorded = handle.state.gateways().get(key).and_then(|g| g.clock);
        taken.push(sample_of_exchange(&data, resolved, recorded).map_err(ClockError::BadReply)?);
    }
    ClockMeasurement::from_samples(taken).ok_or_else(|| ClockError::BadReply("no samples".into()))
}

/// Sets the gateway's clock to ours (`time/set`); returns the gateway's time before the set.
pub async fn set_to_our_time(handle: &EngineHandle, session: SessionId, key: &GatewayKey, timeout: Duration) -> Result<i64, ClockError> {
    let mut spec = RequestSpec::new(session, &key.pk, &key.dev, "time", "set", json!({ "time": now_ms() }));
    spec.timeout = timeout;
    let (data, _) = ask(handle, spec).await?;
    data.get("before").and_then(Value::as_i64).ok_or_else(|| ClockError::BadReply("time/set reply: data.before: expected an integer (epoch ms)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 7.0]), Some(7.0));
    }

    #[test]
    fn measurement_takes_medians_so_one_slow_exchange_does_not_move_it() {
        let s = |t1: i64, out: i64, back: i64| TimeSample { t1, t2: t1 + out + 5000, t3: t1 + out + 5001, t4: t1 + out + 1 + back };
        let m = ClockMeasurement::from_samples(vec![s(0, 10, 10), s(100, 12, 10), s(200, 10, 900)]).unwrap();
        assert_eq!(m.offset_ms, 5000.0);
        assert_eq!(m.round_trip_ms, 22.0);
        assert!(ClockMeasurement::from_samples(vec![]).is_none());
    }

    #[test]
    fn only_time_get_is_stamped() {
        let before = now_ms();
        let stamped = stamp_send_time("time", "get", json!({ "t1": 1 }));
        assert!(stamped["t1"].as_i64().unwrap() >= before);
        assert_eq!(stamp_send_time("time", "set", json!({ "time": 1 })), json!({ "time": 1 }));
        assert!(sample_from_reply(&json!({ "t1": 1, "t2": 2 }), 4).unwrap_err().contains("data.t3"));
    }
}
