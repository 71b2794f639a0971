//! Issue 9, items 3 and 8: what one client on a broker can do to everyone else. An over-limit
//! retained message must not keep workbench links reconnecting (our broker refuses it; another
//! broker's is skipped), and the embedded broker's memory stays within its configured limits
//! (retained count and bytes, connections, topics, subscription filters). Raw rumqttc clients
//! play the attacker, with limits larger than ours.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cems_workbench::transport::broker::{BrokerConfig, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, MAX_PACKET_BYTES, Message, spawn_link};
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, Incoming, MqttOptions, QoS, SubscribeFilter, SubscribeReasonCode};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(5);
/// Far above ours: the attacker's client sends and takes anything.
const ATTACKER_MAX_PACKET: usize = 64 * 1024 * 1024;

type RawEvents = mpsc::UnboundedReceiver<Result<Event, String>>;

/// A raw rumqttc client on 127.0.0.1:`port`; its event loop runs until the first error, which
/// it reports (no reconnect), so a refusal is seen as such.
fn raw_client(port: u16) -> (AsyncClient, RawEvents) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let id = format!("raw-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_max_packet_size(ATTACKER_MAX_PACKET, ATTACKER_MAX_PACKET);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_inflight(200);
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(event) => {
                    if tx.send(Ok(event)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let text = match &e {
                        ConnectionError::ConnectionRefused(code) => format!("refused: {code:?}"),
                        other => other.to_string(),
                    };
                    let _ = tx.send(Err(text));
                    return;
                }
            }
        }
    });
    (client, rx)
}

/// The next incoming packet `pick` wants, or the error that ended the client.
async fn wait_raw<T>(events: &mut RawEvents, what: &str, mut pick: impl FnMut(&Incoming) -> Option<T>) -> Result<T, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        match timeout(deadline.saturating_duration_since(Instant::now()), events.recv()).await {
            Ok(Some(Ok(Event::Incoming(incoming)))) => {
                if let Some(found) = pick(&incoming) {
                    return Ok(found);
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) => return Err("event loop gone".into()),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

async fn connected(port: u16) -> (AsyncClient, RawEvents) {
    let (client, mut events) = raw_client(port);
    wait_raw(&mut events, "CONNACK", |i| matches!(i, Incoming::ConnAck(_)).then_some(())).await.expect("raw client connects");
    (client, events)
}

/// Publishes at QoS 1 and waits for the PUBACK.
async fn publish_acked(client: &AsyncClient, events: &mut RawEvents, topic: &str, payload: Vec<u8>, retain: bool) -> Result<(), String> {
    client.publish(topic, QoS::AtLeastOnce, retain, payload).await.expect("raw client running");
    wait_raw(events, "PUBACK", |i| matches!(i, Incoming::PubAck(_)).then_some(())).await
}

async fn subscribe_acked(client: &AsyncClient, events: &mut RawEvents, filters: &[String], qos: QoS) -> Vec<SubscribeReasonCode> {
    client.subscribe_many(filters.iter().map(|f| SubscribeFilter::new(f.clone(), qos))).await.expect("raw client running");
    wait_raw(events, "SUBACK", |i| match i {
        Incoming::SubAck(ack) => Some(ack.return_codes.clone()),
        _ => None,
    })
    .await
    .expect("SUBACK")
}

/// What the broker keeps retained among `topics`: a new client subscribes to each exactly
/// (rumqttd hands out at most an in-flight window of retained messages per filter).
async fn retained(port: u16, topics: &[String]) -> BTreeMap<String, Bytes> {
    let (client, mut events) = connected(port).await;
    subscribe_acked(&client, &mut events, topics, QoS::AtMostOnce).await;
    let mut found = BTreeMap::new();
    while let Ok(Some(Ok(event))) = timeout(Duration::from_millis(800), events.recv()).await {
        if let Event::Incoming(Incoming::Publish(p)) = event
            && p.retain
        {
            found.insert(p.topic.clone(), p.payload.clone());
        }
    }
    let _ = client.disconnect().await;
    found
}

fn topics(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}/{i}")).collect()
}

/// Follows a workbench link for `within`: (connection attempts, its last state, messages).
async fn watch_link(events: &mut mpsc::Receiver<LinkEvent>, within: Duration) -> (u32, Option<LinkState>, Vec<Message>) {
    let deadline = Instant::now() + within;
    let (mut attempts, mut last, mut messages) = (0, None, Vec::new());
    while let Ok(Some(event)) = timeout(deadline.saturating_duration_since(Instant::now()), events.recv()).await {
        match event {
            LinkEvent::State(LinkState::Connecting { attempt }) => attempts = attempt,
            LinkEvent::State(state) => last = Some(state),
            LinkEvent::Message(m) => messages.push(m),
            _ => {}
        }
    }
    (attempts, last, messages)
}

fn link_config(url: String) -> MqttConfig {
    let mut config = MqttConfig::new(url, "workbench");
    config.subscriptions = vec!["big/#".into()];
    config
}

/// PUBLISH QoS 1 overhead in the remaining length: topic length, packet id.
fn payload_at_limit(topic: &str) -> usize {
    MAX_PACKET_BYTES - 2 - topic.len() - 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_broker_and_links_agree_on_the_packet_limit_and_refuse_one_byte_more() {
    let broker = common::broker().await;
    let port = broker.local_addr().port();
    let (attacker, mut attacker_events) = connected(port).await;
    // The largest packet is stored and reaches a workbench link whole.
    let fits = "big/fits";
    publish_acked(&attacker, &mut attacker_events, fits, vec![b'a'; payload_at_limit(fits)], true).await.expect("at the limit: accepted");
    // One byte more: refused by closing that client's connection (MQTT 3.1.1 has no other way).
    let over = "big/over";
    let refused = publish_acked(&attacker, &mut attacker_events, over, vec![b'b'; payload_at_limit(over) + 1], true).await;
    assert!(refused.is_err(), "an over-limit publish was acknowledged");

    let (link, mut events) = spawn_link(LinkConfig::Mqtt(link_config(broker.url())));
    let (attempts, last, messages) = watch_link(&mut events, WAIT).await;
    assert_eq!(attempts, 1, "the link reconnected; last state {last:?}");
    assert_eq!(last, Some(LinkState::Up));
    let got: Vec<(&str, usize, Option<usize>)> = messages.iter().map(|m| (m.topic.as_str(), m.payload.len(), m.skipped_bytes)).collect();
    assert_eq!(got, vec![(fits, payload_at_limit(fits), None)], "only the message at the limit is retained");
    link.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_limit_retained_message_on_another_broker_is_skipped_without_reconnecting() {
    let Some(mosquitto) = common::Mosquitto::start() else {
        common::skip_or_fail("mosquitto not found");
        return;
    };
    let (attacker, mut attacker_events) = connected(mosquitto.port).await;
    let over = "big/over";
    let size = MAX_PACKET_BYTES + 1024;
    publish_acked(&attacker, &mut attacker_events, over, vec![b'x'; size], true).await.expect("mosquitto takes it");

    let (link, mut events) = spawn_link(LinkConfig::Mqtt(link_config(mosquitto.url())));
    let (attempts, last, messages) = watch_link(&mut events, WAIT).await;
    assert_eq!(attempts, 1, "the link reconnected; last state {last:?}");
    assert_eq!(last, Some(LinkState::Up));
    let marks: Vec<(&str, usize, Option<usize>)> = messages.iter().map(|m| (m.topic.as_str(), m.payload.len(), m.skipped_bytes)).collect();
    assert_eq!(marks, vec![(over, 0, Some(size))], "the message is passed on as a mark only");
    // The link still works.
    publish_acked(&attacker, &mut attacker_events, "big/small", b"ok".to_vec(), false).await.expect("small publish");
    let (_, _, messages) = watch_link(&mut events, Duration::from_secs(1)).await;
    assert!(messages.iter().any(|m| m.topic == "big/small" && m.payload == "ok"), "{messages:?}");
    link.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_messages_are_capped_by_count_yet_still_delivered_live() {
    let config = BrokerConfig { max_retained_messages: 100, ..BrokerConfig::ephemeral() };
    let broker = EmbeddedBroker::start(config).await.expect("broker");
    let port = broker.local_addr().port();
    let (watcher, mut watched) = connected(port).await;
    subscribe_acked(&watcher, &mut watched, &["ret/#".to_string()], QoS::AtLeastOnce).await;
    let (attacker, mut attacker_events) = connected(port).await;
    for topic in topics("ret", 0..150) {
        publish_acked(&attacker, &mut attacker_events, &topic, b"v1".to_vec(), true).await.expect("every publish acknowledged");
    }
    let all = topics("ret", 0..150);
    let kept = retained(port, &all).await;
    assert_eq!(kept.keys().cloned().collect::<Vec<_>>(), {
        let mut first: Vec<String> = topics("ret", 0..100);
        first.sort();
        first
    });
    // Not stored, but delivered to those subscribed at the time.
    let mut live = 0;
    while let Ok(Some(Ok(event))) = timeout(Duration::from_millis(500), watched.recv()).await {
        if let Event::Incoming(Incoming::Publish(p)) = event
            && p.topic.starts_with("ret/")
        {
            live += 1;
        }
    }
    assert_eq!(live, 150);

    // At the cap a stored topic is still replaced, and clearing one makes room for another.
    publish_acked(&attacker, &mut attacker_events, "ret/0", b"v2".to_vec(), true).await.expect("replace");
    publish_acked(&attacker, &mut attacker_events, "ret/1", Vec::new(), true).await.expect("clear");
    publish_acked(&attacker, &mut attacker_events, "ret/120", b"late".to_vec(), true).await.expect("new");
    let kept = retained(port, &all).await;
    assert_eq!(kept.len(), 100);
    assert_eq!(kept.get("ret/0").map(|b| b.as_ref()), Some(&b"v2"[..]));
    assert!(!kept.contains_key("ret/1"));
    assert_eq!(kept.get("ret/120").map(|b| b.as_ref()), Some(&b"late"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_bytes_are_capped() {
    let config = BrokerConfig { max_retained_bytes: 10 * 1024, ..BrokerConfig::ephemeral() };
    let broker = EmbeddedBroker::start(config).await.expect("broker");
    let port = broker.local_addr().port();
    let (attacker, mut attacker_events) = connected(port).await;
    // "rb/N" (4 or 5 bytes) + 1,000 bytes each: ten fit in 10 KiB.
    for topic in topics("rb", 0..20) {
        publish_acked(&attacker, &mut attacker_events, &topic, vec![b'r'; 1000], true).await.expect("acknowledged");
    }
    let all = topics("rb", 0..20);
    let kept = retained(port, &all).await;
    assert_eq!(kept.len(), 10, "{:?}", kept.keys().collect::<Vec<_>>());
    // A replacement that would go over the cap is not stored, and the old one is not kept
    // either: a retained message older than what was last published would mislead.
    publish_acked(&attacker, &mut attacker_events, "rb/0", vec![b'R'; 5000], true).await.expect("acknowledged");
    let kept = retained(port, &all).await;
    assert_eq!(kept.len(), 9);
    assert!(!kept.contains_key("rb/0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused_clearly() {
    let config = BrokerConfig { max_connections: 3, ..BrokerConfig::ephemeral() };
    let broker = EmbeddedBroker::start(config).await.expect("broker");
    let port = broker.local_addr().port();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(connected(port).await);
    }
    let (_refused, mut events) = raw_client(port);
    let result = wait_raw(&mut events, "CONNACK", |i| matches!(i, Incoming::ConnAck(_)).then_some(())).await;
    assert_eq!(result, Err(format!("refused: {:?}", ConnectReturnCode::ServiceUnavailable)));
    // One leaves: there is room again.
    let (first, _) = clients.remove(0);
    first.disconnect().await.expect("disconnect");
    let deadline = Instant::now() + WAIT;
    loop {
        let (_client, mut events) = raw_client(port);
        if wait_raw(&mut events, "CONNACK", |i| matches!(i, Incoming::ConnAck(_)).then_some(())).await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no room after a client left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_topics_and_filters_are_capped() {
    let config = BrokerConfig { max_topics: 50, max_filters: 5, ..BrokerConfig::ephemeral() };
    let broker = EmbeddedBroker::start(config).await.expect("broker");
    let port = broker.local_addr().port();
    let (watcher, mut watched) = connected(port).await;
    subscribe_acked(&watcher, &mut watched, &["top/#".to_string()], QoS::AtLeastOnce).await;
    let (attacker, mut attacker_events) = connected(port).await;
    // Every publish is acknowledged, so a client never hangs; only the first 50 topics go on.
    for topic in topics("top", 0..60) {
        publish_acked(&attacker, &mut attacker_events, &topic, b"x".to_vec(), false).await.expect("acknowledged");
    }
    publish_acked(&attacker, &mut attacker_events, "top/0", b"again".to_vec(), false).await.expect("known topic");
    let mut seen = Vec::new();
    while let Ok(Some(Ok(event))) = timeout(Duration::from_millis(500), watched.recv()).await {
        if let Event::Incoming(Incoming::Publish(p)) = event {
            seen.push(p.topic.clone());
        }
    }
    let mut expected = topics("top", 0..50);
    expected.push("top/0".into());
    assert_eq!(seen, expected);

    // One filter is taken ("top/#"): four more new ones are accepted, then no more.
    let four = topics("f", 0..4);
    assert!(subscribe_acked(&attacker, &mut attacker_events, &four, QoS::AtLeastOnce).await.iter().all(|c| matches!(c, SubscribeReasonCode::Success(_))));
    let refused = subscribe_acked(&attacker, &mut attacker_events, &["f/new".to_string()], QoS::AtLeastOnce).await;
    assert_eq!(refused, vec![SubscribeReasonCode::Failure]);
    let known = subscribe_acked(&attacker, &mut attacker_events, &["f/0".to_string()], QoS::AtLeastOnce).await;
    assert!(matches!(known[..], [SubscribeReasonCode::Success(_)]), "{known:?}");
}

/// Runs `cems-workbench broker --listen ADDR` until its limits line; returns the stderr lines.
fn broker_stderr(listen: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cems-workbench"))
        .args(["broker", "--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let done = line.starts_with("broker limits:");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn the_broker_command_prints_its_limits_and_warns_when_reachable_from_other_machines() {
    let lines = broker_stderr("0.0.0.0:0");
    let limits = lines.iter().find(|l| l.starts_with("broker limits:")).unwrap_or_else(|| panic!("no limits line in {lines:?}"));
    for part in ["16 MiB packets", "1000 connections", "100 in flight", "100000 retained messages", "256 MiB retained", "topics", "filters"] {
        assert!(limits.contains(part), "{part:?} missing from {limits:?}");
    }
    let warning = lines.iter().find(|l| l.starts_with("warning: listening on 0.0.0.0:")).unwrap_or_else(|| panic!("no warning in {lines:?}"));
    assert!(warning.ends_with(": reachable from other machines; devices are not authenticated"), "{warning}");
    assert!(!warning.contains("0.0.0.0:0:"), "the warning names the real port: {warning}");

    let lines = broker_stderr("127.0.0.1:0");
    assert!(lines.iter().any(|l| l.starts_with("broker limits:")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("warning:")), "{lines:?}");
}
