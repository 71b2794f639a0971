//! `logs`: the gateway's log (contract §6.11), one JSON object a line `{"ts","level","module",
//! "msg"}`. Without `--follow`: `log/get` of a period (`--from`/`--to`, epoch ms or ISO 8601;
//! default the last hour), following its pages while a reply says `truncated`, `--level` sent as its level. With `--follow`: `log/config`
//! `{level, upload: true}` first when `--level` is given, then every `log/report` entry as it
//! comes, until stopped (or `--follow-secs`). Exit codes as `call`.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::config::link_args::LinkArgs;
use crate::engine::{EngineConfig, EngineEvent, GatewayKey};
use crate::protocol::envelope::{Envelope, parse_envelope};
use crate::protocol::payload::{LogEntries, LogEntry, MAX_LOG_PAGES, Payload, decode};
use crate::protocol::time::{now_ms, parse_time};
use crate::protocol::topic::{Dir, TopicProfile};

use super::alarms::request_data;
use super::call::split_target;
use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, MAX_WAIT, runtime, seconds_arg};

/// The period fetched when none is given.
const DEFAULT_PERIOD_MS: i64 = 3_600_000;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// PK/DEV
    pub target: String,
    /// Level: error, warn, info or debug (log/get's filter; with --follow, set by log/config).
    #[arg(long)]
    pub level: Option<String>,
    /// Follow the live `log/report` stream instead of fetching a period.
    #[arg(long)]
    pub follow: bool,
    /// Stop following after this many seconds.
    #[arg(long)]
    pub follow_secs: Option<f64>,
    /// Start of the period fetched: epoch ms or ISO 8601 [default: an hour ago].
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period fetched [default: now].
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Seconds to wait for the link and for a reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

pub fn entry_line(e: &LogEntry) -> Value {
    json!({"ts": e.ts, "level": e.level, "module": e.module, "msg": e.msg})
}

/// The entries of a `log/report` of gateway `key` in a forwarded message, if it is one.
fn report_entries(profile: &TopicProfile, key: &GatewayKey, topic: &str, payload: &[u8]) -> Vec<LogEntry> {
    let Ok(t) = profile.parse(topic) else { return Vec::new() };
    if t.dir != Dir::Up || t.reply || t.pk != key.pk || t.dev != key.dev || t.class != "log" || t.action != "report" {
        return Vec::new();
    }
    let Ok(Envelope::Request(request)) = parse_envelope(payload) else { return Vec::new() };
    match decode("log", "report", false, &request.data).typed {
        Ok(Payload::LogEntries(l)) => l.entries,
        _ => Vec::new(),
    }
}

pub fn run(args: &LogsArgs) -> ExitCode {
    let parsed = (|| {
        let (pk, dev) = split_target(&args.target, "target")?;
        let to = match &args.to {
            Some(t) => parse_time(t).map_err(|e| format!("--to {e}"))?,
            None => now_ms(),
        };
        let from = match &args.from {
            Some(t) => parse_time(t).map_err(|e| format!("--from {e}"))?,
            None => to - DEFAULT_PERIOD_MS,
        };
        let follow_for = args.follow_secs.map(|s| seconds_arg("--follow-secs", s)).transpose()?;
        Ok::<_, String>((GatewayKey { pk, dev }, from, to, seconds_arg("--timeout", args.timeout)?, follow_for))
    })();
    let (key, from, to, timeout, follow_for) = match parsed {
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
    let config = EngineConfig { master_duties: false, discover: false, forward_messages: args.follow, ..EngineConfig::default() };
    let profile = config.profile.clone();
    let mut cli = match CliSession::open(&rt, &args.link, "logs", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        if !args.follow {
            // A reply marked `truncated` holds the oldest entries only: ask again from the last ts + 1.
            let mut from = from;
            for _ in 0..MAX_LOG_PAGES {
                let mut data = json!({"from": from, "to": to});
                if let (Some(level), Some(obj)) = (&args.level, data.as_object_mut()) {
                    obj.insert("level".into(), json!(level));
                }
                let page = match request_data(&cli.handle, cli.session, &key, ("log", "get"), data, timeout).await {
                    Ok((_, data)) => match decode("log", "get", true, &data).typed {
                        Ok(Payload::LogEntries(l)) => l,
                        _ => LogEntries { entries: Vec::new(), truncated: false },
                    },
                    Err(code) => {
                        cli.handle.shutdown();
                        return code;
                    }
                };
                for e in &page.entries {
                    println!("{}", entry_line(e));
                }
                match page.entries.last() {
                    Some(last) if page.truncated => from = last.ts.saturating_add(1),
                    _ => {
                        cli.handle.shutdown();
                        return ExitCode::SUCCESS;
                    }
                }
            }
            cli.handle.shutdown();
            eprintln!("error: the gateway still had entries after {} pages; ask for a shorter period", MAX_LOG_PAGES);
            return ExitCode::from(EXIT_LINK);
        }
        if let Some(level) = &args.level
            && let Err(code) = request_data(&cli.handle, cli.session, &key, ("log", "config"), json!({"level": level, "upload": true}), timeout).await
        {
            cli.handle.shutdown();
            return code;
        }
        let deadline = tokio::time::Instant::now() + follow_for.unwrap_or(MAX_WAIT);
        while let Ok(Some(batch)) = tokio::time::timeout_at(deadline, cli.events.next_batch()).await {
            for event in batch {
                if let EngineEvent::Message { message, .. } = event {
                    for e in report_entries(&profile, &key, &message.topic, &message.payload) {
                        println!("{}", entry_line(&e));
                    }
                }
            }
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}
