//! Issue 9, "the broker's door": with a devices file the embedded broker admits only listed
//! devices signing per contract §6 and listed masters, and keeps each device to its own
//! `…/up/#` (publish, will) and `…/down/#` (subscribe). Without one it is open as before.
//! Raw rumqttc clients play devices and attackers; workbench links and the simulator show what
//! a user sees.

mod sim_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use cems_workbench::protocol::auth;
use cems_workbench::protocol::time::now_ms;
use cems_workbench::sim;
use cems_workbench::transport::broker::{BrokerConfig, Devices, EmbeddedBroker};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkState, Message, spawn_link};
use rumqttc::{AsyncClient, ConnectReturnCode, ConnectionError, Event, Incoming, LastWill, MqttOptions, QoS, SubscribeReasonCode};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(5);
const SECRET: &str = "s3cr3t-gw1";
const DEVICES: &str = r#"{
  "devices": [
    {"pk": "PK01", "dev": "GW-0001", "secret": "s3cr3t-gw1"},
    {"pk": "PK01", "dev": "GW-0002", "secret": "s3cr3t-gw2"},
    {"pk": "PK-GW-01", "dev": "GW-SIM", "secret": "sim-secret"}
  ],
  "masters": [{"user": "scada", "password": "correct horse battery staple"}]
}"#;
const MASTER: (&str, &str) = ("scada", "correct horse battery staple");

async fn door_broker() -> EmbeddedBroker {
    let devices = Devices::from_json(DEVICES, "devices.json").unwrap();
    EmbeddedBroker::start(BrokerConfig { devices: Some(devices), ..BrokerConfig::ephemeral() }).await.unwrap()
}

fn now() -> u64 {
    u64::try_from(now_ms()).unwrap()
}

/// (client id, username, password) of a device signing at `ts`.
fn device_creds(pk: &str, dev: &str, secret: &str, ts: u64) -> (String, String, String) {
    let c = auth::sign(pk, dev, secret, ts).unwrap();
    (c.client_id, c.username, c.password)
}

type RawEvents = mpsc::UnboundedReceiver<Result<Event, String>>;

/// A raw client whose event loop runs until its first error, reported as such (no reconnect).
fn raw(broker: &EmbeddedBroker, id: &str, creds: Option<(&str, &str)>, will: Option<LastWill>) -> (AsyncClient, RawEvents, JoinHandle<()>) {
    let mut options = MqttOptions::new(id, "127.0.0.1", broker.local_addr().port());
    options.set_keep_alive(Duration::from_secs(30));
    if let Some((user, password)) = creds {
        options.set_credentials(user, password);
    }
    if let Some(will) = will {
        options.set_last_will(will);
    }
    let (client, mut eventloop) = AsyncClient::new(options, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let event = eventloop.poll().await.map_err(|e| match e {
                ConnectionError::ConnectionRefused(code) => format!("refused: {code:?}"),
                other => other.to_string(),
            });
            let failed = event.is_err();
            if tx.send(event).is_err() || failed {
                return;
            }
        }
    });
    (client, rx, task)
}

/// The next incoming packet `pick` wants, or the error that ended the client.
async fn next<T>(events: &mut RawEvents, what: &str, mut pick: impl FnMut(&Incoming) -> Option<T>) -> Result<T, String> {
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

/// How the broker answers a raw CONNECT: Ok, or the refusal.
async fn connack(events: &mut RawEvents) -> Result<(), String> {
    next(events, "CONNACK", |i| matches!(i, Incoming::ConnAck(_)).then_some(())).await
}

async fn connected(broker: &EmbeddedBroker, id: &str, creds: (&str, &str), will: Option<LastWill>) -> (AsyncClient, RawEvents, JoinHandle<()>) {
    let (client, mut events, task) = raw(broker, id, Some(creds), will);
    connack(&mut events).await.unwrap_or_else(|e| panic!("{id} refused: {e}"));
    (client, events, task)
}

async fn device(broker: &EmbeddedBroker, dev: &str, secret: &str) -> (AsyncClient, RawEvents, JoinHandle<()>) {
    let (id, user, password) = device_creds("PK01", dev, secret, now());
    connected(broker, &id, (&user, &password), None).await
}

async fn suback(client: &AsyncClient, events: &mut RawEvents, filter: &str) -> SubscribeReasonCode {
    client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
    next(events, "SUBACK", |i| match i {
        Incoming::SubAck(ack) => ack.return_codes.first().copied(),
        _ => None,
    })
    .await
    .unwrap()
}

async fn publish_acked(client: &AsyncClient, events: &mut RawEvents, topic: &str, payload: &str) -> Result<(), String> {
    client.publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec()).await.unwrap();
    next(events, "PUBACK", |i| matches!(i, Incoming::PubAck(_)).then_some(())).await
}

/// Every publish received until `marker` arrives on `marker_topic`: (topic, payload).
async fn received_until(events: &mut RawEvents, marker_topic: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    next(events, marker_topic, |i| {
        let Incoming::Publish(p) = i else { return None };
        seen.push((p.topic.clone(), String::from_utf8_lossy(&p.payload).into_owned()));
        (p.topic == marker_topic).then_some(())
    })
    .await
    .unwrap();
    seen
}

#[tokio::test]
async fn listed_devices_with_a_valid_signature_and_masters_connect() {
    let broker = door_broker().await;
    let _gw1 = device(&broker, "GW-0001", SECRET).await;
    // A clock 299 s off is still within §6's window.
    let (id, user, password) = device_creds("PK01", "GW-0002", "s3cr3t-gw2", now() - 299_000);
    let _gw2 = connected(&broker, &id, (&user, &password), None).await;
    let _master = connected(&broker, "any-client-id", MASTER, None).await;

    // The workbench as a master: its link comes up.
    let mut config = MqttConfig::new(broker.url(), "workbench");
    config.username = Some(MASTER.0.into());
    config.password = Some(MASTER.1.into());
    let (_link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    let (_, last, _) = watch_link(&mut events, Duration::from_secs(1)).await;
    assert_eq!(last, Some(LinkState::Up));
    assert_eq!(broker.door_counts().refused_connects, 0);
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

/// (what, client id, username and password, what the link's Down reason says).
type Case = (&'static str, String, Option<(String, String)>, &'static str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_refused_with_a_reason_and_no_reconnect_storm() {
    let broker = door_broker().await;
    let ts = now();
    let cases: Vec<Case> = vec![
        ("wrong password", "PK01.GW-0001".into(), Some(pair(device_creds("PK01", "GW-0001", "not-the-secret", ts))), "bad username or password"),
        ("expired ts", "PK01.GW-0001".into(), Some(pair(device_creds("PK01", "GW-0001", SECRET, ts - 301_000))), "bad username or password"),
        ("unlisted device", "PK01.GW-9999".into(), Some(pair(device_creds("PK01", "GW-9999", SECRET, ts))), "bad username or password"),
        ("unknown master", "mallory".into(), Some(("root".into(), MASTER.1.into())), "bad username or password"),
        ("master, wrong password", "mallory".into(), Some((MASTER.0.into(), "Correct horse battery staple".into())), "bad username or password"),
        ("no credentials", "anon".into(), None, "not authorized"),
        ("another device's client id", "PK01.GW-0002".into(), Some(pair(device_creds("PK01", "GW-0001", SECRET, ts))), "rejected the client id"),
    ];
    // All at once, each link followed for the same 3 s.
    let mut watches = Vec::new();
    for (_, client_id, creds, _) in &cases {
        let mut config = MqttConfig::new(broker.url(), client_id.clone());
        if let Some((user, password)) = creds {
            config.username = Some(user.clone());
            config.password = Some(password.clone());
        }
        watches.push(tokio::spawn(async move {
            let (_link, mut events) = spawn_link(LinkConfig::Mqtt(config));
            watch_link(&mut events, Duration::from_secs(3)).await
        }));
    }
    for ((what, _, _, reason), watch) in cases.iter().zip(watches) {
        let (attempts, last, _) = watch.await.unwrap();
        let Some(LinkState::Down { reason: got }) = &last else { panic!("{what}: ended {last:?}, not Down") };
        assert!(got.contains(reason), "{what}: {got}");
        assert!((1..=4).contains(&attempts), "{what}: {attempts} attempts in 3 s");
    }
    assert!(broker.door_counts().refused_connects >= cases.len() as u64);

    // A raw client sees the CONNACK code itself.
    let (id, user, password) = device_creds("PK01", "GW-0001", "nope", now());
    let (_c, mut events, _t) = raw(&broker, &id, Some((&user, &password)), None);
    assert_eq!(connack(&mut events).await, Err(format!("refused: {:?}", ConnectReturnCode::BadUserNamePassword)));
}

fn pair((_, user, password): (String, String, String)) -> (String, String) {
    (user, password)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_reaches_only_its_own_topics() {
    let broker = door_broker().await;
    let (master, mut master_events, _m) = connected(&broker, "master", MASTER, None).await;
    assert_eq!(suback(&master, &mut master_events, "cems/v1/#").await, SubscribeReasonCode::Success(QoS::AtLeastOnce));
    let (gw1, mut gw1_events, _g1) = device(&broker, "GW-0001", SECRET).await;
    let (gw2, mut gw2_events, _g2) = device(&broker, "GW-0002", "s3cr3t-gw2").await;

    // Speaking for another gateway: acknowledged (or the client would resend forever), not delivered.
    publish_acked(&gw1, &mut gw1_events, "cems/v1/PK01/GW-0002/up/status", "forged").await.unwrap();
    publish_acked(&gw1, &mut gw1_events, "cems/v1/PK01/GW-0002/down/command/request", "forged").await.unwrap();
    publish_acked(&gw1, &mut gw1_events, "elsewhere/x", "forged").await.unwrap();
    publish_acked(&gw1, &mut gw1_events, "cems/v1/PK01/GW-0001/up/status", "own").await.unwrap();
    let seen = received_until(&mut master_events, "cems/v1/PK01/GW-0001/up/status").await;
    assert_eq!(seen, [("cems/v1/PK01/GW-0001/up/status".to_string(), "own".to_string())], "only its own uplink gets through");
    assert_eq!(broker.door_counts().denied_publishes, 3);

    // Watching everything, or another gateway's downlink, is refused; its own is granted.
    assert_eq!(suback(&gw1, &mut gw1_events, "cems/v1/#").await, SubscribeReasonCode::Failure);
    assert_eq!(suback(&gw1, &mut gw1_events, "cems/v1/PK01/GW-0002/down/#").await, SubscribeReasonCode::Failure);
    assert_eq!(suback(&gw1, &mut gw1_events, "cems/v1/PK01/GW-0001/down/#").await, SubscribeReasonCode::Success(QoS::AtLeastOnce));
    assert_eq!(suback(&gw2, &mut gw2_events, "cems/v1/PK01/GW-0002/down/#").await, SubscribeReasonCode::Success(QoS::AtLeastOnce));
    assert_eq!(broker.door_counts().denied_subscribes, 2);
    master.publish("cems/v1/PK01/GW-0002/down/command/request", QoS::AtLeastOnce, false, b"for gw2".to_vec()).await.unwrap();
    master.publish("cems/v1/PK01/GW-0001/down/command/request", QoS::AtLeastOnce, false, b"for gw1".to_vec()).await.unwrap();
    let seen = received_until(&mut gw1_events, "cems/v1/PK01/GW-0001/down/command/request").await;
    assert_eq!(seen, [("cems/v1/PK01/GW-0001/down/command/request".to_string(), "for gw1".to_string())]);
    let seen = received_until(&mut gw2_events, "cems/v1/PK01/GW-0002/down/command/request").await;
    assert_eq!(seen, [("cems/v1/PK01/GW-0002/down/command/request".to_string(), "for gw2".to_string())]);

    // A QoS 2 publish outside has no acknowledgement to fake: the connection closes.
    gw2.publish("cems/v1/PK01/GW-0001/up/status", QoS::ExactlyOnce, false, b"forged".to_vec()).await.unwrap();
    assert!(next(&mut gw2_events, "the close", |_| None::<()>).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devices_will_outside_its_uplink_is_removed() {
    let broker = door_broker().await;
    let (master, mut master_events, _m) = connected(&broker, "master", MASTER, None).await;
    suback(&master, &mut master_events, "cems/v1/#").await;
    let (id, user, password) = device_creds("PK01", "GW-0001", SECRET, now());
    let forged = LastWill::new("cems/v1/PK01/GW-0002/up/status", "forged will", QoS::AtLeastOnce, false);
    let (_gw1, _events, task) = connected(&broker, &id, (&user, &password), Some(forged)).await;
    assert_eq!(broker.door_counts().removed_wills, 1);
    let own = LastWill::new("cems/v1/PK01/GW-0002/up/status", "own will", QoS::AtLeastOnce, false);
    let (id2, user2, password2) = device_creds("PK01", "GW-0002", "s3cr3t-gw2", now());
    let (_gw2, _events2, task2) = connected(&broker, &id2, (&user2, &password2), Some(own)).await;
    // Both vanish without DISCONNECT, so rumqttd publishes whatever wills it holds.
    task.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    task2.abort();
    let seen = received_until(&mut master_events, "cems/v1/PK01/GW-0002/up/status").await;
    assert_eq!(seen, [("cems/v1/PK01/GW-0002/up/status".to_string(), "own will".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_devices_file_everything_connects_as_before() {
    let broker = EmbeddedBroker::start(BrokerConfig::ephemeral()).await.unwrap();
    let (watcher, mut watcher_events, _w) = raw(&broker, "watcher", None, None);
    connack(&mut watcher_events).await.unwrap();
    assert_eq!(suback(&watcher, &mut watcher_events, "cems/v1/#").await, SubscribeReasonCode::Success(QoS::AtLeastOnce));
    let (any, mut any_events, _a) = raw(&broker, "whatever", Some(("nobody", "nothing")), None);
    connack(&mut any_events).await.unwrap();
    publish_acked(&any, &mut any_events, "cems/v1/PK01/GW-0002/up/status", "anyone").await.unwrap();
    let seen = received_until(&mut watcher_events, "cems/v1/PK01/GW-0002/up/status").await;
    assert_eq!(seen.len(), 1);
    // A signed device too, with a wrong secret: nobody checks.
    let (id, user, password) = device_creds("PK01", "GW-0001", "whatever", now() - 3_600_000);
    let (_d, mut d_events, _t) = raw(&broker, &id, Some((&user, &password)), None);
    connack(&mut d_events).await.unwrap();
    assert_eq!(broker.door_counts(), Default::default());
}

fn sim_on(url: &str, secret: &str, dir: &std::path::Path) -> sim::SimHandle {
    let mut config = sim_support::sim_config(url, "GW-SIM", dir);
    config.secret = Some(secret.into());
    sim::spawn(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_signs_its_way_in_with_the_right_secret_only() {
    let broker = door_broker().await;
    let (master, mut master_events, _m) = connected(&broker, "master", MASTER, None).await;
    suback(&master, &mut master_events, "cems/v1/+/+/up/#").await;
    let dir = tempfile::tempdir().unwrap();

    let wrong = sim_on(&broker.url(), "not-the-secret", dir.path());
    let mut status = wrong.link_status();
    let refused = timeout(WAIT, status.wait_for(|s| matches!(&s.state, LinkState::Down { .. }))).await.unwrap().unwrap().clone();
    assert!(matches!(&refused.state, LinkState::Down { reason } if reason.contains("bad username or password")), "{refused:?}");
    wrong.stop().await;

    let right = sim_on(&broker.url(), "sim-secret", dir.path());
    let mut status = right.link_status();
    timeout(WAIT, status.wait_for(|s| s.state == LinkState::Up)).await.unwrap().unwrap();
    // Its announcement passes the ACL: the status is its own uplink.
    let seen = received_until(&mut master_events, "cems/v1/PK-GW-01/GW-SIM/up/status").await;
    assert!(seen.iter().all(|(topic, _)| topic.starts_with("cems/v1/PK-GW-01/GW-SIM/up/")), "{seen:?}");
    assert!(broker.door_counts().refused_connects >= 1);
    assert_eq!(broker.door_counts().denied_publishes, 0);
    assert_eq!(broker.door_counts().denied_subscribes, 0, "the simulator subscribes to its own downlink only");
    right.stop().await;
}

const BIN: &str = env!("CARGO_BIN_EXE_cems-workbench");

#[test]
fn the_broker_command_names_a_bad_devices_file_and_counts_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"devices": [{"pk": "PK01", "dev": "GW", "secret": ""}]}"#).unwrap();
    for (file, expected) in [(&missing, format!("{}: cannot read", missing.display())), (&bad, format!("{}: /devices/0/secret: empty secret", bad.display()))] {
        let out = Command::new(BIN).args(["broker", "--listen", "127.0.0.1:0", "--devices"]).arg(file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{expected}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing listened");
    }

    let good = dir.path().join("devices.json");
    std::fs::write(&good, DEVICES).unwrap();
    let mut child = Command::new(BIN)
        .args(["broker", "--listen", "127.0.0.1:0", "--devices"])
        .arg(&good)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on 127.0.0.1:"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("admitting 3 devices and 1 master from"), "{stderr}");
}
