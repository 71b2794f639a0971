//! MQTT links against the embedded broker (and Debian's mosquitto when installed).

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::{self, MqttConfig, parse_broker_url};
use cems_workbench::transport::{LinkCommand, LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::Receiver;
use tokio::task::{JoinHandle, JoinSet};
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

fn config(url: &str, client_id: &str, subscriptions: &[&str]) -> MqttConfig {
    let mut config = MqttConfig::new(url, client_id);
    config.subscriptions = subscriptions.iter().map(|s| s.to_string()).collect();
    config
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

async fn broker() -> EmbeddedBroker {
    EmbeddedBroker::start(BrokerConfig::ephemeral()).await.unwrap()
}

/// A port nobody listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_and_subscribe_round_trip() {
    let broker = broker().await;
    let url = broker.url();
    let (master, mut master_events) = up_link(config(&url, "master", &["cems/v1/+/+/up/#"])).await;
    let (gateway, mut gateway_events) = up_link(config(&url, "PK01.GW-0001", &["cems/v1/PK01/GW-0001/down/#"])).await;
    ready(&master, &mut master_events, "cems/v1/probe/probe/up/x").await;
    ready(&gateway, &mut gateway_events, "cems/v1/PK01/GW-0001/down/probe").await;

    let status = Message::new("cems/v1/PK01/GW-0001/up/status", r#"{"online":true}"#, 1, false);
    gateway.publish(status.clone()).unwrap();
    let got = wait_message(&mut master_events, &status.topic, WAIT).await.expect("status not delivered");
    assert_eq!((got.payload, got.qos, got.retain), (status.payload, 1, false));

    let request = Message::new("cems/v1/PK01/GW-0001/down/command/request", "{}", 0, false);
    master.publish(request.clone()).unwrap();
    let got = wait_message(&mut gateway_events, &request.topic, WAIT).await.expect("request not delivered");
    // rumqttd delivers at the subscription's QoS rather than min(publish, subscription).
    assert_eq!(got.payload, request.payload);

    // A filter added at run time works. (Unsubscribing is checked against mosquitto: rumqttd
    // 0.20 may keep delivering on a filter after UNSUBACK.)
    master.subscribe("lab/#").unwrap();
    ready(&master, &mut master_events, "lab/probe").await;
    gateway.publish(Message::new("lab/one", "1", 1, false)).unwrap();
    assert!(wait_message(&mut master_events, "lab/one", WAIT).await.is_some());

    master.close();
    wait_state(&mut master_events, WAIT, |s| *s == LinkState::Closed).await;
    assert!(master.publish(Message::new("x", "y", 0, false)).is_err(), "a closed link takes no commands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_message_reaches_a_late_subscriber() {
    let broker = broker().await;
    let url = broker.url();
    let (gateway, mut gateway_events) = up_link(config(&url, "PK01.GW-0002", &["cems/v1/PK01/GW-0002/up/#"])).await;
    let status = Message::new("cems/v1/PK01/GW-0002/up/status", r#"{"online":true}"#, 1, true);
    gateway.publish(status.clone()).unwrap();
    // Seeing its own publish come back means the broker has stored it.
    wait_message(&mut gateway_events, &status.topic, WAIT).await.expect("no echo");

    let (_late, mut late_events) = up_link(config(&url, "late", &["cems/v1/+/+/up/status"])).await;
    let got = wait_message(&mut late_events, &status.topic, WAIT).await.expect("retained status not delivered");
    assert!(got.retain, "a retained message to a new subscriber carries the retain flag");
    assert_eq!(got.payload, status.payload);
}

/// A TCP relay the test can cut, to make a client vanish without a DISCONNECT.
struct CuttableProxy {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl CuttableProxy {
    async fn start(target: SocketAddr) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut relays = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                relays.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        CuttableProxy { addr, task }
    }

    /// Drops the listener and every relayed connection at once.
    fn cut(&self) {
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_is_sent_when_a_client_vanishes_but_not_on_close() {
    let broker = broker().await;
    let status_topic = "cems/v1/PK01/GW-0003/up/status";
    let (watcher, mut watcher_events) = up_link(config(&broker.url(), "watcher", &["cems/v1/+/+/up/#"])).await;
    ready(&watcher, &mut watcher_events, "cems/v1/probe/probe/up/x").await;

    let will = Message::new(status_topic, r#"{"online":false,"reason":"lost"}"#, 1, true);
    let proxy = CuttableProxy::start(broker.local_addr()).await;
    let mut gateway = config(&format!("mqtt://{}", proxy.addr), "PK01.GW-0003", &[]);
    gateway.will = Some(will.clone());
    let (_gateway, mut gateway_events) = up_link(gateway).await;

    proxy.cut();
    let got = wait_message(&mut watcher_events, status_topic, WAIT).await.expect("will not delivered");
    assert_eq!(got.payload, will.payload);
    let reason = match wait_state(&mut gateway_events, WAIT, |s| matches!(s, LinkState::Down { .. })).await {
        LinkState::Down { reason } => reason,
        _ => unreachable!(),
    };
    assert!(reason.contains("lost") || reason.contains("closed"), "{reason}");

    // A clean close sends DISCONNECT: the broker discards the will.
    let mut polite = config(&broker.url(), "PK01.GW-0004", &[]);
    polite.will = Some(Message::new("cems/v1/PK01/GW-0004/up/status", "offline", 1, false));
    let (polite, mut polite_events) = up_link(polite).await;
    polite.close();
    wait_state(&mut polite_events, WAIT, |s| *s == LinkState::Closed).await;
    assert!(
        wait_message(&mut watcher_events, "cems/v1/PK01/GW-0004/up/status", Duration::from_millis(500)).await.is_none(),
        "the will was sent after a clean close"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_stop_and_restart_mid_session() {
    let broker = broker().await;
    let url = broker.url();
    let (subscriber, mut sub_events) = up_link(config(&url, "sub", &["site/#"])).await;
    ready(&subscriber, &mut sub_events, "site/probe").await;
    let mut gateway = config(&url, "PK01.GW-0005", &[]);
    let will = Message::new("site/gw5/status", "offline", 1, true);
    gateway.will = Some(will.clone());
    let (publisher, mut pub_events) = up_link(gateway).await;

    broker.stop().await;
    let down = wait_state(&mut sub_events, Duration::from_secs(2), |s| matches!(s, LinkState::Down { .. })).await;
    let LinkState::Down { reason } = down else { unreachable!() };
    assert!(reason.contains(&broker.local_addr().to_string()), "{reason}");
    wait_state(&mut pub_events, Duration::from_secs(2), |s| matches!(s, LinkState::Down { .. })).await;
    // While the broker is away, attempts are refused and counted.
    let LinkState::Connecting { attempt } =
        wait_state(&mut sub_events, Duration::from_secs(3), |s| matches!(s, LinkState::Connecting { .. })).await
    else {
        unreachable!()
    };
    assert!(attempt >= 2, "attempt {attempt}");
    let refused = wait_state(&mut sub_events, Duration::from_secs(3), |s| matches!(s, LinkState::Down { .. })).await;
    assert_eq!(refused, LinkState::Down { reason: format!("connection refused by {}", broker.local_addr()) });

    // Published while down: queued, sent after the reconnect (retained, so it cannot race the
    // subscriber's own re-subscription).
    publisher.publish(Message::new("site/queued", "while down", 1, true)).unwrap();

    broker.restart().await.unwrap();
    wait_state(&mut sub_events, Duration::from_secs(12), |s| *s == LinkState::Up).await;
    wait_state(&mut pub_events, Duration::from_secs(12), |s| *s == LinkState::Up).await;

    // The subscriber re-subscribed on its own: the will fired when the relay was cut (retained),
    // the queued publish went out, and a fresh publish arrives.
    let got = wait_message(&mut sub_events, "site/queued", WAIT).await.expect("queued publish lost");
    assert_eq!(got.payload, "while down");
    publisher.publish(Message::new("site/after", "hello again", 1, false)).unwrap();
    let got = wait_message(&mut sub_events, "site/after", WAIT).await.expect("not re-subscribed");
    assert_eq!(got.payload, "hello again");

    let (_late, mut late_events) = up_link(config(&url, "late", &["site/gw5/status"])).await;
    let got = wait_message(&mut late_events, &will.topic, WAIT).await.expect("retained will missing");
    assert_eq!((got.payload, got.retain), (will.payload, true));
}

#[tokio::test]
async fn dead_address_reports_down_quickly_and_keeps_trying() {
    let port = dead_port();
    let started = Instant::now();
    let (link, mut events) = mqtt::spawn(MqttConfig::new(format!("mqtt://127.0.0.1:{port}"), "nobody"));
    assert_eq!(link.label, format!("mqtt://127.0.0.1:{port}"));
    assert_eq!(next_event(&mut events, WAIT).await, Some(LinkEvent::State(LinkState::Connecting { attempt: 1 })));
    let down = wait_state(&mut events, Duration::from_secs(2), |s| matches!(s, LinkState::Down { .. })).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(down, LinkState::Down { reason: format!("connection refused by 127.0.0.1:{port}") });
    wait_state(&mut events, Duration::from_secs(2), |s| *s == LinkState::Connecting { attempt: 2 }).await;
    link.close();
    wait_state(&mut events, Duration::from_secs(1), |s| *s == LinkState::Closed).await;
}

#[tokio::test]
async fn unknown_host_is_a_dns_error() {
    let (_link, mut events) = mqtt::spawn(MqttConfig::new("mqtt://no-such-host.invalid:1883", "x"));
    let LinkState::Down { reason } =
        wait_state(&mut events, Duration::from_secs(8), |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.starts_with("DNS: cannot resolve no-such-host.invalid"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_broker_is_a_tls_error() {
    let broker = broker().await;
    let mut config = MqttConfig::new(format!("mqtts://{}", broker.local_addr()), "tls");
    config.insecure = true;
    let (_link, mut events) = mqtt::spawn(config);
    let LinkState::Down { reason } =
        wait_state(&mut events, Duration::from_secs(7), |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.starts_with("TLS: "), "{reason}");

    // A missing CA file can never work: the link says why and ends.
    let mut config = MqttConfig::new("mqtts://127.0.0.1:8883", "tls");
    config.ca_file = Some(PathBuf::from("/nonexistent/ca.pem"));
    let (_link, mut events) = mqtt::spawn(config);
    let LinkState::Down { reason } = wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("/nonexistent/ca.pem"), "{reason}");
    wait_state(&mut events, WAIT, |s| *s == LinkState::Closed).await;
}

#[tokio::test]
async fn bad_url_is_an_error() {
    for url in ["ftp://host", "mqtt://:1883", "mqtt://host:70000", "mqtt://host:x"] {
        assert!(parse_broker_url(url).is_err(), "{url} accepted");
    }
    let error = parse_broker_url("ws://host:80").unwrap_err().to_string();
    assert!(error.contains("scheme"), "{error}");

    let (_link, mut events) = mqtt::spawn(MqttConfig::new("mqtt://host:99999", "x"));
    let LinkState::Down { reason } = wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Down { .. })).await
    else {
        unreachable!()
    };
    assert!(reason.contains("bad port"), "{reason}");
    wait_state(&mut events, WAIT, |s| *s == LinkState::Closed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_megabyte_payload_passes() {
    let broker = broker().await;
    let url = broker.url();
    let (subscriber, mut sub_events) = up_link(config(&url, "big-sub", &["big/#"])).await;
    ready(&subscriber, &mut sub_events, "big/probe").await;
    let (publisher, _pub_events) = up_link(config(&url, "big-pub", &[])).await;
    let payload: Vec<u8> = (0..2 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    publisher.publish(Message::new("big/image", payload.clone(), 1, false)).unwrap();
    let got = wait_message(&mut sub_events, "big/image", Duration::from_secs(10)).await.expect("2 MB payload lost");
    assert_eq!(got.payload.len(), payload.len());
    assert!(got.payload == payload);
}

/// Debian's mosquitto on a free port, killed when dropped.
struct Mosquitto {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    fn binary() -> Option<PathBuf> {
        let on_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
            .map(|dir| dir.join("mosquitto"));
        on_path.chain([PathBuf::from("/usr/sbin/mosquitto")]).find(|p| p.is_file())
    }

    async fn start(binary: &PathBuf, allow_anonymous: bool) -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = dead_port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous {allow_anonymous}\n")).unwrap();
        let child =
            Command::new(binary).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let mosquitto = Mosquitto { child, port, _dir: dir };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        mosquitto
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_through_mosquitto() {
    let Some(binary) = Mosquitto::binary() else {
        common::skip_or_fail("mosquitto not found");
        return;
    };
    let mosquitto = Mosquitto::start(&binary, true).await;
    let url = mosquitto.url();
    let (subscriber, mut sub_events) = up_link(config(&url, "master", &["cems/v1/+/+/up/#"])).await;
    ready(&subscriber, &mut sub_events, "cems/v1/probe/probe/up/x").await;
    let (publisher, _pub_events) = up_link(config(&url, "PK01.GW-0001", &[])).await;
    let status = Message::new("cems/v1/PK01/GW-0001/up/status", r#"{"online":true}"#, 1, true);
    publisher.publish(status.clone()).unwrap();
    let got = wait_message(&mut sub_events, &status.topic, WAIT).await.expect("not delivered by mosquitto");
    assert_eq!((got.payload, got.qos), (status.payload, 1));
    let big: Vec<u8> = vec![0x5A; 2 * 1024 * 1024];
    publisher.publish(Message::new("cems/v1/PK01/GW-0001/up/file/chunk", big.clone(), 1, false)).unwrap();
    let got = wait_message(&mut sub_events, "cems/v1/PK01/GW-0001/up/file/chunk", Duration::from_secs(10)).await;
    assert_eq!(got.expect("2 MB lost").payload.len(), big.len());

    // A filter added at run time works, and stops working once removed.
    subscriber.subscribe("lab/#").unwrap();
    ready(&subscriber, &mut sub_events, "lab/probe").await;
    publisher.publish(Message::new("lab/one", "1", 1, false)).unwrap();
    assert!(wait_message(&mut sub_events, "lab/one", WAIT).await.is_some());
    subscriber.send(LinkCommand::Unsubscribe("lab/#".into())).unwrap();
    ready(&subscriber, &mut sub_events, "cems/v1/probe/probe/up/y").await;
    publisher.publish(Message::new("lab/two", "2", 1, false)).unwrap();
    assert!(wait_message(&mut sub_events, "lab/two", Duration::from_millis(400)).await.is_none());

    // A broker that wants credentials says so in words.
    let strict = Mosquitto::start(&binary, false).await;
    let mut config = MqttConfig::new(strict.url(), "intruder");
    config.username = Some("nobody".into());
    config.password = Some("wrong".into());
    let (_link, mut events) = mqtt::spawn(config);
    let down = wait_state(&mut events, WAIT, |s| matches!(s, LinkState::Down { .. })).await;
    assert_eq!(down, LinkState::Down { reason: "broker rejected credentials (not authorized)".into() });
}

#[tokio::test]
async fn fresh_credentials_are_made_for_every_attempt() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let mut cfg = config(&format!("mqtt://127.0.0.1:{}", dead_port()), "creds", &[]);
    cfg.fresh_credentials = Some(mqtt::CredentialSource(Arc::new(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        (format!("user-{n}"), "pw".into())
    })));
    let (handle, mut events) = spawn_link(LinkConfig::Mqtt(cfg));
    wait_state(&mut events, Duration::from_secs(5), |s| matches!(s, LinkState::Connecting { attempt: 2 })).await;
    assert!(calls.load(Ordering::SeqCst) >= 2, "signed once per attempt");
    handle.close();
}

#[tokio::test]
async fn a_fresh_will_is_made_for_every_attempt() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let mut cfg = config(&format!("mqtt://127.0.0.1:{}", dead_port()), "will", &[]);
    cfg.fresh_will = Some(mqtt::WillSource(Arc::new(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Message::new("t/status", format!("lost {n}"), 1, true)
    })));
    let (handle, mut events) = spawn_link(LinkConfig::Mqtt(cfg));
    wait_state(&mut events, Duration::from_secs(5), |s| matches!(s, LinkState::Connecting { attempt: 2 })).await;
    assert!(calls.load(Ordering::SeqCst) >= 2, "a will per attempt");
    handle.close();
}

/// A relay that closes the connection, without forwarding it, as soon as the client sends a
/// PUBLISH to `poison`: how AWS IoT or HiveMQ refuse a publish (ACL deny, over their limit).
struct PoisonProxy {
    addr: SocketAddr,
    closes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for PoisonProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The length of the MQTT packet at the start of `buf` and of its fixed header, once complete.
fn mqtt_packet(buf: &[u8]) -> Option<(usize, usize)> {
    let mut remaining = 0usize;
    for i in 1..5 {
        let byte = *buf.get(i)?;
        remaining += usize::from(byte & 0x7f) << (7 * (i - 1));
        if byte & 0x80 == 0 {
            let total = i + 1 + remaining;
            return (buf.len() >= total).then_some((total, i + 1));
        }
    }
    None
}

impl PoisonProxy {
    async fn start(target: SocketAddr, poison: &'static str) -> PoisonProxy {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let closes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = closes.clone();
        let task = tokio::spawn(async move {
            let mut relays = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let counter = counter.clone();
                relays.spawn(async move {
                    let Ok(upstream) = TcpStream::connect(target).await else { return };
                    let (mut client_rx, mut client_tx) = client.into_split();
                    let (mut upstream_rx, mut upstream_tx) = upstream.into_split();
                    let down = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut upstream_rx, &mut client_tx).await;
                    });
                    let mut buf = Vec::new();
                    let mut chunk = vec![0u8; 16 * 1024];
                    'relay: while let Ok(n) = client_rx.read(&mut chunk).await {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some((total, header)) = mqtt_packet(&buf) {
                            let packet: Vec<u8> = buf.drain(..total).collect();
                            if packet[0] >> 4 == 3 {
                                let len = usize::from(u16::from_be_bytes([packet[header], packet[header + 1]]));
                                if &packet[header + 2..header + 2 + len] == poison.as_bytes() {
                                    counter.fetch_add(1, Ordering::SeqCst);
                                    break 'relay;
                                }
                            }
                            if upstream_tx.write_all(&packet).await.is_err() {
                                break 'relay;
                            }
                        }
                    }
                    // Dropping both halves closes both connections.
                    down.abort();
                });
            }
        });
        PoisonProxy { addr, closes, task }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_the_broker_keeps_refusing_is_dropped_after_three_tries() {
    use std::sync::atomic::Ordering;
    let broker = broker().await;
    let (watcher, mut watcher_events) = up_link(config(&broker.url(), "watcher", &["ok/#"])).await;
    ready(&watcher, &mut watcher_events, "ok/probe").await;
    let proxy = PoisonProxy::start(broker.local_addr(), "bad/poison").await;
    let (gateway, mut events) = up_link(config(&format!("mqtt://{}", proxy.addr), "poisoned", &[])).await;

    gateway.publish(Message::new("bad/poison", "refused", 1, false)).unwrap();
    gateway.publish(Message::new("ok/1", "after", 1, false)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut downs = 0;
    let reason = loop {
        match next_event(&mut events, deadline.saturating_duration_since(Instant::now())).await {
            Some(LinkEvent::PublishDropped { topic, reason }) => {
                assert_eq!(topic, "bad/poison", "only the refused publish is dropped: {reason}");
                break reason;
            }
            Some(LinkEvent::State(LinkState::Down { .. })) => downs += 1,
            Some(_) => {}
            None => panic!("no PublishDropped within 20 s; {downs} connection losses"),
        }
    };
    assert_eq!(reason, "dropped after the broker closed the connection 3 times right after it");
    assert_eq!((downs, proxy.closes.load(Ordering::SeqCst)), (3, 3));
    // The publish queued behind it gets through, and the link stays up.
    let got = wait_message(&mut watcher_events, "ok/1", Duration::from_secs(10)).await.expect("ok/1 never delivered");
    assert_eq!(got.payload, "after");
    gateway.publish(Message::new("ok/2", "later", 1, false)).unwrap();
    assert!(wait_message(&mut watcher_events, "ok/2", WAIT).await.is_some());
    let mut more_downs = 0;
    while let Some(event) = next_event(&mut events, Duration::from_millis(300)).await {
        if matches!(event, LinkEvent::State(LinkState::Down { .. })) {
            more_downs += 1;
        }
    }
    assert_eq!(more_downs, 0, "the link settled once the refused publish was dropped");
    gateway.close();
}
