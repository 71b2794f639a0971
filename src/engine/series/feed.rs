//! What feeds the series: decoded point, meter and history payloads (no second parse), and for
//! tracked paths, the JSON of messages on their topic.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::key::SeriesKey;
use super::samples::SampleSource;
use super::store::SeriesStore;
use crate::engine::gateways::limits::valid_id;
use crate::protocol::ids::IdKind;
use crate::protocol::payload::{Payload, PointValue, Reading};

/// True for the payloads that carry series samples.
pub fn carries_samples(payload: &Payload) -> bool {
    matches!(payload, Payload::Points(_) | Payload::Readings(_) | Payload::HistoryReport(_))
}

/// One series' samples from one payload: its key, (ts, value, quality) rows, where they came from.
pub type PayloadSamples = (SeriesKey, Vec<(i64, f64, u8)>, SampleSource);

/// The samples one decoded payload of gateway (pk, dev) carries, per series, with where they
/// came from: points and readings live, a history batch's rows history. Text points and ids the
/// gateway table would refuse are left out. The one extraction the series store and the point
/// history both use.
pub fn samples_of(pk: &str, dev: &str, payload: &Payload) -> Vec<PayloadSamples> {
    let (points, readings, source): (&[PointValue], &[Reading], SampleSource) = match payload {
        Payload::Points(p) => (&p.points, &[], SampleSource::Live),
        Payload::Readings(r) => (&[], &r.readings, SampleSource::Live),
        Payload::HistoryReport(h) => (&h.points, h.readings.as_deref().unwrap_or_default(), SampleSource::History),
        _ => return Vec::new(),
    };
    let mut batches: BTreeMap<SeriesKey, Vec<(i64, f64, u8)>> = BTreeMap::new();
    for p in points {
        let Some(v) = p.v.as_f64() else { continue };
        if !valid_id(IdKind::Device, &p.sub) || !valid_id(IdKind::Point, &p.pid) {
            continue;
        }
        batches.entry(SeriesKey::point(pk, dev, &p.sub, &p.pid)).or_default().push((p.ts, v, p.q));
    }
    for r in readings {
        if !valid_id(IdKind::Device, &r.sub) {
            continue;
        }
        for (register, &v) in &r.values {
            if valid_id(IdKind::Point, register) {
                batches.entry(SeriesKey::meter(pk, dev, &r.sub, register)).or_default().push((r.ts, v, 0));
            }
        }
    }
    batches.into_iter().map(|(key, samples)| (key, samples, source)).collect()
}

/// Feeds one decoded payload of gateway (pk, dev) (see [`samples_of`]). Returns the samples kept.
pub fn feed_payload(store: &mut SeriesStore, pk: &str, dev: &str, payload: &Payload) -> usize {
    feed_samples(store, &samples_of(pk, dev, payload))
}

/// Feeds samples taken out of a payload by [`samples_of`] (which the caller keeps, e.g. for the
/// point history). Returns the samples kept.
pub fn feed_samples(store: &mut SeriesStore, samples: &[PayloadSamples]) -> usize {
    let mut kept = 0;
    for (key, samples, source) in samples {
        kept += if let [(t, v, q)] = samples[..] {
            usize::from(store.insert(key, t, v, q, *source))
        } else {
            store.insert_batch(key, samples.clone(), *source)
        };
    }
    kept
}

/// A number at `pointer` in `json` (a bool counts as 0/1), or `None`.
pub fn number_at(json: &Value, pointer: &str) -> Option<f64> {
    match json.pointer(pointer)? {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// The sample time of a payload: its `ts` (the CEMS envelope) or `t` (the energy-storage
/// profile) when it is an epoch-ms integer, else when it was received.
pub fn payload_time(json: &Value, received_ms: i64) -> i64 {
    ["ts", "t"].iter().find_map(|k| json.get(k).and_then(Value::as_i64).filter(|&t| t > 0)).unwrap_or(received_ms)
}

/// Feeds every tracked path of `topic` from one message; returns the samples kept.
pub fn feed_message(store: &mut SeriesStore, topic: &str, payload: &[u8], received_ms: i64) -> usize {
    let Some(pointers) = store.tracked_pointers(topic) else { return 0 };
    let samples = path_samples(topic, pointers, payload, received_ms);
    insert_path_samples(store, samples)
}

/// The samples one message gives the paths `pointers` of `topic`: (key, time, value).
fn path_samples(topic: &str, pointers: &BTreeSet<String>, payload: &[u8], received_ms: i64) -> Vec<(SeriesKey, i64, f64)> {
    let Ok(json) = serde_json::from_slice::<Value>(payload) else { return Vec::new() };
    let t = payload_time(&json, received_ms);
    pointers.iter().filter_map(|p| Some((SeriesKey::path(topic, p), t, number_at(&json, p)?))).collect()
}

fn insert_path_samples(store: &mut SeriesStore, samples: Vec<(SeriesKey, i64, f64)>) -> usize {
    samples.into_iter().map(|(key, t, v)| usize::from(store.insert(&key, t, v, 0, SampleSource::Live))).sum()
}

/// Back-fills a newly tracked path from messages already held, as (received_ms, payload).
pub fn backfill<'a>(store: &mut SeriesStore, topic: &str, pointer: &str, messages: impl Iterator<Item = (i64, &'a [u8])>) -> usize {
    let samples: Vec<(i64, f64, u8)> = messages
        .filter_map(|(received_ms, payload)| {
            let json = serde_json::from_slice::<Value>(payload).ok()?;
            Some((payload_time(&json, received_ms), number_at(&json, pointer)?, 0))
        })
        .collect();
    store.insert_batch(&SeriesKey::path(topic, pointer), samples, SampleSource::Live)
}

/// What the engine core calls: each takes the series lock briefly, never with another lock held.
pub(in crate::engine) mod engine_side {
    use super::*;
    use crate::engine::api::SharedState;
    use crate::engine::gateways::GatewayKey;

    /// Feeds a decoded payload of a gateway the table knows (anyone on a broker can write under
    /// any id: an unannounced gateway's traffic stays in the topic store only), and gives its
    /// samples back for the point history: `None` for an unknown gateway. `wanted` says the
    /// caller needs the answer even for a payload without samples (it has alarms to keep).
    pub fn payload(state: &SharedState, key: &GatewayKey, payload: &Payload, wanted: bool) -> Option<Vec<PayloadSamples>> {
        let carries = carries_samples(payload);
        if !(carries || wanted) || state.gateways().get(key).is_none() {
            return None;
        }
        let samples = if carries { samples_of(&key.pk, &key.dev, payload) } else { Vec::new() };
        if !samples.is_empty() {
            feed_samples(&mut state.series.write().unwrap_or_else(|e| e.into_inner()), &samples);
        }
        Some(samples)
    }

    /// Feeds the tracked paths of `topic` (the core calls it only while any path is tracked).
    /// The lookup takes the read lock and the JSON is parsed with no lock held, so the window's
    /// readers wait only for the inserts, and only for messages on a tracked topic.
    pub fn message(state: &SharedState, topic: &str, payload: &[u8], received_ms: i64) {
        let Some(pointers) = state.series().tracked_pointers(topic).cloned() else { return };
        let samples = path_samples(topic, &pointers, payload, received_ms);
        if !samples.is_empty() {
            insert_path_samples(&mut state.series.write().unwrap_or_else(|e| e.into_inner()), samples);
        }
    }

    /// Starts a path series and back-fills it from the topic store; true while any path is tracked.
    pub fn track(state: &SharedState, topic: &str, pointer: &str) -> bool {
        // Copied out of the topic store first, so the two locks are never held together.
        let held: Vec<(i64, bytes::Bytes)> = {
            let messages = state.store();
            messages.find(topic).map(|id| messages.history(id).iter().map(|m| (m.received_ms, m.payload.clone())).collect()).unwrap_or_default()
        };
        let mut store = state.series.write().unwrap_or_else(|e| e.into_inner());
        if store.track_path(topic, pointer) {
            backfill(&mut store, topic, pointer, held.iter().map(|(t, p)| (*t, p.as_ref())));
        }
        store.tracks_any_path()
    }

    /// Stops a path series; true while any path is still tracked.
    pub fn untrack(state: &SharedState, topic: &str, pointer: &str) -> bool {
        let mut store = state.series.write().unwrap_or_else(|e| e.into_inner());
        store.untrack_path(topic, pointer);
        store.tracks_any_path()
    }

    pub fn set_retention(state: &SharedState, key: &SeriesKey, retention_ms: i64) {
        state.series.write().unwrap_or_else(|e| e.into_inner()).set_retention(key, retention_ms);
    }
}
