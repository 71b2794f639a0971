//! `ess`: energy-storage stations (contract §11). `ess call` sends one control command and
//! prints its answer (exit 0 done, 1 refused, 2 usage, 3 timeout or link); `ess watch` prints
//! every station message as a JSON line until Ctrl-C; `ess stations` prints the stations seen
//! within a wait.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::config::link_args::LinkArgs;
use crate::config::storage::read_storage_profile;
use crate::engine::stations::{CommandState, Station, StorageCommandOutcome, StorageCommandSpec};
use crate::engine::{EngineCommand, EngineConfig, EngineEvent};
use crate::protocol::storage::StorageProfile;
use crate::protocol::storage::decode::{Decoded, StorageMessage, decode_message};
use crate::protocol::storage::place::StoragePlace;
use crate::protocol::storage::profile::MessageRole;
use crate::protocol::time::now_ms;

use super::session::{CliSession, EXIT_LINK, EXIT_USAGE, runtime, seconds_arg};

#[derive(Debug, Clone, Subcommand)]
pub enum EssCommand {
    /// Send a control command to a station, unit or component and print its answer.
    Call(CallArgs),
    /// Print every energy-storage message as a JSON line until Ctrl-C.
    Watch(WatchArgs),
    /// Print the stations seen within a wait, one JSON object per line.
    Stations(StationsArgs),
}

/// Shared by every `ess` command.
#[derive(Debug, Clone, Args)]
pub struct EssProfileArgs {
    /// An energy-storage profile file (a copy of assets/profiles/ess-v1.json) for a station that
    /// deviates [default: the compiled-in ess-v1].
    #[arg(long, value_name = "FILE")]
    pub ess_profile: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// APP/GROUP[/UNIT[/COMP]], e.g. ess/station-1/pcs1
    pub place: String,
    /// The command's `d`, a JSON object, e.g. '{"cmd":"start"}' or '{"Pset":100}'.
    pub d: String,
    /// Seconds to wait for the link, and for the answer [default: the profile's, 10 s].
    #[arg(long)]
    pub timeout: Option<f64>,
    /// The version segment [default: the profile's first].
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub profile: EssProfileArgs,
    #[command(flatten)]
    pub link: LinkArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Only this group (station).
    #[arg(long)]
    pub group: Option<String>,
    #[command(flatten)]
    pub profile: EssProfileArgs,
    #[command(flatten)]
    pub link: LinkArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StationsArgs {
    /// Seconds to listen before printing.
    #[arg(long, default_value_t = 3.0)]
    pub wait: f64,
    #[command(flatten)]
    pub profile: EssProfileArgs,
    #[command(flatten)]
    pub link: LinkArgs,
}

pub fn run(command: &EssCommand) -> ExitCode {
    match command {
        EssCommand::Call(args) => call(args),
        EssCommand::Watch(args) => watch(args),
        EssCommand::Stations(args) => stations(args),
    }
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn profile_of(args: &EssProfileArgs) -> Result<StorageProfile, ExitCode> {
    read_storage_profile(args.ess_profile.as_deref()).map_err(|e| usage(format!("{e:#}")))
}

/// The engine of an `ess` command: no gateway duties, only the storage profile's topics.
fn engine_config(profile: StorageProfile, forward: bool) -> EngineConfig {
    EngineConfig { master_duties: false, discover: false, forward_messages: forward, storage_profile: profile, ..EngineConfig::default() }
}

fn call(args: &CallArgs) -> ExitCode {
    let profile = match profile_of(&args.profile) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let place = match StoragePlace::parse_path(&args.place) {
        Ok(place) => place,
        Err(e) => return usage(format!("PLACE {:?}: {e}; expected APP/GROUP[/UNIT[/COMP]]", args.place)),
    };
    let d: Map<String, Value> = match serde_json::from_str(&args.d) {
        Ok(Value::Object(d)) => d,
        Ok(_) => return usage("D: expected a JSON object such as '{\"cmd\":\"start\"}'"),
        Err(e) => return usage(format!("D: {e}")),
    };
    let timeout = match args.timeout.map(|t| seconds_arg("--timeout", t)).transpose() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    let link_wait = timeout.unwrap_or(std::time::Duration::from_secs(u64::from(profile.answer_timeout_s)));
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let subscriptions = Some(profile.filters());
    let mut cli = match CliSession::open(&rt, &args.link, "ess-call", engine_config(profile, false), subscriptions) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let version = args.version.clone();
    rt.block_on(async move {
        if let Err(code) = cli.wait_up(link_wait).await {
            return code;
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spec = StorageCommandSpec { session: cli.session, place, version, d, timeout };
        if cli.handle.send(EngineCommand::StorageCommand { spec, reply: Some(tx) }).is_err() {
            eprintln!("error: the engine stopped");
            return ExitCode::from(EXIT_LINK);
        }
        let outcome = rx.await;
        cli.handle.shutdown();
        match outcome {
            Ok(outcome) => print_outcome(&outcome),
            Err(_) => {
                eprintln!("error: the engine stopped before the command ended");
                ExitCode::from(EXIT_LINK)
            }
        }
    })
}

/// The JSON line of a finished command and its exit code.
fn print_outcome(outcome: &StorageCommandOutcome) -> ExitCode {
    let mut line = serde_json::to_value(outcome).unwrap_or(Value::Null);
    if let Some(object) = line.as_object_mut() {
        object.insert("verdict".into(), outcome.state.verdict().into());
        object.insert("place".into(), outcome.place.to_string().into());
    }
    println!("{line}");
    match &outcome.state {
        CommandState::Answered { result: 0, .. } => ExitCode::SUCCESS,
        CommandState::Answered { result, msg, .. } => {
            eprintln!("refused: {} answered {result}: {msg}", outcome.place);
            ExitCode::FAILURE
        }
        CommandState::TimedOut { after_ms } => {
            eprintln!("error: command {} to {}: no answer within {after_ms} ms", outcome.code, outcome.place);
            ExitCode::from(EXIT_LINK)
        }
        CommandState::NotSent { reason } => {
            eprintln!("error: command to {} not sent: {reason}", outcome.place);
            ExitCode::from(EXIT_LINK)
        }
        CommandState::Waiting => ExitCode::from(EXIT_LINK),
    }
}

/// The JSON line `ess watch` prints for a message, or `None` when it is not the profile's or
/// not of `group`.
pub fn watch_line(profile: &StorageProfile, topic: &str, payload: &[u8], received_ms: i64, group: Option<&str>) -> Option<Value> {
    match decode_message(profile, topic, payload) {
        Decoded::Foreign => None,
        Decoded::Problem { place, reason } => {
            if group.is_some() && place.as_ref().map(|p| p.group.as_str()) != group {
                return None;
            }
            Some(json!({ "receivedMs": received_ms, "topic": topic, "place": place.map(|p| p.to_string()), "problem": reason }))
        }
        Decoded::Message(m) => {
            if group.is_some_and(|g| g != m.placed.place.group) {
                return None;
            }
            Some(message_line(&m, topic, received_ms))
        }
    }
}

fn message_line(m: &StorageMessage, topic: &str, received_ms: i64) -> Value {
    let role = match m.role {
        MessageRole::Realtime => "rt",
        MessageRole::Parameter => "param",
        MessageRole::Command => "cmd",
        MessageRole::Other => "other",
    };
    let mut line = json!({
        "receivedMs": received_ms,
        "topic": topic,
        "place": m.placed.place.to_string(),
        "role": role,
        "t": m.payload.t,
    });
    let Some(object) = line.as_object_mut() else { return line };
    for (key, value) in [("code", m.payload.code.clone()), ("s", m.payload.s.clone().map(Value::from)), ("te", m.payload.te.clone().map(Value::from))] {
        if let Some(value) = value {
            object.insert(key.into(), value);
        }
    }
    if m.role == MessageRole::Realtime {
        let metrics: Map<String, Value> = m.points.iter().map(|p| (p.name.clone(), json!(p.value))).collect();
        object.insert("metrics".into(), Value::Object(metrics));
    } else {
        object.insert("d".into(), Value::Object(m.payload.d.clone()));
    }
    line
}

fn watch(args: &WatchArgs) -> ExitCode {
    let profile = match profile_of(&args.profile) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let subscriptions = Some(profile.filters());
    let mut cli = match CliSession::open(&rt, &args.link, "ess-watch", engine_config(profile.clone(), true), subscriptions) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let group = args.group.clone();
    rt.block_on(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let batch = tokio::select! {
                b = cli.events.next_batch() => b,
                _ = &mut ctrl_c => None,
            };
            let Some(batch) = batch else { break };
            for event in batch {
                match event {
                    EngineEvent::Message { received_ms, message, .. } => {
                        if let Some(line) = watch_line(&profile, &message.topic, &message.payload, received_ms, group.as_deref()) {
                            println!("{line}");
                        }
                    }
                    EngineEvent::SessionState { state, .. } => eprintln!("{}: {state:?}", cli.label),
                    _ => {}
                }
            }
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

/// The JSON line of one station: its nodes with their latest metrics and parameters.
pub fn station_line(station: &Station, now_ms: i64) -> Value {
    let nodes: Vec<Value> = station
        .nodes
        .values()
        .map(|node| {
            let metrics: Map<String, Value> = node.metrics.iter().map(|(name, m)| (name.clone(), json!(m.value))).collect();
            json!({
                "place": node.place.to_string(),
                "metrics": metrics,
                "param": node.param.as_ref().map(|p| Value::Object(p.d.clone())),
                "messages": node.messages,
                "lastMs": node.last_ms,
            })
        })
        .collect();
    json!({
        "place": station.place.to_string(),
        "version": station.version,
        "messages": station.messages,
        "rate": station.rate(now_ms),
        "lastMs": station.last_ms,
        "nodes": nodes,
        "commands": station.commands.len(),
        "problems": station.problem_count,
    })
}

fn stations(args: &StationsArgs) -> ExitCode {
    let profile = match profile_of(&args.profile) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let wait = match seconds_arg("--wait", args.wait) {
        Ok(w) => w,
        Err(e) => return usage(e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let subscriptions = Some(profile.filters());
    let mut cli = match CliSession::open(&rt, &args.link, "ess-stations", engine_config(profile, false), subscriptions) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let started = tokio::time::Instant::now();
        if let Err(code) = cli.wait_up(wait).await {
            return code;
        }
        tokio::time::sleep(wait.saturating_sub(started.elapsed())).await;
        let now = now_ms();
        for station in cli.handle.state.stations().iter() {
            println!("{}", station_line(station, now));
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_lines_carry_place_metrics_and_problems() {
        let profile = StorageProfile::builtin();
        let line = watch_line(&profile, "v1/rt/ess/st1", br#"{"t":7,"ns":"st1.bms1.rack1","s":"METRIC","d":{"SOC":50}}"#, 9, None).unwrap();
        assert_eq!(line["place"], "ess/st1/bms1/rack1");
        assert_eq!(line["metrics"]["SOC"], 50.0);
        assert_eq!(line["s"], "METRIC");
        let line = watch_line(&profile, "v1/cmd/ess/st1/pcs1", br#"{"t":7,"code":"c1","te":"resp","d":{"result":0}}"#, 9, None).unwrap();
        assert_eq!((line["role"].as_str(), line["d"]["result"].as_i64()), (Some("cmd"), Some(0)));
        let line = watch_line(&profile, "v1/rt/ess", b"{}", 9, None).unwrap();
        assert!(line["problem"].as_str().unwrap().starts_with("topic: 3 segments"));
        assert!(watch_line(&profile, "v1/rt/ess/st2/pcs1", br#"{"t":1,"d":{}}"#, 9, Some("st1")).is_none());
        assert!(watch_line(&profile, "cems/v1/PK/D/up/status", b"{}", 9, None).is_none());
    }
}
