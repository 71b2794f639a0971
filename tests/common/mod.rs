//! Helpers shared by the integration tests: an engine, a broker, and waiting for events.
#![allow(dead_code)]

use std::time::Duration;

use cems_workbench::engine::{Engine, EngineConfig, EngineEvent, EngineEvents, EngineHandle};
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};

pub async fn broker() -> EmbeddedBroker {
    EmbeddedBroker::start(BrokerConfig::ephemeral()).await.expect("embedded broker starts")
}

pub fn engine() -> (EngineHandle, EngineEvents) {
    Engine::spawn_with(EngineConfig::default(), || {}).expect("engine on the test runtime")
}

/// Collects events until `pick` returns Some, or fails the test after `timeout`.
pub async fn wait_for<T>(events: &mut EngineEvents, timeout: Duration, what: &str, mut pick: impl FnMut(&EngineEvent) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, events.next_batch()).await {
            Ok(Some(batch)) => {
                for event in &batch {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
            }
            Ok(None) => panic!("engine stopped while waiting for {what}"),
            Err(_) => panic!("timed out after {timeout:?} waiting for {what}"),
        }
    }
}

/// Polls `check` every 20 ms until it holds, or fails the test after `timeout`.
pub async fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Debian's mosquitto when installed: started on a free port with a temp config.
pub struct Mosquitto {
    pub child: std::process::Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    pub fn start() -> Option<Mosquitto> {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].into_iter().find(|p| std::path::Path::new(p).exists())?;
        Self::start_on(bin, free_port())
    }

    pub fn start_on(bin: &str, port: u16) -> Option<Mosquitto> {
        let dir = tempfile::tempdir().ok()?;
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")).ok()?;
        let child = std::process::Command::new(bin)
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Mosquitto { child, port, _dir: dir });
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        None
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Waits until an engine session's subscriptions are in force at the broker: Up arrives with the
/// ConnAck, before the SUBSCRIBE is taken. A probe under the master filter that is not a CEMS
/// topic (too short) comes back into the store without adding a gateway.
pub async fn engine_ready(engine: &EngineHandle, session: cems_workbench::engine::SessionId) {
    let probe = "cems/v1/_/_/up";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        engine.publish(session, cems_workbench::transport::Message::new(probe, "probe", 1, false)).expect("engine running");
        let seen = tokio::time::timeout(Duration::from_millis(300), async {
            loop {
                if engine.state.store().find(probe).is_some() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        if seen.is_ok() {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "engine subscription never took effect");
    }
}

/// A test that needs a tool this machine lacks (`what` says which, e.g. "mosquitto not found").
/// Outside CI it prints `skipped: {what}` and the caller returns; when `CI` is set (any non-empty
/// value) a skip would pass for a success, so the test fails instead: `.ci/run` installs the tools.
#[track_caller]
pub fn skip_or_fail(what: &str) {
    match std::env::var_os("CI") {
        Some(ci) if !ci.is_empty() => panic!("{what}, and CI is set: .ci/run installs it"),
        _ => println!("skipped: {what}"),
    }
}
