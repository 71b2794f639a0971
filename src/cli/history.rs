//! `history`: recalls a period with `history/get` and counts the `history/report` batches that
//! answer it (told by `recallId` = the request's id), acknowledging each as the master would.
//! One JSON line when every announced batch arrived (or `--timeout` after the last one):
//! `{"recallId","expected","batches","new","duplicates","complete"}`; `new` and `duplicates`
//! count samples against what this run already held (§5: same sub, point and time).
//! Exit 0 complete, 1 refused, 2 usage, 3 link, timeout or batches missing.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use crate::config::link_args::LinkArgs;
use crate::engine::gateways::alarm_log::Recall;
use crate::engine::{EngineConfig, GatewayKey};
use crate::protocol::time::parse_time;

use super::alarms::{request_data, wait_record};
use super::call::split_target;
use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// PK/DEV
    pub target: String,
    /// Start of the period: epoch ms or ISO 8601 (2026-01-31T08:00:00Z; no zone means UTC).
    #[arg(long)]
    pub from: String,
    /// End of the period, as --from.
    #[arg(long)]
    pub to: String,
    /// Only this sub-device.
    #[arg(long)]
    pub sub: Option<String>,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Seconds to wait for the link, the reply, and between two batches.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// The printed line of a recall.
pub fn recall_line(recall_id: &str, recall: Option<&Recall>) -> serde_json::Value {
    let (expected, batches, new, duplicates) = recall.map_or((None, 0, 0, 0), |r| (r.expected, r.received, r.new, r.duplicates));
    json!({
        "recallId": recall_id,
        "expected": expected,
        "batches": batches,
        "new": new,
        "duplicates": duplicates,
        "complete": recall.is_some_and(Recall::done),
    })
}

pub fn run(args: &HistoryArgs) -> ExitCode {
    let parsed = (|| {
        let (pk, dev) = split_target(&args.target, "target")?;
        let from = parse_time(&args.from).map_err(|e| format!("--from {e}"))?;
        let to = parse_time(&args.to).map_err(|e| format!("--to {e}"))?;
        if from > to {
            return Err(format!("--from {from} is after --to {to}"));
        }
        Ok((GatewayKey { pk, dev }, from, to, seconds_arg("--timeout", args.timeout)?))
    })();
    let (key, from, to, timeout) = match parsed {
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
    // The batches are acknowledged as the master would (the gateway resends unanswered ones).
    let config = EngineConfig { master_duties: true, discover: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "history", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        // Batches count only into a gateway's record, which its retained status makes.
        if !wait_record(&cli.handle, &key, timeout).await {
            eprintln!("error: {key}: no status from the gateway within {:.1} s", timeout.as_secs_f64());
            cli.handle.shutdown();
            return ExitCode::from(EXIT_LINK);
        }
        let mut data = json!({"from": from, "to": to});
        if let (Some(sub), Some(obj)) = (&args.sub, data.as_object_mut()) {
            obj.insert("sub".into(), json!(sub));
        }
        let recall_id = match request_data(&cli.handle, cli.session, &key, ("history", "get"), data, timeout).await {
            Ok((id, _)) => id,
            Err(code) => {
                cli.handle.shutdown();
                return code;
            }
        };
        // Waits while batches keep coming: `timeout` of silence ends it.
        let mut last = (0, tokio::time::Instant::now());
        let recall = loop {
            let recall = cli.handle.state.gateways().get(&key).and_then(|g| g.alarm_log.recall(&recall_id).cloned());
            let received = recall.as_ref().map_or(0, |r| r.received);
            if recall.as_ref().is_some_and(Recall::done) {
                break recall;
            }
            if received != last.0 {
                last = (received, tokio::time::Instant::now());
            } else if last.1.elapsed() >= timeout {
                break recall;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        cli.handle.shutdown();
        println!("{}", recall_line(&recall_id, recall.as_ref()));
        if recall.as_ref().is_some_and(Recall::done) { ExitCode::SUCCESS } else { ExitCode::from(EXIT_LINK) }
    })
}
