//! `cems-workbench sim --ess`: a simulated energy-storage station (contract §11) until Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::{SimArgs, usage};
use crate::cli::session::{EXIT_LINK, runtime};
use crate::sim::LinkStatus;
use crate::sim::ess::{self, StationConfig, StationFault};
use crate::transport::{LinkConfig, LinkState};

/// The energy-storage station's options (`--ess`). Optional without defaults so that `run`
/// can tell one given without `--ess` (clap counts a flag's default `false` as present for
/// `requires`).
#[derive(Debug, Clone, Args)]
pub struct EssArgs {
    /// Serve an energy-storage station (two PCS units, a BMS with two racks) instead of a
    /// gateway: `rt` every interval, `param` on change, answers to `cmd`.
    #[arg(id = "ess", long = "ess", conflicts_with_all = ["model", "dev", "secret", "outage_at", "outage_for", "files_dir", "period_ms", "clock_skew_ms"])]
    pub enabled: bool,
    /// The station's application segment [default: ess].
    #[arg(long = "app", value_name = "A")]
    pub application: Option<String>,
    /// The station's group id [default: station-1].
    #[arg(long, value_name = "G")]
    pub group: Option<String>,
    /// An energy-storage profile file (versions and message types) instead of the built-in ess-v1.
    #[arg(long, value_name = "FILE")]
    pub ess_profile: Option<PathBuf>,
    /// Period of the `rt` reports, ms [default: 1000].
    #[arg(long, value_name = "MS")]
    pub interval_ms: Option<u64>,
    /// Misbehave for testing a master (may be repeated).
    #[arg(long = "ess-fault", value_name = "FAULT", value_enum)]
    pub faults: Vec<EssFault>,
    /// How late `--ess-fault slow-answer` answers, ms [default: 5000].
    #[arg(long, value_name = "MS")]
    pub slow_answer_ms: Option<u64>,
}

impl EssArgs {
    /// The first station option given, for the error when `--ess` is not.
    pub(super) fn first_given(&self) -> Option<&'static str> {
        [
            (self.application.is_some(), "--app"),
            (self.group.is_some(), "--group"),
            (self.ess_profile.is_some(), "--ess-profile"),
            (self.interval_ms.is_some(), "--interval-ms"),
            (!self.faults.is_empty(), "--ess-fault"),
            (self.slow_answer_ms.is_some(), "--slow-answer-ms"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

/// `--ess-fault` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EssFault {
    /// Every answer is sent twice.
    AnswerTwice,
    /// Commands are carried out, never answered.
    NoAnswer,
    /// Answers come --slow-answer-ms late.
    SlowAnswer,
}

/// `sim --ess`: the station's config from the options, then [`serve_station`].
pub(super) fn run_station(args: &SimArgs) -> ExitCode {
    let options = &args.ess;
    let profile = match crate::config::storage::read_storage_profile(options.ess_profile.as_deref()) {
        Ok(profile) => profile,
        Err(e) => return usage(format!("--ess-profile: {e:#}")),
    };
    let interval_ms = options.interval_ms.unwrap_or(1000);
    if interval_ms == 0 {
        return usage("--interval-ms must be positive");
    }
    let application = options.application.clone().unwrap_or_else(|| "ess".to_owned());
    let group = options.group.clone().unwrap_or_else(|| "station-1".to_owned());
    let slow_answer_ms = options.slow_answer_ms.unwrap_or(5000);
    let client_id = format!("ess-sim.{application}.{group}");
    let link = match args.link.to_link_config(&client_id) {
        Ok(link) => link,
        Err(e) => return usage(format!("{e:#}")),
    };
    if let LinkConfig::Serial(serial) = &link
        && !Path::new(&serial.path).exists()
    {
        eprintln!("error: serial port {}: no such device", serial.path);
        return ExitCode::from(EXIT_LINK);
    }
    let faults = options
        .faults
        .iter()
        .map(|fault| match fault {
            EssFault::AnswerTwice => StationFault::AnswerTwice,
            EssFault::NoAnswer => StationFault::NoAnswer,
            EssFault::SlowAnswer => StationFault::SlowAnswer(slow_answer_ms),
        })
        .collect();
    let config = StationConfig {
        profile,
        application,
        group,
        interval_ms,
        seed: args.seed,
        faults,
        ..StationConfig::new(link)
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(serve_station(config))
}

/// Runs the station until Ctrl-C or until its link ends by itself: a JSON line at every
/// connect and one with the counters at the end.
async fn serve_station(config: StationConfig) -> ExitCode {
    let station = format!("{}/{}", config.application, config.group);
    let handle = match ess::spawn_station(config) {
        Ok(handle) => handle,
        Err(e) => return usage(e),
    };
    let mut status = handle.link_status();
    eprintln!("sim --ess {station}: units {}, {} (racks {}); connecting to {}", ess::PCS_UNITS.join(", "), ess::BMS_UNIT, ess::RACKS.join(", "), status.borrow().label);
    let stopped = |handle: &ess::StationHandle, why: &str| {
        let c = handle.counters();
        let line = serde_json::json!({
            "stopped": station, "why": why, "messagesSent": c.messages_sent(), "rtSent": c.realtime_sent, "paramSent": c.param_sent,
            "commandsDone": c.commands_done, "commandsRefused": c.commands_refused, "answersSent": c.answers_sent,
            "answersWithheld": c.answers_withheld, "malformedIgnored": c.malformed_ignored,
        });
        println!("{line}");
    };
    let mut announced = 0;
    let mut last_down = String::new();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                stopped(&handle, "ctrl-c");
                handle.stop().await;
                return ExitCode::SUCCESS;
            }
            changed = status.changed() => {
                let now: LinkStatus = status.borrow_and_update().clone();
                if changed.is_err() || now.ended {
                    let why = if last_down.is_empty() { "the link ended".to_owned() } else { last_down };
                    eprintln!("error: {}: {why}", now.label);
                    stopped(&handle, &why);
                    handle.stop().await;
                    return ExitCode::from(EXIT_LINK);
                }
                if now.connects > announced && now.state == LinkState::Up {
                    announced = now.connects;
                    last_down.clear();
                    let units: Vec<&str> = ess::PCS_UNITS.iter().copied().chain([ess::BMS_UNIT]).collect();
                    println!("{}", serde_json::json!({"online": station, "link": now.label, "connect": now.connects, "units": units, "racks": ess::RACKS}));
                }
                if let LinkState::Down { reason } = &now.state
                    && *reason != last_down
                {
                    eprintln!("{}: {reason}", now.label);
                    last_down.clone_from(reason);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        sim: SimArgs,
    }

    fn parse(args: &[&str]) -> Result<SimArgs, String> {
        Command::try_parse_from(std::iter::once("sim").chain(args.iter().copied())).map(|c| c.sim).map_err(|e| e.to_string())
    }

    #[test]
    fn ess_needs_no_model_and_takes_none() {
        let args = parse(&["--ess", "--group", "g2", "--ess-fault", "answer-twice", "--ess-fault", "slow-answer"]).unwrap();
        assert!(args.ess.enabled && args.model.is_none());
        assert_eq!(args.ess.faults, [EssFault::AnswerTwice, EssFault::SlowAnswer]);
        assert!(parse(&["--ess", "--model", "PK-GW-01"]).unwrap_err().contains("cannot be used with"));
        assert!(parse(&["--dev", "GW-1"]).unwrap_err().contains("--model"));
        // Without --ess a station option parses (clap cannot tell) and `run` refuses it.
        let args = parse(&["--model", "PK-GW-01", "--dev", "GW-1", "--interval-ms", "5"]).unwrap();
        assert_eq!(args.ess.first_given(), Some("--interval-ms"));
        assert_eq!(parse(&["--model", "PK-GW-01", "--dev", "GW-1"]).unwrap().ess.first_given(), None);
    }
}
