//! `time`: the gateway's clock offset (gateway − ours, contract §9) and round trip, as the
//! median of N `time/get` exchanges; with `--set`, the gateway is set to our time first and the
//! offset printed is the one measured after. One JSON line:
//! `{"offsetMs","roundTripMs","samples"[,"beforeSetOffsetMs"]}`. Exit codes as `call`.

use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::config::link_args::LinkArgs;
use crate::engine::clock::{self, ClockError, ClockMeasurement, DEFAULT_SAMPLES, MAX_SAMPLES};
use crate::engine::{EngineConfig, GatewayKey};
use crate::protocol::time::now_ms;

use super::call::split_target;
use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

#[derive(Debug, Clone, Args)]
pub struct TimeArgs {
    /// PK/DEV
    pub target: String,
    /// Set the gateway's clock to ours (`time/set`), then measure.
    #[arg(long)]
    pub set: bool,
    /// Exchanges to take the median of (1..=100).
    #[arg(long, default_value_t = DEFAULT_SAMPLES)]
    pub samples: usize,
    #[command(flatten)]
    pub link: LinkArgs,
    /// Seconds to wait for the link and for each reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// The printed line of a measurement.
pub fn measurement_line(m: &ClockMeasurement) -> Value {
    json!({
        "offsetMs": (m.offset_ms * 10.0).round() / 10.0,
        "roundTripMs": (m.round_trip_ms * 10.0).round() / 10.0,
        "samples": m.samples.len(),
    })
}

fn exit_for(error: &ClockError) -> ExitCode {
    match error {
        ClockError::Refused { .. } => ExitCode::FAILURE,
        _ => ExitCode::from(EXIT_LINK),
    }
}

pub fn run(args: &TimeArgs) -> ExitCode {
    let parsed = (|| {
        let (pk, dev) = split_target(&args.target, "target")?;
        if !(1..=MAX_SAMPLES).contains(&args.samples) {
            return Err(format!("--samples {}: expected 1 to {MAX_SAMPLES}", args.samples));
        }
        Ok((GatewayKey { pk, dev }, seconds_arg("--timeout", args.timeout)?))
    })();
    let (key, timeout) = match parsed {
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
    // Asking one gateway: no acknowledging for others, no discovery traffic.
    let config = EngineConfig { master_duties: false, discover: false, ..EngineConfig::default() };
    let mut cli = match CliSession::open(&rt, &args.link, "time", config, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(timeout).await {
            return code;
        }
        let result = async {
            let mut before_set = None;
            if args.set {
                let sent = now_ms();
                let before = clock::set_to_our_time(&cli.handle, cli.session, &key, timeout).await?;
                // The gateway's `before` against the moment we sent ours: its offset then.
                before_set = Some(before - sent);
            }
            let m = clock::measure(&cli.handle, cli.session, &key, args.samples, timeout).await?;
            Ok::<_, ClockError>((m, before_set))
        }
        .await;
        cli.handle.shutdown();
        match result {
            Ok((m, before_set)) => {
                let mut line = measurement_line(&m);
                if let (Some(before), Some(obj)) = (before_set, line.as_object_mut()) {
                    obj.insert("beforeSetOffsetMs".into(), json!(before));
                }
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {key}: {e}");
                exit_for(&e)
            }
        }
    })
}
