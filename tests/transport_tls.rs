//! `mqtts://` links against Debian's mosquitto with a throw-away PKI made by the `openssl` CLI:
//! a CA file, the system roots, `insecure`, and a client certificate for mutual TLS.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use tokio::net::TcpStream;
use tokio::sync::mpsc::Receiver;
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(5);

type Events = Receiver<LinkEvent>;

async fn next_event(events: &mut Events, within: Duration) -> Option<LinkEvent> {
    timeout(within, events.recv()).await.ok().flatten()
}

/// Waits for a state matching `wanted`, skipping messages; panics with what was seen.
async fn wait_state(events: &mut Events, within: Duration, wanted: impl Fn(&LinkState) -> bool) -> LinkState {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_event(events, left).await {
            Some(LinkEvent::State(state)) if wanted(&state) => return state,
            Some(LinkEvent::State(state)) => seen.push(state),
            Some(_) => {}
            None => panic!("state not reached within {within:?}; states seen: {seen:?}"),
        }
    }
}

/// Waits for the next `Down` and returns its reason.
async fn wait_down(events: &mut Events, within: Duration) -> String {
    match wait_state(events, within, |s| matches!(s, LinkState::Down { .. })).await {
        LinkState::Down { reason } => reason,
        _ => unreachable!(),
    }
}

/// Waits for a message on `topic`, skipping everything else.
async fn wait_message(events: &mut Events, topic: &str, within: Duration) -> Option<Message> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_event(events, left).await? {
            LinkEvent::Message(message) if message.topic == topic => return Some(message),
            _ => {}
        }
    }
}

/// Starts a link and waits until it is up.
async fn up_link(config: MqttConfig) -> (LinkHandle, Events) {
    let (handle, mut events) = spawn_link(LinkConfig::Mqtt(config));
    wait_state(&mut events, WAIT, |s| *s == LinkState::Up).await;
    (handle, events)
}

/// Publishes to itself on `probe_topic` (covered by its filters) until the echo arrives: its
/// subscriptions are then in force at the broker.
async fn ready(handle: &LinkHandle, events: &mut Events, probe_topic: &str) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        handle.publish(Message::new(probe_topic, "probe", 1, false)).unwrap();
        if wait_message(events, probe_topic, Duration::from_millis(300)).await.is_some() {
            return;
        }
    }
    panic!("subscription covering {probe_topic} never took effect");
}

/// Closes a link and waits for it to say so.
async fn close(handle: &LinkHandle, events: &mut Events) {
    handle.close();
    wait_state(events, WAIT, |s| *s == LinkState::Closed).await;
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn find_binary(name: &str, fallbacks: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    on_path.chain(fallbacks.iter().map(PathBuf::from)).find(|p| p.is_file())
}

/// A CA, a server certificate for `localhost`/127.0.0.1 and a client certificate, all signed
/// by that CA, made with the `openssl` CLI in a temp dir.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn make(openssl: &Path) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki { dir };
        std::fs::write(
            pki.path("openssl.cnf"),
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n\
             [ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n\
             subjectKeyIdentifier = hash\n\
             [server]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost, IP:127.0.0.1\n\
             [client]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = clientAuth\n",
        )
        .unwrap();
        // Every name is relative to the temp dir and has no spaces: a command line splits on them.
        let run = |command_line: &str| {
            let args: Vec<&str> = command_line.split_whitespace().collect();
            let output = Command::new(openssl).args(&args).current_dir(pki.dir.path()).output().unwrap();
            assert!(
                output.status.success(),
                "openssl {command_line} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        for name in ["ca", "server", "client"] {
            run(&format!("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out {name}.key"));
        }
        run("req -x509 -new -config openssl.cnf -extensions ca -key ca.key -subj /CN=cems-test-CA -days 2 -out ca.pem");
        for (name, subject, serial) in [("server", "/CN=localhost", 2), ("client", "/CN=cems-test-client", 3)] {
            run(&format!("req -new -config openssl.cnf -key {name}.key -subj {subject} -out {name}.csr"));
            run(&format!(
                "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -set_serial {serial} -days 2 \
                 -extfile openssl.cnf -extensions {name} -out {name}.pem"
            ));
        }
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Debian's mosquitto with one TLS listener on a free port, killed when dropped.
struct Mosquitto {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    async fn start(binary: &Path, pki: &Pki, require_certificate: bool) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        let log = dir.path().join("mosquitto.log");
        // Started as root, mosquitto would switch to user `mosquitto` and fail to read the keys
        // in our private temp dir; `user root` keeps it as it is (ignored when not root).
        std::fs::write(
            &conf,
            format!(
                "user root\npersistence false\nlistener {port} 127.0.0.1\nallow_anonymous true\n\
                 cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate {require_certificate}\n",
                pki.path("ca.pem").display(),
                pki.path("server.pem").display(),
                pki.path("server.key").display(),
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut mosquitto = Mosquitto { child, port, _dir: dir };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            let exited = mosquitto.child.try_wait().unwrap().is_some();
            if exited || Instant::now() >= deadline {
                panic!("mosquitto did not listen on {port}: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        mosquitto
    }

    fn url(&self) -> String {
        format!("mqtts://localhost:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The PKI and the mosquitto binary, or `None` (with the reason printed) when a tool is missing.
fn setup() -> Option<(Pki, PathBuf)> {
    let Some(mosquitto) = find_binary("mosquitto", &["/usr/sbin/mosquitto"]) else {
        common::skip_or_fail("mosquitto not found");
        return None;
    };
    let Some(openssl) = find_binary("openssl", &["/usr/bin/openssl"]) else {
        common::skip_or_fail("openssl not found");
        return None;
    };
    Some((Pki::make(&openssl), mosquitto))
}

fn tls_config(url: &str, client_id: &str, subscriptions: &[&str]) -> MqttConfig {
    let mut config = MqttConfig::new(url, client_id);
    config.subscriptions = subscriptions.iter().map(|s| s.to_string()).collect();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ca_file_gives_a_verified_session_and_a_round_trip() {
    let Some((pki, binary)) = setup() else { return };
    let broker = Mosquitto::start(&binary, &pki, false).await;

    let mut sub = tls_config(&broker.url(), "tls-sub", &["cems/v1/+/+/up/#"]);
    sub.ca_file = Some(pki.path("ca.pem"));
    let (subscriber, mut sub_events) = up_link(sub).await;
    ready(&subscriber, &mut sub_events, "cems/v1/probe/probe/up/x").await;

    let mut publisher = tls_config(&broker.url(), "PK01.GW-0001", &[]);
    publisher.ca_file = Some(pki.path("ca.pem"));
    let (publisher, mut pub_events) = up_link(publisher).await;
    let status = Message::new("cems/v1/PK01/GW-0001/up/status", r#"{"online":true}"#, 1, false);
    publisher.publish(status.clone()).unwrap();
    let got = wait_message(&mut sub_events, &status.topic, WAIT).await.expect("not delivered through TLS");
    assert_eq!((got.payload, got.qos), (status.payload, 1));

    close(&publisher, &mut pub_events).await;
    close(&subscriber, &mut sub_events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_roots_reject_the_unknown_ca_and_the_link_keeps_trying() {
    let Some((pki, binary)) = setup() else { return };
    let broker = Mosquitto::start(&binary, &pki, false).await;

    let (link, mut events) = spawn_link(LinkConfig::Mqtt(tls_config(&broker.url(), "no-ca", &[])));
    let reason = wait_down(&mut events, WAIT).await;
    if reason.contains("no system root certificates") {
        common::skip_or_fail("this machine has no system root certificates");
        return;
    }
    assert!(reason.starts_with(&format!("TLS: handshake with localhost:{} failed", broker.port)), "{reason}");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // Not a configuration error: it tries again, and fails the same way.
    wait_state(&mut events, WAIT, |s| *s == LinkState::Connecting { attempt: 2 }).await;
    let again = wait_down(&mut events, WAIT).await;
    assert!(again.starts_with("TLS: "), "{again}");
    close(&link, &mut events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_the_unknown_ca() {
    let Some((pki, binary)) = setup() else { return };
    let broker = Mosquitto::start(&binary, &pki, false).await;

    let mut config = tls_config(&broker.url(), "insecure", &["lab/#"]);
    config.insecure = true;
    let (link, mut events) = up_link(config).await;
    ready(&link, &mut events, "lab/probe").await;
    close(&link, &mut events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_needs_the_client_certificate() {
    let Some((pki, binary)) = setup() else { return };
    let broker = Mosquitto::start(&binary, &pki, true).await;

    let mut config = tls_config(&broker.url(), "with-cert", &["lab/#"]);
    config.ca_file = Some(pki.path("ca.pem"));
    config.client_cert = Some(pki.path("client.pem"));
    config.client_key = Some(pki.path("client.key"));
    let (link, mut events) = up_link(config).await;
    ready(&link, &mut events, "lab/probe").await;
    close(&link, &mut events).await;

    let mut config = tls_config(&broker.url(), "without-cert", &[]);
    config.ca_file = Some(pki.path("ca.pem"));
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let reason = wait_down(&mut events, WAIT).await;
    // With TLS 1.3 the client finishes its side of the handshake before the broker checks for a
    // certificate, so the broker's alert arrives while waiting for CONNACK: "cannot connect to
    // localhost:PORT: received fatal alert: CertificateRequired" (TLS 1.2 would fail in the
    // handshake, "TLS: handshake with … failed: received fatal alert: …").
    assert!(reason.contains(&format!("localhost:{}", broker.port)), "{reason}");
    assert!(reason.contains("received fatal alert"), "{reason}");
    wait_state(&mut events, WAIT, |s| *s == LinkState::Connecting { attempt: 2 }).await;
    close(&link, &mut events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_key_that_is_not_a_key_ends_the_link() {
    let Some((pki, _binary)) = setup() else { return };
    let not_a_key = pki.path("not-a-key.pem");
    std::fs::write(&not_a_key, "this is not a private key\n").unwrap();
    // The client certificate in place of its key: valid PEM, but no key in it.
    for key in [not_a_key, pki.path("client.pem")] {
        let mut config = tls_config(&format!("mqtts://localhost:{}", free_port()), "bad-key", &[]);
        config.ca_file = Some(pki.path("ca.pem"));
        config.client_cert = Some(pki.path("client.pem"));
        config.client_key = Some(key.clone());
        let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
        let reason = wait_down(&mut events, WAIT).await;
        assert!(reason.starts_with("TLS: "), "{reason}");
        assert!(reason.contains(&key.display().to_string()), "{reason}");
        assert_eq!(next_event(&mut events, WAIT).await, Some(LinkEvent::State(LinkState::Closed)));
        assert!(link.publish(Message::new("x", "y", 0, false)).is_err(), "a closed link takes no commands");
    }

    // A real key, but not the certificate's: refused up front, naming the certificate.
    let mut config = tls_config(&format!("mqtts://localhost:{}", free_port()), "wrong-key", &[]);
    config.ca_file = Some(pki.path("ca.pem"));
    config.client_cert = Some(pki.path("client.pem"));
    config.client_key = Some(pki.path("server.key"));
    let (_link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let reason = wait_down(&mut events, WAIT).await;
    let cert = pki.path("client.pem");
    assert!(reason.starts_with(&format!("TLS: client certificate {}", cert.display())), "{reason}");
    assert_eq!(next_event(&mut events, WAIT).await, Some(LinkEvent::State(LinkState::Closed)));
}
