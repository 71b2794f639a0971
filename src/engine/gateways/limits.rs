//! Caps of the gateway table: any client on a broker can invent gateways, sub-devices, points
//! and alarms, so each kind of entry is bounded and what is refused is counted. Ids are checked
//! against the contract's charsets (§1) before they become keys, and free text is cut.
//!
//! The caps are generous for a real site (a gateway with 256 sub-devices of 2,000 points each)
//! and keep the table within a few hundred MB against a flood.

use crate::protocol::ids::{IdKind, check_id};

/// Gateways in the table; a new one past this is refused.
pub const MAX_GATEWAYS: usize = 10_000;
/// Sub-devices per gateway.
pub const MAX_SUBS: usize = 256;
/// Points per sub-device.
pub const MAX_POINTS: usize = 2_000;
/// Energy registers per sub-device.
pub const MAX_METERS: usize = 256;
/// Active alarms per gateway; also bounds the alarm ids remembered for ordering (4×).
pub const MAX_ALARMS: usize = 1_000;
/// Ports per gateway.
pub const MAX_PORTS: usize = 256;
/// Configuration properties per gateway.
pub const MAX_PROPERTIES: usize = 2_000;
/// Characters kept of free text (a log message, an alarm description, a status reason).
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Bytes kept of one structured value (a property value, a vendor message's content), as JSON.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;

/// What the table refused, by kind, since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refused {
    /// Messages of a gateway that never announced itself (`status` or `info/report`).
    pub unannounced: u64,
    pub gateways: u64,
    pub subs: u64,
    pub points: u64,
    pub meters: u64,
    pub alarms: u64,
    pub ports: u64,
    pub properties: u64,
    /// Items whose id breaks the contract's charset or length.
    pub bad_ids: u64,
    /// Texts and values cut to fit.
    pub cut: u64,
}

impl Refused {
    /// Everything refused or cut, for a one-number indicator.
    pub fn total(&self) -> u64 {
        self.unannounced + self.gateways + self.subs + self.points + self.meters + self.alarms + self.ports + self.properties + self.bad_ids + self.cut
    }
}

/// True when `id` may be a key of kind `kind` (§1 charsets and lengths).
pub fn valid_id(kind: IdKind, id: &str) -> bool {
    check_id(kind, id).is_ok()
}

/// Cuts `text` to [`MAX_TEXT_CHARS`] characters with an ellipsis; true when it was cut.
pub fn cut_text(text: &mut String) -> bool {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((at, _)) => {
            text.truncate(at);
            text.push('…');
            true
        }
        None => false,
    }
}

/// A JSON value kept whole when small, else replaced by a note saying how large it was.
pub fn cap_value(value: serde_json::Value) -> (serde_json::Value, bool) {
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size <= MAX_VALUE_BYTES {
        (value, false)
    } else {
        (serde_json::Value::String(format!("(a {size}-byte value, not kept)")), true)
    }
}

/// A reply's data for the request log: whole when small; else an object keeps its small members
/// (a `truncated` flag, a count) and each large one becomes a note with its size, its number of
/// items and the last item's `ts` (where a page of a paged reply ends), so the page that asked
/// can still go on.
pub fn cap_reply_data(value: serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size <= MAX_VALUE_BYTES {
        return value;
    }
    let Value::Object(members) = value else { return cap_value(value).0 };
    let share = MAX_VALUE_BYTES / members.len().max(1);
    let kept = members
        .into_iter()
        .map(|(key, member)| {
            let bytes = serde_json::to_vec(&member).map_or(usize::MAX, |v| v.len());
            if bytes <= share {
                return (key, member);
            }
            let items = member.as_array().map(Vec::len);
            let last_ts = member.as_array().and_then(|a| a.last()).and_then(|l| l.get("ts")).and_then(Value::as_i64);
            (key, json!({"notKept": true, "bytes": bytes, "items": items, "lastTs": last_ts}))
        })
        .collect();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_paged_reply_keeps_its_flag_and_where_its_page_ended() {
        let entries: Vec<_> = (0..400).map(|ts| serde_json::json!({"ts": ts, "level": "info", "module": "m", "msg": "x".repeat(100)})).collect();
        let kept = cap_reply_data(serde_json::json!({"entries": entries, "truncated": true}));
        assert_eq!(kept["truncated"], true);
        assert_eq!((kept["entries"]["notKept"].clone(), kept["entries"]["items"].clone(), kept["entries"]["lastTs"].clone()), (serde_json::json!(true), serde_json::json!(400), serde_json::json!(399)));
        assert!(serde_json::to_vec(&kept).unwrap().len() < MAX_VALUE_BYTES);
        let small = serde_json::json!({"entries": [], "truncated": false});
        assert_eq!(cap_reply_data(small.clone()), small);
    }

    #[test]
    fn long_texts_and_values_are_cut() {
        let mut short = "ok".to_owned();
        assert!(!cut_text(&mut short));
        let mut long = "日".repeat(MAX_TEXT_CHARS + 10);
        assert!(cut_text(&mut long));
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS + 1);
        let (kept, cut) = cap_value(serde_json::json!("x".repeat(MAX_VALUE_BYTES * 2)));
        assert!(cut && kept.as_str().unwrap().contains("not kept"));
        assert!(valid_id(IdKind::Device, "meter-1") && !valid_id(IdKind::Device, &"m".repeat(960)));
    }
}
