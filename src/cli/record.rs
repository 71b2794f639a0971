//! `record`: a session's messages into an MCAP file until Ctrl-C or `--duration`, then one JSON
//! line `{"file","messages","bytes"}`; `record --recover FILE` completes a cut recording.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use crate::config::link_args::LinkArgs;
use crate::config::models::ModelArgs;
use crate::engine::recording::{RecordOptions, Recorder, RecordingMeta, link_without_credentials, recover};
use crate::engine::store::StoreLimits;
use crate::engine::{EngineCommand, EngineConfig, EngineEvent};
use crate::transport::{LinkState, Subscription};

use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, models_for_command, runtime, seconds_arg};

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The MCAP file to write (rotations continue as NAME-1.mcap, NAME-2.mcap…).
    #[arg(long, value_name = "FILE.mcap", required_unless_present = "recover", conflicts_with = "recover")]
    pub out: Option<PathBuf>,
    /// Complete a recording cut short (summary and footer), keeping what is readable.
    #[arg(long, value_name = "FILE")]
    pub recover: Option<PathBuf>,
    #[command(flatten)]
    pub link: LinkArgs,
    #[command(flatten)]
    pub models: ModelArgs,
    /// MQTT topic filter to record (QoS 1), repeatable [default: #].
    #[arg(long = "filter", value_name = "F", value_parser = super::watch::parse_subscription)]
    pub filter: Vec<Subscription>,
    /// Stop after S seconds.
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Start a new file past N MiB.
    #[arg(long = "max-mb", value_name = "N")]
    pub max_mb: Option<f64>,
    /// Seconds to wait for the link.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

pub fn run(args: &RecordArgs) -> ExitCode {
    if let Some(path) = &args.recover {
        return run_recover(path);
    }
    let Some(out) = &args.out else {
        eprintln!("error: record needs --out FILE.mcap or --recover FILE");
        return ExitCode::from(EXIT_USAGE);
    };
    let limits = (|| {
        let duration = args.duration.map(|s| seconds_arg("--duration", s)).transpose()?;
        let timeout = seconds_arg("--timeout", args.timeout)?;
        let max_bytes = match args.max_mb {
            Some(mb) if mb.is_finite() && mb > 0.0 && mb <= 1e6 => Some((mb * 1024.0 * 1024.0) as u64),
            Some(mb) => return Err(format!("--max-mb {mb}: expected a size in MiB above 0")),
            None => None,
        };
        Ok::<_, String>((duration, timeout, max_bytes))
    })();
    let (duration, timeout, max_bytes) = match limits {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = models_for_command(&args.models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A recorder is passive, like watch: it sees every message and answers nothing.
    let store_limits = StoreLimits { total_bytes: 32 * 1024 * 1024, ..StoreLimits::default() };
    let config = EngineConfig { master_duties: false, forward_messages: true, discover: false, store_limits, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "record", config, Some(Vec::new())) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let filters = if args.filter.is_empty() { vec![Subscription::from("#")] } else { args.filter.clone() };
    for Subscription { filter, qos } in filters {
        if cli.handle.send(EngineCommand::Subscribe { session: cli.session, filter, qos }).is_err() {
            eprintln!("error: {}: the engine stopped", cli.label);
            return ExitCode::from(EXIT_LINK);
        }
    }
    let meta = RecordingMeta {
        link: link_without_credentials(&cli.label),
        workbench_version: env!("CARGO_PKG_VERSION").to_owned(),
        models: loaded.set.iter().map(|d| (format!("{}.json", d.product_key()), d.original_text().as_bytes().to_vec())).collect(),
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let mut recorder = match Recorder::create_with(out, meta, RecordOptions { max_bytes, ..RecordOptions::default() }) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                cli.handle.shutdown();
                return ExitCode::FAILURE;
            }
        };
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let deadline = tokio::time::sleep(duration.unwrap_or(super::session::MAX_WAIT));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut fault = None;
        while fault.is_none() {
            let batch = tokio::select! {
                b = cli.events.next_batch() => b,
                _ = &mut ctrl_c => None,
                _ = &mut deadline => None,
                _ = tick.tick() => Some(Vec::new()),
            };
            let Some(batch) = batch else { break };
            for event in batch {
                match event {
                    EngineEvent::Message { message, received_ms, .. } => {
                        if let Err(e) = recorder.write(&message, received_ms) {
                            fault = Some(e);
                            break;
                        }
                    }
                    EngineEvent::SessionState { state: LinkState::Down { reason }, .. } => eprintln!("{}: down: {reason}", cli.label),
                    EngineEvent::SessionState { state: LinkState::Up, .. } => eprintln!("{}: up", cli.label),
                    EngineEvent::Notice { session: None, text } => eprintln!("{}: {text}", cli.label),
                    _ => {}
                }
            }
            if fault.is_none() && let Err(e) = recorder.flush_if_due() {
                fault = Some(e);
            }
        }
        cli.handle.shutdown();
        let stats = recorder.stats();
        if let Some(e) = fault {
            // What the last flush left on disk stays readable (and `--recover` completes it).
            eprintln!("error: recording stopped: {e}");
            println!("{}", json!({"file": stats.file, "messages": stats.messages, "bytes": stats.bytes, "error": e.to_string()}));
            return ExitCode::FAILURE;
        }
        match recorder.finish() {
            Ok(stats) => {
                println!("{}", json!({"file": stats.file, "messages": stats.messages, "bytes": stats.bytes, "files": stats.files}));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

fn run_recover(path: &Path) -> ExitCode {
    match recover(path) {
        Ok(r) => {
            println!(
                "{}",
                json!({"file": r.path, "complete": r.was_complete, "messages": r.messages_kept, "bytesCut": r.bytes_cut,
                    "bytes": r.new_bytes, "damage": r.damage})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_links_carry_no_credentials() {
        assert_eq!(link_without_credentials("mqtt://user:pw@host:1883"), "mqtt://host:1883");
        assert_eq!(link_without_credentials("mqtts://host:8883/x"), "mqtts://host:8883/x");
        assert_eq!(link_without_credentials("/dev/ttyUSB0"), "/dev/ttyUSB0");
    }
}
