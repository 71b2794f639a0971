//! `alarms`: the gateway's alarms as one JSON array, raise and clear paired into one object each,
//! with `"ack"` of the report that carried it (an `alarm/report`, or the `history/report` batch
//! an alarm stored offline came in): `us` (our acknowledgement seen back), `other` (another
//! master's), `sent` (ours, not seen back yet), `none`, `unknown` (from `alarm/get`, no report
//! seen). It asks `alarm/get` for the active alarms, then listens `--listen-secs` for reports
//! and acknowledgements on the gateway's downlink. With `--ack` it acknowledges reports as the
//! master would. Exit codes as `call`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use crate::config::link_args::LinkArgs;
use crate::engine::gateways::alarm_log::AlarmRow;
use crate::engine::requests::RequestFailure;
use crate::engine::{EngineConfig, EngineHandle, GatewayKey, RequestSpec, SessionId};

use super::call::split_target;
use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

/// How long a command waits for the gateway's retained `status` to give it a record.
const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Args)]
pub struct AlarmsArgs {
    /// PK/DEV
    pub target: String,
    /// Seconds to listen for alarm reports and acknowledgements after `alarm/get`.
    #[arg(long, default_value_t = 3.0)]
    pub listen_secs: f64,
    /// Acknowledge the gateway's `alarm/report`s as the master would (their ack becomes `us`).
    #[arg(long)]
    pub ack: bool,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Seconds to wait for the link and for the reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// One alarm row as printed.
pub fn alarm_json(row: &AlarmRow) -> Value {
    json!({
        "alarmId": row.alarm_id,
        "sub": row.sub,
        "pid": row.pid,
        "type": row.alarm_type,
        "level": row.level,
        "active": row.active(),
        "startTs": row.start_ts,
        "endTs": row.end_ts,
        "durationMs": row.duration_ms(),
        "value": row.value,
        "threshold": row.threshold,
        "desc": row.desc,
        "reportId": row.report_id,
        "ack": row.ack.as_str(),
    })
}

/// Waits until the gateway has a record (its retained `status` arrived); false after `wait`.
pub(super) async fn wait_record(handle: &EngineHandle, key: &GatewayKey, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if handle.state.gateways().get(key).is_some() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One request; its reply's data on code 0, else the exit code (1 refused, 3 link or timeout)
/// with the reason on stderr.
pub(super) async fn request_data(handle: &EngineHandle, session: SessionId, key: &GatewayKey, class_action: (&str, &str), data: Value, timeout: Duration) -> Result<(String, Value), ExitCode> {
    let (class, action) = class_action;
    let mut spec = RequestSpec::new(session, &key.pk, &key.dev, class, action, data).with_fresh_id();
    spec.timeout = timeout;
    let outcome = handle.call(spec).await.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_LINK)
    })?;
    match outcome.result {
        Ok(reply) if reply.code == 0 => Ok((outcome.id, reply.data)),
        Ok(reply) => {
            eprintln!("error: {key} {class}/{action}: code {} {}: {}", reply.code, reply.name, reply.msg.unwrap_or_default());
            Err(ExitCode::FAILURE)
        }
        Err(RequestFailure::Timeout { after_ms }) => {
            eprintln!("error: {key} {class}/{action}: no reply within {after_ms} ms");
            Err(ExitCode::from(EXIT_LINK))
        }
        Err(e) => {
            eprintln!("error: {key} {class}/{action}: {e}");
            Err(ExitCode::from(EXIT_LINK))
        }
    }
}

pub fn run(args: &AlarmsArgs) -> ExitCode {
    let parsed = (|| {
        let (pk, dev) = split_target(&args.target, "target")?;
        Ok::<_, String>((GatewayKey { pk, dev }, seconds_arg("--timeout", args.timeout)?, seconds_arg("--listen-secs", args.listen_secs)?))
    })();
    let (key, timeout, listen) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let config = EngineConfig { master_duties: args.ack, discover: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "alarms", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let known = wait_record(&cli.handle, &key, ANNOUNCE_WAIT).await;
        let active = match request_data(&cli.handle, cli.session, &key, ("alarm", "get"), json!({}), timeout).await {
            Ok((_, data)) => data,
            Err(code) => {
                cli.handle.shutdown();
                return code;
            }
        };
        tokio::time::sleep(listen).await;
        let rows: Vec<Value> = match cli.handle.state.gateways().get(&key) {
            Some(g) => g.alarm_log.rows.iter().map(alarm_json).collect(),
            None => Vec::new(),
        };
        cli.handle.shutdown();
        // A gateway that never announced itself has no record: its active alarms as replied.
        let rows = if known || !rows.is_empty() {
            rows
        } else {
            let list = active.get("alarms").and_then(Value::as_array).cloned().unwrap_or_default();
            list.into_iter()
                .map(|mut a| {
                    if let Some(obj) = a.as_object_mut() {
                        obj.insert("ack".into(), json!("unknown"));
                    }
                    a
                })
                .collect()
        };
        println!("{}", Value::Array(rows));
        ExitCode::SUCCESS
    })
}
