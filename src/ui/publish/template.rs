//! The publish helper's skeletons: the contract's `data` of each downlink (§2 table) and the
//! envelope around it, and the checks of what the editor holds. `fill.rs` fills them from what is
//! known of a gateway.

use serde_json::{Value, json};

use super::super::explorer::annotate::JsonError;
use crate::protocol::envelope::PROTOCOL_VERSION;
use crate::protocol::topic::{Dir, MESSAGES, MessageSpec};

/// What the editor holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonCheck {
    /// Nothing but whitespace: an empty payload.
    Empty,
    Valid,
    /// Not JSON; it can still be sent as raw text.
    Invalid(JsonError),
}

pub fn check_json(text: &str) -> JsonCheck {
    if text.trim().is_empty() {
        return JsonCheck::Empty;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(_) => JsonCheck::Valid,
        Err(e) => JsonCheck::Invalid(JsonError::from_serde(&e)),
    }
}

/// Why a topic cannot be published to, as a catalogue key.
pub fn check_topic(topic: &str) -> Result<(), &'static str> {
    use crate::protocol::topic_filter::{TopicNameProblem, check_topic_name};
    match check_topic_name(topic) {
        Err(TopicNameProblem::Empty) => Err("Enter a topic."),
        Err(TopicNameProblem::Wildcard) => Err("A topic to publish to cannot hold the wildcards + or #."),
        Err(TopicNameProblem::Nul) => Err("A topic cannot hold a NUL character."),
        Err(TopicNameProblem::TooLong) => Err("A topic is at most 65535 bytes."),
        Ok(()) => Ok(()),
    }
}

/// The contract's rows the master sends (`down`): requests and downlink reports.
pub fn downlink_messages() -> impl Iterator<Item = &'static MessageSpec> {
    MESSAGES.iter().filter(|m| m.dir == Dir::Down)
}

/// A `data` skeleton for a downlink of the contract (§2 table), with times around `now_ms`; an
/// optional list left out, which the contract reads as "all". `None` for the requests only a
/// model or the gateway's record can fill (a command, a set of properties, points or ports): an
/// empty `cmd` or `props` would only be refused.
pub fn data_template(class: &str, action: &str, now_ms: i64) -> Option<Value> {
    let hour_ago = now_ms - 3_600_000;
    Some(match (class, action) {
        ("command", "request") | ("property", "set") | ("point", "set") | ("port", "set") => return None,
        // The vendor's message and the transfers' ids and digests are the user's to give.
        ("message", "down") => json!({"type": "", "content": ""}),
        ("ota", "upgrade") => json!({"taskId": "", "module": "", "version": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "download") => json!({"fileId": "", "name": "", "size": 0, "sha256": "", "chunkSize": 4096}),
        ("file", "upload") => json!({"fileId": "", "name": ""}),
        ("file", "read") => json!({"fileId": "", "offset": 0, "length": 4096}),
        ("meter", "get") | ("log", "get") | ("history", "get") => json!({"from": hour_ago, "to": now_ms}),
        ("time", "get") => json!({"t1": now_ms}),
        ("time", "set") => json!({"time": now_ms}),
        ("log", "config") => json!({"level": "info", "upload": true}),
        // Also `point/get` and `property/get`: without `pids` or `keys`, all of them.
        _ => json!({}),
    })
}

/// A request envelope `{"id", "ts", "ver", "data"}`, pretty-printed for editing.
pub fn envelope_skeleton(id: &str, ts: i64, data: Value) -> String {
    let envelope = json!({"id": id, "ts": ts, "ver": PROTOCOL_VERSION, "data": data});
    serde_json::to_string_pretty(&envelope).unwrap_or_else(|_| envelope.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_check_gives_line_and_column() {
        assert_eq!(check_json("  \n"), JsonCheck::Empty);
        assert_eq!(check_json("{\"a\": [1, 2]}"), JsonCheck::Valid);
        let JsonCheck::Invalid(e) = check_json("{\n  \"a\": 1,\n}") else { panic!("invalid") };
        assert_eq!((e.line, e.column), (3, 1));
        assert!(e.message.contains("trailing comma"), "{}", e.message);
        assert!(matches!(check_json("reboot now"), JsonCheck::Invalid(_)));
    }

    #[test]
    fn topics_with_wildcards_are_refused() {
        assert!(check_topic("cems/v1/PK/GW/down/info/get").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a/+/b").is_err());
        assert!(check_topic("a/#").is_err());
        assert!(check_topic("a\0").is_err());
    }

    #[test]
    fn skeleton_is_an_envelope_in_contract_order() {
        let text = envelope_skeleton("wb-1", 5, data_template("time", "get", 5).expect("a skeleton"));
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value, json!({"id": "wb-1", "ts": 5, "ver": "1.0", "data": {"t1": 5}}));
        assert!(text.find("\"id\"") < text.find("\"data\""));
        assert!(crate::protocol::envelope::parse_envelope(text.as_bytes()).is_ok());
    }

    #[test]
    fn helper_offers_only_downlinks() {
        let all: Vec<String> = downlink_messages().map(|m| format!("{}/{}", m.class, m.action)).collect();
        assert!(all.contains(&"point/get".to_owned()) && all.contains(&"ota/upgrade".to_owned()));
        assert!(!all.contains(&"point/report".to_owned()) && !all.contains(&"status/".to_owned()));
        let mut without: Vec<String> = Vec::new();
        for m in downlink_messages() {
            let Some(data) = data_template(m.class, m.action, 0) else {
                without.push(format!("{}/{}", m.class, m.action));
                continue;
            };
            let decoded = crate::protocol::payload::decode(m.class, m.action, false, &data);
            // Empty strings may be refused later by a gateway, but the shape fits the contract.
            assert!(decoded.typed.is_ok(), "{}/{}: {:?}", m.class, m.action, decoded.typed);
        }
        assert_eq!(without, ["command/request", "port/set", "point/set", "property/set"], "only what a model names has no skeleton");
        assert_eq!(data_template("property", "get", 0), Some(json!({})), "no keys: all, not none");
    }
}
