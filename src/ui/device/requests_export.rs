//! The Requests tab's export: the rows shown, one JSON object a line (written by
//! `text_export.rs`).

use serde_json::{Value, json};

use super::outcome_kind::OutcomeKind;
use crate::engine::GatewayKey;
use crate::engine::gateways::{RequestEnd, RequestRecord};

/// One request as a line of the export.
pub fn json_line(key: &GatewayKey, r: &RequestRecord) -> Value {
    let mut line = json!({
        "id": r.id,
        "pk": key.pk,
        "dev": key.dev,
        "class": r.class,
        "action": r.action,
        "outcome": OutcomeKind::of(r).name(),
        "doneMs": r.done_ms,
        "latencyMs": r.latency_ms,
    });
    let Some(obj) = line.as_object_mut() else { return line };
    match &r.end {
        RequestEnd::Replied { code, name, msg } => {
            obj.insert("code".into(), json!(code));
            obj.insert("codeName".into(), json!(name));
            if let Some(msg) = msg {
                obj.insert("msg".into(), json!(msg));
            }
            obj.insert("data".into(), r.data.clone());
        }
        RequestEnd::Failed(why) => {
            obj.insert("error".into(), json!(why.to_string()));
        }
    }
    if !r.failed.is_empty() {
        obj.insert("failed".into(), json!(r.failed));
    }
    line
}

/// The export text: one line per request, in the order given, each ending in a newline.
pub fn json_lines<'a>(key: &GatewayKey, rows: impl IntoIterator<Item = &'a RequestRecord>) -> String {
    rows.into_iter().map(|r| format!("{}\n", json_line(key, r))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_how_the_request_ended() {
        let key = GatewayKey { pk: "PK".into(), dev: "GW".into() };
        let mut r = super::super::requests::tests::record("property", "set", 4, &["a: 4 bad_param"]);
        r.data = json!({"failed": [{"key": "a", "code": 4}]});
        let line = json_line(&key, &r);
        assert_eq!(line["outcome"], "partial");
        assert_eq!((line["code"].clone(), line["codeName"].clone()), (json!(4), json!("x")));
        assert_eq!(line["failed"], json!(["a: 4 bad_param"]));
        r.end = RequestEnd::Failed(crate::engine::RequestFailure::Timeout { after_ms: 10_000 });
        let text = json_lines(&key, [&r, &r]);
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["outcome"], "timeout");
        assert_eq!(lines[0]["error"], "no reply within 10000 ms");
        assert!(lines[0].get("code").is_none());
    }
}
