//! `replay FILE.mcap`: a recording played as a read-only session of an engine, one JSON line per
//! message as `watch` prints it (`ts` the recorded receive time), then a summary line
//! `{"file","messages","first","last","damage"}`. With `--to-broker URL` every message is
//! published to that broker instead, with its recorded timing scaled by `--speed` (QoS and
//! retain as the recording's channels say: QoS 0, not retained, for the workbench's own
//! recordings, which do not store them); progress on stderr, the summary on stdout.
//! Exit 0 played to the end, 1 unreadable or damaged (after playing what is readable), 2 usage,
//! 3 the broker cannot be reached.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::models::ModelArgs;
use crate::engine::store::StoreLimits;
use crate::engine::{Engine, EngineCommand, EngineConfig, EngineEvent, SessionOptions};
use crate::protocol::model::Lang;
use crate::transport::mqtt::{MqttConfig, parse_broker_url};
use crate::transport::replay::{ReplayConfig, ReplayControl, ReplayProgress, ReplaySpeed};
use crate::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, spawn_link};

use super::session::{EXIT_LINK, EXIT_USAGE, MAX_WAIT, models_for_command, runtime, seconds_arg};
use super::watch::Describer;

/// Messages played but not yet printed past which the replay is paused (the engine drops
/// forwarded messages a slow reader leaves behind; this keeps the reader in step instead).
const PAUSE_BEHIND: u64 = 512;
const RESUME_BEHIND: u64 = 64;
/// How often `--to-broker` says where it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The MCAP recording to play.
    #[arg(value_name = "FILE.mcap")]
    pub file: PathBuf,
    /// A factor of the recorded pace (1 as recorded, 10 ten times faster, 0.5) or max.
    #[arg(long, default_value = "1", value_parser = ReplaySpeed::parse)]
    pub speed: ReplaySpeed,
    /// Publish every message to this broker (mqtt://host[:port]) with its recorded timing,
    /// instead of printing it.
    #[arg(long = "to-broker", value_name = "URL")]
    pub to_broker: Option<String>,
    #[command(flatten)]
    pub models: ModelArgs,
    /// Seconds to wait for the broker of --to-broker.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// First and last recorded times of what was played, and how many.
#[derive(Default)]
struct Played {
    messages: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Played {
    fn add(&mut self, received_ms: i64) {
        self.messages += 1;
        self.first = Some(self.first.map_or(received_ms, |f| f.min(received_ms)));
        self.last = Some(self.last.map_or(received_ms, |l| l.max(received_ms)));
    }

    fn summary(&self, file: &std::path::Path, damage: Option<&str>) -> Value {
        json!({"file": file, "messages": self.messages, "first": self.first, "last": self.last, "damage": damage})
    }
}

pub fn run(args: &ReplayArgs) -> ExitCode {
    match &args.to_broker {
        Some(url) => republish(args, url),
        None => print(args),
    }
}

/// How a replay ended.
enum Ending {
    /// Played to the end, or to the damage.
    Finished { damage: Option<String> },
    /// Ctrl-C, or stdout closed: the summary says so.
    Stopped(&'static str),
    /// Never played (not MCAP, missing), or the broker link went away: nothing to summarise.
    Failed { reason: String, code: u8 },
}

impl Ending {
    /// What the replay link's `Down` means: the end when the file opened, else a refusal.
    fn from_down(progress: &ReplayProgress, reason: String) -> Ending {
        let snapshot = progress.snapshot();
        if snapshot.opened { Ending::Finished { damage: snapshot.damage } } else { Ending::Failed { reason, code: 1 } }
    }
}

fn exit_for(played: &Played, args: &ReplayArgs, ending: Ending) -> ExitCode {
    match ending {
        Ending::Finished { damage } => {
            if let Some(d) = &damage {
                eprintln!("error: {d}");
            }
            println!("{}", played.summary(&args.file, damage.as_deref()));
            if damage.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Ending::Stopped(why) => {
            let mut summary = played.summary(&args.file, None);
            if let Some(obj) = summary.as_object_mut() {
                obj.insert("stopped".into(), why.into());
            }
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Ending::Failed { reason, code } => {
            eprintln!("error: {reason}");
            ExitCode::from(code)
        }
    }
}

fn print(args: &ReplayArgs) -> ExitCode {
    let loaded = models_for_command(&args.models);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let _guard = rt.enter();
    // A replay is passive and publishes nothing; the printed lines need no big store behind them.
    let store_limits = StoreLimits { total_bytes: 32 * 1024 * 1024, ..StoreLimits::default() };
    let config = EngineConfig { master_duties: false, forward_messages: true, discover: false, store_limits, ..EngineConfig::default() };
    let (handle, mut events) = match Engine::spawn_with(config, || {}) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_LINK);
        }
    };
    let replay = ReplayConfig::new(&args.file).with_speed(args.speed);
    let progress = replay.progress.clone();
    let options = SessionOptions { subscriptions: Vec::new(), label: replay.label(), read_only: true };
    let Ok(session) = handle.connect(LinkConfig::Replay(replay), options) else {
        eprintln!("error: the engine stopped");
        return ExitCode::from(EXIT_LINK);
    };
    let mut describer = Describer::new(loaded.set, (*handle.profile).clone(), Lang::En);
    let mut played = Played::default();
    let ending = rt.block_on(async {
        let stdout = std::io::stdout();
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut held = false;
        loop {
            let batch = tokio::select! {
                b = events.next_batch() => b,
                _ = &mut ctrl_c => return Ending::Stopped("Ctrl-C"),
            };
            let Some(batch) = batch else { return Ending::Failed { reason: "the engine stopped".into(), code: EXIT_LINK } };
            let mut out = stdout.lock();
            for event in batch {
                match event {
                    EngineEvent::Message { message, received_ms, .. } => {
                        let line = describer.line(&message, received_ms);
                        if writeln!(out, "{line}").is_err() {
                            // stdout closed (a pipe to `head`): nothing more to do.
                            return Ending::Stopped("stdout closed");
                        }
                        played.add(received_ms);
                    }
                    // A replay is Down only at its end, or when its file did not open.
                    EngineEvent::SessionState { state: LinkState::Down { reason }, .. } => return Ending::from_down(&progress, reason),
                    EngineEvent::SessionState { state: LinkState::Closed, .. } => {
                        return Ending::Failed { reason: "the replay ended early".into(), code: 1 };
                    }
                    EngineEvent::Notice { text, .. } => eprintln!("replay: {text}"),
                    _ => {}
                }
            }
            let _ = out.flush();
            let behind = progress.snapshot().messages.saturating_sub(played.messages);
            let want_held = if held { behind > RESUME_BEHIND } else { behind > PAUSE_BEHIND };
            if want_held != held {
                held = want_held;
                let control = if held { ReplayControl::Pause } else { ReplayControl::Resume };
                let _ = handle.send(EngineCommand::ReplayControl { session, control });
            }
        }
    });
    handle.shutdown();
    exit_for(&played, args, ending)
}

fn republish(args: &ReplayArgs, url: &str) -> ExitCode {
    if let Err(e) = parse_broker_url(url) {
        eprintln!("error: --to-broker {url}: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let timeout = match seconds_arg("--timeout", args.timeout) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let _guard = rt.enter();
    let mqtt = MqttConfig::new(url, format!("cems-replay-{}", std::process::id()));
    let (broker, mut broker_events) = spawn_link(LinkConfig::Mqtt(mqtt));
    rt.block_on(async move {
        if let Err(reason) = wait_up(&mut broker_events, timeout).await {
            eprintln!("error: {url}: not connected within {:.1} s: {reason}", timeout.as_secs_f64());
            broker.close();
            return ExitCode::from(EXIT_LINK);
        }
        let replay = ReplayConfig::new(&args.file).with_speed(args.speed);
        let progress = replay.progress.clone();
        let (player, mut replay_events) = spawn_link(LinkConfig::Replay(replay));
        let mut played = Played::default();
        let ending = forward(&mut replay_events, &mut broker_events, &broker, &progress, &mut played).await;
        player.close();
        // Close waits for the queued publishes to go out.
        broker.close();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(event) = broker_events.recv().await {
                if event == LinkEvent::State(LinkState::Closed) {
                    break;
                }
            }
        })
        .await;
        let dropped = broker.dropped_publishes().essential;
        if dropped > 0 {
            eprintln!("warning: {dropped} messages could not be sent to {url}");
        }
        exit_for(&played, args, ending)
    })
}

/// Publishes what the replay plays until it ends; says where it is once a second.
async fn forward(
    replay: &mut tokio::sync::mpsc::Receiver<LinkEvent>,
    broker_events: &mut tokio::sync::mpsc::Receiver<LinkEvent>,
    broker: &LinkHandle,
    progress: &ReplayProgress,
    played: &mut Played,
) -> Ending {
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            event = replay.recv() => match event {
                Some(LinkEvent::Recorded { message, received_ms }) => {
                    if broker.publish(message).is_err() {
                        return Ending::Failed { reason: format!("{}: the broker link ended", broker.label), code: EXIT_LINK };
                    }
                    played.add(received_ms);
                }
                Some(LinkEvent::State(LinkState::Down { reason })) => return Ending::from_down(progress, reason),
                Some(LinkEvent::State(LinkState::Closed)) | None => return Ending::Failed { reason: "the replay ended early".into(), code: 1 },
                Some(_) => {}
            },
            event = broker_events.recv() => match event {
                Some(LinkEvent::State(LinkState::Down { reason })) => eprintln!("{}: down: {reason} (publishes are queued)", broker.label),
                Some(LinkEvent::State(LinkState::Up)) => eprintln!("{}: up", broker.label),
                Some(LinkEvent::PublishDropped { topic, reason }) => eprintln!("{}: not sent: {topic}: {reason}", broker.label),
                Some(_) => {}
                None => return Ending::Failed { reason: format!("{}: the broker link ended", broker.label), code: EXIT_LINK },
            },
            _ = tick.tick() => {
                let at = progress.snapshot().position_ms.map_or_else(|| "-".to_owned(), crate::engine::series::csv::iso_utc_ms);
                eprintln!("{} messages republished, at {at}", played.messages);
            }
            _ = &mut ctrl_c => return Ending::Stopped("Ctrl-C"),
        }
    }
}

/// Waits for the link to come up; the last reason it gave when it does not within `timeout`.
async fn wait_up(events: &mut tokio::sync::mpsc::Receiver<LinkEvent>, timeout: Duration) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
    let mut reason = String::from("no answer");
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => return Ok(()),
            Ok(Some(LinkEvent::State(LinkState::Down { reason: why }))) => reason = why,
            Ok(Some(LinkEvent::State(LinkState::Closed)) | None) => return Err(reason),
            Ok(Some(_)) => {}
            Err(_) => return Err(reason),
        }
    }
}
