//! Issue 9, item 4: another client on the broker cannot answer for a gateway. A reply counts
//! only on the reply topic of the request it answers (same gateway, class and action) with its
//! id, and ids cannot be guessed from one another.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use cems_workbench::engine::requests::RequestFailure;
use cems_workbench::engine::{Engine, EngineConfig, EngineEvent, EngineEvents, EngineHandle, GatewayKey, RequestSpec, SessionId};
use cems_workbench::protocol::envelope::{Envelope, IdGenerator, MAX_ID_LEN, parse_envelope};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use common::{broker, engine_ready, eventually, wait_for};
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;

const PK: &str = "PK01";

/// An engine that asks nothing by itself: every pending request is the test's.
async fn quiet_engine(url: &str) -> (EngineHandle, EngineEvents, SessionId) {
    let config = EngineConfig { discover: false, ..EngineConfig::default() };
    let (engine, mut events) = Engine::spawn_with(config, || {}).unwrap();
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(url, "wb-spoof")), engine.default_session_options("t")).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    engine_ready(&engine, session).await;
    (engine, events, session)
}

/// A raw client; `filter` is what it listens to (a gateway's downlinks, or nothing much).
async fn client(url: &str, client_id: &str, filter: &str) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, client_id);
    config.subscriptions = vec![filter.to_owned()];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => break,
            Ok(Some(_)) => {}
            other => panic!("{client_id} did not connect: {other:?}"),
        }
    }
    // Up comes before the broker has taken the subscription: a probe proves it is in place.
    let probe = filter.replace('#', "probe/ready");
    link.publish(Message::new(probe.clone(), b"{}".to_vec(), 1, false)).unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic == probe => break,
            Ok(Some(_)) => {}
            other => panic!("{client_id}'s subscription never became active: {other:?}"),
        }
    }
    (link, events)
}

/// The next request on a topic ending with `suffix`.
async fn next_request(events: &mut Receiver<LinkEvent>, suffix: &str) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.ends_with(suffix) => {
                let Ok(Envelope::Request(r)) = parse_envelope(&m.payload) else { panic!("{}: not a request", m.topic) };
                return r.id;
            }
            Ok(Some(_)) => {}
            other => panic!("no request on …{suffix}: {other:?}"),
        }
    }
}

fn info(model: &str) -> Value {
    json!({"vendor": "V", "model": model, "serial": "S", "hwVersion": "1", "fwVersion": "2", "swVersion": "3", "uptime": 5})
}

fn publish_reply(link: &LinkHandle, topic: &str, id: &str, data: Value) {
    link.publish(Message::new(topic, serde_json::to_vec(&json!({"id": id, "ts": 2, "code": 0, "data": data})).unwrap(), 1, false)).unwrap();
}

/// Publishes on `topic` and waits until the engine has taken it (it is in the topic store).
async fn publish_and_wait(engine: &EngineHandle, link: &LinkHandle, topic: &str, payload: Value) {
    let before = engine.state.store().find(topic).map_or(0, |n| engine.state.store().history(n).len());
    link.publish(Message::new(topic, serde_json::to_vec(&payload).unwrap(), 1, false)).unwrap();
    eventually(Duration::from_secs(5), "the engine took the message", || {
        let store = engine.state.store();
        store.find(topic).is_some_and(|n| store.history(n).len() > before)
    })
    .await;
}

fn model_of(engine: &EngineHandle, dev: &str) -> Option<String> {
    let key = GatewayKey { pk: PK.into(), dev: dev.into() };
    engine.state.gateways().get(&key).and_then(|g| g.info.clone()).map(|i| i.model)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_on_another_gateways_topic_or_class_is_not_accepted() {
    let broker = broker().await;
    let (engine, _events, session) = quiet_engine(&broker.url()).await;
    let (gw_a, mut a_events) = client(&broker.url(), "PK01.GW-A", "cems/v1/PK01/GW-A/down/#").await;
    // The attacker: any client with publish rights on another gateway's uplinks (here GW-B's).
    let (evil, _evil_events) = client(&broker.url(), "evil", "evil/#").await;
    let report = json!({"id": "b-info-1", "ts": 1, "ver": "1.0", "data": info("B-real")});
    publish_and_wait(&engine, &evil, "cems/v1/PK01/GW-B/up/info/report", report).await;
    assert_eq!(model_of(&engine, "GW-B").as_deref(), Some("B-real"));

    let mut spec = RequestSpec::new(session, PK, "GW-A", "info", "get", json!({}));
    spec.timeout = Duration::from_secs(5);
    let call = engine.call(spec);
    let id = next_request(&mut a_events, "/GW-A/down/info/get").await;
    // The same id on GW-B's reply topic, and on GW-A's reply topic of another class.
    let spoof = |model: &str| json!({"id": id, "ts": 2, "code": 0, "data": info(model)});
    publish_and_wait(&engine, &evil, "cems/v1/PK01/GW-B/up/info/get/reply", spoof("EVIL-B")).await;
    publish_and_wait(&engine, &evil, "cems/v1/PK01/GW-A/up/time/get/reply", json!({"id": id, "ts": 2, "code": 0, "data": {"t1": 1, "t2": 2, "t3": 3}})).await;
    assert_eq!(model_of(&engine, "GW-B").as_deref(), Some("B-real"), "GW-B's record keeps its own info");
    assert_eq!(model_of(&engine, "GW-A"), None, "nothing recorded for GW-A yet");
    assert!(engine.state.gateways().get(&GatewayKey { pk: PK.into(), dev: "GW-A".into() }).is_none_or(|g| g.clock.is_none()), "a time reply nobody asked for measures nothing");

    // The real answer still completes the request.
    publish_reply(&gw_a, "cems/v1/PK01/GW-A/up/info/get/reply", &id, info("A-real"));
    let outcome = call.await.unwrap();
    assert_eq!(outcome.result.map(|r| r.data["model"].clone()), Ok(json!("A-real")));
    assert_eq!(model_of(&engine, "GW-A").as_deref(), Some("A-real"));
    assert_eq!(model_of(&engine, "GW-B").as_deref(), Some("B-real"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoofed_reply_alone_leaves_the_request_to_time_out() {
    let broker = broker().await;
    let (engine, _events, session) = quiet_engine(&broker.url()).await;
    let (_gw_a, mut a_events) = client(&broker.url(), "PK01.GW-A", "cems/v1/PK01/GW-A/down/#").await;
    let (evil, _evil_events) = client(&broker.url(), "evil", "evil/#").await;
    let mut spec = RequestSpec::new(session, PK, "GW-A", "info", "get", json!({}));
    spec.timeout = Duration::from_millis(1500);
    let call = engine.call(spec);
    let id = next_request(&mut a_events, "/GW-A/down/info/get").await;
    publish_and_wait(&engine, &evil, "cems/v1/PK01/GW-B/up/info/get/reply", json!({"id": id, "ts": 2, "code": 0, "data": info("EVIL")})).await;
    let outcome = call.await.unwrap();
    assert_eq!(outcome.result, Err(RequestFailure::Timeout { after_ms: 1500 }));
    assert_eq!(model_of(&engine, "GW-B"), None);
    assert_eq!(model_of(&engine, "GW-A"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsolicited_reply_does_not_change_the_record() {
    let broker = broker().await;
    let (engine, _events, _session) = quiet_engine(&broker.url()).await;
    let (gw, _gw_events) = client(&broker.url(), "PK01.GW-C", "cems/v1/PK01/GW-C/down/#").await;
    let report = json!({"id": "c-info-1", "ts": 1, "ver": "1.0", "data": info("C-real")});
    publish_and_wait(&engine, &gw, "cems/v1/PK01/GW-C/up/info/report", report).await;
    assert_eq!(model_of(&engine, "GW-C").as_deref(), Some("C-real"));
    // Nobody asked: a guessed id of the old shape, and one that was never ours.
    for id in ["wb-00000000-1", "nobody-asked"] {
        publish_and_wait(&engine, &gw, "cems/v1/PK01/GW-C/up/info/get/reply", json!({"id": id, "ts": 2, "code": 0, "data": info("EVIL")})).await;
    }
    let props = json!({"id": "nobody-asked-2", "ts": 2, "code": 0, "data": {"props": {"reportPeriod": 1}}});
    publish_and_wait(&engine, &gw, "cems/v1/PK01/GW-C/up/property/get/reply", props).await;
    let key = GatewayKey { pk: PK.into(), dev: "GW-C".into() };
    let record = engine.state.gateways().get(&key).cloned().unwrap();
    assert_eq!(record.info.map(|i| i.model).as_deref(), Some("C-real"));
    assert!(record.properties.is_empty(), "{:?}", record.properties);
    // The store keeps what arrived, for the explorer.
    assert!(engine.state.store().find("cems/v1/PK01/GW-C/up/info/get/reply").is_some());
}

#[test]
fn ids_cannot_be_predicted_from_one_another() {
    let generator = IdGenerator::new("wb");
    let ids: Vec<String> = (0..10_000).map(|_| generator.next_id()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len(), "distinct");
    for id in &ids {
        assert!(id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
    }
    // What all ids share (the label) is no secret; what is left must carry 64 bits or more.
    let common = ids.iter().skip(1).fold(ids[0].len(), |n, id| ids[0].bytes().zip(id.bytes()).take(n).take_while(|(a, b)| a == b).count());
    let tails: Vec<&str> = ids.iter().map(|id| &id[common..]).collect();
    assert!(tails.iter().all(|t| t.len() >= 16), "a counter, not randomness: {:?}", &tails[..3]);
    let values: Vec<u64> = tails
        .iter()
        .map(|t| {
            let hex: String = t.chars().filter(char::is_ascii_hexdigit).take(16).collect();
            u64::from_str_radix(&hex, 16).unwrap_or_else(|e| panic!("{t}: {e}"))
        })
        .collect();
    // Not a sequence: no id follows from the one before it.
    assert!(values.windows(2).all(|w| w[1] != w[0].wrapping_add(1)), "sequential ids");
    // Every one of the 64 bits varies, about half of the time (a counter's high bits never do).
    for bit in 0..64 {
        let ones = values.iter().filter(|v| (*v >> bit) & 1 == 1).count();
        assert!((4_000..=6_000).contains(&ones), "bit {bit} is set in {ones} of 10,000 ids");
    }
    // Another generator (another run of the tool) shares nothing but the label.
    let other = IdGenerator::new("wb").next_id();
    assert!(!ids.contains(&other));
}
