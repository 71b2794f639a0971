//! Issue 10, read-only sessions: the engine refuses requests and publishes on them (an outcome, a
//! notice) and asks nothing by itself, but still does the master's duties (acknowledgements).

mod common;

use std::time::Duration;

use cems_workbench::engine::requests::RequestFailure;
use cems_workbench::engine::gateways::RequestEnd;
use cems_workbench::engine::{Engine, EngineConfig, EngineEvent, GatewayKey, RequestSpec};
use cems_workbench::protocol::envelope::{Envelope, parse_envelope};
use cems_workbench::transport::mqtt::MqttConfig;
use cems_workbench::transport::{LinkConfig, LinkEvent, LinkHandle, LinkState, Message, spawn_link};
use common::{broker, wait_for};
use serde_json::{Value, json};
use tokio::sync::mpsc::Receiver;

const GW_DOWN: &str = "cems/v1/PK01/GW-A/down/#";

async fn gateway(url: &str) -> (LinkHandle, Receiver<LinkEvent>) {
    let mut config = MqttConfig::new(url, "PK01.GW-A");
    config.subscriptions = vec![GW_DOWN.to_owned()];
    let (link, mut events) = spawn_link(LinkConfig::Mqtt(config));
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::State(LinkState::Up))) => return (link, events),
            Ok(Some(_)) => {}
            other => panic!("the gateway did not connect: {other:?}"),
        }
    }
}

/// The next downlink the gateway gets within `within`, as (topic, envelope id).
async fn next_down(events: &mut Receiver<LinkEvent>, within: Duration) -> Option<(String, String)> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(LinkEvent::Message(m))) if m.topic.contains("/down/") => {
                let id = match parse_envelope(&m.payload) {
                    Ok(Envelope::Request(r)) => r.id,
                    Ok(Envelope::Reply(r)) => r.id,
                    Err(_) => String::new(),
                };
                return Some((m.topic, id));
            }
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
}

fn publish(link: &LinkHandle, topic: &str, payload: Value) {
    link.publish(Message::new(topic, serde_json::to_vec(&payload).unwrap(), 1, false)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_refuses_requests_but_still_acknowledges_alarms() {
    let broker = broker().await;
    // Discovery on: a read-only session must not ask a gateway who it is either.
    let (engine, mut events) = Engine::spawn_with(EngineConfig::default(), || {}).unwrap();
    let mut options = engine.default_session_options("site");
    options.read_only = true;
    let session = engine.connect(LinkConfig::Mqtt(MqttConfig::new(broker.url(), "wb-ro")), options).unwrap();
    wait_for(&mut events, Duration::from_secs(5), "Up", |e| matches!(e, EngineEvent::SessionState { state: LinkState::Up, .. }).then_some(())).await;
    let (gw, mut gw_events) = gateway(&broker.url()).await;

    // The gateway announces itself and reports an alarm until it is acknowledged (the engine's
    // subscription may take a moment after Up).
    let alarm = json!({"id": "al-1", "ts": 1, "ver": "1.0", "data": {"alarms": [
        {"alarmId": "A1", "sub": "M1", "type": "overvoltage", "level": 2, "state": "raised", "ts": 1}
    ]}});
    let mut acked = None;
    for _ in 0..20 {
        publish(&gw, "cems/v1/PK01/GW-A/up/status", json!({"id": "s1", "ts": 1, "ver": "1.0", "data": {"online": true}}));
        publish(&gw, "cems/v1/PK01/GW-A/up/alarm/report", alarm.clone());
        if let Some(down) = next_down(&mut gw_events, Duration::from_millis(300)).await {
            acked = Some(down);
            break;
        }
    }
    let (topic, id) = acked.expect("the alarm report was acknowledged");
    assert_eq!(topic, "cems/v1/PK01/GW-A/down/alarm/report/reply");
    assert_eq!(id, "al-1");

    // A request is refused with a clear outcome, and logged like any other.
    let outcome = engine.call(RequestSpec::new(session, "PK01", "GW-A", "info", "get", json!({}))).await.unwrap();
    assert_eq!(outcome.result, Err(RequestFailure::ReadOnly(session)));
    assert!(outcome.result.as_ref().unwrap_err().to_string().contains("read-only"));
    let key = GatewayKey { pk: "PK01".into(), dev: "GW-A".into() };
    assert!(engine.state.gateways().get(&key).is_some_and(|g| g.requests.iter().any(|r| r.id == outcome.id && matches!(&r.end, RequestEnd::Failed(t) if t.to_string().contains("read-only")))));

    // A raw publish is refused with a notice.
    engine.publish(session, Message::new("cems/v1/PK01/GW-A/down/info/get", b"{}".to_vec(), 1, false)).unwrap();
    let notice = wait_for(&mut events, Duration::from_secs(5), "a notice", |e| match e {
        EngineEvent::Notice { session: Some(s), text } if *s == session => Some(text.clone()),
        _ => None,
    })
    .await;
    assert!(notice.contains("read-only"), "{notice}");

    // Nothing but the acknowledgement ever reached the gateway: no request, no discovery.
    assert_eq!(next_down(&mut gw_events, Duration::from_millis(1500)).await, None);
}
