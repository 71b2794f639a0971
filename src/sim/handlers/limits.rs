//! What keeps a hostile master from exhausting or confusing the gateway: the envelope versions it
//! serves, the clock window `time/set` accepts, replies cut to what one message carries
//! (`log/get` paged, anything else too large refused with a code), and vendor messages logged as
//! excerpts.

use serde_json::{Value, json};

use crate::sim::api::parse;
use crate::protocol::codes;
use crate::protocol::envelope::{MAX_ID_LEN, PROTOCOL_VERSION, Reply};
use crate::protocol::payload::{LogEntries, LogGet, VendorMessage, to_data};
use crate::sim::api::{Fail, bad_param};
use crate::sim::log::{Level, MAX_MSG_CHARS, excerpt};
use crate::sim::state::SimState;

/// 2000-01-01T00:00:00Z, epoch ms: `time/set` refuses anything earlier.
pub const TIME_MIN_MS: i64 = 946_684_800_000;
/// 2100-01-01T00:00:00Z, epoch ms: `time/set` refuses this and anything later.
pub const TIME_MAX_MS: i64 = 4_102_444_800_000;
/// Characters of a vendor message's content quoted in the log.
const CONTENT_EXCERPT_CHARS: usize = 400;
/// Characters of a vendor message's type quoted in the log.
const TYPE_EXCERPT_CHARS: usize = 64;

/// True for the `ver`s this gateway serves: 1.0, and any later 1.x (same major version, so
/// nothing it relies on has changed; contract §3 names 1.0).
pub fn version_ok(ver: &str) -> bool {
    let Some(minor) = ver.strip_prefix("1.") else { return false };
    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
}

/// Code 3 for an envelope of a `ver` this gateway does not serve.
pub fn version_fail(ver: &str) -> Fail {
    Fail { code: codes::BAD_FORMAT, msg: format!("ver {:?} is not served: this gateway speaks {PROTOCOL_VERSION} (1.x)", excerpt(ver, 16)) }
}

/// Code 4 for a `time/set` outside 2000..2100: a clock set to i64::MAX would stamp everything
/// after it with that.
pub fn check_time(time: i64) -> Result<(), Fail> {
    if (TIME_MIN_MS..TIME_MAX_MS).contains(&time) {
        return Ok(());
    }
    Err(bad_param(format!("time {time} is outside 2000-01-01..2100-01-01 ({TIME_MIN_MS}..{TIME_MAX_MS} epoch ms)")))
}

/// The log line of a `message/down`: its type and the start of its content, and its size.
pub fn vendor_message_line(data: &Value) -> (Level, String) {
    match parse::<VendorMessage>(data) {
        Ok(m) => {
            let json;
            let content = match &m.content {
                Value::String(s) => s.as_str(),
                other => {
                    json = other.to_string();
                    json.as_str()
                }
            };
            let (text, size) = (excerpt(content, CONTENT_EXCERPT_CHARS), content.len());
            (Level::Info, format!("{}: {text} ({size} bytes)", excerpt(&m.message_type, TYPE_EXCERPT_CHARS)))
        }
        Err(f) => (Level::Warn, f.msg),
    }
}

/// `reply` as it goes out and is remembered, with its size: its `msg` cut to a log line's length
/// (a parse error quotes what was sent), and a reply still over `limit` bytes replaced by code 1
/// saying so, so that the master learns why instead of waiting for a reply that never comes.
pub fn fit_reply(mut reply: Reply, limit: usize) -> (Reply, usize) {
    if let Some(msg) = reply.msg.as_mut()
        && msg.len() > MAX_MSG_CHARS
    {
        *msg = excerpt(msg, MAX_MSG_CHARS);
    }
    let size = serde_json::to_vec(&reply).map_or(usize::MAX, |v| v.len());
    if size <= limit {
        return (reply, size);
    }
    let msg = format!("the reply would be {size} bytes, over the {limit} bytes one message carries; ask for less");
    let refusal = Reply { id: reply.id, ts: reply.ts, code: codes::FAILED, msg: Some(msg), data: json!({}) };
    let size = serde_json::to_vec(&refusal).map_or(0, |v| v.len());
    (refusal, size)
}

/// `log/get`: the oldest matching entries that fit one reply of `state.reply_max_bytes` to
/// request `id`; when some were left out, `truncated: true`, and the master asks again with
/// `from` = the last entry's `ts` + 1.
pub fn log_get(state: &SimState, id: &str, req: &LogGet) -> Result<Value, Fail> {
    let level = match &req.level {
        Some(l) => Some(Level::parse(l).ok_or_else(|| bad_param(format!("level {:?}: expected error, warn, info or debug", excerpt(l, 16))))?),
        None => None,
    };
    // The envelope around the entries: the longest ts and the flag set.
    let empty = Reply { id: id.chars().take(MAX_ID_LEN).collect(), ts: i64::MAX, code: codes::OK, msg: None, data: to_data(&LogEntries { entries: Vec::new(), truncated: true }) };
    let overhead = serde_json::to_vec(&empty).map_or(1_024, |v| v.len());
    let budget = state.reply_max_bytes.saturating_sub(overhead);
    let (entries, truncated) = state.log.page(req.from, req.to, level, budget);
    Ok(to_data(&LogEntries { entries, truncated }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{call, send, state, topic};
    use super::*;
    use crate::protocol::envelope::{MAX_PAYLOAD_BYTES, Request};
    use crate::sim::handlers::handle_down;

    #[test]
    fn vendor_messages_are_logged_as_excerpts() {
        let (mut st, _dir) = state();
        let handled = send(&mut st, "message/down", "md-1", json!({"type": "blob", "content": "Z".repeat(100_000)}));
        assert!(handled.reply.is_none(), "a report is not answered");
        let entry = st.log.query(0, i64::MAX, None).into_iter().find(|e| e.module == "message").unwrap();
        assert!(entry.msg.starts_with("blob: ZZZ") && entry.msg.ends_with("(100000 bytes)"), "{}", entry.msg);
        assert!(entry.msg.chars().count() <= MAX_MSG_CHARS);
        // Not a string: its JSON, cut the same way.
        send(&mut st, "message/down", "md-2", json!({"type": "t".repeat(500), "content": {"k": "v".repeat(10_000)}}));
        let entry = st.log.query(0, i64::MAX, None).into_iter().rfind(|e| e.module == "message").unwrap();
        assert!(entry.msg.chars().count() <= MAX_MSG_CHARS && entry.msg.contains("{\"k\":\"vvv"), "{}", entry.msg);
    }

    #[test]
    fn log_get_pages_and_each_page_fits_the_link() {
        let (mut st, _dir) = state();
        st.reply_max_bytes = 8 * 1024;
        for i in 0..600 {
            st.log.push(1_000 + i / 4, Level::Info, "fill", format!("n{i:04} {}", "p".repeat(100)));
        }
        let mut from = 0;
        let mut seen = Vec::new();
        for page in 1.. {
            assert!(page < 100, "paging does not end");
            let handled = send(&mut st, "log/get", &format!("lg-{page}"), json!({"from": from, "to": i64::MAX}));
            let reply = handled.reply.unwrap();
            assert_eq!(reply.code, 0, "{:?}", reply.msg);
            assert!(reply.to_bytes().unwrap().len() <= 8 * 1024, "page {page}");
            let entries = reply.data["entries"].as_array().unwrap().clone();
            seen.extend(entries.iter().filter_map(|e| e["msg"].as_str()?.strip_prefix('n')?.get(..4)?.parse::<usize>().ok()));
            if reply.data.get("truncated").is_none() {
                break;
            }
            assert_eq!(reply.data["truncated"], true);
            from = entries.last().unwrap()["ts"].as_i64().unwrap() + 1;
        }
        let kept: Vec<usize> = (0..600).filter(|i| seen.contains(i)).collect();
        assert_eq!(seen, kept, "in order, none twice");
        assert_eq!(seen.last(), Some(&599));
        assert_eq!(seen.len(), (seen[0]..600).count(), "none skipped at a page boundary");
    }

    #[test]
    fn a_reply_over_the_limit_is_refused_with_a_code_and_not_remembered_whole() {
        let (mut st, _dir) = state();
        // Each 2-byte `\t` becomes 3 bytes in the error message that quotes it: 360 KB.
        let (code, _, msg) = call(&mut st, "time/get", json!({"t1": "\t".repeat(120_000)}));
        assert_eq!(code, codes::BAD_PARAM);
        assert!(msg.starts_with("data.t1") && msg.chars().count() <= MAX_MSG_CHARS, "{}", &msg[..80]);
        assert!(st.replies.bytes() < 4_096, "{} bytes remembered", st.replies.bytes());
        // A reply larger than the link carries: code 1 naming the sizes, and that is remembered.
        st.reply_max_bytes = 1_000;
        let (code, data, msg) = call(&mut st, "point/get", json!({}));
        assert_eq!((code, data), (codes::FAILED, json!({})));
        assert!(msg.contains("over the 1000 bytes"), "{msg}");
        let again = send(&mut st, "point/get", "t-2", json!({})).reply.unwrap();
        assert_eq!(again.code, codes::FAILED);
        assert_eq!(st.counters.duplicates_replayed, 1);
        assert!(fit_reply(Reply::ok("x", json!({"a": "b".repeat(MAX_PAYLOAD_BYTES)})), MAX_PAYLOAD_BYTES).1 <= MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn time_set_outside_2000_to_2100_is_bad_param_and_leaves_the_clock() {
        let (mut st, _dir) = state();
        for time in [i64::MAX, i64::MIN, 0, -1, TIME_MIN_MS - 1, TIME_MAX_MS] {
            let (code, _, msg) = call(&mut st, "time/set", json!({"time": time}));
            assert_eq!(code, codes::BAD_PARAM, "{time}");
            assert!(msg.contains("2000-01-01..2100-01-01"), "{msg}");
            assert_eq!(st.clock_offset_ms, 0, "{time}");
        }
        assert_eq!(call(&mut st, "time/set", json!({"time": TIME_MIN_MS})).0, codes::OK);
        assert!((st.now_ms() - TIME_MIN_MS).abs() < 60_000);
        assert_eq!(call(&mut st, "time/set", json!({"time": TIME_MAX_MS - 1})).0, codes::OK);
    }

    #[test]
    fn other_versions_are_code_3_and_1_x_is_served() {
        let (mut st, _dir) = state();
        let with_ver = |st: &mut SimState, class_action: &str, id: &str, ver: &str| {
            let request = Request { id: id.into(), ts: 1, ver: ver.into(), data: json!({}) };
            handle_down(st, &topic(class_action), &serde_json::to_vec(&request).unwrap())
        };
        for (i, ver) in ["2.0", "0.9", "1", "1.", "1.0.0", "1.x", "v1.0", ""].into_iter().enumerate() {
            let reply = with_ver(&mut st, "info/get", &format!("v{i}"), ver).reply.unwrap();
            assert_eq!(reply.code, codes::BAD_FORMAT, "{ver:?}");
            assert!(reply.msg.unwrap().contains("ver"));
        }
        for ver in ["1.0", "1.1", "1.12"] {
            assert_eq!(with_ver(&mut st, "info/get", ver, ver).reply.unwrap().code, codes::OK, "{ver:?}");
        }
        // A report of another version is not answered, and not taken either.
        let before = st.counters.malformed_ignored;
        let request = Request { id: "m".into(), ts: 1, ver: "9.9".into(), data: json!({"type": "t", "content": "secret"}) };
        let handled = handle_down(&mut st, &topic("message/down"), &serde_json::to_vec(&request).unwrap());
        assert!(handled.reply.is_none());
        assert_eq!(st.counters.malformed_ignored, before + 1);
        assert!(!st.log.query(0, i64::MAX, None).iter().any(|e| e.msg.contains("secret")));
    }
}
