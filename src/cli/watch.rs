//! `watch`: every message on a link, one JSON object per line.

use std::io::Write;
use std::process::ExitCode;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::engine::{EngineConfig, EngineEvent};
use crate::transport::{LinkState, Message};

use crate::config::link_args::LinkArgs;
use super::session::{CliSession, runtime};

/// The JSON line printed for one message: payload parsed as JSON, else as text.
pub fn message_line(message: &Message, received_ms: i64) -> Value {
    json!({
        "topic": message.topic,
        "qos": message.qos,
        "retain": message.retain,
        "ts": received_ms,
        "payload": payload_value(&message.payload),
    })
}

fn payload_value(payload: &Bytes) -> Value {
    serde_json::from_slice::<Value>(payload).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

pub fn run(link: &LinkArgs, filter: Option<String>, count: Option<u64>) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A watcher is passive: it neither acknowledges on the gateways' behalf nor asks them anything.
    let config = EngineConfig { master_duties: false, forward_messages: true, discover: false, ..EngineConfig::default() };
    let filter = filter.unwrap_or_else(|| "#".to_owned());
    let mut cli = match CliSession::open(&rt, link, "watch", config, Some(vec![filter])) {
        Ok(s) => s,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let mut printed = 0u64;
        let stdout = std::io::stdout();
        // One Ctrl-C future for the whole run, so a press during a long batch is not lost.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let batch = tokio::select! {
                b = cli.events.next_batch() => b,
                _ = &mut ctrl_c => None,
            };
            let Some(batch) = batch else { break };
            let mut out = stdout.lock();
            for event in batch {
                match event {
                    EngineEvent::Message { message, received_ms, .. } => {
                        if writeln!(out, "{}", message_line(&message, received_ms)).is_err() {
                            // stdout closed (a pipe to `head`): nothing more to do.
                            return ExitCode::SUCCESS;
                        }
                        printed += 1;
                        if count.is_some_and(|n| printed >= n) {
                            let _ = out.flush();
                            cli.handle.shutdown();
                            return ExitCode::SUCCESS;
                        }
                    }
                    EngineEvent::SessionState { state: LinkState::Down { reason }, .. } => eprintln!("{}: down: {reason}", cli.label),
                    EngineEvent::SessionState { state: LinkState::Up, .. } => eprintln!("{}: up", cli.label),
                    EngineEvent::FramesDropped { total, .. } => eprintln!("{}: {total} bad frames dropped so far", cli.label),
                    _ => {}
                }
            }
            let _ = out.flush();
        }
        cli.handle.shutdown();
        ExitCode::SUCCESS
    })
}
