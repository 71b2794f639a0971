//! One energy-storage message read whole: its topic, what it is for, where it belongs, its
//! payload and its metrics — or why it cannot be read. The engine's station table and
//! `ess watch` read messages through this one function.

use super::place::{Placed, StoragePlace, place_of};
use super::profile::{MessageRole, StorageProfile, TopicMatch};
use super::{StoragePayload, StoragePoint, StorageTopic, parse_payload, points_under};

/// A message of the profile that could be read.
#[derive(Debug, Clone, PartialEq)]
pub struct StorageMessage {
    pub topic: StorageTopic,
    pub role: MessageRole,
    pub placed: Placed,
    pub payload: StoragePayload,
    /// The numeric fields of `d`, named under `placed.metric_prefix`.
    pub points: Vec<StoragePoint>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// Not a topic of the profile.
    Foreign,
    /// The profile's, but unreadable: `place` is known when the topic could be read.
    Problem { place: Option<StoragePlace>, reason: String },
    Message(Box<StorageMessage>),
}

/// Reads the message `payload` on `topic`.
pub fn decode_message(profile: &StorageProfile, topic: &str, payload: &[u8]) -> Decoded {
    let parts = match profile.match_topic(topic) {
        TopicMatch::Foreign => return Decoded::Foreign,
        TopicMatch::Malformed { reason } => return Decoded::Problem { place: None, reason: format!("topic: {reason}") },
        TopicMatch::Storage(parts) => parts,
    };
    let Some(role) = profile.role_of(&parts.message_type) else { return Decoded::Foreign };
    let payload = match parse_payload(payload) {
        Ok(payload) => payload,
        Err(err) => {
            let place = place_of(&parts, None).place;
            return Decoded::Problem { place: Some(place), reason: err.to_string() };
        }
    };
    let placed = place_of(&parts, payload.ns.as_deref());
    let points = points_under(&payload.d, &placed.metric_prefix);
    Decoded::Message(Box::new(StorageMessage { topic: parts, role, placed, payload, points }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(topic: &str, payload: &str) -> Decoded {
        decode_message(&StorageProfile::builtin(), topic, payload.as_bytes())
    }

    #[test]
    fn a_rack_report_by_ns_lands_on_its_component_with_plain_names() {
        let Decoded::Message(m) = decode("v1/rt/ess/st1", r#"{"t":5,"ns":"st1.bms1.rack2","d":{"SOC":51.5,"cells":[{"U":3.3}]}}"#) else { panic!() };
        assert_eq!(m.role, MessageRole::Realtime);
        assert_eq!(m.placed.place.to_string(), "ess/st1/bms1/rack2");
        let points: Vec<_> = m.points.iter().map(|p| (p.name.as_str(), p.pointer.as_str(), p.value)).collect();
        assert_eq!(points, [("SOC", "/d/SOC", 51.5), ("cells.0.U", "/d/cells/0/U", 3.3)]);
    }

    #[test]
    fn problems_are_named_and_placed_where_possible() {
        assert_eq!(decode("cems/v1/PK/D/up/status", "{}"), Decoded::Foreign);
        let Decoded::Problem { place: None, reason } = decode("v1/rt/ess", "{}") else { panic!() };
        assert!(reason.starts_with("topic: 3 segments"), "{reason}");
        let Decoded::Problem { place: Some(place), reason } = decode("v1/rt/ess/st1/pcs1", r#"{"t":1,"d":[1]}"#) else { panic!() };
        assert_eq!((place.to_string().as_str(), reason.as_str()), ("ess/st1/pcs1", "payload field `d`: expected an object, found array"));
        let Decoded::Problem { reason, .. } = decode("v1/param/ess/st1", "not json") else { panic!() };
        assert!(reason.starts_with("payload is not valid JSON"), "{reason}");
    }

    #[test]
    fn a_key_with_a_slash_is_escaped_in_its_pointer() {
        let Decoded::Message(m) = decode("v1/rt/ess/st1/u", r#"{"t":1,"d":{"a/b":1,"c~":{"d":2}}}"#) else { panic!() };
        let pointers: Vec<_> = m.points.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/d/a~1b", "/d/c~0/d"]);
    }
}
