//! What the engine hands the history: the samples, alarm events and acknowledgements of one
//! message, taken from its decoded payload by the same extraction the series store uses.

use std::sync::Arc;

use super::HistorySource;
use crate::engine::series::SeriesKey;
use crate::engine::series::feed::{PayloadSamples, samples_of};
use crate::protocol::payload::{Alarm, Payload};

/// The samples of one series from one message.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    /// A point or meter series (path series are not kept: they are views of the topic store).
    pub key: SeriesKey,
    pub source: HistorySource,
    /// (ts epoch ms, value, quality); NaN is stored as NULL and reads back as NaN.
    pub samples: Vec<(i64, f64, u8)>,
}

/// An acknowledgement of the `alarm/report` (or `history/report`) `report_id` of a gateway,
/// seen at `ack_ms`: it marks the alarms that report carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmAck {
    pub pk: String,
    pub dev: String,
    pub report_id: String,
    pub ack_ms: i64,
}

/// The alarm events of one message of gateway (pk, dev).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEvents {
    pub pk: String,
    pub dev: String,
    /// The id of the report that carried them (its acknowledgement carries it too); `None` for
    /// an `alarm/get` reply.
    pub report_id: Option<String>,
    /// When we received them (our clock).
    pub received_ms: i64,
    pub alarms: Vec<Alarm>,
}

/// One sample with its series' key shared: (key, source, ts, value, quality).
pub type KeyedSample = (Arc<SeriesKey>, HistorySource, i64, f64, u8);

/// One unit of work for the writer: one message's worth, or the engine's burst.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistoryBatch {
    pub series: Vec<SeriesSamples>,
    /// Samples one by one with shared keys: what the engine sends for a burst. Its keys stay
    /// interned on the engine's side, so the writer's thread frees one vector per burst rather
    /// than a key per sample (frees of another thread's allocations contend for its heap).
    pub keyed: Vec<KeyedSample>,
    pub alarms: Vec<AlarmEvents>,
    pub acks: Vec<AlarmAck>,
}

/// The alarm events a payload carries: an `alarm/report` or `alarm/get` reply, or those of a
/// `history/report` batch.
pub fn alarms_of(payload: &Payload) -> &[Alarm] {
    match payload {
        Payload::Alarms(a) => &a.alarms,
        Payload::HistoryReport(h) => h.alarms.as_deref().unwrap_or_default(),
        _ => &[],
    }
}

impl HistoryBatch {
    /// The samples and alarms of one decoded payload of gateway (pk, dev), which came on a topic
    /// with `action` (`report`, `change`, `get`…) in the message `report_id` (the envelope's id,
    /// which its acknowledgement will carry; `None` for a reply), received at `received_ms`.
    pub fn of_payload(pk: &str, dev: &str, action: &str, report_id: Option<&str>, payload: &Payload, received_ms: i64) -> Self {
        Self::of_samples(pk, dev, action, report_id, samples_of(pk, dev, payload), alarms_of(payload), received_ms)
    }

    /// The same from samples already taken out of the payload (the engine feeds its series from
    /// them first) and its alarms.
    pub fn of_samples(pk: &str, dev: &str, action: &str, report_id: Option<&str>, samples: Vec<PayloadSamples>, alarms: &[Alarm], received_ms: i64) -> Self {
        let series = samples
            .into_iter()
            .filter(|(key, ..)| key.gateway().is_some())
            .map(|(key, samples, source)| SeriesSamples { key, source: HistorySource::of(source, action), samples })
            .collect();
        let alarms = if alarms.is_empty() {
            Vec::new()
        } else {
            vec![AlarmEvents {
                pk: pk.to_owned(),
                dev: dev.to_owned(),
                report_id: report_id.map(str::to_owned),
                received_ms,
                alarms: alarms.to_vec(),
            }]
        };
        HistoryBatch { series, alarms, ..Self::default() }
    }

    /// A batch holding one acknowledgement.
    pub fn ack(pk: &str, dev: &str, report_id: &str, ack_ms: i64) -> Self {
        let ack = AlarmAck { pk: pk.to_owned(), dev: dev.to_owned(), report_id: report_id.to_owned(), ack_ms };
        HistoryBatch { acks: vec![ack], ..Self::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.keyed.is_empty() && self.alarms.is_empty() && self.acks.is_empty()
    }

    /// Samples plus alarm events plus acknowledgements: what refusing this batch loses.
    pub fn items(&self) -> u64 {
        let samples: usize = self.series.iter().map(|s| s.samples.len()).sum();
        let alarms: usize = self.alarms.iter().map(|a| a.alarms.len()).sum();
        (samples + self.keyed.len() + alarms + self.acks.len()) as u64
    }
}
