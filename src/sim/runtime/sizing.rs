//! How much one message may carry on the simulator's link, and cutting reports to fit.

use serde_json::json;

use crate::protocol::envelope::{MAX_ID_LEN, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, Request};
use crate::protocol::topic::{CemsTopic, Dir, MESSAGES, MessageKind, TopicProfile};
use crate::transport::LinkConfig;
use crate::transport::{mqtt, serial};

/// The largest payload the link carries in one message on `topic`: a serial frame holds the
/// topic and 7 header bytes too (contract §10); MQTT is bounded by the packet size configured and
/// by the envelope limit (§3).
pub(super) fn payload_limit(link: &LinkConfig, topic: &str) -> usize {
    match link {
        LinkConfig::Serial(_) => serial::max_payload_bytes(topic),
        LinkConfig::Mqtt(config) => mqtt::max_payload_bytes(config.max_packet_bytes, topic).min(MAX_PAYLOAD_BYTES),
        // A replay publishes nothing; the envelope limit is all there is.
        LinkConfig::Replay(_) => MAX_PAYLOAD_BYTES,
    }
}

/// The largest reply payload the link carries on the reply topic of any down request: what the
/// handlers cut their replies to.
pub(super) fn reply_limit(link: &LinkConfig, profile: &TopicProfile, pk: &str, dev: &str) -> usize {
    MESSAGES
        .iter()
        .filter(|m| m.dir == Dir::Down && m.kind == MessageKind::Request)
        .filter_map(|m| profile.build(&CemsTopic::new(pk, dev, Dir::Down, m.class, m.action).reply_topic()).ok())
        .map(|topic| payload_limit(link, &topic))
        .min()
        .unwrap_or(MAX_PAYLOAD_BYTES)
}

/// Cuts `items` into runs of at most `max_count` whose envelope, with the run as array `field`
/// and the longest id and ts, fits `limit` bytes. An item too large alone gets a run of its own
/// (and is refused when sent).
pub(super) fn split_to_fit<T: serde::Serialize>(items: Vec<T>, field: &str, max_count: usize, limit: usize) -> Vec<Vec<T>> {
    let empty = Request { id: "x".repeat(MAX_ID_LEN), ts: i64::MAX, ver: PROTOCOL_VERSION.into(), data: json!({ field: [] }) };
    let overhead = serde_json::to_vec(&empty).map_or(1_024, |v| v.len());
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut bytes = overhead;
    for item in items {
        // +1 for the comma between elements.
        let len = serde_json::to_vec(&item).map_or(limit, |v| v.len()) + 1;
        if !run.is_empty() && (run.len() >= max_count || bytes + len > limit) {
            runs.push(std::mem::take(&mut run));
            bytes = overhead;
        }
        bytes += len;
        run.push(item);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}
