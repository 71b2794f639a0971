//! TLS on the embedded broker: a certificate made on first use (rcgen), kept, and trusted by a
//! client given it as its CA; a client without it is refused by its own verification, and
//! Debian's mosquitto_sub reads through the same broker with `--cafile`.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::Duration;

use cems_workbench::config::broker_tls::ensure_self_signed;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker, tls_server_config};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(10);

async fn tls_broker(dir: &std::path::Path) -> (EmbeddedBroker, std::path::PathBuf) {
    let files = ensure_self_signed(dir, Ipv4Addr::LOCALHOST.into()).unwrap();
    let tls = tls_server_config(&files.cert, &files.key).unwrap();
    let config = BrokerConfig { listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), tls: Some(tls), ..BrokerConfig::default() };
    (EmbeddedBroker::start(config).await.unwrap(), files.cert)
}

/// The first state matching `wanted`, or every state seen when none did in time.
async fn wait_state(events: &mut Receiver<LinkEvent>, wanted: impl Fn(&LinkState) -> bool) -> Result<LinkState, Vec<LinkState>> {
    wait_state_within(events, WAIT, wanted).await
}

async fn wait_state_within(events: &mut Receiver<LinkEvent>, within: Duration, wanted: impl Fn(&LinkState) -> bool) -> Result<LinkState, Vec<LinkState>> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while let Ok(Some(event)) = timeout(deadline.saturating_duration_since(Instant::now()), events.recv()).await {
        if let LinkEvent::State(state) = event {
            if wanted(&state) {
                return Ok(state);
            }
            seen.push(state);
        }
    }
    Err(seen)
}

async fn wait_message(events: &mut Receiver<LinkEvent>, topic: &str) -> Option<Message> {
    let deadline = Instant::now() + WAIT;
    while let Ok(Some(event)) = timeout(deadline.saturating_duration_since(Instant::now()), events.recv()).await {
        if let LinkEvent::Message(m) = event
            && m.topic == topic
        {
            return Some(m);
        }
    }
    None
}

fn link(url: String, client_id: &str, ca: Option<&std::path::Path>, subscriptions: &[&str]) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, client_id);
    config.ca_file = ca.map(|p| p.to_path_buf());
    config.subscriptions = subscriptions.iter().map(|s| s.to_string()).collect();
    spawn_link(LinkConfig::Mqtt(config))
}

#[tokio::test]
async fn a_client_trusting_the_made_certificate_talks_through_it_and_one_without_it_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (broker, cert) = tls_broker(dir.path()).await;
    assert!(broker.url().starts_with("mqtts://127.0.0.1:"), "{}", broker.url());

    let (handle, mut events) = link(broker.url(), "wb-tls-ok", Some(&cert), &["tls/echo"]);
    wait_state(&mut events, |s| *s == LinkState::Up).await.expect("up with the broker's certificate as CA");
    // Until the subscription is in force, the echo may not come: publish until it does.
    let deadline = Instant::now() + WAIT;
    let mut echoed = false;
    while !echoed && Instant::now() < deadline {
        handle.publish(Message::new("tls/echo", "over tls", 1, false)).unwrap();
        echoed = timeout(Duration::from_millis(500), wait_message(&mut events, "tls/echo")).await.ok().flatten().is_some_and(|m| m.payload.as_ref() == b"over tls");
    }
    assert!(echoed, "a message made the round trip inside TLS");

    // The system roots do not hold a certificate made a moment ago.
    let (_stranger, mut stranger_events) = link(broker.url(), "wb-tls-stranger", None, &[]);
    let down = wait_state(&mut stranger_events, |s| matches!(s, LinkState::Down { .. })).await.expect("refused");
    let LinkState::Down { reason } = down else { unreachable!() };
    let reason = reason.to_lowercase();
    assert!(reason.contains("certificate") || reason.contains("tls") || reason.contains("root"), "{reason}");

    // Plain MQTT to the TLS port is not a way around it.
    let (_plain, mut plain_events) = link(broker.url().replace("mqtts://", "mqtt://"), "wb-tls-plain", None, &[]);
    let never_up = wait_state_within(&mut plain_events, Duration::from_secs(3), |s| *s == LinkState::Up).await;
    assert!(never_up.is_err(), "a plain client never gets in: {never_up:?}");
}

#[tokio::test]
async fn mosquitto_sub_reads_through_the_tls_broker_with_cafile() {
    let Some(sub) = ["/usr/bin/mosquitto_sub", "/usr/local/bin/mosquitto_sub"].into_iter().find(|p| std::path::Path::new(p).exists()) else {
        return common::skip_or_fail("mosquitto_sub not found");
    };
    let dir = tempfile::tempdir().unwrap();
    let (broker, cert) = tls_broker(dir.path()).await;
    let port = broker.local_addr().port().to_string();
    let child = Command::new(sub)
        .args(["-h", "localhost", "-p", &port, "--cafile"])
        .arg(&cert)
        .args(["-t", "tls/interop", "-C", "1", "-W", "10", "-i", "mosq-tls-interop"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (handle, mut events) = link(broker.url(), "wb-tls-pub", Some(&cert), &[]);
    wait_state(&mut events, |s| *s == LinkState::Up).await.expect("publisher up");
    let waiter = tokio::task::spawn_blocking(move || child.wait_with_output());
    // mosquitto_sub needs a moment to subscribe; retained, so it gets it either way.
    handle.publish(Message::new("tls/interop", "hello mosquitto", 1, true)).unwrap();
    let output = timeout(Duration::from_secs(15), waiter).await.expect("mosquitto_sub ends").unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "mosquitto_sub failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(stdout.trim(), "hello mosquitto");
}

/// `broker --tls`: the certificate is made in the config folder on the first run and kept on
/// the second, and its path is printed for clients' `--ca`; a client given it gets in.
#[tokio::test]
async fn the_broker_command_makes_its_certificate_once_and_prints_it() {
    use std::io::{BufRead, BufReader, Read};
    let home = tempfile::tempdir().unwrap();
    let run = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cems-workbench"))
            .args(["broker", "--tls", "--listen", "127.0.0.1:0"])
            // Where `directories` puts the config folder on Linux (and macOS reads HOME too).
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        (child, line)
    };
    let (mut child, line) = run();
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
    let cert = walk_for(home.path(), "broker-cert.pem").expect("the certificate is in the config folder");
    let (handle, mut events) = link(format!("mqtts://{addr}"), "wb-tls-cli", Some(&cert), &[]);
    wait_state(&mut events, |s| *s == LinkState::Up).await.expect("a client trusting the printed certificate gets in");
    drop(handle);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains(&format!("TLS certificate (made, self-signed for 127.0.0.1, ::1, localhost): {}", cert.display())), "{stderr}");

    let before = std::fs::read(&cert).unwrap();
    let (mut child, _) = run();
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("TLS certificate (kept"), "{stderr}");
    assert_eq!(std::fs::read(&cert).unwrap(), before, "the second run keeps the certificate clients trust");
}

fn walk_for(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = walk_for(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
