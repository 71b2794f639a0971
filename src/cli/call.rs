//! `call`: one request to a gateway, its reply as one JSON line; what the product models say
//! of the reply's `data` goes into `"notes": {"<JSON pointer into the line>": "<text>"}`.
//! Exit 0 when the code is 0, 1 for any other code, 2 for a usage error, 3 for a timeout or a
//! link that could not be opened (the reason on stderr).

use std::process::ExitCode;
use serde_json::{Value, json};

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::requests::{ReplyInfo, RequestFailure};
use crate::engine::{EngineConfig, RequestOutcome, RequestSpec};
use crate::protocol::model::describe::{DataRef, describe_data};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::{Payload, decode};

use super::session::{CliSession, models_for_command, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};
use super::watch::notes_value;

/// `PK/DEV` and `CLASS/ACTION` (the action may have two segments: `ota/chunk/get`).
pub fn split_target(target: &str, what: &str) -> Result<(String, String), String> {
    match target.split_once('/') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(format!("{what} {target:?}: expected {}", if what == "target" { "PK/DEV" } else { "CLASS/ACTION" })),
    }
}

/// The JSON line printed for an outcome that has a reply.
pub fn outcome_line(outcome: &RequestOutcome) -> Option<Value> {
    let reply = outcome.result.as_ref().ok()?;
    Some(json!({
        "code": reply.code,
        "name": reply.name,
        "msg": reply.msg,
        "data": reply.data,
        "latencyMs": (outcome.latency_ms * 10.0).round() / 10.0,
    }))
}

/// The `notes` on a reply to `request` (class, action, its data) from gateway `pk`/`dev`.
/// Nothing is asked to learn the gateway's declared sub-devices: they are matched by id, unless
/// the reply is the gateway's `info` itself.
pub fn reply_notes(models: &ModelSet, pk: &str, dev: &str, (class, action, request): (&str, &str, &Value), reply: &ReplyInfo, lang: Lang) -> Option<Value> {
    let declared = match decode(class, action, true, &reply.data).typed {
        Ok(Payload::Info(info)) if reply.code == 0 => info.subs.unwrap_or_default(),
        _ => Vec::new(),
    };
    let gateway = GatewayModels::new(models, pk, &declared);
    let msg = DataRef::new(class, action, true, dev, &reply.data).with_request(request);
    notes_value(describe_data(&msg, &gateway, lang), "")
}

pub fn run(target: &str, class_action: &str, data: Option<&str>, link: &LinkArgs, timeout_secs: f64, models: &ModelArgs, lang: Lang) -> ExitCode {
    let parsed = (|| {
        let (pk, dev) = split_target(target, "target")?;
        let (class, action) = split_target(class_action, "class/action")?;
        let data: Value = match data {
            Some(text) => serde_json::from_str(text).map_err(|e| format!("DATA_JSON: {e}"))?,
            None => json!({}),
        };
        if !data.is_object() {
            return Err("DATA_JSON: expected a JSON object".to_owned());
        }
        let timeout = seconds_arg("--timeout", timeout_secs)?;
        Ok((pk, dev, class, action, data, timeout))
    })();
    let (pk, dev, class, action, data, timeout) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = models_for_command(models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // One request to one gateway: no acknowledging, no asking every gateway for its info.
    let config = EngineConfig { master_duties: false, discover: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, link, "call", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let mut spec = RequestSpec::new(cli.session, &pk, &dev, &class, &action, data.clone());
        spec.timeout = timeout;
        let outcome = cli.handle.call(spec).await;
        cli.handle.shutdown();
        match outcome {
            Ok(outcome) => match (&outcome.result, outcome_line(&outcome)) {
                (Ok(reply), Some(mut line)) => {
                    if let (Some(notes), Some(obj)) = (reply_notes(&loaded.set, &pk, &dev, (&class, &action, &data), reply, lang), line.as_object_mut()) {
                        obj.insert("notes".into(), notes);
                    }
                    println!("{line}");
                    if reply.code == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                }
                (Err(RequestFailure::Timeout { after_ms }), _) => {
                    eprintln!("error: request {} to {pk}/{dev} {class}/{action}: no reply within {after_ms} ms", outcome.id);
                    ExitCode::from(EXIT_LINK)
                }
                (Err(e), _) => {
                    eprintln!("error: request {}: {e}", outcome.id);
                    ExitCode::from(EXIT_LINK)
                }
                (Ok(_), None) => ExitCode::FAILURE,
            },
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_LINK)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_the_first_slash() {
        assert_eq!(split_target("PK01/GW-1", "target").unwrap(), ("PK01".into(), "GW-1".into()));
        assert_eq!(split_target("ota/version/get", "class/action").unwrap(), ("ota".into(), "version/get".into()));
        assert!(split_target("PK01", "target").is_err());
        assert!(split_target("/x", "target").is_err());
    }

    #[test]
    fn a_partly_failed_set_is_counted_against_the_request() {
        let request = json!({"props": {"reportPeriod": 99999, "ntpServer": "pool.ntp.org"}});
        let reply = ReplyInfo { code: 4, name: "bad_param", msg: None, data: json!({"failed": [{"key": "reportPeriod", "code": 4, "msg": "above max"}]}) };
        let notes = reply_notes(&ModelSet::builtin(), "PK-GW-01", "GW", ("property", "set", &request), &reply, Lang::En).unwrap();
        assert_eq!(notes["/data/failed"], "1 of 2 failed");
        assert!(notes["/data/failed/0"].as_str().is_some_and(|t| t.ends_with("— 4 bad_param: above max")), "{notes}");
        let empty = ReplyInfo { code: 0, name: "ok", msg: None, data: json!({}) };
        assert!(reply_notes(&ModelSet::builtin(), "PK-GW-01", "GW", ("time", "set", &json!({})), &empty, Lang::En).is_none());
    }
}
