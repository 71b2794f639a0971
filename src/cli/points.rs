//! `points`: a gateway's monitoring points read now (`point/get`), each with its name, unit,
//! enum label and quality from the product models: one JSON line `{"points": [...]}`. With
//! `--watch`, then one line per `point/report` or `point/change` until interrupted. Exit codes as
//! `call`.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::{EngineConfig, EngineEvent, RequestSpec};
use crate::protocol::envelope::{Envelope, parse_envelope};
use crate::protocol::model::matching::GatewayModels;
use crate::protocol::model::{Lang, ModelSet};
use crate::protocol::payload::{Payload, SubRef, decode};
use crate::protocol::topic::Dir;

use super::NoteLang;
use super::call::split_target;
use super::session::{CliSession, models_for_command, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

#[derive(Debug, Clone, Args)]
pub struct PointsArgs {
    /// PK/DEV
    pub target: String,
    /// Only this sub-device (the gateway's own points: its device id).
    #[arg(long)]
    pub sub: Option<String>,
    /// After the read, print a line per point report until interrupted.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    /// The language of names and labels.
    #[arg(long, value_enum, default_value_t = NoteLang::En)]
    pub lang: NoteLang,
    /// Seconds to wait for the link and for each reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// The contract's quality codes in words (§ Shapes: 0 good, 1 invalid, 2 stale, 3 substituted).
pub fn quality_name(q: u64) -> &'static str {
    match q {
        0 => "good",
        1 => "invalid",
        2 => "stale",
        3 => "substituted",
        _ => "unknown",
    }
}

/// Each `PointValue` of `points` with what the models say of it: name, unit, label, quality.
pub fn describe_points(models: &ModelSet, pk: &str, dev: &str, declared: &[SubRef], points: &[Value], lang: Lang) -> Vec<Value> {
    let gateway = GatewayModels::new(models, pk, declared);
    points
        .iter()
        .map(|p| {
            let sub = p.get("sub").and_then(Value::as_str).unwrap_or_default();
            let pid = p.get("pid").and_then(Value::as_str).unwrap_or_default();
            let v = p.get("v").cloned().unwrap_or(Value::Null);
            let q = p.get("q").and_then(Value::as_u64).unwrap_or(0);
            let seen = std::iter::once(pid);
            let def = gateway.model_of(sub, dev, seen).and_then(|m| m.point(pid));
            let mut line = json!({ "sub": sub, "pid": pid, "v": v, "q": q, "quality": quality_name(q), "ts": p.get("ts") });
            if let (Some(def), Some(obj)) = (def, line.as_object_mut()) {
                obj.insert("name".into(), json!(def.name.get(lang)));
                if let Some(unit) = &def.spec.unit {
                    obj.insert("unit".into(), json!(unit));
                }
                if let Some(label) = def.enum_label(&v, lang) {
                    obj.insert("label".into(), json!(label));
                }
            }
            line
        })
        .collect()
}

fn points_of(data: &Value) -> Vec<Value> {
    data.get("points").and_then(Value::as_array).cloned().unwrap_or_default()
}

pub fn run(args: &PointsArgs) -> ExitCode {
    let parsed = (|| Ok::<_, String>((split_target(&args.target, "target")?, seconds_arg("--timeout", args.timeout)?)))();
    let ((pk, dev), timeout) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = models_for_command(&args.models);
    let models = loaded.set;
    let lang = args.lang.lang();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Reports reach us as forwarded messages; no master duties for gateways not ours.
    let config = EngineConfig { master_duties: false, forward_messages: args.watch, discover: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "points", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let ask = |class: &str, action: &str, data: Value| {
            let mut spec = RequestSpec::new(cli.session, &pk, &dev, class, action, data);
            spec.timeout = timeout;
            cli.handle.call(spec)
        };
        // The gateway's own list of sub-devices ties each to its model; without it, by id.
        let declared = match ask("info", "get", json!({})).await {
            Ok(outcome) => match outcome.result {
                Ok(reply) if reply.code == 0 => match decode("info", "get", true, &reply.data).typed {
                    Ok(Payload::Info(info)) => info.subs.unwrap_or_default(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        let data = match &args.sub {
            Some(sub) => json!({ "sub": sub }),
            None => json!({}),
        };
        let outcome = match ask("point", "get", data).await {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_LINK);
            }
        };
        let reply = match outcome.result {
            Ok(reply) => reply,
            Err(failure) => {
                eprintln!("error: {pk}/{dev}: point/get: {failure}");
                cli.handle.shutdown();
                return ExitCode::from(EXIT_LINK);
            }
        };
        if reply.code != 0 {
            let line = json!({ "code": reply.code, "name": reply.name, "msg": reply.msg });
            println!("{line}");
            cli.handle.shutdown();
            return ExitCode::FAILURE;
        }
        println!("{}", json!({ "points": describe_points(&models, &pk, &dev, &declared, &points_of(&reply.data), lang) }));
        if !args.watch {
            cli.handle.shutdown();
            return ExitCode::SUCCESS;
        }
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let stdout = std::io::stdout();
        loop {
            let batch = tokio::select! {
                b = cli.events.next_batch() => b,
                _ = &mut ctrl_c => None,
            };
            let Some(batch) = batch else { break };
            let mut out = stdout.lock();
            for event in batch {
                let EngineEvent::Message { message, received_ms, .. } = event else { continue };
                let Ok(topic) = cli.handle.profile.parse(&message.topic) else { continue };
                let is_report = topic.dir == Dir::Up && !topic.reply && topic.class == "point" && matches!(topic.action.as_str(), "report" | "change");
                if !is_report || topic.pk != pk || topic.dev != dev {
                    continue;
                }
                let Ok(Envelope::Request(request)) = parse_envelope(&message.payload) else { continue };
                let mut points = points_of(&request.data);
                if let Some(sub) = &args.sub {
                    points.retain(|p| p.get("sub").and_then(Value::as_str) == Some(sub));
                }
                if points.is_empty() {
                    continue;
                }
                let line = json!({ "receivedMs": received_ms, "action": topic.action, "points": describe_points(&models, &pk, &dev, &declared, &points, lang) });
                if writeln!(out, "{line}").is_err() {
                    // stdout closed (a pipe to `head`): done.
                    cli.handle.shutdown();
                    return ExitCode::SUCCESS;
                }
            }
            let _ = out.flush();
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_get_names_units_labels_and_quality_from_the_models() {
        let models = ModelSet::builtin();
        let declared = [SubRef { sub: "pcs-1".into(), product_key: "PK-PCS-100".into() }];
        let points = [json!({ "sub": "pcs-1", "pid": "runState", "v": 2, "q": 0, "ts": 1 }), json!({ "sub": "pcs-1", "pid": "P", "v": 3.5, "q": 2, "ts": 1 })];
        let lines = describe_points(&models, "PK-GW-01", "GW-1", &declared, &points, Lang::En);
        assert_eq!(lines[0]["name"], "Run state");
        assert_eq!(lines[0]["label"], "Discharging");
        assert_eq!(lines[1]["quality"], "stale");
        assert_eq!(lines[1]["unit"], "kW");
    }
}
