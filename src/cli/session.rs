//! What the link-using commands share: a runtime, an engine, and one session brought up (or a
//! clear reason why not) within a deadline.

use std::process::ExitCode;
use std::time::Duration;

use crate::engine::{Engine, EngineConfig, EngineEvent, EngineEvents, EngineHandle, SessionId, SessionOptions};
use crate::transport::{LinkConfig, LinkState};

use crate::config::link_args::LinkArgs;
use crate::config::models::{LoadedModels, ModelArgs, load_for_command};

/// Exit codes of the CLI: 2 usage, 3 link or timeout.
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_LINK: u8 = 3;

/// The longest wait any command accepts.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A `--timeout`/`--wait` value in seconds as a Duration: positive, finite, at most a day.
pub fn seconds_arg(flag: &str, secs: f64) -> Result<Duration, String> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() && d <= MAX_WAIT => Ok(d),
        _ => Err(format!("{flag} {secs}: expected a number of seconds above 0 and at most {}", MAX_WAIT.as_secs())),
    }
}

/// A multi-threaded runtime for one command; an error becomes exit code 3.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(EXIT_LINK)
    })
}

/// An engine with one session on the link the arguments describe.
pub struct CliSession {
    pub handle: EngineHandle,
    pub events: EngineEvents,
    pub session: SessionId,
    pub label: String,
}

impl CliSession {
    /// Starts an engine and opens the link. Argument errors come back as exit code 2.
    /// The engine runs on `rt`; `command` names the default client id (`cems-<command>-<pid>`).
    pub fn open(
        rt: &tokio::runtime::Runtime,
        args: &LinkArgs,
        command: &str,
        config: EngineConfig,
        subscriptions: Option<Vec<String>>,
    ) -> Result<CliSession, ExitCode> {
        // The engine and its links are spawned on the runtime that is entered here.
        let _guard = rt.enter();
        let client_id = format!("cems-{command}-{}", std::process::id());
        let link = args.to_link_config(&client_id).map_err(|e| {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        })?;
        let label = match &link {
            LinkConfig::Mqtt(m) => m.url.clone(),
            LinkConfig::Serial(s) => s.path.clone(),
            LinkConfig::Replay(r) => r.label(),
        };
        let (handle, events) = Engine::spawn_with(config, || {}).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_LINK)
        })?;
        let mut options: SessionOptions = handle.default_session_options(label.clone());
        if let Some(subs) = subscriptions {
            options.subscriptions = subs;
        }
        let session = handle.connect(link, options).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_LINK)
        })?;
        Ok(CliSession { handle, events, session, label })
    }

    /// Waits until the link is up, or says why it is not after `timeout` (exit code 3).
    pub async fn wait_up(&mut self, timeout: Duration) -> Result<(), ExitCode> {
        let mut last_reason = String::from("no answer");
        let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
        loop {
            let batch = match tokio::time::timeout_at(deadline, self.events.next_batch()).await {
                Ok(Some(batch)) => batch,
                Ok(None) => {
                    eprintln!("error: {}: the engine stopped", self.label);
                    return Err(ExitCode::from(EXIT_LINK));
                }
                Err(_) => {
                    eprintln!("error: {}: not connected within {:.1} s: {last_reason}", self.label, timeout.as_secs_f64());
                    return Err(ExitCode::from(EXIT_LINK));
                }
            };
            for event in batch {
                if let EngineEvent::SessionState { session, state, .. } = event
                    && session == self.session
                {
                    match state {
                        LinkState::Up => return Ok(()),
                        LinkState::Down { reason } => last_reason = reason,
                        LinkState::Closed => {
                            eprintln!("error: {}: link closed: {last_reason}", self.label);
                            return Err(ExitCode::from(EXIT_LINK));
                        }
                        LinkState::Connecting { .. } => {}
                    }
                }
            }
        }
    }
}

/// The models for a command, each problem reading them said on stderr as a `warning:` line.
pub fn models_for_command(args: &ModelArgs) -> LoadedModels {
    let loaded = load_for_command(args);
    for line in loaded.problem_lines() {
        eprintln!("warning: {line}");
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_args_are_bounded() {
        assert_eq!(seconds_arg("--timeout", 1.5), Ok(Duration::from_millis(1500)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e20, 86_401.0] {
            assert!(seconds_arg("--timeout", bad).is_err(), "{bad}");
        }
    }
}
